#pragma once
// A Store that passes every call to a real one (the SQLite store on a temp file) and lets a test
// look at and interfere with the decision commits:
//   - records which inbox rows each commit_decisions / commit_decision call carried (failed ones too)
//   - fails a commit (StoreError, nothing written) whenever `fail_if` says so for one of its decisions
//   - holds load_state for one user key until released (to make a lane queue up work behind it)
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "bot/store/store.hpp"

namespace pgibot::test {

class WrappingStore final : public store::Store {
public:
    explicit WrappingStore(store::Store& inner) : inner_(inner) {}

    // --- interference ---------------------------------------------------------------------------
    void fail_if(std::function<bool(const store::DecisionCommit&)> predicate) {
        std::lock_guard lock(mutex_);
        fail_if_ = std::move(predicate);
    }
    // load_state(user_key) waits until release_gate() (or 30 s, so that a failed test cannot hang).
    void gate(std::string user_key) {
        std::lock_guard lock(mutex_);
        gate_key_ = std::move(user_key);
        gate_open_ = false;
        gate_entered_ = false;
    }
    void release_gate() {
        {
            std::lock_guard lock(mutex_);
            gate_open_ = true;
        }
        cv_.notify_all();
    }
    [[nodiscard]] bool gate_entered() const {
        std::lock_guard lock(mutex_);
        return gate_entered_;
    }

    // --- what was seen ----------------------------------------------------------------------------
    struct Call {
        bool batch = false;                  // commit_decisions (true) or commit_decision
        std::vector<std::int64_t> inbox_ids;
        std::vector<bool> state_changed;
        bool threw = false;
    };
    [[nodiscard]] std::vector<Call> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

    // --- decisions ----------------------------------------------------------------------------------
    std::vector<std::string> commit_decision(const store::DecisionCommit& commit) override {
        const auto index = record(false, {commit});
        check(index, {commit});
        try {
            return inner_.commit_decision(commit);
        } catch (...) {
            mark_threw(index);
            throw;
        }
    }
    std::vector<std::vector<std::string>> commit_decisions(const std::vector<store::DecisionCommit>& commits) override {
        const auto index = record(true, commits);
        check(index, commits);
        try {
            return inner_.commit_decisions(commits);
        } catch (...) {
            mark_threw(index);
            throw;
        }
    }
    std::optional<std::string> load_state(std::string_view user_key) override {
        std::unique_lock lock(mutex_);
        if (!gate_key_.empty() && user_key == gate_key_) {
            gate_entered_ = true;
            cv_.wait_for(lock, std::chrono::seconds(30), [this] { return gate_open_; });
        }
        lock.unlock();
        return inner_.load_state(user_key);
    }

    // --- everything else: passed on ---------------------------------------------------------------
    void prepare(IncomingEvent& event) const override { inner_.prepare(event); }
    std::size_t commit_events(const std::vector<IncomingEvent>& events) override { return inner_.commit_events(events); }
    std::vector<std::size_t> commit_event_batches(const std::vector<std::vector<IncomingEvent>>& batches) override {
        return inner_.commit_event_batches(batches);
    }
    std::vector<store::InboxItem> pending_inbox(std::int64_t after_id, std::size_t limit) override {
        return inner_.pending_inbox(after_id, limit);
    }
    std::string reserve_tipoff_code(std::int64_t now_ms) override { return inner_.reserve_tipoff_code(now_ms); }
    std::vector<std::string> idle_dialog_users(std::int64_t idle_before_ms, std::size_t limit) override {
        return inner_.idle_dialog_users(idle_before_ms, limit);
    }
    std::vector<store::OutboxItem> due_outbox(std::int64_t now_ms, std::size_t limit) override {
        return inner_.due_outbox(now_ms, limit);
    }
    void mark_sending(std::int64_t id) override { inner_.mark_sending(id); }
    void mark_sent(std::int64_t id, std::string_view platform_message_id) override {
        inner_.mark_sent(id, platform_message_id);
    }
    void mark_retry(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) override {
        inner_.mark_retry(id, next_attempt_ms, error);
    }
    void mark_failed(std::int64_t id, store::OutboxState final_state, std::string_view error) override {
        inner_.mark_failed(id, final_state, error);
    }
    std::size_t recover_sending() override { return inner_.recover_sending(); }
    std::vector<store::OutboxItem> outbox_for_inbox(std::int64_t inbox_id) override {
        return inner_.outbox_for_inbox(inbox_id);
    }
    std::size_t outbox_depth() override { return inner_.outbox_depth(); }
    std::size_t inbox_depth() override { return inner_.inbox_depth(); }
    void mark_unreachable(Platform platform, std::string_view user_id, std::string_view reason) override {
        inner_.mark_unreachable(platform, user_id, reason);
    }
    std::vector<std::string> subscribers(Platform platform, std::string_view page_id) override {
        return inner_.subscribers(platform, page_id);
    }
    std::optional<store::TokenPair> load_token(std::string_view key) override { return inner_.load_token(key); }
    void save_token(std::string_view key, const store::TokenPair& pair) override { inner_.save_token(key, pair); }
    std::optional<store::TipoffRow> tipoff_by_code(std::string_view code) override {
        return inner_.tipoff_by_code(code);
    }
    std::vector<store::TipoffRow> list_tipoffs(const store::TipoffFilter& filter) override {
        return inner_.list_tipoffs(filter);
    }
    void change_tipoff_status(std::string_view code, const store::StatusChange& change) override {
        inner_.change_tipoff_status(code, change);
    }
    void record_forward_attempt(std::string_view code, std::string_view channel, std::string_view target, bool ok,
                                std::string_view detail, std::int64_t at_ms) override {
        inner_.record_forward_attempt(code, channel, target, ok, detail, at_ms);
    }
    [[nodiscard]] bool writable() override { return inner_.writable(); }

private:
    std::size_t record(bool batch, const std::vector<store::DecisionCommit>& commits) {
        std::lock_guard lock(mutex_);
        Call call;
        call.batch = batch;
        for (const auto& c : commits) {
            call.inbox_ids.push_back(c.inbox_id);
            call.state_changed.push_back(c.state_changed);
        }
        calls_.push_back(std::move(call));
        return calls_.size() - 1;
    }
    void check(std::size_t index, const std::vector<store::DecisionCommit>& commits) {
        std::function<bool(const store::DecisionCommit&)> predicate;
        {
            std::lock_guard lock(mutex_);
            predicate = fail_if_;
        }
        if (!predicate) return;
        for (const auto& c : commits) {
            if (predicate(c)) {
                mark_threw(index);
                throw store::StoreError("injected: cannot commit this decision");
            }
        }
    }
    void mark_threw(std::size_t index) {
        std::lock_guard lock(mutex_);
        calls_[index].threw = true;
    }

    store::Store& inner_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::function<bool(const store::DecisionCommit&)> fail_if_;
    std::string gate_key_;
    bool gate_open_ = true;
    bool gate_entered_ = false;
    std::vector<Call> calls_;
};

}  // namespace pgibot::test
