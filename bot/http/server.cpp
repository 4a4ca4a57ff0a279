// The inbound HTTP(S) server. Layout follows Beast's server-flex example: a listener that accepts
// each socket onto its own strand, one session per connection (plain or TLS, one template), a
// fresh parser per request, and a deadline before every I/O step.
//
// Lifetimes: every async operation holds the session by shared_ptr, so a session lives exactly as
// long as something is pending on it. Responders hold it only weakly, and post to it through
// Core::post_to_session, which refuses once the io_context is about to go away.
#include "bot/http/server.hpp"
#include "bot/http/target.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
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

class SessionBase {
public:
    virtual ~SessionBase() = default;
    // Any thread. Closes the connection if idle; otherwise the current request is finished and the
    // connection closed after its response.
    virtual void on_server_stop() = 0;
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

    // Registry of live sessions, for stop(). Lock order: posts_mutex before sessions_mutex.
    std::mutex sessions_mutex;
    std::condition_variable drained;
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;

    // Responders post into the io_context only while posts_open (flipped under the mutex right
    // before the io_context is torn down), so a late responder never touches a dead context.
    std::mutex posts_mutex;
    bool posts_open = true;

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
        const int len = std::snprintf(counter, sizeof counter, "%llx", static_cast<unsigned long long>(n));
        return id_prefix + std::string(counter, static_cast<std::size_t>(std::max(len, 0)));
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
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

    template <class... Args>
    Session(std::shared_ptr<Core> core, std::uint64_t id, Args&&... stream_args)
        : core_(std::move(core)),
          id_(id),
          stream_(std::forward<Args>(stream_args)...),
          handler_timer_(stream_.get_executor()) {}

    ~Session() override { core_->remove_session(id_); }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run() {
        // The socket was accepted onto this connection's strand; get onto it before touching state.
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::on_start, this->shared_from_this()));
    }

    void on_server_stop() override {
        net::post(stream_.get_executor(), [self = this->shared_from_this()] {
            if (self->state_ == State::idle) self->close_socket();
        });
    }

    // From a Responder, any thread: hop onto the strand.
    static void deliver(const std::shared_ptr<Core>& core, const std::weak_ptr<Session>& weak, std::uint64_t seq,
                        Response response) {
        std::lock_guard lock(core->posts_mutex);
        if (!core->posts_open) return;
        // Locked and released under posts_mutex, so the session (and its socket) is never destroyed
        // here after the io_context is gone.
        auto self = weak.lock();
        if (!self) return;
        auto executor = self->stream_.get_executor();
        net::post(executor, [self = std::move(self), seq, response = std::move(response)]() mutable {
            self->on_response(seq, std::move(response));
        });
    }

private:
    enum class State { handshake, idle, reading, handling, writing, closing };

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
    const ServerOptions& options() const { return core_->options; }

    void on_start() {
        beast::error_code ec;
        const auto remote = lowest().socket().remote_endpoint(ec);
        if (!ec) remote_ = remote.address().to_string();
        if (!core_->add_session(id_, std::weak_ptr<SessionBase>(this->shared_from_this()))) {
            close_socket();  // accepted just as the server began to stop
            return;
        }
        if constexpr (kTls) {
            state_ = State::handshake;
            lowest().expires_after(options().read_timeout);
            stream_.async_handshake(ssl::stream_base::server,
                                    beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
        } else {
            do_read();
        }
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            fail(ec, "tls handshake", id_);
            close_socket();
            return;
        }
        do_read();
    }

    // Waits for the first byte of the next request under the idle deadline (read_timeout on a fresh
    // connection), so stop() can tell an idle connection from one in the middle of a request.
    void do_read() {
        if (core_->stopping) {
            do_close();
            return;
        }
        if (buffer_.size() > 0) {
            start_request();
            return;
        }
        state_ = State::idle;
        lowest().expires_after(first_request_ ? options().read_timeout : options().idle_timeout);
        stream_.async_read_some(buffer_.prepare(4096),
                                beast::bind_front_handler(&Session::on_first_bytes, this->shared_from_this()));
    }

    void on_first_bytes(beast::error_code ec, std::size_t bytes) {
        buffer_.commit(bytes);
        if (ec) {
            fail(ec, first_request_ ? "wait for request" : "keep-alive idle", id_);
            close_socket();
            return;
        }
        start_request();
    }

    void start_request() {
        state_ = State::reading;
        started_ = Clock::now();
        method_.clear();
        path_.clear();
        request_id_.clear();
        target_.reset();
        unread_input_ = false;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(options().header_limit, std::numeric_limits<std::uint32_t>::max())));
        // The body limit depends on the path, known only once the header is in: no limit while the
        // header is read, then on_header checks Content-Length and sets the path's limit.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        lowest().expires_after(options().read_timeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 beast::bind_front_handler(&Session::on_header, this->shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            on_read_error(ec);
            return;
        }
        auto& message = parser_->get();
        request_id_ = core_->next_request_id();
        method_ = std::string(message.method_string());
        keep_alive_ = message.keep_alive();
        target_ = detail::parse_target(message.target());
        path_ = target_ ? target_->path : std::string(message.target());

        const std::size_t limit = core_->router->body_limit_for(path_, options().body_limit);
        if (const auto length = parser_->content_length(); length && *length > limit) {
            reject(413, "payload_too_large", "request body exceeds " + std::to_string(limit) + " bytes");
            return;
        }
        parser_->body_limit(limit);  // also bounds chunked bodies
        if (parser_->is_done()) {
            dispatch_request();
            return;
        }
        if (iequals(message[bhttp::field::expect], "100-continue")) {
            continue_ = {bhttp::status::continue_, message.version()};
            lowest().expires_after(options().write_timeout);
            bhttp::async_write(stream_, continue_,
                               beast::bind_front_handler(&Session::on_continue_written, this->shared_from_this()));
            return;
        }
        read_body();
    }

    void on_continue_written(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            fail(ec, "write 100-continue", id_);
            close_socket();
            return;
        }
        lowest().expires_after(options().read_timeout);
        read_body();
    }

    void read_body() {
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_body, this->shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            on_read_error(ec);
            return;
        }
        dispatch_request();
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
            // Timeouts (slow clients), resets, a peer gone mid-message: nobody to answer.
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
        lowest().expires_never();  // no I/O while the handler works; handler_timer_ bounds it
        handler_timer_.expires_after(options().handler_timeout);
        handler_timer_.async_wait(
            beast::bind_front_handler(&Session::on_handler_timeout, this->shared_from_this(), seq));

        std::weak_ptr<Session> weak = this->shared_from_this();
        auto called = std::make_shared<std::atomic<bool>>(false);
        Responder responder = [core = core_, weak = std::move(weak), called, seq](Response response) {
            if (called->exchange(true)) return;  // second call: ignored
            deliver(core, weak, seq, std::move(response));
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

    void on_handler_timeout(std::uint64_t seq, beast::error_code ec) {
        if (ec || state_ != State::handling || seq != seq_) return;
        spdlog::warn("http request_id={} {} {}: no response after {} ms, answering 503", request_id_, method_, path_,
                     options().handler_timeout.count());
        answer(seq, Response::error(503, "timeout", "the request could not be handled in time"));
    }

    void on_response(std::uint64_t seq, Response response) { answer(seq, std::move(response)); }

    // The first answer for the current request wins; late or stale ones are dropped.
    void answer(std::uint64_t seq, Response response) {
        if (state_ != State::handling || seq != seq_) return;
        handler_timer_.cancel();
        write_response(std::move(response));
    }

    void write_response(Response response) {
        state_ = State::writing;
        int status = response.status;
        if (status < 100 || status > 599) {
            spdlog::error("http request_id={} handler answered invalid status {}", request_id_, status);
            status = 500;
        }
        status_ = status;
        response_ = {};
        response_.version(11);
        response_.result(static_cast<unsigned>(status));
        if (!response.content_type.empty()) response_.set(bhttp::field::content_type, response.content_type);
        for (auto& [name, value] : response.headers) response_.insert(name, value);
        response_.set("X-Request-Id", request_id_);
        response_.body() = std::move(response.body);
        response_.keep_alive(keep_alive_ && !core_->stopping);
        response_.prepare_payload();
        lowest().expires_after(options().write_timeout);
        bhttp::async_write(stream_, response_, beast::bind_front_handler(&Session::on_write, this->shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t /*bytes*/) {
        core_->observe(AccessRecord{method_, path_, status_,
                                    std::chrono::duration<double>(Clock::now() - started_).count(), request_id_,
                                    remote_});
        if (ec) {
            fail(ec, "write response", id_);
            close_socket();
            return;
        }
        if (!response_.keep_alive()) {
            do_close();
            return;
        }
        first_request_ = false;
        response_ = {};
        do_read();
    }

    void do_close() {
        state_ = State::closing;
        if constexpr (kTls) {
            lowest().expires_after(options().write_timeout);
            stream_.async_shutdown(beast::bind_front_handler(&Session::on_shutdown, this->shared_from_this()));
        } else {
            beast::error_code ec;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
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
        lowest().expires_after(grace);
        discard_.resize(16 * 1024);
        lowest().async_read_some(net::buffer(discard_),
                                 beast::bind_front_handler(&Session::on_linger, this->shared_from_this()));
    }

    void on_linger(beast::error_code ec, std::size_t bytes) {
        linger_bytes_ += bytes;
        if (ec || linger_bytes_ > 4 * options().body_limit + 1024 * 1024) {
            close_socket();
            return;
        }
        lowest().async_read_some(net::buffer(discard_),
                                 beast::bind_front_handler(&Session::on_linger, this->shared_from_this()));
    }

    void close_socket() {
        state_ = State::closing;
        handler_timer_.cancel();
        beast::error_code ec;
        lowest().socket().close(ec);
    }

    std::shared_ptr<Core> core_;
    std::uint64_t id_;
    Stream stream_;
    net::steady_timer handler_timer_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // fresh per request
    bhttp::response<bhttp::empty_body> continue_;
    bhttp::response<bhttp::string_body> response_;
    std::string discard_;
    std::size_t linger_bytes_ = 0;

    State state_ = State::idle;
    bool first_request_ = true;
    bool keep_alive_ = false;
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

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

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
        : core(std::make_shared<Core>()),
          ioc(std::max(1, options.threads)),
          acceptor(net::make_strand(ioc)),
          retry_timer(acceptor.get_executor()) {
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
            acceptor.close(ignored);
            return false;
        };
        if (acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
        if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) return failed("set_option");
        if (acceptor.bind(endpoint, ec); ec) return failed("bind");
        if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) return failed("listen");
        const auto local = acceptor.local_endpoint(ec);
        if (ec) return failed("local_endpoint");
        bound_port = local.port();

        started = true;
        do_accept();  // nothing runs the context yet, so initiating from here is safe
        const int n = std::max(1, options.threads);
        threads.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) threads.emplace_back([this] { run_thread(); });
        spdlog::info("http listening on {}:{}{}", options.address, bound_port, options.tls ? " (TLS)" : "");
        return true;
    }

    void run_thread() {
        for (;;) {
            try {
                ioc.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("http I/O thread: unhandled exception: {}", e.what());
            }
        }
    }

    void do_accept() {
        acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
            on_accept(ec, std::move(socket));
        });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        if (ec) {
            // e.g. EMFILE: back off briefly instead of spinning.
            spdlog::warn("http accept: {}", ec.message());
            retry_timer.expires_after(std::chrono::milliseconds(100));
            retry_timer.async_wait([this](beast::error_code timer_ec) {
                if (!timer_ec && acceptor.is_open()) do_accept();
            });
            return;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        const auto id = core->next_session.fetch_add(1, std::memory_order_relaxed);
        if (tls_context) {
            std::make_shared<TlsSession>(core, id, std::move(socket), *tls_context)->run();
        } else {
            std::make_shared<PlainSession>(core, id, std::move(socket))->run();
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
        net::post(acceptor.get_executor(), [this] {
            beast::error_code ignored;
            acceptor.close(ignored);
            retry_timer.cancel();
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
        work.reset();
        ioc.stop();
        for (auto& thread : threads) {
            if (thread.joinable()) thread.join();
        }
        threads.clear();
        // No thread runs the context now. Close here too, in case the posted close never ran: a
        // listening socket left open would still complete TCP handshakes after stop() returned.
        beast::error_code ignored;
        acceptor.close(ignored);
        {
            std::lock_guard posts_lock(core->posts_mutex);
            core->posts_open = false;
        }
        spdlog::info("http server on port {} stopped", bound_port);
    }

    std::shared_ptr<Core> core;
    std::shared_ptr<ssl::context> tls_context;  // shared: sessions hold it by reference
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    tcp::acceptor acceptor;
    net::steady_timer retry_timer;
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
