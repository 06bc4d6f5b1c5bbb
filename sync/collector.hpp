// collector.hpp — the reference collector: an HTTP server (cpp-httplib) on SQLite that
// receives batches from kiosks and stores each response exactly once, and gives the
// coordinators their exports (GET /v1/export with an export token: the same files as
// kohtaamo-export, made by the same library, kiosk/export).
//
// Its database uses the kiosk's own table and column names (`responses`, `answers`), plus
// where each response came from (device_id, device_name, batch_id, received_at), so the
// kiosk's export code can read it too. `batches` remembers every batch id with a hash of
// its body: the same id with a different body is refused (409).
#pragma once
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "export.hpp"
#include "export_request.hpp"
#include "protocol.hpp"
#include "survey.hpp"

namespace kohtaamo::sync {

// A bearer token the collector accepts: a kiosk's ([[device]]: may upload) or a
// coordinator's ([[export_token]]: may read every site's answers). The two lists are
// separate, and one token is never in both.
struct DeviceToken {
    std::string name;        // the kiosk's (or the exporter's) name in logs and exports
    std::string token_hash;  // "blake2b:<64 hex digits>", from `kohtaamo-collector token`
    bool enabled = true;     // false: the token is refused with 403
};

struct CollectorConfig {
    std::string file;  // where it was read from (for messages)
    std::string listen = "127.0.0.1";
    int port = 8470;  // 0: any free port (tests)
    std::filesystem::path database;
    int threads = 8;
    bool log_requests = true;
    int read_timeout_seconds = 30;
    Limits limits;
    std::vector<DeviceToken> devices;        // [[device]]: kiosks, POST /v1/batches
    std::vector<DeviceToken> export_tokens;  // [[export_token]]: coordinators, GET /v1/export
    // [export]: the survey files (question order, kinds, labels; none: everything from the
    // data), the report's catalogues (report-<lang>.toml), and the defaults min_group,
    // free_text and report_language (csv is chosen per request).
    std::vector<Survey> surveys;
    std::filesystem::path texts_dir;
    ExportConfig export_defaults;

    // The report's language when neither the request nor [export] names one.
    static constexpr const char* kReportLanguage = "fi";
    // What an export request (the command's options, GET /v1/export's parameters) asks
    // for, with this config's defaults. Throws ExportRequestError naming the option.
    ExportOptions export_options(const ExportRequest& request, std::int64_t now_ms) const;
};

// Reads config/collector.toml (format in the example file and sync/README.md); relative
// paths are resolved against the file's folder. Throws ConfigError naming file:line.
CollectorConfig load_collector_config(const std::filesystem::path& file);

// The token lists alone (for a reload on SIGHUP).
struct CollectorTokens {
    std::vector<DeviceToken> devices, export_tokens;
};
CollectorTokens load_collector_tokens(const std::filesystem::path& file);

// What storing one batch did.
struct StoreOutcome {
    int status = 200;  // 200, or 409 when the batch id was seen with another body
    Reply reply;
};

class Collector {
public:
    explicit Collector(CollectorConfig config);
    ~Collector();
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Binds the listening socket; returns the port (the chosen one when config.port is 0).
    int bind();
    // Serves until stop() (bind() first). Returns false when listening failed.
    bool serve();
    // bind() + serve() on a thread of its own; returns the port. For tests and benchmarks.
    int start();
    // Stops serving and joins the thread start() made. Idempotent.
    void stop();
    int port() const { return port_; }
    // Replaces the accepted device tokens (SIGHUP reloads them from the file).
    void set_devices(std::vector<DeviceToken> devices);
    // Replaces the accepted export tokens.
    void set_export_tokens(std::vector<DeviceToken> export_tokens);
    // Where log lines go (default: stderr). Never given a token.
    void set_log(std::function<void(const std::string&)> log);

    // Stores a validated batch in one transaction: each response once, whatever the number
    // of concurrent copies. `body_hash` identifies the batch's content.
    StoreOutcome store(const Batch& batch, const std::string& device_name, const std::string& body_hash);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

// GET /v1/export: at most this many exports run at once (each reads the whole period);
// one more gets 503 with Retry-After, so uploads always find a free thread.
inline constexpr int kMaxConcurrentExports = 2;
inline constexpr const char* kExportPath = "/v1/export";

}  // namespace kohtaamo::sync
