#include <gtest/gtest.h>

#include <thread>

#include "bot/channels/zalo/token.hpp"
#include "fakes.hpp"

namespace pgibot::channels {
namespace {

using test::FakeClient;
using test::FakeTokenStore;
using test::response;

constexpr std::int64_t kNow = 1'767'225'600'000;
constexpr std::int64_t kHour = 3600LL * 1000;

ZaloOptions options() {
    ZaloOptions o;
    o.app_id = "4511223344556677889";
    o.oa_secret_key = "oa-secret";
    o.app_secret = "APP-SECRET-xyz";
    o.oauth_base = "https://oauth.example.test/";
    return o;
}

store::TokenPair pair(std::string access, std::string refresh, std::int64_t expires_at) {
    return store::TokenPair{std::move(access), std::move(refresh), expires_at};
}

std::string ok_body(const std::string& access, const std::string& refresh) {
    return R"({"access_token":")" + access + R"(","refresh_token":")" + refresh + R"(","expires_in":"90000"})";
}

struct TokenFixture : ::testing::Test {
    FakeClient client;
    FakeTokenStore store;
    std::int64_t now = kNow;
    ZaloTokenManager::Clock clock = [this] { return now; };
};

TEST_F(TokenFixture, StoredPairWinsWhenNewer) {
    store.tokens["zalo:4511223344556677889"] = pair("stored-a", "stored-r", kNow + 20 * kHour);
    ZaloTokenManager m(options(), client, store.storage(), pair("env-a", "env-r", 0), clock);
    EXPECT_EQ(m.access_token(), "stored-a");
    EXPECT_EQ(m.store_key(), "zalo:4511223344556677889");

    store.tokens["zalo:4511223344556677889"] = pair("stored-a", "stored-r", kNow + 2 * kHour);
    ZaloTokenManager newer_env(options(), client, store.storage(), pair("env-a", "env-r", kNow + 24 * kHour), clock);
    EXPECT_EQ(newer_env.access_token(), "env-a");
}

TEST_F(TokenFixture, SeedIsSavedWhenNothingWasStored) {
    ZaloTokenManager m(options(), client, store.storage(), pair("env-a", "env-r", kNow + 10 * kHour), clock);
    EXPECT_EQ(m.access_token(), "env-a");
    EXPECT_TRUE(m.refresh_if_needed(kNow));
    EXPECT_TRUE(client.requests().empty());  // still fresh: no refresh
    ASSERT_EQ(store.saves, 1);
    EXPECT_EQ(store.tokens["zalo:4511223344556677889"].refresh_token, "env-r");
}

TEST_F(TokenFixture, NoRefreshWhileMoreThanAnHourRemains) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow + kHour + 1000);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    EXPECT_TRUE(m.refresh_if_needed(kNow));
    EXPECT_EQ(m.access_token_for_send(), "a1");
    EXPECT_TRUE(client.requests().empty());
    EXPECT_TRUE(m.healthy());
}

TEST_F(TokenFixture, RefreshRequestAndPersistBeforeUse) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1/+=", kNow + 30 * 60 * 1000);  // 30 min left
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) { return response(200, ok_body("a2", "r2")); };
    std::string token_in_use_during_save;
    store.on_save = [&](std::string_view key, const store::TokenPair& p) {
        EXPECT_EQ(key, "zalo:4511223344556677889");
        EXPECT_EQ(p.access_token, "a2");
        token_in_use_during_save = m.access_token();
    };
    EXPECT_TRUE(m.refresh_if_needed(kNow));
    EXPECT_EQ(token_in_use_during_save, "a1");  // the new pair was saved before it was used
    EXPECT_EQ(m.access_token(), "a2");
    EXPECT_EQ(m.expires_at_ms(), kNow + 90000LL * 1000);  // expires_in is a string
    EXPECT_EQ(store.tokens["zalo:4511223344556677889"].refresh_token, "r2");

    const auto reqs = client.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].url, "https://oauth.example.test/v4/oa/access_token");
    EXPECT_EQ(test::header_of(reqs[0], "secret_key"), "APP-SECRET-xyz");
    EXPECT_EQ(test::header_of(reqs[0], "Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(reqs[0].body, "refresh_token=r1%2F%2B%3D&app_id=4511223344556677889&grant_type=refresh_token");
    EXPECT_TRUE(m.healthy());
}

TEST_F(TokenFixture, SingleFlight) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow - 1000);  // expired
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return response(200, ok_body("a2", "r2"));
    };
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            if (m.refresh_if_needed(kNow) && m.access_token() == "a2") ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(client.requests().size(), 1U);
    EXPECT_EQ(client.max_in_flight(), 1);
    EXPECT_EQ(ok.load(), 8);
}

TEST_F(TokenFixture, AuthErrorRefreshIsSingleFlightToo) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow + 20 * kHour);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    int n = 0;
    client.handler = [&n](const http::ClientRequest&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        ++n;
        return response(200, ok_body("a" + std::to_string(n + 1), "r" + std::to_string(n + 1)));
    };
    std::vector<std::thread> threads;
    std::atomic<int> retried{0};
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&] {
            if (m.refresh_after_auth_error("a1")) ++retried;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(client.requests().size(), 1U);  // the others saw the token already replaced
    EXPECT_EQ(retried.load(), 6);
    EXPECT_EQ(m.access_token(), "a2");
}

TEST_F(TokenFixture, FailedRefreshIsLoudAndUnhealthyWithoutSecrets) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1-secret", kNow + 10 * 60 * 1000);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) {
        return response(
            200, R"({"error":-14002,"error_name":"Invalid appId r1-secret","error_description":"APP-SECRET-xyz"})");
    };
    EXPECT_TRUE(m.refresh_if_needed(kNow));  // the old token still has 10 minutes
    EXPECT_FALSE(m.healthy());
    EXPECT_NE(m.last_error().find("-14002"), std::string::npos) << m.last_error();
    EXPECT_EQ(m.last_error().find("r1-secret"), std::string::npos);
    EXPECT_EQ(m.last_error().find("APP-SECRET-xyz"), std::string::npos);
    EXPECT_EQ(m.access_token(), "a1");
    EXPECT_EQ(store.saves, 0);
    // No hammering: the next unforced attempt waits.
    EXPECT_TRUE(m.refresh_if_needed(kNow + 1000));
    EXPECT_EQ(client.requests().size(), 1U);
    // After the pause it tries again, and a success makes it healthy.
    client.handler = [](const http::ClientRequest&) { return response(200, ok_body("a2", "r2")); };
    EXPECT_TRUE(m.refresh_if_needed(kNow + ZaloTokenManager::kRetryAfterFailureMs));
    EXPECT_TRUE(m.healthy());
    EXPECT_EQ(m.last_error(), "");
    EXPECT_EQ(m.access_token(), "a2");
}

TEST_F(TokenFixture, TransportFailureAndNoRefreshToken) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow - 1);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) { return http::ClientResponse{}; };
    EXPECT_FALSE(m.refresh_if_needed(kNow));  // expired and not refreshed
    EXPECT_FALSE(m.healthy());

    FakeTokenStore empty;
    ZaloTokenManager none(options(), client, empty.storage(), pair("env-a", "", 0), clock);
    EXPECT_TRUE(none.force_refresh(kNow));  // unknown expiry: the token is still tried
    EXPECT_FALSE(none.healthy());
    EXPECT_EQ(none.last_error(), "no refresh token");
}

TEST_F(TokenFixture, SaveFailureKeepsThePairAndRetriesTheSave) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow + 60 * 1000);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) { return response(200, ok_body("a2", "r2")); };
    store.on_save = [](std::string_view, const store::TokenPair&) { throw store::StoreError("disk full"); };
    EXPECT_TRUE(m.refresh_if_needed(kNow));
    EXPECT_EQ(m.access_token(), "a2");  // the old refresh token is dead: keeping the new pair is the only option
    EXPECT_FALSE(m.healthy());
    EXPECT_NE(m.last_error().find("disk full"), std::string::npos);
    store.on_save = nullptr;
    EXPECT_TRUE(m.refresh_if_needed(kNow + 1000));
    EXPECT_EQ(client.requests().size(), 1U);  // the save was retried, no second refresh
    EXPECT_EQ(store.tokens["zalo:4511223344556677889"].access_token, "a2");
    EXPECT_TRUE(m.healthy());
}

TEST_F(TokenFixture, AccessTokenForSendRefreshesFirst) {
    store.tokens["zalo:4511223344556677889"] = pair("a1", "r1", kNow + 1000);
    ZaloTokenManager m(options(), client, store.storage(), {}, clock);
    client.handler = [](const http::ClientRequest&) { return response(200, ok_body("a2", "r2")); };
    EXPECT_EQ(m.access_token_for_send(), "a2");
}

}  // namespace
}  // namespace pgibot::channels
