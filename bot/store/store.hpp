#pragma once
// The storage interface. SQLite now (store/sqlite/), PostgreSQL later: nothing SQLite-specific
// leaks to callers. Failures throw StoreError (the store's one error style); callers at the edge
// turn it into a 503 or a retry.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/model/event.hpp"
#include "handlers/tipoff/report.hpp"

namespace pgibot::store {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// commit_decision for an inbox row that is already handled (another worker or process committed a
// decision for it first): nothing was written. Drop the decision; do not retry.
class InboxAlreadyHandled : public StoreError {
public:
    using StoreError::StoreError;
};

struct InboxItem {
    std::int64_t id = 0;
    std::string user_key;
    std::string event_json;
    std::string trace_id;
};

enum class OutboxState { pending, sending, sent, failed, unreachable };

struct OutboxItem {
    std::int64_t id = 0;
    Platform platform = Platform::cli;
    std::string page_id;
    std::string user_id;
    std::string body;            // rendered platform request (channels::Channel::render)
    std::string message_json;    // the OutMessage it came from (for `pgibot ask`)
    int attempts = 0;
    std::int64_t next_attempt_ms = 0;
    std::string trace_id;
    std::int64_t inbox_id = 0;   // the event that caused it (0: none)
};

struct NewOutbox {
    Platform platform = Platform::cli;
    std::string page_id;
    std::string user_id;
    std::string body;
    std::string message_json;
    std::string trace_id;
    bool deliver = true;         // false: record only (the CLI simulator prints instead of sending)
};

struct Unmatched {
    Platform platform = Platform::cli;
    std::string text;
    std::int64_t at_ms = 0;
};

// A tip-off as stored: identity fields arrive already encrypted by the caller (bot/tipoffs).
struct NewTipoff {
    std::string code;               // from reserve_tipoff_code(); empty: allocated by commit_decision
    tipoff::Report report;          // identity fields cleared by the caller
    std::string identity_sealed;    // encrypted ReporterIdentity (binary)
    std::string reporter_lookup;    // keyed hash of platform+user id, for "tra cứu" and updates
    std::int64_t created_ms = 0;
};

struct StatusChange {
    tipoff::Status status = tipoff::Status::received;
    std::string by;
    std::string note;
    std::int64_t at_ms = 0;
};

struct TipoffRow {
    std::int64_t id = 0;
    std::string code;
    tipoff::Report report;          // identity fields empty
    std::string identity_sealed;
    std::string reporter_lookup;
    tipoff::Status status = tipoff::Status::received;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::vector<StatusChange> history;
};

struct TipoffFilter {
    std::optional<tipoff::Status> status;
    std::int64_t since_ms = 0;
    std::size_t limit = 1000;
};

// What one handled event commits, atomically.
struct DecisionCommit {
    std::int64_t inbox_id = 0;      // marked done (0: no inbox row, e.g. a timer)
    std::string user_key;
    std::string state_json;
    // false: state_json is what is stored already (a read receipt, say): the state row is not
    // rewritten. The users row is still upserted.
    bool state_changed = true;
    std::vector<NewOutbox> outbox;
    std::vector<Unmatched> unmatched;
    std::vector<NewTipoff> tipoffs;  // codes allocated here; every kRefCodePlaceholder ("{ref_code}") in
                                     // outbox body/message_json becomes the last code (given or allocated);
                                     // one pending evidence row per report.evidence entry
    // Who user_key names (for the users table: subscription, reachability). Optional: when user_id
    // is empty the store takes platform, page and user from the inbox row's event.
    Platform platform = Platform::cli;
    std::string page_id;
    std::string user_id;
};

struct StatusNotice {
    std::int64_t id = 0;
    std::string code;
    tipoff::Status status = tipoff::Status::received;
    std::int64_t created_ms = 0;
};

struct ForwardAttempt {
    std::string channel;
    std::string target;
    bool ok = false;
    std::string detail;
    std::int64_t at_ms = 0;
};

// One entry of a tip-off's report.evidence and its download (bot/tipoffs/evidence). Rows are created
// by commit_decision together with the tip-off, one per report.evidence entry, pending and due at once.
enum class EvidenceState { pending, downloaded, failed };
inline std::string_view to_string(EvidenceState s) {
    switch (s) {
        case EvidenceState::pending: return "pending";
        case EvidenceState::downloaded: return "downloaded";
        case EvidenceState::failed: return "failed";
    }
    return "pending";
}

struct EvidenceRow {
    std::int64_t id = 0;
    std::string tipoff_code;
    int position = 0;               // index in report.evidence
    std::string url;                // may carry an access token in its query: never log it whole
    std::string media_type;         // image | video | audio | file
    EvidenceState state = EvidenceState::pending;
    int attempts = 0;
    std::int64_t next_attempt_ms = 0;
    std::string sha256;             // lower-case hex (downloaded)
    std::string path;               // stored file (downloaded)
    std::int64_t bytes = 0;
    std::string content_type;       // verified type (downloaded)
    std::string last_error;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
};

struct TokenPair {
    std::string access_token;
    std::string refresh_token;
    std::int64_t expires_at_ms = 0;
};

// What one Store::prune_inbox call deleted, by table.
struct PruneResult {
    std::size_t inbox = 0;           // events handled before the cutoff
    std::size_t handled_groups = 0;  // events stored already handled (the SQLite store packs them)
    std::size_t outbox = 0;          // replies in a final state, created before the cutoff
    [[nodiscard]] std::size_t total() const { return inbox + handled_groups + outbox; }
};

class Store {
public:
    virtual ~Store() = default;

    // --- inbox -------------------------------------------------------------------------------
    // Commits a whole webhook's events in one transaction. Events whose dedup_key is already known
    // are dropped; returns how many were new. Returns only once durable. "Known": committed before,
    // at least within the platforms' redelivery window (the SQLite store remembers a week of keys).
    struct IncomingEvent {
        std::string dedup_key;
        std::string user_key;
        std::string event_json;
        std::string trace_id;
        // Stored as already handled (handlers::needs_handling said no): kept and deduplicated like
        // any event, but never handed to a lane, nor read back one by one (the SQLite store packs
        // a group commit's handled events into one row, schema 0005).
        bool handled = false;
        // Set by prepare(): event_json already holds the stored form (sealed). Never set for a
        // handled event: the SQLite store seals its group's packed row as a whole (schema 0006).
        bool prepared = false;
    };
    // The part of storing an event that needs no write lock (the SQLite store seals event_json here),
    // run by the submitting thread so that the group commit's one-at-a-time section stays short.
    // Optional: commit_events prepares what was not.
    virtual void prepare(IncomingEvent& event) const { (void)event; }
    virtual std::size_t commit_events(const std::vector<IncomingEvent>& events) = 0;
    // Several webhooks in one transaction (group commit): the result per batch, same order.
    virtual std::vector<std::size_t> commit_event_batches(const std::vector<std::vector<IncomingEvent>>& batches) = 0;
    // Unhandled inbox rows with id > after_id, oldest first.
    virtual std::vector<InboxItem> pending_inbox(std::int64_t after_id, std::size_t limit) = 0;

    // --- conversations -------------------------------------------------------------------------
    virtual std::optional<std::string> load_state(std::string_view user_key) = 0;
    // Returns the tip-off codes (given or allocated), in the order of commit.tipoffs.
    virtual std::vector<std::string> commit_decision(const DecisionCommit& commit) = 0;
    // Several decisions (one lane's batch, in handling order) in ONE transaction: all or none. The
    // codes per decision, same order. InboxAlreadyHandled if any row was: nothing is written then.
    // The default commits one by one (test fakes); the SQLite store overrides it.
    virtual std::vector<std::vector<std::string>> commit_decisions(const std::vector<DecisionCommit>& commits) {
        std::vector<std::vector<std::string>> codes;
        codes.reserve(commits.size());
        for (const auto& c : commits) codes.push_back(commit_decision(c));
        return codes;
    }
    // Reserves the next reference code (LS-YYMM-NNNN) in its own small transaction, so the replies
    // that quote it can be committed atomically with the report. A code reserved by a process that
    // then crashed is simply never used (gaps are fine; reuse is not).
    virtual std::string reserve_tipoff_code(std::int64_t now_ms) = 0;
    // Users whose state has a pending dialog touched before `idle_before_ms` (tip-off expiry sweep).
    virtual std::vector<std::string> idle_dialog_users(std::int64_t idle_before_ms, std::size_t limit) = 0;

    // --- outbox --------------------------------------------------------------------------------
    // Pending rows with next_attempt_ms <= now_ms, by id. Only the head of each user's queue is due:
    // a row waits while an earlier row of the same user is pending or sending (poll again after a send).
    virtual std::vector<OutboxItem> due_outbox(std::int64_t now_ms, std::size_t limit) = 0;
    // Claims a pending row; StoreError if it is not pending (claimed elsewhere). mark_sent, mark_retry
    // and mark_failed count an attempt; mark_retry puts the row back to pending.
    virtual void mark_sending(std::int64_t id) = 0;
    virtual void mark_sent(std::int64_t id, std::string_view platform_message_id) = 0;
    // The same for many rows in one transaction (the sender's hot path). mark_sending_many returns
    // the ids it claimed (rows no longer pending are left out); mark_sent_many skips unknown rows.
    // The defaults call the single-row versions (test fakes); the SQLite store overrides them.
    virtual std::vector<std::int64_t> mark_sending_many(const std::vector<std::int64_t>& ids) {
        std::vector<std::int64_t> claimed;
        for (const auto id : ids) {
            try {
                mark_sending(id);
                claimed.push_back(id);
            } catch (const StoreError&) {  // NOLINT(bugprone-empty-catch): not pending: not claimed
            }
        }
        return claimed;
    }
    struct SentMark {
        std::int64_t id = 0;
        std::string platform_message_id;
    };
    virtual void mark_sent_many(const std::vector<SentMark>& marks) {
        for (const auto& m : marks) mark_sent(m.id, m.platform_message_id);
    }
    virtual void mark_retry(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) = 0;
    virtual void mark_failed(std::int64_t id, OutboxState final_state, std::string_view error) = 0;
    // Rows left in `sending` by a crash go back to pending (replies are at-least-once).
    virtual std::size_t recover_sending() = 0;
    // Messages recorded for a user (newest last), for the CLI simulator.
    virtual std::vector<OutboxItem> outbox_for_inbox(std::int64_t inbox_id) = 0;
    virtual std::size_t outbox_depth() = 0;
    virtual std::size_t inbox_depth() = 0;

    // --- retention -----------------------------------------------------------------------------
    // Deletes what is done with and older than before_ms (milliseconds since the epoch): inbox events
    // handled before it, events stored already handled and received before it, and outbox rows in a
    // final state (sent, failed, unreachable) created before it. Never deletes an event still to
    // handle, a reply still to send (pending, sending), nor the inbox event such a reply refers to,
    // however old; nor anything received within the store's dedup window (the cutoff is moved back to
    // its start if need be), since a redelivered event would then be taken as new and answered twice.
    // Works in transactions of at most batch_limit rows each (a webhook's commit never waits behind
    // one long delete), until nothing older is left or `stop` is requested (checked between batches:
    // a backlog of months after an upgrade must not hold up a shutdown). Not pure so that test fakes
    // need not implement it; the SQLite store does.
    virtual PruneResult prune_inbox(std::int64_t before_ms, std::size_t batch_limit, std::stop_token stop = {}) {
        (void)before_ms;
        (void)batch_limit;
        (void)stop;
        throw StoreError("prune_inbox: not supported by this store");
    }

    // --- users ---------------------------------------------------------------------------------
    virtual void mark_unreachable(Platform platform, std::string_view user_id, std::string_view reason) = 0;
    virtual std::vector<std::string> subscribers(Platform platform, std::string_view page_id) = 0;

    // --- platform tokens -----------------------------------------------------------------------
    virtual std::optional<TokenPair> load_token(std::string_view key) = 0;
    virtual void save_token(std::string_view key, const TokenPair& pair) = 0;

    // --- tip-offs ------------------------------------------------------------------------------
    virtual std::optional<TipoffRow> tipoff_by_code(std::string_view code) = 0;
    virtual std::vector<TipoffRow> list_tipoffs(const TipoffFilter& filter) = 0;
    virtual void change_tipoff_status(std::string_view code, const StatusChange& change) = 0;
    // Every forwarding attempt and its outcome.
    virtual void record_forward_attempt(std::string_view code, std::string_view channel, std::string_view target,
                                        bool ok, std::string_view detail, std::int64_t at_ms) = 0;
    // The attempts recorded for a tip-off, oldest first (unknown code: empty). Not pure so that
    // test fakes need not implement it; the SQLite store does.
    virtual std::vector<ForwardAttempt> forward_attempts(std::string_view code) {
        (void)code;
        throw StoreError("forward_attempts: not supported by this store");
    }

    // --- evidence ------------------------------------------------------------------------------
    // Not pure so that test fakes need not implement them; the SQLite store does.
    // Pending rows with next_attempt_ms <= now_ms, oldest due first. Meant for ONE downloader per
    // database (rows are not claimed).
    virtual std::vector<EvidenceRow> due_evidence(std::int64_t now_ms, std::size_t limit) {
        (void)now_ms;
        (void)limit;
        throw StoreError("due_evidence: not supported by this store");
    }
    // Each mark counts an attempt and needs a pending row (StoreError otherwise). Errors are capped;
    // the caller keeps secrets (URL query strings, tokens) out of them.
    virtual void mark_evidence_downloaded(std::int64_t id, std::string_view sha256, std::string_view path,
                                          std::int64_t bytes, std::string_view content_type, std::int64_t now_ms) {
        (void)id; (void)sha256; (void)path; (void)bytes; (void)content_type; (void)now_ms;
        throw StoreError("mark_evidence_downloaded: not supported by this store");
    }
    virtual void mark_evidence_retry(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error,
                                     std::int64_t now_ms) {
        (void)id; (void)next_attempt_ms; (void)error; (void)now_ms;
        throw StoreError("mark_evidence_retry: not supported by this store");
    }
    virtual void mark_evidence_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) {
        (void)id; (void)error; (void)now_ms;
        throw StoreError("mark_evidence_failed: not supported by this store");
    }
    // A tip-off's evidence rows by position (unknown code: empty).
    virtual std::vector<EvidenceRow> evidence_for(std::string_view code) {
        (void)code;
        throw StoreError("evidence_for: not supported by this store");
    }

    // --- status notices: the reporter is told when a tip-off's status changes -------------------
    // change_tipoff_status queues one (in the same transaction); the server takes them in order.
    virtual std::vector<StatusNotice> pending_status_notices(std::size_t limit) {
        (void)limit;
        return {};
    }
    virtual void take_status_notice(std::int64_t id, std::int64_t now_ms) {
        (void)id; (void)now_ms;
        throw StoreError("take_status_notice: not supported by this store");
    }

    // --- health --------------------------------------------------------------------------------
    [[nodiscard]] virtual bool writable() = 0;
};

struct SqliteOptions {
    std::string path;          // database file; parent folder created
    bool synchronous_full = true;  // fsync at every commit (group commit keeps it fast)
    int busy_timeout_ms = 5000;
    // Encryption at rest of what citizens wrote (inbox events, conversation state with unfinished
    // reports, outbox messages such as a report's summary): set by the runtime from the data key.
    // Unset (tests): stored as is. Values written sealed start with "PGT1:"; reading one without
    // `open_text`, or with the wrong key, throws StoreError.
    std::function<std::string(std::string_view)> seal_text;
    std::function<std::optional<std::string>(std::string_view)> open_text;
};
std::unique_ptr<Store> open_sqlite(const SqliteOptions& options);

}  // namespace pgibot::store
