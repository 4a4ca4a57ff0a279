#include <gtest/gtest.h>

#include <set>

#include "bot/channels/common.hpp"
#include "bot/channels/facebook/facebook_channel.hpp"
#include "bot/channels/facebook/profile.hpp"
#include "fakes.hpp"

namespace pgibot::channels {
namespace {

using test::FakeClient;
using test::read_fixture;
using test::response;

constexpr const char* kPage = "104857600123456";
constexpr const char* kUser = "7301122334455667";
constexpr const char* kSecret = "fb-app-secret-for-tests";

FacebookOptions options() {
    FacebookOptions o;
    o.page_id = kPage;
    o.app_id = "880011223344556";
    o.app_secret = kSecret;
    o.verify_token = "verify-me";
    o.page_token = "EAAB+page/token=";
    return o;
}

http::Request signed_request(const std::string& body, const std::string& secret = kSecret) {
    http::Request r;
    r.method = "POST";
    r.path = "/webhooks/facebook";
    r.body = body;
    r.headers["x-hub-signature-256"] = "sha256=" + hmac_sha256_hex(secret, body);
    return r;
}

struct Fixture : ::testing::Test {
    FakeClient client;
    FacebookChannel channel{options(), client};

    IngestResult ingest_fixture(const std::string& name) {
        auto result = channel.ingest(signed_request(read_fixture("facebook/" + name)));
        EXPECT_EQ(result.status, IngestStatus::ok) << name << ": " << result.detail;
        return result;
    }
    Event single(const std::string& name) {
        auto result = ingest_fixture(name);
        EXPECT_EQ(result.events.size(), 1U) << name;
        return result.events.empty() ? Event{} : result.events.front();
    }
};

// --- signatures: facebook-payloads.md §13 ---------------------------------------------------------

TEST(FacebookSignature, ReferenceVectors) {
    const std::string body =
        R"({"object":"page","entry":[{"id":"PAGE_ID","time":1458692752478,"messaging":[{"sender":{"id":"PSID"},)"
        R"("recipient":{"id":"PAGE_ID"},"timestamp":1458692752478,)"
        R"("message":{"mid":"mid.1457764197618:41d102a3e1ae206a38",)"
        R"("text":"hello, world!"}}]}]})";
    ASSERT_EQ(body.size(), 239U);
    EXPECT_TRUE(facebook::verify_signature(
        "test_app_secret", body, "sha256=eec1906d2e5dc1a43a1014f196b421cf9d7b6696ead890eadf906dbbfe03f791"));
    EXPECT_TRUE(facebook::verify_signature(
        "test_app_secret", body, "sha256=EEC1906D2E5DC1A43A1014F196B421CF9D7B6696EAD890EADF906DBBFE03F791"));
    EXPECT_FALSE(facebook::verify_signature(
        "test_app_secret", body + " ", "sha256=eec1906d2e5dc1a43a1014f196b421cf9d7b6696ead890eadf906dbbfe03f791"));
    EXPECT_FALSE(facebook::verify_signature("test_app_secret", body, "sha1=0600f7e1796ae99ceee406bc24742ed367d67a2a"));

    const std::string escaped = R"({"text":"c\u00f3 g\u00ec hot"})";
    const std::string raw_utf8 = "{\"text\":\"có gì hot\"}";
    EXPECT_TRUE(facebook::verify_signature(
        "test_app_secret", escaped, "sha256=3c1e93c655f6c69d9e82e228a815acc98bb247e5be6be4a7291844e1ebf369a0"));
    EXPECT_TRUE(facebook::verify_signature(
        "test_app_secret", raw_utf8, "sha256=d6dbced85041ef6092602f466324c9d23e9a55a69b9f4978f017b6c927aab1a6"));
    // Same JSON value, other bytes: the escaped body's signature does not fit the decoded body.
    EXPECT_FALSE(facebook::verify_signature(
        "test_app_secret", raw_utf8, "sha256=3c1e93c655f6c69d9e82e228a815acc98bb247e5be6be4a7291844e1ebf369a0"));
}

TEST(FacebookSignature, EmptyOrOddHeaders) {
    EXPECT_FALSE(facebook::verify_signature("s", "{}", ""));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256="));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256=zz"));
    EXPECT_FALSE(facebook::verify_signature("", "{}", "sha256=" + hmac_sha256_hex("", "{}")));
    // The right digest, spoiled: one digit too many or too few, a non-hex digit, spaces around.
    const std::string good = hmac_sha256_hex("s", "{}");
    ASSERT_TRUE(facebook::verify_signature("s", "{}", "sha256=" + good));
    EXPECT_TRUE(facebook::verify_signature("s", "{}", "SHA256=" + good));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256=" + good + "0"));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256=" + good.substr(1)));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256=" + good.substr(0, 63) + "g"));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256= " + good));
    EXPECT_FALSE(facebook::verify_signature("s", "{}", "sha256=" + good + " "));
}

TEST(FacebookSignature, HexDecoding) {
    std::array<unsigned char, 3> out{};
    ASSERT_TRUE(from_hex("0aFf10", out));
    EXPECT_EQ(out, (std::array<unsigned char, 3>{0x0a, 0xff, 0x10}));
    EXPECT_FALSE(from_hex("0aff1", out));
    EXPECT_FALSE(from_hex("0aff100", out));
    EXPECT_FALSE(from_hex("0aff1x", out));
    EXPECT_FALSE(from_hex("-1ff10", out));
}

TEST_F(Fixture, MissingOrWrongSignatureIsRejectedBeforeParsing) {
    http::Request r;
    r.body = read_fixture("facebook/message_text_vi.json");
    EXPECT_EQ(channel.ingest(r).status, IngestStatus::bad_signature);
    EXPECT_EQ(channel.ingest(signed_request(r.body, "other-secret")).status, IngestStatus::bad_signature);
    // Junk with a bad signature is a signature problem, not a parse problem.
    EXPECT_EQ(channel.ingest(signed_request("not json", "other-secret")).status, IngestStatus::bad_signature);
    auto tampered = signed_request(r.body);
    tampered.body[tampered.body.size() - 3] = ' ';
    EXPECT_EQ(channel.ingest(tampered).status, IngestStatus::bad_signature);
}

TEST_F(Fixture, MalformedEnvelopes) {
    EXPECT_EQ(channel.ingest(signed_request("not json")).status, IngestStatus::malformed);
    EXPECT_EQ(channel.ingest(signed_request("[]")).status, IngestStatus::malformed);
    EXPECT_EQ(channel.ingest(signed_request(R"({"object":"user","entry":[]})")).status, IngestStatus::malformed);
    EXPECT_EQ(channel.ingest(signed_request(R"({"object":"page","entry":{}})")).status, IngestStatus::malformed);
    // Meta's own smoke test: an item with a string message is skipped, not fatal.
    const auto r =
        channel.ingest(signed_request(R"({"object":"page","entry":[{"messaging":[{"message":"TEST_MESSAGE"}]}]})"));
    EXPECT_EQ(r.status, IngestStatus::ok);
    EXPECT_TRUE(r.events.empty());
    EXPECT_NE(r.detail.find("skipped"), std::string::npos);
}

TEST(FacebookChannelConfig, DisabledWithoutSecrets) {
    FakeClient client;
    auto o = options();
    o.app_secret.clear();
    FacebookChannel channel(o, client);
    EXPECT_FALSE(channel.enabled());
    EXPECT_EQ(channel.ingest(signed_request("{}")).status, IngestStatus::disabled);
    EXPECT_EQ(channel.platform(), Platform::facebook);
}

// --- handshake ------------------------------------------------------------------------------------

TEST_F(Fixture, Handshake) {
    facebook::QueryMap q{
        {"hub.mode", "subscribe"}, {"hub.verify_token", "verify-me"}, {"hub.challenge", "CHALLENGE_ACCEPTED"}};
    EXPECT_EQ(channel.verify_handshake(q), "CHALLENGE_ACCEPTED");
    q["hub.verify_token"] = "verify-mf";
    EXPECT_FALSE(channel.verify_handshake(q));
    q["hub.verify_token"] = "verify-me";
    q["hub.mode"] = "unsubscribe";
    EXPECT_FALSE(channel.verify_handshake(q));
    q.erase("hub.mode");
    EXPECT_FALSE(channel.verify_handshake(q));
    EXPECT_FALSE(
        facebook::verify_handshake({{"hub.mode", "subscribe"}, {"hub.verify_token", ""}, {"hub.challenge", "1"}}, ""));
}

// --- parsing every fixture ---------------------------------------------------------------------------

TEST_F(Fixture, VietnameseEscapedText) {
    const auto e = single("message_text_vi.json");
    EXPECT_EQ(e.platform, Platform::facebook);
    EXPECT_EQ(e.kind, EventKind::message);
    EXPECT_EQ(e.page_id, kPage);
    EXPECT_EQ(e.user_id, kUser);
    EXPECT_EQ(e.text, "Khói đen ở Lạng Sơn, cần báo ngay!");
    EXPECT_EQ(e.message_id, "m_vi_0001");
    EXPECT_EQ(e.timestamp_ms, 1767225600100);
    EXPECT_EQ(e.source_type, "messaging.message");
    EXPECT_EQ(e.dedup_key, "fb:104857600123456:mid:m_vi_0001");
    EXPECT_FALSE(e.standby);
}

TEST_F(Fixture, QuickReply) {
    const auto e = single("message_quick_reply.json");
    EXPECT_EQ(e.kind, EventKind::message);
    EXPECT_EQ(e.text, "Phản ánh");
    EXPECT_EQ(e.payload, "MENU:report");
}

TEST_F(Fixture, MediaAttachments) {
    const auto e = single("message_media.json");
    ASSERT_EQ(e.attachments.size(), 4U);
    EXPECT_EQ(e.attachments[0].type, AttachmentType::image);
    EXPECT_EQ(e.attachments[0].url, "https://cdn.example.test/img/1.jpg");
    EXPECT_EQ(e.attachments[1].type, AttachmentType::video);
    EXPECT_EQ(e.attachments[2].type, AttachmentType::audio);
    EXPECT_EQ(e.attachments[3].type, AttachmentType::file);
    EXPECT_TRUE(e.text.empty());
}

TEST_F(Fixture, StickerTransitionDropsTheDuplicateImage) {
    const auto e = single("message_sticker.json");
    ASSERT_EQ(e.attachments.size(), 1U);
    EXPECT_EQ(e.attachments[0].type, AttachmentType::sticker);
    EXPECT_EQ(e.attachments[0].sticker_id, "369239263222822");  // a JSON number, kept exact
}

TEST_F(Fixture, LegacyLikeSticker) {
    const auto e = single("message_sticker_legacy.json");
    ASSERT_EQ(e.attachments.size(), 1U);
    EXPECT_EQ(e.attachments[0].type, AttachmentType::sticker);
    EXPECT_EQ(e.attachments[0].sticker_id, "369239343222814");
    EXPECT_EQ(e.attachments[0].url, "https://cdn.example.test/stk/old-like.png");
}

TEST_F(Fixture, FallbackBecomesLink) {
    const auto e = single("message_fallback_link.json");
    ASSERT_EQ(e.attachments.size(), 1U);
    EXPECT_EQ(e.attachments[0].type, AttachmentType::link);
    EXPECT_EQ(e.attachments[0].url, "https://baochinhphu.example.test/a");
    EXPECT_EQ(e.attachments[0].title, "Tin môi trường");
}

TEST_F(Fixture, LegacyLocationWithNumericIds) {
    const auto e = single("location_legacy.json");
    EXPECT_EQ(e.page_id, kPage);
    EXPECT_EQ(e.user_id, kUser);
    ASSERT_EQ(e.attachments.size(), 1U);
    EXPECT_EQ(e.attachments[0].type, AttachmentType::location);
    ASSERT_TRUE(e.location.has_value());
    EXPECT_DOUBLE_EQ(e.location->lat, 21.853708);
    EXPECT_DOUBLE_EQ(e.location->lng, 106.761519);
    EXPECT_EQ(e.attachments[0].title, "Vị trí của tôi");
    EXPECT_EQ(e.attachments[0].url.rfind("https://www.facebook.com/l.php?u=https%3A", 0), 0U);
}

TEST_F(Fixture, Echoes) {
    const auto ours = single("echo_ours.json");
    EXPECT_EQ(ours.kind, EventKind::echo);
    EXPECT_EQ(ours.user_id, kUser);  // the recipient
    EXPECT_EQ(ours.page_id, kPage);
    EXPECT_EQ(ours.echo_app_id, "880011223344556");
    EXPECT_FALSE(ours.echo_from_human);
    EXPECT_EQ(ours.dedup_key, "fb:104857600123456:mid:m_echo_0001");
    EXPECT_EQ(ours.source_type, "messaging.message_echo");

    const auto human = single("echo_human.json");
    EXPECT_TRUE(human.echo_from_human);
    EXPECT_EQ(human.echo_app_id, "263902037430900");
    EXPECT_EQ(human.text, "Chào anh, tôi là cán bộ trực.");

    const auto no_app = single("echo_no_app_id.json");
    EXPECT_TRUE(no_app.echo_from_human);
    EXPECT_TRUE(no_app.echo_app_id.empty());
}

TEST_F(Fixture, Postbacks) {
    const auto with_mid = single("postback_with_mid.json");
    EXPECT_EQ(with_mid.kind, EventKind::postback);
    EXPECT_EQ(with_mid.payload, "GET_STARTED");
    EXPECT_EQ(with_mid.text, "Bắt đầu");
    EXPECT_EQ(with_mid.message_id, "m_pb_0001");
    EXPECT_EQ(with_mid.dedup_key, "fb:104857600123456:mid:m_pb_0001");

    const auto without = single("postback_without_mid.json");
    EXPECT_EQ(without.payload, "MENU:faq");
    EXPECT_EQ(without.dedup_key, "fb:104857600123456:pb:7301122334455667:1767225601234:MENU:faq");
}

TEST_F(Fixture, ReferralOptinReaction) {
    const auto ref = single("referral.json");
    EXPECT_EQ(ref.kind, EventKind::referral);
    EXPECT_EQ(ref.payload, "poster-qr-1");
    EXPECT_EQ(ref.user_id, kUser);

    const auto optin = single("optin.json");
    EXPECT_EQ(optin.kind, EventKind::optin);
    EXPECT_EQ(optin.payload, "NOTICES");

    const auto reaction = single("reaction.json");
    EXPECT_EQ(reaction.kind, EventKind::reaction);
    EXPECT_EQ(reaction.text, "love");
    EXPECT_EQ(reaction.payload, "react");
    EXPECT_EQ(reaction.message_id, "m_out_0009");

    for (const auto* e : {&ref, &optin, &reaction}) {
        EXPECT_EQ(e->dedup_key.rfind("fb:104857600123456:", 0), 0U);
        EXPECT_EQ(e->timestamp_ms, 1767225600100);
    }
    EXPECT_NE(ref.dedup_key, optin.dedup_key);
}

TEST_F(Fixture, Receipts) {
    const auto delivery = single("delivery.json");
    EXPECT_EQ(delivery.kind, EventKind::delivery);
    EXPECT_EQ(delivery.user_id, kUser);
    EXPECT_EQ(delivery.dedup_key, "fb:104857600123456:delivery:7301122334455667:1767225599000");
    EXPECT_EQ(delivery.timestamp_ms, 1767225600000);  // "timestamp":0 falls back to entry.time
    EXPECT_EQ(delivery.message_id, "m_out_0010");

    const auto read = single("read.json");
    EXPECT_EQ(read.kind, EventKind::read);
    EXPECT_EQ(read.dedup_key, "fb:104857600123456:read:7301122334455667:1767225599500");
    EXPECT_EQ(read.timestamp_ms, 1767225600200);
}

TEST_F(Fixture, Standby) {
    const auto r = ingest_fixture("standby.json");
    ASSERT_EQ(r.events.size(), 2U);
    EXPECT_TRUE(r.events[0].standby);
    EXPECT_EQ(r.events[0].kind, EventKind::message);
    EXPECT_EQ(r.events[0].source_type, "standby.message");
    EXPECT_TRUE(r.events[1].standby);
    EXPECT_EQ(r.events[1].kind, EventKind::postback);
    EXPECT_TRUE(r.events[1].payload.empty());  // standby postbacks carry no payload
}

TEST_F(Fixture, HandoverIsOther) {
    const auto e = single("handover.json");
    EXPECT_EQ(e.kind, EventKind::other);
    EXPECT_EQ(e.source_type, "messaging.pass_thread_control");
    EXPECT_FALSE(e.dedup_key.empty());
}

TEST_F(Fixture, Comments) {
    const auto user = single("comment_user.json");
    EXPECT_EQ(user.kind, EventKind::comment);
    ASSERT_TRUE(user.comment.has_value());
    EXPECT_EQ(user.comment->comment_id, "900000000000001_500000000000001");
    EXPECT_EQ(user.comment->post_id, "104857600123456_900000000000001");
    EXPECT_TRUE(user.comment->top_level());
    EXPECT_EQ(user.comment->verb, "add");
    EXPECT_EQ(user.comment->from_id, kUser);
    EXPECT_EQ(user.comment->from_name, "Nguyễn Văn An");
    EXPECT_EQ(user.user_id, kUser);
    EXPECT_EQ(user.text, "Khu công nghiệp xả khói đen cả đêm");
    EXPECT_EQ(user.timestamp_ms, 1767225690000);  // seconds -> ms
    EXPECT_EQ(user.dedup_key, "fb:104857600123456:c:900000000000001_500000000000001:add");

    const auto own = single("comment_reply_by_page.json");
    ASSERT_TRUE(own.comment.has_value());
    EXPECT_EQ(own.comment->from_id, own.page_id);  // the page's own comment: handlers ignore it
    EXPECT_FALSE(own.comment->top_level());

    const auto legacy = single("comment_legacy_numeric.json");
    ASSERT_TRUE(legacy.comment.has_value());
    EXPECT_EQ(legacy.page_id, kPage);
    EXPECT_EQ(legacy.comment->from_id, kUser);
    EXPECT_EQ(legacy.comment->from_name, "Trần Thị Bình");
    EXPECT_EQ(legacy.comment->verb, "edited");
    EXPECT_EQ(legacy.dedup_key, "fb:104857600123456:c:900000000000002_500000000000003:edited");
}

TEST_F(Fixture, FeedPostIsOther) {
    const auto e = single("feed_post.json");
    EXPECT_EQ(e.kind, EventKind::other);
    EXPECT_EQ(e.source_type, "changes.feed.status");
}

TEST_F(Fixture, BatchedEntriesAndItemsInOrder) {
    const auto r = ingest_fixture("batch.json");
    ASSERT_EQ(r.events.size(), 5U);
    EXPECT_EQ(r.events[0].text, "một");
    EXPECT_EQ(r.events[1].text, "hai");
    EXPECT_EQ(r.events[2].kind, EventKind::read);
    EXPECT_EQ(r.events[3].kind, EventKind::postback);
    EXPECT_EQ(r.events[3].user_id, "7301122334455668");
    EXPECT_EQ(r.events[4].kind, EventKind::comment);
    std::set<std::string> keys;
    for (const auto& e : r.events) keys.insert(e.dedup_key);
    EXPECT_EQ(keys.size(), 5U);
    // Redelivery of the same body gives the same keys.
    const auto again = ingest_fixture("batch.json");
    for (std::size_t i = 0; i < r.events.size(); ++i) EXPECT_EQ(again.events[i].dedup_key, r.events[i].dedup_key);
}

// --- render ------------------------------------------------------------------------------------------

Json parse(const std::string& body) {
    auto j = Json::parse(body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << body.substr(0, 200);
    return j;
}

TEST_F(Fixture, RenderShortText) {
    OutMessage m;
    m.text = "Xin chào!";
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 1U);
    const auto j = parse(bodies[0]);
    EXPECT_EQ(j["recipient"]["id"], kUser);
    EXPECT_EQ(j["messaging_type"], "RESPONSE");
    EXPECT_EQ(j["message"]["text"], "Xin chào!");
    EXPECT_FALSE(j["message"].contains("quick_replies"));
    EXPECT_TRUE(channel.render(OutMessage{}, kUser).empty());
}

std::string long_vietnamese(std::size_t min_chars) {
    const std::string sentence =
        "Khói đen từ khu công nghiệp bay về phía khu dân cư gây khó thở cho người già và trẻ em. ";
    std::string s;
    while (utf8_length(s) < min_chars) s += sentence;
    return s;
}

TEST_F(Fixture, RenderSplitsVietnameseAtSentences) {
    OutMessage m;
    m.text = long_vietnamese(4500);
    m.quick_replies = {{"Menu", "MENU"}};
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 3U);
    std::string joined;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto j = parse(bodies[i]);  // the parse also checks the UTF-8
        const std::string text = j["message"]["text"];
        EXPECT_LE(utf8_length(text), facebook::kMaxTextChars);
        if (i + 1 < bodies.size()) {
            EXPECT_GT(utf8_length(text), 1900U);  // sentence ends near the limit
        }
        EXPECT_EQ(text.back(), '.');
        EXPECT_EQ(j["message"].contains("quick_replies"), i + 1 == bodies.size());
        joined += (joined.empty() ? "" : " ") + text;
    }
    EXPECT_EQ(joined + " ", m.text);
}

TEST_F(Fixture, RenderNearTheLimit) {
    std::string text;
    for (int i = 0; i < 1999; ++i) text += "ữ";
    OutMessage m;
    m.text = text + "a";
    EXPECT_EQ(channel.render(m, kUser).size(), 1U);  // exactly 2000 characters, ~6000 bytes
    m.text = text + "ab";
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 2U);
    EXPECT_EQ(utf8_length(parse(bodies[0])["message"]["text"].get<std::string>()), 2000U);
    EXPECT_EQ(parse(bodies[1])["message"]["text"], "b");
}

TEST_F(Fixture, RenderQuickReplyCaps) {
    OutMessage m;
    m.text = "Chọn một mục";
    for (int i = 0; i < 15; ++i) m.quick_replies.push_back({"Mục số " + std::to_string(i), "P" + std::to_string(i)});
    m.quick_replies[0].title = "Thông tin ô nhiễm không khí";  // 27 characters
    m.quick_replies[1].payload = std::string(1001, 'x');      // too long: dropped
    const auto j = parse(channel.render(m, kUser).at(0));
    const auto& qrs = j["message"]["quick_replies"];
    ASSERT_EQ(qrs.size(), 13U);
    EXPECT_EQ(qrs[0]["title"], "Thông tin ô nhiễm kh");
    EXPECT_EQ(qrs[0]["content_type"], "text");
    EXPECT_EQ(qrs[0]["payload"], "P0");
    EXPECT_EQ(qrs[1]["payload"], "P2");
    for (const auto& qr : qrs) EXPECT_LE(utf8_length(qr["title"].get<std::string>()), 20U);
}

TEST_F(Fixture, RenderPrivateReplyIsOneMessageToTheComment) {
    OutMessage m;
    m.text = long_vietnamese(3000);
    m.comment_id = "900000000000001_500000000000001";
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 1U);
    const auto j = parse(bodies[0]);
    EXPECT_EQ(j["recipient"]["comment_id"], "900000000000001_500000000000001");
    EXPECT_FALSE(j["recipient"].contains("id"));
}

TEST_F(Fixture, RenderSenderAction) {
    const auto j = parse(channel.render_sender_action(kUser, facebook::SenderAction::typing_on));
    EXPECT_EQ(j["sender_action"], "typing_on");
    EXPECT_EQ(j["recipient"]["id"], kUser);
    EXPECT_FALSE(j.contains("message"));
}

// --- send ------------------------------------------------------------------------------------------

TEST_F(Fixture, SendPostsWithTheEncodedToken) {
    client.handler = [](const http::ClientRequest&) {
        return response(200, R"({"recipient_id":"7301122334455667","message_id":"m_sent_1"})");
    };
    const auto result = channel.send(R"({"recipient":{"id":"1"}})");
    EXPECT_EQ(result.outcome, SendOutcome::sent);
    EXPECT_EQ(result.platform_message_id, "m_sent_1");
    const auto reqs = client.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].url,
              "https://graph.facebook.com/v25.0/104857600123456/messages?access_token=EAAB%2Bpage%2Ftoken%3D");
    EXPECT_EQ(reqs[0].body, R"({"recipient":{"id":"1"}})");
    EXPECT_EQ(test::header_of(reqs[0], "Content-Type"), "application/json");
}

struct MappingCase {
    int status;
    std::string body;
    SendOutcome expected;
};

TEST_F(Fixture, SendOutcomeMapping) {
    auto err = [](int code, int sub) {
        std::string e = R"({"error":{"message":"m","type":"OAuthException","code":)" + std::to_string(code);
        if (sub != 0) e += R"(,"error_subcode":)" + std::to_string(sub);
        return e + R"(,"fbtrace_id":"TRACE1"}})";
    };
    const std::vector<MappingCase> cases = {
        {200, R"({"message_id":"x"})", SendOutcome::sent},
        {200, R"({"recipient_id":"1"})", SendOutcome::sent},  // sender_action answers
        {500, "", SendOutcome::retry},
        {503, "<html>busy</html>", SendOutcome::retry},
        {400, err(1200, 0), SendOutcome::retry},
        {400, err(2, 0), SendOutcome::retry},
        {400, err(4, 0), SendOutcome::retry},
        {400, err(17, 0), SendOutcome::retry},
        {400, err(341, 0), SendOutcome::retry},
        {400, err(613, 2534040), SendOutcome::retry},
        {400, err(2018321, 0), SendOutcome::retry},
        {400, err(10, 2018278), SendOutcome::unreachable},
        {400, err(10, 2534022), SendOutcome::unreachable},
        {400, err(10, 2018065), SendOutcome::unreachable},
        {400, err(10, 2018108), SendOutcome::unreachable},
        {400, err(200, 1545041), SendOutcome::unreachable},
        {400, err(551, 0), SendOutcome::unreachable},
        {400, err(551, 1545041), SendOutcome::unreachable},
        {400, err(100, 2018001), SendOutcome::unreachable},
        {401, err(190, 460), SendOutcome::auth},
        {400, err(190, 0), SendOutcome::auth},
        {500, err(1, 1357046), SendOutcome::sent},
        {400, err(100, 0), SendOutcome::failed},
        {400, err(10, 1893063), SendOutcome::failed},
        {400, err(200, 2018028), SendOutcome::failed},
        {400, "", SendOutcome::failed},
        {500, err(100, 0), SendOutcome::retry},
    };
    for (const auto& c : cases) {
        client.handler = [&c](const http::ClientRequest&) { return response(c.status, c.body); };
        const auto r = channel.send("{}");
        EXPECT_EQ(r.outcome, c.expected) << c.status << " " << c.body << " -> " << to_string(r.outcome);
    }
    client.handler = [&](const http::ClientRequest&) { return response(400, err(10, 2018278)); };
    const auto r = channel.send("{}");
    EXPECT_NE(r.detail.find("fbtrace_id=TRACE1"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("code=10"), std::string::npos);
    EXPECT_NE(r.detail.find("subcode=2018278"), std::string::npos);
}

TEST_F(Fixture, SendTransportErrorAndRetryAfter) {
    client.handler = [](const http::ClientRequest&) {
        http::ClientResponse r;
        r.error = "Could not resolve host for url ...?access_token=EAAB%2Bpage%2Ftoken%3D";
        return r;
    };
    auto r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::retry);
    EXPECT_EQ(r.detail.find("EAAB"), std::string::npos) << r.detail;

    client.handler = [](const http::ClientRequest&) {
        return response(429, R"({"error":{"code":613,"message":"limit"}})", {{"retry-after", "30"}});
    };
    r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::retry);
    ASSERT_TRUE(r.retry_after.has_value());
    EXPECT_EQ(r.retry_after->count(), 30000);
}

TEST_F(Fixture, SecretsNeverInDetail) {
    client.handler = [](const http::ClientRequest&) {
        return response(400, R"({"error":{"code":190,"message":"Bad token EAAB+page/token= for page"}})");
    };
    const auto r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::auth);
    EXPECT_EQ(r.detail.find("EAAB+page/token="), std::string::npos) << r.detail;
    EXPECT_EQ(r.detail.find(kSecret), std::string::npos);
}

// --- profile and subscription ----------------------------------------------------------------------

TEST(FacebookProfile, RendersAndSendsTheDocumentedShape) {
    FakeClient client;
    client.handler = [](const http::ClientRequest&) { return response(200, R"({"result":"success"})"); };
    facebook::ProfileSettings s;
    s.greeting = "Xin chào {{user_first_name}}! Đây là trợ lý của Sở TN&MT.";
    s.ice_breakers = {{"PGI là gì?", "TOPIC:pgi.what"}, {"Phản ánh ô nhiễm", "REPORT"}};
    s.menu = {{"Hỏi đáp", "MENU:faq"}, {"Phản ánh ô nhiễm", "REPORT"}};
    const auto j = Json::parse(facebook::render_profile(s));
    EXPECT_EQ(j["get_started"]["payload"], "GET_STARTED");
    EXPECT_EQ(j["greeting"][0]["locale"], "default");
    EXPECT_EQ(j["ice_breakers"][0]["call_to_actions"][1]["payload"], "REPORT");
    EXPECT_EQ(j["persistent_menu"][0]["call_to_actions"][0]["type"], "postback");
    EXPECT_EQ(j["persistent_menu"][0]["composer_input_disabled"], false);

    auto r = facebook::setup_profile(client, options(), s);
    EXPECT_TRUE(r.ok) << r.detail;
    client.handler = [](const http::ClientRequest&) { return response(200, R"({"success":false})"); };
    EXPECT_FALSE(facebook::setup_profile(client, options(), s).ok);
    client.handler = [](const http::ClientRequest&) { return response(200, R"({"success":true})"); };
    r = facebook::setup_profile(client, options(), s);
    EXPECT_TRUE(r.ok) << r.detail;
    const auto reqs = client.requests();
    EXPECT_EQ(reqs.back().url,
              "https://graph.facebook.com/v25.0/me/messenger_profile?access_token=EAAB%2Bpage%2Ftoken%3D");
    EXPECT_EQ(reqs.back().method, "POST");
}

TEST(FacebookProfile, RejectsInvalidSettingsWithoutSending) {
    FakeClient client;
    facebook::ProfileSettings s;
    s.greeting = std::string(161, 'a');
    s.ice_breakers = {{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}, {"5", "e"}};
    s.menu = {{"Thông tin ô nhiễm không khí", "X"}};
    const auto r = facebook::setup_profile(client, options(), s);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.problems.size(), 3U);
    EXPECT_TRUE(client.requests().empty());
}

TEST(FacebookSubscription, SubscribeAndCheck) {
    FakeClient client;
    client.handler = [](const http::ClientRequest& req) {
        if (req.method == "POST") return response(200, R"({"success":"true"})");
        return response(200, R"({"data":[{"id":"999","subscribed_fields":["messages"]},)"
                             R"({"id":"880011223344556","subscribed_fields":["messages","messaging_postbacks",)"
                             R"("message_echoes","message_deliveries","message_reads","messaging_referrals",)"
                             R"("messaging_optins","message_reactions"]}]})");
    };
    const auto sub = facebook::subscribe_page(client, options());
    EXPECT_TRUE(sub.ok) << sub.detail;
    EXPECT_EQ(client.requests()[0].url,
              "https://graph.facebook.com/v25.0/104857600123456/subscribed_apps?subscribed_fields=messages%2C"
              "messaging_postbacks%2Cmessage_echoes%2Cmessage_deliveries%2Cmessage_reads%2Cmessaging_referrals%2C"
              "messaging_optins%2Cmessage_reactions%2Cfeed&access_token=EAAB%2Bpage%2Ftoken%3D");
    const auto status = facebook::check_subscription(client, options());
    EXPECT_TRUE(status.checked);
    EXPECT_FALSE(status.subscribed);
    EXPECT_EQ(status.missing_fields, std::vector<std::string>{"feed"});
    EXPECT_EQ(client.requests()[1].method, "GET");

    client.handler = [](const http::ClientRequest&) { return response(200, R"({"data":[]})"); };
    const auto lost = facebook::check_subscription(client, options());
    EXPECT_TRUE(lost.checked);
    EXPECT_FALSE(lost.subscribed);
    EXPECT_NE(lost.detail.find("not subscribed"), std::string::npos);

    client.handler = [](const http::ClientRequest&) {
        return response(400, R"({"error":{"code":190,"message":"expired","fbtrace_id":"T2"}})");
    };
    const auto failed = facebook::check_subscription(client, options());
    EXPECT_FALSE(failed.checked);
    EXPECT_NE(failed.detail.find("code=190"), std::string::npos);
}

}  // namespace
}  // namespace pgibot::channels
