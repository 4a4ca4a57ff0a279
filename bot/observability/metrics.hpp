#pragma once
// The bot's Prometheus metrics, with fixed names, over prometheus-cpp core (no built-in exposer:
// the bot's own HTTP server serves serialize() on its metrics route).
//
// All methods are thread-safe and cheap enough for I/O threads: label children are created once
// and cached. Keep label values bounded (route names, platforms, outcome words), never ids or text.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace pgibot::observability {

class Metrics {
public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // Paths served by the router. http_request() labels any other path "other", so a scan of
    // random URLs cannot create unbounded series. Call during wiring, before traffic.
    void declare_routes(std::initializer_list<std::string_view> routes);
    void declare_route(std::string_view route);

    // pgibot_http_requests_total{route,status} and pgibot_http_request_duration_seconds{route}.
    // Fits http::AccessObserver: [&m](const AccessRecord& r) { m.http_request(r.path, r.status, r.seconds); }
    void http_request(std::string_view route, int status, double seconds);
    // pgibot_webhook_events_total{platform,kind}
    void webhook_event(std::string_view platform, std::string_view kind);
    // pgibot_webhook_duplicates_total{platform}
    void webhook_duplicate(std::string_view platform);
    // pgibot_send_attempts_total{platform,outcome} and pgibot_send_duration_seconds{platform}
    void send_attempt(std::string_view platform, std::string_view outcome, double seconds);
    // pgibot_queue_depth{queue}, queue = "inbox" | "outbox"
    void set_queue_depth(std::string_view queue, double depth);
    // pgibot_retention_deleted_total{table}, table = "inbox" | "inbox_handled_groups" | "outbox"
    void retention_deleted(std::string_view table, std::size_t rows);
    // pgibot_ack_duration_seconds: webhook received -> inbox committed
    void observe_ack(double seconds);
    // pgibot_handler_duration_seconds: one handler run
    void observe_handler(double seconds);
    // pgibot_inbox_commit_duration_seconds and pgibot_inbox_commit_webhooks: one group commit
    void observe_inbox_commit(double seconds, std::size_t webhooks);

    // Prometheus text exposition format (Content-Type: text/plain; version=0.0.4).
    [[nodiscard]] std::string serialize() const;
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pgibot::observability
