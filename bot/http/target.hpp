#pragma once
// Private to bot/http: splitting and decoding a request target. No Boost here, so it is cheap to
// include and test on its own.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pgibot::http::detail {

struct ParsedTarget {
    std::string path;                                      // percent-decoded, without the query
    std::map<std::string, std::string, std::less<>> query;  // decoded; '+' is a space; last value wins
};

// Origin-form targets only ("/path?query"). nullopt: not origin-form, a bad %-escape, or a NUL byte.
std::optional<ParsedTarget> parse_target(std::string_view target);

// nullopt on a bad %-escape or a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

}  // namespace pgibot::http::detail
