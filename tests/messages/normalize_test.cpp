// The Vietnamese normaliser: Unicode forms, tone placement, đ, teencode, punctuation and emoji.
#include "messages/normalize.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pgibot::messages {
namespace {

Normalizer with_abbreviations() {
    return Normalizer({{"ko", "không"},
                       {"k", "không"},
                       {"dc", "được"},
                       {"đc", "được"},
                       {"j", "gì"},
                       {"mt", "môi trường"},
                       {"bvmt", "bảo vệ môi trường"},
                       {"tr", "trời"}});
}

TEST(Normalize, NfcAndNfdInputAreEqual) {
    const Normalizer n;
    const std::string nfc = "Phản ánh ô nhiễm";                               // precomposed
    const std::string nfd = "Pha\u0309n a\u0301nh o\u0302 nhie\u0302\u0303m";  // decomposed
    // Microsoft keyboard: precomposed base vowel + combining tone (ế = ê + U+0301).
    const std::string mixed = "Ph\u1EA3n \u00E1nh \u00F4 nhi\u00EA\u0303m";
    EXPECT_NE(nfc, nfd);
    EXPECT_EQ(n.normalize(nfc), "phản ánh ô nhiễm");
    EXPECT_EQ(n.normalize(nfd), n.normalize(nfc));
    EXPECT_EQ(to_nfc(nfd), nfc);
    EXPECT_EQ(to_nfc("\u00EA\u0301"), "\u1EBF");
    EXPECT_EQ(n.normalize(mixed), n.normalize(nfc));
}

TEST(Normalize, BothTonePlacementsGiveOneForm) {
    const Normalizer n;
    EXPECT_EQ(n.normalize("hoà"), n.normalize("hòa"));
    EXPECT_EQ(n.normalize("hòa"), "hòa");  // old style is canonical
    EXPECT_EQ(n.normalize("thuỷ"), n.normalize("thủy"));
    EXPECT_EQ(n.normalize("khoẻ"), n.normalize("khỏe"));
    EXPECT_EQ(n.normalize("huỷ"), "hủy");
    EXPECT_EQ(n.normalize("qúy"), "quý");
    EXPECT_EQ(n.normalize("Quý Hoà"), "quý hòa");
    EXPECT_EQ(n.normalize("xóa"), n.normalize("xoá"));
}

TEST(Normalize, ToneStaysPutWhereThereIsNoChoice) {
    const Normalizer n;
    for (const char* word : {"hoàng", "toán", "người", "được", "muốn", "tiếng", "ngoài", "khuỷu", "giá", "gìn",
                             "giữ", "cửa", "mùa", "mía", "quả", "huỳnh", "nghiệm"}) {
        EXPECT_EQ(n.normalize(word), word) << word;
    }
    // Misplaced marks seen in the wild (domain-vi.md §8).
    EXPECT_EQ(n.normalize("baỏ"), "bảo");
    EXPECT_EQ(n.normalize("lựơng"), "lượng");
    EXPECT_EQ(n.normalize("nghịêm"), "nghiệm");
}

TEST(Normalize, CaseFoldingAndD) {
    const Normalizer n;
    EXPECT_EQ(n.normalize("ĐỒNG ĐĂNG"), "đồng đăng");
    EXPECT_EQ(n.normalize("\u00D0ồng"), "đồng");  // Icelandic Eth typed for Đ
    EXPECT_EQ(fold_diacritics("Đồng Đăng"), "dong dang");
    EXPECT_EQ(fold_diacritics("Phản ánh Ô NHIỄM, ngay!"), "phan anh o nhiem, ngay!");
    EXPECT_EQ(fold_diacritics("Pha\u0309n"), "phan");
}

TEST(Normalize, PunctuationAndEmojiStripped) {
    const Normalizer n;
    EXPECT_EQ(n.normalize("  Rác!!! ở đâu???   😡😡 ... (gấp)  "), "rác ở đâu gấp");
    EXPECT_EQ(n.normalize("👍"), "");
    EXPECT_EQ(n.normalize("bụi PM2.5 cao"), "bụi pm2.5 cao");
    EXPECT_EQ(n.normalize("a-b/c"), "a b c");
    EXPECT_EQ(n.syllables("xin\tchào\nbạn").size(), 3U);
}

TEST(Normalize, AbbreviationsExpandOnWholeTokens) {
    const Normalizer n = with_abbreviations();
    EXPECT_EQ(n.normalize("ko dc"), "không được");
    EXPECT_EQ(n.normalize("K ĐC j"), "không được gì");
    EXPECT_EQ(n.normalize("luật bvmt"), "luật bảo vệ môi trường");
    EXPECT_EQ(n.normalize("ô nhiễm mt"), "ô nhiễm môi trường");
    EXPECT_EQ(n.normalize("kofe"), "kofe");  // inside a word: untouched
    EXPECT_EQ(n.normalize("phạt 500 k"), "phạt 500 k");  // money, not "không"
    EXPECT_EQ(n.normalize("phạt 2 tr"), "phạt 2 tr");
    EXPECT_EQ(n.normalize("phạt 500k"), "phạt 500k");
    const auto s = n.syllables("bvmt");
    ASSERT_EQ(s.size(), 4U);
    EXPECT_EQ(s[3], "trường");
}

TEST(Normalize, InvalidUtf8NeverThrows) {
    const Normalizer n;
    const std::string bad = "r\xC3\xA1" "c \xFF\xFE \xE1\xBA ok \xC0\xAF";
    std::string out;
    EXPECT_NO_THROW(out = n.normalize(bad));
    EXPECT_EQ(out, "rác ok");
    EXPECT_NO_THROW((void)to_nfc(bad));
    EXPECT_NO_THROW((void)fold_diacritics(bad));
    EXPECT_EQ(count_chars(bad), 15U);  // each invalid byte counts as one
}

TEST(Normalize, CountsCharactersNotBytes) {
    EXPECT_EQ(count_chars("Phân loại rác"), 13U);
    EXPECT_EQ(count_chars(""), 0U);
    EXPECT_EQ(count_chars("😡"), 1U);
}

}  // namespace
}  // namespace pgibot::messages
