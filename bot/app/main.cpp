// pgibot: one executable, subcommands. The command line is parsed here and nowhere else.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bot/app/commands.hpp"

int main(int argc, char** argv) {
    using namespace pgibot::app;
    CLI::App app{"pgibot: Lạng Sơn's environment chatbot backend (Facebook Messenger and Zalo OA)", "pgibot"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "pgibot 0.1.0");

    std::string config_file;
    auto add_config = [&config_file](CLI::App* cmd) {
        cmd->add_option("--config", config_file, "The TOML configuration file")->required()->check(CLI::ExistingFile);
    };

    auto* serve = app.add_subcommand("serve", "Run the webhook server");
    add_config(serve);

    auto* config = app.add_subcommand("config", "Configuration tools");
    config->require_subcommand(1);
    auto* config_check = config->add_subcommand("check", "Validate a configuration file");
    add_config(config_check);

    auto* content = app.add_subcommand("content", "Content tools");
    content->require_subcommand(1);
    auto* content_check = content->add_subcommand("check", "Validate every content file");
    add_config(content_check);

    AskOptions ask_options;
    auto* ask = app.add_subcommand("ask", "Send one message as a citizen and print the replies (JSON lines)");
    add_config(ask);
    ask->add_option("--user", ask_options.user, "The simulated citizen's id (state is kept per user)")->required();
    ask->add_option("--postback", ask_options.postback, "Send a button/menu payload instead of text");
    ask->add_option("--image", ask_options.images, "The citizen sends a photo at this URL (repeatable)");
    ask->add_option("--location", ask_options.location, "The citizen shares a location: LAT,LNG");
    ask->add_option("text", ask_options.text, "The message text");

    std::string chat_user = "terminal";
    auto* chat = app.add_subcommand("chat", "Chat with the bot in this terminal");
    add_config(chat);
    chat->add_option("--user", chat_user, "The simulated citizen's id");

    TipoffsOptions tip;
    auto* tipoffs = app.add_subcommand("tipoffs", "Read and process the pollution tip-off log");
    tipoffs->require_subcommand(1);
    auto* t_list = tipoffs->add_subcommand("list", "List tip-offs, newest first");
    add_config(t_list);
    t_list->add_option("--status", tip.status, "Only this status")
        ->check(CLI::IsMember({"received", "forwarded", "in_progress", "resolved", "rejected", "duplicate"}));
    t_list->add_option("--since", tip.since, "Only tip-offs filed on or after this date (YYYY-MM-DD)");
    t_list->add_option("--format", tip.format, "table | json | csv")->check(CLI::IsMember({"table", "json", "csv"}));
    auto* t_show = tipoffs->add_subcommand("show", "Show one tip-off with its history");
    add_config(t_show);
    t_show->add_option("code", tip.code, "Reference code, e.g. LS-2611-0042")->required();
    t_show->add_option("--format", tip.format, "text | json")->check(CLI::IsMember({"text", "json"}));
    t_show->add_flag("--reveal", tip.reveal, "Decrypt the reporter's identity (operators with permission only)");
    auto* t_export = tipoffs->add_subcommand("export", "Export every tip-off");
    add_config(t_export);
    t_export->add_option("--format", tip.format, "csv")->required()->check(CLI::IsMember({"csv"}));
    auto* t_status = tipoffs->add_subcommand("set-status", "Change a tip-off's status (the reporter is told)");
    add_config(t_status);
    t_status->add_option("code", tip.code, "Reference code")->required();
    t_status->add_option("status", tip.new_status, "New status")
        ->required()
        ->check(CLI::IsMember({"received", "forwarded", "in_progress", "resolved", "rejected", "duplicate"}));
    t_status->add_option("--note", tip.note, "A note for the history (shown to the reporter)");
    t_status->add_option("--by", tip.by, "Who changes it")->required();

    auto* facebook = app.add_subcommand("facebook", "Facebook page set-up");
    facebook->require_subcommand(1);
    auto* fb_profile = facebook->add_subcommand("setup-profile", "Set Get Started, greeting, ice breakers, menu");
    add_config(fb_profile);
    auto* fb_subscribe = facebook->add_subcommand("subscribe", "Subscribe the page to the webhook fields");
    add_config(fb_subscribe);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints the message
        return kExitUsage;
    }

    if (*serve) return run_serve(config_file);
    if (*config_check) return run_config_check(config_file);
    if (*content_check) return run_content_check(config_file);
    if (*ask) {
        ask_options.config_file = config_file;
        return run_ask(ask_options);
    }
    if (*chat) return run_chat(config_file, chat_user);
    tip.config_file = config_file;
    if (*t_list) return run_tipoffs_list(tip);
    if (*t_show) return run_tipoffs_show(tip);
    if (*t_export) return run_tipoffs_export(tip);
    if (*t_status) return run_tipoffs_set_status(tip);
    if (*fb_profile) return run_facebook_setup_profile(config_file);
    if (*fb_subscribe) return run_facebook_subscribe(config_file);
    std::cerr << app.help();
    return kExitUsage;
}
