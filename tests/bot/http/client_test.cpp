// CurlClient against FakeHttpServer (itself a pgibot::http::Server) on loopback.
#include "bot/http/client.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace pgibot::http {
namespace {

using namespace std::chrono_literals;

TEST(CurlClient, SendsMethodHeadersAndBodyAndReadsResponse) {
    test::FakeHttpServer fake;
    fake.respond_with([](const Request& request) {
        Response response = Response::json(201, R"({"echo":")" + request.body + R"("})");
        response.headers.emplace_back("X-Rate-Limit", "42");
        return test::FakeReply{response, {}};
    });
    CurlClient client;
    ClientRequest request;
    request.method = "POST";
    request.url = fake.base_url() + "/v19.0/me/messages?access_token=" + url_encode("a b&c");
    request.headers = {{"Content-Type", "application/json"}, {"X-Trace", "t1"}};
    request.body = "payload";
    const auto response = client.send(request);

    ASSERT_EQ(response.status, 201) << response.error;
    EXPECT_TRUE(response.error.empty());
    EXPECT_EQ(response.body, R"({"echo":"payload"})");
    EXPECT_EQ(response.header("x-rate-limit"), "42");
    EXPECT_EQ(response.header("content-type"), "application/json");

    ASSERT_TRUE(fake.wait_for_requests(1));
    const auto seen = fake.requests().at(0);
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/v19.0/me/messages");
    EXPECT_EQ(seen.query_param("access_token"), "a b&c");
    EXPECT_EQ(seen.header("x-trace"), "t1");
    EXPECT_EQ(seen.header("content-type"), "application/json");
    EXPECT_EQ(seen.body, "payload");
}

TEST(CurlClient, GetAndCustomMethods) {
    test::FakeHttpServer fake;
    CurlClient client;
    for (const std::string method : {"GET", "DELETE", "PUT"}) {
        ClientRequest request;
        request.method = method;
        request.url = fake.base_url() + "/x";
        request.body = method == "PUT" ? "body" : "";
        EXPECT_EQ(client.send(request).status, 200) << method;
    }
    ASSERT_TRUE(fake.wait_for_requests(3));
    const auto seen = fake.requests();
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[1].method, "DELETE");
    EXPECT_EQ(seen[2].method, "PUT");
    EXPECT_EQ(seen[2].body, "body");
}

TEST(CurlClient, ScriptedFailuresThenSuccess) {
    test::FakeHttpServer fake;
    fake.enqueue(500, R"({"error":"first"})");
    fake.enqueue(429);
    fake.enqueue(200, R"({"message_id":"m1"})");
    CurlClient client;
    ClientRequest request;
    request.url = fake.base_url() + "/send";
    EXPECT_EQ(client.send(request).status, 500);
    EXPECT_EQ(client.send(request).status, 429);
    const auto ok = client.send(request);
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, R"({"message_id":"m1"})");
    EXPECT_EQ(client.send(request).body, "{}");  // script used up: default reply
    EXPECT_EQ(fake.request_count(), 4U);
}

TEST(CurlClient, TimeoutIsTransportFailure) {
    test::FakeHttpServer fake;
    fake.enqueue(200, "{}", 3s);
    CurlClient client;
    ClientRequest request;
    request.url = fake.base_url() + "/slow";
    request.timeout = 200ms;
    const auto response = client.send(request);
    EXPECT_TRUE(response.transport_failed());
    EXPECT_EQ(response.status, 0);
    EXPECT_FALSE(response.error.empty());
}

TEST(CurlClient, ClosedPortIsTransportFailure) {
    std::string url;
    {
        test::FakeHttpServer fake;
        url = fake.base_url() + "/gone";
    }  // stopped: nothing listens there now
    CurlClient client;
    ClientRequest request;
    request.url = url;
    request.timeout = 2s;
    const auto response = client.send(request);
    EXPECT_TRUE(response.transport_failed());
    EXPECT_FALSE(response.error.empty());
}

TEST(CurlClient, ResponseOverMaxSizeIsRefused) {
    test::FakeHttpServer fake;
    fake.enqueue(200, std::string(64 * 1024, 'x'));
    CurlClient client;
    ClientRequest request;
    request.url = fake.base_url() + "/big";
    request.max_response_bytes = 1024;
    const auto response = client.send(request);
    EXPECT_TRUE(response.transport_failed());
    EXPECT_TRUE(response.body.empty());
    EXPECT_NE(response.error.find("larger"), std::string::npos) << response.error;
}

TEST(CurlClient, OnlyHttpAndHttpsSchemes) {
    test::TempDir dir;
    const auto file = dir.write_file("secret.txt", "secret");
    CurlClient client;
    ClientRequest request;
    request.method = "GET";
    request.url = "file://" + file.string();
    const auto response = client.send(request);
    EXPECT_TRUE(response.transport_failed());
    EXPECT_EQ(response.body.find("secret"), std::string::npos);
}

TEST(CurlClient, UsableFromSeveralThreads) {
    test::FakeHttpServer fake;
    CurlClient client;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&client, &fake, &ok] {
            for (int i = 0; i < 5; ++i) {
                ClientRequest request;
                request.url = fake.base_url() + "/p";
                if (client.send(request).status == 200) ++ok;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), 20);
    EXPECT_TRUE(fake.wait_for_requests(20));
}

TEST(UrlEncode, EncodesEverythingButUnreserved) {
    EXPECT_EQ(url_encode("aZ09-._~"), "aZ09-._~");
    EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    EXPECT_EQ(url_encode(""), "");
}

TEST(FakeHttpServer, WaitForRequestsTimesOut) {
    test::FakeHttpServer fake;
    EXPECT_FALSE(fake.wait_for_requests(1, 50ms));
    fake.reset();
    EXPECT_EQ(fake.request_count(), 0U);
}

TEST(TempDir, CreatesAndRemoves) {
    std::filesystem::path where;
    {
        test::TempDir dir;
        where = dir.path();
        const auto file = dir.write_file("a/b/c.txt", "x");
        EXPECT_TRUE(std::filesystem::exists(file));
    }
    EXPECT_FALSE(std::filesystem::exists(where));
}

}  // namespace
}  // namespace pgibot::http
