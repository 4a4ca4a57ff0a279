#include <gtest/gtest.h>

#include "bot/channels/common.hpp"
#include "bot/channels/zalo/zalo_channel.hpp"
#include "fakes.hpp"

namespace pgibot::channels {
namespace {

using test::FakeClient;
using test::read_fixture;
using test::response;

constexpr const char* kApp = "4511223344556677889";
constexpr const char* kOa = "1987654321098765432";
constexpr const char* kUser = "8123456789012345678";
constexpr const char* kOaSecret = "oa-secret-for-tests";

ZaloOptions options() {
    ZaloOptions o;
    o.app_id = kApp;
    o.oa_secret_key = kOaSecret;
    o.app_secret = "app-secret-for-tests";
    return o;
}

// Signs a body the way Zalo does, reading its timestamp text.
http::Request signed_request(const std::string& body) {
    const auto doc = Json::parse(body, nullptr, false);
    http::Request r;
    r.method = "POST";
    r.body = body;
    r.headers["x-zevent-signature"] = zalo::compute_signature(kApp, body, id_of(member(doc, "timestamp")), kOaSecret);
    return r;
}

class FakeTokens final : public ZaloTokenProvider {
public:
    std::string token = "tok-1";
    std::string after_refresh = "tok-2";
    bool refresh_works = true;
    int refreshes = 0;
    std::string access_token_for_send() override { return token; }
    bool refresh_after_auth_error(std::string_view rejected) override {
        ++refreshes;
        if (!refresh_works || rejected != token) return false;
        token = after_refresh;
        return true;
    }
};

struct ZaloFixture : ::testing::Test {
    FakeClient client;
    FakeTokens tokens;
    ZaloChannel channel{options(), client, tokens};

    Event single(const std::string& name) {
        const auto r = channel.ingest(signed_request(read_fixture("zalo/" + name)));
        EXPECT_EQ(r.status, IngestStatus::ok) << name << ": " << r.detail;
        EXPECT_EQ(r.events.size(), 1U) << name;
        if (r.events.empty()) return {};
        EXPECT_EQ(r.events[0].platform, Platform::zalo);
        EXPECT_EQ(r.events[0].page_id, kOa) << name;
        EXPECT_EQ(r.events[0].user_id, kUser) << name;
        EXPECT_FALSE(r.events[0].dedup_key.empty());
        return r.events[0];
    }
};

// --- signatures: zalo-payloads.md §A1b ------------------------------------------------------------------

const std::string kBody1 =
    R"({"app_id":"360846524940903967","sender":{"id":"246845883529197922"},"user_id_by_app":"552177279717587730",)"
    R"("recipient":{"id":"388613280878808645"},"event_name":"user_send_text","message":{"text":"message",)"
    R"("msg_id":"96d3cdf3af150460909"},"timestamp":"154390853474"})";

TEST(ZaloSignature, ReferenceVectors) {
    ASSERT_EQ(kBody1.size(), 263U);
    const std::string app = "360846524940903967";
    const std::string ts = "154390853474";
    const std::string secret = "TEST_OA_SECRET_KEY";
    EXPECT_EQ(zalo::compute_signature(app, kBody1, ts, secret),
              "mac=adc0ba9d0c046b376915f3b101b0e9f716b67fa8e79bead2d898364e8cf0bc84");
    EXPECT_TRUE(zalo::verify_signature(app, kBody1, ts, secret,
                                       "mac=adc0ba9d0c046b376915f3b101b0e9f716b67fa8e79bead2d898364e8cf0bc84"));
    EXPECT_TRUE(zalo::verify_signature(app, kBody1, ts, secret,
                                       "adc0ba9d0c046b376915f3b101b0e9f716b67fa8e79bead2d898364e8cf0bc84"));
    EXPECT_TRUE(zalo::verify_signature(app, kBody1, ts, secret,
                                       "MAC=ADC0BA9D0C046B376915F3B101B0E9F716B67FA8E79BEAD2D898364E8CF0BC84"));
    // The HMAC of the same four parts is the wrong scheme.
    EXPECT_FALSE(zalo::verify_signature(app, kBody1, ts, secret,
                                        "mac=23291aa69b86123121be1bb87662a66b73c602db3e5492cdc21a2b00b991410b"));
    EXPECT_EQ(hmac_sha256_hex(secret, app + kBody1 + ts + secret),
              "23291aa69b86123121be1bb87662a66b73c602db3e5492cdc21a2b00b991410b");

    std::string body2 = kBody1;
    body2.replace(body2.find("\"text\":\"message\""), 16, "\"text\":\"Khói đen ở Lạng Sơn\"");
    EXPECT_TRUE(zalo::verify_signature(app, body2, ts, secret,
                                       "mac=1e17dbd89d324037d3ec30f7f3e85a01e2b795137cd23665a201464c244c7957"));
    EXPECT_FALSE(zalo::verify_signature(app, body2, ts, "wrong",
                                        "mac=1e17dbd89d324037d3ec30f7f3e85a01e2b795137cd23665a201464c244c7957"));
}

TEST(ZaloSignature, IngestWithTheReferenceVector) {
    const auto r = zalo::ingest_webhook(kBody1, "mac=adc0ba9d0c046b376915f3b101b0e9f716b67fa8e79bead2d898364e8cf0bc84",
                                        "360846524940903967", "TEST_OA_SECRET_KEY");
    ASSERT_EQ(r.status, IngestStatus::ok) << r.detail;
    ASSERT_EQ(r.events.size(), 1U);
    EXPECT_EQ(r.events[0].text, "message");
    EXPECT_EQ(r.events[0].dedup_key, "zl:388613280878808645:msg:96d3cdf3af150460909");
    EXPECT_EQ(r.events[0].timestamp_ms, 154390853474);
}

TEST_F(ZaloFixture, BadOrMissingSignature) {
    auto r = signed_request(read_fixture("zalo/user_send_text.json"));
    auto missing = r;
    missing.headers.clear();
    EXPECT_EQ(channel.ingest(missing).status, IngestStatus::bad_signature);
    auto wrong = r;
    wrong.headers["x-zevent-signature"] = "mac=" + std::string(64, '0');
    EXPECT_EQ(channel.ingest(wrong).status, IngestStatus::bad_signature);
    auto tampered = r;
    tampered.body.replace(tampered.body.find("PGI"), 3, "XYZ");
    EXPECT_EQ(channel.ingest(tampered).status, IngestStatus::bad_signature);
    auto junk = r;
    junk.body = "not json";
    EXPECT_EQ(channel.ingest(junk).status, IngestStatus::bad_signature);
    // Signed with the App Secret instead of the OA Secret Key.
    auto app_secret = r;
    app_secret.headers["x-zevent-signature"] =
        zalo::compute_signature(kApp, r.body, "1767225600123", "app-secret-for-tests");
    EXPECT_EQ(channel.ingest(app_secret).status, IngestStatus::bad_signature);
}

TEST_F(ZaloFixture, OtherAppIdIsRejected) {
    std::string body = read_fixture("zalo/user_send_text.json");
    body.replace(body.find(kApp), std::string(kApp).size(), "4511223344556677880");
    const auto r = channel.ingest(signed_request(body));  // signed with our app id, body names another
    EXPECT_EQ(r.status, IngestStatus::malformed);
}

TEST(ZaloChannelConfig, Disabled) {
    FakeClient client;
    FakeTokens tokens;
    auto o = options();
    o.oa_secret_key.clear();
    ZaloChannel channel(o, client, tokens);
    EXPECT_FALSE(channel.enabled());
    EXPECT_EQ(channel.ingest(http::Request{}).status, IngestStatus::disabled);
    EXPECT_EQ(channel.platform(), Platform::zalo);
}

// --- parsing every fixture --------------------------------------------------------------------------

TEST_F(ZaloFixture, Text) {
    const auto e = single("user_send_text.json");
    EXPECT_EQ(e.kind, EventKind::message);
    EXPECT_EQ(e.text, "Cho tôi hỏi về PGI");
    EXPECT_EQ(e.message_id, "a1b2c3d4e5f6a7b8c9d0");
    EXPECT_EQ(e.timestamp_ms, 1767225600123);
    EXPECT_EQ(e.source_type, "user_send_text");
    EXPECT_EQ(e.dedup_key, "zl:1987654321098765432:msg:a1b2c3d4e5f6a7b8c9d0");
    EXPECT_TRUE(e.payload.empty());
}

TEST_F(ZaloFixture, EscapedVietnameseText) {
    EXPECT_EQ(single("user_send_text_escaped.json").text, "Khói đen ở Lạng Sơn");
}

TEST_F(ZaloFixture, QueryButtonTapBecomesPayload) {
    const auto e = single("user_send_text_query.json");
    EXPECT_EQ(e.text, "#MENU:report");
    EXPECT_EQ(e.payload, "MENU:report");
}

TEST_F(ZaloFixture, BigNumericIdsStayExact) {
    const auto r = channel.ingest(signed_request(read_fixture("zalo/big_ids_numeric.json")));
    ASSERT_EQ(r.status, IngestStatus::ok) << r.detail;
    ASSERT_EQ(r.events.size(), 1U);
    EXPECT_EQ(r.events[0].user_id, "8123456789012345679");  // > 2^53: no rounding through double
    EXPECT_EQ(r.events[0].page_id, kOa);
    EXPECT_EQ(r.events[0].timestamp_ms, 1767225600999);
}

TEST_F(ZaloFixture, MediaEvents) {
    const auto image = single("user_send_image.json");
    ASSERT_EQ(image.attachments.size(), 1U);
    EXPECT_EQ(image.attachments[0].type, AttachmentType::image);
    EXPECT_EQ(image.attachments[0].url, "https://zalo.example.test/f.jpg");
    EXPECT_EQ(image.text, "Ảnh khói");

    EXPECT_EQ(single("user_send_gif.json").attachments.at(0).type, AttachmentType::gif);
    EXPECT_EQ(single("user_send_audio.json").attachments.at(0).url, "https://zalo.example.test/voice.amr");
    EXPECT_EQ(single("user_send_video.json").attachments.at(0).type, AttachmentType::video);

    const auto file = single("user_send_file.json");
    EXPECT_EQ(file.attachments.at(0).type, AttachmentType::file);
    EXPECT_EQ(file.attachments.at(0).title, "bien-ban.pdf");

    const auto sticker = single("user_send_sticker.json");
    EXPECT_EQ(sticker.attachments.at(0).type, AttachmentType::sticker);
    EXPECT_EQ(sticker.attachments.at(0).sticker_id, "b2f1c0ffee");

    const auto link = single("user_send_link.json");
    EXPECT_EQ(link.attachments.at(0).type, AttachmentType::link);
    EXPECT_EQ(link.attachments.at(0).title, "Tin môi trường");
    EXPECT_EQ(link.attachments.at(0).url, "https://tnmt.example.test/tin");
}

TEST_F(ZaloFixture, LocationFromStringCoordinates) {
    const auto e = single("user_send_location.json");
    ASSERT_TRUE(e.location.has_value());
    EXPECT_DOUBLE_EQ(e.location->lat, 21.853708);
    EXPECT_DOUBLE_EQ(e.location->lng, 106.761519);
    EXPECT_EQ(e.attachments.at(0).type, AttachmentType::location);
}

TEST_F(ZaloFixture, FollowAndUnfollow) {
    const auto f = single("follow.json");
    EXPECT_EQ(f.kind, EventKind::follow);
    EXPECT_EQ(f.payload, "oa_profile");
    EXPECT_EQ(f.dedup_key, "zl:1987654321098765432:follow:8123456789012345678:1767225600200");
    const auto u = single("unfollow.json");
    EXPECT_EQ(u.kind, EventKind::unfollow);
    EXPECT_NE(u.dedup_key, f.dedup_key);
}

TEST_F(ZaloFixture, SubmitInfo) {
    const auto e = single("user_submit_info.json");
    EXPECT_EQ(e.kind, EventKind::submit_info);
    ASSERT_TRUE(e.submitted.has_value());
    EXPECT_EQ(e.submitted->name, "Lê Thị Cúc");
    EXPECT_EQ(e.submitted->phone, "84912000111");
    EXPECT_EQ(e.submitted->address, "12 Trần Đăng Ninh, Phường Đông Kinh, Lạng Sơn");

    const auto legacy = single("user_submit_info_legacy.json");
    ASSERT_TRUE(legacy.submitted.has_value());
    EXPECT_EQ(legacy.submitted->address, "5 Lê Lợi, Vĩnh Trại, TP Lạng Sơn, Lạng Sơn");
}

TEST_F(ZaloFixture, Receipts) {
    const auto received = single("user_received_message.json");
    EXPECT_EQ(received.kind, EventKind::delivery);
    EXPECT_EQ(received.message_id, "out000000000000000001");
    const auto seen = single("user_seen_message.json");
    EXPECT_EQ(seen.kind, EventKind::read);
    EXPECT_EQ(seen.message_id, "out000000000000000001");
    const auto seen_one = single("user_seen_message_single.json");
    EXPECT_EQ(seen_one.message_id, "out000000000000000003");
    const auto reacted = single("user_reacted_message.json");
    EXPECT_EQ(reacted.kind, EventKind::reaction);
    EXPECT_EQ(reacted.text, "/-heart");
    // None of them collides with the echo of the message they are about.
    const auto echo = single("oa_send_text.json");
    EXPECT_NE(received.dedup_key, echo.dedup_key);
    EXPECT_NE(seen.dedup_key, echo.dedup_key);
    EXPECT_NE(reacted.dedup_key, echo.dedup_key);
}

TEST_F(ZaloFixture, Echoes) {
    const auto bot = single("oa_send_text.json");
    EXPECT_EQ(bot.kind, EventKind::echo);
    EXPECT_FALSE(bot.echo_from_human);
    EXPECT_EQ(bot.dedup_key, "zl:1987654321098765432:msg:out000000000000000001");
    const auto human = single("oa_send_text_admin.json");
    EXPECT_TRUE(human.echo_from_human);
    EXPECT_EQ(human.echo_app_id, "3344556677889900112");
}

TEST_F(ZaloFixture, OtherEvents) {
    const auto r = channel.ingest(signed_request(read_fixture("zalo/add_user_to_tag.json")));
    ASSERT_EQ(r.events.size(), 1U);
    EXPECT_EQ(r.events[0].kind, EventKind::other);
    EXPECT_EQ(r.events[0].source_type, "add_user_to_tag");
    EXPECT_EQ(r.events[0].page_id, kOa);
}

// --- render --------------------------------------------------------------------------------------------

TEST_F(ZaloFixture, RenderTextAndButtons) {
    OutMessage m;
    m.text = "Anh/chị muốn hỏi gì?";
    for (int i = 0; i < 7; ++i) m.quick_replies.push_back({"Mục " + std::to_string(i), "P" + std::to_string(i)});
    m.quick_replies[0].title = std::string(120, 'x');
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 1U);
    const auto j = Json::parse(bodies[0]);
    EXPECT_EQ(j["recipient"]["user_id"], kUser);
    EXPECT_EQ(j["message"]["text"], "Anh/chị muốn hỏi gì?");
    const auto& att = j["message"]["attachment"];
    EXPECT_EQ(att["type"], "template");
    EXPECT_EQ(att["payload"]["template_type"], "button");
    const auto& buttons = att["payload"]["buttons"];
    ASSERT_EQ(buttons.size(), zalo::kMaxButtons);
    EXPECT_EQ(buttons[0]["type"], "oa.query.hide");
    EXPECT_EQ(buttons[0]["payload"], "#P0");
    EXPECT_EQ(buttons[0]["title"].get<std::string>().size(), 100U);
}

TEST_F(ZaloFixture, RenderSplitsLongText) {
    const std::string sentence = "Nước thải đổ ra suối làm cá chết hàng loạt ở thượng nguồn. ";
    OutMessage m;
    while (utf8_length(m.text) < 5000) m.text += sentence;
    m.quick_replies = {{"Menu", "MENU"}};
    const auto bodies = channel.render(m, kUser);
    ASSERT_EQ(bodies.size(), 3U);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto j = Json::parse(bodies[i]);
        EXPECT_LE(utf8_length(j["message"]["text"].get<std::string>()), zalo::kMaxTextChars);
        EXPECT_EQ(j["message"].contains("attachment"), i + 1 == bodies.size());
    }
}

// --- send ----------------------------------------------------------------------------------------------

TEST_F(ZaloFixture, SendUsesTheAccessTokenHeader) {
    client.handler = [](const http::ClientRequest&) {
        return response(
            200, R"({"data":{"message_id":"63ecf43f0df7dba892e6","user_id":"1"},"error":0,"message":"Success"})");
    };
    const auto r = channel.send(R"({"x":1})");
    EXPECT_EQ(r.outcome, SendOutcome::sent);
    EXPECT_EQ(r.platform_message_id, "63ecf43f0df7dba892e6");
    const auto reqs = client.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].url, "https://openapi.zalo.me/v3.0/oa/message/cs");
    EXPECT_EQ(test::header_of(reqs[0], "access_token"), "tok-1");
    EXPECT_EQ(reqs[0].url.find("tok-1"), std::string::npos);
}

TEST_F(ZaloFixture, SendOutcomeMapping) {
    const std::vector<std::pair<int, SendOutcome>> codes = {
        {0, SendOutcome::sent},           {-32, SendOutcome::retry},        {-213, SendOutcome::unreachable},
        {-217, SendOutcome::unreachable}, {-227, SendOutcome::unreachable}, {-230, SendOutcome::unreachable},
        {-232, SendOutcome::unreachable}, {-244, SendOutcome::unreachable}, {-201, SendOutcome::failed},
        {-100, SendOutcome::failed},      {-240, SendOutcome::failed},      {-248, SendOutcome::failed},
    };
    for (const auto& [code, expected] : codes) {
        client.handler = [code = code](const http::ClientRequest&) {
            return response(200, R"({"error":)" + std::to_string(code) + R"(,"message":"m"})");
        };
        const auto r = channel.send("{}");
        EXPECT_EQ(r.outcome, expected) << code;
        EXPECT_NE(r.detail.find("error=" + std::to_string(code)), std::string::npos) << r.detail;
    }
    client.handler = [](const http::ClientRequest&) { return http::ClientResponse{}; };
    EXPECT_EQ(channel.send("{}").outcome, SendOutcome::retry);
    client.handler = [](const http::ClientRequest&) { return response(502, "bad gateway", {{"retry-after", "5"}}); };
    const auto r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::retry);
    EXPECT_EQ(r.retry_after, std::chrono::milliseconds(5000));
    client.handler = [](const http::ClientRequest&) { return response(200, "<html>"); };
    EXPECT_EQ(channel.send("{}").outcome, SendOutcome::failed);
}

TEST_F(ZaloFixture, AuthErrorRefreshesAndRetriesOnce) {
    client.handler = [](const http::ClientRequest& req) {
        if (test::header_of(req, "access_token") == "tok-1")
            return response(200, R"({"error":-216,"message":"Access token is invalid"})");
        return response(200, R"({"error":0,"data":{"message_id":"m2"}})");
    };
    const auto r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::sent);
    EXPECT_EQ(tokens.refreshes, 1);
    EXPECT_EQ(client.requests().size(), 2U);
    EXPECT_EQ(test::header_of(client.requests()[1], "access_token"), "tok-2");
}

TEST_F(ZaloFixture, AuthErrorWithFailedRefreshIsAuth) {
    tokens.refresh_works = false;
    client.handler = [](const http::ClientRequest&) {
        return response(200, R"({"error":-220,"message":"access_token tok-1 is expired or removed"})");
    };
    const auto r = channel.send("{}");
    EXPECT_EQ(r.outcome, SendOutcome::auth);
    EXPECT_EQ(client.requests().size(), 1U);
    EXPECT_EQ(r.detail.find("tok-1"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace pgibot::channels
