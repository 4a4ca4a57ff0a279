#pragma once
// Outbound HTTP(S) with libcurl: TLS peer and host verification on, a timeout on every request,
// connections reused per thread. Blocking: call it from sender/worker threads, never an I/O thread.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace pgibot::http {

struct ClientRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10000};
    std::size_t max_response_bytes = 8 * 1024 * 1024;
};

struct ClientResponse {
    int status = 0;            // 0 when no HTTP response came (network error)
    std::string error;         // transport error text, empty when a response came
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    [[nodiscard]] bool transport_failed() const { return status == 0; }
    [[nodiscard]] std::string header(std::string_view lower_name) const;
};

class Client {
public:
    virtual ~Client() = default;
    virtual ClientResponse send(const ClientRequest& request) = 0;
};

// The real client. `ca_file` empty: system roots.
class CurlClient final : public Client {
public:
    explicit CurlClient(std::string ca_file = {});
    ClientResponse send(const ClientRequest& request) override;

private:
    std::string ca_file_;
};

std::string url_encode(std::string_view s);

}  // namespace pgibot::http
