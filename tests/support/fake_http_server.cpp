#include "tests/support/fake_http_server.hpp"

#include <stdexcept>

namespace pgibot::test {

FakeHttpServer::FakeHttpServer() : FakeHttpServer(Options{}) {}

FakeHttpServer::FakeHttpServer(Options options) : tls_(options.tls.has_value()) {
    auto router = std::make_shared<http::Router>();
    router->set_fallback(
        [this](http::Request&& request, http::Responder responder) { on_request(std::move(request), responder); });

    http::ServerOptions server_options;
    server_options.address = "127.0.0.1";
    server_options.port = 0;
    server_options.threads = 2;
    server_options.body_limit = options.body_limit;
    server_options.handler_timeout = options.handler_timeout;
    server_options.shutdown_grace = std::chrono::milliseconds(500);
    server_options.tls = std::move(options.tls);
    server_ = std::make_unique<http::Server>(std::move(server_options), std::move(router));
    std::string error;
    if (!server_->start(error)) throw std::runtime_error("FakeHttpServer: " + error);
}

FakeHttpServer::~FakeHttpServer() { stop(); }

void FakeHttpServer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();  // wakes delayed replies early; the stopping server ignores late answers
    server_->stop();        // idempotent
    std::vector<std::thread> delayed;
    {
        std::lock_guard lock(mutex_);
        delayed.swap(delayed_);
    }
    for (auto& thread : delayed) thread.join();
}

std::uint16_t FakeHttpServer::port() const { return server_->port(); }

std::string FakeHttpServer::base_url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

void FakeHttpServer::respond_with(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

void FakeHttpServer::enqueue(FakeReply reply) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(reply));
}

void FakeHttpServer::enqueue(int status, std::string body, std::chrono::milliseconds delay) {
    enqueue(FakeReply{http::Response::json(status, std::move(body)), delay});
}

std::vector<http::Request> FakeHttpServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t FakeHttpServer::request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

bool FakeHttpServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [this, n] { return requests_.size() >= n; });
}

void FakeHttpServer::reset() {
    std::lock_guard lock(mutex_);
    requests_.clear();
    script_.clear();
}

void FakeHttpServer::on_request(http::Request&& request, http::Responder responder) {
    Handler handler;
    std::optional<FakeReply> reply;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
        if (!script_.empty()) {
            reply = std::move(script_.front());
            script_.pop_front();
        } else {
            handler = handler_;
        }
    }
    arrived_.notify_all();
    if (!reply) reply = handler ? handler(request) : FakeReply{http::Response::json(200, "{}"), {}};

    if (reply->delay.count() <= 0) {
        responder(std::move(reply->response));
        return;
    }
    // Answer later from another thread, as the real webhook route does; the I/O thread stays free.
    std::lock_guard lock(mutex_);
    delayed_.emplace_back([this, responder = std::move(responder), reply = std::move(*reply)]() mutable {
        {
            std::unique_lock wait_lock(mutex_);
            stop_cv_.wait_for(wait_lock, reply.delay, [this] { return stopping_; });
        }
        responder(std::move(reply.response));
    });
}

}  // namespace pgibot::test
