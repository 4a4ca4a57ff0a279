// Evidence downloads: a real SQLite store in a temporary folder, media served by a loopback fake
// server, the real libcurl client. Times passed to run_due are fake milliseconds (rows are due at
// once when filed), so retries are exercised without waiting.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "bot/http/client.hpp"
#include "bot/store/store.hpp"
#include "bot/tipoffs/evidence.hpp"
#include "tests/bot/store/temp_db.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace pgibot::tipoffs {
namespace {

namespace fs = std::filesystem;
using store::EvidenceRow;
using store::EvidenceState;

// --- media bytes, made here ------------------------------------------------------------------------

std::uint32_t crc32(std::string_view data) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char ch : data) {
        crc ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1U) ^ (0xEDB88320U & (0U - (crc & 1U)));
    }
    return ~crc;
}

std::uint32_t adler32(std::string_view data) {
    std::uint32_t a = 1;
    std::uint32_t b = 0;
    for (const char ch : data) {
        a = (a + static_cast<unsigned char>(ch)) % 65521U;
        b = (b + a) % 65521U;
    }
    return (b << 16U) | a;
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24U), static_cast<char>((v >> 16U) & 0xFFU), static_cast<char>((v >> 8U) & 0xFFU),
            static_cast<char>(v & 0xFFU)};
}

std::string png_chunk(std::string_view type, std::string_view data) {
    const std::string typed = std::string(type) + std::string(data);
    return be32(static_cast<std::uint32_t>(data.size())) + typed + be32(crc32(typed));
}

// A valid width x height RGB PNG (zlib "stored" blocks, no compression), optionally with an ancillary
// tEXt chunk of `padding` bytes to make it bigger.
std::string make_png(std::uint32_t width, std::uint32_t height, std::size_t padding = 0) {
    std::string raw;
    for (std::uint32_t y = 0; y < height; ++y) {
        raw.push_back('\0');  // filter: none
        for (std::uint32_t x = 0; x < width; ++x) {
            raw.push_back(static_cast<char>(x * 40));
            raw.push_back(static_cast<char>(y * 40));
            raw.push_back(static_cast<char>(0x80));
        }
    }
    const auto len = static_cast<std::uint16_t>(raw.size());
    std::string zlib = "\x78\x01";
    zlib += '\x01';  // final stored block
    zlib += static_cast<char>(len & 0xFFU);
    zlib += static_cast<char>(len >> 8U);
    const auto nlen = static_cast<std::uint16_t>(~len);
    zlib += static_cast<char>(nlen & 0xFFU);
    zlib += static_cast<char>(nlen >> 8U);
    zlib += raw;
    zlib += be32(adler32(raw));
    std::string ihdr = be32(width) + be32(height);
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter method, no interlace
    std::string png = "\x89PNG\r\n\x1A\n";
    png += png_chunk("IHDR", ihdr);
    if (padding > 0) png += png_chunk("tEXt", "Comment" + std::string(1, '\0') + std::string(padding, 'x'));
    png += png_chunk("IDAT", zlib);
    png += png_chunk("IEND", "");
    return png;
}

// SOI, a JFIF APP0 segment, a comment and EOI: enough for a signature check.
std::string make_jpeg() {
    std::string j("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
    j += std::string("\xFF\xFE\x00\x0Dpgibot test", 15);
    j += "\xFF\xD9";
    return j;
}

std::string make_mp4() {
    std::string m = be32(24) + "ftypisom" + be32(0x200) + "isomiso2";
    m += be32(16) + "mdat" + std::string(8, '\x42');
    return m;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

test::FakeReply media(int status, std::string content_type, std::string body) {
    http::Response response;
    response.status = status;
    response.content_type = std::move(content_type);
    response.body = std::move(body);
    return test::FakeReply{std::move(response), {}};
}

// Captures log lines for the duration of a test.
class LogCapture {
public:
    LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), previous_(spdlog::default_logger()) {
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    // The fetcher's lines (the fake server logs request targets of its own).
    [[nodiscard]] std::string text() const {
        std::string all;
        for (const auto& line : sink_->last_formatted()) {
            if (line.find("evidence") != std::string::npos) all += line;
        }
        return all;
    }

private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

constexpr std::int64_t kT0 = 1'000'000;

class EvidenceTest : public ::testing::Test {
protected:
    [[nodiscard]] fs::path db_path() const { return dir_.path() / "db" / "pgibot.db"; }
    [[nodiscard]] fs::path evidence_dir() const { return dir_.path() / "evidence"; }

    std::unique_ptr<store::Store> open() { return store::open_sqlite(store::SqliteOptions{db_path().string(), true, 5000, {}, {}}); }

    // Files a tip-off with this evidence through commit_decision; returns its code.
    static std::string file_tipoff(store::Store& s, std::vector<tipoff::Evidence> evidence) {
        store::NewTipoff t;
        t.report.platform = Platform::facebook;
        t.report.page_id = "p1";
        t.report.kind = tipoff::PollutionKind::wastewater;
        t.report.description = "Nước thải đen chảy xuống suối";
        t.report.evidence = std::move(evidence);
        t.identity_sealed = "sealed";
        t.reporter_lookup = "lookup";
        store::DecisionCommit commit;
        commit.user_key = "facebook:p1:u1";
        commit.state_json = "{}";
        commit.platform = Platform::facebook;
        commit.page_id = "p1";
        commit.user_id = "u1";
        commit.tipoffs = {std::move(t)};
        const auto codes = s.commit_decision(commit);
        EXPECT_EQ(codes.size(), 1U);
        return codes.empty() ? std::string() : codes.front();
    }

    [[nodiscard]] EvidenceOptions options() const {
        EvidenceOptions o;
        o.dir = evidence_dir();
        o.max_bytes = 64 * 1024;
        o.timeout = std::chrono::seconds(5);
        o.max_attempts = 3;
        o.base_delay = std::chrono::seconds(1);
        o.max_delay = std::chrono::seconds(60);
        o.jitter = 0.0;
        o.allow_plain_http = true;  // the fake server speaks plain HTTP on loopback
        o.random01 = [] { return 0.5; };
        return o;
    }

    [[nodiscard]] std::string url(std::string_view path) const { return server_.base_url() + std::string(path); }

    // The one evidence row of a tip-off filed with a single URL, after one run_due(kT0).
    EvidenceRow fetch_one(std::string_view path, const EvidenceOptions& o) {
        auto s = open();
        const auto code = file_tipoff(*s, {{url(path), "image"}});
        EvidenceFetcher fetcher(*s, client_, o);
        EXPECT_EQ(fetcher.run_due(kT0), 1U);
        const auto rows = s->evidence_for(code);
        EXPECT_EQ(rows.size(), 1U);
        return rows.empty() ? EvidenceRow{} : rows.front();
    }

    test::TempDir dir_{"pgibot-evidence"};
    http::CurlClient client_;
    test::FakeHttpServer server_;
};

// --- store ------------------------------------------------------------------------------------------

TEST_F(EvidenceTest, RowsAreCreatedWithTheTipoffInOneTransaction) {
    auto s = open();
    // Fault: the second evidence insert fails, so the whole decision must roll back.
    {
        store::testing::RawDb raw(db_path().string());
        raw.exec("CREATE TRIGGER injected_failure BEFORE INSERT ON evidence WHEN NEW.position = 1 "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    }
    store::NewTipoff t;
    t.report.evidence = {{"https://cdn.example/a.jpg?token=x", "image"}, {"https://cdn.example/b.mp4", "video"}};
    t.identity_sealed = "sealed";
    t.reporter_lookup = "lookup";
    store::DecisionCommit commit;
    commit.user_key = "zalo:oa1:u1";
    commit.state_json = "{}";
    commit.tipoffs = {t};
    EXPECT_THROW(s->commit_decision(commit), store::StoreError);
    EXPECT_TRUE(s->list_tipoffs({}).empty());
    {
        store::testing::RawDb raw(db_path().string());
        EXPECT_EQ(raw.number("SELECT COUNT(*) FROM evidence"), 0);
        EXPECT_EQ(raw.number("SELECT COUNT(*) FROM tipoffs"), 0);
        raw.exec("DROP TRIGGER injected_failure");
    }
    EXPECT_TRUE(s->due_evidence(kT0, 10).empty());

    const auto codes = s->commit_decision(commit);
    ASSERT_EQ(codes.size(), 1U);
    const auto rows = s->evidence_for(codes[0]);
    ASSERT_EQ(rows.size(), 2U);
    for (int i = 0; i < 2; ++i) {
        const auto& row = rows[static_cast<std::size_t>(i)];
        EXPECT_EQ(row.tipoff_code, codes[0]);
        EXPECT_EQ(row.position, i);
        EXPECT_EQ(row.url, t.report.evidence[static_cast<std::size_t>(i)].url);
        EXPECT_EQ(row.media_type, t.report.evidence[static_cast<std::size_t>(i)].media_type);
        EXPECT_EQ(row.state, EvidenceState::pending);
        EXPECT_EQ(row.attempts, 0);
        EXPECT_TRUE(row.sha256.empty());
        EXPECT_GT(row.created_ms, 0);
    }
    EXPECT_EQ(s->due_evidence(kT0, 10).size(), 2U);
    EXPECT_EQ(s->due_evidence(kT0, 1).size(), 1U);
    EXPECT_TRUE(s->evidence_for("LS-0000-0000").empty());

    // A tip-off without evidence has no rows; marks need a pending row.
    const auto plain = file_tipoff(*s, {});
    EXPECT_TRUE(s->evidence_for(plain).empty());
    s->mark_evidence_failed(rows[1].id, "HTTP 404", kT0);
    EXPECT_THROW(s->mark_evidence_failed(rows[1].id, "again", kT0), store::StoreError);
    EXPECT_THROW(s->mark_evidence_retry(rows[1].id, kT0, "again", kT0), store::StoreError);
    EXPECT_THROW(s->mark_evidence_downloaded(987654, "ab", "/x", 1, "image/png", kT0), store::StoreError);
    EXPECT_EQ(s->due_evidence(kT0, 10).size(), 1U);
}

TEST_F(EvidenceTest, StoreWithoutEvidenceSupportThrows) {
    // The default bodies of the interface, for fakes that do not implement evidence.
    struct Minimal : store::Store {
        std::size_t commit_events(const std::vector<IncomingEvent>&) override { return 0; }
        std::vector<std::size_t> commit_event_batches(const std::vector<std::vector<IncomingEvent>>&) override {
            return {};
        }
        std::vector<store::InboxItem> pending_inbox(std::int64_t, std::size_t) override { return {}; }
        std::optional<std::string> load_state(std::string_view) override { return {}; }
        std::vector<std::string> commit_decision(const store::DecisionCommit&) override { return {}; }
        std::string reserve_tipoff_code(std::int64_t) override { return {}; }
        std::vector<std::string> idle_dialog_users(std::int64_t, std::size_t) override { return {}; }
        std::vector<store::OutboxItem> due_outbox(std::int64_t, std::size_t) override { return {}; }
        void mark_sending(std::int64_t) override {}
        void mark_sent(std::int64_t, std::string_view) override {}
        void mark_retry(std::int64_t, std::int64_t, std::string_view) override {}
        void mark_failed(std::int64_t, store::OutboxState, std::string_view) override {}
        std::size_t recover_sending() override { return 0; }
        std::vector<store::OutboxItem> outbox_for_inbox(std::int64_t) override { return {}; }
        std::size_t outbox_depth() override { return 0; }
        std::size_t inbox_depth() override { return 0; }
        void mark_unreachable(Platform, std::string_view, std::string_view) override {}
        std::vector<std::string> subscribers(Platform, std::string_view) override { return {}; }
        std::optional<store::TokenPair> load_token(std::string_view) override { return {}; }
        void save_token(std::string_view, const store::TokenPair&) override {}
        std::optional<store::TipoffRow> tipoff_by_code(std::string_view) override { return {}; }
        std::vector<store::TipoffRow> list_tipoffs(const store::TipoffFilter&) override { return {}; }
        void change_tipoff_status(std::string_view, const store::StatusChange&) override {}
        void record_forward_attempt(std::string_view, std::string_view, std::string_view, bool, std::string_view,
                                    std::int64_t) override {}
        bool writable() override { return true; }
    } minimal;
    EXPECT_THROW(minimal.due_evidence(0, 1), store::StoreError);
    EXPECT_THROW(minimal.evidence_for("x"), store::StoreError);
    // The fetcher logs the store error and carries on.
    EvidenceFetcher fetcher(minimal, client_, options());
    EXPECT_EQ(fetcher.run_due(kT0), 0U);
}

// --- downloads --------------------------------------------------------------------------------------

TEST_F(EvidenceTest, DownloadsAPngAndAJpegWithTheirSha256) {
    const auto png = make_png(3, 2);
    const auto jpeg = make_jpeg();
    server_.respond_with([&](const http::Request& request) {
        if (request.path == "/v/photo.png") return media(200, "image/png", png);
        if (request.path == "/v/photo.jpg") return media(200, "image/jpeg; charset=binary", jpeg);
        return media(404, "text/plain", "no");
    });
    const LogCapture logs;
    auto s = open();
    const auto code = file_tipoff(*s, {{url("/v/photo.png?oh=SECRET-TOKEN&oe=1"), "image"}, {url("/v/photo.jpg"), "image"}});
    EvidenceFetcher fetcher(*s, client_, options());
    EXPECT_EQ(fetcher.run_due(kT0), 2U);
    EXPECT_EQ(fetcher.run_due(kT0 + 100'000), 0U);  // nothing left

    const auto rows = s->evidence_for(code);
    ASSERT_EQ(rows.size(), 2U);
    const std::array<std::string, 2> bodies = {png, jpeg};
    const std::array<std::string, 2> types = {"image/png", "image/jpeg"};
    const std::array<std::string, 2> extensions = {"png", "jpg"};
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& row = rows[i];
        EXPECT_EQ(row.state, EvidenceState::downloaded) << row.last_error;
        EXPECT_EQ(row.attempts, 1);
        EXPECT_EQ(row.sha256, sha256_hex(bodies[i]));
        EXPECT_EQ(row.sha256.size(), 64U);
        EXPECT_EQ(row.bytes, static_cast<std::int64_t>(bodies[i].size()));
        EXPECT_EQ(row.content_type, types[i]);
        EXPECT_TRUE(row.last_error.empty());
        EXPECT_EQ(row.updated_ms, kT0);
        const fs::path expected =
            evidence_dir() / code / (std::to_string(i) + "-" + row.sha256.substr(0, 16) + "." + extensions[i]);
        EXPECT_EQ(row.path, expected.string());
        EXPECT_EQ(read_file(expected), bodies[i]);
        struct stat st {};
        ASSERT_EQ(::stat(expected.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777U, 0600U);
        ASSERT_EQ(::stat((evidence_dir() / code).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777U, 0700U);
    }
    // Only the two files: no temporary file left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(evidence_dir() / code), fs::directory_iterator()), 2);
    // The token went to the server, but not to the logs.
    ASSERT_EQ(server_.request_count(), 2U);
    EXPECT_EQ(server_.requests()[0].query_param("oh"), "SECRET-TOKEN");
    EXPECT_EQ(server_.requests()[0].method, "GET");
    const auto logged = logs.text();
    EXPECT_NE(logged.find("/v/photo.png"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("SECRET-TOKEN"), std::string::npos) << logged;
}

TEST_F(EvidenceTest, Sha256IsTheStandardOne) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(EvidenceTest, OversizedIsFailedAtOnce) {
    auto o = options();
    const auto exact = make_png(2, 2, 500);
    o.max_bytes = exact.size();
    const auto big = make_png(2, 2, 501);  // one byte over
    const auto huge = make_png(2, 2, 40'000);
    server_.respond_with([&](const http::Request& request) {
        if (request.path == "/exact.png") return media(200, "image/png", exact);
        if (request.path == "/big.png") return media(200, "image/png", big);
        return media(200, "image/png", huge);
    });
    auto s = open();
    const auto code = file_tipoff(*s, {{url("/exact.png"), "image"}, {url("/big.png"), "image"}, {url("/huge.png"), "image"}});
    EvidenceFetcher fetcher(*s, client_, o);
    EXPECT_EQ(fetcher.run_due(kT0), 3U);
    const auto rows = s->evidence_for(code);
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].state, EvidenceState::downloaded) << rows[0].last_error;
    EXPECT_EQ(rows[0].bytes, static_cast<std::int64_t>(exact.size()));
    for (std::size_t i = 1; i < 3; ++i) {
        EXPECT_EQ(rows[i].state, EvidenceState::failed);
        EXPECT_EQ(rows[i].attempts, 1);
        EXPECT_NE(rows[i].last_error.find("too big"), std::string::npos) << rows[i].last_error;
        EXPECT_TRUE(rows[i].path.empty());
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(evidence_dir() / code), fs::directory_iterator()), 1);
    EXPECT_EQ(fetcher.run_due(kT0 + 3'600'000), 0U);  // never retried
}

TEST_F(EvidenceTest, WrongTypeIsFailedAtOnce) {
    server_.respond_with([&](const http::Request& request) {
        if (request.path == "/login") return media(200, "text/html; charset=utf-8", "<html>đăng nhập</html>");
        if (request.path == "/liar.png") return media(200, "image/png", "<html>not a picture</html>");
        if (request.path == "/jpeg-as-png") return media(200, "image/png", make_jpeg());
        if (request.path == "/blob-html") return media(200, "application/octet-stream", "<html></html>");
        if (request.path == "/blob-png") return media(200, "application/octet-stream", make_png(1, 1));
        if (request.path == "/clip") return media(200, "video/mp4", make_mp4());
        return media(200, "", make_png(1, 1));  // no Content-Type
    });
    auto s = open();
    const auto code = file_tipoff(*s, {{url("/login"), "image"},
                                       {url("/liar.png"), "image"},
                                       {url("/jpeg-as-png"), "image"},
                                       {url("/blob-html"), "file"},
                                       {url("/blob-png"), "file"},
                                       {url("/clip"), "video"},
                                       {url("/untyped"), "image"}});
    EvidenceFetcher fetcher(*s, client_, options());
    EXPECT_EQ(fetcher.run_due(kT0), 7U);
    const auto rows = s->evidence_for(code);
    ASSERT_EQ(rows.size(), 7U);
    EXPECT_EQ(rows[0].state, EvidenceState::failed);
    EXPECT_EQ(rows[0].last_error, "content type text/html is not allowed");
    EXPECT_EQ(rows[1].state, EvidenceState::failed);
    EXPECT_EQ(rows[1].last_error, "content type image/png but the bytes are of no known media format");
    EXPECT_EQ(rows[2].state, EvidenceState::failed);
    EXPECT_EQ(rows[2].last_error, "content type image/png but the bytes are image/jpeg");
    EXPECT_EQ(rows[3].state, EvidenceState::failed);
    EXPECT_NE(rows[3].last_error.find("application/octet-stream"), std::string::npos);
    // octet-stream is taken for what the bytes prove, and stored as such.
    EXPECT_EQ(rows[4].state, EvidenceState::downloaded) << rows[4].last_error;
    EXPECT_EQ(rows[4].content_type, "image/png");
    EXPECT_TRUE(rows[4].path.ends_with(".png"));
    EXPECT_EQ(rows[5].state, EvidenceState::downloaded) << rows[5].last_error;
    EXPECT_EQ(rows[5].content_type, "video/mp4");
    EXPECT_TRUE(rows[5].path.ends_with(".mp4"));
    EXPECT_EQ(rows[6].state, EvidenceState::failed);
    EXPECT_EQ(rows[6].last_error, "no Content-Type");
    for (const auto& row : rows) EXPECT_EQ(row.attempts, 1);
}

TEST_F(EvidenceTest, ServerErrorThenSuccessIsDownloadedOnRetry) {
    const auto png = make_png(4, 4);
    server_.enqueue(500, "oops");
    server_.enqueue(429, "slow down");
    server_.respond_with([&](const http::Request&) { return media(200, "image/png", png); });
    auto s = open();
    const auto code = file_tipoff(*s, {{url("/p.png"), "image"}});
    auto o = options();
    o.max_attempts = 5;
    EvidenceFetcher fetcher(*s, client_, o);

    EXPECT_EQ(fetcher.run_due(kT0), 1U);
    auto row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.state, EvidenceState::pending);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_EQ(row.last_error, "HTTP 500");
    EXPECT_EQ(row.next_attempt_ms, kT0 + 1000);  // base delay, no jitter

    EXPECT_EQ(fetcher.run_due(kT0 + 999), 0U);  // not due yet
    EXPECT_EQ(fetcher.run_due(kT0 + 1000), 1U);
    row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.state, EvidenceState::pending);
    EXPECT_EQ(row.attempts, 2);
    EXPECT_EQ(row.last_error, "HTTP 429");
    EXPECT_EQ(row.next_attempt_ms, kT0 + 1000 + 2000);  // doubled

    EXPECT_EQ(fetcher.run_due(kT0 + 3000), 1U);
    row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.state, EvidenceState::downloaded);
    EXPECT_EQ(row.attempts, 3);
    EXPECT_TRUE(row.last_error.empty());
    EXPECT_EQ(row.sha256, sha256_hex(png));
    EXPECT_EQ(read_file(row.path), png);
    EXPECT_EQ(server_.request_count(), 3U);
}

TEST_F(EvidenceTest, UnreachableServerIsRetriedThenFailed) {
    std::uint16_t port = 0;
    {
        test::FakeHttpServer gone;
        port = gone.port();
        gone.stop();
    }
    const LogCapture logs;
    auto s = open();
    const auto dead = "http://127.0.0.1:" + std::to_string(port) + "/media/v.mp4?access_token=SECRET-TOKEN";
    const auto code = file_tipoff(*s, {{dead, "video"}});
    EvidenceFetcher fetcher(*s, client_, options());  // 3 attempts

    EXPECT_EQ(fetcher.run_due(kT0), 1U);
    auto row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.state, EvidenceState::pending);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_TRUE(row.last_error.starts_with("transport: ")) << row.last_error;
    EXPECT_EQ(row.next_attempt_ms, kT0 + 1000);

    EXPECT_EQ(fetcher.run_due(kT0 + 1000), 1U);
    row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.attempts, 2);
    EXPECT_EQ(row.next_attempt_ms, kT0 + 3000);

    EXPECT_EQ(fetcher.run_due(kT0 + 3000), 1U);
    row = s->evidence_for(code).at(0);
    EXPECT_EQ(row.state, EvidenceState::failed);
    EXPECT_EQ(row.attempts, 3);
    EXPECT_NE(row.last_error.find("gave up after 3 attempts"), std::string::npos) << row.last_error;
    EXPECT_EQ(row.last_error.find("SECRET-TOKEN"), std::string::npos) << row.last_error;
    EXPECT_EQ(fetcher.run_due(kT0 + 3'600'000), 0U);
    EXPECT_FALSE(fs::exists(evidence_dir() / code));

    const auto logged = logs.text();
    EXPECT_NE(logged.find("/media/v.mp4"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("SECRET-TOKEN"), std::string::npos) << logged;
}

TEST_F(EvidenceTest, ClientErrorIsFailedAtOnce) {
    server_.enqueue(404, "gone");
    const auto row = fetch_one("/expired.jpg", options());
    EXPECT_EQ(row.state, EvidenceState::failed);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_EQ(row.last_error, "HTTP 404");
}

TEST_F(EvidenceTest, RedirectsAreFollowed) {
    const auto jpeg = make_jpeg();
    server_.respond_with([&](const http::Request& request) {
        if (request.path == "/lookaside") {
            auto reply = media(302, "text/plain", "");
            reply.response.headers.emplace_back("Location", "/cdn/real.jpg?sig=abc");
            return reply;
        }
        return media(200, "image/jpeg", jpeg);
    });
    const auto row = fetch_one("/lookaside", options());
    EXPECT_EQ(row.state, EvidenceState::downloaded) << row.last_error;
    EXPECT_EQ(row.sha256, sha256_hex(jpeg));
    ASSERT_EQ(server_.request_count(), 2U);
    EXPECT_EQ(server_.requests()[1].path, "/cdn/real.jpg");
}

TEST_F(EvidenceTest, PlainHttpIsRefusedUnlessAllowed) {
    auto o = options();
    o.allow_plain_http = false;
    const auto row = fetch_one("/p.png", o);
    EXPECT_EQ(row.state, EvidenceState::failed);
    EXPECT_TRUE(row.last_error.starts_with("unsupported URL scheme")) << row.last_error;
    EXPECT_EQ(server_.request_count(), 0U);
}

TEST_F(EvidenceTest, RowsSurviveARestart) {
    const auto png = make_png(2, 3);
    server_.enqueue(503, "maintenance");
    server_.respond_with([&](const http::Request&) { return media(200, "image/png", png); });
    std::string code;
    {
        auto s = open();
        code = file_tipoff(*s, {{url("/a.png"), "image"}});
        EvidenceFetcher fetcher(*s, client_, options());
        EXPECT_EQ(fetcher.run_due(kT0), 1U);  // 503: retry later
    }
    {
        auto s = open();  // the process restarted
        auto row = s->evidence_for(code).at(0);
        EXPECT_EQ(row.state, EvidenceState::pending);
        EXPECT_EQ(row.attempts, 1);
        EXPECT_EQ(row.last_error, "HTTP 503");
        EvidenceFetcher fetcher(*s, client_, options());
        EXPECT_EQ(fetcher.run_due(kT0 + 500), 0U);
        EXPECT_EQ(fetcher.run_due(kT0 + 1000), 1U);
    }
    auto s = open();
    const auto rows = s->evidence_for(code);
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].state, EvidenceState::downloaded);
    EXPECT_EQ(rows[0].attempts, 2);
    EXPECT_EQ(rows[0].sha256, sha256_hex(png));
    EXPECT_EQ(read_file(rows[0].path), png);
    EXPECT_TRUE(s->due_evidence(kT0 + 3'600'000, 10).empty());
}

TEST_F(EvidenceTest, OneRunFetchesAtMostMaxPerRun) {
    server_.respond_with([](const http::Request&) { return media(200, "image/jpeg", make_jpeg()); });
    auto s = open();
    const auto code = file_tipoff(*s, {{url("/1"), "image"}, {url("/2"), "image"}, {url("/3"), "image"}});
    auto o = options();
    o.max_per_run = 2;
    EvidenceFetcher fetcher(*s, client_, o);
    EXPECT_EQ(fetcher.run_due(kT0), 2U);
    EXPECT_EQ(fetcher.run_due(kT0), 1U);
    for (const auto& row : s->evidence_for(code)) EXPECT_EQ(row.state, EvidenceState::downloaded);
    fetcher.request_stop();
    EXPECT_EQ(fetcher.run_due(kT0), 0U);
}

// --- pieces -----------------------------------------------------------------------------------------

TEST(EvidencePieces, SniffsCommonFormats) {
    EXPECT_EQ(sniff_media(make_png(1, 1)).content_type, "image/png");
    EXPECT_EQ(sniff_media(make_jpeg()).extension, "jpg");
    EXPECT_EQ(sniff_media("GIF89a....").content_type, "image/gif");
    EXPECT_EQ(sniff_media(std::string("RIFF\0\0\0\0WEBPVP8 ", 16)).content_type, "image/webp");
    EXPECT_EQ(sniff_media(make_mp4()).content_type, "video/mp4");
    EXPECT_EQ(sniff_media(be32(24) + "ftypheic" + be32(0)).content_type, "image/heic");
    EXPECT_EQ(sniff_media(be32(24) + "ftypqt  " + be32(0)).extension, "mov");
    EXPECT_EQ(sniff_media(be32(24) + "ftyp3gp4" + be32(0)).content_type, "video/3gpp");
    EXPECT_EQ(sniff_media("ID3\x04").content_type, "audio/mpeg");
    EXPECT_EQ(sniff_media("#!AMR\n").content_type, "audio/amr");
    EXPECT_EQ(sniff_media("OggS").content_type, "audio/ogg");
    EXPECT_EQ(sniff_media("<html>").content_type, "");
    EXPECT_EQ(sniff_media("").content_type, "");
}

TEST(EvidencePieces, VerifiesTypeAgainstBytes) {
    const auto allowed = default_evidence_content_types();
    std::string why;
    EXPECT_TRUE(verify_media("IMAGE/PNG", make_png(1, 1), allowed, why));
    EXPECT_TRUE(verify_media("audio/mpeg", "ID3\x04\x00", allowed, why));
    EXPECT_EQ(verify_media("image/jpg", make_jpeg(), allowed, why).value_or(SniffedType{}).content_type, "image/jpeg");  // alias
    const auto voice = verify_media("audio/mp4", be32(24) + "ftypM4A " + be32(0), allowed, why);
    ASSERT_TRUE(voice);
    EXPECT_EQ(voice->content_type, "audio/mp4");
    EXPECT_EQ(voice->extension, "m4a");
    EXPECT_FALSE(verify_media("audio/mpeg", make_png(1, 1), allowed, why));
    EXPECT_FALSE(verify_media("application/octet-stream", "GIF89a....", allowed, why));  // only jpeg/png/mp4
    EXPECT_FALSE(verify_media("application/pdf", "%PDF-1.7", allowed, why));
    EXPECT_EQ(why, "content type application/pdf is not allowed");
    EXPECT_FALSE(verify_media("image/png", make_png(1, 1), {"image/jpeg"}, why));
    EXPECT_FALSE(verify_media("application/pdf", "%PDF-1.7", {"application/pdf"}, why));
    EXPECT_EQ(why, "content type application/pdf has no signature check");
}

TEST(EvidencePieces, UrlForLogDropsSecrets) {
    EXPECT_EQ(url_for_log("https://scontent.xx.fbcdn.net/v/t1/abc.jpg?_nc_cat=1&oh=00_TOKEN&oe=66"),
              "https://scontent.xx.fbcdn.net/v/t1/abc.jpg");
    EXPECT_EQ(url_for_log("https://user:pw@host.example/x#frag"), "https://host.example/x");
    EXPECT_EQ(url_for_log("https://host.example"), "https://host.example");
}

TEST(EvidencePieces, BackoffDoublesUpToTheCap) {
    EvidenceOptions o;
    o.base_delay = std::chrono::seconds(30);
    o.max_delay = std::chrono::minutes(2);
    o.jitter = 0.5;
    EXPECT_EQ(evidence_backoff_ms(o, 1, 1.0), 30'000);
    EXPECT_EQ(evidence_backoff_ms(o, 1, 0.0), 15'000);
    EXPECT_EQ(evidence_backoff_ms(o, 2, 1.0), 60'000);
    EXPECT_EQ(evidence_backoff_ms(o, 3, 1.0), 120'000);
    EXPECT_EQ(evidence_backoff_ms(o, 9, 1.0), 120'000);
}

}  // namespace
}  // namespace pgibot::tipoffs
