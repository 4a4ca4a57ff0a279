// The event model: enum names, the user key and the JSON round trip used by the inbox.
#include "handlers/model/event.hpp"
#include "handlers/model/json_writer.hpp"

#include <array>
#include <utility>

#include "handlers/model/json_util.hpp"

namespace pgibot {

namespace {

using model_json::Json;
using model_json::read;

template <typename Enum, std::size_t N>
std::optional<Enum> lookup_name(const std::array<std::pair<Enum, std::string_view>, N>& names, std::string_view s) {
    for (const auto& [value, name] : names) {
        if (name == s) {
            return value;
        }
    }
    return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum e) {
    for (const auto& [value, name] : names) {
        if (value == e) {
            return name;
        }
    }
    return "unknown";
}

constexpr std::array<std::pair<Platform, std::string_view>, 4> kPlatformNames{{
    {Platform::facebook, "facebook"},
    {Platform::zalo, "zalo"},
    {Platform::web, "web"},
    {Platform::cli, "cli"},
}};

constexpr std::array<std::pair<EventKind, std::string_view>, 14> kEventKindNames{{
    {EventKind::message, "message"},
    {EventKind::postback, "postback"},
    {EventKind::follow, "follow"},
    {EventKind::unfollow, "unfollow"},
    {EventKind::referral, "referral"},
    {EventKind::optin, "optin"},
    {EventKind::reaction, "reaction"},
    {EventKind::echo, "echo"},
    {EventKind::delivery, "delivery"},
    {EventKind::read, "read"},
    {EventKind::comment, "comment"},
    {EventKind::submit_info, "submit_info"},
    {EventKind::timer, "timer"},
    {EventKind::other, "other"},
}};

constexpr std::array<std::pair<AttachmentType, std::string_view>, 9> kAttachmentTypeNames{{
    {AttachmentType::image, "image"},
    {AttachmentType::video, "video"},
    {AttachmentType::audio, "audio"},
    {AttachmentType::file, "file"},
    {AttachmentType::sticker, "sticker"},
    {AttachmentType::gif, "gif"},
    {AttachmentType::link, "link"},
    {AttachmentType::location, "location"},
    {AttachmentType::other, "other"},
}};

std::optional<Location> location_from_json(const Json& j) {
    if (!j.is_object()) {
        return std::nullopt;
    }
    Location l;
    if (!j.contains("lat") || !j.contains("lng") || !read(j, "lat", l.lat) || !read(j, "lng", l.lng)) {
        return std::nullopt;
    }
    return l;
}

// Reads an optional nested object: absent/null is fine, a malformed one fails the document.
template <typename T, typename Parse>
bool read_optional(const Json& obj, const char* key, std::optional<T>& out, Parse parse) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return true;
    }
    out = parse(*it);
    return out.has_value();
}

std::optional<Attachment> attachment_from_json(const Json& j) {
    if (!j.is_object()) {
        return std::nullopt;
    }
    Attachment a;
    std::string type;
    if (!read(j, "type", type) || !read(j, "url", a.url) || !read(j, "title", a.title) ||
        !read(j, "sticker_id", a.sticker_id) || !read_optional(j, "location", a.location, location_from_json)) {
        return std::nullopt;
    }
    // An attachment type this build does not know (a newer writer) is kept as `other`.
    a.type = attachment_type_from_string(type).value_or(AttachmentType::other);
    return a;
}

std::optional<Comment> comment_from_json(const Json& j) {
    if (!j.is_object()) {
        return std::nullopt;
    }
    Comment c;
    if (!read(j, "comment_id", c.comment_id) || !read(j, "post_id", c.post_id) || !read(j, "parent_id", c.parent_id) ||
        !read(j, "verb", c.verb) || !read(j, "from_id", c.from_id) || !read(j, "from_name", c.from_name)) {
        return std::nullopt;
    }
    return c;
}

std::optional<SubmittedInfo> submitted_from_json(const Json& j) {
    if (!j.is_object()) {
        return std::nullopt;
    }
    SubmittedInfo s;
    if (!read(j, "name", s.name) || !read(j, "phone", s.phone) || !read(j, "address", s.address)) {
        return std::nullopt;
    }
    return s;
}

}  // namespace

std::string_view to_string(Platform p) { return name_of(kPlatformNames, p); }
std::optional<Platform> platform_from_string(std::string_view s) { return lookup_name(kPlatformNames, s); }

std::string_view to_string(EventKind k) { return name_of(kEventKindNames, k); }
std::optional<EventKind> event_kind_from_string(std::string_view s) { return lookup_name(kEventKindNames, s); }

std::string_view to_string(AttachmentType t) { return name_of(kAttachmentTypeNames, t); }
std::optional<AttachmentType> attachment_type_from_string(std::string_view s) {
    return lookup_name(kAttachmentTypeNames, s);
}

std::string Event::user_key() const {
    std::string key(to_string(platform));
    key += ':';
    key += page_id;
    key += ':';
    key += user_id;
    return key;
}

// Written for every acknowledged webhook event, so it streams text (json::Writer) instead of
// building a nlohmann tree; event_from_json reads it back (tests/handlers/model_test.cpp).
std::string event_to_json(const Event& e) {
    std::string out;
    out.reserve(256 + e.text.size() + e.payload.size() + e.dedup_key.size());
    json::Writer w(out);
    // Empty strings, false and 0 are left out (event_from_json reads an absent field as its
    // default): the stored row is smaller, and every acknowledged webhook writes one.
    const auto text = [&w](std::string_view name, const std::string& v) {
        if (!v.empty()) w.member(name, v);
    };
    w.begin_object().member("platform", to_string(e.platform)).member("kind", to_string(e.kind));
    text("page_id", e.page_id);
    text("user_id", e.user_id);
    text("message_id", e.message_id);
    if (e.timestamp_ms != 0) w.member("timestamp_ms", e.timestamp_ms);
    text("text", e.text);
    text("payload", e.payload);
    if (e.standby) w.member("standby", true);
    if (e.echo_from_human) w.member("echo_from_human", true);
    text("echo_app_id", e.echo_app_id);
    text("source_type", e.source_type);
    text("dedup_key", e.dedup_key);
    const auto write_location = [&w](const Location& l) {
        w.begin_object().member("lat", l.lat).member("lng", l.lng).end_object();
    };
    if (!e.attachments.empty()) {
        w.key("attachments").begin_array();
        for (const auto& a : e.attachments) {
            w.begin_object().member("type", to_string(a.type));
            text("url", a.url);
            text("title", a.title);
            text("sticker_id", a.sticker_id);
            if (a.location) {
                w.key("location");
                write_location(*a.location);
            }
            w.end_object();
        }
        w.end_array();
    }
    if (e.location) {
        w.key("location");
        write_location(*e.location);
    }
    if (e.comment) {
        const Comment& c = *e.comment;
        w.key("comment")
            .begin_object()
            .member("comment_id", c.comment_id)
            .member("post_id", c.post_id)
            .member("parent_id", c.parent_id)
            .member("verb", c.verb)
            .member("from_id", c.from_id)
            .member("from_name", c.from_name)
            .end_object();
    }
    if (e.submitted) {
        const SubmittedInfo& s = *e.submitted;
        w.key("submitted")
            .begin_object()
            .member("name", s.name)
            .member("phone", s.phone)
            .member("address", s.address)
            .end_object();
    }
    w.end_object();
    return out;
}

std::optional<Event> event_from_json(std::string_view json) {
    auto parsed = model_json::parse(json);
    if (!parsed || !parsed->is_object()) {
        return std::nullopt;
    }
    const Json& j = *parsed;
    Event e;

    // platform and kind are required: without them the event cannot be routed.
    std::string platform;
    std::string kind;
    if (!read(j, "platform", platform) || !read(j, "kind", kind)) {
        return std::nullopt;
    }
    auto p = platform_from_string(platform);
    auto k = event_kind_from_string(kind);
    if (!p || !k) {
        return std::nullopt;
    }
    e.platform = *p;
    e.kind = *k;

    if (!read(j, "page_id", e.page_id) || !read(j, "user_id", e.user_id) || !read(j, "message_id", e.message_id) ||
        !read(j, "timestamp_ms", e.timestamp_ms) || !read(j, "text", e.text) || !read(j, "payload", e.payload) ||
        !read(j, "standby", e.standby) || !read(j, "echo_from_human", e.echo_from_human) ||
        !read(j, "echo_app_id", e.echo_app_id) || !read(j, "source_type", e.source_type) ||
        !read(j, "dedup_key", e.dedup_key)) {
        return std::nullopt;
    }
    if (!read_optional(j, "location", e.location, location_from_json) ||
        !read_optional(j, "comment", e.comment, comment_from_json) ||
        !read_optional(j, "submitted", e.submitted, submitted_from_json)) {
        return std::nullopt;
    }
    if (auto it = j.find("attachments"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) {
            return std::nullopt;
        }
        for (const auto& ja : *it) {
            auto a = attachment_from_json(ja);
            if (!a) {
                return std::nullopt;
            }
            e.attachments.push_back(std::move(*a));
        }
    }
    return e;
}

}  // namespace pgibot
