// The dispatcher: which events the bot answers at all, human handover, timestamps, then the dialogs.
#include "handlers/handler.hpp"

#include <algorithm>

#include "handlers/conversation/conversation.hpp"
#include "handlers/tipoff/intake.hpp"
#include "messages/content.hpp"

namespace pgibot::handlers {

namespace {

// Inputs that come from the citizen (they open messaging windows and are recorded as such).
bool from_citizen(EventKind kind) {
    switch (kind) {
        case EventKind::message:
        case EventKind::postback:
        case EventKind::follow:
        case EventKind::referral:
        case EventKind::optin:
        case EventKind::reaction:
        case EventKind::submit_info:
            return true;
        default:
            return false;
    }
}

void record_inbound(ConversationState& s, const Event& event, const Context& ctx) {
    const std::int64_t at = event.timestamp_ms > 0 ? event.timestamp_ms : ctx.now_ms;
    if (s.first_seen_ms == 0) {
        s.first_seen_ms = at;
    }
    s.last_inbound_ms = std::max(s.last_inbound_ms, at);
}

}  // namespace

bool needs_handling(const Event& event) {
    switch (event.kind) {
        case EventKind::delivery:
        case EventKind::read:
        case EventKind::other:
            return false;
        case EventKind::echo:
            return event.echo_from_human;  // a person took over; our own echoes change nothing
        default:
            return true;
    }
}

Decision handle(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx) {
    Decision d{state, {}, {}};
    if (!content.catalogue || !needs_handling(event)) {
        return d;  // no content loaded (the runtime never gets here), or nothing to act on
    }
    const bool silenced = ctx.now_ms < state.human_until_ms;

    switch (event.kind) {
        case EventKind::echo:
            // Our own outgoing messages come back (filtered out above); one typed by a person in the
            // page inbox / OA chat means staff took over: the bot keeps quiet for a while.
            d.state.human_until_ms = std::max(d.state.human_until_ms, ctx.now_ms + ctx.settings.handover_silence_ms);
            return d;
        case EventKind::timer:
            if (event.source_type == conversation::kTimerTipoffStatus) {
                // During a handover the person talking to the citizen goes first: keep it for later.
                if (silenced) {
                    Decision kept = d;
                    if (std::find(kept.state.pending_notices.begin(), kept.state.pending_notices.end(),
                                  event.payload) == kept.state.pending_notices.end()) {
                        kept.state.pending_notices.push_back(event.payload);
                    }
                    return kept;
                }
                return tipoff_intake::status_notice(event, state, content, ctx);
            }
            if (event.source_type == conversation::kTimerTipoffExpiry && tipoff_intake::active(state)) {
                Decision out = tipoff_intake::expire(event, state, content, ctx);
                if (silenced) {
                    out.replies.clear();
                }
                return out;
            }
            return d;
        case EventKind::unfollow:  // Zalo: no more broadcasts, and nothing can be sent anyway
            d.state.subscribed = false;
            return d;
        case EventKind::comment:
            if (event.standby || silenced) {
                return d;
            }
            return conversation::on_comment(event, state, content, ctx);
        default:
            break;
    }
    if (!from_citizen(event.kind)) {
        return d;
    }

    record_inbound(d.state, event, ctx);
    // Another app owns the thread (Facebook standby), a reaction: recorded, never answered.
    if (event.standby || event.kind == EventKind::reaction) {
        return d;
    }
    if (silenced) {
        return d;
    }
    const bool back_from_human = d.state.human_until_ms != 0;
    d.state.human_until_ms = 0;

    // Status updates that waited for the messaging window to reopen go first.
    std::vector<OutMessage> notices;
    if (!d.state.pending_notices.empty() && event.kind != EventKind::follow) {
        notices = tipoff_intake::take_pending_notices(d.state, event, content, ctx);
    }
    Decision out = conversation::on_input(event, d.state, content, ctx);
    out.replies.insert(out.replies.begin(), std::make_move_iterator(notices.begin()),
                       std::make_move_iterator(notices.end()));
    if (back_from_human && !out.replies.empty()) {
        // Say again that this is an automated assistant when it takes over from a person.
        OutMessage notice;
        notice.text = content.catalogue->text("conv.back_to_bot");
        out.replies.insert(out.replies.begin(), std::move(notice));
    }
    return out;
}

}  // namespace pgibot::handlers
