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

// decompose_folded with the lookalike fixes on both sides: what tokenize does with each non-ASCII
// code point.
void decompose_fixed(Cp cp, std::vector<Cp>& out) {
    const auto before = out.size();
    decompose_folded(fix_lookalike(cp), out);
    for (auto i = before; i < out.size(); ++i) out[i] = fix_lookalike(out[i]);  // folding may yield ð
}

// decompose_fixed of the Latin letters Vietnamese text is made of (U+0080..U+02FF, U+1E00..U+1EFF),
// computed once: the utf8proc look-up per character dominated normalising questions and content.
class LatinDecompositions {
public:
    LatinDecompositions() {
        std::vector<Cp> buf;
        for (Cp cp = 0x80; cp < kLatinEnd; ++cp) fill(cp, buf);
        for (Cp cp = kExtendedBegin; cp < kExtendedEnd; ++cp) fill(cp, buf);
    }
    // Appends decompose_fixed(cp) to `out`.
    void append(Cp cp, std::vector<Cp>& out) const {
        const Entry* e = entry(cp);
        if (e == nullptr || e->size == 0) {
            decompose_fixed(cp, out);
            return;
        }
        out.insert(out.end(), e->cps.begin(), e->cps.begin() + e->size);
    }

private:
    static constexpr Cp kLatinEnd = 0x300;
    static constexpr Cp kExtendedBegin = 0x1E00;
    static constexpr Cp kExtendedEnd = 0x1F00;
    struct Entry {
        std::array<Cp, 4> cps{};
        std::uint8_t size = 0;  // 0: longer than cps, not cached
    };
    static std::size_t slot(Cp cp) {
        if (cp >= 0x80 && cp < kLatinEnd) return static_cast<std::size_t>(cp - 0x80);
        if (cp >= kExtendedBegin && cp < kExtendedEnd) {
            return static_cast<std::size_t>(kLatinEnd - 0x80 + (cp - kExtendedBegin));
        }
        return kSize;
    }
    [[nodiscard]] const Entry* entry(Cp cp) const {
        const auto i = slot(cp);
        return i < kSize ? &entries_[i] : nullptr;
    }
    void fill(Cp cp, std::vector<Cp>& buf) {
        buf.clear();
        decompose_fixed(cp, buf);
        Entry& e = entries_[slot(cp)];
        if (buf.empty() || buf.size() > e.cps.size()) return;  // ignorables and long ones take the slow path
        std::copy(buf.begin(), buf.end(), e.cps.begin());
        e.size = static_cast<std::uint8_t>(buf.size());
    }
    static constexpr std::size_t kSize = (kLatinEnd - 0x80) + (kExtendedEnd - kExtendedBegin);
    std::array<Entry, kSize> entries_{};
};

const LatinDecompositions& latin_decompositions() {
    static const LatinDecompositions table;  // built on first use, thread-safe
    return table;
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
struct Syllable {
    std::array<Letter, 16> letters{};
    std::size_t n = 0;
    std::size_t pos = 0;  // the letter carrying the tone
    Cp tone = 0;
};

bool place_tone(const std::vector<Cp>& in, Syllable& out) {
    auto& letters = out.letters;
    std::size_t& n = out.n;
    Cp& tone = out.tone;
    n = 0;
    tone = 0;
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
    out.pos = pos;
    return true;
}

// One letter of a placed syllable as decomposed code points in canonical order:
// horn (ccc 216) < dot below (220) < circumflex/breve/tones (230).
void append_letter(const Letter& letter, Cp tone, std::vector<Cp>& out) {
    out.push_back(letter.base);
    if (letter.quality == kHorn) out.push_back(kHorn);
    if (tone == kDotBelow) out.push_back(kDotBelow);
    if (letter.quality != 0 && letter.quality != kHorn) out.push_back(letter.quality);
    if (tone != 0 && tone != kDotBelow) out.push_back(tone);
}

// The NFC (UTF-8) of every letter a placed syllable can hold (a-z and đ, each quality, each tone),
// composed once: composing a syllable is then concatenating its letters (each letter is a starter
// with its own marks, so NFC never composes across letters).
class LetterCompositions {
public:
    LetterCompositions() {
        std::vector<Cp> cps;
        for (std::size_t b = 0; b < kBases; ++b) {
            for (std::size_t q = 0; q < kQualities.size(); ++q) {
                for (std::size_t t = 0; t < kTones.size(); ++t) {
                    cps.clear();
                    append_letter(Letter{base_of(b), kQualities[q]}, kTones[t], cps);
                    compose_append(cps, utf8_[(b * kQualities.size() + q) * kTones.size() + t]);
                }
            }
        }
    }
    void append(const Letter& letter, Cp tone, std::string& out) const {
        out += utf8_[(base_index(letter.base) * kQualities.size() + quality_index(letter.quality)) * kTones.size() +
                     tone_index(tone)];
    }

private:
    static constexpr std::size_t kBases = 27;  // a-z, đ
    static constexpr std::array<Cp, 4> kQualities{0, kCircumflex, kBreve, kHorn};
    static constexpr std::array<Cp, 6> kTones{0, kGrave, kAcute, kTilde, kHook, kDotBelow};
    static Cp base_of(std::size_t b) { return b < 26 ? static_cast<Cp>('a' + b) : 0x0111; }
    static std::size_t base_index(Cp c) { return c == 0x0111 ? 26 : static_cast<std::size_t>(c - 'a'); }
    static std::size_t quality_index(Cp q) {
        return static_cast<std::size_t>(std::find(kQualities.begin(), kQualities.end(), q) - kQualities.begin());
    }
    static std::size_t tone_index(Cp t) {
        return static_cast<std::size_t>(std::find(kTones.begin(), kTones.end(), t) - kTones.begin());
    }
    std::array<std::string, kBases * kQualities.size() * kTones.size()> utf8_{};
};

const LetterCompositions& letter_compositions() {
    static const LetterCompositions table;  // built on first use, thread-safe
    return table;
}

// NFC of a placed syllable.
void compose_syllable(const Syllable& s, std::string& out) {
    const auto& table = letter_compositions();
    for (std::size_t i = 0; i < s.n; ++i) table.append(s.letters[i], i == s.pos ? s.tone : 0, out);
}

bool all_digits(std::string_view token) {
    return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ascii_token(const std::vector<Cp>& cps) {
    return std::all_of(cps.begin(), cps.end(), [](Cp c) { return c < 0x80; });
}

// Splits text into canonical NFC syllables. ASCII, most of every chat message, takes a fast path
// without utf8proc look-ups; buffers are per thread because this runs for every incoming question.
// Writes the tokens into tokens[0, n) and returns n: strings already there are reused (their capacity
// too), so a warm per-thread vector makes tokenising allocation-free.
std::size_t tokenize(std::string_view text, std::vector<std::string>& tokens) {
    thread_local std::vector<Cp> cps;
    thread_local std::vector<Cp> word;
    thread_local Syllable placed;
    const auto& latin = latin_decompositions();
    std::size_t count = 0;
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
        latin.append(cp, cps);
    }

    auto flush = [&] {
        if (word.empty()) return;
        if (count == tokens.size()) tokens.emplace_back();
        std::string& token = tokens[count++];
        token.clear();
        if (is_ascii_token(word)) {
            for (const Cp c : word) token += static_cast<char>(c);
        } else if (place_tone(word, placed)) {
            compose_syllable(placed, token);
        } else {
            compose_append(word, token);
        }
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
    return count;
}

}  // namespace

Normalizer::Normalizer(std::map<std::string, std::string, std::less<>> abbreviations) {
    // Keys and values go through the same pipeline as citizen text so "Đc" or an NFD key still match.
    std::vector<std::string> key_tokens;
    std::vector<std::string> value_tokens;
    for (const auto& [key, value] : abbreviations) {
        if (tokenize(key, key_tokens) != 1) continue;  // content check reports keys that are not one word
        const auto n = tokenize(value, value_tokens);
        std::string joined;
        for (std::size_t i = 0; i < n; ++i) {
            if (!joined.empty()) joined += ' ';
            joined += value_tokens[i];
        }
        if (!joined.empty()) abbreviations_[key_tokens.front()] = std::move(joined);
    }
}

std::vector<std::string> Normalizer::syllables(std::string_view text) const {
    thread_local std::vector<std::string> tokens;  // reused: no allocation per token once warm
    const auto n = tokenize(text, tokens);
    std::vector<std::string> out;
    out.reserve(n + 4);
    bool after_number = false;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& token = tokens[i];
        const bool number = all_digits(token);
        // "500 k" and "2 tr" are money, not "không"/"trời": no expansion right after a number.
        const bool money_unit = after_number && (token == "k" || token == "tr");
        auto it = money_unit ? abbreviations_.end() : abbreviations_.find(token);
        after_number = number;
        if (it == abbreviations_.end()) {
            out.push_back(token);
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

namespace {

// Quick check: text made only of code points that are NFC on their own and never compose with a
// neighbour (ASCII and Latin-1/Extended-A/B, the precomposed Vietnamese letters, common punctuation,
// emoji) is already NFC. Content files are almost entirely such text, and load_content checks every string.
bool surely_nfc(std::string_view text) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    auto left = static_cast<utf8proc_ssize_t>(text.size());
    while (left > 0) {
        if (*p < 0x80) {
            ++p;
            --left;
            continue;
        }
        Cp cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) return false;
        const bool stable = cp < 0x300 || (cp >= 0x1E00 && cp < 0x1F00) || (cp >= 0x2010 && cp < 0x2028) ||
                            (cp >= 0x2030 && cp < 0x205F) || (cp >= 0x2190 && cp < 0x2200) ||
                            (cp >= 0x2600 && cp < 0x27C0) || (cp >= 0x1F300 && cp < 0x1FB00);
        if (!stable) return false;
        p += n;
        left -= n;
    }
    return true;
}

}  // namespace

std::string to_nfc(std::string_view text) {
    if (surely_nfc(text)) return std::string(text);
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
