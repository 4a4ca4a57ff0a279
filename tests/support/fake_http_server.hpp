#pragma once
// FakeHttpServer: a real pgibot::http::Server on 127.0.0.1:<free port> standing in for the
// Facebook Graph API, the Zalo OA API, or any other HTTP peer in tests.
//
// It accepts every method on every path, records each request, and answers with, in order:
//   1. the next scripted reply, if any were queued with enqueue() (each is used once);
//   2. otherwise the handler set with respond_with();
//   3. otherwise 200 with body "{}".
//
//   pgibot::test::FakeHttpServer graph;                       // started; throws if it cannot bind
//   graph.enqueue(500, R"({"error":{"code":2}})");            // first call fails,
//   graph.enqueue(500);                                       // second too,
//   graph.enqueue(200, R"({"message_id":"m1"})");             // third succeeds
//   sender.base_url = graph.base_url();                        // "http://127.0.0.1:41234"
//   ... run the code under test ...
//   ASSERT_TRUE(graph.wait_for_requests(3));                   // bounded wait (default 5 s)
//   EXPECT_EQ(graph.requests()[2].path, "/v19.0/me/messages");
//
// Replies can be delayed (FakeReply::delay) to exercise client timeouts; a delayed reply does not
// block other requests. Requests are pgibot::http::Request values: headers lower-cased, query
// decoded, body raw. All methods are thread-safe.
#include "bot/http/server.hpp"
#include "tests/support/tls_cert.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgibot::test {

struct FakeReply {
    http::Response response;
    std::chrono::milliseconds delay{0};
};

class FakeHttpServer {
public:
    using Handler = std::function<FakeReply(const http::Request&)>;

    struct Options {
        std::optional<http::TlsOptions> tls;  // set: https:// (see make_self_signed_cert)
        std::size_t body_limit = 8 * 1024 * 1024;
        std::chrono::milliseconds handler_timeout{30000};
    };

    FakeHttpServer();
    explicit FakeHttpServer(Options options);
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    // "http://127.0.0.1:<port>" (https with TLS), no trailing slash.
    [[nodiscard]] std::string base_url() const;

    void respond_with(Handler handler);
    void enqueue(FakeReply reply);
    void enqueue(int status, std::string body = "{}", std::chrono::milliseconds delay = {});

    [[nodiscard]] std::vector<http::Request> requests() const;
    [[nodiscard]] std::size_t request_count() const;
    // True once at least n requests have arrived; false after the timeout.
    [[nodiscard]] bool wait_for_requests(std::size_t n,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
    // Forgets recorded requests and queued replies (the handler stays).
    void reset();

    // Stops the server (also done by the destructor). Idempotent.
    void stop();

private:
    void on_request(http::Request&& request, http::Responder responder);

    bool tls_ = false;
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::vector<http::Request> requests_;
    std::deque<FakeReply> script_;
    Handler handler_;
    std::vector<std::thread> delayed_;
    std::unique_ptr<http::Server> server_;
};

}  // namespace pgibot::test
