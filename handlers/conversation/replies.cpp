// Building the bot's messages from content: menus, topic answers, templates with quick replies.
#include <string>

#include "handlers/conversation/conversation.hpp"

namespace pgibot::handlers::conversation {

std::string fill(std::string text, const std::vector<std::pair<std::string_view, std::string>>& values) {
    for (const auto& [name, value] : values) {
        std::string placeholder = "{";
        placeholder += name;
        placeholder += '}';
        for (auto pos = text.find(placeholder); pos != std::string::npos;
             pos = text.find(placeholder, pos + value.size())) {
            text.replace(pos, placeholder.size(), value);
        }
    }
    return text;
}

QuickReply menu_button(const messages::Catalogue& cat) {
    return QuickReply{cat.text("conv.button_menu"), std::string(kMenu)};
}

QuickReply report_button(const messages::Catalogue& cat) {
    return QuickReply{cat.text("conv.button_report"), std::string(kTipoffStart)};
}

std::vector<QuickReply> main_menu_quick_replies(const messages::Catalogue& cat) {
    std::vector<QuickReply> out;
    out.reserve(cat.main_menu.size());
    for (const auto& item : cat.main_menu) {
        out.push_back(QuickReply{item.title, item.payload});
    }
    return out;
}

OutMessage with_main_menu(const messages::Catalogue& cat, std::string_view key) {
    OutMessage m;
    m.text = cat.text(key);
    m.quick_replies = main_menu_quick_replies(cat);
    return m;
}

OutMessage with_menu_button(const messages::Catalogue& cat, std::string_view key) {
    OutMessage m;
    m.text = cat.text(key);
    m.quick_replies.push_back(menu_button(cat));
    return m;
}

OutMessage greeting(const messages::Catalogue& cat) { return with_main_menu(cat, "conv.greeting"); }

namespace {

QuickReply topic_button(const messages::Topic& topic) {
    return QuickReply{topic.short_title.empty() ? topic.title : topic.short_title,
                      std::string(kTopicPrefix) + topic.id};
}

}  // namespace

std::optional<OutMessage> category_menu(const messages::Catalogue& cat, std::string_view category_id) {
    const messages::Category* category = cat.find_category(category_id);
    if (category == nullptr) {
        return std::nullopt;
    }
    OutMessage m;
    m.text = fill(cat.text("conv.category_prompt"), {{"category", category->title}});
    for (const auto& id : category->topic_ids) {
        if (const messages::Topic* topic = cat.find_topic(id)) {
            m.quick_replies.push_back(topic_button(*topic));
        }
    }
    m.quick_replies.push_back(menu_button(cat));
    return m;
}

std::vector<OutMessage> topic_answer(const messages::Catalogue& cat, const messages::Topic& topic) {
    std::vector<OutMessage> out;
    for (const auto& bubble : topic.answer) {
        OutMessage m;
        m.text = bubble;
        m.topic = topic.id;
        out.push_back(std::move(m));
    }
    if (out.empty()) {  // the content check forbids it; never answer with silence anyway
        OutMessage m;
        m.text = cat.text("conv.unmatched");
        m.topic = topic.id;
        out.push_back(std::move(m));
    }
    OutMessage& last = out.back();
    for (const auto& id : topic.follow_ups) {
        if (const messages::Topic* next = cat.find_topic(id); next != nullptr && next->id != topic.id) {
            last.quick_replies.push_back(topic_button(*next));
        }
    }
    last.quick_replies.push_back(menu_button(cat));
    return out;
}

OutMessage did_you_mean(const messages::Catalogue& cat, const std::vector<messages::Scored>& top) {
    OutMessage m;
    m.text = cat.text("conv.did_you_mean");
    for (const auto& scored : top) {
        if (scored.topic != nullptr) {
            m.quick_replies.push_back(topic_button(*scored.topic));
        }
    }
    m.quick_replies.push_back(menu_button(cat));
    return m;
}

}  // namespace pgibot::handlers::conversation
