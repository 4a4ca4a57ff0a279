#include "bot/store/sqlite/connection.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

namespace pgibot::store::sqlite {

namespace {

// Values are copied at bind time (SQLITE_TRANSIENT, spelled without its old-style cast).
const auto kTransient = reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));

// sqlite3_bind_text/blob read a null pointer as SQL NULL; an empty view must stay an empty value.
const char* non_null(std::string_view s) {
    return s.data() != nullptr ? s.data() : "";
}

std::string error_message(std::string_view what, int rc, const char* detail) {
    std::string message = "sqlite: ";
    message.append(what);
    message.append(": ");
    message.append(detail != nullptr ? detail : sqlite3_errstr(rc));
    message.append(" (");
    message.append(std::to_string(rc));
    message.append(")");
    return message;
}

}  // namespace

// --- Statement ---------------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept : connection_(other.connection_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
}

Statement::~Statement() {
    if (stmt_ != nullptr) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) {
        connection_->fail("bind", rc);
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    if (const int rc = sqlite3_bind_text64(stmt_, index, non_null(text), text.size(), kTransient, SQLITE_UTF8);
        rc != SQLITE_OK) {
        connection_->fail("bind", rc);
    }
    return *this;
}

Statement& Statement::bind_unowned(int index, std::string_view text) {
    if (const int rc = sqlite3_bind_text64(stmt_, index, non_null(text), text.size(), SQLITE_STATIC, SQLITE_UTF8);
        rc != SQLITE_OK) {
        connection_->fail("bind", rc);
    }
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    if (const int rc = sqlite3_bind_blob64(stmt_, index, non_null(bytes), bytes.size(), kTransient);
        rc != SQLITE_OK) {
        connection_->fail("bind", rc);
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) {
        connection_->fail("bind", rc);
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    connection_->fail("step", rc);
}

void Statement::run() {
    while (step()) {
    }
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) {
        return {};
    }
    return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::string Statement::blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) {
        return {};
    }
    return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- Connection --------------------------------------------------------------------------------

namespace {
int on_wal_commit(void* observer, sqlite3* /*db*/, const char* /*name*/, int frames) {
    static_cast<WalObserver*>(observer)->wal_frames(frames);
    return SQLITE_OK;
}
}  // namespace

Connection::Connection(const SqliteOptions& options, WalObserver* wal_observer) {
    if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
        throw StoreError("sqlite: a database file path is required");
    }
    if (const auto parent = std::filesystem::path(options.path).parent_path(); !parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) {
            throw StoreError("sqlite: cannot create the database folder: " + ec.message());
        }
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(options.path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = error_message("open", rc, db_ != nullptr ? sqlite3_errmsg(db_) : nullptr);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw StoreError(message);
    }
    try {
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, options.busy_timeout_ms);
        exec("PRAGMA foreign_keys = ON");
        // NORMAL by default: in WAL mode a commit is then safe against a process crash, and the WAL
        // stays ordered, so the next FULL commit (see DurableCommit) makes everything before it
        // durable against power loss too. The writes that must survive power loss on their own
        // (acknowledged webhooks, filed tip-offs, status changes) switch to FULL for their commit.
        exec("PRAGMA synchronous = NORMAL");
        // journal_mode answers with the mode it ended up in; WAL is persistent in the file.
        sqlite3_stmt* stmt = nullptr;
        if (const int prc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
            prc != SQLITE_OK) {
            fail("journal_mode", prc);
        }
        const int src = sqlite3_step(stmt);
        std::string mode;
        if (src == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(stmt, 0);
            mode = text != nullptr ? reinterpret_cast<const char*>(text) : "";
        }
        sqlite3_finalize(stmt);
        if (src != SQLITE_ROW) {
            fail("journal_mode", src);
        }
        if (mode != "wal") {
            throw StoreError("sqlite: cannot switch to WAL mode (got " + mode + ")");
        }
        // Replaces SQLite's automatic checkpoint, which runs inside the COMMIT that crosses 1000
        // frames and so stalled whichever commit (often a webhook acknowledgement) drew it.
        if (wal_observer != nullptr) sqlite3_wal_hook(db_, on_wal_commit, wal_observer);
    } catch (...) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw;
    }
}

Connection::~Connection() {
    for (auto& [sql, stmt] : cache_) {
        sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
    char* detail = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &detail);
    if (rc != SQLITE_OK) {
        const std::string message = error_message("exec", rc, detail != nullptr ? detail : sqlite3_errmsg(db_));
        sqlite3_free(detail);
        throw StoreError(message);
    }
}

Statement Connection::prepare(std::string_view sql) {
    if (const auto it = cache_.find(sql); it != cache_.end()) {
        return Statement(*this, it->second);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt, nullptr);
    if (rc != SQLITE_OK) {
        fail("prepare", rc);
    }
    cache_.emplace(sql, stmt);
    return Statement(*this, stmt);
}

std::int64_t Connection::changes() const {
    return sqlite3_changes64(db_);
}

std::int64_t Connection::last_insert_id() const {
    return sqlite3_last_insert_rowid(db_);
}

bool Connection::in_transaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

int Connection::checkpoint_passive() {
    int log_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed);
    if (rc != SQLITE_OK) return -1;
    return log_frames - checkpointed;
}

bool Connection::sync_database_file() {
    // SQLite's handle, not one of our own: closing a second descriptor of the file would drop the
    // POSIX locks SQLite holds on it (they belong to the process, not to the descriptor).
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
        file->pMethods == nullptr) {
        return false;
    }
    return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL) == SQLITE_OK;
}

void Connection::fail(std::string_view what, int rc) const {
    throw StoreError(error_message(what, rc, sqlite3_errmsg(db_)));
}

// --- transactions ------------------------------------------------------------------------------

namespace {
std::mutex& process_writers() {
    static std::mutex m;
    return m;
}
}  // namespace

std::unique_lock<std::mutex> hold_writers_turn() { return std::unique_lock(process_writers()); }

// BEGIN and COMMIT are prepared once per connection (the statement cache) rather than parsed by
// sqlite3_exec at every transaction: the inbox commits several hundred times a second under load.
WriteTransaction::WriteTransaction(Connection& connection) : turn_(process_writers()), connection_(connection) {
    connection_.prepare("BEGIN IMMEDIATE").run();
}

WriteTransaction::~WriteTransaction() {
    if (open_ && connection_.in_transaction()) {
        try {
            connection_.exec("ROLLBACK");
        } catch (const StoreError&) {  // NOLINT(bugprone-empty-catch): the pool discards the connection
        }
    }
}

void WriteTransaction::commit() {
    connection_.prepare("COMMIT").run();  // on failure it throws, open_ stays set and ~WriteTransaction rolls back
    open_ = false;
}

ReadTransaction::ReadTransaction(Connection& connection) : connection_(connection) {
    connection_.prepare("BEGIN").run();
}

ReadTransaction::~ReadTransaction() {
    if (connection_.in_transaction()) {
        try {
            connection_.prepare("COMMIT").run();
        } catch (const StoreError&) {  // NOLINT(bugprone-empty-catch): the pool discards the connection
        }
    }
}

// --- pool --------------------------------------------------------------------------------------

ConnectionPool::Lease::~Lease() {
    if (connection_) {
        pool_->release(std::move(connection_));
    }
}

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        const std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(connection));
        }
    }
    return Lease(*this, std::make_unique<Connection>(options_, wal_observer_));
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) {
    if (connection->in_transaction()) {
        return;  // left mid-transaction by a failure: closing it rolls back
    }
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
}

}  // namespace pgibot::store::sqlite
