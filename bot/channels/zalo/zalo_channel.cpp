#include "bot/channels/zalo/zalo_channel.hpp"

#include <utility>

#include <spdlog/spdlog.h>

namespace pgibot::channels {

ZaloChannel::ZaloChannel(ZaloOptions options, http::Client& client, ZaloTokenProvider& tokens)
    : options_(std::move(options)), client_(client), tokens_(tokens) {
    while (!options_.api_base.empty() && options_.api_base.back() == '/') options_.api_base.pop_back();
}

bool ZaloChannel::enabled() const { return !options_.app_id.empty() && !options_.oa_secret_key.empty(); }

IngestResult ZaloChannel::ingest(const http::Request& request) const {
    if (!enabled()) {
        IngestResult result;
        result.status = IngestStatus::disabled;
        result.detail = "zalo channel is not configured";
        return result;
    }
    const auto it = request.headers.find("x-zevent-signature");
    const std::string_view signature = it == request.headers.end() ? std::string_view() : std::string_view(it->second);
    return zalo::ingest_webhook(request.body, signature, options_.app_id, options_.oa_secret_key);
}

std::vector<std::string> ZaloChannel::render(const OutMessage& message, std::string_view user_id) const {
    return zalo::render_message(message, user_id);
}

std::string ZaloChannel::cs_url() const { return options_.api_base + "/v3.0/oa/message/cs"; }

SendResult ZaloChannel::post(std::string_view body, const std::string& token) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = cs_url();
    request.headers = {{"Content-Type", "application/json"}, {"access_token", token}};
    request.body = std::string(body);
    return zalo::classify_response(client_.send(request), token);
}

SendResult ZaloChannel::send(std::string_view body) {
    std::string token = tokens_.access_token_for_send();
    if (token.empty()) return SendResult{SendOutcome::auth, "no Zalo access token", std::nullopt, {}};
    auto result = post(body, token);
    if (result.outcome == SendOutcome::auth && tokens_.refresh_after_auth_error(token)) {
        token = tokens_.access_token_for_send();
        // Rejected for its token, so it was not delivered: one more attempt is safe.
        if (!token.empty()) result = post(body, token);
    }
    if (result.outcome != SendOutcome::sent)
        spdlog::warn("zalo send: {} ({})", to_string(result.outcome), result.detail);
    return result;
}

}  // namespace pgibot::channels
