#include "bot/channels/zalo/webhook.hpp"

#include "bot/channels/common.hpp"
#include "bot/channels/json_read.hpp"

namespace pgibot::channels::zalo {

// The body is read with Boost.JSON (json_read.hpp), not with common.hpp's nlohmann accessors. Zalo
// ids exceed 2^53: id_of keeps numeric ones exact (int64/uint64), strings stay strings.
using inbound::double_of;
using inbound::element;
using inbound::id_of;
using inbound::int64_of;
using inbound::JsonValue;
using inbound::member;
using inbound::string_of;

std::string compute_signature(std::string_view app_id, std::string_view raw_body, std::string_view timestamp,
                              std::string_view oa_secret_key) {
    return "mac=" + sha256_hex({app_id, raw_body, timestamp, oa_secret_key});
}

bool verify_signature(std::string_view app_id, std::string_view raw_body, std::string_view timestamp,
                      std::string_view oa_secret_key, std::string_view header_value) {
    if (app_id.empty() || oa_secret_key.empty()) return false;
    std::string given = ascii_lower(header_value);
    while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) given.pop_back();
    std::string_view g = given;
    while (!g.empty() && (g.front() == ' ' || g.front() == '\t')) g.remove_prefix(1);
    if (g.starts_with("mac=")) g.remove_prefix(4);
    const std::string expected = sha256_hex({app_id, raw_body, timestamp, oa_secret_key});
    return !expected.empty() && constant_time_equal(g, expected);
}

namespace {

void parse_attachments(const JsonValue* message, Event& ev) {
    const JsonValue* value = member(message, "attachments");
    const auto* list = value == nullptr ? nullptr : value->if_array();
    if (list == nullptr) return;
    for (const auto& a : *list) {
        if (!a.is_object()) continue;
        const std::string type = string_of(member(a, "type"));
        const JsonValue* payload = member(a, "payload");
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
            const JsonValue* coords = member(payload, "coordinates");
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
SubmittedInfo parse_submitted(const JsonValue* info) {
    SubmittedInfo s;
    s.name = string_of(member(info, "name"));
    s.phone = id_of(member(info, "phone"));
    const JsonValue* full = member(info, "full_address");
    std::string address = string_of(member(info, "address"));
    if (address.empty()) address = string_of(member(full, "user_address"));
    for (const auto* key : {"ward", "district", "city"}) {
        std::string part = string_of(member(info, key));
        if (part.empty()) part = string_of(member(full, std::string("user_") + key));
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
    // Values live in the Document's 4 KiB buffer: a usual webhook parses without a heap allocation.
    // Nesting deeper than inbound::kMaxDepth (32) is refused as not JSON (webhooks nest ~5 levels).
    const inbound::Document parsed(raw_body);
    const JsonValue& doc = parsed.root();  // null when the parse failed
    const std::string timestamp = parsed.ok() ? id_of(member(doc, "timestamp")) : std::string();
    if (!verify_signature(app_id, raw_body, timestamp, oa_secret_key, signature_header)) {
        result.status = IngestStatus::bad_signature;
        result.detail = !parsed.ok() ? "body is not JSON (" + parsed.error() + "): cannot verify X-ZEvent-Signature"
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
    const JsonValue* message = member(doc, "message");
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
        if (const JsonValue* first_id = element(member(message, "msg_ids"), 0); first_id != nullptr) {
            ev.message_id = id_of(first_id);
        }
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

}  // namespace pgibot::channels::zalo
