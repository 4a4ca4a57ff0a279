#pragma once
// The one event model shared by every platform. Channels (bot/channels/*) turn webhook bodies
// into these; handlers/ decide on them; the inbox stores them as JSON (event_json.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot {

// cli: the `pgibot ask` / `pgibot chat` simulators; web: the /chat page of the server.
enum class Platform { facebook, zalo, web, cli };
std::string_view to_string(Platform p);
std::optional<Platform> platform_from_string(std::string_view s);

enum class EventKind {
    message,      // a citizen's message: text and/or attachments, maybe a quick-reply payload
    postback,     // a button / persistent-menu / Get Started payload
    follow,       // Zalo follow
    unfollow,     // Zalo unfollow
    referral,     // Facebook m.me / ad referral on an existing thread
    optin,        // Facebook opt-in
    reaction,     // a reaction to a message
    echo,         // the page's / OA's own outgoing message (sent by the bot or by a human)
    delivery,     // delivery receipt
    read,         // read / seen receipt
    comment,      // Facebook fanpage feed comment
    submit_info,  // Zalo user_submit_info (answer to request_user_info)
    timer,        // made by the runtime, not a platform: e.g. source_type "timer.tipoff_expiry"
    other         // anything else we accept but do not act on
};
std::string_view to_string(EventKind k);
std::optional<EventKind> event_kind_from_string(std::string_view s);

struct Location {
    double lat = 0;
    double lng = 0;
};

enum class AttachmentType { image, video, audio, file, sticker, gif, link, location, other };
std::string_view to_string(AttachmentType t);
std::optional<AttachmentType> attachment_type_from_string(std::string_view s);

struct Attachment {
    AttachmentType type = AttachmentType::other;
    std::string url;         // media / link URL (platform CDN links expire: download at once)
    std::string title;       // link title or file name
    std::string sticker_id;  // stickers
    std::optional<Location> location;
};

// A Facebook Pages `feed` change about a comment.
struct Comment {
    std::string comment_id;
    std::string post_id;
    std::string parent_id;
    std::string verb;       // add, edited, remove, ...
    std::string from_id;    // may be empty: `from` can be absent
    std::string from_name;
    // A top-level comment has parent_id == post_id (treating "has parent_id" as "is a reply" is a known bug).
    [[nodiscard]] bool top_level() const { return parent_id.empty() || parent_id == post_id; }
};

// Contact details a Zalo user submitted (user_submit_info).
struct SubmittedInfo {
    std::string name;
    std::string phone;
    std::string address;
};

struct Event {
    Platform platform = Platform::cli;
    EventKind kind = EventKind::other;
    std::string page_id;      // Facebook page id / Zalo OA id
    std::string user_id;      // the citizen this event is about (for echoes and receipts: the recipient)
    std::string message_id;   // mid / msg_id, empty when the platform gives none
    std::int64_t timestamp_ms = 0;
    std::string text;         // message text / comment message / postback title
    std::string payload;      // quick-reply or postback payload
    std::vector<Attachment> attachments;
    std::optional<Location> location;   // a shared location (Zalo user_send_location)
    bool standby = false;               // Facebook standby[]: another app owns the thread
    bool echo_from_human = false;       // an echo sent by a person from the page inbox / OA chat
    std::string echo_app_id;            // Facebook echo app_id, Zalo admin_id (for logs)
    std::optional<Comment> comment;
    std::optional<SubmittedInfo> submitted;
    std::string source_type;  // the platform's own name for it: "messaging.message", "user_send_text", ...
    std::string dedup_key;    // unique per logical event across redeliveries and restarts

    // Key of the per-user ordering lane: platform + page + user.
    [[nodiscard]] std::string user_key() const;
};

// JSON round trip used by the inbox. from_json never throws; nullopt on a malformed document.
std::string event_to_json(const Event& e);
std::optional<Event> event_from_json(std::string_view json);

}  // namespace pgibot
