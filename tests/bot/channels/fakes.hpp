#pragma once
// Test doubles for the channel suites: a scripted http::Client, an in-memory token store, fixture
// loading. No network.
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "bot/http/client.hpp"
#include "bot/store/store.hpp"

namespace pgibot::test {

inline std::string read_fixture(const std::string& relative) {
    std::ifstream in(std::string(PGIBOT_CHANNELS_FIXTURES_DIR) + "/" + relative, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline http::ClientResponse response(int status, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

class FakeClient final : public http::Client {
public:
    std::function<http::ClientResponse(const http::ClientRequest&)> handler;

    http::ClientResponse send(const http::ClientRequest& request) override {
        {
            const std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }
        const int now = ++in_flight_;
        int seen = max_in_flight_.load();
        while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {}
        auto r = handler ? handler(request) : http::ClientResponse{};
        --in_flight_;
        return r;
    }
    std::vector<http::ClientRequest> requests() const {
        const std::lock_guard lock(mutex_);
        return requests_;
    }
    int max_in_flight() const { return max_in_flight_.load(); }

private:
    mutable std::mutex mutex_;
    std::vector<http::ClientRequest> requests_;
    std::atomic<int> in_flight_{0};
    std::atomic<int> max_in_flight_{0};
};

inline std::string header_of(const http::ClientRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return {};
}

// Only the token methods do anything; the rest are never called by the channels.
class FakeTokenStore final : public store::Store {
public:
    std::function<void(std::string_view, const store::TokenPair&)> on_save;  // may throw
    std::map<std::string, store::TokenPair, std::less<>> tokens;
    int saves = 0;

    std::optional<store::TokenPair> load_token(std::string_view key) override {
        const std::lock_guard lock(mutex_);
        const auto it = tokens.find(key);
        if (it == tokens.end()) return std::nullopt;
        return it->second;
    }
    void save_token(std::string_view key, const store::TokenPair& pair) override {
        if (on_save) on_save(key, pair);
        const std::lock_guard lock(mutex_);
        ++saves;
        tokens[std::string(key)] = pair;
    }

    std::size_t commit_events(const std::vector<IncomingEvent>&) override { return 0; }
    std::vector<std::size_t> commit_event_batches(const std::vector<std::vector<IncomingEvent>>&) override { return {}; }
    std::vector<store::InboxItem> pending_inbox(std::int64_t, std::size_t) override { return {}; }
    std::optional<std::string> load_state(std::string_view) override { return std::nullopt; }
    std::vector<std::string> commit_decision(const store::DecisionCommit&) override { return {}; }
    std::vector<std::string> idle_dialog_users(std::int64_t, std::size_t) override { return {}; }
    std::vector<store::OutboxItem> due_outbox(std::int64_t, std::size_t) override { return {}; }
    void mark_sending(std::int64_t) override {}
    void mark_sent(std::int64_t, std::string_view) override {}
    void mark_retry(std::int64_t, std::int64_t, std::string_view) override {}
    void mark_failed(std::int64_t, store::OutboxState, std::string_view) override {}
    std::size_t recover_sending() override { return 0; }
    std::vector<store::OutboxItem> outbox_for_inbox(std::int64_t) override { return {}; }
    std::size_t outbox_depth() override { return 0; }
    std::size_t inbox_depth() override { return 0; }
    void mark_unreachable(Platform, std::string_view, std::string_view) override {}
    std::vector<std::string> subscribers(Platform, std::string_view) override { return {}; }
    std::optional<store::TipoffRow> tipoff_by_code(std::string_view) override { return std::nullopt; }
    std::vector<store::TipoffRow> list_tipoffs(const store::TipoffFilter&) override { return {}; }
    void change_tipoff_status(std::string_view, const store::StatusChange&) override {}
    void record_forward_attempt(std::string_view, std::string_view, std::string_view, bool, std::string_view,
                                std::int64_t) override {}
    bool writable() override { return true; }

private:
    std::mutex mutex_;
};

}  // namespace pgibot::test
