// The filed report: enum names and labels, and a JSON round trip that never throws.
#include <gtest/gtest.h>

#include "handlers/tipoff/report.hpp"

namespace pgibot::tipoff {
namespace {

TEST(ReportEnums, NamesRoundTripAndLabelsAreVietnamese) {
    for (auto k : {PollutionKind::wastewater, PollutionKind::solid_waste, PollutionKind::emissions, PollutionKind::odour,
                   PollutionKind::noise, PollutionKind::dead_animals, PollutionKind::burning, PollutionKind::hazardous,
                   PollutionKind::other}) {
        EXPECT_EQ(pollution_kind_from_string(to_string(k)), k);
        EXPECT_FALSE(label_vi(k).empty());
        EXPECT_LE(label_vi(k).size(), 40u);  // bytes; <= 20 characters as a quick-reply title
    }
    for (auto s : {Status::received, Status::forwarded, Status::in_progress, Status::resolved, Status::rejected,
                   Status::duplicate}) {
        EXPECT_EQ(status_from_string(to_string(s)), s);
        EXPECT_FALSE(label_vi(s).empty());
    }
    EXPECT_EQ(to_string(PollutionKind::wastewater), "wastewater");
    EXPECT_EQ(label_vi(PollutionKind::wastewater), "Nước thải");
    EXPECT_EQ(label_vi(Status::received), "Đã tiếp nhận");
    EXPECT_FALSE(pollution_kind_from_string("Wastewater"));
    EXPECT_FALSE(status_from_string(""));
}

TEST(ReportJson, RoundTrip) {
    Report r;
    r.platform = Platform::zalo;
    r.page_id = "oa1";
    r.kind = PollutionKind::burning;
    r.description = "Đốt rác thải nhựa \"khói đen\" \n cả đêm";
    r.commune_code = "06115";
    r.commune_name = "Xã Tân Văn";
    r.place_detail = "thôn Nà Cà";
    r.location = Location{21.85, 106.76};
    r.occurred_text = "tối qua";
    r.occurred_date = "2026-11-25";
    r.suspect = "cơ sở tái chế X";
    r.evidence = {{"https://cdn/a.jpg", "image"}, {"https://cdn/b.mp4", "video"}};
    r.anonymous = false;
    r.consent_share_identity = true;
    r.reporter = {"u1", "Nguyễn Văn A", "0912345678", "Đông Kinh"};
    auto back = report_from_json(report_to_json(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->platform, Platform::zalo);
    EXPECT_EQ(back->page_id, "oa1");
    EXPECT_EQ(back->kind, PollutionKind::burning);
    EXPECT_EQ(back->description, r.description);
    EXPECT_EQ(back->commune_code, "06115");
    EXPECT_EQ(back->commune_name, "Xã Tân Văn");
    EXPECT_EQ(back->place_detail, "thôn Nà Cà");
    ASSERT_TRUE(back->location);
    EXPECT_DOUBLE_EQ(back->location->lat, 21.85);
    EXPECT_DOUBLE_EQ(back->location->lng, 106.76);
    EXPECT_EQ(back->occurred_text, "tối qua");
    EXPECT_EQ(back->occurred_date, "2026-11-25");
    EXPECT_EQ(back->suspect, "cơ sở tái chế X");
    ASSERT_EQ(back->evidence.size(), 2u);
    EXPECT_EQ(back->evidence[1].url, "https://cdn/b.mp4");
    EXPECT_EQ(back->evidence[1].media_type, "video");
    EXPECT_FALSE(back->anonymous);
    EXPECT_TRUE(back->consent_share_identity);
    EXPECT_EQ(back->reporter.platform_user_id, "u1");
    EXPECT_EQ(back->reporter.name, "Nguyễn Văn A");
    EXPECT_EQ(back->reporter.phone, "0912345678");
    EXPECT_EQ(back->reporter.address, "Đông Kinh");

    Report empty;
    auto e = report_from_json(report_to_json(empty));
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->location);
    EXPECT_TRUE(e->anonymous);
    EXPECT_TRUE(e->evidence.empty());
}

TEST(ReportJson, MalformedNeverThrows) {
    for (std::string_view bad :
         {"", "null", "[]", "{", "{\"kind\":\"volcano\"}", "{\"kind\":5}", "{\"evidence\":{}}", "{\"evidence\":[1]}",
          "{\"location\":{\"lat\":\"x\",\"lng\":1}}", "{\"location\":{\"lat\":1}}", "{\"reporter\":[]}",
          "{\"platform\":\"myspace\"}", "{\"anonymous\":\"yes\"}", "\xff\xfe"}) {
        EXPECT_NO_THROW({ EXPECT_FALSE(report_from_json(bad)) << bad; });
    }
    Report r;
    r.description = std::string("bad utf8 \xff\xfe end");
    EXPECT_NO_THROW({ EXPECT_TRUE(report_from_json(report_to_json(r))); });
}

}  // namespace
}  // namespace pgibot::tipoff
