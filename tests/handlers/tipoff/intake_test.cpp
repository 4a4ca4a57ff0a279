// Full tip-off dialogs, calling tipoff_intake::start/step directly with the real content.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "handlers/tipoff/intake.hpp"
#include "messages/keys/tipoff.hpp"
#include "messages/normalize.hpp"
#include "tests/handlers/tipoff/content_fixture.hpp"

namespace pgibot::handlers {
namespace {

namespace intake = tipoff_intake;
using tipoff::PollutionKind;

constexpr std::int64_t kThursday = 1795662000000;  // 2026-11-26 10:00 +07:00

class FakeLookups : public Lookups {
public:
    std::optional<TipoffStatusView> tipoff_status(std::string_view code, Platform platform,
                                                  std::string_view user_id) const override {
        ++calls;
        if (code == "LS-2611-0042" && platform == Platform::facebook && user_id == "u1") {
            return TipoffStatusView{"LS-2611-0042", tipoff::Status::in_progress, "2026-11-29 14:05",
                                    "Đoàn kiểm tra đã đến hiện trường."};
        }
        return std::nullopt;
    }
    mutable int calls = 0;
};

std::string text_of(const std::string& key) { return test::content().catalogue->text(key); }

// A conversation with one citizen: events in, decisions out, the state carried along.
class Chat {
public:
    Chat() {
        ctx.now_ms = kThursday;
        ctx.lookups = &lookups;
    }

    Event event(EventKind kind = EventKind::message) const {
        Event e;
        e.platform = Platform::facebook;
        e.kind = kind;
        e.page_id = "page1";
        e.user_id = "u1";
        e.timestamp_ms = ctx.now_ms;
        return e;
    }
    Event text(std::string_view t) const {
        Event e = event();
        e.text = std::string(t);
        return e;
    }
    Event tap(std::string_view payload, std::string_view title = "") const {
        Event e = event();
        e.payload = std::string(payload);
        e.text = std::string(title);
        return e;
    }
    Event photo(std::string_view url, AttachmentType type = AttachmentType::image) const {
        Event e = event();
        e.attachments.push_back(Attachment{type, std::string(url), "", "", std::nullopt});
        return e;
    }
    Event shared_location(double lat, double lng) const {  // Zalo user_send_location
        Event e = event();
        e.location = Location{lat, lng};
        return e;
    }
    Event location_attachment(double lat, double lng) const {  // Facebook-style location attachment
        Event e = event();
        e.attachments.push_back(Attachment{AttachmentType::location, "", "", "", Location{lat, lng}});
        return e;
    }

    const Decision& start(const Event& e, std::string_view seed = "") {
        return keep(intake::start(e, state, test::content(), ctx, seed));
    }
    const Decision& send(const Event& e) {
        ctx.now_ms += 1000;
        return keep(intake::step(e, state, test::content(), ctx));
    }
    const Decision& send(std::string_view t) { return send(text(t)); }

    [[nodiscard]] nlohmann::json draft() const {
        return state.dialog.empty() ? nlohmann::json() : nlohmann::json::parse(state.dialog);
    }
    [[nodiscard]] std::string step() const { return state.dialog.empty() ? "" : draft().at("step").get<std::string>(); }
    [[nodiscard]] nlohmann::json report() const { return draft().at("report"); }
    [[nodiscard]] const std::string& last_text() const { return last.replies.back().text; }
    [[nodiscard]] bool offers(std::string_view payload) const {
        for (const auto& r : last.replies) {
            for (const auto& q : r.quick_replies) {
                if (q.payload == payload) return true;
            }
        }
        return false;
    }
    [[nodiscard]] const tipoff::Report* filed() const {
        for (const auto& e : last.effects) {
            if (const auto* f = std::get_if<FileTipoff>(&e)) return &f->report;
        }
        return nullptr;
    }

    ConversationState state;
    Context ctx;
    FakeLookups lookups;
    Decision last;

private:
    const Decision& keep(Decision d) {
        // Every reply of the dialog: within platform limits, quick-reply titles <= 20 characters.
        for (const auto& r : d.replies) {
            EXPECT_FALSE(r.text.empty());
            EXPECT_LE(messages::count_chars(r.text), 2000u);
            EXPECT_LE(r.quick_replies.size(), 13u);
            for (const auto& q : r.quick_replies) {
                EXPECT_LE(messages::count_chars(q.title), 20u) << q.title;
                EXPECT_FALSE(q.payload.empty());
            }
            EXPECT_EQ(r.text.find("[tipoff."), std::string::npos) << "missing template in: " << r.text;
        }
        state = d.state;
        last = std::move(d);
        return last;
    }
};

TEST(TipoffTemplates, EveryKeyIsDefinedAndWithinLimits) {
    const auto& cat = *test::content().catalogue;
    for (auto key : messages::keys::kTipoff) {
        SCOPED_TRACE(std::string(key));
        ASSERT_TRUE(cat.templates.contains(key));
        const std::string& t = cat.templates.find(key)->second;
        EXPECT_FALSE(t.empty());
        EXPECT_EQ(messages::to_nfc(t), t);
        EXPECT_LE(messages::count_chars(t), 2000u);
        if (key.starts_with("tipoff.qr_") || key.starts_with("tipoff.field_")) {
            EXPECT_LE(messages::count_chars(t), 20u);
        }
    }
}

TEST(TipoffClassify, Intents) {
    Chat c;
    auto cls = [&](std::string_view t) { return intake::classify(c.text(t), test::content()); };
    EXPECT_EQ(intake::classify(c.tap("TIPOFF:START", "Báo ô nhiễm"), test::content()), intake::Intent::start);
    EXPECT_EQ(cls("báo ô nhiễm"), intake::Intent::start);
    EXPECT_EQ(cls("bao o nhiem"), intake::Intent::start);
    EXPECT_EQ(cls("Phản ánh"), intake::Intent::start);
    EXPECT_EQ(cls("to giac"), intake::Intent::start);
    EXPECT_EQ(cls("xả thải"), intake::Intent::start);
    EXPECT_EQ(cls("dot rac"), intake::Intent::start);
    EXPECT_EQ(cls("có người đổ rác ra suối ở xã Tân Văn"), intake::Intent::describes);
    EXPECT_EQ(cls("nhà máy xả nước thải đen ngòm"), intake::Intent::describes);
    EXPECT_EQ(cls("nha may xa nuoc thai den ngom"), intake::Intent::describes);
    EXPECT_EQ(cls("tra cứu LS-2611-0042"), intake::Intent::lookup);
    EXPECT_EQ(cls("tra cuu ls-2611-0042"), intake::Intent::lookup);
    EXPECT_EQ(cls("LS-2611-0042"), intake::Intent::lookup);
    EXPECT_EQ(cls("đốt rác bị phạt bao nhiêu?"), intake::Intent::none);
    EXPECT_EQ(cls("PGI là gì"), intake::Intent::none);
    EXPECT_EQ(cls("xin chào"), intake::Intent::none);
}

TEST(TipoffDialog, TextOnlyAnonymous) {
    Chat c;
    const Decision& d0 = c.start(c.tap("TIPOFF:START", "Báo ô nhiễm"));
    ASSERT_EQ(d0.replies.size(), 2u);
    EXPECT_EQ(d0.replies[0].text, text_of("tipoff.intro"));
    EXPECT_EQ(c.step(), "kind");
    EXPECT_TRUE(c.offers("TIPOFF:KIND:wastewater"));
    EXPECT_TRUE(c.offers("TIPOFF:KIND:burning"));
    EXPECT_TRUE(c.offers("TIPOFF:CANCEL"));
    EXPECT_TRUE(intake::active(c.state));
    EXPECT_EQ(c.draft().at("touched_ms").get<std::int64_t>(), kThursday);

    c.send(c.tap("TIPOFF:KIND:wastewater", "Nước thải"));
    EXPECT_EQ(c.step(), "description");
    c.send("Nhà máy xả nước thải đen ngòm xuống suối, mùi rất hôi");
    EXPECT_EQ(c.step(), "place");
    c.send("thôn Nà Cà, xã Tân Văn");
    EXPECT_EQ(c.step(), "time");
    c.send("sáng nay");
    EXPECT_EQ(c.step(), "suspect");
    c.send("bỏ qua");
    EXPECT_EQ(c.step(), "evidence");
    c.send(c.tap("TIPOFF:SKIP", "Không có ảnh"));
    EXPECT_EQ(c.step(), "contact");
    c.send(c.tap("TIPOFF:ANON", "Ẩn danh"));
    EXPECT_EQ(c.step(), "summary");
    EXPECT_NE(c.last_text().find("Xã Tân Văn"), std::string::npos);
    EXPECT_NE(c.last_text().find("Nước thải"), std::string::npos);
    EXPECT_NE(c.last_text().find("26/11/2026"), std::string::npos);
    EXPECT_TRUE(c.offers("TIPOFF:CONFIRM"));
    EXPECT_TRUE(c.offers("TIPOFF:EDIT"));
    EXPECT_TRUE(c.offers("TIPOFF:CANCEL"));
    EXPECT_EQ(c.filed(), nullptr);  // nothing filed before the confirmation

    c.send(c.tap("TIPOFF:CONFIRM", "Gửi phản ánh"));
    const tipoff::Report* r = c.filed();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->kind, PollutionKind::wastewater);
    EXPECT_EQ(r->description, "Nhà máy xả nước thải đen ngòm xuống suối, mùi rất hôi");
    EXPECT_EQ(r->commune_code, "06115");
    EXPECT_EQ(r->commune_name, "Xã Tân Văn");
    EXPECT_EQ(r->occurred_text, "sáng nay");
    EXPECT_EQ(r->occurred_date, "2026-11-26");
    EXPECT_TRUE(r->suspect.empty());
    EXPECT_TRUE(r->evidence.empty());
    EXPECT_TRUE(r->anonymous);
    EXPECT_FALSE(r->consent_share_identity);
    EXPECT_EQ(r->reporter.platform_user_id, "u1");
    EXPECT_TRUE(r->reporter.name.empty());
    EXPECT_EQ(r->platform, Platform::facebook);
    EXPECT_EQ(r->page_id, "page1");
    EXPECT_NE(c.last_text().find(kRefCodePlaceholder), std::string::npos);
    EXPECT_TRUE(c.state.dialog.empty());
    EXPECT_FALSE(intake::active(c.state));
}

TEST(TipoffDialog, DescribedSeedWithPhotosLocationAndContactWithConsent) {
    Chat c;
    const std::string seed = "có người đổ rác ra suối ở xã Đồng Đăng sáng nay";
    c.start(c.tap("YES", "Có"), seed);
    EXPECT_EQ(c.report().at("kind"), "solid_waste");
    EXPECT_EQ(c.report().at("commune_name"), "Xã Đồng Đăng");
    EXPECT_EQ(c.report().at("occurred_date"), "2026-11-26");
    EXPECT_EQ(c.step(), "suspect");

    for (int i = 0; i < 3; ++i) {
        c.send(c.photo("https://cdn.example/p" + std::to_string(i) + ".jpg"));
        EXPECT_EQ(c.step(), "suspect");  // photos do not answer "who?"
    }
    c.send(c.photo("https://cdn.example/v.mp4", AttachmentType::video));
    EXPECT_EQ(c.report().at("evidence").size(), 4u);
    c.send(c.shared_location(21.9700, 106.7000));
    EXPECT_TRUE(c.report().at("location").is_object());
    EXPECT_EQ(c.step(), "suspect");

    c.send("xe tải biển số 12C-345.67");
    EXPECT_EQ(c.step(), "contact");  // evidence already given: not asked again
    c.send(c.tap("TIPOFF:CONTACT", "Để lại liên hệ"));
    EXPECT_EQ(c.step(), "contact_details");
    c.send("Nguyễn Văn A, 0912 345 678");
    EXPECT_EQ(c.step(), "consent");
    c.send("đồng ý");
    EXPECT_EQ(c.step(), "summary");
    EXPECT_NE(c.last_text().find("Nguyễn Văn A"), std::string::npos);
    c.send("gửi");
    const tipoff::Report* r = c.filed();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->evidence.size(), 4u);
    EXPECT_EQ(r->evidence[3].media_type, "video");
    ASSERT_TRUE(r->location);
    EXPECT_DOUBLE_EQ(r->location->lat, 21.97);
    EXPECT_EQ(r->suspect, "xe tải biển số 12C-345.67");
    EXPECT_FALSE(r->anonymous);
    EXPECT_TRUE(r->consent_share_identity);
    EXPECT_EQ(r->reporter.name, "Nguyễn Văn A");
    EXPECT_EQ(r->reporter.phone, "0912345678");
    EXPECT_EQ(r->reporter.platform_user_id, "u1");
}

TEST(TipoffDialog, BurstOutOfOrder) {
    Chat c;
    c.start(c.tap("TIPOFF:START"));
    EXPECT_EQ(c.step(), "kind");
    c.send(c.location_attachment(21.8537, 106.7615));  // the location first
    EXPECT_EQ(c.step(), "kind");
    c.send(c.photo("https://cdn.example/1.jpg"));
    c.send(c.photo("https://cdn.example/2.jpg"));
    EXPECT_EQ(c.step(), "kind");
    EXPECT_NE(c.last_text().find("2"), std::string::npos);  // "tổng cộng 2"
    // Then the text: kind, description and time in one message; the place is already known from the location.
    c.send("nhà máy bốc khói đen cả đêm qua, không thở nổi");
    EXPECT_EQ(c.report().at("kind"), "emissions");
    EXPECT_EQ(c.report().at("occurred_date"), "2026-11-25");
    EXPECT_FALSE(c.report().at("description").get<std::string>().empty());
    EXPECT_EQ(c.step(), "suspect");
    c.send("không biết");
    EXPECT_EQ(c.step(), "contact");
    c.send("ẩn danh");
    EXPECT_EQ(c.step(), "summary");
    c.send(c.tap("TIPOFF:CONFIRM"));
    ASSERT_NE(c.filed(), nullptr);
    EXPECT_EQ(c.filed()->evidence.size(), 2u);
    EXPECT_TRUE(c.filed()->commune_code.empty());  // coordinates only
    EXPECT_TRUE(c.filed()->location);
}

TEST(TipoffDialog, CoordinatesOutsideTheProvinceAreQuestioned) {
    Chat c;
    c.start(c.text("báo ô nhiễm"));
    c.send(c.tap("TIPOFF:KIND:noise"));
    c.send("máy nghiền đá chạy ầm ầm suốt đêm");
    EXPECT_EQ(c.step(), "place");
    c.send(c.shared_location(21.0285, 105.8542));  // Hà Nội
    EXPECT_EQ(c.step(), "coords_confirm");
    EXPECT_TRUE(c.offers("TIPOFF:LOC:yes"));
    EXPECT_TRUE(c.report().at("location").is_null());
    c.send("không");
    EXPECT_EQ(c.step(), "place");
    c.send("https://www.google.com/maps/place/abc/@21.0285,105.8542,17z");
    EXPECT_EQ(c.step(), "coords_confirm");
    c.send(c.tap("TIPOFF:LOC:yes", "Đúng, giữ vị trí"));
    EXPECT_TRUE(c.report().at("location").is_object());
    EXPECT_EQ(c.step(), "time");
    // A link inside the province is taken at once.
    Chat d;
    d.start(d.text("báo ô nhiễm"));
    d.send(d.tap("TIPOFF:KIND:odour"));
    d.send("bãi rác bốc mùi hôi thối");
    d.send("https://maps.google.com/?q=21.84,106.75");
    EXPECT_EQ(d.step(), "time");
}

TEST(TipoffDialog, FormerAndAmbiguousPlaceNamesAreConfirmed) {
    Chat c;
    c.start(c.text("phản ánh"));
    c.send(c.tap("TIPOFF:KIND:burning"));
    c.send("đốt rác thải nhựa khói đen");
    c.send("thị trấn Thất Khê");
    EXPECT_EQ(c.step(), "place_choose");
    EXPECT_TRUE(c.offers("TIPOFF:PLACE:06040"));
    EXPECT_NE(c.last_text().find("Xã Thất Khê"), std::string::npos);
    c.send("đúng");
    EXPECT_EQ(c.report().at("commune_code"), "06040");
    EXPECT_EQ(c.step(), "time");

    c.send("quay lại");
    EXPECT_EQ(c.step(), "place");
    c.send("xã Hòa Bình");
    EXPECT_EQ(c.step(), "place_choose");
    EXPECT_TRUE(c.offers("TIPOFF:PLACE:06391"));
    EXPECT_TRUE(c.offers("TIPOFF:PLACE:06505"));
    c.send(c.tap("TIPOFF:PLACE:06391", "Xã Yên Bình"));
    EXPECT_EQ(c.report().at("commune_name"), "Xã Yên Bình");
    EXPECT_EQ(c.step(), "time");

    c.send("quay lại");
    c.send("gần chợ");
    EXPECT_EQ(c.step(), "place");  // no commune in it: kept as detail, asked again
    EXPECT_EQ(c.report().at("place_detail"), "gần chợ");
}

TEST(TipoffDialog, ContactFromZaloSubmitInfoWithoutConsent) {
    Chat c;
    c.start(c.text("có người đổ rác ra suối ở xã Tân Văn sáng nay"),
            "có người đổ rác ra suối ở xã Tân Văn sáng nay");
    c.send("bỏ qua");
    c.send("không có");
    EXPECT_EQ(c.step(), "contact");
    Event info = c.event(EventKind::submit_info);
    info.platform = Platform::zalo;
    info.submitted = SubmittedInfo{"Trần Thị B", "0987654321", "Phường Đông Kinh"};
    c.send(info);
    EXPECT_EQ(c.step(), "consent");
    c.send(c.tap("TIPOFF:CONSENT:no", "Không đồng ý"));
    EXPECT_EQ(c.step(), "summary");
    c.send(c.tap("TIPOFF:CONFIRM"));
    const tipoff::Report* r = c.filed();
    ASSERT_NE(r, nullptr);
    EXPECT_FALSE(r->anonymous);
    EXPECT_FALSE(r->consent_share_identity);
    EXPECT_EQ(r->reporter.name, "Trần Thị B");
    EXPECT_EQ(r->reporter.phone, "0987654321");
    EXPECT_EQ(r->reporter.address, "Phường Đông Kinh");
    EXPECT_EQ(r->reporter.platform_user_id, "u1");
}

// Brings a chat to the summary with a minimal report.
void to_summary(Chat& c) {
    c.start(c.text("báo ô nhiễm"));
    c.send(c.tap("TIPOFF:KIND:wastewater"));
    c.send("nước thải chảy ra suối");
    c.send("xã Na Sầm");
    c.send("hôm qua");
    c.send(c.tap("TIPOFF:SKIP"));
    c.send(c.tap("TIPOFF:SKIP"));
    c.send(c.tap("TIPOFF:ANON"));
    ASSERT_EQ(c.step(), "summary");
}

TEST(TipoffDialog, CorrectAFieldFromTheSummary) {
    Chat c;
    to_summary(c);
    c.send("sửa địa điểm");
    EXPECT_EQ(c.step(), "place");
    c.send("phường Đông Kinh");
    EXPECT_EQ(c.step(), "summary");
    EXPECT_EQ(c.report().at("commune_name"), "Phường Đông Kinh");

    c.send(c.tap("TIPOFF:EDIT", "Sửa"));
    EXPECT_EQ(c.step(), "edit");
    EXPECT_TRUE(c.offers("TIPOFF:EDIT:kind"));
    c.send(c.tap("TIPOFF:EDIT:kind"));
    EXPECT_EQ(c.step(), "kind");
    c.send(c.tap("TIPOFF:KIND:odour"));
    EXPECT_EQ(c.step(), "summary");

    c.send("sua thoi gian");
    EXPECT_EQ(c.step(), "time");
    c.send("15/11");
    EXPECT_EQ(c.step(), "summary");
    c.send(c.tap("TIPOFF:CONFIRM"));
    ASSERT_NE(c.filed(), nullptr);
    EXPECT_EQ(c.filed()->kind, PollutionKind::odour);
    EXPECT_EQ(c.filed()->commune_code, "05977");
    EXPECT_EQ(c.filed()->occurred_date, "2026-11-15");
}

TEST(TipoffDialog, GoBack) {
    Chat c;
    c.start(c.text("báo ô nhiễm"));
    c.send("quay lại");  // nothing before the first question
    EXPECT_EQ(c.step(), "kind");
    EXPECT_NE(c.last_text().find(text_of("tipoff.back_at_start")), std::string::npos);
    c.send(c.tap("TIPOFF:KIND:noise"));
    c.send("karaoke ồn ào đến 2 giờ sáng");
    c.send("xã Na Dương");
    EXPECT_EQ(c.step(), "time");
    c.send(c.tap("TIPOFF:BACK", "Quay lại"));
    EXPECT_EQ(c.step(), "place");
    c.send("xã Lộc Bình");
    EXPECT_EQ(c.report().at("commune_name"), "Xã Lộc Bình");
    EXPECT_EQ(c.step(), "time");
}

TEST(TipoffDialog, Cancelled) {
    for (std::string_view how : {"HỦY", "huy", "Hủy bỏ"}) {
        Chat c;
        c.start(c.text("báo ô nhiễm"));
        c.send(c.tap("TIPOFF:KIND:noise"));
        c.send(how);
        EXPECT_TRUE(c.state.dialog.empty()) << how;
        EXPECT_EQ(c.last_text(), text_of("tipoff.cancelled"));
        EXPECT_TRUE(c.last.effects.empty());
    }
    Chat c;
    to_summary(c);
    c.send(c.tap("TIPOFF:CANCEL", "Hủy"));
    EXPECT_TRUE(c.state.dialog.empty());
    EXPECT_EQ(c.filed(), nullptr);
}

TEST(TipoffDialog, MenuWhileActiveKeepsTheDraft) {
    Chat c;
    c.start(c.text("báo ô nhiễm"));
    c.send(c.tap("TIPOFF:KIND:noise"));
    const std::string before = c.report().dump();
    c.send("menu");
    EXPECT_TRUE(intake::active(c.state));
    EXPECT_EQ(c.last_text(), text_of("tipoff.interrupted"));
    EXPECT_TRUE(c.offers("TIPOFF:CONTINUE"));
    EXPECT_TRUE(c.offers("TIPOFF:CANCEL"));
    EXPECT_EQ(c.report().dump(), before);
    c.send(c.tap("MENU", "Menu"));
    EXPECT_TRUE(intake::active(c.state));
    c.send(c.tap("TIPOFF:CONTINUE", "Tiếp tục"));
    EXPECT_EQ(c.step(), "description");
    EXPECT_EQ(c.last_text(), text_of("tipoff.ask_description"));
}

TEST(TipoffDialog, IdleDraftExpires) {
    Chat c;
    c.start(c.text("báo ô nhiễm"));
    c.send(c.tap("TIPOFF:KIND:noise"));
    // The timer, before the draft is old enough: nothing happens.
    Event timer = c.event(EventKind::timer);
    timer.source_type = "timer.tipoff_expiry";
    Decision early = intake::expire(timer, c.state, test::content(), c.ctx);
    EXPECT_TRUE(early.replies.empty());
    EXPECT_EQ(early.state.dialog, c.state.dialog);
    EXPECT_FALSE(intake::expired(c.state, c.ctx));

    Context later = c.ctx;
    later.now_ms += c.ctx.settings.tipoff_idle_expiry_ms + 60'000;
    EXPECT_TRUE(intake::expired(c.state, later));
    Decision timed_out = intake::expire(timer, c.state, test::content(), later);
    EXPECT_TRUE(timed_out.state.dialog.empty());
    ASSERT_EQ(timed_out.replies.size(), 1u);
    EXPECT_EQ(timed_out.replies[0].text, text_of("tipoff.expired"));

    // The next message after the expiry: told, and handled as if no dialog were open.
    c.ctx.now_ms = later.now_ms;
    c.send("tra cứu LS-2611-0042");
    EXPECT_TRUE(c.state.dialog.empty());
    ASSERT_GE(c.last.replies.size(), 1u);
    EXPECT_EQ(c.last.replies[0].text, text_of("tipoff.expired"));
}

TEST(TipoffLookup, OwnReportOnly) {
    Chat c;
    Decision own = intake::lookup(c.text("tra cứu LS-2611-0042"), c.state, test::content(), c.ctx);
    ASSERT_EQ(own.replies.size(), 1u);
    EXPECT_NE(own.replies[0].text.find("Đang xác minh, xử lý"), std::string::npos);
    EXPECT_NE(own.replies[0].text.find("2026-11-29 14:05"), std::string::npos);
    EXPECT_NE(own.replies[0].text.find("Đoàn kiểm tra"), std::string::npos);

    Decision spaced = intake::lookup(c.text("tra cuu ls 2611 0042"), c.state, test::content(), c.ctx);
    EXPECT_EQ(spaced.replies[0].text, own.replies[0].text);

    Event other = c.text("tra cứu LS-2611-0042");
    other.user_id = "someone-else";
    Decision theirs = intake::lookup(other, c.state, test::content(), c.ctx);
    Decision unknown = intake::lookup(c.text("tra cứu LS-2611-0043"), c.state, test::content(), c.ctx);
    const std::string not_found = text_of("tipoff.lookup_not_found");
    auto code_free = [](std::string s, std::string_view code) {
        const auto pos = s.find(code);
        if (pos != std::string::npos) s.erase(pos, code.size());
        return s;
    };
    EXPECT_EQ(code_free(theirs.replies[0].text, "LS-2611-0042"), code_free(unknown.replies[0].text, "LS-2611-0043"));
    EXPECT_EQ(theirs.replies[0].text.find("Đang xác minh"), std::string::npos);

    Decision no_code = intake::lookup(c.text("tra cứu"), c.state, test::content(), c.ctx);
    EXPECT_EQ(no_code.replies[0].text, text_of("tipoff.lookup_ask_code"));

    Context no_store = c.ctx;
    no_store.lookups = nullptr;
    Decision none = intake::lookup(c.text("tra cứu LS-2611-0042"), c.state, test::content(), no_store);
    EXPECT_EQ(none.replies[0].text, theirs.replies[0].text);
}

TEST(TipoffDialog, DamagedDraftIsNotActive) {
    ConversationState s;
    s.dialog = "{not json";
    EXPECT_FALSE(intake::active(s));
    s.dialog = "{\"step\":\"kind\",\"report\":{\"kind\":\"volcano\"}}";
    EXPECT_FALSE(intake::active(s));
    s.dialog.clear();
    EXPECT_FALSE(intake::active(s));
}

}  // namespace
}  // namespace pgibot::handlers
