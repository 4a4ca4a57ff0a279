#include "bot/pipeline/processor.hpp"

#include <spdlog/spdlog.h>

namespace pgibot::pipeline {

Processor::Processor(store::Store& store, const ContentHolder& content, handlers::Settings settings,
                     const handlers::Lookups* lookups, TipoffPreparer prepare_tipoff)
    : store_(store),
      content_(content),
      settings_(std::move(settings)),
      lookups_(lookups),
      prepare_tipoff_(std::move(prepare_tipoff)) {}

void Processor::set_channel(Platform platform, channels::Channel* channel) { channels_[platform] = channel; }

namespace {
void substitute_code(std::string& text, const std::string& code) {
    for (auto pos = text.find(kRefCodePlaceholder); pos != std::string::npos;
         pos = text.find(kRefCodePlaceholder, pos + code.size())) {
        text.replace(pos, kRefCodePlaceholder.size(), code);
    }
}
}  // namespace

ProcessOutcome Processor::process(const Event& event, std::int64_t inbox_id, const std::string& trace_id,
                                  std::int64_t now_ms) {
    const auto content = content_.get();
    const std::string user_key = event.user_key();
    ConversationState state;
    if (auto json = store_.load_state(user_key)) state = state_from_json(*json);

    handlers::Context ctx;
    ctx.now_ms = now_ms;
    ctx.settings = settings_;
    ctx.lookups = lookups_;
    handlers::Decision decision = handlers::handle(event, state, *content, ctx);

    store::DecisionCommit commit;
    commit.inbox_id = inbox_id;
    commit.user_key = user_key;
    commit.state_json = state_to_json(decision.state);
    for (const auto& effect : decision.effects) {
        if (const auto* unmatched = std::get_if<handlers::RecordUnmatched>(&effect)) {
            commit.unmatched.push_back(store::Unmatched{event.platform, unmatched->text, now_ms});
        } else if (const auto* filed = std::get_if<handlers::FileTipoff>(&effect)) {
            commit.tipoffs.push_back(prepare_tipoff_(filed->report, now_ms));
        }
    }

    // Codes are reserved before the commit so that the replies quoting them commit atomically
    // with the report: a crash leaves either both or neither (and at worst an unused code).
    std::vector<std::string> codes;
    for (auto& t : commit.tipoffs) {
        t.code = store_.reserve_tipoff_code(now_ms);
        codes.push_back(t.code);
    }
    const auto channel_it = channels_.find(event.platform);
    channels::Channel* channel = channel_it != channels_.end() ? channel_it->second : nullptr;

    ProcessOutcome outcome;
    outcome.replies = std::move(decision.replies);
    for (auto& reply : outcome.replies) {
        if (!codes.empty()) substitute_code(reply.text, codes.front());
        const std::string message_json = out_message_to_json(reply);
        if (channel == nullptr) {
            commit.outbox.push_back(store::NewOutbox{event.platform, event.page_id, event.user_id, message_json,
                                                     message_json, trace_id, false});
            continue;
        }
        for (auto& body : channel->render(reply, event.user_id)) {
            commit.outbox.push_back(store::NewOutbox{event.platform, event.page_id, event.user_id, std::move(body),
                                                     message_json, trace_id, true});
        }
    }
    outcome.tipoff_codes = store_.commit_decision(commit);
    outcome.handled = true;
    return outcome;
}

}  // namespace pgibot::pipeline
