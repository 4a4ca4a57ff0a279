#pragma once
// Zalo OA webhooks: the X-ZEvent-Signature check and the parse of a verified body into an event.
// mac = sha256(app_id + raw body + body's "timestamp" + OA secret key): plain SHA-256, not HMAC,
// and the OA Secret Key, not the App Secret. See reference/zalo.md §1–2, payloads §A.
#include <string>
#include <string_view>

#include "bot/channels/channel.hpp"

namespace pgibot::channels::zalo {

// The expected header value "mac=<64 lower-case hex>".
std::string compute_signature(std::string_view app_id, std::string_view raw_body, std::string_view timestamp,
                              std::string_view oa_secret_key);
// `header_value` may carry the "mac=" prefix or not; hex case is ignored; constant-time compare.
bool verify_signature(std::string_view app_id, std::string_view raw_body, std::string_view timestamp,
                      std::string_view oa_secret_key, std::string_view header_value);

// The whole ingest minus the channel: reads `timestamp` from the body (non-throwing parse), verifies
// the signature over the raw bytes, checks the body's app_id, then parses the event.
IngestResult ingest_webhook(std::string_view raw_body, std::string_view signature_header, std::string_view app_id,
                            std::string_view oa_secret_key);

// Payload prefix for quick replies rendered as `oa.query.hide` buttons: a tap comes back as the text
// of a user_send_text event; the parser turns "#<payload>" text back into Event::payload.
inline constexpr std::string_view kQueryPrefix = "#";

}  // namespace pgibot::channels::zalo
