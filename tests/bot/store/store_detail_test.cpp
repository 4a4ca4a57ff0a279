#include <gtest/gtest.h>

#include "bot/store/detail.hpp"

namespace pgibot::store::detail {
namespace {

TEST(StoreDetail, VietnamMonthUsesUtcPlusSeven) {
    // 2025-06-30T16:59:59.999Z is 23:59:59.999 in Hanoi; one millisecond later it is July there.
    EXPECT_EQ(vietnam_month_key(1751302799999), 202506);
    EXPECT_EQ(vietnam_month_key(1751302800000), 202507);
    // New year: 2025-12-31T17:00:00Z is 2026-01-01 00:00 in Hanoi.
    EXPECT_EQ(vietnam_month_key(1767200400000), 202601);
    EXPECT_EQ(vietnam_month_key(1767200399999), 202512);
}

TEST(StoreDetail, TipoffCodeFormat) {
    EXPECT_EQ(format_tipoff_code(202507, 1), "LS-2507-0001");
    EXPECT_EQ(format_tipoff_code(202611, 42), "LS-2611-0042");
    EXPECT_EQ(format_tipoff_code(203001, 9999), "LS-3001-9999");
    EXPECT_EQ(format_tipoff_code(202507, 10000), "LS-2507-10000");
}

TEST(StoreDetail, StateFlags) {
    EXPECT_TRUE(derive_state_flags(R"({"subscribed":true,"dialog":""})").subscribed);
    EXPECT_FALSE(derive_state_flags(R"({"subscribed":true,"dialog":""})").has_dialog);
    EXPECT_TRUE(derive_state_flags(R"({"subscribed":false,"dialog":"{\"step\":1}"})").has_dialog);
    EXPECT_FALSE(derive_state_flags(R"({"subscribed":"yes"})").subscribed);
    EXPECT_FALSE(derive_state_flags("not json").subscribed);
    EXPECT_FALSE(derive_state_flags("").has_dialog);
}

TEST(StoreDetail, ErrorsAreCappedOnACharacterBoundary) {
    const std::string long_error(3000, 'a');
    std::string vietnamese;
    for (int i = 0; i < 1000; ++i) {
        vietnamese += "ệ";  // 3 bytes each
    }
    const auto capped = cap_error(vietnamese);
    EXPECT_LE(capped.size(), kMaxErrorLength);
    EXPECT_EQ(capped.size() % 3, 0U);
    EXPECT_EQ(cap_error("short"), "short");
    EXPECT_EQ(cap_error(long_error).size(), kMaxErrorLength);
}

TEST(StoreDetail, OutboxStateNames) {
    for (const auto s : {OutboxState::pending, OutboxState::sending, OutboxState::sent, OutboxState::failed,
                         OutboxState::unreachable}) {
        EXPECT_EQ(outbox_state_from_string(to_string(s)), s);
    }
    EXPECT_FALSE(outbox_state_from_string("bogus"));
}

TEST(StoreDetail, NetstringsRoundTripAnyBytes) {
    const std::vector<std::string> values{"", "fb:p:mid:m_1", std::string("a,b:c\0d\n", 9), "Lạng Sơn",
                                          std::string(1000, 'x')};
    std::string packed;
    for (const auto& v : values) append_netstring(packed, v);
    EXPECT_TRUE(packed.starts_with("0:,12:fb:p:mid:m_1,9:a,b:c"));
    const auto parts = split_netstrings(packed);
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ((*parts)[i], values[i]) << i;
    const auto none = split_netstrings("");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(StoreDetail, MalformedNetstringsAreRefused) {
    for (const std::string_view bad : {"5:abc,", "3:abc", "3:abcd", "3abc,", ":abc,", "-1:,", "+3:abc,", "x:,",
                                       "3:abc,2", "99999999999999999999999:a,", "1:a,1:b"}) {
        EXPECT_FALSE(split_netstrings(bad)) << bad;
    }
}

}  // namespace
}  // namespace pgibot::store::detail
