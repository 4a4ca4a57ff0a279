// json::Writer: what it writes must read back (nlohmann) to the same values, for any input bytes.
#include "handlers/model/json_writer.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pgibot::json {
namespace {

nlohmann::json read_back(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << text;
    return j;
}

TEST(JsonWriter, NestedContainersAndScalars) {
    std::string out;
    Writer w(out);
    w.begin_object()
        .member("s", "Lạng Sơn")
        .member("i", std::int64_t{-9007199254740993})
        .member("t", true)
        .member("f", false);
    w.key("a").begin_array().value(std::int64_t{1}).value("x").begin_object().end_object().begin_array().end_array();
    w.end_array();
    w.key("n").null();
    w.end_object();
    EXPECT_EQ(out, R"({"s":"Lạng Sơn","i":-9007199254740993,"t":true,"f":false,"a":[1,"x",{},[]],"n":null})");
    const auto j = read_back(out);
    EXPECT_EQ(j["i"].get<std::int64_t>(), -9007199254740993);  // exact, never through a double
}

TEST(JsonWriter, DoublesReadBackExactlyAndStayDoubles) {
    for (const double d : {0.0, 1.0, -2.5, 21.853708, 106.761519, 1e-7, 123456789.125, 1e300}) {
        std::string out;
        Writer(out).value(d);
        const auto j = read_back(out);
        EXPECT_TRUE(j.is_number_float()) << out;
        EXPECT_EQ(j.get<double>(), d) << out;
    }
    std::string out;
    Writer(out).begin_array().value(std::numeric_limits<double>::infinity()).value(std::nan("")).end_array();
    EXPECT_EQ(out, "[null,null]");
}

TEST(JsonWriter, EscapesEverythingJsonRequires) {
    std::string raw = "quote\" backslash\\ nl\n cr\r tab\t bs\b ff\f nul";
    raw.push_back('\0');
    raw += " unit\x1f end";
    std::string out;
    Writer(out).value(raw);
    EXPECT_EQ(read_back(out).get<std::string>(), raw);
    EXPECT_NE(out.find("\\u0000"), std::string::npos);
    EXPECT_NE(out.find("\\u001f"), std::string::npos);
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
    // A lone continuation byte, a truncated 3-byte sequence, an overlong '/', a UTF-16 surrogate.
    const std::string bad = std::string("a\x80") + "b\xE1\xBA" + "c\xC0\xAF" + "d\xED\xA0\x80" + "e";
    std::string out;
    Writer(out).value(bad);
    const auto back = read_back(out).get<std::string>();
    EXPECT_EQ(back.front(), 'a');
    EXPECT_EQ(back.back(), 'e');
    EXPECT_NE(back.find("\xEF\xBF\xBD"), std::string::npos);
    EXPECT_EQ(back.find('\x80' + std::string("b")), std::string::npos);
    // Valid 4-byte sequences pass through untouched.
    std::string emoji;
    Writer(emoji).value("🌿 xanh");
    EXPECT_EQ(read_back(emoji).get<std::string>(), "🌿 xanh");
}

}  // namespace
}  // namespace pgibot::json
