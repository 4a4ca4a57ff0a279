#include "bot/tipoffs/vault.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "tests/bot/tipoffs/test_util.hpp"

namespace pgibot::tipoffs {
namespace {

using testing::sample_report;
using testing::TempDir;

DataKey key_of(unsigned char fill) {
    DataKey k{};
    k.fill(fill);
    return k;
}

tipoff::ReporterIdentity sample_identity() {
    return {"psid-42", "Hoàng Văn Thụ", "+84 912 345 678", "Thôn Nà Chuông, xã Chi Lăng"};
}

TEST(Vault, SealOpenRoundTrip) {
    IdentityVault vault(key_of(7));
    const auto id = sample_identity();
    const auto sealed = vault.seal(id);
    EXPECT_TRUE(sealed.starts_with("PGV1"));
    EXPECT_EQ(sealed.find("Hoàng"), std::string::npos);
    EXPECT_EQ(sealed.find("912"), std::string::npos);
    const auto opened = vault.open(sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->platform_user_id, id.platform_user_id);
    EXPECT_EQ(opened->name, id.name);
    EXPECT_EQ(opened->phone, id.phone);
    EXPECT_EQ(opened->address, id.address);
    // Random nonce: sealing twice gives different bytes.
    EXPECT_NE(vault.seal(id), sealed);
}

TEST(Vault, WrongKeyFails) {
    IdentityVault a(key_of(1));
    IdentityVault b(key_of(2));
    EXPECT_FALSE(b.open(a.seal(sample_identity())));
}

TEST(Vault, TamperedOrTruncatedFails) {
    IdentityVault vault(key_of(3));
    const auto sealed = vault.seal(sample_identity());
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        std::string t = sealed;
        t[i] = static_cast<char>(t[i] ^ 0x01);
        EXPECT_FALSE(vault.open(t)) << "flipped byte " << i;
    }
    EXPECT_FALSE(vault.open(sealed.substr(0, sealed.size() - 1)));
    EXPECT_FALSE(vault.open(""));
    EXPECT_FALSE(vault.open("PGV1"));
    std::string other_version = sealed;
    other_version[3] = '2';
    EXPECT_FALSE(vault.open(other_version));
}

// seal_text/open_text: what citizens wrote, sealed for TEXT columns ("PGT1:" + base64).
TEST(Vault, SealTextRoundTripsEveryLength) {
    IdentityVault vault(key_of(9));
    // Every remainder of the base64 groups (padding 0, 1, 2), the empty text, multi-byte UTF-8.
    std::string text;
    for (int n = 0; n < 80; ++n) {
        const auto sealed = vault.seal_text(text);
        ASSERT_TRUE(sealed.starts_with("PGT1:")) << n;
        EXPECT_EQ((sealed.size() - 5) % 4, 0U) << n;
        const auto opened = vault.open_text(sealed);
        ASSERT_TRUE(opened) << "length " << n;
        EXPECT_EQ(*opened, text);
        text += (n % 3 == 0) ? "ơ" : "x";
    }
    const std::string vi = "Khói đen ở Lạng Sơn, gọi 0912 345 678";
    const auto sealed = vault.seal_text(vi);
    EXPECT_EQ(sealed.find("0912"), std::string::npos);
    EXPECT_EQ(sealed.find("Lạng"), std::string::npos);
    EXPECT_EQ(vault.open_text(sealed).value_or(""), vi);
}

TEST(Vault, SealTextNoncesNeverRepeat) {
    IdentityVault vault(key_of(10));
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(vault.seal_text("same text")).second) << i;
}

TEST(Vault, OpenTextRefusesWrongKeyTamperingAndGarbage) {
    IdentityVault a(key_of(11));
    IdentityVault b(key_of(12));
    const auto sealed = a.seal_text("nước thải đổ ra suối");
    EXPECT_FALSE(b.open_text(sealed));
    // Flip the top bit of each base64 digit's 6-bit value: that bit always reaches the decoded
    // bytes (the low bits of the digit before '=' padding may not), so every change is real.
    static constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 5; i < sealed.size(); ++i) {
        const auto v = kB64.find(sealed[i]);
        if (v == std::string_view::npos) continue;  // '=' padding
        std::string t = sealed;
        t[i] = kB64[v ^ 0x20];
        EXPECT_FALSE(a.open_text(t)) << "changed character " << i;
    }
    EXPECT_FALSE(a.open_text(sealed.substr(0, sealed.size() - 4)));
    EXPECT_FALSE(a.open_text(sealed.substr(0, sealed.size() - 1)));
    EXPECT_FALSE(a.open_text(""));
    EXPECT_FALSE(a.open_text("PGT1:"));
    EXPECT_FALSE(a.open_text("PGT1:!!!!"));
    EXPECT_FALSE(a.open_text("PGT1:AAAA"));
    EXPECT_FALSE(a.open_text("plain text"));
}

TEST(Vault, LookupHashIsKeyedAndStable) {
    IdentityVault a(key_of(1));
    IdentityVault a2(key_of(1));
    IdentityVault b(key_of(2));
    const auto h = a.lookup_hash(Platform::zalo, "12345");
    EXPECT_EQ(h.size(), 64U);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(h, a2.lookup_hash(Platform::zalo, "12345"));
    EXPECT_NE(h, b.lookup_hash(Platform::zalo, "12345"));
    EXPECT_NE(h, a.lookup_hash(Platform::facebook, "12345"));
    EXPECT_NE(h, a.lookup_hash(Platform::zalo, "123456"));
    EXPECT_EQ(h.find("12345"), std::string::npos);
}

TEST(Vault, ParseKeyHexAndBase64) {
    const std::string hex(64, 'a');
    auto k = parse_data_key("  " + hex + "\n");
    ASSERT_TRUE(k);
    EXPECT_EQ((*k)[0], 0xaa);
    // 32 zero bytes in base64, with and without padding.
    EXPECT_TRUE(parse_data_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    EXPECT_TRUE(parse_data_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    EXPECT_FALSE(parse_data_key(std::string(62, 'a')));
    EXPECT_FALSE(parse_data_key("AAAA"));
    EXPECT_FALSE(parse_data_key(""));
    EXPECT_FALSE(parse_data_key(std::string(63, 'a') + "g"));
}

TEST(Vault, FromEnv) {
    ::setenv("PGIBOT_TEST_DATA_KEY", std::string(64, 'b').c_str(), 1);
    auto v = IdentityVault::from_env("PGIBOT_TEST_DATA_KEY");
    ASSERT_TRUE(v);
    IdentityVault same(key_of(0xbb));
    EXPECT_TRUE(same.open(v->seal(sample_identity())));

    ::setenv("PGIBOT_TEST_DATA_KEY", "not-a-key", 1);
    try {
        (void)IdentityVault::from_env("PGIBOT_TEST_DATA_KEY");
        FAIL() << "expected VaultError";
    } catch (const VaultError& e) {
        EXPECT_EQ(std::string(e.what()).find("not-a-key"), std::string::npos) << "value leaked into the error";
    }
    ::unsetenv("PGIBOT_TEST_DATA_KEY");
    EXPECT_FALSE(IdentityVault::from_env("PGIBOT_TEST_DATA_KEY"));
}

TEST(Vault, CreateKeyFile) {
    TempDir dir;
    const auto path = dir.path() / "secrets" / "data.key";
    create_key_file(path);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.size(), 65U);
    EXPECT_TRUE(parse_data_key(text));
    // No temporary file left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path.parent_path())) ++files;
    EXPECT_EQ(files, 1U);
    // Never overwritten.
    EXPECT_THROW(create_key_file(path), VaultError);
    std::ifstream in2(path);
    std::string text2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, text2);

    auto v1 = IdentityVault::from_key_file(path);
    auto v2 = IdentityVault::from_key_file(path);
    EXPECT_TRUE(v2.open(v1.seal(sample_identity())));
}

TEST(Vault, LoadCreatesOnFirstStartThenReuses) {
    TempDir dir;
    ::unsetenv("PGIBOT_TEST_DATA_KEY2");
    const auto path = dir.path() / "k";
    EXPECT_THROW(IdentityVault::load(path, false, "PGIBOT_TEST_DATA_KEY2"), VaultError);
    auto first = IdentityVault::load(path, true, "PGIBOT_TEST_DATA_KEY2");
    auto second = IdentityVault::load(path, true, "PGIBOT_TEST_DATA_KEY2");
    EXPECT_TRUE(second.open(first.seal(sample_identity())));
    // The environment wins over the file.
    ::setenv("PGIBOT_TEST_DATA_KEY2", std::string(64, 'c').c_str(), 1);
    auto from_env = IdentityVault::load(path, true, "PGIBOT_TEST_DATA_KEY2");
    EXPECT_FALSE(from_env.open(first.seal(sample_identity())));
    ::unsetenv("PGIBOT_TEST_DATA_KEY2");
}

TEST(PrepareTipoff, NoIdentityInPlaintextFields) {
    IdentityVault vault(key_of(9));
    const auto report = sample_report();
    const auto nt = prepare_tipoff(report, vault, 1'750'000'000'000);

    EXPECT_EQ(nt.created_ms, 1'750'000'000'000);
    EXPECT_TRUE(nt.report.reporter.platform_user_id.empty());
    EXPECT_TRUE(nt.report.reporter.name.empty());
    EXPECT_TRUE(nt.report.reporter.phone.empty());
    EXPECT_TRUE(nt.report.reporter.address.empty());
    EXPECT_EQ(nt.reporter_lookup, vault.lookup_hash(Platform::facebook, "psid-123456"));

    const std::string plain = tipoff::report_to_json(nt.report) + nt.reporter_lookup + nt.identity_sealed;
    for (const char* secret : {"Nguyễn Thị Hoa", "0912345678", "0912 345 678", "912 345", "psid-123456",
                               "Số 5 Lê Lợi"}) {
        EXPECT_EQ(plain.find(secret), std::string::npos) << secret;
    }
    EXPECT_NE(nt.report.description.find("[đã ẩn]"), std::string::npos);
    EXPECT_NE(nt.report.description.find("nước thải đen"), std::string::npos);  // the rest kept

    const auto opened = vault.open(nt.identity_sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->phone, "0912345678");
    EXPECT_EQ(opened->name, "Nguyễn Thị Hoa");
}

TEST(PrepareTipoff, RedactsPhoneVariantsOnly) {
    EXPECT_EQ(redact_identity("gọi +84 912.345.678 nhé", "0912345678", ""), "gọi [đã ẩn] nhé");
    EXPECT_EQ(redact_identity("gọi 0912-345-678", "+84912345678", ""), "gọi [đã ẩn]");
    // A longer number that merely contains the digits is left alone, and so are other numbers.
    EXPECT_EQ(redact_identity("mã 109123456789", "0912345678", ""), "mã 109123456789");
    EXPECT_EQ(redact_identity("cách 200 m", "0912345678", ""), "cách 200 m");
    // Names: whole words only.
    EXPECT_EQ(redact_identity("anh Lan báo, Lan Anh", "", "Lan"), "anh [đã ẩn] báo, [đã ẩn] Anh");
    EXPECT_EQ(redact_identity("Lạng Sơn, Landmark", "", "Lan"), "Lạng Sơn, Landmark");
}

}  // namespace
}  // namespace pgibot::tipoffs
