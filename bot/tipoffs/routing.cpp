#include "bot/tipoffs/routing.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace pgibot::tipoffs {
namespace {

using detail::TableReader;

bool is_commune_code(std::string_view s) {
    return s.size() == 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_id(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
    });
}

void check_url(const TableReader& r, std::string_view key, const std::string& url) {
    const bool https = url.starts_with("https://");
    const bool http = url.starts_with("http://");
    const std::string host = detail::url_host(url);
    if ((!https && !http) || host.empty()) r.fail(key, "must be an https:// URL");
    if (http && !detail::is_loopback_host(host)) r.fail(key, "must be https:// (http:// only to a loopback host)");
    if (url.find_first_of(" \t\r\n") != std::string::npos) r.fail(key, "must not contain spaces");
}

std::vector<std::string> parse_addresses(const TableReader& r, std::string_view key) {
    auto list = r.string_list(key);
    for (const auto& a : list)
        if (!detail::is_email_address(a)) r.fail(key, "'" + a + "' is not an e-mail address");
    return list;
}

Body parse_body(const toml::table& t, const std::string& path) {
    TableReader r(t, path, {"id", "name", "webhook", "email"});
    Body b;
    b.id = r.req_string("id");
    if (!is_id(b.id)) r.fail("id", "use letters, digits, '-', '_' or '.' (at most 64)");
    b.name = r.req_string("name");
    if (const auto* w = r.opt_table("webhook")) {
        TableReader wr(*w, r.key_path("webhook"), {"url", "secret_env", "timeout_seconds"});
        WebhookTarget target;
        target.url = wr.req_string("url");
        check_url(wr, "url", target.url);
        target.secret_env = wr.req_string("secret_env");
        if (!detail::is_env_var_name(target.secret_env))
            wr.fail("secret_env", "must be the NAME of an environment variable (e.g. PGIBOT_AGENCY_X_SECRET)");
        target.timeout = std::chrono::seconds(wr.opt_int("timeout_seconds", 10, 1, 120));
        b.webhook = std::move(target);
    }
    if (const auto* e = r.opt_table("email")) {
        TableReader er(*e, r.key_path("email"), {"to", "cc"});
        EmailTarget target;
        target.to = parse_addresses(er, "to");
        if (target.to.empty()) er.fail_table("missing required key 'to'");
        target.cc = parse_addresses(er, "cc");
        b.email = std::move(target);
    }
    if (!b.webhook && !b.email) r.fail_table("a body needs a webhook and/or an email channel");
    return b;
}

int rank(const RoutingRule& rule) {
    const bool kind = rule.kind.has_value();
    if (!rule.commune.empty()) return kind ? 6 : 5;
    if (!rule.area.empty()) return kind ? 4 : 3;
    return kind ? 2 : 1;
}

}  // namespace

SecretSource environment_secrets() {
    return [](std::string_view name) -> std::optional<std::string> {
        const std::string n(name);
        const char* v = std::getenv(n.c_str());
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
}

RoutingTable RoutingTable::parse(const toml::table& routing, std::string path) {
    TableReader r(routing, path, {"default_body", "areas", "body", "rule"});
    RoutingTable table;

    const auto* bodies = r.opt_table_array("body");
    if (bodies == nullptr || bodies->empty()) r.fail_table("at least one [[" + r.key_path("body") + "]] is needed");
    for (std::size_t i = 0; i < bodies->size(); ++i) {
        const auto& t = *bodies->get(i)->as_table();
        Body b = parse_body(t, r.key_path("body") + "[" + std::to_string(i) + "]");
        if (table.find_body(b.id) != nullptr)
            throw ConfigError(detail::where(t.source()) + r.key_path("body") + "[" + std::to_string(i) + "].id: '" +
                              b.id + "' is defined twice");
        table.bodies_.push_back(std::move(b));
    }

    const std::string default_id = r.req_string("default_body");
    const auto* def = table.find_body(default_id);
    if (def == nullptr) r.fail("default_body", "no body has id '" + default_id + "'");
    table.default_body_ = static_cast<std::size_t>(def - table.bodies_.data());

    std::set<std::string, std::less<>> area_names;
    if (const auto* areas = r.opt_table("areas")) {
        for (const auto& [key, node] : *areas) {
            const std::string name(key.str());
            const std::string key_path = r.key_path("areas") + "." + name;
            if (!is_id(name)) throw ConfigError(detail::where(key.source()) + key_path + ": bad area name");
            const auto* arr = node.as_array();
            if (arr == nullptr || arr->empty())
                throw ConfigError(detail::where(node.source()) + key_path + ": must be a non-empty array of codes");
            for (const auto& item : *arr) {
                const auto* code = item.as_string();
                if (code == nullptr || !is_commune_code(code->get()))
                    throw ConfigError(detail::where(item.source()) + key_path +
                                      ": every element must be a 5-digit commune code string");
                auto [it, inserted] = table.area_of_commune_.emplace(code->get(), name);
                if (!inserted && it->second != name)
                    throw ConfigError(detail::where(item.source()) + key_path + ": commune " + code->get() +
                                      " is already in area '" + it->second + "'");
            }
            area_names.insert(name);
        }
    }

    if (const auto* rules = r.opt_table_array("rule")) {
        for (std::size_t i = 0; i < rules->size(); ++i) {
            const auto& t = *rules->get(i)->as_table();
            TableReader rr(t, r.key_path("rule") + "[" + std::to_string(i) + "]", {"kind", "commune", "area", "body"});
            RoutingRule rule;
            rule.line = static_cast<int>(t.source().begin.line);
            const std::string kind = rr.opt_string("kind").value_or("*");
            if (kind != "*") {
                rule.kind = tipoff::pollution_kind_from_string(kind);
                if (!rule.kind) rr.fail("kind", "unknown pollution kind '" + kind + "'");
            }
            rule.commune = rr.opt_string("commune").value_or("*");
            if (rule.commune == "*") rule.commune.clear();
            else if (!is_commune_code(rule.commune)) rr.fail("commune", "must be a 5-digit GSO commune code or \"*\"");
            rule.area = rr.opt_string("area").value_or("*");
            if (rule.area == "*") rule.area.clear();
            else if (!area_names.contains(rule.area)) rr.fail("area", "no area named '" + rule.area + "'");
            if (!rule.commune.empty() && !rule.area.empty()) rr.fail("area", "give commune or area, not both");
            const std::string body_id = rr.req_string("body");
            const auto* body = table.find_body(body_id);
            if (body == nullptr) rr.fail("body", "no body has id '" + body_id + "'");
            rule.body = static_cast<std::size_t>(body - table.bodies_.data());
            if (rank(rule) == 1) rr.fail_table("this rule matches everything: use default_body instead");
            for (const auto& other : table.rules_) {
                if (other.kind == rule.kind && other.commune == rule.commune && other.area == rule.area)
                    rr.fail_table("same kind and place as the rule at line " + std::to_string(other.line));
            }
            table.rules_.push_back(std::move(rule));
        }
    }
    // Most specific first; stable, so the file order is kept within a rank (ties cannot match both).
    std::stable_sort(table.rules_.begin(), table.rules_.end(),
                     [](const RoutingRule& a, const RoutingRule& b) { return rank(a) > rank(b); });
    return table;
}

const Body& RoutingTable::route(const tipoff::Report& report) const {
    std::string_view area;
    if (auto it = area_of_commune_.find(report.commune_code); it != area_of_commune_.end()) area = it->second;
    for (const auto& rule : rules_) {
        if (rule.kind && *rule.kind != report.kind) continue;
        if (!rule.commune.empty() && rule.commune != report.commune_code) continue;
        if (!rule.area.empty() && rule.area != area) continue;
        return bodies_[rule.body];
    }
    return bodies_[default_body_];
}

const Body* RoutingTable::find_body(std::string_view id) const {
    for (const auto& b : bodies_)
        if (b.id == id) return &b;
    return nullptr;
}

bool RoutingTable::uses_email() const {
    return std::any_of(bodies_.begin(), bodies_.end(), [](const Body& b) { return b.email.has_value(); });
}

std::vector<std::string> RoutingTable::missing_secrets(const SecretSource& secrets) const {
    std::vector<std::string> out;
    for (const auto& b : bodies_) {
        if (b.webhook && !secrets(b.webhook->secret_env) &&
            std::find(out.begin(), out.end(), b.webhook->secret_env) == out.end())
            out.push_back(b.webhook->secret_env);
    }
    return out;
}

}  // namespace pgibot::tipoffs
