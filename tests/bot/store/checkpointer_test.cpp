// WAL checkpoints on their own thread (store/sqlite/checkpointer): committing connections report the
// log's length, the checkpointer copies it into the database file once it is long enough. Every wait
// polls with a generous deadline; nothing here asserts how fast the background thread is.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "bot/store/sqlite/checkpointer.hpp"
#include "bot/store/sqlite/connection.hpp"
#include "bot/store/store.hpp"
#include "tests/bot/store/temp_db.hpp"

namespace pgibot::store {
namespace {

using namespace std::chrono_literals;
using testing::RawDb;
using testing::TempDb;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
}

// Rows of `table` in the database FILE alone, without its write-ahead log: a copy of the main file
// is opened on its own, so it shows only what checkpoints have copied there. nullopt while the copy
// cannot be read (taken in the middle of a checkpoint).
std::optional<long long> rows_in_main_file(const std::string& db_path, const std::string& table) {
    const std::filesystem::path source(db_path);
    const auto copy_dir = source.parent_path() / "main-file-copy";
    std::error_code ec;
    std::filesystem::remove_all(copy_dir, ec);
    std::filesystem::create_directories(copy_dir, ec);
    const auto copy = copy_dir / "copy.db";
    if (!std::filesystem::copy_file(source, copy, std::filesystem::copy_options::overwrite_existing, ec) || ec) {
        return std::nullopt;
    }
    try {
        RawDb raw(copy.string());
        return raw.number("SELECT COUNT(*) FROM " + table);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Passes the frame counts on to the checkpointer and remembers the last one.
class RecordingObserver final : public sqlite::WalObserver {
public:
    explicit RecordingObserver(sqlite::WalObserver& inner) : inner_(inner) {}
    void wal_frames(int frames) override {
        if (frames < last_.load()) ++restarts_;  // shorter than at the last commit: started over
        last_.store(frames);
        int seen = max_.load();
        while (frames > seen && !max_.compare_exchange_weak(seen, frames)) {
        }
        inner_.wal_frames(frames);
    }
    [[nodiscard]] int last() const { return last_.load(); }
    [[nodiscard]] int max() const { return max_.load(); }
    [[nodiscard]] int restarts() const { return restarts_.load(); }

private:
    sqlite::WalObserver& inner_;
    std::atomic<int> restarts_{0};
    std::atomic<int> last_{0};
    std::atomic<int> max_{0};
};

SqliteOptions options_for(const TempDb& db) {
    SqliteOptions o;
    o.path = db.path();
    o.synchronous_full = false;
    return o;
}

// A database, a checkpointer with the test's threshold and idle interval, and one connection that
// reports its commits to it (through a RecordingObserver).
struct Rig {
    Rig(int threshold, std::chrono::milliseconds idle)
        : options(options_for(db)), checkpointer(options, threshold, idle), observer(checkpointer),
          connection(options, &observer) {}
    TempDb db;
    SqliteOptions options;
    sqlite::Checkpointer checkpointer;
    RecordingObserver observer;
    sqlite::Connection connection;
};

TEST(Checkpointer, CheckpointsOnceTheLogPassesTheThreshold) {
    constexpr int kThreshold = 200;
    // No idle checkpoints during the test: only crossing the threshold wakes the thread.
    Rig rig(kThreshold, std::chrono::hours(1));
    auto& [db, options, checkpointer, observer, connection] = rig;
    connection.exec("CREATE TABLE t (x BLOB)");
    for (int i = 0; i < 5; ++i) connection.exec("INSERT INTO t VALUES (randomblob(100))");
    ASSERT_GT(observer.last(), 0) << "commits report the log's length";
    ASSERT_LT(observer.last(), kThreshold);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(checkpointer.checkpoints(), 0U) << "below the threshold nothing is checkpointed";
    EXPECT_FALSE(rows_in_main_file(options.path, "t").value_or(0) > 0) << "rows reached the file unasked";

    // Rows of ~2 KiB (a frame or more per commit), until the commit that crosses the threshold.
    long long rows = 5;
    while (observer.max() < kThreshold) {
        connection.exec("INSERT INTO t VALUES (randomblob(2000))");
        ++rows;
        ASSERT_LT(rows, 5000) << "the log does not grow";
    }
    ASSERT_TRUE(eventually([&] { return checkpointer.checkpoints() > 0; })) << "no checkpoint ran";
    // Nothing was committed after the crossing: that checkpoint copied every row into the file.
    EXPECT_TRUE(eventually([&] { return rows_in_main_file(options.path, "t") == std::optional<long long>(rows); }))
        << "the database file does not hold the " << rows << " committed rows";

    // A log copied whole is started over by the next writer: the length reported is small again.
    EXPECT_TRUE(eventually([&] {
        connection.exec("INSERT INTO t VALUES (1)");
        return observer.last() < 10;
    })) << "the log was never started over (last length " << observer.last() << ")";
}

// Under a steady stream of commits a PASSIVE checkpoint never finds the log all copied (commits land
// while it runs), so SQLite never starts the log over and it grew without end (~50 MB/s in the
// webhook benchmark). The checkpointer finishes each round under the writers' turn, so the log is
// started over round after round however long the stream lasts. How long it gets in between depends
// on how long the round's fsyncs take, which on a busy disk (CI runs tests in parallel) is anything:
// so the test counts the restarts and keeps the stream going until it has seen several, or until a
// deadline by which a log that is never started over has grown for 10 s.
TEST(Checkpointer, TheLogIsStartedOverAgainAndAgainUnderASteadyStreamOfCommits) {
    Rig rig(200, std::chrono::hours(1));
    auto& [db, options, checkpointer, observer, connection] = rig;
    connection.exec("CREATE TABLE t (x BLOB)");
    constexpr int kRestarts = 5;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int commits = 0;
    while (observer.restarts() < kRestarts && std::chrono::steady_clock::now() < deadline) {
        {
            sqlite::WriteTransaction tx(connection);
            connection.exec("INSERT INTO t VALUES (randomblob(2000))");  // a frame or more each
            tx.commit();
        }
        ++commits;
        std::this_thread::sleep_for(50us);  // a committer waits for its next batch; this one barely
    }
    EXPECT_GE(observer.restarts(), kRestarts)
        << "the log kept growing while " << commits << " commits went on (" << observer.max()
        << " frames): it was never started over";
    EXPECT_GT(checkpointer.checkpoints(), 2U) << "the threshold was crossed again and again";
    // Not asserted (it depends on the disk), but said: how long the log got between restarts.
    std::cout << "longest log: " << observer.max() << " frames over " << commits << " commits\n";
}

// The checkpointer flushes the database file before the pass it makes under the writers' turn, through
// SQLite's own file handle (a descriptor of its own, once closed, would drop SQLite's POSIX locks).
TEST(Checkpointer, TheDatabaseFileCanBeFlushedThroughSqlitesHandle) {
    TempDb db;
    const auto options = options_for(db);
    sqlite::Connection connection(options);
    connection.exec("CREATE TABLE t (x BLOB)");
    for (int i = 0; i < 20; ++i) connection.exec("INSERT INTO t VALUES (randomblob(2000))");
    const auto pass = connection.checkpoint_passive();
    ASSERT_EQ(pass, 0) << "the log was not all copied";
    EXPECT_TRUE(connection.sync_database_file());
    // Still usable, its locks in place: a second connection writes, the first reads it back.
    sqlite::Connection other(options);
    other.exec("INSERT INTO t VALUES (1)");
    auto count = connection.prepare("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.int64(0), 21);
    EXPECT_EQ(rows_in_main_file(options.path, "t"), std::optional<long long>(20));
}

TEST(Checkpointer, IdleCheckpointCopiesEverythingCommitted) {
    Rig rig(1000000, 50ms);  // never by threshold: only when idle
    auto& [db, options, checkpointer, observer, connection] = rig;
    // One commit, so that no checkpoint can run while it is being written.
    connection.exec("BEGIN");
    connection.exec("CREATE TABLE t (x BLOB)");
    for (int i = 0; i < 300; ++i) connection.exec("INSERT INTO t VALUES (randomblob(2000))");
    connection.exec("COMMIT");
    EXPECT_GT(observer.max(), 100) << "the commit appended to the log";

    ASSERT_TRUE(eventually([&] { return checkpointer.checkpoints() > 0; }));
    EXPECT_TRUE(eventually([&] { return rows_in_main_file(options.path, "t") == std::optional<long long>(300); }))
        << "the database file does not hold every committed row";
    EXPECT_TRUE(eventually([&] {
        connection.exec("INSERT INTO t VALUES (1)");
        return observer.last() < 10;
    })) << "the log was never started over";
}

TEST(Checkpointer, ConnectionsWithAnObserverDoNotCheckpointThemselves) {
    // SQLite's own automatic checkpoint (at 1000 frames, inside the commit) is replaced: with a
    // checkpointer that never runs, the log only grows.
    Rig rig(1000000, std::chrono::hours(1));
    auto& [db, options, idle, observer, connection] = rig;
    connection.exec("CREATE TABLE t (x BLOB)");
    int previous = 0;
    for (int i = 0; i < 1300; ++i) {
        connection.exec("INSERT INTO t VALUES (randomblob(2000))");
        ASSERT_GE(observer.last(), previous) << "the log was started over at commit " << i;
        previous = observer.last();
    }
    EXPECT_GT(observer.last(), 1000);
    EXPECT_EQ(idle.checkpoints(), 0U);
    EXPECT_FALSE(rows_in_main_file(options.path, "t").value_or(0) > 0);
}

TEST(Checkpointer, TheStoreKeepsItsLogCheckpointed) {
    TempDb db;
    auto store = open_sqlite(options_for(db));
    const std::string body(1500, 'x');
    long long committed = 0;
    auto commit_one = [&] {
        ASSERT_EQ(store->commit_events({Store::IncomingEvent{"k" + std::to_string(committed), "facebook:p1:u1",
                                                             R"({"kind":"message","text":")" + body + "\"}",
                                                             "trace"}}),
                  1U);
        ++committed;
    };
    // Each commit adds a few frames: far past the store's threshold (kDefaultThresholdFrames).
    static_assert(sqlite::Checkpointer::kDefaultThresholdFrames < 1200);
    for (int i = 0; i < 1200; ++i) {
        commit_one();
        if (::testing::Test::HasFatalFailure()) return;
    }
    // Nothing here checkpoints (and the connections' own automatic checkpoint is off): the store's
    // thread must copy the whole log into the database file once commits pause, including the
    // frames of commits that landed while an earlier checkpoint was running.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    bool copied = false;
    while (!copied && std::chrono::steady_clock::now() < deadline) {
        copied = rows_in_main_file(db.path(), "inbox") == std::optional<long long>(committed);
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(copied) << "the database file holds " << rows_in_main_file(db.path(), "inbox").value_or(-1)
                        << " of " << committed << " events";
    EXPECT_EQ(store->inbox_depth(), static_cast<std::size_t>(committed));
    RawDb fresh(db.path());
    EXPECT_EQ(fresh.number("SELECT COUNT(*) FROM inbox"), committed);
}

}  // namespace
}  // namespace pgibot::store
