#pragma once
// Zalo OA consultation (CS) messages: request bodies for POST {api_base}/v3.0/oa/message/cs and the
// mapping of its responses (errors come back with HTTP 200 and {"error": N}) to a SendOutcome.
// Zalo error codes are mapped here and nowhere else. See reference/zalo.md §3, payloads §B1, §B4, §B8.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/http/client.hpp"
#include "handlers/model/reply.hpp"

namespace pgibot::channels::zalo {

inline constexpr std::size_t kMaxTextChars = 2000;         // "Giới hạn tối đa là 2.000 ký tự"
inline constexpr std::size_t kMaxButtons = 5;              // "only support 5 buttons" (v3 limit unconfirmed)
inline constexpr std::size_t kMaxButtonTitleChars = 100;

// One body per part: {"recipient":{"user_id":...},"message":{"text":...}}, text split into parts of
// at most 2000 characters. Quick replies become, on the last part only, a button template
// (attachment type "template", template_type "button") of at most 5 `oa.query.hide` buttons whose
// payload is "#" + the quick reply's payload (a tap returns it as user_send_text). Empty text
// renders nothing. OutMessage::comment_id is a Facebook notion and is ignored.
std::vector<std::string> render_message(const OutMessage& message, std::string_view user_id);

// Maps one /message/cs response. `access_token` is scrubbed from `detail`.
SendResult classify_response(const http::ClientResponse& response, std::string_view access_token);

}  // namespace pgibot::channels::zalo
