#include "bot/store/sqlite/checkpointer.hpp"

#include <spdlog/spdlog.h>

namespace pgibot::store::sqlite {

namespace {
// A WAL this long means checkpoints cannot keep up (a reader holding an old snapshot, a full disk):
// worth a line in the log, once per growth step.
constexpr int kWarnFrames = 100000;
}  // namespace

Checkpointer::Checkpointer(const SqliteOptions& options, int threshold_frames,
                           std::chrono::milliseconds idle_interval)
    : options_(options), threshold_(threshold_frames), idle_interval_(idle_interval) {
    thread_ = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Checkpointer::wal_frames(int frames) {
    frames_.store(frames, std::memory_order_relaxed);
    reports_.fetch_add(1, std::memory_order_release);
    // Once per round: the flag is cleared when a checkpoint round ends.
    if (frames >= threshold_ && !wake_requested_.exchange(true, std::memory_order_acq_rel)) {
        {
            std::lock_guard lock(mutex_);
            wake_ = true;
        }
        cv_.notify_one();
    }
}

void Checkpointer::run() {
    std::unique_ptr<Connection> connection;
    int warned_at = kWarnFrames;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, idle_interval_, [this] { return stopping_ || wake_; });
            if (stopping_) return;
            wake_ = false;
        }
        if (frames_.load(std::memory_order_relaxed) == 0) continue;
        try {
            if (!connection) connection = std::make_unique<Connection>(options_);
        } catch (const std::exception& e) {
            spdlog::warn("sqlite checkpoint: cannot open a connection: {}", e.what());
            continue;
        }
        const std::uint64_t reports_before = reports_.load(std::memory_order_acquire);
        int left = connection->checkpoint_passive();
        if (left >= 0 && left <= threshold_ && reports_.load(std::memory_order_acquire) != reports_before) {
            // Commits went on while it copied (the frames they added are not in `left`), so the log is
            // never all copied and SQLite never starts it over: under a steady load it grew by ~50 MB/s
            // without end. Copy what was added meanwhile while holding the writers' turn; the next
            // commit then starts the log from its beginning. Writers wait for this short pass only.
            //
            // SQLite fsyncs the database file only in a pass that copies the whole log, so the pass
            // under the turn would flush every page copied since the log last started over (the
            // rounds between never complete under load): ~4 ms on this VM's disk, 20 ms with a longer
            // log. Flushed here first, without the turn, the pass under it flushes only its own pages
            // (hold 4.0 -> 1.6 ms median, p90 7.5 -> 2.8 ms, in the paced benchmark). A failed flush
            // only makes that pass longer.
            (void)connection->sync_database_file();
            const auto turn = hold_writers_turn();
            left = connection->checkpoint_passive();
        }
        wake_requested_.store(false, std::memory_order_release);
        if (left < 0) {
            spdlog::warn("sqlite checkpoint failed; retrying later");
            connection.reset();
            // Every commit past the threshold asks for a round: without a pause, a checkpoint that keeps
            // failing (another process checkpointing) would be retried, with a new connection, per commit.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        checkpoints_.fetch_add(1, std::memory_order_relaxed);
        // Frames still in the log were not copied (a reader holds an older snapshot): try again soon.
        // A fully copied log is reset by the next writer, so the count starts over from there. A
        // commit reported while the checkpoint ran may have added frames it did not see: then the
        // reported count stands, and the next round copies them.
        int expected = frames_.load(std::memory_order_relaxed);
        if (reports_.load(std::memory_order_acquire) == reports_before) {
            frames_.compare_exchange_strong(expected, left, std::memory_order_relaxed);
        }
        if (left >= warned_at) {
            spdlog::warn("sqlite write-ahead log holds {} frames that cannot be checkpointed yet", left);
            warned_at = left * 2;
        } else if (left < kWarnFrames) {
            warned_at = kWarnFrames;
        }
    }
}

}  // namespace pgibot::store::sqlite
