#pragma once
// Keeps the SQLite write-ahead log short from its own thread, with its own connection. Commits
// report the WAL's size (WalObserver); past `threshold_frames` the checkpointer copies the log
// into the database with a PASSIVE checkpoint, which neither waits for nor blocks readers and
// writers. It also checkpoints whatever is left once commits pause (every `idle_interval`).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "bot/store/sqlite/connection.hpp"

namespace pgibot::store::sqlite {

class Checkpointer final : public WalObserver {
public:
    // 250 frames (~1 MB of log): each round copies, and then flushes, about that much into the
    // database file, and a commit's fsync that lands behind that flush waits for it. Measured in the
    // paced benchmark (~12k webhooks/s, read receipts): webhooks acknowledged after more than 5 ms,
    // 1.18% with 1000 frames, 0.69% with 500, 0.21-0.26% with 250 (0.31% with no checkpoint at all);
    // the full-load rate did not change beyond the host's noise.
    static constexpr int kDefaultThresholdFrames = 250;

    explicit Checkpointer(const SqliteOptions& options, int threshold_frames = kDefaultThresholdFrames,
                          std::chrono::milliseconds idle_interval = std::chrono::seconds(2));
    ~Checkpointer() override;
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    // From any committing connection (sqlite3_wal_hook), cheap.
    void wal_frames(int frames) override;
    // Checkpoints done so far (for tests and metrics).
    [[nodiscard]] std::uint64_t checkpoints() const { return checkpoints_.load(); }

private:
    void run();

    SqliteOptions options_;
    const int threshold_;
    const std::chrono::milliseconds idle_interval_;
    std::atomic<int> frames_{0};
    std::atomic<std::uint64_t> reports_{0};  // commits reported so far
    std::atomic<bool> wake_requested_{false};  // a commit past the threshold has woken this round
    std::atomic<std::uint64_t> checkpoints_{0};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool wake_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pgibot::store::sqlite
