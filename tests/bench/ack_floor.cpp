// The floor of the acknowledgement path on this machine: the least any server can do to answer a
// signed webhook only after it is durable. It checks the signature and appends the raw body to a
// preallocated file, one pwritev and one fdatasync per group of webhooks, then answers 200. No JSON,
// no database, no sealing, no metrics, no logs: nothing pgibot could leave out. Its rate under the
// same wrk load is the ceiling for pgibot's (tests/bench/webhook_bench.py --floor runs it).
//
//   ack_floor DATA_FILE [IO_THREADS]      prints the port it listens on (127.0.0.1), then serves
//   ack_floor --store DB_FILE [IO_THREADS]
//
// --store: the floor plus the work pgibot may not leave out, and nothing of its server: each body is
// parsed into events (channels::facebook::parse_webhook, event_to_json), sealed (Store::prepare) on
// the I/O thread, and the group goes into pgibot's real SQLite store (commit_event_batches,
// synchronous = FULL) instead of the raw file. The difference between this and pgibot under the same
// load is pgibot's own overhead (HTTP parser, routing, telemetry, hand-offs); the difference between
// this and the plain floor is the cost of the required work.
//
// Not a server to use: one request at a time per connection, the bench's requests only, no limits.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bot/channels/common.hpp"
#include "bot/channels/facebook/webhook.hpp"
#include "bot/store/store.hpp"
#include "bot/tipoffs/vault.hpp"
#include "handlers/handler.hpp"
#include "handlers/model/event.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr off_t kFileSize = off_t{512} << 20;
constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

class Session;

// One group commit at a time: what arrived while the last one was written goes into the next.
class Log {
public:
    explicit Log(int fd, pgibot::store::Store* store = nullptr) : fd_(fd), store_(store), thread_([this] { run(); }) {}
    ~Log() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
    void append(std::shared_ptr<Session> s, std::string body);
    void append(std::shared_ptr<Session> s, std::vector<pgibot::store::Store::IncomingEvent> events);
    [[nodiscard]] pgibot::store::Store* store() const { return store_; }

private:
    void run();
    struct Item {
        std::shared_ptr<Session> session;
        std::string body;
        std::vector<pgibot::store::Store::IncomingEvent> events;
    };
    void write_raw(std::vector<Item>& group);
    int fd_;
    pgibot::store::Store* store_;
    off_t offset_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Item> queue_;
    bool stop_ = false;
    std::thread thread_;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, const pgibot::channels::HmacSha256& mac, Log& log)
        : socket_(std::move(socket)), mac_(mac), log_(log) {}
    void start() { read(); }
    // Called on the commit thread: the answer is written on the connection's own thread.
    void committed() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            asio::async_write(self->socket_, asio::buffer(kOk), [self](boost::system::error_code ec, std::size_t) {
                if (!ec) self->next();
            });
        });
    }

private:
    void read() {
        socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec,
                                                                                   std::size_t n) {
            if (ec) return;
            self->buffer_.append(self->chunk_, n);
            self->next();
        });
    }
    // One whole request in the buffer: verify it and hand it to the log; else read more.
    void next() {
        const auto end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) return read();
        const std::string_view head(buffer_.data(), end);
        const auto field = [&](std::string_view name) {
            const auto at = head.find(name);
            if (at == std::string_view::npos) return std::string_view{};
            const auto from = at + name.size();
            return head.substr(from, head.find("\r\n", from) - from);
        };
        const auto length = std::stoul(std::string(field("Content-Length: ")));
        if (buffer_.size() < end + 4 + length) return read();
        std::string body = buffer_.substr(end + 4, length);
        const bool valid = pgibot::channels::facebook::verify_signature(mac_, body, field("X-Hub-Signature-256: "));
        buffer_.erase(0, end + 4 + length);
        if (!valid) return;  // the bench signs every request: a failure ends the connection
        if (auto* store = log_.store()) {
            auto result = pgibot::channels::facebook::parse_webhook(body, "1");
            if (result.status != pgibot::channels::IngestStatus::ok) return;
            std::vector<pgibot::store::Store::IncomingEvent> events;
            events.reserve(result.events.size());
            for (const auto& e : result.events) {
                events.push_back({e.dedup_key, e.user_key(), pgibot::event_to_json(e), "floor",
                                  !pgibot::handlers::needs_handling(e)});
                store->prepare(events.back());
            }
            return log_.append(shared_from_this(), std::move(events));
        }
        log_.append(shared_from_this(), std::move(body));
    }

    tcp::socket socket_;
    const pgibot::channels::HmacSha256& mac_;
    Log& log_;
    char chunk_[16384];
    std::string buffer_;
};

void Log::append(std::shared_ptr<Session> s, std::string body) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(s), std::move(body), {}});
    }
    wake_.notify_one();
}

void Log::append(std::shared_ptr<Session> s, std::vector<pgibot::store::Store::IncomingEvent> events) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(s), {}, std::move(events)});
    }
    wake_.notify_one();
}

void Log::run() {
    std::vector<Item> group;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            group.swap(queue_);
        }
        if (store_ != nullptr) {
            std::vector<std::vector<pgibot::store::Store::IncomingEvent>> batches;
            batches.reserve(group.size());
            for (auto& item : group) batches.push_back(std::move(item.events));
            store_->commit_event_batches(batches);
        } else {
            write_raw(group);
        }
        for (auto& item : group) item.session->committed();
        group.clear();
    }
}

void Log::write_raw(std::vector<Item>& group) {
    std::vector<iovec> parts;
    {
        std::size_t bytes = 0;
        for (auto& item : group) {
            parts.push_back({item.body.data(), item.body.size()});
            bytes += item.body.size();
        }
        if (offset_ + static_cast<off_t>(bytes) > kFileSize) offset_ = 0;  // start over: the file is reused
        for (std::size_t done = 0; done < parts.size(); done += IOV_MAX) {
            const auto count = static_cast<int>(std::min<std::size_t>(IOV_MAX, parts.size() - done));
            if (::pwritev(fd_, parts.data() + done, count, offset_) < 0) std::perror("pwritev");
            for (int i = 0; i < count; ++i) offset_ += static_cast<off_t>(parts[done + static_cast<std::size_t>(i)].iov_len);
        }
        if (::fdatasync(fd_) != 0) std::perror("fdatasync");
    }
}

}  // namespace

int main(int argc, char** argv) {
    const bool with_store = argc > 1 && std::string_view(argv[1]) == "--store";
    if (argc < (with_store ? 3 : 2)) {
        std::fprintf(stderr, "usage: ack_floor [--store] DATA_FILE [IO_THREADS]\n");
        return 2;
    }
    const int first = with_store ? 2 : 1;  // DATA_FILE's position
    const char* data_file = argv[first];
    const int threads = argc > first + 1 ? std::atoi(argv[first + 1]) : 2;
    const char* secret = std::getenv("PGIBOT_FACEBOOK_APP_SECRET");
    const pgibot::channels::HmacSha256 mac(secret ? secret : "");
    int fd = -1;
    std::unique_ptr<pgibot::store::Store> store;
    if (with_store) {
        // pgibot's store as `serve` opens it: sealed at rest, fsync at every commit.
        pgibot::tipoffs::DataKey key{};
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7 + 1);
        auto vault = std::make_shared<pgibot::tipoffs::IdentityVault>(key);
        pgibot::store::SqliteOptions options;
        options.path = data_file;
        options.synchronous_full = true;
        options.seal_text = [vault](std::string_view s) { return vault->seal_text(s); };
        options.open_text = [vault](std::string_view s) { return vault->open_text(s); };
        store = pgibot::store::open_sqlite(options);
    } else {
        fd = ::open(data_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        // Preallocated and written once, so that fdatasync flushes data, not a growing file's metadata
        // (what the SQLite log does too once it has reached its size).
        if (fd < 0 || ::posix_fallocate(fd, 0, kFileSize) != 0) {
            std::perror(data_file);
            return 1;
        }
        std::vector<char> zeros(1 << 20, 0);
        for (off_t i = 0; i < kFileSize >> 20; ++i) {
            if (::write(fd, zeros.data(), zeros.size()) < 0) return 1;
        }
        ::fdatasync(fd);
    }
    Log log(fd, store.get());
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (int i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
    tcp::acceptor acceptor(*contexts[0], tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::printf("%u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    std::size_t turn = 0;
    std::function<void()> accept = [&] {
        auto& context = *contexts[turn++ % contexts.size()];
        acceptor.async_accept(context, [&](boost::system::error_code ec, tcp::socket socket) {
            if (!ec) {
                socket.set_option(tcp::no_delay(true));
                std::make_shared<Session>(std::move(socket), mac, log)->start();
            }
            accept();
        });
    };
    accept();
    std::vector<std::thread> runners;
    for (auto& c : contexts) {
        runners.emplace_back([&context = *c] {
            auto work = asio::make_work_guard(context);
            context.run();
        });
    }
    for (auto& r : runners) r.join();
}
