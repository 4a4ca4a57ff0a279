#pragma once
// Vietnamese text normalisation for matching: NFC, case folding, tone placement, diacritic folding,
// chat abbreviations, punctuation and emoji stripped. Rules live here, never in handlers.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot::messages {

class Normalizer {
public:
    // abbreviations: "ko" -> "không", "dc" -> "được", ... (from content/abbreviations.toml)
    explicit Normalizer(std::map<std::string, std::string, std::less<>> abbreviations = {});

    // NFC + lower case + canonical tone placement ("hoà" and "hòa" become one form),
    // punctuation/emoji removed, whitespace collapsed, abbreviations expanded.
    [[nodiscard]] std::string normalize(std::string_view text) const;
    // The syllables of normalize(text).
    [[nodiscard]] std::vector<std::string> syllables(std::string_view text) const;

private:
    std::map<std::string, std::string, std::less<>> abbreviations_;
};

// Unicode NFC of UTF-8 text (invalid UTF-8 is replaced, never thrown on).
std::string to_nfc(std::string_view text);
// Removes Vietnamese diacritics, đ -> d, lower-cases: "Đồng Đăng" -> "dong dang".
std::string fold_diacritics(std::string_view text);
// Length in Unicode code points (platform limits count characters, not bytes).
std::size_t count_chars(std::string_view utf8);

}  // namespace pgibot::messages
