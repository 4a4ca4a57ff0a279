#pragma once
// Takes committed inbox rows and runs them through the Processor off the I/O threads: one lane
// (thread) per worker, a citizen always on the same lane, so one user's events are handled in
// order and different users in parallel. A lane handles what has queued up on it as one batch and
// commits the batch's decisions in one transaction (Processor::process_batch), so under load the
// handling side takes the write lock once per batch, not once per event. Rows left unhandled by a
// crash are picked up at start.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bot/pipeline/processor.hpp"
#include "bot/pipeline/work_queue.hpp"

namespace pgibot::pipeline {

struct DispatcherHooks {
    std::function<void()> on_outbox;  // new outbox rows: wake the sender
    std::function<void(const std::vector<std::string>& codes)> on_tipoffs;  // filed: wake the forwarder
    std::function<void(const Event&, double seconds)> on_handled;          // metrics
};

class Dispatcher {
public:
    // nice: the lanes' lower scheduling priority (0: as the I/O threads).
    Dispatcher(store::Store& store, Processor& processor, int lanes, DispatcherHooks hooks, int nice = 0);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void start();
    // New rows were committed.
    void notify();
    // A runtime-made event (timers); it goes through the user's lane like any other. `done(ok)` runs
    // on the lane once the outcome is committed (ok) or failed.
    void submit(Event event, std::function<void(bool ok)> done = {});
    // Stops pulling, runs what the lanes hold, joins. Rows not yet pulled stay in the inbox.
    void stop();
    [[nodiscard]] std::size_t in_flight() const;

private:
    // One unit of a lane's work: a committed inbox row, or a runtime-made event with its callback.
    struct LaneItem {
        store::InboxItem row;
        std::optional<Event> timer;
        std::function<void(bool ok)> done;
    };
    using Lane = BatchQueue<LaneItem>;

    void poll_loop();
    Lane& lane_for(const std::string& user_key);
    void handle_batch(std::vector<LaneItem>& batch);

    store::Store& store_;
    Processor& processor_;
    DispatcherHooks hooks_;
    // Before the lanes: a lane still draining at destruction decrements it.
    std::atomic<std::size_t> in_flight_{0};
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool notified_ = false;
    std::int64_t after_id_ = 0;
    std::thread poller_;
};

std::int64_t now_ms();

}  // namespace pgibot::pipeline
