#pragma once
// The bot's configuration: one TOML file, validated strictly at start. Every key is read here and
// nowhere else; secrets never come from this file, only from the environment (see Secrets).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "bot/tipoffs/forwarder.hpp"

namespace pgibot::app {

struct ServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    int threads = 2;
    std::size_t body_limit = 1024 * 1024;
    int read_timeout_ms = 15000;
    int idle_timeout_ms = 60000;
    std::string tls_cert_file;   // both set: HTTPS
    std::string tls_key_file;
};

// [storage] inbox_retention_days: 0 (keep forever) or kMinInboxRetentionDays..kMaxInboxRetentionDays.
// The least is one day past the store's 7-day dedup window (bot/store/sqlite/recent_keys.hpp, checked
// by a static_assert in config.cpp): the keys of that window are read back from the stored events at
// start-up, so a webhook redelivered after its event was deleted would be taken as new and answered twice.
inline constexpr int kMinInboxRetentionDays = 8;
inline constexpr int kMaxInboxRetentionDays = 3650;

struct StorageConfig {
    std::string backend = "sqlite";
    std::filesystem::path sqlite_path;
    bool sqlite_synchronous_full = true;
    int inbox_retention_days = 30;  // handled events and sent replies older than this are deleted; 0: never
};

struct LogConfig {
    std::string level = "info";
    std::string format = "text";  // text | json
};

struct FacebookConfig {
    bool enabled = false;
    std::string page_id;
    std::string app_id;
    std::string graph_api_base = "https://graph.facebook.com/v25.0";
    int subscription_check_minutes = 15;
};

struct ZaloConfig {
    bool enabled = false;
    std::string app_id;
    std::string oa_id;
    std::string api_base = "https://openapi.zalo.me";
    std::string oauth_base = "https://oauth.zaloapp.com";
};

struct PipelineConfig {
    int workers = 2;
    int senders = 4;
    double send_rate_per_second = 20;  // per page
    int max_attempts = 6;
    int retry_base_ms = 1000;
    int retry_max_ms = 300000;
    int commit_batch_max = 512;
    int background_nice = 5;
    int commit_nice = -10;
    int commit_delay_us = 1000;
    int commit_delay_min_group = 12;
};

struct ConversationConfig {
    int handover_silence_minutes = 30;
    int tipoff_idle_expiry_hours = 24;
    std::string human_contact;  // shown when a citizen asks for a person
};

struct ChatConfig {
    bool enabled = false;  // the /chat simulator page
};

struct TipoffsConfig {
    std::filesystem::path key_file;       // used when PGIBOT_DATA_KEY is not set
    bool create_key_file = false;         // embedded default: create it on first start
    std::filesystem::path evidence_dir;   // downloaded photos/videos of reports
    std::size_t evidence_max_bytes = 25 * 1024 * 1024;
    bool evidence_allow_loopback = false;  // fetch http:// evidence from 127.0.0.1 (simulator only)
    // [tipoffs.routing], [tipoffs.smtp] and [tipoffs.forwarding] belong to bot/tipoffs/forwarder.hpp,
    // which validates them from the parsed document; absent routing: reports are stored, not forwarded.
    std::shared_ptr<const tipoffs::ForwardingConfig> forwarding;
};

struct Config {
    std::filesystem::path file;
    std::shared_ptr<const toml::table> document;  // the parsed file, for sections other rooms validate
    std::filesystem::path content_dir;
    ServerConfig server;
    StorageConfig storage;
    LogConfig log;
    FacebookConfig facebook;
    ZaloConfig zalo;
    PipelineConfig pipeline;
    ConversationConfig conversation;
    ChatConfig chat;
    TipoffsConfig tipoffs;
};

struct ConfigError {
    std::string file;
    int line = 0;
    std::string key;
    std::string message;
    [[nodiscard]] std::string describe() const;  // "config/pgibot.toml:12: server.listen: ..."
};

struct ConfigResult {
    std::optional<Config> config;
    std::vector<ConfigError> errors;
};

// Parses and validates. Relative paths are resolved against the config file's folder.
ConfigResult load_config(const std::filesystem::path& file);

// Secrets: from the environment only, never logged.
struct Secrets {
    std::string facebook_app_secret;    // PGIBOT_FACEBOOK_APP_SECRET
    std::string facebook_page_token;    // PGIBOT_FACEBOOK_PAGE_TOKEN
    std::string facebook_verify_token;  // PGIBOT_FACEBOOK_VERIFY_TOKEN
    std::string zalo_oa_secret_key;     // PGIBOT_ZALO_OA_SECRET_KEY
    std::string zalo_app_secret;        // PGIBOT_ZALO_APP_SECRET
    std::string zalo_access_token;      // PGIBOT_ZALO_ACCESS_TOKEN
    std::string zalo_refresh_token;     // PGIBOT_ZALO_REFRESH_TOKEN
    std::string data_key;               // PGIBOT_DATA_KEY
    std::string log_salt;               // PGIBOT_LOG_SALT (optional)
};
Secrets secrets_from_environment();
// The missing secrets an enabled platform needs, by variable name.
std::vector<std::string> missing_secrets(const Config& config, const Secrets& secrets);

}  // namespace pgibot::app
