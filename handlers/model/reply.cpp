// JSON round trip of an outgoing message (the outbox stores it).
#include "handlers/model/reply.hpp"

#include "handlers/model/json_util.hpp"

namespace pgibot {

using model_json::Json;
using model_json::read;

std::string out_message_to_json(const OutMessage& m) {
    Json j{{"text", m.text}};
    Json qrs = Json::array();
    for (const auto& q : m.quick_replies) {
        qrs.push_back(Json{{"title", q.title}, {"payload", q.payload}});
    }
    j["quick_replies"] = std::move(qrs);
    if (m.topic) {
        j["topic"] = *m.topic;
    }
    if (!m.comment_id.empty()) {
        j["comment_id"] = m.comment_id;
    }
    return model_json::dump(j);
}

std::optional<OutMessage> out_message_from_json(std::string_view json) {
    auto parsed = model_json::parse(json);
    if (!parsed || !parsed->is_object()) {
        return std::nullopt;
    }
    const Json& j = *parsed;
    OutMessage m;
    if (!read(j, "text", m.text) || !read(j, "comment_id", m.comment_id)) {
        return std::nullopt;
    }
    if (auto it = j.find("topic"); it != j.end() && !it->is_null()) {
        if (!it->is_string()) {
            return std::nullopt;
        }
        m.topic = it->get<std::string>();
    }
    if (auto it = j.find("quick_replies"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) {
            return std::nullopt;
        }
        for (const auto& jq : *it) {
            if (!jq.is_object()) {
                return std::nullopt;
            }
            QuickReply q;
            if (!read(jq, "title", q.title) || !read(jq, "payload", q.payload)) {
                return std::nullopt;
            }
            m.quick_replies.push_back(std::move(q));
        }
    }
    return m;
}

std::string with_ref_code(std::string text, std::string_view code) {
    std::size_t pos = 0;
    while ((pos = text.find(kRefCodePlaceholder, pos)) != std::string::npos) {
        text.replace(pos, kRefCodePlaceholder.size(), code);
        pos += code.size();
    }
    return text;
}

}  // namespace pgibot
