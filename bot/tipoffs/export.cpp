#include "bot/tipoffs/export.hpp"

#include <algorithm>
#include <cstdio>

#include "bot/tipoffs/format_util.hpp"

namespace pgibot::tipoffs {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kCrlf = "\r\n";

// Decodes one UTF-8 code point at s[i] (advancing i); invalid bytes count as one character.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    char32_t cp = b0;
    if (b0 >= 0xF0 && b0 < 0xF8) {
        len = 4;
        cp = b0 & 0x07u;
    } else if (b0 >= 0xE0) {
        len = 3;
        cp = b0 & 0x0Fu;
    } else if (b0 >= 0xC0) {
        len = 2;
        cp = b0 & 0x1Fu;
    }
    if (len > 1) {
        if (i + len > s.size()) {
            ++i;
            return 0xFFFD;
        }
        for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    }
    i += len;
    return cp;
}

bool is_combining(char32_t cp) { return cp >= 0x300 && cp <= 0x36F; }

std::size_t display_width(std::string_view s) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size();)
        if (!is_combining(next_code_point(s, i))) ++w;
    return w;
}

// One line, at most `width` columns; "…" marks a cut.
std::string fit(std::string_view s, std::size_t width) {
    std::string one_line(s);
    std::replace_if(one_line.begin(), one_line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; },
                    ' ');
    if (display_width(one_line) <= width) {
        return one_line + std::string(width - display_width(one_line), ' ');
    }
    std::string out;
    std::size_t w = 0;
    for (std::size_t i = 0; i < one_line.size();) {
        const std::size_t start = i;
        const char32_t cp = next_code_point(one_line, i);
        if (!is_combining(cp)) {
            if (w + 1 >= width) break;
            ++w;
        }
        out.append(one_line, start, i - start);
    }
    out += "…";
    ++w;
    return out + std::string(width > w ? width - w : 0, ' ');
}

std::string rtrim(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// Excel formula injection guard for citizen-written text.
std::string safe_text(std::string_view s) {
    if (!s.empty() && (s.front() == '=' || s.front() == '+' || s.front() == '-' || s.front() == '@' ||
                       s.front() == '\t' || s.front() == '\r'))
        return "'" + std::string(s);
    return std::string(s);
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

void csv_row(std::string& out, const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i != 0) out += ',';
        out += csv_field(cells[i]);
    }
    out += kCrlf;
}

std::string place_text(const tipoff::Report& r) {
    std::string place = r.place_detail;
    if (!r.commune_name.empty()) place += (place.empty() ? "" : ", ") + r.commune_name;
    return place;
}

std::string status_cell(const store::TipoffRow& row) {
    std::string s(tipoff::to_string(row.status));
    if (forward_failed(row)) s += " (forward_failed)";
    return s;
}

nlohmann::json list_item_json(const store::TipoffRow& row) {
    auto j = tipoff_fields_json(row);
    j["forward_failed"] = forward_failed(row);
    return j;
}

}  // namespace

std::string csv_field(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::optional<ListFormat> list_format_from_string(std::string_view s) {
    if (s == "table") return ListFormat::table;
    if (s == "json") return ListFormat::json;
    if (s == "csv") return ListFormat::csv;
    return std::nullopt;
}

std::optional<ShowFormat> show_format_from_string(std::string_view s) {
    if (s == "text") return ShowFormat::text;
    if (s == "json") return ShowFormat::json;
    return std::nullopt;
}

std::string format_tipoff_list(const std::vector<store::TipoffRow>& rows, ListFormat format) {
    if (format == ListFormat::json) {
        auto arr = nlohmann::json::array();
        for (const auto& row : rows) arr.push_back(list_item_json(row));
        return dump_json(arr, 2) + "\n";
    }
    if (format == ListFormat::csv) {
        std::string out;
        csv_row(out, {"code", "created_at", "status", "forward_failed", "kind", "commune_code", "commune_name",
                      "description"});
        for (const auto& row : rows) {
            csv_row(out, {row.code, iso_time_vn(row.created_ms), std::string(tipoff::to_string(row.status)),
                          forward_failed(row) ? "true" : "false", std::string(tipoff::to_string(row.report.kind)),
                          row.report.commune_code, row.report.commune_name, row.report.description});
        }
        return out;
    }
    // table
    struct Col {
        std::string_view title;
        std::size_t width;
    };
    const Col cols[] = {{"MÃ", 14}, {"TIẾP NHẬN", 16}, {"TRẠNG THÁI", 28}, {"LOẠI", 14}, {"XÃ/PHƯỜNG", 20},
                        {"MÔ TẢ", 40}};
    std::string out;
    for (const auto& c : cols) out += fit(c.title, c.width) + "  ";
    out = rtrim(out) + "\n";
    for (const auto& row : rows) {
        const std::string cells[] = {row.code,
                                     display_time_vn(row.created_ms),
                                     status_cell(row),
                                     std::string(tipoff::label_vi(row.report.kind)),
                                     row.report.commune_name.empty() ? row.report.commune_code
                                                                     : row.report.commune_name,
                                     row.report.description};
        std::string line;
        for (std::size_t i = 0; i < std::size(cols); ++i) line += fit(cells[i], cols[i].width) + "  ";
        out += rtrim(line) + "\n";
    }
    out += "(" + std::to_string(rows.size()) + " phản ánh)\n";
    return out;
}

std::string format_tipoff_show(const store::TipoffRow& row, const std::vector<store::ForwardAttempt>& attempts,
                               ShowFormat format, const ShowOptions& options) {
    std::optional<tipoff::ReporterIdentity> identity;
    bool open_failed = false;
    const bool sealed = !row.identity_sealed.empty();
    if (options.reveal && options.vault != nullptr && sealed) {
        identity = options.vault->open(row.identity_sealed);
        open_failed = !identity;
    }

    if (format == ShowFormat::json) {
        auto j = tipoff_fields_json(row);
        j["forward_failed"] = forward_failed(row);
        auto history = nlohmann::json::array();
        for (const auto& h : row.history)
            history.push_back({{"status", std::string(tipoff::to_string(h.status))},
                               {"by", h.by},
                               {"note", h.note},
                               {"at", iso_time_vn(h.at_ms)}});
        j["history"] = history;
        auto forwards = nlohmann::json::array();
        for (const auto& a : attempts)
            forwards.push_back({{"channel", a.channel},
                                {"target", a.target},
                                {"ok", a.ok},
                                {"detail", a.detail},
                                {"at", iso_time_vn(a.at_ms)}});
        j["forward_attempts"] = forwards;
        if (identity) {
            auto id = identity_json(*identity);
            id["platform_user_id"] = identity->platform_user_id;
            j["reporter"] = id;
        } else if (open_failed) {
            j["reporter"] = {{"error", "cannot decrypt: wrong key or damaged data"}};
        } else {
            j["reporter"] = sealed ? nlohmann::json("sealed") : nlohmann::json(nullptr);
        }
        return dump_json(j, 2) + "\n";
    }

    const auto& r = row.report;
    std::string t;
    auto line = [&t](std::string_view label, std::string_view value) {
        if (value.empty()) return;
        t += "  " + fit(label, 20) + " " + std::string(value) + "\n";
    };
    t += "Phản ánh " + row.code + "\n";
    line("Trạng thái", std::string(tipoff::label_vi(row.status)) + " (" + std::string(tipoff::to_string(row.status)) +
                           ")");
    if (forward_failed(row)) line("CẢNH BÁO", "CHUYỂN TIẾP THẤT BẠI (forward_failed) - xem các lần gửi bên dưới");
    line("Tiếp nhận", display_time_vn(row.created_ms));
    if (row.updated_ms != 0) line("Cập nhật", display_time_vn(row.updated_ms));
    line("Loại", tipoff::label_vi(r.kind));
    line("Mô tả", r.description);
    line("Địa điểm", place_text(r));
    line("Mã xã/phường", r.commune_code);
    if (r.location) line("Tọa độ", number(r.location->lat) + ", " + number(r.location->lng));
    std::string when = r.occurred_text;
    if (!r.occurred_date.empty()) when += (when.empty() ? "" : " - ") + display_date(r.occurred_date);
    line("Thời gian xảy ra", when);
    line("Đối tượng", r.suspect);
    for (std::size_t i = 0; i < r.evidence.size(); ++i)
        line(i == 0 ? "Bằng chứng" : "", "[" + r.evidence[i].media_type + "] " + r.evidence[i].url);
    line("Nền tảng", to_string(r.platform));
    line("Ẩn danh", r.anonymous ? "có" : "không");
    line("Đồng ý chia sẻ", r.consent_share_identity ? "có" : "không");
    if (identity) {
        line("Người phản ánh", identity->name.empty() ? "(không cho biết tên)" : identity->name);
        line("Điện thoại", identity->phone);
        line("Địa chỉ", identity->address);
        line("Mã người dùng", identity->platform_user_id);
    } else if (open_failed) {
        line("Người phản ánh", "KHÔNG GIẢI MÃ ĐƯỢC (sai khóa hoặc dữ liệu hỏng)");
    } else if (sealed) {
        line("Người phản ánh", "[đã mã hóa]");
    }
    t += "Lịch sử trạng thái:\n";
    if (row.history.empty()) t += "  (trống)\n";
    for (const auto& h : row.history) {
        std::string l = "  " + display_time_vn(h.at_ms) + "  " + fit(tipoff::to_string(h.status), 12) + " " +
                        fit(h.by, 10) + " " + h.note;
        t += rtrim(l) + "\n";
    }
    t += "Các lần chuyển tiếp:\n";
    if (attempts.empty()) t += "  (chưa có)\n";
    for (const auto& a : attempts) {
        std::string l = "  " + display_time_vn(a.at_ms) + "  " + fit(a.channel, 8) + " " +
                        (a.ok ? "OK    " : "LỖI   ") + a.target + "  " + a.detail;
        t += rtrim(l) + "\n";
    }
    return t;
}

std::string export_tipoffs_csv(const std::vector<store::TipoffRow>& rows) {
    std::string out(kBom);
    csv_row(out, {"Mã phản ánh", "Thời điểm tiếp nhận", "Trạng thái", "Mã trạng thái", "Chuyển tiếp thất bại",
                  "Loại ô nhiễm", "Mã xã/phường", "Xã/phường", "Địa điểm cụ thể", "Vĩ độ", "Kinh độ",
                  "Thời gian xảy ra", "Ngày xảy ra", "Mô tả", "Đối tượng gây ô nhiễm", "Bằng chứng", "Ẩn danh",
                  "Đồng ý chia sẻ danh tính", "Cập nhật lần cuối"});
    for (const auto& row : rows) {
        const auto& r = row.report;
        std::string evidence;
        for (const auto& e : r.evidence) {
            if (!evidence.empty()) evidence += "\n";
            evidence += e.url;
        }
        csv_row(out, {row.code,
                      display_time_vn(row.created_ms),
                      std::string(tipoff::label_vi(row.status)),
                      std::string(tipoff::to_string(row.status)),
                      forward_failed(row) ? "có" : "",
                      std::string(tipoff::label_vi(r.kind)),
                      r.commune_code,
                      safe_text(r.commune_name),
                      safe_text(r.place_detail),
                      r.location ? number(r.location->lat) : "",
                      r.location ? number(r.location->lng) : "",
                      safe_text(r.occurred_text),
                      display_date(r.occurred_date),
                      safe_text(r.description),
                      safe_text(r.suspect),
                      safe_text(evidence),
                      r.anonymous ? "có" : "không",
                      r.consent_share_identity ? "có" : "không",
                      display_time_vn(row.updated_ms != 0 ? row.updated_ms : row.created_ms)});
    }
    return out;
}

}  // namespace pgibot::tipoffs
