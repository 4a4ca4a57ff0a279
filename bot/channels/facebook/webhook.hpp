#pragma once
// Facebook webhooks: the GET verification handshake, the X-Hub-Signature-256 check over the raw
// body, and the parse of a verified `object: "page"` body into events (every entry, every item of
// messaging[], standby[] and changes[]). See reference/facebook.md §1–3, payloads §1–10, §13.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "bot/channels/channel.hpp"
#include "bot/channels/common.hpp"

namespace pgibot::channels::facebook {

using QueryMap = std::map<std::string, std::string, std::less<>>;

// `hub.challenge` when hub.mode is "subscribe" and hub.verify_token equals `verify_token`
// (constant time); nullopt otherwise (answer 403). An empty configured token never matches.
std::optional<std::string> verify_handshake(const QueryMap& query, std::string_view verify_token);

// `header_value` is the X-Hub-Signature-256 value, "sha256=<hex>" (hex case-insensitive). False
// when the header or the secret is empty or the digest differs (compared in constant time).
bool verify_signature(std::string_view app_secret, std::string_view raw_body, std::string_view header_value);
// The same with the app secret's HMAC prepared once (what the channel does for every webhook).
bool verify_signature(const HmacSha256& app_secret_mac, std::string_view raw_body, std::string_view header_value);

// Parses an already verified body. `our_app_id` tells the bot's own echoes from a human's.
// Envelope problems (not JSON, object != "page", entry not an array) give `malformed`; an item of
// an unusable shape is skipped and counted in `detail`, so one odd item never costs the others.
IngestResult parse_webhook(std::string_view raw_body, std::string_view our_app_id);

}  // namespace pgibot::channels::facebook
