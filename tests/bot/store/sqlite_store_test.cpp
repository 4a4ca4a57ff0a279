// The SQLite store against real database files: one fresh file per test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bot/store/migrations/migrations.hpp"
#include "bot/store/sqlite/recent_keys.hpp"
#include "bot/store/store.hpp"
#include "tests/bot/store/temp_db.hpp"

namespace pgibot::store {
namespace {

using testing::RawDb;
using testing::TempDb;

// 2025-07-10T03:00:00Z: July in Hanoi.
constexpr std::int64_t kJuly2025 = 1752116400000;
// 2025-06-30T17:30:00Z: still June 30 in UTC, already July 1 in Hanoi.
constexpr std::int64_t kJuly1HanoiJune30Utc = 1751304600000;
// 2025-06-15T03:00:00Z.
constexpr std::int64_t kJune2025 = 1749956400000;

Store::IncomingEvent incoming(std::string dedup_key, std::string user_key = "facebook:p1:u1") {
    return Store::IncomingEvent{std::move(dedup_key), std::move(user_key), R"({"kind":"message"})", "trace"};
}

// Options whose seal is a reversible stand-in for the cipher ("PGT1:" + the text reversed), counting seals.
SqliteOptions reversing_seal(const std::string& path, std::atomic<int>& seals) {
    SqliteOptions o{path, true, 5000, {}, {}};
    o.seal_text = [&seals](std::string_view plain) {
        ++seals;
        return "PGT1:" + std::string(plain.rbegin(), plain.rend());
    };
    o.open_text = [](std::string_view sealed) -> std::optional<std::string> {
        const auto body = sealed.substr(5);
        return std::string(body.rbegin(), body.rend());
    };
    return o;
}

NewOutbox reply(std::string user_id, std::string body, bool deliver = true) {
    NewOutbox out;
    out.platform = Platform::facebook;
    out.page_id = "p1";
    out.user_id = std::move(user_id);
    out.body = std::move(body);
    out.message_json = R"({"text":"hi"})";
    out.trace_id = "trace";
    out.deliver = deliver;
    return out;
}

DecisionCommit decision(std::int64_t inbox_id, std::string user_key, std::string state_json = "{}") {
    DecisionCommit commit;
    commit.inbox_id = inbox_id;
    commit.user_key = std::move(user_key);
    commit.state_json = std::move(state_json);
    return commit;
}

NewTipoff new_tipoff(std::int64_t created_ms) {
    NewTipoff t;
    t.report.platform = Platform::zalo;
    t.report.page_id = "oa1";
    t.report.kind = tipoff::PollutionKind::burning;
    t.report.description = "Đốt rác ban đêm";
    t.report.commune_name = "Phường Đông Kinh";
    t.report.reporter.platform_user_id = "secret-user";
    t.report.reporter.phone = "0900000000";
    t.identity_sealed = std::string("\x01\x00\xff sealed", 9);
    t.reporter_lookup = "lookup-hash";
    t.created_ms = created_ms;
    return t;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// An inbox row written behind the store's back (ids grow in the order of the calls).
void raw_inbox_row(RawDb& raw, const std::string& dedup_key, std::int64_t received_ms) {
    raw.exec("INSERT INTO inbox (dedup_key, user_key, event_json, trace_id, received_ms) VALUES ('" + dedup_key +
             "', 'facebook:p1:u1', '{}', 'raw', " + std::to_string(received_ms) + ")");
}

// Every inbox row, every column, in id order.
std::string inbox_dump(RawDb& raw) {
    return raw.text(
        "SELECT group_concat(id || '|' || COALESCE(dedup_key, '<null>') || '|' || user_key || '|' || event_json"
        " || '|' || trace_id || '|' || received_ms || '|' || COALESCE(handled_ms, '<null>'), ';')"
        " FROM (SELECT * FROM inbox ORDER BY id)");
}

std::vector<std::int64_t> ids(const std::vector<OutboxItem>& items) {
    std::vector<std::int64_t> out;
    for (const auto& item : items) {
        out.push_back(item.id);
    }
    return out;
}

class SqliteStoreTest : public ::testing::Test {
protected:
    std::unique_ptr<Store> open() { return open_sqlite(SqliteOptions{db_.path(), true, 5000, {}, {}}); }

    // Commits one event and returns its inbox id.
    std::int64_t inbox_row(Store& store, const std::string& dedup_key, const std::string& user_key) {
        EXPECT_EQ(store.commit_events({incoming(dedup_key, user_key)}), 1U);
        const auto rows = store.pending_inbox(0, 1000);
        EXPECT_FALSE(rows.empty());
        return rows.empty() ? 0 : rows.back().id;
    }

    TempDb db_;
};

// --- schema -------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, MigrationsAreAppliedOnceAndReopenIsIdempotent) {
    open().reset();
    open().reset();
    auto store = open();
    RawDb raw(db_.path());
    const auto all = migrations::sqlite();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM schema_migrations"), static_cast<long long>(all.size()));
    EXPECT_EQ(raw.number("SELECT MAX(version) FROM schema_migrations"), all.back().version);
    EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
    EXPECT_TRUE(store->writable());
}

TEST_F(SqliteStoreTest, MigrationVersionsIncrease) {
    int previous = 0;
    for (const auto& migration : migrations::sqlite()) {
        EXPECT_GT(migration.version, previous) << migration.name;
        EXPECT_FALSE(migration.sql.empty());
        previous = migration.version;
    }
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerVersion) {
    open().reset();
    {
        RawDb raw(db_.path());
        raw.exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (9999, 'future', 0)");
    }
    EXPECT_THROW(open(), StoreError);
}

TEST_F(SqliteStoreTest, RejectsAnEmptyPath) {
    EXPECT_THROW(open_sqlite(SqliteOptions{"", true, 100, {}, {}}), StoreError);
}

// --- inbox --------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DedupSurvivesARestart) {
    {
        auto store = open();
        EXPECT_EQ(store->commit_events({incoming("a"), incoming("b")}), 2U);
        EXPECT_EQ(store->commit_events({incoming("a")}), 0U);
    }
    auto store = open();
    EXPECT_EQ(store->commit_events({incoming("a"), incoming("c")}), 1U);
    const auto rows = store->pending_inbox(0, 100);
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_LT(rows[0].id, rows[1].id);
    EXPECT_LT(rows[1].id, rows[2].id);
    EXPECT_EQ(rows[0].user_key, "facebook:p1:u1");
    EXPECT_EQ(rows[0].event_json, R"({"kind":"message"})");
    EXPECT_EQ(rows[0].trace_id, "trace");
    EXPECT_EQ(store->inbox_depth(), 3U);
}

TEST_F(SqliteStoreTest, BatchCommitCountsNewRowsPerBatch) {
    auto store = open();
    store->commit_events({incoming("old")});
    const auto counts = store->commit_event_batches({
        {incoming("a"), incoming("b")},
        {incoming("a"), incoming("c"), incoming("old")},
        {},
        {incoming("d"), incoming("d")},
        {incoming(""), incoming("")},  // no key: never deduplicated
    });
    EXPECT_EQ(counts, (std::vector<std::size_t>{2, 1, 0, 1, 2}));
    EXPECT_EQ(store->inbox_depth(), 7U);
    EXPECT_EQ(store->commit_event_batches({}), std::vector<std::size_t>{});
    EXPECT_EQ(store->commit_event_batches({{}, {}}), (std::vector<std::size_t>{0, 0}));
}

// prepare() seals on the caller's thread; the commit then stores that form as it is. Sealed once
// whether prepared or not, and prepare() twice does not seal twice.
TEST_F(SqliteStoreTest, PreparedEventsAreSealedOnceAndReadBackAsTheyCame) {
    std::atomic<int> seals{0};
    const SqliteOptions o = reversing_seal(db_.path(), seals);
    auto store = open_sqlite(o);
    Store::IncomingEvent prepared{"k1", "facebook:p:u1", R"({"text":"khói ở xã Tân Tiến"})", "t1"};
    store->prepare(prepared);
    EXPECT_TRUE(prepared.prepared);
    EXPECT_TRUE(prepared.event_json.starts_with("PGT1:")) << "prepare() seals";
    store->prepare(prepared);
    EXPECT_EQ(seals.load(), 1) << "a second prepare() must not seal the sealed form again";
    Store::IncomingEvent plain{"k2", "facebook:p:u2", R"({"text":"rác thải"})", "t2"};
    EXPECT_EQ(store->commit_event_batches({{prepared}, {plain}}), (std::vector<std::size_t>{1, 1}));
    EXPECT_EQ(seals.load(), 2) << "the commit seals only what was not prepared";
    const auto rows = store->pending_inbox(0, 10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].event_json, R"({"text":"khói ở xã Tân Tiến"})");
    EXPECT_EQ(rows[1].event_json, R"({"text":"rác thải"})");
    RawDb raw(db_.path());
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox WHERE event_json LIKE 'PGT1:%'"), 2) << "stored sealed";
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox WHERE event_json LIKE 'PGT1:PGT1:%'"), 0);
}

// Events stored already handled are not sealed one by one (prepare() leaves them plain): the commit
// seals its group's packed row once, as a whole (schema 0006); the keys stay plain for start-up.
TEST_F(SqliteStoreTest, AGroupOfHandledEventsIsSealedOnceAsAWhole) {
    std::atomic<int> seals{0};
    const SqliteOptions o = reversing_seal(db_.path(), seals);
    auto store = open_sqlite(o);
    auto read = incoming("read.1");
    read.handled = true;
    auto echo = incoming("echo.1", "facebook:p1:u2");
    echo.handled = true;
    echo.event_json = R"({"text":"khói"})";
    store->prepare(read);
    store->prepare(echo);
    EXPECT_FALSE(read.prepared);
    EXPECT_EQ(seals.load(), 0) << "prepare() leaves a handled event to its group's seal";
    EXPECT_EQ(store->commit_event_batches({{read}, {echo}}), (std::vector<std::size_t>{1, 1}));
    EXPECT_EQ(seals.load(), 1) << "one seal for the group";

    RawDb raw(db_.path());
    EXPECT_EQ(raw.text("SELECT CAST(dedup_keys AS TEXT) FROM inbox_handled_groups"), "6:read.1,6:echo.1,");
    const auto stored = raw.text("SELECT CAST(events AS TEXT) FROM inbox_handled_groups");
    ASSERT_TRUE(stored.starts_with("PGT1:")) << stored;
    EXPECT_EQ(stored.find("khói"), std::string::npos) << "no event text in clear";
    const auto plain = o.open_text(stored);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, "6:read.1,14:facebook:p1:u1,5:trace," + std::string(R"(18:{"kind":"message"},)") +
                          "6:echo.1,14:facebook:p1:u2,5:trace," + std::string(R"(16:{"text":"khói"},)"));
    EXPECT_EQ(store->commit_events({echo}), 0U) << "deduplicated like any event";
}

TEST_F(SqliteStoreTest, PendingInboxHonoursCursorLimitAndHandled) {
    auto store = open();
    store->commit_events({incoming("1"), incoming("2"), incoming("3"), incoming("4")});
    const auto all = store->pending_inbox(0, 100);
    ASSERT_EQ(all.size(), 4U);
    store->commit_decision(decision(all[1].id, "facebook:p1:u1"));

    const auto first_two = store->pending_inbox(0, 2);
    ASSERT_EQ(first_two.size(), 2U);
    EXPECT_EQ(first_two[0].id, all[0].id);
    EXPECT_EQ(first_two[1].id, all[2].id);  // handled row skipped
    const auto after = store->pending_inbox(all[2].id, 100);
    ASSERT_EQ(after.size(), 1U);
    EXPECT_EQ(after[0].id, all[3].id);
    EXPECT_EQ(store->inbox_depth(), 3U);
}

// Deduplication is in memory (sqlite::RecentKeys): the keys of the last week are read back at open.
TEST_F(SqliteStoreTest, OpenLoadsTheKeysOfTheWindowAndOlderKeysAreAcceptedAgain) {
    open().reset();
    const std::int64_t now = wall_ms();
    {
        RawDb raw(db_.path());
        raw_inbox_row(raw, "old", now - sqlite::kDedupWindowMs - 60'000);
        raw_inbox_row(raw, "recent", now - sqlite::kDedupWindowMs + 60'000);
        raw_inbox_row(raw, "today", now - 1000);
    }
    auto store = open();
    EXPECT_EQ(store->commit_events({incoming("recent"), incoming("today")}), 0U);
    EXPECT_EQ(store->commit_events({incoming("old")}), 1U);
    EXPECT_EQ(store->commit_events({incoming("old")}), 0U);  // known again from now on
    store.reset();
    store = open();
    EXPECT_EQ(store->commit_events({incoming("old"), incoming("recent")}), 0U);
}

// Ids grow with time, so the scan at open reads newest first and stops at the first row older than
// the window: a row stamped inside it but written before that one (the clock went back) is not read.
TEST_F(SqliteStoreTest, OpenStopsReadingAtTheFirstRowOlderThanTheWindow) {
    open().reset();
    const std::int64_t now = wall_ms();
    {
        RawDb raw(db_.path());
        raw_inbox_row(raw, "behind", now - 1000);
        raw_inbox_row(raw, "old", now - sqlite::kDedupWindowMs - 60'000);
        raw_inbox_row(raw, "recent", now - 1000);
    }
    auto store = open();
    EXPECT_EQ(store->commit_events({incoming("recent")}), 0U);
    EXPECT_EQ(store->commit_events({incoming("old"), incoming("behind")}), 2U);
}

// A transaction's keys are remembered only once it committed: sent again after a failed commit, its
// events are new. (Also shows the store's connections enforce foreign keys after the migrations,
// which run with enforcement off.)
TEST_F(SqliteStoreTest, AFailedCommitDoesNotRememberItsKeys) {
    auto store = open();
    {
        // A deferred foreign key is checked at COMMIT: an event keyed "doomed" makes its whole
        // transaction fail there, after every insert went through.
        RawDb raw(db_.path());
        raw.exec("CREATE TABLE doom_parent (id INTEGER PRIMARY KEY);"
                 "CREATE TABLE doom_child (parent INTEGER REFERENCES doom_parent (id) DEFERRABLE INITIALLY DEFERRED);"
                 "CREATE TRIGGER doom AFTER INSERT ON inbox WHEN NEW.dedup_key = 'doomed'"
                 " BEGIN INSERT INTO doom_child (parent) VALUES (1); END;");
    }
    EXPECT_THROW(store->commit_event_batches({{incoming("a"), incoming("b")}, {incoming("doomed")}}), StoreError);
    EXPECT_EQ(store->inbox_depth(), 0U);
    {
        RawDb raw(db_.path());
        raw.exec("DROP TRIGGER doom");
    }
    EXPECT_EQ(store->commit_event_batches({{incoming("a")}, {incoming("doomed"), incoming("b")}}),
              (std::vector<std::size_t>{1, 2}));
    EXPECT_EQ(store->commit_events({incoming("a"), incoming("b"), incoming("doomed")}), 0U);
    EXPECT_EQ(store->inbox_depth(), 3U);
}

TEST_F(SqliteStoreTest, Migration4RebuildsTheInboxKeepingRowsIdsAndTheSequence) {
    const auto all = migrations::sqlite();
    ASSERT_GE(all.size(), 4U);
    ASSERT_EQ(all[3].version, 4);
    const std::int64_t now = wall_ms();
    std::string before;
    {
        // A database as version 3 left it, with events, one handled, one referenced by an outbox row.
        std::filesystem::create_directories(std::filesystem::path(db_.path()).parent_path());
        RawDb raw(db_.path());
        raw.exec("PRAGMA journal_mode = WAL");
        raw.exec("CREATE TABLE schema_migrations ("
                 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)");
        for (const auto& migration : all.first(3)) {
            raw.exec(std::string(migration.sql));
            raw.exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (" +
                     std::to_string(migration.version) + ", '" + std::string(migration.name) + "', 0)");
        }
        for (int i = 1; i <= 5; ++i) raw_inbox_row(raw, "k" + std::to_string(i), now - 1000 + i);
        raw.exec("INSERT INTO inbox (dedup_key, user_key, event_json, received_ms) VALUES (NULL, 'zalo:oa:u', '{}', " +
                 std::to_string(now) + ")");
        raw_inbox_row(raw, "k7", now);
        raw.exec("DELETE FROM inbox WHERE id = 7");  // by hand: the sequence stays at 7
        raw.exec("UPDATE inbox SET handled_ms = " + std::to_string(now) + " WHERE id = 2");
        raw.exec("INSERT INTO outbox (platform, page_id, user_id, body, message_json, state, next_attempt_ms,"
                 " inbox_id, created_ms) VALUES ('facebook', 'p1', 'u1', 'b', '{}', 'pending', 0, 3, 0)");
        ASSERT_EQ(raw.number("SELECT seq FROM sqlite_sequence WHERE name = 'inbox'"), 7);
        ASSERT_EQ(raw.number("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inbox'"), 2);
        before = inbox_dump(raw);
    }

    auto store = open();
    RawDb raw(db_.path());
    EXPECT_EQ(raw.number("SELECT MAX(version) FROM schema_migrations"), all.back().version);
    EXPECT_EQ(inbox_dump(raw), before);
    EXPECT_EQ(raw.number("SELECT seq FROM sqlite_sequence WHERE name = 'inbox'"), 7);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM sqlite_sequence WHERE name LIKE 'inbox%'"), 1);
    // The unique index is gone, the partial one is back, the start-up scan has its own; the outbox
    // still refers to the inbox.
    EXPECT_EQ(raw.text("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master"
                       " WHERE type = 'index' AND tbl_name = 'inbox' ORDER BY name)"),
              "inbox_recent_keys,inbox_unhandled");
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM sqlite_master WHERE name = 'inbox_new'"), 0);
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_master WHERE name = 'outbox'").find("REFERENCES inbox (id)"),
              std::string::npos);
    EXPECT_EQ(raw.text("PRAGMA foreign_key_check"), "");
    EXPECT_EQ(raw.number("SELECT inbox_id FROM outbox"), 3);

    const auto pending = store->pending_inbox(0, 100);
    std::vector<std::int64_t> pending_ids;
    for (const auto& row : pending) pending_ids.push_back(row.id);
    EXPECT_EQ(pending_ids, (std::vector<std::int64_t>{1, 3, 4, 5, 6}));
    // The old keys were loaded; new rows take ids after the old sequence, never 7 again.
    EXPECT_EQ(store->commit_events({incoming("k1"), incoming("k7"), incoming("new"), incoming("k2")}), 2U);
    EXPECT_EQ(
        raw.text("SELECT group_concat(id || ':' || dedup_key) FROM (SELECT * FROM inbox WHERE id > 6 ORDER BY id)"),
        "8:k7,9:new");
}

// --- decisions ----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DecisionCommitsStateOutboxAndUnmatched) {
    auto store = open();
    const auto inbox_id = inbox_row(*store, "m1", "facebook:p1:u1");
    auto commit = decision(inbox_id, "facebook:p1:u1", R"({"greeted":true})");
    commit.outbox = {reply("u1", "one"), reply("u1", "two"), reply("u1", "printed", false)};
    commit.unmatched = {Unmatched{Platform::facebook, "xe rác mấy giờ?", 0}};
    EXPECT_TRUE(store->commit_decision(commit).empty());

    EXPECT_EQ(store->load_state("facebook:p1:u1"), std::optional<std::string>(R"({"greeted":true})"));
    EXPECT_FALSE(store->load_state("facebook:p1:nobody"));
    EXPECT_EQ(store->inbox_depth(), 0U);
    EXPECT_TRUE(store->pending_inbox(0, 10).empty());

    const auto recorded = store->outbox_for_inbox(inbox_id);
    ASSERT_EQ(recorded.size(), 3U);
    EXPECT_EQ(recorded[0].body, "one");
    EXPECT_EQ(recorded[2].body, "printed");
    EXPECT_EQ(recorded[0].inbox_id, inbox_id);
    EXPECT_EQ(recorded[0].platform, Platform::facebook);
    EXPECT_EQ(recorded[0].message_json, R"({"text":"hi"})");
    EXPECT_EQ(store->outbox_depth(), 2U);  // the record-only row is not to be sent

    RawDb raw(db_.path());
    EXPECT_EQ(raw.text("SELECT state FROM outbox WHERE body = 'printed'"), "sent");
    EXPECT_EQ(raw.text("SELECT text FROM unmatched_questions"), "xe rác mấy giờ?");

    // State is replaced by the next decision.
    store->commit_decision(decision(0, "facebook:p1:u1", R"({"greeted":false})"));
    EXPECT_EQ(store->load_state("facebook:p1:u1"), std::optional<std::string>(R"({"greeted":false})"));
}

TEST_F(SqliteStoreTest, SecondDecisionForTheSameInboxRowIsRejectedWhole) {
    auto store = open();
    const auto inbox_id = inbox_row(*store, "m1", "facebook:p1:u1");
    auto commit = decision(inbox_id, "facebook:p1:u1", R"({"n":1})");
    commit.outbox = {reply("u1", "one")};
    store->commit_decision(commit);

    commit.state_json = R"({"n":2})";
    EXPECT_THROW(store->commit_decision(commit), InboxAlreadyHandled);
    EXPECT_EQ(store->outbox_for_inbox(inbox_id).size(), 1U);
    EXPECT_EQ(store->load_state("facebook:p1:u1"), std::optional<std::string>(R"({"n":1})"));

    EXPECT_THROW(store->commit_decision(decision(987654, "facebook:p1:u1")), StoreError);
}

TEST_F(SqliteStoreTest, FailedDecisionLeavesNothingBehind) {
    auto store = open();
    const auto inbox_id = inbox_row(*store, "m1", "zalo:oa1:u1");
    {
        RawDb raw(db_.path());
        raw.exec("CREATE TRIGGER injected_failure BEFORE INSERT ON unmatched_questions "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    }
    auto commit = decision(inbox_id, "zalo:oa1:u1", R"({"subscribed":true,"dialog":"{}"})");
    commit.platform = Platform::zalo;
    commit.page_id = "oa1";
    commit.user_id = "u1";
    commit.outbox = {reply("u1", "Mã {ref_code}")};
    commit.tipoffs = {new_tipoff(kJuly2025)};
    commit.unmatched = {Unmatched{Platform::zalo, "?", 1}};
    EXPECT_THROW(store->commit_decision(commit), StoreError);

    EXPECT_EQ(store->inbox_depth(), 1U);
    EXPECT_FALSE(store->load_state("zalo:oa1:u1"));
    EXPECT_TRUE(store->outbox_for_inbox(inbox_id).empty());
    EXPECT_TRUE(store->list_tipoffs({}).empty());
    EXPECT_TRUE(store->subscribers(Platform::zalo, "oa1").empty());
    RawDb raw(db_.path());
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox"), 0);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM tipoff_history"), 0);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM tipoff_sequences"), 0);

    // The same decision goes through once the fault is gone, on the same store.
    raw.exec("DROP TRIGGER injected_failure");
    const auto codes = store->commit_decision(commit);
    ASSERT_EQ(codes.size(), 1U);
    EXPECT_EQ(codes[0], "LS-2507-0001");
    EXPECT_EQ(store->outbox_for_inbox(inbox_id).at(0).body, "Mã LS-2507-0001");
}

// --- decisions in batches -------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DecisionBatchCommitsInOrderAndReturnsCodesPerDecision) {
    auto store = open();
    const auto r1 = inbox_row(*store, "m1", "zalo:oa1:u1");
    const auto r2 = inbox_row(*store, "m2", "zalo:oa1:u1");
    const auto r3 = inbox_row(*store, "m3", "zalo:oa1:u2");
    const auto reserved = store->reserve_tipoff_code(kJuly2025);
    ASSERT_EQ(reserved, "LS-2507-0001");

    auto d1 = decision(r1, "zalo:oa1:u1", R"({"n":1})");
    d1.tipoffs = {new_tipoff(kJuly2025), new_tipoff(kJuly2025)};
    d1.outbox = {reply("u1", "first {ref_code}")};
    auto d2 = decision(r2, "zalo:oa1:u1", R"({"n":2})");  // the same user again: the later state wins
    d2.outbox = {reply("u1", "second")};
    auto d3 = decision(r3, "zalo:oa1:u2", R"({"n":3})");
    d3.tipoffs = {new_tipoff(kJuly2025)};
    d3.tipoffs[0].code = reserved;
    d3.outbox = {reply("u2", "third {ref_code}")};

    const auto codes = store->commit_decisions({d1, d2, d3});
    ASSERT_EQ(codes.size(), 3U);
    EXPECT_EQ(codes[0], (std::vector<std::string>{"LS-2507-0002", "LS-2507-0003"}));
    EXPECT_TRUE(codes[1].empty());
    EXPECT_EQ(codes[2], std::vector<std::string>{"LS-2507-0001"});

    EXPECT_TRUE(store->pending_inbox(0, 10).empty());
    EXPECT_EQ(store->load_state("zalo:oa1:u1"), std::optional<std::string>(R"({"n":2})"));
    EXPECT_EQ(store->load_state("zalo:oa1:u2"), std::optional<std::string>(R"({"n":3})"));
    // Each decision's replies quote its own (last) code.
    EXPECT_EQ(store->outbox_for_inbox(r1).at(0).body, "first LS-2507-0003");
    EXPECT_EQ(store->outbox_for_inbox(r2).at(0).body, "second");
    EXPECT_EQ(store->outbox_for_inbox(r3).at(0).body, "third LS-2507-0001");
    EXPECT_EQ(store->list_tipoffs({}).size(), 3U);
    ASSERT_TRUE(store->tipoff_by_code("LS-2507-0001"));

    EXPECT_TRUE(store->commit_decisions({}).empty());
}

TEST_F(SqliteStoreTest, DecisionBatchWithAHandledRowWritesNothing) {
    auto store = open();
    store->commit_decision(decision(0, "zalo:oa1:u1", R"({"n":0})"));
    const auto r1 = inbox_row(*store, "m1", "zalo:oa1:u1");
    const auto r2 = inbox_row(*store, "m2", "zalo:oa1:u2");
    const auto r3 = inbox_row(*store, "m3", "zalo:oa1:u3");
    store->commit_decision(decision(r3, "zalo:oa1:u3", R"({"other":"worker"})"));  // handled elsewhere first

    auto d1 = decision(r1, "zalo:oa1:u1", R"({"n":1})");
    d1.outbox = {reply("u1", "one {ref_code}")};
    d1.tipoffs = {new_tipoff(kJuly2025)};
    d1.unmatched = {Unmatched{Platform::zalo, "?", 1}};
    auto d2 = decision(r2, "zalo:oa1:u2", R"({"n":2})");
    d2.outbox = {reply("u2", "two")};
    auto d3 = decision(r3, "zalo:oa1:u3", R"({"n":3})");  // last: the writes before it must roll back
    d3.outbox = {reply("u3", "three")};
    EXPECT_THROW(store->commit_decisions({d1, d2, d3}), InboxAlreadyHandled);

    const auto pending = store->pending_inbox(0, 10);
    ASSERT_EQ(pending.size(), 2U);
    EXPECT_EQ(pending[0].id, r1);
    EXPECT_EQ(pending[1].id, r2);
    EXPECT_EQ(store->load_state("zalo:oa1:u1"), std::optional<std::string>(R"({"n":0})"));
    EXPECT_FALSE(store->load_state("zalo:oa1:u2"));
    EXPECT_EQ(store->load_state("zalo:oa1:u3"), std::optional<std::string>(R"({"other":"worker"})"));
    EXPECT_TRUE(store->outbox_for_inbox(r1).empty());
    EXPECT_TRUE(store->outbox_for_inbox(r2).empty());
    EXPECT_TRUE(store->outbox_for_inbox(r3).empty());
    EXPECT_TRUE(store->list_tipoffs({}).empty());
    RawDb raw(db_.path());
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox"), 0);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM unmatched_questions"), 0);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM tipoff_sequences"), 0);

    // Without the handled row, the rest goes through.
    const auto codes = store->commit_decisions({d1, d2});
    ASSERT_EQ(codes.size(), 2U);
    EXPECT_EQ(codes[0], std::vector<std::string>{"LS-2507-0001"});
    EXPECT_TRUE(store->pending_inbox(0, 10).empty());
    EXPECT_EQ(store->outbox_for_inbox(r1).at(0).body, "one LS-2507-0001");
    EXPECT_EQ(store->outbox_for_inbox(r2).size(), 1U);
}

TEST_F(SqliteStoreTest, DecisionBatchWithAnUnknownRowWritesNothing) {
    auto store = open();
    const auto r1 = inbox_row(*store, "m1", "zalo:oa1:u1");
    auto d1 = decision(r1, "zalo:oa1:u1", R"({"n":1})");
    d1.outbox = {reply("u1", "one")};
    EXPECT_THROW(store->commit_decisions({d1, decision(987654, "zalo:oa1:u2")}), StoreError);
    EXPECT_EQ(store->pending_inbox(0, 10).size(), 1U);
    EXPECT_FALSE(store->load_state("zalo:oa1:u1"));
    EXPECT_TRUE(store->outbox_for_inbox(r1).empty());
}

TEST_F(SqliteStoreTest, UnchangedStateIsNotRewrittenButTheRowIsHandled) {
    auto store = open();
    store->commit_decision(decision(0, "facebook:p1:u1", R"({"n":1})"));
    RawDb raw(db_.path());
    raw.exec("UPDATE conversations SET updated_ms = 42 WHERE user_key = 'facebook:p1:u1'");
    const auto inbox_id = inbox_row(*store, "read.1", "facebook:p1:u1");

    auto unchanged = decision(inbox_id, "facebook:p1:u1", R"({"n":2})");
    unchanged.state_changed = false;
    unchanged.outbox = {reply("u1", "still recorded")};
    EXPECT_TRUE(store->commit_decision(unchanged).empty());

    EXPECT_EQ(store->load_state("facebook:p1:u1"), std::optional<std::string>(R"({"n":1})"));
    EXPECT_EQ(raw.number("SELECT updated_ms FROM conversations WHERE user_key = 'facebook:p1:u1'"), 42);
    EXPECT_TRUE(store->pending_inbox(0, 10).empty());
    EXPECT_EQ(store->inbox_depth(), 0U);
    EXPECT_EQ(store->outbox_for_inbox(inbox_id).size(), 1U);

    // The same in a batch, next to a decision that does change its user's state.
    const auto r2 = inbox_row(*store, "read.2", "facebook:p1:u1");
    const auto r3 = inbox_row(*store, "m.3", "facebook:p1:u2");
    auto again = decision(r2, "facebook:p1:u1", R"({"n":3})");
    again.state_changed = false;
    store->commit_decisions({again, decision(r3, "facebook:p1:u2", R"({"n":4})")});
    EXPECT_EQ(store->load_state("facebook:p1:u1"), std::optional<std::string>(R"({"n":1})"));
    EXPECT_EQ(store->load_state("facebook:p1:u2"), std::optional<std::string>(R"({"n":4})"));
    EXPECT_TRUE(store->pending_inbox(0, 10).empty());

    // A new user whose decision says "unchanged" gets no conversation row at all.
    const auto r4 = inbox_row(*store, "read.4", "facebook:p1:u9");
    auto fresh = decision(r4, "facebook:p1:u9", "{}");
    fresh.state_changed = false;
    store->commit_decision(fresh);
    EXPECT_FALSE(store->load_state("facebook:p1:u9"));
    EXPECT_TRUE(store->pending_inbox(0, 10).empty());
}

TEST_F(SqliteStoreTest, EventsStoredHandledAreDeduplicatedButNeverPending) {
    auto store = open();
    auto receipt = incoming("read.1");
    receipt.handled = true;
    auto echo = incoming("echo.1", "facebook:p1:u2");
    echo.handled = true;
    auto keyless = incoming("");
    keyless.handled = true;
    EXPECT_EQ(store->commit_events({receipt, incoming("m.1"), echo, keyless}), 4U);

    const auto pending = store->pending_inbox(0, 10);
    ASSERT_EQ(pending.size(), 1U);
    EXPECT_EQ(store->inbox_depth(), 1U);
    RawDb raw(db_.path());
    EXPECT_EQ(pending[0].id, raw.number("SELECT id FROM inbox WHERE dedup_key = 'm.1'"));
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox"), 1) << "only the event to handle has a row of its own";
    // The three others share one row (schema 0005): their keys, and each event with its key, user and trace.
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 1);
    EXPECT_EQ(raw.text("SELECT CAST(dedup_keys AS TEXT) FROM inbox_handled_groups"), "6:read.1,6:echo.1,");
    const std::string kEvent = R"(18:{"kind":"message"},)";
    EXPECT_EQ(raw.text("SELECT CAST(events AS TEXT) FROM inbox_handled_groups"),
              "6:read.1,14:facebook:p1:u1,5:trace," + kEvent +   //
                  "6:echo.1,14:facebook:p1:u2,5:trace," + kEvent +  //
                  "0:,14:facebook:p1:u1,5:trace," + kEvent);

    // Redelivered: dropped like any known event, handled or not.
    EXPECT_EQ(store->commit_events({receipt}), 0U);
    EXPECT_EQ(store->commit_events({incoming("read.1")}), 0U);
    EXPECT_EQ(store->commit_event_batches({{echo}, {incoming("echo.1"), receipt}}), (std::vector<std::size_t>{0, 0}));
    auto later = incoming("read.2");
    later.handled = true;
    EXPECT_EQ(store->commit_event_batches({{later, incoming("m.2")}}), std::vector<std::size_t>{2});
    EXPECT_EQ(store->pending_inbox(0, 10).size(), 2U);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox"), 2);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 2);
    // A commit of known events only writes no packed row.
    EXPECT_EQ(store->commit_events({later}), 0U);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 2);

    // Before schema 0005 such events had inbox rows, stored handled: a decision for one is refused
    // like any second decision.
    raw.exec("INSERT INTO inbox (dedup_key, user_key, event_json, received_ms, handled_ms)"
             " VALUES ('legacy.read', 'facebook:p1:u1', '{}', 1, 1)");
    const auto legacy_id = raw.number("SELECT id FROM inbox WHERE dedup_key = 'legacy.read'");
    EXPECT_THROW(store->commit_decision(decision(legacy_id, "facebook:p1:u1")), InboxAlreadyHandled);
}

// The keys of the packed rows are read back at open like the inbox's, within the same window; the
// two tables' keys are read together (before 0005, handled events were inbox rows).
TEST_F(SqliteStoreTest, KeysOfEventsStoredHandledSurviveARestart) {
    open().reset();
    const std::int64_t now = wall_ms();
    const auto packed_row = [this](std::int64_t received_ms, const std::string& keys) {
        RawDb raw(db_.path());
        raw.exec("INSERT INTO inbox_handled_groups (received_ms, dedup_keys, events) VALUES (" +
                 std::to_string(received_ms) + ", CAST('" + keys + "' AS BLOB), X'')");
    };
    packed_row(now - sqlite::kDedupWindowMs - 60'000, "7:old.one,");
    {
        auto store = open();
        auto receipt = incoming("read.1");
        receipt.handled = true;
        EXPECT_EQ(store->commit_events({receipt, incoming("m.1")}), 2U);
    }
    {
        RawDb raw(db_.path());
        raw_inbox_row(raw, "legacy", now - 1000);
    }
    packed_row(now - 500, "5:new.a,5:new.b,");
    auto store = open();
    auto again = incoming("read.1");
    again.handled = true;
    EXPECT_EQ(store->commit_events({again, incoming("m.1"), incoming("legacy"), incoming("new.a"), incoming("new.b")}),
              0U);
    EXPECT_EQ(store->commit_events({incoming("old.one")}), 1U) << "older than the window: new again";
}

TEST_F(SqliteStoreTest, MalformedKeysOfAPackedRowAreAStoreError) {
    open().reset();
    {
        RawDb raw(db_.path());
        raw.exec("INSERT INTO inbox_handled_groups (received_ms, dedup_keys, events) VALUES (" +
                 std::to_string(wall_ms()) + ", CAST('9:short,' AS BLOB), X'')");
    }
    auto store = open();
    EXPECT_THROW(store->commit_events({incoming("a")}), StoreError);
}

// --- retention ------------------------------------------------------------------------------------

constexpr std::int64_t kDayMs = std::int64_t{24} * 60 * 60 * 1000;

// Moves an inbox row and the outbox rows it caused back to `at_ms` (received, handled if it was, created).
void backdate(RawDb& raw, std::int64_t inbox_id, std::int64_t at_ms) {
    const auto at = std::to_string(at_ms);
    const auto id = std::to_string(inbox_id);
    raw.exec("UPDATE inbox SET received_ms = " + at + ", handled_ms = CASE WHEN handled_ms IS NULL THEN NULL ELSE " +
             at + " END WHERE id = " + id);
    raw.exec("UPDATE outbox SET created_ms = " + at + " WHERE inbox_id = " + id);
}

// A packed row of events stored already handled, received at `received_ms`.
void raw_handled_group(RawDb& raw, std::int64_t received_ms, const std::string& keys) {
    raw.exec("INSERT INTO inbox_handled_groups (received_ms, dedup_keys, events) VALUES (" +
             std::to_string(received_ms) + ", CAST('" + keys + "' AS BLOB), X'')");
}

// The dedup keys of the inbox rows left, in id order.
std::string inbox_keys(RawDb& raw) {
    return raw.text("SELECT group_concat(dedup_key, ',') FROM (SELECT dedup_key FROM inbox ORDER BY id)");
}

TEST_F(SqliteStoreTest, PruneDeletesWhatIsDoneWithBeforeTheCutoffAndKeepsTheRest) {
    auto store = open();
    const std::int64_t now = wall_ms();
    const std::int64_t old = now - 40 * kDayMs;
    const std::int64_t cutoff = now - 30 * kDayMs;
    const std::int64_t due = std::int64_t{1} << 50;

    // Handled 40 days ago, its reply sent: both go.
    const auto sent = inbox_row(*store, "old.sent", "facebook:p1:a");
    auto commit = decision(sent, "facebook:p1:a");
    commit.outbox = {reply("a", "sent reply")};
    store->commit_decision(commit);
    const auto sent_reply = store->due_outbox(due, 10).at(0).id;
    store->mark_sending(sent_reply);
    store->mark_sent(sent_reply, "mid.a");
    // Handled 40 days ago, its reply given up: both go.
    const auto gave_up = inbox_row(*store, "old.unreachable", "facebook:p1:b");
    commit = decision(gave_up, "facebook:p1:b");
    commit.outbox = {reply("b", "unreachable reply")};
    store->commit_decision(commit);
    store->mark_failed(store->due_outbox(due, 10).at(0).id, OutboxState::unreachable, "551");
    // Handled 40 days ago, its reply still pending: both stay (the reply still refers to its event).
    const auto waiting = inbox_row(*store, "old.pending", "facebook:p1:c");
    commit = decision(waiting, "facebook:p1:c");
    commit.outbox = {reply("c", "pending reply")};
    store->commit_decision(commit);
    // Received 40 days ago, never handled: stays, however old.
    const auto unhandled = inbox_row(*store, "old.unhandled", "facebook:p1:d");
    // A timer's reply (no inbox row), recorded as sent 40 days ago: goes.
    commit = decision(0, "facebook:p1:f");
    commit.outbox = {reply("f", "timer reply", false)};
    store->commit_decision(commit);
    // Handled 20 days ago, its reply sent: both stay (after the cutoff).
    const auto recent = inbox_row(*store, "recent.sent", "facebook:p1:e");
    commit = decision(recent, "facebook:p1:e");
    commit.outbox = {reply("e", "recent reply", false)};  // recorded as sent
    store->commit_decision(commit);

    RawDb raw(db_.path());
    for (const auto id : {sent, gave_up, waiting, unhandled}) backdate(raw, id, old);
    backdate(raw, recent, now - 20 * kDayMs);
    raw.exec("UPDATE outbox SET created_ms = " + std::to_string(old) + " WHERE inbox_id IS NULL");
    raw_handled_group(raw, old, "8:old.read,");
    raw_handled_group(raw, cutoff - 1, "9:edge.read,");
    raw_handled_group(raw, cutoff, "9:kept.read,");  // not before the cutoff
    raw_handled_group(raw, now - 20 * kDayMs, "11:recent.read,");
    ASSERT_EQ(raw.number("SELECT COUNT(*) FROM outbox"), 5);

    const auto result = store->prune_inbox(cutoff, 100);
    EXPECT_EQ(result.inbox, 2U);
    EXPECT_EQ(result.outbox, 3U);
    EXPECT_EQ(result.handled_groups, 2U);
    EXPECT_EQ(result.total(), 7U);

    EXPECT_EQ(inbox_keys(raw), "old.pending,old.unhandled,recent.sent");
    EXPECT_EQ(raw.text("SELECT group_concat(body, ',') FROM (SELECT body FROM outbox ORDER BY id)"),
              "pending reply,recent reply");
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox WHERE state = 'pending'"), 1);
    EXPECT_EQ(raw.text("SELECT group_concat(CAST(dedup_keys AS TEXT), '') FROM"
                       " (SELECT dedup_keys FROM inbox_handled_groups ORDER BY id)"),
              "9:kept.read,11:recent.read,");
    EXPECT_EQ(raw.text("PRAGMA foreign_key_check"), "") << "every outbox row still has its inbox row";
    // What is left works as before: the pending reply is due, the unhandled event pending.
    const auto pending = store->due_outbox(due, 10);
    ASSERT_EQ(pending.size(), 1U);
    EXPECT_EQ(pending[0].inbox_id, waiting);
    ASSERT_EQ(store->pending_inbox(0, 10).size(), 1U);
    EXPECT_EQ(store->pending_inbox(0, 10)[0].id, unhandled);
    EXPECT_EQ(store->outbox_depth(), 1U);
    EXPECT_EQ(store->inbox_depth(), 1U);

    // Nothing older is left; once the reply is sent, it and its event go at the next run.
    EXPECT_EQ(store->prune_inbox(cutoff, 100).total(), 0U);
    store->mark_sending(pending[0].id);
    store->mark_sent(pending[0].id, "mid.c");
    const auto later = store->prune_inbox(cutoff, 100);
    EXPECT_EQ(later.outbox, 1U);
    EXPECT_EQ(later.inbox, 1U);
    EXPECT_EQ(inbox_keys(raw), "old.unhandled,recent.sent");
    EXPECT_EQ(raw.text("PRAGMA foreign_key_check"), "");
}

TEST_F(SqliteStoreTest, PruneWorksInBatchesUntilNothingOlderIsLeft) {
    auto store = open();
    const std::int64_t now = wall_ms();
    const std::int64_t old = now - 40 * kDayMs;
    RawDb raw(db_.path());
    for (int i = 0; i < 5; ++i) {
        const auto id = inbox_row(*store, "old." + std::to_string(i), "facebook:p1:u" + std::to_string(i));
        auto commit = decision(id, "facebook:p1:u" + std::to_string(i));
        commit.outbox = {reply("u" + std::to_string(i), "r", false)};
        store->commit_decision(commit);
        backdate(raw, id, old + i);
        raw_handled_group(raw, old + i, "1:" + std::to_string(i) + ",");
    }
    const auto kept = inbox_row(*store, "new", "facebook:p1:n");
    store->commit_decision(decision(kept, "facebook:p1:n"));
    raw_handled_group(raw, now, "3:new,");

    const auto result = store->prune_inbox(now - 30 * kDayMs, 2);  // 2, 2, 1 per table
    EXPECT_EQ(result.inbox, 5U);
    EXPECT_EQ(result.outbox, 5U);
    EXPECT_EQ(result.handled_groups, 5U);
    EXPECT_EQ(inbox_keys(raw), "new");
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox"), 0);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 1);
    EXPECT_EQ(raw.text("PRAGMA foreign_key_check"), "");
    // Exactly a multiple of the batch: the last, empty batch ends it. A limit of 0 is taken as 1.
    raw.exec("DELETE FROM inbox_handled_groups");
    for (int i = 0; i < 4; ++i) raw_handled_group(raw, old, "1:x,");
    EXPECT_EQ(store->prune_inbox(now - 30 * kDayMs, 2).handled_groups, 4U);
    for (int i = 0; i < 3; ++i) raw_handled_group(raw, old, "1:y,");
    EXPECT_EQ(store->prune_inbox(now - 30 * kDayMs, 0).handled_groups, 3U);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 0);
    // A stop requested (the server shutting down) ends the run between batches: here before the first.
    for (int i = 0; i < 3; ++i) raw_handled_group(raw, old, "1:z,");
    std::stop_source stopped;
    stopped.request_stop();
    EXPECT_EQ(store->prune_inbox(now - 30 * kDayMs, 1, stopped.get_token()).total(), 0U);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 3);
}

// The keys of the dedup window are read back from the stored events at start-up: a prune keeps
// them, whatever cutoff it is given, and a redelivered event is still dropped after a restart.
TEST_F(SqliteStoreTest, DedupStillWorksAfterAPrune) {
    open().reset();
    const std::int64_t now = wall_ms();
    const std::int64_t edge = now - sqlite::kDedupWindowMs + 60'000;  // just inside the window
    {
        RawDb raw(db_.path());
        raw_inbox_row(raw, "old.1", now - 9 * kDayMs);
        raw_inbox_row(raw, "edge.1", edge);
        raw.exec("UPDATE inbox SET handled_ms = received_ms");
        raw_handled_group(raw, now - 9 * kDayMs, "8:old.read,");
        raw_handled_group(raw, edge, "9:edge.read,");
    }
    auto receipt = incoming("read.1");
    receipt.handled = true;
    {
        auto store = open();
        EXPECT_EQ(store->commit_events({receipt, incoming("m.1")}), 2U);
        const auto id = store->pending_inbox(0, 10).at(0).id;
        store->commit_decision(decision(id, "facebook:p1:u1"));

        const auto result = store->prune_inbox(now - 8 * kDayMs, 10);  // just older than the window
        EXPECT_EQ(result.inbox, 1U);
        EXPECT_EQ(result.handled_groups, 1U);
        EXPECT_EQ(store->commit_events({incoming("m.1"), receipt}), 0U) << "redelivered: still dropped";

        // A cutoff inside the window (here: tomorrow) is moved back to its start: nothing in it goes.
        EXPECT_EQ(store->prune_inbox(now + kDayMs, 10).total(), 0U);
        RawDb raw(db_.path());
        EXPECT_EQ(inbox_keys(raw), "edge.1,m.1");
        EXPECT_EQ(raw.number("SELECT COUNT(*) FROM inbox_handled_groups"), 2);
    }
    auto store = open();  // the keys come back from what the prunes kept
    auto edge_receipt = incoming("edge.read");
    edge_receipt.handled = true;
    EXPECT_EQ(store->commit_events({incoming("m.1"), receipt, incoming("edge.1"), edge_receipt}), 0U);
    EXPECT_EQ(store->commit_events({incoming("old.1")}), 1U) << "older than the window: new again";
}

TEST_F(SqliteStoreTest, IdleDialogUsers) {
    auto store = open();
    store->commit_decision(decision(0, "a", R"({"dialog":"{\"step\":\"kind\"}"})"));
    store->commit_decision(decision(0, "b", R"({"dialog":""})"));
    store->commit_decision(decision(0, "c", R"({"dialog":"{}"})"));
    const auto far_future = std::int64_t{1} << 60;
    auto idle = store->idle_dialog_users(far_future, 10);
    std::sort(idle.begin(), idle.end());
    EXPECT_EQ(idle, (std::vector<std::string>{"a", "c"}));
    EXPECT_TRUE(store->idle_dialog_users(0, 10).empty());  // touched after the cut-off
    EXPECT_EQ(store->idle_dialog_users(far_future, 1).size(), 1U);

    store->commit_decision(decision(0, "a", R"({"dialog":""})"));  // the draft ended
    EXPECT_EQ(store->idle_dialog_users(far_future, 10), std::vector<std::string>{"c"});
}

// --- outbox -------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, OutboxClaimsAndSendsInBatches) {
    auto store = open();
    auto commit = decision(0, "facebook:p1:a");
    commit.outbox = {reply("a", "a1"), reply("a", "a2"), reply("b", "b1"), reply("c", "c1")};
    store->commit_decision(commit);
    const auto now = std::int64_t{1} << 60;
    const auto due = store->due_outbox(now, 100);
    ASSERT_EQ(due.size(), 3U);  // a1, b1, c1
    // c1 is claimed elsewhere first: the batch claims the other two and leaves it out.
    store->mark_sending(due[2].id);
    const auto claimed = store->mark_sending_many({due[0].id, due[1].id, due[2].id});
    EXPECT_EQ(claimed, (std::vector<std::int64_t>{due[0].id, due[1].id}));
    EXPECT_TRUE(store->due_outbox(now, 100).empty());  // a2 waits for a1, everything else is sending
    EXPECT_TRUE(store->mark_sending_many({due[0].id}).empty());  // no longer pending

    store->mark_sent_many({{due[0].id, "mid.a1"}, {due[1].id, "mid.b1"}});
    const auto next = store->due_outbox(now, 100);
    ASSERT_EQ(next.size(), 1U);
    EXPECT_EQ(next[0].body, "a2");  // a's next message is due once a1 is recorded as sent
    RawDb raw(db_.path());
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND platform_message_id LIKE 'mid.%'"), 2);
    EXPECT_EQ(raw.number("SELECT attempts FROM outbox WHERE platform_message_id = 'mid.b1'"), 1);
    EXPECT_EQ(raw.number("SELECT COUNT(*) FROM outbox WHERE state = 'sending'"), 1);  // c1
}

TEST_F(SqliteStoreTest, OutboxKeepsEachUsersOrder) {
    auto store = open();
    auto commit = decision(0, "facebook:p1:a");
    commit.outbox = {reply("a", "a1"), reply("a", "a2"), reply("b", "b1"), reply("a", "a3")};
    store->commit_decision(commit);
    const auto rows = store->due_outbox(std::int64_t{1} << 60, 100);
    ASSERT_EQ(rows.size(), 2U);  // the head of each user's queue only
    EXPECT_EQ(rows[0].body, "a1");
    EXPECT_EQ(rows[1].body, "b1");
    const auto a1 = rows[0].id;
    const auto b1 = rows[1].id;
    const auto now = std::int64_t{1} << 60;

    store->mark_sending(a1);
    EXPECT_EQ(ids(store->due_outbox(now, 100)), std::vector<std::int64_t>{b1});  // a2 waits for a1
    store->mark_sent(a1, "mid.1");
    auto due = store->due_outbox(now, 100);
    ASSERT_EQ(due.size(), 2U);
    EXPECT_EQ(due[0].body, "a2");
    const auto a2 = due[0].id;

    EXPECT_EQ(store->due_outbox(now, 1).size(), 1U);  // limit
    store->mark_sending(a2);
    store->mark_sent(a2, "mid.2");
    due = store->due_outbox(now, 100);
    ASSERT_EQ(due.size(), 2U);
    EXPECT_EQ(due[0].body, "b1");
    EXPECT_EQ(due[1].body, "a3");
    RawDb raw(db_.path());
    EXPECT_EQ(raw.text("SELECT platform_message_id FROM outbox WHERE id = " + std::to_string(a1)), "mid.1");
    EXPECT_NE(raw.text("SELECT sent_ms FROM outbox WHERE id = " + std::to_string(a1)), "");
}

TEST_F(SqliteStoreTest, RetryBackoffAndFinalStates) {
    auto store = open();
    auto commit = decision(0, "facebook:p1:a");
    commit.outbox = {reply("a", "a1"), reply("a", "a2")};
    store->commit_decision(commit);
    const auto now = std::int64_t{1} << 50;
    const auto a1 = store->due_outbox(now, 10).at(0);
    EXPECT_EQ(a1.attempts, 0);

    store->mark_sending(a1.id);
    store->mark_retry(a1.id, now + 30000, "HTTP 500");
    EXPECT_TRUE(store->due_outbox(now, 10).empty());  // a1 backs off; a2 stays behind it
    auto later = store->due_outbox(now + 30000, 10);
    ASSERT_EQ(later.size(), 1U);
    EXPECT_EQ(later[0].id, a1.id);
    EXPECT_EQ(later[0].attempts, 1);
    EXPECT_EQ(later[0].next_attempt_ms, now + 30000);
    RawDb raw(db_.path());
    EXPECT_EQ(raw.text("SELECT last_error FROM outbox WHERE id = " + std::to_string(a1.id)), "HTTP 500");

    store->mark_sending(a1.id);
    store->mark_failed(a1.id, OutboxState::failed, "gave up");
    const auto next = store->due_outbox(now, 10);  // a failed row no longer blocks its user
    ASSERT_EQ(next.size(), 1U);
    EXPECT_EQ(next[0].body, "a2");
    store->mark_failed(next[0].id, OutboxState::unreachable, "551");
    EXPECT_TRUE(store->due_outbox(now + 30000, 10).empty());
    EXPECT_EQ(store->outbox_depth(), 0U);
    EXPECT_EQ(raw.text("SELECT state FROM outbox WHERE id = " + std::to_string(a1.id)), "failed");
    EXPECT_EQ(raw.text("SELECT attempts FROM outbox WHERE id = " + std::to_string(a1.id)), "2");
    EXPECT_EQ(raw.text("SELECT state FROM outbox WHERE id = " + std::to_string(next[0].id)), "unreachable");

    EXPECT_THROW(store->mark_failed(a1.id, OutboxState::pending, "x"), StoreError);
    EXPECT_THROW(store->mark_sent(424242, "mid"), StoreError);
    EXPECT_THROW(store->mark_retry(424242, 0, "x"), StoreError);
}

TEST_F(SqliteStoreTest, RecoverSendingAfterACrash) {
    const auto now = std::int64_t{1} << 50;
    std::int64_t a1 = 0;
    {
        auto store = open();
        auto commit = decision(0, "facebook:p1:a");
        commit.outbox = {reply("a", "a1"), reply("b", "b1"), reply("c", "c1")};
        store->commit_decision(commit);
        const auto due = store->due_outbox(now, 10);
        ASSERT_EQ(due.size(), 3U);
        a1 = due[0].id;
        store->mark_sending(due[0].id);
        store->mark_sending(due[1].id);
        EXPECT_THROW(store->mark_sending(due[1].id), StoreError);  // already claimed
        EXPECT_EQ(store->due_outbox(now, 10).size(), 1U);
    }  // "crash": two rows left in sending
    auto store = open();
    EXPECT_EQ(store->recover_sending(), 2U);
    EXPECT_EQ(store->recover_sending(), 0U);
    const auto due = store->due_outbox(now, 10);
    ASSERT_EQ(due.size(), 3U);
    EXPECT_EQ(due[0].id, a1);
    EXPECT_EQ(due[0].attempts, 0);
}

// --- users --------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, SubscribersFollowStateAndReachability) {
    auto store = open();
    auto subscribe = [&](const std::string& user, bool on) {
        auto commit = decision(0, "zalo:oa1:" + user, on ? R"({"subscribed":true})" : R"({"subscribed":false})");
        commit.platform = Platform::zalo;
        commit.page_id = "oa1";
        commit.user_id = user;
        store->commit_decision(commit);
    };
    subscribe("u1", true);
    subscribe("u2", true);
    subscribe("u3", false);
    EXPECT_EQ(store->subscribers(Platform::zalo, "oa1"), (std::vector<std::string>{"u1", "u2"}));
    EXPECT_TRUE(store->subscribers(Platform::zalo, "other-oa").empty());
    EXPECT_TRUE(store->subscribers(Platform::facebook, "oa1").empty());

    store->mark_unreachable(Platform::zalo, "u2", "unfollowed");
    store->mark_unreachable(Platform::zalo, "never-seen", "?");  // recorded, harmless
    EXPECT_EQ(store->subscribers(Platform::zalo, "oa1"), std::vector<std::string>{"u1"});
    subscribe("u2", true);  // still subscribed: still unreachable
    EXPECT_EQ(store->subscribers(Platform::zalo, "oa1"), std::vector<std::string>{"u1"});
    subscribe("u2", false);
    subscribe("u2", true);  // subscribing again makes them reachable again
    EXPECT_EQ(store->subscribers(Platform::zalo, "oa1"), (std::vector<std::string>{"u1", "u2"}));
    subscribe("u1", false);
    EXPECT_EQ(store->subscribers(Platform::zalo, "oa1"), std::vector<std::string>{"u2"});
}

TEST_F(SqliteStoreTest, SubscriberIdentityComesFromTheInboxEvent) {
    auto store = open();
    Event event;
    event.platform = Platform::facebook;
    event.kind = EventKind::message;
    event.page_id = "page9";
    event.user_id = "psid7";
    event.text = "đăng ký";
    event.dedup_key = "mid.1";
    ASSERT_EQ(store->commit_events({Store::IncomingEvent{event.dedup_key, event.user_key(), event_to_json(event),
                                                         "t"}}),
              1U);
    const auto row = store->pending_inbox(0, 1).at(0);
    store->commit_decision(decision(row.id, row.user_key, R"({"subscribed":true})"));
    EXPECT_EQ(store->subscribers(Platform::facebook, "page9"), std::vector<std::string>{"psid7"});
}

// --- tokens -------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, TokensRoundTrip) {
    auto store = open();
    EXPECT_FALSE(store->load_token("zalo:oa1"));
    store->save_token("zalo:oa1", TokenPair{"access-1", "refresh-1", 1000});
    store->save_token("zalo:oa1", TokenPair{"access-2", "refresh-2", 2000});
    store->save_token("zalo:oa2", TokenPair{"other", "other-r", 5});
    const auto pair = open()->load_token("zalo:oa1");
    ASSERT_TRUE(pair);
    EXPECT_EQ(pair->access_token, "access-2");
    EXPECT_EQ(pair->refresh_token, "refresh-2");
    EXPECT_EQ(pair->expires_at_ms, 2000);
}

// --- tip-offs -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, TipoffCodesUseAPerMonthSequenceInVietnamTime) {
    auto store = open();
    EXPECT_EQ(store->reserve_tipoff_code(kJune2025), "LS-2506-0001");
    EXPECT_EQ(store->reserve_tipoff_code(kJuly1HanoiJune30Utc), "LS-2507-0001");
    EXPECT_EQ(store->reserve_tipoff_code(kJune2025), "LS-2506-0002");
    EXPECT_EQ(open()->reserve_tipoff_code(kJuly2025), "LS-2507-0002");  // survives a restart

    // Reserved and allocated codes share the sequence.
    auto commit = decision(0, "zalo:oa1:u1");
    commit.tipoffs = {new_tipoff(kJuly2025), new_tipoff(kJuly2025)};
    commit.tipoffs[1].code = store->reserve_tipoff_code(kJuly2025);
    EXPECT_EQ(commit.tipoffs[1].code, "LS-2507-0003");
    EXPECT_EQ(store->commit_decision(commit), (std::vector<std::string>{"LS-2507-0004", "LS-2507-0003"}));
}

TEST_F(SqliteStoreTest, TipoffSequenceGrowsPastFourDigits) {
    auto store = open();
    {
        RawDb raw(db_.path());
        raw.exec("INSERT INTO tipoff_sequences (month_key, last_seq) VALUES (202507, 9999)");
    }
    EXPECT_EQ(store->reserve_tipoff_code(kJuly2025), "LS-2507-10000");
}

TEST_F(SqliteStoreTest, TipoffIsStoredWithoutIdentityAndWithHistory) {
    auto store = open();
    const auto inbox_id = inbox_row(*store, "m1", "zalo:oa1:u1");
    auto commit = decision(inbox_id, "zalo:oa1:u1");
    commit.tipoffs = {new_tipoff(kJuly2025)};
    commit.outbox = {reply("u1", R"({"text":"Mã phản ánh: {ref_code}"})")};
    const auto codes = store->commit_decision(commit);
    ASSERT_EQ(codes.size(), 1U);
    EXPECT_EQ(store->outbox_for_inbox(inbox_id).at(0).body, R"({"text":"Mã phản ánh: )" + codes[0] + "\"}");

    const auto row = store->tipoff_by_code(codes[0]);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->code, codes[0]);
    EXPECT_EQ(row->status, tipoff::Status::received);
    EXPECT_EQ(row->created_ms, kJuly2025);
    EXPECT_EQ(row->updated_ms, kJuly2025);
    EXPECT_EQ(row->identity_sealed, std::string("\x01\x00\xff sealed", 9));
    EXPECT_EQ(row->reporter_lookup, "lookup-hash");
    EXPECT_EQ(row->report.description, "Đốt rác ban đêm");
    EXPECT_EQ(row->report.kind, tipoff::PollutionKind::burning);
    EXPECT_TRUE(row->report.reporter.platform_user_id.empty());
    EXPECT_TRUE(row->report.reporter.phone.empty());
    ASSERT_EQ(row->history.size(), 1U);
    EXPECT_EQ(row->history[0].status, tipoff::Status::received);
    EXPECT_EQ(row->history[0].at_ms, kJuly2025);

    RawDb raw(db_.path());
    EXPECT_EQ(raw.text("SELECT instr(report_json, 'secret-user') FROM tipoffs"), "0");
    EXPECT_EQ(raw.text("SELECT instr(report_json, '0900000000') FROM tipoffs"), "0");
    EXPECT_FALSE(store->tipoff_by_code("LS-0000-0000"));
}

TEST_F(SqliteStoreTest, StatusChangesAppendHistory) {
    auto store = open();
    auto commit = decision(0, "zalo:oa1:u1");
    commit.tipoffs = {new_tipoff(kJuly2025)};
    const auto code = store->commit_decision(commit).at(0);

    store->change_tipoff_status(code, StatusChange{tipoff::Status::forwarded, "router", "email", kJuly2025 + 10});
    store->change_tipoff_status(code,
                                StatusChange{tipoff::Status::resolved, "officer", "đã xử lý", kJuly2025 + 20});
    const auto row = store->tipoff_by_code(code);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, tipoff::Status::resolved);
    EXPECT_EQ(row->updated_ms, kJuly2025 + 20);
    ASSERT_EQ(row->history.size(), 3U);
    EXPECT_EQ(row->history[1].status, tipoff::Status::forwarded);
    EXPECT_EQ(row->history[1].by, "router");
    EXPECT_EQ(row->history[2].note, "đã xử lý");
    EXPECT_EQ(row->history[2].at_ms, kJuly2025 + 20);

    EXPECT_THROW(store->change_tipoff_status("LS-9999-9999", StatusChange{}), StoreError);
    EXPECT_EQ(store->tipoff_by_code(code)->history.size(), 3U);
}

TEST_F(SqliteStoreTest, ListTipoffsFiltersNewestFirst) {
    auto store = open();
    auto commit = decision(0, "zalo:oa1:u1");
    commit.tipoffs = {new_tipoff(kJune2025), new_tipoff(kJuly2025), new_tipoff(kJuly2025 + 1000)};
    const auto codes = store->commit_decision(commit);
    ASSERT_EQ(codes.size(), 3U);
    store->change_tipoff_status(codes[1], StatusChange{tipoff::Status::rejected, "officer", "", kJuly2025 + 5});

    auto all = store->list_tipoffs({});
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].code, codes[2]);
    EXPECT_EQ(all[1].code, codes[1]);
    EXPECT_EQ(all[2].code, codes[0]);
    EXPECT_EQ(all[1].history.size(), 2U);

    TipoffFilter received;
    received.status = tipoff::Status::received;
    EXPECT_EQ(store->list_tipoffs(received).size(), 2U);
    TipoffFilter since;
    since.since_ms = kJuly2025;
    EXPECT_EQ(store->list_tipoffs(since).size(), 2U);
    TipoffFilter limited;
    limited.limit = 1;
    ASSERT_EQ(store->list_tipoffs(limited).size(), 1U);
    EXPECT_EQ(store->list_tipoffs(limited)[0].code, codes[2]);
}

TEST_F(SqliteStoreTest, ForwardAttemptsAreRecorded) {
    auto store = open();
    auto commit = decision(0, "zalo:oa1:u1");
    commit.tipoffs = {new_tipoff(kJuly2025)};
    const auto code = store->commit_decision(commit).at(0);
    store->record_forward_attempt(code, "email", "moitruong@example.vn", false, "SMTP 451", kJuly2025 + 1);
    store->record_forward_attempt(code, "email", "moitruong@example.vn", true, "250 OK", kJuly2025 + 2);
    const auto attempts = store->forward_attempts(code);
    ASSERT_EQ(attempts.size(), 2U);
    EXPECT_FALSE(attempts[0].ok);
    EXPECT_EQ(attempts[0].detail, "SMTP 451");
    EXPECT_TRUE(attempts[1].ok);
    EXPECT_EQ(attempts[1].channel, "email");
    EXPECT_EQ(attempts[1].target, "moitruong@example.vn");
    EXPECT_EQ(attempts[1].at_ms, kJuly2025 + 2);
    EXPECT_TRUE(store->forward_attempts("LS-0000-0000").empty());
    EXPECT_THROW(store->record_forward_attempt("LS-0000-0000", "email", "x", true, "", 1), StoreError);
}

// --- health and concurrency ----------------------------------------------------------------------

TEST_F(SqliteStoreTest, WritableIsFalseWhileTheWriteLockIsHeldElsewhere) {
    auto store = open_sqlite(SqliteOptions{db_.path(), false, 20, {}, {}});
    EXPECT_TRUE(store->writable());
    RawDb other(db_.path());
    other.exec("BEGIN IMMEDIATE");
    EXPECT_FALSE(store->writable());
    EXPECT_THROW(store->commit_events({incoming("x")}), StoreError);
    EXPECT_EQ(store->inbox_depth(), 0U);  // readers are not blocked (WAL)
    other.exec("ROLLBACK");
    EXPECT_TRUE(store->writable());
    EXPECT_EQ(store->commit_events({incoming("x")}), 1U);
}

TEST_F(SqliteStoreTest, TwoStoresWriteTheSameFileConcurrently) {
    auto first = open();
    auto second = open();  // another "process" on the same file
    constexpr int kThreads = 4;
    constexpr int kEventsPerThread = 40;
    std::atomic<int> errors{0};
    std::vector<std::string> codes[kThreads];
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Store& store = (t % 2 == 0) ? *first : *second;
            try {
                for (int i = 0; i < kEventsPerThread; ++i) {
                    const std::string user = "facebook:p1:t" + std::to_string(t);
                    // The threads of the first store commit shared keys too: each must be stored
                    // exactly once. (Only those: a store deduplicates against the keys it has seen,
                    // and one process inserts into an inbox; see sqlite::RecentKeys.)
                    std::vector<std::vector<Store::IncomingEvent>> batches{
                        {incoming("t" + std::to_string(t) + "-" + std::to_string(i), user)}};
                    if (&store == first.get()) batches.push_back({incoming("shared-" + std::to_string(i), user)});
                    store.commit_event_batches(batches);
                    auto commit = decision(0, user, R"({"n":)" + std::to_string(i) + "}");
                    commit.outbox = {reply("t" + std::to_string(t), "r" + std::to_string(i))};
                    if (i % 10 == 0) {
                        commit.tipoffs = {new_tipoff(kJuly2025)};
                    }
                    for (auto& code : store.commit_decision(commit)) {
                        codes[t].push_back(code);
                    }
                    (void)store.pending_inbox(0, 10);
                    (void)store.due_outbox(std::int64_t{1} << 50, 10);
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
                ++errors;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(first->inbox_depth(), static_cast<std::size_t>(kThreads * kEventsPerThread + kEventsPerThread));
    EXPECT_EQ(second->outbox_depth(), static_cast<std::size_t>(kThreads * kEventsPerThread));
    std::set<std::string> unique;
    for (const auto& list : codes) {
        unique.insert(list.begin(), list.end());
    }
    EXPECT_EQ(unique.size(), static_cast<std::size_t>(kThreads * kEventsPerThread / 10));
    EXPECT_EQ(first->list_tipoffs({}).size(), unique.size());
    EXPECT_EQ(*unique.begin(), "LS-2507-0001");
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(second->load_state("facebook:p1:t" + std::to_string(t)),
                  std::optional<std::string>(R"({"n":)" + std::to_string(kEventsPerThread - 1) + "}"));
    }
}

}  // namespace
}  // namespace pgibot::store
