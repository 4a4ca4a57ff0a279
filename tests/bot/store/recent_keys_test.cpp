// RecentKeys: the in-memory index of the inbox's recent dedup keys. Time is given, never read.
#include "bot/store/sqlite/recent_keys.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <set>
#include <string>

namespace pgibot::store::sqlite {
namespace {

using Digest = RecentKeys::Digest;

constexpr std::int64_t kStart = 1752116400000;  // 2025-07-10T03:00:00Z
constexpr std::int64_t kWindow = 1000;

TEST(RecentKeys, WindowIsAWeek) {
    EXPECT_EQ(kDedupWindowMs, 7LL * 24 * 3600 * 1000);
    EXPECT_EQ(RecentKeys().window_ms(), kDedupWindowMs);
}

TEST(RecentKeys, DigestIsStableAndTellsKeysApart) {
    EXPECT_EQ(RecentKeys::digest("fb:1:mid:m_abc"), RecentKeys::digest(std::string("fb:1:mid:m_abc")));
    EXPECT_NE(RecentKeys::digest("fb:1:mid:m_abc"), RecentKeys::digest("fb:1:mid:m_abd"));
    EXPECT_NE(RecentKeys::digest("a"), RecentKeys::digest(""));
    EXPECT_NE(RecentKeys::digest(std::string(1, '\0')), RecentKeys::digest(""));
}

TEST(RecentKeys, HoldsWhatWasAdded) {
    RecentKeys keys(kWindow);
    EXPECT_FALSE(keys.contains(RecentKeys::digest("a")));
    EXPECT_EQ(keys.size(), 0U);
    keys.add(RecentKeys::digest("a"), kStart);
    keys.add(RecentKeys::digest("b"), kStart);
    EXPECT_TRUE(keys.contains(RecentKeys::digest("a")));
    EXPECT_TRUE(keys.contains(RecentKeys::digest("b")));
    EXPECT_FALSE(keys.contains(RecentKeys::digest("c")));
    EXPECT_EQ(keys.size(), 2U);
}

TEST(RecentKeys, PrunesExactlyAtTheWindowEdge) {
    RecentKeys keys(kWindow);
    keys.add(RecentKeys::digest("first"), kStart);
    keys.add(RecentKeys::digest("second"), kStart + 500);

    keys.prune(kStart + kWindow);  // received exactly one window ago: still inside
    EXPECT_TRUE(keys.contains(RecentKeys::digest("first")));
    keys.prune(kStart + kWindow + 1);
    EXPECT_FALSE(keys.contains(RecentKeys::digest("first")));
    EXPECT_TRUE(keys.contains(RecentKeys::digest("second")));
    EXPECT_EQ(keys.size(), 1U);

    keys.prune(kStart + 500 + kWindow);
    EXPECT_TRUE(keys.contains(RecentKeys::digest("second")));
    keys.prune(kStart + 500 + kWindow + 1);
    EXPECT_FALSE(keys.contains(RecentKeys::digest("second")));
    EXPECT_EQ(keys.size(), 0U);

    // Usable again once empty.
    keys.add(RecentKeys::digest("first"), kStart + 5000);
    EXPECT_TRUE(keys.contains(RecentKeys::digest("first")));
}

TEST(RecentKeys, AClockThatWentBackOnlyKeepsEntriesLonger) {
    RecentKeys keys(kWindow);
    keys.add(RecentKeys::digest("before"), kStart + 800);
    keys.add(RecentKeys::digest("after the jump"), kStart + 100);  // the clock went back 700 ms
    keys.prune(kStart + 100 + kWindow + 1);
    // Due, but behind an entry that is not: pruning stops at the first entry inside the window.
    EXPECT_TRUE(keys.contains(RecentKeys::digest("after the jump")));
    keys.prune(kStart + 800 + kWindow + 1);
    EXPECT_EQ(keys.size(), 0U);
}

TEST(RecentKeys, AKeyAddedTwiceIsHeldUntilItsLastCopyGoes) {
    RecentKeys keys(kWindow);
    keys.add(RecentKeys::digest("k"), kStart);
    keys.add(RecentKeys::digest("k"), kStart + 10);
    keys.prune(kStart + kWindow + 5);
    EXPECT_TRUE(keys.contains(RecentKeys::digest("k")));
    keys.prune(kStart + kWindow + 11);
    EXPECT_FALSE(keys.contains(RecentKeys::digest("k")));
}

// Hand-made digests that share their home slot, some near the end of the table so that the probe
// run wraps around to its start: removing from the front must move the rest of the run correctly.
TEST(RecentKeys, CollidingDigestsSurviveRemovalsAroundTheTableEnd) {
    RecentKeys keys(kWindow);
    std::deque<std::pair<Digest, std::int64_t>> held;
    std::int64_t now = kStart;
    for (std::uint64_t i = 0; i < 300; ++i) {
        // Homes 1020..1023 and 0..3 of the smallest table (1024 slots, never more than half full
        // here), ~35 keys each: one long run of occupied slots that wraps around the table's end.
        const std::uint64_t home = (1020 + i % 8) % 1024;
        const Digest d{home + (i << 20), i};
        keys.add(d, now);
        held.emplace_back(d, now);
        ++now;
        if (i % 3 == 2) {  // the oldest goes now and then: holes at every place in the run
            keys.prune(held.front().second + kWindow + 1);
            held.pop_front();
        }
    }
    ASSERT_EQ(keys.size(), held.size());
    for (const auto& [d, at] : held) EXPECT_TRUE(keys.contains(d)) << d[0] << "/" << d[1];
    EXPECT_FALSE(keys.contains(Digest{1020, 9999}));
    EXPECT_FALSE(keys.contains(Digest{1020, 0}));  // i = 0, the first pruned
    keys.prune(now + kWindow);
    EXPECT_EQ(keys.size(), 0U);
    for (const auto& [d, at] : held) EXPECT_FALSE(keys.contains(d));
}

// A sliding window over many keys against a plain set: growth, pruning and shrinking together.
TEST(RecentKeys, AgreesWithASetOverASlidingWindow) {
    RecentKeys keys(kWindow);
    std::mt19937_64 random(42);
    std::deque<std::pair<std::string, std::int64_t>> order;
    std::set<std::string> live;
    std::int64_t now = kStart;
    for (int step = 0; step < 60000; ++step) {
        // bursts then quiet spells, so the table grows and shrinks
        now += (step / 10000) % 2 == 0 ? 0 : 1;
        if (step % 7 == 0) now += 1;
        const std::string key = "k" + std::to_string(random());
        keys.add(RecentKeys::digest(key), now);
        order.emplace_back(key, now);
        live.insert(key);
        if (step % 100 == 0) {
            keys.prune(now);
            while (!order.empty() && order.front().second < now - kWindow) {
                live.erase(order.front().first);
                order.pop_front();
            }
            ASSERT_EQ(keys.size(), live.size());
        }
        if (step % 997 == 0) {
            for (const auto& [k, at] : order) ASSERT_TRUE(keys.contains(RecentKeys::digest(k))) << k;
            ASSERT_FALSE(keys.contains(RecentKeys::digest("absent" + std::to_string(step))));
        }
    }
    keys.prune(now + kWindow + 1);
    EXPECT_EQ(keys.size(), 0U);
    EXPECT_LE(keys.memory_bytes(), 1024U * 4U) << "the table shrinks back once its keys have gone";
}

TEST(RecentKeys, StaysCompact) {
    RecentKeys keys;
    constexpr std::size_t kKeys = 400000;
    for (std::size_t i = 0; i < kKeys; ++i) {
        keys.add(RecentKeys::digest("fb:1:mid:m_" + std::to_string(i)), kStart + static_cast<std::int64_t>(i));
    }
    ASSERT_EQ(keys.size(), kKeys);
    EXPECT_TRUE(keys.contains(RecentKeys::digest("fb:1:mid:m_0")));
    EXPECT_TRUE(keys.contains(RecentKeys::digest("fb:1:mid:m_399999")));
    EXPECT_FALSE(keys.contains(RecentKeys::digest("fb:1:mid:m_400000")));
    const double per_key = static_cast<double>(keys.memory_bytes()) / kKeys;
    EXPECT_LE(per_key, 40.0);
    EXPECT_LE(keys.memory_bytes(), 20U * 1024 * 1024);
    RecordProperty("bytes_per_key", std::to_string(per_key));

    // Reserving up front (the start-up load) ends at the same size or smaller.
    RecentKeys reserved;
    reserved.reserve(kKeys);
    for (std::size_t i = 0; i < kKeys; ++i) {
        reserved.add(RecentKeys::digest("fb:1:mid:m_" + std::to_string(i)), kStart);
    }
    EXPECT_LE(reserved.memory_bytes(), keys.memory_bytes());
}

}  // namespace
}  // namespace pgibot::store::sqlite
