// uploader.hpp — sends the kiosk's finished responses to the collector, in batches, and
// marks them sent only from the collector's own reply. Runs on a background thread inside
// the kiosk (start/stop) or once from a script (sync_once, the kohtaamo-sync command).
//
// Typical use in the kiosk (after the Store has opened and migrated the database):
//
//   auto cfg = kohtaamo::sync::load_sync_config("config/kiosk.toml");   // ConfigError on bad input
//   kohtaamo::sync::Uploader up(store.path(), cfg);
//   up.on_status_change([](const kohtaamo::sync::SyncStatus&) { /* push an SDL user event */ });
//   up.start();                 // returns at once; nothing here ever blocks a frame
//   ... up.nudge();             // optional: a response was just finished, send soon
//   ... up.status();            // thread-safe snapshot for the coordinator screen
//   up.stop();                  // prompt (aborts a transfer in progress), joins
//
// With no endpoint configured (sync off) start() does nothing and status().state is Off.
// The state machine is described at the top of uploader.cpp.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bundle_store.hpp"
#include "protocol.hpp"
#include "sync_config.hpp"

namespace kohtaamo::sync {

enum class SyncState {
    Off,         // no endpoint configured
    Idle,        // nothing to send, or waiting for the next look (interval / nudge)
    Sending,     // a batch is on its way
    Waiting,     // backing off after a failure (network, collector); retries by itself
    AuthFailed,  // the collector refused the token (401/403); retries only slowly
    Stopped,     // stop() was called
};
const char* to_string(SyncState);

struct SyncStatus {
    SyncState state = SyncState::Off;
    std::int64_t pending = 0;      // finished responses the collector has not acknowledged
    std::int64_t rejected = 0;     // responses set aside, not sent again by themselves (see sync/README.md)
    std::int64_t rejected_reasons = 0;  // how many different reasons they were set aside for
    std::string last_success_at;   // ISO 8601 UTC of the last acknowledged batch; empty: never
    std::string last_error;        // the last failure, in words; empty after a success
    std::string last_error_at;
    bool auth_failed = false;      // the token was refused: an admin must fix it

    bool operator==(const SyncStatus&) const = default;
};

// The outcome of one sync_once().
struct SyncReport {
    bool complete = false;      // nothing pending any more
    int acknowledged = 0;       // responses the collector acknowledged in this run
    int rejected = 0;           // responses set aside in this run (refused, failed on alone, or not sendable)
    std::int64_t pending = 0;   // still waiting afterwards
    std::string error;          // why it stopped early; empty when complete
    bool auth_failed = false;
    bool transient = false;     // the error is worth retrying soon (network, 5xx, 429/503)
    std::int64_t retry_after_ms = 0;  // what the collector asked for (Retry-After), 0 if nothing
};

class Outbox;
class HttpClient;

class Uploader {
public:
    // `database` is the kiosk's SQLite file (kohtaamo.sqlite); the uploader opens its own
    // connection to it. Never throws for network or database trouble: that is status.
    Uploader(std::filesystem::path database, SyncConfig config);
    ~Uploader();  // stop()
    Uploader(const Uploader&) = delete;
    Uploader& operator=(const Uploader&) = delete;

    // Set before start(). Called on the sync thread whenever status() changes (and once
    // from stop(), on the caller's thread, with state Stopped); must be quick and must not
    // call the Uploader's start/stop/sync_once (status() is fine).
    void on_status_change(std::function<void(const SyncStatus&)> callback);

    // Set before start(): after each cycle that reached the collector, fetch the newest
    // survey bundle (config.bundle_key set) into `store` (bundle_store.hpp).
    void set_bundles(BundleStore* store, BundleHooks hooks);

    void start();  // starts the background thread (no-op when sync is off or running)
    void stop();   // aborts a transfer in progress, joins the thread (well under a second)
    void nudge();  // look for new responses now instead of at the next interval

    // Sends until nothing is pending or the first failure, without waiting or retrying.
    // Not while the thread runs (it waits for the thread's current cycle).
    SyncReport sync_once();
    // Puts responses the collector refused back in the queue (after a collector fix).
    int retry_rejected();

    SyncStatus status() const;
    const SyncConfig& config() const { return config_; }

private:
    enum class Outcome { Done, Transient, AuthFailed, KeyRefused, Stopped };
    struct CycleResult {
        Outcome outcome = Outcome::Done;
        int acknowledged = 0;
        int rejected = 0;
        std::string error;
        std::int64_t retry_after_ms = 0;
    };
    CycleResult cycle();
    void thread_main();
    void update(const std::function<void(SyncStatus&)>& change);
    bool ensure_open(std::string& error);
    void record_failure(const std::string& error, bool auth_failed);
    // The health to report; `in_cycle`: in a cycle's batches (cheap: see uploader.cpp).
    Health health_now(Outbox& box, bool in_cycle);
    void heartbeat_if_due(Outbox& box, HttpClient& http);
    // PUT /v1/surveys/<hash> for each definition not yet acknowledged; an error (no
    // connection, 5xx) when the batches should wait, else nullopt.
    std::optional<std::string> send_definitions(Outbox& box, HttpClient& http);

    std::filesystem::path database_;
    SyncConfig config_;
    std::function<void(const SyncStatus&)> callback_;
    BundleStore* bundles_ = nullptr;
    BundleHooks bundle_hooks_;

    mutable std::mutex status_mutex_;
    SyncStatus status_;

    std::mutex cycle_mutex_;  // one cycle at a time (thread or sync_once)
    struct Parts;
    std::unique_ptr<Parts> parts_;  // outbox + HTTP client, created on first use

    std::mutex wake_mutex_;
    std::condition_variable wake_;
    bool nudged_ = false;
    std::atomic<bool> stop_{false};
    const std::int64_t started_mono_ms_;
    std::int64_t last_contact_mono_ms_ = 0;  // the last 2xx from the collector
    std::int64_t oldest_checked_mono_ms_ = 0;  // when oldest_pending_at_ was read (0: never, or stale)
    std::string oldest_pending_at_;
    // The collector refused `health` as an unknown field (or has no /v1/heartbeat): one
    // from before it. Batches then go without health, and no heartbeats, until a restart.
    bool health_refused_ = false;
    // Several batches may be in flight (WINDOW, uploader.cpp); false after a failure with
    // several in flight, until a cycle sends everything one batch at a time.
    bool windowed_ = true;
    // Half of the smallest batch a 413 refused: no batch is formed larger (RAMP, uploader.cpp).
    std::size_t batch_ceiling_ = SIZE_MAX;
    // The collector has no PUT /v1/surveys (404/405: one from before it): responses then go
    // without survey_hash, until a restart.
    bool definitions_unsupported_ = false;
    std::thread thread_;
};

// The saved sync state of a kiosk database, read without an Uploader (e.g. by a
// coordinator screen in another process, or `kohtaamo-sync --status`).
SyncStatus read_sync_status(const std::filesystem::path& database, bool send_abandoned = true);
// Why responses were set aside, the most frequent reason first, with how many each.
std::vector<std::pair<std::string, std::int64_t>> read_set_aside_reasons(const std::filesystem::path& database);

}  // namespace kohtaamo::sync
