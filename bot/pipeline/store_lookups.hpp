#pragma once
// The handlers' read-only look-ups, answered from the store. A tip-off's status is told only to the
// person who filed it: the filer is matched by the vault's keyed hash, never by a clear user id.
#include <ctime>

#include "bot/store/store.hpp"
#include "bot/tipoffs/vault.hpp"
#include "handlers/handler.hpp"

namespace pgibot::pipeline {

class StoreLookups final : public handlers::Lookups {
public:
    StoreLookups(store::Store& store, const tipoffs::IdentityVault& vault) : store_(store), vault_(vault) {}

    [[nodiscard]] std::optional<handlers::TipoffStatusView> tipoff_status(std::string_view code, Platform platform,
                                                                          std::string_view user_id) const override {
        auto row = store_.tipoff_by_code(code);
        if (!row || row->reporter_lookup != vault_.lookup_hash(platform, user_id)) return std::nullopt;
        handlers::TipoffStatusView view;
        view.code = row->code;
        view.status = row->status;
        view.updated_at = format_vietnam_time(row->updated_ms != 0 ? row->updated_ms : row->created_ms);
        if (!row->history.empty()) view.note = row->history.back().note;
        return view;
    }

    // "2026-11-29 14:05" in Vietnam time (UTC+7, no daylight saving).
    static std::string format_vietnam_time(std::int64_t ms) {
        const std::time_t t = static_cast<std::time_t>(ms / 1000 + 7 * 3600);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
        return buf;
    }

private:
    store::Store& store_;
    const tipoffs::IdentityVault& vault_;
};

}  // namespace pgibot::pipeline
