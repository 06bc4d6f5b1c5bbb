// bundle_store.hpp — the kiosk's survey bundles on disk, <data_dir>/bundles/:
//
//   bundles/<N>/          a verified, checked bundle, complete (its files fsynced, then renamed)
//   bundles/<N>.tmp/      one being staged (deleted at start: an interrupted stage)
//   bundles/current       symbolic link "<N>": the bundle the kiosk runs; none: the installed config
//   bundles/current.new   the next link, before it is renamed over `current` (deleted at start)
//   bundles/last-error    the last refusal, one line (reported on every fetch; cleared by a good bundle)
//
// The apply, as a state machine (the kiosk's side of issue #10):
//
//   RUNNING(v) ── fetch (uploader thread, after its batches): GET /v1/bundle?have=…
//        │            304 → RUNNING(v)
//        ▼ 200
//   VERIFY      open_bundle(): signature with the device's bundle_key, hashes, strict format;
//        │      version > every version held (else not_newer: a replay); fits on disk
//        │      (else no_space). A refusal → last-error, RUNNING(v)
//        ▼
//   STAGE       files written into <N>.tmp/, each fsynced, the folders fsynced
//        ▼
//   CHECK       the kiosk's own loader and media checks on <N>.tmp (as --check-config);
//        │      a ConfigError → <N>.tmp removed, last-error, RUNNING(v)
//        ▼
//   READY(N)    rename <N>.tmp → <N>, fsync bundles/; the UI is told (a queue + wake)
//        ▼ the UI thread, on the welcome screen only (no visitor mid-survey; one half-way
//        │ through finishes on the old surveys, which stay in memory and on disk)
//   SWITCH      symlink current.new → "<N>", rename over current, fsync bundles/;
//        │      the new setup (loaded on the uploader thread) moved in: no restart, no blank frame
//        ▼
//   RUNNING(N)  older bundles but the previous one are deleted at the next stage
//
// kill -9 or a power cut anywhere: <N>.tmp and current.new are deleted at start (old
// bundle); a complete <N> newer than current is switched to at start (no visitor then);
// `current` is only ever replaced by rename(2), so it names the old folder or the new one,
// and a folder named <N> is complete. Never a mix.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace kohtaamo::sync {

class HttpClient;
struct SyncConfig;

class BundleStore {
public:
    explicit BundleStore(std::filesystem::path data_dir);

    // At start: removes what an interrupted apply left (*.tmp, current.new).
    void recover();
    // The version `current` names (0: none, the installed configuration).
    std::int64_t current_version() const;
    // The newest complete bundle folder (0: none); above current_version() when one is READY.
    std::int64_t newest_version() const;
    std::filesystem::path folder(std::int64_t version) const { return root_ / std::to_string(version); }
    const std::filesystem::path& root() const { return root_; }

    // VERIFY, STAGE, CHECK and READY above (one at a time): returns the version now ready. `check` is
    // given the staged folder and throws (ConfigError) when it does not load. Throws
    // BundleError naming the reason.
    std::int64_t stage(std::string_view bytes, const std::string& public_key,
                       const std::function<void(const std::filesystem::path&)>& check);
    // SWITCH: `current` names `version` (a complete folder).
    void switch_to(std::int64_t version);
    // Deletes every complete bundle but the current one and the one before it.
    void prune();

    std::string last_error() const;
    std::int64_t refused_version() const;  // refused for good (not fetched again); 0: none
    void set_last_error(const std::string& error, std::int64_t refused_version);
    void clear_last_error();

private:
    std::filesystem::path root_;
    std::mutex stage_mutex_;  // one stage at a time (the uploader's fetch, a USB stick on the UI thread)
};

// What the uploader does with bundles on each sync (set with Uploader::set_bundles).
struct BundleHooks {
    std::string site;  // this kiosk's site: the collector sends the bundle meant for it
    // The full check of a staged folder (throws ConfigError); the kiosk's main() gives
    // load_kiosk_setup + the media checks.
    std::function<void(const std::filesystem::path&)> check;
    // A bundle is READY (called on the uploader thread; must be quick).
    std::function<void(std::int64_t version)> ready;
    // A line for the log (stderr).
    std::function<void(const std::string&)> log;
};

// One GET /v1/bundle and what follows (VERIFY … READY). Never throws.
void fetch_bundle(HttpClient& http, const SyncConfig& config, BundleStore& store, const BundleHooks& hooks);

// Applies a bundle file from elsewhere (a USB stick) the same way: VERIFY … READY.
// Returns the version ready; throws BundleError (and records it as last-error).
std::int64_t apply_bundle_file(const std::filesystem::path& file, const std::string& public_key, BundleStore& store,
                               const BundleHooks& hooks);

}  // namespace kohtaamo::sync
