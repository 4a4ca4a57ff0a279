#pragma once
// Pieces of the store that do not depend on the SQL engine (shared by sqlite/ and, later, postgres/).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/store.hpp"

namespace pgibot::store::detail {

[[nodiscard]] std::int64_t now_ms();

// YYYYMM of the calendar month of `ms` in Vietnam time (UTC+7, no daylight saving).
[[nodiscard]] int vietnam_month_key(std::int64_t ms);
// "LS-YYMM-NNNN": NNNN zero-padded to 4 digits, wider past 9999.
[[nodiscard]] std::string format_tipoff_code(int month_key, std::int64_t seq);

// What the store indexes from a conversation state's JSON: "subscribed":true and a non-empty
// "dialog" string. A malformed document gives false for both.
struct StateFlags {
    bool subscribed = false;
    bool has_dialog = false;
};
[[nodiscard]] StateFlags derive_state_flags(std::string_view state_json);

[[nodiscard]] std::string_view to_string(OutboxState s);
[[nodiscard]] std::optional<OutboxState> outbox_state_from_string(std::string_view s);

// Errors recorded in the outbox are capped (a platform can answer with a whole HTML page).
inline constexpr std::size_t kMaxErrorLength = 2000;
[[nodiscard]] std::string_view cap_error(std::string_view error);

// Netstrings ("<decimal length>:<bytes>,", D. J. Bernstein's format): how one row packs several
// strings into a BLOB (schema 0005: the events stored already handled, one row per group commit).
void append_netstring(std::string& out, std::string_view value);
// The strings of `packed`, in order, viewing into it; nullopt unless it is a sequence of netstrings.
[[nodiscard]] std::optional<std::vector<std::string_view>> split_netstrings(std::string_view packed);

}  // namespace pgibot::store::detail
