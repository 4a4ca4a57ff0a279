#pragma once
// What the end-to-end tests share: the test platforms' ids and secrets, the two webhook signature
// schemes written here independently of the bot's code (from the documented formulas), the fake
// Graph / Zalo API replies, and a bounded wait for a fake to go quiet.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "tests/support/fake_http_server.hpp"

namespace pgibot::testing::platform {

inline constexpr const char* kAppSecret = "test-app-secret";
inline constexpr const char* kPageId = "1000000000000001";
inline constexpr const char* kAppId = "2000000000000002";
inline constexpr const char* kZaloAppId = "3600000000000000001";
inline constexpr const char* kZaloOaSecret = "test-oa-secret-key";
inline constexpr const char* kZaloOaId = "4000000000000000001";

inline std::string hex(const unsigned char* data, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0xf];
    }
    return out;
}

// X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret.
inline std::string facebook_signature(const std::string& body, const std::string& secret = kAppSecret) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
    return "sha256=" + hex(mac, len);
}

// X-ZEvent-Signature: plain SHA-256 of app id + raw body + the body's timestamp + OA secret key.
inline std::string zalo_signature(const std::string& body, const std::string& timestamp) {
    const std::string input = std::string(kZaloAppId) + body + timestamp + kZaloOaSecret;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
    return "mac=" + hex(digest, len);
}

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The Graph API's answer to a Send API call, with a fresh message id each time.
inline test::FakeHttpServer::Handler graph_replies(std::atomic<int>& sent) {
    return [&sent](const http::Request&) {
        return test::FakeReply{
            http::Response::json(200, R"({"recipient_id":"x","message_id":"m.)" + std::to_string(++sent) + R"("})"),
            {}};
    };
}

// The Zalo APIs: a token refresh answers a new pair; every send succeeds.
inline test::FakeHttpServer::Handler zalo_replies() {
    return [](const http::Request& r) {
        if (r.path.find("/v4/oa/access_token") != std::string::npos) {
            return test::FakeReply{
                http::Response::json(
                    200, R"({"access_token":"fresh-access","refresh_token":"fresh-refresh","expires_in":"90000"})"),
                {}};
        }
        return test::FakeReply{http::Response::json(200, R"({"error":0,"message":"Success","data":{"message_id":"z1"}})"),
                               {}};
    };
}

// Waits until the fake has seen no new request for `quiet` (at most 15 s); returns the count.
inline std::size_t settle(const test::FakeHttpServer& fake,
                          std::chrono::milliseconds quiet = std::chrono::milliseconds(700)) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::size_t last = fake.request_count();
    auto since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const std::size_t now = fake.request_count();
        if (now != last) {
            last = now;
            since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - since >= quiet) {
            break;
        }
    }
    return last;
}

}  // namespace pgibot::testing::platform
