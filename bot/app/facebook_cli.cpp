// `pgibot facebook setup-profile` and `pgibot facebook subscribe`: one-off page set-up through the
// Graph API, from the config (ids), the environment (tokens) and the content (texts, menu).
#include <iostream>

#include "bot/app/bootstrap.hpp"
#include "bot/app/commands.hpp"
#include "bot/channels/facebook/profile.hpp"
#include "bot/http/client.hpp"

namespace pgibot::app {
namespace {

constexpr std::size_t kIceBreakers = 4;  // Messenger shows at most 4

std::optional<channels::FacebookOptions> facebook_or_report(const Config& config) {
    const auto secrets = secrets_from_environment();
    auto options = facebook_options_from(config, secrets);
    bool ok = true;
    if (options.page_id.empty()) {
        std::cerr << "config error: " << config.file.string() << ": facebook.page_id is empty\n";
        ok = false;
    }
    if (options.page_token.empty()) {
        std::cerr << "environment variable PGIBOT_FACEBOOK_PAGE_TOKEN is not set\n";
        ok = false;
    }
    if (!ok) return std::nullopt;
    return options;
}

int report(const channels::facebook::GraphResult& r, std::string_view what) {
    for (const auto& p : r.problems) std::cerr << what << ": " << p << "\n";
    if (r.ok) {
        std::cout << what << ": ok" << (r.detail.empty() ? "" : ": " + r.detail) << "\n";
        return kExitOk;
    }
    std::cerr << what << " failed" << (r.http_status != 0 ? " (HTTP " + std::to_string(r.http_status) + ")" : "")
              << ": " << r.detail << "\n";
    return r.problems.empty() ? kExitFailure : kExitUsage;
}

}  // namespace

int run_facebook_setup_profile(const std::string& config_file) {
    auto config = load_config_or_report(config_file);
    if (!config) return kExitUsage;
    auto options = facebook_or_report(*config);
    if (!options) return kExitUsage;
    auto content = load_content_or_report(*config);
    if (!content) return kExitUsage;
    const auto& catalogue = *content->catalogue;

    channels::facebook::ProfileSettings settings;
    settings.greeting = catalogue.text("conv.profile_greeting");
    for (const auto& item : catalogue.main_menu) {
        settings.menu.push_back({item.title, item.payload});
        if (settings.ice_breakers.size() < kIceBreakers) settings.ice_breakers.push_back({item.title, item.payload});
    }
    http::CurlClient client;
    return report(channels::facebook::setup_profile(client, *options, settings), "facebook setup-profile");
}

int run_facebook_subscribe(const std::string& config_file) {
    auto config = load_config_or_report(config_file);
    if (!config) return kExitUsage;
    auto options = facebook_or_report(*config);
    if (!options) return kExitUsage;
    http::CurlClient client;
    return report(channels::facebook::subscribe_page(client, *options), "facebook subscribe");
}

}  // namespace pgibot::app
