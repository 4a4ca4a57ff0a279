// The SQLite implementation of Store. One database file shared by the server's threads and by CLI
// processes: every call leases its own connection (ConnectionPool), every write runs in
// BEGIN IMMEDIATE, and WAL lets readers run beside the one writer.
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <span>
#include <unordered_set>
#include <utility>

#include "bot/store/detail.hpp"
#include "bot/store/migrations/migrations.hpp"
#include "bot/store/sqlite/checkpointer.hpp"
#include "bot/store/sqlite/connection.hpp"
#include "bot/store/sqlite/recent_keys.hpp"
#include "bot/store/store.hpp"
#include "handlers/model/reply.hpp"

namespace pgibot::store {

namespace {

using sqlite::DurableCommit;
using sqlite::Connection;
using sqlite::ConnectionPool;
using sqlite::ReadTransaction;
using sqlite::RecentKeys;
using sqlite::Statement;
using sqlite::WriteTransaction;

// --- SQL -----------------------------------------------------------------------------------------

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)";
constexpr std::string_view kMaxMigration = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr std::string_view kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?1, ?2, ?3)";
constexpr std::string_view kForeignKeyCheck = "PRAGMA foreign_key_check";

// Duplicates are dropped before the insert (RecentKeys): dedup_key has no index (schema 0004).
constexpr std::string_view kInsertInbox =
    "INSERT INTO inbox (dedup_key, user_key, event_json, trace_id, received_ms, handled_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// Newest first, for the keys still in the dedup window: the caller stops at the first row received
// before it (ids grow with time), so only the window's rows are read, and from the narrow index that
// holds these columns (schema 0004), not from the table with its events.
constexpr std::string_view kRecentInboxKeys =
    "SELECT dedup_key, received_ms FROM inbox INDEXED BY inbox_recent_keys ORDER BY id DESC";
// Events stored already handled, packed: one row per group commit (schema 0005).
constexpr std::string_view kInsertHandledGroup =
    "INSERT INTO inbox_handled_groups (received_ms, dedup_keys, events) VALUES (?1, ?2, ?3)";
// Newest first, like kRecentInboxKeys; only the keys column is read (it precedes the events).
constexpr std::string_view kRecentHandledGroupKeys =
    "SELECT dedup_keys, received_ms FROM inbox_handled_groups ORDER BY id DESC";
constexpr std::string_view kPendingInbox =
    "SELECT id, user_key, event_json, trace_id FROM inbox"
    " WHERE handled_ms IS NULL AND id > ?1 ORDER BY id LIMIT ?2";
constexpr std::string_view kMarkInboxHandled =
    "UPDATE inbox SET handled_ms = ?2 WHERE id = ?1 AND handled_ms IS NULL";
constexpr std::string_view kInboxEvent = "SELECT event_json FROM inbox WHERE id = ?1";
constexpr std::string_view kInboxDepth = "SELECT COUNT(*) FROM inbox WHERE handled_ms IS NULL";

constexpr std::string_view kLoadState = "SELECT state_json FROM conversations WHERE user_key = ?1";
constexpr std::string_view kUpsertState =
    "INSERT INTO conversations (user_key, state_json, updated_ms, has_dialog) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (user_key) DO UPDATE SET state_json = excluded.state_json, updated_ms = excluded.updated_ms,"
    " has_dialog = excluded.has_dialog";
constexpr std::string_view kIdleDialogUsers =
    "SELECT user_key FROM conversations WHERE has_dialog = 1 AND updated_ms < ?1 ORDER BY updated_ms LIMIT ?2";

// A user who subscribes again is taken as reachable again.
constexpr std::string_view kUpsertUser =
    "INSERT INTO users (platform, page_id, user_id, user_key, subscribed, updated_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (platform, page_id, user_id) DO UPDATE SET"
    " user_key = excluded.user_key,"
    " unreachable_reason = CASE WHEN excluded.subscribed = 1 AND users.subscribed = 0 THEN NULL"
    "                      ELSE users.unreachable_reason END,"
    " unreachable_ms = CASE WHEN excluded.subscribed = 1 AND users.subscribed = 0 THEN NULL"
    "                  ELSE users.unreachable_ms END,"
    " subscribed = excluded.subscribed,"
    " updated_ms = excluded.updated_ms";
constexpr std::string_view kMarkUnreachable =
    "UPDATE users SET unreachable_reason = ?3, unreachable_ms = ?4, updated_ms = ?4"
    " WHERE platform = ?1 AND user_id = ?2";
constexpr std::string_view kInsertUnreachable =
    "INSERT INTO users (platform, page_id, user_id, subscribed, unreachable_reason, unreachable_ms, updated_ms)"
    " VALUES (?1, '', ?2, 0, ?3, ?4, ?4)";
constexpr std::string_view kSubscribers =
    "SELECT user_id FROM users WHERE platform = ?1 AND page_id = ?2 AND subscribed = 1"
    " AND unreachable_reason IS NULL ORDER BY user_id";

constexpr std::string_view kInsertOutbox =
    "INSERT INTO outbox (platform, page_id, user_id, body, message_json, state, deliver, next_attempt_ms,"
    " trace_id, inbox_id, created_ms, sent_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
// A row is due only when no earlier row of the same user is still pending or sending: a user's
// messages go out one at a time, in order.
constexpr std::string_view kDueOutbox =
    "SELECT o.id, o.platform, o.page_id, o.user_id, o.body, o.message_json, o.attempts, o.next_attempt_ms,"
    " o.trace_id, o.inbox_id FROM outbox o"
    " WHERE o.state = 'pending' AND o.deliver = 1 AND o.next_attempt_ms <= ?1"
    " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform AND p.page_id = o.page_id"
    "                 AND p.user_id = o.user_id AND p.id < o.id AND p.state IN ('pending', 'sending'))"
    " ORDER BY o.id LIMIT ?2";
constexpr std::string_view kOutboxForInbox =
    "SELECT o.id, o.platform, o.page_id, o.user_id, o.body, o.message_json, o.attempts, o.next_attempt_ms,"
    " o.trace_id, o.inbox_id FROM outbox o WHERE o.inbox_id = ?1 ORDER BY o.id";
constexpr std::string_view kMarkSending = "UPDATE outbox SET state = 'sending' WHERE id = ?1 AND state = 'pending'";
constexpr std::string_view kMarkSent =
    "UPDATE outbox SET state = 'sent', platform_message_id = ?2, sent_ms = ?3, attempts = attempts + 1,"
    " last_error = '' WHERE id = ?1";
constexpr std::string_view kMarkRetry =
    "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3"
    " WHERE id = ?1";
constexpr std::string_view kMarkFailed =
    "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3 WHERE id = ?1";
constexpr std::string_view kRecoverSending = "UPDATE outbox SET state = 'pending' WHERE state = 'sending'";
constexpr std::string_view kOutboxDepth =
    "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending') AND deliver = 1";

// Retention (prune_inbox). Ids grow with time in the three tables, so what is older than the cutoff
// lies at the low end of each: the first id stamped at or after the cutoff bounds every batch's scan,
// which then reads the old rows only (those it deletes and the few it keeps), never the month of
// newer ones. The bound is found by reading from the lowest id up: after the first run only the
// rows kept are in the way. The time condition stays in each delete: a row stamped before the cutoff
// but written after the bound (the clock went back) waits for a later run; a newer row is never
// deleted. A handled event's replies are created when it is handled (same `now`), and its inbox row
// goes only once no outbox row refers to it (outbox.inbox_id REFERENCES inbox).
constexpr std::string_view kFirstOutboxAtOrAfter =
    "SELECT id FROM outbox WHERE created_ms >= ?1 ORDER BY id LIMIT 1";
constexpr std::string_view kPruneOutbox =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE id < ?2 AND created_ms < ?1"
    " AND state IN ('sent', 'failed', 'unreachable') ORDER BY id LIMIT ?3)";
// An event is handled after it is received, so received_ms bounds the rows handled before the cutoff;
// read from the narrow index that holds it (schema 0004).
constexpr std::string_view kFirstInboxAtOrAfter =
    "SELECT id FROM inbox INDEXED BY inbox_recent_keys WHERE received_ms >= ?1 ORDER BY id LIMIT 1";
constexpr std::string_view kPruneInbox =
    "DELETE FROM inbox WHERE id IN (SELECT i.id FROM inbox i WHERE i.id < ?2 AND i.handled_ms IS NOT NULL"
    " AND i.handled_ms < ?1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.inbox_id = i.id)"
    " ORDER BY i.id LIMIT ?3)";
// The packed rows' ids have no AUTOINCREMENT: a table emptied by a prune starts again at 1, which
// keeps ids growing with time (every row deleted was older than any new one).
constexpr std::string_view kFirstHandledGroupAtOrAfter =
    "SELECT id FROM inbox_handled_groups WHERE received_ms >= ?1 ORDER BY id LIMIT 1";
constexpr std::string_view kPruneHandledGroups =
    "DELETE FROM inbox_handled_groups WHERE id IN (SELECT id FROM inbox_handled_groups WHERE id < ?2"
    " AND received_ms < ?1 ORDER BY id LIMIT ?3)";

constexpr std::string_view kInsertUnmatched =
    "INSERT INTO unmatched_questions (platform, text, at_ms) VALUES (?1, ?2, ?3)";

constexpr std::string_view kLoadToken =
    "SELECT access_token, refresh_token, expires_at_ms FROM tokens WHERE key = ?1";
constexpr std::string_view kSaveToken =
    "INSERT INTO tokens (key, access_token, refresh_token, expires_at_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (key) DO UPDATE SET access_token = excluded.access_token,"
    " refresh_token = excluded.refresh_token, expires_at_ms = excluded.expires_at_ms,"
    " updated_ms = excluded.updated_ms";

constexpr std::string_view kNextTipoffSeq =
    "INSERT INTO tipoff_sequences (month_key, last_seq) VALUES (?1, 1)"
    " ON CONFLICT (month_key) DO UPDATE SET last_seq = tipoff_sequences.last_seq + 1"
    " RETURNING last_seq";
constexpr std::string_view kInsertTipoff =
    "INSERT INTO tipoffs (code, report_json, identity_sealed, reporter_lookup, status, created_ms, updated_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
constexpr std::string_view kInsertHistory =
    "INSERT INTO tipoff_history (tipoff_id, status, changed_by, note, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr std::string_view kTipoffIdByCode = "SELECT id FROM tipoffs WHERE code = ?1";
constexpr std::string_view kInsertStatusNotice =
    "INSERT INTO status_notices (tipoff_id, status, created_ms) VALUES (?1, ?2, ?3)";
constexpr std::string_view kPendingStatusNotices =
    "SELECT n.id, t.code, n.status, n.created_ms FROM status_notices n JOIN tipoffs t ON t.id = n.tipoff_id"
    " WHERE n.taken_ms IS NULL ORDER BY n.id LIMIT ?1";
constexpr std::string_view kTakeStatusNotice =
    "UPDATE status_notices SET taken_ms = ?2 WHERE id = ?1 AND taken_ms IS NULL";
constexpr std::string_view kTipoffByCode =
    "SELECT id, code, report_json, identity_sealed, reporter_lookup, status, created_ms, updated_ms"
    " FROM tipoffs WHERE code = ?1";
constexpr std::string_view kListTipoffs =
    "SELECT id, code, report_json, identity_sealed, reporter_lookup, status, created_ms, updated_ms"
    " FROM tipoffs WHERE (?1 IS NULL OR status = ?1) AND created_ms >= ?2"
    " ORDER BY created_ms DESC, id DESC LIMIT ?3";
constexpr std::string_view kTipoffHistory =
    "SELECT status, changed_by, note, at_ms FROM tipoff_history WHERE tipoff_id = ?1 ORDER BY id";
constexpr std::string_view kUpdateTipoffStatus = "UPDATE tipoffs SET status = ?2, updated_ms = ?3 WHERE id = ?1";
constexpr std::string_view kInsertForwardAttempt =
    "INSERT INTO forward_attempts (tipoff_id, channel, target, ok, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr std::string_view kForwardAttempts =
    "SELECT f.channel, f.target, f.ok, f.detail, f.at_ms FROM forward_attempts f"
    " JOIN tipoffs t ON t.id = f.tipoff_id WHERE t.code = ?1 ORDER BY f.id";

constexpr std::string_view kInsertEvidence =
    "INSERT INTO evidence (tipoff_code, position, url, media_type, state, attempts, next_attempt_ms,"
    " created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, ?5, ?5)";
constexpr std::string_view kDueEvidence =
    "SELECT id, tipoff_code, position, url, media_type, state, attempts, next_attempt_ms, sha256, path, bytes,"
    " content_type, last_error, created_ms, updated_ms FROM evidence"
    " WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2";
constexpr std::string_view kEvidenceFor =
    "SELECT id, tipoff_code, position, url, media_type, state, attempts, next_attempt_ms, sha256, path, bytes,"
    " content_type, last_error, created_ms, updated_ms FROM evidence WHERE tipoff_code = ?1 ORDER BY position";
constexpr std::string_view kMarkEvidenceDownloaded =
    "UPDATE evidence SET state = 'downloaded', attempts = attempts + 1, sha256 = ?2, path = ?3, bytes = ?4,"
    " content_type = ?5, last_error = '', updated_ms = ?6 WHERE id = ?1 AND state = 'pending'";
constexpr std::string_view kMarkEvidenceRetry =
    "UPDATE evidence SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, updated_ms = ?4"
    " WHERE id = ?1 AND state = 'pending'";
constexpr std::string_view kMarkEvidenceFailed =
    "UPDATE evidence SET state = 'failed', attempts = attempts + 1, last_error = ?2, updated_ms = ?3"
    " WHERE id = ?1 AND state = 'pending'";

constexpr std::string_view kHealthProbe =
    "INSERT INTO store_health (id, probed_ms) VALUES (1, ?1)"
    " ON CONFLICT (id) DO UPDATE SET probed_ms = excluded.probed_ms";

// The first history row of every tip-off.
constexpr std::string_view kFiledBy = "bot";

// --- helpers -------------------------------------------------------------------------------------

std::int64_t to_limit(std::size_t limit) {
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(limit < max ? limit : max);
}

std::int64_t or_now(std::int64_t ms, std::int64_t now) {
    return ms != 0 ? ms : now;
}

Platform platform_column(const Statement& stmt, int column) {
    const auto name = stmt.text(column);
    const auto platform = platform_from_string(name);
    if (!platform) {
        throw StoreError("sqlite: unknown platform name in the database");
    }
    return *platform;
}

tipoff::Status status_column(const Statement& stmt, int column) {
    const auto name = stmt.text(column);
    const auto status = tipoff::status_from_string(name);
    if (!status) {
        throw StoreError("sqlite: unknown tip-off status in the database");
    }
    return *status;
}

OutboxItem read_outbox_item(const Statement& stmt) {
    OutboxItem item;
    item.id = stmt.int64(0);
    item.platform = platform_column(stmt, 1);
    item.page_id = stmt.text(2);
    item.user_id = stmt.text(3);
    item.body = stmt.text(4);
    item.message_json = stmt.text(5);
    item.attempts = static_cast<int>(stmt.int64(6));
    item.next_attempt_ms = stmt.int64(7);
    item.trace_id = stmt.text(8);
    item.inbox_id = stmt.int64(9);
    return item;
}

EvidenceState evidence_state_column(const Statement& stmt, int column) {
    const auto name = stmt.text(column);
    for (const auto state : {EvidenceState::pending, EvidenceState::downloaded, EvidenceState::failed}) {
        if (name == to_string(state)) {
            return state;
        }
    }
    throw StoreError("sqlite: unknown evidence state in the database");
}

// Columns in the order of kDueEvidence and kEvidenceFor.
EvidenceRow read_evidence(const Statement& stmt) {
    EvidenceRow row;
    row.id = stmt.int64(0);
    row.tipoff_code = stmt.text(1);
    row.position = static_cast<int>(stmt.int64(2));
    row.url = stmt.text(3);
    row.media_type = stmt.text(4);
    row.state = evidence_state_column(stmt, 5);
    row.attempts = static_cast<int>(stmt.int64(6));
    row.next_attempt_ms = stmt.int64(7);
    row.sha256 = stmt.text(8);
    row.path = stmt.text(9);
    row.bytes = stmt.int64(10);
    row.content_type = stmt.text(11);
    row.last_error = stmt.text(12);
    row.created_ms = stmt.int64(13);
    row.updated_ms = stmt.int64(14);
    return row;
}

// Digests are uniform already: half of one is a good hash.
struct DigestHash {
    std::size_t operator()(const RecentKeys::Digest& digest) const noexcept {
        return static_cast<std::size_t>(digest[1]);
    }
};

void require_changed(const Connection& connection, std::string_view what) {
    if (connection.changes() == 0) {
        throw StoreError(std::string("sqlite: ") + std::string(what));
    }
}

class SqliteStore final : public Store {
public:
    explicit SqliteStore(const SqliteOptions& options)
        : options_(options),
          checkpointer_(std::make_unique<sqlite::Checkpointer>(options)),
          pool_(options, checkpointer_.get()),
          durable_(options.synchronous_full),
          seal_(options.seal_text),
          open_(options.open_text) {
        auto connection = pool_.acquire();
        migrate(*connection);
    }

    // --- inbox -------------------------------------------------------------------------------

    std::size_t commit_events(const std::vector<IncomingEvent>& events) override {
        const std::vector<IncomingEvent>* one = &events;
        return insert_batches(std::span(&one, 1)).front();
    }

    std::vector<std::size_t> commit_event_batches(
        const std::vector<std::vector<IncomingEvent>>& batches) override {
        std::vector<const std::vector<IncomingEvent>*> all;
        all.reserve(batches.size());
        for (const auto& batch : batches) {
            all.push_back(&batch);
        }
        return insert_batches(all);
    }

    void prepare(IncomingEvent& event) const override {
        // An event stored already handled stays plain here: the commit seals its group's packed row
        // as a whole, once (schema 0006).
        if (event.prepared || event.handled) return;
        event.event_json = sealed(event.event_json);
        event.prepared = true;
    }

    std::vector<InboxItem> pending_inbox(std::int64_t after_id, std::size_t limit) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kPendingInbox);
        stmt.bind(1, after_id).bind(2, to_limit(limit));
        std::vector<InboxItem> items;
        while (stmt.step()) {
            items.push_back(InboxItem{stmt.int64(0), stmt.text(1), opened(stmt.text(2)), stmt.text(3)});
        }
        return items;
    }

    // --- conversations -------------------------------------------------------------------------

    std::optional<std::string> load_state(std::string_view user_key) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kLoadState);
        stmt.bind(1, user_key);
        if (!stmt.step()) {
            return std::nullopt;
        }
        return opened(stmt.text(0));
    }

    std::vector<std::string> commit_decision(const DecisionCommit& commit) override {
        auto connection = pool_.acquire();
        // A filed tip-off is confirmed to the citizen with its code: it must survive power loss. An
        // ordinary decision lost that way is only handled again (its inbox row stays unhandled).
        DurableCommit durable(*connection, durable_ && !commit.tipoffs.empty());
        WriteTransaction tx(*connection);
        auto codes = apply_decision(*connection, commit, detail::now_ms());
        tx.commit();
        return codes;
    }

    std::vector<std::vector<std::string>> commit_decisions(const std::vector<DecisionCommit>& commits) override {
        std::vector<std::vector<std::string>> codes;
        if (commits.empty()) return codes;
        const bool files_tipoffs = std::any_of(commits.begin(), commits.end(),
                                               [](const DecisionCommit& c) { return !c.tipoffs.empty(); });
        auto connection = pool_.acquire();
        DurableCommit durable(*connection, durable_ && files_tipoffs);
        WriteTransaction tx(*connection);
        const std::int64_t now = detail::now_ms();
        codes.reserve(commits.size());
        for (const auto& commit : commits) codes.push_back(apply_decision(*connection, commit, now));
        tx.commit();
        return codes;
    }

    // One decision's writes, inside the caller's transaction.
    std::vector<std::string> apply_decision(Connection& conn, const DecisionCommit& commit, std::int64_t now) {
        Connection* connection = &conn;
        if (commit.inbox_id != 0) {
            connection->prepare(kMarkInboxHandled).bind(1, commit.inbox_id).bind(2, now).run();
            if (connection->changes() == 0) {
                auto stmt = connection->prepare(kInboxEvent);
                stmt.bind(1, commit.inbox_id);
                if (stmt.step()) {
                    throw InboxAlreadyHandled("sqlite: inbox row already handled");
                }
                throw StoreError("sqlite: unknown inbox row");
            }
        }

        if (!commit.user_key.empty()) {
            const auto flags = detail::derive_state_flags(commit.state_json);
            if (commit.state_changed) {
                connection->prepare(kUpsertState)
                    .bind(1, commit.user_key)
                    .bind(2, sealed(commit.state_json))
                    .bind(3, now)
                    .bind(4, std::int64_t{flags.has_dialog ? 1 : 0})
                    .run();
            }
            if (const auto who = user_identity(*connection, commit)) {
                connection->prepare(kUpsertUser)
                    .bind(1, to_string(who->platform))
                    .bind(2, who->page_id)
                    .bind(3, who->user_id)
                    .bind(4, commit.user_key)
                    .bind(5, std::int64_t{flags.subscribed ? 1 : 0})
                    .bind(6, now)
                    .run();
            }
        }

        std::vector<std::string> codes;
        codes.reserve(commit.tipoffs.size());
        for (const auto& tipoff : commit.tipoffs) {
            codes.push_back(insert_tipoff(*connection, tipoff, or_now(tipoff.created_ms, now)));
        }

        for (const auto& out : commit.outbox) {
            auto stmt = connection->prepare(kInsertOutbox);
            stmt.bind(1, to_string(out.platform)).bind(2, out.page_id).bind(3, out.user_id);
            if (codes.empty()) {
                stmt.bind(4, sealed(out.body)).bind(5, sealed(out.message_json));
            } else {
                stmt.bind(4, sealed(with_ref_code(out.body, codes.back())))
                    .bind(5, sealed(with_ref_code(out.message_json, codes.back())));
            }
            stmt.bind(6, detail::to_string(out.deliver ? OutboxState::pending : OutboxState::sent))
                .bind(7, std::int64_t{out.deliver ? 1 : 0})
                .bind(8, now)
                .bind(9, out.trace_id);
            if (commit.inbox_id != 0) {
                stmt.bind(10, commit.inbox_id);
            } else {
                stmt.bind_null(10);
            }
            stmt.bind(11, now);
            if (out.deliver) {
                stmt.bind_null(12);
            } else {
                stmt.bind(12, now);
            }
            stmt.run();
        }

        for (const auto& question : commit.unmatched) {
            connection->prepare(kInsertUnmatched)
                .bind(1, to_string(question.platform))
                .bind(2, question.text)
                .bind(3, or_now(question.at_ms, now))
                .run();
        }
        return codes;
    }

    std::string reserve_tipoff_code(std::int64_t now_ms) override {
        auto connection = pool_.acquire();
        WriteTransaction tx(*connection);
        auto code = next_tipoff_code(*connection, or_now(now_ms, detail::now_ms()));
        tx.commit();
        return code;
    }

    std::vector<std::string> idle_dialog_users(std::int64_t idle_before_ms, std::size_t limit) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kIdleDialogUsers);
        stmt.bind(1, idle_before_ms).bind(2, to_limit(limit));
        std::vector<std::string> users;
        while (stmt.step()) {
            users.push_back(stmt.text(0));
        }
        return users;
    }

    // --- outbox --------------------------------------------------------------------------------

    std::vector<OutboxItem> due_outbox(std::int64_t now_ms, std::size_t limit) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kDueOutbox);
        stmt.bind(1, now_ms).bind(2, to_limit(limit));
        std::vector<OutboxItem> items;
        while (stmt.step()) {
            items.push_back(read_outbox_item(stmt));
            items.back().body = opened(std::move(items.back().body));
            items.back().message_json = opened(std::move(items.back().message_json));
        }
        return items;
    }

    void mark_sending(std::int64_t id) override {
        write([&](Connection& c) {
            c.prepare(kMarkSending).bind(1, id).run();
            require_changed(c, "outbox row is not pending");
        });
    }

    void mark_sent(std::int64_t id, std::string_view platform_message_id) override {
        write([&](Connection& c) {
            c.prepare(kMarkSent).bind(1, id).bind(2, platform_message_id).bind(3, detail::now_ms()).run();
            require_changed(c, "unknown outbox row");
        });
    }

    std::vector<std::int64_t> mark_sending_many(const std::vector<std::int64_t>& ids) override {
        std::vector<std::int64_t> claimed;
        if (ids.empty()) return claimed;
        write([&](Connection& c) {
            for (const auto id : ids) {
                c.prepare(kMarkSending).bind(1, id).run();
                if (c.changes() == 1) claimed.push_back(id);
            }
        });
        return claimed;
    }

    void mark_sent_many(const std::vector<SentMark>& marks) override {
        if (marks.empty()) return;
        const std::int64_t now = detail::now_ms();
        write([&](Connection& c) {
            for (const auto& m : marks) c.prepare(kMarkSent).bind(1, m.id).bind(2, m.platform_message_id).bind(3, now).run();
        });
    }

    void mark_retry(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) override {
        write([&](Connection& c) {
            c.prepare(kMarkRetry).bind(1, id).bind(2, next_attempt_ms).bind(3, detail::cap_error(error)).run();
            require_changed(c, "unknown outbox row");
        });
    }

    void mark_failed(std::int64_t id, OutboxState final_state, std::string_view error) override {
        if (final_state != OutboxState::failed && final_state != OutboxState::unreachable) {
            throw StoreError("sqlite: mark_failed needs a final state (failed or unreachable)");
        }
        write([&](Connection& c) {
            c.prepare(kMarkFailed)
                .bind(1, id)
                .bind(2, detail::to_string(final_state))
                .bind(3, detail::cap_error(error))
                .run();
            require_changed(c, "unknown outbox row");
        });
    }

    std::size_t recover_sending() override {
        std::size_t recovered = 0;
        write([&](Connection& c) {
            c.prepare(kRecoverSending).run();
            recovered = static_cast<std::size_t>(c.changes());
        });
        return recovered;
    }

    std::vector<OutboxItem> outbox_for_inbox(std::int64_t inbox_id) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kOutboxForInbox);
        stmt.bind(1, inbox_id);
        std::vector<OutboxItem> items;
        while (stmt.step()) {
            items.push_back(read_outbox_item(stmt));
            items.back().body = opened(std::move(items.back().body));
            items.back().message_json = opened(std::move(items.back().message_json));
        }
        return items;
    }

    std::size_t outbox_depth() override { return count(kOutboxDepth); }
    std::size_t inbox_depth() override { return count(kInboxDepth); }

    // --- retention -----------------------------------------------------------------------------

    PruneResult prune_inbox(std::int64_t before_ms, std::size_t batch_limit, std::stop_token stop) override {
        // The keys of the dedup window are read back from these rows at the next start (RecentKeys):
        // never delete one of them, whatever the caller asked. (window_ms is fixed at construction:
        // read without recent_mutex_, which a group commit holds.)
        const std::int64_t cutoff = std::min(before_ms, detail::now_ms() - recent_.window_ms());
        const std::int64_t limit = to_limit(std::max<std::size_t>(batch_limit, 1));
        PruneResult result;
        // The outbox first: the inbox rows its deleted rows referred to can go in the same run.
        result.outbox = prune_table(kFirstOutboxAtOrAfter, kPruneOutbox, cutoff, limit, stop);
        result.inbox = prune_table(kFirstInboxAtOrAfter, kPruneInbox, cutoff, limit, stop);
        result.handled_groups = prune_table(kFirstHandledGroupAtOrAfter, kPruneHandledGroups, cutoff, limit, stop);
        return result;
    }

    // --- users ---------------------------------------------------------------------------------

    void mark_unreachable(Platform platform, std::string_view user_id, std::string_view reason) override {
        write([&](Connection& c) {
            const std::int64_t now = detail::now_ms();
            const auto capped = detail::cap_error(reason);
            c.prepare(kMarkUnreachable)
                .bind(1, to_string(platform))
                .bind(2, user_id)
                .bind(3, capped)
                .bind(4, now)
                .run();
            if (c.changes() == 0) {
                c.prepare(kInsertUnreachable)
                    .bind(1, to_string(platform))
                    .bind(2, user_id)
                    .bind(3, capped)
                    .bind(4, now)
                    .run();
            }
        });
    }

    std::vector<std::string> subscribers(Platform platform, std::string_view page_id) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kSubscribers);
        stmt.bind(1, to_string(platform)).bind(2, page_id);
        std::vector<std::string> users;
        while (stmt.step()) {
            users.push_back(stmt.text(0));
        }
        return users;
    }

    // --- platform tokens -----------------------------------------------------------------------

    std::optional<TokenPair> load_token(std::string_view key) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kLoadToken);
        stmt.bind(1, key);
        if (!stmt.step()) {
            return std::nullopt;
        }
        return TokenPair{stmt.text(0), stmt.text(1), stmt.int64(2)};
    }

    void save_token(std::string_view key, const TokenPair& pair) override {
        write([&](Connection& c) {
            c.prepare(kSaveToken)
                .bind(1, key)
                .bind(2, pair.access_token)
                .bind(3, pair.refresh_token)
                .bind(4, pair.expires_at_ms)
                .bind(5, detail::now_ms())
                .run();
        });
    }

    // --- tip-offs ------------------------------------------------------------------------------

    std::optional<TipoffRow> tipoff_by_code(std::string_view code) override {
        auto connection = pool_.acquire();
        const ReadTransaction tx(*connection);
        std::optional<TipoffRow> row;
        {
            auto stmt = connection->prepare(kTipoffByCode);
            stmt.bind(1, code);
            if (!stmt.step()) {
                return std::nullopt;
            }
            row = read_tipoff(stmt);
        }
        row->history = history(*connection, row->id);
        return row;
    }

    std::vector<TipoffRow> list_tipoffs(const TipoffFilter& filter) override {
        auto connection = pool_.acquire();
        const ReadTransaction tx(*connection);
        std::vector<TipoffRow> rows;
        {
            auto stmt = connection->prepare(kListTipoffs);
            if (filter.status) {
                stmt.bind(1, tipoff::to_string(*filter.status));
            } else {
                stmt.bind_null(1);
            }
            stmt.bind(2, filter.since_ms).bind(3, to_limit(filter.limit));
            while (stmt.step()) {
                rows.push_back(read_tipoff(stmt));
            }
        }
        for (auto& row : rows) {
            row.history = history(*connection, row.id);
        }
        return rows;
    }

    void change_tipoff_status(std::string_view code, const StatusChange& change) override {
        write_durable([&](Connection& c) {
            const std::int64_t id = tipoff_id(c, code);
            const std::int64_t at = or_now(change.at_ms, detail::now_ms());
            const auto status = tipoff::to_string(change.status);
            c.prepare(kUpdateTipoffStatus).bind(1, id).bind(2, status).bind(3, at).run();
            c.prepare(kInsertHistory)
                .bind(1, id)
                .bind(2, status)
                .bind(3, change.by)
                .bind(4, change.note)
                .bind(5, at)
                .run();
            // The reporter is told of every change after filing (the filing itself was confirmed in chat).
            if (change.status != tipoff::Status::received) {
                c.prepare(kInsertStatusNotice).bind(1, id).bind(2, status).bind(3, at).run();
            }
        });
    }

    std::vector<StatusNotice> pending_status_notices(std::size_t limit) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kPendingStatusNotices);
        stmt.bind(1, static_cast<std::int64_t>(limit));
        std::vector<StatusNotice> notices;
        while (stmt.step()) {
            StatusNotice n;
            n.id = stmt.int64(0);
            n.code = stmt.text(1);
            n.status = tipoff::status_from_string(stmt.text(2)).value_or(tipoff::Status::received);
            n.created_ms = stmt.int64(3);
            notices.push_back(std::move(n));
        }
        return notices;
    }

    void take_status_notice(std::int64_t id, std::int64_t now_ms) override {
        write([&](Connection& c) { c.prepare(kTakeStatusNotice).bind(1, id).bind(2, now_ms).run(); });
    }

    void record_forward_attempt(std::string_view code, std::string_view channel, std::string_view target, bool ok,
                                std::string_view detail_text, std::int64_t at_ms) override {
        write([&](Connection& c) {
            const std::int64_t id = tipoff_id(c, code);
            c.prepare(kInsertForwardAttempt)
                .bind(1, id)
                .bind(2, channel)
                .bind(3, target)
                .bind(4, std::int64_t{ok ? 1 : 0})
                .bind(5, detail::cap_error(detail_text))
                .bind(6, or_now(at_ms, detail::now_ms()))
                .run();
        });
    }

    std::vector<ForwardAttempt> forward_attempts(std::string_view code) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kForwardAttempts);
        stmt.bind(1, code);
        std::vector<ForwardAttempt> attempts;
        while (stmt.step()) {
            attempts.push_back(ForwardAttempt{stmt.text(0), stmt.text(1), stmt.int64(2) != 0, stmt.text(3),
                                              stmt.int64(4)});
        }
        return attempts;
    }

    // --- evidence ------------------------------------------------------------------------------

    std::vector<EvidenceRow> due_evidence(std::int64_t now_ms, std::size_t limit) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kDueEvidence);
        stmt.bind(1, now_ms).bind(2, to_limit(limit));
        std::vector<EvidenceRow> rows;
        while (stmt.step()) {
            rows.push_back(read_evidence(stmt));
        }
        return rows;
    }

    void mark_evidence_downloaded(std::int64_t id, std::string_view sha256, std::string_view path, std::int64_t bytes,
                                  std::string_view content_type, std::int64_t now_ms) override {
        write([&](Connection& c) {
            c.prepare(kMarkEvidenceDownloaded)
                .bind(1, id)
                .bind(2, sha256)
                .bind(3, path)
                .bind(4, bytes)
                .bind(5, content_type)
                .bind(6, or_now(now_ms, detail::now_ms()))
                .run();
            require_changed(c, "evidence row is not pending");
        });
    }

    void mark_evidence_retry(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error,
                             std::int64_t now_ms) override {
        write([&](Connection& c) {
            c.prepare(kMarkEvidenceRetry)
                .bind(1, id)
                .bind(2, next_attempt_ms)
                .bind(3, detail::cap_error(error))
                .bind(4, or_now(now_ms, detail::now_ms()))
                .run();
            require_changed(c, "evidence row is not pending");
        });
    }

    void mark_evidence_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) override {
        write([&](Connection& c) {
            c.prepare(kMarkEvidenceFailed)
                .bind(1, id)
                .bind(2, detail::cap_error(error))
                .bind(3, or_now(now_ms, detail::now_ms()))
                .run();
            require_changed(c, "evidence row is not pending");
        });
    }

    std::vector<EvidenceRow> evidence_for(std::string_view code) override {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(kEvidenceFor);
        stmt.bind(1, code);
        std::vector<EvidenceRow> rows;
        while (stmt.step()) {
            rows.push_back(read_evidence(stmt));
        }
        return rows;
    }

    // --- health --------------------------------------------------------------------------------

    bool writable() override {
        try {
            write([](Connection& c) { c.prepare(kHealthProbe).bind(1, detail::now_ms()).run(); });
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }

private:
    struct UserIdentity {
        Platform platform = Platform::cli;
        std::string page_id;
        std::string user_id;
    };

    std::vector<std::size_t> insert_batches(std::span<const std::vector<IncomingEvent>* const> batches) {
        std::vector<std::size_t> fresh(batches.size(), 0);
        bool any = false;
        for (const auto* batch : batches) {
            any = any || !batch->empty();
        }
        if (!any) {
            return fresh;
        }
        // Held until the new keys are remembered: a key is looked up and added by one commit at a time
        // (the committer's thread, and any other caller of commit_events).
        const std::lock_guard recent_lock(recent_mutex_);
        // The inbox commits on a connection of its own, set to synchronous = FULL once, instead of a
        // pooled one switched to FULL and back around each commit (DurableCommit), which parsed two
        // PRAGMA statements per commit on the one serial step before acknowledgements.
        if (!inbox_connection_) {
            inbox_connection_ = std::make_unique<Connection>(options_, checkpointer_.get());
            if (durable_) inbox_connection_->exec("PRAGMA synchronous = FULL");
        }
        try {
            return insert_batches_on(*inbox_connection_, batches);
        } catch (...) {
            // A failed commit may leave it mid-transaction or broken: the next commit opens a new one.
            inbox_connection_.reset();
            throw;
        }
    }

    // insert_batches' work, on the inbox's connection (the caller holds recent_mutex_).
    std::vector<std::size_t> insert_batches_on(Connection& connection,
                                               std::span<const std::vector<IncomingEvent>* const> batches) {
        std::vector<std::size_t> fresh(batches.size(), 0);
        // Read back on the first insert, not at open: the CLI commands open the store and never
        // insert, and `serve` answers /healthz without waiting for a week of keys.
        if (!recent_loaded_) {
            load_recent_keys(connection);
            recent_loaded_ = true;
        }
        WriteTransaction tx(connection);  // FULL: acknowledged webhooks survive power loss
        const std::int64_t now = detail::now_ms();
        recent_.prune(now);
        // This transaction's keys: duplicates within it are dropped too, and they join recent_ only
        // once committed (a failed commit must not make its events look known when they are sent again).
        std::unordered_set<RecentKeys::Digest, DigestHash> added;
        std::string handled_keys;    // the packed row of the events stored already handled
        std::string handled_events;
        for (std::size_t i = 0; i < batches.size(); ++i) {
            for (const auto& event : *batches[i]) {
                if (!event.dedup_key.empty()) {
                    const auto digest = RecentKeys::digest(event.dedup_key);
                    if (recent_.contains(digest) || !added.insert(digest).second) {
                        continue;  // known: already committed, or earlier in this transaction
                    }
                }
                if (event.handled) {
                    // Never read back one by one: packed into the group's one row (schema 0005), in
                    // plain here and sealed below as a whole (schema 0006).
                    if (!event.dedup_key.empty()) detail::append_netstring(handled_keys, event.dedup_key);
                    for (const std::string_view part : {std::string_view(event.dedup_key), std::string_view(event.user_key),
                                                        std::string_view(event.trace_id),
                                                        std::string_view(event.event_json)}) {
                        detail::append_netstring(handled_events, part);
                    }
                    ++fresh[i];
                    continue;
                }
                std::string sealed_json;  // when the event was not prepare()d; outlives stmt
                if (!event.prepared) sealed_json = sealed(event.event_json);
                const std::string_view stored = event.prepared ? std::string_view(event.event_json) : sealed_json;
                // The values outlive the statement (it is reset at the end of this iteration): bound
                // without a copy each.
                auto stmt = connection.prepare(kInsertInbox);
                if (event.dedup_key.empty()) {
                    stmt.bind_null(1);
                } else {
                    stmt.bind_unowned(1, event.dedup_key);
                }
                stmt.bind_unowned(2, event.user_key)
                    .bind_unowned(3, stored)
                    .bind_unowned(4, event.trace_id)
                    .bind(5, now)
                    .bind_null(6);  // to be handled
                stmt.run();
                ++fresh[i];
            }
        }
        if (!handled_events.empty()) {
            // One seal for the whole group instead of one per event on the I/O threads (~2.8 us
            // each, most of it per-call overhead for a few hundred bytes), and one nonce and tag.
            const std::string sealed_events = sealed(handled_events);
            connection.prepare(kInsertHandledGroup)
                .bind(1, now)
                .bind_blob(2, handled_keys)
                .bind_blob(3, sealed_events)
                .run();
        }
        tx.commit();  // durable from here on (synchronous=FULL)
        for (const auto& digest : added) {
            recent_.add(digest, now);  // all received at `now`: their order does not matter
        }
        return fresh;
    }

    // The keys of the events received within the dedup window, into recent_ (before the first insert;
    // the caller holds recent_mutex_): from the inbox's rows and from the packed rows of the events
    // stored already handled (schema 0005).
    void load_recent_keys(Connection& connection) {
        const std::int64_t now = detail::now_ms();
        const std::int64_t cutoff = now - recent_.window_ms();
        std::vector<std::pair<RecentKeys::Digest, std::int64_t>> keys;
        {
            auto stmt = connection.prepare(kRecentInboxKeys);
            while (stmt.step()) {
                // Ids grow with time, so the first row older than the window ends it. Rows are stamped
                // with the wall clock: had it jumped back, rows after the jump look older than they are,
                // and the scan can stop early by at most the size of the jump.
                const std::int64_t received_ms = stmt.int64(1);
                if (received_ms < cutoff) break;
                if (stmt.is_null(0)) continue;  // no key: never deduplicated
                keys.emplace_back(RecentKeys::digest(stmt.text(0)), received_ms);
            }
        }
        {
            auto stmt = connection.prepare(kRecentHandledGroupKeys);
            while (stmt.step()) {
                const std::int64_t received_ms = stmt.int64(1);
                if (received_ms < cutoff) break;  // as above
                const std::string packed = stmt.blob(0);
                const auto group = detail::split_netstrings(packed);
                if (!group) throw StoreError("sqlite: a row of inbox_handled_groups holds malformed keys");
                for (const auto key : *group) keys.emplace_back(RecentKeys::digest(key), received_ms);
            }
        }
        // Oldest first, as prune expects (the two tables' rows interleave in time).
        std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        recent_.reserve(keys.size());
        for (const auto& [digest, received_ms] : keys) recent_.add(digest, received_ms);
    }

    template <typename Fn>
    void write_durable(Fn&& fn) {
        auto connection = pool_.acquire();
        DurableCommit durable(*connection, durable_);
        WriteTransaction tx(*connection);
        std::forward<Fn>(fn)(*connection);
        tx.commit();
    }

    template <typename Fn>
    void write(Fn&& fn) {
        auto connection = pool_.acquire();
        WriteTransaction tx(*connection);
        std::forward<Fn>(fn)(*connection);
        tx.commit();
    }

    // One table's part of prune_inbox: `first_at_or_after` finds the bound (see kFirstOutboxAtOrAfter),
    // then `prune` (?1 cutoff, ?2 bound, ?3 limit) runs in a transaction of its own per batch, so the
    // writers' turn is given up between batches. Returns the rows deleted.
    std::size_t prune_table(std::string_view first_at_or_after, std::string_view prune, std::int64_t cutoff,
                            std::int64_t limit, const std::stop_token& stop) {
        if (stop.stop_requested()) return 0;
        std::int64_t bound = std::numeric_limits<std::int64_t>::max();  // every row is older
        {
            auto connection = pool_.acquire();
            auto stmt = connection->prepare(first_at_or_after);
            stmt.bind(1, cutoff);
            if (stmt.step()) bound = stmt.int64(0);
        }
        std::size_t deleted = 0;
        for (;;) {
            std::int64_t changed = 0;
            write([&](Connection& c) {
                c.prepare(prune).bind(1, cutoff).bind(2, bound).bind(3, limit).run();
                changed = c.changes();
            });
            deleted += static_cast<std::size_t>(changed);
            if (changed < limit || stop.stop_requested()) return deleted;  // fewer than asked: nothing older is left
        }
    }

    std::size_t count(std::string_view sql) {
        auto connection = pool_.acquire();
        auto stmt = connection->prepare(sql);
        return stmt.step() ? static_cast<std::size_t>(stmt.int64(0)) : 0;
    }

    static void migrate(Connection& connection) {
        // A migration that rebuilds a table (0004: inbox) drops a table that others refer to; with
        // foreign keys enforced, that DROP would first delete its rows and fail. SQLite's procedure:
        // enforcement off outside the transaction, PRAGMA foreign_key_check before the commit.
        const ForeignKeysOff foreign_keys_off(connection);
        WriteTransaction tx(connection);
        connection.exec(kCreateMigrationsTable);
        std::int64_t current = 0;
        {
            auto stmt = connection.prepare(kMaxMigration);
            if (stmt.step()) {
                current = stmt.int64(0);
            }
        }
        const auto all = migrations::sqlite();
        const std::int64_t latest = all.empty() ? 0 : all.back().version;
        if (current > latest) {
            throw StoreError("sqlite: the database schema (version " + std::to_string(current) +
                             ") is newer than this program (version " + std::to_string(latest) + ")");
        }
        for (const auto& migration : all) {
            if (migration.version <= current) {
                continue;
            }
            const std::string sql(migration.sql);
            connection.exec(sql.c_str());
            connection.prepare(kRecordMigration)
                .bind(1, std::int64_t{migration.version})
                .bind(2, migration.name)
                .bind(3, detail::now_ms())
                .run();
        }
        if (current < latest) {  // a full scan of the tables with references: only after a change
            auto check = connection.prepare(kForeignKeyCheck);
            if (check.step()) {
                throw StoreError("sqlite: after the migrations, table " + check.text(0) +
                                 " refers to a missing row (PRAGMA foreign_key_check)");
            }
        }
        tx.commit();
    }

    // PRAGMA foreign_keys = OFF for its lifetime, ON again before the connection goes back to the pool.
    // Create it before the transaction: the pragma does nothing inside one.
    class ForeignKeysOff {
    public:
        explicit ForeignKeysOff(Connection& connection) : connection_(connection) {
            connection_.exec("PRAGMA foreign_keys = OFF");
        }
        ~ForeignKeysOff() {
            try {
                connection_.exec("PRAGMA foreign_keys = ON");
            } catch (...) {  // NOLINT(bugprone-empty-catch): cannot fail outside a transaction
            }
        }
        ForeignKeysOff(const ForeignKeysOff&) = delete;
        ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

    private:
        Connection& connection_;
    };

    // Platform, page and user of the commit's user: given, or read from the inbox event.
    std::optional<UserIdentity> user_identity(Connection& connection, const DecisionCommit& commit) const {
        if (!commit.user_id.empty()) {
            return UserIdentity{commit.platform, commit.page_id, commit.user_id};
        }
        if (commit.inbox_id == 0) {
            return std::nullopt;
        }
        auto stmt = connection.prepare(kInboxEvent);
        stmt.bind(1, commit.inbox_id);
        if (!stmt.step()) {
            return std::nullopt;
        }
        const auto event = event_from_json(opened(stmt.text(0)));
        if (!event || event->user_id.empty()) {
            return std::nullopt;
        }
        return UserIdentity{event->platform, event->page_id, event->user_id};
    }

    static std::string next_tipoff_code(Connection& connection, std::int64_t at_ms) {
        const int month = detail::vietnam_month_key(at_ms);
        auto stmt = connection.prepare(kNextTipoffSeq);
        stmt.bind(1, std::int64_t{month});
        if (!stmt.step()) {
            throw StoreError("sqlite: no tip-off sequence number");
        }
        const std::int64_t seq = stmt.int64(0);
        stmt.run();  // finish the statement so the write is complete before the next one
        return detail::format_tipoff_code(month, seq);
    }

    static std::string insert_tipoff(Connection& connection, const NewTipoff& tipoff, std::int64_t created_ms) {
        std::string code = tipoff.code.empty() ? next_tipoff_code(connection, created_ms) : tipoff.code;
        tipoff::Report report = tipoff.report;
        report.reporter = {};  // identity only ever sealed
        const auto received = tipoff::to_string(tipoff::Status::received);
        connection.prepare(kInsertTipoff)
            .bind(1, code)
            .bind(2, tipoff::report_to_json(report))
            .bind_blob(3, tipoff.identity_sealed)
            .bind(4, tipoff.reporter_lookup)
            .bind(5, received)
            .bind(6, created_ms)
            .run();
        const std::int64_t id = connection.last_insert_id();
        connection.prepare(kInsertHistory)
            .bind(1, id)
            .bind(2, received)
            .bind(3, kFiledBy)
            .bind(4, std::string_view{})
            .bind(5, created_ms)
            .run();
        // The evidence to download, due at once: the platform's links expire.
        for (std::size_t position = 0; position < report.evidence.size(); ++position) {
            const auto& evidence = report.evidence[position];
            connection.prepare(kInsertEvidence)
                .bind(1, code)
                .bind(2, static_cast<std::int64_t>(position))
                .bind(3, evidence.url)
                .bind(4, evidence.media_type)
                .bind(5, created_ms)
                .run();
        }
        return code;
    }

    static std::int64_t tipoff_id(Connection& connection, std::string_view code) {
        auto stmt = connection.prepare(kTipoffIdByCode);
        stmt.bind(1, code);
        if (!stmt.step()) {
            throw StoreError("sqlite: unknown tip-off code");
        }
        return stmt.int64(0);
    }

    static TipoffRow read_tipoff(const Statement& stmt) {
        TipoffRow row;
        row.id = stmt.int64(0);
        row.code = stmt.text(1);
        auto report = tipoff::report_from_json(stmt.text(2));
        if (!report) {
            throw StoreError("sqlite: unreadable report_json in tip-off " + row.code);
        }
        row.report = std::move(*report);
        row.identity_sealed = stmt.blob(3);
        row.reporter_lookup = stmt.text(4);
        row.status = status_column(stmt, 5);
        row.created_ms = stmt.int64(6);
        row.updated_ms = stmt.int64(7);
        return row;
    }

    static std::vector<StatusChange> history(Connection& connection, std::int64_t tipoff_id) {
        auto stmt = connection.prepare(kTipoffHistory);
        stmt.bind(1, tipoff_id);
        std::vector<StatusChange> changes;
        while (stmt.step()) {
            changes.push_back(StatusChange{status_column(stmt, 0), stmt.text(1), stmt.text(2), stmt.int64(3)});
        }
        return changes;
    }

    // What citizens wrote is sealed at rest when the runtime gave a sealer (see SqliteOptions).
    [[nodiscard]] std::string sealed(std::string_view plain) const {
        return seal_ ? seal_(plain) : std::string(plain);
    }
    [[nodiscard]] std::string opened(std::string value) const {
        if (!value.starts_with("PGT1:")) return value;
        auto plain = open_ ? open_(value) : std::nullopt;
        if (!plain) throw StoreError("sqlite: stored content cannot be decrypted (wrong data key?)");
        return std::move(*plain);
    }

    SqliteOptions options_;
    // Declared before the pool: it outlives every connection that reports to it.
    std::unique_ptr<sqlite::Checkpointer> checkpointer_;
    ConnectionPool pool_;
    bool durable_ = true;  // SqliteOptions::synchronous_full: fsync the writes that must survive power loss
    std::function<std::string(std::string_view)> seal_;
    std::function<std::optional<std::string>(std::string_view)> open_;
    // The inbox's dedup keys of the last days (see RecentKeys, and why one process inserts).
    std::mutex recent_mutex_;
    RecentKeys recent_;  // guarded by recent_mutex_
    bool recent_loaded_ = false;  // guarded by recent_mutex_
    std::unique_ptr<Connection> inbox_connection_;  // guarded by recent_mutex_; after the checkpointer
};

}  // namespace

std::unique_ptr<Store> open_sqlite(const SqliteOptions& options) {
    if (sqlite3_threadsafe() == 0) {
        throw StoreError("sqlite: the SQLite library was built without thread support");
    }
    return std::make_unique<SqliteStore>(options);
}

}  // namespace pgibot::store
