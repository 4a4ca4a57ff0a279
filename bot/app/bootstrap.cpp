#include "bot/app/bootstrap.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

namespace pgibot::app {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

handlers::Settings handler_settings(const Config& c) {
    handlers::Settings s;
    s.handover_silence_ms = static_cast<std::int64_t>(c.conversation.handover_silence_minutes) * 60 * 1000;
    s.tipoff_idle_expiry_ms = static_cast<std::int64_t>(c.conversation.tipoff_idle_expiry_hours) * 3600 * 1000;
    s.human_contact = c.conversation.human_contact;
    return s;
}

tipoffs::EvidenceOptions evidence_options(const Config& c) {
    tipoffs::EvidenceOptions o;
    o.dir = c.tipoffs.evidence_dir;
    o.max_bytes = c.tipoffs.evidence_max_bytes;
    o.allow_loopback_http = c.tipoffs.evidence_allow_loopback;
    return o;
}

std::optional<Config> load_config_or_report(const std::string& file) {
    auto result = load_config(file);
    for (const auto& e : result.errors) std::cerr << "config error: " << e.describe() << "\n";
    return std::move(result.config);
}

std::shared_ptr<const messages::Content> load_content_or_report(const Config& config) {
    auto result = messages::load_content(config.content_dir);
    for (const auto& p : result.problems) {
        std::cerr << "content error: " << p.file << ":" << p.line << ": " << p.message << "\n";
    }
    return result.content;
}

std::unique_ptr<store::Store> open_store_or_report(const Config& config, const tipoffs::IdentityVault* vault) {
    try {
        store::SqliteOptions options;
        options.path = config.storage.sqlite_path.string();
        options.synchronous_full = config.storage.sqlite_synchronous_full;
        if (vault != nullptr) {
            options.seal_text = [vault](std::string_view plain) { return vault->seal_text(plain); };
            options.open_text = [vault](std::string_view sealed) { return vault->open_text(sealed); };
        }
        return store::open_sqlite(options);
    } catch (const std::exception& e) {
        std::cerr << "storage error: " << config.storage.sqlite_path.string() << ": " << e.what() << "\n";
        return nullptr;
    }
}

ServeLock::~ServeLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::optional<ServeLock> lock_serve_or_report(const Config& config) {
    const std::string path = config.storage.sqlite_path.string() + ".serve-lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::cerr << "storage error: cannot open " << path << ": " << std::strerror(errno) << "\n";
        return std::nullopt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK) {
            std::cerr << "storage error: another pgibot serve is using " << config.storage.sqlite_path.string()
                      << " (" << path << " is locked); run one server per database\n";
        } else {
            std::cerr << "storage error: cannot lock " << path << ": " << std::strerror(error) << "\n";
        }
        return std::nullopt;
    }
    return ServeLock(fd);
}

std::optional<tipoffs::IdentityVault> open_vault_or_report(const Config& config) {
    try {
        // The vault itself says so when it creates the key file (first start of the default config).
        auto vault = tipoffs::IdentityVault::load(config.tipoffs.key_file, config.tipoffs.create_key_file);
        return vault;
    } catch (const std::exception& e) {
        std::cerr << "data key error: " << e.what()
                  << " (set PGIBOT_DATA_KEY or tipoffs.key_file; see config/production.example.toml)\n";
        return std::nullopt;
    }
}

}  // namespace pgibot::app
