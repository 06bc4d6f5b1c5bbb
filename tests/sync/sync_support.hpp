// sync_support.hpp — what the sync tests share: kiosk databases full of finished
// responses (made through the real Store, so with the real schema), a real collector on
// an ephemeral loopback port, a plain HTTP client for hand-made requests, and counting.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector.hpp"
#include "sync_config.hpp"
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

// A collector running in this process on 127.0.0.1 and an ephemeral port, with its
// database in `dir`, and tokens for devices k1, k2, k3.
class TestCollector {
public:
    explicit TestCollector(const std::filesystem::path& dir, kohtaamo::sync::Limits limits = {},
                           bool with_tokens = true);
    ~TestCollector();
    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::string& token(int i) const { return tokens_.at(static_cast<std::size_t>(i)); }
    // Accepts the three test tokens (after with_tokens = false).
    void accept_tokens();
    const std::filesystem::path& database() const { return database_; }
    std::int64_t count(const std::string& sql) const;
    kohtaamo::sync::Collector& collector() { return *collector_; }

private:
    std::filesystem::path database_;
    std::vector<std::string> tokens_;
    std::vector<kohtaamo::sync::DeviceToken> devices_;
    std::unique_ptr<kohtaamo::sync::Collector> collector_;
    int port_ = 0;
};

// A sync config with short timeouts and backoffs, so that faults cost seconds, not minutes.
kohtaamo::sync::SyncConfig fast_config(const std::string& endpoint, const std::string& token);

std::int64_t count(const std::filesystem::path& db, const std::string& sql);

// Polls `done` every 10 ms until it is true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

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
HttpReply get(const std::string& url, const std::vector<std::string>& headers = {});

// The real kohtaamo-collector binary as a child process, serving `config_body` (written
// to dir/collector.toml; give it `port = 0`) on an ephemeral loopback port. Stopped with
// SIGTERM when destroyed.
class CollectorProcess {
public:
    CollectorProcess(const std::filesystem::path& dir, const std::string& config_body);
    ~CollectorProcess();
    CollectorProcess(const CollectorProcess&) = delete;
    CollectorProcess& operator=(const CollectorProcess&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::filesystem::path& config() const { return config_; }
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

// A valid batch of `n` new responses.
kohtaamo::sync::Batch make_batch(int n, unsigned seed);

}  // namespace kohtaamo::test::sync
