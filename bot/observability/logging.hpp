#pragma once
// Logging setup (spdlog, to stderr) and the helpers that keep personal data out of logs.
//
//   init_logging({.level = "info", .format = "json", .user_id_salt = salt_from_secret_file}, error);
//   log_event(spdlog::level::info, "webhook accepted", {{"request_id", id}, {"user", hash_user_id("fb", psid)}});
//
// text: 2024-05-01T12:00:00.123Z info webhook accepted request_id=3fa9c1-2 user=9c0e...
// json: {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":"webhook accepted","request_id":"3fa9c1-2",...}
// Plain spdlog::info("...") calls work too and are rendered the same way, without fields.
#include <spdlog/common.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace pgibot::observability {

struct LogOptions {
    std::string level = "info";   // trace | debug | info | warn | error | critical | off
    std::string format = "text";  // text | json
    // Per-install secret for hash_user_id. Empty: a random per-process salt (hashes then do not
    // match across restarts).
    std::string user_id_salt;
};

// Replaces spdlog's default logger with a stderr logger. Returns false (and leaves logging as it
// was) on an unknown level or format.
bool init_logging(const LogOptions& options, std::string& error);

using LogField = std::pair<std::string_view, std::string_view>;

// One log line with structured fields (JSON keys in json format, key=value in text format).
void log_event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields = {});

// A short keyed hash of a platform user id (16 hex chars of SHA-256 over salt, platform and id), so
// that log lines about one citizen can be correlated without the id ever appearing in them.
[[nodiscard]] std::string hash_user_id(std::string_view platform, std::string_view id);

// JSON string escaping (quotes not included); invalid UTF-8 becomes U+FFFD. Exposed for tests.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace pgibot::observability
