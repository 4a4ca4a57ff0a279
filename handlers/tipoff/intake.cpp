// The pollution tip-off intake dialog (QĐ 174/QĐ-BTNMT art. 8 as the slot schema): kind, what was seen, where,
// when, suspect, evidence, contact or anonymity; a summary to confirm; then FileTipoff.
//
// Every event fills what it can (a burst of text, photos and a location fills several slots at once); the reply
// asks for the next missing thing. The draft lives in ConversationState::dialog as JSON (shape: draft_to_json).
#include "handlers/tipoff/intake.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "handlers/model/json_util.hpp"
#include "handlers/tipoff/parse.hpp"
#include "messages/content.hpp"
#include "messages/normalize.hpp"
#include "messages/places.hpp"

namespace pgibot::handlers::tipoff_intake {

namespace {

using Json = nlohmann::json;
using tipoff::PollutionKind;
using tipoff::Report;

constexpr int kDraftVersion = 1;
constexpr std::size_t kMaxEvidence = 30;
constexpr std::size_t kMaxHistory = 20;
constexpr std::size_t kMaxFieldChars = 1500;     // one field of the report
constexpr std::size_t kSummaryFieldChars = 300;  // a field as quoted in the summary
constexpr std::size_t kMaxChoices = 10;          // place candidates offered as quick replies

// Steps (also the names stored in the draft).
constexpr std::string_view kStepKind = "kind";
constexpr std::string_view kStepDescription = "description";
constexpr std::string_view kStepPlace = "place";
constexpr std::string_view kStepPlaceChoose = "place_choose";
constexpr std::string_view kStepCoordsConfirm = "coords_confirm";
constexpr std::string_view kStepTime = "time";
constexpr std::string_view kStepSuspect = "suspect";
constexpr std::string_view kStepEvidence = "evidence";
constexpr std::string_view kStepContact = "contact";
constexpr std::string_view kStepContactDetails = "contact_details";
constexpr std::string_view kStepConsent = "consent";
constexpr std::string_view kStepSummary = "summary";
constexpr std::string_view kStepEdit = "edit";

// Payloads (after kPayloadPrefix).
constexpr std::string_view kPStart = "START";
constexpr std::string_view kPLookup = "LOOKUP";
constexpr std::string_view kPCancel = "CANCEL";
constexpr std::string_view kPBack = "BACK";
constexpr std::string_view kPContinue = "CONTINUE";
constexpr std::string_view kPKind = "KIND:";
constexpr std::string_view kPPlace = "PLACE:";
constexpr std::string_view kPLoc = "LOC:";
constexpr std::string_view kPTime = "TIME:";
constexpr std::string_view kPSkip = "SKIP";
constexpr std::string_view kPDone = "DONE";
constexpr std::string_view kPAnon = "ANON";
constexpr std::string_view kPContact = "CONTACT";
constexpr std::string_view kPConsent = "CONSENT:";
constexpr std::string_view kPConfirm = "CONFIRM";
constexpr std::string_view kPEdit = "EDIT";

constexpr std::array<std::string_view, 7> kEditableFields{"kind",     "description", "place",  "time",
                                                          "suspect",  "evidence",    "contact"};

std::string payload(std::string_view rest) { return std::string(kPayloadPrefix) + std::string(rest); }

// ---------------------------------------------------------------------------------------------------------------
// The draft

struct Draft {
    Report report;
    bool kind_set = false;
    std::string step;
    std::vector<std::string> history;
    std::set<std::string> done;            // optional steps answered or skipped: suspect, evidence, contact, consent
    std::string editing;                   // the field being corrected, "" if none
    std::vector<std::string> candidates;   // unit codes to choose from (ambiguous or former name)
    std::string candidate_hint;            // the former name that was matched
    std::optional<Location> pending_location;  // outside the province: to be confirmed
    bool time_retried = false;
    std::int64_t started_ms = 0;
    std::int64_t touched_ms = 0;
};

Json location_json(const std::optional<Location>& l) {
    return l ? Json{{"lat", l->lat}, {"lng", l->lng}} : Json(nullptr);
}

// ConversationState::dialog:
// {"v":1, "step":"place", "kind_set":true, "history":["kind","description"], "done":["suspect"], "editing":"",
//  "candidates":["06391",...], "candidate_hint":"xã Hòa Bình", "pending_location":null|{"lat","lng"},
//  "time_retried":false, "started_ms":..., "touched_ms":..., "report":{report_to_json}}
std::string draft_to_json(const Draft& d) {
    auto report = model_json::parse(tipoff::report_to_json(d.report));
    Json j{
        {"v", kDraftVersion},
        {"step", d.step},
        {"kind_set", d.kind_set},
        {"history", d.history},
        {"done", std::vector<std::string>(d.done.begin(), d.done.end())},
        {"editing", d.editing},
        {"candidates", d.candidates},
        {"candidate_hint", d.candidate_hint},
        {"pending_location", location_json(d.pending_location)},
        {"time_retried", d.time_retried},
        {"started_ms", d.started_ms},
        {"touched_ms", d.touched_ms},
        {"report", report ? *report : Json::object()},
    };
    return model_json::dump(j);
}

bool read_strings(const Json& j, const char* key, std::vector<std::string>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_array()) return false;
    for (const auto& e : *it) {
        if (!e.is_string()) return false;
        out.push_back(e.get<std::string>());
    }
    return true;
}

std::optional<Draft> draft_from_json(std::string_view text) {
    if (text.empty()) return std::nullopt;
    auto parsed = model_json::parse(text);
    if (!parsed || !parsed->is_object()) return std::nullopt;
    const Json& j = *parsed;
    Draft d;
    std::vector<std::string> done;
    using model_json::read;
    if (!read(j, "step", d.step) || !read(j, "kind_set", d.kind_set) || !read_strings(j, "history", d.history) ||
        !read_strings(j, "done", done) || !read(j, "editing", d.editing) ||
        !read_strings(j, "candidates", d.candidates) || !read(j, "candidate_hint", d.candidate_hint) ||
        !read(j, "time_retried", d.time_retried) || !read(j, "started_ms", d.started_ms) ||
        !read(j, "touched_ms", d.touched_ms)) {
        return std::nullopt;
    }
    if (d.step.empty()) return std::nullopt;
    d.done.insert(done.begin(), done.end());
    if (auto it = j.find("pending_location"); it != j.end() && it->is_object()) {
        Location l;
        if (read(*it, "lat", l.lat) && read(*it, "lng", l.lng)) d.pending_location = l;
    }
    auto it = j.find("report");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    auto report = tipoff::report_from_json(model_json::dump(*it));
    if (!report) return std::nullopt;
    d.report = std::move(*report);
    return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Text helpers

struct Turn {
    const Event& event;
    const messages::Content& content;
    const Context& ctx;
};

std::string tpl(const messages::Content& content, std::string_view key) {
    if (!content.catalogue) return "[" + std::string(key) + "]";
    return content.catalogue->text(key);
}

std::string fill(std::string text, std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
    for (const auto& [name, value] : values) {
        const std::string ph = "{" + std::string(name) + "}";
        std::size_t pos = 0;
        while ((pos = text.find(ph, pos)) != std::string::npos) {
            text.replace(pos, ph.size(), value);
            pos += value.size();
        }
    }
    return text;
}

// Lower-case, abbreviations expanded ("ko" -> "không"), diacritics folded: what commands are compared on.
std::string folded(const messages::Content& content, std::string_view text) {
    static const messages::Normalizer plain{};
    const messages::Normalizer& n = content.normalizer ? *content.normalizer : plain;
    return messages::fold_diacritics(n.normalize(text));
}

std::size_t syllable_count(std::string_view f) {
    std::size_t n = 0;
    bool in_word = false;
    for (const char c : f) {
        const bool space = c == ' ';
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

bool one_of(std::string_view f, std::initializer_list<std::string_view> words) {
    return std::find(words.begin(), words.end(), f) != words.end();
}

bool contains_phrase(std::string_view f, std::string_view phrase) {
    std::string padded = " " + std::string(f) + " ";
    return padded.find(" " + std::string(phrase) + " ") != std::string::npos;
}

bool starts_with_phrase(std::string_view f, std::string_view phrase) {
    return f == phrase || (f.starts_with(phrase) && f.size() > phrase.size() && f[phrase.size()] == ' ');
}

bool is_cancel(std::string_view f) {
    return one_of(f, {"huy", "huy bo", "huy phan anh", "huy bao cao", "huy di", "huy nhe", "cancel", "dung lai",
                      "khong gui nua", "thoi khong gui", "thoi huy", "thoi huy di", "huy a"});
}
bool is_back(std::string_view f) {
    return one_of(f, {"quay lai", "tro lai", "lui lai", "back", "quay ve", "quay lai buoc truoc", "lui"});
}
bool is_menu(std::string_view f) {
    return one_of(f, {"menu", "menu chinh", "trang chu", "danh muc", "bat dau lai", "xem menu", "mo menu"});
}
bool is_yes(std::string_view f) {
    return one_of(f, {"co", "dong y", "dung", "ok", "oke", "okay", "yes", "u", "uh", "um", "vang", "da", "chinh xac",
                      "dung roi", "dung vay", "gui", "gui di", "xac nhan", "duoc", "co a", "vang a", "da dung",
                      "chuan", "dong y a", "da vang", "gui phan anh", "dung a", "phai", "dung the"});
}
bool is_no(std::string_view f) {
    return one_of(f, {"khong", "khong phai", "sai", "no", "chua", "khong dung", "sai roi", "khong a", "khong dong y",
                      "khong can"});
}
bool is_skip(std::string_view f) {
    return one_of(f, {"bo qua", "skip", "khong biet", "khong ro", "khong co", "khong", "chua biet", "thoi",
                      "khong nho", "bo qua nhe", "khong co a", "khong biet a", "qua", "tiep", "tiep tuc"});
}
bool is_done(std::string_view f) {
    return is_skip(f) || one_of(f, {"xong", "het", "du roi", "vay thoi", "khong co anh", "het roi", "xong roi", "da gui",
                                    "gui xong", "xong a", "het a"});
}

std::string truncate_chars(std::string_view text, std::size_t max_chars) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80) {
            if (chars == max_chars) return std::string(text.substr(0, i)) + "…";
            ++chars;
        }
    }
    return std::string(text);
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string day_vi(std::string_view iso) {  // 2026-11-15 -> 15/11/2026
    if (iso.size() != 10) return std::string(iso);
    return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" + std::string(iso.substr(0, 4));
}

std::string coords_text(const Location& l) {
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), "%.5f, %.5f", l.lat, l.lng);
    return buf.data();
}

// ---------------------------------------------------------------------------------------------------------------
// Filling the report

bool place_ok(const Draft& d) { return !d.report.commune_code.empty() || d.report.location.has_value(); }
bool time_ok(const Draft& d) { return !d.report.occurred_text.empty() || !d.report.occurred_date.empty(); }
bool required_ok(const Draft& d) {
    return d.kind_set && !d.report.description.empty() && place_ok(d) && time_ok(d);
}

// Whether the question being asked has its answer (then the dialog moves on).
bool step_satisfied(const Draft& d) {
    if (d.step == kStepKind) return d.kind_set;
    if (d.step == kStepDescription) return !d.report.description.empty();
    if (d.step == kStepPlace || d.step == kStepPlaceChoose) return !d.report.commune_code.empty() || d.report.location;
    if (d.step == kStepCoordsConfirm) return !d.pending_location;
    if (d.step == kStepTime) return !d.report.occurred_text.empty() || !d.report.occurred_date.empty();
    return false;
}

std::string next_step(const Draft& d) {
    if (!d.kind_set) return std::string(kStepKind);
    if (d.report.description.empty()) return std::string(kStepDescription);
    if (d.pending_location) return std::string(kStepCoordsConfirm);
    if (!place_ok(d)) return std::string(d.candidates.empty() ? kStepPlace : kStepPlaceChoose);
    if (!time_ok(d)) return std::string(kStepTime);
    if (!d.done.contains("suspect")) return std::string(kStepSuspect);
    if (!d.done.contains("evidence") && d.report.evidence.empty()) return std::string(kStepEvidence);
    if (!d.done.contains("contact")) return std::string(kStepContact);
    if (!d.report.anonymous && !d.done.contains("consent")) return std::string(kStepConsent);
    return std::string(kStepSummary);
}

const messages::Places* places_of(const messages::Content& content) { return content.places.get(); }

void set_unit(Draft& d, const messages::Unit& unit) {
    d.report.commune_code = unit.code;
    d.report.commune_name = unit.name;
    d.candidates.clear();
    d.candidate_hint.clear();
}

enum class PlaceOutcome { none, set, choose };

// Applies what Places recognised in `text`. `answer`: the text answers "where?" (keep it as the place detail).
PlaceOutcome absorb_place(Draft& d, const Turn& t, std::string_view text, bool answer) {
    const messages::Places* places = places_of(t.content);
    if (places == nullptr) return PlaceOutcome::none;
    const auto matches = places->recognise(text);
    if (matches.empty()) return PlaceOutcome::none;
    if (answer && syllable_count(folded(t.content, text)) > 4) {
        d.report.place_detail = truncate_chars(trim(text), kMaxFieldChars);
    }
    if (matches.size() == 1 && !matches.front().via_former_name) {
        if (d.editing == "place") d.report.location.reset();
        set_unit(d, *matches.front().unit);
        return PlaceOutcome::set;
    }
    d.candidates.clear();
    for (const auto& m : matches) d.candidates.push_back(m.unit->code);
    d.candidate_hint = matches.size() == 1 ? matches.front().matched_text : std::string();
    return PlaceOutcome::choose;
}

// A shared location or coordinates: kept if inside the province, otherwise questioned.
void absorb_location(Draft& d, const Location& loc, std::vector<std::string>& acks, const Turn& t) {
    if (messages::Places::inside_province(loc.lat, loc.lng)) {
        d.report.location = loc;
        d.pending_location.reset();
        if (d.editing == "place") {
            d.report.commune_code.clear();
            d.report.commune_name.clear();
        }
        d.candidates.clear();
        acks.push_back(fill(tpl(t.content, "tipoff.ack_location"), {{"coords", coords_text(loc)}}));
    } else {
        d.pending_location = loc;
    }
}

void absorb_time(Draft& d, std::string_view text, const Turn& t, bool answer) {
    const int offset = tipoff::utc_offset_minutes(t.ctx.settings.timezone_offset);
    auto date = tipoff::resolve_date(text, t.ctx.now_ms, offset);
    if (date) {
        d.report.occurred_date = *date;
        if (answer) d.report.occurred_text = truncate_chars(trim(text), 200);
    }
}

// What a longer free text tells besides its main answer: kind, place, time, coordinates.
void absorb_extras(Draft& d, const Turn& t, std::string_view text, std::vector<std::string>& acks) {
    const std::string f = folded(t.content, text);
    if (!d.kind_set) {
        if (auto k = tipoff::kind_from_folded(f)) {
            d.report.kind = *k;
            d.kind_set = true;
        }
    }
    if (auto loc = tipoff::parse_coordinates(text); loc && !d.report.location) absorb_location(d, *loc, acks, t);
    if (d.report.commune_code.empty() && d.candidates.empty()) absorb_place(d, t, text, false);
    if (!time_ok(d)) absorb_time(d, text, t, false);
}

std::string media_type(AttachmentType type) {
    switch (type) {
        case AttachmentType::image:
        case AttachmentType::gif:
            return "image";
        case AttachmentType::video:
            return "video";
        case AttachmentType::audio:
            return "audio";
        case AttachmentType::file:
            return "file";
        default:
            return {};
    }
}

// Photos, videos, locations and map links carried by the event.
void absorb_attachments(Draft& d, const Turn& t, std::vector<std::string>& acks) {
    std::size_t added = 0;
    for (const auto& a : t.event.attachments) {
        if (a.type == AttachmentType::location || a.location) {
            if (a.location) absorb_location(d, *a.location, acks, t);
            continue;
        }
        if (a.type == AttachmentType::link) {
            if (auto loc = tipoff::parse_coordinates(a.url)) absorb_location(d, *loc, acks, t);
            continue;
        }
        const std::string type = media_type(a.type);
        if (type.empty() || a.url.empty()) continue;
        if (d.report.evidence.size() >= kMaxEvidence) continue;
        d.report.evidence.push_back(tipoff::Evidence{a.url, type});
        ++added;
    }
    if (t.event.location) absorb_location(d, *t.event.location, acks, t);
    if (added > 0) {
        acks.push_back(fill(tpl(t.content, "tipoff.ack_evidence"),
                            {{"count", std::to_string(added)}, {"total", std::to_string(d.report.evidence.size())}}));
    }
}

void absorb_submitted(Draft& d, const SubmittedInfo& info) {
    d.report.reporter.name = truncate_chars(trim(info.name), 200);
    d.report.reporter.phone = truncate_chars(trim(info.phone), 40);
    d.report.reporter.address = truncate_chars(trim(info.address), 400);
    const bool any = !d.report.reporter.name.empty() || !d.report.reporter.phone.empty() ||
                     !d.report.reporter.address.empty();
    d.report.anonymous = !any;
    d.done.insert("contact");
    d.done.erase("consent");
    d.report.consent_share_identity = false;
}

void make_anonymous(Draft& d) {
    d.report.anonymous = true;
    d.report.consent_share_identity = false;
    d.report.reporter.name.clear();
    d.report.reporter.phone.clear();
    d.report.reporter.address.clear();
    d.done.insert("contact");
    d.done.insert("consent");
}

// "Nguyễn Văn A, 0912 345 678" -> name and phone.
bool absorb_contact_text(Draft& d, std::string_view text) {
    auto phone = tipoff::parse_phone(text);
    std::string name = trim(text);
    if (phone) {
        // Remove the digits run that made the phone, keep the rest as the name.
        std::string rest;
        for (const char c : name) {
            if ((c >= '0' && c <= '9') || c == '+') continue;
            rest += c;
        }
        name = rest;
    }
    // Strip labels and separators around the name.
    for (std::string_view label : {"SĐT", "sđt", "sdt", "SDT", "Sđt", "số điện thoại", "Số điện thoại", "điện thoại",
                                   "Điện thoại", "tên", "Tên", "tôi là", "Tôi là", "mình là", "Mình là", "em là"}) {
        std::size_t pos = 0;
        while ((pos = name.find(label)) != std::string::npos) name.erase(pos, label.size());
    }
    std::string cleaned;
    for (const char c : name) {
        if (c == ':' || c == ',' || c == ';' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')') {
            cleaned += ' ';
        } else {
            cleaned += c;
        }
    }
    std::string collapsed;
    for (const char c : cleaned) {
        if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
        collapsed += c;
    }
    name = trim(collapsed);
    if (!phone && name.empty()) return false;
    if (!phone && syllable_count(name) > 6) return false;  // not a name: ask again
    d.report.reporter.name = truncate_chars(name, 200);
    d.report.reporter.phone = phone.value_or("");
    d.report.anonymous = false;
    d.report.consent_share_identity = false;
    d.done.insert("contact");
    d.done.erase("consent");
    return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

QuickReply qr(const messages::Content& content, std::string_view title_key, std::string_view rest) {
    return QuickReply{tpl(content, title_key), payload(rest)};
}

std::string place_text(const Draft& d, const messages::Content& content) {
    std::string out = d.report.commune_name;
    if (!d.report.place_detail.empty()) {
        if (!out.empty()) out += " — ";
        out += truncate_chars(d.report.place_detail, kSummaryFieldChars);
    }
    if (d.report.location) {
        const std::string coords = fill(tpl(content, "tipoff.summary_coords"), {{"coords", coords_text(*d.report.location)}});
        out += out.empty() ? coords : " " + coords;
    }
    return out;
}

std::string time_text(const Draft& d) {
    if (d.report.occurred_text.empty()) return day_vi(d.report.occurred_date);
    if (d.report.occurred_date.empty()) return d.report.occurred_text;
    return d.report.occurred_text + " (" + day_vi(d.report.occurred_date) + ")";
}

OutMessage summary_message(const Draft& d, const messages::Content& content) {
    const Report& r = d.report;
    const std::string none = tpl(content, "tipoff.summary_none");
    std::string contact;
    if (r.anonymous) {
        contact = tpl(content, "tipoff.summary_anonymous");
    } else {
        contact = fill(tpl(content, "tipoff.summary_contact"),
                       {{"name", r.reporter.name.empty() ? none : r.reporter.name},
                        {"phone", r.reporter.phone.empty() ? none : r.reporter.phone},
                        {"consent", tpl(content, r.consent_share_identity ? "tipoff.summary_consent_yes"
                                                                          : "tipoff.summary_consent_no")}});
    }
    OutMessage m;
    m.text = fill(tpl(content, "tipoff.summary"),
                  {{"kind", tipoff::label_vi(r.kind)},
                   {"description", truncate_chars(r.description, kSummaryFieldChars)},
                   {"place", place_text(d, content)},
                   {"time", time_text(d)},
                   {"suspect", r.suspect.empty() ? none : truncate_chars(r.suspect, kSummaryFieldChars)},
                   {"evidence", std::to_string(r.evidence.size())},
                   {"contact", contact}});
    m.quick_replies = {qr(content, "tipoff.qr_confirm", kPConfirm), qr(content, "tipoff.qr_edit", kPEdit),
                       qr(content, "tipoff.qr_cancel", kPCancel)};
    return m;
}

OutMessage prompt(const Draft& d, const messages::Content& content) {
    OutMessage m;
    const std::string& s = d.step;
    const QuickReply cancel = qr(content, "tipoff.qr_cancel", kPCancel);
    const QuickReply back = qr(content, "tipoff.qr_back", kPBack);
    if (s == kStepKind) {
        m.text = tpl(content, "tipoff.ask_kind");
        for (auto k : {PollutionKind::wastewater, PollutionKind::solid_waste, PollutionKind::emissions,
                       PollutionKind::odour, PollutionKind::noise, PollutionKind::dead_animals, PollutionKind::burning,
                       PollutionKind::hazardous, PollutionKind::other}) {
            m.quick_replies.push_back(
                QuickReply{std::string(tipoff::label_vi(k)), payload(std::string(kPKind) + std::string(tipoff::to_string(k)))});
        }
        m.quick_replies.push_back(cancel);
    } else if (s == kStepDescription) {
        m.text = tpl(content, "tipoff.ask_description");
        m.quick_replies = {back, cancel};
    } else if (s == kStepPlace) {
        m.text = tpl(content, "tipoff.ask_place");
        m.quick_replies = {back, cancel};
    } else if (s == kStepPlaceChoose) {
        const messages::Places* places = places_of(content);
        std::vector<const messages::Unit*> units;
        for (const auto& code : d.candidates) {
            if (const messages::Unit* u = places ? places->find_code(code) : nullptr) units.push_back(u);
        }
        if (units.size() == 1) {
            m.text = fill(tpl(content, "tipoff.place_confirm_former"),
                          {{"former", d.candidate_hint}, {"unit", units.front()->name}});
            m.quick_replies = {QuickReply{tpl(content, "tipoff.qr_yes"), payload(std::string(kPPlace) + units.front()->code)},
                               qr(content, "tipoff.qr_no", std::string(kPPlace) + "none")};
        } else {
            m.text = tpl(content, "tipoff.place_choose");
            for (std::size_t i = 0; i < units.size() && i < kMaxChoices; ++i) {
                m.quick_replies.push_back(QuickReply{units[i]->name, payload(std::string(kPPlace) + units[i]->code)});
            }
            m.quick_replies.push_back(qr(content, "tipoff.qr_place_other", std::string(kPPlace) + "none"));
        }
    } else if (s == kStepCoordsConfirm) {
        m.text = fill(tpl(content, "tipoff.location_outside"),
                      {{"coords", d.pending_location ? coords_text(*d.pending_location) : std::string()}});
        m.quick_replies = {qr(content, "tipoff.qr_location_keep", std::string(kPLoc) + "yes"),
                           qr(content, "tipoff.qr_location_retry", std::string(kPLoc) + "no")};
    } else if (s == kStepTime) {
        m.text = tpl(content, d.time_retried ? "tipoff.time_unclear" : "tipoff.ask_time");
        m.quick_replies = {qr(content, "tipoff.qr_time_now", std::string(kPTime) + "now"),
                           qr(content, "tipoff.qr_time_today", std::string(kPTime) + "today"),
                           qr(content, "tipoff.qr_time_yesterday", std::string(kPTime) + "yesterday"), back, cancel};
    } else if (s == kStepSuspect) {
        m.text = tpl(content, "tipoff.ask_suspect");
        m.quick_replies = {qr(content, "tipoff.qr_skip", kPSkip), back, cancel};
    } else if (s == kStepEvidence) {
        if (d.report.evidence.empty()) {
            m.text = tpl(content, "tipoff.ask_evidence");
            m.quick_replies = {qr(content, "tipoff.qr_no_evidence", kPSkip), back, cancel};
        } else {
            m.text = tpl(content, "tipoff.ask_more_evidence");
            m.quick_replies = {qr(content, "tipoff.qr_done", kPDone), back, cancel};
        }
    } else if (s == kStepContact) {
        m.text = tpl(content, "tipoff.ask_contact");
        m.quick_replies = {qr(content, "tipoff.qr_anonymous", kPAnon), qr(content, "tipoff.qr_contact", kPContact), back,
                           cancel};
    } else if (s == kStepContactDetails) {
        m.text = tpl(content, "tipoff.ask_contact_details");
        m.quick_replies = {qr(content, "tipoff.qr_anonymous", kPAnon), back, cancel};
    } else if (s == kStepConsent) {
        m.text = tpl(content, "tipoff.ask_consent");
        m.quick_replies = {qr(content, "tipoff.qr_consent_yes", std::string(kPConsent) + "yes"),
                           qr(content, "tipoff.qr_consent_no", std::string(kPConsent) + "no")};
    } else if (s == kStepEdit) {
        m.text = tpl(content, "tipoff.ask_edit_field");
        for (auto field : kEditableFields) {
            m.quick_replies.push_back(QuickReply{tpl(content, "tipoff.field_" + std::string(field)),
                                                 payload(std::string(kPEdit) + ":" + std::string(field))});
        }
        m.quick_replies.push_back(qr(content, "tipoff.qr_to_summary", kPContinue));
    } else {
        return summary_message(d, content);
    }
    return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

Decision with_dialog(const ConversationState& state, const Draft& d) {
    Decision out{state, {}, {}};
    out.state.dialog = draft_to_json(d);
    return out;
}

Decision cleared(const ConversationState& state) {
    Decision out{state, {}, {}};
    out.state.dialog.clear();
    return out;
}

void go_to(Draft& d, std::string step) {
    if (step != d.step && !d.step.empty() && d.step != kStepEdit && d.step != kStepPlaceChoose &&
        d.step != kStepCoordsConfirm && d.step != kStepContactDetails) {
        d.history.push_back(d.step);
        if (d.history.size() > kMaxHistory) d.history.erase(d.history.begin());
    }
    d.step = std::move(step);
}

// Saves the draft and asks the next question (or `forced`), after any acknowledgements.
Decision ask(const ConversationState& state, Draft& d, const Turn& t, std::vector<std::string> acks,
             std::optional<std::string> forced = std::nullopt) {
    std::string target = forced ? *forced : next_step(d);
    if (!forced && d.pending_location) target = std::string(kStepCoordsConfirm);
    if (target != kStepPlaceChoose && target != kStepPlace && target != kStepEdit) {
        // Leaving the place question: a correction is over once something else is asked.
        if (d.editing == "place" && place_ok(d)) d.editing.clear();
    }
    if (target == kStepSummary) d.editing.clear();
    go_to(d, std::move(target));
    d.touched_ms = t.ctx.now_ms;
    Decision out = with_dialog(state, d);
    OutMessage m = prompt(d, t.content);
    if (!acks.empty()) {
        std::string head;
        for (const auto& a : acks) {
            if (!head.empty()) head += '\n';
            head += a;
        }
        m.text = head + "\n\n" + m.text;
    }
    out.replies.push_back(std::move(m));
    return out;
}

Draft new_draft(const Turn& t) {
    Draft d;
    d.report.platform = t.event.platform;
    d.report.page_id = t.event.page_id;
    d.report.reporter.platform_user_id = t.event.user_id;
    d.started_ms = t.ctx.now_ms;
    d.touched_ms = t.ctx.now_ms;
    return d;
}

Decision cancel(const ConversationState& state, const Turn& t) {
    Decision out = cleared(state);
    OutMessage m;
    m.text = tpl(t.content, "tipoff.cancelled");
    m.quick_replies = {QuickReply{tpl(t.content, "tipoff.qr_menu"), "MENU"}};
    out.replies.push_back(std::move(m));
    return out;
}

Decision interrupted(const ConversationState& state, Draft& d, const Turn& t) {
    d.touched_ms = t.ctx.now_ms;
    Decision out = with_dialog(state, d);
    OutMessage m;
    m.text = tpl(t.content, "tipoff.interrupted");
    m.quick_replies = {qr(t.content, "tipoff.qr_continue", kPContinue), qr(t.content, "tipoff.qr_cancel_report", kPCancel)};
    out.replies.push_back(std::move(m));
    return out;
}

Decision file(const ConversationState& state, Draft& d, const Turn& t) {
    if (!required_ok(d)) return ask(state, d, t, {});
    d.report.platform = t.event.platform;
    d.report.page_id = t.event.page_id;
    d.report.reporter.platform_user_id = t.event.user_id;
    Decision out = cleared(state);
    out.effects.emplace_back(FileTipoff{d.report});
    OutMessage m;
    m.text = fill(tpl(t.content, "tipoff.filed"), {{"code", kRefCodePlaceholder}});
    m.quick_replies = {QuickReply{tpl(t.content, "tipoff.qr_menu"), "MENU"}};
    out.replies.push_back(std::move(m));
    return out;
}

Decision back(const ConversationState& state, Draft& d, const Turn& t) {
    d.editing.clear();
    d.candidates.clear();
    d.pending_location.reset();
    if (d.history.empty()) {
        return ask(state, d, t, {tpl(t.content, "tipoff.back_at_start")}, d.step == kStepEdit ? next_step(d) : d.step);
    }
    std::string previous = d.history.back();
    d.history.pop_back();
    d.done.erase(previous);
    if (previous == kStepContact) d.done.erase("consent");
    d.step.clear();  // do not push the step we leave
    return ask(state, d, t, {}, previous);
}

// Starts correcting one field.
Decision edit_field(const ConversationState& state, Draft& d, const Turn& t, std::string_view field) {
    if (std::find(kEditableFields.begin(), kEditableFields.end(), field) == kEditableFields.end()) {
        return ask(state, d, t, {}, std::string(kStepEdit));
    }
    d.editing = std::string(field);
    d.candidates.clear();
    d.pending_location.reset();
    if (field == "evidence") {
        d.report.evidence.clear();
        d.done.erase("evidence");
    } else if (field == "contact") {
        d.done.erase("contact");
        d.done.erase("consent");
    } else if (field == "suspect") {
        d.done.erase("suspect");
    } else if (field == "time") {
        d.time_retried = false;
    }
    return ask(state, d, t, {}, std::string(field));
}

// "sửa địa điểm" -> "place"; "sửa" alone -> "" (show the list); not an edit command -> nullopt.
std::optional<std::string> edit_command(std::string_view f) {
    static constexpr std::array<std::string_view, 5> kVerbs{"chinh sua", "sua lai", "sua", "doi lai", "thay doi"};
    std::optional<std::string_view> rest;
    for (auto verb : kVerbs) {
        if (starts_with_phrase(f, verb)) {
            rest = f.substr(std::min(f.size(), verb.size() + 1));
            break;
        }
    }
    if (!rest) return std::nullopt;
    if (rest->empty()) return std::string();
    struct Word {
        std::string_view word;
        std::string_view field;
    };
    static constexpr std::array<Word, 27> kWords{{
        {"mo ta", "description"}, {"noi dung", "description"}, {"chi tiet", "description"},
        {"dia diem", "place"},    {"noi", "place"},            {"vi tri", "place"},
        {"dia chi", "place"},     {"xa", "place"},             {"phuong", "place"},
        {"loai", "kind"},         {"kieu", "kind"},            {"hanh vi", "kind"},
        {"thoi gian", "time"},    {"ngay", "time"},            {"luc", "time"},
        {"gio", "time"},          {"khi nao", "time"},         {"doi tuong", "suspect"},
        {"nguoi", "suspect"},     {"co so", "suspect"},        {"cong ty", "suspect"},
        {"anh", "evidence"},      {"hinh", "evidence"},        {"video", "evidence"},
        {"lien he", "contact"},   {"ten", "contact"},          {"so dien thoai", "contact"},
    }};
    for (const auto& w : kWords) {
        if (starts_with_phrase(*rest, w.word)) return std::string(w.field);
    }
    if (starts_with_phrase(*rest, "sdt") || starts_with_phrase(*rest, "dien thoai")) return std::string("contact");
    return std::nullopt;
}

// A tapped TIPOFF:* button while the dialog is open.
std::optional<Decision> on_payload(const ConversationState& state, Draft& d, const Turn& t, std::string_view p) {
    if (!p.starts_with(kPayloadPrefix)) return interrupted(state, d, t);  // MENU, TOPIC:..., SUBSCRIBE...
    p.remove_prefix(kPayloadPrefix.size());
    std::vector<std::string> acks;
    if (p == kPCancel) return cancel(state, t);
    if (p == kPBack) return back(state, d, t);
    if (p == kPContinue) return ask(state, d, t, {}, d.step == kStepEdit ? next_step(d) : d.step);
    if (p == kPStart) return interrupted(state, d, t);
    if (p == kPLookup) {
        Decision out = lookup(t.event, state, t.content, t.ctx);
        d.touched_ms = t.ctx.now_ms;
        out.state.dialog = draft_to_json(d);
        return out;
    }
    if (p.starts_with(kPKind)) {
        if (auto k = tipoff::pollution_kind_from_string(p.substr(kPKind.size()))) {
            d.report.kind = *k;
            d.kind_set = true;
            if (d.editing == "kind") d.editing.clear();
        }
        return ask(state, d, t, {});
    }
    if (p.starts_with(kPPlace)) {
        const std::string_view code = p.substr(kPPlace.size());
        const messages::Places* places = places_of(t.content);
        const messages::Unit* unit = places ? places->find_code(code) : nullptr;
        if (unit != nullptr) {
            if (d.editing == "place") d.report.location.reset();
            set_unit(d, *unit);
            return ask(state, d, t, {});
        }
        d.candidates.clear();
        d.candidate_hint.clear();
        return ask(state, d, t, {}, std::string(kStepPlace));
    }
    if (p.starts_with(kPLoc)) {
        if (p.substr(kPLoc.size()) == "yes" && d.pending_location) {
            d.report.location = d.pending_location;
            if (d.editing == "place") {
                d.report.commune_code.clear();
                d.report.commune_name.clear();
            }
        }
        d.pending_location.reset();
        if (!place_ok(d)) return ask(state, d, t, {}, std::string(kStepPlace));
        return ask(state, d, t, {});
    }
    if (p.starts_with(kPTime)) {
        const std::string_view which = p.substr(kPTime.size());
        const std::string phrase = tpl(t.content, which == "yesterday" ? "tipoff.qr_time_yesterday"
                                                  : which == "today"   ? "tipoff.qr_time_today"
                                                                       : "tipoff.qr_time_now");
        const int offset = tipoff::utc_offset_minutes(t.ctx.settings.timezone_offset);
        const std::int64_t shift = which == "yesterday" ? 24LL * 3600 * 1000 : 0;
        d.report.occurred_text = phrase;
        d.report.occurred_date = tipoff::resolve_date("hôm nay", t.ctx.now_ms - shift, offset).value_or("");
        return ask(state, d, t, {});
    }
    if (p == kPSkip || p == kPDone) {
        if (d.step == kStepSuspect || d.step == kStepEvidence) d.done.insert(d.step);
        if (d.step == kStepContact || d.step == kStepContactDetails) make_anonymous(d);
        return ask(state, d, t, {});
    }
    if (p == kPAnon) {
        make_anonymous(d);
        return ask(state, d, t, {});
    }
    if (p == kPContact) return ask(state, d, t, {}, std::string(kStepContactDetails));
    if (p.starts_with(kPConsent)) {
        d.report.consent_share_identity = p.substr(kPConsent.size()) == "yes";
        d.done.insert("consent");
        return ask(state, d, t, {});
    }
    if (p == kPConfirm) return file(state, d, t);
    if (p == kPEdit) return ask(state, d, t, {}, std::string(kStepEdit));
    if (p.starts_with(kPEdit) && p.size() > kPEdit.size() + 1 && p[kPEdit.size()] == ':') {
        return edit_field(state, d, t, p.substr(kPEdit.size() + 1));
    }
    return ask(state, d, t, {});  // unknown TIPOFF:* (an old button): ask the current question again
}

// A typed answer to the current question.
Decision on_text(const ConversationState& state, Draft& d, const Turn& t, std::string_view text,
                 std::vector<std::string> acks) {
    const std::string f = folded(t.content, text);
    const std::string& s = d.step;
    const std::string clean = truncate_chars(trim(text), kMaxFieldChars);

    if (s == kStepKind) {
        if (auto k = tipoff::kind_from_folded(f)) {
            d.report.kind = *k;
            d.kind_set = true;
        } else if (one_of(f, {"khac", "loai khac", "cai khac"})) {
            d.report.kind = PollutionKind::other;
            d.kind_set = true;
        }
        if (syllable_count(f) >= 4 && d.report.description.empty()) {
            d.report.description = clean;
            absorb_extras(d, t, text, acks);
        } else if (!d.kind_set) {
            acks.push_back(tpl(t.content, "tipoff.kind_unclear"));
        }
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepDescription) {
        d.report.description = clean;
        if (d.editing == "description") d.editing.clear();
        absorb_extras(d, t, text, acks);
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepPlace || s == kStepPlaceChoose) {
        if (s == kStepPlaceChoose && d.candidates.size() == 1 && is_yes(f)) {
            if (const auto* places = places_of(t.content)) {
                if (const messages::Unit* u = places->find_code(d.candidates.front())) {
                    if (d.editing == "place") d.report.location.reset();
                    set_unit(d, *u);
                    return ask(state, d, t, std::move(acks));
                }
            }
        }
        if (s == kStepPlaceChoose && is_no(f)) {
            d.candidates.clear();
            d.candidate_hint.clear();
            return ask(state, d, t, std::move(acks), std::string(kStepPlace));
        }
        if (auto loc = tipoff::parse_coordinates(text)) {
            absorb_location(d, *loc, acks, t);
            return ask(state, d, t, std::move(acks));
        }
        const std::vector<std::string> before = d.candidates;
        switch (absorb_place(d, t, text, true)) {
            case PlaceOutcome::set:
                return ask(state, d, t, std::move(acks));
            case PlaceOutcome::choose: {
                // Answering a choice with a name among the choices settles it.
                if (s == kStepPlaceChoose && !before.empty()) {
                    std::vector<std::string> common;
                    for (const auto& c : d.candidates) {
                        if (std::find(before.begin(), before.end(), c) != before.end()) common.push_back(c);
                    }
                    if (common.size() == 1 && d.candidate_hint.empty()) {
                        if (const messages::Unit* u = places_of(t.content)->find_code(common.front())) {
                            set_unit(d, *u);
                            return ask(state, d, t, std::move(acks));
                        }
                    }
                }
                return ask(state, d, t, std::move(acks), std::string(kStepPlaceChoose));
            }
            case PlaceOutcome::none:
                break;
        }
        // No commune or ward in it: keep it as the place detail and ask for the commune.
        if (syllable_count(f) >= 2) d.report.place_detail = clean;
        acks.push_back(tpl(t.content, "tipoff.place_unknown"));
        return ask(state, d, t, std::move(acks), std::string(kStepPlace));
    }
    if (s == kStepCoordsConfirm) {
        if (is_yes(f) && d.pending_location) {
            d.report.location = d.pending_location;
            d.pending_location.reset();
            return ask(state, d, t, std::move(acks));
        }
        d.pending_location.reset();
        if (is_no(f)) return ask(state, d, t, std::move(acks), std::string(kStepPlace));
        // Anything else: read it as a new place answer.
        d.step = std::string(kStepPlace);
        return on_text(state, d, t, text, std::move(acks));
    }
    if (s == kStepTime) {
        const int offset = tipoff::utc_offset_minutes(t.ctx.settings.timezone_offset);
        if (auto date = tipoff::resolve_date(text, t.ctx.now_ms, offset)) {
            d.report.occurred_date = *date;
            d.report.occurred_text = truncate_chars(clean, 200);
        } else if (!d.time_retried) {
            d.time_retried = true;
            return ask(state, d, t, std::move(acks), std::string(kStepTime));
        } else {
            d.report.occurred_text = truncate_chars(clean, 200);  // "lâu rồi", "thường xuyên về đêm": kept as typed
            d.report.occurred_date.clear();
        }
        d.time_retried = false;
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepSuspect) {
        d.report.suspect = is_skip(f) ? std::string() : clean;
        d.done.insert("suspect");
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepEvidence) {
        if (is_done(f)) {
            d.done.insert("evidence");
        } else {
            acks.push_back(tpl(t.content, "tipoff.evidence_hint"));
        }
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepContact) {
        if (one_of(f, {"an danh", "giau ten", "khong", "khong can", "khong de lai", "an danh nhe", "giu an danh"})) {
            make_anonymous(d);
            return ask(state, d, t, std::move(acks));
        }
        if (tipoff::parse_phone(text)) {
            absorb_contact_text(d, text);
            return ask(state, d, t, std::move(acks));
        }
        if (is_yes(f) || one_of(f, {"de lai lien he", "de lai", "lien he", "co de lai"})) {
            return ask(state, d, t, std::move(acks), std::string(kStepContactDetails));
        }
        acks.push_back(tpl(t.content, "tipoff.contact_unclear"));
        return ask(state, d, t, std::move(acks), std::string(kStepContact));
    }
    if (s == kStepContactDetails) {
        if (one_of(f, {"an danh", "thoi", "khong", "khong de lai"})) {
            make_anonymous(d);
            return ask(state, d, t, std::move(acks));
        }
        if (!absorb_contact_text(d, text)) {
            acks.push_back(tpl(t.content, "tipoff.contact_unclear"));
            return ask(state, d, t, std::move(acks), std::string(kStepContactDetails));
        }
        return ask(state, d, t, std::move(acks));
    }
    if (s == kStepConsent) {
        if (is_yes(f) || is_no(f)) {
            d.report.consent_share_identity = is_yes(f);
            d.done.insert("consent");
            return ask(state, d, t, std::move(acks));
        }
        return ask(state, d, t, std::move(acks), std::string(kStepConsent));
    }
    if (s == kStepSummary) {
        if (is_yes(f)) return file(state, d, t);
        if (is_no(f)) return ask(state, d, t, std::move(acks), std::string(kStepEdit));
        acks.push_back(tpl(t.content, "tipoff.summary_hint"));
        return ask(state, d, t, std::move(acks), std::string(kStepSummary));
    }
    if (s == kStepEdit) {
        if (auto field = edit_command("sua " + f); field && !field->empty()) return edit_field(state, d, t, *field);
        return ask(state, d, t, std::move(acks), std::string(kStepEdit));
    }
    return ask(state, d, t, std::move(acks));
}

bool is_question(std::string_view raw, std::string_view f) {
    if (raw.find('?') != std::string_view::npos) return true;
    for (std::string_view w : {"la gi", "nhu the nao", "the nao", "bao nhieu", "o dau", "co bi", "bi phat", "muc phat",
                               "lam sao", "lam the nao", "co duoc", "co phai", "tai sao", "vi sao", "khi nao", "ra sao"}) {
        if (contains_phrase(f, w)) return true;
    }
    for (std::string_view end : {"khong", "chua", "gi", "nao", "nhi", "ha", "sao"}) {
        if (f.ends_with(" " + std::string(end))) return true;
    }
    return false;
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------------

bool active(const ConversationState& state) { return draft_from_json(state.dialog).has_value(); }

bool expired(const ConversationState& state, const Context& ctx) {
    auto d = draft_from_json(state.dialog);
    return d && ctx.now_ms - d->touched_ms > ctx.settings.tipoff_idle_expiry_ms;
}

Intent classify(const Event& event, const messages::Content& content) {
    if (event.kind != EventKind::message && event.kind != EventKind::postback && event.kind != EventKind::comment) {
        return Intent::none;
    }
    const std::string_view p = event.payload;
    if (p == payload(kPStart)) return Intent::start;
    if (p == payload(kPLookup)) return Intent::lookup;
    if (p.starts_with(payload(kPKind))) return Intent::start;
    if (!p.empty() && event.text.empty()) return Intent::none;

    const std::string f = folded(content, event.text);
    if (f.empty()) return Intent::none;
    const bool code = tipoff::parse_ref_code(event.text).has_value();
    const bool lookup_word = starts_with_phrase(f, "tra cuu") || starts_with_phrase(f, "tra soat") ||
                             contains_phrase(f, "tra cuu phan anh") || contains_phrase(f, "tinh trang phan anh") ||
                             contains_phrase(f, "kiem tra ma");
    if (lookup_word || (code && syllable_count(f) <= 4)) return Intent::lookup;

    const bool question = is_question(event.text, f);
    for (std::string_view w : {"bao o nhiem", "bao cao o nhiem", "phan anh", "to giac", "to cao", "gui phan anh",
                               "bao vi pham", "khieu nai o nhiem", "trinh bao", "bao tin o nhiem"}) {
        if (contains_phrase(f, w)) {
            // "phản ánh ở đâu?" is a question about reporting: opening the dialog answers it best.
            return Intent::start;
        }
    }
    const std::size_t n = syllable_count(f);
    const bool trigger = contains_phrase(f, "xa thai") || contains_phrase(f, "dot rac") ||
                         contains_phrase(f, "do rac trom") || contains_phrase(f, "do trom rac");
    if (question) return Intent::none;  // "đốt rác bị phạt bao nhiêu?" is for the FAQ
    if (trigger && n <= 4) return Intent::start;

    const bool pollution = tipoff::kind_from_folded(f).has_value() || contains_phrase(f, "o nhiem");
    if (!pollution || n < 5) return Intent::none;
    bool context = false;
    for (std::string_view w : {"nha may", "cong ty", "co so", "xuong", "trang trai", "suoi", "song", "ho", "ao", "kenh",
                               "muong", "ra", "xuong", "dang", "hang ngay", "hang dem", "moi dem", "moi ngay", "co nguoi",
                               "nguoi ta", "o", "tai", "gan", "canh", "thon", "ban", "xom", "khu", "cho", "den ngom",
                               "boc mui", "nhieu", "suot"}) {
        if (contains_phrase(f, w)) {
            context = true;
            break;
        }
    }
    if (!context && content.places && !content.places->recognise(event.text).empty()) context = true;
    return context ? Intent::describes : Intent::none;
}

Decision start(const Event& event, const ConversationState& state, const messages::Content& content,
               const Context& ctx, std::string_view seed) {
    const Turn t{event, content, ctx};
    Draft d = new_draft(t);
    std::vector<std::string> acks;
    std::string seed_text = trim(seed);
    if (seed_text.empty() && event.payload.empty() && !event.text.empty()) {
        // "Tôi muốn phản ánh nhà máy giấy xả thải ra suối ở xã Tân Văn": the message is already a description.
        const std::string f = folded(content, event.text);
        if (syllable_count(f) >= 7) seed_text = trim(event.text);
    }
    if (!seed_text.empty()) {
        d.report.description = truncate_chars(seed_text, kMaxFieldChars);
        absorb_extras(d, t, seed_text, acks);
    }
    absorb_attachments(d, t, acks);
    if (event.submitted) absorb_submitted(d, *event.submitted);

    Decision out = ask(state, d, t, std::move(acks));
    OutMessage intro;
    intro.text = tpl(content, "tipoff.intro");
    out.replies.insert(out.replies.begin(), std::move(intro));
    return out;
}

Decision step(const Event& event, const ConversationState& state, const messages::Content& content,
              const Context& ctx) {
    const Turn t{event, content, ctx};
    auto loaded = draft_from_json(state.dialog);
    if (!loaded) {
        // A draft we cannot read (older version, damaged): drop it and treat the message as new.
        ConversationState fresh = state;
        fresh.dialog.clear();
        return handle(event, fresh, content, ctx);
    }
    Draft d = std::move(*loaded);

    if (event.kind == EventKind::timer) return expire(event, state, content, ctx);
    if (ctx.now_ms - d.touched_ms > ctx.settings.tipoff_idle_expiry_ms) {
        ConversationState fresh = state;
        fresh.dialog.clear();
        Decision out = handle(event, fresh, content, ctx);
        OutMessage notice;
        notice.text = tpl(content, "tipoff.expired");
        out.replies.insert(out.replies.begin(), std::move(notice));
        return out;
    }
    switch (event.kind) {
        case EventKind::message:
        case EventKind::postback:
        case EventKind::submit_info:
            break;
        case EventKind::follow:
        case EventKind::referral:
        case EventKind::optin:
            return interrupted(state, d, t);
        default:
            return Decision{state, {}, {}};  // receipts, reactions, echoes: nothing to do with the draft
    }

    d.report.reporter.platform_user_id = event.user_id;
    if (d.report.page_id.empty()) d.report.page_id = event.page_id;
    std::vector<std::string> acks;

    if (event.submitted) {
        absorb_submitted(d, *event.submitted);
        acks.push_back(tpl(content, "tipoff.ack_contact"));
        if (!d.report.anonymous) return ask(state, d, t, std::move(acks), std::string(kStepConsent));
        return ask(state, d, t, std::move(acks));
    }
    if (!event.payload.empty()) {
        if (auto out = on_payload(state, d, t, event.payload)) return std::move(*out);
    }

    const std::string f = folded(content, event.text);
    if (!f.empty()) {
        if (is_cancel(f)) return cancel(state, t);
        if (is_back(f)) return back(state, d, t);
        if (is_menu(f)) return interrupted(state, d, t);
        if (auto field = edit_command(f)) {
            if (field->empty()) return ask(state, d, t, {}, std::string(kStepEdit));
            return edit_field(state, d, t, *field);
        }
        if (classify(event, content) == Intent::lookup && tipoff::parse_ref_code(event.text)) {
            Decision out = lookup(event, state, content, ctx);
            d.touched_ms = ctx.now_ms;
            out.state.dialog = draft_to_json(d);
            return out;
        }
    }

    absorb_attachments(d, t, acks);
    const std::string text = trim(event.text);
    if (text.empty()) {
        // Photos or a location alone: move on if they answered the question, otherwise ask it again.
        std::optional<std::string> target;
        if (!d.pending_location && !step_satisfied(d)) target = d.step;
        return ask(state, d, t, std::move(acks), std::move(target));
    }
    return on_text(state, d, t, text, std::move(acks));
}

Decision lookup(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx) {
    Decision out{state, {}, {}};
    OutMessage m;
    auto code = tipoff::parse_ref_code(event.text);
    if (!code && event.payload.starts_with(payload(kPLookup) + ":")) {
        code = tipoff::parse_ref_code(std::string_view(event.payload).substr(payload(kPLookup).size() + 1));
    }
    if (!code) {
        m.text = tpl(content, "tipoff.lookup_ask_code");
        out.replies.push_back(std::move(m));
        return out;
    }
    std::optional<TipoffStatusView> view;
    if (ctx.lookups != nullptr) view = ctx.lookups->tipoff_status(*code, event.platform, event.user_id);
    if (!view) {
        m.text = fill(tpl(content, "tipoff.lookup_not_found"), {{"code", *code}});
    } else {
        m.text = fill(tpl(content, "tipoff.lookup_found"), {{"code", view->code.empty() ? *code : view->code},
                                                            {"status", tipoff::label_vi(view->status)},
                                                            {"date", view->updated_at}});
        if (!view->note.empty()) {
            m.text += "\n" + fill(tpl(content, "tipoff.lookup_note"), {{"note", truncate_chars(view->note, 1000)}});
        }
    }
    m.quick_replies = {QuickReply{tpl(content, "tipoff.qr_menu"), "MENU"}};
    out.replies.push_back(std::move(m));
    return out;
}

Decision expire(const Event& event, const ConversationState& state, const messages::Content& content,
                const Context& ctx) {
    (void)event;
    auto d = draft_from_json(state.dialog);
    if (!d) {
        Decision out{state, {}, {}};
        out.state.dialog.clear();
        return out;
    }
    if (ctx.now_ms - d->touched_ms <= ctx.settings.tipoff_idle_expiry_ms) return Decision{state, {}, {}};  // touched since
    Decision out = cleared(state);
    OutMessage m;
    m.text = tpl(content, "tipoff.expired");
    m.quick_replies = {QuickReply{tpl(content, "tipoff.qr_menu"), "MENU"}};
    out.replies.push_back(std::move(m));
    return out;
}

namespace {

constexpr std::int64_t kFacebookWindowMs = 24LL * 3600 * 1000;
constexpr std::int64_t kZaloWindowMs = 7LL * 24 * 3600 * 1000;

bool window_open(Platform platform, const ConversationState& state, std::int64_t now_ms) {
    switch (platform) {
        case Platform::facebook:
            return state.last_inbound_ms > 0 && now_ms - state.last_inbound_ms < kFacebookWindowMs;
        case Platform::zalo:
            return state.last_inbound_ms > 0 && now_ms - state.last_inbound_ms < kZaloWindowMs;
        case Platform::web:
        case Platform::cli:
            return true;
    }
    return false;
}

std::optional<OutMessage> notice_message(std::string_view code, const Event& event, const messages::Content& content,
                                         const Context& ctx) {
    if (ctx.lookups == nullptr) return std::nullopt;
    auto view = ctx.lookups->tipoff_status(code, event.platform, event.user_id);
    if (!view) return std::nullopt;  // not theirs (or gone): say nothing
    OutMessage m;
    m.text = tpl(content, "tipoff.status_update") + "\n" +
             fill(tpl(content, "tipoff.lookup_found"), {{"code", view->code},
                                                       {"status", tipoff::label_vi(view->status)},
                                                       {"date", view->updated_at}});
    if (!view->note.empty()) {
        m.text += "\n" + fill(tpl(content, "tipoff.lookup_note"), {{"note", truncate_chars(view->note, 1000)}});
    }
    m.quick_replies = {QuickReply{tpl(content, "tipoff.qr_menu"), "MENU"}};
    return m;
}

}  // namespace

Decision status_notice(const Event& event, const ConversationState& state, const messages::Content& content,
                       const Context& ctx) {
    Decision out{state, {}, {}};
    const std::string& code = event.payload;
    if (code.empty()) return out;
    if (!window_open(event.platform, state, ctx.now_ms)) {
        if (std::find(out.state.pending_notices.begin(), out.state.pending_notices.end(), code) ==
            out.state.pending_notices.end()) {
            out.state.pending_notices.push_back(code);
        }
        return out;
    }
    if (auto m = notice_message(code, event, content, ctx)) {
        out.replies.push_back(std::move(*m));
    }
    return out;
}

std::vector<OutMessage> take_pending_notices(ConversationState& state, const Event& event,
                                             const messages::Content& content, const Context& ctx) {
    std::vector<OutMessage> out;
    for (const auto& code : state.pending_notices) {
        if (auto m = notice_message(code, event, content, ctx)) out.push_back(std::move(*m));
    }
    state.pending_notices.clear();
    return out;
}

}  // namespace pgibot::handlers::tipoff_intake
