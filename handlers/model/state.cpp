// JSON round trip of a citizen's conversation state (loaded before and saved after every event).
#include "handlers/model/state.hpp"

#include "handlers/model/json_util.hpp"

namespace pgibot {

using model_json::Json;
using model_json::read;

std::string state_to_json(const ConversationState& s) {
    Json j{
        {"greeted", s.greeted},
        {"subscribed", s.subscribed},
        {"first_seen_ms", s.first_seen_ms},
        {"last_inbound_ms", s.last_inbound_ms},
        {"human_until_ms", s.human_until_ms},
        {"pending", s.pending},
        {"pending_text", s.pending_text},
        {"dialog", s.dialog},  // the tip-off draft is itself JSON, kept as an opaque string
        {"pending_notices", s.pending_notices},
    };
    return model_json::dump(j);
}

ConversationState state_from_json(std::string_view json) {
    auto parsed = model_json::parse(json);
    if (!parsed || !parsed->is_object()) {
        return {};
    }
    const Json& j = *parsed;
    ConversationState s;
    // A field with a wrong type makes the whole document malformed: a fresh state, as documented.
    if (!read(j, "greeted", s.greeted) || !read(j, "subscribed", s.subscribed) ||
        !read(j, "first_seen_ms", s.first_seen_ms) || !read(j, "last_inbound_ms", s.last_inbound_ms) ||
        !read(j, "human_until_ms", s.human_until_ms) || !read(j, "pending", s.pending) ||
        !read(j, "pending_text", s.pending_text) || !read(j, "dialog", s.dialog)) {
        return {};
    }
    if (auto it = j.find("pending_notices"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) return {};
        for (const auto& code : *it) {
            if (!code.is_string()) return {};
            s.pending_notices.push_back(code.get<std::string>());
        }
    }
    return s;
}

}  // namespace pgibot
