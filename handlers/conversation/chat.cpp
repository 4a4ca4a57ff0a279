// A citizen's chat input: greeting, menus, topics, questions, small talk, subscription, handover requests,
// and the way into the tip-off dialog (handlers/tipoff). Every input gets a reply.
#include <algorithm>
#include <string>

#include "handlers/conversation/conversation.hpp"
#include "handlers/tipoff/intake.hpp"

namespace pgibot::handlers::conversation {

namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(kSpace);
    return s.substr(b, e - b + 1);
}

// What a reply is, for the first-message greeting: a greeting or the main menu is replaced by the full
// greeting (it shows the menu); anything else gets the greeting as an extra first bubble.
enum class Shape { answer, greeting_or_menu };

struct Outcome {
    Decision decision;
    Shape shape = Shape::answer;
};

struct Turn {
    const Event& event;
    const messages::Content& content;
    const messages::Catalogue& cat;
    const Context& ctx;
};

Outcome reply(Decision d, OutMessage m, Shape shape = Shape::answer) {
    d.replies.push_back(std::move(m));
    return Outcome{std::move(d), shape};
}

Outcome main_menu(const Turn& t, Decision d) {
    return reply(std::move(d), with_main_menu(t.cat, "conv.menu_prompt"), Shape::greeting_or_menu);
}

Outcome unknown_choice(const Turn& t, Decision d) {
    return reply(std::move(d), with_main_menu(t.cat, "conv.unknown_choice"));
}

Outcome subscribe(const Turn& t, Decision d, bool on) {
    std::string_view key;
    if (on) {
        key = d.state.subscribed ? "conv.already_subscribed" : "conv.subscribed";
    } else {
        key = d.state.subscribed ? "conv.unsubscribed" : "conv.not_subscribed";
    }
    d.state.subscribed = on;
    return reply(std::move(d), with_menu_button(t.cat, key));
}

// Contact details are configuration (Settings::human_contact), not content: the template holds {contact}.
Outcome human(const Turn& t, Decision d) {
    OutMessage m = with_menu_button(t.cat, "conv.human");
    m.text = fill(std::move(m.text), {{"contact", t.ctx.settings.human_contact}});
    return reply(std::move(d), std::move(m));
}

Outcome topic(const Turn& t, Decision d, const messages::Topic& tp) {
    for (auto& m : topic_answer(t.cat, tp)) {
        d.replies.push_back(std::move(m));
    }
    return Outcome{std::move(d), Shape::answer};
}

Outcome offer_tipoff(const Turn& t, Decision d, std::string_view text) {
    d.state.pending = std::string(kPendingOfferTipoff);
    d.state.pending_text = std::string(text);
    OutMessage m;
    m.text = t.cat.text("conv.offer_tipoff");
    m.quick_replies = {QuickReply{t.cat.text("conv.button_yes"), std::string(kYes)},
                       QuickReply{t.cat.text("conv.button_no"), std::string(kNo)}};
    return reply(std::move(d), std::move(m));
}

Outcome tipoff_start(const Turn& t, const Decision& d, std::string_view seed) {
    return Outcome{tipoff_intake::start(t.event, d.state, t.content, t.ctx, seed), Shape::answer};
}

// Payloads (quick replies, postbacks, persistent menu). nullopt: not a payload of ours.
std::optional<Outcome> on_payload(const Turn& t, Decision d, std::string_view payload) {
    if (payload == kGetStarted) {
        return reply(std::move(d), greeting(t.cat), Shape::greeting_or_menu);
    }
    if (payload == kMenu) {
        return main_menu(t, std::move(d));
    }
    if (payload.starts_with(kMenuPrefix)) {
        auto m = category_menu(t.cat, payload.substr(kMenuPrefix.size()));
        return m ? reply(std::move(d), std::move(*m)) : unknown_choice(t, std::move(d));
    }
    if (payload.starts_with(kTopicPrefix)) {
        const messages::Topic* tp = t.cat.find_topic(payload.substr(kTopicPrefix.size()));
        return tp != nullptr ? topic(t, std::move(d), *tp) : unknown_choice(t, std::move(d));
    }
    if (payload == kSubscribe || payload == kUnsubscribe) {
        return subscribe(t, std::move(d), payload == kSubscribe);
    }
    if (payload == kHuman) {
        return human(t, std::move(d));
    }
    if (payload.starts_with(tipoff_intake::kPayloadPrefix)) {
        // TIPOFF:START, TIPOFF:KIND:<kind> open a report; TIPOFF:LOOKUP asks for the code (then a bare code
        // typed next is recognised by classify()).
        switch (tipoff_intake::classify(t.event, t.content)) {
            case tipoff_intake::Intent::start:
                return tipoff_start(t, d, "");
            case tipoff_intake::Intent::lookup:
                return Outcome{tipoff_intake::lookup(t.event, d.state, t.content, t.ctx), Shape::answer};
            default:
                return unknown_choice(t, std::move(d));  // a button of a report that is no longer open
        }
    }
    if (payload == kYes || payload == kNo) {
        // A button of a dialog that is no longer open (an old message tapped again).
        return unknown_choice(t, std::move(d));
    }
    return std::nullopt;
}

// Media, stickers and locations sent outside a tip-off dialog.
Outcome on_attachments(const Turn& t, Decision d) {
    const auto& atts = t.event.attachments;
    const auto has = [&atts](AttachmentType type) {
        return std::any_of(atts.begin(), atts.end(), [type](const Attachment& a) { return a.type == type; });
    };
    // Facebook sends a sticker as a sticker attachment and (until 2026-08-30) an image with a sticker_id.
    const bool sticker =
        has(AttachmentType::sticker) || has(AttachmentType::gif) ||
        std::any_of(atts.begin(), atts.end(), [](const Attachment& a) { return !a.sticker_id.empty(); });
    if (sticker) {
        return reply(std::move(d), with_menu_button(t.cat, "conv.sticker"));
    }
    if (has(AttachmentType::image) || has(AttachmentType::video) || has(AttachmentType::audio) ||
        has(AttachmentType::file)) {
        OutMessage m;
        m.text = t.cat.text("conv.media_outside");
        m.quick_replies = {report_button(t.cat), menu_button(t.cat)};
        return reply(std::move(d), std::move(m));
    }
    if (has(AttachmentType::location) || t.event.location) {
        OutMessage m;
        m.text = t.cat.text("conv.location_outside");
        m.quick_replies = {report_button(t.cat), menu_button(t.cat)};
        return reply(std::move(d), std::move(m));
    }
    return reply(std::move(d), with_main_menu(t.cat, "conv.attachment_other"));
}

Outcome on_question(const Turn& t, Decision d, std::string_view text) {
    messages::MatchResult match;
    if (t.content.matcher) {
        match = t.content.matcher->match(text);
    }
    if (match.verdict == messages::MatchResult::Verdict::answer && !match.top.empty() &&
        match.top.front().topic != nullptr) {
        return topic(t, std::move(d), *match.top.front().topic);
    }
    if (match.verdict == messages::MatchResult::Verdict::ambiguous && !match.top.empty()) {
        return reply(std::move(d), did_you_mean(t.cat, match.top));
    }
    d.effects.emplace_back(RecordUnmatched{std::string(text)});
    return reply(std::move(d), with_main_menu(t.cat, "conv.unmatched"));
}

Outcome on_text(const Turn& t, Decision d, std::string_view text) {
    switch (classify_phrase(text, t.content)) {
        case Phrase::menu:
            return main_menu(t, std::move(d));
        case Phrase::greeting:
            return reply(std::move(d), with_main_menu(t.cat, "conv.hello_again"), Shape::greeting_or_menu);
        case Phrase::thanks:
            return reply(std::move(d), with_menu_button(t.cat, "conv.thanks"));
        case Phrase::ok:
        case Phrase::yes:
        case Phrase::no:
            return reply(std::move(d), with_menu_button(t.cat, "conv.ok"));
        case Phrase::bye:
            return reply(std::move(d), with_menu_button(t.cat, "conv.bye"));
        case Phrase::subscribe:
            return subscribe(t, std::move(d), true);
        case Phrase::unsubscribe:
            return subscribe(t, std::move(d), false);
        case Phrase::human:
            return human(t, std::move(d));
        case Phrase::none:
            break;
    }
    switch (tipoff_intake::classify(t.event, t.content)) {
        case tipoff_intake::Intent::start:
            return tipoff_start(t, d, "");
        case tipoff_intake::Intent::describes:
            return offer_tipoff(t, std::move(d), text);
        case tipoff_intake::Intent::lookup:
            return Outcome{tipoff_intake::lookup(t.event, d.state, t.content, t.ctx), Shape::answer};
        case tipoff_intake::Intent::none:
            break;
    }
    return on_question(t, std::move(d), text);
}

// The answer to a yes/no question the bot asked in its previous turn; nullopt: the citizen moved on.
std::optional<Outcome> on_pending(const Turn& t, Decision& d, std::string_view payload, std::string_view text) {
    const std::string pending = std::move(d.state.pending);
    const std::string pending_text = std::move(d.state.pending_text);
    d.state.pending.clear();
    d.state.pending_text.clear();

    if (pending == kPendingOfferTipoff) {
        Phrase answer = Phrase::none;
        if (payload == kYes) {
            answer = Phrase::yes;
        } else if (payload == kNo) {
            answer = Phrase::no;
        } else if (payload.empty() && !text.empty()) {
            answer = classify_phrase(text, t.content, /*expect_answer=*/true);
        }
        if (answer == Phrase::yes) {
            return tipoff_start(t, d, pending_text);
        }
        if (answer == Phrase::no) {
            return reply(std::move(d), with_main_menu(t.cat, "conv.offer_declined"));
        }
    }
    return std::nullopt;  // an unknown question (a newer version's): forget it
}

Outcome on_message(const Turn& t, Decision d) {
    const std::string_view payload = trim(t.event.payload);
    const std::string_view text = trim(t.event.text);

    if (!d.state.pending.empty()) {
        if (auto out = on_pending(t, d, payload, text)) {
            return std::move(*out);
        }
    }
    // A quick reply tapped on Facebook is a message with both the title as text and the payload: payload first.
    if (!payload.empty()) {
        if (auto out = on_payload(t, d, payload)) {
            return std::move(*out);
        }
        if (text.empty() || t.event.kind == EventKind::postback) {  // a postback's text is the button title
            return unknown_choice(t, std::move(d));
        }
    }
    if (!text.empty()) {
        return on_text(t, std::move(d), text);
    }
    return on_attachments(t, std::move(d));
}

}  // namespace

Decision on_input(const Event& event, const ConversationState& state, const messages::Content& content,
                  const Context& ctx) {
    Decision d{state, {}, {}};
    const messages::Catalogue& cat = *content.catalogue;
    const Turn t{event, content, cat, ctx};

    // While a tip-off is being written, the dialog decides everything ("menu", "hủy", photos...).
    if (tipoff_intake::active(state)) {
        Decision out = tipoff_intake::step(event, d.state, content, ctx);
        out.state.greeted = true;
        return out;
    }

    switch (event.kind) {
        case EventKind::follow:  // Zalo: a (re)follow always gets the greeting
            d.state.greeted = true;
            d.replies.push_back(greeting(cat));
            return d;
        case EventKind::referral:  // an m.me link / ad into an existing thread, a plugin opt-in
        case EventKind::optin:
            d.replies.push_back(d.state.greeted ? with_main_menu(cat, "conv.menu_prompt") : greeting(cat));
            d.state.greeted = true;
            return d;
        case EventKind::submit_info:  // contact details sent while no report is open
            d.replies.push_back(with_main_menu(cat, "conv.info_received"));
            return d;
        case EventKind::message:
        case EventKind::postback:
            break;
        default:
            return d;
    }

    const bool first = !state.greeted;
    d.state.greeted = true;
    Outcome out = on_message(t, std::move(d));
    if (first) {
        auto& replies = out.decision.replies;
        if (out.shape == Shape::greeting_or_menu || replies.empty()) {
            replies.clear();
            replies.push_back(greeting(cat));
        } else {
            OutMessage hello;
            hello.text = cat.text("conv.greeting");  // the disclosure first; the answer keeps its quick replies
            replies.insert(replies.begin(), std::move(hello));
        }
        out.decision.state.greeted = true;
    }
    return std::move(out.decision);
}

}  // namespace pgibot::handlers::conversation
