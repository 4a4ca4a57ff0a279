#pragma once
// Loopback fakes for the forwarder tests: an agency webhook endpoint that verifies the signature with
// its own (OpenSSL) HMAC, and a minimal plain SMTP server. 127.0.0.1, port 0, bounded waits
// (5 s socket timeouts, 100 ms accept polls); one connection at a time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pgibot::tipoffs::testing {

class Conn {
public:
    explicit Conn(int fd) : fd_(fd) {
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    std::optional<std::string> read_line() {  // without the CRLF
        for (;;) {
            if (const auto pos = buf_.find("\r\n"); pos != std::string::npos) {
                std::string line = buf_.substr(0, pos);
                buf_.erase(0, pos + 2);
                return line;
            }
            if (!fill()) return std::nullopt;
        }
    }
    std::optional<std::string> read_exact(std::size_t n) {
        while (buf_.size() < n)
            if (!fill()) return std::nullopt;
        std::string out = buf_.substr(0, n);
        buf_.erase(0, n);
        return out;
    }
    void write_all(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            const auto n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;
            off += static_cast<std::size_t>(n);
        }
    }

private:
    bool fill() {
        char tmp[4096];
        const auto n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf_.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
    int fd_;
    std::string buf_;
};

class LoopbackServer {
public:
    LoopbackServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = 0;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
            throw std::runtime_error("bind/listen");
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    virtual ~LoopbackServer() { ::close(fd_); }
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    [[nodiscard]] int port() const { return port_; }

protected:
    virtual void handle(Conn& conn) = 0;
    void start() {
        thread_ = std::thread([this] {
            while (!stop_) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 100) <= 0) continue;
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) continue;
                Conn conn(c);
                handle(conn);
                ::close(c);
            }
        });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

private:
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool signature_ok = false;
    int status = 0;  // what the fake answered
};

// An agency endpoint. Verifies X-Pgibot-Signature independently (OpenSSL HMAC-SHA256) and rejects a
// bad or stale one with 401; otherwise answers the scripted statuses in order, then 200.
class FakeAgency final : public LoopbackServer {
public:
    explicit FakeAgency(std::string secret) : secret_(std::move(secret)) { start(); }
    ~FakeAgency() override { stop(); }

    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/pgibot/tipoffs"; }
    void script(std::vector<int> statuses) {
        std::lock_guard lock(mutex_);
        script_.assign(statuses.begin(), statuses.end());
    }
    std::vector<ReceivedRequest> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    bool verify(const std::string& ts, const std::string& sig, const std::string& body) const {
        if (ts.empty() || ts.size() > 12 || ts.find_first_not_of("0123456789") != std::string::npos) return false;
        if (sig.rfind("sha256=", 0) != 0) return false;
        const long long t = std::stoll(ts);
        const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
        if (t < now - 300 || t > now + 300) return false;
        const std::string msg = ts + "." + body;
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
        std::string hex;
        char two[3];
        for (unsigned int i = 0; i < len; ++i) {
            std::snprintf(two, sizeof two, "%02x", mac[i]);
            hex += two;
        }
        return sig.substr(7) == hex;
    }

    void handle(Conn& conn) override {
        ReceivedRequest req;
        auto first = conn.read_line();
        if (!first) return;
        const auto sp1 = first->find(' ');
        const auto sp2 = first->find(' ', sp1 + 1);
        req.method = first->substr(0, sp1);
        req.target = first->substr(sp1 + 1, sp2 - sp1 - 1);
        while (auto line = conn.read_line()) {
            if (line->empty()) break;
            const auto colon = line->find(':');
            if (colon == std::string::npos) continue;
            std::string value = line->substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            req.headers[lower(line->substr(0, colon))] = value;
        }
        if (lower(req.headers["expect"]) == "100-continue") conn.write_all("HTTP/1.1 100 Continue\r\n\r\n");
        const auto length = static_cast<std::size_t>(std::stoul(req.headers.count("content-length") != 0
                                                                    ? req.headers["content-length"]
                                                                    : "0"));
        req.body = conn.read_exact(length).value_or("");
        req.signature_ok =
            verify(req.headers["x-pgibot-timestamp"], req.headers["x-pgibot-signature"], req.body);
        {
            std::lock_guard lock(mutex_);
            if (!req.signature_ok) {
                req.status = 401;
            } else if (!script_.empty()) {
                req.status = script_.front();
                script_.pop_front();
            } else {
                req.status = 200;
            }
            requests_.push_back(req);
        }
        const std::string body = req.status == 401 ? R"({"error":"bad signature"})" : R"({"ok":true})";
        conn.write_all("HTTP/1.1 " + std::to_string(req.status) + " X\r\nContent-Type: application/json\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    }

    std::string secret_;
    std::mutex mutex_;
    std::deque<int> script_;
    std::vector<ReceivedRequest> requests_;
};

struct ReceivedMail {
    std::string mail_from;
    std::vector<std::string> rcpt;
    std::string data;  // dot-unstuffed, CRLF line ends
};

// EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS, no AUTH. Replies to the end of DATA and
// to RCPT can be scripted (e.g. "451 4.3.0 try again later"); unscripted: 250.
class FakeSmtp final : public LoopbackServer {
public:
    FakeSmtp() { start(); }
    ~FakeSmtp() override { stop(); }

    [[nodiscard]] std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
    void script_data(std::vector<std::string> replies) {
        std::lock_guard lock(mutex_);
        data_replies_.assign(replies.begin(), replies.end());
    }
    void script_rcpt(std::vector<std::string> replies) {
        std::lock_guard lock(mutex_);
        rcpt_replies_.assign(replies.begin(), replies.end());
    }
    std::vector<ReceivedMail> mails() {
        std::lock_guard lock(mutex_);
        return mails_;
    }
    int sessions() {
        std::lock_guard lock(mutex_);
        return sessions_;
    }

private:
    std::string next(std::deque<std::string>& q) {
        std::lock_guard lock(mutex_);
        if (q.empty()) return "250 OK";
        auto r = q.front();
        q.pop_front();
        return r;
    }

    void handle(Conn& conn) override {
        {
            std::lock_guard lock(mutex_);
            ++sessions_;
        }
        conn.write_all("220 fake.test ESMTP\r\n");
        ReceivedMail mail;
        while (auto line = conn.read_line()) {
            const std::string verb = lower(line->substr(0, 4));
            if (verb == "ehlo") {
                conn.write_all("250-fake.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
            } else if (verb == "helo" || verb == "noop") {
                conn.write_all("250 OK\r\n");
            } else if (verb == "rset") {
                mail = {};
                conn.write_all("250 OK\r\n");
            } else if (verb == "mail") {
                mail.mail_from = line->substr(line->find(':') + 1);
                conn.write_all("250 OK\r\n");
            } else if (verb == "rcpt") {
                const std::string reply = next(rcpt_replies_);
                if (reply.starts_with("250")) mail.rcpt.push_back(line->substr(line->find(':') + 1));
                conn.write_all(reply + "\r\n");
            } else if (verb == "data") {
                conn.write_all("354 End data with <CR><LF>.<CR><LF>\r\n");
                std::string data;
                bool ended = false;
                while (auto l = conn.read_line()) {
                    if (*l == ".") {
                        ended = true;
                        break;
                    }
                    data += (l->starts_with("..") ? l->substr(1) : *l) + "\r\n";
                }
                if (!ended) return;
                mail.data = data;
                const std::string reply = next(data_replies_);
                if (reply.starts_with("250")) {
                    std::lock_guard lock(mutex_);
                    mails_.push_back(mail);
                }
                conn.write_all(reply + "\r\n");
                mail = {};
            } else if (verb == "quit") {
                conn.write_all("221 bye\r\n");
                return;
            } else {
                conn.write_all("502 5.5.2 not implemented\r\n");
            }
        }
    }

    std::mutex mutex_;
    std::deque<std::string> data_replies_;
    std::deque<std::string> rcpt_replies_;
    std::vector<ReceivedMail> mails_;
    int sessions_ = 0;
};

}  // namespace pgibot::tipoffs::testing
