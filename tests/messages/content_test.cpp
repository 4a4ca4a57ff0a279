// The content loader: a valid fixture loads; every deliberate error in tests/fixtures/content-bad is
// reported with its file and line; the real messages/content has no problems.
#include "messages/content.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "messages/matcher.hpp"
#include "messages/normalize.hpp"
#include "messages/places.hpp"
#include "messages/template_keys.hpp"

namespace pgibot::messages {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(PGIBOT_SOURCE_DIR) / "tests" / "fixtures";

std::string describe(const std::vector<Problem>& problems) {
    std::string out;
    for (const auto& p : problems) out += p.file + ":" + std::to_string(p.line) + ": " + p.message + "\n";
    return out;
}

// A copy of a fixture dir with every template key the handlers require added, so the fixtures stay
// valid while the dialogs add keys to messages/keys/.
class FixtureCopy {
public:
    explicit FixtureCopy(const std::string& name) {
        std::random_device rd;
        dir_ = fs::temp_directory_path() / ("pgibot-content-" + std::to_string(rd()));
        fs::copy(kFixtures / name, dir_, fs::copy_options::recursive);
        std::ofstream out(dir_ / "templates" / "zz-required.toml");
        out << "[templates]\n";
        for (const auto key : required_template_keys()) out << '"' << key << "\" = \"x\"\n";
    }
    ~FixtureCopy() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    FixtureCopy(const FixtureCopy&) = delete;
    FixtureCopy& operator=(const FixtureCopy&) = delete;
    [[nodiscard]] const fs::path& dir() const { return dir_; }

private:
    fs::path dir_;
};

TEST(Content, LoadsValidFixture) {
    const FixtureCopy fixture("content-good");
    const auto result = load_content(fixture.dir());
    ASSERT_TRUE(result.problems.empty()) << describe(result.problems);
    ASSERT_NE(result.content, nullptr);
    const Catalogue& c = *result.content->catalogue;
    EXPECT_EQ(c.topics.size(), 4U);
    EXPECT_EQ(c.categories.size(), 2U);
    EXPECT_EQ(c.main_menu.size(), 3U);
    const Topic* fees = c.find_topic("waste.fees");
    ASSERT_NE(fees, nullptr);
    EXPECT_EQ(fees->answer.size(), 2U);
    EXPECT_EQ(fees->checked, "2025-06-30");  // bare TOML date accepted
    EXPECT_TRUE(fees->file.ends_with("waste.toml"));
    EXPECT_EQ(fees->line, 19);
    EXPECT_EQ(c.find_topic("nope"), nullptr);
    ASSERT_NE(c.find_category("culture"), nullptr);
    EXPECT_EQ(c.find_category("culture")->topic_ids.at(1), "culture.bags");
    EXPECT_EQ(c.text("test.greeting"), "Xin chào! Tôi là trợ lý tự động.");
    EXPECT_EQ(c.text("no.such.key"), "[no.such.key]");
    ASSERT_NE(result.content->places, nullptr);
    EXPECT_EQ(result.content->places->units().size(), 2U);
    ASSERT_NE(result.content->normalizer, nullptr);
    EXPECT_EQ(result.content->normalizer->normalize("ko dc"), "không được");
    ASSERT_NE(result.content->matcher, nullptr);
    const auto m = result.content->matcher->match("phân loại rác thế nào vậy");
    ASSERT_FALSE(m.top.empty());
    EXPECT_EQ(m.top.front().topic->id, "waste.sorting");
    EXPECT_TRUE(check_content(fixture.dir()).empty());
}

struct Expected {
    const char* file;  // suffix of Problem::file
    int line;
    const char* text;  // part of the message
};

TEST(Content, ReportsEveryErrorWithFileAndLine) {
    const auto result = load_content(kFixtures / "content-bad");
    EXPECT_EQ(result.content, nullptr);
    const Expected expected[] = {
        {"menu.toml", 4, "characters (max 20)"},
        {"menu.toml", 5, "unknown topic 'waste.ghost'"},
        {"menu.toml", 6, "unknown field 'colour'"},
        {"menu.toml", 10, "unknown category 'nope'"},
        {"menu.toml", 14, "unknown payload 'CALL:ME'"},
        {"topics/a.toml", 4, "not in Unicode NFC"},
        {"topics/a.toml", 5, "has 28 characters (max 20)"},
        {"topics/a.toml", 6, "3 example questions (min 5)"},
        {"topics/a.toml", 7, "5 bubbles"},
        {"topics/a.toml", 8, "unknown topic 'waste.missing'"},
        {"topics/a.toml", 10, "not a valid YYYY-MM-DD date"},
        {"topics/a.toml", 11, "unknown field 'tags'"},
        {"topics/a.toml", 13, "missing required field 'source'"},
        {"topics/a.toml", 14, "duplicate topic id 'waste.one'"},
        {"topics/a.toml", 15, "unknown category 'nowhere'"},
        {"topics/a.toml", 19, "answer bubble has 2100 characters (max 2000)"},
        {"topics/b.toml", 4, "TOML syntax error"},
        {"templates/b.toml", 3, "template key 'conv.hello' already defined at"},
        {"abbreviations.toml", 3, "must be one word"},
        {"places.toml", 4, "kind 'thôn'"},
        {"places.toml", 7, "duplicate unit code '1'"},
    };
    for (const auto& e : expected) {
        const bool found = std::any_of(result.problems.begin(), result.problems.end(), [&](const Problem& p) {
            return p.file.ends_with(e.file) && p.line == e.line && p.message.find(e.text) != std::string::npos;
        });
        EXPECT_TRUE(found) << "expected " << e.file << ":" << e.line << ": " << e.text << "\ngot:\n"
                           << describe(result.problems);
    }
    // Nothing else is reported, apart from template keys the dialogs require.
    for (const auto& p : result.problems) {
        const bool explained = std::any_of(std::begin(expected), std::end(expected), [&](const Expected& e) {
            return p.file.ends_with(e.file) && p.line == e.line;
        });
        EXPECT_TRUE(explained || p.message.starts_with("missing template key"))
            << "unexpected: " << p.file << ":" << p.line << ": " << p.message;
    }
}

TEST(Content, MissingDirectoryIsAProblemNotAThrow) {
    std::vector<Problem> problems;
    EXPECT_NO_THROW(problems = check_content(kFixtures / "no-such-dir"));
    EXPECT_FALSE(problems.empty());
    EXPECT_TRUE(std::any_of(problems.begin(), problems.end(),
                            [](const Problem& p) { return p.file.ends_with("menu.toml"); }));
}

TEST(Content, TitleLimitCountsCharactersNotBytes) {
    // "Phản ánh ô nhiễm" is 16 characters but 24 bytes: the fixture's menu uses it and loads cleanly.
    EXPECT_GT(std::string("Phản ánh ô nhiễm").size(), 20U);
    EXPECT_EQ(count_chars("Phản ánh ô nhiễm"), 16U);
}

TEST(Content, RealContentHasNoProblems) {
    const auto result = load_content(fs::path(PGIBOT_SOURCE_DIR) / "messages" / "content");
    EXPECT_TRUE(result.problems.empty()) << describe(result.problems);
    ASSERT_NE(result.content, nullptr);
    EXPECT_FALSE(result.content->catalogue->topics.empty());
}

}  // namespace
}  // namespace pgibot::messages
