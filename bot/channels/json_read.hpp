#pragma once
// Reading inbound webhook bodies (untrusted input, on the I/O threads) with Boost.JSON: the parse
// and the non-throwing accessors the Facebook and Zalo parsers use. Outbound payloads, platform
// answers, config and the web chat channel keep nlohmann::json (common.hpp).
//
// Everything here reproduces, value for value, what the nlohmann-based parsing did before (the
// events' dedup keys already stored depend on it; tests/bot/channels/json_read_test.cpp checks it
// against nlohmann):
//  - numbers: integers are kept exactly (int64, or uint64 above INT64_MAX; larger ones become
//    doubles, as in nlohmann); doubles are converted from their text with std::from_chars, i.e.
//    correctly rounded as nlohmann's strtod did (Boost.JSON 1.81's own conversion is not: about one
//    17-digit coordinate in eight comes out one ulp off); a number too large for a double is refused
//    as nlohmann refused it;
//  - strings: invalid UTF-8 and unpaired \u surrogates are refused (both libraries);
//  - a leading UTF-8 byte order mark is skipped (nlohmann skipped it);
//  - duplicate keys in an object: the last one wins (both libraries);
//  - nesting deeper than kMaxDepth arrays/objects is refused (nlohmann had no limit): such a body
//    is malformed for us. Facebook and Zalo webhooks nest about ten levels deep.
// Each accessor takes a pointer that may be null and never throws; nothing calls a throwing
// Boost.JSON accessor (as_*, at) on a value that has not been checked.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace pgibot::channels::inbound {

using JsonValue = boost::json::value;

inline constexpr std::size_t kMaxDepth = 32;  // Boost.JSON's default

// Parses `body` into values allocated from `storage` (not owned). On failure returns null and sets
// `ec`; never throws on any input (only std::bad_alloc may escape, as from any allocation).
JsonValue parse(std::string_view body, boost::json::storage_ptr storage, boost::system::error_code& ec);

// A parsed webhook body whose values live in a 4 KiB buffer inside the object (on the stack when
// the Document is a local), spilling to the heap only for larger bodies. Neither copied nor moved:
// the values point into the buffer. Every value borrowed from root() dies with the Document.
class Document {
public:
    explicit Document(std::string_view body);
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;

    [[nodiscard]] bool ok() const { return !ec_; }
    // Why the parse failed ("syntax error", "too deep", ...); empty when ok().
    [[nodiscard]] std::string error() const;
    // Null when the parse failed.
    [[nodiscard]] const JsonValue& root() const { return root_; }

private:
    static constexpr std::size_t kBufferSize = 4096;
    alignas(std::max_align_t) unsigned char buffer_[kBufferSize];
    boost::json::monotonic_resource resource_;
    boost::system::error_code ec_;
    JsonValue root_;  // declared last: destroyed before the resource it allocated from
};

// `obj[key]` when obj is an object holding key, else nullptr.
const JsonValue* member(const JsonValue& obj, std::string_view key);
const JsonValue* member(const JsonValue* obj, std::string_view key);
// The i-th element when v is an array that long, else nullptr.
const JsonValue* element(const JsonValue* v, std::size_t i);
// A string value, else "".
std::string string_of(const JsonValue* v);
// An id: a string as is; an integer as its exact decimal text (int64 or uint64, never through
// double). Anything else, doubles included: "".
std::string id_of(const JsonValue* v);
// An integer that fits int64, or a string holding only decimal digits (with an optional '-').
std::optional<std::int64_t> int64_of(const JsonValue* v);
// A number, or a string holding a decimal number (locale-independent, surrounding whitespace and a
// leading '+' allowed).
std::optional<double> double_of(const JsonValue* v);
bool is_true(const JsonValue* v);
// The text nlohmann's dump_json gave for the same value as parsed by nlohmann (keys sorted, its
// number formats): what the Facebook change fallback keys hash. Slow (the value is serialised and
// parsed again by nlohmann): for rare paths only.
std::string nlohmann_dump(const JsonValue& v);

}  // namespace pgibot::channels::inbound
