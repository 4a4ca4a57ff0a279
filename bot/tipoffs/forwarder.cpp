#include "bot/tipoffs/forwarder.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>

#include <spdlog/spdlog.h>

#include "bot/tipoffs/format_util.hpp"

namespace pgibot::tipoffs {
namespace {

using detail::TableReader;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// At most `max` bytes, cut on a UTF-8 boundary, control characters replaced by spaces.
std::string excerpt(std::string_view s, std::size_t max = 200) {
    if (s.size() > max) {
        std::size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        s = s.substr(0, cut);
    }
    std::string out(s);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return out;
}

// The URL as recorded in attempt rows: no query string or fragment, no user info.
std::string url_for_record(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    const auto scheme_end = url.find("://");
    if (scheme_end != std::string_view::npos) {
        const auto host_start = scheme_end + 3;
        const auto path_start = url.find('/', host_start);
        const auto at = url.find('@', host_start);
        if (at != std::string_view::npos && (path_start == std::string_view::npos || at < path_start))
            return std::string(url.substr(0, host_start)) + std::string(url.substr(at + 1));
    }
    return std::string(url);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += sep;
        out += i;
    }
    return out;
}

std::string hmac_hex(std::string_view secret, std::string_view timestamp, std::string_view body) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, bytes(secret), secret.size());
    crypto_auth_hmacsha256_update(&st, bytes(timestamp), timestamp.size());
    const unsigned char dot = '.';
    crypto_auth_hmacsha256_update(&st, &dot, 1);
    crypto_auth_hmacsha256_update(&st, bytes(body), body.size());
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_final(&st, mac.data());
    std::array<char, crypto_auth_hmacsha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    return std::string(hex.data(), crypto_auth_hmacsha256_BYTES * 2);
}

void ensure_curl() {
    static const bool ok = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    if (!ok) throw std::runtime_error("curl_global_init failed");
}

}  // namespace

std::string_view to_string(DeliveryOutcome o) {
    switch (o) {
        case DeliveryOutcome::delivered: return "delivered";
        case DeliveryOutcome::retry: return "retry";
        case DeliveryOutcome::failed: return "failed";
    }
    return "failed";
}

// --- packet and summary ----------------------------------------------------------------------------

std::string forward_packet_json(const store::TipoffRow& row, const std::optional<tipoff::ReporterIdentity>& identity,
                                const std::vector<store::EvidenceRow>& evidence_rows) {
    auto j = tipoff_fields_json(row, evidence_rows);
    j["version"] = 1;
    j["reporter"] = identity ? identity_json(*identity) : nlohmann::json(nullptr);
    return dump_json(j);
}

std::string forward_summary_vi(const store::TipoffRow& row, std::string_view body_name,
                               const std::optional<tipoff::ReporterIdentity>& identity) {
    const auto& r = row.report;
    std::string t;
    auto line = [&t](std::string_view label, std::string_view value) {
        if (value.empty()) return;
        t += label;
        t += ": ";
        t += value;
        t += "\n";
    };
    t += "Kính gửi: " + std::string(body_name) + "\n\n";
    t += "Hệ thống PGI Bot tỉnh Lạng Sơn chuyển tới Quý cơ quan thông tin phản ánh về ô nhiễm môi trường "
         "do người dân gửi qua mạng xã hội.\n\n";
    line("Mã phản ánh", row.code);
    line("Loại ô nhiễm", tipoff::label_vi(r.kind));
    line("Nội dung", r.description);
    std::string place = r.place_detail;
    if (!r.commune_name.empty()) place += (place.empty() ? "" : ", ") + r.commune_name;
    if (!r.commune_code.empty()) place += " (mã đơn vị hành chính " + r.commune_code + ")";
    line("Địa điểm", place);
    if (r.location) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "%.6f, %.6f (https://www.google.com/maps?q=%.6f,%.6f)", r.location->lat,
                      r.location->lng, r.location->lat, r.location->lng);
        line("Tọa độ", buf);
    }
    std::string when = r.occurred_text;
    if (!r.occurred_date.empty()) when += (when.empty() ? "" : " - ") + display_date(r.occurred_date);
    line("Thời gian xảy ra", when);
    line("Đối tượng gây ô nhiễm", r.suspect);
    if (!r.evidence.empty()) {
        t += "Bằng chứng (đường dẫn do nền tảng cung cấp, có thể hết hạn):\n";
        for (std::size_t i = 0; i < r.evidence.size(); ++i)
            t += "  " + std::to_string(i + 1) + ". [" + r.evidence[i].media_type + "] " + r.evidence[i].url + "\n";
    }
    line("Trạng thái", tipoff::label_vi(row.status));
    line("Thời điểm tiếp nhận", display_time_vn(row.created_ms) + " (giờ Việt Nam)");
    t += "\n";
    if (identity) {
        t += "Người phản ánh đồng ý cung cấp danh tính cho cơ quan chức năng "
             "(đề nghị giữ bí mật theo QĐ 174/QĐ-BTNMT):\n";
        line("  Họ tên", identity->name);
        line("  Số điện thoại", identity->phone);
        line("  Địa chỉ", identity->address);
    } else {
        t += "Người phản ánh đề nghị giữ bí mật danh tính; hệ thống không chuyển thông tin cá nhân.\n";
    }
    t += "\nThư được gửi tự động từ hệ thống PGI Bot. Dữ liệu đầy đủ (JSON) ở tệp đính kèm.\n";
    return t;
}

// --- webhook ---------------------------------------------------------------------------------------

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
    ensure_sodium();
    return "sha256=" + hmac_hex(secret, timestamp, body);
}

bool verify_webhook_signature(std::string_view secret, std::string_view timestamp_header,
                              std::string_view signature_header, std::string_view body, std::int64_t now_s,
                              std::int64_t tolerance_s) {
    ensure_sodium();
    if (secret.empty() || timestamp_header.empty() || timestamp_header.size() > 12) return false;
    std::int64_t ts = 0;
    for (char c : timestamp_header) {
        if (c < '0' || c > '9') return false;
        ts = ts * 10 + (c - '0');
    }
    if (ts > now_s + tolerance_s || ts < now_s - tolerance_s) return false;
    constexpr std::string_view prefix = "sha256=";
    if (!signature_header.starts_with(prefix)) return false;
    std::string given(signature_header.substr(prefix.size()));
    if (given.size() != crypto_auth_hmacsha256_BYTES * 2) return false;
    std::transform(given.begin(), given.end(), given.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    const std::string expected = hmac_hex(secret, timestamp_header, body);
    return sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

DeliveryResult deliver_webhook(http::Client& client, const WebhookTarget& target, std::string_view secret,
                               std::string_view code, std::string_view packet_json, std::int64_t now_ms) {
    const std::string timestamp = std::to_string(now_ms / 1000);
    http::ClientRequest req;
    req.method = "POST";
    req.url = target.url;
    req.timeout = target.timeout;
    req.body = std::string(packet_json);
    req.max_response_bytes = 64 * 1024;
    req.headers = {{"Content-Type", "application/json; charset=utf-8"},
                   {"User-Agent", "pgibot-forwarder/1"},
                   {"X-Pgibot-Code", std::string(code)},
                   {"X-Pgibot-Timestamp", timestamp},
                   {"X-Pgibot-Signature", webhook_signature(secret, timestamp, packet_json)}};
    http::ClientResponse resp;
    try {
        resp = client.send(req);
    } catch (const std::exception& e) {
        return {DeliveryOutcome::retry, "transport: " + excerpt(e.what())};
    }
    if (resp.transport_failed())
        return {DeliveryOutcome::retry, "transport: " + excerpt(resp.error.empty() ? "no response" : resp.error)};
    std::string detail = "HTTP " + std::to_string(resp.status);
    if (resp.status >= 200 && resp.status < 300) return {DeliveryOutcome::delivered, detail};
    if (!resp.body.empty()) detail += ": " + excerpt(resp.body);
    if (resp.status >= 500 || resp.status == 408 || resp.status == 429) return {DeliveryOutcome::retry, detail};
    return {DeliveryOutcome::failed, detail};
}

// --- e-mail ----------------------------------------------------------------------------------------

std::string encode_mail_header(std::string_view utf8) {
    const bool plain = std::all_of(utf8.begin(), utf8.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f;
    });
    if (plain && utf8.find("=?") == std::string_view::npos) return std::string(utf8);
    ensure_sodium();
    std::string out;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        std::size_t len = std::min<std::size_t>(45, utf8.size() - pos);
        while (pos + len < utf8.size() && len > 0 && (static_cast<unsigned char>(utf8[pos + len]) & 0xC0) == 0x80)
            --len;
        if (len == 0) len = std::min<std::size_t>(45, utf8.size() - pos);
        std::string chunk(utf8.substr(pos, len));
        for (auto& c : chunk)
            if (c == '\r' || c == '\n') c = ' ';
        std::string b64(sodium_base64_encoded_len(chunk.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
        sodium_bin2base64(b64.data(), b64.size(), bytes(chunk), chunk.size(), sodium_base64_VARIANT_ORIGINAL);
        b64.resize(std::char_traits<char>::length(b64.c_str()));
        if (!out.empty()) out += ' ';
        out += "=?UTF-8?B?" + b64 + "?=";
        pos += len;
    }
    return out;
}

SmtpConfig parse_smtp_config(const toml::table& smtp, std::string path) {
    TableReader r(smtp, std::move(path), {"url", "from", "from_name", "user", "password_env", "timeout_seconds",
                                          "ca_file", "allow_plaintext"});
    SmtpConfig c;
    c.url = r.req_string("url");
    const bool smtps = c.url.starts_with("smtps://");
    if ((!c.url.starts_with("smtp://") && !smtps) || detail::url_host(c.url).empty())
        r.fail("url", "must be smtp://host[:port] (STARTTLS) or smtps://host[:port]");
    if (c.url.find('@') != std::string::npos) r.fail("url", "must not hold a user name or password");
    c.from = r.req_string("from");
    if (!detail::is_email_address(c.from)) r.fail("from", "is not an e-mail address");
    c.from_name = r.opt_string("from_name").value_or("");
    if (c.from_name.find_first_of("\r\n") != std::string::npos) r.fail("from_name", "must be one line");
    c.user = r.opt_string("user").value_or("");
    c.password_env = r.opt_string("password_env").value_or("");
    if (!c.password_env.empty() && !detail::is_env_var_name(c.password_env))
        r.fail("password_env", "must be the NAME of an environment variable");
    if (!c.user.empty() && c.password_env.empty()) r.fail_table("'user' needs 'password_env'");
    c.timeout = std::chrono::seconds(r.opt_int("timeout_seconds", 30, 1, 600));
    c.ca_file = r.opt_string("ca_file").value_or("");
    c.allow_plaintext = r.opt_bool("allow_plaintext", false);
    if (c.allow_plaintext && !detail::is_loopback_host(detail::url_host(c.url)))
        r.fail("allow_plaintext", "is only allowed for a loopback server (127.0.0.1, ::1, localhost)");
    return c;
}

CurlSmtpMailer::CurlSmtpMailer(SmtpConfig config, SecretSource secrets)
    : config_(std::move(config)), secrets_(std::move(secrets)) {
    ensure_curl();
}

DeliveryResult CurlSmtpMailer::send(const MailMessage& m) {
    if (m.to.empty()) return {DeliveryOutcome::failed, "no recipient"};
    std::string password;
    if (!config_.password_env.empty()) {
        auto p = secrets_(config_.password_env);
        if (!p) return {DeliveryOutcome::failed, "environment variable " + config_.password_env + " is not set"};
        password = std::move(*p);
    }
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
    if (!easy) return {DeliveryOutcome::retry, "curl_easy_init failed"};
    CURL* h = easy.get();

    auto slist_free = [](curl_slist* l) { curl_slist_free_all(l); };
    std::unique_ptr<curl_slist, decltype(slist_free)> rcpt(nullptr, slist_free);
    std::unique_ptr<curl_slist, decltype(slist_free)> headers(nullptr, slist_free);
    auto append = [](auto& list, const std::string& s) {
        curl_slist* next = curl_slist_append(list.get(), s.c_str());
        if (next != nullptr) {
            (void)list.release();
            list.reset(next);
        }
    };
    for (const auto& a : m.to) append(rcpt, "<" + a + ">");
    for (const auto& a : m.cc) append(rcpt, "<" + a + ">");

    const std::string from_header =
        config_.from_name.empty() ? config_.from : encode_mail_header(config_.from_name) + " <" + config_.from + ">";
    const std::int64_t date_ms =
        m.date_ms != 0 ? m.date_ms
                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    append(headers, "Date: " + rfc5322_date_vn(date_ms));
    append(headers, "From: " + from_header);
    append(headers, "To: " + join(m.to, ", "));
    if (!m.cc.empty()) append(headers, "Cc: " + join(m.cc, ", "));
    append(headers, "Subject: " + encode_mail_header(m.subject));
    if (!m.message_id.empty()) append(headers, "Message-ID: " + m.message_id);

    std::unique_ptr<curl_mime, decltype(&curl_mime_free)> mime(curl_mime_init(h), &curl_mime_free);
    // Canonical text form: CRLF line breaks (the quoted-printable encoder keeps them as hard breaks).
    std::string body_text;
    body_text.reserve(m.text.size() + m.text.size() / 40);
    for (std::size_t i = 0; i < m.text.size(); ++i) {
        if (m.text[i] == '\n' && (i == 0 || m.text[i - 1] != '\r')) body_text += '\r';
        body_text += m.text[i];
    }
    curl_mimepart* text = curl_mime_addpart(mime.get());
    curl_mime_data(text, body_text.data(), body_text.size());
    curl_mime_type(text, "text/plain; charset=UTF-8");
    curl_mime_encoder(text, "quoted-printable");
    for (const auto& att : m.attachments) {
        curl_mimepart* part = curl_mime_addpart(mime.get());
        curl_mime_data(part, att.data.data(), att.data.size());
        curl_mime_type(part, att.content_type.c_str());
        curl_mime_filename(part, att.filename.c_str());
        curl_mime_encoder(part, "base64");
    }

    std::array<char, CURL_ERROR_SIZE> errbuf{};
    const std::string mail_from = "<" + config_.from + ">";
    curl_easy_setopt(h, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(config_.allow_plaintext ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.user.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, config_.user.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count() * 1000));
    const long connect_ms = static_cast<long>(std::min<long long>(config_.timeout.count(), 10) * 1000);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data());

    const CURLcode rc = curl_easy_perform(h);
    sodium_memzero(password.data(), password.size());
    if (rc == CURLE_OK) return {DeliveryOutcome::delivered, "SMTP accepted"};
    long smtp_code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &smtp_code);
    std::string detail = smtp_code != 0 ? "SMTP " + std::to_string(smtp_code) + ": " : "transport: ";
    detail += excerpt(errbuf[0] != '\0' ? std::string_view(errbuf.data()) : std::string_view(curl_easy_strerror(rc)));
    if (smtp_code >= 500 && smtp_code < 600) return {DeliveryOutcome::failed, detail};
    return {DeliveryOutcome::retry, detail};
}

// --- retry policy and config --------------------------------------------------------------------------

RetryPolicy parse_retry_policy(const toml::table& forwarding, std::string path) {
    TableReader r(forwarding, std::move(path), {"max_attempts", "base_delay_seconds", "max_delay_seconds", "jitter"});
    RetryPolicy p;
    p.max_attempts = static_cast<int>(r.opt_int("max_attempts", p.max_attempts, 1, 100));
    p.base_delay = std::chrono::seconds(r.opt_int("base_delay_seconds", 30, 1, 86'400));
    p.max_delay = std::chrono::seconds(r.opt_int("max_delay_seconds", 3600, 1, 7 * 86'400));
    if (p.max_delay < p.base_delay) r.fail("max_delay_seconds", "must not be less than base_delay_seconds");
    if (const auto* node = forwarding.get("jitter")) {
        const auto v = node->value<double>();
        if (!v || *v < 0.0 || *v > 1.0) r.fail("jitter", "must be a number between 0 and 1");
        p.jitter = *v;
    }
    return p;
}

std::int64_t backoff_delay_ms(const RetryPolicy& policy, int round, double random01) {
    const double base = static_cast<double>(policy.base_delay.count());
    const double cap = static_cast<double>(policy.max_delay.count());
    const double exp = std::min(cap, base * std::ldexp(1.0, std::clamp(round, 1, 40) - 1));
    const double r = std::clamp(random01, 0.0, 1.0);
    const double j = std::clamp(policy.jitter, 0.0, 1.0);
    // The jittered part spreads over [exp*(1-j), exp]: retries of many tip-offs don't arrive together.
    return static_cast<std::int64_t>(exp * (1.0 - j) + exp * j * r);
}

ForwardingConfig parse_forwarding_config(const toml::table& tipoffs, const std::string& path) {
    const auto* routing = tipoffs.get_as<toml::table>("routing");
    if (routing == nullptr) throw ConfigError(detail::where(tipoffs.source()) + path + ".routing: missing table");
    ForwardingConfig c{RoutingTable::parse(*routing, path + ".routing"), std::nullopt, RetryPolicy{}};
    if (const auto* node = tipoffs.get("smtp")) {
        const auto* t = node->as_table();
        if (t == nullptr) throw ConfigError(detail::where(node->source()) + path + ".smtp: must be a table");
        c.smtp = parse_smtp_config(*t, path + ".smtp");
    }
    if (const auto* node = tipoffs.get("forwarding")) {
        const auto* t = node->as_table();
        if (t == nullptr) throw ConfigError(detail::where(node->source()) + path + ".forwarding: must be a table");
        c.retry = parse_retry_policy(*t, path + ".forwarding");
    }
    if (c.routing.uses_email() && !c.smtp)
        throw ConfigError(detail::where(routing->source()) + path +
                          ".smtp: missing, but a routing body has an email channel");
    return c;
}

// --- the queue ---------------------------------------------------------------------------------------

ForwardQueue::ForwardQueue(Deps deps) : deps_(std::move(deps)) {
    ensure_sodium();
    if (!deps_.secrets) deps_.secrets = environment_secrets();
}

double ForwardQueue::random01() {
    if (deps_.random01) return deps_.random01();
    return static_cast<double>(randombytes_uniform(1'000'001)) / 1'000'000.0;
}

void ForwardQueue::enqueue(std::string code, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    if (jobs_.contains(code) || in_flight_.contains(code)) return;
    Job job;
    job.code = code;
    job.due_ms = now_ms;
    jobs_.emplace(std::move(code), std::move(job));
}

std::size_t ForwardQueue::enqueue_unforwarded(std::int64_t now_ms) {
    store::TipoffFilter filter;
    filter.status = tipoff::Status::received;
    filter.limit = 100'000;
    std::size_t n = 0;
    for (const auto& row : deps_.store.list_tipoffs(filter)) {
        if (forward_failed(row)) continue;
        enqueue(row.code, now_ms);
        ++n;
    }
    return n;
}

std::optional<std::int64_t> ForwardQueue::next_due_ms() const {
    std::lock_guard lock(mutex_);
    std::optional<std::int64_t> next;
    for (const auto& [code, job] : jobs_)
        if (!next || job.due_ms < *next) next = job.due_ms;
    return next;
}

std::size_t ForwardQueue::size() const {
    std::lock_guard lock(mutex_);
    return jobs_.size() + in_flight_.size();
}

std::size_t ForwardQueue::run_due(std::int64_t now_ms) {
    std::vector<Job> due;
    {
        std::lock_guard lock(mutex_);
        for (auto it = jobs_.begin(); it != jobs_.end();) {
            if (it->second.due_ms <= now_ms) {
                in_flight_.insert(it->first);
                due.push_back(std::move(it->second));
                it = jobs_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& job : due) {
        bool again = false;
        try {
            again = process(job, now_ms);
        } catch (const std::exception& e) {
            // The store failed (StoreError) or something unexpected: keep the job, try later.
            spdlog::error("tip-off {}: forwarding interrupted: {}", job.code, e.what());
            job.due_ms = now_ms + deps_.retry.base_delay.count();
            again = true;
        }
        std::lock_guard lock(mutex_);
        in_flight_.erase(job.code);
        if (again) {
            auto code = job.code;
            jobs_.emplace(std::move(code), std::move(job));
        }
    }
    return due.size();
}

bool ForwardQueue::process(Job& job, std::int64_t now_ms) {
    auto row = deps_.store.tipoff_by_code(job.code);
    if (!row) {
        spdlog::error("tip-off {}: not found in the store; not forwarded", job.code);
        return false;
    }
    if (!job.forwarded && row->status != tipoff::Status::received) {
        spdlog::info("tip-off {}: status is {}, nothing to forward", job.code, tipoff::to_string(row->status));
        return false;
    }
    const Body& body = deps_.routing.route(row->report);

    std::optional<tipoff::ReporterIdentity> identity;
    if (row->report.consent_share_identity) {
        if (deps_.vault != nullptr) identity = deps_.vault->open(row->identity_sealed);
        if (!identity)
            spdlog::warn("tip-off {}: reporter consented to share identity but it could not be opened; "
                         "forwarding without it", job.code);
    }
    std::vector<store::EvidenceRow> evidence_rows;
    try {
        evidence_rows = deps_.store.evidence_for(job.code);
    } catch (const store::StoreError& e) {
        spdlog::debug("tip-off {}: no evidence hashes: {}", job.code, e.what());
    }
    const std::string packet = forward_packet_json(*row, identity, evidence_rows);
    ++job.rounds;

    bool delivered_now = false;
    std::vector<std::string> pending;
    auto attempt = [&](const std::string& channel, const std::string& target, const DeliveryResult& result) {
        const bool ok = result.outcome == DeliveryOutcome::delivered;
        deps_.store.record_forward_attempt(job.code, channel, target, ok, result.detail, now_ms);
        if (ok) {
            spdlog::info("tip-off {}: delivered to {} via {}", job.code, body.id, channel);
            delivered_now = true;
            job.done.insert(channel);
        } else if (result.outcome == DeliveryOutcome::failed) {
            spdlog::warn("tip-off {}: {} to {} failed: {}", job.code, channel, body.id, result.detail);
            job.done.insert(channel);
        } else {
            spdlog::warn("tip-off {}: {} to {} will be retried: {}", job.code, channel, body.id, result.detail);
            pending.push_back(channel);
        }
    };

    if (body.webhook && !job.done.contains("webhook")) {
        const auto& w = *body.webhook;
        const auto secret = deps_.secrets(w.secret_env);
        attempt("webhook", url_for_record(w.url),
                secret ? deliver_webhook(deps_.http, w, *secret, job.code, packet, now_ms)
                       : DeliveryResult{DeliveryOutcome::failed,
                                        "environment variable " + w.secret_env + " is not set"});
    }
    if (body.email && !job.done.contains("email")) {
        const auto& e = *body.email;
        DeliveryResult result{DeliveryOutcome::failed, "smtp not configured"};
        if (deps_.mailer != nullptr) {
            MailMessage m;
            m.to = e.to;
            m.cc = e.cc;
            std::string subject = "[PGI Bot] Phản ánh ô nhiễm " + row->code + " - " +
                                  std::string(tipoff::label_vi(row->report.kind));
            if (!row->report.commune_name.empty()) subject += " - " + row->report.commune_name;
            m.subject = subject;
            m.text = forward_summary_vi(*row, body.name, identity);
            m.attachments.push_back({"phan-anh-" + row->code + ".json", "application/json", packet});
            m.message_id = "<" + row->code + "." + std::to_string(job.rounds) + "." + std::to_string(now_ms) +
                           "@pgibot>";
            m.date_ms = now_ms;
            try {
                result = deps_.mailer->send(m);
            } catch (const std::exception& ex) {
                result = {DeliveryOutcome::retry, "transport: " + std::string(ex.what())};
            }
        }
        attempt("email", join(e.to, ","), result);
    }

    if (delivered_now && !job.forwarded) {
        job.forwarded = true;
        deps_.store.change_tipoff_status(
            job.code, store::StatusChange{tipoff::Status::forwarded, "system", "Đã chuyển tới " + body.name, now_ms});
    }
    if (pending.empty()) {
        if (!job.forwarded) give_up(job, body.id, "every channel failed permanently", now_ms);
        return false;
    }
    if (job.rounds >= deps_.retry.max_attempts) {
        if (!job.forwarded) {
            give_up(job, body.id, "gave up after " + std::to_string(job.rounds) + " attempts", now_ms);
        } else {
            deps_.store.record_forward_attempt(job.code, "forward", body.id, false,
                                               "gave up on " + join(pending, ",") + " after " +
                                                   std::to_string(job.rounds) + " attempts (delivered elsewhere)",
                                               now_ms);
        }
        return false;
    }
    job.due_ms = now_ms + backoff_delay_ms(deps_.retry, job.rounds, random01());
    return true;
}

void ForwardQueue::give_up(const Job& job, std::string_view body_id, std::string_view why, std::int64_t now_ms) {
    const std::string note = std::string(kForwardFailedNote) + ": " + std::string(why);
    spdlog::error("tip-off {}: NOT forwarded to {}: {}; see `pgibot tipoffs show {}`", job.code, body_id, why,
                  job.code);
    deps_.store.record_forward_attempt(job.code, "forward", body_id, false, note, now_ms);
    deps_.store.change_tipoff_status(job.code,
                                     store::StatusChange{tipoff::Status::received, "system", note, now_ms});
}

}  // namespace pgibot::tipoffs
