#pragma once
// The real content catalogue for the tip-off tests. Uses load_content() on messages/content; if another part of the
// content does not validate yet, falls back to what this dialog needs (places.toml, templates/tipoff.toml) so these
// tests still say something about the tip-off code, and reports the problems once.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <toml++/toml.h>

#include "messages/content.hpp"
#include "messages/normalize.hpp"
#include "messages/places.hpp"

namespace pgibot::test {

inline std::filesystem::path content_dir() { return PGIBOT_CONTENT_DIR; }

inline std::shared_ptr<const messages::Content> fallback_content() {
    auto content = std::make_shared<messages::Content>();
    auto catalogue = std::make_shared<messages::Catalogue>();
    try {
        auto templates = toml::parse_file((content_dir() / "templates" / "tipoff.toml").string());
        if (auto* t = templates["templates"].as_table()) {
            for (const auto& [key, value] : *t) {
                if (auto s = value.value<std::string>()) catalogue->templates[std::string(key.str())] = *s;
            }
        }
        std::vector<messages::Unit> units;
        auto places = toml::parse_file((content_dir() / "places.toml").string());
        if (auto* arr = places["unit"].as_array()) {
            for (const auto& node : *arr) {
                const auto& t = *node.as_table();
                messages::Unit u;
                u.code = t["code"].value_or(std::string());
                u.name = t["name"].value_or(std::string());
                u.kind = t["kind"].value_or(std::string());
                if (auto* former = t["former"].as_array()) {
                    for (const auto& f : *former) u.former_names.push_back(f.value_or(std::string()));
                }
                units.push_back(std::move(u));
            }
        }
        content->places = std::make_shared<const messages::Places>(std::move(units));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fallback content: %s\n", e.what());
    }
    content->catalogue = catalogue;
    content->normalizer = std::make_shared<const messages::Normalizer>();
    return content;
}

inline const messages::Content& content() {
    static const std::shared_ptr<const messages::Content> loaded = [] {
        auto result = messages::load_content(content_dir());
        if (result.content) return result.content;
        std::fprintf(stderr, "load_content(%s) reported %zu problem(s); using places + tipoff templates only:\n",
                     content_dir().c_str(), result.problems.size());
        for (std::size_t i = 0; i < result.problems.size() && i < 10; ++i) {
            const auto& p = result.problems[i];
            std::fprintf(stderr, "  %s:%d: %s\n", p.file.c_str(), p.line, p.message.c_str());
        }
        return fallback_content();
    }();
    return *loaded;
}

}  // namespace pgibot::test
