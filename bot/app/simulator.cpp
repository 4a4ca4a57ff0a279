// `pgibot ask` and `pgibot chat`: a citizen's message through exactly the handlers and storage a
// webhook would use, without Facebook or Zalo. Also `config check` and `content check`.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "bot/app/bootstrap.hpp"
#include "bot/app/commands.hpp"
#include "bot/pipeline/processor.hpp"
#include "bot/pipeline/store_lookups.hpp"
#include "bot/http/client.hpp"
#include "bot/tipoffs/evidence.hpp"
#include "bot/tipoffs/vault.hpp"

namespace pgibot::app {

int run_config_check(const std::string& config_file) {
    auto config = load_config_or_report(config_file);
    if (!config) return kExitUsage;
    std::cout << "config ok: " << config->file.string() << "\n";
    for (const auto& name : missing_secrets(*config, secrets_from_environment())) {
        std::cout << "note: environment variable " << name << " is not set (needed to serve)\n";
    }
    return kExitOk;
}

int run_content_check(const std::string& config_file) {
    auto config = load_config_or_report(config_file);
    if (!config) return kExitUsage;
    auto content = load_content_or_report(*config);
    if (!content) return kExitUsage;
    std::cout << "content ok: " << content->catalogue->topics.size() << " topics in "
              << config->content_dir.string() << "\n";
    return kExitOk;
}

namespace {

std::optional<Location> parse_location(const std::string& text) {
    const auto comma = text.find(',');
    if (comma == std::string::npos) return std::nullopt;
    try {
        std::size_t used = 0;
        const std::string lat_text = text.substr(0, comma);
        const std::string lng_text = text.substr(comma + 1);
        const double lat = std::stod(lat_text, &used);
        if (used != lat_text.size()) return std::nullopt;
        const double lng = std::stod(lng_text, &used);
        if (used != lng_text.size()) return std::nullopt;
        if (lat < -90 || lat > 90 || lng < -180 || lng > 180) return std::nullopt;
        return Location{lat, lng};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// The contract scripts rely on: one JSON object per reply.
std::string reply_line(const OutMessage& m) {
    nlohmann::json j;
    j["text"] = m.text;
    j["quick_replies"] = nlohmann::json::array();
    for (const auto& q : m.quick_replies) j["quick_replies"].push_back({{"title", q.title}, {"payload", q.payload}});
    j["topic"] = m.topic ? nlohmann::json(*m.topic) : nlohmann::json(nullptr);
    if (!m.comment_id.empty()) j["comment_id"] = m.comment_id;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}


struct Simulator {
    Config config;
    // On the heap: the store's sealer, `lookups` and the tip-off preparer keep its address, and open()
    // returns the Simulator by moving it (a moved IdentityVault is zeroed, and the local one destroyed).
    // Declared before the store, so it outlives it.
    std::unique_ptr<tipoffs::IdentityVault> vault;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<pipeline::ContentHolder> content;
    std::unique_ptr<pipeline::StoreLookups> lookups;
    std::unique_ptr<pipeline::Processor> processor;

    static std::optional<Simulator> open(const std::string& config_file) {
        Simulator s;
        auto config = load_config_or_report(config_file);
        if (!config) return std::nullopt;
        s.config = std::move(*config);
        auto content = load_content_or_report(s.config);
        if (!content) return std::nullopt;
        auto vault = open_vault_or_report(s.config);
        if (!vault) return std::nullopt;
        s.vault = std::make_unique<tipoffs::IdentityVault>(std::move(*vault));
        s.store = open_store_or_report(s.config, s.vault.get());
        if (!s.store) return std::nullopt;
        s.content = std::make_unique<pipeline::ContentHolder>(std::move(content));
        s.lookups = std::make_unique<pipeline::StoreLookups>(*s.store, *s.vault);
        const tipoffs::IdentityVault* vault_ptr = s.vault.get();
        s.processor = std::make_unique<pipeline::Processor>(
            *s.store, *s.content, handler_settings(s.config), s.lookups.get(),
            [vault_ptr](const tipoff::Report& r, std::int64_t now) { return tipoffs::prepare_tipoff(r, *vault_ptr, now); });
        return s;
    }

    std::vector<OutMessage> send(Event e) {
        e.platform = Platform::cli;
        e.page_id = "cli";
        e.timestamp_ms = wall_ms();
        e.dedup_key = "cli:" + e.user_id + ":" + std::to_string(e.timestamp_ms) + ":" + std::to_string(::getpid());
        auto outcome = processor->process(e, 0, "cli-" + std::to_string(::getpid()), e.timestamp_ms);
        if (!outcome.tipoff_codes.empty()) {
            // As the server does: evidence links expire, so a filed report's media is fetched now.
            http::CurlClient client;
            tipoffs::EvidenceFetcher fetcher(*store, client, evidence_options(config));
            fetcher.run_due(wall_ms());
        }
        return outcome.replies;
    }
};

}  // namespace

int run_ask(const AskOptions& o) {
    Event e;
    e.user_id = o.user;
    e.text = o.text;
    if (!o.postback.empty()) {
        e.kind = EventKind::postback;
        e.payload = o.postback;
        e.source_type = "cli.postback";
    } else {
        e.kind = EventKind::message;
        e.source_type = "cli.message";
    }
    for (const auto& url : o.images) e.attachments.push_back(Attachment{AttachmentType::image, url, {}, {}, {}});
    if (!o.location.empty()) {
        auto loc = parse_location(o.location);
        if (!loc) {
            std::cerr << "--location: expected LAT,LNG in degrees, e.g. 21.85,106.76; got \"" << o.location << "\"\n";
            return kExitUsage;
        }
        e.location = loc;
        e.attachments.push_back(Attachment{AttachmentType::location, {}, {}, {}, loc});
    }
    if (e.text.empty() && e.payload.empty() && e.attachments.empty()) {
        std::cerr << "ask: give a TEXT, --postback, --image or --location\n";
        return kExitUsage;
    }
    auto sim = Simulator::open(o.config_file);
    if (!sim) return kExitUsage;
    try {
        for (const auto& reply : sim->send(std::move(e))) std::cout << reply_line(reply) << "\n";
    } catch (const std::exception& ex) {
        std::cerr << "ask failed: " << ex.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

int run_chat(const std::string& config_file, const std::string& user) {
    auto sim = Simulator::open(config_file);
    if (!sim) return kExitUsage;
    std::cout << "pgibot chat: type a message; a number picks a button; empty line or Ctrl-D quits.\n";
    std::vector<QuickReply> buttons;
    auto show = [&buttons](const std::vector<OutMessage>& replies) {
        buttons.clear();
        for (const auto& r : replies) {
            std::cout << "\nbot> " << r.text << "\n";
            for (const auto& q : r.quick_replies) {
                buttons.push_back(q);
                std::cout << "  [" << buttons.size() << "] " << q.title << "\n";
            }
        }
    };
    std::string line;
    while (std::cout << "\nyou> " << std::flush, std::getline(std::cin, line)) {
        if (line.empty()) break;
        Event e;
        e.user_id = user;
        char* end = nullptr;
        const long pick = std::strtol(line.c_str(), &end, 10);
        if (end != nullptr && *end == '\0' && pick >= 1 && static_cast<std::size_t>(pick) <= buttons.size()) {
            e.kind = EventKind::postback;
            e.payload = buttons[static_cast<std::size_t>(pick) - 1].payload;
            e.source_type = "cli.postback";
        } else {
            e.kind = EventKind::message;
            e.text = line;
            e.source_type = "cli.message";
        }
        try {
            show(sim->send(std::move(e)));
        } catch (const std::exception& ex) {
            std::cerr << "error: " << ex.what() << "\n";
            return kExitFailure;
        }
    }
    return kExitOk;
}

}  // namespace pgibot::app
