#include "bot/observability/logging.hpp"
#include "handlers/model/json_writer.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

namespace pgibot::observability {

namespace {

// Fields of the log_event call being formatted on this thread. The logger is synchronous, so the
// formatter runs inside spdlog::log on the caller's thread and can read them here.
thread_local const std::initializer_list<LogField>* t_fields = nullptr;

std::string_view level_name(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
    }
}

bool parse_level(std::string_view name, spdlog::level::level_enum& level) {
    static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 9> kLevels = {{
        {"trace", spdlog::level::trace},
        {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},
        {"warn", spdlog::level::warn},
        {"warning", spdlog::level::warn},
        {"error", spdlog::level::err},
        {"err", spdlog::level::err},
        {"critical", spdlog::level::critical},
        {"off", spdlog::level::off},
    }};
    for (const auto& [text, value] : kLevels) {
        if (text == name) {
            level = value;
            return true;
        }
    }
    return false;
}

void append_timestamp(std::string& out, spdlog::log_clock::time_point tp) {
    const auto since_epoch = tp.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buffer[40];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    out.append(buffer, n);
    char ms[8];
    const int len = std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
    if (len > 0) out.append(ms, static_cast<std::size_t>(len));
}

// Text values are quoted when they would make key=value ambiguous.
void append_text_value(std::string& out, std::string_view value) {
    const bool plain = !value.empty() && value.find_first_of(" \"=\t\r\n\\") == std::string_view::npos;
    if (plain) {
        out.append(value);
        return;
    }
    out.push_back('"');
    append_json_escaped(out, value);
    out.push_back('"');
}

class LineFormatter final : public spdlog::formatter {
public:
    explicit LineFormatter(bool json) : json_(json) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line;
        const std::string_view text(msg.payload.data(), msg.payload.size());
        if (json_) {
            line += R"({"ts":")";
            append_timestamp(line, msg.time);
            line += R"(","level":")";
            line += level_name(msg.level);
            line += R"(","msg":")";
            append_json_escaped(line, text);
            line.push_back('"');
            if (t_fields != nullptr) {
                for (const auto& [key, value] : *t_fields) {
                    line += ",\"";
                    append_json_escaped(line, key);
                    line += "\":\"";
                    append_json_escaped(line, value);
                    line.push_back('"');
                }
            }
            line += "}\n";
        } else {
            append_timestamp(line, msg.time);
            line.push_back(' ');
            line += level_name(msg.level);
            line.push_back(' ');
            line += text;
            if (t_fields != nullptr) {
                for (const auto& [key, value] : *t_fields) {
                    line.push_back(' ');
                    line += key;
                    line.push_back('=');
                    append_text_value(line, value);
                }
            }
            line.push_back('\n');
        }
        dest.append(line.data(), line.data() + line.size());
    }

    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<LineFormatter>(json_);
    }

private:
    bool json_;
};

std::string random_salt() {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        return "fallback-" + std::to_string(now);
    }
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::atomic<std::shared_ptr<const std::string>> g_salt;

std::shared_ptr<const std::string> current_salt() {
    auto salt = g_salt.load();
    if (salt) return salt;
    auto fresh = std::make_shared<const std::string>(random_salt());
    // Another thread may have set one meanwhile: keep theirs.
    if (g_salt.compare_exchange_strong(salt, fresh)) return fresh;
    return salt;
}

void append_length_prefixed(std::string& out, std::string_view s) {
    const auto n = static_cast<std::uint64_t>(s.size());
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    out.append(s);
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) { json::append_escaped(out, s); }

bool init_logging(const LogOptions& options, std::string& error) {
    spdlog::level::level_enum level = spdlog::level::info;
    if (!parse_level(options.level, level)) {
        error = "unknown log level '" + options.level + "' (trace, debug, info, warn, error, critical, off)";
        return false;
    }
    if (options.format != "text" && options.format != "json") {
        error = "unknown log format '" + options.format + "' (text, json)";
        return false;
    }
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<LineFormatter>(options.format == "json"));
    auto logger = std::make_shared<spdlog::logger>("pgibot", std::move(sink));
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    if (!options.user_id_salt.empty()) g_salt.store(std::make_shared<const std::string>(options.user_id_salt));
    return true;
}

void log_event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields) {
    auto* logger = spdlog::default_logger_raw();
    if (logger == nullptr || !logger->should_log(level)) return;
    const auto* previous = t_fields;
    t_fields = &fields;
    try {
        logger->log(level, spdlog::string_view_t(message.data(), message.size()));
    } catch (...) {
        // spdlog reports its own errors; a log call must never take the caller down.
    }
    t_fields = previous;
}

std::string hash_user_id(std::string_view platform, std::string_view id) {
    const auto salt = current_salt();
    std::string input;
    input.reserve(salt->size() + platform.size() + id.size() + 24);
    append_length_prefixed(input, *salt);
    append_length_prefixed(input, platform);
    append_length_prefixed(input, id);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1 || digest_len < 8) {
        return "hash-error";
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(16);
    for (std::size_t i = 0; i < 8; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0x0F]);
    }
    return out;
}

}  // namespace pgibot::observability
