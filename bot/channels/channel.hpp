#pragma once
// What the runtime needs from a messaging platform: turn a signed webhook into events, and turn a
// handler's OutMessage into send requests, send them and say what happened. Platform error codes
// are mapped here (in each channel), never in the pipeline.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/http/server.hpp"
#include "handlers/model/event.hpp"
#include "handlers/model/reply.hpp"

namespace pgibot::channels {

enum class IngestStatus { ok, bad_signature, malformed, disabled };

struct IngestResult {
    IngestStatus status = IngestStatus::ok;
    std::string detail;         // for logs only, never sent to the caller
    std::vector<Event> events;  // every entry / every item, in delivery order
};

enum class SendOutcome {
    sent,         // accepted by the platform
    retry,        // transient: network error, 5xx, rate limit: try again later
    unreachable,  // blocked / outside the messaging window / not a follower: mark the user, do not retry
    auth,         // token invalid or expired (Zalo: refresh then retry once; Facebook: alert)
    failed        // permanent: bad request, policy: record, do not retry
};
std::string_view to_string(SendOutcome o);

struct SendResult {
    SendOutcome outcome = SendOutcome::failed;
    std::string detail;           // platform code and message, for the outbox record and logs
    std::optional<std::chrono::milliseconds> retry_after;  // when the platform said how long to wait
    std::string platform_message_id;
};

class Channel {
public:
    virtual ~Channel() = default;
    [[nodiscard]] virtual Platform platform() const = 0;
    [[nodiscard]] virtual bool enabled() const = 0;
    // Verify the signature over the exact raw body, then parse. Never throws.
    [[nodiscard]] virtual IngestResult ingest(const http::Request& request) const = 0;
    // The request bodies (one per platform call) that deliver `message` to `user_id`; long text is
    // split at sentence boundaries, quick replies capped. Stored in the outbox as they are.
    [[nodiscard]] virtual std::vector<std::string> render(const OutMessage& message, std::string_view user_id) const = 0;
    // Sends one rendered body. Blocking (sender threads only).
    virtual SendResult send(std::string_view body) = 0;
};

}  // namespace pgibot::channels
