#pragma once
// Shared formatting for bot/tipoffs: Vietnam time (UTC+7, no DST), the JSON fields of a stored tip-off.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/store/store.hpp"

namespace pgibot::tipoffs {

// Note put in a status-history entry when forwarding gave up (see ForwardQueue); export shows it.
inline constexpr std::string_view kForwardFailedNote = "forward_failed";

// "2025-07-01T09:30:00+07:00"
std::string iso_time_vn(std::int64_t ms);
// "09:30 01/07/2025"
std::string display_time_vn(std::int64_t ms);
// "Tue, 01 Jul 2025 09:30:00 +0700" (e-mail Date header)
std::string rfc5322_date_vn(std::int64_t ms);
// "01/07/2025" from "2025-07-01"; the input unchanged when it is not YYYY-MM-DD.
std::string display_date(std::string_view ymd);

// The report's fields (no identity) as forwarded and exported: code, kind, kind_label, description,
// place, commune {code, name}, coordinates {lat, lng} | null, occurred {text, date}, suspect,
// evidence [{url, media_type, sha256}] (sha256 from the downloaded evidence rows, else null),
// anonymous, consent_share_identity, status, status_label, created_at, created_ms, updated_at.
nlohmann::json tipoff_fields_json(const store::TipoffRow& row,
                                  const std::vector<store::EvidenceRow>& evidence_rows = {});
nlohmann::json identity_json(const tipoff::ReporterIdentity& identity);

// True when the last history entry about forwarding is a give-up note and the status is still received.
bool forward_failed(const store::TipoffRow& row);

// Serialise without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dump_json(const nlohmann::json& j, int indent = -1);

}  // namespace pgibot::tipoffs
