#include "bot/store/sqlite/recent_keys.hpp"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace pgibot::store::sqlite {

namespace {
// The smallest table: 4 KiB, so that a quiet bot does not rebuild it every few keys.
constexpr std::size_t kMinCapacity = 1024;
}  // namespace

RecentKeys::Digest RecentKeys::digest(std::string_view key) {
    static_assert(sizeof(Digest) >= crypto_generichash_BYTES_MIN && sizeof(Digest) <= crypto_generichash_BYTES_MAX);
    std::array<unsigned char, sizeof(Digest)> out{};
    (void)crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                             nullptr, 0);  // fails only on misuse (sizes checked above)
    Digest digest{};
    std::memcpy(digest.data(), out.data(), out.size());
    return digest;
}

RecentKeys::RecentKeys(std::int64_t window_ms) : window_ms_(window_ms) {
    // Lets libsodium pick its fastest BLAKE2b for this CPU (once per process, thread-safe); the
    // portable one it starts with gives the same digests, so a failure here changes nothing.
    [[maybe_unused]] const int started = sodium_init();
}

bool RecentKeys::contains(const Digest& digest) const {
    if (slots_.empty()) return false;
    for (std::size_t i = home(digest);; i = (i + 1) & mask_) {
        const std::uint32_t slot = slots_[i];
        if (slot == kEmpty) return false;
        if (entries_[index_of(slot)].digest == digest) return true;
    }
}

void RecentKeys::add(const Digest& digest, std::int64_t at_ms) {
    // Keeps the live sequence numbers within kModulus of each other (see slot_for). Unreachable in
    // practice: four billion keys would need ~100 GB.
    if (entries_.size() >= kModulus - 1) pop_front();
    if ((entries_.size() + 1) * 2 > slots_.size()) rebuild(std::max(kMinCapacity, slots_.size() * 2));
    entries_.push_back(Entry{digest, at_ms});
    place(first_sequence_ + entries_.size() - 1);
}

void RecentKeys::prune(std::int64_t now_ms) {
    const std::int64_t cutoff = now_ms - window_ms_;
    while (!entries_.empty() && entries_.front().at_ms < cutoff) pop_front();
    // Gives the table back once a burst has aged out (add only ever grows it).
    if (slots_.size() > kMinCapacity && entries_.size() * 8 < slots_.size()) {
        rebuild(std::max(kMinCapacity, std::bit_ceil(entries_.size() * 4)));
    }
}

void RecentKeys::reserve(std::size_t count) {
    const std::size_t needed = std::bit_ceil((entries_.size() + count) * 2);
    if (needed > slots_.size()) rebuild(std::max(kMinCapacity, needed));
}

std::size_t RecentKeys::memory_bytes() const {
    return entries_.size() * sizeof(Entry) + slots_.capacity() * sizeof(std::uint32_t);
}

std::size_t RecentKeys::index_of(std::uint32_t slot) const {
    // slot - 1 is the entry's sequence number modulo kModulus; the front's is first_sequence_.
    const std::uint64_t first = first_sequence_ % kModulus;
    return static_cast<std::size_t>((std::uint64_t{slot} - 1 + kModulus - first) % kModulus);
}

void RecentKeys::place(std::uint64_t sequence) {
    std::size_t i = home(entries_[static_cast<std::size_t>(sequence - first_sequence_)].digest);
    while (slots_[i] != kEmpty) i = (i + 1) & mask_;
    slots_[i] = slot_for(sequence);
}

void RecentKeys::pop_front() {
    const std::uint32_t target = slot_for(first_sequence_);
    std::size_t hole = home(entries_.front().digest);
    while (slots_[hole] != target) hole = (hole + 1) & mask_;
    // Backward-shift deletion (Knuth, TAOCP 6.4, Algorithm R): the rest of the probe run moves up
    // into the hole where it may, so no lookup stops early at it and no tombstones pile up.
    for (std::size_t next = (hole + 1) & mask_; slots_[next] != kEmpty; next = (next + 1) & mask_) {
        const std::size_t want = home(entries_[index_of(slots_[next])].digest);
        // It must stay if its home lies cyclically in (hole, next]: moved to the hole, it would sit
        // before its home and a lookup from there would never reach it.
        const bool stays = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
        if (!stays) {
            slots_[hole] = slots_[next];
            hole = next;
        }
    }
    slots_[hole] = kEmpty;
    entries_.pop_front();
    ++first_sequence_;
}

void RecentKeys::rebuild(std::size_t capacity) {
    std::vector<std::uint32_t>(capacity, kEmpty).swap(slots_);  // exactly `capacity`, also when shrinking
    mask_ = capacity - 1;
    for (std::size_t i = 0; i < entries_.size(); ++i) place(first_sequence_ + i);
}

}  // namespace pgibot::store::sqlite
