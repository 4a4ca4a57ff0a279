#pragma once
// A blocking loopback TCP client with bounded waits, for tests that need to misbehave on the wire
// (partial headers, idle keep-alive, garbage). Test-only, header-only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pgibot::test {

struct RawResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

class RawConnection {
public:
    explicit RawConnection(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawConnection() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }
    [[nodiscard]] int fd() const { return fd_; }

    bool send(std::string_view data) {
        while (!data.empty()) {
            const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // One response framed by Content-Length. nullopt on close, error or timeout.
    std::optional<RawResponse> read_response(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t header_end = std::string::npos;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill(deadline)) return std::nullopt;
        }
        RawResponse response;
        const std::string head = buffer_.substr(0, header_end);
        if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return std::nullopt;
        response.status = std::atoi(head.c_str() + 9);
        std::size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
            const std::size_t next = head.find("\r\n", pos + 2);
            const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                std::string value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                response.headers[name] = value;
            }
            pos = next;
        }
        const auto length_it = response.headers.find("content-length");
        const std::size_t length =
            length_it == response.headers.end() ? 0 : static_cast<std::size_t>(std::stoul(length_it->second));
        while (buffer_.size() < header_end + 4 + length) {
            if (!fill(deadline)) return std::nullopt;
        }
        response.body = buffer_.substr(header_end + 4, length);
        buffer_.erase(0, header_end + 4 + length);
        return response;
    }

    // True when the peer closes (EOF or reset) within the timeout. Bytes received meanwhile are
    // appended to `received` when given.
    bool wait_closed(std::chrono::milliseconds timeout, std::string* received = nullptr) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto before = buffer_.size();
            const int state = fill_state(deadline);
            if (received != nullptr) received->append(buffer_.substr(before));
            if (state == kClosed) return true;
            if (state == kTimeout) return false;
        }
    }

private:
    static constexpr int kData = 0;
    static constexpr int kClosed = 1;
    static constexpr int kTimeout = 2;

    bool fill(std::chrono::steady_clock::time_point deadline) { return fill_state(deadline) == kData; }

    int fill_state(std::chrono::steady_clock::time_point deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return kTimeout;
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready == 0) return kTimeout;
        if (ready < 0) return errno == EINTR ? kData : kClosed;
        char chunk[4096];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return kClosed;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return kData;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string buffer_;
};

}  // namespace pgibot::test
