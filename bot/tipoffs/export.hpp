#pragma once
// Formatting of stored tip-offs for the CLI (`pgibot tipoffs list|show|export`). Pure functions: no
// store, no I/O. The reporter's identity is only decrypted by `show` with a vault AND reveal = true.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/store.hpp"
#include "bot/tipoffs/vault.hpp"

namespace pgibot::tipoffs {

enum class ListFormat { table, json, csv };
std::optional<ListFormat> list_format_from_string(std::string_view s);  // "table" | "json" | "csv"

// table: aligned columns for a terminal (UTF-8 aware, long text cut with "…");
// json: an array of objects (no identity); csv: RFC 4180, CRLF, no BOM (for scripts).
std::string format_tipoff_list(const std::vector<store::TipoffRow>& rows, ListFormat format);

enum class ShowFormat { text, json };
std::optional<ShowFormat> show_format_from_string(std::string_view s);  // "text" | "json"

struct ShowOptions {
    const IdentityVault* vault = nullptr;
    bool reveal = false;  // decrypt the identity (needs vault); the caller should audit-log this
};

// One tip-off with its status history and forward attempts (Store::forward_attempts(code)).
std::string format_tipoff_show(const store::TipoffRow& row, const std::vector<store::ForwardAttempt>& attempts,
                               ShowFormat format, const ShowOptions& options = {});

// For Excel: UTF-8 with BOM, CRLF line ends, RFC 4180 quoting, Vietnamese column headers, every field
// of the report except the identity. Free-text cells starting with = + - @ are prefixed with ' so that
// a citizen's text is never evaluated as a formula.
std::string export_tipoffs_csv(const std::vector<store::TipoffRow>& rows);

// RFC 4180: quoted when it holds a comma, quote, CR or LF (quotes doubled); as-is otherwise.
std::string csv_field(std::string_view value);

}  // namespace pgibot::tipoffs
