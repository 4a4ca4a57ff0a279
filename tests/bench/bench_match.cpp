// Match latency per question over the full real catalogue (messages/content). Run by hand:
//   build/<dir>/tests/bench/bench_match
// Target: <= 20 µs per question (normalisation included); BM_LoadContent (what every start and SIGHUP
// reload pays: TOML parse, validation, matcher index, places) <= 50 ms.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "messages/content.hpp"
#include "messages/matcher.hpp"
#include "messages/normalize.hpp"

namespace {

namespace fs = std::filesystem;
using pgibot::messages::load_content;

std::vector<std::string> questions() {
    const fs::path dir = fs::path(PGIBOT_SOURCE_DIR) / "tests" / "messages";
    const fs::path path = fs::exists(dir / "questions.tsv") ? dir / "questions.tsv" : dir / "sample_questions.tsv";
    std::vector<std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') continue;
        out.push_back(line.substr(0, line.rfind('\t')));
    }
    return out;
}

void BM_MatchQuestion(benchmark::State& state) {
    const auto loaded = load_content(fs::path(PGIBOT_SOURCE_DIR) / "messages" / "content");
    if (!loaded.content) {
        state.SkipWithError("messages/content has problems: run the content tests");
        return;
    }
    const auto& matcher = *loaded.content->matcher;
    const auto qs = questions();
    if (qs.empty()) {
        state.SkipWithError("no questions");
        return;
    }
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = matcher.match(qs[i]);
        benchmark::DoNotOptimize(r);
        i = (i + 1 == qs.size()) ? 0 : i + 1;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["us_per_question"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * 1e-6,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["topics"] = static_cast<double>(loaded.content->catalogue->topics.size());
}
BENCHMARK(BM_MatchQuestion);

// The normalisation share of the above: the same questions through Normalizer::syllables only.
void BM_NormalizeQuestion(benchmark::State& state) {
    const auto loaded = load_content(fs::path(PGIBOT_SOURCE_DIR) / "messages" / "content");
    if (!loaded.content) {
        state.SkipWithError("messages/content has problems: run the content tests");
        return;
    }
    const auto& normalizer = *loaded.content->normalizer;
    const auto qs = questions();
    std::size_t i = 0;
    for (auto _ : state) {
        auto s = normalizer.syllables(qs[i]);
        benchmark::DoNotOptimize(s);
        i = (i + 1 == qs.size()) ? 0 : i + 1;
    }
    state.counters["us_per_question"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * 1e-6,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_NormalizeQuestion);

// A whole content load: TOML parse, validation, matcher index and places, as at start and on SIGHUP.
void BM_LoadContent(benchmark::State& state) {
    const auto dir = fs::path(PGIBOT_SOURCE_DIR) / "messages" / "content";
    for (auto _ : state) {
        auto loaded = load_content(dir);
        if (!loaded.content) {
            state.SkipWithError("messages/content has problems: run the content tests");
            return;
        }
        benchmark::DoNotOptimize(loaded);
    }
    state.counters["ms_per_load"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1e-3,
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LoadContent)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
