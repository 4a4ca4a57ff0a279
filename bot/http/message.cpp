// Request, Response and Router: plain values, no Beast. The server turns Beast messages into these.
#include "bot/http/server.hpp"
#include "bot/http/target.hpp"

#include <nlohmann/json.hpp>

namespace pgibot::http {

namespace detail {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') return std::nullopt;
        out.push_back(c);
    }
    return out;
}

std::optional<ParsedTarget> parse_target(std::string_view target) {
    if (target.empty() || target.front() != '/') return std::nullopt;
    ParsedTarget parsed;
    const auto qmark = target.find('?');
    auto path = percent_decode(target.substr(0, qmark), false);
    if (!path) return std::nullopt;
    parsed.path = std::move(*path);
    if (qmark == std::string_view::npos) return parsed;

    std::string_view rest = target.substr(qmark + 1);
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!name || !value) return std::nullopt;
        parsed.query.insert_or_assign(std::move(*name), std::move(*value));
    }
    return parsed;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------

std::string_view Request::header(std::string_view lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string_view{} : std::string_view{it->second};
}

std::string_view Request::query_param(std::string_view name) const {
    const auto it = query.find(name);
    return it == query.end() ? std::string_view{} : std::string_view{it->second};
}

Response Response::json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
    Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
}

Response Response::error(int status, std::string_view code, std::string_view message) {
    const nlohmann::json body = {{"error", code}, {"message", message}};
    // replace: a message may quote untrusted bytes; dump() must not throw on invalid UTF-8.
    return json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// ---------------------------------------------------------------------------------------------

void Router::add(std::string method, std::string path, Handler handler) {
    routes_[std::move(path)].insert_or_assign(std::move(method), std::move(handler));
}

void Router::set_body_limit(std::string path, std::size_t bytes) {
    limits_.insert_or_assign(std::move(path), bytes);
}

Router::Found Router::find(std::string_view method, std::string_view path) const {
    Found found;
    const auto by_path = routes_.find(path);
    if (by_path == routes_.end()) {
        if (fallback_) found.handler = &fallback_;
        return found;
    }
    found.path_known = true;
    const auto by_method = by_path->second.find(method);
    if (by_method != by_path->second.end()) found.handler = &by_method->second;
    return found;
}

void Router::set_fallback(Handler handler) { fallback_ = std::move(handler); }

std::size_t Router::body_limit_for(std::string_view path, std::size_t fallback) const {
    const auto it = limits_.find(path);
    return it == limits_.end() ? fallback : it->second;
}

std::string Router::allowed_methods(std::string_view path) const {
    std::string allow;
    const auto by_path = routes_.find(path);
    if (by_path == routes_.end()) return allow;
    for (const auto& [method, handler] : by_path->second) {
        if (!allow.empty()) allow += ", ";
        allow += method;
    }
    return allow;
}

}  // namespace pgibot::http
