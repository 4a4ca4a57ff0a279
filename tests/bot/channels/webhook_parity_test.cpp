// The ported webhook parsers (Boost.JSON) against the nlohmann ones they replaced
// (legacy_webhooks.cpp): on every fixture and on many mutations of them (broken bytes, other values,
// keys in another order, duplicate keys), the same status and the same events, field for field.
// Dedup keys made by the old parser are in existing databases: a redelivered webhook must get the
// same key.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bot/channels/common.hpp"
#include "bot/channels/facebook/webhook.hpp"
#include "bot/channels/zalo/webhook.hpp"
#include "fakes.hpp"
#include "legacy_webhooks.hpp"

namespace pgibot::channels {
namespace {

constexpr const char* kFbApp = "880011223344556";
constexpr const char* kZaloApp = "4511223344556677889";
constexpr const char* kZaloSecret = "oa-secret-for-tests";

std::string d(double v) { return std::to_string(std::bit_cast<std::uint64_t>(v)); }
std::string loc(const std::optional<Location>& l) { return l ? d(l->lat) + "," + d(l->lng) : "-"; }

// Every field of an event, doubles bit for bit.
std::string describe(const Event& e) {
    std::ostringstream s;
    s << "platform=" << to_string(e.platform) << "\nkind=" << to_string(e.kind) << "\npage_id=" << e.page_id
      << "\nuser_id=" << e.user_id << "\nmessage_id=" << e.message_id << "\ntimestamp_ms=" << e.timestamp_ms
      << "\ntext=" << e.text << "\npayload=" << e.payload << "\nlocation=" << loc(e.location)
      << "\nstandby=" << e.standby << "\necho_from_human=" << e.echo_from_human << "\necho_app_id=" << e.echo_app_id
      << "\nsource_type=" << e.source_type << "\ndedup_key=" << e.dedup_key;
    for (const auto& a : e.attachments) {
        s << "\nattachment=" << to_string(a.type) << "|" << a.url << "|" << a.title << "|" << a.sticker_id << "|"
          << loc(a.location);
    }
    if (e.comment) {
        const auto& c = *e.comment;
        s << "\ncomment=" << c.comment_id << "|" << c.post_id << "|" << c.parent_id << "|" << c.verb << "|" << c.from_id
          << "|" << c.from_name;
    }
    if (e.submitted) {
        s << "\nsubmitted=" << e.submitted->name << "|" << e.submitted->phone << "|" << e.submitted->address;
    }
    return s.str();
}

// A refused body's detail now names the parse error; everything else says the same as before.
bool same_detail(const IngestResult& legacy, const IngestResult& ported) {
    if (legacy.detail == ported.detail) return true;
    if (legacy.status == IngestStatus::malformed && legacy.detail == "body is not a JSON object") {
        return ported.detail.starts_with("body is not JSON (");
    }
    if (legacy.detail == "body is not JSON: cannot verify X-ZEvent-Signature") {
        return ported.detail.starts_with("body is not JSON (") &&
               ported.detail.ends_with("cannot verify X-ZEvent-Signature");
    }
    return false;
}

// Returns "" when both parsers agree, else what differs.
std::string compare(const IngestResult& legacy, const IngestResult& ported) {
    std::ostringstream out;
    if (legacy.status != ported.status) {
        out << "status " << static_cast<int>(legacy.status) << " vs " << static_cast<int>(ported.status) << " ("
            << legacy.detail << " | " << ported.detail << ")";
        return out.str();
    }
    if (!same_detail(legacy, ported)) out << "detail '" << legacy.detail << "' vs '" << ported.detail << "'\n";
    if (legacy.events.size() != ported.events.size()) {
        out << "events " << legacy.events.size() << " vs " << ported.events.size();
        return out.str();
    }
    for (std::size_t i = 0; i < legacy.events.size(); ++i) {
        const auto a = describe(legacy.events[i]);
        const auto b = describe(ported.events[i]);
        if (a != b) out << "event " << i << ":\n" << a << "\n---\n" << b << "\n";
    }
    return out.str();
}

std::string zalo_signature(const std::string& body) {
    // Signed with the timestamp as the old parser read it: the ported one must read the same.
    const auto doc = Json::parse(body, nullptr, false);
    const std::string ts = doc.is_discarded() ? std::string() : id_of(member(doc, "timestamp"));
    return zalo::compute_signature(kZaloApp, body, ts, kZaloSecret);
}

std::string check(bool zalo_body, const std::string& body) {
    if (zalo_body) {
        const auto header = zalo_signature(body);
        return compare(legacy::zalo::ingest_webhook(body, header, kZaloApp, kZaloSecret),
                       zalo::ingest_webhook(body, header, kZaloApp, kZaloSecret));
    }
    return compare(legacy::facebook::parse_webhook(body, kFbApp), facebook::parse_webhook(body, kFbApp));
}

struct Fixture {
    bool zalo;
    std::string name;
    std::string body;
};

std::vector<Fixture> fixtures() {
    std::vector<Fixture> out;
    for (const auto* platform : {"facebook", "zalo"}) {
        const auto dir = std::filesystem::path(PGIBOT_CHANNELS_FIXTURES_DIR) / platform;
        std::vector<std::filesystem::path> files;
        for (const auto& f : std::filesystem::directory_iterator(dir)) files.push_back(f.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            out.push_back({std::string(platform) == "zalo", f.filename().string(),
                           test::read_fixture(std::string(platform) + "/" + f.filename().string())});
        }
    }
    return out;
}

TEST(WebhookParity, EveryFixture) {
    const auto all = fixtures();
    ASSERT_GE(all.size(), 40U);
    for (const auto& f : all) {
        const auto diff = check(f.zalo, f.body);
        EXPECT_EQ(diff, "") << f.name;
    }
}

// Coordinates as a JavaScript or PHP encoder writes them (shortest round trip, up to 17 digits):
// Boost.JSON 1.81's own conversion gets several of these one ulp off; the events must hold the
// correctly rounded double nlohmann's strtod gave.
TEST(WebhookParity, LongCoordinates) {
    const std::string fixture = test::read_fixture("facebook/location_legacy.json");
    const std::string coordinates = R"("lat":21.853708,"long":106.761519)";
    const auto at = fixture.find(coordinates);
    ASSERT_NE(at, std::string::npos);
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"26.845309478975054", "117.55791208886961"}, {"-173.05190579785327", "-41.779488006534876"},
        {"113.85296917260695", "21.853708000000001"}, {"106.76151900000001", "1e-400"},
        {"2.2250738585072011e-308", "4e-320"},      {"9007199254740993", "-0.0"}};
    for (const auto& [lat, lng] : pairs) {
        std::string body = fixture;
        body.replace(at, coordinates.size(), R"("lat":)" + lat + R"(,"long":)" + lng);
        EXPECT_EQ(check(false, body), "") << lat << ", " << lng;
        const auto r = facebook::parse_webhook(body, kFbApp);
        ASSERT_EQ(r.events.size(), 1U);
        ASSERT_TRUE(r.events[0].location.has_value()) << lat << ", " << lng;
    }
}

// --- mutations -------------------------------------------------------------------------------------

// Values put in place of others: ids and numbers of every width, strings, containers.
const std::vector<std::string> kValues = {
    "0", "-0", "7", "-5", "1767225600123", "9007199254740993", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e20", "1.5", "-0.0", "0.1",
    "21.853708000000001", "106.76151900000001", "26.845309478975054", "-173.05190579785327", "1e-400", "4e-320",
    "\"\"", "\"x\"", "\"1767225600\"", "\"-12\"",
    "\" 3.25 \"", "\"#MENU\"", "\"m_1\"", "\"L\\u1ea1ng S\\u01a1n\"", "\"\\ud83d\\ude00\"", "true", "false", "null",
    "{}", "[]", R"({"id":"9"})", R"(["m_2"])", R"([{"type":"image","payload":{"url":"u"}}])"};

// The body written back with the keys of each object in a random order, sometimes with a key
// repeated (an earlier, different value first), sometimes with a scalar replaced.
void write(const Json& j, std::mt19937_64& rng, std::string& out, bool mutate) {
    std::uniform_int_distribution<int> pct(0, 99);
    if (j.is_object()) {
        std::vector<std::string> keys;
        for (const auto& [k, v] : j.items()) keys.push_back(k);
        std::shuffle(keys.begin(), keys.end(), rng);
        out += '{';
        bool first = true;
        for (const auto& k : keys) {
            if (!first) out += ',';
            first = false;
            if (mutate && pct(rng) < 4) {  // duplicate key: the last one must win, as before
                out += Json(k).dump() + ":" + kValues[static_cast<std::size_t>(rng() % kValues.size())] + ",";
            }
            out += Json(k).dump() + ":";
            write(j.at(k), rng, out, mutate);
        }
        out += '}';
    } else if (j.is_array()) {
        out += '[';
        for (std::size_t i = 0; i < j.size(); ++i) {
            if (i > 0) out += ',';
            write(j.at(i), rng, out, mutate);
        }
        out += ']';
    } else if (mutate && pct(rng) < 6) {
        out += kValues[static_cast<std::size_t>(rng() % kValues.size())];
    } else {
        out += dump_json(j);
    }
}

std::string byte_mutation(std::string body, std::mt19937_64& rng) {
    static const std::string kBytes = "0123456789\"{}[],:\\ e-.+atn\xff\xc3\x80\xed";
    const auto pos = static_cast<std::size_t>(rng() % body.size());
    switch (rng() % 4) {
        case 0: body[pos] = kBytes[static_cast<std::size_t>(rng() % kBytes.size())]; break;
        case 1: body.erase(pos, 1 + rng() % 3); break;
        case 2: body.insert(pos, 1, kBytes[static_cast<std::size_t>(rng() % kBytes.size())]); break;
        default: {
            const auto len = static_cast<std::size_t>(1 + rng() % 12);
            body.insert(static_cast<std::size_t>(rng() % body.size()), body.substr(pos, len));
        }
    }
    return body;
}

TEST(WebhookParity, MutatedFixtures) {
    std::mt19937_64 rng(0x5eed2026);
    int compared = 0;
    int accepted = 0;
    for (const auto& f : fixtures()) {
        const Json doc = Json::parse(f.body, nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << f.name;
        for (int round = 0; round < 150; ++round) {
            std::string body;
            if (round % 3 == 2) {
                body = byte_mutation(f.body, rng);
            } else {
                write(doc, rng, body, round % 3 == 1);
            }
            const auto diff = check(f.zalo, body);
            ASSERT_EQ(diff, "") << f.name << " round " << round << ":\n" << body;
            ++compared;
            const auto r = f.zalo ? zalo::ingest_webhook(body, zalo_signature(body), kZaloApp, kZaloSecret)
                                  : facebook::parse_webhook(body, kFbApp);
            accepted += r.status == IngestStatus::ok ? 1 : 0;
        }
    }
    EXPECT_GT(compared, 6000);
    EXPECT_GT(accepted, compared / 2);  // most mutations still parse: the events were compared
}

}  // namespace
}  // namespace pgibot::channels
