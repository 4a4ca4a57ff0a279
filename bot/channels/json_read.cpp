#include "bot/channels/json_read.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <utility>

#include <locale.h>
#include <stdlib.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

#include "bot/channels/common.hpp"

namespace pgibot::channels::inbound {

namespace {

namespace bj = boost::json;

// strtod independent of the process's LC_NUMERIC. Only for numbers out of a double's range.
double c_strtod(const std::string& text) {
    static const locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", static_cast<locale_t>(nullptr));
    return c_locale == static_cast<locale_t>(nullptr) ? std::strtod(text.c_str(), nullptr)
                                                      : strtod_l(text.c_str(), nullptr, c_locale);
}

// boost::json::parser's own handler (boost/json/detail/handler.hpp) but for doubles, which are
// converted again from their text with std::from_chars: Boost.JSON 1.81 multiplies the decimal
// mantissa by a power of ten, which is off by one ulp for many 16-17 digit numbers; from_chars is
// correctly rounded, as nlohmann's strtod was. Integers are taken as Boost.JSON gives them.
struct Handler {
    static constexpr std::size_t max_object_size = bj::object::max_size();
    static constexpr std::size_t max_array_size = bj::array::max_size();
    static constexpr std::size_t max_key_size = bj::string::max_size();
    static constexpr std::size_t max_string_size = bj::string::max_size();

    bj::value_stack st;
    std::string number;  // the beginning of a number split across writes (never with one write)

    Handler(bj::storage_ptr sp, unsigned char* buffer, std::size_t size) : st(std::move(sp), buffer, size) {}

    bool on_document_begin(bj::error_code&) { return true; }
    bool on_document_end(bj::error_code&) { return true; }
    bool on_object_begin(bj::error_code&) { return true; }
    bool on_object_end(std::size_t n, bj::error_code&) {
        st.push_object(n);  // keeps the last value of a duplicate key
        return true;
    }
    bool on_array_begin(bj::error_code&) { return true; }
    bool on_array_end(std::size_t n, bj::error_code&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(bj::string_view s, bj::error_code&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, bj::string_view, bj::error_code&) {
        number.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, bj::string_view, bj::error_code&) {
        number.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, bj::string_view s, bj::error_code& ec) {
        std::string_view text(s.data(), s.size());
        if (!number.empty()) {
            number.append(s.data(), s.size());
            text = number;
        }
        double exact = 0;
        const auto [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), exact);
        if (err == std::errc() && ptr == text.data() + text.size()) {
            d = exact;
        } else if (err == std::errc::result_out_of_range) {
            // ±0 or ±infinity, which from_chars does not tell apart: ask strtod (in the C locale).
            d = c_strtod(std::string(text));
            if (!std::isfinite(d)) {
                // Beyond the largest double: nlohmann refused it too ("number overflow").
                ec = bj::error::exponent_overflow;
                return false;
            }
        }
        number.clear();
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, bj::error_code&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(bj::error_code&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
    bool on_comment(bj::string_view, bj::error_code&) { return true; }
};

bj::parse_options parse_options() {
    bj::parse_options opt;  // strict JSON: no comments, no trailing commas, valid UTF-8 only
    opt.max_depth = kMaxDepth;
    return opt;
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

JsonValue parse(std::string_view body, boost::json::storage_ptr storage, boost::system::error_code& ec) {
    ec = {};
    // nlohmann skipped a UTF-8 byte order mark at the start of its input; Boost.JSON refuses it.
    static constexpr std::string_view kBom = "\xef\xbb\xbf";
    if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
    // The parser's own stack of pending values: on the stack up to this size, then on the heap.
    unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
    bj::basic_parser<Handler> p(parse_options(), bj::storage_ptr(), temp, sizeof temp);
    p.reset();
    p.handler().st.reset(std::move(storage));
    const std::size_t used = p.write_some(false, body.data(), body.size(), ec);
    if (!ec && used < body.size()) ec = bj::error::extra_data;
    if (ec || !p.done()) {
        if (!ec) ec = bj::error::incomplete;
        return nullptr;
    }
    return p.handler().st.release();
}

Document::Document(std::string_view body)
    : resource_(buffer_, kBufferSize), root_(parse(body, &resource_, ec_)) {}

std::string Document::error() const { return ec_ ? ec_.message() : std::string(); }

const JsonValue* member(const JsonValue& obj, std::string_view key) {
    const auto* o = obj.if_object();
    return o == nullptr ? nullptr : o->if_contains(bj::string_view(key.data(), key.size()));
}

const JsonValue* member(const JsonValue* obj, std::string_view key) {
    return obj == nullptr ? nullptr : member(*obj, key);
}

const JsonValue* element(const JsonValue* v, std::size_t i) {
    const auto* a = v == nullptr ? nullptr : v->if_array();
    return a == nullptr || i >= a->size() ? nullptr : a->data() + i;
}

std::string string_of(const JsonValue* v) {
    const auto* s = v == nullptr ? nullptr : v->if_string();
    return s == nullptr ? std::string() : std::string(s->data(), s->size());
}

std::string id_of(const JsonValue* v) {
    if (v == nullptr) return {};
    if (const auto* s = v->if_string()) return std::string(s->data(), s->size());
    if (const auto* u = v->if_uint64()) return std::to_string(*u);
    if (const auto* i = v->if_int64()) return std::to_string(*i);
    return {};
}

std::optional<std::int64_t> int64_of(const JsonValue* v) {
    if (v == nullptr) return std::nullopt;
    if (const auto* i = v->if_int64()) return *i;
    if (const auto* u = v->if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
        return static_cast<std::int64_t>(*u);
    }
    if (const auto* s = v->if_string()) {
        std::int64_t out = 0;
        const auto* end = s->data() + s->size();
        const auto [ptr, ec] = std::from_chars(s->data(), end, out);
        if (ec == std::errc() && ptr == end && !s->empty()) return out;
    }
    return std::nullopt;
}

std::optional<double> double_of(const JsonValue* v) {
    if (v == nullptr) return std::nullopt;
    if (const auto* d = v->if_double()) return *d;
    if (const auto* u = v->if_uint64()) return static_cast<double>(*u);
    if (const auto* i = v->if_int64()) return static_cast<double>(*i);
    if (const auto* s = v->if_string()) {
        std::string_view sv = trim(std::string_view(s->data(), s->size()));
        if (!sv.empty() && sv.front() == '+') sv.remove_prefix(1);
        double out = 0;
        const auto [ptr, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), out);
        if (ec == std::errc() && ptr == sv.data() + sv.size() && !sv.empty()) return out;
    }
    return std::nullopt;
}

bool is_true(const JsonValue* v) {
    const auto* b = v == nullptr ? nullptr : v->if_bool();
    return b != nullptr && *b;
}

std::string nlohmann_dump(const JsonValue& v) {
    // Boost.JSON writes doubles in their shortest round-trip form and every string escaped as
    // needed, so nlohmann reads back exactly the values it would have read from the body itself;
    // its dump then sorts the keys and formats the numbers as before.
    const Json j = Json::parse(bj::serialize(v), nullptr, false);
    return j.is_discarded() ? std::string() : dump_json(j);
}

}  // namespace pgibot::channels::inbound
