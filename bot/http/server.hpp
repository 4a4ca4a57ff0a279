#pragma once
// The inbound HTTP(S) server: Boost.Beast, one strand per connection, a deadline on every I/O step,
// header and body limits, keep-alive, graceful stop. It only moves bytes: routes get a Request and
// answer through a Responder, which may be called later and from any thread (e.g. after the
// inbox commit).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot::http {

struct Request {
    std::string method;   // "GET", "POST", ...
    std::string target;   // raw target, with query
    std::string path;     // decoded path without query
    std::map<std::string, std::string, std::less<>> query;    // decoded query parameters
    std::map<std::string, std::string, std::less<>> headers;  // names lower-cased
    std::string body;     // exact raw bytes
    std::string remote;   // peer address
    std::string request_id;  // assigned by the server, follows the request in logs

    [[nodiscard]] std::string_view header(std::string_view lower_name) const;
    [[nodiscard]] std::string_view query_param(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static Response json(int status, std::string body);
    static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
    // {"error":"<code>","message":"<message>"}
    static Response error(int status, std::string_view code, std::string_view message);
};

// Call exactly once. Safe from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request&&, Responder)>;

class Router {
public:
    // Exact path match. A path with no route: 404; a known path with another method: 405.
    void add(std::string method, std::string path, Handler handler);
    // Per-path body limit (default: ServerOptions::body_limit).
    void set_body_limit(std::string path, std::size_t bytes);
    // Handler for paths with no route, any method (instead of 404). For test fakes, not the bot.
    void set_fallback(Handler handler);

    struct Found {
        const Handler* handler = nullptr;
        bool path_known = false;
    };
    [[nodiscard]] Found find(std::string_view method, std::string_view path) const;
    [[nodiscard]] std::size_t body_limit_for(std::string_view path, std::size_t fallback) const;
    // "GET, POST" for a known path (the Allow header of a 405), empty for an unknown one.
    [[nodiscard]] std::string allowed_methods(std::string_view path) const;

private:
    std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> routes_;  // path -> method -> h
    std::map<std::string, std::size_t, std::less<>> limits_;
    Handler fallback_;
};

struct TlsOptions {
    std::string cert_file;  // PEM chain
    std::string key_file;   // PEM key
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;       // 0: pick a free port (tests), see Server::port()
    int threads = 2;
    std::size_t body_limit = 1024 * 1024;     // webhooks: 1 MiB
    std::size_t header_limit = 16 * 1024;
    std::chrono::milliseconds read_timeout{15000};     // per request, headers+body
    std::chrono::milliseconds write_timeout{15000};
    std::chrono::milliseconds idle_timeout{60000};     // keep-alive idle
    std::chrono::milliseconds handler_timeout{10000};  // responder not called by then: 503
    std::chrono::milliseconds shutdown_grace{10000};
    std::optional<TlsOptions> tls;   // set: HTTPS only (TLS 1.2+)
};

// Observes every finished request (metrics, access log). Called on an I/O thread: keep it cheap.
struct AccessRecord {
    std::string method;
    std::string path;
    int status = 0;
    double seconds = 0;
    std::string request_id;
    std::string remote;
};
using AccessObserver = std::function<void(const AccessRecord&)>;

class Server {
public:
    Server(ServerOptions options, std::shared_ptr<const Router> router, AccessObserver observer = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, listens and starts the I/O threads. Returns false with `error` set on failure.
    bool start(std::string& error);
    [[nodiscard]] std::uint16_t port() const;
    // Graceful: stop accepting, let in-flight requests finish (up to shutdown_grace), close idle
    // keep-alive connections, join the threads. Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pgibot::http
