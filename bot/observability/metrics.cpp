#include "bot/observability/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace pgibot::observability {

namespace {

const prometheus::Histogram::BucketBoundaries kHttpBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                              0.25,  0.5,    1,     2.5,  5,     10};
const prometheus::Histogram::BucketBoundaries kSendBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                              1,    2.5,   5,    10,  30};
const prometheus::Histogram::BucketBoundaries kHandlerBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                 0.01,   0.025,   0.05,   0.1,   0.25,   1};
const prometheus::Histogram::BucketBoundaries kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256};

// A histogram without labels: a family of one.
prometheus::Histogram& single_histogram(prometheus::Registry& registry, const std::string& name,
                                        const std::string& help,
                                        const prometheus::Histogram::BucketBoundaries& buckets) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, buckets);
}

// Family children by label values, created on first use and then found under a shared lock.
template <class Metric>
class Children {
public:
    Children(prometheus::Family<Metric>& family, std::vector<std::string> label_names,
             prometheus::Histogram::BucketBoundaries buckets = {})
        : family_(family), names_(std::move(label_names)), buckets_(std::move(buckets)) {}

    Metric& get(std::initializer_list<std::string_view> values) {
        // Built in a per-thread buffer: this runs for every request, and a new string allocated each time.
        thread_local std::string key;
        key.clear();
        for (const auto value : values) {
            key.append(value);
            key.push_back('\x1f');
        }
        {
            std::shared_lock lock(mutex_);
            if (const auto it = cache_.find(key); it != cache_.end()) return *it->second;
        }
        std::unique_lock lock(mutex_);
        if (const auto it = cache_.find(key); it != cache_.end()) return *it->second;
        prometheus::Labels labels;
        auto name = names_.begin();
        for (const auto value : values) labels.emplace(*name++, std::string(value));
        Metric* metric = nullptr;
        if constexpr (std::is_same_v<Metric, prometheus::Histogram>) {
            metric = &family_.Add(labels, buckets_);
        } else {
            metric = &family_.Add(labels);
        }
        cache_.emplace(key, metric);
        return *metric;
    }

private:
    prometheus::Family<Metric>& family_;
    std::vector<std::string> names_;
    prometheus::Histogram::BucketBoundaries buckets_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, Metric*> cache_;
};

}  // namespace

struct Metrics::Impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

    Children<prometheus::Counter> http_requests{
        prometheus::BuildCounter()
            .Name("pgibot_http_requests_total")
            .Help("HTTP requests answered, by route and status code")
            .Register(*registry),
        {"route", "status"}};
    Children<prometheus::Histogram> http_duration{
        prometheus::BuildHistogram()
            .Name("pgibot_http_request_duration_seconds")
            .Help("Time from the first byte of a request to its response written, by route")
            .Register(*registry),
        {"route"}, kHttpBuckets};
    Children<prometheus::Counter> webhook_events{
        prometheus::BuildCounter()
            .Name("pgibot_webhook_events_total")
            .Help("Webhook events accepted, by platform and kind")
            .Register(*registry),
        {"platform", "kind"}};
    Children<prometheus::Counter> webhook_duplicates{
        prometheus::BuildCounter()
            .Name("pgibot_webhook_duplicates_total")
            .Help("Webhook events dropped as already seen, by platform")
            .Register(*registry),
        {"platform"}};
    Children<prometheus::Counter> send_attempts{
        prometheus::BuildCounter()
            .Name("pgibot_send_attempts_total")
            .Help("Send API attempts, by platform and outcome")
            .Register(*registry),
        {"platform", "outcome"}};
    Children<prometheus::Histogram> send_duration{
        prometheus::BuildHistogram()
            .Name("pgibot_send_duration_seconds")
            .Help("Duration of one Send API call, by platform")
            .Register(*registry),
        {"platform"}, kSendBuckets};
    Children<prometheus::Gauge> queue_depth{
        prometheus::BuildGauge()
            .Name("pgibot_queue_depth")
            .Help("Items waiting, by queue (inbox, outbox)")
            .Register(*registry),
        {"queue"}};
    Children<prometheus::Counter> retention_deleted{
        prometheus::BuildCounter()
            .Name("pgibot_retention_deleted_total")
            .Help("Stored rows deleted by the retention job, by table (inbox, inbox_handled_groups, outbox)")
            .Register(*registry),
        {"table"}};
    prometheus::Histogram& ack_duration =
        single_histogram(*registry, "pgibot_ack_duration_seconds",
                         "Webhook received to events committed (the time before the 200 OK)", kHttpBuckets);
    prometheus::Histogram& handler_duration =
        single_histogram(*registry, "pgibot_handler_duration_seconds",
                         "Duration of one handler run", kHandlerBuckets);

    prometheus::Histogram& inbox_commit_duration =
        single_histogram(*registry, "pgibot_inbox_commit_duration_seconds",
                         "One group commit of webhooks into the inbox, fsync included", kHandlerBuckets);
    prometheus::Histogram& inbox_commit_webhooks =
        single_histogram(*registry, "pgibot_inbox_commit_webhooks",
                         "Webhooks per group commit into the inbox", kBatchBuckets);

    std::shared_mutex routes_mutex;
    std::unordered_set<std::string> routes;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}

Metrics::~Metrics() = default;

void Metrics::declare_routes(std::initializer_list<std::string_view> routes) {
    for (const auto route : routes) declare_route(route);
}

void Metrics::declare_route(std::string_view route) {
    std::unique_lock lock(impl_->routes_mutex);
    impl_->routes.emplace(route);
}

void Metrics::http_request(std::string_view route, int status, double seconds) {
    std::string_view label = "other";
    {
        std::shared_lock lock(impl_->routes_mutex);
        if (const auto it = impl_->routes.find(std::string(route)); it != impl_->routes.end()) label = *it;
    }
    const std::string code = std::to_string(status);
    impl_->http_requests.get({label, code}).Increment();
    impl_->http_duration.get({label}).Observe(seconds);
}

void Metrics::webhook_event(std::string_view platform, std::string_view kind) {
    impl_->webhook_events.get({platform, kind}).Increment();
}

void Metrics::webhook_duplicate(std::string_view platform) { impl_->webhook_duplicates.get({platform}).Increment(); }

void Metrics::send_attempt(std::string_view platform, std::string_view outcome, double seconds) {
    impl_->send_attempts.get({platform, outcome}).Increment();
    impl_->send_duration.get({platform}).Observe(seconds);
}

void Metrics::set_queue_depth(std::string_view queue, double depth) { impl_->queue_depth.get({queue}).Set(depth); }

void Metrics::retention_deleted(std::string_view table, std::size_t rows) {
    impl_->retention_deleted.get({table}).Increment(static_cast<double>(rows));
}

void Metrics::observe_ack(double seconds) { impl_->ack_duration.Observe(seconds); }

void Metrics::observe_handler(double seconds) { impl_->handler_duration.Observe(seconds); }

void Metrics::observe_inbox_commit(double seconds, std::size_t webhooks) {
    impl_->inbox_commit_duration.Observe(seconds);
    impl_->inbox_commit_webhooks.Observe(static_cast<double>(webhooks));
}

std::string Metrics::serialize() const {
    return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace pgibot::observability
