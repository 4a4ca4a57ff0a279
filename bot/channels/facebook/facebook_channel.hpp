#pragma once
// The Facebook Messenger (fanpage) channel: webhook verification and parsing, Send API rendering,
// sending and error mapping. Secrets come from the caller (read from the environment by the app)
// and never reach a log line or a SendResult::detail.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/channels/common.hpp"
#include "bot/channels/facebook/send_api.hpp"
#include "bot/channels/facebook/webhook.hpp"
#include "bot/http/client.hpp"

namespace pgibot::channels {

struct FacebookOptions {
    std::string page_id;
    std::string app_id;  // ours: echoes carrying another app_id (or none) were sent by a person
    std::string graph_api_base = "https://graph.facebook.com/v25.0";
    std::string app_secret;    // secret: X-Hub-Signature-256 key
    std::string verify_token;  // secret: GET handshake
    std::string page_token;    // secret: Send API access token
};

class FacebookChannel final : public Channel {
public:
    FacebookChannel(FacebookOptions options, http::Client& client);

    [[nodiscard]] Platform platform() const override { return Platform::facebook; }
    // page_id, app_id, app_secret and page_token are all set.
    [[nodiscard]] bool enabled() const override;
    [[nodiscard]] IngestResult ingest(const http::Request& request) const override;
    [[nodiscard]] std::vector<std::string> render(const OutMessage& message, std::string_view user_id) const override;
    SendResult send(std::string_view body) override;

    // GET /webhooks/facebook: the challenge to echo (200 text/plain), or nullopt (403).
    [[nodiscard]] std::optional<std::string> verify_handshake(const facebook::QueryMap& query) const;
    // A sender_action body (typing_on, ...), to be sent with send() as its own request.
    [[nodiscard]] std::string render_sender_action(std::string_view user_id, facebook::SenderAction action) const;

    [[nodiscard]] const std::string& page_id() const { return options_.page_id; }
    // POST {graph_api_base}/{page_id}/messages, without the token.
    [[nodiscard]] std::string messages_url() const;

private:
    FacebookOptions options_;
    HmacSha256 app_secret_mac_;  // prepared once from options_.app_secret
    http::Client& client_;
};

}  // namespace pgibot::channels
