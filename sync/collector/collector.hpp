// collector.hpp — the reference collector: receives batches from kiosks and stores each
// response exactly once, and gives the coordinators their exports (GET /v1/export with an
// export token: the same files as kohtaamo-export, made by the same library, kiosk/export).
//
// The parts (sync/README.md, "The collector"):
//   config.{hpp,cpp}     collector.toml
//   storage.{hpp,cpp}    the one storage interface, every SQL statement, the transaction
//                        rules; schema.cpp the tables of each database side by side
//   sql.hpp, driver_sqlite.cpp, driver_postgresql.cpp   the thin drivers
//   http.{hpp,cpp}       the HTTP server (libmicrohttpd): connections, deadlines, hygiene
//   collector.{hpp,cpp}  this: the endpoints, tokens, export slots — the protocol's side
//   main.cpp             kohtaamo-collector's command line
//
// Several collector processes may serve one PostgreSQL database: they share nothing but
// it. The token lists they serve from are the database's (published from collector.toml at
// start and on SIGHUP by whichever instance, picked up by every other within a second),
// and so are the export slots.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "storage.hpp"

namespace kohtaamo::sync {

class Collector {
public:
    // Opens (and migrates) the database and publishes the config's tokens to it.
    explicit Collector(CollectorConfig config);
    ~Collector();
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Binds the listening socket; returns the port (the chosen one when config.port is 0).
    int bind();
    // Serves until stop() (bind() first). Returns false when serving failed.
    bool serve();
    // bind() + serving in the background; returns the port. For tests and benchmarks.
    int start();
    // Stops serving: no new connections, requests in hand are answered. Idempotent.
    void stop();
    int port() const { return port_; }
    // Publishes new token lists to the database: this instance and every other serve
    // from them (SIGHUP does this from the config file).
    void set_devices(std::vector<DeviceToken> devices);
    void set_export_tokens(std::vector<DeviceToken> export_tokens);
    void set_tokens(const CollectorTokens& tokens);
    // Where log lines go (default: stderr). Never given a token; never a control character.
    void set_log(std::function<void(const std::string&)> log);

    Storage& storage();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

// A batch's identity (its parsed fields' BLAKE2b-256, sealed answers opened first): the
// same content is the same batch whatever its JSON's whitespace and key order.
std::string batch_identity(const Batch& b);

inline constexpr const char* kExportPath = "/v1/export";
inline constexpr const char* kBundlePath = "/v1/bundle";
// GET /v1/export: at most this many exports run at once across every instance (each
// reads the whole period); one more gets 503 with Retry-After, so uploads always find a
// free worker.
inline constexpr int kMaxConcurrentExports = 2;

}  // namespace kohtaamo::sync
