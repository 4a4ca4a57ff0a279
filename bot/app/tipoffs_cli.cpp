// `pgibot tipoffs list|show|export|set-status`: the operators' view of the tip-off log.
#include <ctime>
#include <iostream>
#include <regex>

#include "bot/app/bootstrap.hpp"
#include "bot/app/commands.hpp"
#include "bot/tipoffs/export.hpp"

namespace pgibot::app {
namespace {

// "2026-11-01" -> midnight of that day in Vietnam (UTC+7), epoch ms.
std::optional<std::int64_t> parse_day(const std::string& text) {
    static const std::regex day(R"((\d{4})-(\d{2})-(\d{2}))");
    std::smatch m;
    if (!std::regex_match(text, m, day)) return std::nullopt;
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return std::nullopt;
    const std::time_t utc = timegm(&tm);
    std::tm check{};
    gmtime_r(&utc, &check);
    if (check.tm_mday != tm.tm_mday) return std::nullopt;  // 2026-02-30
    return (static_cast<std::int64_t>(utc) - 7 * 3600) * 1000;
}

struct Opened {
    Config config;
    std::unique_ptr<store::Store> store;
};

std::optional<Opened> open(const std::string& config_file) {
    auto config = load_config_or_report(config_file);
    if (!config) return std::nullopt;
    auto store = open_store_or_report(*config);
    if (!store) return std::nullopt;
    return Opened{std::move(*config), std::move(store)};
}

}  // namespace

int run_tipoffs_list(const TipoffsOptions& o) {
    store::TipoffFilter filter;
    if (!o.status.empty()) filter.status = tipoff::status_from_string(o.status);
    if (!o.since.empty()) {
        auto since = parse_day(o.since);
        if (!since) {
            std::cerr << "--since: expected a date YYYY-MM-DD, got \"" << o.since << "\"\n";
            return kExitUsage;
        }
        filter.since_ms = *since;
    }
    const auto format = tipoffs::list_format_from_string(o.format.empty() ? "table" : o.format);
    if (!format) return kExitUsage;
    auto opened = open(o.config_file);
    if (!opened) return kExitUsage;
    try {
        std::cout << tipoffs::format_tipoff_list(opened->store->list_tipoffs(filter), *format);
    } catch (const std::exception& e) {
        std::cerr << "tipoffs list: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

int run_tipoffs_show(const TipoffsOptions& o) {
    const auto format = tipoffs::show_format_from_string(o.format.empty() ? "text" : o.format);
    if (!format) return kExitUsage;
    auto opened = open(o.config_file);
    if (!opened) return kExitUsage;
    std::optional<tipoffs::IdentityVault> vault;
    if (o.reveal) {
        vault = open_vault_or_report(opened->config);
        if (!vault) return kExitUsage;
    }
    try {
        auto row = opened->store->tipoff_by_code(o.code);
        if (!row) {
            std::cerr << "no tip-off with code " << o.code << "\n";
            return kExitFailure;
        }
        tipoffs::ShowOptions show;
        show.vault = vault ? &*vault : nullptr;
        show.reveal = o.reveal;
        if (o.reveal) std::cerr << "note: the reporter's identity is shown; handle it as confidential\n";
        std::cout << tipoffs::format_tipoff_show(*row, opened->store->forward_attempts(row->code), *format, show);
    } catch (const std::exception& e) {
        std::cerr << "tipoffs show: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

int run_tipoffs_export(const TipoffsOptions& o) {
    auto opened = open(o.config_file);
    if (!opened) return kExitUsage;
    try {
        store::TipoffFilter all;
        all.limit = static_cast<std::size_t>(-1);
        std::cout << tipoffs::export_tipoffs_csv(opened->store->list_tipoffs(all));
    } catch (const std::exception& e) {
        std::cerr << "tipoffs export: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

int run_tipoffs_set_status(const TipoffsOptions& o) {
    auto status = tipoff::status_from_string(o.new_status);
    if (!status) return kExitUsage;
    auto opened = open(o.config_file);
    if (!opened) return kExitUsage;
    try {
        if (!opened->store->tipoff_by_code(o.code)) {
            std::cerr << "no tip-off with code " << o.code << "\n";
            return kExitFailure;
        }
        opened->store->change_tipoff_status(o.code, store::StatusChange{*status, o.by, o.note, wall_ms()});
        std::cout << o.code << ": " << tipoff::to_string(*status) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "tipoffs set-status: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace pgibot::app
