#include "bot/channels/zalo/token.hpp"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "bot/channels/common.hpp"

namespace pgibot::channels {

namespace {

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ZaloTokenStorage ZaloTokenStorage::of(store::Store& store) {
    return ZaloTokenStorage{
        [&store](std::string_view key) { return store.load_token(key); },
        [&store](std::string_view key, const store::TokenPair& pair) { store.save_token(key, pair); }};
}

ZaloTokenManager::ZaloTokenManager(ZaloOptions options, http::Client& client, store::Store& store,
                                   store::TokenPair seed, Clock clock)
    : ZaloTokenManager(std::move(options), client, ZaloTokenStorage::of(store), std::move(seed), std::move(clock)) {}

ZaloTokenManager::ZaloTokenManager(ZaloOptions options, http::Client& client, ZaloTokenStorage storage,
                                   store::TokenPair seed, Clock clock)
    : options_(std::move(options)),
      client_(client),
      storage_(std::move(storage)),
      clock_(std::move(clock)),
      pair_(std::move(seed)) {
    if (!clock_) clock_ = system_now_ms;
    while (!options_.oauth_base.empty() && options_.oauth_base.back() == '/') options_.oauth_base.pop_back();
    try {
        auto stored = storage_.load ? storage_.load(store_key()) : std::nullopt;
        if (stored && !stored->access_token.empty() &&
            (pair_.access_token.empty() || stored->expires_at_ms >= pair_.expires_at_ms)) {
            pair_ = std::move(*stored);
        } else if (!pair_.access_token.empty()) {
            // The environment's pair is newer (or nothing was saved): save it so a restart finds it.
            pending_save_ = true;
        }
    } catch (const std::exception& e) {
        spdlog::error("zalo token: cannot load the saved token pair: {}", e.what());
        pending_save_ = !pair_.access_token.empty();
    }
}

std::string ZaloTokenManager::access_token() const {
    const std::lock_guard lock(state_mutex_);
    return pair_.access_token;
}

std::int64_t ZaloTokenManager::expires_at_ms() const {
    const std::lock_guard lock(state_mutex_);
    return pair_.expires_at_ms;
}

bool ZaloTokenManager::healthy() const {
    const std::lock_guard lock(state_mutex_);
    return healthy_;
}

std::string ZaloTokenManager::last_error() const {
    const std::lock_guard lock(state_mutex_);
    return last_error_;
}

bool ZaloTokenManager::usable(std::int64_t now_ms) const {
    return !pair_.access_token.empty() && (pair_.expires_at_ms == 0 || pair_.expires_at_ms > now_ms);
}

bool ZaloTokenManager::refresh_if_needed(std::int64_t now_ms) {
    auto needs_work = [&] {
        const std::lock_guard lock(state_mutex_);
        const bool fresh = !pair_.access_token.empty() && pair_.expires_at_ms - now_ms > kRefreshMarginMs;
        return pending_save_ || (!fresh && now_ms >= next_attempt_ms_);
    };
    if (!needs_work()) {
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    const std::lock_guard flight(refresh_mutex_);
    // Another thread may have refreshed (or saved) while this one waited for the lock.
    if (!needs_work()) {
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    store::TokenPair unsaved;
    bool save_only = false;
    {
        const std::lock_guard lock(state_mutex_);
        const bool fresh = !pair_.access_token.empty() && pair_.expires_at_ms - now_ms > kRefreshMarginMs;
        if (pending_save_ && (fresh || now_ms < next_attempt_ms_)) {
            unsaved = pair_;
            save_only = true;
        }
    }
    if (save_only) {
        try {
            if (!storage_.save) throw std::runtime_error("no token storage");
            storage_.save(store_key(), unsaved);
            const std::lock_guard lock(state_mutex_);
            pending_save_ = false;
            healthy_ = true;
            last_error_.clear();
        } catch (const std::exception& e) {
            spdlog::error("zalo token: saving the token pair failed again: {}", e.what());
        }
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    return refresh_locked(now_ms);
}

bool ZaloTokenManager::force_refresh(std::int64_t now_ms) {
    const std::lock_guard flight(refresh_mutex_);
    return refresh_locked(now_ms);
}

std::string ZaloTokenManager::access_token_for_send() {
    refresh_if_needed(clock_());
    return access_token();
}

bool ZaloTokenManager::refresh_after_auth_error(std::string_view rejected) {
    const std::lock_guard flight(refresh_mutex_);
    {
        const std::lock_guard lock(state_mutex_);
        if (!pair_.access_token.empty() && pair_.access_token != rejected) return true;  // already replaced
    }
    spdlog::warn("zalo token: the access token was rejected; refreshing");
    refresh_locked(clock_());
    const std::lock_guard lock(state_mutex_);
    return !pair_.access_token.empty() && pair_.access_token != rejected;
}

void ZaloTokenManager::fail(std::string error, std::int64_t now_ms) {
    spdlog::error("zalo token: REFRESH FAILED: {}. Zalo replies stop when the access token expires; if the refresh "
                  "token is dead, an OA admin must authorise the app again and new tokens must be set.",
                  error);
    const std::lock_guard lock(state_mutex_);
    healthy_ = false;
    last_error_ = std::move(error);
    next_attempt_ms_ = now_ms + kRetryAfterFailureMs;
}

bool ZaloTokenManager::refresh_locked(std::int64_t now_ms) {
    store::TokenPair old;
    {
        const std::lock_guard lock(state_mutex_);
        old = pair_;
    }
    auto scrub = [&](std::string text) {
        return redact(std::move(text), {old.refresh_token, old.access_token, options_.app_secret});
    };
    if (old.refresh_token.empty()) {
        fail("no refresh token", now_ms);
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    http::ClientRequest request;
    request.method = "POST";
    request.url = options_.oauth_base + "/v4/oa/access_token";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"secret_key", options_.app_secret}};
    request.body = "refresh_token=" + percent_encode(old.refresh_token) + "&app_id=" + percent_encode(options_.app_id) +
                   "&grant_type=refresh_token";
    const auto response = client_.send(request);
    if (response.transport_failed()) {
        fail(scrub("transport error: " + response.error), now_ms);
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    const Json doc = Json::parse(response.body, nullptr, false);
    store::TokenPair fresh;
    if (!doc.is_discarded()) {
        fresh.access_token = string_of(member(doc, "access_token"));
        fresh.refresh_token = string_of(member(doc, "refresh_token"));
    }
    if (response.status != 200 || fresh.access_token.empty() || fresh.refresh_token.empty()) {
        std::string error = "http " + std::to_string(response.status);
        if (const auto code = doc.is_discarded() ? std::nullopt : int64_of(member(doc, "error")); code) {
            error += " error=" + std::to_string(*code);
        }
        for (const auto* key : {"error_name", "error_reason", "error_description", "message"}) {
            if (const auto v = doc.is_discarded() ? std::string() : string_of(member(doc, key)); !v.empty()) {
                error += std::string(" ") + key + "=" + v;
            }
        }
        if (fresh.access_token.empty() || fresh.refresh_token.empty()) error += " (no token pair in the response)";
        fail(scrub(std::move(error)), now_ms);
        const std::lock_guard lock(state_mutex_);
        return usable(now_ms);
    }
    // expires_in is a string of seconds ("90000"); accept a number too.
    const auto expires_in = int64_of(member(doc, "expires_in")).value_or(kDefaultExpiresInS);
    fresh.expires_at_ms = now_ms + expires_in * 1000;

    // The old refresh token is dead now: save the new pair before anyone uses it.
    std::string save_error;
    try {
        if (!storage_.save) throw std::runtime_error("no token storage");
        storage_.save(store_key(), fresh);
    } catch (const std::exception& e) {
        save_error = e.what();
    }
    const std::lock_guard lock(state_mutex_);
    pair_ = std::move(fresh);
    next_attempt_ms_ = 0;
    if (save_error.empty()) {
        pending_save_ = false;
        healthy_ = true;
        last_error_.clear();
        spdlog::info("zalo token: refreshed, valid for {} s", expires_in);
    } else {
        // Keeping it in memory beats losing it: the old refresh token no longer works. A restart before
        // the next successful save would lose the pair, so this is loud and unhealthy.
        pending_save_ = true;
        healthy_ = false;
        last_error_ = "refreshed, but saving the new token pair failed: " + save_error;
        spdlog::error("zalo token: SAVING THE NEW TOKEN PAIR FAILED ({}); it is kept in memory and the save is "
                      "retried; a restart now would lose it",
                      save_error);
    }
    return usable(now_ms);
}

}  // namespace pgibot::channels
