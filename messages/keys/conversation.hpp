#pragma once
#include <array>
#include <string_view>

namespace pgibot::messages::keys {
// Keys used by handlers/conversation and handlers/handler.cpp (owned by that dialog):
// content/templates/conversation.toml.
inline constexpr std::array<std::string_view, 31> kConversation{
    "conv.already_subscribed",
    "conv.attachment_other",
    "conv.back_to_bot",
    "conv.button_menu",
    "conv.button_more",
    "conv.button_no",
    "conv.button_report",
    "conv.button_yes",
    "conv.bye",
    "conv.category_prompt",
    "conv.profile_greeting",
    "conv.comment_invite",
    "conv.comment_tipoff",
    "conv.did_you_mean",
    "conv.greeting",
    "conv.hello_again",
    "conv.human",
    "conv.info_received",
    "conv.location_outside",
    "conv.media_outside",
    "conv.menu_prompt",
    "conv.not_subscribed",
    "conv.offer_declined",
    "conv.offer_tipoff",
    "conv.ok",
    "conv.sticker",
    "conv.subscribed",
    "conv.thanks",
    "conv.unknown_choice",
    "conv.unmatched",
    "conv.unsubscribed",
};
}  // namespace pgibot::messages::keys
