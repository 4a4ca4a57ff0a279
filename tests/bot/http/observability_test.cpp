// bot/observability: metrics exposition and log line formats.
#include "bot/observability/logging.hpp"
#include "bot/observability/metrics.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

namespace pgibot::observability {
namespace {

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(Metrics, SerializesFixedNamesAndLabels) {
    Metrics metrics;
    metrics.declare_routes({"/webhook/facebook", "/healthz"});
    metrics.http_request("/webhook/facebook", 200, 0.003);
    metrics.http_request("/webhook/facebook", 200, 0.004);
    metrics.http_request("/wp-login.php", 404, 0.001);
    metrics.webhook_event("facebook", "message");
    metrics.webhook_duplicate("zalo");
    metrics.send_attempt("facebook", "ok", 0.2);
    metrics.send_attempt("facebook", "retry", 1.5);
    metrics.set_queue_depth("inbox", 3);
    metrics.set_queue_depth("outbox", 1);
    metrics.observe_ack(0.01);
    metrics.observe_handler(0.0002);
    metrics.observe_inbox_commit(0.0012, 28);
    metrics.observe_inbox_commit(0.0009, 3);
    metrics.retention_deleted("inbox", 40);
    metrics.retention_deleted("inbox", 2);
    metrics.retention_deleted("outbox", 7);

    const std::string text = metrics.serialize();
    EXPECT_TRUE(contains(text, "# TYPE pgibot_http_requests_total counter"));
    EXPECT_TRUE(contains(text, R"(pgibot_http_requests_total{route="/webhook/facebook",status="200"} 2)"));
    EXPECT_TRUE(contains(text, R"(pgibot_http_requests_total{route="other",status="404"} 1)"));
    EXPECT_FALSE(contains(text, "wp-login"));
    EXPECT_TRUE(contains(text, "# TYPE pgibot_http_request_duration_seconds histogram"));
    EXPECT_TRUE(contains(text, R"(pgibot_http_request_duration_seconds_count{route="/webhook/facebook"} 2)"));
    EXPECT_TRUE(contains(text, R"(pgibot_webhook_events_total{kind="message",platform="facebook"} 1)"));
    EXPECT_TRUE(contains(text, R"(pgibot_webhook_duplicates_total{platform="zalo"} 1)"));
    EXPECT_TRUE(contains(text, R"(pgibot_send_attempts_total{outcome="retry",platform="facebook"} 1)"));
    EXPECT_TRUE(contains(text, "pgibot_send_duration_seconds_count"));
    EXPECT_TRUE(contains(text, R"(pgibot_queue_depth{queue="inbox"} 3)"));
    EXPECT_TRUE(contains(text, "pgibot_ack_duration_seconds_count 1"));
    EXPECT_TRUE(contains(text, "pgibot_handler_duration_seconds_count 1"));
    EXPECT_TRUE(contains(text, "pgibot_inbox_commit_duration_seconds_count 2"));
    EXPECT_TRUE(contains(text, "pgibot_inbox_commit_webhooks_sum 31"));
    EXPECT_TRUE(contains(text, R"(pgibot_inbox_commit_webhooks_bucket{le="4"} 1)"));
    EXPECT_TRUE(contains(text, "# TYPE pgibot_retention_deleted_total counter"));
    EXPECT_TRUE(contains(text, R"(pgibot_retention_deleted_total{table="inbox"} 42)"));
    EXPECT_TRUE(contains(text, R"(pgibot_retention_deleted_total{table="outbox"} 7)"));
}

TEST(Metrics, ConcurrentIncrementsAreCounted) {
    Metrics metrics;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&metrics] {
            for (int i = 0; i < 1000; ++i) metrics.webhook_event("zalo", "text");
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_TRUE(contains(metrics.serialize(), R"(pgibot_webhook_events_total{kind="text",platform="zalo"} 4000)"));
}

class LoggingTest : public ::testing::Test {
protected:
    void TearDown() override {
        std::string error;
        init_logging(LogOptions{}, error);
    }

    static std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
};

TEST_F(LoggingTest, JsonLinesWithFieldsAndEscaping) {
    std::string error;
    ASSERT_TRUE(init_logging(LogOptions{"debug", "json", "salt"}, error)) << error;
    testing::internal::CaptureStderr();
    log_event(spdlog::level::warn, "quote \" backslash \\ newline \n tab \t bell \x07 bad \xff end",
              {{"request_id", "abc-1"}, {"user", hash_user_id("facebook", "12345")}, {"tiếng", "Việt"}});
    spdlog::info("plain {}", 42);
    spdlog::trace("below the level");
    const auto out = lines(testing::internal::GetCapturedStderr());

    ASSERT_EQ(out.size(), 2U);
    const auto first = nlohmann::json::parse(out[0]);
    EXPECT_EQ(first["level"], "warn");
    EXPECT_EQ(first["msg"], "quote \" backslash \\ newline \n tab \t bell \x07 bad \xEF\xBF\xBD end");
    EXPECT_EQ(first["request_id"], "abc-1");
    EXPECT_EQ(first["user"], hash_user_id("facebook", "12345"));
    EXPECT_EQ(first["tiếng"], "Việt");
    const std::string ts = first["ts"];
    EXPECT_EQ(ts.size(), 24U) << ts;  // 2024-05-01T12:00:00.123Z
    EXPECT_EQ(ts.back(), 'Z');

    const auto second = nlohmann::json::parse(out[1]);
    EXPECT_EQ(second["msg"], "plain 42");
    EXPECT_EQ(second["level"], "info");
    EXPECT_FALSE(second.contains("request_id"));
}

TEST_F(LoggingTest, TextFormatWithFields) {
    std::string error;
    ASSERT_TRUE(init_logging(LogOptions{"info", "text", "salt"}, error)) << error;
    testing::internal::CaptureStderr();
    log_event(spdlog::level::info, "accepted", {{"request_id", "r1"}, {"note", "two words"}});
    const auto out = lines(testing::internal::GetCapturedStderr());
    ASSERT_EQ(out.size(), 1U);
    EXPECT_TRUE(contains(out[0], " info accepted request_id=r1 note=\"two words\"")) << out[0];
}

TEST_F(LoggingTest, RejectsUnknownLevelAndFormat) {
    std::string error;
    EXPECT_FALSE(init_logging(LogOptions{"loud", "text", ""}, error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(init_logging(LogOptions{"info", "xml", ""}, error));
}

TEST_F(LoggingTest, UserIdHashIsShortStableKeyedAndOpaque) {
    std::string error;
    ASSERT_TRUE(init_logging(LogOptions{"info", "text", "install-a"}, error));
    const auto a = hash_user_id("facebook", "1234567890");
    EXPECT_EQ(a.size(), 16U);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(a, hash_user_id("facebook", "1234567890"));
    EXPECT_NE(a, hash_user_id("zalo", "1234567890"));
    EXPECT_NE(a, hash_user_id("facebook", "1234567891"));
    EXPECT_EQ(a.find("1234567890"), std::string::npos);
    ASSERT_TRUE(init_logging(LogOptions{"info", "text", "install-b"}, error));
    EXPECT_NE(a, hash_user_id("facebook", "1234567890"));
}

}  // namespace
}  // namespace pgibot::observability
