#pragma once
// Set-up helpers for the CLI: `pgibot facebook setup-profile` (Get Started, greeting, ice breakers
// and persistent menu through the Messenger Profile API), `pgibot facebook subscribe` (subscribe the
// page to the webhook fields the bot needs) and the periodic subscription check that reports a lost
// subscription (Meta unsubscribes an app after an hour of failed deliveries). Plain inputs, a
// Client, a clear result. See reference/facebook.md §1, §2.3, §7; payloads §12.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bot/channels/facebook/facebook_channel.hpp"
#include "bot/http/client.hpp"

namespace pgibot::channels::facebook {

inline constexpr std::size_t kMaxGreetingChars = 160;
inline constexpr std::size_t kMaxIceBreakers = 4;
inline constexpr std::size_t kMaxMenuItems = 20;         // flat: nested menus were removed in v8.0
inline constexpr std::size_t kMaxMenuTitleChars = 20;    // postback button title
inline constexpr std::string_view kSubscribedFields =
    "messages,messaging_postbacks,message_echoes,message_deliveries,message_reads,messaging_referrals,"
    "messaging_optins,message_reactions,feed";

struct MenuItem {  // a persistent-menu postback button
    std::string title;
    std::string payload;
};

struct IceBreaker {
    std::string question;
    std::string payload;
};

struct ProfileSettings {
    std::string get_started_payload = "GET_STARTED";  // required: the persistent menu needs Get Started
    std::string greeting;                             // default locale; empty: not set
    std::vector<IceBreaker> ice_breakers;             // empty: not set
    std::vector<MenuItem> menu;                       // empty: not set
    bool composer_input_disabled = false;
};

struct GraphResult {
    bool ok = false;
    int http_status = 0;      // 0: not sent (invalid input) or transport error
    std::string detail;       // what went wrong, or what was done; never a token
    std::vector<std::string> problems;  // input validation problems, when nothing was sent
};

// Problems with the settings against the documented limits; empty when valid.
std::vector<std::string> validate_profile(const ProfileSettings& settings);
// The POST /me/messenger_profile body.
std::string render_profile(const ProfileSettings& settings);
// Validates, then POST {graph_api_base}/me/messenger_profile?access_token=<page token>.
GraphResult setup_profile(http::Client& client, const FacebookOptions& options, const ProfileSettings& settings);

// POST {graph_api_base}/{page_id}/subscribed_apps?subscribed_fields=<kSubscribedFields>.
GraphResult subscribe_page(http::Client& client, const FacebookOptions& options);

struct SubscriptionStatus {
    bool checked = false;     // the GET succeeded and was understood
    bool subscribed = false;  // our app is installed with every field of kSubscribedFields
    std::vector<std::string> missing_fields;  // our app is installed but lacks these
    std::string detail;
};
// GET {graph_api_base}/{page_id}/subscribed_apps: is our app_id there, with every needed field?
SubscriptionStatus check_subscription(http::Client& client, const FacebookOptions& options);

}  // namespace pgibot::channels::facebook
