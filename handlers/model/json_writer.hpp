#pragma once
// A small streaming JSON writer for the documents we produce on hot paths (the inbox event written
// for every acknowledged webhook, log lines). It builds text directly, without the per-field tree
// nodes a nlohmann::json object costs. Reading JSON stays with nlohmann (json_util.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgibot::json {

// Appends `s` escaped for a JSON string (no quotes): ", \ and control characters escaped, valid
// UTF-8 copied as is, each byte of an invalid sequence replaced by U+FFFD (as nlohmann's
// error_handler_t::replace does), so the result is always valid JSON and valid UTF-8.
void append_escaped(std::string& out, std::string_view s);

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}

    Writer& begin_object();
    Writer& end_object();
    Writer& begin_array();
    Writer& end_array();
    // Inside an object: the next member's name. Follow it by exactly one value or container.
    Writer& key(std::string_view name);

    Writer& value(std::string_view s);
    Writer& value(const char* s) { return value(std::string_view(s)); }
    Writer& value(const std::string& s) { return value(std::string_view(s)); }
    Writer& value(std::int64_t n);
    Writer& value(bool b);
    // Shortest text that reads back as the same double; non-finite values become null.
    Writer& value(double d);
    Writer& null();

    // key(name).value(v) in one call.
    template <typename T>
    Writer& member(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

private:
    void separate();

    std::string& out_;
    std::vector<bool> first_;   // per open container: no member written yet
    bool after_key_ = false;
};

}  // namespace pgibot::json
