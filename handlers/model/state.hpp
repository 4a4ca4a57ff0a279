#pragma once
// A citizen's conversation state, loaded before and saved after every event (as JSON).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot {

struct ConversationState {
    bool greeted = false;               // the greeting has been shown once
    bool subscribed = false;            // receives broadcasts
    std::int64_t first_seen_ms = 0;
    std::int64_t last_inbound_ms = 0;   // last message from the citizen (messaging windows)
    std::int64_t human_until_ms = 0;    // a person took over: the bot stays silent until then
    std::string pending;                // a yes/no question the bot asked, e.g. "offer_tipoff"
    std::string pending_text;           // the text that triggered it
    std::string dialog;                 // the tip-off intake draft, owned by handlers/tipoff (JSON), "" if none
    // Tip-off codes whose status changed while the messaging window was closed: told at the next message.
    std::vector<std::string> pending_notices;
};

std::string state_to_json(const ConversationState& s);
// Never throws; a malformed document gives a fresh state.
ConversationState state_from_json(std::string_view json);

}  // namespace pgibot
