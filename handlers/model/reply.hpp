#pragma once
// What a handler wants said. Channels render it into platform requests (splitting long text,
// capping quick replies, turning them into Zalo buttons) when it is put in the outbox.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot {

struct QuickReply {
    std::string title;    // shown to the citizen (Facebook: at most 20 characters)
    std::string payload;  // a stable identifier, never display text: "MENU", "TOPIC:pgi.what", ...
};

struct OutMessage {
    std::string text;
    std::vector<QuickReply> quick_replies;
    std::optional<std::string> topic;  // id of the content topic this message answers, if any
    std::string comment_id;            // non-empty: a Facebook private reply to this comment
};

// Written by handlers into a tip-off confirmation; the pipeline substitutes the reference code it
// allocates in the same transaction that files the report.
inline constexpr std::string_view kRefCodePlaceholder = "{ref_code}";
// `text` with every kRefCodePlaceholder replaced by `code`.
[[nodiscard]] std::string with_ref_code(std::string text, std::string_view code);

std::string out_message_to_json(const OutMessage& m);
std::optional<OutMessage> out_message_from_json(std::string_view json);

}  // namespace pgibot
