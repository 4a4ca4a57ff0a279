#include "bot/channels/common.hpp"

#include <gtest/gtest.h>

#include "bot/channels/channel.hpp"

namespace pgibot::channels {
namespace {

TEST(ChannelsCommon, SendOutcomeNames) {
    EXPECT_EQ(to_string(SendOutcome::sent), "sent");
    EXPECT_EQ(to_string(SendOutcome::retry), "retry");
    EXPECT_EQ(to_string(SendOutcome::unreachable), "unreachable");
    EXPECT_EQ(to_string(SendOutcome::auth), "auth");
    EXPECT_EQ(to_string(SendOutcome::failed), "failed");
}

TEST(ChannelsCommon, Utf8LengthCountsCharacters) {
    EXPECT_EQ(utf8_length(""), 0U);
    EXPECT_EQ(utf8_length("abc"), 3U);
    EXPECT_EQ(utf8_length("Lạng Sơn"), 8U);
    EXPECT_EQ(utf8_length("😀"), 1U);
    EXPECT_EQ(utf8_length("\xff\xfe"), 2U);  // invalid bytes count one each
}

TEST(ChannelsCommon, TruncateKeepsValidUtf8AndCombiningMarks) {
    EXPECT_EQ(utf8_truncate("Thông tin ô nhiễm không khí", 20), "Thông tin ô nhiễm kh");
    EXPECT_EQ(utf8_truncate("abc", 5), "abc");
    EXPECT_EQ(utf8_truncate("ờờờ", 2), "ờờ");
    // Decomposed: "e" + U+0301: the cut does not leave the mark behind.
    EXPECT_EQ(utf8_truncate("ae\xcc\x81z", 2), "a");
    EXPECT_EQ(utf8_truncate("abc", 0), "");
}

TEST(ChannelsCommon, SplitAtSentenceThenWord) {
    EXPECT_EQ(split_text("  short  ", 20), std::vector<std::string>{"short"});
    EXPECT_TRUE(split_text("   ", 20).empty());
    // Sentence boundary inside the window, in its second half.
    const auto a = split_text("Câu một dài dài. Câu hai cũng dài.", 20);
    ASSERT_EQ(a.size(), 2U);
    EXPECT_EQ(a[0], "Câu một dài dài.");
    EXPECT_EQ(a[1], "Câu hai cũng dài.");
    // No sentence end: the last space.
    const auto b = split_text("một hai ba bốn năm sáu bảy tám", 12);
    for (const auto& p : b) EXPECT_LE(utf8_length(p), 12U);
    EXPECT_EQ(b[0], "một hai ba");
    // No space at all: a hard cut at a character boundary.
    const auto c = split_text("ờờờờờờờờờờ", 4);
    ASSERT_EQ(c.size(), 3U);
    EXPECT_EQ(c[0], "ờờờờ");
    EXPECT_EQ(c[2], "ờờ");
    // A line break is a boundary.
    const auto d = split_text("Dòng một\nDòng hai dài hơn", 15);
    EXPECT_EQ(d[0], "Dòng một");
}

TEST(ChannelsCommon, SplitExactlyAtLimit) {
    std::string s;
    for (int i = 0; i < 2000; ++i) s += "ệ";
    EXPECT_EQ(split_text(s, 2000).size(), 1U);
    EXPECT_EQ(split_text(s + "ệ", 2000).size(), 2U);
}

TEST(ChannelsCommon, PercentEncodeAndRedact) {
    EXPECT_EQ(percent_encode("a+b/c=d&e f~"), "a%2Bb%2Fc%3Dd%26e%20f~");
    EXPECT_EQ(redact("token EAA+x/y in EAA%2Bx%2Fy", {"EAA+x/y"}), "token *** in ***");
    EXPECT_EQ(redact("nothing", {""}), "nothing");
}

TEST(ChannelsCommon, JsonAccessorsNeverThrow) {
    const auto doc = Json::parse(R"({"s":"x","n":8381381219617247797,"neg":-5,"f":1.5,"d":"12","b":true,"o":{}})");
    EXPECT_EQ(id_of(member(doc, "n")), "8381381219617247797");
    EXPECT_EQ(id_of(member(doc, "neg")), "-5");
    EXPECT_EQ(id_of(member(doc, "f")), "");
    EXPECT_EQ(id_of(member(doc, "missing")), "");
    EXPECT_EQ(string_of(member(doc, "n")), "");
    EXPECT_EQ(int64_of(member(doc, "d")), 12);
    EXPECT_FALSE(int64_of(member(doc, "s")).has_value());
    EXPECT_TRUE(is_true(member(doc, "b")));
    EXPECT_EQ(member(member(doc, "s"), "x"), nullptr);
    EXPECT_EQ(double_of(member(doc, "d")), 12.0);
    EXPECT_EQ(dump_json(Json("\xff")), "\"\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace pgibot::channels
