#include "bot/tipoffs/format_util.hpp"

#include <cstdio>

namespace pgibot::tipoffs {
namespace {

constexpr std::int64_t kVnOffsetMs = 7LL * 3600 * 1000;

struct Civil {
    int year, month, day, hour, minute, second;
};

// Howard Hinnant's civil_from_days.
Civil civil_vn(std::int64_t ms) {
    std::int64_t local = ms + kVnOffsetMs;
    std::int64_t days = local / 86'400'000;
    std::int64_t rem = local % 86'400'000;
    if (rem < 0) {
        rem += 86'400'000;
        --days;
    }
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const std::int64_t secs = rem / 1000;
    return {static_cast<int>(y), static_cast<int>(m), static_cast<int>(d), static_cast<int>(secs / 3600),
            static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60)};
}

}  // namespace

std::string iso_time_vn(std::int64_t ms) {
    const auto c = civil_vn(ms);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", c.year, c.month, c.day, c.hour, c.minute,
                  c.second);
    return buf;
}

std::string display_time_vn(std::int64_t ms) {
    const auto c = civil_vn(ms);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%02d:%02d %02d/%02d/%04d", c.hour, c.minute, c.day, c.month, c.year);
    return buf;
}

std::string rfc5322_date_vn(std::int64_t ms) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto c = civil_vn(ms);
    std::int64_t days = (ms + kVnOffsetMs) / 86'400'000;
    if ((ms + kVnOffsetMs) % 86'400'000 < 0) --days;
    const auto wd = static_cast<std::size_t>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0700", kDays[wd], c.day,
                  kMonths[static_cast<std::size_t>(c.month - 1)], c.year, c.hour, c.minute, c.second);
    return buf;
}

std::string display_date(std::string_view ymd) {
    if (ymd.size() != 10 || ymd[4] != '-' || ymd[7] != '-') return std::string(ymd);
    return std::string(ymd.substr(8, 2)) + "/" + std::string(ymd.substr(5, 2)) + "/" + std::string(ymd.substr(0, 4));
}

nlohmann::json tipoff_fields_json(const store::TipoffRow& row, const std::vector<store::EvidenceRow>& evidence_rows) {
    const auto& r = row.report;
    nlohmann::json evidence = nlohmann::json::array();
    for (std::size_t i = 0; i < r.evidence.size(); ++i) {
        nlohmann::json sha = nullptr;
        for (const auto& er : evidence_rows) {
            if (static_cast<std::size_t>(er.position) == i && er.state == store::EvidenceState::downloaded &&
                !er.sha256.empty())
                sha = er.sha256;
        }
        evidence.push_back({{"url", r.evidence[i].url}, {"media_type", r.evidence[i].media_type}, {"sha256", sha}});
    }
    nlohmann::json coordinates = nullptr;
    if (r.location) coordinates = {{"lat", r.location->lat}, {"lng", r.location->lng}};
    return {
        {"code", row.code},
        {"kind", std::string(tipoff::to_string(r.kind))},
        {"kind_label", std::string(tipoff::label_vi(r.kind))},
        {"description", r.description},
        {"place", r.place_detail},
        {"commune", {{"code", r.commune_code}, {"name", r.commune_name}}},
        {"coordinates", coordinates},
        {"occurred", {{"text", r.occurred_text}, {"date", r.occurred_date}}},
        {"suspect", r.suspect},
        {"evidence", evidence},
        {"anonymous", r.anonymous},
        {"consent_share_identity", r.consent_share_identity},
        {"status", std::string(tipoff::to_string(row.status))},
        {"status_label", std::string(tipoff::label_vi(row.status))},
        {"created_at", iso_time_vn(row.created_ms)},
        {"created_ms", row.created_ms},
        {"updated_at", iso_time_vn(row.updated_ms != 0 ? row.updated_ms : row.created_ms)},
    };
}

nlohmann::json identity_json(const tipoff::ReporterIdentity& identity) {
    return {{"name", identity.name}, {"phone", identity.phone}, {"address", identity.address}};
}

bool forward_failed(const store::TipoffRow& row) {
    if (row.status != tipoff::Status::received) return false;
    for (auto it = row.history.rbegin(); it != row.history.rend(); ++it) {
        if (it->note.starts_with(kForwardFailedNote)) return true;
    }
    return false;
}

std::string dump_json(const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pgibot::tipoffs
