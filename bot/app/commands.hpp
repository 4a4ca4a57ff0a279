#pragma once
// The subcommands of the `pgibot` executable. Each returns the process exit code:
// 0 success, 1 a runtime failure, 2 bad usage or a configuration/content error.
#include <optional>
#include <string>
#include <vector>

namespace pgibot::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_serve(const std::string& config_file);
int run_config_check(const std::string& config_file);
int run_content_check(const std::string& config_file);

struct AskOptions {
    std::string config_file;
    std::string user;
    std::string postback;
    std::vector<std::string> images;
    std::string location;  // "LAT,LNG"
    std::string text;
};
int run_ask(const AskOptions& options);
int run_chat(const std::string& config_file, const std::string& user);

struct TipoffsOptions {
    std::string config_file;
    std::string status;
    std::string since;   // YYYY-MM-DD
    std::string format;  // table | json | csv | text
    std::string code;
    std::string new_status;
    std::string note;
    std::string by;
    bool reveal = false;
};
int run_tipoffs_list(const TipoffsOptions& options);
int run_tipoffs_show(const TipoffsOptions& options);
int run_tipoffs_export(const TipoffsOptions& options);
int run_tipoffs_set_status(const TipoffsOptions& options);

int run_facebook_setup_profile(const std::string& config_file);
int run_facebook_subscribe(const std::string& config_file);

}  // namespace pgibot::app
