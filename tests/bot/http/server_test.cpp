// bot/http Server on 127.0.0.1:0, driven by CurlClient and by a raw socket where the wire matters.
#include "bot/http/client.hpp"
#include "bot/http/server.hpp"
#include "tests/bot/http/raw_connection.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace pgibot::http {
namespace {

using namespace std::chrono_literals;
using test::RawConnection;

// Holds a Responder handed out by a route so a test can answer later from its own thread.
class ResponderSlot {
public:
    void put(Responder responder) {
        {
            std::lock_guard lock(mutex_);
            responder_ = std::move(responder);
        }
        cv_.notify_all();
    }
    Responder take(std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, timeout, [this] { return static_cast<bool>(responder_); });
        return std::exchange(responder_, {});
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    Responder responder_;
};

class ServerTest : public ::testing::Test {
protected:
    ServerTest() {
        options_.address = "127.0.0.1";
        options_.port = 0;
        options_.threads = 2;
        router_ = std::make_shared<Router>();
        router_->add("GET", "/hello", [](Request&& request, Responder respond) {
            nlohmann::json body = {{"name", request.query_param("name")},
                                   {"custom", request.header("x-custom")},
                                   {"request_id", request.request_id},
                                   {"method", request.method},
                                   {"path", request.path}};
            respond(Response::json(200, body.dump()));
        });
        router_->add("POST", "/echo", [this](Request&& request, Responder respond) {
            ++handled_;
            respond(Response::text(200, request.body));
        });
        router_->add("PUT", "/echo", [](Request&&, Responder respond) { respond(Response::json(204, "")); });
        router_->set_body_limit("/echo", 1024);
        router_->add("POST", "/deferred", [this](Request&&, Responder respond) { slot_.put(std::move(respond)); });
        router_->add("GET", "/throws", [](Request&&, Responder) { throw std::runtime_error("boom"); });
        router_->add("GET", "/header", [](Request&& request, Responder respond) {
            Response response = Response::json(200, "{}");
            response.headers.emplace_back("X-Echo", std::string(request.query_param("v")));
            response.headers.emplace_back("X-Fixed", "yes");
            respond(std::move(response));
        });
        router_->add("HEAD", "/hello", [](Request&&, Responder respond) { respond(Response::json(200, "{\"x\":1}")); });
    }

    void start() {
        server_ = std::make_unique<Server>(options_, router_, [this](const AccessRecord& record) {
            {
                std::lock_guard lock(records_mutex_);
                records_.push_back(record);
            }
            records_cv_.notify_all();
        });
        std::string error;
        ASSERT_TRUE(server_->start(error)) << error;
        ASSERT_NE(server_->port(), 0);
    }

    [[nodiscard]] std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
    }

    ClientResponse get(std::string_view path, std::vector<std::pair<std::string, std::string>> headers = {}) {
        ClientRequest request;
        request.method = "GET";
        request.url = url(path);
        request.headers = std::move(headers);
        request.timeout = 5s;
        return client_.send(request);
    }

    ClientResponse post(std::string_view path, std::string body) {
        ClientRequest request;
        request.url = url(path);
        request.body = std::move(body);
        request.timeout = 5s;
        return client_.send(request);
    }

    // The observer runs after the response is written, so it may trail the client by a moment.
    std::vector<AccessRecord> records(std::size_t at_least) {
        std::unique_lock lock(records_mutex_);
        records_cv_.wait_for(lock, 5s, [this, at_least] { return records_.size() >= at_least; });
        return records_;
    }

    ServerOptions options_;
    std::shared_ptr<Router> router_;
    CurlClient client_;
    ResponderSlot slot_;
    std::atomic<int> handled_{0};
    std::mutex records_mutex_;
    std::condition_variable records_cv_;
    std::vector<AccessRecord> records_;
    std::unique_ptr<Server> server_;  // last: stopped first, while what its routes use still exists
};

TEST_F(ServerTest, RoutesWithDecodedQueryLowerCasedHeadersAndRequestId) {
    start();
    const auto response = get("/hello?name=Nguy%E1%BB%85n+V%C4%83n&x=1", {{"X-Custom", "Value"}});
    ASSERT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(response.header("content-type"), "application/json");
    const auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body["name"], "Nguyễn Văn");
    EXPECT_EQ(body["custom"], "Value");
    EXPECT_EQ(body["method"], "GET");
    EXPECT_EQ(body["path"], "/hello");
    const std::string request_id = body["request_id"];
    EXPECT_FALSE(request_id.empty());
    EXPECT_EQ(response.header("x-request-id"), request_id);

    const auto second = get("/hello");
    ASSERT_EQ(second.status, 200);
    EXPECT_NE(second.header("x-request-id"), request_id);
}

TEST_F(ServerTest, UnknownPathIs404WithJsonError) {
    start();
    const auto response = get("/nope");
    EXPECT_EQ(response.status, 404);
    const auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body["error"], "not_found");
    EXPECT_TRUE(body["message"].is_string());
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
    start();
    const auto response = get("/echo");
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(response.header("allow"), "POST, PUT");
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "method_not_allowed");
}

TEST_F(ServerTest, MalformedRequestIs400AndCloses) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("THIS IS NOT HTTP\r\n\r\n"));
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(nlohmann::json::parse(response->body)["error"], "bad_request");
    EXPECT_TRUE(conn.wait_closed(5s));
}

TEST_F(ServerTest, BodyOverPathLimitIs413AndNeverReachesHandler) {
    start();
    const auto small = post("/echo", std::string(1024, 'a'));
    ASSERT_EQ(small.status, 200) << small.error;
    EXPECT_EQ(small.body.size(), 1024U);
    EXPECT_EQ(handled_.load(), 1);

    const auto big = post("/echo", std::string(64 * 1024, 'b'));
    EXPECT_EQ(big.status, 413) << big.error;
    EXPECT_EQ(nlohmann::json::parse(big.body)["error"], "payload_too_large");
    EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    std::string chunk(800, 'c');
    ASSERT_TRUE(conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
    ASSERT_TRUE(conn.send("320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerTest, OversizedHeaderIsRejected) {
    options_.header_limit = 1024;
    start();
    const auto response = get("/hello", {{"X-Big", std::string(4096, 'h')}});
    EXPECT_EQ(response.status, 431) << response.error;
}

TEST_F(ServerTest, DeferredResponderAnsweredFromAnotherThread) {
    start();
    auto pending = std::async(std::launch::async, [this] { return post("/deferred", "{}"); });
    Responder respond = slot_.take();
    ASSERT_TRUE(respond);
    std::thread other([respond] {
        std::this_thread::sleep_for(50ms);
        respond(Response::json(200, R"({"ok":true})"));
        respond(Response::json(500, R"({"second":true})"));  // ignored
    });
    const auto response = pending.get();
    other.join();
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(response.body, R"({"ok":true})");
    // The connection is still fine afterwards.
    EXPECT_EQ(get("/hello").status, 200);
}

TEST_F(ServerTest, ResponderNeverCalledGives503) {
    options_.handler_timeout = 200ms;
    start();
    const auto response = post("/deferred", "{}");
    EXPECT_EQ(response.status, 503) << response.error;
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "timeout");
    // A late answer for the timed-out request must not leak into the next one.
    Responder late = slot_.take();
    ASSERT_TRUE(late);
    late(Response::json(200, "late"));
    const auto next = get("/hello");
    EXPECT_EQ(next.status, 200);
    EXPECT_NE(next.body, "late");
}

TEST_F(ServerTest, HandlerExceptionIs500) {
    start();
    const auto response = get("/throws");
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "internal_error");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(conn.send("GET /hello?name=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"));
        const auto response = conn.read_response(5s);
        ASSERT_TRUE(response.has_value()) << "request " << i;
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(nlohmann::json::parse(response->body)["name"], std::to_string(i));
    }
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    const auto last = conn.read_response(5s);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->headers.at("connection"), "close");
    EXPECT_TRUE(conn.wait_closed(5s));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
    options_.idle_timeout = 200ms;
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(conn.read_response(5s).has_value());
    EXPECT_TRUE(conn.wait_closed(5s));
}

TEST_F(ServerTest, SlowLorisPartialHeadersAreCutOff) {
    options_.read_timeout = 300ms;
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: "));
    std::string received;
    EXPECT_TRUE(conn.wait_closed(5s, &received));
    EXPECT_TRUE(received.empty()) << received;
}

TEST_F(ServerTest, PipelinedRequestsInOneWriteAreAnsweredInOrder) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirstGET /hello?name=two HTTP/1.1\r\n"
                          "Host: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nthird"));
    const auto first = conn.read_response(5s);
    const auto second = conn.read_response(5s);
    const auto third = conn.read_response(5s);
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(first->body, "first");
    EXPECT_EQ(nlohmann::json::parse(second->body)["name"], "two");
    EXPECT_EQ(third->body, "third");
}

TEST_F(ServerTest, RequestArrivingByteByByteIsParsedWhole) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    const std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world";
    for (const char c : request) {
        ASSERT_TRUE(conn.send(std::string_view(&c, 1)));
        std::this_thread::sleep_for(1ms);
    }
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello world");
}

TEST_F(ServerTest, ExpectContinueGets100ThenTheAnswer) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
    const auto interim = conn.read_response(5s);
    ASSERT_TRUE(interim.has_value());
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(conn.send("body"));
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "body");
}

TEST_F(ServerTest, Http10KeepAliveIsHonouredAndPlainHttp10Closes) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto kept = conn.read_response(5s);
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->headers.at("connection"), "keep-alive");
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.0\r\n\r\n"));
    const auto last = conn.read_response(5s);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->status, 200);
    EXPECT_EQ(last->headers.at("connection"), "close");
    EXPECT_TRUE(conn.wait_closed(5s));
}

TEST_F(ServerTest, HeadAnswerHasNoBody) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello?name=after HTTP/1.1\r\nHost: t\r\n\r\n"));
    const auto head = conn.read_response(5s);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
    // The next answer starts right after the head: no stray body bytes in between.
    const auto next = conn.read_response(5s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(nlohmann::json::parse(next->body)["name"], "after");
}

TEST_F(ServerTest, ResponseHeaderWithLineBreakIsDroppedNotInjected) {
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send("GET /header?v=a%0D%0ASet-Cookie:%20x=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->headers.count("set-cookie"), 0U);
    EXPECT_EQ(response->headers.count("x-echo"), 0U);
    EXPECT_EQ(response->headers.at("x-fixed"), "yes");
}

TEST_F(ServerTest, HandlerDeadlineAppliesToEachRequestOfAConnection) {
    options_.handler_timeout = 300ms;
    options_.idle_timeout = 5s;
    start();
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    // A quick first request, then a wait longer than the handler timeout while idle (allowed), then
    // a request whose handler never answers: it must still get its 503 after about 300 ms.
    ASSERT_TRUE(conn.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(conn.read_response(5s).has_value());
    std::this_thread::sleep_for(700ms);
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_TRUE(conn.send("POST /deferred HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"));
    const auto response = conn.read_response(5s);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 503);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 3s);
    EXPECT_TRUE(slot_.take());
}

TEST_F(ServerTest, AccessObserverSeesEveryFinishedRequest) {
    start();
    ASSERT_EQ(get("/hello").status, 200);
    ASSERT_EQ(get("/missing").status, 404);
    const auto seen = records(2);
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].path, "/hello");
    EXPECT_EQ(seen[0].status, 200);
    EXPECT_EQ(seen[0].remote, "127.0.0.1");
    EXPECT_FALSE(seen[0].request_id.empty());
    EXPECT_GE(seen[0].seconds, 0.0);
    EXPECT_EQ(seen[1].status, 404);
}

TEST_F(ServerTest, GracefulStopWaitsForInFlightDeferredResponse) {
    options_.shutdown_grace = 10s;
    start();
    const std::uint16_t port = server_->port();
    RawConnection idle(port);  // an idle keep-alive connection must not hold up stop()
    ASSERT_TRUE(idle.connected());
    ASSERT_TRUE(idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(idle.read_response(5s).has_value());

    auto pending = std::async(std::launch::async, [this] { return post("/deferred", "{}"); });
    Responder respond = slot_.take();
    ASSERT_TRUE(respond);

    std::atomic<bool> stopped{false};
    std::thread stopper([this, &stopped] {
        server_->stop();
        stopped = true;
    });
    EXPECT_TRUE(idle.wait_closed(5s));
    EXPECT_FALSE(stopped.load());  // still waiting for the deferred answer
    respond(Response::json(200, R"({"committed":true})"));
    const auto response = pending.get();
    stopper.join();
    EXPECT_TRUE(stopped.load());
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(response.body, R"({"committed":true})");

    RawConnection after(port);
    EXPECT_FALSE(after.connected());
    server_->stop();  // idempotent
}

TEST_F(ServerTest, StartFailsOnPortInUse) {
    start();
    ServerOptions clash = options_;
    clash.port = server_->port();
    Server second(clash, router_);
    std::string error;
    EXPECT_FALSE(second.start(error));
    EXPECT_FALSE(error.empty());
    second.stop();
}

TEST_F(ServerTest, StopWithoutStartIsHarmless) {
    Server server(options_, router_);
    server.stop();
    server.stop();
}

TEST(TargetParsing, BadTargetsAreRejectedBy400) {
    auto router = std::make_shared<Router>();
    router->add("GET", "/a b", [](Request&&, Responder respond) { respond(Response::json(200, "{}")); });
    ServerOptions options;
    options.port = 0;
    Server server(options, router);
    std::string error;
    ASSERT_TRUE(server.start(error)) << error;
    RawConnection conn(server.port());
    ASSERT_TRUE(conn.send("GET /a%20b HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto ok = conn.read_response(5s);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->status, 200);
    ASSERT_TRUE(conn.send("GET /bad%zz HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto bad = conn.read_response(5s);
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->status, 400);
}

}  // namespace
}  // namespace pgibot::http
