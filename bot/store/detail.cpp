#include "bot/store/detail.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace pgibot::store::detail {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int vietnam_month_key(std::int64_t ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> local{milliseconds{ms} + hours{7}};
    const year_month_day date{floor<days>(local)};
    return static_cast<int>(date.year()) * 100 + static_cast<int>(static_cast<unsigned>(date.month()));
}

std::string format_tipoff_code(int month_key, std::int64_t seq) {
    const int yy = (month_key / 100) % 100;
    const int mm = month_key % 100;
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "LS-%02d%02d-%04lld", yy, mm, static_cast<long long>(seq));
    return buffer;
}

StateFlags derive_state_flags(std::string_view state_json) {
    StateFlags flags;
    const auto doc = nlohmann::json::parse(state_json, nullptr, false);
    if (!doc.is_object()) {
        return flags;
    }
    if (const auto it = doc.find("subscribed"); it != doc.end() && it->is_boolean()) {
        flags.subscribed = it->get<bool>();
    }
    if (const auto it = doc.find("dialog"); it != doc.end() && it->is_string()) {
        flags.has_dialog = !it->get_ref<const std::string&>().empty();
    }
    return flags;
}

std::string_view to_string(OutboxState s) {
    switch (s) {
        case OutboxState::pending: return "pending";
        case OutboxState::sending: return "sending";
        case OutboxState::sent: return "sent";
        case OutboxState::failed: return "failed";
        case OutboxState::unreachable: return "unreachable";
    }
    return "failed";
}

std::optional<OutboxState> outbox_state_from_string(std::string_view s) {
    for (const auto state : {OutboxState::pending, OutboxState::sending, OutboxState::sent, OutboxState::failed,
                             OutboxState::unreachable}) {
        if (to_string(state) == s) {
            return state;
        }
    }
    return std::nullopt;
}

std::string_view cap_error(std::string_view error) {
    if (error.size() <= kMaxErrorLength) {
        return error;
    }
    std::size_t cut = kMaxErrorLength;
    // Do not split a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
    while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    return error.substr(0, cut);
}

void append_netstring(std::string& out, std::string_view value) {
    char digits[24];
    const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), value.size());
    (void)ec;  // 24 digits hold any size_t
    out.append(digits, end);
    out += ':';
    out.append(value);
    out += ',';
}

std::optional<std::vector<std::string_view>> split_netstrings(std::string_view packed) {
    std::vector<std::string_view> parts;
    while (!packed.empty()) {
        std::size_t length = 0;
        const auto [after, ec] = std::from_chars(packed.data(), packed.data() + packed.size(), length);
        const auto digits = static_cast<std::size_t>(after - packed.data());
        // "<digits>:" then exactly `length` bytes and ','; no sign, no leading '+', no empty length.
        if (ec != std::errc{} || digits == 0 || digits >= packed.size() || packed[digits] != ':' ||
            packed.size() - digits - 1 < length + 1 || packed[digits + 1 + length] != ',') {
            return std::nullopt;
        }
        parts.push_back(packed.substr(digits + 1, length));
        packed.remove_prefix(digits + 1 + length + 1);
    }
    return parts;
}

}  // namespace pgibot::store::detail
