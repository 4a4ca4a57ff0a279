#pragma once
// Numbered schema migrations, one list per SQL dialect. The SQL lives in migrations/<dialect>/
// as NNNN_name.sql files and is compiled in (bot/store/CMakeLists.txt generates the list).
// A migration, once released, is never edited: a change is a new, higher-numbered file.
#include <span>
#include <string_view>

namespace pgibot::store::migrations {

struct Migration {
    int version = 0;          // NNNN of the file name; strictly increasing
    std::string_view name;    // file name without extension, e.g. "0001_initial"
    std::string_view sql;     // one or more statements
};

// In ascending version order.
std::span<const Migration> sqlite();

}  // namespace pgibot::store::migrations
