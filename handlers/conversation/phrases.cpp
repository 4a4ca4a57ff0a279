// What a short message means: "menu", "xin chào", "cảm ơn", "ĐĂNG KÝ", "dừng", "gặp cán bộ", "có"/"không".
// The text is normalised and folded by messages/ (no Vietnamese rules here); this file only lists the
// phrases of each dialog command. A message matches a phrase when their normalised forms are equal, or when
// their folded forms are equal (unless the phrase is `strict` and the message carries diacritics: then
// "đúng" is not "dừng").
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <vector>

#include "handlers/conversation/conversation.hpp"
#include "messages/normalize.hpp"

namespace pgibot::handlers::conversation {

namespace {

struct PhraseDef {
    std::string_view text;
    // Strict: the folded form is ambiguous ("dung" = dừng / đúng / dùng, "huy" = hủy / the name Huy), so a
    // message with diacritics must carry the right ones; a message without any still matches.
    bool strict = false;
};

// Words that do not change what a short command means: addressing, politeness particles, "tôi muốn".
// Compared in folded form.
constexpr std::array<std::string_view, 27> kFillers{
    "a",   "ad",  "admin", "ban",  "bot",  "shop", "em",  "anh", "chi", "oi",  "nhe", "nha", "nhen", "voi",
    "minh", "toi", "cho",  "giup", "ah",   "nhi",  "ha",  "muon", "xin", "vui", "long", "hay", "di"};

constexpr std::array<PhraseDef, 16> kPhrasesMenu{{
    {"menu"}, {"bắt đầu"}, {"bắt đầu lại"}, {"trợ giúp"}, {"help"}, {"start"}, {"danh mục"}, {"hướng dẫn"},
    {"menu chính"}, {"giúp đỡ"}, {"home"}, {"trang chủ"}, {"xem menu"}, {"mở menu"}, {"chức năng"}, {"tùy chọn"},
}};

// "xin" is a filler, so "xin chào" reduces to "chào".
constexpr std::array<PhraseDef, 14> kPhrasesGreeting{{
    {"chào"}, {"hi"}, {"hello"}, {"helo"}, {"alo"}, {"hey"}, {"chào buổi sáng"}, {"chào buổi chiều"},
    {"chào buổi tối"}, {"hế lô"}, {"good morning"}, {"chào cả nhà"}, {"hi there"}, {"lô"},
}};

constexpr std::array<PhraseDef, 16> kPhrasesThanks{{
    {"cảm ơn"}, {"cám ơn"}, {"cảm ơn nhiều"}, {"cảm ơn rất nhiều"}, {"thanks"}, {"thank"}, {"thank you"},
    {"thanks you"}, {"tks"}, {"thx"}, {"ok cảm ơn"}, {"vâng cảm ơn"}, {"dạ cảm ơn"}, {"cảm ơn nhé"},
    {"thanks nhiều"}, {"camon"},
}};

constexpr std::array<PhraseDef, 20> kPhrasesOk{{
    {"ok"}, {"oke"}, {"okie"}, {"okay"}, {"okê"}, {"vâng"}, {"dạ", true}, {"ừ"}, {"uh"}, {"ừm"}, {"uhm"},
    {"được"}, {"được rồi"}, {"ok rồi"}, {"dạ vâng"}, {"hiểu rồi"}, {"đã hiểu"}, {"rõ rồi"}, {"ok ok"}, {"oki"},
}};

constexpr std::array<PhraseDef, 8> kPhrasesBye{{
    {"bye"}, {"bai"}, {"tạm biệt"}, {"bye bye"}, {"goodbye"}, {"hẹn gặp lại"}, {"chào tạm biệt"}, {"pp"},
}};

constexpr std::array<PhraseDef, 10> kPhrasesSubscribe{{
    {"đăng ký"}, {"đăng kí"}, {"đăng ký nhận tin"}, {"đăng kí nhận tin"}, {"đăng ký nhận thông báo"},
    {"đăng kí nhận thông báo"}, {"subscribe"}, {"đăng ký tin"}, {"nhận thông báo"}, {"đăng ký lại"},
}};

constexpr std::array<PhraseDef, 18> kPhrasesUnsubscribe{{
    {"dừng", true}, {"dừng lại", true}, {"hủy", true}, {"hủy đăng ký"}, {"hủy đăng kí"}, {"stop"},
    {"unsubscribe"}, {"dừng nhận tin", true}, {"ngừng"}, {"ngừng nhận tin"}, {"tắt thông báo"},
    {"hủy nhận tin"}, {"dừng gửi tin", true}, {"không nhận tin nữa"}, {"bỏ đăng ký"}, {"ngừng đăng ký"},
    {"dừng đăng ký", true}, {"hủy theo dõi"},
}};

constexpr std::array<PhraseDef, 14> kPhrasesYes{{
    {"có", true}, {"yes"}, {"ok"}, {"oke"}, {"okie"}, {"đồng ý"}, {"vâng"}, {"dạ", true}, {"ừ"}, {"gửi"},
    {"có gửi", true}, {"đúng", true}, {"đúng rồi", true}, {"có ạ", true},
}};

constexpr std::array<PhraseDef, 9> kPhrasesNo{{
    {"không"}, {"không cần"}, {"thôi"}, {"no"}, {"không gửi"}, {"không ạ"}, {"thôi không"}, {"để sau"},
    {"không phải"},
}};

// Matched anywhere in the message (folded, on word boundaries): asking for a person.
constexpr std::array<std::string_view, 16> kPhrasesHuman{
    "gap can bo",        "gap nguoi",           "noi chuyen voi nguoi", "noi chuyen voi can bo",
    "gap nhan vien",     "nhan vien tu van",    "tu van vien",          "nguoi that",
    "gap truc tiep",     "lien he can bo",      "gap admin",            "gap quan tri vien",
    "ket noi can bo",    "chat voi nguoi",      "nguoi tra loi",        "can bo truc",
};

struct Prepared {
    std::string norm;      // normalised syllables without fillers
    std::string folded;    // the same, folded
    bool has_marks = false;  // the message carries any diacritic
    std::string folded_all;  // all syllables folded, padded with spaces (for "contains")
    std::size_t syllables = 0;
};

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) {
            out += ' ';
        }
        out += p;
    }
    return out;
}

std::vector<std::string> syllables_of(std::string_view text, const messages::Content& content) {
    if (content.normalizer) {
        return content.normalizer->syllables(text);
    }
    messages::Normalizer plain;
    return plain.syllables(text);
}

Prepared prepare(std::string_view text, const messages::Content& content) {
    Prepared p;
    std::vector<std::string> norm;
    std::vector<std::string> folded;
    std::vector<std::string> all;
    for (auto& syl : syllables_of(text, content)) {
        std::string f = messages::fold_diacritics(syl);
        if (f != syl) {
            p.has_marks = true;
        }
        all.push_back(f);
        if (std::find(kFillers.begin(), kFillers.end(), f) != kFillers.end()) {
            continue;
        }
        // "alo alo", "ok ok ok": a repeated word counts once.
        if (!folded.empty() && folded.back() == f && norm.back() == syl) {
            continue;
        }
        norm.push_back(std::move(syl));
        folded.push_back(std::move(f));
    }
    p.syllables = all.size();
    p.norm = join(norm);
    p.folded = join(folded);
    p.folded_all = " " + join(all) + " ";
    return p;
}

bool matches(const Prepared& p, std::span<const PhraseDef> defs, const messages::Content& content) {
    if (p.folded.empty()) {
        return false;
    }
    for (const auto& def : defs) {
        const Prepared d = prepare(def.text, content);  // fillers dropped from the phrase as well
        if (p.norm == d.norm) {
            return true;
        }
        if (p.folded == d.folded && (!def.strict || !p.has_marks)) {
            return true;
        }
    }
    return false;
}

bool contains_any(const Prepared& p, std::span<const std::string_view> needles) {
    return std::any_of(needles.begin(), needles.end(), [&p](std::string_view n) {
        std::string padded = " ";
        padded += n;
        padded += ' ';
        return p.folded_all.find(padded) != std::string::npos;
    });
}

}  // namespace

Phrase classify_phrase(std::string_view text, const messages::Content& content, bool expect_answer) {
    const Prepared p = prepare(text, content);
    if (p.syllables == 0) {
        return Phrase::none;
    }
    if (expect_answer) {
        if (matches(p, kPhrasesYes, content)) {
            return Phrase::yes;
        }
        if (matches(p, kPhrasesNo, content)) {
            return Phrase::no;
        }
    }
    if (matches(p, kPhrasesMenu, content)) {
        return Phrase::menu;
    }
    if (matches(p, kPhrasesSubscribe, content)) {
        return Phrase::subscribe;
    }
    if (matches(p, kPhrasesUnsubscribe, content)) {
        return Phrase::unsubscribe;
    }
    if (contains_any(p, kPhrasesHuman)) {
        return Phrase::human;
    }
    if (matches(p, kPhrasesGreeting, content)) {
        return Phrase::greeting;
    }
    if (matches(p, kPhrasesThanks, content)) {
        return Phrase::thanks;
    }
    if (matches(p, kPhrasesOk, content)) {
        return Phrase::ok;
    }
    if (matches(p, kPhrasesBye, content)) {
        return Phrase::bye;
    }
    return Phrase::none;
}

}  // namespace pgibot::handlers::conversation
