// The Boost.JSON reading of inbound webhooks (bot/channels/json_read.hpp) against what the
// nlohmann-based accessors of common.hpp gave for the same text: ids, integers, doubles, what is
// refused, duplicate keys, and the nlohmann dump the change fallback keys hash.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/null_resource.hpp>

#include "bot/channels/common.hpp"
#include "bot/channels/facebook/webhook.hpp"
#include "bot/channels/json_read.hpp"
#include "fakes.hpp"

namespace pgibot::channels {
namespace {

namespace in = inbound;

// `text` as the only element of an array, read by both libraries.
struct Both {
    explicit Both(const std::string& text)
        : old_doc(Json::parse("[" + text + "]", nullptr, false)), doc("[" + text + "]") {}
    const Json* old_value() const { return old_doc.is_discarded() ? nullptr : &old_doc.at(0); }
    const in::JsonValue* new_value() const { return in::element(&doc.root(), 0); }
    Json old_doc;
    in::Document doc;
};

std::string bits(std::optional<double> d) {
    if (!d) return "none";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr) + "/" + std::to_string(std::bit_cast<std::uint64_t>(*d));
}

TEST(InboundJson, NumericIdsAndNumbersAsBefore) {
    const std::vector<std::string> table = {
        "0", "-0", "1", "-5", "42", "369239263222822", "9007199254740992", "9007199254740993" /* 2^53+1 */,
        "9223372036854775807" /* 2^63-1 */, "9223372036854775808", "18446744073709551615" /* 2^64-1 */,
        "18446744073709551616", "99999999999999999999999", "-9223372036854775807", "-9223372036854775808",
        "-9223372036854775809", "-18446744073709551615", "1e20", "1E2", "1.5", "-1.5", "0.0", "-0.0", "1.0",
        "21.853708", "106.76151900000001", "0.1", "1e-400", "-1e-400", "4e-320", "1.7976931348623157e308",
        "123456789012345678901234567890", "\"8381381219617247797\"", "\"-12\"", "\"+12\"", "\" 12\"", "\"1.5\"",
        "\" +2.5 \"", "\"\"", "\"abc\"", "true", "false", "null", "{}", "[]", R"({"id":1})"};
    for (const auto& text : table) {
        const Both b(text);
        ASSERT_NE(b.old_value(), nullptr) << text;
        ASSERT_TRUE(b.doc.ok()) << text << ": " << b.doc.error();
        const Json* o = b.old_value();
        const in::JsonValue* n = b.new_value();
        EXPECT_EQ(in::id_of(n), id_of(o)) << text;
        EXPECT_EQ(in::int64_of(n), int64_of(o)) << text;
        EXPECT_EQ(bits(in::double_of(n)), bits(double_of(o))) << text;
        EXPECT_EQ(in::string_of(n), string_of(o)) << text;
        EXPECT_EQ(in::is_true(n), is_true(o)) << text;
    }
    // The values that matter, spelled out.
    const auto id = [](const std::string& text) { return in::id_of(Both(text).new_value()); };
    EXPECT_EQ(id("9007199254740993"), "9007199254740993");
    EXPECT_EQ(id("9223372036854775807"), "9223372036854775807");
    EXPECT_EQ(id("18446744073709551615"), "18446744073709551615");
    EXPECT_EQ(id("18446744073709551616"), "");  // beyond uint64: a double, as in nlohmann
    EXPECT_EQ(id("-5"), "-5");
    EXPECT_EQ(id("-0"), "0");
    EXPECT_EQ(id("1e20"), "");
    EXPECT_EQ(id("1.5"), "");
    EXPECT_EQ(in::int64_of(Both("9223372036854775808").new_value()), std::nullopt);
    EXPECT_EQ(in::id_of(nullptr), "");
    EXPECT_EQ(in::int64_of(nullptr), std::nullopt);
    EXPECT_EQ(in::double_of(nullptr), std::nullopt);
    EXPECT_FALSE(in::is_true(nullptr));
    EXPECT_EQ(in::member(nullptr, "a"), nullptr);
    EXPECT_EQ(in::element(nullptr, 0), nullptr);
}

TEST(InboundJson, DoublesAreCorrectlyRoundedAsNlohmannsStrtod) {
    // Boost.JSON 1.81's own conversion is one ulp off for about one 17-digit number in eight.
    std::mt19937_64 rng(20261129);
    std::uniform_real_distribution<double> coordinate(-180.0, 180.0);
    std::uniform_int_distribution<int> exponent(-300, 300);
    int checked = 0;
    for (int i = 0; i < 20000; ++i) {
        double d = coordinate(rng);
        if (i % 4 == 3) d = std::ldexp(d, exponent(rng));
        char buf[64];
        const auto r = i % 2 == 0 ? std::to_chars(buf, buf + sizeof buf, d)  // shortest round trip
                                  : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific, 16);
        const std::string text(buf, r.ptr);
        const Both b(text);
        ASSERT_TRUE(b.doc.ok()) << text;
        ASSERT_EQ(bits(in::double_of(b.new_value())), bits(double_of(b.old_value()))) << text;
        ++checked;
    }
    EXPECT_EQ(checked, 20000);
}

TEST(InboundJson, RefusesWhatNlohmannRefused) {
    const std::vector<std::pair<std::string, bool>> bodies = {
        {R"({"a":"ok"})", true},
        {"{\"a\":\"L\xe1\xba\xa1ng S\xc6\xa1n\"}", true},  // valid UTF-8
        {"{\"a\":\"\xff\"}", false},                        // invalid byte
        {"{\"a\":\"\xc3\"}", false},                        // truncated sequence
        {"{\"a\":\"\xc0\xaf\"}", false},                    // overlong
        {"{\"a\":\"\xe0\x80\x80\"}", false},                // overlong, 3 bytes
        {"{\"a\":\"\xed\xa0\x80\"}", false},                // a surrogate in UTF-8
        {"{\"a\":\"\xf4\x90\x80\x80\"}", false},            // beyond U+10FFFF
        {"{\"\xff\":1}", false},                            // invalid UTF-8 in a key
        {R"({"a":"\ud800"})", false},                       // unpaired surrogate escapes
        {R"({"a":"\udc00"})", false},
        {R"({"a":"\ud800\u0041"})", false},
        {R"({"a":"\ud83d\ude00"})", true},
        {R"({"a":"x\u0000y"})", true},
        {"{\"a\":\"\t\"}", false},  // raw control character
        {R"({"a":1,})", false},     // trailing comma
        {R"({"a":1}/**/)", false},  // comment
        {R"({"a":1} x)", false},    // extra data
        {R"({"a":1}{})", false},
        {"{\"a\":1}\n", true},
        {" \t\r\n{}", true},
        {"\xef\xbb\xbf{\"a\":1}", true},  // a byte order mark: nlohmann skipped it
        {"", false},
        {"   ", false},
        {"{", false},
        {R"({"a":01})", false},
        {R"({"a":1.})", false},
        {R"({"a":.5})", false},
        {R"({"a":+1})", false},
        {R"({"a":NaN})", false},
        {R"({"a":1e400})", false},  // overflows a double: nlohmann refused it ("number overflow")
        {R"({"a":-1e400})", false},
        {R"({"a":1.7976931348623159e308})", false},
        {R"({"a":1e-400})", true},  // underflows to 0: accepted by both
        {R"({"a":'x'})", false},
        {R"({a:1})", false},
        {"null", true},
        {"12", true},
    };
    for (const auto& [body, accepted] : bodies) {
        const bool old_ok = !Json::parse(body, nullptr, false).is_discarded();
        const in::Document doc(body);
        EXPECT_EQ(old_ok, accepted) << body;
        EXPECT_EQ(doc.ok(), accepted) << body << ": " << doc.error();
        if (!doc.ok()) {
            EXPECT_FALSE(doc.error().empty());
            EXPECT_TRUE(doc.root().is_null());
        }
    }
    // Through the Facebook parser: malformed, with the reason.
    const auto r = facebook::parse_webhook("{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"x\":\"\xff\"}]}", "1");
    EXPECT_EQ(r.status, IngestStatus::malformed);
    EXPECT_NE(r.detail.find("body is not JSON"), std::string::npos) << r.detail;
}

std::string nested(std::size_t depth) {
    // depth levels of arrays/objects in all: {"object":"page","entry":[[[...]]]}
    std::string body = R"({"object":"page","entry":)";
    for (std::size_t i = 1; i < depth; ++i) body += "[";
    for (std::size_t i = 1; i < depth; ++i) body += "]";
    return body + "}";
}

TEST(InboundJson, NestingDeeperThanTheLimitIsMalformed) {
    EXPECT_EQ(in::kMaxDepth, 32U);
    EXPECT_TRUE(in::Document(nested(32)).ok());
    EXPECT_EQ(facebook::parse_webhook(nested(32), "1").status, IngestStatus::ok);
    const in::Document deep(nested(33));
    EXPECT_FALSE(deep.ok());
    EXPECT_EQ(deep.error(), "too deep");
    const auto r = facebook::parse_webhook(nested(33), "1");
    EXPECT_EQ(r.status, IngestStatus::malformed);
    EXPECT_NE(r.detail.find("too deep"), std::string::npos) << r.detail;
    EXPECT_EQ(facebook::parse_webhook(nested(100000), "1").status, IngestStatus::malformed);  // no recursion
}

TEST(InboundJson, DuplicateKeysLastWinsAsBefore) {
    const std::string body = R"({"id":"first","n":1,"o":{"k":1},"id":"last","n":2,"o":{"k":2}})";
    const Json old_doc = Json::parse(body, nullptr, false);
    const in::Document doc(body);
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(in::string_of(in::member(doc.root(), "id")), "last");
    EXPECT_EQ(in::string_of(in::member(doc.root(), "id")), string_of(member(old_doc, "id")));
    EXPECT_EQ(in::int64_of(in::member(doc.root(), "n")), int64_of(member(old_doc, "n")));
    EXPECT_EQ(in::int64_of(in::member(in::member(doc.root(), "o"), "k")), 2);
    EXPECT_EQ(doc.root().get_object().size(), 3U);
    EXPECT_EQ(in::nlohmann_dump(doc.root()), dump_json(old_doc));
}

TEST(InboundJson, NlohmannDumpAsBefore) {
    const std::vector<std::string> values = {
        R"({"z":1,"a":{"y":[3,2,1],"b":"c"},"m":null})",
        R"({"message":"Th\u00f4ng b\u00e1o \"x\" \\ \/ \b\f\n\r\t \u0001 \ud83d\ude00","item":"status"})",
        R"({"n":[0,-0,-0.0,1.5,1e20,1E2,0.1,106.76151900000001,9007199254740993,18446744073709551615,
               18446744073709551616,-9223372036854775808,-9223372036854775809,1e-400,4e-320]})",
        R"({"b":true,"f":false,"e":{},"a":[],"s":""})",
        R"({"\u00e9":1,"e":2,"E":3,"_":4,"\u0000":5})",
        R"([{"b":1,"a":2}])",
        R"("just a string")",
        "12",
    };
    for (const auto& text : values) {
        const Json old_doc = Json::parse(text, nullptr, false);
        ASSERT_FALSE(old_doc.is_discarded()) << text;
        const in::Document doc(text);
        ASSERT_TRUE(doc.ok()) << text;
        EXPECT_EQ(in::nlohmann_dump(doc.root()), dump_json(old_doc)) << text;
    }
}

// The dedup keys of feed changes without a post_id and of non-feed changes hash the value's dump:
// computed here the old way, from nlohmann's parse of the same body.
TEST(InboundJson, ChangeFallbackKeysUnchanged) {
    const std::string value =
        R"({"verb":"add","item":"photo","from":{"name":"Tr\u1ea7n","id":"7301"},"created_time":1767225900,)"
        R"("photos":["https://x.test/1.jpg"],"lat":26.845309478975054,"z":{"b":1,"a":[1,2]}})";
    const std::string body = R"({"object":"page","entry":[{"id":"104857600123456","time":1767225900,"changes":[)"
                             R"({"field":"feed","value":)" + value + R"(},)"
                             R"({"field":"mention","value":)" + value + R"(}]}]})";
    const std::string digest = sha256_hex({dump_json(Json::parse(value))}).substr(0, 32);
    EXPECT_EQ(digest, sha256_hex({in::nlohmann_dump(in::Document(value).root())}).substr(0, 32));

    const auto r = facebook::parse_webhook(body, "1");
    ASSERT_EQ(r.status, IngestStatus::ok) << r.detail;
    ASSERT_EQ(r.events.size(), 2U);
    EXPECT_EQ(r.events[0].dedup_key, "fb:104857600123456:feed:photo:add:" + digest + ":1767225900000");
    EXPECT_EQ(r.events[1].dedup_key, "fb:104857600123456:change:mention:" + digest);
}

TEST(InboundJson, UsualWebhooksParseWithoutTheHeap) {
    for (const auto* name : {"facebook/read.json", "facebook/message_text_vi.json", "facebook/message_media.json",
                             "facebook/batch.json", "zalo/user_send_text.json", "zalo/user_submit_info.json"}) {
        const std::string body = test::read_fixture(name);
        ASSERT_FALSE(body.empty()) << name;
        alignas(std::max_align_t) unsigned char buffer[4096];
        // Any allocation beyond the buffer would go to the null resource, which throws.
        boost::json::monotonic_resource resource(buffer, sizeof buffer, boost::json::get_null_resource());
        boost::system::error_code ec;
        EXPECT_NO_THROW({
            const auto v = in::parse(body, &resource, ec);
            EXPECT_FALSE(ec) << name << ": " << ec.message();
            EXPECT_TRUE(v.is_object()) << name;
        }) << name;
    }
}

}  // namespace
}  // namespace pgibot::channels
