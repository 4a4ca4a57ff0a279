#pragma once
// Delivers the outbox: picks due rows (one per user at a time, so a user's messages keep their
// order), respects a per-page rate limit, calls the platform's send API on a pool of sender threads
// and records the outcome: sent, retried later with backoff, or given up (unreachable users are
// marked). Pending rows survive restarts: a row caught mid-send by a crash is sent again.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/pipeline/retry_policy.hpp"
#include "bot/pipeline/work_queue.hpp"
#include "bot/store/store.hpp"

namespace pgibot::pipeline {

struct SenderOptions {
    int threads = 4;
    int nice = 0;                 // the send threads' lower scheduling priority
    double rate_per_second = 20;  // per page
    RetryPolicy retry;
};

struct SenderHooks {
    // The platform refused the token. Return true if a fresh token is now available (retry soon).
    std::function<bool(Platform)> on_auth_error;
    std::function<void(Platform, channels::SendOutcome, double seconds)> on_attempt;  // metrics
};

class Sender {
public:
    Sender(store::Store& store, SenderOptions options, SenderHooks hooks);
    ~Sender();
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;

    void set_channel(Platform platform, channels::Channel* channel);
    void start();
    void notify();
    // Stops picking rows, lets in-flight sends finish, joins.
    void stop();

private:
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point last;
    };
    void loop();
    bool take_token(const std::string& page_key);
    void send_one(const store::OutboxItem& item, channels::Channel* channel);
    // Records the sends completed since the last call, in one transaction (loop thread, and stop()).
    void flush_sent();

    store::Store& store_;
    SenderOptions options_;
    SenderHooks hooks_;
    std::map<Platform, channels::Channel*> channels_;
    std::vector<std::unique_ptr<WorkQueue>> pool_;
    std::atomic<std::size_t> next_worker_{0};
    std::atomic<int> in_flight_{0};
    std::map<std::string, Bucket> buckets_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool notified_ = false;
    // Successful sends waiting to be recorded: the loop records them together before it picks the
    // next rows (so a user's next message is due only once the previous one is recorded as sent).
    std::mutex sent_mutex_;
    std::vector<store::Store::SentMark> sent_;
    std::mutex rng_mutex_;
    std::mt19937_64 rng_{std::random_device{}()};
    std::thread thread_;
};

}  // namespace pgibot::pipeline
