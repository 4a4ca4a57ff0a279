#pragma once
// The 65 communes and wards of Lạng Sơn (since 1/7/2025), with the former district and commune
// names people still use, recognised in free text with or without diacritics.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot::messages {

struct Unit {
    std::string code;    // official code
    std::string name;    // "Phường Đông Kinh"
    std::string kind;    // "phường" | "xã"
    std::vector<std::string> former_names;  // merged units and old district names that map here
};

struct PlaceMatch {
    const Unit* unit = nullptr;
    bool via_former_name = false;  // matched an old name: confirm with the citizen
    std::string matched_text;
};

class Places {
public:
    explicit Places(std::vector<Unit> units);
    [[nodiscard]] const std::vector<Unit>& units() const { return units_; }
    // All units the text may refer to (more than one: ambiguous, ask).
    [[nodiscard]] std::vector<PlaceMatch> recognise(std::string_view text) const;
    [[nodiscard]] const Unit* find_code(std::string_view code) const;
    // Rough bounding box of the province, to question coordinates outside it.
    [[nodiscard]] static bool inside_province(double lat, double lng);

private:
    std::vector<Unit> units_;
    struct Index;                          // names cut and folded once, at construction (places.cpp)
    std::shared_ptr<const Index> index_;
};

}  // namespace pgibot::messages
