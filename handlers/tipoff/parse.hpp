#pragma once
// Readers the tip-off dialog applies to a citizen's free text: when it happened, where (coordinates in a shared
// link), what kind of pollution, a reference code, a phone number. Pure functions, tested on their own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "handlers/model/event.hpp"
#include "handlers/tipoff/report.hpp"

namespace pgibot::tipoff {

// "+07:00" -> 420 (minutes east of UTC); malformed -> 420 (Vietnam).
int utc_offset_minutes(std::string_view offset);

// YYYY-MM-DD of a time phrase, resolved against now_ms in the given UTC offset: "sáng nay", "vừa xong",
// "hôm qua", "tối qua", "hôm kia", "2 hôm trước", "3 ngày trước", "5 tiếng trước", "tuần trước",
// "thứ hai tuần trước", "chủ nhật", "15/11", "15/11/2026", "ngày 15 tháng 11". Diacritics optional.
// A day/month without a year is the latest such date not after today. nullopt: no date found.
std::optional<std::string> resolve_date(std::string_view text, std::int64_t now_ms, int utc_offset_min = 420);

// Coordinates in a shared map link or typed text: ".../@21.85,106.76,15z", "?q=21.85,106.76", "ll=", "!3d..!4d..",
// or a bare "21.8537, 106.7615" pair. nullopt: none, or out of range.
std::optional<Location> parse_coordinates(std::string_view text);

// A reference code "LS-2611-0042" in any case, with or without spaces and dashes; canonical form, the serial
// padded to 4 digits. nullopt: none.
std::optional<std::string> parse_ref_code(std::string_view text);

// The kind of pollution a (diacritic-folded, lower-case) text names, if any: "nuoc thai" -> wastewater, ...
std::optional<PollutionKind> kind_from_folded(std::string_view folded);

// A Vietnamese phone number in the text ("0912 345 678", "+84 912345678"), canonical "0912345678".
std::optional<std::string> parse_phone(std::string_view text);

}  // namespace pgibot::tipoff
