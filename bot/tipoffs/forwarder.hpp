#pragma once
// Forwarding filed tip-offs to the responsible authority: signed HTTPS webhook and/or e-mail (SMTP +
// STARTTLS), every attempt recorded in the store, retries with exponential backoff and jitter, a
// visible give-up mark. The wire format and signature scheme: bot/tipoffs/FORWARDING.md.
//
// Config (besides [tipoffs.routing], see routing.hpp), read only here:
//
//   [tipoffs.smtp]                        # needed when a body has an email channel
//   url = "smtp://mail.langson.gov.vn:587"  # smtp:// + STARTTLS (required), or smtps:// (implicit TLS)
//   from = "pgibot@langson.gov.vn"
//   from_name = "PGI Bot Lạng Sơn"        # optional
//   user = "pgibot@langson.gov.vn"        # optional: no AUTH when absent
//   password_env = "PGIBOT_SMTP_PASSWORD" # NAME of the environment variable holding the password
//   timeout_seconds = 30                  # optional
//   ca_file = ""                          # optional: system roots when empty
//   allow_plaintext = false               # true ONLY for a loopback test server (refused otherwise)
//
//   [tipoffs.forwarding]                  # optional, these are the defaults
//   max_attempts = 8                      # rounds per channel before giving up
//   base_delay_seconds = 30               # 30 s, 1 min, 2 min, ... (each +- jitter)
//   max_delay_seconds = 3600
//   jitter = 0.5                          # fraction of the delay randomised (0..1)
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "bot/http/client.hpp"
#include "bot/store/store.hpp"
#include "bot/tipoffs/routing.hpp"
#include "bot/tipoffs/vault.hpp"

namespace pgibot::tipoffs {

enum class DeliveryOutcome { delivered, retry, failed };
std::string_view to_string(DeliveryOutcome o);

struct DeliveryResult {
    DeliveryOutcome outcome = DeliveryOutcome::failed;
    std::string detail;  // "HTTP 201", "SMTP 451 ...", "transport: ..." (never a secret)
};

// --- packet and summary ------------------------------------------------------------------------
// The JSON packet (format_util's fields + "version": 1 + "reporter": identity or null). `identity`
// must only be given when the reporter consented (ForwardQueue decides).
// `evidence_rows` (Store::evidence_for) supply the sha256 of downloaded evidence.
std::string forward_packet_json(const store::TipoffRow& row, const std::optional<tipoff::ReporterIdentity>& identity,
                                const std::vector<store::EvidenceRow>& evidence_rows = {});
// The plain-text Vietnamese summary used as the e-mail body.
std::string forward_summary_vi(const store::TipoffRow& row, std::string_view body_name,
                               const std::optional<tipoff::ReporterIdentity>& identity);

// --- webhook signature ---------------------------------------------------------------------------
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);
// The receiver's check (also used by tests): well-formed headers, |now - timestamp| <= tolerance,
// constant-time comparison of the signature.
bool verify_webhook_signature(std::string_view secret, std::string_view timestamp_header,
                              std::string_view signature_header, std::string_view body, std::int64_t now_s,
                              std::int64_t tolerance_s = 300);

// One POST. 2xx: delivered. Transport error, 5xx, 408, 429: retry. Anything else: failed.
DeliveryResult deliver_webhook(http::Client& client, const WebhookTarget& target, std::string_view secret,
                               std::string_view code, std::string_view packet_json, std::int64_t now_ms);

// --- e-mail --------------------------------------------------------------------------------------
struct SmtpConfig {
    std::string url;
    std::string from;
    std::string from_name;
    std::string user;
    std::string password_env;
    std::chrono::seconds timeout{30};
    std::string ca_file;
    bool allow_plaintext = false;  // loopback only
};
SmtpConfig parse_smtp_config(const toml::table& smtp, std::string path = "tipoffs.smtp");

struct MailAttachment {
    std::string filename;
    std::string content_type;
    std::string data;
};

struct MailMessage {
    std::vector<std::string> to;
    std::vector<std::string> cc;
    std::string subject;  // UTF-8, encoded by the mailer
    std::string text;     // UTF-8 plain text
    std::vector<MailAttachment> attachments;
    std::string message_id;  // "<...@...>", optional
    std::int64_t date_ms = 0;  // Date header; 0: now
};

class Mailer {
public:
    virtual ~Mailer() = default;
    virtual DeliveryResult send(const MailMessage& message) = 0;
};

// libcurl SMTP. Blocking; one easy handle per call. SMTP 5xx: failed; 4xx / transport: retry.
class CurlSmtpMailer final : public Mailer {
public:
    CurlSmtpMailer(SmtpConfig config, SecretSource secrets);
    DeliveryResult send(const MailMessage& message) override;

private:
    SmtpConfig config_;
    SecretSource secrets_;
};

// RFC 2047 encoded-word(s) for a UTF-8 header value (unchanged when plain printable ASCII).
std::string encode_mail_header(std::string_view utf8);

// --- retry policy and the whole config ------------------------------------------------------------
struct RetryPolicy {
    int max_attempts = 8;
    std::chrono::milliseconds base_delay{30'000};
    std::chrono::milliseconds max_delay{3'600'000};
    double jitter = 0.5;
};
RetryPolicy parse_retry_policy(const toml::table& forwarding, std::string path = "tipoffs.forwarding");
// Delay after the `round`-th failed round (1-based): min(max, base * 2^(round-1)), of which the
// `jitter` fraction is scaled by random01 in [0, 1].
std::int64_t backoff_delay_ms(const RetryPolicy& policy, int round, double random01);

struct ForwardingConfig {
    RoutingTable routing;
    std::optional<SmtpConfig> smtp;
    RetryPolicy retry;
};
// Reads routing (required), smtp and forwarding (optional) from the [tipoffs] table; other keys of
// [tipoffs] are left to their owners. Throws ConfigError (also when a body has email and no smtp).
ForwardingConfig parse_forwarding_config(const toml::table& tipoffs, const std::string& path = "tipoffs");

// --- the queue -------------------------------------------------------------------------------------
// In memory: the runtime calls enqueue() after a tip-off is committed, enqueue_unforwarded() at
// start-up (a restart loses nothing: every `received` row that has not given up is queued again),
// and run_due(now) from a worker thread (at least every few seconds; next_due_ms() says when).
// Thread-safe; no sleeps. Status `forwarded` once ANY channel delivered; the body's other channels are
// still retried. After max_attempts failed rounds (or only permanent failures) an attempt row
// (channel "forward") and a history note "forward_failed: ..." mark the tip-off (status stays
// `received`), and it is logged at error level.
class ForwardQueue {
public:
    struct Deps {
        store::Store& store;
        const RoutingTable& routing;
        http::Client& http;
        Mailer* mailer = nullptr;             // null: email channels fail ("smtp not configured")
        const IdentityVault* vault = nullptr;  // null: identity never forwarded
        SecretSource secrets = environment_secrets();
        RetryPolicy retry{};
        std::function<double()> random01{};  // jitter source; default libsodium randombytes
    };

    explicit ForwardQueue(Deps deps);

    // No-op when the code is already queued or being sent.
    void enqueue(std::string code, std::int64_t now_ms);
    // Queues every `received` tip-off not marked forward_failed; returns how many.
    std::size_t enqueue_unforwarded(std::int64_t now_ms);
    // Sends everything due at `now_ms`; returns the number of tip-offs processed.
    std::size_t run_due(std::int64_t now_ms);
    [[nodiscard]] std::optional<std::int64_t> next_due_ms() const;
    [[nodiscard]] std::size_t size() const;

private:
    struct Job {
        std::string code;
        std::int64_t due_ms = 0;
        int rounds = 0;
        bool forwarded = false;
        std::set<std::string> done;  // channels delivered or permanently failed
    };

    // Returns true when the job must run again (rescheduled in job.due_ms).
    bool process(Job& job, std::int64_t now_ms);
    void give_up(const Job& job, std::string_view body_id, std::string_view why, std::int64_t now_ms);
    double random01();

    Deps deps_;
    mutable std::mutex mutex_;
    std::map<std::string, Job, std::less<>> jobs_;
    std::set<std::string, std::less<>> in_flight_;
};

}  // namespace pgibot::tipoffs
