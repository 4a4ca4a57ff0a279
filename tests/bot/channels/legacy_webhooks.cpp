// The Facebook and Zalo webhook parsers as they were before the port to Boost.JSON (git f85abdd),
// on nlohmann::json and common.hpp's accessors, kept verbatim (namespaces aside) as the reference
// the ported parsers are compared with (webhook_parity_test.cpp): every event field, dedup keys
// above all, must stay what these produced. Not used by the bot.
#include "legacy_webhooks.hpp"

#include <array>

#include "bot/channels/common.hpp"
#include "bot/channels/zalo/webhook.hpp"

namespace pgibot::channels::legacy::facebook {

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
void parse_attachments(const Json& message, Event& ev) {
    const Json* list = member(message, "attachments");
    const std::string legacy_sticker_id = id_of(member(message, "sticker_id"));
    if (list == nullptr || !list->is_array()) {
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
        const Json* payload = member(a, "payload");
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
            const Json* coords = member(payload, "coordinates");
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

void parse_messaging_item(const Json& item, const std::string& page_id, std::int64_t entry_time, bool standby,
                          ParseState& st) {
    const std::string channel = standby ? "standby" : "messaging";
    if (!item.is_object()) {
        st.skip(channel + " item is not an object");
        return;
    }
    const Json* sender = member(item, "sender");
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

    if (const Json* message = member(item, "message"); message != nullptr) {
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
    } else if (const Json* postback = member(item, "postback"); postback != nullptr && postback->is_object()) {
        ev.kind = EventKind::postback;
        ev.payload = string_of(member(*postback, "payload"));
        ev.text = string_of(member(*postback, "title"));
        ev.message_id = string_of(member(*postback, "mid"));
        ev.source_type = channel + ".postback";
        ev.dedup_key = !ev.message_id.empty() ? prefix + "mid:" + ev.message_id
                                              : prefix + "pb:" + sender_id + ":" + ts + ":" + ev.payload;
    } else if (const Json* referral = member(item, "referral"); referral != nullptr && referral->is_object()) {
        ev.kind = EventKind::referral;
        ev.payload = id_of(member(*referral, "ref"));
        ev.source_type = channel + ".referral";
        ev.dedup_key = prefix + "referral:" + sender_id + ":" + ts + ":" + ev.payload;
    } else if (const Json* optin = member(item, "optin"); optin != nullptr && optin->is_object()) {
        ev.kind = EventKind::optin;
        ev.payload = string_of(member(*optin, "payload"));
        if (ev.payload.empty()) ev.payload = string_of(member(*optin, "ref"));
        ev.source_type = channel + ".optin";
        ev.dedup_key = prefix + "optin:" + sender_id + ":" + ts + ":" + string_of(member(*optin, "type"));
    } else if (const Json* reaction = member(item, "reaction"); reaction != nullptr && reaction->is_object()) {
        ev.kind = EventKind::reaction;
        ev.message_id = string_of(member(*reaction, "mid"));  // the message reacted to
        ev.text = string_of(member(*reaction, "reaction"));
        if (ev.text.empty()) ev.text = string_of(member(*reaction, "emoji"));
        ev.payload = string_of(member(*reaction, "action"));  // "react" | "unreact"
        ev.source_type = channel + ".reaction";
        ev.dedup_key = prefix + "reaction:" + sender_id + ":" + ev.message_id + ":" + ev.payload + ":" + ts;
    } else if (const Json* receipt = member(item, "delivery") ? member(item, "delivery") : member(item, "read");
               receipt != nullptr && receipt->is_object()) {
        const bool delivery = member(item, "delivery") != nullptr;
        const std::string kind = delivery ? "delivery" : "read";
        ev.kind = delivery ? EventKind::delivery : EventKind::read;
        const auto watermark = int64_of(member(*receipt, "watermark")).value_or(0);
        if (ev.timestamp_ms == 0) ev.timestamp_ms = watermark;
        if (const Json* mids = member(*receipt, "mids"); mids != nullptr && mids->is_array() && !mids->empty()) {
            ev.message_id = string_of(&mids->front());
        }
        ev.source_type = channel + "." + kind;
        ev.dedup_key = prefix + kind + ":" + sender_id + ":" + number_text(watermark);
    } else {
        // Handover, policy enforcement, account linking, ...: accepted, not acted on.
        std::string key = "unknown";
        for (const auto& [name, value] : item.items()) {
            if (name != "sender" && name != "recipient" && name != "timestamp") {
                key = name;
                break;
            }
        }
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

void parse_change(const Json& change, const std::string& page_id, std::int64_t entry_time, ParseState& st) {
    if (!change.is_object()) {
        st.skip("changes item is not an object");
        return;
    }
    const std::string field = string_of(member(change, "field"));
    const Json* value = member(change, "value");
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
        ev.dedup_key = prefix + "change:" + field + ":" + sha256_hex({dump_json(*value)}).substr(0, 32);
        st.events.push_back(std::move(ev));
        return;
    }
    const std::string item = string_of(member(*value, "item"));
    const std::string verb = string_of(member(*value, "verb"));
    const Json* from = member(*value, "from");
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
        if (object_id.empty()) object_id = sha256_hex({dump_json(*value)}).substr(0, 32);
        ev.dedup_key = prefix + "feed:" + item + ":" + verb + ":" + object_id + ":" + number_text(ev.timestamp_ms);
    }
    st.events.push_back(std::move(ev));
}

}  // namespace

IngestResult parse_webhook(std::string_view raw_body, std::string_view our_app_id) {
    IngestResult result;
    const Json doc = Json::parse(raw_body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        result.status = IngestStatus::malformed;
        result.detail = "body is not a JSON object";
        return result;
    }
    if (string_of(member(doc, "object")) != "page") {
        result.status = IngestStatus::malformed;
        result.detail = "object is not \"page\"";
        return result;
    }
    const Json* entries = member(doc, "entry");
    if (entries == nullptr || !entries->is_array()) {
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
            const Json* items = member(entry, key);
            if (items == nullptr) continue;
            if (!items->is_array()) {
                st.skip(std::string(key) + " is not an array");
                continue;
            }
            for (const auto& item : *items) parse_messaging_item(item, page_id, entry_time, standby, st);
        }
        if (const Json* changes = member(entry, "changes"); changes != nullptr) {
            if (!changes->is_array()) {
                st.skip("changes is not an array");
                continue;
            }
            for (const auto& change : *changes) parse_change(change, page_id, entry_time, st);
        }
    }
    result.events = std::move(st.events);
    if (st.skipped > 0) {
        result.detail = "skipped " + std::to_string(st.skipped) + " item(s)";
        for (const auto& note : st.notes) result.detail += "; " + note;
    }
    return result;
}

}  // namespace pgibot::channels::legacy::facebook

namespace pgibot::channels::legacy::zalo {

using channels::zalo::kQueryPrefix;
using channels::zalo::verify_signature;

namespace {

void parse_attachments(const Json* message, Event& ev) {
    const Json* list = member(message, "attachments");
    if (list == nullptr || !list->is_array()) return;
    for (const auto& a : *list) {
        if (!a.is_object()) continue;
        const std::string type = string_of(member(a, "type"));
        const Json* payload = member(a, "payload");
        Attachment at;
        at.url = string_of(member(payload, "url"));
        if (type == "image") {
            at.type = AttachmentType::image;
        } else if (type == "gif") {
            at.type = AttachmentType::gif;
        } else if (type == "link") {
            at.type = AttachmentType::link;
            at.title = string_of(member(payload, "description"));
        } else if (type == "audio") {
            at.type = AttachmentType::audio;
        } else if (type == "video") {
            at.type = AttachmentType::video;
        } else if (type == "file") {
            at.type = AttachmentType::file;
            at.title = string_of(member(payload, "name"));
        } else if (type == "sticker") {
            at.type = AttachmentType::sticker;
            at.sticker_id = id_of(member(payload, "id"));
        } else if (type == "location") {
            // attachments[0].payload.coordinates.{latitude,longitude}, values are strings.
            const Json* coords = member(payload, "coordinates");
            const auto lat = double_of(member(coords, "latitude"));
            const auto lng = double_of(member(coords, "longitude"));
            if (lat && lng) {
                at.type = AttachmentType::location;
                at.location = Location{*lat, *lng};
                if (!ev.location) ev.location = at.location;
            } else {
                at.type = AttachmentType::other;
            }
        } else {
            at.type = AttachmentType::other;
        }
        ev.attachments.push_back(std::move(at));
    }
}

// info{name, phone, address | full_address{user_address, user_ward, user_city}} and the older
// info{address, ward, district, city}: the address parts joined with ", ".
SubmittedInfo parse_submitted(const Json* info) {
    SubmittedInfo s;
    s.name = string_of(member(info, "name"));
    s.phone = id_of(member(info, "phone"));
    const Json* full = member(info, "full_address");
    std::string address = string_of(member(info, "address"));
    if (address.empty()) address = string_of(member(full, "user_address"));
    for (const auto* key : {"ward", "district", "city"}) {
        std::string part = string_of(member(info, key));
        if (part.empty()) part = string_of(member(full, (std::string("user_") + key).c_str()));
        if (part.empty()) continue;
        if (!address.empty()) address += ", ";
        address += part;
    }
    s.address = std::move(address);
    return s;
}

}  // namespace

IngestResult ingest_webhook(std::string_view raw_body, std::string_view signature_header, std::string_view app_id,
                            std::string_view oa_secret_key) {
    IngestResult result;
    if (signature_header.empty()) {
        result.status = IngestStatus::bad_signature;
        result.detail = "missing X-ZEvent-Signature";
        return result;
    }
    // The timestamp is part of the signed string, so it has to be read before verification;
    // nothing else from the body is used until the signature matches.
    const Json doc = Json::parse(raw_body, nullptr, false);
    const std::string timestamp = doc.is_discarded() ? std::string() : id_of(member(doc, "timestamp"));
    if (!verify_signature(app_id, raw_body, timestamp, oa_secret_key, signature_header)) {
        result.status = IngestStatus::bad_signature;
        result.detail = doc.is_discarded() ? "body is not JSON: cannot verify X-ZEvent-Signature"
                                           : "X-ZEvent-Signature mismatch";
        return result;
    }
    if (!doc.is_object()) {
        result.status = IngestStatus::malformed;
        result.detail = "body is not a JSON object";
        return result;
    }
    if (id_of(member(doc, "app_id")) != app_id) {
        result.status = IngestStatus::malformed;
        result.detail = "app_id in the body is not ours";
        return result;
    }
    const std::string event_name = string_of(member(doc, "event_name"));
    if (event_name.empty()) {
        result.status = IngestStatus::malformed;
        result.detail = "event_name missing";
        return result;
    }

    Event ev;
    ev.platform = Platform::zalo;
    ev.source_type = event_name;
    ev.timestamp_ms = int64_of(member(doc, "timestamp")).value_or(0);
    const std::string sender_id = id_of(member(member(doc, "sender"), "id"));
    const std::string recipient_id = id_of(member(member(doc, "recipient"), "id"));
    const std::string oa_id = id_of(member(doc, "oa_id"));
    const Json* message = member(doc, "message");
    const std::string msg_id = id_of(member(message, "msg_id"));
    bool by_msg_id = false;          // zl:<oa>:msg:<msg_id>
    std::string receipt_key;         // zl:<oa>:<event_name>:<receipt_key>

    if (event_name.starts_with("user_send_")) {
        ev.kind = EventKind::message;
        ev.user_id = sender_id;
        ev.page_id = recipient_id;
        ev.message_id = msg_id;
        ev.text = string_of(member(message, "text"));
        parse_attachments(message, ev);
        // A tapped oa.query button comes back as text "#<payload>".
        if (event_name == "user_send_text" && ev.text.size() > kQueryPrefix.size() &&
            ev.text.starts_with(kQueryPrefix)) {
            ev.payload = ev.text.substr(kQueryPrefix.size());
        }
        by_msg_id = !msg_id.empty();
    } else if (event_name.starts_with("oa_send_")) {
        ev.kind = EventKind::echo;
        ev.page_id = sender_id;
        ev.user_id = recipient_id;
        ev.message_id = msg_id;
        ev.text = string_of(member(message, "text"));
        parse_attachments(message, ev);
        // admin_id is present only when a person sent from the OA chat tool.
        ev.echo_app_id = id_of(member(member(doc, "sender"), "admin_id"));
        ev.echo_from_human = !ev.echo_app_id.empty();
        by_msg_id = !msg_id.empty();
    } else if (event_name == "follow" || event_name == "unfollow") {
        ev.kind = event_name == "follow" ? EventKind::follow : EventKind::unfollow;
        ev.page_id = oa_id;
        ev.user_id = id_of(member(member(doc, "follower"), "id"));
        ev.payload = string_of(member(doc, "source"));  // oa_profile, message_invite, ..., testing_webhook
    } else if (event_name == "user_submit_info") {
        ev.kind = EventKind::submit_info;
        ev.user_id = sender_id;
        ev.page_id = recipient_id;
        ev.submitted = parse_submitted(member(doc, "info"));
    } else if (event_name == "user_received_message") {
        ev.kind = EventKind::delivery;  // sender = OA, recipient = user
        ev.page_id = sender_id;
        ev.user_id = recipient_id;
        ev.message_id = msg_id;
        receipt_key = msg_id;
    } else if (event_name == "user_seen_message") {
        ev.kind = EventKind::read;
        ev.page_id = sender_id;
        ev.user_id = recipient_id;
        const Json* ids = member(message, "msg_ids");
        if (ids != nullptr && ids->is_array() && !ids->empty()) ev.message_id = id_of(&ids->front());
        if (ev.message_id.empty()) ev.message_id = msg_id;
    } else if (event_name == "user_reacted_message") {
        ev.kind = EventKind::reaction;
        ev.user_id = sender_id;
        ev.page_id = recipient_id;
        ev.message_id = msg_id;
        ev.text = string_of(member(message, "react_icon"));
        receipt_key = ev.user_id + ":" + msg_id + ":" + std::to_string(ev.timestamp_ms);
    } else {
        ev.kind = EventKind::other;
        ev.user_id = sender_id;
        if (ev.user_id.empty()) ev.user_id = id_of(member(member(doc, "follower"), "id"));
        if (ev.user_id.empty()) ev.user_id = id_of(member(doc, "user_id"));
        ev.page_id = recipient_id;
        ev.message_id = msg_id;
        ev.text = string_of(member(message, "text"));
    }
    if (ev.page_id.empty()) ev.page_id = oa_id;

    const std::string prefix = "zl:" + ev.page_id + ":";
    if (by_msg_id) {
        ev.dedup_key = prefix + "msg:" + msg_id;
    } else if (!receipt_key.empty()) {
        // Not "msg:<id>": a receipt names the OA's message, whose echo already uses that key.
        ev.dedup_key = prefix + event_name + ":" + receipt_key;
    } else {
        ev.dedup_key = prefix + event_name + ":" + ev.user_id + ":" + timestamp;
    }
    result.events.push_back(std::move(ev));
    return result;
}

}  // namespace pgibot::channels::legacy::zalo
