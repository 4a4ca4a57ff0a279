#include "bot/tipoffs/evidence.hpp"
#include "bot/tipoffs/toml_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <random>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace pgibot::tipoffs {
namespace {

constexpr int kMaxRedirects = 3;
constexpr std::string_view kOctetStream = "application/octet-stream";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

// "Image/JPEG; charset=x " -> "image/jpeg"
std::string media_type_of(std::string_view header) {
    header = header.substr(0, header.find(';'));
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
    return lower(header);
}

// Non-standard names some CDNs send, mapped to the registered ones.
std::string canonical_type(std::string type) {
    if (type == "image/jpg" || type == "image/pjpeg") return "image/jpeg";
    if (type == "image/x-png") return "image/png";
    if (type == "video/3gp") return "video/3gpp";
    return type;
}

bool at(std::string_view bytes, std::size_t offset, std::string_view magic) {
    return bytes.size() >= offset + magic.size() && bytes.substr(offset, magic.size()) == magic;
}

unsigned byte_at(std::string_view bytes, std::size_t i) { return static_cast<unsigned char>(bytes[i]); }

bool is_iso_bmff(std::string_view bytes) { return at(bytes, 4, "ftyp") && bytes.size() >= 12; }

bool is_heif_brand(std::string_view brand) {
    static constexpr std::array<std::string_view, 8> kBrands = {"heic", "heix", "hevc", "hevx",
                                                                 "heim", "heis", "mif1", "msf1"};
    return std::find(kBrands.begin(), kBrands.end(), brand) != kBrands.end();
}

bool is_heif(std::string_view bytes) { return is_iso_bmff(bytes) && is_heif_brand(bytes.substr(8, 4)); }

// The stored extension for a (verified) content type; "" when it depends on the bytes.
std::string_view extension_for(std::string_view content_type) {
    if (content_type == "image/jpeg") return "jpg";
    if (content_type == "image/png") return "png";
    if (content_type == "image/gif") return "gif";
    if (content_type == "image/webp") return "webp";
    if (content_type == "image/heic") return "heic";
    if (content_type == "image/heif") return "heif";
    if (content_type == "video/mp4") return "mp4";
    if (content_type == "video/quicktime") return "mov";
    if (content_type == "video/3gpp") return "3gp";
    return "";
}

bool allowed_type(std::string_view type, const std::vector<std::string>& allowed) {
    for (const auto& entry : allowed) {
        const auto a = media_type_of(entry);
        if (a == type) return true;
        if (a.size() > 2 && a.ends_with("/*") && type.starts_with(std::string_view(a).substr(0, a.size() - 1))) {
            return true;
        }
    }
    return false;
}

// Replaces every occurrence of `what` in `text` with `with`.
void replace_all(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size())) {
        text.replace(pos, what.size(), with);
    }
}

// A transport error text with the URL's secrets (query, fragment, user info) taken out.
std::string scrub(std::string text, std::string_view url) {
    const auto safe = url_for_log(url);
    if (safe != url) replace_all(text, url, safe);
    if (const auto q = url.find_first_of("?#"); q != std::string_view::npos && url.size() - q > 1) {
        replace_all(text, url.substr(q), "?...");
    }
    return text;
}

// https only; plain http when allowed outright, or (allow_loopback) to a loopback host, where the
// local simulator and the tests serve media: nothing on the loopback crosses a network.
bool scheme_allowed(std::string_view url, bool allow_http, bool allow_loopback) {
    const auto l = lower(url.substr(0, 8));
    if (l.starts_with("https://")) return true;
    if (!l.starts_with("http://")) return false;
    return allow_http || (allow_loopback && detail::is_loopback_host(detail::url_host(url)));
}

// The absolute URL a Location header points to ("" when not supported).
std::string resolve_location(std::string_view base, std::string_view location) {
    const auto l = lower(location.substr(0, 8));
    if (l.starts_with("https://") || l.starts_with("http://")) return std::string(location);
    const auto scheme_end = base.find("://");
    if (scheme_end == std::string_view::npos) return {};
    if (location.starts_with("//")) return std::string(base.substr(0, scheme_end + 1)) + std::string(location);
    if (location.starts_with("/")) {
        const auto path_start = base.find('/', scheme_end + 3);
        return std::string(base.substr(0, path_start)) + std::string(location);
    }
    return {};
}

// Tip-off codes are "LS-YYMM-NNNN": anything else is refused as a folder name.
bool safe_code(std::string_view code) {
    return !code.empty() && code.size() <= 64 && code != "." && code != ".." &&
           std::all_of(code.begin(), code.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_';
           });
}

std::string errno_text(int error) { return std::system_category().message(error); }

void fsync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// Creates `dir` (mode 0700) if missing, its parents as needed. Empty string: done; else the error.
std::string ensure_private_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return {};
    if (dir.has_parent_path()) {
        std::filesystem::create_directories(dir.parent_path(), ec);
        if (ec) return "creating " + dir.parent_path().string() + ": " + ec.message();
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return "creating " + dir.string() + ": " + errno_text(errno);
    }
    if (dir.has_parent_path()) fsync_dir(dir.parent_path());
    return {};
}

// Writes `data` to `target` atomically: a 0600 temporary file in the same folder, fsync, rename,
// fsync of the folder. Empty string: done; else the error.
std::string write_atomically(const std::filesystem::path& target, std::string_view data) {
    std::string tmp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(tmp.data());  // O_EXCL, mode 0600
    if (fd < 0) return "creating a temporary file in " + target.parent_path().string() + ": " + errno_text(errno);
    auto fail = [&](std::string_view what, int error) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return std::string(what) + " " + target.string() + ": " + errno_text(error);
    };
    ::fchmod(fd, S_IRUSR | S_IWUSR);
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("writing", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("syncing", errno);
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(tmp.c_str());
        return "closing " + target.string() + ": " + errno_text(error);
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        const int error = errno;
        ::unlink(tmp.c_str());
        return "renaming into " + target.string() + ": " + errno_text(error);
    }
    fsync_dir(target.parent_path());
    return {};
}

}  // namespace

std::vector<std::string> default_evidence_content_types() {
    return {"image/jpeg", "image/png",       "image/gif",  "image/webp", "image/heic",
            "video/mp4",  "video/quicktime", "video/3gpp", "audio/*",    std::string(kOctetStream)};
}

SniffedType sniff_media(std::string_view b) {
    if (at(b, 0, "\xFF\xD8\xFF")) return {"image/jpeg", "jpg"};
    if (at(b, 0, "\x89PNG\r\n\x1A\n")) return {"image/png", "png"};
    if (at(b, 0, "GIF87a") || at(b, 0, "GIF89a")) return {"image/gif", "gif"};
    if (at(b, 0, "RIFF") && at(b, 8, "WEBP")) return {"image/webp", "webp"};
    if (at(b, 0, "RIFF") && at(b, 8, "WAVE")) return {"audio/wav", "wav"};
    if (is_iso_bmff(b)) {
        const auto brand = b.substr(8, 4);
        if (is_heif_brand(brand)) return {"image/heic", "heic"};
        if (brand == "qt  ") return {"video/quicktime", "mov"};
        if (brand.starts_with("3gp") || brand.starts_with("3g2")) return {"video/3gpp", "3gp"};
        if (brand == "M4A " || brand == "M4B ") return {"audio/mp4", "m4a"};
        return {"video/mp4", "mp4"};
    }
    for (const std::string_view atom : {"moov", "mdat", "wide", "free", "skip", "pnot"}) {
        if (at(b, 4, atom)) return {"video/quicktime", "mov"};
    }
    if (at(b, 0, "ID3")) return {"audio/mpeg", "mp3"};
    if (at(b, 0, "OggS")) return {"audio/ogg", "ogg"};
    if (at(b, 0, "#!AMR")) return {"audio/amr", "amr"};
    if (at(b, 0, "fLaC")) return {"audio/flac", "flac"};
    if (at(b, 0, "\x1A\x45\xDF\xA3")) return {"video/webm", "webm"};
    if (b.size() >= 2 && byte_at(b, 0) == 0xFF) {
        if ((byte_at(b, 1) & 0xF6U) == 0xF0U) return {"audio/aac", "aac"};  // ADTS, layer 0
        if ((byte_at(b, 1) & 0xE0U) == 0xE0U && (byte_at(b, 1) & 0x06U) != 0U) return {"audio/mpeg", "mp3"};
    }
    return {};
}

std::optional<SniffedType> verify_media(std::string_view header_content_type, std::string_view bytes,
                                        const std::vector<std::string>& allowed, std::string& why) {
    const auto type = canonical_type(media_type_of(header_content_type));
    if (type.empty()) {
        why = "no Content-Type";
        return std::nullopt;
    }
    if (!allowed_type(type, allowed)) {
        why = "content type " + type + " is not allowed";
        return std::nullopt;
    }
    const auto sniffed = sniff_media(bytes);
    const auto mismatch = [&] {
        why = "content type " + type + " but the bytes are " +
              (sniffed.content_type.empty() ? std::string("of no known media format") : sniffed.content_type);
        return std::nullopt;
    };
    if (type == kOctetStream) {
        // Only what the bytes prove: JPEG, PNG or an MP4 video.
        const bool ok = sniffed.content_type == "image/jpeg" || sniffed.content_type == "image/png" ||
                        (is_iso_bmff(bytes) && !is_heif(bytes));
        if (!ok) return mismatch();
        if (is_iso_bmff(bytes)) return SniffedType{"video/mp4", "mp4"};
        return sniffed;
    }
    if (type.starts_with("audio/")) {
        const bool ok = sniffed.content_type.starts_with("audio/") || sniffed.content_type == "video/webm" ||
                        (is_iso_bmff(bytes) && !is_heif(bytes));
        if (!ok) return mismatch();
        const std::string ext = is_iso_bmff(bytes) ? "m4a" : sniffed.extension;
        return SniffedType{type, ext};
    }
    bool ok = false;
    if (type == "image/jpeg" || type == "image/png" || type == "image/gif" || type == "image/webp") {
        ok = sniffed.content_type == type;
    } else if (type == "image/heic" || type == "image/heif") {
        ok = is_heif(bytes);
    } else if (type == "video/mp4" || type == "video/3gpp") {
        ok = is_iso_bmff(bytes) && !is_heif(bytes);
    } else if (type == "video/quicktime") {
        ok = (is_iso_bmff(bytes) && !is_heif(bytes)) || sniffed.content_type == "video/quicktime";
    } else {
        why = "content type " + type + " has no signature check";
        return std::nullopt;
    }
    if (!ok) return mismatch();
    return SniffedType{type, std::string(extension_for(type))};
}

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("sha256: EVP_Digest failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(std::size_t{length} * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(kHex[digest[i] >> 4U]);
        hex.push_back(kHex[digest[i] & 0x0FU]);
    }
    return hex;
}

std::string url_for_log(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    const auto scheme_end = url.find("://");
    if (scheme_end != std::string_view::npos) {
        const auto host_start = scheme_end + 3;
        const auto path_start = url.find('/', host_start);
        const auto at_sign = url.find('@', host_start);
        if (at_sign != std::string_view::npos && (path_start == std::string_view::npos || at_sign < path_start)) {
            return std::string(url.substr(0, host_start)) + std::string(url.substr(at_sign + 1));
        }
    }
    return std::string(url);
}

std::int64_t evidence_backoff_ms(const EvidenceOptions& options, int attempt, double random01) {
    const double base = static_cast<double>(std::max<std::int64_t>(0, options.base_delay.count()));
    const double cap = static_cast<double>(std::max<std::int64_t>(0, options.max_delay.count()));
    const double delay = std::min(cap, base * std::pow(2.0, std::max(0, attempt - 1)));
    const double jitter = std::clamp(options.jitter, 0.0, 1.0);
    const double r = std::clamp(random01, 0.0, 1.0);
    return static_cast<std::int64_t>(std::llround(delay * (1.0 - jitter) + delay * jitter * r));
}

EvidenceFetcher::EvidenceFetcher(store::Store& store, http::Client& client, EvidenceOptions options)
    : store_(store), client_(client), options_(std::move(options)) {
    if (options_.dir.empty()) throw std::invalid_argument("evidence: no folder configured");
    if (options_.max_bytes == 0) throw std::invalid_argument("evidence: max_bytes must be positive");
    options_.max_attempts = std::max(1, options_.max_attempts);
}

std::size_t EvidenceFetcher::run_due(std::int64_t now_ms) {
    const std::unique_lock lock(run_mutex_, std::try_to_lock);
    if (!lock.owns_lock() || stopping_.load()) return 0;
    std::vector<store::EvidenceRow> rows;
    try {
        rows = store_.due_evidence(now_ms, std::max<std::size_t>(1, options_.max_per_run));
    } catch (const std::exception& e) {
        spdlog::error("evidence: reading the queue failed: {}", e.what());
        return 0;
    }
    const auto started = std::chrono::steady_clock::now();
    std::size_t processed = 0;
    for (const auto& row : rows) {
        if (stopping_.load()) break;
        if (processed > 0 && std::chrono::steady_clock::now() - started >= options_.run_budget) break;
        Result result;
        try {
            result = fetch(row);
        } catch (const std::exception& e) {
            result.outcome = Outcome::retry;
            result.error = scrub(std::string("internal error: ") + e.what(), row.url);
        }
        try {
            record(row, result, now_ms);
        } catch (const std::exception& e) {
            spdlog::error("evidence {} #{}: recording the outcome failed (tried again later): {}", row.tipoff_code,
                          row.position, e.what());
        }
        ++processed;
    }
    return processed;
}

EvidenceFetcher::Result EvidenceFetcher::fetch(const store::EvidenceRow& row) {
    const auto failed = [](std::string error) { return Result{Outcome::failed, std::move(error), {}, {}, 0, {}}; };
    const auto retry = [](std::string error) { return Result{Outcome::retry, std::move(error), {}, {}, 0, {}}; };
    if (row.url.empty()) return failed("no URL");
    std::string url = row.url;
    for (int hop = 0; hop <= kMaxRedirects; ++hop) {
        if (!scheme_allowed(url, options_.allow_plain_http, options_.allow_loopback_http)) {
            return failed(std::string("unsupported URL scheme (") +
                          (options_.allow_plain_http ? "http or https" : "https") + " only): " + url_for_log(url));
        }
        http::ClientRequest request;
        request.method = "GET";
        request.url = url;
        request.headers = {{"Accept", "image/*, video/*, audio/*, application/octet-stream;q=0.5"}};
        request.timeout = options_.timeout;
        request.max_response_bytes = options_.max_bytes + 1;  // one more byte tells "too big" from "exactly max"
        const auto response = client_.send(request);

        if (response.transport_failed()) {
            // bot/http/client.cpp reports a body over max_response_bytes this way: permanent.
            if (response.error.starts_with("response larger than")) {
                return failed("too big: more than " + std::to_string(options_.max_bytes) + " bytes");
            }
            return retry("transport: " + scrub(response.error, url));
        }
        const int status = response.status;
        if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
            const auto location = response.header("location");
            if (location.empty()) return failed("HTTP " + std::to_string(status) + " without Location");
            auto next = resolve_location(url, location);
            if (next.empty()) return failed("HTTP " + std::to_string(status) + " to an unsupported location");
            url = std::move(next);
            continue;
        }
        if (status == 408 || status == 429 || status >= 500) return retry("HTTP " + std::to_string(status));
        if (status != 200) return failed("HTTP " + std::to_string(status));
        if (response.body.size() > options_.max_bytes) {
            return failed("too big: more than " + std::to_string(options_.max_bytes) + " bytes");
        }
        if (response.body.empty()) return failed("empty body");
        std::string why;
        const auto type = verify_media(response.header("content-type"), response.body,
                                       options_.allowed_content_types, why);
        if (!type) return failed(why);
        return store_file(row, response.body, *type);
    }
    return failed("more than " + std::to_string(kMaxRedirects) + " redirects");
}

EvidenceFetcher::Result EvidenceFetcher::store_file(const store::EvidenceRow& row, const std::string& body,
                                                    const SniffedType& type) {
    Result result;
    if (!safe_code(row.tipoff_code)) {
        result.error = "unusable tip-off code for a folder name";
        return result;  // failed
    }
    result.sha256 = sha256_hex(body);
    const auto folder = options_.dir / row.tipoff_code;
    const auto target = folder / (std::to_string(row.position) + "-" + result.sha256.substr(0, 16) + "." +
                                  (type.extension.empty() ? std::string("bin") : type.extension));
    std::string error = ensure_private_dir(options_.dir);
    if (error.empty()) error = ensure_private_dir(folder);
    if (error.empty()) error = write_atomically(target, body);
    if (!error.empty()) {
        result.outcome = Outcome::retry;  // local trouble (disk full, permissions): worth another go
        result.error = "storing the file: " + error;
        return result;
    }
    result.outcome = Outcome::downloaded;
    result.path = target.string();
    result.bytes = static_cast<std::int64_t>(body.size());
    result.content_type = type.content_type;
    return result;
}

void EvidenceFetcher::record(const store::EvidenceRow& row, const Result& result, std::int64_t now_ms) {
    const auto where = url_for_log(row.url);
    const int attempt = row.attempts + 1;
    switch (result.outcome) {
        case Outcome::downloaded:
            store_.mark_evidence_downloaded(row.id, result.sha256, result.path, result.bytes, result.content_type,
                                            now_ms);
            spdlog::info("evidence {} #{}: stored {} bytes of {} (sha256 {}) from {}", row.tipoff_code, row.position,
                         result.bytes, result.content_type, result.sha256, where);
            return;
        case Outcome::retry:
            if (attempt < options_.max_attempts) {
                const auto next = now_ms + evidence_backoff_ms(options_, attempt, random01());
                store_.mark_evidence_retry(row.id, next, result.error, now_ms);
                spdlog::warn("evidence {} #{}: attempt {}/{} from {} failed, retried in {} s: {}", row.tipoff_code,
                             row.position, attempt, options_.max_attempts, where, (next - now_ms) / 1000,
                             result.error);
                return;
            }
            store_.mark_evidence_failed(row.id, result.error + " (gave up after " + std::to_string(attempt) +
                                                    (attempt == 1 ? " attempt)" : " attempts)"),
                                        now_ms);
            spdlog::error("evidence {} #{}: NOT downloaded from {} after {} attempts: {}", row.tipoff_code,
                          row.position, where, attempt, result.error);
            return;
        case Outcome::failed:
            store_.mark_evidence_failed(row.id, result.error, now_ms);
            spdlog::error("evidence {} #{}: NOT downloaded from {}: {}", row.tipoff_code, row.position, where,
                          result.error);
            return;
    }
}

double EvidenceFetcher::random01() {
    if (options_.random01) return options_.random01();
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace pgibot::tipoffs
