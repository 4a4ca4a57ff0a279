#pragma once
// The conversation dialogs (greeting, menus, FAQ answers, small talk, subscription, handover requests,
// fanpage comments). Internal to handlers/: the dispatcher (handlers/handler.cpp) routes here.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "handlers/handler.hpp"
#include "messages/content.hpp"
#include "messages/matcher.hpp"

namespace pgibot::handlers::conversation {

// ---- payloads (stable identifiers; menu.toml uses the same names) -------------------------------
inline constexpr std::string_view kGetStarted = "GET_STARTED";   // Facebook Get Started button
inline constexpr std::string_view kMenu = "MENU";                // main menu
inline constexpr std::string_view kMenuPrefix = "MENU:";         // MENU:<category id>
inline constexpr std::string_view kTopicPrefix = "TOPIC:";       // TOPIC:<topic id>
inline constexpr std::string_view kSubscribe = "SUBSCRIBE";
inline constexpr std::string_view kUnsubscribe = "UNSUBSCRIBE";
inline constexpr std::string_view kHuman = "HUMAN";              // ask for a person
inline constexpr std::string_view kYes = "YES";                  // answers to a yes/no question (state.pending)
inline constexpr std::string_view kNo = "NO";
inline constexpr std::string_view kTipoffStart = "TIPOFF:START";  // TIPOFF:* belong to handlers/tipoff

// ---- pending yes/no questions (ConversationState::pending) --------------------------------------
inline constexpr std::string_view kPendingOfferTipoff = "offer_tipoff";  // "Bạn muốn gửi phản ánh?"

// Source type of the runtime's timer for idle tip-off drafts.
inline constexpr std::string_view kTimerTipoffExpiry = "timer.tipoff_expiry";
// A tip-off's status changed; payload = its code (made by the runtime from the store's notices).
inline constexpr std::string_view kTimerTipoffStatus = "timer.tipoff_status";

// ---- phrases: what a short message means (phrases.cpp) -----------------------------------------
enum class Phrase { none, menu, greeting, thanks, ok, bye, subscribe, unsubscribe, human, yes, no };
// `expect_answer`: the bot just asked a yes/no question, so yes/no win over ok/thanks.
Phrase classify_phrase(std::string_view text, const messages::Content& content, bool expect_answer = false);

// ---- building replies (replies.cpp) -------------------------------------------------------------
// Replaces "{name}" placeholders.
std::string fill(std::string text, const std::vector<std::pair<std::string_view, std::string>>& values);
QuickReply menu_button(const messages::Catalogue& cat);
QuickReply report_button(const messages::Catalogue& cat);
std::vector<QuickReply> main_menu_quick_replies(const messages::Catalogue& cat);
// A template text with the main menu as quick replies.
OutMessage with_main_menu(const messages::Catalogue& cat, std::string_view key);
// A template text with only a "Menu" quick reply.
OutMessage with_menu_button(const messages::Catalogue& cat, std::string_view key);
OutMessage greeting(const messages::Catalogue& cat);  // automated-assistant disclosure + main menu
// The category's topics as quick replies; nullopt for an unknown category.
std::optional<OutMessage> category_menu(const messages::Catalogue& cat, std::string_view category_id);
// The topic's answer bubbles; follow-ups and "Menu" as quick replies on the last one.
std::vector<OutMessage> topic_answer(const messages::Catalogue& cat, const messages::Topic& topic);
// "Ý bạn là...": the candidates as quick replies.
OutMessage did_you_mean(const messages::Catalogue& cat, const std::vector<messages::Scored>& top);

// ---- dialogs ------------------------------------------------------------------------------------
// A citizen's message, postback, follow, referral, opt-in or submitted info (chat.cpp).
// The dispatcher has already applied handover silence and recorded the timestamps.
Decision on_input(const Event& event, const ConversationState& state, const messages::Content& content,
                  const Context& ctx);
// A Facebook fanpage comment (comments.cpp): at most one private reply.
Decision on_comment(const Event& event, const ConversationState& state, const messages::Content& content,
                    const Context& ctx);

}  // namespace pgibot::handlers::conversation
