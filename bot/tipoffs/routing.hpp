#pragma once
// Which authority receives a tip-off, and through which channels.
//
// Config (the integrator puts this under the tipoffs section of config files; read only here):
//
//   [tipoffs.routing]
//   default_body = "so-nnmt"              # required: receives whatever no rule matches
//
//   [tipoffs.routing.areas]               # optional: named groups of commune codes (no overlaps)
//   loc-binh = ["06529", "06541", "06526", "06601", "06577", "06607", "06565"]
//
//   [[tipoffs.routing.body]]
//   id = "so-nnmt"
//   name = "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn"
//   webhook = { url = "https://ioc.langson.gov.vn/api/pgibot/tipoffs",
//               secret_env = "PGIBOT_AGENCY_SONNMT_SECRET", timeout_seconds = 10 }
//   email = { to = ["duongdaynongtnmt@langson.gov.vn"], cc = [] }
//
//   [[tipoffs.routing.body]]
//   id = "pc05"
//   name = "Phòng Cảnh sát phòng, chống tội phạm về môi trường - Công an tỉnh"
//   email = { to = ["pc05@example.langson.gov.vn"] }
//
//   [[tipoffs.routing.rule]]              # kind: a PollutionKind name or "*"
//   kind = "hazardous"                    # one of commune (GSO code), area (a name above), or neither
//   body = "pc05"
//
//   [[tipoffs.routing.rule]]
//   area = "loc-binh"
//   body = "so-nnmt"
//
// A body needs at least one channel. Webhook URLs must be https:// (http:// only to a loopback host,
// for tests). The webhook secret is read from the environment variable NAMED by secret_env when
// sending; the config never holds the secret itself.
//
// Precedence, most specific first: kind+commune > commune > kind+area > area > kind > default_body.
// Two rules with the same kind and the same commune/area are a config error.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "bot/tipoffs/toml_check.hpp"
#include "handlers/tipoff/report.hpp"

namespace pgibot::tipoffs {

// name -> value of an environment variable (tests inject their own).
using SecretSource = std::function<std::optional<std::string>(std::string_view name)>;
SecretSource environment_secrets();

struct WebhookTarget {
    std::string url;
    std::string secret_env;
    std::chrono::milliseconds timeout{10000};
};

struct EmailTarget {
    std::vector<std::string> to;
    std::vector<std::string> cc;
};

struct Body {
    std::string id;
    std::string name;
    std::optional<WebhookTarget> webhook;
    std::optional<EmailTarget> email;
};

struct RoutingRule {
    std::optional<tipoff::PollutionKind> kind;  // nullopt: any kind
    std::string commune;                        // GSO code, or ""
    std::string area;                           // area name, or ""
    std::size_t body = 0;                       // index into bodies()
    int line = 0;                               // where it was defined (diagnostics)
};

class RoutingTable {
public:
    // `routing` is the [tipoffs.routing] table; `path` names it in error messages. Throws ConfigError.
    static RoutingTable parse(const toml::table& routing, std::string path = "tipoffs.routing");

    [[nodiscard]] const Body& route(const tipoff::Report& report) const;
    [[nodiscard]] const Body* find_body(std::string_view id) const;
    [[nodiscard]] const std::vector<Body>& bodies() const { return bodies_; }
    [[nodiscard]] const Body& default_body() const { return bodies_[default_body_]; }
    [[nodiscard]] bool uses_email() const;
    // Environment variable names of webhook secrets that `secrets` does not know (start-up check).
    [[nodiscard]] std::vector<std::string> missing_secrets(const SecretSource& secrets) const;

private:
    std::vector<Body> bodies_;
    std::vector<RoutingRule> rules_;
    std::size_t default_body_ = 0;
    std::map<std::string, std::string, std::less<>> area_of_commune_;  // commune code -> area name
};

}  // namespace pgibot::tipoffs
