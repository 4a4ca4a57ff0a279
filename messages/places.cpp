// Recognises the communes and wards of Lạng Sơn in free text (content/places.toml).
//
// Text and names are cut into syllables by the Normalizer (punctuation separates, so "p.Đông Kinh" works) and
// compared on the diacritic-folded key; when the citizen typed diacritics, an exact (canonical) match is preferred
// ("Tân Thanh" is not "Tân Thành"). A unit-kind word just before a name ("xã", "phường", "p", "tt", "thị trấn",
// "huyện", "tp") steers the match: "phường Chi Lăng" is the old ward (now Lương Văn Tri), "huyện Cao Lộc" the old
// district (several units: ask), "xã Cao Lộc" the current commune. Current names win over former names written the
// same way, unless an old district named in the text says otherwise ("xã Chi Lăng, Tràng Định" → Thất Khê).
#include "messages/places.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <utility>

#include "messages/normalize.hpp"

namespace pgibot::messages {

namespace {

// The word before a name.
enum class Prefix { none, xa, phuong, thi_tran, huyen, thanh_pho, street };

// What an alias is.
enum class AliasKind { current, former, district };

struct Alias {
    std::size_t unit = 0;
    AliasKind kind = AliasKind::current;
    Prefix own_prefix = Prefix::none;  // the kind word it was written with ("thị trấn Thất Khê" -> thi_tran)
    std::vector<std::string> folded;   // "that", "khe"
    std::vector<std::string> exact;    // canonical NFC syllables: "thất", "khê"
    std::string qualifier;             // folded old district in parentheses: "trang dinh", "lang son"
    std::string display;               // as written in the data, without the parentheses
    bool needs_prefix = false;         // a common phrase too: only with a kind word before it
};

const Normalizer& plain_normalizer() {
    static const Normalizer n{};
    return n;
}

std::vector<std::string> fold_all(const std::vector<std::string>& syllables) {
    std::vector<std::string> out;
    out.reserve(syllables.size());
    for (const auto& s : syllables) out.push_back(fold_diacritics(s));
    return out;
}

std::string join(const std::vector<std::string>& v, std::size_t from = 0, std::size_t to = std::string::npos) {
    std::string out;
    to = std::min(to, v.size());
    for (std::size_t i = from; i < to; ++i) {
        if (!out.empty()) out += ' ';
        out += v[i];
    }
    return out;
}

// Reads a kind word at the start of folded syllables; returns how many syllables it took (0: none).
std::size_t leading_prefix(const std::vector<std::string>& f, Prefix& prefix) {
    if (f.size() >= 2) {
        const std::string two = f[0] + " " + f[1];
        if (two == "thi tran") { prefix = Prefix::thi_tran; return 2; }
        if (two == "thanh pho") { prefix = Prefix::thanh_pho; return 2; }
    }
    if (!f.empty()) {
        const std::string& w = f[0];
        if (w == "xa") { prefix = Prefix::xa; return 1; }
        if (w == "phuong") { prefix = Prefix::phuong; return 1; }
        if (w == "huyen") { prefix = Prefix::huyen; return 1; }
        if (w == "tp") { prefix = Prefix::thanh_pho; return 1; }
        if (w == "tt") { prefix = Prefix::thi_tran; return 1; }
    }
    prefix = Prefix::none;
    return 0;
}

// The kind word just before position `i` of the citizen's folded syllables.
Prefix prefix_before(const std::vector<std::string>& f, std::size_t i) {
    if (i >= 2) {
        const std::string two = f[i - 2] + " " + f[i - 1];
        if (two == "thi tran") return Prefix::thi_tran;
        if (two == "thanh pho") return Prefix::thanh_pho;
        if (two == "quoc lo" || two == "tinh lo") return Prefix::street;
    }
    if (i >= 1) {
        const std::string& w = f[i - 1];
        if (w == "xa" || w == "x") return Prefix::xa;
        if (w == "phuong" || w == "p") return Prefix::phuong;
        if (w == "tt" || w == "ttr") return Prefix::thi_tran;
        if (w == "huyen" || w == "h") return Prefix::huyen;
        if (w == "tp") return Prefix::thanh_pho;
        if (w == "duong" || w == "pho" || w == "ngo" || w == "hem" || w == "ngach" || w == "kiet" || w == "dg") {
            return Prefix::street;  // "đường Hoàng Văn Thụ", "phố Kỳ Lừa": a street, not a unit
        }
    }
    return Prefix::none;
}

// Former names that are also everyday phrases or street names: recognised only after a kind word
// ("đồng ý" is "agree"; "Quang Trung", "Minh Khai" are streets of the city).
bool common_phrase(const std::string& folded) {
    static const std::set<std::string, std::less<>> kCommon = {
        "dong y",    "hoa binh",  "thanh long", "dong tien", "quang trung", "minh khai", "hung dao",
        "de tham",   "ai quoc",   "tan lap",    "nhat tien", "trung thanh", "tan minh",  "quyet thang",
        "hoa thang", "nam quan",  "kim dong",   "tri phuong", "hoang viet", "bac viet",  "tan hoa",
        "minh tien", "chien thang", "thanh son", "cao minh", "an son"};
    return kCommon.contains(folded);
}

Prefix unit_prefix(std::string_view kind) { return kind == "phường" ? Prefix::phuong : Prefix::xa; }

// Strips "(huyện X)" from a former name; returns the folded district inside, if any.
std::string take_qualifier(std::string& text) {
    const auto open = text.find('(');
    if (open == std::string::npos) return {};
    const auto close = text.find(')', open);
    std::string inside = text.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
    text.erase(open, close == std::string::npos ? std::string::npos : close - open + 1);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    auto f = fold_all(plain_normalizer().syllables(inside));
    Prefix p = Prefix::none;
    const std::size_t skip = leading_prefix(f, p);
    return join(f, skip);
}

std::vector<Alias> build_aliases(const std::vector<Unit>& units) {
    std::vector<Alias> aliases;
    const Normalizer& norm = plain_normalizer();
    for (std::size_t u = 0; u < units.size(); ++u) {
        const Unit& unit = units[u];
        {
            auto exact = norm.syllables(unit.name);
            auto folded = fold_all(exact);
            Prefix p = Prefix::none;
            const std::size_t skip = leading_prefix(folded, p);
            Alias a;
            a.unit = u;
            a.kind = AliasKind::current;
            a.own_prefix = unit_prefix(unit.kind);
            a.folded.assign(folded.begin() + static_cast<std::ptrdiff_t>(skip), folded.end());
            a.exact.assign(exact.begin() + static_cast<std::ptrdiff_t>(skip), exact.end());
            a.display = unit.name;
            if (!a.folded.empty()) aliases.push_back(std::move(a));
        }
        for (const auto& former : unit.former_names) {
            std::string text = former;
            std::string qualifier = take_qualifier(text);
            auto exact = norm.syllables(text);
            auto folded = fold_all(exact);
            Prefix p = Prefix::none;
            const std::size_t skip = leading_prefix(folded, p);
            Alias a;
            a.unit = u;
            a.kind = (p == Prefix::huyen || p == Prefix::thanh_pho) ? AliasKind::district : AliasKind::former;
            a.own_prefix = p;
            a.folded.assign(folded.begin() + static_cast<std::ptrdiff_t>(skip), folded.end());
            a.exact.assign(exact.begin() + static_cast<std::ptrdiff_t>(skip), exact.end());
            a.qualifier = std::move(qualifier);
            a.display = text;
            a.needs_prefix = a.kind == AliasKind::former && common_phrase(join(a.folded));
            if (!a.folded.empty()) aliases.push_back(std::move(a));
        }
    }
    return aliases;
}

struct Hit {
    const Alias* alias = nullptr;
    std::size_t begin = 0;
    std::size_t end = 0;
    Prefix typed = Prefix::none;
    bool exact = false;
};

// Old districts a unit took land from (its "huyện X" / "thành phố Lạng Sơn" former names).
std::set<std::string> districts_of(const std::vector<Alias>& aliases, std::size_t unit) {
    std::set<std::string> out;
    for (const auto& a : aliases) {
        if (a.unit == unit && a.kind == AliasKind::district) out.insert(join(a.folded));
    }
    return out;
}

struct Candidate {
    std::size_t unit = 0;
    const Alias* alias = nullptr;
    std::size_t position = 0;
};

}  // namespace

struct Places::Index {
    std::vector<Alias> aliases;
};

Places::Places(std::vector<Unit> units)
    : units_(std::move(units)), index_(std::make_shared<const Index>(Index{build_aliases(units_)})) {}

const Unit* Places::find_code(std::string_view code) const {
    for (const auto& u : units_) {
        if (u.code == code) return &u;
    }
    return nullptr;
}

bool Places::inside_province(double lat, double lng) {
    // Lạng Sơn spans about 21°19'–22°27' N and 106°06'–107°21' E; a box with a small margin. Coordinates just
    // across the border (Bắc Giang, Quảng Ninh, Thái Nguyên, Cao Bằng, Guangxi) may pass: the citizen confirms
    // the commune anyway.
    return lat >= 21.30 && lat <= 22.50 && lng >= 106.05 && lng <= 107.40;
}

std::vector<PlaceMatch> Places::recognise(std::string_view text) const {
    if (units_.empty() || text.empty()) return {};
    const std::vector<Alias>& aliases = index_->aliases;
    const auto exact = plain_normalizer().syllables(text);
    const auto folded = fold_all(exact);

    // 1. Every occurrence of every alias.
    std::vector<Hit> hits;
    for (const auto& a : aliases) {
        const std::size_t n = a.folded.size();
        if (n == 0 || n > folded.size()) continue;
        for (std::size_t i = 0; i + n <= folded.size(); ++i) {
            if (!std::equal(a.folded.begin(), a.folded.end(), folded.begin() + static_cast<std::ptrdiff_t>(i))) {
                continue;
            }
            Hit h;
            h.alias = &a;
            h.begin = i;
            h.end = i + n;
            h.typed = prefix_before(folded, i);
            h.exact = std::equal(a.exact.begin(), a.exact.end(), exact.begin() + static_cast<std::ptrdiff_t>(i));
            if (h.typed == Prefix::street) continue;
            hits.push_back(h);
        }
    }
    if (hits.empty()) return {};

    // 2. Drop hits inside a longer hit, and of two overlapping hits the weaker ("xã Hưng Vũ Lạng Sơn" is not
    //    "Vũ Lăng": a kind word before a name, then exact diacritics, make a hit stronger); group the rest by span.
    auto strength = [](const Hit& h) { return (h.typed != Prefix::none ? 2 : 0) + (h.exact ? 1 : 0); };
    std::vector<Hit> kept;
    for (const auto& h : hits) {
        const bool beaten = std::any_of(hits.begin(), hits.end(), [&](const Hit& o) {
            if (o.begin <= h.begin && h.end <= o.end) return (o.end - o.begin) > (h.end - h.begin);
            const bool overlap = o.begin < h.end && h.begin < o.end;
            return overlap && strength(o) > strength(h);
        });
        if (!beaten) kept.push_back(h);
    }
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (const auto& h : kept) {
        const std::pair<std::size_t, std::size_t> s{h.begin, h.end};
        if (std::find(spans.begin(), spans.end(), s) == spans.end()) spans.push_back(s);
    }
    std::sort(spans.begin(), spans.end());

    // 3. Classify each span: a unit mention, a district mention, or a bare name that may be either.
    struct Group {
        std::vector<Candidate> current;   // current names, kind word compatible
        std::vector<Candidate> former;    // former names, kind word compatible
        std::vector<Candidate> wrong_kind;  // current names after a different kind word
        std::vector<Candidate> district;  // old district names
        bool district_word = false;       // "huyện X" / "tp X"
        std::string district_key;         // folded district name of this span, when it is one
    };
    std::vector<Group> groups;
    std::set<std::string> mentioned_districts;
    for (const auto& span : spans) {
        Group g;
        std::vector<Hit> in;
        for (const auto& h : kept) {
            if (h.begin == span.first && h.end == span.second) in.push_back(h);
        }
        // Diacritics typed: prefer names written exactly that way.
        if (std::any_of(in.begin(), in.end(), [](const Hit& h) { return h.exact; })) {
            std::erase_if(in, [](const Hit& h) { return !h.exact; });
        }
        for (const auto& h : in) {
            const Alias& a = *h.alias;
            const Candidate c{a.unit, &a, h.begin};
            switch (a.kind) {
            case AliasKind::current:
                if (h.typed == Prefix::none || h.typed == a.own_prefix) {
                    g.current.push_back(c);
                } else {
                    g.wrong_kind.push_back(c);
                }
                break;
            case AliasKind::former:
                if (h.typed == a.own_prefix || (h.typed == Prefix::none && !a.needs_prefix)) g.former.push_back(c);
                break;
            case AliasKind::district:
                // "thành phố Lạng Sơn" only with its word ("Lạng Sơn" alone is the province).
                if (h.typed == a.own_prefix || (h.typed == Prefix::none && a.own_prefix == Prefix::huyen)) {
                    g.district.push_back(c);
                    g.district_key = join(a.folded);
                    if (h.typed != Prefix::none) g.district_word = true;
                }
                break;
            }
        }
        if (g.current.empty() && g.former.empty() && g.wrong_kind.empty() && g.district.empty()) continue;
        if (g.district_word) mentioned_districts.insert(g.district_key);
        groups.push_back(std::move(g));
    }

    // 4. Unit mentions; bare district names ("..., Bình Gia") are districts when a unit is named elsewhere.
    auto unit_candidates = [](const Group& g) {
        if (!g.current.empty()) return g.current;
        if (!g.former.empty()) return g.former;
        return g.wrong_kind;
    };
    const bool any_unit_group = std::any_of(groups.begin(), groups.end(), [](const Group& g) {
        return !g.district_word && g.district.empty() &&
               (!g.current.empty() || !g.former.empty() || !g.wrong_kind.empty());
    });
    std::vector<Candidate> candidates;
    std::vector<Candidate> shadowed;  // former names hidden by a current one, revived by a district mention
    for (const auto& g : groups) {
        if (g.district_word) continue;
        if (!g.district.empty() && any_unit_group) {
            mentioned_districts.insert(g.district_key);
            continue;
        }
        auto c = unit_candidates(g);
        candidates.insert(candidates.end(), c.begin(), c.end());
        if (!g.current.empty()) shadowed.insert(shadowed.end(), g.former.begin(), g.former.end());
    }
    if (candidates.empty()) {
        for (const auto& g : groups) {
            if (g.district_word || !g.district.empty()) {
                candidates.insert(candidates.end(), g.district.begin(), g.district.end());
            }
        }
    }
    if (candidates.empty()) return {};

    // 5. An old district named in the text narrows the candidates (and may revive a shadowed former name).
    if (!mentioned_districts.empty()) {
        auto in_mentioned = [&](const Candidate& c) {
            if (!c.alias->qualifier.empty()) return mentioned_districts.contains(c.alias->qualifier);
            const auto ds = districts_of(aliases, c.unit);
            return std::any_of(ds.begin(), ds.end(), [&](const std::string& d) { return mentioned_districts.contains(d); });
        };
        std::vector<Candidate> pool = candidates;
        pool.insert(pool.end(), shadowed.begin(), shadowed.end());
        std::vector<Candidate> narrowed;
        std::copy_if(pool.begin(), pool.end(), std::back_inserter(narrowed), in_mentioned);
        if (!narrowed.empty()) candidates = std::move(narrowed);
    }

    // 6. One match per unit, in the order of the text; a unit named by its current name is not "via former".
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.position < b.position; });
    std::vector<PlaceMatch> out;
    for (const auto& c : candidates) {
        const bool via_former = c.alias->kind != AliasKind::current;
        auto it = std::find_if(out.begin(), out.end(), [&](const PlaceMatch& m) { return m.unit == &units_[c.unit]; });
        if (it == out.end()) {
            out.push_back(PlaceMatch{&units_[c.unit], via_former, c.alias->display});
        } else if (it->via_former_name && !via_former) {
            it->via_former_name = false;
            it->matched_text = c.alias->display;
        }
    }
    return out;
}

}  // namespace pgibot::messages
