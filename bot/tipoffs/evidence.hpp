#pragma once
// Downloading the photos, videos and voice notes attached to tip-offs. Platform media links
// (Facebook CDN, Zalo) expire, so every evidence row (created pending by commit_decision, one per
// report.evidence entry) is fetched at once, checked and kept with its SHA-256:
//
//   GET url (https only, unless allow_plain_http; up to 3 redirects followed)
//     200, 1..max_bytes bytes, Content-Type allowed AND matching the file's magic bytes
//       -> <dir>/<code>/<position>-<sha256[0:16]>.<ext>  (tmp + fsync + rename, mode 0600, dirs 0700)
//       -> downloaded (sha256, path, bytes, verified content type)
//     transport error, 408, 429, 5xx, local write error
//       -> retried after base_delay * 2^(attempt-1) (capped, +- jitter) until max_attempts -> failed
//     other status, too big, empty, type not allowed, magic bytes not matching
//       -> failed at once, with a clear last_error
//
// URLs can carry access tokens in their query string: logs and recorded errors show only
// scheme://host/path.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/http/client.hpp"
#include "bot/store/store.hpp"

namespace pgibot::tipoffs {

// The content types the bot accepts by default. "audio/*" stands for any audio type whose bytes
// are a known audio format. application/octet-stream is accepted only for JPEG, PNG or MP4 bytes
// (and stored under the type the bytes show).
std::vector<std::string> default_evidence_content_types();

struct EvidenceOptions {
    std::filesystem::path dir;                       // evidence root (Config::tipoffs.evidence_dir)
    std::size_t max_bytes = 25 * 1024 * 1024;        // Config::tipoffs.evidence_max_bytes
    std::chrono::milliseconds timeout{120'000};      // per request (connect + transfer)
    int max_attempts = 5;                            // transient failures before giving up
    std::chrono::milliseconds base_delay{30'000};    // 30 s, 1 min, 2 min, 4 min (each +- jitter)
    std::chrono::milliseconds max_delay{600'000};
    double jitter = 0.5;                             // fraction of each delay randomised (0..1)
    std::vector<std::string> allowed_content_types = default_evidence_content_types();
    std::size_t max_per_run = 8;                     // rows fetched by one run_due call at most
    std::chrono::milliseconds run_budget{15'000};    // no new download starts after this long
    bool allow_plain_http = false;                   // http:// URLs (loopback tests only)
    bool allow_loopback_http = false;                // http:// to 127.0.0.0/8 or ::1 (the local simulator)
    std::function<double()> random01{};              // jitter source in [0, 1]; default: a PRNG
};

// What the bytes are, by their signature (magic bytes).
struct SniffedType {
    std::string content_type;  // "image/jpeg", "video/mp4", "audio/mpeg", ... ("" when unknown)
    std::string extension;     // "jpg", "mp4", "mp3", ...
};
SniffedType sniff_media(std::string_view bytes);

// The content type to store when `header_content_type` (as received, parameters allowed) is allowed
// and `bytes` match it; nullopt otherwise, with the reason in `why`.
std::optional<SniffedType> verify_media(std::string_view header_content_type, std::string_view bytes,
                                        const std::vector<std::string>& allowed, std::string& why);

// Lower-case hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

// scheme://host/path: no user info, query string or fragment (they may hold tokens).
std::string url_for_log(std::string_view url);

// Delay after the `attempt`-th failed attempt (1-based): min(max, base * 2^(attempt-1)), of which
// the `jitter` fraction is scaled by random01 in [0, 1].
std::int64_t evidence_backoff_ms(const EvidenceOptions& options, int attempt, double random01);

class EvidenceFetcher {
public:
    EvidenceFetcher(store::Store& store, http::Client& client, EvidenceOptions options);

    // Fetches the rows due at `now_ms` (at most max_per_run, within run_budget); returns how many
    // were processed (downloaded, retried or failed). Blocking, no sleeps. One caller at a time: a
    // call made while another runs returns 0 at once. Store errors on a row are logged and the row
    // stays pending (it is tried again on a later call).
    std::size_t run_due(std::int64_t now_ms);

    // Makes a running run_due return after its current download (shutdown). Not undone.
    void request_stop() { stopping_ = true; }

private:
    enum class Outcome { downloaded, retry, failed };
    struct Result {
        Outcome outcome = Outcome::failed;
        std::string error;  // never holds a URL query string
        std::string sha256;
        std::string path;
        std::int64_t bytes = 0;
        std::string content_type;
    };

    Result fetch(const store::EvidenceRow& row);
    Result store_file(const store::EvidenceRow& row, const std::string& body, const SniffedType& type);
    void record(const store::EvidenceRow& row, const Result& result, std::int64_t now_ms);
    double random01();

    store::Store& store_;
    http::Client& client_;
    EvidenceOptions options_;
    std::mutex run_mutex_;
    std::atomic<bool> stopping_{false};
};

}  // namespace pgibot::tipoffs
