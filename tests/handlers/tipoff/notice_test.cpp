// Status updates to a reporter: told at once inside the platform's messaging window (Facebook 24 h,
// Zalo 7 days), otherwise kept and told first at their next message; never to someone else.
#include <gtest/gtest.h>

#include "handlers/handler.hpp"
#include "tests/handlers/tipoff/content_fixture.hpp"

namespace {

using namespace pgibot;
using handlers::TipoffStatusView;

constexpr std::int64_t kHour = 3600LL * 1000;
constexpr std::int64_t kNow = 1'764'400'000'000;

class OneReport : public handlers::Lookups {
public:
    std::optional<TipoffStatusView> tipoff_status(std::string_view code, Platform platform,
                                                  std::string_view user_id) const override {
        if (code == "LS-2611-0007" && user_id == "reporter" && platform != Platform::cli) {
            return TipoffStatusView{"LS-2611-0007", tipoff::Status::in_progress, "2026-11-29 09:00", "Đã kiểm tra"};
        }
        return std::nullopt;
    }
};

Event status_event(Platform p, const std::string& user = "reporter") {
    Event e;
    e.platform = p;
    e.page_id = "page";
    e.user_id = user;
    e.kind = EventKind::timer;
    e.source_type = "timer.tipoff_status";
    e.payload = "LS-2611-0007";
    return e;
}

Event text_event(Platform p, const std::string& text) {
    Event e;
    e.platform = p;
    e.page_id = "page";
    e.user_id = "reporter";
    e.kind = EventKind::message;
    e.text = text;
    e.timestamp_ms = kNow;
    return e;
}

handlers::Context context(const OneReport& lookups) {
    handlers::Context ctx;
    ctx.now_ms = kNow;
    ctx.lookups = &lookups;
    return ctx;
}

ConversationState greeted_at(std::int64_t last_inbound_ms) {
    ConversationState s;
    s.greeted = true;
    s.first_seen_ms = last_inbound_ms;
    s.last_inbound_ms = last_inbound_ms;
    return s;
}

TEST(StatusNotice, ToldAtOnceInsideTheFacebookWindow) {
    OneReport lookups;
    auto d = handlers::handle(status_event(Platform::facebook), greeted_at(kNow - 2 * kHour), test::content(),
                              context(lookups));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_NE(d.replies[0].text.find("LS-2611-0007"), std::string::npos);
    EXPECT_TRUE(d.state.pending_notices.empty());
}

TEST(StatusNotice, KeptOutsideTheFacebookWindowThenToldFirstAtTheNextMessage) {
    OneReport lookups;
    const auto ctx = context(lookups);
    auto d = handlers::handle(status_event(Platform::facebook), greeted_at(kNow - 30 * kHour), test::content(), ctx);
    EXPECT_TRUE(d.replies.empty());
    ASSERT_EQ(d.state.pending_notices, std::vector<std::string>{"LS-2611-0007"});
    // The same notice twice is kept once.
    auto again = handlers::handle(status_event(Platform::facebook), d.state, test::content(), ctx);
    EXPECT_EQ(again.state.pending_notices.size(), 1u);

    auto next = handlers::handle(text_event(Platform::facebook, "cảm ơn"), again.state, test::content(), ctx);
    ASSERT_GE(next.replies.size(), 2u);
    EXPECT_NE(next.replies[0].text.find("LS-2611-0007"), std::string::npos);
    EXPECT_TRUE(next.state.pending_notices.empty());
}

TEST(StatusNotice, ZaloWindowIsSevenDays) {
    OneReport lookups;
    const auto ctx = context(lookups);
    auto three_days = handlers::handle(status_event(Platform::zalo), greeted_at(kNow - 72 * kHour),
                                       test::content(), ctx);
    EXPECT_EQ(three_days.replies.size(), 1u);
    auto eight_days = handlers::handle(status_event(Platform::zalo), greeted_at(kNow - 8 * 24 * kHour),
                                       test::content(), ctx);
    EXPECT_TRUE(eight_days.replies.empty());
    EXPECT_EQ(eight_days.state.pending_notices.size(), 1u);
}

TEST(StatusNotice, NeverToldToSomeoneElse) {
    OneReport lookups;
    auto d = handlers::handle(status_event(Platform::facebook, "stranger"), greeted_at(kNow - kHour),
                              test::content(), context(lookups));
    EXPECT_TRUE(d.replies.empty());
}

TEST(StatusNotice, WaitsDuringAHumanHandover) {
    OneReport lookups;
    auto state = greeted_at(kNow - kHour);
    state.human_until_ms = kNow + kHour;
    auto d = handlers::handle(status_event(Platform::facebook), state, test::content(), context(lookups));
    EXPECT_TRUE(d.replies.empty());
    EXPECT_EQ(d.state.pending_notices.size(), 1u);
}

}  // namespace
