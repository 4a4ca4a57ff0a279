// The inbound HTTP(S) server. One io_context per I/O thread; the listener deals accepted sockets to
// them in turn, and a connection stays on its thread (so its handlers never race, without a strand).
// One session per connection (plain or TLS, one template), Beast's parser fed by hand (a fresh one
// per request, its body limit chosen by path once the header is in), a deadline on every step kept
// by one lazily re-armed timer, and answers written as one status-and-fields buffer plus the body.
//
// Lifetimes: every async operation holds the session by shared_ptr, so a session lives exactly as
// long as something is pending on it. Responders hold it only weakly, and hand their answer to the
// Mailbox of its I/O thread, which refuses once the io_contexts are about to go away.
#include "bot/http/server.hpp"
#include "bot/http/target.hpp"

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http.hpp>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cctype>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

namespace pgibot::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// One place decides which I/O errors are worth a log line.
void fail(const beast::error_code& ec, std::string_view what, std::uint64_t conn) {
    // operation_aborted: we cancelled the operation ourselves (stop(), a closed idle socket).
    // end_of_stream / eof: the peer closed a keep-alive connection between requests; normal.
    // ssl::error::stream_truncated: the peer closed TCP without a TLS close_notify (an SSL "short
    // read"). Most HTTPS clients do this; HTTP framing already tells us the message was complete.
    // https://github.com/boostorg/beast/issues/38
    if (ec == net::error::operation_aborted || ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::ssl::error::stream_truncated) {
        return;
    }
    // Everything else is still the peer's doing (resets, timeouts, garbage): debug, not warn.
    spdlog::debug("http conn={} {}: {}", conn, what, ec.message());
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// ---------------------------------------------------------------------------------------------

// Each I/O thread runs its own io_context, and a connection lives on one of them for its whole life:
// its handlers never run concurrently, with no strand to pay for (Asio's "io_context per thread").
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;

constexpr Clock::time_point kNever = Clock::time_point::max();

class SessionBase {
public:
    virtual ~SessionBase() = default;
    // Any thread. Closes the connection if idle; otherwise the current request is finished and the
    // connection closed after its response.
    virtual void on_server_stop() = 0;
    // On the session's thread: what a responder answered to request number `seq`.
    virtual void on_answer(std::uint64_t seq, Response response) = 0;
};

// Answers that responders (other threads: the inbox committer) hand over for the connections of
// one I/O thread. They are batched: the first answer of a burst posts one drain, and the I/O thread
// then writes them all, so a group commit answering 60 webhooks wakes each I/O thread once, not 60
// times. Closed (under its mutex) before the io_contexts are torn down, so a late responder never
// destroys a session, or posts, into a dead context.
class Mailbox {
public:
    explicit Mailbox(Executor executor) : executor_(std::move(executor)) {}

    // Any thread.
    void deliver(const std::weak_ptr<SessionBase>& weak, std::uint64_t seq, Response response) {
        std::lock_guard lock(mutex_);
        if (!open_) return;
        auto session = weak.lock();  // released under the mutex too: see close()
        if (!session) return;
        pending_.push_back(Delivery{std::move(session), seq, std::move(response)});
        if (std::exchange(drain_posted_, true)) return;
        net::post(executor_, [this] { drain(); });
    }

    // Once the I/O threads are joined: later answers are dropped.
    void close() {
        std::vector<Delivery> dropped;
        {
            std::lock_guard lock(mutex_);
            open_ = false;
            dropped.swap(pending_);
        }
    }

private:
    struct Delivery {
        std::shared_ptr<SessionBase> session;
        std::uint64_t seq;
        Response response;
    };

    // On the I/O thread.
    void drain() {
        {
            std::lock_guard lock(mutex_);
            draining_.swap(pending_);
            drain_posted_ = false;
        }
        for (auto& d : draining_) d.session->on_answer(d.seq, std::move(d.response));
        draining_.clear();  // keeps its capacity for the next burst
    }

    Executor executor_;
    std::mutex mutex_;
    std::vector<Delivery> pending_;
    std::vector<Delivery> draining_;  // the I/O thread's only
    bool drain_posted_ = false;
    bool open_ = true;
};

// State shared by the server and its sessions (and, weakly, responders).
struct Core {
    ServerOptions options;
    std::shared_ptr<const Router> router;
    AccessObserver observer;
    std::string id_prefix;
    std::atomic<std::uint64_t> next_request{0};
    std::atomic<std::uint64_t> next_session{0};
    std::atomic<bool> stopping{false};

    // Registry of live sessions, for stop(). Lock order: a mailbox's mutex before sessions_mutex.
    std::mutex sessions_mutex;
    std::condition_variable drained;
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;

    std::vector<std::unique_ptr<Mailbox>> mailboxes;  // one per I/O thread, same order as its contexts

    bool add_session(std::uint64_t id, std::weak_ptr<SessionBase> session) {
        std::lock_guard lock(sessions_mutex);
        if (stopping) return false;
        sessions.emplace(id, std::move(session));
        return true;
    }

    void remove_session(std::uint64_t id) {
        std::lock_guard lock(sessions_mutex);
        if (sessions.erase(id) > 0 && sessions.empty()) drained.notify_all();
    }

    std::string next_request_id() {
        char counter[20];
        const auto n = next_request.fetch_add(1, std::memory_order_relaxed);
        const auto [end, ec] = std::to_chars(std::begin(counter), std::end(counter), n, 16);
        (void)ec;  // 16 hex digits hold any 64-bit count
        std::string id;
        id.reserve(id_prefix.size() + static_cast<std::size_t>(end - counter));
        id += id_prefix;
        id.append(counter, end);
        return id;
    }

    void observe(const AccessRecord& record) const {
        if (!observer) return;
        try {
            observer(record);
        } catch (const std::exception& e) {
            spdlog::warn("http access observer threw: {}", e.what());
        }
    }
};

// ---------------------------------------------------------------------------------------------

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
public:
    static constexpr bool kTls = !std::is_same_v<Stream, Socket>;

    template <class... Args>
    Session(std::shared_ptr<Core> core, Mailbox& mailbox, std::uint64_t id, Args&&... stream_args)
        : core_(std::move(core)),
          mailbox_(mailbox),
          id_(id),
          stream_(std::forward<Args>(stream_args)...),
          timer_(stream_.get_executor()),
          // At least 10 ms, so that a zero timeout cannot make the timer spin (it then fires late by
          // up to that much).
          step_(std::max(std::chrono::milliseconds(10),
                         std::min({options().read_timeout, options().write_timeout, options().idle_timeout,
                                   options().handler_timeout}))) {}

    ~Session() override { core_->remove_session(id_); }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run() {
        // Accepted on the listener's thread: move onto this connection's own context first.
        net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->on_start(); });
    }

    void on_server_stop() override {
        net::post(stream_.get_executor(), [self = this->shared_from_this()] {
            if (self->state_ == State::idle) self->close_socket();
        });
    }

    void on_answer(std::uint64_t seq, Response response) override { answer(seq, std::move(response)); }

private:
    enum class State { handshake, idle, reading, handling, writing, closing };

    auto& lowest() { return stream_.lowest_layer(); }
    Socket& socket() {
        if constexpr (kTls) {
            return stream_.next_layer();
        } else {
            return stream_;
        }
    }
    const ServerOptions& options() const { return core_->options; }

    // --- deadlines -----------------------------------------------------------------------------
    // Every step (handshake, wait for a request, read it, handle it, write the answer) has a deadline.
    // One timer per connection watches it lazily: it is armed at most `step_` (the shortest timeout)
    // ahead, so a later step's deadline is never earlier than the pending wait and moving the deadline
    // costs no timer operation. When the wait ends early, it re-arms for what is left.

    void set_deadline(std::chrono::milliseconds timeout) {
        const auto now = Clock::now();
        deadline_ = now + timeout;
        if (timer_at_ == kNever) arm(std::min(deadline_, now + step_));
    }

    void arm(Clock::time_point at) {
        timer_at_ = at;
        timer_.expires_at(at);
        timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) { self->on_timer(ec); });
    }

    void on_timer(beast::error_code ec) {
        timer_at_ = kNever;
        if (ec || state_ == State::closing || deadline_ == kNever) return;
        const auto now = Clock::now();
        if (now < deadline_) {
            arm(std::min(deadline_, now + step_));
            return;
        }
        deadline_ = kNever;
        if (state_ == State::handling) {
            spdlog::warn("http request_id={} {} {}: no response after {} ms, answering 503", request_id_, method_,
                         path_, options().handler_timeout.count());
            answer(seq_, Response::error(503, "timeout", "the request could not be handled in time"));
            return;
        }
        // A slow or silent peer (or a stuck TLS shutdown): closing cancels its pending operation.
        spdlog::debug("http conn={} deadline passed while {}", id_, state_name());
        close_socket();
    }

    [[nodiscard]] const char* state_name() const {
        switch (state_) {
            case State::handshake: return "in the TLS handshake";
            case State::idle: return "idle";
            case State::reading: return "reading a request";
            case State::handling: return "handling";
            case State::writing: return "writing";
            case State::closing: return "closing";
        }
        return "?";
    }

    // --- reading -------------------------------------------------------------------------------

    void on_start() {
        beast::error_code ec;
        const auto remote = lowest().remote_endpoint(ec);
        if (!ec) remote_ = remote.address().to_string();
        if (!core_->add_session(id_, std::weak_ptr<SessionBase>(this->shared_from_this()))) {
            close_socket();  // accepted just as the server began to stop
            return;
        }
        if constexpr (kTls) {
            state_ = State::handshake;
            set_deadline(options().read_timeout);
            stream_.async_handshake(ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code e) { self->on_handshake(e); });
        } else {
            wait_for_request();
        }
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            fail(ec, "tls handshake", id_);
            close_socket();
            return;
        }
        wait_for_request();
    }

    // Between requests: waits for the first byte of the next one under the idle deadline (the read
    // deadline on a fresh connection), so stop() can tell an idle connection from a busy one.
    void wait_for_request() {
        if (core_->stopping) {
            do_close();
            return;
        }
        if (buffer_.size() > 0) {  // pipelined: the next request is already here
            start_request();
            return;
        }
        state_ = State::idle;
        set_deadline(first_request_ ? options().read_timeout : options().idle_timeout);
        read_some();
    }

    void read_some() {
        stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, kReadChunk)),
                                [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->on_read(ec, n);
                                });
    }

    void on_read(beast::error_code ec, std::size_t bytes) {
        buffer_.commit(bytes);
        if (ec) {
            if (state_ == State::idle) {
                fail(ec, first_request_ ? "wait for request" : "keep-alive idle", id_);
                close_socket();
            } else if (state_ == State::reading) {
                // The peer closed mid-request: Beast's name for it, so the log says what happened.
                on_read_error(ec == net::error::eof ? beast::error_code(bhttp::error::partial_message) : ec);
            }  // closing: close_socket() already ran
            return;
        }
        if (state_ == State::idle) {
            start_request();
        } else if (state_ == State::reading) {
            parse();
        }
    }

    void start_request() {
        state_ = State::reading;
        started_ = Clock::now();
        request_id_.clear();
        target_.reset();
        unread_input_ = false;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(options().header_limit, std::numeric_limits<std::uint32_t>::max())));
        // The body limit depends on the path, known only once the header is in: no limit while the
        // header is read, then on_header checks Content-Length and sets the path's limit.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        set_deadline(options().read_timeout);
        parse();
    }

    // Feeds what has arrived to Beast's parser (which stops after the header, so its limit can be
    // chosen by path), and reads more while the message is incomplete.
    void parse() {
        if (!parser_->is_header_done() && (!feed() || !on_header())) return;
        while (!parser_->is_done()) {
            if (buffer_.size() == 0) {
                read_some();
                return;
            }
            if (!feed()) return;
        }
        dispatch_request();
    }

    // One put() of what has arrived. false: more input is being read, or the request was answered.
    bool feed() {
        beast::error_code ec;
        buffer_.consume(parser_->put(buffer_.data(), ec));
        if (ec == bhttp::error::need_more) {
            read_some();
            return false;
        }
        if (ec) {
            on_read_error(ec);
            return false;
        }
        return true;
    }

    // false: the request was answered (or a 100-continue is being written) and parse() must stop.
    bool on_header() {
        const auto& message = parser_->get();
        request_id_ = core_->next_request_id();
        method_ = std::string(message.method_string());
        keep_alive_ = message.keep_alive();
        http10_ = message.version() < 11;
        target_ = detail::parse_target(message.target());
        path_ = target_ ? target_->path : std::string(message.target());

        const std::size_t limit = core_->router->body_limit_for(path_, options().body_limit);
        if (const auto length = parser_->content_length(); length && *length > limit) {
            reject(413, "payload_too_large", "request body exceeds " + std::to_string(limit) + " bytes");
            return false;
        }
        parser_->body_limit(limit);  // also bounds chunked bodies
        parser_->eager(true);
        if (!parser_->is_done() && iequals(message[bhttp::field::expect], "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            set_deadline(options().write_timeout);
            net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                             [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                                 self->on_continue_written(e);
                             });
            return false;
        }
        return true;
    }

    void on_continue_written(beast::error_code ec) {
        if (ec) {
            fail(ec, "write 100-continue", id_);
            close_socket();
            return;
        }
        set_deadline(options().read_timeout);
        parse();
    }

    void on_read_error(const beast::error_code& ec) {
        if (ec == bhttp::error::body_limit) {
            reject(413, "payload_too_large", "request body too large");
        } else if (ec == bhttp::error::header_limit) {
            reject(431, "headers_too_large", "request header fields too large");
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                   ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
            reject(400, "bad_request", "malformed HTTP request");
        } else {
            // Resets, a peer gone mid-message: nobody to answer.
            fail(ec, "read request", id_);
            close_socket();
        }
    }

    // An error answer before the request was fully read: the connection cannot be reused.
    void reject(int status, std::string_view code, std::string message) {
        keep_alive_ = false;
        unread_input_ = true;
        if (request_id_.empty()) request_id_ = core_->next_request_id();
        write_response(Response::error(status, code, message));
    }

    // --- handling ------------------------------------------------------------------------------

    void dispatch_request() {
        if (!target_) {
            reject(400, "bad_request", "malformed request target");
            return;
        }
        const Router& router = *core_->router;
        const auto found = router.find(method_, path_);
        if (found.handler == nullptr) {
            if (found.path_known) {
                auto response = Response::error(405, "method_not_allowed", "method " + method_ + " not allowed");
                response.headers.emplace_back("Allow", router.allowed_methods(path_));
                write_response(std::move(response));
            } else {
                write_response(Response::error(404, "not_found", "no route for this path"));
            }
            return;
        }

        Request request = make_request();
        state_ = State::handling;
        const std::uint64_t seq = ++seq_;
        set_deadline(options().handler_timeout);  // no I/O while the handler works

        std::weak_ptr<SessionBase> weak = this->shared_from_this();
        auto called = std::make_shared<std::atomic<bool>>(false);
        // Holds the core, and so the mailbox, alive; the session only weakly.
        Responder responder = [core = core_, mailbox = &mailbox_, weak = std::move(weak), called,
                               seq](Response response) {
            if (called->exchange(true)) return;  // second call: ignored
            mailbox->deliver(weak, seq, std::move(response));
        };
        try {
            (*found.handler)(std::move(request), std::move(responder));
        } catch (const std::exception& e) {
            spdlog::error("http request_id={} handler for {} threw: {}", request_id_, path_, e.what());
            answer(seq, Response::error(500, "internal_error", "internal error"));
        } catch (...) {
            spdlog::error("http request_id={} handler for {} threw", request_id_, path_);
            answer(seq, Response::error(500, "internal_error", "internal error"));
        }
    }

    Request make_request() {
        auto message = parser_->release();
        Request request;
        request.method = method_;
        request.target = std::string(message.target());
        request.path = path_;
        request.query = std::move(target_->query);
        for (const auto& field : message) {
            auto name = to_lower(field.name_string());
            const auto value = field.value();
            auto [it, inserted] = request.headers.try_emplace(std::move(name), value);
            if (!inserted) {  // repeated header: RFC 9110 5.3 combined form
                it->second += ", ";
                it->second += value;
            }
        }
        request.body = std::move(message.body());
        request.remote = remote_;
        request.request_id = request_id_;
        return request;
    }

    // The first answer for the current request wins; late or stale ones are dropped.
    void answer(std::uint64_t seq, Response response) {
        if (state_ != State::handling || seq != seq_) return;
        write_response(std::move(response));
    }

    // --- writing -------------------------------------------------------------------------------

    void write_response(Response response) {
        state_ = State::writing;
        int status = response.status;
        if (status < 100 || status > 599) {
            spdlog::error("http request_id={} handler answered invalid status {}", request_id_, status);
            status = 500;
        }
        status_ = status;
        keep_alive_ = keep_alive_ && !core_->stopping;
        body_ = std::move(response.body);
        format_head(response);
        set_deadline(options().write_timeout);
        const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
        net::async_write(stream_, buffers, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_write(ec);
        });
    }

    // The status line and header fields. Beast parses requests; our answers are a handful of known
    // fields, written straight into one reused buffer (Beast's generic serializer cost a fifth of
    // the CPU of a webhook acknowledgement).
    void format_head(const Response& response) {
        head_.clear();
        head_ += "HTTP/1.1 ";
        char digits[24];
        head_.append(digits, std::to_chars(std::begin(digits), std::end(digits), status_).ptr);
        head_ += ' ';
        head_ += bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status_)));
        head_ += "\r\n";
        // Fields the server makes itself (names and values it controls) go in without the check.
        const auto own_field = [this](std::string_view name, std::string_view value) {
            head_ += name;
            head_ += ": ";
            head_ += value;
            head_ += "\r\n";
        };
        const auto field = [this](std::string_view name, std::string_view value) {
            // A field a handler built from untrusted text must not split the response.
            if (name.empty() || name.find_first_of("\r\n: ") != std::string_view::npos ||
                value.find_first_of("\r\n") != std::string_view::npos) {
                spdlog::error("http request_id={} dropped a response header with a bad name or value", request_id_);
                return;
            }
            head_ += name;
            head_ += ": ";
            head_ += value;
            head_ += "\r\n";
        };
        if (!response.content_type.empty()) field("Content-Type", response.content_type);
        for (const auto& [name, value] : response.headers) field(name, value);
        own_field("X-Request-Id", request_id_);
        if (!keep_alive_) {
            own_field("Connection", "close");
        } else if (http10_) {
            own_field("Connection", "keep-alive");
        }
        if (method_ == "HEAD") {
            body_.clear();  // no body, and no length: it could only be that of a GET (RFC 9110 8.6)
        } else {
            own_field("Content-Length",
                      std::string_view(digits, std::to_chars(std::begin(digits), std::end(digits), body_.size()).ptr));
        }
        head_ += "\r\n";
    }

    void on_write(beast::error_code ec) {
        core_->observe(AccessRecord{method_, path_, status_,
                                    std::chrono::duration<double>(Clock::now() - started_).count(), request_id_,
                                    remote_});
        if (ec) {
            fail(ec, "write response", id_);
            close_socket();
            return;
        }
        if (!keep_alive_) {
            do_close();
            return;
        }
        first_request_ = false;
        if (body_.capacity() > kKeptBuffer) body_ = std::string();
        wait_for_request();
    }

    // --- closing -------------------------------------------------------------------------------

    void do_close() {
        state_ = State::closing;
        if constexpr (kTls) {
            set_deadline(options().write_timeout);
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code ec) { self->on_shutdown(ec); });
        } else {
            beast::error_code ec;
            lowest().shutdown(tcp::socket::shutdown_send, ec);
            if (unread_input_ && !ec) {
                linger();
                return;
            }
            close_socket();
        }
    }

    void on_shutdown(beast::error_code ec) {
        fail(ec, "tls shutdown", id_);
        close_socket();
    }

    // After an early answer (413, 400) the client may still be sending. Closing a socket with unread
    // input makes the kernel send RST, which can destroy our answer before the client reads it; so
    // read and discard for a short while (a "lingering close", as nginx and Apache do).
    void linger() {
        const auto grace = std::min<std::chrono::milliseconds>(options().read_timeout, std::chrono::seconds(2));
        set_deadline(grace);
        discard_.resize(16 * 1024);
        socket().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec,
                                                                                           std::size_t n) {
            self->on_linger(ec, n);
        });
    }

    void on_linger(beast::error_code ec, std::size_t bytes) {
        linger_bytes_ += bytes;
        if (ec || state_ != State::closing || linger_bytes_ > 4 * options().body_limit + 1024 * 1024) {
            close_socket();
            return;
        }
        socket().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code e,
                                                                                           std::size_t n) {
            self->on_linger(e, n);
        });
    }

    void close_socket() {
        state_ = State::closing;
        deadline_ = kNever;
        timer_.cancel();
        beast::error_code ec;
        lowest().close(ec);
    }

    static constexpr std::size_t kReadChunk = 64 * 1024;
    static constexpr std::size_t kKeptBuffer = 64 * 1024;  // larger answer buffers are not kept idle

    std::shared_ptr<Core> core_;
    Mailbox& mailbox_;  // of this connection's I/O thread; owned by core_
    std::uint64_t id_;
    Stream stream_;
    Timer timer_;
    std::chrono::milliseconds step_;
    Clock::time_point deadline_ = kNever;  // of the current step
    Clock::time_point timer_at_ = kNever;  // when the pending wait ends; kNever: none pending
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // fresh per request
    std::string head_;
    std::string body_;
    std::string discard_;
    std::size_t linger_bytes_ = 0;

    State state_ = State::idle;
    bool first_request_ = true;
    bool keep_alive_ = false;
    bool http10_ = false;
    bool unread_input_ = false;
    std::uint64_t seq_ = 0;  // numbers requests; a response for an older one is dropped
    std::string remote_;

    // The current request, for routing, logs and the access record.
    std::optional<detail::ParsedTarget> target_;
    std::string method_;
    std::string path_;
    std::string request_id_;
    Clock::time_point started_{};
    int status_ = 0;
};

using PlainSession = Session<Socket>;
using TlsSession = Session<ssl::stream<Socket>>;

std::string random_id_prefix() {
    unsigned char bytes[3] = {};
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        const auto now = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
        for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
    }
    char out[8];
    std::snprintf(out, sizeof out, "%02x%02x%02x", bytes[0], bytes[1], bytes[2]);
    return std::string(out) + "-";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Server::Impl {
    Impl(ServerOptions options, std::shared_ptr<const Router> router, AccessObserver observer)
        : core(std::make_shared<Core>()) {
        const int n = std::max(1, options.threads);
        for (int i = 0; i < n; ++i) {
            // Concurrency hint 1: each context is run by exactly one thread (posts from others still lock).
            contexts.push_back(std::make_unique<net::io_context>(1));
            work.push_back(net::make_work_guard(*contexts.back()));
            core->mailboxes.push_back(std::make_unique<Mailbox>(contexts.back()->get_executor()));
        }
        acceptor.emplace(contexts.front()->get_executor());
        retry_timer.emplace(contexts.front()->get_executor());
        core->options = std::move(options);
        core->router = router ? std::move(router) : std::make_shared<const Router>();
        core->observer = std::move(observer);
        core->id_prefix = random_id_prefix();
    }

    ~Impl() { stop(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    bool make_tls_context(std::string& error) {
        const TlsOptions& tls = *core->options.tls;
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
        beast::error_code ec;
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                         ec);
        if (!ec && SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
            error = "cannot set TLS 1.2 as the minimum version";
            return false;
        }
        if (!ec) ctx->use_certificate_chain_file(tls.cert_file, ec);
        if (ec) {
            error = "TLS certificate chain '" + tls.cert_file + "': " + ec.message();
            return false;
        }
        ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
        if (ec) {
            error = "TLS private key '" + tls.key_file + "': " + ec.message();
            return false;
        }
        if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
            error = "TLS private key does not match the certificate";
            return false;
        }
        tls_context = std::move(ctx);
        return true;
    }

    bool start(std::string& error) {
        std::lock_guard lock(lifecycle_mutex);
        if (started || stopped) {
            error = started ? "server already started" : "server was stopped";
            return false;
        }
        const ServerOptions& options = core->options;
        if (options.tls && !make_tls_context(error)) return false;

        beast::error_code ec;
        const auto address = net::ip::make_address(options.address, ec);
        if (ec) {
            error = "bad listen address '" + options.address + "': " + ec.message();
            return false;
        }
        const tcp::endpoint endpoint{address, options.port};
        const auto failed = [&](std::string_view what) {
            error = std::string(what) + " " + options.address + ":" + std::to_string(options.port) + ": " +
                    ec.message();
            beast::error_code ignored;
            acceptor->close(ignored);
            return false;
        };
        if (acceptor->open(endpoint.protocol(), ec); ec) return failed("open");
        if (acceptor->set_option(net::socket_base::reuse_address(true), ec); ec) return failed("set_option");
        if (acceptor->bind(endpoint, ec); ec) return failed("bind");
        if (acceptor->listen(net::socket_base::max_listen_connections, ec); ec) return failed("listen");
        const auto local = acceptor->local_endpoint(ec);
        if (ec) return failed("local_endpoint");
        bound_port = local.port();

        started = true;
        do_accept();  // nothing runs the contexts yet, so initiating from here is safe
        threads.reserve(contexts.size());
        for (auto& context : contexts) threads.emplace_back([this, ctx = context.get()] { run_thread(*ctx); });
        spdlog::info("http listening on {}:{}{}", options.address, bound_port, options.tls ? " (TLS)" : "");
        return true;
    }

    static void run_thread(net::io_context& ioc) {
        pthread_setname_np(pthread_self(), "pgibot-io");  // for top -H, perf and gdb
        for (;;) {
            try {
                ioc.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("http I/O thread: unhandled exception: {}", e.what());
            }
        }
    }

    // Connections are dealt to the I/O threads' contexts in turn.
    void do_accept() {
        const std::size_t index = next_context++ % contexts.size();
        acceptor->async_accept(contexts[index]->get_executor(), [this, index](beast::error_code ec, Socket socket) {
            on_accept(ec, index, std::move(socket));
        });
    }

    void on_accept(beast::error_code ec, std::size_t index, Socket socket) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
        if (ec) {
            // e.g. EMFILE: back off briefly instead of spinning.
            spdlog::warn("http accept: {}", ec.message());
            retry_timer->expires_after(std::chrono::milliseconds(100));
            retry_timer->async_wait([this](beast::error_code timer_ec) {
                if (!timer_ec && acceptor->is_open()) do_accept();
            });
            return;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        const auto id = core->next_session.fetch_add(1, std::memory_order_relaxed);
        if (tls_context) {
            std::make_shared<TlsSession>(core, *core->mailboxes[index], id, std::move(socket), *tls_context)->run();
        } else {
            std::make_shared<PlainSession>(core, *core->mailboxes[index], id, std::move(socket))->run();
        }
        do_accept();
    }

    void stop() {
        std::lock_guard lock(lifecycle_mutex);
        if (stopped) return;
        stopped = true;
        if (!started) return;

        std::vector<std::shared_ptr<SessionBase>> live;
        {
            std::lock_guard sessions_lock(core->sessions_mutex);
            core->stopping = true;
            for (auto& [id, weak] : core->sessions) {
                if (auto session = weak.lock()) live.push_back(std::move(session));
            }
        }
        net::post(acceptor->get_executor(), [this] {
            beast::error_code ignored;
            acceptor->close(ignored);
            retry_timer->cancel();
        });
        for (auto& session : live) session->on_server_stop();
        live.clear();  // our references would keep the sessions (and the wait below) alive

        {
            std::unique_lock sessions_lock(core->sessions_mutex);
            const bool drained = core->drained.wait_for(sessions_lock, core->options.shutdown_grace,
                                                        [this] { return core->sessions.empty(); });
            if (!drained) {
                spdlog::warn("http stop: {} connection(s) still busy after {} ms; closing them",
                             core->sessions.size(), core->options.shutdown_grace.count());
            }
        }
        work.clear();
        for (auto& context : contexts) context->stop();
        for (auto& thread : threads) {
            if (thread.joinable()) thread.join();
        }
        threads.clear();
        // No thread runs the context now. Close here too, in case the posted close never ran: a
        // listening socket left open would still complete TCP handshakes after stop() returned.
        beast::error_code ignored;
        acceptor->close(ignored);
        for (auto& mailbox : core->mailboxes) mailbox->close();
        spdlog::info("http server on port {} stopped", bound_port);
    }

    std::shared_ptr<Core> core;
    std::shared_ptr<ssl::context> tls_context;  // shared: sessions hold it by reference
    std::vector<std::unique_ptr<net::io_context>> contexts;  // one per I/O thread
    std::vector<net::executor_work_guard<Executor>> work;
    std::optional<net::basic_socket_acceptor<tcp, Executor>> acceptor;  // on the first context
    std::optional<Timer> retry_timer;
    std::size_t next_context = 0;  // used on the acceptor's thread only
    std::vector<std::thread> threads;
    std::mutex lifecycle_mutex;
    bool started = false;
    bool stopped = false;
    std::atomic<std::uint16_t> bound_port{0};
};

Server::Server(ServerOptions options, std::shared_ptr<const Router> router, AccessObserver observer)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), std::move(observer))) {}

Server::~Server() = default;

bool Server::start(std::string& error) { return impl_->start(error); }

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::stop() { impl_->stop(); }

}  // namespace pgibot::http
