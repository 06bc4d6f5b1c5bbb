// config.hpp — collector.toml: the server's address, timeouts and limits, the database,
// the kiosks' and coordinators' tokens, and the exports' defaults (format in
// config/collector.toml and sync/README.md). Every mistake is a ConfigError naming
// file:line:column and the key.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "export.hpp"
#include "export_request.hpp"
#include "protocol.hpp"
#include "seal.hpp"
#include "site_hours.hpp"
#include "survey.hpp"

namespace kohtaamo::sync {

// A bearer token the collector accepts: a kiosk's ([[device]]: may upload) or a
// coordinator's ([[export_token]]: may read every site's answers). The two lists are
// separate, and one token is never in both.
struct DeviceToken {
    std::string name;        // the kiosk's (or the exporter's) name in logs and exports
    std::string token_hash;  // "blake2b:<64 hex digits>", from `kohtaamo-collector token`
    bool enabled = true;     // false: the token is refused with 403
    bool operator==(const DeviceToken& o) const {
        return name == o.name && token_hash == o.token_hash && enabled == o.enabled;
    }
};

struct CollectorTokens {
    std::vector<DeviceToken> devices, export_tokens;
};

// Where the answers are kept: a SQLite file (the default, one machine) or a PostgreSQL
// server (several collector processes share it).
struct DatabaseConfig {
    enum class Driver { Sqlite, Postgresql } driver = Driver::Sqlite;
    std::filesystem::path file;  // Sqlite
    std::string url;             // Postgresql: a libpq URI, postgresql://user@host:port/db
    int connections = 4;         // Postgresql: connections that store batches at once (docs/performance.md)
    int stalled_after_seconds = 30;  // GET /v1/health is 503 while a batch has waited this long to be stored
    // The database for messages (a PostgreSQL URI without its password).
    std::string describe() const;
    static DatabaseConfig sqlite(std::filesystem::path file) {
        DatabaseConfig d;
        d.file = std::move(file);
        return d;
    }
    static DatabaseConfig postgresql(std::string url) {
        DatabaseConfig d;
        d.driver = Driver::Postgresql;
        d.url = std::move(url);
        return d;
    }
};

// The HTTP server's bounds on what a client may take (sync/PROTOCOL.md, "Hostile clients").
struct ServerLimits {
    int header_timeout_seconds = 10;  // a request's headers complete within this of the
                                      // connection opening or the previous reply (idle keep-alive too)
    int body_timeout_seconds = 60;    // the body complete within this of its headers
    int read_timeout_seconds = 30;    // no byte moving either way for this long ends a connection
    int max_connections = 512;        // open connections (past it, a new one pushes out the one
                                      // idle longest; http.hpp)
};

// [sites.ID]: a meeting point's name on the web page and in the report, and the hours its
// kiosks are expected to be heard in (site_hours.hpp).
struct SiteSettings {
    std::string id, name;  // name: id when not given
    std::string hours_text = "always";
    OpenHours hours = OpenHours::always();
};

// [web]: the coordinators' web page (sync/collector/web.hpp, docs/collector-deploy.md).
struct WebConfig {
    bool enabled = true;
    std::string prefix = "/";         // where it is served, e.g. "/kohtaamo/" behind nginx; ends in /
    bool secure_cookies = true;       // false only for plain-HTTP tests on loopback
    int session_hours = 12;           // a login lasts this long
    int silent_after_minutes = 60;    // of a site's expected hours without a word: silent
    int lock_after_failures = 5;      // wrong passwords in a row that lock an account
    int first_lock_minutes = 5;       // the first lock; doubled with every further one
    int max_lock_minutes = 24 * 60;
};

struct CollectorConfig {
    std::string file;  // where it was read from (for messages)
    std::string listen = "127.0.0.1";
    int port = 8470;  // 0: any free port (tests)
    DatabaseConfig database;
    int threads = 16;  // workers: requests that read or write the database at once
    bool log_requests = true;
    ServerLimits server;
    Limits limits;
    std::vector<DeviceToken> devices;        // [[device]]: kiosks, POST /v1/batches
    std::vector<DeviceToken> export_tokens;  // [[export_token]]: coordinators, GET /v1/export
    // [privacy] keys: the secret key files (kohtaamo-collector keys, mode 0600) that open
    // sealed answers on arrival (PROTOCOL.md, "Sealed answers"); a batch sealed to a key not
    // here is refused with 422 unknown_seal_key.
    SealKeyring seal_keys;
    // [export]: the survey files (question order, kinds, labels; none: everything from the
    // data), the report's catalogues (report-<lang>.toml), and the defaults min_group,
    // free_text and report_language (csv is chosen per request).
    std::vector<Survey> surveys;
    std::filesystem::path texts_dir;
    ExportConfig export_defaults;
    // Where GET /v1/export writes a file before sending it: next to a SQLite database,
    // else the system's temporary folder ([export] work_dir overrides).
    std::filesystem::path export_work_dir;
    // The survey bundles' public key (64 hex digits): bundle.pub beside this file, when it
    // is there (`kohtaamo-collector bundle-keys` writes it). GET /v1/device gives it to a
    // kiosk's enrolment, over its verified connection and token. Empty: none.
    std::string bundle_public_key;
    WebConfig web;
    std::vector<SiteSettings> sites;  // [sites.ID], by id
    const SiteSettings* site(const std::string& id) const {
        for (const auto& s : sites)
            if (s.id == id) return &s;
        return nullptr;
    }

    // The report's language when neither the request nor [export] names one.
    static constexpr const char* kReportLanguage = "fi";
    // What an export request (the command's options, GET /v1/export's parameters) asks
    // for, with this config's defaults. Throws ExportRequestError naming the option.
    ExportOptions export_options(const ExportRequest& request, std::int64_t now_ms) const;
};

// Reads config/collector.toml; relative paths are resolved against the file's folder.
// Throws ConfigError naming file:line.
CollectorConfig load_collector_config(const std::filesystem::path& file);

// The token lists alone (for a reload on SIGHUP).
CollectorTokens load_collector_tokens(const std::filesystem::path& file);

// `[database] url`'s value: postgresql://… or postgres://… for PostgreSQL, sqlite:PATH (or
// a plain path) for SQLite, relative to `base`. Throws std::invalid_argument saying why.
DatabaseConfig parse_database_url(const std::string& url, const std::filesystem::path& base);

}  // namespace kohtaamo::sync
