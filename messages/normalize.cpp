// Vietnamese normalisation for matching. Pipeline (domain-vi.md §8):
//   lenient UTF-8 decode -> lookalike fixes -> NFKD + case fold -> tokenise on letters/digits (punctuation,
//   symbols and emoji become separators) -> canonical tone placement per syllable -> NFC -> abbreviations.
#include "messages/normalize.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace pgibot::messages {

namespace {

using Cp = std::int32_t;
constexpr Cp kReplacement = 0xFFFD;

// Decodes UTF-8, replacing each invalid byte with U+FFFD instead of failing: chat input is untrusted.
void decode(std::string_view text, std::vector<Cp>& out) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    auto left = static_cast<utf8proc_ssize_t>(text.size());
    while (left > 0) {
        Cp cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            out.push_back(kReplacement);
            ++p;
            --left;
        } else {
            out.push_back(cp);
            p += n;
            left -= n;
        }
    }
}

void encode(Cp cp, std::string& out) {
    std::array<utf8proc_uint8_t, 4> buf{};
    const utf8proc_ssize_t n = utf8proc_encode_char(cp, buf.data());
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

// Lookalikes seen in the wild: Icelandic Eth and African D typed for Đ.
Cp fix_lookalike(Cp cp) {
    if (cp == 0x00D0 || cp == 0x0189) return 0x0110;
    if (cp == 0x00F0 || cp == 0x0256) return 0x0111;
    return cp;
}

bool is_mark(Cp cp) {
    const auto cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
}

bool is_word(Cp cp) {
    const auto cat = utf8proc_category(cp);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

bool is_digit(Cp cp) { return cp < 0x80 ? (cp >= '0' && cp <= '9') : utf8proc_category(cp) == UTF8PROC_CATEGORY_ND; }

int combining_class(Cp cp) { return cp < 0x300 ? 0 : utf8proc_get_property(cp)->combining_class; }

// Appends the compatibility decomposition of `cp`, case-folded, dropping default-ignorables
// (soft hyphen, zero-width joiners, variation selectors) so they cannot split or glue words.
void decompose_folded(Cp cp, std::vector<Cp>& out) {
    std::array<Cp, 32> buf{};
    const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                                         UTF8PROC_IGNORE);
    const utf8proc_ssize_t n =
        utf8proc_decompose_char(cp, buf.data(), static_cast<utf8proc_ssize_t>(buf.size()), options, nullptr);
    if (n < 0 || n > static_cast<utf8proc_ssize_t>(buf.size())) {
        out.push_back(cp);
        return;
    }
    out.insert(out.end(), buf.begin(), buf.begin() + n);
}

// Canonical ordering of each run of combining marks (stable by combining class), needed before
// composition because marks typed separately (Microsoft keyboard: ê + U+0301) arrive in any order.
void order_marks(std::vector<Cp>& cps) {
    std::size_t i = 0;
    while (i < cps.size()) {
        if (combining_class(cps[i]) == 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
        std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j),
                         [](Cp a, Cp b) { return combining_class(a) < combining_class(b); });
        i = j;
    }
}

void compose_append(std::vector<Cp>& cps, std::string& out) {
    order_marks(cps);
    const auto options = static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    const utf8proc_ssize_t n = utf8proc_normalize_utf32(cps.data(), static_cast<utf8proc_ssize_t>(cps.size()), options);
    const auto len = n < 0 ? cps.size() : static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < len; ++i) encode(cps[i], out);
}

// --- tone placement --------------------------------------------------------------------------------
constexpr Cp kGrave = 0x0300, kAcute = 0x0301, kTilde = 0x0303, kHook = 0x0309, kDotBelow = 0x0323;
constexpr Cp kCircumflex = 0x0302, kBreve = 0x0306, kHorn = 0x031B;

bool is_tone(Cp m) { return m == kGrave || m == kAcute || m == kTilde || m == kHook || m == kDotBelow; }
bool is_quality(Cp m) { return m == kCircumflex || m == kBreve || m == kHorn; }
bool is_vowel(Cp c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }

struct Letter {
    Cp base = 0;
    Cp quality = 0;
};

// Rewrites one decomposed, case-folded syllable so its tone mark sits where the old-style
// ("kiểu cũ") rule puts it: hòa, thủy, khỏe, quý. We pick the old style because the official
// Lạng Sơn unit list (Quý Hòa, Thiện Hòa) and underthesea's output use it. Tokens that are not
// plain Vietnamese syllables (digits, other scripts, English clusters) are left as they are.
bool place_tone(const std::vector<Cp>& in, std::vector<Cp>& out) {
    std::array<Letter, 16> letters{};
    std::size_t n = 0;
    Cp tone = 0;
    for (const Cp c : in) {
        if (is_tone(c)) {
            if (n == 0) return false;
            if (tone == 0) tone = c;  // a doubled tone is a typo: keep the first
            continue;
        }
        if (is_quality(c)) {
            if (n == 0 || letters[n - 1].quality != 0) return false;
            letters[n - 1].quality = c;
            continue;
        }
        const bool letter = (c >= 'a' && c <= 'z') || c == 0x0111;
        if (!letter || n == letters.size()) return false;
        letters[n++] = Letter{c, 0};
    }
    if (n == 0) return false;
    std::size_t start = n;
    std::size_t end = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (is_vowel(letters[i].base)) {
            if (start == n) {
                start = i;
            } else if (end != n) {
                return false;  // two separate vowel groups: not one Vietnamese syllable
            }
        } else if (start != n && end == n) {
            end = i;
        }
    }
    if (start == n) return false;
    // "qu" and "gi" are consonants when another vowel follows (quý, giá; but gìn).
    if (end - start > 1 && start > 0 && letters[start - 1].base == 'q' && letters[start].base == 'u') ++start;
    if (end - start > 1 && start == 1 && letters[0].base == 'g' && letters[1].base == 'i') ++start;
    std::size_t pos = n;
    for (std::size_t i = start; i < end; ++i) {
        if (letters[i].quality != 0) pos = i;  // ươ, uô, iê: the last marked vowel carries the tone
    }
    if (pos == n) {
        const std::size_t count = end - start;
        if (end < n) {
            pos = end - 1;  // closed syllable: hoàng, toán, huỳnh
        } else if (count >= 3) {
            pos = start + 1;  // ngoài, khuỷu
        } else {
            pos = start;  // old style: hòa, thủy, mùa, tài
        }
    }
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(letters[i].base);
        // Canonical order: horn (ccc 216) < dot below (220) < circumflex/breve/tones (230).
        const Cp t = (i == pos) ? tone : 0;
        if (letters[i].quality == kHorn) out.push_back(kHorn);
        if (t == kDotBelow) out.push_back(kDotBelow);
        if (letters[i].quality != 0 && letters[i].quality != kHorn) out.push_back(letters[i].quality);
        if (t != 0 && t != kDotBelow) out.push_back(t);
    }
    return true;
}

bool all_digits(std::string_view token) {
    return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ascii_token(const std::vector<Cp>& cps) {
    return std::all_of(cps.begin(), cps.end(), [](Cp c) { return c < 0x80; });
}

// Splits text into canonical NFC syllables. ASCII, most of every chat message, takes a fast path
// without utf8proc look-ups; buffers are per thread because this runs for every incoming question.
void tokenize(std::string_view text, std::vector<std::string>& tokens) {
    thread_local std::vector<Cp> cps;
    thread_local std::vector<Cp> word;
    thread_local std::vector<Cp> placed;
    cps.clear();
    word.clear();
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    auto left = static_cast<utf8proc_ssize_t>(text.size());
    while (left > 0) {
        if (*p < 0x80) {
            const Cp c = *p;
            cps.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            ++p;
            --left;
            continue;
        }
        Cp cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            cps.push_back(kReplacement);
            ++p;
            --left;
            continue;
        }
        p += n;
        left -= n;
        const auto before = cps.size();
        decompose_folded(fix_lookalike(cp), cps);
        for (auto i = before; i < cps.size(); ++i) cps[i] = fix_lookalike(cps[i]);  // folding may yield ð
    }

    auto flush = [&] {
        if (word.empty()) return;
        std::string token;
        if (is_ascii_token(word)) {
            for (const Cp c : word) token += static_cast<char>(c);
        } else if (place_tone(word, placed)) {
            compose_append(placed, token);
        } else {
            compose_append(word, token);
        }
        tokens.push_back(std::move(token));
        word.clear();
    };
    for (std::size_t i = 0; i < cps.size(); ++i) {
        const Cp cp = cps[i];
        if (cp < 0x80 ? ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) : is_word(cp)) {
            word.push_back(cp);
        } else if (cp >= 0x80 && is_mark(cp)) {
            if (!word.empty()) word.push_back(cp);
        } else if ((cp == '.' || cp == ',') && !word.empty() && is_digit(word.back()) && i + 1 < cps.size() &&
                   is_digit(cps[i + 1])) {
            word.push_back(cp);  // keep "2.5" in "pm2.5" and "1,5" as one token
        } else {
            flush();
        }
    }
    flush();
}

}  // namespace

Normalizer::Normalizer(std::map<std::string, std::string, std::less<>> abbreviations) {
    // Keys and values go through the same pipeline as citizen text so "Đc" or an NFD key still match.
    for (const auto& [key, value] : abbreviations) {
        std::vector<std::string> key_tokens;
        tokenize(key, key_tokens);
        if (key_tokens.size() != 1) continue;  // content check reports keys that are not one word
        std::vector<std::string> value_tokens;
        tokenize(value, value_tokens);
        std::string joined;
        for (const auto& t : value_tokens) {
            if (!joined.empty()) joined += ' ';
            joined += t;
        }
        if (!joined.empty()) abbreviations_[key_tokens.front()] = std::move(joined);
    }
}

std::vector<std::string> Normalizer::syllables(std::string_view text) const {
    std::vector<std::string> tokens;
    tokenize(text, tokens);
    std::vector<std::string> out;
    out.reserve(tokens.size() + 4);
    bool after_number = false;
    for (auto& token : tokens) {
        const bool number = all_digits(token);
        // "500 k" and "2 tr" are money, not "không"/"trời": no expansion right after a number.
        const bool money_unit = after_number && (token == "k" || token == "tr");
        auto it = money_unit ? abbreviations_.end() : abbreviations_.find(token);
        after_number = number;
        if (it == abbreviations_.end()) {
            out.push_back(std::move(token));
            continue;
        }
        std::string_view value = it->second;
        while (!value.empty()) {
            const auto space = value.find(' ');
            out.emplace_back(value.substr(0, space));
            if (space == std::string_view::npos) break;
            value.remove_prefix(space + 1);
        }
    }
    return out;
}

std::string Normalizer::normalize(std::string_view text) const {
    std::string out;
    for (const auto& s : syllables(text)) {
        if (!out.empty()) out += ' ';
        out += s;
    }
    return out;
}

std::string to_nfc(std::string_view text) {
    std::vector<Cp> cps;
    cps.reserve(text.size());
    decode(text, cps);
    // Decompose canonically first so composition sees ordered marks whatever the input order was.
    std::vector<Cp> decomposed;
    decomposed.reserve(cps.size() + 8);
    for (const Cp cp : cps) {
        std::array<Cp, 32> buf{};
        const utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf.data(), static_cast<utf8proc_ssize_t>(buf.size()),
                                                           UTF8PROC_DECOMPOSE, nullptr);
        if (n < 0 || n > static_cast<utf8proc_ssize_t>(buf.size())) {
            decomposed.push_back(cp);
        } else {
            decomposed.insert(decomposed.end(), buf.begin(), buf.begin() + n);
        }
    }
    std::string out;
    out.reserve(text.size());
    compose_append(decomposed, out);
    return out;
}

std::string fold_diacritics(std::string_view text) {
    std::vector<Cp> cps;
    cps.reserve(text.size());
    decode(text, cps);
    std::vector<Cp> decomposed;
    decomposed.reserve(cps.size() + 8);
    for (const Cp cp : cps) {
        std::array<Cp, 32> buf{};
        const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD);
        const utf8proc_ssize_t n =
            utf8proc_decompose_char(fix_lookalike(cp), buf.data(), static_cast<utf8proc_ssize_t>(buf.size()), options,
                                    nullptr);
        if (n < 0 || n > static_cast<utf8proc_ssize_t>(buf.size())) {
            decomposed.push_back(cp);
            continue;
        }
        for (utf8proc_ssize_t i = 0; i < n; ++i) {
            Cp c = fix_lookalike(buf[static_cast<std::size_t>(i)]);
            if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
            if (c == 0x0111) c = 'd';  // đ has no decomposition: fold it by hand
            decomposed.push_back(c);
        }
    }
    std::string out;
    out.reserve(text.size());
    compose_append(decomposed, out);
    return out;
}

std::size_t count_chars(std::string_view utf8) {
    std::size_t count = 0;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
    auto left = static_cast<utf8proc_ssize_t>(utf8.size());
    while (left > 0) {
        Cp cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        const utf8proc_ssize_t step = n <= 0 ? 1 : n;  // an invalid byte counts as one character
        p += step;
        left -= step;
        ++count;
    }
    return count;
}

}  // namespace pgibot::messages
