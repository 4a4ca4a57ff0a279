#pragma once
// Strict reading of a toml++ table for bot/tipoffs config sections: unknown keys and bad values throw
// ConfigError naming the dotted key and the file:line (toml++ source regions).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace pgibot::tipoffs {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

// "file.toml:12: " or "line 12: " or "" when the region is unknown.
std::string where(const toml::source_region& region);

bool is_loopback_host(std::string_view host);
// "scheme://host[:port]/..." -> host (brackets kept off for IPv6); "" if malformed.
std::string url_host(std::string_view url);
bool is_env_var_name(std::string_view s);
bool is_email_address(std::string_view s);

class TableReader {
public:
    // Throws ConfigError on the first key not in `allowed`.
    TableReader(const toml::table& table, std::string path, std::initializer_list<std::string_view> allowed);

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string key_path(std::string_view key) const;
    [[nodiscard]] bool has(std::string_view key) const;

    [[nodiscard]] std::optional<std::string> opt_string(std::string_view key) const;
    [[nodiscard]] std::string req_string(std::string_view key) const;  // present and non-empty
    [[nodiscard]] bool opt_bool(std::string_view key, bool fallback) const;
    [[nodiscard]] std::int64_t opt_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                       std::int64_t max) const;
    // A string or an array of strings; empty vector when absent.
    [[nodiscard]] std::vector<std::string> string_list(std::string_view key) const;
    [[nodiscard]] const toml::table* opt_table(std::string_view key) const;
    // An array of tables ([[x]]); nullptr when absent.
    [[nodiscard]] const toml::array* opt_table_array(std::string_view key) const;

    [[noreturn]] void fail(std::string_view key, std::string_view message) const;
    [[noreturn]] void fail_table(std::string_view message) const;

private:
    const toml::table& table_;
    std::string path_;
};

}  // namespace detail
}  // namespace pgibot::tipoffs
