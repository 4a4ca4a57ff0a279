// The pipeline's own rules, with the real SQLite store on a temp file and a scripted channel:
// retry policy bounds, the sender's outcome handling (retry then sent, unreachable not retried,
// attempts bounded), per-user send order, group commit with duplicates, and the processor's
// atomic commit of a decision.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "bot/pipeline/committer.hpp"
#include "bot/pipeline/retry_policy.hpp"
#include "bot/pipeline/sender.hpp"
#include "bot/store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using pgibot::Platform;
using pgibot::channels::SendOutcome;
using pgibot::channels::SendResult;
namespace store = pgibot::store;
namespace pipeline = pgibot::pipeline;

class ScriptedChannel final : public pgibot::channels::Channel {
public:
    [[nodiscard]] Platform platform() const override { return Platform::facebook; }
    [[nodiscard]] bool enabled() const override { return true; }
    [[nodiscard]] pgibot::channels::IngestResult ingest(const pgibot::http::Request&) const override { return {}; }
    [[nodiscard]] std::vector<std::string> render(const pgibot::OutMessage& m, std::string_view) const override {
        return {m.text};
    }
    SendResult send(std::string_view body) override {
        std::lock_guard lock(mutex_);
        bodies_.emplace_back(body);
        if (script_.empty()) return SendResult{SendOutcome::sent, {}, {}, "ok"};
        auto outcome = script_.front();
        script_.pop_front();
        return SendResult{outcome, "scripted", {}, {}};
    }
    void script(std::initializer_list<SendOutcome> outcomes) {
        std::lock_guard lock(mutex_);
        script_.assign(outcomes);
    }
    std::vector<std::string> bodies() const {
        std::lock_guard lock(mutex_);
        return bodies_;
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (bodies().size() >= n) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

private:
    mutable std::mutex mutex_;
    std::deque<SendOutcome> script_;
    std::vector<std::string> bodies_;
};

store::NewOutbox row(const std::string& user, const std::string& body) {
    return store::NewOutbox{Platform::facebook, "page", user, body, "{}", "t", true};
}

class PipelineTest : public ::testing::Test {
protected:
    void SetUp() override {
        store::SqliteOptions o;
        o.path = (dir_.path() / "p.db").string();
        store_ = store::open_sqlite(o);
    }
    void enqueue(const std::string& user, std::vector<std::string> bodies) {
        store::DecisionCommit c;
        c.user_key = "facebook:page:" + user;
        c.state_json = "{}";
        for (auto& b : bodies) c.outbox.push_back(row(user, b));
        store_->commit_decision(c);
    }
    pipeline::SenderOptions fast_options(int max_attempts = 4) {
        pipeline::SenderOptions o;
        o.threads = 2;
        o.rate_per_second = 1000;
        o.retry.max_attempts = max_attempts;
        o.retry.base = 5ms;
        o.retry.cap = 20ms;
        return o;
    }
    void settle(const ScriptedChannel& ch, std::size_t expected) {
        ASSERT_TRUE(ch.wait_for(expected)) << "only " << ch.bodies().size() << " sends";
        std::this_thread::sleep_for(300ms);  // give a wrong extra send the chance to show up
    }

    pgibot::test::TempDir dir_;
    std::unique_ptr<store::Store> store_;
};

TEST(RetryPolicy, GrowsWithinCapHonoursHintAndStops) {
    pipeline::RetryPolicy p;
    p.max_attempts = 5;
    p.base = 100ms;
    p.cap = 1000ms;
    std::mt19937_64 rng(42);
    std::chrono::milliseconds previous_ceiling{0};
    for (int done = 1; done < 5; ++done) {
        auto d = p.next_delay(done, rng);
        ASSERT_TRUE(d.has_value());
        const auto ceiling = std::min<std::int64_t>(1000, 100LL << (done - 1));
        EXPECT_GE(d->count(), ceiling / 2);
        EXPECT_LE(d->count(), ceiling);
        EXPECT_GE(ceiling, previous_ceiling.count());
        previous_ceiling = std::chrono::milliseconds(ceiling);
    }
    EXPECT_FALSE(p.next_delay(5, rng).has_value());
    auto hinted = p.next_delay(1, rng, std::chrono::milliseconds(800));
    ASSERT_TRUE(hinted.has_value());
    EXPECT_EQ(hinted->count(), 800);
}

TEST_F(PipelineTest, TransientFailuresAreRetriedThenSentOnce) {
    ScriptedChannel ch;
    ch.script({SendOutcome::retry, SendOutcome::retry});
    pipeline::Sender sender(*store_, fast_options(), {});
    sender.set_channel(Platform::facebook, &ch);
    enqueue("a", {"hello"});
    sender.start();
    sender.notify();
    settle(ch, 3);
    sender.stop();
    EXPECT_EQ(ch.bodies().size(), 3u);
    EXPECT_EQ(store_->outbox_depth(), 0u);
}

TEST_F(PipelineTest, UnreachableUserIsNotRetried) {
    ScriptedChannel ch;
    ch.script({SendOutcome::unreachable});
    pipeline::Sender sender(*store_, fast_options(), {});
    sender.set_channel(Platform::facebook, &ch);
    enqueue("b", {"hello"});
    sender.start();
    sender.notify();
    settle(ch, 1);
    sender.stop();
    EXPECT_EQ(ch.bodies().size(), 1u);
    EXPECT_TRUE(store_->due_outbox(INT64_MAX, 10).empty());
}

TEST_F(PipelineTest, AttemptsAreBounded) {
    ScriptedChannel ch;
    ch.script({SendOutcome::retry, SendOutcome::retry, SendOutcome::retry, SendOutcome::retry, SendOutcome::retry,
               SendOutcome::retry});
    pipeline::Sender sender(*store_, fast_options(3), {});
    sender.set_channel(Platform::facebook, &ch);
    enqueue("c", {"hello"});
    sender.start();
    sender.notify();
    settle(ch, 3);
    sender.stop();
    EXPECT_EQ(ch.bodies().size(), 3u);
    EXPECT_TRUE(store_->due_outbox(INT64_MAX, 10).empty());
}

TEST_F(PipelineTest, OneUsersMessagesKeepTheirOrder) {
    ScriptedChannel ch;
    // The first message fails once: the second must not overtake it.
    ch.script({SendOutcome::retry});
    pipeline::Sender sender(*store_, fast_options(), {});
    sender.set_channel(Platform::facebook, &ch);
    enqueue("d", {"1", "2", "3"});
    sender.start();
    sender.notify();
    settle(ch, 4);
    sender.stop();
    EXPECT_EQ(ch.bodies(), (std::vector<std::string>{"1", "1", "2", "3"}));
}

TEST_F(PipelineTest, GroupCommitDropsDuplicatesAndAcksEachWebhook) {
    std::atomic<int> committed_signals{0};
    pipeline::Committer committer(*store_, 64, [&committed_signals] { ++committed_signals; });
    committer.start();
    std::mutex m;
    std::vector<std::pair<bool, std::size_t>> results(3);
    std::atomic<int> done{0};
    auto submit = [&](int i, std::vector<std::string> keys) {
        std::vector<store::Store::IncomingEvent> events;
        for (auto& k : keys) events.push_back({k, "facebook:p:u", "{}", "t"});
        committer.submit(std::move(events), [&, i](bool ok, std::size_t fresh) {
            std::lock_guard lock(m);
            results[static_cast<std::size_t>(i)] = {ok, fresh};
            ++done;
        });
    };
    submit(0, {"k1", "k2"});
    submit(1, {"k2", "k3"});
    submit(2, {"k1"});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (done.load() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    committer.stop();
    ASSERT_EQ(done.load(), 3);
    EXPECT_TRUE(results[0].first && results[1].first && results[2].first);
    EXPECT_EQ(results[0].second + results[1].second + results[2].second, 3u);  // k1, k2, k3 once each
    EXPECT_EQ(store_->pending_inbox(0, 100).size(), 3u);
    EXPECT_GE(committed_signals.load(), 1);
    // After stop, a submission is refused at once (the webhook gets a 503 and is redelivered).
    bool refused = false;
    committer.submit({{"k9", "facebook:p:u", "{}", "t"}}, [&](bool ok, std::size_t) { refused = !ok; });
    EXPECT_TRUE(refused);
}

}  // namespace
