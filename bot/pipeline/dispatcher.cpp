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
// Events a lane handles and commits together at most.
constexpr std::size_t kLaneBatch = 64;
}  // namespace

Dispatcher::Dispatcher(store::Store& store, Processor& processor, int lanes, DispatcherHooks hooks, int nice)
    : store_(store), processor_(processor), hooks_(std::move(hooks)) {
    for (int i = 0; i < std::max(1, lanes); ++i) {
        lanes_.push_back(std::make_unique<Lane>(
            kLaneBatch, [this](std::vector<LaneItem>& batch) { handle_batch(batch); }, nice));
    }
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

Dispatcher::Lane& Dispatcher::lane_for(const std::string& user_key) {
    return *lanes_[std::hash<std::string>{}(user_key) % lanes_.size()];
}

void Dispatcher::submit(Event event, std::function<void(bool ok)> done) {
    auto key = event.user_key();
    ++in_flight_;
    LaneItem item;
    item.timer = std::move(event);
    item.done = std::move(done);
    lane_for(key).post(std::move(item));
}

void Dispatcher::handle_batch(std::vector<LaneItem>& batch) {
    const auto start = std::chrono::steady_clock::now();
    // Inbox rows are decoded here; a row that does not decode was stored by us, so it is a bug or a
    // downgrade: it stays unhandled for a person to look at.
    std::vector<Event> events;
    events.reserve(batch.size());
    std::vector<std::size_t> owner;  // events[i] belongs to batch[owner[i]]
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto& item = batch[i];
        if (item.timer) {
            events.push_back(std::move(*item.timer));
            owner.push_back(i);
            continue;
        }
        auto event = event_from_json(item.row.event_json);
        if (!event) {
            spdlog::error("[{}] inbox row {} holds an unreadable event; left unhandled", item.row.trace_id,
                          item.row.id);
            continue;
        }
        events.push_back(std::move(*event));
        owner.push_back(i);
    }
    std::vector<Processor::Item> items;
    items.reserve(events.size());
    for (std::size_t k = 0; k < events.size(); ++k) {
        const auto& item = batch[owner[k]];
        items.push_back(Processor::Item{&events[k], item.timer ? 0 : item.row.id,
                                        item.timer ? std::string("timer") : item.row.trace_id});
    }

    // Per item of `items`: committed (or nothing to commit) = true.
    std::vector<bool> item_ok(items.size(), false);
    std::vector<ProcessOutcome> outcomes(items.size());
    try {
        if (!items.empty()) outcomes = processor_.process_batch(items, now_ms());
        for (std::size_t k = 0; k < items.size() && k < outcomes.size(); ++k) item_ok[k] = !outcomes[k].failed;
    } catch (const std::exception& e) {
        // Nothing of the batch was committed. One bad event must not hold the others back: they
        // are redone one at a time, and only what fails alone stays unhandled (retried at the next
        // start; the store may have been briefly unwritable).
        spdlog::error("handling a batch of {} events failed: {}", items.size(), e.what());
        outcomes.assign(items.size(), ProcessOutcome{});
        if (items.size() > 1) {
            for (std::size_t k = 0; k < items.size(); ++k) {
                try {
                    auto one = processor_.process_batch({items[k]}, now_ms());
                    if (!one.empty()) outcomes[k] = std::move(one.front());
                    item_ok[k] = !outcomes[k].failed;
                } catch (const std::exception& e1) {
                    spdlog::error("[{}] handling {} failed: {}", items[k].trace_id, to_string(events[k].kind),
                                  e1.what());
                }
            }
        }
    }

    bool replies = false;
    std::vector<std::string> codes;
    std::size_t handled = 0;
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (!item_ok[k]) continue;
        ++handled;
        replies = replies || !outcomes[k].replies.empty();
        codes.insert(codes.end(), outcomes[k].tipoff_codes.begin(), outcomes[k].tipoff_codes.end());
        spdlog::debug("[{}] handled {} with {} replies", items[k].trace_id, to_string(events[k].kind),
                      outcomes[k].replies.size());
    }
    if (replies && hooks_.on_outbox) hooks_.on_outbox();
    if (!codes.empty() && hooks_.on_tipoffs) hooks_.on_tipoffs(codes);
    if (hooks_.on_handled && handled > 0) {
        // The batch's time, shared evenly: what each event cost to handle and commit.
        const double each = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                            static_cast<double>(handled);
        for (std::size_t k = 0; k < items.size(); ++k) {
            if (item_ok[k]) hooks_.on_handled(events[k], each);
        }
    }
    for (std::size_t k = 0; k < items.size(); ++k) {
        auto& item = batch[owner[k]];
        if (item.done) item.done(item_ok[k]);
    }
    in_flight_ -= batch.size();
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
                LaneItem item;
                item.row = std::move(row);
                lane.post(std::move(item));
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
    if (!poller_.joinable()) {
        for (auto& lane : lanes_) lane->stop();  // never started: run what was submitted, then join
        return;
    }
    poller_.join();
    // Flush: everything committed so far is handled before the lanes stop (graceful shutdown).
    try {
        for (;;) {
            auto rows = store_.pending_inbox(after_id_, kPollBatch);
            if (rows.empty()) break;
            for (auto& row : rows) {
                after_id_ = std::max(after_id_, row.id);
                ++in_flight_;
                auto& lane = lane_for(row.user_key);
                LaneItem item;
                item.row = std::move(row);
                lane.post(std::move(item));
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("flushing the inbox at shutdown failed: {}", e.what());
    }
    for (auto& lane : lanes_) lane->stop();
}

}  // namespace pgibot::pipeline
