#pragma once
// The Zalo OA access token: a 25 h access token and a single-use 3-month refresh token. Refreshed
// when less than an hour remains or after Zalo rejected the token; never two refreshes at once (a
// second one would burn the rotated refresh token); the new pair is saved in the store before it
// is used. See reference/zalo.md §5.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "bot/channels/zalo/options.hpp"
#include "bot/http/client.hpp"
#include "bot/store/store.hpp"

namespace pgibot::channels {

// What ZaloChannel needs of the token (faked in tests).
class ZaloTokenProvider {
public:
    virtual ~ZaloTokenProvider() = default;
    // The access token to send with now, refreshed first when it is close to expiry. Empty: none.
    virtual std::string access_token_for_send() = 0;
    // Zalo rejected `rejected` (-216/-220). Refreshes unless another thread already replaced that
    // token. True when a different token is now available (retry once with it).
    virtual bool refresh_after_auth_error(std::string_view rejected) = 0;
};

// Where the pair is kept: the store's load_token/save_token in production (see of()); two plain
// functions so tests need no full store::Store. Both may throw (store::StoreError).
struct ZaloTokenStorage {
    std::function<std::optional<store::TokenPair>(std::string_view key)> load;
    std::function<void(std::string_view key, const store::TokenPair& pair)> save;
    // `store` must outlive the storage.
    static ZaloTokenStorage of(store::Store& store);
};

class ZaloTokenManager final : public ZaloTokenProvider {
public:
    using Clock = std::function<std::int64_t()>;  // epoch milliseconds
    static constexpr std::int64_t kRefreshMarginMs = 3600LL * 1000;  // refresh when < 1 h remains
    static constexpr std::int64_t kRetryAfterFailureMs = 60LL * 1000;  // unforced retry of a failed refresh
    static constexpr std::int64_t kDefaultExpiresInS = 3600;  // when the response has no expires_in

    // `seed`: the pair from the environment (PGIBOT_ZALO_ACCESS_TOKEN / PGIBOT_ZALO_REFRESH_TOKEN,
    // expires_at_ms 0 when unknown). The pair saved in the store under store_key() wins when it is at
    // least as new (expires_at_ms) or the seed is empty. A store failure here is logged, not thrown.
    ZaloTokenManager(ZaloOptions options, http::Client& client, store::Store& store, store::TokenPair seed,
                     Clock clock = {});
    ZaloTokenManager(ZaloOptions options, http::Client& client, ZaloTokenStorage storage, store::TokenPair seed,
                     Clock clock = {});

    [[nodiscard]] std::string access_token() const;
    [[nodiscard]] std::int64_t expires_at_ms() const;
    // Refreshes when the token is unknown-aged, expired or within kRefreshMarginMs of expiry (and
    // retries saving a pair a previous save failed on). True when a usable access token is held
    // afterwards (the old one may still be valid if the refresh failed).
    bool refresh_if_needed(std::int64_t now_ms);
    // Refreshes now, whatever the expiry.
    bool force_refresh(std::int64_t now_ms);

    // False after a failed refresh or a failed save, until the next success. For /readyz.
    [[nodiscard]] bool healthy() const;
    [[nodiscard]] std::string last_error() const;
    [[nodiscard]] std::string store_key() const { return "zalo:" + options_.app_id; }

    std::string access_token_for_send() override;
    bool refresh_after_auth_error(std::string_view rejected) override;

private:
    bool refresh_locked(std::int64_t now_ms);  // refresh_mutex_ held
    void fail(std::string error, std::int64_t now_ms);
    bool usable(std::int64_t now_ms) const;  // state_mutex_ held

    ZaloOptions options_;
    http::Client& client_;
    ZaloTokenStorage storage_;
    Clock clock_;

    std::mutex refresh_mutex_;  // single flight: held for a whole refresh (HTTP call + save)
    mutable std::mutex state_mutex_;  // guards the fields below; never held across I/O
    store::TokenPair pair_;
    bool pending_save_ = false;
    bool healthy_ = true;
    std::string last_error_;
    std::int64_t next_attempt_ms_ = 0;
};

}  // namespace pgibot::channels
