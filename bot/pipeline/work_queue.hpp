#pragma once
// Queues run by one thread each: the per-user ordered lanes (BatchQueue) and the sender pool (WorkQueue).
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bot/pipeline/thread_priority.hpp"

namespace pgibot::pipeline {

// A FIFO of items run by one thread in batches: the thread takes everything queued (up to
// `max_batch`) and hands it to `run` at once, so that work which commits to storage can commit a
// batch in one transaction. Items are handed over in the order they were posted. stop() runs what
// is already queued, then joins.
template <typename T>
class BatchQueue {
public:
    using Run = std::function<void(std::vector<T>& batch)>;

    BatchQueue(std::size_t max_batch, Run run, int nice = 0)
        : max_batch_(max_batch == 0 ? 1 : max_batch), run_(std::move(run)), thread_([this, nice] {
              lower_current_thread_priority(nice);
              loop();
          }) {}
    ~BatchQueue() { stop(); }
    BatchQueue(const BatchQueue&) = delete;
    BatchQueue& operator=(const BatchQueue&) = delete;

    void post(T item) {
        {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(item));
        }
        cv_.notify_one();
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    void loop() {
        std::vector<T> batch;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !items_.empty(); });
                if (items_.empty()) return;  // stopping and drained
                const std::size_t take = std::min(max_batch_, items_.size());
                batch.assign(std::make_move_iterator(items_.begin()),
                             std::make_move_iterator(items_.begin() + static_cast<std::ptrdiff_t>(take)));
                items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(take));
            }
            run_(batch);
            batch.clear();
        }
    }

    const std::size_t max_batch_;
    Run run_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<T> items_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once everything above is ready
};

// A FIFO of tasks run one at a time by one thread: the sender's pool. stop() runs what is already
// queued, then joins.
class WorkQueue {
public:
    using Task = std::function<void()>;

    // nice > 0: the thread runs at that lower priority (thread_priority.hpp).
    explicit WorkQueue(int nice = 0)
        : queue_(1, [](std::vector<Task>& batch) { for (auto& task : batch) task(); }, nice) {}

    void post(Task task) { queue_.post(std::move(task)); }
    void stop() { queue_.stop(); }

private:
    BatchQueue<Task> queue_;
};

}  // namespace pgibot::pipeline
