#pragma once
// Test doubles for the channel suites: a scripted http::Client, an in-memory token store, fixture
// loading. No network.
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bot/http/client.hpp"
#include "bot/channels/zalo/token.hpp"
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

// The token storage of a store (load_token/save_token), in memory. `on_save` may throw.
class FakeTokenStore {
public:
    std::function<void(std::string_view, const store::TokenPair&)> on_save;
    std::map<std::string, store::TokenPair, std::less<>> tokens;
    int saves = 0;

    channels::ZaloTokenStorage storage() {
        return channels::ZaloTokenStorage{
            [this](std::string_view key) -> std::optional<store::TokenPair> {
                const std::lock_guard lock(mutex_);
                const auto it = tokens.find(key);
                if (it == tokens.end()) return std::nullopt;
                return it->second;
            },
            [this](std::string_view key, const store::TokenPair& pair) {
                if (on_save) on_save(key, pair);
                const std::lock_guard lock(mutex_);
                ++saves;
                tokens[std::string(key)] = pair;
            }};
    }

private:
    std::mutex mutex_;
};

}  // namespace pgibot::test
