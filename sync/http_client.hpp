// http_client.hpp — one HTTP POST/GET with libcurl, as the uploader needs it: timeouts
// that catch a stalled network, TLS verification always on, no redirects (a captive
// portal's redirect is a failure, not a destination), and a stop flag that aborts a
// transfer in progress within ~100 ms.
#pragma once
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sync_config.hpp"

namespace kohtaamo::sync {

struct HttpResult {
    bool transport_ok = false;  // false: no HTTP reply (refused, reset, timeout, TLS, stopped)
    std::string error;          // curl's explanation when !transport_ok
    bool stopped = false;       // aborted by the stop flag
    bool empty_reply = false;   // the server read the request and closed without a reply (curl's 52)
    bool tls_error = false;     // the TLS handshake failed or the certificate did not verify
    long status = 0;
    std::string body;
    std::string content_type;
    std::optional<Millis> retry_after;  // from a Retry-After header (seconds or a date)
};

class HttpClient {
public:
    HttpClient(const SyncConfig& config, const std::atomic<bool>* stop_flag);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResult post(const std::string& url, const std::vector<std::string>& headers, const std::string& body);
    // `max_reply_bytes`: 0 for the default bound of a protocol reply (4 MiB); a bundle's fetch gives its own.
    HttpResult get(const std::string& url, const std::vector<std::string>& headers = {}, std::size_t max_reply_bytes = 0);
    HttpResult put(const std::string& url, const std::vector<std::string>& headers, const std::string& body);

private:
    HttpResult perform(const std::string& url, const std::vector<std::string>& headers, const std::string* body,
                       const char* method = nullptr, std::size_t max_reply_bytes = 0);
    const SyncConfig& config_;
    const std::atomic<bool>* stop_;
    void* curl_ = nullptr;  // CURL*, kept between requests so the connection is reused
};

}  // namespace kohtaamo::sync
