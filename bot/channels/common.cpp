#include "bot/channels/common.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace pgibot::channels {

// --- digests ------------------------------------------------------------------------------------

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[data[i] >> 4]);
        out.push_back(kDigits[data[i] & 0x0f]);
    }
    return out;
}

// OpenSSL 3 looks an algorithm up in its provider registry whenever it is named by EVP_sha256() or
// HMAC(); on a webhook body that lookup cost more than the digest. The SHA-256 implementation is
// fetched once, and an HMAC key's inner and outer pads are hashed once per key (HmacSha256), so a
// signature check is two context copies and two short digests (tests/bench/bench_ack).
namespace {

const EVP_MD* sha256_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// One scratch context per thread, reused for every digest it computes.
EVP_MD_CTX* scratch_ctx() {
    thread_local MdCtx ctx(EVP_MD_CTX_new());
    return ctx.get();
}

}  // namespace

struct HmacSha256::Pads {
    MdCtx inner{EVP_MD_CTX_new()};  // SHA-256 state after (key ^ ipad)
    MdCtx outer{EVP_MD_CTX_new()};  // SHA-256 state after (key ^ opad)
};

HmacSha256::HmacSha256(std::string_view key) {
    auto pads = std::make_shared<Pads>();
    constexpr std::size_t kBlock = 64;
    std::array<unsigned char, kBlock> k{};
    if (key.size() > kBlock) {
        unsigned int len = 0;
        EVP_Digest(key.data(), key.size(), k.data(), &len, sha256_md(), nullptr);
    } else {
        std::copy(key.begin(), key.end(), k.begin());
    }
    std::array<unsigned char, kBlock> pad{};
    for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    ok_ = pads->inner && pads->outer && EVP_DigestInit_ex(pads->inner.get(), sha256_md(), nullptr) == 1 &&
          EVP_DigestUpdate(pads->inner.get(), pad.data(), pad.size()) == 1;
    for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
    ok_ = ok_ && EVP_DigestInit_ex(pads->outer.get(), sha256_md(), nullptr) == 1 &&
          EVP_DigestUpdate(pads->outer.get(), pad.data(), pad.size()) == 1;
    OPENSSL_cleanse(k.data(), k.size());
    OPENSSL_cleanse(pad.data(), pad.size());
    pads_ = std::move(pads);
}

bool HmacSha256::digest(std::string_view data, Digest& out) const {
    if (!ok_) return false;
    EVP_MD_CTX* c = scratch_ctx();
    unsigned int len = 0;
    return c != nullptr && EVP_MD_CTX_copy_ex(c, pads_->inner.get()) == 1 &&
           EVP_DigestUpdate(c, data.data(), data.size()) == 1 && EVP_DigestFinal_ex(c, out.data(), &len) == 1 &&
           len == out.size() && EVP_MD_CTX_copy_ex(c, pads_->outer.get()) == 1 &&
           EVP_DigestUpdate(c, out.data(), out.size()) == 1 && EVP_DigestFinal_ex(c, out.data(), &len) == 1 &&
           len == out.size();
}

std::string HmacSha256::hex(std::string_view data) const {
    Digest md{};
    if (!digest(data, md)) return {};
    return to_hex(md.data(), md.size());
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) { return HmacSha256(key).hex(data); }

std::string sha256_hex(std::initializer_list<std::string_view> parts) {
    EVP_MD_CTX* c = scratch_ctx();
    if (c == nullptr || EVP_DigestInit_ex(c, sha256_md(), nullptr) != 1) return {};
    for (const auto part : parts) {
        if (EVP_DigestUpdate(c, part.data(), part.size()) != 1) return {};
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(c, md, &md_len) != 1) return {};
    return to_hex(md, md_len);
}

bool from_hex(std::string_view hex, std::span<unsigned char> out) {
    if (hex.size() != out.size() * 2) return false;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// --- UTF-8 text ---------------------------------------------------------------------------------

namespace {

// Length in bytes of the well-formed code point starting at s[i], or 1 for an invalid byte.
std::size_t cp_size(std::string_view s, std::size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 1;
    if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) n = 3;
    else if (b >= 0xf0 && b <= 0xf4) n = 4;
    else return 1;
    if (i + n > s.size()) return 1;
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 1;
    }
    return n;
}

char32_t cp_at(std::string_view s, std::size_t i) {
    const std::size_t n = cp_size(s, i);
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (n == 1) return b0;
    char32_t cp = (n == 2) ? (b0 & 0x1fU) : (n == 3) ? (b0 & 0x0fU) : (b0 & 0x07U);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fU);
    return cp;
}

bool is_combining(char32_t cp) {
    return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
           (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0x200d ||
           (cp >= 0xfe00 && cp <= 0xfe0f);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Byte offsets of the first max_count+1 code point starts; when s has at most max_count code
// points, the offsets of all of them followed by s.size().
std::vector<std::size_t> cp_starts(std::string_view s, std::size_t max_count) {
    std::vector<std::size_t> starts;
    std::size_t i = 0;
    while (i < s.size() && starts.size() <= max_count) {
        starts.push_back(i);
        i += cp_size(s, i);
    }
    if (starts.size() <= max_count) starts.push_back(s.size());
    return starts;
}

// Moves a cut back while the code point at `cut` is a combining mark, so a base letter keeps its
// marks. Gives up (returns the original cut) if that would empty the part.
std::size_t avoid_combining(std::string_view s, const std::vector<std::size_t>& starts, std::size_t idx) {
    std::size_t k = idx;
    while (k > 0 && starts[k] < s.size() && is_combining(cp_at(s, starts[k]))) --k;
    return k == 0 ? idx : k;
}

// True when the whitespace at byte `pos` follows the end of a sentence.
bool ends_sentence_before(std::string_view s, std::size_t pos) {
    if (s[pos] == '\n') return true;
    std::size_t j = pos;
    // skip closing quotes and brackets: ) ] " ' » ”
    while (j > 0) {
        const char c = s[j - 1];
        if (c == ')' || c == ']' || c == '"' || c == '\'') {
            --j;
        } else if (j >= 2 && static_cast<unsigned char>(s[j - 2]) == 0xc2 && static_cast<unsigned char>(c) == 0xbb) {
            j -= 2;  // »
        } else if (j >= 3 && s.substr(j - 3, 3) == "\xe2\x80\x9d") {
            j -= 3;  // ”
        } else {
            break;
        }
    }
    if (j == 0) return false;
    const char c = s[j - 1];
    if (c == '.' || c == '!' || c == '?' || c == ';') return true;
    return j >= 3 && s.substr(j - 3, 3) == "\xe2\x80\xa6";  // …
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); i += cp_size(s, i)) ++n;
    return n;
}

std::string utf8_truncate(std::string_view s, std::size_t max_chars) {
    if (max_chars == 0) return {};
    const auto starts = cp_starts(s, max_chars);
    if (starts.back() == s.size()) return std::string(s);  // at most max_chars code points
    const std::size_t idx = avoid_combining(s, starts, max_chars);
    return std::string(s.substr(0, starts[idx]));
}

std::vector<std::string> split_text(std::string_view text, std::size_t max_chars) {
    std::vector<std::string> parts;
    if (max_chars == 0) return parts;
    std::string_view rest = trim(text);
    while (!rest.empty()) {
        const auto starts = cp_starts(rest, max_chars);
        if (starts.back() == rest.size()) {  // at most max_chars code points: the rest fits
            parts.emplace_back(rest);
            break;
        }
        const std::size_t limit = starts[max_chars];  // byte offset just after max_chars code points
        // Whitespace positions p in [1, limit]: the part is rest[0, p), at most max_chars characters.
        std::size_t sentence_cut = 0;
        std::size_t word_cut = 0;
        for (std::size_t p = limit; p >= 1; --p) {
            if (!is_space(rest[p])) continue;
            if (word_cut == 0) word_cut = p;
            if (ends_sentence_before(rest, p)) {
                sentence_cut = p;
                break;
            }
        }
        std::size_t cut = 0;
        if (sentence_cut != 0 && sentence_cut * 2 >= limit) cut = sentence_cut;
        else if (word_cut != 0) cut = word_cut;
        else if (sentence_cut != 0) cut = sentence_cut;
        else cut = starts[avoid_combining(rest, starts, max_chars)];
        const auto part = trim(rest.substr(0, cut));
        if (!part.empty()) parts.emplace_back(part);
        rest = trim(rest.substr(cut));
    }
    return parts;
}

// --- JSON ---------------------------------------------------------------------------------------

const Json* member(const Json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

const Json* member(const Json* obj, const char* key) { return obj == nullptr ? nullptr : member(*obj, key); }

std::string string_of(const Json* v) {
    if (v == nullptr || !v->is_string()) return {};
    return *v->get_ptr<const Json::string_t*>();
}

std::string id_of(const Json* v) {
    if (v == nullptr) return {};
    if (v->is_string()) return *v->get_ptr<const Json::string_t*>();
    if (v->is_number_unsigned()) return std::to_string(*v->get_ptr<const Json::number_unsigned_t*>());
    if (v->is_number_integer()) return std::to_string(*v->get_ptr<const Json::number_integer_t*>());
    return {};
}

std::optional<std::int64_t> int64_of(const Json* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_number_unsigned()) {
        const auto u = *v->get_ptr<const Json::number_unsigned_t*>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<std::int64_t>(u);
    }
    if (v->is_number_integer()) return *v->get_ptr<const Json::number_integer_t*>();
    if (v->is_string()) {
        const auto& s = *v->get_ptr<const Json::string_t*>();
        std::int64_t out = 0;
        const auto* end = s.data() + s.size();
        const auto [ptr, ec] = std::from_chars(s.data(), end, out);
        if (ec == std::errc() && ptr == end && !s.empty()) return out;
    }
    return std::nullopt;
}

std::optional<double> double_of(const Json* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_number()) {
        if (v->is_number_float()) return *v->get_ptr<const Json::number_float_t*>();
        if (v->is_number_unsigned()) return static_cast<double>(*v->get_ptr<const Json::number_unsigned_t*>());
        return static_cast<double>(*v->get_ptr<const Json::number_integer_t*>());
    }
    if (v->is_string()) {
        const auto& s = *v->get_ptr<const Json::string_t*>();
        std::string_view sv = trim(s);
        if (!sv.empty() && sv.front() == '+') sv.remove_prefix(1);
        double out = 0;
        const auto [ptr, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), out);
        if (ec == std::errc() && ptr == sv.data() + sv.size() && !sv.empty()) return out;
    }
    return std::nullopt;
}

bool is_true(const Json* v) { return v != nullptr && v->is_boolean() && *v->get_ptr<const Json::boolean_t*>(); }

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// --- HTTP ---------------------------------------------------------------------------------------

std::string percent_encode(std::string_view s) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kDigits[c >> 4]);
            out.push_back(kDigits[c & 0x0f]);
        }
    }
    return out;
}

std::string_view response_header(const http::ClientResponse& response, std::string_view lower_name) {
    for (const auto& [name, value] : response.headers) {
        if (ascii_lower(name) == lower_name) return value;
    }
    return {};
}

std::optional<std::chrono::milliseconds> retry_after_of(const http::ClientResponse& response) {
    const auto value = trim(response_header(response, "retry-after"));
    if (value.empty()) return std::nullopt;
    std::int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(seconds * 1000);
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
    for (const auto secret : secrets) {
        if (secret.empty()) continue;
        for (const auto& form : {std::string(secret), percent_encode(secret)}) {
            std::size_t pos = 0;
            while ((pos = text.find(form, pos)) != std::string::npos) {
                text.replace(pos, form.size(), "***");
                pos += 3;
            }
        }
    }
    return text;
}

}  // namespace pgibot::channels
