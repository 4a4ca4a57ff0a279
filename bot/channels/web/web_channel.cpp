#include "bot/channels/web/web_channel.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace pgibot::channels {

namespace {
using nlohmann::json;
constexpr std::size_t kMailboxKeep = 200;
constexpr std::size_t kMaxUserId = 64;

std::string string_field(const json& doc, const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

IngestResult WebChannel::ingest(const http::Request& request) const {
    IngestResult result;
    const json doc = json::parse(request.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        result.status = IngestStatus::malformed;
        result.detail = "body is not a JSON object";
        return result;
    }
    Event e;
    e.platform = Platform::web;
    e.page_id = "web";
    e.user_id = string_field(doc, "user");
    e.text = string_field(doc, "text");
    e.payload = string_field(doc, "payload");
    const std::string message_id = string_field(doc, "id");
    if (e.user_id.empty() || e.user_id.size() > kMaxUserId || (e.text.empty() && e.payload.empty())) {
        result.status = IngestStatus::malformed;
        result.detail = "user and text or payload are required";
        return result;
    }
    e.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const bool is_postback = e.text.empty();
    e.kind = is_postback ? EventKind::postback : EventKind::message;
    e.source_type = is_postback ? "web.postback" : "web.message";
    e.message_id = message_id;
    // The page sends a random id per message so a resend (double click, retry) is dropped.
    e.dedup_key = "web:" + e.user_id + ":" +
                  (message_id.empty() ? std::to_string(e.timestamp_ms) + ":" + request.request_id : message_id);
    result.events.push_back(std::move(e));
    return result;
}

std::vector<std::string> WebChannel::render(const OutMessage& message, std::string_view user_id) const {
    json body = {{"user", std::string(user_id)}, {"message", json::parse(out_message_to_json(message), nullptr, false)}};
    return {body.dump()};
}

SendResult WebChannel::send(std::string_view body) {
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("message")) {
        return SendResult{SendOutcome::failed, "malformed outbox body", {}, {}};
    }
    const std::string user = string_field(doc, "user");
    std::lock_guard lock(mutex_);
    auto& box = mailboxes_[user];
    box.push_back(Stored{next_id_++, doc["message"].dump()});
    while (box.size() > kMailboxKeep) box.pop_front();
    return SendResult{SendOutcome::sent, {}, {}, std::to_string(next_id_ - 1)};
}

std::string WebChannel::poll(std::string_view user, std::int64_t after) const {
    json out = {{"messages", json::array()}, {"last", after}};
    std::lock_guard lock(mutex_);
    auto it = mailboxes_.find(user);
    if (it == mailboxes_.end()) return out.dump();
    for (const auto& m : it->second) {
        if (m.id <= after) continue;
        json msg = json::parse(m.message_json, nullptr, false);
        if (msg.is_discarded()) continue;
        msg["id"] = m.id;
        out["messages"].push_back(std::move(msg));
        out["last"] = m.id;
    }
    return out.dump();
}

}  // namespace pgibot::channels
