// Free-text readers of the tip-off dialog: dates in Vietnam time, map links, reference codes, kinds, phones.
#include <gtest/gtest.h>

#include "handlers/tipoff/parse.hpp"

namespace pgibot::tipoff {
namespace {

constexpr std::int64_t kThursday = 1795662000000;  // 2026-11-26 10:00 +07:00, a Thursday

std::string date(std::string_view text, std::int64_t now = kThursday) { return resolve_date(text, now).value_or("-"); }

TEST(ResolveDate, RelativeWords) {
    EXPECT_EQ(date("sáng nay"), "2026-11-26");
    EXPECT_EQ(date("sang nay"), "2026-11-26");
    EXPECT_EQ(date("vừa xong"), "2026-11-26");
    EXPECT_EQ(date("vua xong luon"), "2026-11-26");
    EXPECT_EQ(date("hôm nay"), "2026-11-26");
    EXPECT_EQ(date("hôm qua"), "2026-11-25");
    EXPECT_EQ(date("Tối qua khoảng 10 giờ"), "2026-11-25");
    EXPECT_EQ(date("toi qua"), "2026-11-25");
    EXPECT_EQ(date("đêm qua"), "2026-11-25");
    EXPECT_EQ(date("hôm kia"), "2026-11-24");
    EXPECT_EQ(date("2 hôm trước"), "2026-11-24");
    EXPECT_EQ(date("hai hom truoc"), "2026-11-24");
    EXPECT_EQ(date("3 ngày trước"), "2026-11-23");
    EXPECT_EQ(date("cách đây 10 ngày"), "2026-11-16");
    EXPECT_EQ(date("5 tiếng trước"), "2026-11-26");
    EXPECT_EQ(date("12 tiếng trước"), "2026-11-25");
    EXPECT_EQ(date("tuần trước"), "2026-11-19");
    EXPECT_EQ(date("thường xuyên, ngày nào cũng xả"), "2026-11-26");
}

TEST(ResolveDate, Weekdays) {
    EXPECT_EQ(date("thứ hai tuần trước"), "2026-11-16");
    EXPECT_EQ(date("thu 2 tuan truoc"), "2026-11-16");
    EXPECT_EQ(date("chủ nhật tuần trước"), "2026-11-22");
    EXPECT_EQ(date("thứ hai"), "2026-11-23");
    EXPECT_EQ(date("thứ năm"), "2026-11-26");  // today
    EXPECT_EQ(date("thứ sáu"), "2026-11-20");  // the last one, not tomorrow
    EXPECT_EQ(date("chủ nhật"), "2026-11-22");
    EXPECT_EQ(date("t7"), "2026-11-21");
}

TEST(ResolveDate, NumericDates) {
    EXPECT_EQ(date("15/11"), "2026-11-15");
    EXPECT_EQ(date("ngày 15/11/2026"), "2026-11-15");
    EXPECT_EQ(date("15-11-2026"), "2026-11-15");
    EXPECT_EQ(date("15.11.26"), "2026-11-15");
    EXPECT_EQ(date("15/12"), "2025-12-15");  // no year and in the future: last year's
    EXPECT_EQ(date("ngày 3 tháng 11"), "2026-11-03");
    EXPECT_EQ(date("ngay 3 thang 11 nam 2025"), "2025-11-03");
    EXPECT_EQ(date("31/4"), "-");
    EXPECT_EQ(date("lâu lắm rồi"), "-");
    EXPECT_EQ(date(""), "-");
}

TEST(ResolveDate, VietnamTimeNotUtc) {
    constexpr std::int64_t sunday_3am = 1795896000000;  // 2026-11-29 03:00 +07:00 = 2026-11-28 20:00 UTC
    EXPECT_EQ(date("hôm nay", sunday_3am), "2026-11-29");
    EXPECT_EQ(date("hôm qua", sunday_3am), "2026-11-28");
    EXPECT_EQ(resolve_date("hôm nay", sunday_3am, 0).value_or("-"), "2026-11-28");
    EXPECT_EQ(utc_offset_minutes("+07:00"), 420);
    EXPECT_EQ(utc_offset_minutes("-03:30"), -210);
    EXPECT_EQ(utc_offset_minutes("garbage"), 420);
}

TEST(ParseCoordinates, MapLinksAndPairs) {
    auto at = parse_coordinates("https://www.google.com/maps/place/X/@21.8537,106.7615,17z/data=!3m1");
    ASSERT_TRUE(at);
    EXPECT_DOUBLE_EQ(at->lat, 21.8537);
    EXPECT_DOUBLE_EQ(at->lng, 106.7615);
    auto q = parse_coordinates("https://maps.google.com/?q=21.84,106.75");
    ASSERT_TRUE(q);
    EXPECT_DOUBLE_EQ(q->lat, 21.84);
    auto q2 = parse_coordinates("https://www.google.com/maps/search/?api=1&query=21.84%2C106.75");
    ASSERT_TRUE(q2);
    EXPECT_DOUBLE_EQ(q2->lng, 106.75);
    auto pair = parse_coordinates("toạ độ 21.8537, 106.7615 nhé");
    ASSERT_TRUE(pair);
    EXPECT_DOUBLE_EQ(pair->lat, 21.8537);
    EXPECT_FALSE(parse_coordinates("15/11 lúc 10.30"));
    EXPECT_FALSE(parse_coordinates("https://maps.app.goo.gl/abcdef"));
    EXPECT_FALSE(parse_coordinates("@95.1,106.2"));
}

TEST(ParseRefCode, Forms) {
    EXPECT_EQ(parse_ref_code("tra cứu LS-2611-0042").value_or("-"), "LS-2611-0042");
    EXPECT_EQ(parse_ref_code("tra cuu ls-2611-0042").value_or("-"), "LS-2611-0042");
    EXPECT_EQ(parse_ref_code("ls 2611 0042").value_or("-"), "LS-2611-0042");
    EXPECT_EQ(parse_ref_code("LS2611-42").value_or("-"), "LS-2611-0042");
    EXPECT_EQ(parse_ref_code("mã: Ls - 2611 - 12345").value_or("-"), "LS-2611-12345");
    EXPECT_FALSE(parse_ref_code("tra cứu"));
    EXPECT_FALSE(parse_ref_code("bls-2611-0042x"));
}

TEST(KindFromText, Keywords) {
    EXPECT_EQ(kind_from_folded("nha may xa nuoc thai den ngom"), PollutionKind::wastewater);
    EXPECT_EQ(kind_from_folded("co nguoi do rac ra suoi"), PollutionKind::solid_waste);
    EXPECT_EQ(kind_from_folded("hang xom dot rac khoi mu mit"), PollutionKind::burning);
    EXPECT_EQ(kind_from_folded("ca chet noi trang song ky cung"), PollutionKind::dead_animals);
    EXPECT_EQ(kind_from_folded("bui qua"), PollutionKind::emissions);
    EXPECT_EQ(kind_from_folded("mui hoi thoi"), PollutionKind::odour);
    EXPECT_EQ(kind_from_folded("tieng on may nghien da ca dem"), PollutionKind::noise);
    EXPECT_EQ(kind_from_folded("do vo thuoc tru sau xuong ruong"), PollutionKind::hazardous);
    EXPECT_FALSE(kind_from_folded("xin chao"));
    EXPECT_FALSE(kind_from_folded("on dinh"));
}

TEST(ParsePhone, Forms) {
    EXPECT_EQ(parse_phone("Nguyễn Văn A, 0912 345 678").value_or("-"), "0912345678");
    EXPECT_EQ(parse_phone("sdt 0912.345.678").value_or("-"), "0912345678");
    EXPECT_EQ(parse_phone("+84 912345678").value_or("-"), "0912345678");
    EXPECT_FALSE(parse_phone("15/11/2026"));
    EXPECT_FALSE(parse_phone("Nguyễn Văn A"));
}

}  // namespace
}  // namespace pgibot::tipoff
