// Facebook fanpage comments. A top-level citizen comment that asks a known question, or reports
// pollution, gets ONE private reply (Facebook allows one per comment); everything else gets nothing
// (the page's own comments and replies would loop; replies, edits and removals are not new questions).
#include <string>

#include "handlers/conversation/conversation.hpp"
#include "handlers/tipoff/intake.hpp"
#include "messages/normalize.hpp"

namespace pgibot::handlers::conversation {

namespace {

// A private reply must stay one message: the channel would split anything longer than a bubble.
constexpr std::size_t kMaxPrivateReplyChars = 2000;

}  // namespace

Decision on_comment(const Event& event, const ConversationState& state, const messages::Content& content,
                    const Context& /*ctx*/) {
    Decision d{state, {}, {}};
    if (!event.comment) {
        return d;
    }
    const Comment& c = *event.comment;
    // `from` may be absent (then from_id is empty): only a comment known to be the page's own is skipped.
    if (c.verb != "add" || !c.top_level() || c.comment_id.empty() || c.from_id == event.page_id) {
        return d;
    }
    if (event.text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return d;
    }
    const messages::Catalogue& cat = *content.catalogue;

    const auto intent = tipoff_intake::classify(event, content);
    if (intent == tipoff_intake::Intent::start || intent == tipoff_intake::Intent::describes) {
        OutMessage m;
        m.text = cat.text("conv.comment_tipoff");
        m.quick_replies = {report_button(cat), menu_button(cat)};
        m.comment_id = c.comment_id;
        d.replies.push_back(std::move(m));
        return d;
    }

    if (!content.matcher) {
        return d;
    }
    const messages::MatchResult match = content.matcher->match(event.text);
    if (match.verdict != messages::MatchResult::Verdict::answer || match.top.empty() ||
        match.top.front().topic == nullptr || match.top.front().topic->answer.empty()) {
        return d;
    }
    const messages::Topic& topic = *match.top.front().topic;
    OutMessage m;
    m.text = topic.answer.front();
    const std::string invite = cat.text("conv.comment_invite");
    if (messages::count_chars(m.text) + 2 + messages::count_chars(invite) <= kMaxPrivateReplyChars) {
        m.text += "\n\n";
        m.text += invite;
    }
    m.topic = topic.id;
    m.comment_id = c.comment_id;
    m.quick_replies.push_back(QuickReply{cat.text("conv.button_more"), std::string(kTopicPrefix) + topic.id});
    m.quick_replies.push_back(menu_button(cat));
    d.replies.push_back(std::move(m));
    return d;
}

}  // namespace pgibot::handlers::conversation
