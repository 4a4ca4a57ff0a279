#pragma once
// The one entry point of the bot's behaviour: a pure function of (event, state, content, context).
// It knows no sockets, no SQL, no clocks of its own: `Context` brings the time and read-only look-ups.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "handlers/model/event.hpp"
#include "handlers/model/reply.hpp"
#include "handlers/model/state.hpp"
#include "handlers/tipoff/report.hpp"

namespace pgibot::messages { struct Content; }

namespace pgibot::handlers {

// Read-only questions the handlers may ask of stored data (implemented by the store; faked in tests).
struct TipoffStatusView {
    std::string code;
    tipoff::Status status = tipoff::Status::received;
    std::string updated_at;  // "2026-11-29 14:05"
    std::string note;        // public note for the reporter, may be empty
};
class Lookups {
public:
    virtual ~Lookups() = default;
    // Status of a tip-off, only if it was filed by this platform user; nullopt otherwise.
    [[nodiscard]] virtual std::optional<TipoffStatusView> tipoff_status(std::string_view code, Platform platform,
                                                                        std::string_view user_id) const = 0;
};

struct Settings {
    std::int64_t handover_silence_ms = 30LL * 60 * 1000;   // silence after a human replied
    std::int64_t tipoff_idle_expiry_ms = 24LL * 3600 * 1000;  // an unfinished report expires
    std::string timezone_offset = "+07:00";               // dates are resolved in Vietnam time
    // How to reach a person (hotline, e-mail, office hours): configuration, shown by "gặp cán bộ".
    std::string human_contact;
};

struct Context {
    std::int64_t now_ms = 0;
    Settings settings;
    const Lookups* lookups = nullptr;  // may be null: look-ups then answer "not found"
};

// Side effects that commit together with the new state and the replies.
struct RecordUnmatched { std::string text; };          // a question nobody could answer, for content staff
struct FileTipoff { tipoff::Report report; };            // the store gives it a code ({ref_code} in replies)
using Effect = std::variant<RecordUnmatched, FileTipoff>;

struct Decision {
    ConversationState state;
    std::vector<OutMessage> replies;
    std::vector<Effect> effects;
};

// False for events the handlers never act on, whatever the state: delivery and read receipts, echoes
// of the bot's own messages, unknown kinds. The runtime stores them already handled (they never
// reach a lane); handle() returns them unchanged.
bool needs_handling(const Event& event);

Decision handle(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx);

}  // namespace pgibot::handlers
