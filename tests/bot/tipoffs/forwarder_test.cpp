#include "bot/tipoffs/forwarder.hpp"

#include <cctype>
#include <chrono>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bot/tipoffs/format_util.hpp"
#include "tests/bot/tipoffs/fake_servers.hpp"
#include "tests/bot/tipoffs/test_util.hpp"

namespace pgibot::tipoffs {
namespace {

using testing::FakeAgency;
using testing::FakeSmtp;
using testing::sample_report;
using testing::TempDir;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

DataKey test_key() {
    DataKey k{};
    k.fill(0x42);
    return k;
}

// Decodes quoted-printable (enough for the mail body check).
std::string qp_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

RoutingTable routing_for(const std::string& webhook_url, const std::string& smtp_rcpt = "") {
    std::string text = "default_body = \"so\"\n[[body]]\nid = \"so\"\nname = \"Sở Nông nghiệp và Môi trường\"\n";
    if (!webhook_url.empty())
        text += "webhook = { url = \"" + webhook_url + "\", secret_env = \"PGIBOT_AGENCY_TEST_SECRET\" }\n";
    if (!smtp_rcpt.empty()) text += "email = { to = [\"" + smtp_rcpt + "\"] }\n";
    auto doc = toml::parse(text);
    return RoutingTable::parse(doc);
}

class ForwarderTest : public ::testing::Test {
protected:
    ForwarderTest()
        : store_(store::open_sqlite({(dir_.path() / "db" / "pgibot.db").string(), false, 5000, {}, {}})), vault_(test_key()) {}

    std::string file(const tipoff::Report& report) {
        store::DecisionCommit commit;
        commit.tipoffs.push_back(prepare_tipoff(report, vault_, wall_ms()));
        const auto codes = store_->commit_decision(commit);
        EXPECT_EQ(codes.size(), 1U);
        return codes.at(0);
    }

    ForwardQueue::Deps deps(const RoutingTable& routing, Mailer* mailer, std::string secret = "agency-secret") {
        return ForwardQueue::Deps{
            *store_,
            routing,
            http_,
            mailer,
            &vault_,
            [secret](std::string_view name) -> std::optional<std::string> {
                if (name == "PGIBOT_AGENCY_TEST_SECRET") return secret;
                return std::nullopt;
            },
            RetryPolicy{4, std::chrono::seconds(10), std::chrono::seconds(60), 0.0},
            [] { return 0.5; },
        };
    }

    TempDir dir_;
    std::unique_ptr<store::Store> store_;
    IdentityVault vault_;
    http::CurlClient http_;
};

TEST(WebhookSignature, VerifyRejectsWrongSecretStaleAndTampered) {
    const std::string body = R"({"code":"LS-1"})";
    const auto sig = webhook_signature("k", "1750000000", body);
    EXPECT_TRUE(sig.starts_with("sha256="));
    EXPECT_EQ(sig.size(), 7U + 64U);
    EXPECT_TRUE(verify_webhook_signature("k", "1750000000", sig, body, 1750000100));
    EXPECT_FALSE(verify_webhook_signature("x", "1750000000", sig, body, 1750000100));
    EXPECT_FALSE(verify_webhook_signature("k", "1750000000", sig, body + " ", 1750000100));
    EXPECT_FALSE(verify_webhook_signature("k", "1750000001", sig, body, 1750000100));
    EXPECT_FALSE(verify_webhook_signature("k", "1750000000", sig, body, 1750000000 + 301));  // stale
    EXPECT_FALSE(verify_webhook_signature("k", "1750000000", sig, body, 1750000000 - 301));  // future
    EXPECT_FALSE(verify_webhook_signature("k", "1750000000", sig.substr(7), body, 1750000100));
    EXPECT_FALSE(verify_webhook_signature("k", "17500x0000", sig, body, 1750000100));
}

TEST_F(ForwarderTest, WebhookDeliveredSignedAndStatusForwarded) {
    FakeAgency agency("agency-secret");
    const auto routing = routing_for(agency.url());
    const auto code = file(sample_report());
    // The first photo was downloaded by the evidence fetcher: its hash travels with the packet.
    const auto evidence = store_->evidence_for(code);
    ASSERT_EQ(evidence.size(), 2U);
    const std::string sha(64, 'e');
    store_->mark_evidence_downloaded(evidence.at(0).id, sha, "/tmp/x.jpg", 10, "image/jpeg", wall_ms());
    ForwardQueue queue(deps(routing, nullptr));
    const auto now = wall_ms();
    queue.enqueue(code, now);
    queue.enqueue(code, now);  // no duplicate
    EXPECT_EQ(queue.run_due(now), 1U);
    EXPECT_EQ(queue.size(), 0U);

    const auto reqs = agency.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].target, "/pgibot/tipoffs");
    EXPECT_TRUE(reqs[0].signature_ok);
    EXPECT_EQ(reqs[0].headers.at("x-pgibot-code"), code);
    EXPECT_EQ(reqs[0].headers.at("x-pgibot-timestamp"), std::to_string(now / 1000));
    const auto packet = nlohmann::json::parse(reqs[0].body);
    EXPECT_EQ(packet["code"], code);
    EXPECT_EQ(packet["kind"], "wastewater");
    EXPECT_EQ(packet["commune"]["code"], "05977");
    ASSERT_EQ(packet["evidence"].size(), 2U);
    EXPECT_EQ(packet["evidence"][0]["sha256"], sha);
    EXPECT_TRUE(packet["evidence"][1]["sha256"].is_null());
    EXPECT_TRUE(packet["reporter"].is_null());  // no consent
    EXPECT_EQ(reqs[0].body.find("0912"), std::string::npos);
    EXPECT_EQ(reqs[0].body.find("Nguyễn Thị Hoa"), std::string::npos);

    const auto row = store_->tipoff_by_code(code);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, tipoff::Status::forwarded);
    ASSERT_FALSE(row->history.empty());
    EXPECT_EQ(row->history.back().by, "system");
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 1U);
    EXPECT_EQ(attempts[0].channel, "webhook");
    EXPECT_TRUE(attempts[0].ok);
    EXPECT_EQ(attempts[0].detail, "HTTP 200");
}

TEST_F(ForwarderTest, IdentityForwardedOnlyWithConsent) {
    FakeAgency agency("agency-secret");
    const auto routing = routing_for(agency.url());
    auto report = sample_report();
    report.anonymous = false;
    report.consent_share_identity = true;
    const auto code = file(report);
    ForwardQueue queue(deps(routing, nullptr));
    queue.run_due(0);
    queue.enqueue(code, wall_ms());
    queue.run_due(wall_ms());
    const auto reqs = agency.requests();
    ASSERT_EQ(reqs.size(), 1U);
    const auto packet = nlohmann::json::parse(reqs[0].body);
    EXPECT_EQ(packet["reporter"]["name"], "Nguyễn Thị Hoa");
    EXPECT_EQ(packet["reporter"]["phone"], "0912345678");
    EXPECT_FALSE(packet["reporter"].contains("platform_user_id"));
}

TEST_F(ForwarderTest, WrongSecretIsRejectedByTheAgencyAndMarkedFailed) {
    FakeAgency agency("agency-secret");
    const auto routing = routing_for(agency.url());
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, nullptr, "wrong-secret"));
    const auto now = wall_ms();
    queue.enqueue(code, now);
    queue.run_due(now);

    const auto reqs = agency.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_FALSE(reqs[0].signature_ok);
    EXPECT_EQ(reqs[0].status, 401);
    EXPECT_EQ(queue.size(), 0U);  // 4xx: permanent, no retry

    const auto row = store_->tipoff_by_code(code);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, tipoff::Status::received);
    EXPECT_TRUE(forward_failed(*row));
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 2U);
    EXPECT_EQ(attempts[0].channel, "webhook");
    EXPECT_FALSE(attempts[0].ok);
    EXPECT_NE(attempts[0].detail.find("HTTP 401"), std::string::npos);
    EXPECT_EQ(attempts[1].channel, "forward");
    EXPECT_TRUE(attempts[1].detail.starts_with("forward_failed"));
    // Not re-queued at start-up once given up.
    EXPECT_EQ(queue.enqueue_unforwarded(now), 0U);
}

TEST_F(ForwarderTest, RetriesWithBackoffThenSucceeds) {
    FakeAgency agency("agency-secret");
    agency.script({503, 500});
    const auto routing = routing_for(agency.url());
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, nullptr));
    const auto t0 = wall_ms();
    queue.enqueue(code, t0);

    EXPECT_EQ(queue.run_due(t0), 1U);  // 503
    ASSERT_TRUE(queue.next_due_ms());
    EXPECT_EQ(*queue.next_due_ms(), t0 + 10'000);  // base 10 s, jitter 0
    EXPECT_EQ(queue.run_due(t0 + 9'999), 0U);       // not yet
    EXPECT_EQ(queue.run_due(t0 + 10'000), 1U);      // 500
    EXPECT_EQ(*queue.next_due_ms(), t0 + 10'000 + 20'000);
    EXPECT_EQ(store_->tipoff_by_code(code)->status, tipoff::Status::received);
    EXPECT_EQ(queue.run_due(t0 + 30'000), 1U);  // 200
    EXPECT_EQ(queue.size(), 0U);

    EXPECT_EQ(agency.requests().size(), 3U);
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 3U);
    EXPECT_FALSE(attempts[0].ok);
    EXPECT_NE(attempts[0].detail.find("HTTP 503"), std::string::npos);
    EXPECT_FALSE(attempts[1].ok);
    EXPECT_NE(attempts[1].detail.find("HTTP 500"), std::string::npos);
    EXPECT_TRUE(attempts[2].ok);
    EXPECT_EQ(attempts[2].at_ms, t0 + 30'000);
    const auto row = store_->tipoff_by_code(code);
    EXPECT_EQ(row->status, tipoff::Status::forwarded);
    EXPECT_FALSE(forward_failed(*row));
}

TEST_F(ForwarderTest, GivesUpAfterMaxAttemptsVisibly) {
    FakeAgency agency("agency-secret");
    agency.script({503, 503, 503, 503, 503});
    const auto routing = routing_for(agency.url());
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, nullptr));
    std::int64_t t = wall_ms();
    queue.enqueue(code, t);
    int rounds = 0;
    while (queue.size() > 0 && rounds < 10) {
        t = *queue.next_due_ms();
        queue.run_due(t);
        ++rounds;
    }
    EXPECT_EQ(rounds, 4);  // max_attempts
    const auto row = store_->tipoff_by_code(code);
    EXPECT_EQ(row->status, tipoff::Status::received);
    EXPECT_TRUE(forward_failed(*row));
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 5U);
    EXPECT_EQ(attempts.back().channel, "forward");
    EXPECT_NE(attempts.back().detail.find("gave up after 4 attempts"), std::string::npos);
}

TEST_F(ForwarderTest, TransportErrorIsRetried) {
    // A port with nothing listening: bind a server, remember the URL, close it.
    std::string url;
    {
        FakeAgency gone("x");
        url = gone.url();
    }
    const auto routing = routing_for(url);
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, nullptr));
    const auto t = wall_ms();
    queue.enqueue(code, t);
    queue.run_due(t);
    EXPECT_EQ(queue.size(), 1U);
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 1U);
    EXPECT_TRUE(attempts[0].detail.starts_with("transport:")) << attempts[0].detail;
}

TEST_F(ForwarderTest, EnqueueUnforwardedAfterRestart) {
    FakeAgency agency("agency-secret");
    const auto routing = routing_for(agency.url());
    const auto a = file(sample_report());
    const auto b = file(sample_report());
    ForwardQueue queue(deps(routing, nullptr));
    EXPECT_EQ(queue.enqueue_unforwarded(wall_ms()), 2U);
    EXPECT_EQ(queue.run_due(wall_ms()), 2U);
    EXPECT_EQ(store_->tipoff_by_code(a)->status, tipoff::Status::forwarded);
    EXPECT_EQ(store_->tipoff_by_code(b)->status, tipoff::Status::forwarded);
    EXPECT_EQ(queue.enqueue_unforwarded(wall_ms()), 0U);
}

SmtpConfig loopback_smtp(const FakeSmtp& smtp) {
    SmtpConfig c;
    c.url = smtp.url();
    c.from = "pgibot@example.vn";
    c.from_name = "PGI Bot Lạng Sơn";
    c.allow_plaintext = true;
    c.timeout = std::chrono::seconds(5);
    return c;
}

TEST_F(ForwarderTest, EmailDelivered) {
    FakeSmtp smtp;
    CurlSmtpMailer mailer(loopback_smtp(smtp), environment_secrets());
    const auto routing = routing_for("", "duongdaynong@example.vn");
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, &mailer));
    const auto t = wall_ms();
    queue.enqueue(code, t);
    queue.run_due(t);

    const auto mails = smtp.mails();
    ASSERT_EQ(mails.size(), 1U);
    EXPECT_EQ(mails[0].mail_from, "<pgibot@example.vn>");
    ASSERT_EQ(mails[0].rcpt.size(), 1U);
    EXPECT_EQ(mails[0].rcpt[0], "<duongdaynong@example.vn>");
    const auto& data = mails[0].data;
    if (std::getenv("PGIBOT_TEST_DUMP") != nullptr) std::fprintf(stderr, "%s\n", data.c_str());
    EXPECT_NE(data.find("Subject: =?UTF-8?B?"), std::string::npos);
    EXPECT_NE(data.find("To: duongdaynong@example.vn"), std::string::npos);
    EXPECT_NE(data.find("text/plain; charset=UTF-8"), std::string::npos);
    EXPECT_NE(data.find("phan-anh-" + code + ".json"), std::string::npos);
    const auto text = qp_decode(data);
    EXPECT_NE(text.find("Mã phản ánh: " + code), std::string::npos);
    EXPECT_NE(text.find("Loại ô nhiễm: "), std::string::npos);
    EXPECT_NE(text.find("https://cdn.example.com/a.jpg"), std::string::npos);
    EXPECT_NE(text.find("giữ bí mật danh tính"), std::string::npos);
    EXPECT_EQ(text.find("0912345678"), std::string::npos);

    EXPECT_EQ(store_->tipoff_by_code(code)->status, tipoff::Status::forwarded);
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 1U);
    EXPECT_EQ(attempts[0].channel, "email");
    EXPECT_EQ(attempts[0].target, "duongdaynong@example.vn");
    EXPECT_TRUE(attempts[0].ok);
}

TEST_F(ForwarderTest, Email451ThenRetrySucceeds) {
    FakeSmtp smtp;
    smtp.script_data({"451 4.3.0 Temporary failure, try later"});
    CurlSmtpMailer mailer(loopback_smtp(smtp), environment_secrets());
    const auto routing = routing_for("", "duongdaynong@example.vn");
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, &mailer));
    const auto t = wall_ms();
    queue.enqueue(code, t);
    queue.run_due(t);
    EXPECT_TRUE(smtp.mails().empty());
    EXPECT_EQ(queue.size(), 1U);
    EXPECT_EQ(store_->tipoff_by_code(code)->status, tipoff::Status::received);

    queue.run_due(*queue.next_due_ms());
    EXPECT_EQ(smtp.mails().size(), 1U);
    EXPECT_EQ(queue.size(), 0U);
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 2U);
    EXPECT_FALSE(attempts[0].ok);
    EXPECT_TRUE(attempts[0].detail.starts_with("SMTP 451")) << attempts[0].detail;
    EXPECT_TRUE(attempts[1].ok);
    EXPECT_EQ(store_->tipoff_by_code(code)->status, tipoff::Status::forwarded);
}

TEST_F(ForwarderTest, Email550IsPermanent) {
    FakeSmtp smtp;
    smtp.script_rcpt({"550 5.1.1 No such user"});
    CurlSmtpMailer mailer(loopback_smtp(smtp), environment_secrets());
    const auto routing = routing_for("", "nobody@example.vn");
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, &mailer));
    queue.enqueue(code, wall_ms());
    queue.run_due(wall_ms());
    EXPECT_EQ(queue.size(), 0U);
    const auto row = store_->tipoff_by_code(code);
    EXPECT_TRUE(forward_failed(*row));
    const auto attempts = store_->forward_attempts(code);
    ASSERT_GE(attempts.size(), 1U);
    EXPECT_TRUE(attempts[0].detail.starts_with("SMTP 550")) << attempts[0].detail;
}

TEST_F(ForwarderTest, WebhookAndEmailBothAttemptedFailedChannelRetried) {
    FakeAgency agency("agency-secret");
    FakeSmtp smtp;
    smtp.script_data({"451 4.3.0 later"});
    CurlSmtpMailer mailer(loopback_smtp(smtp), environment_secrets());
    const auto routing = routing_for(agency.url(), "so@example.vn");
    const auto code = file(sample_report());
    ForwardQueue queue(deps(routing, &mailer));
    const auto t = wall_ms();
    queue.enqueue(code, t);
    queue.run_due(t);
    // Webhook delivered: forwarded already; email still pending.
    EXPECT_EQ(store_->tipoff_by_code(code)->status, tipoff::Status::forwarded);
    EXPECT_EQ(queue.size(), 1U);
    queue.run_due(*queue.next_due_ms());
    EXPECT_EQ(queue.size(), 0U);
    EXPECT_EQ(agency.requests().size(), 1U);  // the webhook is not sent twice
    EXPECT_EQ(smtp.mails().size(), 1U);
    const auto attempts = store_->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 3U);
    std::map<std::string, int> ok_by_channel;
    for (const auto& a : attempts) ok_by_channel[a.channel] += a.ok ? 1 : 0;
    EXPECT_EQ(ok_by_channel["webhook"], 1);
    EXPECT_EQ(ok_by_channel["email"], 1);
    // Only one status change to forwarded.
    int forwarded_changes = 0;
    const auto row = store_->tipoff_by_code(code);  // held: the loop must not outlive a temporary
    ASSERT_TRUE(row.has_value());
    for (const auto& h : row->history) forwarded_changes += h.status == tipoff::Status::forwarded ? 1 : 0;
    EXPECT_EQ(forwarded_changes, 1);
}

TEST(MailHeader, EncodesUtf8) {
    EXPECT_EQ(encode_mail_header("Hello"), "Hello");
    const auto enc = encode_mail_header("Phản ánh ô nhiễm LS-2611-0042 - Nước thải - Phường Đông Kinh");
    EXPECT_TRUE(enc.starts_with("=?UTF-8?B?"));
    EXPECT_EQ(enc.find('\n'), std::string::npos);
    EXPECT_GT(std::count(enc.begin(), enc.end(), '?'), 4);  // split into several encoded words
}

}  // namespace
}  // namespace pgibot::tipoffs
