#include "bot/pipeline/committer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "bot/pipeline/thread_priority.hpp"

namespace pgibot::pipeline {

Committer::Committer(store::Store& store, std::size_t batch_max, std::function<void()> on_committed,
                     CommitObserver observe, int nice, CommitPacing pacing)
    : store_(store),
      batch_max_(batch_max == 0 ? 1 : batch_max),
      on_committed_(std::move(on_committed)),
      observe_(std::move(observe)),
      nice_(nice),
      pacing_(pacing) {}

Committer::~Committer() { stop(); }

void Committer::start() {
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "pgibot-commit");
        if (!raise_current_thread_priority(nice_)) {
            spdlog::warn("the inbox commit thread may not run at nice {} (needs CAP_SYS_NICE or LimitNICE={}); "
                         "it runs at normal priority, acknowledgements wait longer under load",
                         nice_, nice_);
        }
        run();
    });
}

void Committer::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    running_ = false;
}

std::size_t Committer::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void Committer::submit(std::vector<store::Store::IncomingEvent> events, Done done) {
    // Sealing runs here, on the submitting (I/O) thread, in parallel: the commit thread is the one
    // serial step between a webhook and its 200, so it keeps only the work that needs the write lock.
    try {
        for (auto& event : events) store_.prepare(event);
    } catch (const std::exception& e) {
        spdlog::error("inbox: an event could not be prepared for storage: {}", e.what());
        done(false, 0);  // nothing committed: 503, the platform sends it again
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (running_ && !stopping_) {
            queue_.push_back(Pending{std::move(events), std::move(done)});
            cv_.notify_one();
            return;
        }
    }
    done(false, 0);
}

void Committer::run() {
    std::vector<Pending> batch;
    std::chrono::steady_clock::time_point last_start;
    std::size_t last_group = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing left
            // Before the first commit last_start is the clock's epoch: no wait.
            if (pacing_.delay.count() > 0 && last_group >= pacing_.min_group && !stopping_ &&
                queue_.size() < batch_max_) {
                // Under load: let the group gather until `delay` after the last commit started. A
                // plain sleep, not a wait on cv_: every submission would wake this thread for nothing.
                const auto until = last_start + pacing_.delay;
                if (std::chrono::steady_clock::now() < until) {
                    lock.unlock();
                    std::this_thread::sleep_until(until);
                    lock.lock();
                }
            }
            const std::size_t take = std::min(batch_max_, queue_.size());
            batch.assign(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(take)));
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
        }
        std::vector<std::vector<store::Store::IncomingEvent>> batches;
        batches.reserve(batch.size());
        bool to_handle = false;  // receipts and echoes are stored handled: nothing for the dispatcher
        for (auto& p : batch) {
            for (const auto& event : p.events) to_handle = to_handle || !event.handled;
            batches.push_back(std::move(p.events));
        }
        std::vector<std::size_t> fresh;
        bool ok = true;
        const auto started = std::chrono::steady_clock::now();
        last_start = started;
        last_group = batch.size();
        try {
            fresh = store_.commit_event_batches(batches);
        } catch (const std::exception& e) {
            ok = false;
            spdlog::error("inbox commit of {} webhooks failed: {}", batch.size(), e.what());
        }
        if (observe_) {
            observe_(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), batch.size());
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch[i].done(ok, ok && i < fresh.size() ? fresh[i] : 0);
        }
        batch.clear();
        if (ok && to_handle && on_committed_) on_committed_();
    }
}

}  // namespace pgibot::pipeline
