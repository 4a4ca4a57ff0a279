#include "bot/pipeline/dispatcher.hpp"

#include <chrono>
#include <spdlog/spdlog.h>

namespace pgibot::pipeline {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {
// Rows the lanes may hold before the poller waits: bounds memory under a burst.
constexpr std::size_t kMaxInFlight = 4096;
constexpr std::size_t kPollBatch = 256;
}  // namespace

Dispatcher::Dispatcher(store::Store& store, Processor& processor, int lanes, DispatcherHooks hooks)
    : store_(store), processor_(processor), hooks_(std::move(hooks)) {
    for (int i = 0; i < std::max(1, lanes); ++i) lanes_.push_back(std::make_unique<WorkQueue>());
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
    poller_ = std::thread([this] { poll_loop(); });
}

void Dispatcher::notify() {
    {
        std::lock_guard lock(mutex_);
        notified_ = true;
    }
    cv_.notify_one();
}

std::size_t Dispatcher::in_flight() const { return in_flight_.load(); }

WorkQueue& Dispatcher::lane_for(const std::string& user_key) {
    return *lanes_[std::hash<std::string>{}(user_key) % lanes_.size()];
}

void Dispatcher::submit(Event event, std::function<void(bool ok)> done) {
    auto key = event.user_key();
    ++in_flight_;
    lane_for(key).post([this, ev = std::move(event), done = std::move(done)] {
        bool ok = false;
        try {
            const auto start = std::chrono::steady_clock::now();
            auto outcome = processor_.process(ev, 0, "timer", now_ms());
            if (!outcome.replies.empty() && hooks_.on_outbox) hooks_.on_outbox();
            if (hooks_.on_handled) {
                hooks_.on_handled(ev, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
            ok = true;
        } catch (const std::exception& e) {
            spdlog::error("timer event {} failed: {}", ev.source_type, e.what());
        }
        if (done) done(ok);
        --in_flight_;
    });
}

void Dispatcher::handle_row(const store::InboxItem& item) {
    const auto start = std::chrono::steady_clock::now();
    auto event = event_from_json(item.event_json);
    if (!event) {
        // Stored by us, so this is a bug or a downgrade; keep the row for a person to look at.
        spdlog::error("[{}] inbox row {} holds an unreadable event; left unhandled", item.trace_id, item.id);
        return;
    }
    try {
        auto outcome = processor_.process(*event, item.id, item.trace_id, now_ms());
        if (!outcome.replies.empty() && hooks_.on_outbox) hooks_.on_outbox();
        if (!outcome.tipoff_codes.empty() && hooks_.on_tipoffs) hooks_.on_tipoffs(outcome.tipoff_codes);
        if (hooks_.on_handled) {
            hooks_.on_handled(*event, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        spdlog::debug("[{}] handled {} with {} replies", item.trace_id, to_string(event->kind), outcome.replies.size());
    } catch (const std::exception& e) {
        // Left unhandled: it is retried at the next start (the store may have been briefly unwritable).
        spdlog::error("[{}] handling inbox row {} failed: {}", item.trace_id, item.id, e.what());
    }
}

void Dispatcher::poll_loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || notified_; });
            if (stopping_) return;
            notified_ = false;
        }
        for (;;) {
            if (in_flight_.load() >= kMaxInFlight) break;
            std::vector<store::InboxItem> rows;
            try {
                rows = store_.pending_inbox(after_id_, kPollBatch);
            } catch (const std::exception& e) {
                spdlog::error("reading the inbox failed: {}", e.what());
                break;
            }
            if (rows.empty()) break;
            for (auto& row : rows) {
                after_id_ = std::max(after_id_, row.id);
                ++in_flight_;
                auto& lane = lane_for(row.user_key);
                lane.post([this, r = std::move(row)] {
                    handle_row(r);
                    --in_flight_;
                });
            }
            if (rows.size() < kPollBatch) break;
        }
    }
}

void Dispatcher::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !poller_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_one();
    if (!poller_.joinable()) return;
    poller_.join();
    // Flush: everything committed so far is handled before the lanes stop (graceful shutdown).
    try {
        for (;;) {
            auto rows = store_.pending_inbox(after_id_, kPollBatch);
            if (rows.empty()) break;
            for (auto& row : rows) {
                after_id_ = std::max(after_id_, row.id);
                ++in_flight_;
                lane_for(row.user_key).post([this, r = std::move(row)] {
                    handle_row(r);
                    --in_flight_;
                });
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("flushing the inbox at shutdown failed: {}", e.what());
    }
    for (auto& lane : lanes_) lane->stop();
}

}  // namespace pgibot::pipeline
