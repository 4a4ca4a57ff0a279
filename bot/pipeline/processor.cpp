#include "bot/pipeline/processor.hpp"

#include <spdlog/spdlog.h>

#include <unordered_map>

#include "handlers/model/reply.hpp"

namespace pgibot::pipeline {

Processor::Processor(store::Store& store, const ContentHolder& content, handlers::Settings settings,
                     const handlers::Lookups* lookups, TipoffPreparer prepare_tipoff)
    : store_(store),
      content_(content),
      settings_(std::move(settings)),
      lookups_(lookups),
      prepare_tipoff_(std::move(prepare_tipoff)) {}

void Processor::set_channel(Platform platform, channels::Channel* channel) { channels_[platform] = channel; }

Processor::Prepared Processor::prepare(const Event& event, const std::string& loaded_json, std::int64_t inbox_id,
                                       const std::string& trace_id, std::int64_t now_ms) {
    const ConversationState state = loaded_json.empty() ? ConversationState{} : state_from_json(loaded_json);
    const auto content = content_.get();
    handlers::Context ctx;
    ctx.now_ms = now_ms;
    ctx.settings = settings_;
    ctx.lookups = lookups_;
    handlers::Decision decision = handlers::handle(event, state, *content, ctx);

    Prepared p;
    store::DecisionCommit& commit = p.commit;
    commit.inbox_id = inbox_id;
    commit.user_key = event.user_key();
    commit.state_json = state_to_json(decision.state);
    commit.state_changed = commit.state_json != loaded_json;
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

    p.outcome.replies = std::move(decision.replies);
    for (auto& reply : p.outcome.replies) {
        // The last code, as the store does with what it allocates (DecisionCommit::tipoffs).
        if (!codes.empty()) reply.text = with_ref_code(std::move(reply.text), codes.back());
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
    return p;
}

ProcessOutcome Processor::process(const Event& event, std::int64_t inbox_id, const std::string& trace_id,
                                  std::int64_t now_ms) {
    auto p = prepare(event, store_.load_state(event.user_key()).value_or(std::string()), inbox_id, trace_id, now_ms);
    p.outcome.tipoff_codes = store_.commit_decision(p.commit);
    p.outcome.handled = true;
    return std::move(p.outcome);
}

std::vector<ProcessOutcome> Processor::process_batch(const std::vector<Item>& items, std::int64_t now_ms) {
    // The state each user is left in by the batch so far, as JSON (what the store would return).
    std::unordered_map<std::string, std::string> states;
    std::vector<Prepared> prepared;
    prepared.reserve(items.size());
    for (const auto& item : items) {
        const std::string key = item.event->user_key();
        auto it = states.find(key);
        if (it == states.end()) {
            it = states.emplace(key, store_.load_state(key).value_or(std::string())).first;
        }
        prepared.push_back(prepare(*item.event, it->second, item.inbox_id, item.trace_id, now_ms));
        it->second = prepared.back().commit.state_json;
    }

    std::vector<store::DecisionCommit> commits;
    commits.reserve(prepared.size());
    for (auto& p : prepared) commits.push_back(std::move(p.commit));
    std::vector<ProcessOutcome> outcomes;
    outcomes.reserve(items.size());
    try {
        const auto codes = store_.commit_decisions(commits);
        for (std::size_t i = 0; i < prepared.size(); ++i) {
            prepared[i].outcome.tipoff_codes = i < codes.size() ? codes[i] : std::vector<std::string>{};
            prepared[i].outcome.handled = true;
            outcomes.push_back(std::move(prepared[i].outcome));
        }
        return outcomes;
    } catch (const store::InboxAlreadyHandled&) {
        // Rare (two processes on one inbox): nothing of the batch was written. Redo it item by item
        // so that only the rows nobody handled yet are decided (their states re-read from the store).
        spdlog::info("a batch of {} events held a row handled elsewhere; handling them one by one", items.size());
    }
    for (const auto& item : items) {
        try {
            outcomes.push_back(process(*item.event, item.inbox_id, item.trace_id, now_ms));
        } catch (const store::InboxAlreadyHandled&) {
            outcomes.emplace_back();  // handled elsewhere: nothing to do
        } catch (const std::exception& e) {
            spdlog::error("[{}] handling failed: {}", item.trace_id, e.what());
            outcomes.emplace_back().failed = true;
        }
    }
    return outcomes;
}

}  // namespace pgibot::pipeline
