#pragma once
// Encryption at rest of a reporter's identity (libsodium).
//
// One 32-byte master key, from the environment (PGIBOT_DATA_KEY: 64 hex digits or base64) or from a
// key file (the same text, mode 0600). Two subkeys are derived from it with crypto_kdf:
//   id 1: XChaCha20-Poly1305-IETF key for sealing ReporterIdentity (random 24-byte nonce per seal);
//   id 2: BLAKE2b key for lookup hashes of (platform, user id).
// Sealed format (binary): "PGV1" | nonce (24) | ciphertext of the identity JSON + tag (16).
// The 4-byte prefix is authenticated as associated data; a future format uses another prefix.
//
// Losing the key loses every stored identity; changing it makes them unreadable. Back it up with
// the database, separately from it.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bot/store/store.hpp"
#include "handlers/model/event.hpp"
#include "handlers/tipoff/report.hpp"

namespace pgibot::tipoffs {

class VaultError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Calls sodium_init() once (thread-safe); throws VaultError if libsodium cannot start.
void ensure_sodium();

inline constexpr std::size_t kDataKeyBytes = 32;
using DataKey = std::array<unsigned char, kDataKeyBytes>;

// "64 hex digits" or base64 (standard or URL-safe, padding optional) of exactly 32 bytes;
// surrounding whitespace ignored. nullopt otherwise.
std::optional<DataKey> parse_data_key(std::string_view text);

// Writes a new random key (hex + "\n") to `path`: mode 0600, written to a temporary file in the same
// folder, fsynced, then linked into place, so a reader never sees half a key. Never overwrites:
// throws VaultError if `path` exists (or on any I/O error). Parent folders are created (0700).
void create_key_file(const std::filesystem::path& path);

class IdentityVault {
public:
    static constexpr std::string_view kEnvVar = "PGIBOT_DATA_KEY";
    static constexpr std::string_view kSealPrefix = "PGV1";

    explicit IdentityVault(const DataKey& master_key);
    ~IdentityVault();
    IdentityVault(const IdentityVault&) = delete;
    IdentityVault& operator=(const IdentityVault&) = delete;
    IdentityVault(IdentityVault&&) noexcept;
    IdentityVault& operator=(IdentityVault&&) noexcept;

    // From the key text in `env_var`; nullopt when the variable is unset or empty; throws VaultError
    // when it is set but malformed (the message never contains the value).
    static std::optional<IdentityVault> from_env(std::string_view env_var = kEnvVar);
    // Throws VaultError when the file is missing, unreadable or malformed.
    static IdentityVault from_key_file(const std::filesystem::path& path);
    // The start-up rule: the environment variable wins; else the key file; if the file does not exist
    // and `create_if_missing` (the embedded default config's first start), it is created first.
    static IdentityVault load(const std::filesystem::path& key_file, bool create_if_missing,
                              std::string_view env_var = kEnvVar);

    [[nodiscard]] std::string seal(const tipoff::ReporterIdentity& identity) const;
    // nullopt: wrong key, tampered or truncated data, unknown format.
    [[nodiscard]] std::optional<tipoff::ReporterIdentity> open(std::string_view sealed) const;
    // Any text (citizens' messages, conversation state) sealed for storage: "PGT1:" + base64 of
    // nonce | ciphertext + tag, so it fits a TEXT column. open_text: nullopt on a wrong key or tampering.
    [[nodiscard]] std::string seal_text(std::string_view plain) const;
    [[nodiscard]] std::optional<std::string> open_text(std::string_view sealed) const;

    // Keyed BLAKE2b-256 of platform + user id, 64 lower-case hex digits. Stable for a given key.
    [[nodiscard]] std::string lookup_hash(Platform platform, std::string_view user_id) const;

private:
    DataKey seal_key_{};
    DataKey lookup_key_{};
};

// What the runtime stores for a filed report: the identity is sealed and cleared from the copy, the
// lookup hash is computed from (platform, reporter.platform_user_id), and the reporter's phone number
// and name, if they also appear in the free-text fields (description, place, suspect, occurred text),
// are replaced there by "[đã ẩn]", so the database holds neither in plaintext.
store::NewTipoff prepare_tipoff(const tipoff::Report& report, const IdentityVault& vault, std::int64_t now_ms);

// Exposed for tests: masks `phone` (matched on its digits, spaces/dots/dashes between them allowed,
// "+84"/"84" and "0" prefixes equivalent) and `name` (whole-word, exact) inside `text`.
std::string redact_identity(std::string_view text, std::string_view phone, std::string_view name);

}  // namespace pgibot::tipoffs
