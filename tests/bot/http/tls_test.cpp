// HTTPS: a self-signed certificate generated per test, verified by CurlClient; old protocols refused.
#include "bot/http/client.hpp"
#include "bot/http/server.hpp"
#include "tests/bot/http/raw_connection.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_cert.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/time.h>

namespace pgibot::http {
namespace {

using namespace std::chrono_literals;

class TlsServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        cert_ = test::make_self_signed_cert(dir_.path());
        auto router = std::make_shared<Router>();
        router->add("POST", "/webhook", [](Request&& request, Responder respond) {
            respond(Response::text(200, "got " + std::to_string(request.body.size())));
        });
        ServerOptions options;
        options.port = 0;
        options.read_timeout = 10s;  // generous: TLS handshakes are slow under valgrind/sanitizers
        options.tls = TlsOptions{cert_.cert_file.string(), cert_.key_file.string()};
        server_ = std::make_unique<Server>(options, router);
        std::string error;
        ASSERT_TRUE(server_->start(error)) << error;
    }

    // A raw OpenSSL client limited to [TLS 1.0, max_version], with old-protocol security checks off on
    // the client side so that only the server can refuse. Returns the negotiated version, 0 on failure.
    [[nodiscard]] int handshake(int max_version) const {
        test::RawConnection conn(server_->port());
        if (!conn.connected()) return 0;
        timeval tv{5, 0};
        setsockopt(conn.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, max_version);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, conn.fd());
        const int rc = SSL_connect(ssl);
        const int version = rc == 1 ? SSL_version(ssl) : 0;
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        return version;
    }

    test::TempDir dir_;
    test::SelfSignedCert cert_;
    std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, VerifiedHttpsRequest) {
    CurlClient client(cert_.cert_file.string());
    ClientRequest request;
    request.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/webhook";
    request.body = "hello";
    const auto response = client.send(request);
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(response.body, "got 5");
}

TEST_F(TlsServerTest, UnknownCertificateIsRejectedByClient) {
    CurlClient client;  // system roots do not know our self-signed certificate
    ClientRequest request;
    request.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/webhook";
    const auto response = client.send(request);
    EXPECT_TRUE(response.transport_failed());
    EXPECT_FALSE(response.error.empty());
}

TEST_F(TlsServerTest, PlainHttpOnTlsPortFails) {
    CurlClient client;
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/webhook";
    request.timeout = 5s;
    EXPECT_TRUE(client.send(request).transport_failed());
}

TEST_F(TlsServerTest, Tls12AcceptedTls11Refused) {
    EXPECT_EQ(handshake(TLS1_2_VERSION), TLS1_2_VERSION);
    EXPECT_EQ(handshake(TLS1_1_VERSION), 0);
    EXPECT_EQ(handshake(TLS1_VERSION), 0);
}

TEST(TlsServerStart, MissingCertificateFailsStart) {
    ServerOptions options;
    options.port = 0;
    options.tls = TlsOptions{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
    Server server(options, std::make_shared<Router>());
    std::string error;
    EXPECT_FALSE(server.start(error));
    EXPECT_NE(error.find("cert"), std::string::npos) << error;
}

TEST(FakeHttpServerTls, ServesHttps) {
    test::TempDir dir;
    const auto cert = test::make_self_signed_cert(dir.path());
    test::FakeHttpServer::Options options;
    options.tls = TlsOptions{cert.cert_file.string(), cert.key_file.string()};
    test::FakeHttpServer fake(options);
    fake.enqueue(201, R"({"id":"1"})");
    CurlClient client(cert.cert_file.string());
    ClientRequest request;
    request.url = fake.base_url() + "/v1/send";
    const auto response = client.send(request);
    EXPECT_EQ(response.status, 201) << response.error;
    EXPECT_EQ(fake.base_url().rfind("https://", 0), 0U);
}

}  // namespace
}  // namespace pgibot::http
