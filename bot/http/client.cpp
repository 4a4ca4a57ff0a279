// Outbound HTTP(S) over libcurl. One easy handle per thread (thread_local) so that keep-alive
// connections and TLS sessions are reused between calls made on the same sender thread.
#include "bot/http/client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <mutex>

namespace pgibot::http {

namespace {

void global_init_once() {
    // curl_global_init is not thread-safe and must run before any other libcurl call.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyHandle {
    CURL* curl = nullptr;
    EasyHandle() : curl(curl_easy_init()) {}
    ~EasyHandle() {
        if (curl != nullptr) curl_easy_cleanup(curl);
    }
    EasyHandle(const EasyHandle&) = delete;
    EasyHandle& operator=(const EasyHandle&) = delete;
};

struct Transfer {
    ClientResponse* response = nullptr;
    std::size_t max_body = 0;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (transfer->response->body.size() + n > transfer->max_body) {
        transfer->too_large = true;
        return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    transfer->response->body.append(data, n);
    return n;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    const std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        // A new status line (after a 100 Continue, say): only the final response's headers count.
        transfer->response->headers.clear();
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;
    std::string name(trim(line.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    transfer->response->headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
    return n;
}

struct HeaderList {
    curl_slist* list = nullptr;
    HeaderList() = default;
    ~HeaderList() { curl_slist_free_all(list); }
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;
    bool append(const std::string& line) {
        curl_slist* next = curl_slist_append(list, line.c_str());
        if (next == nullptr) return false;
        list = next;
        return true;
    }
};

ClientResponse perform(const ClientRequest& request, const std::string& ca_file) {
    ClientResponse response;
    thread_local EasyHandle handle;
    CURL* curl = handle.curl;
    if (curl == nullptr) {
        response.error = "curl_easy_init failed";
        return response;
    }
    curl_easy_reset(curl);  // keeps the connection cache, clears every option

    Transfer transfer{&response, request.max_response_bytes, false};
    char error_buffer[CURL_ERROR_SIZE] = {};
    HeaderList headers;
    for (const auto& [name, value] : request.headers) {
        if (!headers.append(name + ": " + value)) {
            response.error = "out of memory building headers";
            return response;
        }
    }
    // No "Expect: 100-continue" round trip for larger POST bodies.
    headers.append("Expect:");

    const auto timeout_ms = static_cast<long>(std::max<std::chrono::milliseconds::rep>(1, request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM-based DNS timeouts
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    if (request.max_response_bytes <= static_cast<std::size_t>(std::numeric_limits<curl_off_t>::max())) {
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));
    }

    if (request.method == "GET") {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
    } else if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.method != "GET" && request.method != "HEAD" && (!request.body.empty() || request.method == "POST")) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }

    const CURLcode rc = curl_easy_perform(curl);
    // Drop pointers into this frame before returning; the handle outlives the call.
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);

    if (rc != CURLE_OK) {
        response.status = 0;
        response.headers.clear();
        response.body.clear();
        if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            response.error = "response larger than " + std::to_string(request.max_response_bytes) + " bytes";
        } else {
            response.error = curl_easy_strerror(rc);
            if (error_buffer[0] != '\0') response.error += std::string(": ") + error_buffer;
        }
        return response;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    if (response.status == 0) response.error = "no HTTP response";
    return response;
}

}  // namespace

std::string ClientResponse::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return {};
}

CurlClient::CurlClient(std::string ca_file) : ca_file_(std::move(ca_file)) { global_init_once(); }

ClientResponse CurlClient::send(const ClientRequest& request) {
    try {
        return perform(request, ca_file_);
    } catch (const std::exception& e) {
        ClientResponse response;
        response.error = std::string("http client: ") + e.what();
        return response;
    }
}

std::string url_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        }
    }
    return out;
}

}  // namespace pgibot::http
