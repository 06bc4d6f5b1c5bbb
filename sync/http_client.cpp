#include "http_client.hpp"

#include <chrono>
#include <mutex>

#include <curl/curl.h>

namespace kohtaamo::sync {

namespace {

constexpr std::size_t kMaxReplyBytes = 4 << 20;  // a reply listing 1000 ids is ~80 kB

struct Transfer {
    std::string body;
    bool too_big = false;
    std::size_t max_bytes = kMaxReplyBytes;
    const std::atomic<bool>* stop = nullptr;
    // Our own low-speed check, over windows of exactly low_speed_time (curl's averages
    // over ~5 s first, so a stall would cost low_speed_time + 5 s).
    std::chrono::steady_clock::time_point window_start = std::chrono::steady_clock::now();
    curl_off_t window_bytes = 0;
    long min_bytes_per_second = 0;
    std::chrono::milliseconds window{0};
    bool too_slow = false;
};

std::size_t on_data(char* p, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t bytes = size * n;
    if (t->body.size() + bytes > t->max_bytes) {
        t->too_big = true;
        return 0;  // aborts the transfer
    }
    t->body.append(p, bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
    auto* t = static_cast<Transfer*>(user);
    if (t->stop && t->stop->load()) return 1;
    auto now = std::chrono::steady_clock::now();
    if (now - t->window_start >= t->window) {
        const curl_off_t moved = dlnow + ulnow - t->window_bytes;
        const auto seconds = std::chrono::duration<double>(now - t->window_start).count();
        if (static_cast<double>(moved) < static_cast<double>(t->min_bytes_per_second) * seconds) {
            t->too_slow = true;
            return 1;
        }
        t->window_start = now;
        t->window_bytes = dlnow + ulnow;
    }
    return 0;
}

}  // namespace

HttpClient::HttpClient(const SyncConfig& config, const std::atomic<bool>* stop_flag)
    : config_(config), stop_(stop_flag) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    if (!curl_) throw std::runtime_error("sync: libcurl cannot start");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult HttpClient::post(const std::string& url, const std::vector<std::string>& headers, const std::string& body) {
    return perform(url, headers, &body);
}

HttpResult HttpClient::get(const std::string& url, const std::vector<std::string>& headers, std::size_t max_reply_bytes) {
    return perform(url, headers, nullptr, nullptr, max_reply_bytes);
}

HttpResult HttpClient::put(const std::string& url, const std::vector<std::string>& headers, const std::string& body) {
    return perform(url, headers, &body, "PUT");
}

HttpResult HttpClient::perform(const std::string& url, const std::vector<std::string>& headers,
                               const std::string* body, const char* method, std::size_t max_reply_bytes) {
    CURL* c = static_cast<CURL*>(curl_);
    curl_easy_reset(c);  // keeps the connection cache
    Transfer t;
    t.stop = stop_;
    if (max_reply_bytes) t.max_bytes = max_reply_bytes;
    t.min_bytes_per_second = config_.low_speed_bytes;
    t.window = config_.low_speed_time;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // we run on a thread
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");  // loopback never goes through a proxy
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, config_.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>((config_.low_speed_time.count() + 999) / 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    // gzip or nothing: "" would advertise every encoding libcurl knows (br, zstd, deflate),
    // and a collector that honours Brotli then spends more CPU on a 32-byte reply than on the
    // batch. Identity stays acceptable (RFC 9110: it is unless refused).
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kohtaamo-sync/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);

    HttpResult r;
    if (rc != CURLE_OK) {
        r.stopped = rc == CURLE_ABORTED_BY_CALLBACK && !t.too_slow;
        r.empty_reply = rc == CURLE_GOT_NOTHING;
        r.error = t.too_big    ? "the reply is larger than " + std::to_string(t.max_bytes) + " bytes"
                 : t.too_slow ? "timed out: less than " + std::to_string(config_.low_speed_bytes) +
                                    " bytes/s for " + std::to_string(config_.low_speed_time.count() / 1000) +
                                    " s (a stalled network or collector)"
                 : r.stopped  ? "stopped"
                 : *errbuf   ? std::string(errbuf)
                             : std::string(curl_easy_strerror(rc));
        if (rc == CURLE_OPERATION_TIMEDOUT) r.error = "timed out: " + r.error;
        r.tls_error = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
                      rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
                      rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS;
        return r;
    }
    r.transport_ok = true;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char* ct = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) r.content_type = ct;
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
        r.retry_after = Millis(retry_after * 1000);
    r.body = std::move(t.body);
    return r;
}

}  // namespace kohtaamo::sync
