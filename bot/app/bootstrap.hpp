#pragma once
// Start-up steps shared by the subcommands; each reports its own problems on stderr.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "bot/app/config.hpp"
#include "bot/channels/facebook/facebook_channel.hpp"
#include "bot/store/store.hpp"
#include "bot/tipoffs/evidence.hpp"
#include "bot/tipoffs/vault.hpp"
#include "handlers/handler.hpp"
#include "messages/content.hpp"

namespace pgibot::app {

std::optional<Config> load_config_or_report(const std::string& file);
std::shared_ptr<const messages::Content> load_content_or_report(const Config& config);
// With a vault, what citizens wrote is sealed at rest (the vault must outlive the store).
std::unique_ptr<store::Store> open_store_or_report(const Config& config, const tipoffs::IdentityVault* vault = nullptr);
std::optional<tipoffs::IdentityVault> open_vault_or_report(const Config& config);

// Held by `serve` for its whole life: one server per database file. The SQLite store deduplicates
// webhook events against the keys it keeps in memory, so a second server on the same file would
// accept the first one's duplicates (and answer them twice). An flock() on "<database>.serve-lock":
// the kernel releases it when the process ends, however it ends (a SIGKILL included).
class ServeLock {
public:
    explicit ServeLock(int fd) : fd_(fd) {}
    ~ServeLock();
    ServeLock(ServeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ServeLock& operator=(ServeLock&&) = delete;
    ServeLock(const ServeLock&) = delete;
    ServeLock& operator=(const ServeLock&) = delete;

private:
    int fd_;
};
std::optional<ServeLock> lock_serve_or_report(const Config& config);

std::int64_t wall_ms();
// The handlers' settings from [conversation].
handlers::Settings handler_settings(const Config& config);
// Evidence download settings from [tipoffs].
tipoffs::EvidenceOptions evidence_options(const Config& config);
// The Facebook channel settings: ids from the config, secrets from the environment.
channels::FacebookOptions facebook_options_from(const Config& config, const Secrets& secrets);

}  // namespace pgibot::app
