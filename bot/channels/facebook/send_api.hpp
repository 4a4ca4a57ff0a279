#pragma once
// Facebook Send API: request bodies for POST {graph}/{page_id}/messages, and the mapping of its
// responses (HTTP status + Graph error code/subcode) to a SendOutcome. Facebook error codes are
// mapped here and nowhere else. See reference/facebook.md §4, payloads §11.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/http/client.hpp"
#include "handlers/model/reply.hpp"

namespace pgibot::channels::facebook {

inline constexpr std::size_t kMaxTextChars = 2000;           // "less than 2000 characters"
inline constexpr std::size_t kMaxQuickReplies = 13;
inline constexpr std::size_t kMaxQuickReplyTitleChars = 20;
inline constexpr std::size_t kMaxPayloadChars = 1000;

// One body per part: `messaging_type` RESPONSE, recipient {"id": user_id} (or {"comment_id": ...}
// for a private reply when message.comment_id is set), text split into parts of at most 2000
// characters at sentence, then word, boundaries; quick replies (at most 13, titles truncated to 20
// characters, payloads of more than 1000 characters or empty titles/payloads dropped) only on the
// last part. A private reply is a single message (Meta allows one per comment): only the first
// part is rendered. Empty text renders nothing.
std::vector<std::string> render_message(const OutMessage& message, std::string_view user_id);

enum class SenderAction { typing_on, typing_off, mark_seen };
std::string_view to_string(SenderAction a);
// {"recipient":{"id":...},"sender_action":"typing_on"}: its own request, never with a message.
std::string render_sender_action(std::string_view user_id, SenderAction action);

// Maps one Send API response. `secrets` are scrubbed from `detail` (the page token).
SendResult classify_response(const http::ClientResponse& response, std::string_view page_token);

}  // namespace pgibot::channels::facebook
