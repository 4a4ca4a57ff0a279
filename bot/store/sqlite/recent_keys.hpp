#pragma once
// The dedup keys of the inbox events received lately, in memory: how the SQLite store drops a webhook
// event it has already committed. A UNIQUE index on inbox.dedup_key did this before (schema 0001), but
// the keys are random, so every new event landed on a random leaf page of that index and a group
// commit of 64 events wrote ~64 scattered pages; with this index in memory an insert is an append.
//
// One process inserts into a given database's inbox: `pgibot serve`, through its Committer. The CLI
// commands (ask, chat, tipoffs, ...) never insert inbox rows. A second process inserting into the
// same inbox would not see this process's keys, and each would accept the other's duplicates (events
// handled, and answered, twice). `serve` takes an flock on "<database>.serve-lock" to refuse a second
// server on the same file (bot/app/bootstrap: ServeLock).
//
// Not thread-safe: the store guards it with its own mutex.
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

namespace pgibot::store::sqlite {

// How long a key is remembered. Facebook retries a failed delivery for at most 36 hours
// (/work/shared/reference/facebook.md §2.3: Graph webhooks give up after 36 h, Messenger disables the
// app after 1 h of failures); Zalo documents no retries. A week leaves room for a long outage of
// ours followed by a redelivery, and for a platform replaying an old batch.
inline constexpr std::int64_t kDedupWindowMs = std::int64_t{7} * 24 * 60 * 60 * 1000;

class RecentKeys {
public:
    // 128 bits of BLAKE2b (libsodium's crypto_generichash) of the key. Collisions are negligible: the
    // chance that any two of n keys share a digest is about n^2 / 2^129, ~1e-25 for ten million keys.
    // So a new event is never mistaken for a duplicate in practice, and 16 bytes stand for a key of
    // any length.
    using Digest = std::array<std::uint64_t, 2>;
    static Digest digest(std::string_view key);

    explicit RecentKeys(std::int64_t window_ms = kDedupWindowMs);

    [[nodiscard]] bool contains(const Digest& digest) const;
    // Remembers a key received at `at_ms`. Keys are added in the order they were received, so the
    // oldest is at the front (see prune). The caller adds only keys it does not hold already (a key
    // added twice is held twice, harmlessly).
    void add(const Digest& digest, std::int64_t at_ms);
    // Forgets the keys received before now_ms - window, from the front. Times are the wall clock's,
    // like inbox.received_ms: a clock that jumps forward shortens the window by the jump, one that
    // goes back lengthens it, and an entry stamped earlier than the one before it just waits its turn.
    void prune(std::int64_t now_ms);
    // Room for `count` more keys without growing the table on the way (start-up load).
    void reserve(std::size_t count);

    [[nodiscard]] std::int64_t window_ms() const { return window_ms_; }
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    // Bytes held by the entries and the table (allocator overhead aside): ~32-40 per key.
    [[nodiscard]] std::size_t memory_bytes() const;

private:
    // 24 bytes, in a deque: it grows and frees in blocks at either end, never copying the whole.
    struct Entry {
        Digest digest;
        std::int64_t at_ms;
    };

    // The table: open addressing with linear probing over the digest's low bits (already uniform).
    // A slot holds the entry's sequence number modulo kModulus, plus one; 0 is an empty slot. Four
    // bytes a slot instead of eight: the live sequence numbers span fewer than kModulus values (see
    // add), so the number in a slot names exactly one entry.
    static constexpr std::uint64_t kModulus = 0xFFFFFFFFULL;
    static constexpr std::uint32_t kEmpty = 0;

    [[nodiscard]] std::size_t home(const Digest& digest) const { return digest[0] & mask_; }
    [[nodiscard]] std::size_t index_of(std::uint32_t slot) const;
    [[nodiscard]] std::uint32_t slot_for(std::uint64_t sequence) const {
        return static_cast<std::uint32_t>(sequence % kModulus) + 1;
    }
    void place(std::uint64_t sequence);
    void pop_front();
    void rebuild(std::size_t capacity);

    std::int64_t window_ms_;
    std::deque<Entry> entries_;
    std::uint64_t first_sequence_ = 0;  // of entries_.front(); every add takes the next number
    std::vector<std::uint32_t> slots_;  // power-of-two size, at most half full
    std::size_t mask_ = 0;
};

}  // namespace pgibot::store::sqlite
