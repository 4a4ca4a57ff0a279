#include "handlers/model/json_writer.hpp"

#include <charconv>
#include <cmath>

namespace pgibot::json {

void append_escaped(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // Runs of plain ASCII are copied in one append.
        std::size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            continue;
        }
        const unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    out += "\\u00";
                    out.push_back(kHex[c >> 4]);
                    out.push_back(kHex[c & 0x0F]);
            }
            ++i;
            continue;
        }
        // Multi-byte UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
        std::size_t len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) {
            const unsigned char cc = p[i + k];
            ok = cc >= (k == 1 ? lo : 0x80) && cc <= (k == 1 ? hi : 0xBF);
        }
        if (ok) {
            out.append(s.data() + i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
}

void Writer::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) out_.push_back(',');
        first_.back() = false;
    }
}

Writer& Writer::begin_object() {
    separate();
    out_.push_back('{');
    first_.push_back(true);
    return *this;
}

Writer& Writer::end_object() {
    out_.push_back('}');
    if (!first_.empty()) first_.pop_back();
    return *this;
}

Writer& Writer::begin_array() {
    separate();
    out_.push_back('[');
    first_.push_back(true);
    return *this;
}

Writer& Writer::end_array() {
    out_.push_back(']');
    if (!first_.empty()) first_.pop_back();
    return *this;
}

Writer& Writer::key(std::string_view name) {
    separate();
    out_.push_back('"');
    append_escaped(out_, name);
    out_ += "\":";
    after_key_ = true;
    return *this;
}

Writer& Writer::value(std::string_view s) {
    separate();
    out_.push_back('"');
    append_escaped(out_, s);
    out_.push_back('"');
    return *this;
}

Writer& Writer::value(std::int64_t n) {
    separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    return *this;
}

Writer& Writer::value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
}

Writer& Writer::value(double d) {
    if (!std::isfinite(d)) return null();
    separate();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    out_.append(text);
    // Keep it a JSON number that reads back as a double ("1" would read back as an integer).
    if (text.find_first_of(".eE") == std::string_view::npos) out_ += ".0";
    return *this;
}

Writer& Writer::null() {
    separate();
    out_ += "null";
    return *this;
}

}  // namespace pgibot::json
