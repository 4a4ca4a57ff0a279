#pragma once
// A thin RAII layer over the SQLite C API for the store: connections configured the same way,
// cached prepared statements, transactions, and a pool that gives each thread its own connection
// for the duration of one store call. Everything here throws StoreError.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bot/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace pgibot::store::sqlite {

class Connection;

// A cached prepared statement while in use: reset and unbound when it goes out of scope.
class Statement {
public:
    Statement(Connection& connection, sqlite3_stmt* stmt) : connection_(&connection), stmt_(stmt) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;

    // Parameters are 1-based, values copied.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind_null(int index);
    // Not copied: `text` must stay alive and unchanged until this Statement is gone (it resets the
    // statement). For the inbox's inserts, whose values outlive them: a copy each saved.
    Statement& bind_unowned(int index, std::string_view text);

    // true: a row is available; false: done.
    bool step();
    // Steps to completion (a statement with no result rows).
    void run();

    // Columns are 0-based. NULL reads as 0 / "".
    [[nodiscard]] std::int64_t int64(int column) const;
    [[nodiscard]] std::string text(int column) const;
    [[nodiscard]] std::string blob(int column) const;
    [[nodiscard]] bool is_null(int column) const;

private:
    Connection* connection_;
    sqlite3_stmt* stmt_;
};

// Told after every commit how many frames the write-ahead log holds (sqlite3_wal_hook). A
// connection with an observer never checkpoints itself: the observer does, off the commit path.
class WalObserver {
public:
    virtual ~WalObserver() = default;
    virtual void wal_frames(int frames) = 0;
};

class Connection {
public:
    explicit Connection(const SqliteOptions& options, WalObserver* wal_observer = nullptr);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one or more statements without results (DDL, pragmas, BEGIN/COMMIT).
    void exec(const char* sql);
    // A prepared statement from this connection's cache. `sql` must be a named constant with
    // static storage: the cache keys on it.
    Statement prepare(std::string_view sql);

    [[nodiscard]] std::int64_t changes() const;
    [[nodiscard]] std::int64_t last_insert_id() const;
    [[nodiscard]] bool in_transaction() const;
    // A PASSIVE checkpoint: copies what it can from the WAL into the database without waiting for
    // (or blocking) readers and writers. Returns the frames still in the WAL afterwards, or -1 on error.
    int checkpoint_passive();
    // fsync of the database file (not the log), through SQLite's own file handle. False on error.
    bool sync_database_file();

    // Throws StoreError: "<what>: <sqlite message>". Never includes bound values.
    [[noreturn]] void fail(std::string_view what, int rc) const;

private:
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string_view, sqlite3_stmt*> cache_;
};

// The turn that this process's writers take (see WriteTransaction). The checkpointer holds it for the
// short last pass of a checkpoint, so that no commit lands while it finishes and the log can restart.
[[nodiscard]] std::unique_lock<std::mutex> hold_writers_turn();

// BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting up to busy_timeout), so
// concurrent writers, in this process or another, serialize instead of failing mid-transaction.
// Rolls back unless committed.
class WriteTransaction {
public:
    explicit WriteTransaction(Connection& connection);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    void commit();

private:
    // Writers of this process take turns here instead of in SQLite's busy handler, which waits by
    // sleeping (1, 2, 5 ... 100 ms) and made acknowledgements stall behind handler commits under
    // load. Other processes (the CLI) still meet at SQLite's lock, with the busy timeout.
    std::unique_lock<std::mutex> turn_;
    Connection& connection_;
    bool open_ = true;
};

// For one write transaction: fsync at its commit (PRAGMA synchronous = FULL) when `durable`, then back
// to NORMAL. Create it before the WriteTransaction (the pragma cannot change inside a transaction).
class DurableCommit {
public:
    DurableCommit(Connection& connection, bool durable) : connection_(connection), durable_(durable) {
        if (durable_) connection_.exec("PRAGMA synchronous = FULL");
    }
    ~DurableCommit() {
        if (durable_) {
            try {
                connection_.exec("PRAGMA synchronous = NORMAL");
            } catch (...) {  // NOLINT(bugprone-empty-catch): best effort; FULL is only slower
            }
        }
    }
    DurableCommit(const DurableCommit&) = delete;
    DurableCommit& operator=(const DurableCommit&) = delete;

private:
    Connection& connection_;
    bool durable_;
};

// BEGIN ... COMMIT around several reads that must see one snapshot.
class ReadTransaction {
public:
    explicit ReadTransaction(Connection& connection);
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

private:
    Connection& connection_;
};

// Idle connections to one database file. A store call leases one, so no two threads ever use the
// same connection at once; there are as many connections as concurrent calls have ever been.
class ConnectionPool {
public:
    explicit ConnectionPool(SqliteOptions options, WalObserver* wal_observer = nullptr)
        : options_(std::move(options)), wal_observer_(wal_observer) {}

    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
            : pool_(&pool), connection_(std::move(connection)) {}
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() const { return *connection_; }
        Connection* operator->() const { return connection_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> connection_;
    };

    Lease acquire();

private:
    void release(std::unique_ptr<Connection> connection);

    SqliteOptions options_;
    WalObserver* wal_observer_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace pgibot::store::sqlite
