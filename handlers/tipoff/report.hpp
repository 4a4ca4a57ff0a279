#pragma once
// A filed pollution tip-off as the handlers produce it. The runtime stores it (identity encrypted),
// gives it a reference code, and forwards it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/model/event.hpp"

namespace pgibot::tipoff {

enum class PollutionKind {
    wastewater,    // nước thải
    solid_waste,   // rác thải rắn, đổ trộm
    emissions,     // khói, bụi, khí thải
    odour,         // mùi hôi
    noise,         // tiếng ồn
    dead_animals,  // động vật chết trên sông suối
    burning,       // đốt rác, đốt chất thải
    hazardous,     // chất thải nguy hại
    other
};
std::string_view to_string(PollutionKind k);                 // "wastewater", ...
std::optional<PollutionKind> pollution_kind_from_string(std::string_view s);
std::string_view label_vi(PollutionKind k);                  // "Nước thải", ...

enum class Status { received, forwarded, in_progress, resolved, rejected, duplicate };
std::string_view to_string(Status s);
std::optional<Status> status_from_string(std::string_view s);
std::string_view label_vi(Status s);

struct Evidence {
    std::string url;         // where the platform served it (expires)
    std::string media_type;  // image | video | audio | file
};

// Confidential: encrypted at rest, never logged, never forwarded without consent.
struct ReporterIdentity {
    std::string platform_user_id;
    std::string name;
    std::string phone;
    std::string address;
};

struct Report {
    Platform platform = Platform::cli;
    std::string page_id;
    PollutionKind kind = PollutionKind::other;
    std::string description;     // what was seen
    std::string commune_code;    // official code of the commune/ward, "" if only coordinates
    std::string commune_name;    // "Phường Đông Kinh"
    std::string place_detail;    // street / village text
    std::optional<Location> location;
    std::string occurred_text;   // as typed: "sáng nay"
    std::string occurred_date;   // resolved, YYYY-MM-DD
    std::string suspect;         // optional
    std::vector<Evidence> evidence;
    bool anonymous = true;       // default
    bool consent_share_identity = false;  // the reporter agreed that the authority may see who they are
    ReporterIdentity reporter;   // platform_user_id always (for status updates); the rest only if given
};

std::string report_to_json(const Report& r);
std::optional<Report> report_from_json(std::string_view json);  // never throws

}  // namespace pgibot::tipoff
