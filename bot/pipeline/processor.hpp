#pragma once
// Runs one event through the handlers and commits the outcome atomically: the new state, the
// rendered replies (outbox), unmatched questions and filed tip-offs. Used by the server's workers
// and by the `pgibot ask` simulator alike, so both run exactly the same path.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bot/channels/channel.hpp"
#include "bot/pipeline/content_holder.hpp"
#include "bot/store/store.hpp"
#include "handlers/handler.hpp"

namespace pgibot::pipeline {

// Seals a report's identity for storage (bot/tipoffs vault).
using TipoffPreparer = std::function<store::NewTipoff(const tipoff::Report&, std::int64_t now_ms)>;

struct ProcessOutcome {
    std::vector<OutMessage> replies;        // after {ref_code} substitution
    std::vector<std::string> tipoff_codes;  // filed by this event
    bool handled = false;
    bool failed = false;  // could not be handled or committed (left unhandled; logged)
};

class Processor {
public:
    Processor(store::Store& store, const ContentHolder& content, handlers::Settings settings,
              const handlers::Lookups* lookups, TipoffPreparer prepare_tipoff);

    // Channels that render replies for a platform. A platform with none (cli) stores the replies
    // as records only (deliver = false).
    void set_channel(Platform platform, channels::Channel* channel);

    // inbox_id 0: the event has no inbox row (timer events).
    ProcessOutcome process(const Event& event, std::int64_t inbox_id, const std::string& trace_id,
                           std::int64_t now_ms);

    struct Item {
        const Event* event = nullptr;
        std::int64_t inbox_id = 0;
        std::string trace_id;
    };
    // Handles the items in order (a user's later event sees the state the earlier one left) and
    // commits every outcome in one transaction. If another worker or process handled one of the
    // rows first, the batch is redone one item at a time and that row is skipped (handled=false);
    // an item that then fails alone is left unhandled (failed=true) while the others commit.
    // Throws (StoreError, a handler's exception) only when nothing was committed.
    std::vector<ProcessOutcome> process_batch(const std::vector<Item>& items, std::int64_t now_ms);

private:
    struct Prepared {
        store::DecisionCommit commit;
        ProcessOutcome outcome;
    };
    // Runs the handler on the state stored as `loaded_json` ("" = a new user) and builds the commit;
    // reserves tip-off codes.
    Prepared prepare(const Event& event, const std::string& loaded_json, std::int64_t inbox_id,
                     const std::string& trace_id, std::int64_t now_ms);

    store::Store& store_;
    const ContentHolder& content_;
    handlers::Settings settings_;
    const handlers::Lookups* lookups_;
    TipoffPreparer prepare_tipoff_;
    std::map<Platform, channels::Channel*> channels_;
};

}  // namespace pgibot::pipeline
