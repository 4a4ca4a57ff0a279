// JSON round trips of the event model, outgoing messages and conversation state; malformed input never throws.
#include <gtest/gtest.h>

#include <string>

#include "handlers/model/event.hpp"
#include "handlers/model/reply.hpp"
#include "handlers/model/state.hpp"

namespace pgibot {
namespace {

Event full_event() {
    Event e;
    e.platform = Platform::zalo;
    e.kind = EventKind::message;
    e.page_id = "oa-1";
    e.user_id = "8421778899001122334";  // > 2^53: ids stay strings
    e.message_id = "mid.1";
    e.timestamp_ms = 1764400000123;
    e.text = "Khói bụi ở Đồng Đăng 🌫️";
    e.payload = "TOPIC:pgi.what";
    Attachment img;
    img.type = AttachmentType::image;
    img.url = "https://cdn.example/x.jpg";
    Attachment loc;
    loc.type = AttachmentType::location;
    loc.location = Location{21.85, 106.76};
    Attachment sticker;
    sticker.type = AttachmentType::sticker;
    sticker.sticker_id = "369239263222822";
    e.attachments = {img, loc, sticker};
    e.location = Location{21.8537, 106.7613};
    e.standby = true;
    e.echo_from_human = true;
    e.echo_app_id = "admin-7";
    e.comment = Comment{"c1", "p1", "p1", "add", "u9", "Nguyễn Văn A"};
    e.submitted = SubmittedInfo{"Trần B", "0912345678", "Phường Đông Kinh"};
    e.source_type = "user_send_text";
    e.dedup_key = "zalo:oa-1:mid.1";
    return e;
}

TEST(EventJson, RoundTripKeepsEveryField) {
    const Event e = full_event();
    const auto back = event_from_json(event_to_json(e));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->platform, Platform::zalo);
    EXPECT_EQ(back->kind, EventKind::message);
    EXPECT_EQ(back->page_id, e.page_id);
    EXPECT_EQ(back->user_id, e.user_id);
    EXPECT_EQ(back->message_id, e.message_id);
    EXPECT_EQ(back->timestamp_ms, e.timestamp_ms);
    EXPECT_EQ(back->text, e.text);
    EXPECT_EQ(back->payload, e.payload);
    ASSERT_EQ(back->attachments.size(), 3u);
    EXPECT_EQ(back->attachments[0].type, AttachmentType::image);
    EXPECT_EQ(back->attachments[0].url, e.attachments[0].url);
    ASSERT_TRUE(back->attachments[1].location.has_value());
    EXPECT_DOUBLE_EQ(back->attachments[1].location->lat, 21.85);
    EXPECT_EQ(back->attachments[2].sticker_id, "369239263222822");
    ASSERT_TRUE(back->location.has_value());
    EXPECT_DOUBLE_EQ(back->location->lng, 106.7613);
    EXPECT_TRUE(back->standby);
    EXPECT_TRUE(back->echo_from_human);
    EXPECT_EQ(back->echo_app_id, "admin-7");
    ASSERT_TRUE(back->comment.has_value());
    EXPECT_EQ(back->comment->comment_id, "c1");
    EXPECT_EQ(back->comment->from_name, "Nguyễn Văn A");
    EXPECT_TRUE(back->comment->top_level());
    ASSERT_TRUE(back->submitted.has_value());
    EXPECT_EQ(back->submitted->phone, "0912345678");
    EXPECT_EQ(back->source_type, e.source_type);
    EXPECT_EQ(back->dedup_key, e.dedup_key);
    // A second trip gives the very same document.
    EXPECT_EQ(event_to_json(*back), event_to_json(e));
}

TEST(EventJson, MinimalEventKeepsAbsentOptionals) {
    Event e;
    e.platform = Platform::facebook;
    e.kind = EventKind::read;
    const auto back = event_from_json(event_to_json(e));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, EventKind::read);
    EXPECT_FALSE(back->location.has_value());
    EXPECT_FALSE(back->comment.has_value());
    EXPECT_FALSE(back->submitted.has_value());
    EXPECT_TRUE(back->attachments.empty());
}

TEST(EventJson, MalformedDocumentsGiveNullopt) {
    for (const char* bad : {"", "{", "null", "[]", "42", "\"x\"", R"({"platform":"facebook"})",
                            R"({"platform":"myspace","kind":"message"})", R"({"platform":"zalo","kind":"hug"})",
                            R"({"platform":1,"kind":"message"})",
                            R"({"platform":"zalo","kind":"message","text":5})",
                            R"({"platform":"zalo","kind":"message","timestamp_ms":"12"})",
                            R"({"platform":"zalo","kind":"message","timestamp_ms":1.5})",
                            R"({"platform":"zalo","kind":"message","timestamp_ms":18446744073709551615})",
                            R"({"platform":"zalo","kind":"message","attachments":{}})",
                            R"({"platform":"zalo","kind":"message","attachments":[5]})",
                            R"({"platform":"zalo","kind":"message","location":{"lat":"x","lng":1}})",
                            R"({"platform":"zalo","kind":"message","location":{"lat":1}})",
                            R"({"platform":"zalo","kind":"comment","comment":[]})",
                            R"({"platform":"zalo","kind":"message","standby":"yes"})"}) {
        EXPECT_FALSE(event_from_json(bad).has_value()) << bad;
    }
}

TEST(EventJson, UnknownAttachmentTypeBecomesOther) {
    const auto e = event_from_json(
        R"({"platform":"facebook","kind":"message","attachments":[{"type":"ig_reel","url":"u"}]})");
    ASSERT_TRUE(e.has_value());
    ASSERT_EQ(e->attachments.size(), 1u);
    EXPECT_EQ(e->attachments[0].type, AttachmentType::other);
    EXPECT_EQ(e->attachments[0].url, "u");
}

TEST(EventJson, InvalidUtf8DoesNotThrow) {
    Event e;
    e.kind = EventKind::message;
    e.text = std::string("ab\xff\xfe", 4);
    std::string json;
    EXPECT_NO_THROW(json = event_to_json(e));
    EXPECT_TRUE(event_from_json(json).has_value());
}

TEST(ReplyModel, RefCodeFillsEveryPlaceholder) {
    EXPECT_EQ(with_ref_code("Mã: {ref_code}. Lưu {ref_code}!", "LS-2507-0001"), "Mã: LS-2507-0001. Lưu LS-2507-0001!");
    EXPECT_EQ(with_ref_code("none", "X"), "none");
    // A code that itself looks like the placeholder is not substituted again.
    EXPECT_EQ(with_ref_code("{ref_code}{ref_code}", "{ref_code}"), "{ref_code}{ref_code}");
}

TEST(EventModel, UserKeyAndEnumNames) {
    Event e;
    e.platform = Platform::facebook;
    e.page_id = "123";
    e.user_id = "456";
    EXPECT_EQ(e.user_key(), "facebook:123:456");
    e.platform = Platform::zalo;
    EXPECT_EQ(e.user_key(), "zalo:123:456");

    for (auto p : {Platform::facebook, Platform::zalo, Platform::web, Platform::cli}) {
        EXPECT_EQ(platform_from_string(to_string(p)), p);
    }
    for (int k = 0; k <= static_cast<int>(EventKind::other); ++k) {
        const auto kind = static_cast<EventKind>(k);
        EXPECT_EQ(event_kind_from_string(to_string(kind)), kind) << k;
    }
    for (int t = 0; t <= static_cast<int>(AttachmentType::other); ++t) {
        const auto type = static_cast<AttachmentType>(t);
        EXPECT_EQ(attachment_type_from_string(to_string(type)), type) << t;
    }
    EXPECT_EQ(to_string(EventKind::submit_info), "submit_info");
    EXPECT_FALSE(platform_from_string("Facebook").has_value());
    EXPECT_FALSE(event_kind_from_string("").has_value());
}

TEST(OutMessageJson, RoundTrip) {
    OutMessage m;
    m.text = "Chỉ số Xanh cấp tỉnh (PGI) là gì?";
    m.quick_replies = {{"PGI là gì", "TOPIC:pgi.what"}, {"Menu", "MENU"}};
    m.topic = "pgi.what";
    m.comment_id = "123_456";
    const auto back = out_message_from_json(out_message_to_json(m));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->text, m.text);
    ASSERT_EQ(back->quick_replies.size(), 2u);
    EXPECT_EQ(back->quick_replies[1].title, "Menu");
    EXPECT_EQ(back->quick_replies[1].payload, "MENU");
    EXPECT_EQ(back->topic, std::optional<std::string>("pgi.what"));
    EXPECT_EQ(back->comment_id, "123_456");

    OutMessage plain;
    plain.text = "x";
    const auto back2 = out_message_from_json(out_message_to_json(plain));
    ASSERT_TRUE(back2.has_value());
    EXPECT_FALSE(back2->topic.has_value());
    EXPECT_TRUE(back2->comment_id.empty());
    EXPECT_TRUE(back2->quick_replies.empty());
}

TEST(OutMessageJson, MalformedGivesNullopt) {
    for (const char* bad : {"", "[1]", R"({"text":1})", R"({"text":"a","quick_replies":"MENU"})",
                            R"({"text":"a","quick_replies":[{"title":"t","payload":7}]})",
                            R"({"text":"a","quick_replies":["x"]})", R"({"text":"a","topic":3})"}) {
        EXPECT_FALSE(out_message_from_json(bad).has_value()) << bad;
    }
}

TEST(StateJson, RoundTrip) {
    ConversationState s;
    s.greeted = true;
    s.subscribed = true;
    s.first_seen_ms = 1;
    s.last_inbound_ms = 1764400000123;
    s.human_until_ms = 1764400001000;
    s.pending = "offer_tipoff";
    s.pending_text = "có người đổ trộm rác ra suối";
    s.dialog = R"({"step":"kind","kind":"solid_waste"})";
    const ConversationState back = state_from_json(state_to_json(s));
    EXPECT_TRUE(back.greeted);
    EXPECT_TRUE(back.subscribed);
    EXPECT_EQ(back.first_seen_ms, 1);
    EXPECT_EQ(back.last_inbound_ms, s.last_inbound_ms);
    EXPECT_EQ(back.human_until_ms, s.human_until_ms);
    EXPECT_EQ(back.pending, s.pending);
    EXPECT_EQ(back.pending_text, s.pending_text);
    EXPECT_EQ(back.dialog, s.dialog);
}

TEST(StateJson, MalformedGivesFreshState) {
    for (const char* bad : {"", "{", "[]", "null", R"({"greeted":"yes","subscribed":true})",
                            R"({"subscribed":true,"human_until_ms":"soon"})", R"({"subscribed":true,"dialog":{}})"}) {
        const ConversationState s = state_from_json(bad);
        EXPECT_FALSE(s.greeted) << bad;
        EXPECT_FALSE(s.subscribed) << bad;
        EXPECT_EQ(s.human_until_ms, 0) << bad;
        EXPECT_TRUE(s.dialog.empty()) << bad;
    }
    // Missing fields take their defaults; unknown ones are ignored.
    const ConversationState s = state_from_json(R"({"subscribed":true,"future_field":[1,2]})");
    EXPECT_TRUE(s.subscribed);
    EXPECT_FALSE(s.greeted);
}

}  // namespace
}  // namespace pgibot
