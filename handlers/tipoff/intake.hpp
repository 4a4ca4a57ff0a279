#pragma once
// The pollution tip-off intake dialog. The dispatcher (handlers/handler.cpp) routes to it; the
// dialog's draft lives in ConversationState::dialog (JSON owned by this module).
#include <optional>
#include <string_view>

#include "handlers/handler.hpp"

namespace pgibot::handlers::tipoff_intake {

// Payloads this module owns start with this prefix ("TIPOFF:START", "TIPOFF:KIND:noise", ...).
inline constexpr std::string_view kPayloadPrefix = "TIPOFF:";

enum class Intent {
    none,
    start,        // explicit: "báo ô nhiễm", "phản ánh", "tố giác", "xả thải", "đốt rác", menu TIPOFF:START
    describes,    // free text that clearly describes pollution: ask "Bạn muốn gửi phản ánh?" first
    lookup        // "tra cứu LS-2611-0042"
};
// Classifies a message outside an active dialog.
Intent classify(const Event& event, const messages::Content& content);

[[nodiscard]] bool active(const ConversationState& state);
// The draft has been idle longer than settings.tipoff_idle_expiry_ms (step() then says so, drops it and handles
// the message as if no dialog were open).
[[nodiscard]] bool expired(const ConversationState& state, const Context& ctx);

// Starts a dialog (seed: text that described the pollution, may be empty).
Decision start(const Event& event, const ConversationState& state, const messages::Content& content,
               const Context& ctx, std::string_view seed);
// Any event while active (text, photos, locations, payloads, "HỦY", corrections...).
Decision step(const Event& event, const ConversationState& state, const messages::Content& content,
              const Context& ctx);
// "tra cứu <code>": the status, only to the person who filed it.
Decision lookup(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx);
// A timer event for a draft idle past settings.tipoff_idle_expiry_ms: clears it with a notice.
Decision expire(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx);

// A tip-off's status changed (timer event "timer.tipoff_status", payload = the code): the reporter is
// told now when the platform's messaging window is open (Facebook 24 hours, Zalo 7 days after their
// last message), otherwise the code is kept in state.pending_notices for their next message.
Decision status_notice(const Event& event, const ConversationState& state, const messages::Content& content,
                       const Context& ctx);
// The notices kept for this citizen, as messages; clears state.pending_notices.
std::vector<OutMessage> take_pending_notices(ConversationState& state, const Event& event,
                                             const messages::Content& content, const Context& ctx);

}  // namespace pgibot::handlers::tipoff_intake
