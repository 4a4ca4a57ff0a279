#pragma once
// Helpers shared by the Facebook and Zalo channels: digests and constant-time comparison, UTF-8
// aware text splitting and truncation (platform limits count characters, not bytes), non-throwing
// nlohmann::json accessors for untrusted platform answers (webhook bodies: json_read.hpp, Boost.JSON),
// and small HTTP helpers. Internal to bot/channels/ (and its tests); nothing here knows a platform.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/http/client.hpp"

namespace pgibot::channels {

// --- digests ------------------------------------------------------------------------------------
std::string to_hex(const unsigned char* data, std::size_t size);
// HMAC-SHA256 under one key, prepared once (the key's pads are hashed at construction): what a
// channel keeps for its app secret. Copies share the prepared state; hex() is thread-safe.
class HmacSha256 {
public:
    explicit HmacSha256(std::string_view key);
    using Digest = std::array<unsigned char, 32>;
    // HMAC-SHA256(key, data) into `out`; false if OpenSSL failed.
    [[nodiscard]] bool digest(std::string_view data, Digest& out) const;
    // Lower-case hex HMAC-SHA256(key, data); empty if OpenSSL failed.
    [[nodiscard]] std::string hex(std::string_view data) const;

private:
    struct Pads;
    std::shared_ptr<const Pads> pads_;
    bool ok_ = false;
};
// Lower-case hex HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Lower-case hex SHA-256 of the concatenation of `parts` (no copy of the parts is made).
std::string sha256_hex(std::initializer_list<std::string_view> parts);
// The bytes of a hex string (either case) of exactly 2 * out.size() digits; false otherwise.
bool from_hex(std::string_view hex, std::span<unsigned char> out);
// Equal length and equal bytes, in time independent of where they differ (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);
std::string ascii_lower(std::string_view s);

// --- UTF-8 text ---------------------------------------------------------------------------------
// Number of code points. An invalid byte counts as one character.
std::size_t utf8_length(std::string_view s);
// The longest prefix of at most `max_chars` code points, never cutting a code point nor separating
// a base letter from a following combining mark (decomposed Vietnamese diacritics).
std::string utf8_truncate(std::string_view s, std::size_t max_chars);
// Splits `text` into parts of at most `max_chars` code points each: at the last sentence end
// (. ! ? … or a line break) in the window when that keeps at least half of it, else at the last
// space, else at the last sentence end, else at a character boundary. Parts are trimmed of
// surrounding whitespace; empty parts are dropped.
std::vector<std::string> split_text(std::string_view text, std::size_t max_chars);

// --- JSON (untrusted input: no throwing accessor is ever called on unchecked values) -----------
using Json = nlohmann::json;
// `obj[key]` when obj is an object holding key, else nullptr.
const Json* member(const Json& obj, const char* key);
const Json* member(const Json* obj, const char* key);
// A string value, else "".
std::string string_of(const Json* v);
// An id: a string as is; an integer as its exact decimal text (nlohmann keeps integers up to 2^64
// exactly, never through double). Anything else: "".
std::string id_of(const Json* v);
// An integer, or a string holding only decimal digits (with an optional '-').
std::optional<std::int64_t> int64_of(const Json* v);
// A number, or a string holding a decimal number (locale-independent).
std::optional<double> double_of(const Json* v);
bool is_true(const Json* v);
// Serialises without ever throwing: invalid UTF-8 in our own strings becomes U+FFFD.
std::string dump_json(const Json& j);

// --- HTTP ---------------------------------------------------------------------------------------
// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view s);
// A response header (names are lower-cased by the client), "" when absent.
std::string_view response_header(const http::ClientResponse& response, std::string_view lower_name);
// Retry-After given in seconds (the HTTP-date form is not used by Meta or Zalo).
std::optional<std::chrono::milliseconds> retry_after_of(const http::ClientResponse& response);
// `text` with every occurrence of each non-empty secret replaced by "***", so that a platform or
// transport message echoing a URL or token can never leak it into logs or the outbox.
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace pgibot::channels
