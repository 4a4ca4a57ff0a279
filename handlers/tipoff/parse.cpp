// Readers for the tip-off dialog's free-text answers (see parse.hpp).
#include "handlers/tipoff/parse.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <vector>

#include "messages/normalize.hpp"

namespace pgibot::tipoff {

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t y;
    unsigned m;
    unsigned d;
};
Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

std::string format_day(std::int64_t day) {
    const Civil c = civil_from_days(day);
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
    return buf.data();
}

bool valid_date(std::int64_t y, unsigned m, unsigned d) {
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    return civil_from_days(days_from_civil(y, m, d)).m == m;  // rejects 31/4, 30/2
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// Monday = 0 ... Sunday = 6. 1970-01-01 was a Thursday.
int weekday(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 3) % 7); }

// The syllables of the text, folded and joined with single spaces, padded with spaces for whole-word search.
std::string folded_words(std::string_view text) {
    static const messages::Normalizer plain{};
    std::string out = " ";
    for (const auto& s : plain.syllables(text)) {
        out += messages::fold_diacritics(s);
        out += ' ';
    }
    return out;
}

bool has(const std::string& padded, std::string_view phrase) {
    std::string needle = " ";
    needle += phrase;
    needle += ' ';
    return padded.find(needle) != std::string::npos;
}

std::optional<int> small_number(const std::string& word) {
    int value = 0;
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (ec == std::errc() && ptr == word.data() + word.size()) return value;
    static const std::array<std::pair<std::string_view, int>, 11> kWords{{
        {"mot", 1}, {"hai", 2}, {"ba", 3}, {"bon", 4}, {"tu", 4}, {"nam", 5}, {"sau", 6}, {"bay", 7},
        {"tam", 8}, {"chin", 9}, {"muoi", 10}}};
    for (const auto& [w, v] : kWords) {
        if (word == w) return v;
    }
    return std::nullopt;
}

// "thu hai" -> 0 (Monday) ... "chu nhat" -> 6.
std::optional<int> weekday_at(const std::vector<std::string>& w, std::size_t i, std::size_t& len) {
    if (w[i] == "chu" && i + 1 < w.size() && w[i + 1] == "nhat") {
        len = 2;
        return 6;
    }
    if (w[i] == "cn") {
        len = 1;
        return 6;
    }
    if (w[i].size() == 2 && w[i][0] == 't' && w[i][1] >= '2' && w[i][1] <= '7') {
        len = 1;
        return w[i][1] - '2';
    }
    if (w[i] == "thu" && i + 1 < w.size()) {
        static const std::array<std::pair<std::string_view, int>, 12> kDays{{
            {"hai", 0}, {"2", 0}, {"ba", 1}, {"3", 1}, {"tu", 2}, {"4", 2}, {"nam", 3}, {"5", 3},
            {"sau", 4}, {"6", 4}, {"bay", 5}, {"7", 5}}};
        for (const auto& [name, idx] : kDays) {
            if (w[i + 1] == name) {
                len = 2;
                return idx;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

int utc_offset_minutes(std::string_view offset) {
    static const std::regex re(R"(^\s*(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?\s*$)", std::regex::icase);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(offset.begin(), offset.end(), m, re)) return 420;
    const int hours = std::stoi(m[2].str());
    const int minutes = m[3].matched ? std::stoi(m[3].str()) : 0;
    if (hours > 14 || minutes > 59) return 420;
    const int total = hours * 60 + minutes;
    return m[1].str() == "-" ? -total : total;
}

std::optional<std::string> resolve_date(std::string_view text, std::int64_t now_ms, int utc_offset_min) {
    const std::int64_t local_ms = now_ms + static_cast<std::int64_t>(utc_offset_min) * 60000;
    const std::int64_t today = floor_div(local_ms, kDayMs);
    const Civil now = civil_from_days(today);

    auto dated = [&](std::int64_t y, unsigned m, unsigned d, bool year_given) -> std::optional<std::string> {
        if (!year_given) y = now.y;
        if (y < 100) y += 2000;
        if (!valid_date(y, m, d)) return std::nullopt;
        std::int64_t day = days_from_civil(y, m, d);
        if (!year_given && day > today) {
            if (!valid_date(y - 1, m, d)) return std::nullopt;
            day = days_from_civil(y - 1, m, d);
        }
        return format_day(day);
    };

    // 1. Numeric dates: 15/11, 15-11-2026, 15.11.26.
    {
        static const std::regex re(R"((^|[^\d])(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?(?!\d))");
        std::match_results<std::string_view::const_iterator> m;
        if (std::regex_search(text.begin(), text.end(), m, re)) {
            const auto d = static_cast<unsigned>(std::stoi(m[2].str()));
            const auto mo = static_cast<unsigned>(std::stoi(m[3].str()));
            const bool year_given = m[4].matched;
            const std::int64_t y = year_given ? std::stoll(m[4].str()) : 0;
            if (auto r = dated(y, mo, d, year_given)) return r;
        }
    }
    const std::string padded = folded_words(text);
    std::vector<std::string> w;
    {
        std::size_t pos = 1;
        while (pos < padded.size()) {
            const auto next = padded.find(' ', pos);
            if (next == std::string::npos) break;
            if (next > pos) w.push_back(padded.substr(pos, next - pos));
            pos = next + 1;
        }
    }
    // 2. "ngày 15 tháng 11 (năm 2026)".
    for (std::size_t i = 0; i + 3 < w.size(); ++i) {
        if (w[i] != "ngay" || w[i + 2] != "thang") continue;
        auto d = small_number(w[i + 1]);
        auto mo = small_number(w[i + 3]);
        if (!d || !mo) continue;
        bool year_given = false;
        std::int64_t y = 0;
        if (i + 5 < w.size() && w[i + 4] == "nam") {
            if (auto yy = small_number(w[i + 5]); yy && *yy >= 1900) {
                y = *yy;
                year_given = true;
            }
        }
        if (auto r = dated(y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d), year_given)) return r;
    }
    // 3. Weekdays: "thứ hai tuần trước", "chủ nhật", "t7 vừa rồi".
    for (std::size_t i = 0; i < w.size(); ++i) {
        std::size_t len = 0;
        auto wd = weekday_at(w, i, len);
        if (!wd) continue;
        const std::size_t after = i + len;
        const bool last_week = after + 1 < w.size() && w[after] == "tuan" &&
                               (w[after + 1] == "truoc" || w[after + 1] == "roi" || w[after + 1] == "qua");
        const int today_wd = weekday(today);
        if (last_week) {
            const std::int64_t monday_this_week = today - today_wd;
            return format_day(monday_this_week - 7 + *wd);
        }
        int back = today_wd - *wd;
        if (back < 0) back += 7;
        return format_day(today - back);
    }
    // 4. "2 hôm trước", "ba ngày trước", "cách đây 3 ngày", "5 tiếng trước", "2 tuần trước".
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
        auto n = small_number(w[i]);
        if (!n || *n < 0 || *n > 400) continue;
        const std::string& unit = w[i + 1];
        const bool ago = (i + 2 < w.size() && (w[i + 2] == "truoc" || w[i + 2] == "roi" || w[i + 2] == "nay")) ||
                         (i >= 2 && w[i - 2] == "cach" && w[i - 1] == "day");
        if (!ago) continue;
        if (unit == "hom" || unit == "ngay") return format_day(today - *n);
        if (unit == "tuan") return format_day(today - 7LL * *n);
        if (unit == "tieng" || unit == "gio") {
            return format_day(floor_div(local_ms - static_cast<std::int64_t>(*n) * 3600000, kDayMs));
        }
        if (unit == "phut") return format_day(floor_div(local_ms - static_cast<std::int64_t>(*n) * 60000, kDayMs));
    }
    // 5. Relative words.
    if (has(padded, "hom kia") || has(padded, "bua kia")) return format_day(today - 2);
    static const std::array<std::string_view, 12> kYesterday{
        "hom qua", "toi qua", "dem qua", "chieu qua", "sang qua", "trua qua", "bua qua", "hqua", "hom wa", "toi wa",
        "dem wa", "ngay hom qua"};
    for (auto p : kYesterday) {
        if (has(padded, p)) return format_day(today - 1);
    }
    if (has(padded, "tuan truoc") || has(padded, "tuan roi")) return format_day(today - 7);
    static const std::array<std::string_view, 22> kToday{
        "vua xong", "vua roi",   "vua nay",   "vua moi",   "luc nay",   "bay gio",  "hien tai",  "hien gio",
        "hom nay",  "sang nay",  "trua nay",  "chieu nay", "toi nay",   "dem nay",  "ban nay",   "ngay hom nay",
        "dang dien ra", "hien dang", "van dang", "hang ngay", "thuong xuyen", "moi ngay"};
    for (auto p : kToday) {
        if (has(padded, p)) return format_day(today);
    }
    if (has(padded, "lien tuc") || has(padded, "suot ngay") || has(padded, "hnay") || has(padded, "sang som")) {
        return format_day(today);
    }
    return std::nullopt;
}

std::optional<Location> parse_coordinates(std::string_view text) {
    static const std::array<std::regex, 4> kPatterns{
        std::regex(R"(@(-?\d{1,2}\.\d+),\s*(-?\d{1,3}\.\d+))"),
        std::regex(R"([?&](?:q|query|ll|center|destination|daddr|sll)=(?:loc:)?(-?\d{1,2}\.\d+)\s*(?:,|%2C)\s*(?:\+)?(-?\d{1,3}\.\d+))",
                   std::regex::icase),
        std::regex(R"(!3d(-?\d{1,2}\.\d+)!4d(-?\d{1,3}\.\d+))"),
        std::regex(R"((?:^|[^\d.])(-?\d{1,2}\.\d{3,})\s*[,;]\s*(-?\d{1,3}\.\d{3,}))"),
    };
    for (const auto& re : kPatterns) {
        std::match_results<std::string_view::const_iterator> m;
        if (!std::regex_search(text.begin(), text.end(), m, re)) continue;
        Location loc;
        loc.lat = std::strtod(m[1].str().c_str(), nullptr);
        loc.lng = std::strtod(m[2].str().c_str(), nullptr);
        if (!std::isfinite(loc.lat) || !std::isfinite(loc.lng) || std::fabs(loc.lat) > 90 || std::fabs(loc.lng) > 180) {
            continue;
        }
        return loc;
    }
    return std::nullopt;
}

std::optional<std::string> parse_ref_code(std::string_view text) {
    static const std::regex re(R"((?:^|[^a-z0-9])l\s*s\s*[-_.]?\s*(\d{4})\s*[-_.]?\s*(\d{1,6})(?!\d))", std::regex::icase);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(text.begin(), text.end(), m, re)) return std::nullopt;
    std::string serial = m[2].str();
    if (serial.size() < 4) serial.insert(0, 4 - serial.size(), '0');
    return "LS-" + m[1].str() + "-" + serial;
}

std::optional<PollutionKind> kind_from_folded(std::string_view folded) {
    std::string padded = " ";
    padded += folded;
    padded += ' ';
    auto any = [&](std::initializer_list<std::string_view> phrases) {
        for (auto p : phrases) {
            std::string needle = " ";
            needle += p;
            needle += ' ';
            if (padded.find(needle) != std::string::npos) return true;
        }
        return false;
    };
    // Order matters: the most specific first ("đốt rác" is burning, not solid waste).
    if (any({"nguy hai", "ctnh", "hoa chat", "thuoc tru sau", "thuoc bvtv", "dau thai", "pin", "ac quy",
             "chat thai y te", "rac thai y te", "bong den", "kim tiem", "thuy ngan"})) {
        return PollutionKind::hazardous;
    }
    if (any({"dot rac", "dot chat thai", "dot lop", "dot nhua", "dot day dien", "dot rom", "dot phe thai", "chay rac",
             "dot bao bi", "dot vo"})) {
        return PollutionKind::burning;
    }
    if (any({"ca chet", "dong vat chet", "xac dong vat", "xac chet", "lon chet", "ga chet", "vit chet", "trau chet",
             "bo chet", "xac lon", "xac ga", "ca noi"})) {
        return PollutionKind::dead_animals;
    }
    if (any({"nuoc thai", "xa thai", "xa nuoc", "nuoc ban", "nuoc den", "nuoc do", "nuoc doi", "cong thai",
             "nuoc chay ra", "ong xa", "xa ra suoi", "xa ra song"})) {
        return PollutionKind::wastewater;
    }
    if (any({"boc khoi", "xa khoi", "nha khoi", "khoi den", "khoi trang", "khoi bui", "khoi mu", "nhieu khoi",
             "khoi bay", "bui", "bui ban", "khi thai", "ong khoi", "mu mit", "khi doc"})) return PollutionKind::emissions;
    if (any({"mui hoi", "hoi thoi", "boc mui", "mui kho chiu", "mui la", "mui hac", "thoi um", "hoi qua", "mui thoi"})) return PollutionKind::odour;
    if (any({"tieng on", "on ao", "gay on", "rat on", "on qua", "on ca dem", "keu to", "loa keo", "may no",
             "rung lac"})) return PollutionKind::noise;
    if (any({"do rac", "rac", "rac thai", "do trom", "do phe thai", "phe thai", "xa rac", "vut rac", "bai rac",
             "chat thai ran", "ctr", "do dat", "vat lieu xay dung"})) {
        return PollutionKind::solid_waste;
    }
    return std::nullopt;
}

std::optional<std::string> parse_phone(std::string_view text) {
    std::string digits;
    std::string best;
    auto flush = [&] {
        std::string d = digits;
        digits.clear();
        if (d.rfind("84", 0) == 0 && (d.size() == 11 || d.size() == 12)) d = "0" + d.substr(2);
        if (d.size() >= 10 && d.size() <= 11 && d[0] == '0' && best.empty()) best = d;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if ((c == ' ' || c == '.' || c == '-') && !digits.empty() && i + 1 < text.size() && text[i + 1] >= '0' &&
                   text[i + 1] <= '9') {
            continue;  // "0912 345 678", "0912.345.678"
        } else if (c == '+' && digits.empty()) {
            continue;
        } else {
            flush();
        }
    }
    flush();
    if (best.empty()) return std::nullopt;
    return best;
}

}  // namespace pgibot::tipoff
