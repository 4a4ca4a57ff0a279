#include "bot/channels/facebook/send_api.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "bot/channels/common.hpp"

namespace pgibot::channels::facebook {

namespace {

Json quick_replies_json(const std::vector<QuickReply>& quick_replies) {
    Json list = Json::array();
    for (const auto& qr : quick_replies) {
        if (list.size() >= kMaxQuickReplies) {
            spdlog::warn("facebook: {} quick replies given, only {} sent", quick_replies.size(), kMaxQuickReplies);
            break;
        }
        if (qr.title.empty() || qr.payload.empty() || utf8_length(qr.payload) > kMaxPayloadChars) {
            spdlog::warn("facebook: quick reply dropped (empty title or payload, or payload over {} characters)",
                         kMaxPayloadChars);
            continue;
        }
        list.push_back({{"content_type", "text"},
                        {"title", utf8_truncate(qr.title, kMaxQuickReplyTitleChars)},
                        {"payload", qr.payload}});
    }
    return list;
}

}  // namespace

std::vector<std::string> render_message(const OutMessage& message, std::string_view user_id) {
    std::vector<std::string> bodies;
    auto parts = split_text(message.text, kMaxTextChars);
    if (parts.empty()) {
        if (!message.quick_replies.empty()) spdlog::warn("facebook: quick replies without text are not sent");
        return bodies;
    }
    const bool private_reply = !message.comment_id.empty();
    if (private_reply && parts.size() > 1) {
        spdlog::warn("facebook: private reply is {} parts long; only the first is sent (one message per comment)",
                     parts.size());
        parts.resize(1);
    }
    Json recipient = private_reply ? Json{{"comment_id", message.comment_id}} : Json{{"id", std::string(user_id)}};
    for (std::size_t i = 0; i < parts.size(); ++i) {
        Json msg = {{"text", parts[i]}};
        if (i + 1 == parts.size() && !message.quick_replies.empty()) {
            Json qrs = quick_replies_json(message.quick_replies);
            if (!qrs.empty()) msg["quick_replies"] = std::move(qrs);
        }
        const Json body = {{"recipient", recipient}, {"messaging_type", "RESPONSE"}, {"message", std::move(msg)}};
        bodies.push_back(dump_json(body));
    }
    return bodies;
}

std::string_view to_string(SenderAction a) {
    switch (a) {
        case SenderAction::typing_on: return "typing_on";
        case SenderAction::typing_off: return "typing_off";
        case SenderAction::mark_seen: return "mark_seen";
    }
    return "typing_on";
}

std::string render_sender_action(std::string_view user_id, SenderAction action) {
    const Json body = {{"recipient", {{"id", std::string(user_id)}}},
                       {"sender_action", std::string(to_string(action))}};
    return dump_json(body);
}

namespace {

// Graph error code (and subcode) to an outcome; nullopt when the code alone does not decide.
std::optional<SendOutcome> outcome_for(std::int64_t code, std::optional<std::int64_t> subcode) {
    const std::int64_t sub = subcode.value_or(0);
    // 1/1357046: "Received invalid JSON reply": Meta says the message WAS sent. Never resend.
    if (code == 1 && sub == 1357046) return SendOutcome::sent;
    if (code == 190) return SendOutcome::auth;
    // Outside the messaging window / blocked / no such user: mark the user, do not retry.
    if (code == 10 && (sub == 2018278 || sub == 2534022 || sub == 2018065 || sub == 2018108)) {
        return SendOutcome::unreachable;
    }
    if (code == 551 || sub == 1545041) return SendOutcome::unreachable;
    if (code == 100 && sub == 2018001) return SendOutcome::unreachable;
    // Temporary failures and throttling (1200 legacy "temporary send failure", 2 temporary,
    // 4/17/32/341/613 rate limits, 2018321 thread held by Messenger's automated flow).
    switch (code) {
        case 1200: case 2: case 4: case 17: case 32: case 341: case 613: case 2018321:
            return SendOutcome::retry;
        default: break;
    }
    if (sub == 2018321) return SendOutcome::retry;
    return std::nullopt;
}

}  // namespace

SendResult classify_response(const http::ClientResponse& response, std::string_view page_token) {
    SendResult result;
    if (response.transport_failed()) {
        result.outcome = SendOutcome::retry;
        result.detail = redact("transport error: " + response.error, {page_token});
        return result;
    }
    const Json doc = Json::parse(response.body, nullptr, false);
    const Json* error = doc.is_discarded() ? nullptr : member(doc, "error");
    const bool ok_status = response.status >= 200 && response.status < 300;
    if (ok_status && (error == nullptr || !error->is_object())) {
        result.outcome = SendOutcome::sent;
        result.platform_message_id = string_of(member(doc, "message_id"));
        result.detail = "http " + std::to_string(response.status);
        return result;
    }
    std::string detail = "http " + std::to_string(response.status);
    std::optional<SendOutcome> outcome;
    if (error != nullptr && error->is_object()) {
        const auto code = int64_of(member(*error, "code"));
        const auto subcode = int64_of(member(*error, "error_subcode"));
        if (code) detail += " code=" + std::to_string(*code);
        if (subcode) detail += " subcode=" + std::to_string(*subcode);
        if (const auto type = string_of(member(*error, "type")); !type.empty()) detail += " type=" + type;
        if (const auto trace = string_of(member(*error, "fbtrace_id")); !trace.empty())
            detail += " fbtrace_id=" + trace;
        if (const auto msg = string_of(member(*error, "message")); !msg.empty()) detail += " message=" + msg;
        if (code) outcome = outcome_for(*code, subcode);
    } else if (!response.body.empty()) {
        detail += " body=" + utf8_truncate(response.body, 300);
    }
    if (!outcome) {
        if (response.status >= 500 || response.status == 429) outcome = SendOutcome::retry;
        else outcome = SendOutcome::failed;
    }
    result.outcome = *outcome;
    result.detail = redact(std::move(detail), {page_token});
    if (result.outcome == SendOutcome::retry) result.retry_after = retry_after_of(response);
    return result;
}

}  // namespace pgibot::channels::facebook
