#include "bot/channels/facebook/facebook_channel.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "bot/channels/common.hpp"

namespace pgibot::channels {

FacebookChannel::FacebookChannel(FacebookOptions options, http::Client& client)
    : options_(std::move(options)), app_secret_mac_(options_.app_secret), client_(client) {
    while (!options_.graph_api_base.empty() && options_.graph_api_base.back() == '/')
        options_.graph_api_base.pop_back();
}

bool FacebookChannel::enabled() const {
    return !options_.page_id.empty() && !options_.app_id.empty() && !options_.app_secret.empty() &&
           !options_.page_token.empty();
}

IngestResult FacebookChannel::ingest(const http::Request& request) const {
    IngestResult result;
    if (!enabled()) {
        result.status = IngestStatus::disabled;
        result.detail = "facebook channel is not configured";
        return result;
    }
    const auto it = request.headers.find("x-hub-signature-256");
    if (it == request.headers.end()) {
        result.status = IngestStatus::bad_signature;
        result.detail = "missing X-Hub-Signature-256";
        return result;
    }
    // The HMAC runs over the exact raw bytes, before any parsing.
    if (!facebook::verify_signature(app_secret_mac_, request.body, it->second)) {
        result.status = IngestStatus::bad_signature;
        result.detail = "X-Hub-Signature-256 mismatch";
        return result;
    }
    return facebook::parse_webhook(request.body, options_.app_id);
}

std::vector<std::string> FacebookChannel::render(const OutMessage& message, std::string_view user_id) const {
    return facebook::render_message(message, user_id);
}

std::string FacebookChannel::render_sender_action(std::string_view user_id, facebook::SenderAction action) const {
    return facebook::render_sender_action(user_id, action);
}

std::optional<std::string> FacebookChannel::verify_handshake(const facebook::QueryMap& query) const {
    return facebook::verify_handshake(query, options_.verify_token);
}

std::string FacebookChannel::messages_url() const {
    return options_.graph_api_base + "/" + options_.page_id + "/messages";
}

SendResult FacebookChannel::send(std::string_view body) {
    if (!enabled()) return SendResult{SendOutcome::failed, "facebook channel is not configured", std::nullopt, {}};
    http::ClientRequest request;
    request.method = "POST";
    request.url = messages_url() + "?access_token=" + percent_encode(options_.page_token);
    request.headers = {{"Content-Type", "application/json"}};
    request.body = std::string(body);
    const auto response = client_.send(request);
    auto result = facebook::classify_response(response, options_.page_token);
    if (result.outcome != SendOutcome::sent) {
        spdlog::warn("facebook send: {} ({})", to_string(result.outcome), result.detail);
    }
    if (result.outcome == SendOutcome::auth) {
        spdlog::error("facebook send: the page access token was rejected; a new page token is needed");
    }
    return result;
}

}  // namespace pgibot::channels
