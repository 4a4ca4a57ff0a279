#pragma once
#include <string>

namespace pgibot::channels {

// Zalo OA settings. Secrets are passed in by the caller (read from the environment by the app) and
// never logged.
struct ZaloOptions {
    std::string app_id;
    std::string api_base = "https://openapi.zalo.me";
    std::string oauth_base = "https://oauth.zaloapp.com";
    std::string oa_secret_key;  // secret: webhook X-ZEvent-Signature (the OA Secret Key, not the App Secret)
    std::string app_secret;     // secret: `secret_key` header of the OAuth token endpoint
};

}  // namespace pgibot::channels
