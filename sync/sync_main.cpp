// kohtaamo-sync — the uploader as a one-shot command, for scripts and cron:
//
//   kohtaamo-sync --config config/kiosk.toml --data data
//   kohtaamo-sync                      (an installed kiosk: /etc/kohtaamo/kiosk.toml and its device file)
//
// Sends every finished response the collector has not acknowledged, retrying network and
// collector failures a few times with backoff, and exits:
//   0  everything pending was acknowledged
//   1  bad usage or config, or the database cannot be opened
//   2  not everything was sent (network or collector trouble; run it again later)
//   3  the collector refused this kiosk's token
//   4  some responses are set aside (refused by the collector, failed on alone, or not
//      sendable; kept in the kiosk with the reason, see --status and --retry-rejected)
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "config_error.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;

int main(int argc, char** argv) {
    CLI::App app{"Kohtaamo sync: send this kiosk's answers to the collector once, then exit"};
    std::string config_file = default_kiosk_config().string();
    std::string data_dir;
    std::string database;
    int attempts = 4;
    bool status_only = false;
    bool retry_rejected = false;
    bool quiet = false;
    app.add_option("--config,-c", config_file, "the kiosk's config (its [sync] table, the device file over it)")
        ->capture_default_str();
    app.add_option("--data", data_dir, "the kiosk's data folder (default: [store] data_dir of the config)");
    app.add_option("--database", database, "the kiosk's SQLite file (instead of --data)");
    app.add_option("--attempts", attempts, "tries per run on network/collector failures (default 4)")
        ->check(CLI::Range(1, 100));
    app.add_flag("--status", status_only, "print the saved sync state and exit (sends nothing)");
    app.add_flag("--retry-rejected", retry_rejected, "put responses the collector refused back in the queue first");
    app.add_flag("--quiet,-q", quiet, "print only errors");
    CLI11_PARSE(app, argc, argv);

    SyncConfig config;
    std::filesystem::path db;
    try {
        config = load_sync_config(config_file);
        if (!database.empty())
            db = database;
        else if (!data_dir.empty())
            db = std::filesystem::path(data_dir) / "kohtaamo.sqlite";
        else
            db = load_device_config(config_file).database();  // the kiosk's own [store]
    } catch (const ConfigError& e) {
        std::cerr << "kohtaamo-sync: " << e.what() << "\n";
        return 1;
    }

    if (status_only) {
        try {
            SyncStatus s = read_sync_status(db, config.send_abandoned);
            std::cout << "database:        " << db.string() << "\n"
                      << "endpoint:        " << (config.enabled() ? config.endpoint : "(sync off)") << "\n"
                      << "pending:         " << s.pending << "\n"
                      << "rejected:        " << s.rejected;
            if (s.rejected > 0)
                std::cout << " set aside, for " << s.rejected_reasons << (s.rejected_reasons == 1 ? " reason" : " reasons")
                          << " (not sent again until --retry-rejected)";
            std::cout << "\n";
            for (const auto& [reason, n] : read_set_aside_reasons(db)) std::cout << "  " << n << " × " << reason << "\n";
            std::cout
                      << "last success:    " << (s.last_success_at.empty() ? "never" : s.last_success_at) << "\n"
                      << "last error:      " << (s.last_error.empty() ? "-" : s.last_error_at + " " + s.last_error)
                      << "\n"
                      << "token refused:   " << (s.auth_failed ? "yes" : "no") << "\n";
            return 0;
        } catch (const std::exception& e) {
            std::cerr << "kohtaamo-sync: " << e.what() << "\n";
            return 1;
        }
    }
    if (!config.enabled()) {
        std::cerr << "kohtaamo-sync: sync is off: " << config_file << " has no [sync] endpoint\n";
        return 1;
    }

    config.app_version = KOHTAAMO_VERSION;  // its health (PROTOCOL.md)
    Uploader up(db, config);
    if (retry_rejected) {
        try {
            int n = up.retry_rejected();
            if (!quiet) std::cout << "kohtaamo-sync: " << n << " refused response(s) back in the queue\n";
        } catch (const std::exception& e) {
            std::cerr << "kohtaamo-sync: " << e.what() << "\n";
            return 1;
        }
    }
    std::mt19937_64 rng(std::random_device{}());
    int acknowledged = 0;
    SyncReport r;
    for (int failed = 0;;) {
        r = up.sync_once();
        acknowledged += r.acknowledged;
        if (r.complete || r.auth_failed || !r.transient) break;
        if (r.error.find("does not exist") != std::string::npos || r.error.find("schema version") != std::string::npos)
            break;  // no database to send from: retrying will not help
        // A try that moved responses (sent, or set aside) does not count against --attempts:
        // a poison response among many is isolated and set aside within one run.
        failed = r.acknowledged > 0 || r.rejected > 0 ? 1 : failed + 1;
        if (failed >= attempts) break;
        std::int64_t delay = config.backoff_initial.count() << std::min(failed - 1, 20);
        delay = std::min<std::int64_t>(delay, config.backoff_max.count());
        delay = delay - delay / 2 + std::uniform_int_distribution<std::int64_t>(0, delay / 2)(rng);
        if (r.retry_after_ms > 0) delay = std::max(delay, std::min(r.retry_after_ms, config.retry_after_max.count()));
        if (!quiet)
            std::cerr << "kohtaamo-sync: " << r.error << "; trying again in " << (delay + 999) / 1000 << " s\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    SyncStatus s = up.status();
    if (r.auth_failed) {
        std::cerr << "kohtaamo-sync: " << r.error << "\n";
        return 3;
    }
    if (!r.complete) {
        std::cerr << "kohtaamo-sync: " << acknowledged << " response(s) acknowledged, " << r.pending
                  << " still waiting: " << (r.error.empty() ? "not finished" : r.error) << "\n";
        return r.error.find("does not exist") != std::string::npos ? 1 : 2;
    }
    if (s.rejected > 0) {
        std::string reason;
        try {
            const auto reasons = read_set_aside_reasons(db);
            if (!reasons.empty()) reason = reasons.front().first;
        } catch (const std::exception& e) {
            reason = e.what();
        }
        std::cerr << "kohtaamo-sync: " << acknowledged << " response(s) acknowledged; " << s.rejected
                  << " set aside, kept in the kiosk (" << reason
                  << "); --status lists the reasons; fix the cause, then run with --retry-rejected\n";
        return 4;
    }
    if (!quiet) std::cout << "kohtaamo-sync: " << acknowledged << " response(s) acknowledged, nothing pending\n";
    return 0;
}
