#pragma once
// The local chat simulator behind /chat: a "platform" whose webhook is the page's POST and whose
// send API is an in-memory mailbox the page polls. It goes through exactly the same committer,
// handlers, outbox and sender as Facebook and Zalo. On in the default config, off in production.
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "bot/channels/channel.hpp"

namespace pgibot::channels {

class WebChannel final : public Channel {
public:
    [[nodiscard]] Platform platform() const override { return Platform::web; }
    [[nodiscard]] bool enabled() const override { return true; }
    // Body: {"user":"<id>","text":"...","payload":"..."}; no signature (loopback simulator only).
    [[nodiscard]] IngestResult ingest(const http::Request& request) const override;
    [[nodiscard]] std::vector<std::string> render(const OutMessage& message, std::string_view user_id) const override;
    SendResult send(std::string_view body) override;

    // Messages for `user` with id > after, as a JSON document {"messages":[...],"last":N}.
    [[nodiscard]] std::string poll(std::string_view user, std::int64_t after) const;

    // The page itself.
    static std::string_view page_html();

private:
    struct Stored {
        std::int64_t id;
        std::string message_json;
    };
    mutable std::mutex mutex_;
    std::map<std::string, std::deque<Stored>, std::less<>> mailboxes_;
    std::int64_t next_id_ = 1;
};

}  // namespace pgibot::channels
