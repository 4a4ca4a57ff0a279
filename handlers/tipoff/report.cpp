// A filed tip-off: enum names, Vietnamese labels and the JSON round trip (stored by the runtime, encrypted there).
#include "handlers/tipoff/report.hpp"

#include <array>
#include <cmath>
#include <utility>

#include "handlers/model/json_util.hpp"

namespace pgibot::tipoff {

namespace {

using model_json::Json;
using model_json::read;

struct KindName {
    PollutionKind kind;
    std::string_view name;
    std::string_view label;
};
constexpr std::array<KindName, 9> kKinds{{
    {PollutionKind::wastewater, "wastewater", "Nước thải"},
    {PollutionKind::solid_waste, "solid_waste", "Rác thải, đổ trộm"},
    {PollutionKind::emissions, "emissions", "Khói, bụi, khí thải"},
    {PollutionKind::odour, "odour", "Mùi hôi"},
    {PollutionKind::noise, "noise", "Tiếng ồn"},
    {PollutionKind::dead_animals, "dead_animals", "Động vật chết"},
    {PollutionKind::burning, "burning", "Đốt rác, chất thải"},
    {PollutionKind::hazardous, "hazardous", "Chất thải nguy hại"},
    {PollutionKind::other, "other", "Khác"},
}};

struct StatusName {
    Status status;
    std::string_view name;
    std::string_view label;
};
constexpr std::array<StatusName, 6> kStatuses{{
    {Status::received, "received", "Đã tiếp nhận"},
    {Status::forwarded, "forwarded", "Đã chuyển cơ quan chức năng"},
    {Status::in_progress, "in_progress", "Đang xác minh, xử lý"},
    {Status::resolved, "resolved", "Đã xử lý xong"},
    {Status::rejected, "rejected", "Không đủ cơ sở xử lý"},
    {Status::duplicate, "duplicate", "Trùng phản ánh đã có"},
}};

}  // namespace

std::string_view to_string(PollutionKind k) {
    for (const auto& e : kKinds) {
        if (e.kind == k) return e.name;
    }
    return "other";
}

std::optional<PollutionKind> pollution_kind_from_string(std::string_view s) {
    for (const auto& e : kKinds) {
        if (e.name == s) return e.kind;
    }
    return std::nullopt;
}

std::string_view label_vi(PollutionKind k) {
    for (const auto& e : kKinds) {
        if (e.kind == k) return e.label;
    }
    return "Khác";
}

std::string_view to_string(Status s) {
    for (const auto& e : kStatuses) {
        if (e.status == s) return e.name;
    }
    return "received";
}

std::optional<Status> status_from_string(std::string_view s) {
    for (const auto& e : kStatuses) {
        if (e.name == s) return e.status;
    }
    return std::nullopt;
}

std::string_view label_vi(Status s) {
    for (const auto& e : kStatuses) {
        if (e.status == s) return e.label;
    }
    return "Đã tiếp nhận";
}

std::string report_to_json(const Report& r) {
    Json evidence = Json::array();
    for (const auto& e : r.evidence) evidence.push_back(Json{{"url", e.url}, {"media_type", e.media_type}});
    Json j{
        {"platform", std::string(to_string(r.platform))},
        {"page_id", r.page_id},
        {"kind", std::string(to_string(r.kind))},
        {"description", r.description},
        {"commune_code", r.commune_code},
        {"commune_name", r.commune_name},
        {"place_detail", r.place_detail},
        {"location", r.location ? Json{{"lat", r.location->lat}, {"lng", r.location->lng}} : Json(nullptr)},
        {"occurred_text", r.occurred_text},
        {"occurred_date", r.occurred_date},
        {"suspect", r.suspect},
        {"evidence", std::move(evidence)},
        {"anonymous", r.anonymous},
        {"consent_share_identity", r.consent_share_identity},
        {"reporter",
         Json{{"platform_user_id", r.reporter.platform_user_id},
              {"name", r.reporter.name},
              {"phone", r.reporter.phone},
              {"address", r.reporter.address}}},
    };
    return model_json::dump(j);
}

std::optional<Report> report_from_json(std::string_view json) {
    auto parsed = model_json::parse(json);
    if (!parsed || !parsed->is_object()) return std::nullopt;
    const Json& j = *parsed;
    Report r;
    std::string platform;
    std::string kind = "other";
    if (!read(j, "platform", platform) || !read(j, "page_id", r.page_id) || !read(j, "kind", kind) ||
        !read(j, "description", r.description) || !read(j, "commune_code", r.commune_code) ||
        !read(j, "commune_name", r.commune_name) || !read(j, "place_detail", r.place_detail) ||
        !read(j, "occurred_text", r.occurred_text) || !read(j, "occurred_date", r.occurred_date) ||
        !read(j, "suspect", r.suspect) || !read(j, "anonymous", r.anonymous) ||
        !read(j, "consent_share_identity", r.consent_share_identity)) {
        return std::nullopt;
    }
    if (!platform.empty()) {
        auto p = platform_from_string(platform);
        if (!p) return std::nullopt;
        r.platform = *p;
    }
    auto k = pollution_kind_from_string(kind);
    if (!k) return std::nullopt;
    r.kind = *k;

    if (auto it = j.find("location"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return std::nullopt;
        Location loc;
        if (!it->contains("lat") || !it->contains("lng") || !read(*it, "lat", loc.lat) || !read(*it, "lng", loc.lng) ||
            !std::isfinite(loc.lat) || !std::isfinite(loc.lng)) {
            return std::nullopt;
        }
        r.location = loc;
    }
    if (auto it = j.find("evidence"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) return std::nullopt;
        for (const auto& e : *it) {
            if (!e.is_object()) return std::nullopt;
            Evidence ev;
            if (!read(e, "url", ev.url) || !read(e, "media_type", ev.media_type)) return std::nullopt;
            r.evidence.push_back(std::move(ev));
        }
    }
    if (auto it = j.find("reporter"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return std::nullopt;
        if (!read(*it, "platform_user_id", r.reporter.platform_user_id) || !read(*it, "name", r.reporter.name) ||
            !read(*it, "phone", r.reporter.phone) || !read(*it, "address", r.reporter.address)) {
            return std::nullopt;
        }
    }
    return r;
}

}  // namespace pgibot::tipoff
