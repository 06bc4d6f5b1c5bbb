// sync_support.hpp — what the sync tests share: kiosk databases full of finished
// responses (made through the real Store, so with the real schema), the collector's
// database on either driver (TestDatabase: ctest runs every collector test once on SQLite
// and once on a real PostgreSQL, pg_cluster.hpp), a real collector on an ephemeral
// loopback port, a plain HTTP client for hand-made requests, and counting.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector.hpp"
#include "sync_config.hpp"
#include "uploader.hpp"
#include "test_support.hpp"

namespace kohtaamo::test::sync {

using namespace std::chrono_literals;

struct KioskDb {
    std::filesystem::path path;
    std::string device_id;
    int finished = 0;     // complete + abandoned: what sync sends
    int answers = 0;      // answer rows of those
    int in_progress = 0;  // never sent
};

// A kiosk database with `finished` finished responses (about 1 in 10 abandoned), 2-6
// answers each (multiple choice as several rows, free text with quotes, commas, newlines
// and non-ASCII), plus two responses still in progress.
KioskDb make_kiosk_db(const std::filesystem::path& file, int finished, unsigned seed);

// Which database the collector tests store into: KOHTAAMO_TEST_DATABASE=postgresql (set
// by ctest for the "sync[postgresql]: " tests) or sqlite (the default).
bool testing_postgresql();

// A fresh collector database on the driver under test: a SQLite file in `dir`, or a new
// database in this process's PostgreSQL cluster (or on either, by `driver`).
class TestDatabase {
public:
    explicit TestDatabase(const std::filesystem::path& dir);
    TestDatabase(const std::filesystem::path& dir, kohtaamo::sync::DatabaseConfig::Driver driver);
    // A database of the test's own making (a cluster other than this process's).
    TestDatabase(const std::filesystem::path& dir, kohtaamo::sync::DatabaseConfig config);
    ~TestDatabase();
    const kohtaamo::sync::DatabaseConfig& config() const { return config_; }
    // Its [database] table for a collector.toml.
    std::string toml() const;
    std::string url() const;
    const std::filesystem::path& dir() const { return dir_; }
    // Read through the collector's own storage (its own connection).
    Rows query(const std::string& sql) const;
    std::int64_t count(const std::string& sql) const;

private:
    kohtaamo::sync::DatabaseConfig config_;
    std::filesystem::path dir_;
    mutable std::unique_ptr<kohtaamo::sync::Storage> storage_;
};

// A collector running in this process on 127.0.0.1 and an ephemeral port, with its
// database in `dir` (or in PostgreSQL), and tokens for devices k1, k2, k3.
class TestCollector {
public:
    explicit TestCollector(const std::filesystem::path& dir, kohtaamo::sync::Limits limits = {},
                           bool with_tokens = true, kohtaamo::sync::ServerLimits server = fast_server());
    // Deadlines short enough for a test to wait them out.
    static kohtaamo::sync::ServerLimits fast_server();
    // Every log line so far (each request's, the server's).
    std::vector<std::string> log() const;
    ~TestCollector();
    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::string& token(int i) const { return tokens_.at(static_cast<std::size_t>(i)); }
    // Accepts the three test tokens (after with_tokens = false).
    void accept_tokens();
    const TestDatabase& database() const { return database_; }
    std::int64_t count(const std::string& sql) const;
    Rows query(const std::string& sql) const { return database_.query(sql); }
    kohtaamo::sync::Collector& collector() { return *collector_; }

private:
    TestDatabase database_;
    std::vector<std::string> tokens_;
    std::vector<kohtaamo::sync::DeviceToken> devices_;
    std::unique_ptr<kohtaamo::sync::Collector> collector_;
    int port_ = 0;
    mutable std::mutex log_mutex_;
    std::vector<std::string> log_;
};

// A sync config with short timeouts and backoffs, so that faults cost seconds, not minutes.
kohtaamo::sync::SyncConfig fast_config(const std::string& endpoint, const std::string& token);

std::int64_t count(const std::filesystem::path& db, const std::string& sql);

// Every distinct error an uploader reported (its status's last_error, in order), from its
// status callback: attach() before start().
class ErrorLog {
public:
    void attach(kohtaamo::sync::Uploader& up);
    bool any(const std::string& part) const;  // one of them contains `part`
    std::string all() const;                 // one per line
private:
    mutable std::mutex m_;
    std::vector<std::string> errors_;
};

// Polls `done` every 10 ms until it is true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
// The uploader has nothing left to send and is idle.
bool all_sent(const kohtaamo::sync::Uploader& up);

struct HttpReply {
    long status = 0;  // 0: no HTTP reply (see error)
    std::string body;
    std::string error;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string header(const std::string& lower_case_name) const {
        auto it = headers.find(lower_case_name);
        return it == headers.end() ? std::string() : it->second;
    }
};
// One POST with libcurl. `headers` are added as given ("Content-Encoding: gzip", ...).
HttpReply post(const std::string& url, const std::vector<std::string>& headers, const std::string& body);
// ca_file: verify the server against this CA (a TLS endpoint of the test CA).
HttpReply get(const std::string& url, const std::vector<std::string>& headers = {}, const std::string& ca_file = "");

// The real kohtaamo-collector binary as a child process, serving `config_body` (written
// to dir/collector.toml, or dir/`name`.toml; give it `port = 0`) on an ephemeral loopback
// port. Stopped with SIGTERM when destroyed (and killed with the test process if that dies).
class CollectorProcess {
public:
    CollectorProcess(const std::filesystem::path& dir, const std::string& config_body,
                     const std::string& name = "collector");
    ~CollectorProcess();
    CollectorProcess(const CollectorProcess&) = delete;
    CollectorProcess& operator=(const CollectorProcess&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    int pid() const { return pid_; }
    const std::filesystem::path& config() const { return config_; }
    // SIGKILL, as a crash would.
    void kill();
    std::string log() const;
    // Runs the same binary once more with --config and `args` (e.g. the export command).
    RunResult run(const std::vector<std::string>& args) const;
    // SIGHUP, as `systemctl reload` sends it; waits until the collector says it reloaded
    // (true) or that the reload failed (false).
    bool reload() const;

private:
    std::filesystem::path config_, log_;
    int pid_ = -1;
    int port_ = 0;
};

// A plain TCP connection to 127.0.0.1:`port`, for requests no HTTP library would send
// (two Content-Length headers, a byte a second, nothing at all).
class RawConnection {
public:
    explicit RawConnection(int port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    // False when the peer closed or reset the connection.
    bool send(const std::string& bytes);
    // Reads until the peer closes, `timeout` passes, or a whole reply (headers and
    // Content-Length bytes) is in.
    std::string read_reply(std::chrono::milliseconds timeout);
    // True when the peer closed the connection within `timeout` (reads and drops bytes;
    // 0 ms: closed already).
    bool closed_within(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};
// The status code of a raw reply ("HTTP/1.1 400 …"), or 0.
int status_of(const std::string& reply);

// A valid batch of `n` new responses.
kohtaamo::sync::Batch make_batch(int n, unsigned seed);

// `text` with the first `from` replaced by `to` (REQUIREs that there is one).
std::string edit_first(std::string text, std::string_view from, std::string_view to);

// A request body (JSON text, before gzip) that breaks one rule of PROTOCOL.md, and what
// the collector must answer: the status, the error code, and the start of the message,
// which names the field. Shared by the protocol's unit tests and the tests over HTTP.
struct Malformed {
    std::string name;
    std::string json;
    long status;
    std::string code;
    std::string message;  // the message starts with this (the field, then the problem)
};
std::vector<Malformed> malformed_bodies();
// Bodies that break no rule although they come close (tab, line breaks in free text,
// 2028-02-29, 23:59:59.999999999, a key that is a prefix of another ...): accepted.
std::vector<std::pair<std::string, std::string>> borderline_good_bodies();

}  // namespace kohtaamo::test::sync
