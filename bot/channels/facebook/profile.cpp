#include "bot/channels/facebook/profile.hpp"

#include <algorithm>

#include "bot/channels/common.hpp"

namespace pgibot::channels::facebook {

namespace {

std::string base_of(const FacebookOptions& options) {
    std::string base = options.graph_api_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
}

std::string token_param(const FacebookOptions& options) { return "access_token=" + percent_encode(options.page_token); }

// "http 400 code=100 subcode=... fbtrace_id=... message=..." for a failed Graph call.
std::string describe_failure(const http::ClientResponse& response, const FacebookOptions& options) {
    if (response.transport_failed()) return redact("transport error: " + response.error, {options.page_token});
    std::string detail = "http " + std::to_string(response.status);
    const Json doc = Json::parse(response.body, nullptr, false);
    const Json* error = doc.is_discarded() ? nullptr : member(doc, "error");
    if (error != nullptr && error->is_object()) {
        if (const auto code = int64_of(member(*error, "code"))) detail += " code=" + std::to_string(*code);
        if (const auto sub = int64_of(member(*error, "error_subcode"))) detail += " subcode=" + std::to_string(*sub);
        if (const auto trace = string_of(member(*error, "fbtrace_id")); !trace.empty())
            detail += " fbtrace_id=" + trace;
        if (const auto msg = string_of(member(*error, "message")); !msg.empty()) detail += " message=" + msg;
    } else if (!response.body.empty()) {
        detail += " body=" + utf8_truncate(response.body, 300);
    }
    return redact(std::move(detail), {options.page_token});
}

// subscribed_apps answers {"success":"true"} (or true); messenger_profile {"result":"success"}.
bool success_of(const Json& doc) {
    const Json* success = member(doc, "success");
    return is_true(success) || string_of(success) == "true" || string_of(member(doc, "result")) == "success";
}

GraphResult post_graph(http::Client& client, const FacebookOptions& options, std::string url, std::string body) {
    GraphResult result;
    if (options.page_token.empty()) {
        result.detail = "no page access token";
        return result;
    }
    http::ClientRequest request;
    request.method = "POST";
    request.url = std::move(url);
    if (!body.empty()) request.headers = {{"Content-Type", "application/json"}};
    request.body = std::move(body);
    const auto response = client.send(request);
    result.http_status = response.status;
    const Json doc = Json::parse(response.body, nullptr, false);
    const bool ok_status = response.status >= 200 && response.status < 300;
    if (ok_status && !doc.is_discarded() && success_of(doc)) {
        result.ok = true;
        result.detail = "http " + std::to_string(response.status) + " success";
        return result;
    }
    result.detail = describe_failure(response, options);
    return result;
}

}  // namespace

std::vector<std::string> validate_profile(const ProfileSettings& settings) {
    std::vector<std::string> problems;
    if (settings.get_started_payload.empty()) problems.emplace_back("the Get Started payload is empty");
    if (utf8_length(settings.get_started_payload) > kMaxPayloadChars) {
        problems.emplace_back("the Get Started payload is longer than 1000 characters");
    }
    if (utf8_length(settings.greeting) > kMaxGreetingChars) {
        problems.push_back("the greeting has " + std::to_string(utf8_length(settings.greeting)) +
                           " characters; at most " + std::to_string(kMaxGreetingChars));
    }
    if (settings.ice_breakers.size() > kMaxIceBreakers) {
        problems.push_back(std::to_string(settings.ice_breakers.size()) + " ice breakers; at most " +
                           std::to_string(kMaxIceBreakers));
    }
    for (const auto& ib : settings.ice_breakers) {
        if (ib.question.empty() || ib.payload.empty())
            problems.emplace_back("an ice breaker has an empty question or payload");
        if (utf8_length(ib.payload) > kMaxPayloadChars) {
            problems.push_back("ice breaker \"" + ib.question + "\": payload longer than 1000 characters");
        }
    }
    if (settings.menu.size() > kMaxMenuItems) {
        problems.push_back(std::to_string(settings.menu.size()) + " menu items; at most " +
                           std::to_string(kMaxMenuItems));
    }
    for (const auto& item : settings.menu) {
        if (item.title.empty() || item.payload.empty())
            problems.emplace_back("a menu item has an empty title or payload");
        if (utf8_length(item.title) > kMaxMenuTitleChars) {
            problems.push_back("menu title \"" + item.title + "\" is longer than " +
                               std::to_string(kMaxMenuTitleChars) + " characters");
        }
        if (utf8_length(item.payload) > kMaxPayloadChars) {
            problems.push_back("menu item \"" + item.title + "\": payload longer than 1000 characters");
        }
    }
    return problems;
}

std::string render_profile(const ProfileSettings& settings) {
    Json body = {{"get_started", {{"payload", settings.get_started_payload}}}};
    if (!settings.greeting.empty()) {
        body["greeting"] = Json::array({{{"locale", "default"}, {"text", settings.greeting}}});
    }
    if (!settings.ice_breakers.empty()) {
        Json actions = Json::array();
        for (const auto& ib : settings.ice_breakers)
            actions.push_back({{"question", ib.question}, {"payload", ib.payload}});
        body["ice_breakers"] = Json::array({{{"locale", "default"}, {"call_to_actions", std::move(actions)}}});
    }
    if (!settings.menu.empty()) {
        Json actions = Json::array();
        for (const auto& item : settings.menu) {
            actions.push_back({{"type", "postback"}, {"title", item.title}, {"payload", item.payload}});
        }
        body["persistent_menu"] = Json::array({{{"locale", "default"},
                                                {"composer_input_disabled", settings.composer_input_disabled},
                                                {"call_to_actions", std::move(actions)}}});
    }
    return dump_json(body);
}

GraphResult setup_profile(http::Client& client, const FacebookOptions& options, const ProfileSettings& settings) {
    if (auto problems = validate_profile(settings); !problems.empty()) {
        GraphResult result;
        result.detail = "invalid profile settings; nothing was sent";
        result.problems = std::move(problems);
        return result;
    }
    return post_graph(client, options, base_of(options) + "/me/messenger_profile?" + token_param(options),
                      render_profile(settings));
}

GraphResult subscribe_page(http::Client& client, const FacebookOptions& options) {
    if (options.page_id.empty()) return GraphResult{false, 0, "no page id", {}};
    const std::string url = base_of(options) + "/" + options.page_id + "/subscribed_apps?subscribed_fields=" +
                            percent_encode(kSubscribedFields) + "&" + token_param(options);
    auto result = post_graph(client, options, url, {});
    if (result.ok) result.detail += "; subscribed fields: " + std::string(kSubscribedFields);
    return result;
}

SubscriptionStatus check_subscription(http::Client& client, const FacebookOptions& options) {
    SubscriptionStatus status;
    if (options.page_id.empty() || options.page_token.empty() || options.app_id.empty()) {
        status.detail = "page id, app id or page token missing";
        return status;
    }
    http::ClientRequest request;
    request.method = "GET";
    request.url = base_of(options) + "/" + options.page_id + "/subscribed_apps?" + token_param(options);
    const auto response = client.send(request);
    const Json doc = Json::parse(response.body, nullptr, false);
    const Json* data = doc.is_discarded() ? nullptr : member(doc, "data");
    if (response.status < 200 || response.status >= 300 || data == nullptr || !data->is_array()) {
        status.detail = describe_failure(response, options);
        return status;
    }
    status.checked = true;
    for (const auto& app : *data) {
        if (id_of(member(app, "id")) != options.app_id) continue;
        std::vector<std::string> have;
        if (const Json* fields = member(app, "subscribed_fields"); fields != nullptr && fields->is_array()) {
            for (const auto& f : *fields) {
                std::string name = string_of(&f);
                if (name.empty()) name = string_of(member(f, "name"));
                if (!name.empty()) have.push_back(std::move(name));
            }
        }
        std::string_view wanted = kSubscribedFields;
        while (!wanted.empty()) {
            const auto comma = wanted.find(',');
            const std::string field(wanted.substr(0, comma));
            wanted = comma == std::string_view::npos ? std::string_view() : wanted.substr(comma + 1);
            if (std::find(have.begin(), have.end(), field) == have.end()) status.missing_fields.push_back(field);
        }
        status.subscribed = status.missing_fields.empty();
        status.detail = status.subscribed ? "subscribed" : "subscribed, but fields are missing";
        for (const auto& f : status.missing_fields)
            status.detail += (&f == &status.missing_fields.front() ? ": " : ", ") + f;
        return status;
    }
    status.detail = "the app is not subscribed to the page (webhooks stop; run `pgibot facebook subscribe`)";
    return status;
}

}  // namespace pgibot::channels::facebook
