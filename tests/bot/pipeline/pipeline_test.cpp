// The pipeline's own rules, with the real SQLite store on a temp file and a scripted channel:
// retry policy bounds, the sender's outcome handling (retry then sent, unreachable not retried,
// attempts bounded), per-user send order, group commit with duplicates, the processor's batches
// (one commit, later events see earlier states, rows handled elsewhere), the dispatcher's lanes
// (a failing event does not hold the others back) and the batch queue under them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "bot/pipeline/committer.hpp"
#include "bot/pipeline/content_holder.hpp"
#include "bot/pipeline/dispatcher.hpp"
#include "bot/pipeline/processor.hpp"
#include "bot/pipeline/retry_policy.hpp"
#include "bot/pipeline/sender.hpp"
#include "bot/pipeline/work_queue.hpp"
#include "bot/store/store.hpp"
#include "messages/content.hpp"
#include "tests/bot/pipeline/wrapping_store.hpp"
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

TEST_F(PipelineTest, CommitOfHandledEventsOnlyDoesNotWakeTheDispatcher) {
    std::atomic<int> committed_signals{0};
    pipeline::Committer committer(*store_, 64, [&committed_signals] { ++committed_signals; });
    committer.start();
    std::atomic<int> done{0};
    auto submit = [&](std::string key, bool handled) {
        committer.submit({{std::move(key), "facebook:p:u", "{}", "t", handled}},
                         [&](bool ok, std::size_t) { done += ok ? 1 : 100; });
    };
    const auto wait_done = [&](int n) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (done.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    };
    submit("read-1", true);  // a receipt: stored handled
    wait_done(1);
    EXPECT_EQ(committed_signals.load(), 0);
    submit("text-1", false);  // a message: the dispatcher must hear of it
    wait_done(2);
    committer.stop();
    EXPECT_EQ(done.load(), 2);
    EXPECT_EQ(committed_signals.load(), 1);
    EXPECT_EQ(store_->pending_inbox(0, 100).size(), 1u);
}


// The committer's thread is the one serial step between a webhook and its 200: sealing (encryption
// at rest) runs on the submitting thread instead, and each group commit is reported (for /metrics).
TEST(Committer, SealsOnTheSubmittingThreadAndReportsEachCommit) {
    pgibot::test::TempDir dir;
    std::mutex m;
    std::set<std::thread::id> sealing_threads;
    store::SqliteOptions o;
    o.path = (dir.path() / "c.db").string();
    o.seal_text = [&](std::string_view plain) {
        std::lock_guard lock(m);
        sealing_threads.insert(std::this_thread::get_id());
        return "PGT1:" + std::string(plain);
    };
    o.open_text = [](std::string_view sealed) -> std::optional<std::string> { return std::string(sealed.substr(5)); };
    auto store = store::open_sqlite(o);
    std::vector<std::size_t> reported;  // webhooks per commit
    pipeline::Committer committer(*store, 64, {}, [&](double seconds, std::size_t webhooks) {
        EXPECT_GE(seconds, 0.0);
        std::lock_guard lock(m);
        reported.push_back(webhooks);
    });
    committer.start();
    std::atomic<int> done{0};
    for (int i = 0; i < 5; ++i) {
        committer.submit({{"k" + std::to_string(i), "facebook:p:u", R"({"n":)" + std::to_string(i) + "}", "t"}},
                         [&](bool ok, std::size_t fresh) { done += ok && fresh == 1 ? 1 : 100; });
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (done.load() < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    committer.stop();
    EXPECT_EQ(done.load(), 5);
    EXPECT_EQ(sealing_threads, std::set<std::thread::id>{std::this_thread::get_id()})
        << "events were sealed on the commit thread";
    std::size_t total = 0;
    for (auto n : reported) total += n;
    EXPECT_EQ(total, 5u) << "every webhook is counted in exactly one reported commit";
    const auto rows = store->pending_inbox(0, 10);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[3].event_json, R"({"n":3})") << "sealed once, opened once";
}

// Pacing (the commit delay): after a group of at least min_group webhooks, the next commit waits
// until `delay` after that one started, and what arrives meanwhile joins it; after a smaller group
// (a light load), the next webhook is committed at once.
TEST(Committer, UnderLoadTheNextGroupGathersForTheDelay) {
    pgibot::test::TempDir dir;
    store::SqliteOptions o;
    o.path = (dir.path() / "c.db").string();
    auto store = store::open_sqlite(o);
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::size_t> groups;  // webhooks per commit, in order
    bool release_first = false;
    constexpr auto kDelay = std::chrono::milliseconds(1000);
    pipeline::Committer committer(
        *store, 64, {},
        [&](double, std::size_t webhooks) {
            std::unique_lock lock(m);
            groups.push_back(webhooks);
            cv.notify_all();
            // The first commit is held, so that the next two webhooks queue behind it.
            if (groups.size() == 1) cv.wait(lock, [&] { return release_first; });
        },
        0, pipeline::CommitPacing{kDelay, 2});
    committer.start();
    std::atomic<int> done{0};
    const auto submit = [&](const std::string& key) {
        committer.submit({{key, "facebook:p:u", "{}", "t"}}, [&](bool ok, std::size_t) { done += ok ? 1 : 100; });
    };
    const auto wait_groups = [&](std::size_t n) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, 20s, [&] { return groups.size() >= n; });
    };
    submit("a");
    ASSERT_TRUE(wait_groups(1));
    submit("b");
    submit("c");
    const auto released = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(m);
        release_first = true;
    }
    cv.notify_all();
    ASSERT_TRUE(wait_groups(2));
    const auto second = std::chrono::steady_clock::now();
    EXPECT_LT(second - released, kDelay / 2) << "after a group of 1 (below min_group), no delay";
    // The second group held 2: the next one waits for the delay and gathers what arrives meanwhile.
    submit("d");
    std::this_thread::sleep_for(50ms);
    submit("e");
    ASSERT_TRUE(wait_groups(3));
    const auto third = std::chrono::steady_clock::now();
    committer.stop();
    EXPECT_EQ(done.load(), 5);
    EXPECT_EQ(groups, (std::vector<std::size_t>{1, 2, 2}));
    EXPECT_GE(third - second, kDelay / 2) << "after a group of min_group, the next one waited";
}

// --- batch queue ----------------------------------------------------------------------------------

// Records the batches a BatchQueue hands over; the first one can be held until released.
class BatchRecorder {
public:
    void run(std::vector<int>& batch) {
        std::unique_lock lock(mutex_);
        batches_.push_back(batch);
        if (hold_first_ && batches_.size() == 1) {
            cv_.notify_all();
            cv_.wait_for(lock, 30s, [this] { return released_; });
        }
    }
    void hold_first() { hold_first_ = true; }
    bool wait_first() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, 10s, [this] { return !batches_.empty(); });
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            released_ = true;
        }
        cv_.notify_all();
    }
    std::vector<std::vector<int>> batches() const {
        std::lock_guard lock(mutex_);
        return batches_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool hold_first_ = false;
    bool released_ = false;
    std::vector<std::vector<int>> batches_;
};

std::vector<int> flatten(const std::vector<std::vector<int>>& batches) {
    std::vector<int> all;
    for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
    return all;
}

TEST(BatchQueue, HandsOverEverythingInPostingOrderInBoundedBatches) {
    BatchRecorder recorder;
    constexpr std::size_t kMax = 7;
    std::vector<int> expected;
    {
        pipeline::BatchQueue<int> queue(kMax, [&](std::vector<int>& batch) { recorder.run(batch); });
        for (int i = 0; i < 2000; ++i) {
            queue.post(i);
            expected.push_back(i);
            if (i % 97 == 0) std::this_thread::sleep_for(1ms);  // let some batches be small
        }
        queue.stop();
    }
    const auto batches = recorder.batches();
    EXPECT_EQ(flatten(batches), expected);
    for (const auto& b : batches) {
        EXPECT_FALSE(b.empty());
        EXPECT_LE(b.size(), kMax);
    }
}

TEST(BatchQueue, TakesWhatQueuedUpToTheLimitAndStopDrainsIt) {
    BatchRecorder recorder;
    recorder.hold_first();
    pipeline::BatchQueue<int> queue(10, [&](std::vector<int>& batch) { recorder.run(batch); });
    queue.post(0);
    ASSERT_TRUE(recorder.wait_first());
    for (int i = 1; i <= 25; ++i) queue.post(i);  // queue up behind the held batch
    std::thread stopper([&] { queue.stop(); });   // stop() while 25 items wait: they still run
    std::this_thread::sleep_for(50ms);
    recorder.release();
    stopper.join();

    const auto batches = recorder.batches();
    ASSERT_EQ(batches.size(), 4U);
    EXPECT_EQ(batches[0], std::vector<int>{0});
    EXPECT_EQ(batches[1].size(), 10U);  // everything queued, up to the limit
    EXPECT_EQ(batches[2].size(), 10U);
    EXPECT_EQ(batches[3].size(), 5U);
    std::vector<int> expected(26);
    for (int i = 0; i < 26; ++i) expected[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(flatten(batches), expected);
}

TEST(BatchQueue, ZeroLimitMeansOneAtATime) {
    BatchRecorder recorder;
    recorder.hold_first();
    pipeline::BatchQueue<int> queue(0, [&](std::vector<int>& batch) { recorder.run(batch); });
    queue.post(1);
    ASSERT_TRUE(recorder.wait_first());
    queue.post(2);
    queue.post(3);
    recorder.release();
    queue.stop();
    EXPECT_EQ(recorder.batches(), (std::vector<std::vector<int>>{{1}, {2}, {3}}));
}

// --- processor batches and dispatcher lanes, with the real content --------------------------------

class HandlingTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto loaded = pgibot::messages::load_content(PGIBOT_CONTENT_DIR);
        for (const auto& p : loaded.problems) ADD_FAILURE() << p.file << ":" << p.line << ": " << p.message;
        content_ = loaded.content;
    }
    static void TearDownTestSuite() { content_.reset(); }

    void SetUp() override {
        ASSERT_NE(content_, nullptr) << "messages/content did not load";
        store::SqliteOptions o;
        o.path = (dir_.path() / "h.db").string();
        o.synchronous_full = false;
        sqlite_ = store::open_sqlite(o);
        store_ = std::make_unique<pgibot::test::WrappingStore>(*sqlite_);
        holder_ = std::make_unique<pipeline::ContentHolder>(content_);
        processor_ = std::make_unique<pipeline::Processor>(
            *store_, *holder_, pgibot::handlers::Settings{}, nullptr,
            [](const pgibot::tipoff::Report& r, std::int64_t now) {
                store::NewTipoff t;
                t.report = r;
                t.created_ms = now;
                return t;
            });
    }

    std::string greeting() const { return content_->catalogue->text("conv.greeting"); }

    pgibot::Event message(const std::string& user, const std::string& text) {
        pgibot::Event e;
        e.platform = Platform::facebook;
        e.kind = pgibot::EventKind::message;
        e.page_id = "page";
        e.user_id = user;
        e.text = text;
        e.timestamp_ms = now_ += 1000;
        e.source_type = "messaging.message";
        e.dedup_key = "mid." + std::to_string(++serial_);
        return e;
    }
    pgibot::Event of_kind(const std::string& user, pgibot::EventKind kind) {
        pgibot::Event e = message(user, "");
        e.kind = kind;
        return e;
    }
    pgibot::Event timer(const std::string& user) {
        pgibot::Event e = of_kind(user, pgibot::EventKind::timer);
        e.source_type = "timer.test";
        e.dedup_key.clear();
        return e;
    }
    // Stores the events in the inbox; returns their row ids in the same order.
    std::vector<std::int64_t> to_inbox(const std::vector<pgibot::Event>& events) {
        std::vector<store::Store::IncomingEvent> incoming;
        for (const auto& e : events) incoming.push_back({e.dedup_key, e.user_key(), pgibot::event_to_json(e), "t"});
        EXPECT_EQ(store_->commit_events(incoming), events.size());
        std::vector<std::int64_t> ids;
        for (const auto& row : store_->pending_inbox(last_row_, 1000)) ids.push_back(row.id);
        EXPECT_EQ(ids.size(), events.size());
        if (!ids.empty()) last_row_ = ids.back();
        return ids;
    }
    std::vector<pipeline::Processor::Item> items(const std::vector<pgibot::Event>& events,
                                                 const std::vector<std::int64_t>& ids) {
        std::vector<pipeline::Processor::Item> out;
        for (std::size_t i = 0; i < events.size(); ++i) out.push_back({&events[i], ids[i], "t" + std::to_string(i)});
        return out;
    }
    bool greeted_in(const pipeline::ProcessOutcome& o) const {
        return std::any_of(o.replies.begin(), o.replies.end(),
                           [this](const pgibot::OutMessage& m) { return m.text == greeting(); });
    }
    std::vector<std::int64_t> pending_ids() {
        std::vector<std::int64_t> ids;
        for (const auto& row : store_->pending_inbox(0, 1000)) ids.push_back(row.id);
        return ids;
    }
    static bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (condition()) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(10ms);
        }
    }

    static std::shared_ptr<const pgibot::messages::Content> content_;
    pgibot::test::TempDir dir_;
    std::unique_ptr<store::Store> sqlite_;
    std::unique_ptr<pgibot::test::WrappingStore> store_;
    std::unique_ptr<pipeline::ContentHolder> holder_;
    std::unique_ptr<pipeline::Processor> processor_;
    std::int64_t now_ = 1'764'400'000'000;
    int serial_ = 0;
    std::int64_t last_row_ = 0;
};

std::shared_ptr<const pgibot::messages::Content> HandlingTest::content_;

TEST_F(HandlingTest, BatchSeesEachUsersEarlierEventsAndCommitsOnce) {
    const std::vector<pgibot::Event> events = {message("a", "Xin chào"), message("b", "Xin chào"),
                                               message("a", "Xin chào"), message("a", "PGI là gì?")};
    const auto ids = to_inbox(events);
    ASSERT_EQ(ids.size(), 4U);
    const auto outcomes = processor_->process_batch(items(events, ids), now_);
    ASSERT_EQ(outcomes.size(), 4U);
    for (const auto& o : outcomes) {
        EXPECT_TRUE(o.handled);
        EXPECT_FALSE(o.replies.empty());
    }
    // Only each user's first message gets the greeting: a's later ones saw the state the first left.
    EXPECT_EQ(outcomes[0].replies.at(0).text, greeting());
    EXPECT_EQ(outcomes[1].replies.at(0).text, greeting());
    EXPECT_FALSE(greeted_in(outcomes[2]));
    EXPECT_FALSE(greeted_in(outcomes[3]));

    // One transaction for the whole batch, in handling order.
    const auto calls = store_->calls();
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_TRUE(calls[0].batch);
    EXPECT_EQ(calls[0].inbox_ids, ids);
    EXPECT_TRUE(pending_ids().empty());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(store_->outbox_for_inbox(ids[i]).size(), outcomes[i].replies.size()) << i;
    }
    const auto a = pgibot::state_from_json(store_->load_state(events[0].user_key()).value_or(""));
    EXPECT_TRUE(a.greeted);
    EXPECT_EQ(a.last_inbound_ms, events[3].timestamp_ms);
    EXPECT_EQ(a.first_seen_ms, events[0].timestamp_ms);
    EXPECT_TRUE(pgibot::state_from_json(store_->load_state(events[1].user_key()).value_or("")).greeted);

    // The next batch starts from what was committed: no greeting again.
    const std::vector<pgibot::Event> later = {message("b", "Xin chào")};
    const auto later_ids = to_inbox(later);
    const auto again = processor_->process_batch(items(later, later_ids), now_);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_TRUE(again[0].handled);
    EXPECT_FALSE(greeted_in(again[0]));
}

TEST_F(HandlingTest, BatchMarksStatesItLeavesAsTheyWereUnchanged) {
    const std::vector<pgibot::Event> events = {message("a", "Xin chào"), of_kind("a", pgibot::EventKind::read),
                                               of_kind("a", pgibot::EventKind::delivery), message("a", "Xin chào")};
    const auto ids = to_inbox(events);
    const auto outcomes = processor_->process_batch(items(events, ids), now_);
    ASSERT_EQ(outcomes.size(), 4U);
    EXPECT_TRUE(outcomes[1].replies.empty());
    EXPECT_TRUE(outcomes[2].replies.empty());
    const auto calls = store_->calls();
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_EQ(calls[0].state_changed, (std::vector<bool>{true, false, false, true}));
    EXPECT_TRUE(pending_ids().empty());  // receipts' rows are handled all the same

    // Alone, against the stored state, too.
    const auto stored = store_->load_state(events[0].user_key());
    const std::vector<pgibot::Event> receipt = {of_kind("a", pgibot::EventKind::read)};
    const auto receipt_ids = to_inbox(receipt);
    const auto alone = processor_->process_batch(items(receipt, receipt_ids), now_);
    ASSERT_EQ(alone.size(), 1U);
    EXPECT_TRUE(alone[0].handled);
    ASSERT_EQ(store_->calls().size(), 2U);
    EXPECT_EQ(store_->calls()[1].state_changed, std::vector<bool>{false});
    EXPECT_EQ(store_->load_state(events[0].user_key()), stored);
    EXPECT_TRUE(pending_ids().empty());
}

TEST_F(HandlingTest, RowHandledElsewhereIsSkippedAndTheRestIsRedoneOneByOne) {
    const std::vector<pgibot::Event> events = {message("a", "Xin chào"), message("b", "Xin chào"),
                                               message("a", "PGI là gì?")};
    const auto ids = to_inbox(events);
    // Another worker decided b's row first.
    store::DecisionCommit elsewhere;
    elsewhere.inbox_id = ids[1];
    elsewhere.user_key = events[1].user_key();
    elsewhere.state_json = R"({"greeted":true,"first_seen_ms":7})";
    sqlite_->commit_decision(elsewhere);

    const auto outcomes = processor_->process_batch(items(events, ids), now_);
    ASSERT_EQ(outcomes.size(), 3U);
    EXPECT_TRUE(outcomes[0].handled);
    EXPECT_FALSE(outcomes[1].handled);
    EXPECT_TRUE(outcomes[2].handled);
    EXPECT_EQ(outcomes[0].replies.at(0).text, greeting());
    EXPECT_FALSE(outcomes[2].replies.empty());
    EXPECT_FALSE(greeted_in(outcomes[2])) << "the redo re-reads the state a's first event committed";

    // The batch commit was refused whole, then each row went on its own.
    const auto calls = store_->calls();
    ASSERT_EQ(calls.size(), 4U);
    EXPECT_TRUE(calls[0].batch);
    EXPECT_TRUE(calls[0].threw);
    for (std::size_t i = 1; i < 4; ++i) {
        EXPECT_FALSE(calls[i].batch);
        EXPECT_EQ(calls[i].inbox_ids, std::vector<std::int64_t>{ids[i - 1]});
    }
    EXPECT_TRUE(pending_ids().empty());
    EXPECT_EQ(store_->outbox_for_inbox(ids[0]).size(), outcomes[0].replies.size());
    EXPECT_TRUE(store_->outbox_for_inbox(ids[1]).empty());
    EXPECT_EQ(store_->outbox_for_inbox(ids[2]).size(), outcomes[2].replies.size());
    EXPECT_EQ(store_->load_state(events[1].user_key()), std::optional<std::string>(elsewhere.state_json));
}

TEST_F(HandlingTest, DispatcherRetriesAFailedBatchItemByItem) {
    // The lane is held on a timer for another user until all three rows are queued behind it, so
    // that they are handled as one batch; the middle row's decision cannot be committed.
    const std::vector<pgibot::Event> events = {message("a", "Xin chào"), message("b", "Xin chào"),
                                               message("c", "Xin chào")};
    const auto ids = to_inbox(events);
    store_->fail_if([bad = ids[1]](const store::DecisionCommit& c) { return c.inbox_id == bad; });
    const auto gate_event = timer("gate");
    store_->gate(gate_event.user_key());

    std::atomic<int> outbox_signals{0};
    pipeline::DispatcherHooks hooks;
    hooks.on_outbox = [&] { ++outbox_signals; };
    pipeline::Dispatcher dispatcher(*store_, *processor_, 1, hooks);
    std::atomic<int> gate_done{-1};
    dispatcher.submit(gate_event, [&](bool ok) { gate_done = ok ? 1 : 0; });
    ASSERT_TRUE(eventually([&] { return store_->gate_entered(); }));
    dispatcher.start();
    dispatcher.notify();
    const bool queued = eventually([&] { return dispatcher.in_flight() == 4; });
    store_->release_gate();
    ASSERT_TRUE(queued) << "in flight: " << dispatcher.in_flight();

    ASSERT_TRUE(eventually([&] { return dispatcher.in_flight() == 0; }));
    dispatcher.stop();

    EXPECT_EQ(gate_done.load(), 1);
    EXPECT_EQ(pending_ids(), std::vector<std::int64_t>{ids[1]}) << "only the failing row stays unhandled";
    EXPECT_FALSE(store_->outbox_for_inbox(ids[0]).empty());
    EXPECT_TRUE(store_->outbox_for_inbox(ids[1]).empty());
    EXPECT_FALSE(store_->outbox_for_inbox(ids[2]).empty());
    EXPECT_TRUE(store_->load_state(events[0].user_key()).has_value());
    EXPECT_FALSE(store_->load_state(events[1].user_key()).has_value());
    EXPECT_TRUE(store_->load_state(events[2].user_key()).has_value());
    EXPECT_GE(outbox_signals.load(), 1);

    // The three rows did meet in one batch, which failed whole before the retries.
    const auto calls = store_->calls();
    const auto batch = std::find_if(calls.begin(), calls.end(), [&](const auto& c) { return c.inbox_ids == ids; });
    ASSERT_NE(batch, calls.end()) << "the rows were never handled as one batch";
    EXPECT_TRUE(batch->threw);
    int alone_ok = 0;
    for (const auto& c : calls) {
        if (c.inbox_ids.size() == 1 && (c.inbox_ids[0] == ids[0] || c.inbox_ids[0] == ids[2]) && !c.threw) ++alone_ok;
    }
    EXPECT_EQ(alone_ok, 2);
}

TEST_F(HandlingTest, DispatcherReportsEachTimersOwnOutcomeAfterAFailedBatch) {
    const auto bad = timer("t-bad");
    const auto good = timer("t-good");
    const std::vector<pgibot::Event> rows = {message("a", "Xin chào")};
    const auto ids = to_inbox(rows);
    store_->fail_if([key = bad.user_key()](const store::DecisionCommit& c) { return c.user_key == key; });
    const auto gate_event = timer("gate");
    store_->gate(gate_event.user_key());

    pipeline::Dispatcher dispatcher(*store_, *processor_, 1, {});
    std::mutex m;
    std::map<std::string, std::vector<bool>> done;
    auto record = [&](const std::string& name) {
        return [&, name](bool ok) {
            std::lock_guard lock(m);
            done[name].push_back(ok);
        };
    };
    dispatcher.submit(gate_event, record("gate"));
    ASSERT_TRUE(eventually([&] { return store_->gate_entered(); }));
    dispatcher.submit(bad, record("bad"));
    dispatcher.submit(good, record("good"));
    dispatcher.start();
    dispatcher.notify();
    const bool queued = eventually([&] { return dispatcher.in_flight() == 4; });
    store_->release_gate();
    ASSERT_TRUE(queued) << "in flight: " << dispatcher.in_flight();
    ASSERT_TRUE(eventually([&] { return dispatcher.in_flight() == 0; }));
    dispatcher.stop();

    std::lock_guard lock(m);
    EXPECT_EQ(done["gate"], std::vector<bool>{true});
    EXPECT_EQ(done["bad"], std::vector<bool>{false}) << "told once, and that it failed";
    EXPECT_EQ(done["good"], std::vector<bool>{true}) << "told once, and that it went through";
    EXPECT_FALSE(store_->load_state(bad.user_key()).has_value());
    EXPECT_TRUE(store_->load_state(good.user_key()).has_value());
    EXPECT_TRUE(pending_ids().empty());
    EXPECT_FALSE(store_->outbox_for_inbox(ids[0]).empty());
}

TEST_F(HandlingTest, DispatcherHandlesBatchesThatCommit) {
    // No failure: everything queued behind the gate is committed in one go.
    std::vector<pgibot::Event> events;
    for (int i = 0; i < 10; ++i) events.push_back(message(i % 2 == 0 ? "a" : "b", "Xin chào"));
    const auto ids = to_inbox(events);
    const auto gate_event = timer("gate");
    store_->gate(gate_event.user_key());
    std::atomic<int> handled{0};
    pipeline::DispatcherHooks hooks;
    hooks.on_handled = [&](const pgibot::Event&, double seconds) {
        EXPECT_GE(seconds, 0.0);
        ++handled;
    };
    pipeline::Dispatcher dispatcher(*store_, *processor_, 1, hooks);
    dispatcher.submit(gate_event);
    ASSERT_TRUE(eventually([&] { return store_->gate_entered(); }));
    dispatcher.start();
    dispatcher.notify();
    const bool queued = eventually([&] { return dispatcher.in_flight() == 11; });
    store_->release_gate();
    ASSERT_TRUE(queued);
    ASSERT_TRUE(eventually([&] { return dispatcher.in_flight() == 0; }));
    dispatcher.stop();

    EXPECT_EQ(handled.load(), 11);
    EXPECT_TRUE(pending_ids().empty());
    const auto calls = store_->calls();
    ASSERT_EQ(calls.size(), 2U);  // the gate's timer, then the ten rows together
    EXPECT_EQ(calls[1].inbox_ids, ids);
    // Each user greeted once, in the order their events arrived.
    int greetings = 0;
    for (const auto id : ids) {
        for (const auto& row : store_->outbox_for_inbox(id)) {
            if (pgibot::out_message_from_json(row.message_json).value_or(pgibot::OutMessage{}).text == greeting()) {
                ++greetings;
            }
        }
    }
    EXPECT_EQ(greetings, 2);
}

}  // namespace
