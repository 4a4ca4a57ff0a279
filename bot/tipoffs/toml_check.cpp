#include "bot/tipoffs/toml_check.hpp"

#include <algorithm>
#include <cctype>

namespace pgibot::tipoffs::detail {

std::string where(const toml::source_region& region) {
    if (region.begin.line == 0) return {};
    std::string out;
    if (region.path && !region.path->empty()) out = *region.path + ":";
    else out = "line ";
    out += std::to_string(region.begin.line) + ": ";
    return out;
}

bool is_loopback_host(std::string_view host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

std::string url_host(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return {};
    std::string_view rest = url.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return {};
        return std::string(rest.substr(1, close - 1));
    }
    return std::string(rest.substr(0, rest.find(':')));
}

bool is_env_var_name(std::string_view s) {
    if (s.empty() || (std::isdigit(static_cast<unsigned char>(s.front())) != 0)) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool is_email_address(std::string_view s) {
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size() || s.find('@', at + 1) != std::string_view::npos)
        return false;
    if (s.size() > 254) return false;
    const bool bad_char = std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' ||
               c == ')' || c == '\\' || c == '[' || c == ']';
    });
    const auto domain = s.substr(at + 1);
    return !bad_char && domain.find('.') != std::string_view::npos && !domain.starts_with('.') &&
           !domain.ends_with('.');
}

TableReader::TableReader(const toml::table& table, std::string path, std::initializer_list<std::string_view> allowed)
    : table_(table), path_(std::move(path)) {
    for (const auto& [key, node] : table_) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
            std::string known;
            for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
            throw ConfigError(where(key.source()) + key_path(key.str()) + ": unknown key (known: " + known + ")");
        }
    }
}

std::string TableReader::key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool TableReader::has(std::string_view key) const { return table_.contains(key); }

void TableReader::fail(std::string_view key, std::string_view message) const {
    std::string loc;
    if (const auto* node = table_.get(key)) loc = where(node->source());
    if (loc.empty()) loc = where(table_.source());
    throw ConfigError(loc + key_path(key) + ": " + std::string(message));
}

void TableReader::fail_table(std::string_view message) const {
    throw ConfigError(where(table_.source()) + path_ + ": " + std::string(message));
}

std::optional<std::string> TableReader::opt_string(std::string_view key) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* s = node->as_string();
    if (s == nullptr) fail(key, "must be a string");
    return s->get();
}

std::string TableReader::req_string(std::string_view key) const {
    auto v = opt_string(key);
    if (!v) fail_table("missing required key '" + std::string(key) + "'");
    if (v->empty()) fail(key, "must not be empty");
    return *v;
}

bool TableReader::opt_bool(std::string_view key, bool fallback) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return fallback;
    const auto* b = node->as_boolean();
    if (b == nullptr) fail(key, "must be true or false");
    return b->get();
}

std::int64_t TableReader::opt_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return fallback;
    const auto* i = node->as_integer();
    if (i == nullptr) fail(key, "must be an integer");
    if (i->get() < min || i->get() > max)
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return i->get();
}

std::vector<std::string> TableReader::string_list(std::string_view key) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return {};
    if (const auto* s = node->as_string()) return {s->get()};
    const auto* arr = node->as_array();
    if (arr == nullptr) fail(key, "must be a string or an array of strings");
    std::vector<std::string> out;
    for (const auto& item : *arr) {
        const auto* s = item.as_string();
        if (s == nullptr)
            throw ConfigError(where(item.source()) + key_path(key) + ": every element must be a string");
        out.push_back(s->get());
    }
    return out;
}

const toml::table* TableReader::opt_table(std::string_view key) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return nullptr;
    const auto* t = node->as_table();
    if (t == nullptr) fail(key, "must be a table");
    return t;
}

const toml::array* TableReader::opt_table_array(std::string_view key) const {
    const auto* node = table_.get(key);
    if (node == nullptr) return nullptr;
    const auto* arr = node->as_array();
    if (arr == nullptr || !arr->is_array_of_tables())
        fail(key, "must be an array of tables ([[" + key_path(key) + "]])");
    return arr;
}

}  // namespace pgibot::tipoffs::detail
