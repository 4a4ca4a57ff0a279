#pragma once
// When to try a failed send again: exponential backoff with full jitter, capped, bounded attempts.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace pgibot::pipeline {

struct RetryPolicy {
    int max_attempts = 6;
    std::chrono::milliseconds base{1000};
    std::chrono::milliseconds cap{300000};

    // Delay before attempt number `attempts_done + 1`, or nullopt when attempts are used up.
    // `hint`: the platform said how long to wait (Retry-After); honoured, never shortened.
    template <typename Rng>
    [[nodiscard]] std::optional<std::chrono::milliseconds> next_delay(int attempts_done, Rng& rng,
                                                                      std::optional<std::chrono::milliseconds> hint = {}) const {
        if (attempts_done >= max_attempts) return std::nullopt;
        const int shift = std::min(attempts_done - 1 < 0 ? 0 : attempts_done - 1, 30);
        const auto ceiling = std::min<std::int64_t>(cap.count(), base.count() * (std::int64_t{1} << shift));
        // "Full jitter": uniform in [ceiling/2, ceiling], so retries of many users spread out.
        std::uniform_int_distribution<std::int64_t> dist(ceiling / 2, std::max<std::int64_t>(ceiling / 2, ceiling));
        std::chrono::milliseconds delay{dist(rng)};
        if (hint && *hint > delay) delay = std::min(*hint, std::chrono::milliseconds(cap.count() * 4));
        return delay;
    }
};

}  // namespace pgibot::pipeline
