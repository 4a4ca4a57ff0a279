#include "bot/tipoffs/vault.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace pgibot::tipoffs {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "pgibotv1";
constexpr std::uint64_t kSealSubkeyId = 1;
constexpr std::uint64_t kLookupSubkeyId = 2;
constexpr std::string_view kRedacted = "[đã ẩn]";

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kDataKeyBytes);
static_assert(crypto_kdf_KEYBYTES == kDataKeyBytes);

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

void fsync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) != 0;
}

// Digits of a phone number in a canonical national form: "+84 912..." and "0912..." compare equal.
std::string canonical_phone(std::string_view digits) {
    std::string d(digits);
    if (d.size() >= 11 && d.starts_with("84")) d = "0" + d.substr(2);
    return d;
}

std::string redact_phone(std::string_view text, std::string_view phone) {
    std::string phone_digits;
    for (char c : phone)
        if (is_digit(c)) phone_digits += c;
    if (phone_digits.size() < 6) return std::string(text);  // too short to match safely
    const std::string target = canonical_phone(phone_digits);

    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const bool starts = (is_digit(text[i]) || (text[i] == '+' && i + 1 < text.size() && is_digit(text[i + 1])))
                            && (i == 0 || !is_digit(text[i - 1]));
        if (starts) {
            std::string digits;
            std::size_t j = i + (text[i] == '+' ? 1 : 0);
            std::size_t match_end = 0;
            while (j < text.size() && digits.size() <= target.size() + 2) {
                if (is_digit(text[j])) {
                    digits += text[j];
                    ++j;
                    if (canonical_phone(digits) == target && (j == text.size() || !is_digit(text[j]))) {
                        match_end = j;
                        break;
                    }
                } else if ((text[j] == ' ' || text[j] == '.' || text[j] == '-') && j + 1 < text.size()
                           && is_digit(text[j + 1]) && !digits.empty()) {
                    ++j;
                } else {
                    break;
                }
            }
            if (match_end != 0) {
                out += kRedacted;
                i = match_end;
                continue;
            }
        }
        out += text[i];
        ++i;
    }
    return out;
}

std::string redact_name(std::string_view text, std::string_view name_in) {
    const std::string name = trim(name_in);
    if (name.size() < 2) return std::string(text);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto hit = text.find(name, pos);
        if (hit == std::string_view::npos) break;
        const auto end = hit + name.size();
        const bool left_ok = hit == 0 || !is_word_byte(text[hit - 1]);
        const bool right_ok = end == text.size() || !is_word_byte(text[end]);
        if (left_ok && right_ok) {
            out.append(text.substr(pos, hit - pos));
            out += kRedacted;
            pos = end;
        } else {
            out.append(text.substr(pos, hit + 1 - pos));
            pos = hit + 1;
        }
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace

void ensure_sodium() {
    static const bool ok = [] { return sodium_init() >= 0; }();
    if (!ok) throw VaultError("libsodium could not be initialised");
}

std::optional<DataKey> parse_data_key(std::string_view text_in) {
    ensure_sodium();
    const std::string text = trim(text_in);
    if (text.empty()) return std::nullopt;
    DataKey key{};
    std::size_t len = 0;
    const char* end = nullptr;
    if (text.size() == kDataKeyBytes * 2
        && sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end) == 0
        && len == kDataKeyBytes && end == text.data() + text.size()) {
        return key;
    }
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
        std::array<unsigned char, kDataKeyBytes + 8> buf{};
        if (sodium_base642bin(buf.data(), buf.size(), text.data(), text.size(), nullptr, &len, &end, variant) == 0
            && len == kDataKeyBytes && end == text.data() + text.size()) {
            std::copy_n(buf.begin(), kDataKeyBytes, key.begin());
            sodium_memzero(buf.data(), buf.size());
            return key;
        }
        sodium_memzero(buf.data(), buf.size());
    }
    sodium_memzero(key.data(), key.size());
    return std::nullopt;
}

void create_key_file(const std::filesystem::path& path) {
    ensure_sodium();
    std::error_code ec;
    if (std::filesystem::exists(path, ec))
        throw VaultError("key file " + path.string() + " already exists; refusing to overwrite it");
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) throw VaultError("cannot create folder " + dir.string() + ": " + ec.message());
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }

    DataKey key{};
    randombytes_buf(key.data(), key.size());
    std::array<char, kDataKeyBytes * 2 + 2> hex{};
    sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
    sodium_memzero(key.data(), key.size());
    hex[kDataKeyBytes * 2] = '\n';
    const std::size_t text_len = kDataKeyBytes * 2 + 1;

    std::string tmpl = (dir / (path.filename().string() + ".tmp.XXXXXX")).string();
    std::vector<char> tmp_name(tmpl.begin(), tmpl.end());
    tmp_name.push_back('\0');
    const int fd = ::mkstemp(tmp_name.data());
    if (fd < 0) {
        sodium_memzero(hex.data(), hex.size());
        throw VaultError("cannot create a temporary key file in " + dir.string() + ": " + errno_text(errno));
    }
    const std::string tmp_path(tmp_name.data());
    auto fail = [&](const std::string& what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp_path.c_str());
        sodium_memzero(hex.data(), hex.size());
        throw VaultError(what + ": " + errno_text(err));
    };
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) fail("cannot set key file mode");
    std::size_t written = 0;
    while (written < text_len) {
        const auto n = ::write(fd, hex.data() + written, text_len - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write key file");
        }
        written += static_cast<std::size_t>(n);
    }
    sodium_memzero(hex.data(), hex.size());
    if (::fsync(fd) != 0) fail("cannot fsync key file");
    ::close(fd);
    // link() never replaces an existing file: two processes starting at once cannot swap keys.
    if (::link(tmp_path.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp_path.c_str());
        throw VaultError("cannot install key file " + path.string() + ": " + errno_text(err));
    }
    ::unlink(tmp_path.c_str());
    fsync_dir(dir);
}

IdentityVault::IdentityVault(const DataKey& master_key) {
    ensure_sodium();
    crypto_kdf_derive_from_key(seal_key_.data(), seal_key_.size(), kSealSubkeyId, kKdfContext, master_key.data());
    crypto_kdf_derive_from_key(lookup_key_.data(), lookup_key_.size(), kLookupSubkeyId, kKdfContext,
                               master_key.data());
}

IdentityVault::~IdentityVault() {
    sodium_memzero(seal_key_.data(), seal_key_.size());
    sodium_memzero(lookup_key_.data(), lookup_key_.size());
}

IdentityVault::IdentityVault(IdentityVault&& other) noexcept
    : seal_key_(other.seal_key_), lookup_key_(other.lookup_key_) {
    sodium_memzero(other.seal_key_.data(), other.seal_key_.size());
    sodium_memzero(other.lookup_key_.data(), other.lookup_key_.size());
}

IdentityVault& IdentityVault::operator=(IdentityVault&& other) noexcept {
    if (this != &other) {
        seal_key_ = other.seal_key_;
        lookup_key_ = other.lookup_key_;
        sodium_memzero(other.seal_key_.data(), other.seal_key_.size());
        sodium_memzero(other.lookup_key_.data(), other.lookup_key_.size());
    }
    return *this;
}

std::optional<IdentityVault> IdentityVault::from_env(std::string_view env_var) {
    const std::string name(env_var);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    auto key = parse_data_key(value);
    if (!key) throw VaultError(name + " is set but is not 32 bytes in hex (64 digits) or base64");
    IdentityVault vault(*key);
    sodium_memzero(key->data(), key->size());
    return vault;
}

IdentityVault IdentityVault::from_key_file(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw VaultError("cannot read key file " + path.string() + ": " + errno_text(errno));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        spdlog::warn("key file {} is accessible to group/others; chmod 600 it", path.string());
    std::ifstream in(path, std::ios::binary);
    if (!in) throw VaultError("cannot open key file " + path.string());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 4096) throw VaultError("key file " + path.string() + " is too large");
    auto key = parse_data_key(text);
    sodium_memzero(text.data(), text.size());
    if (!key) throw VaultError("key file " + path.string() + " does not hold 32 bytes in hex or base64");
    IdentityVault vault(*key);
    sodium_memzero(key->data(), key->size());
    return vault;
}

IdentityVault IdentityVault::load(const std::filesystem::path& key_file, bool create_if_missing,
                                  std::string_view env_var) {
    if (auto vault = from_env(env_var)) return std::move(*vault);
    if (key_file.empty())
        throw VaultError(std::string(env_var) + " is not set and no key file is configured");
    std::error_code ec;
    if (!std::filesystem::exists(key_file, ec)) {
        if (!create_if_missing)
            throw VaultError(std::string(env_var) + " is not set and key file " + key_file.string() +
                             " does not exist");
        create_key_file(key_file);
        spdlog::warn("created a new data key in {}: back it up; without it reporter identities are lost",
                     key_file.string());
    }
    return from_key_file(key_file);
}

std::string IdentityVault::seal(const tipoff::ReporterIdentity& identity) const {
    nlohmann::json j = {{"u", identity.platform_user_id},
                        {"n", identity.name},
                        {"p", identity.phone},
                        {"a", identity.address}};
    std::string plain = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

    constexpr auto nonce_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::string out(kSealPrefix.size() + nonce_len + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    std::copy(kSealPrefix.begin(), kSealPrefix.end(), out.begin());
    unsigned char* nonce = dst + kSealPrefix.size();
    randombytes_buf(nonce, nonce_len);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + nonce_len, &clen, bytes(plain), plain.size(),
                                               bytes(kSealPrefix), kSealPrefix.size(), nullptr, nonce,
                                               seal_key_.data());
    sodium_memzero(plain.data(), plain.size());
    out.resize(kSealPrefix.size() + nonce_len + clen);
    return out;
}

namespace {
constexpr std::string_view kTextPrefix = "PGT1:";
constexpr auto kTextNonceLen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr auto kTextTagLen = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// XChaCha20 nonces need only never repeat under one key. A random 16-byte prefix drawn once per
// process plus a 64-bit counter gives that without a getrandom() system call per sealed value (this
// runs for every acknowledged webhook event).
void next_text_nonce(unsigned char* nonce) {
    static_assert(kTextNonceLen == 24);
    static const auto prefix = [] {
        std::array<unsigned char, 16> p{};
        randombytes_buf(p.data(), p.size());
        return p;
    }();
    static std::atomic<std::uint64_t> counter{0};
    const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    std::memcpy(nonce, prefix.data(), prefix.size());
    for (int i = 0; i < 8; ++i) nonce[16 + i] = static_cast<unsigned char>(n >> (8 * i));
}
}  // namespace

// Base64 by OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock: what is encoded is ciphertext, so the
// constant-time (and several times slower) libsodium codec buys nothing here.
std::string IdentityVault::seal_text(std::string_view plain) const {
    const std::size_t raw_len = kTextNonceLen + plain.size() + kTextTagLen;
    thread_local std::vector<unsigned char> raw;
    raw.resize(raw_len);
    unsigned char* nonce = raw.data();
    next_text_nonce(nonce);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kTextNonceLen, &clen, bytes(plain), plain.size(),
                                               bytes(kTextPrefix), kTextPrefix.size(), nullptr, nonce,
                                               seal_key_.data());
    const std::size_t b64_len = 4 * ((kTextNonceLen + clen + 2) / 3);
    std::string out(kTextPrefix.size() + b64_len + 1, '\0');
    std::memcpy(out.data(), kTextPrefix.data(), kTextPrefix.size());
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + kTextPrefix.size()), raw.data(),
                                        static_cast<int>(kTextNonceLen + clen));
    out.resize(kTextPrefix.size() + static_cast<std::size_t>(std::max(written, 0)));
    return out;
}

std::optional<std::string> IdentityVault::open_text(std::string_view sealed) const {
    if (!sealed.starts_with(kTextPrefix)) return std::nullopt;
    const auto b64 = sealed.substr(kTextPrefix.size());
    if (b64.empty() || b64.size() % 4 != 0 || b64.size() > static_cast<std::size_t>(INT32_MAX)) return std::nullopt;
    std::size_t padding = 0;
    if (b64.back() == '=') ++padding;
    if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++padding;
    thread_local std::vector<unsigned char> raw;
    raw.resize(b64.size() / 4 * 3);
    const int decoded = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                        static_cast<int>(b64.size()));
    if (decoded < 0 || static_cast<std::size_t>(decoded) < padding) return std::nullopt;
    const std::size_t raw_len = static_cast<std::size_t>(decoded) - padding;
    if (raw_len < kTextNonceLen + kTextTagLen) return std::nullopt;
    const unsigned char* nonce = raw.data();
    std::string plain(raw_len - kTextNonceLen - kTextTagLen, '\0');
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
                                                   nonce + kTextNonceLen, raw_len - kTextNonceLen, bytes(kTextPrefix),
                                                   kTextPrefix.size(), nonce, seal_key_.data()) != 0) {
        return std::nullopt;
    }
    plain.resize(plen);
    return plain;
}

std::optional<tipoff::ReporterIdentity> IdentityVault::open(std::string_view sealed) const {
    constexpr auto nonce_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr auto tag_len = crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (sealed.size() < kSealPrefix.size() + nonce_len + tag_len || !sealed.starts_with(kSealPrefix))
        return std::nullopt;
    const auto* nonce = bytes(sealed) + kSealPrefix.size();
    const auto* cipher = nonce + nonce_len;
    const auto clen = sealed.size() - kSealPrefix.size() - nonce_len;
    std::string plain(clen - tag_len, '\0');
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
                                                   cipher, clen, bytes(kSealPrefix), kSealPrefix.size(), nonce,
                                                   seal_key_.data()) != 0) {
        return std::nullopt;
    }
    plain.resize(plen);
    std::optional<tipoff::ReporterIdentity> result;
    auto j = nlohmann::json::parse(plain, nullptr, false);
    if (j.is_object()) {
        tipoff::ReporterIdentity id;
        auto get = [&](const char* k) {
            auto it = j.find(k);
            return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        id.platform_user_id = get("u");
        id.name = get("n");
        id.phone = get("p");
        id.address = get("a");
        result = std::move(id);
    }
    sodium_memzero(plain.data(), plain.size());
    return result;
}

std::string IdentityVault::lookup_hash(Platform platform, std::string_view user_id) const {
    const std::string_view p = to_string(platform);
    std::array<unsigned char, crypto_generichash_BYTES> out{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, lookup_key_.data(), lookup_key_.size(), out.size());
    crypto_generichash_update(&st, bytes(p), p.size());
    const unsigned char sep = 0;
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, bytes(user_id), user_id.size());
    crypto_generichash_final(&st, out.data(), out.size());
    std::array<char, crypto_generichash_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), out.data(), out.size());
    return std::string(hex.data(), crypto_generichash_BYTES * 2);
}

std::string redact_identity(std::string_view text, std::string_view phone, std::string_view name) {
    return redact_name(redact_phone(text, phone), name);
}

store::NewTipoff prepare_tipoff(const tipoff::Report& report, const IdentityVault& vault, std::int64_t now_ms) {
    store::NewTipoff out;
    out.report = report;
    out.identity_sealed = vault.seal(report.reporter);
    out.reporter_lookup = vault.lookup_hash(report.platform, report.reporter.platform_user_id);
    out.created_ms = now_ms;
    const auto& who = report.reporter;
    for (std::string* field : {&out.report.description, &out.report.place_detail, &out.report.suspect,
                               &out.report.occurred_text}) {
        *field = redact_identity(*field, who.phone, who.name);
    }
    out.report.reporter = tipoff::ReporterIdentity{};
    return out;
}

}  // namespace pgibot::tipoffs
