#pragma once
// The curated content catalogue, loaded from the data files under messages/content/ (TOML).
// Format: messages/README.md. Nothing here knows the runtime.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot::messages {

struct Topic {
    std::string id;            // "pgi.what"
    std::string category;      // menu group id: "pgi", "law", "waste", "fines", "disaster", "report", "green", "about"
    std::string title;         // full title
    std::string short_title;   // <= 20 characters: used as a quick-reply title
    std::vector<std::string> questions;  // >= 5 example questions, as citizens type them
    std::vector<std::string> keywords;   // keywords and synonyms
    std::vector<std::string> answer;     // bubbles, each within the platforms' limits
    std::vector<std::string> follow_ups; // topic ids offered as quick replies after the answer
    std::string source;        // legal or official source
    std::string checked;       // YYYY-MM-DD the facts were last checked
    std::string file;          // where it was defined
    int line = 0;
};

struct MenuItem {
    std::string title;    // <= 20 characters
    std::string payload;  // "MENU:<category>", "TOPIC:<id>", "TIPOFF:START", "SUBSCRIBE", ...
};

struct Category {
    std::string id;
    std::string title;
    std::vector<std::string> topic_ids;  // in menu order
};

struct Catalogue {
    std::vector<Topic> topics;
    std::vector<MenuItem> main_menu;
    std::vector<Category> categories;
    std::map<std::string, std::string, std::less<>> templates;  // fixed bot phrases by key

    [[nodiscard]] const Topic* find_topic(std::string_view id) const;
    [[nodiscard]] const Category* find_category(std::string_view id) const;
    // The template text for `key`; the key itself in brackets when missing (content check reports it).
    [[nodiscard]] std::string text(std::string_view key) const;
};

struct Problem {
    std::string file;
    int line = 0;
    std::string message;
};

class Normalizer;
class Matcher;
class Places;

// Everything the handlers read, loaded and validated together, swapped as a whole on reload.
struct Content {
    std::shared_ptr<const Catalogue> catalogue;
    std::shared_ptr<const Normalizer> normalizer;
    std::shared_ptr<const Matcher> matcher;
    std::shared_ptr<const Places> places;
};

struct LoadResult {
    std::shared_ptr<const Content> content;  // null when problems is not empty
    std::vector<Problem> problems;
};

// Loads and validates every file under `dir` (messages/content). Never throws on bad data.
LoadResult load_content(const std::filesystem::path& dir);

// `pgibot content check`: the problems load_content would report (empty when the content is valid).
std::vector<Problem> check_content(const std::filesystem::path& dir);

}  // namespace pgibot::messages
