// The `pgibot` command line as scripts use it: exit codes, error messages naming key and line, and
// the `ask` output contract (one JSON object per reply).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/bot_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using pgibot::testing::BotProcess;
using pgibot::test::TempDir;
using nlohmann::json;

std::string base_config(const TempDir& dir) {
    return "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nbackend = \"sqlite\"\n[storage.sqlite]\npath = \"" +
           (dir.path() / "bot.db").string() + "\"\n[content]\ndir = \"" + std::string(PGIBOT_SOURCE_DIR) +
           "/messages/content\"\n[tipoffs]\nkey_file = \"" + (dir.path() / "data.key").string() +
           "\"\ncreate_key_file = true\n";
}

std::vector<json> json_lines(const std::string& out) {
    std::vector<json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() != '{') continue;
        lines.push_back(json::parse(line, nullptr, false));
    }
    return lines;
}

TEST(Cli, UnknownFlagIsAUsageError) {
    auto [code, out] = BotProcess::run({"serve", "--confgi", "x.toml"});
    EXPECT_EQ(code, 2) << out;
    auto [code2, out2] = BotProcess::run({"frobnicate"});
    EXPECT_EQ(code2, 2) << out2;
    auto [code3, out3] = BotProcess::run({"ask", "--config", "/nonexistent.toml", "--user", "a", "hi"});
    EXPECT_EQ(code3, 2) << out3;
}

TEST(Cli, DefaultConfigIsValid) {
    auto [code, out] = BotProcess::run({"config", "check", "--config", std::string(PGIBOT_SOURCE_DIR) + "/config/pgibot.toml"});
    EXPECT_EQ(code, 0) << out;
    auto [pcode, pout] = BotProcess::run(
        {"config", "check", "--config", std::string(PGIBOT_SOURCE_DIR) + "/config/production.example.toml"});
    EXPECT_EQ(pcode, 0) << pout;
}

TEST(Cli, ConfigErrorsNameKeyAndLine) {
    TempDir dir;
    const auto path = dir.write_file("bad.toml", base_config(dir) + "[log]\nlevel = \"loud\"\nfromat = \"json\"\n");
    auto [code, out] = BotProcess::run({"config", "check", "--config", path.string()});
    EXPECT_EQ(code, 2);
    EXPECT_NE(out.find("bad.toml:14: log.fromat: unknown key"), std::string::npos) << out;
    EXPECT_NE(out.find("bad.toml:13: log.level"), std::string::npos) << out;
    // serve refuses to start on the same file.
    auto [scode, sout] = BotProcess::run({"serve", "--config", path.string()});
    EXPECT_EQ(scode, 2) << sout;
    std::string listen_text = base_config(dir);
    listen_text.replace(listen_text.find("127.0.0.1:0"), 11, "nowhere");
    const auto listen = dir.write_file("listen.toml", listen_text);
    auto [lcode, lout] = BotProcess::run({"config", "check", "--config", listen.string()});
    EXPECT_EQ(lcode, 2) << lout;
    EXPECT_NE(lout.find("server.listen"), std::string::npos) << lout;
}

// `config check` refuses `key = bad` in [pipeline], naming the key, and accepts `key = good`.
void expect_pipeline_range(const std::string& key, const std::string& bad, const std::string& good) {
    TempDir dir;
    const auto path = dir.write_file("bad.toml", base_config(dir) + "[pipeline]\n" + key + " = " + bad + "\n");
    auto [code, out] = BotProcess::run({"config", "check", "--config", path.string()});
    EXPECT_EQ(code, 2) << key << " = " << bad << ": " << out;
    EXPECT_NE(out.find("pipeline." + key), std::string::npos) << out;
    const auto ok = dir.write_file("ok.toml", base_config(dir) + "[pipeline]\n" + key + " = " + good + "\n");
    auto [ocode, oout] = BotProcess::run({"config", "check", "--config", ok.string()});
    EXPECT_EQ(ocode, 0) << key << " = " << good << ": " << oout;
}

TEST(Cli, BackgroundNiceOutOfRangeIsRefused) { expect_pipeline_range("background_nice", "25", "0"); }

TEST(Cli, CommitNiceOutOfRangeIsRefused) { expect_pipeline_range("commit_nice", "5", "-20"); }

// [storage] inbox_retention_days: 0 (keep forever) or 8..3650. Below 8 a redelivered webhook could
// outlive its stored event and be answered twice: the error says so, naming the key and line.
TEST(Cli, InboxRetentionDaysMustOutliveTheDedupWindow) {
    TempDir dir;
    const auto with_days = [&dir](const std::string& name, const std::string& value) {
        std::string text = base_config(dir);
        const std::string backend = "backend = \"sqlite\"\n";
        text.insert(text.find(backend) + backend.size(), "inbox_retention_days = " + value + "\n");  // line 5
        return dir.write_file(name, text).string();
    };
    for (const std::string bad : {"7", "1", "-1", "3651", "\"30\"", "30.5"}) {
        auto [code, out] = BotProcess::run({"config", "check", "--config", with_days("bad.toml", bad)});
        EXPECT_EQ(code, 2) << bad << ": " << out;
        EXPECT_NE(out.find("bad.toml:5: storage.inbox_retention_days: must be"), std::string::npos) << bad << ": " << out;
    }
    auto [code, out] = BotProcess::run({"config", "check", "--config", with_days("seven.toml", "7")});
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("must be 0 (keep forever) or between 8 and 3650"), std::string::npos) << out;
    EXPECT_NE(out.find("dedup window"), std::string::npos) << out;
    EXPECT_NE(out.find("answered twice"), std::string::npos) << out;
    for (const std::string good : {"0", "8", "30", "3650"}) {
        auto [gcode, gout] = BotProcess::run({"config", "check", "--config", with_days("good.toml", good)});
        EXPECT_EQ(gcode, 0) << good << ": " << gout;
    }
}

TEST(Cli, EnabledPlatformWithoutSecretsRefusesToStart) {
    TempDir dir;
    const auto path =
        dir.write_file("fb.toml", base_config(dir) + "[facebook]\nenabled = true\npage_id = \"1\"\napp_id = \"2\"\n");
    auto [code, out] = BotProcess::run({"serve", "--config", path.string()});
    EXPECT_EQ(code, 2);
    EXPECT_NE(out.find("PGIBOT_FACEBOOK_APP_SECRET"), std::string::npos) << out;
}

TEST(Cli, AskPrintsOneJsonObjectPerReplyAndKeepsState) {
    TempDir dir;
    const auto path = dir.write_file("cfg.toml", base_config(dir)).string();
    auto [code, out] = BotProcess::run({"ask", "--config", path, "--user", "lan", "--postback", "GET_STARTED"});
    ASSERT_EQ(code, 0) << out;
    auto lines = json_lines(out);
    ASSERT_FALSE(lines.empty()) << out;
    for (const auto& l : lines) {
        ASSERT_FALSE(l.is_discarded()) << out;
        EXPECT_TRUE(l.contains("text") && l["text"].is_string());
        EXPECT_TRUE(l.contains("quick_replies") && l["quick_replies"].is_array());
        EXPECT_TRUE(l.contains("topic"));
        for (const auto& q : l["quick_replies"]) {
            EXPECT_TRUE(q["title"].is_string());
            EXPECT_TRUE(q["payload"].is_string());
        }
    }
    // A question, typed without diacritics, is answered with a topic.
    auto [code2, out2] = BotProcess::run({"ask", "--config", path, "--user", "lan", "phan loai rac sinh hoat nhu the nao"});
    ASSERT_EQ(code2, 0) << out2;
    bool topic = false;
    for (const auto& l : json_lines(out2)) topic = topic || (l.contains("topic") && l["topic"].is_string());
    EXPECT_TRUE(topic) << out2;
    auto [code3, out3] = BotProcess::run({"ask", "--config", path, "--user", "lan", "--location", "not-a-place"});
    EXPECT_EQ(code3, 2) << out3;
}

}  // namespace
