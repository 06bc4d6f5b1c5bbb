#include "sync_config.hpp"

#include <fstream>

#include "toml_reader.hpp"

namespace kohtaamo::sync {

namespace {
bool is_loopback_url(const std::string& url) {
    for (const char* prefix : {"http://127.", "http://localhost:", "http://localhost/", "http://[::1]"}) {
        if (url.rfind(prefix, 0) == 0) return true;
    }
    return url == "http://localhost";
}
}  // namespace

SyncConfig load_sync_config(const std::filesystem::path& kiosk_toml) {
    TomlReader r(kiosk_toml);
    SyncConfig c;
    const toml::node* node = r.root().get("sync");
    if (!node) return c;
    if (!node->is_table()) r.fail(node, "sync must be a table ([sync])");
    const toml::table& t = *node->as_table();
    const std::string w = "sync";
    r.only_keys(t,
                {"endpoint", "token", "token_file", "ca_file", "allow_plain_http", "send_abandoned",
                 "batch_max_responses", "batch_max_bytes", "interval_seconds", "connect_timeout_seconds",
                 "low_speed_bytes_per_second", "low_speed_seconds", "request_timeout_seconds",
                 "backoff_initial_seconds", "backoff_max_seconds", "retry_after_max_seconds", "auth_retry_seconds"},
                w);
    const auto base = std::filesystem::absolute(kiosk_toml).parent_path();
    auto resolve = [&](const std::string& p) {
        std::filesystem::path path(p);
        return (path.is_absolute() ? path : base / path).string();
    };
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
    c.batch_max_responses = static_cast<std::size_t>(positive("batch_max_responses", 200));
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
        std::ifstream in(resolve(*token_file));
        if (!in) r.fail(t.get("token_file"), "sync.token_file: cannot read " + resolve(*token_file));
        std::getline(in, c.token);
        while (!c.token.empty() && (c.token.back() == '\r' || c.token.back() == ' ')) c.token.pop_back();
        if (c.token.empty()) r.fail(t.get("token_file"), "sync.token_file: " + resolve(*token_file) + " is empty");
    } else if (token) {
        c.token = *token;
    }
    if (auto ca = r.optional_string(t, "ca_file", w); ca && !ca->empty()) {
        c.ca_file = resolve(*ca);
        std::error_code ec;
        if (!std::filesystem::exists(c.ca_file, ec)) r.fail(t.get("ca_file"), "sync.ca_file: " + c.ca_file + " not found");
    }
    if (c.endpoint.empty()) return c;  // sync off; the rest is still checked above
    const toml::node* ep = t.get("endpoint");
    if (c.endpoint.rfind("https://", 0) != 0 && c.endpoint.rfind("http://", 0) != 0)
        r.fail(ep, "sync.endpoint \"" + c.endpoint + "\" must start with https://");
    if (c.endpoint.rfind("http://", 0) == 0 && !is_loopback_url(c.endpoint) && !c.allow_plain_http)
        r.fail(ep, "sync.endpoint \"" + c.endpoint +
                       "\" is plain http: answers would cross the network unencrypted. Use https://, or set "
                       "allow_plain_http = true for a collector on a trusted LAN");
    if (c.token.empty()) r.fail(&t, "sync: an endpoint needs a token (or token_file)");
    if (c.token.find_first_of(" \t\r\n") != std::string::npos) r.fail(t.get("token"), "sync.token must not contain spaces");
    return c;
}

}  // namespace kohtaamo::sync
