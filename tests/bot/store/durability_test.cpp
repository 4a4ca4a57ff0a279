// What "committed" means for an acknowledged webhook: its commit flushes the write-ahead log to the
// disk (fsync) before it returns, so a power loss after the 200 loses nothing. Power cannot be cut in
// a test, so the flushes are counted instead, by a SQLite VFS that wraps the real one ("unix") and
// counts each file's xSync calls.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <string>

#include "bot/store/store.hpp"
#include "tests/bot/store/temp_db.hpp"

namespace pgibot::store {
namespace {

using testing::TempDb;

std::atomic<int> g_log_syncs{0};       // xSync on a *-wal file
std::atomic<int> g_database_syncs{0};  // xSync on the database file itself

struct CountingFile {
    sqlite3_file base;   // must come first: SQLite sees a CountingFile as a sqlite3_file
    sqlite3_file* real;  // the real VFS's file, allocated right after this struct
    bool log;
    bool database;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f)->real; }

int counting_close(sqlite3_file* f) { return real_of(f)->pMethods->xClose(real_of(f)); }
int counting_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int counting_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int counting_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); }
int counting_sync(sqlite3_file* f, int flags) {
    const auto* file = reinterpret_cast<CountingFile*>(f);
    if (file->log) ++g_log_syncs;
    if (file->database) ++g_database_syncs;
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int counting_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); }
int counting_lock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xLock(real_of(f), level); }
int counting_unlock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xUnlock(real_of(f), level); }
int counting_check_reserved(sqlite3_file* f, int* out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int counting_file_control(sqlite3_file* f, int op, void* arg) {
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int counting_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int counting_device_characteristics(sqlite3_file* f) {
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int counting_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}
int counting_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void counting_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int counting_shm_unmap(sqlite3_file* f, int remove) { return real_of(f)->pMethods->xShmUnmap(real_of(f), remove); }
int counting_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}
int counting_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

const sqlite3_io_methods kCountingMethods = {
    3,
    counting_close,
    counting_read,
    counting_write,
    counting_truncate,
    counting_sync,
    counting_file_size,
    counting_lock,
    counting_unlock,
    counting_check_reserved,
    counting_file_control,
    counting_sector_size,
    counting_device_characteristics,
    counting_shm_map,
    counting_shm_lock,
    counting_shm_barrier,
    counting_shm_unmap,
    counting_fetch,
    counting_unfetch,
};

sqlite3_vfs* g_unix = nullptr;
sqlite3_vfs g_counting;

int counting_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    auto* file = reinterpret_cast<CountingFile*>(f);
    file->real = reinterpret_cast<sqlite3_file*>(file + 1);
    file->log = (flags & SQLITE_OPEN_WAL) != 0;
    file->database = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    const int rc = g_unix->xOpen(g_unix, name, file->real, flags, out_flags);
    // On failure SQLite calls xClose only if pMethods is set: left null, nothing to close.
    file->base.pMethods = file->real->pMethods != nullptr ? &kCountingMethods : nullptr;
    return rc;
}

// Installs the counting VFS as the default for one test; the real one is the default again after.
class CountingVfs {
public:
    CountingVfs() {
        g_unix = sqlite3_vfs_find("unix");
        if (g_unix == nullptr) throw std::runtime_error("no unix VFS");
        g_counting = *g_unix;  // its other methods, and the pAppData they read
        g_counting.szOsFile = static_cast<int>(sizeof(CountingFile)) + g_unix->szOsFile;
        g_counting.zName = "pgibot-counting";
        g_counting.pNext = nullptr;
        g_counting.xOpen = counting_open;
        sqlite3_vfs_register(&g_counting, 1);
    }
    ~CountingVfs() {
        sqlite3_vfs_unregister(&g_counting);
        sqlite3_vfs_register(g_unix, 1);
    }
    CountingVfs(const CountingVfs&) = delete;
    CountingVfs& operator=(const CountingVfs&) = delete;
};

Store::IncomingEvent event(int n) {
    return Store::IncomingEvent{"fb:p:mid:m" + std::to_string(n), "facebook:p:u",
                                R"({"platform":"facebook","kind":"message","text":"x"})", "trace"};
}

TEST(Durability, EveryInboxCommitFlushesTheLogBeforeItReturns) {
    const CountingVfs vfs;
    TempDb db;
    SqliteOptions options;
    options.path = db.path();
    options.synchronous_full = true;  // what serve uses
    auto store = open_sqlite(options);
    for (int i = 0; i < 5; ++i) {
        const int before = g_log_syncs.load();
        ASSERT_EQ(store->commit_events({event(i)}), 1U);
        EXPECT_GE(g_log_syncs.load(), before + 1) << "commit " << i << " returned before the log was flushed";
    }
    // Batches of webhooks (the committer's group commit): one flush for the group, at least.
    const int before = g_log_syncs.load();
    const auto fresh = store->commit_event_batches({{event(10), event(11)}, {event(12)}});
    EXPECT_EQ(fresh, (std::vector<std::size_t>{2, 1}));
    EXPECT_GE(g_log_syncs.load(), before + 1);
}

TEST(Durability, WithoutSynchronousFullTheInboxDoesNotFlushEachCommit) {
    // The counter is not blind: the same commits made with synchronous_full = false (benchmarks only)
    // flush nothing.
    const CountingVfs vfs;
    TempDb db;
    SqliteOptions options;
    options.path = db.path();
    options.synchronous_full = false;
    auto store = open_sqlite(options);
    ASSERT_EQ(store->commit_events({event(0)}), 1U);  // the first one also reads the keys back
    const int before = g_log_syncs.load();
    for (int i = 1; i < 5; ++i) ASSERT_EQ(store->commit_events({event(i)}), 1U);
    EXPECT_EQ(g_log_syncs.load(), before);
}

}  // namespace
}  // namespace pgibot::store
