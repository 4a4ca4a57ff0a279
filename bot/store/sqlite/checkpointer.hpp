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
    explicit Checkpointer(const SqliteOptions& options, int threshold_frames = 1000,
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
