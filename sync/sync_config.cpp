#include "sync_config.hpp"

#include <curl/curl.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <utility>

#include "bundle.hpp"
#include "config.hpp"
#include "toml_reader.hpp"

namespace kohtaamo::sync {

namespace {
// Whether `host` (as curl's URL parser gives it) is this machine: localhost, [::1] or a
// dotted 127.a.b.c (the whole of 127.0.0.0/8).
bool is_loopback_host(std::string host) {
    for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host == "localhost" || host == "[::1]") return true;
    int parts = 0, value = -1;
    for (char c : host + ".") {
        if (c == '.') {
            if (value < 0 || value > 255 || (parts == 0 && value != 127)) return false;
            ++parts;
            value = -1;
        } else if (c >= '0' && c <= '9' && value < 1000) {
            value = (value < 0 ? 0 : value * 10) + (c - '0');
        } else {
            return false;
        }
    }
    return parts == 4;
}

struct UrlParts {
    std::string scheme, host;
};
// The URL as libcurl itself will read it when it connects (curl_url, the same parser), so
// the check and the connection cannot disagree: "http://127.0.0.1@elsewhere.example" has
// the host elsewhere.example (127.0.0.1 is a user name), "http://127.0.0.1.example.net" is
// a name, not an address. Nothing when curl does not accept the URL.
std::optional<UrlParts> parse_url(const std::string& url) {
    std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
    UrlParts parts;
    for (auto [part, out] : {std::pair{CURLUPART_SCHEME, &parts.scheme}, std::pair{CURLUPART_HOST, &parts.host}}) {
        char* value = nullptr;
        if (curl_url_get(u.get(), part, &value, 0) != CURLUE_OK || !value) return std::nullopt;
        *out = value;
        curl_free(value);
    }
    return parts;
}
}  // namespace

std::optional<std::string> endpoint_problem(const std::string& endpoint, bool allow_plain_http) {
    if (endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0)
        return "\"" + endpoint + "\" must start with https://";
    const auto url = parse_url(endpoint);
    if (!url) return "\"" + endpoint + "\" is not a URL libcurl can read";
    if (url->scheme == "http" && !is_loopback_host(url->host) && !allow_plain_http)
        return "\"" + endpoint + "\" is plain http to " + url->host +
               ": answers would cross the network unencrypted. Use https://, or set "
               "allow_plain_http = true for a collector on a trusted LAN";
    return std::nullopt;
}

std::optional<std::string> token_problem(const std::string& token) {
    if (token.empty()) return "an endpoint needs a token (or token_file)";
    if (token.find_first_of(" \t\r\n") != std::string::npos) return "the token must not contain spaces";
    return std::nullopt;
}

SyncConfig load_sync_config(const std::filesystem::path& kiosk_toml) {
    return load_sync_config(read_kiosk_config(kiosk_toml));
}

SyncConfig load_sync_config(const TomlReader& r) {
    SyncConfig c;
    const toml::node* node = r.root().get("sync");
    if (!node) return c;
    if (!node->is_table()) r.fail(node, "sync must be a table ([sync])");
    const toml::table& t = *node->as_table();
    const std::string w = "sync";
    r.only_keys(t,
                {"endpoint", "token", "token_file", "ca_file", "allow_plain_http", "bundle_key", "send_abandoned",
                 "batch_max_responses", "batch_max_bytes", "interval_seconds", "connect_timeout_seconds",
                 "low_speed_bytes_per_second", "low_speed_seconds", "request_timeout_seconds",
                 "backoff_initial_seconds", "backoff_max_seconds", "retry_after_max_seconds", "auth_retry_seconds"},
                w);
    auto resolve = [&](const char* key, const std::string& p) { return r.resolve(t.get(key), p).string(); };
    c.endpoint = r.optional_string(t, "endpoint", w).value_or("");
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    c.allow_plain_http = r.boolean_or(t, "allow_plain_http", false, w);
    c.send_abandoned = r.boolean_or(t, "send_abandoned", true, w);
    auto positive = [&](const char* key, std::int64_t fallback) {
        std::int64_t v = r.integer_or(t, key, fallback, w);
        if (v <= 0) r.fail(t.get(key), w + "." + key + " must be a positive integer");
        return v;
    };
    auto seconds = [&](const char* key, Millis fallback) {
        return Millis(positive(key, fallback.count() / 1000) * 1000);
    };
    c.batch_max_responses =
        static_cast<std::size_t>(positive("batch_max_responses", static_cast<std::int64_t>(c.batch_max_responses)));
    c.batch_max_bytes = static_cast<std::size_t>(positive("batch_max_bytes", 1 << 20));
    c.interval = seconds("interval_seconds", c.interval);
    c.connect_timeout = seconds("connect_timeout_seconds", c.connect_timeout);
    c.low_speed_bytes = static_cast<long>(positive("low_speed_bytes_per_second", c.low_speed_bytes));
    c.low_speed_time = seconds("low_speed_seconds", c.low_speed_time);
    c.request_timeout = seconds("request_timeout_seconds", c.request_timeout);
    c.backoff_initial = seconds("backoff_initial_seconds", c.backoff_initial);
    c.backoff_max = seconds("backoff_max_seconds", c.backoff_max);
    c.retry_after_max = seconds("retry_after_max_seconds", c.retry_after_max);
    c.auth_retry = seconds("auth_retry_seconds", c.auth_retry);
    if (c.backoff_max < c.backoff_initial)
        r.fail(t.get("backoff_max_seconds"), "sync.backoff_max_seconds must not be less than backoff_initial_seconds");

    auto token = r.optional_string(t, "token", w);
    auto token_file = r.optional_string(t, "token_file", w);
    if (token && token_file) r.fail(t.get("token_file"), "sync: give token or token_file, not both");
    if (token_file) {
        const std::string path = resolve("token_file", *token_file);
        std::ifstream in(path);
        if (!in) r.fail(t.get("token_file"), "sync.token_file: cannot read " + path);
        std::getline(in, c.token);
        while (!c.token.empty() && (c.token.back() == '\r' || c.token.back() == ' ')) c.token.pop_back();
        if (c.token.empty()) r.fail(t.get("token_file"), "sync.token_file: " + path + " is empty");
    } else if (token) {
        c.token = *token;
    }
    if (auto ca = r.optional_string(t, "ca_file", w); ca && !ca->empty()) {
        c.ca_file = resolve("ca_file", *ca);
        std::error_code ec;
        if (!std::filesystem::exists(c.ca_file, ec)) r.fail(t.get("ca_file"), "sync.ca_file: " + c.ca_file + " not found");
    }
    if (auto key = r.optional_string(t, "bundle_key", w)) {
        if (std::string why = public_key_problem(*key); !why.empty()) r.fail(t.get("bundle_key"), "sync.bundle_key: " + why);
        c.bundle_key = *key;
    }
    if (c.endpoint.empty()) return c;  // sync off; the rest is still checked above
    if (auto problem = endpoint_problem(c.endpoint, c.allow_plain_http)) r.fail(t.get("endpoint"), "sync.endpoint " + *problem);
    if (c.token.empty()) r.fail(&t, "sync: an endpoint needs a token (or token_file)");
    if (token_problem(c.token)) r.fail(t.get("token"), "sync.token must not contain spaces");
    return c;
}

}  // namespace kohtaamo::sync
