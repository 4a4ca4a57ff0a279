// End-to-end on loopback: the real `pgibot serve` process, signed webhooks in, fake Graph and Zalo
// APIs (FakeHttpServer on 127.0.0.1:0) out. What the foundation must show: one reply per delivery,
// duplicates dropped, bad signatures refused with nothing stored, a crash after the 200 still
// replies, retries on 5xx, no retry on a blocked user, silence on echoes and receipts, a graceful
// shutdown that loses nothing.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "bot/http/client.hpp"
#include "tests/integration/bot_process.hpp"
#include "tests/integration/platform_fakes.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using pgibot::testing::BotProcess;
using pgibot::test::FakeHttpServer;
using pgibot::test::TempDir;
using nlohmann::json;
using namespace pgibot::testing::platform;


json fb_envelope(json messaging) {
    return {{"object", "page"},
            {"entry", json::array({{{"id", kPageId}, {"time", now_ms()}, {"messaging", std::move(messaging)}}})}};
}

json fb_text_item(const std::string& psid, const std::string& mid, const std::string& text) {
    return {{"sender", {{"id", psid}}},
            {"recipient", {{"id", kPageId}}},
            {"timestamp", now_ms()},
            {"message", {{"mid", mid}, {"text", text}}}};
}

json fb_postback_item(const std::string& psid, const std::string& mid, const std::string& payload) {
    return {{"sender", {{"id", psid}}},
            {"recipient", {{"id", kPageId}}},
            {"timestamp", now_ms()},
            {"postback", {{"mid", mid}, {"title", "Bắt đầu"}, {"payload", payload}}}};
}


std::int64_t count_rows(const std::filesystem::path& db, const std::string& sql) {
    sqlite3* handle = nullptr;
    if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(handle);
        return -1;
    }
    sqlite3_stmt* stmt = nullptr;
    std::int64_t n = -1;
    if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return n;
}

class WebhookFlow : public ::testing::Test {
protected:
    void SetUp() override {
        graph_.respond_with(graph_replies(sent_));
        zalo_.respond_with(zalo_replies());
        write_config();
    }

    void write_config(const std::string& extra_pipeline = "") {
        std::string text = R"([server]
listen = "127.0.0.1:0"
threads = 2
body_limit = 1048576
[storage]
backend = "sqlite"
[storage.sqlite]
path = ")" + (dir_.path() / "bot.db").string() + R"("
[log]
level = "info"
[content]
dir = ")" + std::string(PGIBOT_SOURCE_DIR) + R"(/messages/content"
[facebook]
enabled = true
page_id = ")" + kPageId + R"("
app_id = ")" + kAppId + R"("
graph_api_base = ")" + graph_.base_url() + R"(/v25.0"
subscription_check_minutes = 0
[zalo]
enabled = true
app_id = ")" + kZaloAppId + R"("
api_base = ")" + zalo_.base_url() + R"("
oauth_base = ")" + zalo_.base_url() + R"("
[pipeline]
retry_base_ms = 50
retry_max_ms = 200
max_attempts = 4
)" + extra_pipeline + R"(
[chat]
enabled = false
[tipoffs]
key_file = ")" + (dir_.path() / "data.key").string() + R"("
create_key_file = true
)";
        config_ = dir_.write_file("pgibot.toml", text).string();
    }

    std::map<std::string, std::string> env() const {
        return {{"PGIBOT_FACEBOOK_APP_SECRET", kAppSecret},
                {"PGIBOT_FACEBOOK_PAGE_TOKEN", "test-page-token"},
                {"PGIBOT_FACEBOOK_VERIFY_TOKEN", "test-verify-token"},
                {"PGIBOT_ZALO_OA_SECRET_KEY", kZaloOaSecret},
                {"PGIBOT_ZALO_APP_SECRET", "test-zalo-app-secret"},
                {"PGIBOT_ZALO_ACCESS_TOKEN", "seed-access"},
                {"PGIBOT_ZALO_REFRESH_TOKEN", "seed-refresh"}};
    }

    void start() { ASSERT_TRUE(bot_.start({"serve", "--config", config_}, env())) << bot_.output(); }

    pgibot::http::ClientResponse post(const std::string& path, const std::string& body,
                                      std::vector<std::pair<std::string, std::string>> headers) {
        pgibot::http::ClientRequest r;
        r.method = "POST";
        r.url = bot_.base_url() + path;
        r.body = body;
        r.headers = std::move(headers);
        r.headers.emplace_back("Content-Type", "application/json");
        return client_.send(r);
    }
    pgibot::http::ClientResponse get(const std::string& path) {
        pgibot::http::ClientRequest r;
        r.method = "GET";
        r.url = bot_.base_url() + path;
        return client_.send(r);
    }

    pgibot::http::ClientResponse post_facebook(const json& doc) {
        const std::string body = doc.dump();
        return post("/webhooks/facebook", body, {{"X-Hub-Signature-256", facebook_signature(body)}});
    }

    // Greets a user so that the next text gets a single, predictable reply; clears the fake.
    void greet(const std::string& psid) {
        ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_postback_item(psid, "gs-" + psid, "GET_STARTED")}))).status,
                  200);
        ASSERT_TRUE(graph_.wait_for_requests(1, 10s)) << bot_.output();
        settle(graph_);
        graph_.reset();
    }

    static std::string recipient_of(const pgibot::http::Request& r) {
        const json doc = json::parse(r.body, nullptr, false);
        if (doc.is_discarded()) return {};
        return doc.value("/recipient/id"_json_pointer, std::string());
    }

    // Declared before the fakes whose handlers use them, so they outlive the fakes' shutdown.
    std::atomic<int> sent_{0};
    TempDir dir_;
    FakeHttpServer graph_;
    FakeHttpServer zalo_;
    std::string config_;
    BotProcess bot_;
    pgibot::http::CurlClient client_;
};

TEST_F(WebhookFlow, SignedTextGetsExactlyOneReply) {
    start();
    greet("u1");
    auto r = post_facebook(fb_envelope(json::array({fb_text_item("u1", "m-1", "cảm ơn nhiều")})));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(graph_.wait_for_requests(1, 10s)) << bot_.output();
    EXPECT_EQ(settle(graph_), 1u);
    const auto req = graph_.requests().front();
    EXPECT_EQ(req.path, "/v25.0/" + std::string(kPageId) + "/messages");
    EXPECT_EQ(req.query_param("access_token"), "test-page-token");
    EXPECT_EQ(recipient_of(req), "u1");
}

TEST_F(WebhookFlow, RedeliveredWebhookGetsOneReply) {
    start();
    greet("u2");
    const auto doc = fb_envelope(json::array({fb_text_item("u2", "m-dup", "cảm ơn")}));
    ASSERT_EQ(post_facebook(doc).status, 200);
    ASSERT_EQ(post_facebook(doc).status, 200);
    ASSERT_TRUE(graph_.wait_for_requests(1, 10s));
    EXPECT_EQ(settle(graph_), 1u);
    // And across a restart: the dedup keys are durable.
    bot_.signal(SIGTERM);
    ASSERT_EQ(bot_.wait(), 0) << bot_.output();
    start();
    ASSERT_EQ(post_facebook(doc).status, 200);
    EXPECT_EQ(settle(graph_), 1u);
}

TEST_F(WebhookFlow, BadSignatureIsRefusedAndNothingStored) {
    start();
    const std::string body = fb_envelope(json::array({fb_text_item("u3", "m-3", "xin chào")})).dump();
    auto wrong = post("/webhooks/facebook", body, {{"X-Hub-Signature-256", facebook_signature(body, "other")}});
    EXPECT_EQ(wrong.status, 403);
    auto missing = post("/webhooks/facebook", body, {});
    EXPECT_EQ(missing.status, 403);
    auto tampered = post("/webhooks/facebook", body + " ", {{"X-Hub-Signature-256", facebook_signature(body)}});
    EXPECT_EQ(tampered.status, 403);
    EXPECT_EQ(count_rows(dir_.path() / "bot.db", "SELECT COUNT(*) FROM inbox"), 0);
    EXPECT_EQ(settle(graph_, 500ms), 0u);
}

TEST_F(WebhookFlow, MalformedSignedBodyIs400) {
    start();
    const std::string body = R"({"object":"page","entry":"nope"})";
    EXPECT_EQ(post("/webhooks/facebook", body, {{"X-Hub-Signature-256", facebook_signature(body)}}).status, 400);
    const std::string garbage = "{not json";
    EXPECT_EQ(post("/webhooks/facebook", garbage, {{"X-Hub-Signature-256", facebook_signature(garbage)}}).status, 400);
    EXPECT_EQ(count_rows(dir_.path() / "bot.db", "SELECT COUNT(*) FROM inbox"), 0);
}

TEST_F(WebhookFlow, KilledAfterAckStillRepliesAfterRestart) {
    start();
    greet("u4");
    // The platform takes its time: the reply is in flight when the bot dies.
    graph_.enqueue(200, R"({"recipient_id":"u4","message_id":"slow"})", 4000ms);
    ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u4", "m-4", "cảm ơn")}))).status, 200);
    ASSERT_TRUE(graph_.wait_for_requests(1, 10s));
    bot_.signal(SIGKILL);
    EXPECT_EQ(bot_.wait(), 128 + SIGKILL);
    const std::string first_body = graph_.requests().front().body;
    start();
    ASSERT_TRUE(graph_.wait_for_requests(2, 15s)) << bot_.output();
    EXPECT_EQ(graph_.requests()[1].body, first_body);
}

TEST_F(WebhookFlow, KilledRightAfterAckBeforeAnySendStillReplies) {
    // Nothing can be sent: the Graph fake is down while the bot is killed.
    start();
    greet("u4b");
    graph_.stop();
    ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u4b", "m-4b", "cảm ơn")}))).status, 200);
    bot_.signal(SIGKILL);
    EXPECT_EQ(bot_.wait(), 128 + SIGKILL);
    FakeHttpServer graph2;
    std::ifstream in(config_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto pos = text.find(graph_.base_url());
    ASSERT_NE(pos, std::string::npos);
    text.replace(pos, graph_.base_url().size(), graph2.base_url());
    dir_.write_file("pgibot.toml", text);
    start();
    ASSERT_TRUE(graph2.wait_for_requests(1, 15s)) << bot_.output();
    EXPECT_EQ(recipient_of(graph2.requests().front()), "u4b");
}

TEST_F(WebhookFlow, SecondServerOnTheSameDatabaseIsRefused) {
    start();
    BotProcess second;
    EXPECT_FALSE(second.start({"serve", "--config", config_}, env(), true, 10s)) << second.output();
    EXPECT_FALSE(second.running());  // it exited instead of listening
    const auto said = [&second] { return second.output().find("another pgibot serve is using") != std::string::npos; };
    for (int i = 0; i < 500 && !said(); ++i) std::this_thread::sleep_for(10ms);  // its output may trail the exit
    EXPECT_TRUE(said()) << second.output();
    EXPECT_EQ(get("/healthz").status, 200);  // the first one is untouched
}

TEST_F(WebhookFlow, ServerErrorsAreRetriedUntilOneMessageGetsThrough) {
    start();
    greet("u5");
    graph_.enqueue(500, R"({"error":{"message":"temporary","code":2}})");
    graph_.enqueue(500, R"({"error":{"message":"temporary","code":2}})");
    ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u5", "m-5", "cảm ơn")}))).status, 200);
    ASSERT_TRUE(graph_.wait_for_requests(3, 15s)) << bot_.output();
    EXPECT_EQ(settle(graph_), 3u);
    const auto reqs = graph_.requests();
    EXPECT_EQ(reqs[0].body, reqs[1].body);
    EXPECT_EQ(reqs[1].body, reqs[2].body);
    EXPECT_EQ(sent_.load() >= 1, true);
}

TEST_F(WebhookFlow, BlockedUserIsNotRetried) {
    start();
    greet("u6");
    graph_.enqueue(400, R"({"error":{"message":"This person isn't receiving messages from you right now.",)"
                        R"("type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"T1"}})");
    ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u6", "m-6", "cảm ơn")}))).status, 200);
    ASSERT_TRUE(graph_.wait_for_requests(1, 10s));
    EXPECT_EQ(settle(graph_, 1500ms), 1u);
    EXPECT_EQ(count_rows(dir_.path() / "bot.db", "SELECT COUNT(*) FROM outbox WHERE state = 'unreachable'"), 1);
}

TEST_F(WebhookFlow, EchoesAndReceiptsGetNoReply) {
    start();
    greet("u7");
    json items = json::array();
    items.push_back({{"sender", {{"id", kPageId}}},
                     {"recipient", {{"id", "u7"}}},
                     {"timestamp", now_ms()},
                     {"message", {{"mid", "echo-1"}, {"is_echo", true}, {"app_id", std::stoll(kAppId)}, {"text", "hi"}}}});
    items.push_back({{"sender", {{"id", "u7"}}},
                     {"recipient", {{"id", kPageId}}},
                     {"timestamp", now_ms()},
                     {"delivery", {{"mids", json::array({"echo-1"})}, {"watermark", now_ms()}}}});
    items.push_back({{"sender", {{"id", "u7"}}},
                     {"recipient", {{"id", kPageId}}},
                     {"timestamp", now_ms()},
                     {"read", {{"watermark", now_ms()}}}});
    ASSERT_EQ(post_facebook(fb_envelope(items)).status, 200);
    // A later text is answered: so the pipeline ran, and the only reply is the text's.
    ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u7", "m-7", "cảm ơn")}))).status, 200);
    ASSERT_TRUE(graph_.wait_for_requests(1, 10s));
    EXPECT_EQ(settle(graph_), 1u);
    // Stored all the same: the greeting and the text have rows of their own, the three events that
    // need no handling share one packed row (schema 0005).
    EXPECT_EQ(count_rows(dir_.path() / "bot.db", "SELECT COUNT(*) FROM inbox"), 1 + 1);  // greet, text
    EXPECT_EQ(count_rows(dir_.path() / "bot.db",
                         "SELECT COUNT(*) FROM inbox_handled_groups WHERE instr(CAST(dedup_keys AS TEXT), 'echo-1') > 0"),
              1);
    // Sealed as a whole with the data key (schema 0006): no event in clear.
    EXPECT_EQ(count_rows(dir_.path() / "bot.db",
                         "SELECT COUNT(*) FROM inbox_handled_groups WHERE CAST(events AS TEXT) NOT LIKE 'PGT1:%'"),
              0);
}

TEST_F(WebhookFlow, GracefulShutdownLosesNothing) {
    start();
    greet("u8");
    constexpr int kMessages = 20;
    for (int i = 0; i < kMessages; ++i) {
        ASSERT_EQ(post_facebook(fb_envelope(json::array({fb_text_item("u8", "m-8-" + std::to_string(i), "cảm ơn")})))
                      .status,
                  200);
    }
    bot_.signal(SIGTERM);
    EXPECT_EQ(bot_.wait(), 0) << bot_.output();
    start();
    ASSERT_TRUE(graph_.wait_for_requests(kMessages, 20s)) << bot_.output();
    EXPECT_EQ(settle(graph_), static_cast<std::size_t>(kMessages));
    EXPECT_EQ(count_rows(dir_.path() / "bot.db", "SELECT COUNT(*) FROM inbox WHERE handled_ms IS NULL"), 0);
}

TEST_F(WebhookFlow, ZaloSignedTextIsAnswered) {
    start();
    auto zalo_event = [](const std::string& name, const std::string& msg_id, const std::string& text) {
        const std::string ts = std::to_string(now_ms());
        json doc = {{"app_id", kZaloAppId},
                    {"user_id_by_app", "55"},
                    {"event_name", name},
                    {"timestamp", ts},
                    {"sender", {{"id", "8000000000000000001"}}},
                    {"recipient", {{"id", "4000000000000000001"}}},
                    {"message", {{"msg_id", msg_id}, {"text", text}}}};
        return std::make_pair(doc.dump(), ts);
    };
    auto [body, ts] = zalo_event("user_send_text", "zmsg-1", "cảm ơn");
    auto r = post("/webhooks/zalo", body, {{"X-ZEvent-Signature", zalo_signature(body, ts)}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(zalo_.wait_for_requests(1, 10s)) << bot_.output();
    settle(zalo_);
    bool found = false;
    for (const auto& req : zalo_.requests()) {
        if (req.path != "/v3.0/oa/message/cs") continue;
        found = true;
        EXPECT_FALSE(std::string(req.header("access_token")).empty());
        const json doc = json::parse(req.body, nullptr, false);
        EXPECT_EQ(doc.value("/recipient/user_id"_json_pointer, std::string()), "8000000000000000001");
    }
    EXPECT_TRUE(found);
    auto bad = post("/webhooks/zalo", body, {{"X-ZEvent-Signature", "mac=00"}});
    EXPECT_EQ(bad.status, 403);
}

TEST_F(WebhookFlow, HealthReadinessMetricsAndErrors) {
    start();
    EXPECT_EQ(get("/healthz").status, 200);
    auto ready = get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(get("/nope").status, 404);
    pgibot::http::ClientRequest put;
    put.method = "PUT";
    put.url = bot_.base_url() + "/webhooks/facebook";
    EXPECT_EQ(client_.send(put).status, 405);
    const std::string big(2 * 1024 * 1024, 'x');
    EXPECT_EQ(post("/webhooks/facebook", big, {{"X-Hub-Signature-256", facebook_signature(big)}}).status, 413);
    auto metrics = get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("pgibot_http_requests_total"), std::string::npos);
    // Facebook's verification handshake.
    EXPECT_EQ(get("/webhooks/facebook?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=42").body,
              "42");
    EXPECT_EQ(get("/webhooks/facebook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42").status, 403);
}

}  // namespace
