#pragma once
// Group commit of webhook events: the I/O threads hand over each verified webhook's events and get
// called back once they are durable; one thread commits everything that queued up meanwhile in a
// single transaction (one fsync for many webhooks). The webhook is acknowledged only in `done`.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bot/store/store.hpp"

namespace pgibot::pipeline {

// Under load, how long a group gathers before it is committed (the idea of PostgreSQL's
// commit_delay and commit_siblings). A commit costs about the same for 5 webhooks as for 50 (one
// fsync, the log's partly filled pages), so when the two cores are busy, small groups spend
// them on fsyncs instead of on webhooks. When the last group held at least `min_group` webhooks,
// the next commit starts no sooner than `delay` after the last one started; the webhooks that
// arrive meanwhile join it. Below that (a light load), a webhook is committed at once.
// delay = 0: never wait.
struct CommitPacing {
    std::chrono::microseconds delay{0};
    std::size_t min_group = 1;
};

class Committer {
public:
    // ok=false: the store failed; nothing of that webhook was committed (answer 503, the platform retries).
    using Done = std::function<void(bool ok, std::size_t new_events)>;

    // After each group commit (from the committer's thread): how long it took and how many webhooks it held.
    using CommitObserver = std::function<void(double seconds, std::size_t webhooks)>;

    // on_committed runs after each commit that stored an event still to be handled. `nice` (-20..0):
    // the commit thread's priority; it is the one serial step before each webhook's 200, and woken
    // late (behind the I/O threads, after each fsync) it made every acknowledgement wait.
    Committer(store::Store& store, std::size_t batch_max, std::function<void()> on_committed,
              CommitObserver observe = {}, int nice = 0, CommitPacing pacing = {});
    ~Committer();
    Committer(const Committer&) = delete;
    Committer& operator=(const Committer&) = delete;

    void start();
    // Commits what is queued, then stops. Submissions after stop() fail at once.
    void stop();
    void submit(std::vector<store::Store::IncomingEvent> events, Done done);
    [[nodiscard]] std::size_t queued() const;

private:
    struct Pending {
        std::vector<store::Store::IncomingEvent> events;
        Done done;
    };
    void run();

    store::Store& store_;
    std::size_t batch_max_;
    std::function<void()> on_committed_;
    CommitObserver observe_;
    int nice_;
    CommitPacing pacing_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Pending> queue_;
    bool running_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pgibot::pipeline
