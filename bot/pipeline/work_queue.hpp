#pragma once
// A FIFO of tasks run by one thread: the building block of the per-user ordered lanes and of the
// sender pool. stop() runs what is already queued, then joins.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bot/pipeline/thread_priority.hpp"

namespace pgibot::pipeline {

class WorkQueue {
public:
    using Task = std::function<void()>;

    // nice > 0: the thread runs at that lower priority (thread_priority.hpp).
    explicit WorkQueue(int nice = 0) : thread_([this, nice] {
        lower_current_thread_priority(nice);
        run();
    }) {}
    ~WorkQueue() { stop(); }
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    void post(Task task) {
        {
            std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
    }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return tasks_.size() + (busy_ ? 1 : 0);
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
    void run() {
        for (;;) {
            Task task;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
                if (tasks_.empty()) return;  // stopping and drained
                task = std::move(tasks_.front());
                tasks_.pop_front();
                busy_ = true;
            }
            task();
            std::lock_guard lock(mutex_);
            busy_ = false;
        }
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Task> tasks_;
    bool busy_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

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

}  // namespace pgibot::pipeline
