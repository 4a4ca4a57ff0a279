// Place recognition over the real places.toml: all 65 current units, former names, prefixes, pitfalls.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "messages/normalize.hpp"
#include "messages/places.hpp"
#include "tests/handlers/tipoff/content_fixture.hpp"

namespace pgibot {
namespace {

const messages::Places& places() {
    const auto& c = test::content();
    EXPECT_NE(c.places, nullptr);
    return *c.places;
}

std::string lower_ascii_fold(std::string_view s) { return messages::fold_diacritics(s); }

// "Xã Tân Văn" -> "Tân Văn"
std::string bare(const messages::Unit& u) {
    const std::string prefix = u.kind == "phường" ? "Phường " : "Xã ";
    return u.name.starts_with(prefix) ? u.name.substr(prefix.size()) : u.name;
}

const messages::Unit* by_name(std::string_view name) {
    for (const auto& u : places().units()) {
        if (u.name == name) return &u;
    }
    ADD_FAILURE() << "no unit " << name;
    return nullptr;
}

// The single unit recognised, or a failure.
void expect_one(std::string_view text, std::string_view unit_name, bool via_former) {
    const auto matches = places().recognise(text);
    ASSERT_EQ(matches.size(), 1u) << text << " -> " << matches.size() << " matches"
                                  << (matches.empty() ? "" : ", first " + matches.front().unit->name);
    EXPECT_EQ(matches.front().unit->name, unit_name) << text;
    EXPECT_EQ(matches.front().via_former_name, via_former) << text;
}

std::set<std::string> names_of(const std::vector<messages::PlaceMatch>& matches) {
    std::set<std::string> out;
    for (const auto& m : matches) out.insert(m.unit->name);
    return out;
}

TEST(PlacesData, SixtyFiveUnitsWithOfficialCodes) {
    const auto& units = places().units();
    ASSERT_EQ(units.size(), 65u);
    std::set<std::string> codes;
    int xa = 0;
    int phuong = 0;
    for (const auto& u : units) {
        EXPECT_EQ(u.code.size(), 5u) << u.name;
        EXPECT_TRUE(std::all_of(u.code.begin(), u.code.end(), [](char c) { return c >= '0' && c <= '9'; })) << u.name;
        codes.insert(u.code);
        EXPECT_EQ(messages::to_nfc(u.name), u.name);
        (u.kind == "xã" ? xa : phuong) += 1;
        EXPECT_TRUE(u.kind == "xã" || u.kind == "phường") << u.name;
        EXPECT_FALSE(u.former_names.empty()) << u.name;
        EXPECT_LE(messages::count_chars(u.name), 20u) << u.name << " must fit a quick-reply title";
    }
    EXPECT_EQ(codes.size(), 65u);
    EXPECT_EQ(xa, 61);
    EXPECT_EQ(phuong, 4);
    ASSERT_NE(by_name("Phường Kỳ Lừa"), nullptr);
    EXPECT_EQ(by_name("Phường Kỳ Lừa")->code, "06187");
    EXPECT_EQ(by_name("Xã Hoàng Văn Thụ")->kind, "xã");  // not a ward any more
    EXPECT_EQ(places().find_code("05977")->name, "Phường Đông Kinh");
    EXPECT_EQ(places().find_code("99999"), nullptr);
}

TEST(PlacesRecognise, EveryCurrentUnitByItsNameInEveryForm) {
    for (const auto& u : places().units()) {
        SCOPED_TRACE(u.name);
        const std::string name = bare(u);
        const std::string short_prefix = u.kind == "phường" ? "p." : "x.";
        expect_one(u.name, u.name, false);                                  // "Xã Tân Văn"
        expect_one(lower_ascii_fold(u.name), u.name, false);                // "xa tan van"
        expect_one(name, u.name, false);                                    // "Tân Văn"
        expect_one(lower_ascii_fold(name), u.name, false);                  // "tan van"
        expect_one(short_prefix + name, u.name, false);                     // "x.Tân Văn"
        expect_one(short_prefix + " " + lower_ascii_fold(name), u.name, false);
        expect_one("có người đổ rác ra suối ở " + u.name + ", tỉnh Lạng Sơn", u.name, false);
        expect_one("co nguoi do rac ra suoi o " + lower_ascii_fold(u.name) + " lang son", u.name, false);
        expect_one("THÔN NÀ LẸ, " + u.name, u.name, false);
    }
}

TEST(PlacesRecognise, FormerNamesPointToTheirNewUnit) {
    int checked = 0;
    for (const auto& u : places().units()) {
        for (const auto& former : u.former_names) {
            SCOPED_TRACE(u.name + " <- " + former);
            const std::string f = lower_ascii_fold(former);
            if (f.starts_with("huyen ") || f.starts_with("thanh pho ")) continue;  // districts: several units
            for (const std::string& text : {former, f}) {
                const auto matches = places().recognise(text);
                ASSERT_FALSE(matches.empty()) << text;
                std::string base = former.substr(0, former.find(" ("));
                base = lower_ascii_fold(base);
                for (const char* p : {"xa ", "phuong ", "thi tran "}) {
                    if (base.starts_with(p)) base = base.substr(std::string(p).size());
                }
                auto it = std::find_if(matches.begin(), matches.end(), [&](const auto& m) { return m.unit == &u; });
                if (it == matches.end()) {
                    // Only allowed when a current unit has that very name and no old district tells them apart
                    // ("xã Kiên Mộc" is the current Kiên Mộc, though part of the old one went to Châu Sơn).
                    const bool shadowed = former.find('(') == std::string::npos &&
                                          std::any_of(places().units().begin(), places().units().end(),
                                                      [&](const auto& o) { return lower_ascii_fold(bare(o)) == base; });
                    EXPECT_TRUE(shadowed) << text;
                    continue;
                }
                // A former name written differently from the current name is confirmed with the citizen.
                if (base != lower_ascii_fold(bare(u))) {
                    EXPECT_TRUE(it->via_former_name) << text;
                }
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 150);
}

TEST(PlacesRecognise, FormerNamesExamples) {
    expect_one("thị trấn Thất Khê", "Xã Thất Khê", true);
    expect_one("tt that khe", "Xã Thất Khê", true);
    expect_one("xã Mai Pha", "Phường Đông Kinh", true);
    expect_one("mai pha", "Phường Đông Kinh", true);
    expect_one("phường Vĩnh Trại", "Phường Đông Kinh", true);
    expect_one("p. Hoàng Văn Thụ", "Phường Kỳ Lừa", true);   // the old ward of TP Lạng Sơn
    expect_one("xã Hoàng Văn Thụ", "Xã Hoàng Văn Thụ", false);
    expect_one("phuong chi lang", "Phường Lương Văn Tri", true);
    expect_one("thị trấn Đồng Mỏ", "Xã Chi Lăng", true);
    expect_one("thị trấn Lộc Bình", "Xã Lộc Bình", true);
    expect_one("thi tran Na Duong", "Xã Na Dương", true);
    expect_one("xã Chi Lăng, huyện Tràng Định", "Xã Thất Khê", true);
    expect_one("xã Chi Lăng", "Xã Chi Lăng", false);
    expect_one("xã Hòa Bình, Hữu Lũng", "Xã Yên Bình", true);
    expect_one("xa hoa binh huyen chi lang", "Xã Vạn Linh", true);
    expect_one("xã Tân Thanh", "Xã Hoàng Văn Thụ", true);  // "Tân Thanh" (Văn Lãng) is not "Tân Thành"
    expect_one("xã Tân Thành", "Xã Tân Thành", false);
    expect_one("xã Đồng Ý", "Xã Tân Tri", true);
    expect_one("thôn Bản Chắt, xã Tân Văn, Bình Gia", "Xã Tân Văn", false);
    expect_one("ở Bình Gia", "Xã Bình Gia", false);
}

TEST(PlacesRecognise, AmbiguousNamesGiveSeveralCandidates) {
    EXPECT_EQ(names_of(places().recognise("xã Hòa Bình")),
              (std::set<std::string>{"Xã Thiện Long", "Xã Văn Quan", "Xã Yên Bình", "Xã Vạn Linh"}));
    EXPECT_EQ(names_of(places().recognise("Bính Xá")), (std::set<std::string>{"Xã Đình Lập", "Xã Kiên Mộc"}));
    const auto tp = places().recognise("TP Lạng Sơn");
    EXPECT_EQ(names_of(tp), (std::set<std::string>{"Phường Tam Thanh", "Phường Lương Văn Tri", "Phường Kỳ Lừa",
                                                   "Phường Đông Kinh"}));
    for (const auto& m : tp) EXPECT_TRUE(m.via_former_name);
    const auto district = places().recognise("huyện Bình Gia");
    EXPECT_EQ(district.size(), 8u);
    const auto cao_loc = names_of(places().recognise("huyen cao loc"));
    EXPECT_TRUE(cao_loc.contains("Xã Đồng Đăng"));
    EXPECT_TRUE(cao_loc.contains("Phường Kỳ Lừa"));
    EXPECT_GE(cao_loc.size(), 5u);
}

TEST(PlacesRecognise, NotPlaces) {
    EXPECT_TRUE(places().recognise("").empty());
    EXPECT_TRUE(places().recognise("Lạng Sơn").empty());                  // the province
    EXPECT_TRUE(places().recognise("đồng ý").empty());                   // "agree", not xã Đồng Ý
    EXPECT_TRUE(places().recognise("dong y").empty());
    EXPECT_TRUE(places().recognise("nhà máy xả nước thải đen ngòm").empty());
    EXPECT_TRUE(places().recognise("số 5 đường Hoàng Văn Thụ").empty());  // a street of the city
    EXPECT_TRUE(places().recognise("hòa bình thế giới").empty());
}

TEST(PlacesProvince, BoundingBox) {
    EXPECT_TRUE(messages::Places::inside_province(21.8537, 106.7615));   // Lạng Sơn city
    EXPECT_TRUE(messages::Places::inside_province(22.2520, 106.4500));   // Thất Khê
    EXPECT_TRUE(messages::Places::inside_province(21.5300, 107.3300));   // Đình Lập
    EXPECT_FALSE(messages::Places::inside_province(21.0285, 105.8542));  // Hà Nội
    EXPECT_FALSE(messages::Places::inside_province(10.7769, 106.7009));  // TP Hồ Chí Minh
    EXPECT_FALSE(messages::Places::inside_province(22.8170, 108.3665));  // Nanning
}

}  // namespace
}  // namespace pgibot
