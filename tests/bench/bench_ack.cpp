// The acknowledgement path, step by step: what one signed Facebook webhook costs before its 200 is
// sent (signature, parse, the event as stored, sealing at rest, the group commit), and what the
// store's start-up costs (reading back the dedup keys of the last week). Run by hand:
//   build/release/tests/bench/bench_ack
// The end-to-end figure under load comes from tests/bench/webhook_bench.py; this one says where the
// time goes.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bot/channels/common.hpp"
#include "bot/channels/facebook/webhook.hpp"
#include "bot/store/store.hpp"
#include "bot/tipoffs/vault.hpp"
#include "handlers/model/event.hpp"

namespace {

using namespace pgibot;

const std::string kSecret = "bench-app-secret";
const std::string kPage = "1000000000000001";

// A Messenger message id as Facebook sends them ("m_" and a long random-looking string): ids, and
// so the events' dedup keys, are spread over the whole key space, not increasing.
std::string message_id(std::uint64_t n) {
    std::string mid = "m_";
    for (int half = 0; half < 2; ++half) {
        // splitmix64: a bijection, so distinct n give distinct ids
        std::uint64_t z = (n * 2 + static_cast<std::uint64_t>(half) + 1) * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(z));
        mid += hex;
    }
    return mid;
}

std::string text_body(int i) {
    return R"({"object":"page","entry":[{"id":")" + kPage + R"(","time":1764400000000,"messaging":[{"sender":{"id":"user-)" +
           std::to_string(i % 5000) + R"("},"recipient":{"id":")" + kPage +
           R"("},"timestamp":1764400000000,"message":{"mid":")" + message_id(static_cast<std::uint64_t>(i)) +
           R"(","text":"ph\u00e2n lo\u1ea1i r\u00e1c th\u1ebf n\u00e0o?"}}]}]})";
}

void BM_VerifySignature(benchmark::State& state) {
    const auto body = text_body(1);
    const auto header = "sha256=" + channels::hmac_sha256_hex(kSecret, body);
    const channels::HmacSha256 mac(kSecret);  // prepared once, as FacebookChannel does
    for (auto _ : state) {
        benchmark::DoNotOptimize(channels::facebook::verify_signature(mac, body, header));
    }
}
BENCHMARK(BM_VerifySignature);

void BM_ParseWebhook(benchmark::State& state) {
    const auto body = text_body(1);
    for (auto _ : state) {
        auto result = channels::facebook::parse_webhook(body, "1");
        benchmark::DoNotOptimize(result.events.size());
    }
}
BENCHMARK(BM_ParseWebhook);

void BM_EventToJson(benchmark::State& state) {
    const auto result = channels::facebook::parse_webhook(text_body(1), "1");
    const auto& event = result.events.front();
    for (auto _ : state) {
        auto json = event_to_json(event);
        benchmark::DoNotOptimize(json.data());
    }
}
BENCHMARK(BM_EventToJson);

void BM_EventFromJson(benchmark::State& state) {
    const auto result = channels::facebook::parse_webhook(text_body(1), "1");
    const auto json = event_to_json(result.events.front());
    for (auto _ : state) {
        auto event = event_from_json(json);
        benchmark::DoNotOptimize(event.has_value());
    }
}
BENCHMARK(BM_EventFromJson);

tipoffs::DataKey bench_key() {
    tipoffs::DataKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7 + 1);
    return key;
}

void BM_SealText(benchmark::State& state) {
    const tipoffs::IdentityVault vault(bench_key());
    const auto result = channels::facebook::parse_webhook(text_body(1), "1");
    const auto json = event_to_json(result.events.front());
    for (auto _ : state) {
        auto sealed = vault.seal_text(json);
        benchmark::DoNotOptimize(sealed.data());
    }
}
BENCHMARK(BM_SealText);

void BM_OpenText(benchmark::State& state) {
    const tipoffs::IdentityVault vault(bench_key());
    const auto result = channels::facebook::parse_webhook(text_body(1), "1");
    const auto sealed = vault.seal_text(event_to_json(result.events.front()));
    for (auto _ : state) {
        auto plain = vault.open_text(sealed);
        benchmark::DoNotOptimize(plain.has_value());
    }
}
BENCHMARK(BM_OpenText);

// Bytes this process has passed to write(2) so far (/proc/self/io "wchar"): WAL frames and
// checkpoints, a measure of the I/O a commit causes without the disk's timing noise. 0 if unreadable.
std::int64_t written_bytes() {
    std::ifstream io("/proc/self/io");
    std::string key;
    std::int64_t value = 0;
    while (io >> key >> value) {
        if (key == "wchar:") return value;
    }
    return 0;
}

// The group commit: state.range(0) webhooks of one event each per transaction, sealed, fsync'd
// (range(1) = 1) or not (0), into a database already holding range(2) events; range(3) = 1: events
// that need no handling (receipts, echoes: packed into one row per commit, schema 0005), 0: events to
// handle (a row each). Reported per event.
void BM_CommitBatch(benchmark::State& state) {
    const auto per_batch = static_cast<std::size_t>(state.range(0));
    const bool full = state.range(1) != 0;
    const bool handled = state.range(3) != 0;
    const auto dir = std::filesystem::temp_directory_path() / ("pgibot-bench-ack-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto vault = std::make_shared<tipoffs::IdentityVault>(bench_key());
    store::SqliteOptions options;
    options.path = (dir / "bench.db").string();
    options.synchronous_full = full;
    options.seal_text = [vault](std::string_view s) { return vault->seal_text(s); };
    options.open_text = [vault](std::string_view s) { return vault->open_text(s); };
    {
        // Every event is new (a real insert, never a duplicate): made up front, outside the timing.
        constexpr int kIterations = 300;
        std::vector<std::vector<std::vector<store::Store::IncomingEvent>>> rounds(kIterations);
        int n = 0;
        for (auto& round : rounds) {
            round.resize(per_batch);
            for (auto& b : round) {
                auto result = channels::facebook::parse_webhook(text_body(n++), "1");
                const auto& e = result.events.front();
                b.push_back({e.dedup_key, e.user_key(), event_to_json(e), "bench." + std::to_string(n), handled});
            }
        }
        auto store = store::open_sqlite(options);
        // A database that has been in use: range(2) older events, all within the dedup window, with
        // keys of the same random form as the new ones (with a UNIQUE index on the key, as before
        // schema 0004, each new key landed on a random page of it, as they do in production).
        const auto prefill = static_cast<int>(state.range(2));
        for (int done = 0; done < prefill;) {
            std::vector<store::Store::IncomingEvent> chunk;
            for (int k = 0; k < 1000 && done < prefill; ++k, ++done) {
                // Keys of the same form as the timed events' (their ids never meet: offset by 2^40).
                const auto mid = message_id((std::uint64_t{1} << 40) + static_cast<std::uint64_t>(done));
                chunk.push_back({"fb:" + kPage + ":mid:" + mid, "facebook:p:u",
                                 R"({"platform":"facebook","kind":"read"})", "old", true});
            }
            store->commit_events(chunk);
        }
        // Reopened, as after a restart: the log is checkpointed and gone (closing does it), so the
        // bytes counted below are the timed commits' own, and the store reads its keys back.
        store.reset();
        store = store::open_sqlite(options);
        std::size_t next = 0;
        const std::int64_t written_before = written_bytes();
        for (auto _ : state) {
            benchmark::DoNotOptimize(store->commit_event_batches(rounds[next++ % rounds.size()]));
        }
        const auto events = state.iterations() * static_cast<std::int64_t>(per_batch);
        state.SetItemsProcessed(events);
        state.counters["written_bytes_per_event"] =
            static_cast<double>(written_bytes() - written_before) / static_cast<double>(events);
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CommitBatch)
    ->Args({1, 1, 0, 0})
    ->Args({16, 1, 0, 0})
    ->Args({64, 1, 0, 0})
    ->Args({64, 0, 0, 0})
    ->Args({16, 1, 0, 1})
    ->Args({64, 1, 0, 1})
    ->Args({16, 1, 300000, 0})
    ->Args({64, 1, 300000, 0})
    ->Args({64, 0, 300000, 0})
    ->Iterations(300)
    ->UseRealTime();

// After a restart: opening the store on a database holding range(0) events received within the
// dedup window, then the first commit, which reads their keys back into memory (the rest of serve's
// start-up is not included; /healthz answers before that first commit).
void BM_OpenStoreAndFirstCommit(benchmark::State& state) {
    const auto rows = static_cast<int>(state.range(0));
    const auto dir = std::filesystem::temp_directory_path() / ("pgibot-bench-open-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto vault = std::make_shared<tipoffs::IdentityVault>(bench_key());
    store::SqliteOptions options;
    options.path = (dir / "bench.db").string();
    options.synchronous_full = false;
    options.seal_text = [vault](std::string_view s) { return vault->seal_text(s); };
    options.open_text = [vault](std::string_view s) { return vault->open_text(s); };
    {
        auto store = store::open_sqlite(options);
        for (int done = 0; done < rows;) {
            std::vector<store::Store::IncomingEvent> chunk;
            for (int k = 0; k < 1000 && done < rows; ++k, ++done) {
                auto result = channels::facebook::parse_webhook(text_body(done), "1");
                const auto& e = result.events.front();
                chunk.push_back({e.dedup_key, e.user_key(), event_to_json(e), "bench", true});
            }
            store->commit_events(chunk);
        }
    }
    int next = rows;
    for (auto _ : state) {
        auto store = store::open_sqlite(options);
        auto result = channels::facebook::parse_webhook(text_body(next++), "1");
        const auto& e = result.events.front();
        benchmark::DoNotOptimize(store->commit_events({{e.dedup_key, e.user_key(), event_to_json(e), "bench", true}}));
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OpenStoreAndFirstCommit)->Arg(0)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(10)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
