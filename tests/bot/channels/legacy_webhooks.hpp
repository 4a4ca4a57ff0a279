#pragma once
// The webhook parsers as they were before the port to Boost.JSON (nlohmann::json), for the parity
// tests only: see legacy_webhooks.cpp.
#include <string_view>

#include "bot/channels/channel.hpp"

namespace pgibot::channels::legacy {
namespace facebook {
IngestResult parse_webhook(std::string_view raw_body, std::string_view our_app_id);
}
namespace zalo {
IngestResult ingest_webhook(std::string_view raw_body, std::string_view signature_header, std::string_view app_id,
                            std::string_view oa_secret_key);
}
}  // namespace pgibot::channels::legacy
