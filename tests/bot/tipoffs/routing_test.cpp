#include "bot/tipoffs/routing.hpp"

#include <gtest/gtest.h>

#include "bot/tipoffs/forwarder.hpp"

namespace pgibot::tipoffs {
namespace {

constexpr std::string_view kConfig = R"(
[tipoffs.routing]
default_body = "so"

[tipoffs.routing.areas]
loc-binh = ["06529", "06541"]

[[tipoffs.routing.body]]
id = "so"
name = "Sở Nông nghiệp và Môi trường"
webhook = { url = "https://agency.example.vn/hook", secret_env = "PGIBOT_AGENCY_SO_SECRET" }
email = { to = ["duongdaynong@example.vn"] }

[[tipoffs.routing.body]]
id = "pc05"
name = "Phòng Cảnh sát môi trường"
email = { to = "pc05@example.vn", cc = ["truc@example.vn"] }

[[tipoffs.routing.body]]
id = "xa-dk"
name = "UBND phường Đông Kinh"
email = { to = ["dongkinh@example.vn"] }

[[tipoffs.routing.body]]
id = "xa-dk-noise"
name = "Công an phường Đông Kinh"
email = { to = ["ca-dongkinh@example.vn"] }

[[tipoffs.routing.body]]
id = "loc-binh"
name = "UBND khu vực Lộc Bình"
email = { to = ["locbinh@example.vn"] }

[[tipoffs.routing.body]]
id = "loc-binh-burning"
name = "Kiểm lâm Lộc Bình"
email = { to = ["kiemlam@example.vn"] }

[[tipoffs.routing.rule]]
kind = "hazardous"
body = "pc05"

[[tipoffs.routing.rule]]
commune = "05977"
body = "xa-dk"

[[tipoffs.routing.rule]]
kind = "noise"
commune = "05977"
body = "xa-dk-noise"

[[tipoffs.routing.rule]]
area = "loc-binh"
body = "loc-binh"

[[tipoffs.routing.rule]]
kind = "burning"
area = "loc-binh"
body = "loc-binh-burning"
)";

constexpr const char* kHead =
    "[tipoffs.routing]\ndefault_body = \"a\"\n[[tipoffs.routing.body]]\nid = \"a\"\nname = \"A\"\n";

RoutingTable parse(std::string_view text) {
    auto doc = toml::parse(text, std::string("test.toml"));
    return RoutingTable::parse(*doc["tipoffs"]["routing"].as_table());
}

tipoff::Report report(tipoff::PollutionKind kind, std::string commune) {
    tipoff::Report r;
    r.kind = kind;
    r.commune_code = std::move(commune);
    return r;
}

std::string parse_error(std::string_view text) {
    try {
        (void)parse(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Routing, ParsesBodies) {
    const auto table = parse(kConfig);
    ASSERT_EQ(table.bodies().size(), 6U);
    const auto* so = table.find_body("so");
    ASSERT_NE(so, nullptr);
    ASSERT_TRUE(so->webhook);
    EXPECT_EQ(so->webhook->url, "https://agency.example.vn/hook");
    EXPECT_EQ(so->webhook->secret_env, "PGIBOT_AGENCY_SO_SECRET");
    ASSERT_TRUE(so->email);
    EXPECT_EQ(so->email->to, std::vector<std::string>{"duongdaynong@example.vn"});
    const auto* pc05 = table.find_body("pc05");
    ASSERT_NE(pc05, nullptr);
    EXPECT_FALSE(pc05->webhook);
    EXPECT_EQ(pc05->email->to, std::vector<std::string>{"pc05@example.vn"});
    EXPECT_EQ(pc05->email->cc, std::vector<std::string>{"truc@example.vn"});
    EXPECT_TRUE(table.uses_email());
}

TEST(Routing, Precedence) {
    using K = tipoff::PollutionKind;
    const auto table = parse(kConfig);
    // kind + commune beats commune and kind.
    EXPECT_EQ(table.route(report(K::noise, "05977")).id, "xa-dk-noise");
    // commune beats kind.
    EXPECT_EQ(table.route(report(K::hazardous, "05977")).id, "xa-dk");
    EXPECT_EQ(table.route(report(K::wastewater, "05977")).id, "xa-dk");
    // kind + area beats area; area beats kind alone.
    EXPECT_EQ(table.route(report(K::burning, "06541")).id, "loc-binh-burning");
    EXPECT_EQ(table.route(report(K::odour, "06529")).id, "loc-binh");
    EXPECT_EQ(table.route(report(K::hazardous, "06529")).id, "loc-binh");
    // kind alone beats the default.
    EXPECT_EQ(table.route(report(K::hazardous, "06124")).id, "pc05");
    EXPECT_EQ(table.route(report(K::hazardous, "")).id, "pc05");
    // default.
    EXPECT_EQ(table.route(report(K::wastewater, "06124")).id, "so");
    EXPECT_EQ(table.route(report(K::other, "")).id, "so");
}

TEST(Routing, MissingSecrets) {
    const auto table = parse(kConfig);
    auto none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    auto all = [](std::string_view) -> std::optional<std::string> { return "s3cret"; };
    EXPECT_EQ(table.missing_secrets(none), std::vector<std::string>{"PGIBOT_AGENCY_SO_SECRET"});
    EXPECT_TRUE(table.missing_secrets(all).empty());
}

TEST(Routing, UnknownKeyNamesKeyAndLine) {
    const auto err = parse_error(R"([tipoffs.routing]
default_body = "a"
[[tipoffs.routing.body]]
id = "a"
name = "A"
emial = { to = ["a@example.vn"] }
)");
    EXPECT_NE(err.find("test.toml:6"), std::string::npos) << err;
    EXPECT_NE(err.find("tipoffs.routing.body[0].emial"), std::string::npos) << err;
    EXPECT_NE(err.find("unknown key"), std::string::npos) << err;
}

TEST(Routing, BadValuesNameKeyAndLine) {
    struct Case {
        std::string text;
        std::string key;
        std::string line;
    };
    const std::string head = kHead;
    const std::vector<Case> cases = {
        {head + "webhook = { url = \"http://agency.example.vn/x\", secret_env = \"S\" }\n", "body[0].webhook.url",
         ":6:"},
        {head + "webhook = { url = \"https://a.example.vn/x\", secret_env = \"not a name\" }\n",
         "body[0].webhook.secret_env", ":6:"},
        {head + "email = { to = [\"not-an-address\"] }\n", "body[0].email.to", ":6:"},
        {head + "email = { to = [\"a@example.vn\"] }\n[[tipoffs.routing.rule]]\nkind = \"smog\"\nbody = \"a\"\n",
         "rule[0].kind", ":8:"},
        {head + "email = { to = [\"a@example.vn\"] }\n[[tipoffs.routing.rule]]\ncommune = \"5977\"\nbody = \"a\"\n",
         "rule[0].commune", ":8:"},
        {head + "email = { to = [\"a@example.vn\"] }\n[[tipoffs.routing.rule]]\nkind = \"noise\"\nbody = \"b\"\n",
         "rule[0].body", ":9:"},
        {head + "email = { to = [\"a@example.vn\"] }\nextra = 1\n", "body[0].extra", ":7:"},
        {"[tipoffs.routing]\ndefault_body = \"zz\"\n[[tipoffs.routing.body]]\nid = \"a\"\nname = \"A\"\n"
         "email = { to = [\"a@example.vn\"] }\n",
         "default_body", ":2:"},
    };
    for (const auto& c : cases) {
        const auto err = parse_error(c.text);
        EXPECT_NE(err.find("tipoffs.routing." + c.key), std::string::npos) << c.text << "\n=> " << err;
        EXPECT_NE(err.find(c.line), std::string::npos) << c.text << "\n=> " << err;
    }
}

TEST(Routing, StructuralErrors) {
    const std::string head = std::string(kHead) + "email = { to = [\"a@example.vn\"] }\n";
    EXPECT_NE(parse_error(kHead).find("needs a webhook and/or an email"),
              std::string::npos);
    EXPECT_NE(parse_error(head + "[[tipoffs.routing.body]]\nid = \"a\"\nname = \"B\"\n"
                                 "email = { to = [\"b@example.vn\"] }\n")
                  .find("defined twice"),
              std::string::npos);
    const auto dup = parse_error(head + "[[tipoffs.routing.rule]]\nkind = \"noise\"\nbody = \"a\"\n"
                                        "[[tipoffs.routing.rule]]\nkind = \"noise\"\nbody = \"a\"\n");
    EXPECT_NE(dup.find("same kind and place as the rule at line 7"), std::string::npos) << dup;
    EXPECT_NE(parse_error(head + "[[tipoffs.routing.rule]]\nbody = \"a\"\n").find("matches everything"),
              std::string::npos);
    EXPECT_NE(parse_error(head + "[tipoffs.routing.areas]\nx = [\"06529\"]\ny = [\"06529\"]\n").find("already in area"),
              std::string::npos);
    EXPECT_NE(parse_error("[tipoffs.routing]\n[[tipoffs.routing.body]]\nid = \"a\"\nname = \"A\"\n"
                          "email = { to = [\"a@example.vn\"] }\n")
                  .find("default_body"),
              std::string::npos);
    // http:// is accepted only to a loopback host (tests).
    EXPECT_EQ(parse_error(head + "webhook = { url = \"http://127.0.0.1:8080/x\", secret_env = \"S\" }\n").find("url"),
              std::string::npos);
}

TEST(ForwardingConfig, SmtpAndRetry) {
    const std::string text = std::string(kConfig) + R"(
[tipoffs.smtp]
url = "smtp://mail.example.vn:587"
from = "pgibot@example.vn"
from_name = "PGI Bot Lạng Sơn"
user = "pgibot@example.vn"
password_env = "PGIBOT_SMTP_PASSWORD"

[tipoffs.forwarding]
max_attempts = 5
base_delay_seconds = 10
max_delay_seconds = 600
jitter = 0.25
)";
    auto doc = toml::parse(text, std::string("cfg.toml"));
    const auto cfg = parse_forwarding_config(*doc["tipoffs"].as_table());
    ASSERT_TRUE(cfg.smtp);
    EXPECT_EQ(cfg.smtp->url, "smtp://mail.example.vn:587");
    EXPECT_FALSE(cfg.smtp->allow_plaintext);
    EXPECT_EQ(cfg.retry.max_attempts, 5);
    EXPECT_EQ(cfg.retry.base_delay, std::chrono::seconds(10));
    EXPECT_DOUBLE_EQ(cfg.retry.jitter, 0.25);

    // Email channels without [tipoffs.smtp].
    auto no_smtp = toml::parse(kConfig, std::string("cfg.toml"));
    EXPECT_THROW((void)parse_forwarding_config(*no_smtp["tipoffs"].as_table()), ConfigError);

    // Plain SMTP only to loopback.
    auto bad = toml::parse("url = \"smtp://mail.example.vn\"\nfrom = \"a@example.vn\"\nallow_plaintext = true\n",
                           std::string("s.toml"));
    try {
        (void)parse_smtp_config(*bad.as_table());
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("s.toml:3: tipoffs.smtp.allow_plaintext"), std::string::npos) << e.what();
    }
    auto ok = toml::parse("url = \"smtp://127.0.0.1:2525\"\nfrom = \"a@example.vn\"\nallow_plaintext = true\n");
    EXPECT_TRUE(parse_smtp_config(*ok.as_table()).allow_plaintext);
}

TEST(ForwardingConfig, Backoff) {
    RetryPolicy p;
    p.base_delay = std::chrono::seconds(30);
    p.max_delay = std::chrono::seconds(300);
    p.jitter = 0.5;
    EXPECT_EQ(backoff_delay_ms(p, 1, 1.0), 30'000);
    EXPECT_EQ(backoff_delay_ms(p, 1, 0.0), 15'000);
    EXPECT_EQ(backoff_delay_ms(p, 2, 1.0), 60'000);
    EXPECT_EQ(backoff_delay_ms(p, 3, 1.0), 120'000);
    EXPECT_EQ(backoff_delay_ms(p, 5, 1.0), 300'000);  // capped
    EXPECT_EQ(backoff_delay_ms(p, 50, 0.5), 225'000);
    p.jitter = 0;
    EXPECT_EQ(backoff_delay_ms(p, 2, 0.123), 60'000);
}

}  // namespace
}  // namespace pgibot::tipoffs
