// sync_config.hpp — the kiosk's [sync] settings (kiosk.toml, with the device file's
// endpoint and token over it: kiosk/core/config.hpp). No endpoint: sync off.
#pragma once
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace kohtaamo {
class TomlReader;
}

namespace kohtaamo::sync {

using Millis = std::chrono::milliseconds;

struct SyncConfig {
    // Base URL of the collector, e.g. "https://keruu.example.fi/kohtaamo"; the uploader
    // posts to <endpoint>/v1/batches. Empty: sync is off.
    std::string endpoint;
    std::string token;    // this kiosk's bearer token (from `kohtaamo-collector token NAME`)
    std::string ca_file;  // PEM bundle to verify the collector with; empty = the system's CAs
    // http:// to anything but a loopback address must be allowed explicitly (a LAN
    // collector without TLS); TLS certificates are always verified.
    bool allow_plain_http = false;
    // The collector's bundle signing key (its bundle.pub, 64 hex digits; the device file's
    // [sync] bundle_key, written by kohtaamo-enroll). Empty: the kiosk fetches no bundles.
    std::string bundle_key;
    bool send_abandoned = true;  // also send responses the visitor walked away from

    // A backlog's batches grow to this from 200 (uploader.cpp, RAMP); the protocol's
    // max_responses is 1000.
    std::size_t batch_max_responses = 1000;
    std::size_t batch_max_bytes = 1 << 20;  // JSON before gzip

    Millis interval{60'000};  // how often an idle uploader looks for new responses
    // With nothing to send, a POST /v1/heartbeat after this long without a word to the
    // collector (PROTOCOL.md, "Health"); 0: never.
    Millis heartbeat_interval{300'000};

    // What the kiosk reports as its health (set by the program, not read from the config).
    std::string app_version;
    std::int64_t bundle_version = 0;  // 0: the config installed with the package
    std::string config_version;
    Millis connect_timeout{10'000};
    long low_speed_bytes = 100;  // a transfer slower than this for low_speed_time ...
    Millis low_speed_time{30'000};  // ... is abandoned (a stalled network never hangs it)
    Millis request_timeout{300'000};  // hard cap on one request
    Millis backoff_initial{2'000};
    Millis backoff_max{600'000};
    Millis retry_after_max{3'600'000};  // a longer Retry-After is cut to this
    Millis auth_retry{1'800'000};       // after 401/403: the next try (the admin fixes the token)

    bool enabled() const { return !endpoint.empty(); }
};

// Reads the [sync] table of a kiosk's configuration. Relative paths (ca_file, token_file)
// are resolved against the folder of the file that gave them. Throws ConfigError naming
// file:line and key.
SyncConfig load_sync_config(const TomlReader& config);
SyncConfig load_sync_config(const std::filesystem::path& kiosk_toml);  // read_kiosk_config + the above

// The rules for the collector's URL, for any program that takes one: why `endpoint` is
// refused (https://, or plain http:// only to a loopback address unless allowed), or
// nullopt when it is fine.
std::optional<std::string> endpoint_problem(const std::string& endpoint, bool allow_plain_http);
// Why a token is refused (empty, or with spaces), or nullopt.
std::optional<std::string> token_problem(const std::string& token);

}  // namespace kohtaamo::sync
