// The acknowledgement path, step by step: what one signed Facebook webhook costs before its 200 is
// sent (signature, parse, the event as stored, sealing at rest, the group commit). Run by hand:
//   build/release/tests/bench/bench_ack
// The end-to-end figure under load comes from tests/bench/webhook_bench.py; this one says where the
// time goes.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
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

std::string text_body(int i) {
    return R"({"object":"page","entry":[{"id":")" + kPage + R"(","time":1764400000000,"messaging":[{"sender":{"id":"user-)" +
           std::to_string(i % 5000) + R"("},"recipient":{"id":")" + kPage +
           R"("},"timestamp":1764400000000,"message":{"mid":"m.bench.)" + std::to_string(i) +
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

// The group commit: state.range(0) webhooks of one event each per transaction, sealed, fsync'd
// (range(1) = 1) or not (0), into a database already holding range(2) events. Reported per event.
void BM_CommitBatch(benchmark::State& state) {
    const auto per_batch = static_cast<std::size_t>(state.range(0));
    const bool full = state.range(1) != 0;
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
                b.push_back({e.dedup_key, e.user_key(), event_to_json(e), "bench." + std::to_string(n)});
            }
        }
        auto store = store::open_sqlite(options);
        // A database that has been in use: the dedup index holds range(2) older keys, so new keys
        // land on pages all over it, as they do in production.
        const auto prefill = static_cast<int>(state.range(2));
        for (int done = 0; done < prefill;) {
            std::vector<store::Store::IncomingEvent> chunk;
            for (int k = 0; k < 1000 && done < prefill; ++k, ++done) {
                chunk.push_back({"fb:old:" + std::to_string(done * 7919 % 1000003), "facebook:p:u",
                                 R"({"platform":"facebook","kind":"read"})", "old", true});
            }
            store->commit_events(chunk);
        }
        std::size_t next = 0;
        for (auto _ : state) {
            benchmark::DoNotOptimize(store->commit_event_batches(rounds[next++ % rounds.size()]));
        }
        state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_batch));
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CommitBatch)
    ->Args({1, 1, 0})
    ->Args({16, 1, 0})
    ->Args({64, 1, 0})
    ->Args({64, 0, 0})
    ->Args({16, 1, 300000})
    ->Args({64, 1, 300000})
    ->Iterations(300)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
