// `pgibot serve`: wires the rooms together from the config and runs until SIGTERM/SIGINT.
//
//   webhook ─▶ channel.ingest (signature, parse) ─▶ Committer (group commit, dedup) ─▶ 200
//           ─▶ Dispatcher (per-user lanes) ─▶ Processor (handlers, one atomic commit) ─▶ outbox
//           ─▶ Sender (rate limit, retries) ─▶ channel.send
//
// Shutdown: stop accepting and answer in-flight requests, commit what was acknowledged, handle the
// committed events, let in-flight sends finish; what is still pending stays in the outbox and is
// sent after the next start. SIGHUP reloads the content (a broken edit is refused).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <set>
#include <stop_token>
#include <thread>

#include "bot/app/bootstrap.hpp"
#include "bot/app/commands.hpp"
#include "bot/app/telemetry.hpp"
#include "bot/channels/facebook/facebook_channel.hpp"
#include "bot/channels/facebook/profile.hpp"
#include "bot/channels/web/web_channel.hpp"
#include "bot/channels/zalo/zalo_channel.hpp"
#include "bot/http/client.hpp"
#include "bot/http/server.hpp"
#include "bot/pipeline/committer.hpp"
#include "bot/pipeline/dispatcher.hpp"
#include "bot/pipeline/processor.hpp"
#include "bot/pipeline/sender.hpp"
#include "bot/pipeline/store_lookups.hpp"
#include "bot/tipoffs/evidence.hpp"
#include "bot/tipoffs/forwarder.hpp"
#include "handlers/handler.hpp"

namespace pgibot::app {
namespace {


// Health facts refreshed by the housekeeping thread, read by /readyz without touching the database
// on an I/O thread.
struct Health {
    std::atomic<bool> store_writable{true};
    std::atomic<bool> facebook_subscribed{true};
    std::atomic<bool> zalo_token_ok{true};
};

std::optional<Event> timer_event_for(const std::string& user_key, std::string_view source_type) {
    // user_key = platform:page:user (user ids never contain ':' on either platform).
    const auto a = user_key.find(':');
    const auto b = a == std::string::npos ? a : user_key.find(':', a + 1);
    if (b == std::string::npos) return std::nullopt;
    auto platform = platform_from_string(user_key.substr(0, a));
    if (!platform) return std::nullopt;
    Event e;
    e.platform = *platform;
    e.page_id = user_key.substr(a + 1, b - a - 1);
    e.user_id = user_key.substr(b + 1);
    e.kind = EventKind::timer;
    e.source_type = std::string(source_type);
    e.timestamp_ms = wall_ms();
    return e;
}

// Retention: rows per delete transaction. Small enough that a group commit waiting for the writers'
// turn waits for one short batch (a few ms), large enough that a month's backlog after an upgrade
// takes minutes, not hours.
constexpr std::size_t kRetentionBatch = 500;

// One run of the retention job: deletes what is done with and older than `days` (inbox events,
// events stored already handled, final outbox rows), logs the counts and counts them in /metrics.
// Never throws: a failure is logged and the next run tries again.
void run_retention(store::Store& store, Telemetry& telemetry, int days, const std::stop_token& stop) {
    const auto started = std::chrono::steady_clock::now();
    try {
        const std::int64_t cutoff = wall_ms() - std::int64_t{days} * 24 * 60 * 60 * 1000;
        const auto deleted = store.prune_inbox(cutoff, kRetentionBatch, stop);
        telemetry.retention_deleted("inbox", deleted.inbox);
        telemetry.retention_deleted("inbox_handled_groups", deleted.handled_groups);
        telemetry.retention_deleted("outbox", deleted.outbox);
        if (deleted.total() == 0) return;
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        spdlog::info("retention: deleted {} handled events, {} groups of events stored handled and {} replies"
                     " older than {} days in {} ms",
                     deleted.inbox, deleted.handled_groups, deleted.outbox, days, static_cast<long long>(ms));
    } catch (const std::exception& e) {
        spdlog::error("retention: {} (tried again in an hour)", e.what());
    }
}

// The webhook route shared by every channel: verify and parse on the I/O thread (cheap), hand the
// events to the committer, answer when they are durable.
http::Handler webhook_route(channels::Channel& channel, pipeline::Committer& committer, Telemetry& telemetry) {
    return [&channel, &committer, &telemetry](http::Request&& request, http::Responder respond) {
        const auto received = std::chrono::steady_clock::now();
        auto result = channel.ingest(request);
        const auto platform = to_string(channel.platform());
        switch (result.status) {
            case channels::IngestStatus::ok:
                break;
            case channels::IngestStatus::bad_signature:
                spdlog::warn("[{}] {} webhook refused: {}", request.request_id, platform, result.detail);
                respond(http::Response::error(403, "bad_signature", "signature missing or invalid"));
                return;
            case channels::IngestStatus::malformed:
                spdlog::warn("[{}] {} webhook malformed: {}", request.request_id, platform, result.detail);
                respond(http::Response::error(400, "malformed", "body is not a valid webhook"));
                return;
            case channels::IngestStatus::disabled:
                respond(http::Response::error(404, "not_found", "channel disabled"));
                return;
        }
        std::vector<store::Store::IncomingEvent> incoming;
        incoming.reserve(result.events.size());
        for (std::size_t i = 0; i < result.events.size(); ++i) {
            const auto& e = result.events[i];
            telemetry.webhook_event(platform, to_string(e.kind));
            std::string trace = request.request_id + "." + std::to_string(i);
            if (spdlog::should_log(spdlog::level::info)) {  // the user hash is not free: only when logged
                spdlog::info("[{}] {} {} from {}", trace, platform, e.source_type,
                             telemetry.user_ref(e.platform, e.user_id));
            }
            incoming.push_back({e.dedup_key, e.user_key(), event_to_json(e), std::move(trace), !handlers::needs_handling(e)});
        }
        if (incoming.empty()) {
            respond(http::Response::json(200, R"({"ok":true,"events":0})"));
            return;
        }
        const std::size_t total = incoming.size();
        committer.submit(std::move(incoming), [respond = std::move(respond), total, received, platform,
                                               &telemetry](bool ok, std::size_t fresh) {
            if (!ok) {
                respond(http::Response::error(503, "storage_unavailable", "try again"));
                return;
            }
            telemetry.duplicates(platform, total - fresh);
            telemetry.ack_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
            respond(http::Response::json(200, R"({"ok":true})"));
        });
    };
}

}  // namespace

channels::FacebookOptions facebook_options_from(const Config& config, const Secrets& secrets) {
    channels::FacebookOptions o;
    o.page_id = config.facebook.page_id;
    o.app_id = config.facebook.app_id;
    o.graph_api_base = config.facebook.graph_api_base;
    o.app_secret = secrets.facebook_app_secret;
    o.verify_token = secrets.facebook_verify_token;
    o.page_token = secrets.facebook_page_token;
    return o;
}

int run_serve(const std::string& config_file) {
    // Signals are taken synchronously by this thread (sigwait); every thread started below inherits
    // the mask, so no handler runs on a random thread.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const auto started = std::chrono::steady_clock::now();
    auto config_opt = load_config_or_report(config_file);
    if (!config_opt) return kExitUsage;
    const Config config = std::move(*config_opt);
    const Secrets secrets = secrets_from_environment();
    if (auto missing = missing_secrets(config, secrets); !missing.empty()) {
        for (const auto& name : missing) std::cerr << "config error: environment variable " << name << " is not set\n";
        return kExitUsage;
    }
    Telemetry telemetry(config.log.level, config.log.format, secrets.log_salt);

    auto content = load_content_or_report(config);
    if (!content) return kExitUsage;
    pipeline::ContentHolder content_holder(content);
    auto vault = open_vault_or_report(config);
    if (!vault) return kExitUsage;
    auto store = open_store_or_report(config, &*vault);
    if (!store) return kExitFailure;
    const auto serve_lock = lock_serve_or_report(config);  // before anything is inserted
    if (!serve_lock) return kExitFailure;
    if (secrets.log_salt.empty()) {
        // Hashed user ids in logs must correlate across restarts without a separate secret: derive
        // the salt from the data key (a keyed hash, so the key itself never shows).
        telemetry.set_log_salt(vault->lookup_hash(Platform::cli, "pgibot-log-salt"), config.log.level, config.log.format);
    }

    const auto forwarding = config.tipoffs.forwarding;

    const std::size_t recovered = store->recover_sending();
    if (recovered > 0) spdlog::warn("{} messages were being sent when the bot stopped; sending them again", recovered);

    http::CurlClient client;
    std::unique_ptr<channels::FacebookChannel> facebook;
    std::unique_ptr<channels::ZaloTokenManager> zalo_tokens;
    std::unique_ptr<channels::ZaloChannel> zalo;
    std::unique_ptr<channels::WebChannel> web;
    const channels::FacebookOptions facebook_options = facebook_options_from(config, secrets);
    if (config.facebook.enabled) facebook = std::make_unique<channels::FacebookChannel>(facebook_options, client);
    if (config.zalo.enabled) {
        channels::ZaloOptions o;
        o.app_id = config.zalo.app_id;
        o.api_base = config.zalo.api_base;
        o.oauth_base = config.zalo.oauth_base;
        o.oa_secret_key = secrets.zalo_oa_secret_key;
        o.app_secret = secrets.zalo_app_secret;
        zalo_tokens = std::make_unique<channels::ZaloTokenManager>(
            o, client, *store, store::TokenPair{secrets.zalo_access_token, secrets.zalo_refresh_token, 0});
        zalo = std::make_unique<channels::ZaloChannel>(o, client, *zalo_tokens);
    }
    if (config.chat.enabled) web = std::make_unique<channels::WebChannel>();

    Health health;
    pipeline::StoreLookups lookups(*store, *vault);
    const tipoffs::IdentityVault* vault_ptr = &*vault;
    pipeline::Processor processor(*store, content_holder, handler_settings(config), &lookups,
                                  [vault_ptr](const tipoff::Report& r, std::int64_t now) {
                                      return tipoffs::prepare_tipoff(r, *vault_ptr, now);
                                  });

    pipeline::SenderOptions sender_options;
    sender_options.threads = config.pipeline.senders;
    sender_options.nice = config.pipeline.background_nice;
    sender_options.rate_per_second = config.pipeline.send_rate_per_second;
    sender_options.retry.max_attempts = config.pipeline.max_attempts;
    sender_options.retry.base = std::chrono::milliseconds(config.pipeline.retry_base_ms);
    sender_options.retry.cap = std::chrono::milliseconds(config.pipeline.retry_max_ms);
    pipeline::SenderHooks sender_hooks;
    // The Zalo channel refreshes its token itself on -216/-220 and resends once; a Facebook page token
    // cannot be refreshed by the bot. Either way an auth outcome reaching the sender is final.
    sender_hooks.on_auth_error = [](Platform) { return false; };
    sender_hooks.on_attempt = [&telemetry](Platform p, channels::SendOutcome o, double s) {
        telemetry.send_attempt(to_string(p), channels::to_string(o), s);
    };
    pipeline::Sender sender(*store, sender_options, sender_hooks);

    // Platform media links expire: evidence is fetched as soon as a report is filed, on its own
    // thread (a download may take long; nothing else waits for it).
    tipoffs::EvidenceFetcher evidence(*store, client, evidence_options(config));

    std::unique_ptr<tipoffs::ForwardQueue> forward_queue;
    std::unique_ptr<tipoffs::CurlSmtpMailer> mailer;
    if (forwarding) {
        if (forwarding->smtp) {
            mailer = std::make_unique<tipoffs::CurlSmtpMailer>(*forwarding->smtp, tipoffs::environment_secrets());
        }
        forward_queue = std::make_unique<tipoffs::ForwardQueue>(tipoffs::ForwardQueue::Deps{
            *store, forwarding->routing, client, mailer.get(), vault_ptr, tipoffs::environment_secrets(),
            forwarding->retry, {}});
        forward_queue->enqueue_unforwarded(wall_ms());
    }

    pipeline::DispatcherHooks dispatch_hooks;
    dispatch_hooks.on_outbox = [&sender] { sender.notify(); };
    dispatch_hooks.on_tipoffs = [&forward_queue](const std::vector<std::string>& codes) {
        if (!forward_queue) return;
        for (const auto& code : codes) forward_queue->enqueue(code, wall_ms());
    };
    dispatch_hooks.on_handled = [&telemetry](const Event&, double seconds) { telemetry.handled(seconds); };
    pipeline::Dispatcher dispatcher(*store, processor, config.pipeline.workers, dispatch_hooks,
                                    config.pipeline.background_nice);
    pipeline::Committer committer(
        *store, static_cast<std::size_t>(config.pipeline.commit_batch_max), [&dispatcher] { dispatcher.notify(); },
        [&telemetry](double seconds, std::size_t webhooks) { telemetry.inbox_commit(seconds, webhooks); },
        config.pipeline.commit_nice,
        pipeline::CommitPacing{std::chrono::microseconds(config.pipeline.commit_delay_us),
                                    static_cast<std::size_t>(config.pipeline.commit_delay_min_group)});

    auto router = std::make_shared<http::Router>();
    router->add("GET", "/healthz", [](http::Request&&, http::Responder respond) {
        respond(http::Response::json(200, R"({"status":"alive"})"));
    });
    router->add("GET", "/readyz", [&health, &facebook, &zalo, &web](http::Request&&, http::Responder respond) {
        nlohmann::json checks = {{"storage", health.store_writable.load()}};
        bool ready = health.store_writable.load();
        if (facebook) {
            checks["facebook"] = facebook->enabled() && health.facebook_subscribed.load();
            ready = ready && checks["facebook"].get<bool>();
        }
        if (zalo) {
            checks["zalo"] = zalo->enabled() && health.zalo_token_ok.load();
            ready = ready && checks["zalo"].get<bool>();
        }
        if (web) checks["web_chat"] = true;
        respond(http::Response::json(ready ? 200 : 503,
                                     nlohmann::json{{"ready", ready}, {"checks", checks}}.dump()));
    });
    router->add("GET", "/metrics", [&telemetry](http::Request&&, http::Responder respond) {
        respond(http::Response::text(200, telemetry.serialize(), "text/plain; version=0.0.4; charset=utf-8"));
    });
    if (facebook) {
        router->add("GET", "/webhooks/facebook", [&facebook](http::Request&& request, http::Responder respond) {
            channels::facebook::QueryMap query(request.query.begin(), request.query.end());
            if (auto challenge = facebook->verify_handshake(query)) {
                respond(http::Response::text(200, *challenge));
            } else {
                respond(http::Response::error(403, "forbidden", "verification failed"));
            }
        });
        router->add("POST", "/webhooks/facebook", webhook_route(*facebook, committer, telemetry));
    }
    if (zalo) router->add("POST", "/webhooks/zalo", webhook_route(*zalo, committer, telemetry));
    if (web) {
        router->add("GET", "/chat", [](http::Request&&, http::Responder respond) {
            respond(http::Response::text(200, std::string(channels::WebChannel::page_html()), "text/html; charset=utf-8"));
        });
        router->add("POST", "/chat/api/send", webhook_route(*web, committer, telemetry));
        router->set_body_limit("/chat/api/send", 16 * 1024);
        router->add("GET", "/chat/api/messages", [&web](http::Request&& request, http::Responder respond) {
            const std::string after_text(request.query_param("after"));
            char* end = nullptr;
            const long long after = std::strtoll(after_text.c_str(), &end, 10);
            respond(http::Response::json(200, web->poll(request.query_param("user"), after < 0 ? 0 : after)));
        });
    }

    http::ServerOptions server_options;
    server_options.address = config.server.host;
    server_options.port = config.server.port;
    server_options.threads = config.server.threads;
    server_options.body_limit = config.server.body_limit;
    server_options.read_timeout = std::chrono::milliseconds(config.server.read_timeout_ms);
    server_options.idle_timeout = std::chrono::milliseconds(config.server.idle_timeout_ms);
    if (!config.server.tls_cert_file.empty()) {
        server_options.tls = http::TlsOptions{config.server.tls_cert_file, config.server.tls_key_file};
    }
    http::Server server(server_options, router,
                        [&telemetry](const http::AccessRecord& r) { telemetry.access(r); });

    if (facebook) processor.set_channel(Platform::facebook, facebook.get());
    if (zalo) processor.set_channel(Platform::zalo, zalo.get());
    if (web) processor.set_channel(Platform::web, web.get());
    if (facebook) sender.set_channel(Platform::facebook, facebook.get());
    if (zalo) sender.set_channel(Platform::zalo, zalo.get());
    if (web) sender.set_channel(Platform::web, web.get());

    committer.start();
    dispatcher.start();
    sender.start();

    std::string error;
    if (!server.start(error)) {
        std::cerr << "cannot listen on " << config.server.host << ":" << config.server.port << ": " << error << "\n";
        sender.stop();
        dispatcher.stop();
        committer.stop();
        return kExitFailure;
    }
    const auto startup_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    const std::string scheme = server_options.tls ? "https" : "http";
    // Tests and scripts read this line to find the port (listen port 0 picks a free one).
    std::cout << "pgibot: listening on " << scheme << "://" << config.server.host << ":" << server.port() << std::endl;
    spdlog::info("pgibot ready in {} ms: facebook {}, zalo {}, web chat {}", startup_ms, facebook ? "on" : "off",
                 zalo ? "on" : "off", web ? "on" : "off");
    dispatcher.notify();  // events committed before a crash are handled now
    sender.notify();

    // Status changes made by operators (`pgibot tipoffs set-status`, another process) or by the
    // forwarder reach the reporter through their own lane, as a timer event the handlers turn into a
    // message now or at their next message (messaging windows). A notice is taken only once handled.
    std::mutex notices_mutex;
    std::set<std::int64_t> notices_in_flight;
    auto deliver_status_notices = [&] {
        for (const auto& notice : store->pending_status_notices(50)) {
            {
                std::lock_guard lock(notices_mutex);
                if (!notices_in_flight.insert(notice.id).second) continue;
            }
            auto release = [&notices_mutex, &notices_in_flight, id = notice.id] {
                std::lock_guard lock(notices_mutex);
                notices_in_flight.erase(id);
            };
            auto row = store->tipoff_by_code(notice.code);
            auto identity = row ? vault->open(row->identity_sealed) : std::nullopt;
            if (!row || !identity || identity->platform_user_id.empty()) {
                store->take_status_notice(notice.id, wall_ms());  // nobody to tell
                release();
                continue;
            }
            Event e;
            e.platform = row->report.platform;
            e.page_id = row->report.page_id;
            e.user_id = identity->platform_user_id;
            e.kind = EventKind::timer;
            e.source_type = "timer.tipoff_status";
            e.payload = notice.code;
            e.timestamp_ms = wall_ms();
            dispatcher.submit(std::move(e), [&store, release, id = notice.id](bool ok) {
                if (ok) {
                    try {
                        store->take_status_notice(id, wall_ms());
                    } catch (const std::exception& ex) {
                        spdlog::error("status notice {}: {}", id, ex.what());
                    }
                }
                release();
            });
        }
    };

    // Housekeeping: forwarding, expiry of idle tip-off drafts, token refresh, gauges.
    std::atomic<bool> stopping{false};
    std::thread evidence_worker([&] {
        while (!stopping.load()) {
            try {
                evidence.run_due(wall_ms());
            } catch (const std::exception& e) {
                spdlog::error("evidence: {}", e.what());
            }
            for (int i = 0; i < 10 && !stopping.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    std::thread housekeeping([&] {
        auto last_minute = std::chrono::steady_clock::now() - std::chrono::minutes(2);
        auto last_subscription_check = std::chrono::steady_clock::now();
        while (!stopping.load()) {
            const auto now = std::chrono::steady_clock::now();
            try {
                health.store_writable = store->writable();
                telemetry.queue_depth("inbox", static_cast<double>(store->inbox_depth()));
                telemetry.queue_depth("outbox", static_cast<double>(store->outbox_depth()));
                if (forward_queue) forward_queue->run_due(wall_ms());
                deliver_status_notices();
                if (now - last_minute >= std::chrono::minutes(1)) {
                    last_minute = now;
                    const auto idle_before = wall_ms() - handler_settings(config).tipoff_idle_expiry_ms;
                    for (const auto& key : store->idle_dialog_users(idle_before, 100)) {
                        if (auto e = timer_event_for(key, "timer.tipoff_expiry")) dispatcher.submit(std::move(*e));
                    }
                    if (zalo_tokens) {
                        zalo_tokens->refresh_if_needed(wall_ms());
                        health.zalo_token_ok = zalo_tokens->healthy();
                    }
                }
                if (facebook && config.facebook.subscription_check_minutes > 0 &&
                    now - last_subscription_check >= std::chrono::minutes(config.facebook.subscription_check_minutes)) {
                    last_subscription_check = now;
                    const auto status = channels::facebook::check_subscription(client, facebook_options);
                    // Meta drops a subscription after an hour of failed deliveries: say so loudly.
                    if (status.checked) {
                        health.facebook_subscribed = status.subscribed;
                        if (!status.subscribed) spdlog::error("facebook: page subscription lost: {}", status.detail);
                    } else {
                        spdlog::warn("facebook: subscription check failed: {}", status.detail);
                    }
                }
            } catch (const std::exception& e) {
                spdlog::error("housekeeping: {}", e.what());
            }
            for (int i = 0; i < 10 && !stopping.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });

    // Retention, on a thread of its own: the first run after an upgrade may delete months of rows,
    // which must hold up neither the housekeeping above (token refresh) nor a shutdown (stop is
    // checked between batches). A minute after start (start-up's own work comes first), then hourly.
    std::jthread retention([&](const std::stop_token& stop) {
        const int days = config.storage.inbox_retention_days;
        if (days <= 0) return;
        std::mutex mutex;
        std::condition_variable_any stopped;  // woken by request_stop() only: no polling in between
        std::unique_lock lock(mutex);
        auto next = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        while (!stopped.wait_until(lock, stop, next, [] { return false; }) && !stop.stop_requested()) {
            run_retention(*store, telemetry, days, stop);
            next = std::chrono::steady_clock::now() + std::chrono::hours(1);
        }
    });

    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            auto reloaded = messages::load_content(config.content_dir);
            if (reloaded.content) {
                content_holder.set(reloaded.content);
                spdlog::info("content reloaded: {} topics", reloaded.content->catalogue->topics.size());
            } else {
                spdlog::error("content reload refused ({} problems); the previous content stays live",
                              reloaded.problems.size());
                for (const auto& p : reloaded.problems) spdlog::error("content: {}:{}: {}", p.file, p.line, p.message);
            }
            continue;
        }
        spdlog::info("signal {}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    server.stop();       // no new requests; in-flight ones are answered (their events committed)
    committer.stop();    // everything acknowledged is durable
    dispatcher.stop();   // committed events handled, replies in the outbox
    sender.stop();       // in-flight sends finish; the rest waits in the outbox for the next start
    evidence.request_stop();
    stopping = true;
    retention.request_stop();
    retention.join();
    housekeeping.join();
    evidence_worker.join();
    spdlog::info("stopped cleanly");
    spdlog::shutdown();
    return kExitOk;
}

}  // namespace pgibot::app
