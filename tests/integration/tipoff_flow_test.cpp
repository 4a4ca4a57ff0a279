// End-to-end tests of the pollution tip-off feature against the real `pgibot` binary.
//
// Through `pgibot ask` (one process per message, so every step also proves that the draft survives a
// restart) and through signed Facebook and Zalo webhooks to `pgibot serve`. The dialog is driven by the
// quick-reply payloads the bot offers (never by its Vietnamese wording); what was filed is read back
// with `pgibot tipoffs list|show --format json`, and the raw database files are searched for the
// reporter's identity.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "bot/http/client.hpp"
#include "tests/integration/bot_process.hpp"
#include "tests/integration/platform_fakes.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using pgibot::testing::BotProcess;
using pgibot::test::FakeHttpServer;
using pgibot::test::TempDir;
using namespace pgibot::testing::platform;

// Units of messages/content/places.toml.
constexpr const char* kVanLang = "06154";   // Xã Văn Lãng
constexpr const char* kDongKinh = "05977";  // Phường Đông Kinh
constexpr const char* kTamThanh = "05986";  // Phường Tam Thanh

// ---------------------------------------------------------------------------------------------------------------
// Config, commands, output

std::string config_text(const TempDir& dir, const std::string& extra = "") {
    return "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nbackend = \"sqlite\"\n[storage.sqlite]\npath = \"" +
           (dir.path() / "bot.db").string() + "\"\n[content]\ndir = \"" + std::string(PGIBOT_SOURCE_DIR) +
           "/messages/content\"\n[chat]\nenabled = false\n[tipoffs]\nkey_file = \"" +
           (dir.path() / "data.key").string() + "\"\ncreate_key_file = true\nevidence_dir = \"" +
           (dir.path() / "evidence").string() + "\"\n" + extra;
}

std::string write_config(const TempDir& dir, const std::string& extra = "") {
    return dir.write_file("pgibot.toml", config_text(dir, extra)).string();
}

// "YYYY-MM-DD" in Vietnam (UTC+7) now.
std::string vietnam_today() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + 7 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

// The JSON document in a command's output (stdout and stderr are merged: skip notes before it).
json json_document(const std::string& out) {
    std::istringstream in(out);
    std::string line;
    std::string doc;
    bool started = false;
    while (std::getline(in, line)) {
        if (!started && (line == "[" || line == "{" || line == "[]" || line.starts_with("[{") ||
                         line.starts_with("{\""))) {
            started = true;
        }
        if (started) doc += line + "\n";
    }
    return json::parse(doc, nullptr, false);
}

json tipoffs_list(const std::string& config) {
    auto [code, out] = BotProcess::run({"tipoffs", "list", "--config", config, "--format", "json"});
    EXPECT_EQ(code, 0) << out;
    json doc = json_document(out);
    EXPECT_TRUE(doc.is_array()) << out;
    return doc.is_array() ? doc : json::array();
}

json tipoffs_show(const std::string& config, const std::string& code, bool reveal = false) {
    std::vector<std::string> args{"tipoffs", "show", code, "--config", config, "--format", "json"};
    if (reveal) args.emplace_back("--reveal");
    auto [rc, out] = BotProcess::run(args);
    EXPECT_EQ(rc, 0) << out;
    json doc = json_document(out);
    EXPECT_TRUE(doc.is_object()) << out;
    return doc.is_object() ? doc : json::object();
}

const json* find_listed(const json& list, const std::string& code) {
    for (const auto& item : list) {
        if (item.value("code", std::string()) == code) return &item;
    }
    return nullptr;
}

std::optional<std::string> find_code(const std::string& text) {
    static const std::regex code(R"(LS-\d{4}-\d{4})");
    std::smatch m;
    if (!std::regex_search(text, m, code)) return std::nullopt;
    return m.str();
}

// The replies to one message: what `pgibot ask` printed, or the bodies of the Send API calls.
struct Replies {
    std::vector<std::string> texts;
    std::vector<std::string> payloads;  // every quick-reply / button payload offered, in order
    std::string raw;

    [[nodiscard]] bool offers(const std::string& payload) const {
        return std::find(payloads.begin(), payloads.end(), payload) != payloads.end();
    }
    [[nodiscard]] bool offers_prefix(const std::string& prefix) const {
        return std::any_of(payloads.begin(), payloads.end(), [&](const auto& p) { return p.starts_with(prefix); });
    }
    [[nodiscard]] std::string text() const {
        std::string all;
        for (const auto& t : texts) all += t + "\n";
        return all;
    }
    [[nodiscard]] std::optional<std::string> code() const { return find_code(text()); }
};

// `pgibot ask` output: one JSON object per reply.
Replies parse_ask(const std::string& out) {
    Replies r;
    r.raw = out;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() != '{') continue;
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded()) {
            ADD_FAILURE() << "not JSON: " << line;
            continue;
        }
        r.texts.push_back(j.value("text", std::string()));
        for (const auto& q : j.value("quick_replies", json::array())) r.payloads.push_back(q.value("payload", ""));
    }
    return r;
}

// One citizen talking to the bot through `pgibot ask`, a new process per message.
class AskUser {
public:
    AskUser(std::string config, std::string user) : config_(std::move(config)), user_(std::move(user)) {}

    Replies send(const std::vector<std::string>& extra) {
        std::vector<std::string> args{"ask", "--config", config_, "--user", user_};
        args.insert(args.end(), extra.begin(), extra.end());
        auto [code, out] = BotProcess::run(args);
        EXPECT_EQ(code, 0) << out;
        last_ = parse_ask(out);
        EXPECT_FALSE(last_.texts.empty()) << "no reply to " << (extra.empty() ? "" : extra.back()) << ": " << out;
        return last_;
    }
    Replies say(const std::string& text) { return send({text}); }
    Replies postback(const std::string& payload) { return send({"--postback", payload}); }
    // Taps a button: it must be one the last reply offered.
    Replies tap(const std::string& payload) {
        EXPECT_TRUE(last_.offers(payload)) << payload << " not offered; last reply:\n" << last_.raw;
        return postback(payload);
    }
    [[nodiscard]] const Replies& last() const { return last_; }

private:
    std::string config_;
    std::string user_;
    Replies last_;
};

// start -> kind -> description -> place (choosing among the offered units if asked) -> time "sáng nay".
// Ends at the suspect question.
void answer_up_to_suspect(AskUser& u, const std::string& kind, const std::string& description,
                          const std::string& place, const std::string& unit_code) {
    auto r = u.postback("TIPOFF:START");
    ASSERT_TRUE(r.offers("TIPOFF:KIND:" + kind)) << r.raw;
    r = u.tap("TIPOFF:KIND:" + kind);
    ASSERT_FALSE(r.offers_prefix("TIPOFF:KIND:")) << r.raw;
    ASSERT_TRUE(r.offers("TIPOFF:CANCEL")) << r.raw;
    r = u.say(description);
    ASSERT_FALSE(r.offers_prefix("TIPOFF:TIME:")) << "place not asked: " << r.raw;
    r = u.say(place);
    if (r.offers_prefix("TIPOFF:PLACE:")) r = u.tap(std::string("TIPOFF:PLACE:") + unit_code);
    ASSERT_TRUE(r.offers("TIPOFF:TIME:today")) << "time not asked after the place: " << r.raw;
    r = u.say("sáng nay");
    ASSERT_TRUE(r.offers("TIPOFF:SKIP")) << r.raw;  // the suspect question
}

// ... then skips the suspect and the evidence: ends at the contact question.
void answer_up_to_contact(AskUser& u, const std::string& kind, const std::string& description,
                          const std::string& place, const std::string& unit_code) {
    answer_up_to_suspect(u, kind, description, place, unit_code);
    if (::testing::Test::HasFatalFailure()) return;
    u.tap("TIPOFF:SKIP");                  // suspect
    auto r = u.tap("TIPOFF:SKIP");         // evidence: "no photos"
    ASSERT_TRUE(r.offers("TIPOFF:ANON")) << r.raw;
    ASSERT_TRUE(r.offers("TIPOFF:CONTACT")) << r.raw;
}

// Anonymous, confirmed: returns the code printed in the confirmation.
std::string finish_anonymously(AskUser& u) {
    auto r = u.tap("TIPOFF:ANON");
    EXPECT_TRUE(r.offers("TIPOFF:CONFIRM")) << "no summary: " << r.raw;
    EXPECT_FALSE(r.code()) << "filed before confirming: " << r.raw;
    r = u.tap("TIPOFF:CONFIRM");
    auto code = r.code();
    EXPECT_TRUE(code) << "no code in the confirmation: " << r.raw;
    return code.value_or("");
}

std::string read_file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------------------------------------------------------
// Through `pgibot ask`

TEST(TipoffAsk, TextOnlyReportIsFiledAndListed) {
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser u(config, "citizen-1");
    const std::string day_before = vietnam_today();
    answer_up_to_contact(u, "wastewater", "Nước thải màu đen chảy ra suối, bốc mùi hôi", "thon Na Sam xa Van Lang",
                         kVanLang);
    ASSERT_FALSE(HasFatalFailure());
    const std::string code = finish_anonymously(u);
    ASSERT_FALSE(code.empty());
    const std::string day_after = vietnam_today();

    const json list = tipoffs_list(config);
    ASSERT_EQ(list.size(), 1u) << list.dump(2);
    const json* item = find_listed(list, code);
    ASSERT_NE(item, nullptr) << list.dump(2);
    EXPECT_EQ(item->value("status", ""), "received");

    const json shown = tipoffs_show(config, code);
    EXPECT_EQ(shown.value("code", ""), code);
    EXPECT_EQ(shown.value("kind", ""), "wastewater");
    EXPECT_EQ(shown.value("/commune/code"_json_pointer, std::string()), kVanLang);
    const std::string date = shown.value("/occurred/date"_json_pointer, std::string());
    EXPECT_TRUE(date == day_before || date == day_after) << shown.dump(2);
    EXPECT_EQ(shown.value("anonymous", false), true);
    EXPECT_TRUE(shown.value("evidence", json::array()).empty());
    EXPECT_EQ(shown.value("status", ""), "received");
}

TEST(TipoffAsk, CurrentUnitNameTypedWithoutDiacriticsIsRecognised) {
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser u(config, "citizen-1b");
    auto r = u.postback("TIPOFF:START");
    r = u.tap("TIPOFF:KIND:noise");
    r = u.say("Quán karaoke hát to đến 2 giờ sáng");
    r = u.say("phuong Dong Kinh");
    // One unit, no choice to make: straight to the time question.
    EXPECT_FALSE(r.offers_prefix("TIPOFF:PLACE:")) << r.raw;
    ASSERT_TRUE(r.offers("TIPOFF:TIME:now")) << r.raw;
    r = u.tap("TIPOFF:TIME:now");
    u.tap("TIPOFF:SKIP");
    u.tap("TIPOFF:SKIP");
    const std::string code = finish_anonymously(u);
    ASSERT_FALSE(code.empty());
    const json shown = tipoffs_show(config, code);
    EXPECT_EQ(shown.value("kind", ""), "noise");
    EXPECT_EQ(shown.value("/commune/code"_json_pointer, std::string()), kDongKinh);
    EXPECT_EQ(shown.value("/occurred/date"_json_pointer, std::string()).size(), 10u) << shown.dump(2);
}

TEST(TipoffAsk, PhotosBecomeEvidence) {
    FakeHttpServer photos;
    photos.respond_with([](const pgibot::http::Request&) {
        return pgibot::test::FakeReply{pgibot::http::Response::text(200, std::string("\xFF\xD8\xFF\xE0jpeg", 8), "image/jpeg"),
                                       {}};
    });
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser u(config, "citizen-2");
    answer_up_to_suspect(u, "solid_waste", "Có người đổ trộm rác xây dựng ven đường", "phuong Dong Kinh", kDongKinh);
    ASSERT_FALSE(HasFatalFailure());
    auto r = u.tap("TIPOFF:SKIP");  // suspect: now the evidence question
    ASSERT_TRUE(r.offers("TIPOFF:SKIP")) << r.raw;
    const std::string a = photos.base_url() + "/a.jpg";
    const std::string b = photos.base_url() + "/b.jpg";
    r = u.send({"--image", a});
    EXPECT_TRUE(r.offers("TIPOFF:DONE")) << "more photos not invited: " << r.raw;
    r = u.send({"--image", b});
    ASSERT_TRUE(r.offers("TIPOFF:DONE")) << r.raw;
    r = u.tap("TIPOFF:DONE");
    ASSERT_TRUE(r.offers("TIPOFF:ANON")) << r.raw;
    const std::string code = finish_anonymously(u);
    ASSERT_FALSE(code.empty());

    const json evidence = tipoffs_show(config, code).value("evidence", json::array());
    ASSERT_EQ(evidence.size(), 2u) << evidence.dump(2);
    EXPECT_EQ(evidence[0].value("url", ""), a);
    EXPECT_EQ(evidence[1].value("url", ""), b);
    EXPECT_EQ(evidence[0].value("media_type", ""), "image");
    // And the list agrees.
    const json list = tipoffs_list(config);
    const json* item = find_listed(list, code);
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->value("evidence", json::array()).size(), 2u);
}

TEST(TipoffAsk, SharedLocationOutsideTheProvinceIsQuestioned) {
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser u(config, "citizen-3");
    auto r = u.postback("TIPOFF:START");
    r = u.tap("TIPOFF:KIND:emissions");
    r = u.say("Lò gạch thủ công xả khói đen cả ngày");
    ASSERT_TRUE(r.offers("TIPOFF:BACK")) << r.raw;  // the place question

    // Ho Chi Minh City: not kept without asking.
    r = u.send({"--location", "10.8,106.7"});
    EXPECT_TRUE(r.offers("TIPOFF:LOC:yes")) << r.raw;
    EXPECT_TRUE(r.offers("TIPOFF:LOC:no")) << r.raw;
    EXPECT_FALSE(r.offers_prefix("TIPOFF:TIME:")) << r.raw;
    r = u.tap("TIPOFF:LOC:no");
    EXPECT_FALSE(r.offers_prefix("TIPOFF:LOC:")) << r.raw;
    EXPECT_FALSE(r.offers_prefix("TIPOFF:TIME:")) << "the place is still needed: " << r.raw;

    // Inside Lạng Sơn: taken as the place, no question.
    r = u.send({"--location", "21.85,106.76"});
    EXPECT_FALSE(r.offers_prefix("TIPOFF:LOC:")) << r.raw;
    ASSERT_TRUE(r.offers("TIPOFF:TIME:yesterday")) << r.raw;
    r = u.tap("TIPOFF:TIME:yesterday");
    u.tap("TIPOFF:SKIP");
    u.tap("TIPOFF:SKIP");
    const std::string code = finish_anonymously(u);
    ASSERT_FALSE(code.empty());
    const json shown = tipoffs_show(config, code);
    ASSERT_TRUE(shown.contains("coordinates") && shown["coordinates"].is_object()) << shown.dump(2);
    EXPECT_NEAR(shown["coordinates"].value("lat", 0.0), 21.85, 1e-6);
    EXPECT_NEAR(shown["coordinates"].value("lng", 0.0), 106.76, 1e-6);
    EXPECT_FALSE(shown.value("/occurred/date"_json_pointer, std::string()).empty());

    // Keeping an outside location when asked is the reporter's call: it is then filed as given.
    AskUser v(config, "citizen-3b");
    v.postback("TIPOFF:START");
    v.tap("TIPOFF:KIND:odour");
    v.say("Mùi hôi thối từ bãi rác bốc lên");
    r = v.send({"--location", "10.8,106.7"});
    ASSERT_TRUE(r.offers("TIPOFF:LOC:yes")) << r.raw;
    r = v.tap("TIPOFF:LOC:yes");
    EXPECT_TRUE(r.offers_prefix("TIPOFF:TIME:")) << r.raw;
}

constexpr const char* kName = "Lý Thị Mến";
constexpr const char* kPhoneTyped = "0987 654 321";

// Files a report with contact details and consent; returns the code.
std::string file_with_contact(const std::string& config, const std::string& user) {
    AskUser u(config, user);
    answer_up_to_contact(u, "burning", "Đốt rác thải nhựa sau chợ, khói đen mù mịt", "phuong Tam Thanh", kTamThanh);
    if (::testing::Test::HasFatalFailure()) return {};
    auto r = u.tap("TIPOFF:CONTACT");
    EXPECT_TRUE(r.offers("TIPOFF:ANON")) << r.raw;
    EXPECT_FALSE(r.offers("TIPOFF:CONTACT")) << r.raw;
    r = u.say(std::string(kName) + ", " + kPhoneTyped);
    EXPECT_TRUE(r.offers("TIPOFF:CONSENT:yes")) << r.raw;
    EXPECT_TRUE(r.offers("TIPOFF:CONSENT:no")) << r.raw;
    r = u.tap("TIPOFF:CONSENT:yes");
    EXPECT_TRUE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = u.tap("TIPOFF:CONFIRM");
    auto code = r.code();
    EXPECT_TRUE(code) << r.raw;
    return code.value_or("");
}

TEST(TipoffAsk, ContactDetailsAreSealedAndRevealedWithTheKey) {
    TempDir dir;
    const std::string config = write_config(dir);
    const std::string code = file_with_contact(config, "citizen-4");
    ASSERT_FALSE(code.empty());

    const json plain = tipoffs_show(config, code);
    EXPECT_EQ(plain.value("anonymous", true), false);
    EXPECT_EQ(plain.value("consent_share_identity", false), true);
    EXPECT_EQ(plain.value("reporter", json()), json("sealed")) << plain.dump(2);
    EXPECT_EQ(plain.dump().find("987654321"), std::string::npos);

    const json revealed = tipoffs_show(config, code, true);
    ASSERT_TRUE(revealed.contains("reporter") && revealed["reporter"].is_object()) << revealed.dump(2);
    EXPECT_EQ(revealed["reporter"].value("name", ""), kName) << revealed.dump(2);
    std::string digits;
    for (char c : revealed["reporter"].value("phone", std::string())) {
        if (c >= '0' && c <= '9') digits += c;
    }
    EXPECT_EQ(digits, "0987654321") << revealed.dump(2);
    EXPECT_EQ(revealed["reporter"].value("platform_user_id", ""), "citizen-4");
}

TEST(TipoffAsk, RawDatabaseFilesHoldNoReporterIdentity) {
    TempDir dir;
    const std::string config = write_config(dir);
    const std::string code = file_with_contact(config, "citizen-4b");
    ASSERT_FALSE(code.empty());

    const auto db = dir.path() / "bot.db";
    ASSERT_TRUE(std::filesystem::exists(db));
    const std::vector<std::string> secrets{kPhoneTyped,   "0987654321",  "987654321", "+84987654321",
                                           "84987654321", "0987.654.321", "0987-654-321", kName,
                                           "Ly Thi Men",  "Thị Mến"};
    for (const auto& path : {db, std::filesystem::path(db.string() + "-wal"), std::filesystem::path(db.string() + "-shm"),
                             std::filesystem::path(db.string() + "-journal")}) {
        if (!std::filesystem::exists(path)) continue;
        const std::string bytes = read_file_bytes(path);
        for (const auto& secret : secrets) {
            const auto at = bytes.find(secret);
            if (at == std::string::npos) continue;
            const auto from = at > 120 ? at - 120 : 0;
            std::string around = bytes.substr(from, 240);
            for (char& c : around) {
                if (static_cast<unsigned char>(c) < 0x20) c = '.';
            }
            ADD_FAILURE() << "\"" << secret << "\" in plaintext in " << path.filename() << " at byte " << at
                          << ", around: " << around;
        }
    }
}

TEST(TipoffAsk, FieldCorrectedBeforeConfirming) {
    TempDir dir;
    const std::string config = write_config(dir);
    // With the button.
    AskUser u(config, "citizen-5");
    answer_up_to_contact(u, "odour", "Trại lợn xả chất thải, mùi hôi nồng nặc", "phuong Dong Kinh", kDongKinh);
    ASSERT_FALSE(HasFatalFailure());
    auto r = u.tap("TIPOFF:ANON");
    ASSERT_TRUE(r.offers("TIPOFF:EDIT")) << r.raw;
    r = u.tap("TIPOFF:EDIT");
    ASSERT_TRUE(r.offers("TIPOFF:EDIT:place")) << r.raw;
    r = u.tap("TIPOFF:EDIT:place");
    EXPECT_FALSE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = u.say("phuong Tam Thanh");
    ASSERT_TRUE(r.offers("TIPOFF:CONFIRM")) << "back to the summary after the correction: " << r.raw;
    r = u.tap("TIPOFF:CONFIRM");
    const auto code = r.code();
    ASSERT_TRUE(code) << r.raw;
    EXPECT_EQ(tipoffs_show(config, *code).value("/commune/code"_json_pointer, std::string()), kTamThanh);

    // Typed, at the summary.
    AskUser v(config, "citizen-5b");
    answer_up_to_contact(v, "odour", "Trại gà bốc mùi hôi thối cả xóm", "phuong Tam Thanh", kTamThanh);
    ASSERT_FALSE(HasFatalFailure());
    r = v.tap("TIPOFF:ANON");
    ASSERT_TRUE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = v.say("sửa địa điểm");
    EXPECT_FALSE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = v.say("thon Na Sam xa Van Lang");
    if (r.offers_prefix("TIPOFF:PLACE:")) r = v.tap(std::string("TIPOFF:PLACE:") + kVanLang);
    ASSERT_TRUE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = v.tap("TIPOFF:CONFIRM");
    const auto code2 = r.code();
    ASSERT_TRUE(code2) << r.raw;
    EXPECT_NE(*code2, *code);
    EXPECT_EQ(tipoffs_show(config, *code2).value("/commune/code"_json_pointer, std::string()), kVanLang);
    EXPECT_EQ(tipoffs_list(config).size(), 2u);
}

TEST(TipoffAsk, CancelledReportIsNotFiled) {
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser u(config, "citizen-6");
    answer_up_to_contact(u, "hazardous", "Vỏ bao thuốc trừ sâu vứt đầy bờ suối", "phuong Dong Kinh", kDongKinh);
    ASSERT_FALSE(HasFatalFailure());
    auto r = u.tap("TIPOFF:ANON");
    ASSERT_TRUE(r.offers("TIPOFF:CONFIRM")) << r.raw;
    r = u.say("HỦY");
    EXPECT_FALSE(r.offers_prefix("TIPOFF:")) << r.raw;  // the dialog is over
    EXPECT_FALSE(r.code()) << r.raw;
    // A stale "send" button after the cancel files nothing either.
    r = u.postback("TIPOFF:CONFIRM");
    EXPECT_FALSE(r.code()) << r.raw;
    EXPECT_TRUE(tipoffs_list(config).empty());

    // Cancelled early, by the button.
    AskUser v(config, "citizen-6b");
    v.postback("TIPOFF:START");
    v.tap("TIPOFF:KIND:noise");
    r = v.tap("TIPOFF:CANCEL");
    EXPECT_FALSE(r.offers_prefix("TIPOFF:")) << r.raw;
    EXPECT_TRUE(tipoffs_list(config).empty());
}

TEST(TipoffAsk, UnfinishedDraftIsResumedAfterARestart) {
    TempDir dir;
    const std::string config = write_config(dir, "[conversation]\ntipoff_idle_expiry_hours = 1\n");
    AskUser u(config, "citizen-7");
    auto r = u.postback("TIPOFF:START");
    r = u.tap("TIPOFF:KIND:dead_animals");
    r = u.say("Cá chết nổi trắng mặt hồ");
    ASSERT_TRUE(r.offers("TIPOFF:BACK")) << r.raw;  // the place question

    // Meanwhile: another citizen files one, the operator lists them, the first one opens the menu.
    AskUser other(config, "citizen-7b");
    answer_up_to_contact(other, "noise", "Máy xúc chạy ầm ầm ban đêm", "phuong Tam Thanh", kTamThanh);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_FALSE(finish_anonymously(other).empty());
    EXPECT_EQ(tipoffs_list(config).size(), 1u);
    r = u.postback("MENU");
    ASSERT_TRUE(r.offers("TIPOFF:CONTINUE")) << "the draft was lost: " << r.raw;
    r = u.tap("TIPOFF:CONTINUE");
    EXPECT_TRUE(r.offers("TIPOFF:BACK")) << r.raw;
    EXPECT_FALSE(r.offers_prefix("TIPOFF:KIND:")) << "started over: " << r.raw;

    // ... and finished later, where it was left.
    r = u.say("phuong Dong Kinh");
    ASSERT_TRUE(r.offers("TIPOFF:TIME:today")) << r.raw;
    u.tap("TIPOFF:TIME:today");
    u.tap("TIPOFF:SKIP");
    u.tap("TIPOFF:SKIP");
    const std::string code = finish_anonymously(u);
    ASSERT_FALSE(code.empty());
    const json shown = tipoffs_show(config, code);
    EXPECT_EQ(shown.value("kind", ""), "dead_animals");
    EXPECT_EQ(shown.value("/commune/code"_json_pointer, std::string()), kDongKinh);
    EXPECT_EQ(tipoffs_list(config).size(), 2u);
}

TEST(TipoffAsk, LookupAnswersOnlyTheReporter) {
    TempDir dir;
    const std::string config = write_config(dir);
    AskUser reporter(config, "citizen-8");
    answer_up_to_contact(reporter, "wastewater", "Xưởng rửa xe xả nước bẩn ra mương", "phuong Dong Kinh", kDongKinh);
    ASSERT_FALSE(HasFatalFailure());
    const std::string code = finish_anonymously(reporter);
    ASSERT_FALSE(code.empty());
    const std::string received_label = tipoffs_show(config, code).value("status_label", "");
    ASSERT_FALSE(received_label.empty());

    auto r = reporter.say("tra cứu " + code);
    EXPECT_NE(r.text().find(code), std::string::npos) << r.raw;
    EXPECT_NE(r.text().find(received_label), std::string::npos) << "status not told to the reporter: " << r.raw;

    AskUser stranger(config, "citizen-9");
    auto s = stranger.say("tra cứu " + code);
    EXPECT_EQ(s.text().find(received_label), std::string::npos) << "status told to someone else: " << s.raw;

    const std::string note = "Đã chuyển UBND phường kiểm tra thực địa";
    auto [rc, out] = BotProcess::run(
        {"tipoffs", "set-status", "--config", config, code, "in_progress", "--by", "tester", "--note", note});
    ASSERT_EQ(rc, 0) << out;
    const json shown = tipoffs_show(config, code);
    EXPECT_EQ(shown.value("status", ""), "in_progress");
    const std::string progress_label = shown.value("status_label", "");
    ASSERT_FALSE(progress_label.empty());
    ASSERT_NE(progress_label, received_label);

    r = reporter.say("tra cứu " + code);
    EXPECT_NE(r.text().find(progress_label), std::string::npos) << r.raw;
    EXPECT_NE(r.text().find(note), std::string::npos) << r.raw;
    EXPECT_EQ(r.text().find(received_label), std::string::npos) << r.raw;
    s = stranger.say("tra cứu " + code);
    EXPECT_EQ(s.text().find(progress_label), std::string::npos) << s.raw;
    EXPECT_EQ(s.text().find(note), std::string::npos) << s.raw;
    // Typed without diacritics and in lower case, too.
    std::string lower = code;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    r = reporter.say("tra cuu " + lower);
    EXPECT_NE(r.text().find(progress_label), std::string::npos) << r.raw;
}

// ---------------------------------------------------------------------------------------------------------------
// Through signed webhooks to `pgibot serve`


class TipoffWebhooks : public ::testing::Test {
protected:
    void SetUp() override {
        graph_.respond_with(graph_replies(sent_));
        zalo_.respond_with(zalo_replies());
        photos_.respond_with([](const pgibot::http::Request&) {
            return pgibot::test::FakeReply{
                pgibot::http::Response::text(200, std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11), "image/jpeg"), {}};
        });
        config_ = write_config(dir_, R"([log]
level = "info"
[facebook]
enabled = true
page_id = ")" + std::string(kPageId) + R"("
app_id = ")" + kAppId + R"("
graph_api_base = ")" + graph_.base_url() + R"(/v25.0"
subscription_check_minutes = 0
[zalo]
enabled = true
app_id = ")" + kZaloAppId + R"("
api_base = ")" + zalo_.base_url() + R"("
oauth_base = ")" + zalo_.base_url() + R"("
[pipeline]
retry_base_ms = 50
retry_max_ms = 200
max_attempts = 4
)");
    }

    std::map<std::string, std::string> env() const {
        return {{"PGIBOT_FACEBOOK_APP_SECRET", kAppSecret},
                {"PGIBOT_FACEBOOK_PAGE_TOKEN", "test-page-token"},
                {"PGIBOT_FACEBOOK_VERIFY_TOKEN", "test-verify-token"},
                {"PGIBOT_ZALO_OA_SECRET_KEY", kZaloOaSecret},
                {"PGIBOT_ZALO_APP_SECRET", "test-zalo-app-secret"},
                {"PGIBOT_ZALO_ACCESS_TOKEN", "seed-access"},
                {"PGIBOT_ZALO_REFRESH_TOKEN", "seed-refresh"}};
    }

    pgibot::http::ClientResponse post(const std::string& path, const std::string& body,
                                      std::vector<std::pair<std::string, std::string>> headers) {
        pgibot::http::ClientRequest r;
        r.method = "POST";
        r.url = bot_.base_url() + path;
        r.body = body;
        r.headers = std::move(headers);
        r.headers.emplace_back("Content-Type", "application/json");
        return client_.send(r);
    }

    // Collects the replies the fake received from index `from` on: texts and offered payloads.
    static Replies collect(const FakeHttpServer& fake, std::size_t from, bool zalo) {
        Replies r;
        const auto requests = fake.requests();
        for (std::size_t i = from; i < requests.size(); ++i) {
            const auto& req = requests[i];
            if (zalo && req.path != "/v3.0/oa/message/cs") continue;
            const json doc = json::parse(req.body, nullptr, false);
            if (doc.is_discarded() || !doc.contains("message")) continue;
            r.raw += req.body + "\n";
            const json& m = doc["message"];
            r.texts.push_back(m.value("text", std::string()));
            if (zalo) {
                const json buttons = m.value("/attachment/payload/buttons"_json_pointer, json::array());
                for (const auto& b : buttons) {
                    std::string p = b.value("payload", std::string());
                    if (p.starts_with("#")) p.erase(0, 1);  // an oa.query button comes back as text "#<payload>"
                    r.payloads.push_back(p);
                }
            } else {
                for (const auto& q : m.value("quick_replies", json::array())) r.payloads.push_back(q.value("payload", ""));
            }
        }
        return r;
    }

    // Posts one signed Facebook messaging item; returns the replies it caused.
    Replies facebook(const std::string& psid, json message) {
        message["mid"] = "mid." + std::to_string(++mid_);
        const json item = {{"sender", {{"id", psid}}},
                           {"recipient", {{"id", kPageId}}},
                           {"timestamp", now_ms()},
                           {"message", std::move(message)}};
        const json doc = {{"object", "page"},
                          {"entry", json::array({{{"id", kPageId}, {"time", now_ms()}, {"messaging", json::array({item})}}})}};
        const std::size_t before = graph_.request_count();
        const std::string body = doc.dump();
        auto res = post("/webhooks/facebook", body, {{"X-Hub-Signature-256", facebook_signature(body)}});
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_TRUE(graph_.wait_for_requests(before + 1, 15s)) << bot_.output();
        settle(graph_);
        fb_last_ = collect(graph_, before, false);
        EXPECT_FALSE(fb_last_.texts.empty()) << "no reply; bot output:\n" << bot_.output();
        return fb_last_;
    }
    Replies fb_say(const std::string& psid, const std::string& text) { return facebook(psid, {{"text", text}}); }
    // A tapped quick reply: its title as text, its payload alongside.
    Replies fb_tap(const std::string& psid, const std::string& payload) {
        EXPECT_TRUE(fb_last_.offers(payload)) << payload << " not offered; last replies:\n" << fb_last_.raw;
        return facebook(psid, {{"text", "ok"}, {"quick_reply", {{"payload", payload}}}});
    }

    Replies zalo(const std::string& user, const std::string& event_name, json message) {
        message["msg_id"] = "zmsg-" + std::to_string(++mid_);
        const std::string ts = std::to_string(now_ms());
        const json doc = {{"app_id", kZaloAppId},
                          {"user_id_by_app", "55"},
                          {"event_name", event_name},
                          {"timestamp", ts},
                          {"sender", {{"id", user}}},
                          {"recipient", {{"id", kZaloOaId}}},
                          {"message", std::move(message)}};
        const std::size_t before = zalo_.request_count();
        const std::string body = doc.dump();
        auto res = post("/webhooks/zalo", body, {{"X-ZEvent-Signature", zalo_signature(body, ts)}});
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_TRUE(zalo_.wait_for_requests(before + 1, 15s)) << bot_.output();
        settle(zalo_);
        zalo_last_ = collect(zalo_, before, true);
        EXPECT_FALSE(zalo_last_.texts.empty()) << "no reply; bot output:\n" << bot_.output();
        return zalo_last_;
    }
    Replies zalo_say(const std::string& user, const std::string& text) {
        return zalo(user, "user_send_text", {{"text", text}});
    }
    Replies zalo_tap(const std::string& user, const std::string& payload) {
        EXPECT_TRUE(zalo_last_.offers(payload)) << payload << " not offered; last replies:\n" << zalo_last_.raw;
        return zalo_say(user, "#" + payload);
    }

    // Declared before the fakes whose handlers use them.
    std::atomic<int> sent_{0};
    int mid_ = 0;
    TempDir dir_;
    FakeHttpServer graph_;
    FakeHttpServer zalo_;
    FakeHttpServer photos_;
    std::string config_;
    BotProcess bot_;
    pgibot::http::CurlClient client_;
    Replies fb_last_;
    Replies zalo_last_;
};

TEST_F(TipoffWebhooks, ZaloAndFacebookDialogsFileReports) {
    ASSERT_TRUE(bot_.start({"serve", "--config", config_}, env())) << bot_.output();

    // Zalo, with a shared location as the place.
    const std::string zuser = "8000000000000000077";
    auto z = zalo_say(zuser, "báo ô nhiễm");
    ASSERT_TRUE(z.offers("TIPOFF:KIND:wastewater")) << z.raw;
    z = zalo_tap(zuser, "TIPOFF:KIND:wastewater");
    z = zalo_say(zuser, "Nhà máy xả nước thải màu nâu xuống sông Kỳ Cùng");
    ASSERT_TRUE(z.offers("TIPOFF:BACK")) << z.raw;  // where?
    json location = {{"text", ""},
                     {"attachments",
                      json::array({{{"type", "location"},
                                    {"payload", {{"coordinates", {{"latitude", "21.85"}, {"longitude", "106.76"}}}}}}})}};
    z = zalo(zuser, "user_send_location", location);
    ASSERT_TRUE(z.offers("TIPOFF:TIME:now")) << "the location did not answer \"where?\": " << z.raw;
    z = zalo_tap(zuser, "TIPOFF:TIME:now");
    z = zalo_tap(zuser, "TIPOFF:SKIP");  // suspect
    z = zalo_tap(zuser, "TIPOFF:SKIP");  // evidence
    z = zalo_tap(zuser, "TIPOFF:ANON");
    ASSERT_TRUE(z.offers("TIPOFF:CONFIRM")) << z.raw;
    z = zalo_tap(zuser, "TIPOFF:CONFIRM");
    const auto zalo_code = z.code();
    ASSERT_TRUE(zalo_code) << z.raw;

    // Facebook, with a photo.
    const std::string psid = "7000000000000000042";
    auto f = fb_say(psid, "báo ô nhiễm");
    ASSERT_TRUE(f.offers("TIPOFF:KIND:odour")) << f.raw;
    f = fb_tap(psid, "TIPOFF:KIND:odour");
    f = fb_say(psid, "Bãi rác tự phát bốc mùi hôi thối");
    f = fb_say(psid, "phuong Dong Kinh");
    ASSERT_TRUE(f.offers("TIPOFF:TIME:today")) << f.raw;
    f = fb_tap(psid, "TIPOFF:TIME:today");
    f = fb_tap(psid, "TIPOFF:SKIP");  // suspect: now the evidence question
    const std::string photo_url = photos_.base_url() + "/photo.jpg";
    f = facebook(psid, {{"attachments", json::array({{{"type", "image"}, {"payload", {{"url", photo_url}}}}})}});
    ASSERT_TRUE(f.offers("TIPOFF:DONE")) << f.raw;
    f = fb_tap(psid, "TIPOFF:DONE");
    f = fb_tap(psid, "TIPOFF:ANON");
    ASSERT_TRUE(f.offers("TIPOFF:CONFIRM")) << f.raw;
    f = fb_tap(psid, "TIPOFF:CONFIRM");
    const auto fb_code = f.code();
    ASSERT_TRUE(fb_code) << f.raw;
    EXPECT_NE(*fb_code, *zalo_code);

    // Both, on the same config, while the server runs.
    const json list = tipoffs_list(config_);
    EXPECT_EQ(list.size(), 2u) << list.dump(2);
    EXPECT_NE(find_listed(list, *zalo_code), nullptr) << list.dump(2);
    EXPECT_NE(find_listed(list, *fb_code), nullptr) << list.dump(2);

    const json zshown = tipoffs_show(config_, *zalo_code);
    EXPECT_EQ(zshown.value("kind", ""), "wastewater");
    ASSERT_TRUE(zshown.contains("coordinates") && zshown["coordinates"].is_object()) << zshown.dump(2);
    EXPECT_NEAR(zshown["coordinates"].value("lat", 0.0), 21.85, 1e-6);
    EXPECT_NEAR(zshown["coordinates"].value("lng", 0.0), 106.76, 1e-6);

    const json fshown = tipoffs_show(config_, *fb_code);
    EXPECT_EQ(fshown.value("kind", ""), "odour");
    EXPECT_EQ(fshown.value("/commune/code"_json_pointer, std::string()), kDongKinh);
    const json evidence = fshown.value("evidence", json::array());
    ASSERT_EQ(evidence.size(), 1u) << fshown.dump(2);
    EXPECT_EQ(evidence[0].value("url", ""), photo_url);

    // The reporters can look them up on their own platform.
    f = fb_say(psid, "tra cứu " + *fb_code);
    EXPECT_NE(f.text().find(fshown.value("status_label", std::string("?"))), std::string::npos) << f.raw;
}

}  // namespace
