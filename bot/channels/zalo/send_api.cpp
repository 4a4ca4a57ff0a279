#include "bot/channels/zalo/send_api.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "bot/channels/common.hpp"
#include "bot/channels/zalo/webhook.hpp"

namespace pgibot::channels::zalo {

std::vector<std::string> render_message(const OutMessage& message, std::string_view user_id) {
    std::vector<std::string> bodies;
    const auto parts = split_text(message.text, kMaxTextChars);
    if (parts.empty()) {
        if (!message.quick_replies.empty()) spdlog::warn("zalo: quick replies without text are not sent");
        return bodies;
    }
    Json buttons = Json::array();
    for (const auto& qr : message.quick_replies) {
        if (buttons.size() >= kMaxButtons) {
            spdlog::warn("zalo: {} quick replies given, only {} buttons sent", message.quick_replies.size(),
                         kMaxButtons);
            break;
        }
        if (qr.title.empty() || qr.payload.empty()) continue;
        buttons.push_back({{"title", utf8_truncate(qr.title, kMaxButtonTitleChars)},
                           {"type", "oa.query.hide"},
                           {"payload", std::string(kQueryPrefix) + qr.payload}});
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        Json msg = {{"text", parts[i]}};
        if (i + 1 == parts.size() && !buttons.empty()) {
            msg["attachment"] = {{"type", "template"},
                                 {"payload", {{"template_type", "button"}, {"buttons", buttons}}}};
        }
        const Json body = {{"recipient", {{"user_id", std::string(user_id)}}}, {"message", std::move(msg)}};
        bodies.push_back(dump_json(body));
    }
    return bodies;
}

namespace {

SendOutcome outcome_for(std::int64_t code) {
    switch (code) {
        case 0: return SendOutcome::sent;
        case -32: return SendOutcome::retry;  // app or OA reached its per-minute call limit
        case -216:                            // access token is invalid
        case -220:                            // access token is expired or removed
            return SendOutcome::auth;
        case -213:  // user has not followed the OA
        case -217:  // user has blocked invitations from the OA
        case -227:  // user banned or inactive for more than 45 days
        case -230:  // no interaction with the OA in the past 7 days
        case -232:  // no interaction, or the last one expired
        case -244:  // user restricted this message type
            return SendOutcome::unreachable;
        default: return SendOutcome::failed;
    }
}

}  // namespace

SendResult classify_response(const http::ClientResponse& response, std::string_view access_token) {
    SendResult result;
    if (response.transport_failed()) {
        result.outcome = SendOutcome::retry;
        result.detail = redact("transport error: " + response.error, {access_token});
        return result;
    }
    std::string detail = "http " + std::to_string(response.status);
    if (response.status >= 500 || response.status == 429) {
        result.outcome = SendOutcome::retry;
        result.retry_after = retry_after_of(response);
        result.detail = detail;
        return result;
    }
    const Json doc = Json::parse(response.body, nullptr, false);
    const auto code = doc.is_discarded() ? std::nullopt : int64_of(member(doc, "error"));
    if (response.status < 200 || response.status >= 300 || !code) {
        // No {"error": N}: nothing says whether the message left; do not resend blindly.
        result.outcome = SendOutcome::failed;
        result.detail = redact(detail + " unexpected body: " + utf8_truncate(response.body, 300), {access_token});
        return result;
    }
    detail += " error=" + std::to_string(*code);
    if (const auto msg = string_of(member(doc, "message")); !msg.empty()) detail += " message=" + msg;
    result.outcome = outcome_for(*code);
    if (result.outcome == SendOutcome::sent) {
        result.platform_message_id = id_of(member(member(doc, "data"), "message_id"));
    }
    if (result.outcome == SendOutcome::retry) result.retry_after = retry_after_of(response);
    result.detail = redact(std::move(detail), {access_token});
    return result;
}

}  // namespace pgibot::channels::zalo
