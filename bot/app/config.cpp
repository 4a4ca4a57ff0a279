#include "bot/app/config.hpp"

#include <cstdlib>
#include <set>
#include <sstream>

#include "bot/store/sqlite/recent_keys.hpp"

namespace pgibot::app {
namespace {

static_assert(std::int64_t{kMinInboxRetentionDays} * 24 * 60 * 60 * 1000 > store::sqlite::kDedupWindowMs,
              "inbox retention must stay longer than the dedup window");

// Reads one table of the document, remembering which keys were read so that anything left over is
// reported as unknown, with its line.
class TableReader {
public:
    TableReader(const toml::table& table, std::string prefix, std::string file, std::vector<ConfigError>& errors)
        : table_(table), prefix_(std::move(prefix)), file_(std::move(file)), errors_(errors) {}

    TableReader(const TableReader&) = delete;
    TableReader& operator=(const TableReader&) = delete;
    ~TableReader() { report_unknown(); }

    void error_at(const toml::node* node, std::string_view key, std::string message) {
        int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 0;
        if (line == 0) line = static_cast<int>(table_.source().begin.line);
        errors_.push_back(ConfigError{file_, line, full(key), std::move(message)});
    }

    const toml::node* node(std::string_view key) {
        seen_.insert(std::string(key));
        return table_.get(key);
    }

    void string(std::string_view key, std::string& out, bool required = false) {
        const auto* n = node(key);
        if (n == nullptr) {
            if (required) error_at(nullptr, key, "is required");
            return;
        }
        if (const auto* v = n->as_string()) {
            out = v->get();
        } else {
            error_at(n, key, "must be a string");
        }
    }

    void boolean(std::string_view key, bool& out) {
        const auto* n = node(key);
        if (n == nullptr) return;
        if (const auto* v = n->as_boolean()) {
            out = v->get();
        } else {
            error_at(n, key, "must be true or false");
        }
    }

    template <typename Int>
    void integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
        const auto* n = node(key);
        if (n == nullptr) return;
        const auto* v = n->as_integer();
        if (v == nullptr) {
            error_at(n, key, "must be an integer");
            return;
        }
        const std::int64_t value = v->get();
        if (value < min || value > max) {
            error_at(n, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            return;
        }
        out = static_cast<Int>(value);
    }

    void number(std::string_view key, double& out, double min, double max) {
        const auto* n = node(key);
        if (n == nullptr) return;
        double value = 0;
        if (const auto* f = n->as_floating_point()) {
            value = f->get();
        } else if (const auto* i = n->as_integer()) {
            value = static_cast<double>(i->get());
        } else {
            error_at(n, key, "must be a number");
            return;
        }
        if (value < min || value > max) {
            std::ostringstream os;
            os << "must be between " << min << " and " << max;
            error_at(n, key, os.str());
            return;
        }
        out = value;
    }

    void one_of(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed) {
        const auto* n = node(key);
        if (n == nullptr) return;
        const auto* v = n->as_string();
        std::string options;
        for (auto a : allowed) options += (options.empty() ? "\"" : ", \"") + std::string(a) + "\"";
        if (v == nullptr) {
            error_at(n, key, "must be one of " + options);
            return;
        }
        for (auto a : allowed) {
            if (v->get() == a) {
                out = v->get();
                return;
            }
        }
        error_at(n, key, "\"" + v->get() + "\" is not one of " + options);
    }

    // A sub-table; nullptr when absent (or not a table: reported).
    const toml::table* table(std::string_view key) {
        const auto* n = node(key);
        if (n == nullptr) return nullptr;
        if (const auto* t = n->as_table()) return t;
        error_at(n, key, "must be a table");
        return nullptr;
    }

    // Marks a key as handled by someone else (validated elsewhere).
    void skip(std::string_view key) { seen_.insert(std::string(key)); }

    [[nodiscard]] std::string full(std::string_view key) const {
        return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
    }
    [[nodiscard]] const std::string& file() const { return file_; }
    std::vector<ConfigError>& errors() { return errors_; }

private:
    void report_unknown() {
        for (const auto& [k, v] : table_) {
            if (!seen_.contains(std::string(k.str()))) {
                errors_.push_back(ConfigError{file_, static_cast<int>(v.source().begin.line), full(k.str()),
                                              "unknown key"});
            }
        }
    }

    const toml::table& table_;
    std::string prefix_;
    std::string file_;
    std::vector<ConfigError>& errors_;
    std::set<std::string> seen_;
};

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& value) {
    std::filesystem::path p(value);
    if (p.is_absolute()) return p.lexically_normal();
    return (base / p).lexically_normal();
}

void read_server(TableReader& root, Config& c) {
    const auto* t = root.table("server");
    if (t == nullptr) return;
    TableReader r(*t, "server", root.file(), root.errors());
    std::string listen = c.server.host + ":" + std::to_string(c.server.port);
    r.string("listen", listen);
    const auto colon = listen.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < listen.size();
    if (ok) {
        std::string host = listen.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        const std::string port_text = listen.substr(colon + 1);
        char* end = nullptr;
        const long port = std::strtol(port_text.c_str(), &end, 10);
        ok = end != nullptr && *end == '\0' && port >= 0 && port <= 65535;
        if (ok) {
            c.server.host = host;
            c.server.port = static_cast<std::uint16_t>(port);
        }
    }
    if (!ok) r.error_at(t->get("listen"), "listen", "must be \"HOST:PORT\", e.g. \"127.0.0.1:8080\"");
    r.integer("threads", c.server.threads, 1, 64);
    r.integer("body_limit", c.server.body_limit, 1024, 64LL * 1024 * 1024);
    r.integer("read_timeout_ms", c.server.read_timeout_ms, 100, 600000);
    r.integer("idle_timeout_ms", c.server.idle_timeout_ms, 100, 3600000);
    if (const auto* tls = r.table("tls")) {
        TableReader tr(*tls, "server.tls", root.file(), root.errors());
        tr.string("cert_file", c.server.tls_cert_file, true);
        tr.string("key_file", c.server.tls_key_file, true);
        const auto base = c.file.parent_path();
        if (!c.server.tls_cert_file.empty()) c.server.tls_cert_file = resolve(base, c.server.tls_cert_file).string();
        if (!c.server.tls_key_file.empty()) c.server.tls_key_file = resolve(base, c.server.tls_key_file).string();
    }
}

void read_storage(TableReader& root, Config& c) {
    const auto* t = root.table("storage");
    if (t == nullptr) {
        root.error_at(nullptr, "storage", "the [storage] table is required");
        return;
    }
    TableReader r(*t, "storage", root.file(), root.errors());
    r.one_of("backend", c.storage.backend, {"sqlite"});
    if (const auto* n = r.node("inbox_retention_days")) {
        const auto* v = n->as_integer();
        const std::int64_t days = v != nullptr ? v->get() : -1;
        if (v == nullptr) {
            r.error_at(n, "inbox_retention_days", "must be an integer");
        } else if (days != 0 && (days < kMinInboxRetentionDays || days > kMaxInboxRetentionDays)) {
            r.error_at(n, "inbox_retention_days",
                       "must be 0 (keep forever) or between " + std::to_string(kMinInboxRetentionDays) + " and " +
                           std::to_string(kMaxInboxRetentionDays) +
                           ": events are kept longer than the 7-day dedup window, or a webhook redelivered"
                           " after its event was deleted would be answered twice");
        } else {
            c.storage.inbox_retention_days = static_cast<int>(days);
        }
    }
    if (const auto* s = r.table("sqlite")) {
        TableReader sr(*s, "storage.sqlite", root.file(), root.errors());
        std::string path;
        sr.string("path", path, true);
        if (!path.empty()) c.storage.sqlite_path = resolve(c.file.parent_path(), path);
        std::string sync = "full";
        sr.one_of("synchronous", sync, {"full", "normal"});
        c.storage.sqlite_synchronous_full = sync == "full";
    } else if (c.storage.backend == "sqlite") {
        r.error_at(nullptr, "sqlite", "the [storage.sqlite] table is required when backend = \"sqlite\"");
    }
}

void read_platforms(TableReader& root, Config& c) {
    if (const auto* t = root.table("facebook")) {
        TableReader r(*t, "facebook", root.file(), root.errors());
        r.boolean("enabled", c.facebook.enabled);
        r.string("page_id", c.facebook.page_id);
        r.string("app_id", c.facebook.app_id);
        r.string("graph_api_base", c.facebook.graph_api_base);
        r.integer("subscription_check_minutes", c.facebook.subscription_check_minutes, 0, 1440);
        if (c.facebook.enabled && c.facebook.page_id.empty()) {
            r.error_at(t->get("enabled"), "page_id", "is required when facebook.enabled = true");
        }
    }
    if (const auto* t = root.table("zalo")) {
        TableReader r(*t, "zalo", root.file(), root.errors());
        r.boolean("enabled", c.zalo.enabled);
        r.string("app_id", c.zalo.app_id);
        r.string("oa_id", c.zalo.oa_id);
        r.string("api_base", c.zalo.api_base);
        r.string("oauth_base", c.zalo.oauth_base);
        if (c.zalo.enabled && c.zalo.app_id.empty()) {
            r.error_at(t->get("enabled"), "app_id", "is required when zalo.enabled = true");
        }
    }
}

void read_rest(TableReader& root, Config& c) {
    if (const auto* t = root.table("log")) {
        TableReader r(*t, "log", root.file(), root.errors());
        r.one_of("level", c.log.level, {"trace", "debug", "info", "warn", "error"});
        r.one_of("format", c.log.format, {"text", "json"});
    }
    if (const auto* t = root.table("content")) {
        TableReader r(*t, "content", root.file(), root.errors());
        std::string dir;
        r.string("dir", dir, true);
        if (!dir.empty()) c.content_dir = resolve(c.file.parent_path(), dir);
    } else {
        root.error_at(nullptr, "content", "the [content] table (dir = ...) is required");
    }
    if (const auto* t = root.table("pipeline")) {
        TableReader r(*t, "pipeline", root.file(), root.errors());
        r.integer("workers", c.pipeline.workers, 1, 64);
        r.integer("senders", c.pipeline.senders, 1, 64);
        r.number("send_rate_per_second", c.pipeline.send_rate_per_second, 0.1, 10000);
        r.integer("max_attempts", c.pipeline.max_attempts, 1, 100);
        r.integer("retry_base_ms", c.pipeline.retry_base_ms, 1, 3600000);
        r.integer("retry_max_ms", c.pipeline.retry_max_ms, 1, 86400000);
        r.integer("commit_batch_max", c.pipeline.commit_batch_max, 1, 100000);
        r.integer("background_nice", c.pipeline.background_nice, 0, 19);
        r.integer("commit_nice", c.pipeline.commit_nice, -20, 0);
        r.integer("commit_delay_us", c.pipeline.commit_delay_us, 0, 100000);
        r.integer("commit_delay_min_group", c.pipeline.commit_delay_min_group, 1, 100000);
    }
    if (const auto* t = root.table("conversation")) {
        TableReader r(*t, "conversation", root.file(), root.errors());
        r.integer("handover_silence_minutes", c.conversation.handover_silence_minutes, 0, 7 * 24 * 60);
        r.integer("tipoff_idle_expiry_hours", c.conversation.tipoff_idle_expiry_hours, 1, 24 * 30);
        r.string("human_contact", c.conversation.human_contact);
    }
    if (const auto* t = root.table("chat")) {
        TableReader r(*t, "chat", root.file(), root.errors());
        r.boolean("enabled", c.chat.enabled);
    }
    if (const auto* t = root.table("tipoffs")) {
        TableReader r(*t, "tipoffs", root.file(), root.errors());
        std::string key_file;
        r.string("key_file", key_file);
        if (!key_file.empty()) c.tipoffs.key_file = resolve(c.file.parent_path(), key_file);
        r.boolean("create_key_file", c.tipoffs.create_key_file);
        std::string evidence_dir = "evidence";
        r.string("evidence_dir", evidence_dir);
        c.tipoffs.evidence_dir = resolve(c.file.parent_path(), evidence_dir);
        int evidence_max_mb = 25;
        r.integer("evidence_max_mb", evidence_max_mb, 1, 1024);
        c.tipoffs.evidence_max_bytes = static_cast<std::size_t>(evidence_max_mb) * 1024 * 1024;
        r.boolean("evidence_allow_loopback", c.tipoffs.evidence_allow_loopback);
        r.skip("routing");
        r.skip("smtp");
        r.skip("forwarding");
        if (t->contains("routing") || t->contains("smtp") || t->contains("forwarding")) {
            try {
                c.tipoffs.forwarding =
                    std::make_shared<const tipoffs::ForwardingConfig>(tipoffs::parse_forwarding_config(*t));
            } catch (const std::exception& e) {
                // The message already names the key and the line.
                r.errors().push_back(ConfigError{"", 0, "", e.what()});
            }
        }
    }
}

}  // namespace

std::string ConfigError::describe() const {
    std::string out = file;
    if (!file.empty() && line > 0) out += ":" + std::to_string(line);
    if (!file.empty()) out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    return out;
}

ConfigResult load_config(const std::filesystem::path& file) {
    ConfigResult result;
    const std::string name = file.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        result.errors.push_back(ConfigError{name, 0, "", "no such config file"});
        return result;
    }
    auto document = std::make_shared<toml::table>();
    try {
        *document = toml::parse_file(name);
    } catch (const toml::parse_error& e) {
        result.errors.push_back(ConfigError{name, static_cast<int>(e.source().begin.line), "",
                                            "not valid TOML: " + std::string(e.description())});
        return result;
    }
    Config c;
    c.file = std::filesystem::absolute(file, ec).lexically_normal();
    c.document = document;
    {
        TableReader root(*document, "", name, result.errors);
        read_server(root, c);
        read_storage(root, c);
        read_platforms(root, c);
        read_rest(root, c);
    }
    if (result.errors.empty()) result.config = std::move(c);
    return result;
}

Secrets secrets_from_environment() {
    auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return v != nullptr ? std::string(v) : std::string();
    };
    Secrets s;
    s.facebook_app_secret = env("PGIBOT_FACEBOOK_APP_SECRET");
    s.facebook_page_token = env("PGIBOT_FACEBOOK_PAGE_TOKEN");
    s.facebook_verify_token = env("PGIBOT_FACEBOOK_VERIFY_TOKEN");
    s.zalo_oa_secret_key = env("PGIBOT_ZALO_OA_SECRET_KEY");
    s.zalo_app_secret = env("PGIBOT_ZALO_APP_SECRET");
    s.zalo_access_token = env("PGIBOT_ZALO_ACCESS_TOKEN");
    s.zalo_refresh_token = env("PGIBOT_ZALO_REFRESH_TOKEN");
    s.data_key = env("PGIBOT_DATA_KEY");
    s.log_salt = env("PGIBOT_LOG_SALT");
    return s;
}

std::vector<std::string> missing_secrets(const Config& config, const Secrets& s) {
    std::vector<std::string> missing;
    if (config.facebook.enabled) {
        if (s.facebook_app_secret.empty()) missing.emplace_back("PGIBOT_FACEBOOK_APP_SECRET");
        if (s.facebook_page_token.empty()) missing.emplace_back("PGIBOT_FACEBOOK_PAGE_TOKEN");
        if (s.facebook_verify_token.empty()) missing.emplace_back("PGIBOT_FACEBOOK_VERIFY_TOKEN");
    }
    if (config.zalo.enabled) {
        if (s.zalo_oa_secret_key.empty()) missing.emplace_back("PGIBOT_ZALO_OA_SECRET_KEY");
        if (s.zalo_app_secret.empty()) missing.emplace_back("PGIBOT_ZALO_APP_SECRET");
        if (s.zalo_access_token.empty() && s.zalo_refresh_token.empty()) {
            missing.emplace_back("PGIBOT_ZALO_ACCESS_TOKEN or PGIBOT_ZALO_REFRESH_TOKEN");
        }
    }
    if (s.data_key.empty() && config.tipoffs.key_file.empty()) {
        missing.emplace_back("PGIBOT_DATA_KEY (or tipoffs.key_file)");
    }
    return missing;
}

}  // namespace pgibot::app
