#pragma once
// What the wiring reports: metrics (bot/observability/metrics) and log lines, with citizens' ids
// hashed. One object, created first in `serve`, so every room reports the same way.
#include <iostream>
#include <spdlog/spdlog.h>
#include <string>
#include <string_view>

#include "bot/http/server.hpp"
#include "bot/observability/logging.hpp"
#include "bot/observability/metrics.hpp"
#include "handlers/model/event.hpp"

namespace pgibot::app {

class Telemetry {
public:
    Telemetry(const std::string& level, const std::string& format, const std::string& salt) {
        std::string error;
        if (!observability::init_logging({level, format, salt}, error)) std::cerr << "logging: " << error << "\n";
        metrics_.declare_routes({"/healthz", "/readyz", "/metrics", "/webhooks/facebook", "/webhooks/zalo", "/chat",
                                 "/chat/api/send", "/chat/api/messages"});
    }

    void set_log_salt(const std::string& salt, const std::string& level, const std::string& format) {
        std::string error;
        observability::init_logging({level, format, salt}, error);
    }

    void access(const http::AccessRecord& r) {
        metrics_.http_request(r.path, r.status, r.seconds);
        if (!spdlog::should_log(spdlog::level::info)) return;
        // The request line only: query strings can hold the verify token, bodies hold citizens' words.
        const std::string status = std::to_string(r.status);
        const std::string ms = std::to_string(static_cast<long long>(r.seconds * 1000.0 + 0.5));
        observability::log_event(spdlog::level::info, "request",
                                 {{"request_id", r.request_id}, {"method", r.method}, {"path", r.path},
                                  {"status", status}, {"ms", ms}});
    }
    void webhook_event(std::string_view platform, std::string_view kind) { metrics_.webhook_event(platform, kind); }
    void duplicates(std::string_view platform, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) metrics_.webhook_duplicate(platform);
    }
    void ack_latency(double seconds) { metrics_.observe_ack(seconds); }
    void handled(double seconds) { metrics_.observe_handler(seconds); }
    void inbox_commit(double seconds, std::size_t webhooks) { metrics_.observe_inbox_commit(seconds, webhooks); }
    void send_attempt(std::string_view platform, std::string_view outcome, double seconds) {
        metrics_.send_attempt(platform, outcome, seconds);
    }
    void queue_depth(std::string_view queue, double depth) { metrics_.set_queue_depth(queue, depth); }
    void retention_deleted(std::string_view table, std::size_t rows) { metrics_.retention_deleted(table, rows); }
    [[nodiscard]] std::string serialize() const { return metrics_.serialize(); }
    [[nodiscard]] static std::string user_ref(Platform p, std::string_view id) {
        return observability::hash_user_id(to_string(p), id);
    }

private:
    observability::Metrics metrics_;
};

}  // namespace pgibot::app
