// Loads and validates the content files (format: messages/README.md). Every problem carries the file
// and line it comes from, so staff can fix a broken edit without reading code. Bad data never throws.
#include "messages/content.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "messages/matcher.hpp"
#include "messages/normalize.hpp"
#include "messages/places.hpp"
#include "messages/template_keys.hpp"

namespace pgibot::messages {

namespace fs = std::filesystem;

const Topic* Catalogue::find_topic(std::string_view id) const {
    const auto it = std::find_if(topics.begin(), topics.end(), [&](const Topic& t) { return t.id == id; });
    return it == topics.end() ? nullptr : &*it;
}

const Category* Catalogue::find_category(std::string_view id) const {
    const auto it = std::find_if(categories.begin(), categories.end(), [&](const Category& c) { return c.id == id; });
    return it == categories.end() ? nullptr : &*it;
}

std::string Catalogue::text(std::string_view key) const {
    const auto it = templates.find(key);
    if (it != templates.end()) return it->second;
    std::string missing = "[";
    missing += key;
    missing += ']';
    return missing;
}

namespace {

// Platform limits (Facebook quick-reply titles, Zalo and Facebook text messages).
constexpr std::size_t kMaxTitleChars = 20;
constexpr std::size_t kMaxBubbleChars = 2000;
constexpr std::size_t kMaxBubbles = 4;
constexpr std::size_t kMinQuestions = 5;
constexpr std::size_t kMaxFollowUps = 10;
constexpr std::size_t kMaxMenuItems = 12;

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }
int line_of(const toml::key& key) { return static_cast<int>(key.source().begin.line); }

std::vector<fs::path> toml_files(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".toml") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());  // deterministic order: problems and menus do not shuffle
    return files;
}

bool valid_id(std::string_view id) {
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

bool valid_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (const std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    auto num = [&](std::size_t pos, std::size_t len) {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    const std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                          std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                          std::chrono::day{static_cast<unsigned>(num(8, 2))}};
    return ymd.ok();
}

struct Located {
    std::string value;
    int line = 0;
};

class Loader {
public:
    explicit Loader(fs::path dir) : dir_(std::move(dir)) {}

    LoadResult run();

private:
    void report(const std::string& file, int line, std::string message) {
        problems_.push_back(Problem{file, line, std::move(message)});
    }

    std::optional<toml::table> parse(const fs::path& path, bool required);

    // Field access on one TOML table, reporting wrong types, missing fields and non-NFC text.
    void check_fields(const toml::table& t, std::initializer_list<std::string_view> allowed, std::string_view what);
    std::optional<Located> string_field(const toml::table& t, std::string_view key, bool required);
    std::optional<std::vector<Located>> string_array(const toml::table& t, std::string_view key, bool required);
    void check_nfc(std::string_view text, int line, std::string_view what);
    void check_title(const Located& title, std::string_view what);

    void load_menu();
    void load_topics();
    void load_topic(const toml::table& t);
    void load_templates();
    void load_abbreviations();
    void load_places();
    void cross_check();

    fs::path dir_;
    std::string file_;  // the file being read, for problems
    std::vector<Problem> problems_;
    Catalogue catalogue_;
    std::map<std::string, std::string, std::less<>> abbreviations_;
    std::vector<Unit> units_;

    // Lines of references, checked once everything is loaded.
    struct Reference {
        std::string file;
        int line = 0;
        std::string target;
        std::string context;
    };
    std::vector<Reference> topic_refs_;     // follow_ups and category topics
    std::vector<Reference> category_refs_;  // topic.category and MENU:<category>
    std::map<std::string, std::pair<std::string, int>, std::less<>> template_origin_;
    std::map<std::string, std::pair<std::string, int>, std::less<>> category_origin_;
};

std::optional<toml::table> Loader::parse(const fs::path& path, bool required) {
    file_ = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (required) report(file_, 0, "cannot read file");
        return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    try {
        return toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
        report(file_, static_cast<int>(e.source().begin.line), "TOML syntax error: " + std::string(e.description()));
    } catch (const std::exception& e) {
        report(file_, 0, std::string("cannot parse: ") + e.what());
    }
    return std::nullopt;
}

void Loader::check_fields(const toml::table& t, std::initializer_list<std::string_view> allowed,
                          std::string_view what) {
    for (const auto& [key, node] : t) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
            std::string list;
            for (const auto a : allowed) {
                if (!list.empty()) list += ", ";
                list += a;
            }
            report(file_, line_of(key),
                   "unknown field '" + std::string(key.str()) + "' in " + std::string(what) + " (allowed: " + list +
                       ")");
        }
    }
}

void Loader::check_nfc(std::string_view text, int line, std::string_view what) {
    if (to_nfc(text) != text) {
        report(file_, line, std::string(what) + " is not in Unicode NFC (re-type it or save the file as NFC)");
    }
}

void Loader::check_title(const Located& title, std::string_view what) {
    const auto n = count_chars(title.value);
    if (n > kMaxTitleChars) {
        report(file_, title.line,
               std::string(what) + " '" + title.value + "' has " + std::to_string(n) + " characters (max " +
                   std::to_string(kMaxTitleChars) + ")");
    }
}

std::optional<Located> Loader::string_field(const toml::table& t, std::string_view key, bool required) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
        if (required) report(file_, line_of(t), "missing required field '" + std::string(key) + "'");
        return std::nullopt;
    }
    const auto* s = node->as_string();
    if (s == nullptr) {
        report(file_, line_of(*node), "field '" + std::string(key) + "' must be a string");
        return std::nullopt;
    }
    Located out{s->get(), line_of(*node)};
    check_nfc(out.value, out.line, "field '" + std::string(key) + "'");
    if (out.value.empty()) report(file_, out.line, "field '" + std::string(key) + "' is empty");
    return out;
}

std::optional<std::vector<Located>> Loader::string_array(const toml::table& t, std::string_view key, bool required) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
        if (required) report(file_, line_of(t), "missing required field '" + std::string(key) + "'");
        return std::nullopt;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
        report(file_, line_of(*node), "field '" + std::string(key) + "' must be an array of strings");
        return std::nullopt;
    }
    std::vector<Located> out;
    for (const auto& item : *array) {
        const auto* s = item.as_string();
        if (s == nullptr) {
            report(file_, line_of(item), "field '" + std::string(key) + "' must contain only strings");
            continue;
        }
        Located v{s->get(), line_of(item)};
        check_nfc(v.value, v.line, "an item of '" + std::string(key) + "'");
        if (v.value.empty()) report(file_, v.line, "empty string in '" + std::string(key) + "'");
        out.push_back(std::move(v));
    }
    return out;
}

std::vector<std::string> values(const std::optional<std::vector<Located>>& items) {
    std::vector<std::string> out;
    if (items) {
        for (const auto& i : *items) out.push_back(i.value);
    }
    return out;
}

// Calls `fn` for each table of the array of tables `key` ([[key]]), reporting anything else.
template <typename Fn, typename Bad>
void each_table(const toml::table& root, std::string_view key, Fn&& fn, Bad&& bad) {
    const toml::node* node = root.get(key);
    if (node == nullptr) return;
    const auto* array = node->as_array();
    if (array == nullptr) {
        bad(line_of(*node), "'" + std::string(key) + "' must be an array of tables ([[" + std::string(key) + "]])");
        return;
    }
    for (const auto& item : *array) {
        if (const auto* t = item.as_table()) {
            fn(*t);
        } else {
            bad(line_of(item), "'" + std::string(key) + "' must contain only tables");
        }
    }
}

void Loader::load_menu() {
    auto root = parse(dir_ / "menu.toml", true);
    if (!root) return;
    check_fields(*root, {"category", "main_menu"}, "menu.toml");
    auto bad = [this](int line, std::string message) { report(file_, line, std::move(message)); };
    each_table(*root, "category", [&](const toml::table& t) {
        check_fields(t, {"id", "title", "topics"}, "[[category]]");
        Category c;
        if (auto id = string_field(t, "id", true)) {
            c.id = id->value;
            if (!valid_id(c.id)) report(file_, id->line, "category id '" + c.id + "' must match [a-z0-9_.-]+");
            if (auto [it, fresh] = category_origin_.try_emplace(c.id, file_, id->line); !fresh) {
                report(file_, id->line,
                       "duplicate category id '" + c.id + "' (first defined at " + it->second.first + ":" +
                           std::to_string(it->second.second) + ")");
            }
        }
        if (auto title = string_field(t, "title", true)) {
            check_title(*title, "category title");
            c.title = title->value;
        }
        if (auto topics = string_array(t, "topics", true)) {
            if (topics->size() > kMaxMenuItems) {
                report(file_, line_of(*t.get("topics")),
                       "category '" + c.id + "' lists " + std::to_string(topics->size()) + " topics (max " +
                           std::to_string(kMaxMenuItems) + ")");
            }
            for (const auto& topic : *topics) {
                topic_refs_.push_back({file_, topic.line, topic.value, "category '" + c.id + "'"});
                c.topic_ids.push_back(topic.value);
            }
        }
        catalogue_.categories.push_back(std::move(c));
    }, bad);
    each_table(*root, "main_menu", [&](const toml::table& t) {
        check_fields(t, {"title", "payload"}, "[[main_menu]]");
        MenuItem item;
        if (auto title = string_field(t, "title", true)) {
            check_title(*title, "menu title");
            item.title = title->value;
        }
        if (auto payload = string_field(t, "payload", true)) {
            item.payload = payload->value;
            const std::string_view p = item.payload;
            if (p.starts_with("MENU:")) {
                category_refs_.push_back(
                    {file_, payload->line, std::string(p.substr(5)), "payload '" + item.payload + "'"});
            } else if (p.starts_with("TOPIC:")) {
                topic_refs_.push_back(
                    {file_, payload->line, std::string(p.substr(6)), "payload '" + item.payload + "'"});
            } else if (p != "TIPOFF:START" && p != "TIPOFF:LOOKUP" && p != "SUBSCRIBE" && p != "UNSUBSCRIBE" &&
                       p != "HUMAN") {
                report(file_, payload->line,
                       "unknown payload '" + item.payload +
                           "' (MENU:<category> | TOPIC:<id> | TIPOFF:START | TIPOFF:LOOKUP | SUBSCRIBE | UNSUBSCRIBE "
                           "| HUMAN)");
            }
        }
        catalogue_.main_menu.push_back(std::move(item));
    }, bad);
    if (catalogue_.categories.empty()) report(file_, 1, "no [[category]] defined");
    if (catalogue_.main_menu.empty()) report(file_, 1, "no [[main_menu]] item defined");
    if (catalogue_.main_menu.size() > kMaxMenuItems) {
        report(file_, 1,
               "main menu has " + std::to_string(catalogue_.main_menu.size()) + " items (max " +
                   std::to_string(kMaxMenuItems) + ")");
    }
}

void Loader::load_topic(const toml::table& t) {
    check_fields(t,
                 {"id", "category", "title", "short_title", "questions", "keywords", "answer", "follow_ups", "source",
                  "checked"},
                 "[[topic]]");
    Topic topic;
    topic.file = file_;
    topic.line = line_of(t);
    if (auto id = string_field(t, "id", true)) {
        topic.id = id->value;
        if (!valid_id(topic.id)) report(file_, id->line, "topic id '" + topic.id + "' must match [a-z0-9_.-]+");
        if (const Topic* first = catalogue_.find_topic(topic.id)) {
            report(file_, id->line,
                   "duplicate topic id '" + topic.id + "' (first defined at " + first->file + ":" +
                       std::to_string(first->line) + ")");
        }
    }
    if (auto category = string_field(t, "category", true)) {
        topic.category = category->value;
        category_refs_.push_back({file_, category->line, topic.category, "topic '" + topic.id + "'"});
    }
    if (auto title = string_field(t, "title", true)) topic.title = title->value;
    if (auto short_title = string_field(t, "short_title", true)) {
        check_title(*short_title, "short_title");
        topic.short_title = short_title->value;
    }
    const auto questions = string_array(t, "questions", true);
    if (questions && questions->size() < kMinQuestions) {
        report(file_, line_of(*t.get("questions")),
               "topic '" + topic.id + "' has " + std::to_string(questions->size()) + " example questions (min " +
                   std::to_string(kMinQuestions) + ")");
    }
    topic.questions = values(questions);
    topic.keywords = values(string_array(t, "keywords", false));
    if (const auto answer = string_array(t, "answer", true)) {
        if (answer->empty() || answer->size() > kMaxBubbles) {
            report(file_, line_of(*t.get("answer")),
                   "answer has " + std::to_string(answer->size()) + " bubbles (1.." + std::to_string(kMaxBubbles) +
                       ")");
        }
        for (const auto& bubble : *answer) {
            const auto n = count_chars(bubble.value);
            if (n > kMaxBubbleChars) {
                report(file_, bubble.line,
                       "answer bubble has " + std::to_string(n) + " characters (max " +
                           std::to_string(kMaxBubbleChars) + ")");
            }
        }
        topic.answer = values(answer);
    }
    if (const auto follow_ups = string_array(t, "follow_ups", false)) {
        if (follow_ups->size() > kMaxFollowUps) {
            report(file_, line_of(*t.get("follow_ups")),
                   "follow_ups has " + std::to_string(follow_ups->size()) + " items (max " +
                       std::to_string(kMaxFollowUps) + ")");
        }
        for (const auto& f : *follow_ups) {
            if (f.value == topic.id) report(file_, f.line, "topic '" + topic.id + "' lists itself in follow_ups");
            topic_refs_.push_back({file_, f.line, f.value, "follow_ups of '" + topic.id + "'"});
        }
        topic.follow_ups = values(follow_ups);
    }
    if (auto source = string_field(t, "source", true)) topic.source = source->value;
    if (const toml::node* checked = t.get("checked")) {
        // A bare TOML date (checked = 2026-11-29) is accepted as well as the quoted form.
        if (const auto* date = checked->as_date()) {
            std::ostringstream s;
            s << date->get();
            topic.checked = s.str();
        } else if (const auto* str = checked->as_string()) {
            topic.checked = str->get();
            if (!valid_date(topic.checked)) {
                report(file_, line_of(*checked), "checked '" + topic.checked + "' is not a valid YYYY-MM-DD date");
            }
        } else {
            report(file_, line_of(*checked), "field 'checked' must be a YYYY-MM-DD date");
        }
    } else {
        report(file_, topic.line, "missing required field 'checked'");
    }
    catalogue_.topics.push_back(std::move(topic));
}

void Loader::load_topics() {
    const auto files = toml_files(dir_ / "topics");
    if (files.empty()) report((dir_ / "topics").string(), 0, "no topic files (topics/*.toml)");
    for (const auto& path : files) {
        auto root = parse(path, true);
        if (!root) continue;
        check_fields(*root, {"topic"}, "a topic file");
        auto bad = [this](int line, std::string message) { report(file_, line, std::move(message)); };
        each_table(*root, "topic", [&](const toml::table& t) { load_topic(t); }, bad);
    }
}

void Loader::load_templates() {
    const auto files = toml_files(dir_ / "templates");
    for (const auto& path : files) {
        auto root = parse(path, true);
        if (!root) continue;
        check_fields(*root, {"templates"}, "a template file");
        const toml::node* node = root->get("templates");
        if (node == nullptr) {
            report(file_, 1, "missing [templates] table");
            continue;
        }
        const auto* table = node->as_table();
        if (table == nullptr) {
            report(file_, line_of(*node), "'templates' must be a table");
            continue;
        }
        for (const auto& [key, value] : *table) {
            const std::string name(key.str());
            const auto* s = value.as_string();
            if (s == nullptr) {
                report(file_, line_of(key), "template '" + name + "' must be a string");
                continue;
            }
            check_nfc(s->get(), line_of(value), "template '" + name + "'");
            if (const auto n = count_chars(s->get()); n > kMaxBubbleChars) {
                report(file_, line_of(value),
                       "template '" + name + "' has " + std::to_string(n) + " characters (max " +
                           std::to_string(kMaxBubbleChars) + ")");
            }
            if (auto [it, fresh] = template_origin_.try_emplace(name, file_, line_of(key)); !fresh) {
                report(file_, line_of(key),
                       "template key '" + name + "' already defined at " + it->second.first + ":" +
                           std::to_string(it->second.second));
                continue;
            }
            catalogue_.templates.emplace(name, s->get());
        }
    }
    for (const auto key : required_template_keys()) {
        if (catalogue_.templates.find(key) == catalogue_.templates.end()) {
            report((dir_ / "templates").string(), 0, "missing template key '" + std::string(key) + "'");
        }
    }
}

void Loader::load_abbreviations() {
    auto root = parse(dir_ / "abbreviations.toml", false);
    if (!root) return;  // optional: without it, no chat abbreviations are expanded
    check_fields(*root, {"abbreviations"}, "abbreviations.toml");
    const toml::node* node = root->get("abbreviations");
    if (node == nullptr) return;
    const auto* table = node->as_table();
    if (table == nullptr) {
        report(file_, line_of(*node), "'abbreviations' must be a table");
        return;
    }
    const Normalizer plain;
    for (const auto& [key, value] : *table) {
        const std::string name(key.str());
        const auto* s = value.as_string();
        if (s == nullptr) {
            report(file_, line_of(key), "abbreviation '" + name + "' must map to a string");
            continue;
        }
        check_nfc(name, line_of(key), "abbreviation '" + name + "'");
        check_nfc(s->get(), line_of(value), "expansion of '" + name + "'");
        if (plain.syllables(name).size() != 1) {
            report(file_, line_of(key), "abbreviation '" + name + "' must be one word (letters and digits only)");
        }
        if (plain.syllables(s->get()).empty()) report(file_, line_of(value), "expansion of '" + name + "' is empty");
        abbreviations_.emplace(name, s->get());
    }
}

void Loader::load_places() {
    auto root = parse(dir_ / "places.toml", true);
    if (!root) return;
    check_fields(*root, {"unit"}, "places.toml");
    std::map<std::string, int, std::less<>> codes;
    auto bad = [this](int line, std::string message) { report(file_, line, std::move(message)); };
    each_table(*root, "unit", [&](const toml::table& t) {
        check_fields(t, {"code", "name", "kind", "former"}, "[[unit]]");
        Unit unit;
        if (auto code = string_field(t, "code", true)) {
            unit.code = code->value;
            if (auto [it, fresh] = codes.try_emplace(unit.code, code->line); !fresh) {
                report(file_, code->line,
                       "duplicate unit code '" + unit.code + "' (first at line " + std::to_string(it->second) + ")");
            }
        }
        if (auto name = string_field(t, "name", true)) unit.name = name->value;
        if (auto kind = string_field(t, "kind", true)) {
            unit.kind = kind->value;
            if (unit.kind != "phường" && unit.kind != "xã") {
                report(file_, kind->line, "kind '" + unit.kind + "' must be \"phường\" or \"xã\"");
            }
        }
        unit.former_names = values(string_array(t, "former", false));
        units_.push_back(std::move(unit));
    }, bad);
    if (units_.empty()) report(file_, 1, "no [[unit]] defined");
}

void Loader::cross_check() {
    for (const auto& ref : topic_refs_) {
        if (catalogue_.find_topic(ref.target) == nullptr) {
            report(ref.file, ref.line, ref.context + " refers to unknown topic '" + ref.target + "'");
        }
    }
    for (const auto& ref : category_refs_) {
        if (catalogue_.find_category(ref.target) == nullptr) {
            report(ref.file, ref.line, ref.context + " refers to unknown category '" + ref.target + "'");
        }
    }
    // The same example question under two topics makes the matcher guess: reject it.
    const Normalizer plain;
    std::unordered_map<std::string, const Topic*> seen;
    for (const auto& topic : catalogue_.topics) {
        for (const auto& q : topic.questions) {
            const auto key = plain.normalize(q);
            if (key.empty()) {
                report(topic.file, topic.line, "topic '" + topic.id + "' has a question with no words: '" + q + "'");
                continue;
            }
            auto [it, fresh] = seen.emplace(key, &topic);
            if (!fresh && it->second != &topic) {
                report(topic.file, topic.line,
                       "question '" + q + "' of topic '" + topic.id + "' is also a question of '" + it->second->id +
                           "'");
            }
        }
    }
}

LoadResult Loader::run() {
    load_menu();
    load_topics();
    load_templates();
    load_abbreviations();
    load_places();
    cross_check();
    LoadResult result;
    if (!problems_.empty()) {
        result.problems = std::move(problems_);
        return result;
    }
    auto content = std::make_shared<Content>();
    auto catalogue = std::make_shared<const Catalogue>(std::move(catalogue_));
    auto normalizer = std::make_shared<const Normalizer>(std::move(abbreviations_));
    content->matcher = std::make_shared<const Matcher>(*catalogue, *normalizer);
    content->catalogue = std::move(catalogue);
    content->normalizer = std::move(normalizer);
    content->places = std::make_shared<const Places>(std::move(units_));
    result.content = std::move(content);
    return result;
}

}  // namespace

LoadResult load_content(const fs::path& dir) {
    try {
        return Loader(dir).run();
    } catch (const std::exception& e) {
        // Only resource exhaustion gets here; bad data is reported above, never thrown.
        LoadResult result;
        result.problems.push_back(Problem{dir.string(), 0, std::string("cannot load content: ") + e.what()});
        return result;
    }
}

std::vector<Problem> check_content(const fs::path& dir) { return load_content(dir).problems; }

}  // namespace pgibot::messages
