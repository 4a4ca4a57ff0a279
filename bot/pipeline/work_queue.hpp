#pragma once
// A FIFO of tasks run by one thread: the building block of the per-user ordered lanes and of the
// sender pool. stop() runs what is already queued, then joins.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace pgibot::pipeline {

class WorkQueue {
public:
    using Task = std::function<void()>;

    WorkQueue() : thread_([this] { run(); }) {}
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

}  // namespace pgibot::pipeline
