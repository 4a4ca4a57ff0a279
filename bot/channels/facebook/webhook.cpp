#include "bot/channels/facebook/webhook.hpp"

#include <array>

#include "bot/channels/common.hpp"
#include "bot/channels/json_read.hpp"

namespace pgibot::channels::facebook {

// The body is read with Boost.JSON (json_read.hpp), not with common.hpp's nlohmann accessors.
using inbound::double_of;
using inbound::element;
using inbound::id_of;
using inbound::int64_of;
using inbound::is_true;
using inbound::JsonValue;
using inbound::member;
using inbound::string_of;

std::optional<std::string> verify_handshake(const QueryMap& query, std::string_view verify_token) {
    const auto mode = query.find("hub.mode");
    const auto token = query.find("hub.verify_token");
    const auto challenge = query.find("hub.challenge");
    if (mode == query.end() || token == query.end() || challenge == query.end()) return std::nullopt;
    if (mode->second != "subscribe" || verify_token.empty()) return std::nullopt;
    if (!constant_time_equal(token->second, verify_token)) return std::nullopt;
    return challenge->second;  // opaque: Meta's own test sends CHALLENGE_ACCEPTED
}

bool verify_signature(const HmacSha256& app_secret_mac, std::string_view raw_body, std::string_view header_value) {
    static constexpr std::string_view kPrefix = "sha256=";
    if (header_value.size() <= kPrefix.size()) return false;
    if (ascii_lower(header_value.substr(0, kPrefix.size())) != kPrefix) return false;
    // Compared as bytes: the header's hex (either case) decoded, against the digest itself.
    HmacSha256::Digest given{};
    HmacSha256::Digest expected{};
    if (!from_hex(header_value.substr(kPrefix.size()), given) || !app_secret_mac.digest(raw_body, expected)) {
        return false;
    }
    return constant_time_equal(std::string_view(reinterpret_cast<const char*>(given.data()), given.size()),
                               std::string_view(reinterpret_cast<const char*>(expected.data()), expected.size()));
}

bool verify_signature(std::string_view app_secret, std::string_view raw_body, std::string_view header_value) {
    if (app_secret.empty()) return false;
    return verify_signature(HmacSha256(app_secret), raw_body, header_value);
}

namespace {

constexpr std::size_t kMaxNotes = 5;

struct ParseState {
    std::string_view our_app_id;
    std::size_t skipped = 0;
    std::vector<std::string> notes;
    std::vector<Event> events;

    void skip(std::string note) {
        ++skipped;
        if (notes.size() < kMaxNotes) notes.push_back(std::move(note));
    }
};

std::string number_text(std::int64_t v) { return std::to_string(v); }

// Attachments of a message. Facebook's 2026 sticker transition sends a `sticker` attachment and the
// old `image` one for the same sticker: when a sticker is present, the images are dropped. The
// legacy "like" sticker (message.sticker_id + an image attachment) becomes a sticker attachment.
void parse_attachments(const JsonValue& message, Event& ev) {
    const JsonValue* value = member(message, "attachments");
    const auto* list = value == nullptr ? nullptr : value->if_array();
    const std::string legacy_sticker_id = id_of(member(message, "sticker_id"));
    if (list == nullptr) {
        if (!legacy_sticker_id.empty()) {
            Attachment at;
            at.type = AttachmentType::sticker;
            at.sticker_id = legacy_sticker_id;
            ev.attachments.push_back(std::move(at));
        }
        return;
    }
    bool has_sticker = false;
    for (const auto& a : *list) {
        if (!a.is_object()) continue;
        const std::string type = string_of(member(a, "type"));
        const JsonValue* payload = member(a, "payload");
        Attachment at;
        at.url = string_of(member(payload, "url"));
        if (at.url.empty()) at.url = string_of(member(a, "url"));
        at.title = string_of(member(payload, "title"));
        if (at.title.empty()) at.title = string_of(member(a, "title"));
        if (type == "image") {
            at.type = AttachmentType::image;
            if (!legacy_sticker_id.empty()) {
                at.type = AttachmentType::sticker;
                at.sticker_id = legacy_sticker_id;
            }
        } else if (type == "video") {
            at.type = AttachmentType::video;
        } else if (type == "audio") {
            at.type = AttachmentType::audio;
        } else if (type == "file") {
            at.type = AttachmentType::file;
        } else if (type == "sticker") {
            at.type = AttachmentType::sticker;
            at.sticker_id = id_of(member(payload, "sticker_id"));
        } else if (type == "fallback") {
            at.type = AttachmentType::link;
        } else if (type == "location") {
            const JsonValue* coords = member(payload, "coordinates");
            const auto lat = double_of(member(coords, "lat"));
            auto lng = double_of(member(coords, "long"));
            if (!lng) lng = double_of(member(coords, "lng"));
            if (lat && lng) {
                at.type = AttachmentType::location;
                at.location = Location{*lat, *lng};
                if (!ev.location) ev.location = at.location;
            } else {
                at.type = AttachmentType::other;
            }
        } else {
            at.type = AttachmentType::other;  // template, reel, ig_reel, post, ig_post, ...
        }
        has_sticker = has_sticker || at.type == AttachmentType::sticker;
        ev.attachments.push_back(std::move(at));
    }
    if (has_sticker) {
        std::erase_if(ev.attachments, [](const Attachment& at) { return at.type == AttachmentType::image; });
    }
}

// The first key of `item`, in byte order, other than sender, recipient and timestamp ("unknown"
// if none). Byte order, not the body's order: nlohmann kept keys sorted, and this key is part of the
// dedup key of such items.
std::string other_kind_key(const boost::json::object& item) {
    std::string_view key;
    bool found = false;
    for (const auto& kv : item) {
        const std::string_view name(kv.key().data(), kv.key().size());
        if (name == "sender" || name == "recipient" || name == "timestamp") continue;
        if (!found || name < key) key = name;
        found = true;
    }
    return found ? std::string(key) : std::string("unknown");
}

void parse_messaging_item(const JsonValue& item, const std::string& page_id, std::int64_t entry_time, bool standby,
                          ParseState& st) {
    const std::string channel = standby ? "standby" : "messaging";
    if (!item.is_object()) {
        st.skip(channel + " item is not an object");
        return;
    }
    const JsonValue* sender = member(item, "sender");
    std::string sender_id = id_of(member(sender, "id"));
    if (sender_id.empty()) sender_id = id_of(member(sender, "user_ref"));
    const std::string recipient_id = id_of(member(member(item, "recipient"), "id"));
    const auto item_time = int64_of(member(item, "timestamp"));

    Event ev;
    ev.platform = Platform::facebook;
    ev.page_id = page_id;
    ev.standby = standby;
    ev.user_id = sender_id;
    ev.timestamp_ms = item_time.value_or(0) != 0 ? *item_time : entry_time;
    const std::string ts = number_text(ev.timestamp_ms);
    const std::string prefix = "fb:" + page_id + ":";

    if (const JsonValue* message = member(item, "message"); message != nullptr) {
        if (!message->is_object()) {
            st.skip(channel + ".message is not an object");
            return;
        }
        ev.message_id = string_of(member(*message, "mid"));
        ev.text = string_of(member(*message, "text"));
        parse_attachments(*message, ev);
        if (is_true(member(*message, "is_echo"))) {
            ev.kind = EventKind::echo;
            ev.user_id = recipient_id;  // the sender is the page
            ev.echo_app_id = id_of(member(*message, "app_id"));
            // An echo without app_id (Page Inbox, Business Suite) or with another app's id is a person.
            ev.echo_from_human = ev.echo_app_id.empty() || ev.echo_app_id != st.our_app_id;
            ev.source_type = channel + ".message_echo";
        } else {
            ev.kind = EventKind::message;
            ev.payload = string_of(member(member(*message, "quick_reply"), "payload"));
            ev.source_type = channel + ".message";
        }
        ev.dedup_key = !ev.message_id.empty() ? prefix + "mid:" + ev.message_id
                                              : prefix + "msg:" + ev.user_id + ":" + ts;
    } else if (const JsonValue* postback = member(item, "postback"); postback != nullptr && postback->is_object()) {
        ev.kind = EventKind::postback;
        ev.payload = string_of(member(*postback, "payload"));
        ev.text = string_of(member(*postback, "title"));
        ev.message_id = string_of(member(*postback, "mid"));
        ev.source_type = channel + ".postback";
        ev.dedup_key = !ev.message_id.empty() ? prefix + "mid:" + ev.message_id
                                              : prefix + "pb:" + sender_id + ":" + ts + ":" + ev.payload;
    } else if (const JsonValue* referral = member(item, "referral"); referral != nullptr && referral->is_object()) {
        ev.kind = EventKind::referral;
        ev.payload = id_of(member(*referral, "ref"));
        ev.source_type = channel + ".referral";
        ev.dedup_key = prefix + "referral:" + sender_id + ":" + ts + ":" + ev.payload;
    } else if (const JsonValue* optin = member(item, "optin"); optin != nullptr && optin->is_object()) {
        ev.kind = EventKind::optin;
        ev.payload = string_of(member(*optin, "payload"));
        if (ev.payload.empty()) ev.payload = string_of(member(*optin, "ref"));
        ev.source_type = channel + ".optin";
        ev.dedup_key = prefix + "optin:" + sender_id + ":" + ts + ":" + string_of(member(*optin, "type"));
    } else if (const JsonValue* reaction = member(item, "reaction"); reaction != nullptr && reaction->is_object()) {
        ev.kind = EventKind::reaction;
        ev.message_id = string_of(member(*reaction, "mid"));  // the message reacted to
        ev.text = string_of(member(*reaction, "reaction"));
        if (ev.text.empty()) ev.text = string_of(member(*reaction, "emoji"));
        ev.payload = string_of(member(*reaction, "action"));  // "react" | "unreact"
        ev.source_type = channel + ".reaction";
        ev.dedup_key = prefix + "reaction:" + sender_id + ":" + ev.message_id + ":" + ev.payload + ":" + ts;
    } else if (const JsonValue* receipt = member(item, "delivery") ? member(item, "delivery") : member(item, "read");
               receipt != nullptr && receipt->is_object()) {
        const bool delivery = member(item, "delivery") != nullptr;
        const std::string kind = delivery ? "delivery" : "read";
        ev.kind = delivery ? EventKind::delivery : EventKind::read;
        const auto watermark = int64_of(member(*receipt, "watermark")).value_or(0);
        if (ev.timestamp_ms == 0) ev.timestamp_ms = watermark;
        if (const JsonValue* first_mid = element(member(*receipt, "mids"), 0); first_mid != nullptr) {
            ev.message_id = string_of(first_mid);
        }
        ev.source_type = channel + "." + kind;
        ev.dedup_key = prefix + kind + ":" + sender_id + ":" + number_text(watermark);
    } else {
        // Handover, policy enforcement, account linking, ...: accepted, not acted on.
        const std::string key = other_kind_key(item.get_object());  // an object: checked above
        ev.kind = EventKind::other;
        ev.source_type = channel + "." + key;
        ev.dedup_key = prefix + key + ":" + sender_id + ":" + ts;
    }
    if (ev.user_id.empty()) {
        st.skip(ev.source_type + " without a user id");
        return;
    }
    st.events.push_back(std::move(ev));
}

// Feed `entry.time` and `created_time` are in seconds; Messenger's in milliseconds.
std::int64_t seconds_to_ms(std::int64_t t) { return t < 100'000'000'000 ? t * 1000 : t; }

// What the keys of changes without an id hash: nlohmann's dump of the value, as before (sorted keys).
std::string value_digest(const JsonValue& value) {
    return sha256_hex({inbound::nlohmann_dump(value)}).substr(0, 32);
}

void parse_change(const JsonValue& change, const std::string& page_id, std::int64_t entry_time, ParseState& st) {
    if (!change.is_object()) {
        st.skip("changes item is not an object");
        return;
    }
    const std::string field = string_of(member(change, "field"));
    const JsonValue* value = member(change, "value");
    if (value == nullptr || !value->is_object()) {
        st.skip("changes." + field + " without an object value");
        return;
    }
    const std::string prefix = "fb:" + page_id + ":";
    Event ev;
    ev.platform = Platform::facebook;
    ev.page_id = page_id;
    ev.timestamp_ms = seconds_to_ms(entry_time);
    if (const auto created = int64_of(member(*value, "created_time")); created && *created > 0) {
        ev.timestamp_ms = seconds_to_ms(*created);
    }
    if (field != "feed") {
        ev.kind = EventKind::other;
        ev.source_type = "changes." + field;
        ev.dedup_key = prefix + "change:" + field + ":" + value_digest(*value);
        st.events.push_back(std::move(ev));
        return;
    }
    const std::string item = string_of(member(*value, "item"));
    const std::string verb = string_of(member(*value, "verb"));
    const JsonValue* from = member(*value, "from");
    std::string from_id = id_of(member(from, "id"));
    if (from_id.empty()) from_id = id_of(member(*value, "sender_id"));  // pre-2017 shape
    std::string from_name = string_of(member(from, "name"));
    if (from_name.empty()) from_name = string_of(member(*value, "sender_name"));
    ev.user_id = from_id;
    ev.text = string_of(member(*value, "message"));
    if (item == "comment") {
        Comment c;
        c.comment_id = id_of(member(*value, "comment_id"));
        c.post_id = id_of(member(*value, "post_id"));
        c.parent_id = id_of(member(*value, "parent_id"));
        c.verb = verb;
        c.from_id = from_id;
        c.from_name = from_name;
        if (c.comment_id.empty()) {
            st.skip("feed comment without comment_id");
            return;
        }
        ev.kind = EventKind::comment;
        ev.message_id = c.comment_id;
        ev.source_type = "changes.feed.comment";
        ev.dedup_key = prefix + "c:" + c.comment_id + ":" + verb;
        ev.comment = std::move(c);
    } else {
        ev.kind = EventKind::other;
        ev.source_type = "changes.feed." + (item.empty() ? std::string("unknown") : item);
        std::string object_id = id_of(member(*value, "post_id"));
        if (object_id.empty()) object_id = value_digest(*value);
        ev.dedup_key = prefix + "feed:" + item + ":" + verb + ":" + object_id + ":" + number_text(ev.timestamp_ms);
    }
    st.events.push_back(std::move(ev));
}

}  // namespace

IngestResult parse_webhook(std::string_view raw_body, std::string_view our_app_id) {
    IngestResult result;
    // Values live in the Document's 4 KiB buffer: a usual webhook parses without a heap allocation.
    // Nesting deeper than inbound::kMaxDepth (32) is refused here as malformed (webhooks nest ~10).
    const inbound::Document parsed(raw_body);
    if (!parsed.ok()) {
        result.status = IngestStatus::malformed;
        result.detail = "body is not JSON (" + parsed.error() + ")";
        return result;
    }
    const JsonValue& doc = parsed.root();
    if (!doc.is_object()) {
        result.status = IngestStatus::malformed;
        result.detail = "body is not a JSON object";
        return result;
    }
    if (string_of(member(doc, "object")) != "page") {
        result.status = IngestStatus::malformed;
        result.detail = "object is not \"page\"";
        return result;
    }
    const JsonValue* entry_value = member(doc, "entry");
    const auto* entries = entry_value == nullptr ? nullptr : entry_value->if_array();
    if (entries == nullptr) {
        result.status = IngestStatus::malformed;
        result.detail = "entry is not an array";
        return result;
    }
    ParseState st;
    st.our_app_id = our_app_id;
    for (const auto& entry : *entries) {
        const std::string page_id = id_of(member(entry, "id"));
        if (!entry.is_object() || page_id.empty()) {
            st.skip("entry without an id");
            continue;
        }
        const std::int64_t entry_time = int64_of(member(entry, "time")).value_or(0);
        for (const auto& [key, standby] : std::array{std::pair{"messaging", false}, std::pair{"standby", true}}) {
            const JsonValue* items = member(entry, key);
            if (items == nullptr) continue;
            if (!items->is_array()) {
                st.skip(std::string(key) + " is not an array");
                continue;
            }
            for (const auto& item : items->get_array()) parse_messaging_item(item, page_id, entry_time, standby, st);
        }
        if (const JsonValue* changes = member(entry, "changes"); changes != nullptr) {
            if (!changes->is_array()) {
                st.skip("changes is not an array");
                continue;
            }
            for (const auto& change : changes->get_array()) parse_change(change, page_id, entry_time, st);
        }
    }
    result.events = std::move(st.events);
    if (st.skipped > 0) {
        result.detail = "skipped " + std::to_string(st.skipped) + " item(s)";
        for (const auto& note : st.notes) result.detail += "; " + note;
    }
    return result;
}

}  // namespace pgibot::channels::facebook
