#include "bot/pipeline/sender.hpp"

#include <spdlog/spdlog.h>

#include "bot/pipeline/dispatcher.hpp"  // now_ms

namespace pgibot::pipeline {

namespace {
constexpr std::size_t kPickBatch = 64;
constexpr auto kIdlePoll = std::chrono::milliseconds(250);
}  // namespace

Sender::Sender(store::Store& store, SenderOptions options, SenderHooks hooks)
    : store_(store), options_(std::move(options)), hooks_(std::move(hooks)) {}

Sender::~Sender() { stop(); }

void Sender::set_channel(Platform platform, channels::Channel* channel) { channels_[platform] = channel; }

void Sender::start() {
    for (int i = 0; i < std::max(1, options_.threads); ++i) pool_.push_back(std::make_unique<WorkQueue>(options_.nice));
    thread_ = std::thread([this] {
        lower_current_thread_priority(options_.nice);
        loop();
    });
}

void Sender::notify() {
    {
        std::lock_guard lock(mutex_);
        notified_ = true;
    }
    cv_.notify_one();
}

void Sender::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    for (auto& worker : pool_) worker->stop();
    pool_.clear();
    flush_sent();
}

void Sender::flush_sent() {
    std::vector<store::Store::SentMark> marks;
    {
        std::lock_guard lock(sent_mutex_);
        marks.swap(sent_);
    }
    if (marks.empty()) return;
    try {
        store_.mark_sent_many(marks);
    } catch (const std::exception& e) {
        // Kept for the next round; until then those users' next messages wait (order holds).
        spdlog::error("recording {} sent messages failed: {}", marks.size(), e.what());
        std::lock_guard lock(sent_mutex_);
        sent_.insert(sent_.begin(), std::make_move_iterator(marks.begin()), std::make_move_iterator(marks.end()));
    }
}

bool Sender::take_token(const std::string& page_key) {
    const auto now = std::chrono::steady_clock::now();
    auto [it, fresh] = buckets_.try_emplace(page_key);
    Bucket& b = it->second;
    // Burst of one second's worth at most.
    const double burst = std::max(1.0, options_.rate_per_second);
    if (fresh) {
        b.tokens = burst;
        b.last = now;
    }
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * options_.rate_per_second);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void Sender::loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, kIdlePoll, [this] { return stopping_ || notified_; });
            if (stopping_) return;
            notified_ = false;
        }
        flush_sent();
        std::vector<store::OutboxItem> due;
        try {
            due = store_.due_outbox(now_ms(), kPickBatch);
        } catch (const std::exception& e) {
            spdlog::error("reading the outbox failed: {}", e.what());
            continue;
        }
        bool throttled = false;
        std::vector<std::pair<store::OutboxItem, channels::Channel*>> picked;
        std::vector<std::int64_t> ids;
        for (auto& item : due) {
            auto it = channels_.find(item.platform);
            if (it == channels_.end() || it->second == nullptr) {
                // A row for a platform that is now disabled waits until it is enabled again.
                continue;
            }
            if (!take_token(std::string(to_string(item.platform)) + ":" + item.page_id)) {
                throttled = true;
                continue;
            }
            ids.push_back(item.id);
            picked.emplace_back(std::move(item), it->second);
        }
        // Claimed together, in one transaction.
        std::vector<std::int64_t> claimed;
        try {
            claimed = store_.mark_sending_many(ids);
        } catch (const std::exception& e) {
            spdlog::error("claiming {} outbox rows failed: {}", ids.size(), e.what());
        }
        std::size_t c = 0;
        for (auto& [item, channel] : picked) {
            while (c < claimed.size() && claimed[c] < item.id) ++c;
            if (c >= claimed.size() || claimed[c] != item.id) continue;  // claimed elsewhere meanwhile
            ++in_flight_;
            auto& worker = *pool_[next_worker_++ % pool_.size()];
            worker.post([this, row = std::move(item), channel = channel] {
                send_one(row, channel);
                --in_flight_;
                notify();  // the user's next message may now be due
            });
        }
        if (throttled) {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; });
            notified_ = true;
        }
    }
}

void Sender::send_one(const store::OutboxItem& item, channels::Channel* channel) {
    const auto start = std::chrono::steady_clock::now();
    channels::SendResult result;
    try {
        result = channel->send(item.body);
    } catch (const std::exception& e) {
        result = channels::SendResult{channels::SendOutcome::retry, std::string("send threw: ") + e.what(), {}, {}};
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (hooks_.on_attempt) hooks_.on_attempt(item.platform, result.outcome, seconds);

    const int attempts_done = item.attempts + 1;
    try {
        switch (result.outcome) {
            case channels::SendOutcome::sent: {
                std::lock_guard lock(sent_mutex_);
                sent_.push_back(store::Store::SentMark{item.id, result.platform_message_id});
                spdlog::info("[{}] sent outbox row {} (attempt {})", item.trace_id, item.id, attempts_done);
                break;
            }
            case channels::SendOutcome::retry: {
                std::optional<std::chrono::milliseconds> delay;
                {
                    std::lock_guard lock(rng_mutex_);
                    delay = options_.retry.next_delay(attempts_done, rng_, result.retry_after);
                }
                if (delay) {
                    store_.mark_retry(item.id, now_ms() + delay->count(), result.detail);
                    spdlog::warn("[{}] outbox row {} attempt {} failed ({}); retry in {} ms", item.trace_id, item.id,
                                 attempts_done, result.detail, delay->count());
                } else {
                    store_.mark_failed(item.id, store::OutboxState::failed, "gave up: " + result.detail);
                    spdlog::error("[{}] outbox row {} given up after {} attempts: {}", item.trace_id, item.id,
                                  attempts_done, result.detail);
                }
                break;
            }
            case channels::SendOutcome::auth: {
                const bool refreshed = hooks_.on_auth_error && hooks_.on_auth_error(item.platform);
                if (refreshed && item.attempts == 0) {
                    store_.mark_retry(item.id, now_ms() + 100, result.detail);
                } else {
                    store_.mark_failed(item.id, store::OutboxState::failed, result.detail);
                    spdlog::error("[{}] {} rejected the access token: {}", item.trace_id, to_string(item.platform),
                                  result.detail);
                }
                break;
            }
            case channels::SendOutcome::unreachable:
                store_.mark_failed(item.id, store::OutboxState::unreachable, result.detail);
                store_.mark_unreachable(item.platform, item.user_id, result.detail);
                spdlog::warn("[{}] user unreachable, not retried: {}", item.trace_id, result.detail);
                break;
            case channels::SendOutcome::failed:
                store_.mark_failed(item.id, store::OutboxState::failed, result.detail);
                spdlog::error("[{}] outbox row {} failed permanently: {}", item.trace_id, item.id, result.detail);
                break;
        }
    } catch (const std::exception& e) {
        // The outcome could not be recorded; the row stays `sending` and is retried after a restart.
        spdlog::error("[{}] recording the outcome of outbox row {} failed: {}", item.trace_id, item.id, e.what());
    }
}

}  // namespace pgibot::pipeline
