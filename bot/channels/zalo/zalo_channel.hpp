#pragma once
// The Zalo Official Account channel: webhook verification and parsing, CS message rendering,
// sending with the OA access token and error mapping. See reference/zalo.md.
#include <string>
#include <string_view>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/channels/zalo/options.hpp"
#include "bot/channels/zalo/send_api.hpp"
#include "bot/channels/zalo/token.hpp"
#include "bot/channels/zalo/webhook.hpp"
#include "bot/http/client.hpp"

namespace pgibot::channels {

class ZaloChannel final : public Channel {
public:
    // `tokens` (usually a ZaloTokenManager) must outlive the channel.
    ZaloChannel(ZaloOptions options, http::Client& client, ZaloTokenProvider& tokens);

    [[nodiscard]] Platform platform() const override { return Platform::zalo; }
    // app_id and oa_secret_key are set (sending also needs a token from the provider).
    [[nodiscard]] bool enabled() const override;
    [[nodiscard]] IngestResult ingest(const http::Request& request) const override;
    [[nodiscard]] std::vector<std::string> render(const OutMessage& message, std::string_view user_id) const override;
    // On -216/-220 the token is refreshed (single flight) and the body sent once more.
    SendResult send(std::string_view body) override;

    // POST {api_base}/v3.0/oa/message/cs
    [[nodiscard]] std::string cs_url() const;

private:
    SendResult post(std::string_view body, const std::string& token);

    ZaloOptions options_;
    http::Client& client_;
    ZaloTokenProvider& tokens_;
};

}  // namespace pgibot::channels
