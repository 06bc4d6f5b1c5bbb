// coordinator.hpp — what the coordinator's screen needs from the core: the PIN lock and
// the day's numbers. No UI here.
//
// PIN lock state machine (PinLock):
//
//   Open ──verify(right)──► Open            (failures reset to 0)
//   Open ──verify(wrong)──► Open            (failures 1, 2)
//   Open ──verify(wrong, 3rd in a row)──► Locked for 30 s
//   Locked ──time passes──► Open; the next wrong PIN locks again, each time twice as
//                           long (30 s, 60 s, 120 s … at most 1 h); a right PIN resets.
//   While Locked verify() refuses without checking the PIN.
//
// With a database (the kiosk's store), the failures and the end of the lock are kept in
// its pin_lock table (schema step 6), written at each wrong PIN: a restart (pulling the
// plug) neither resets the count nor opens the lock. Times are the wall clock; a lock
// that ends further ahead than kMaxLockMs (the clock was set back) is cut to kMaxLockMs.
// If the row cannot be written (a full disk) the lock still holds in memory.
//
// The PIN may be 4 to 12 digits. Each try costs about 0.1 s (Argon2id), three free tries
// then 30 s doubling to 1 h: an online guesser gets about 30 tries a day. Offline (a thief
// who reads the hash) the cost per guess is the hash's alone: 10^4 PINs of 4 digits fall
// in minutes on one core, 10^6 of 6 digits take days. Hence 6 or more digits, and the hash
// only in the device file (0600) — docs/security.md.
//
// The PIN is never stored: the config holds an Argon2id hash (libsodium crypto_pwhash_str,
// made by `kohtaamo --hash-pin`), and verification is deliberately slow.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;

namespace kohtaamo {

// Argon2id hash of `pin` for the config (crypto_pwhash_str, interactive limits).
std::string hash_pin(const std::string& pin);

// The PIN of the bundled config (config/kiosk.toml), public in this repository.
inline constexpr const char* kDemoPin = "2580";
// Whether `pin_hash` is a hash of kDemoPin (one Argon2id verification, ~0.1 s).
bool is_demo_pin(const std::string& pin_hash);
// What the log and the coordinator screen say about a demo PIN, with how to set a real one.
std::string demo_pin_warning();

class PinLock {
public:
    static constexpr int kFreeTries = 3;
    static constexpr std::int64_t kFirstLockMs = 30'000;
    static constexpr std::int64_t kMaxLockMs = 3'600'000;

    explicit PinLock(std::string pin_hash, sqlite3* db = nullptr);
    bool configured() const { return !hash_.empty(); }

    enum class Result { Ok, Wrong, Locked };
    Result verify(const std::string& pin, std::int64_t now_mono_ms);
    // Milliseconds until the lock opens (0 when open).
    std::int64_t locked_for(std::int64_t now_mono_ms) const;
    int failures() const { return failures_; }

private:
    void save();
    std::string hash_;
    sqlite3* db_ = nullptr;
    int failures_ = 0;
    std::int64_t locked_until_ = 0;
};

struct SurveyCounts {
    std::string survey_id;
    int today = 0;      // responses started today (the device's local day)
    int total = 0;
    int abandoned = 0;  // of total
    int flagged = 0;    // of total (the mischief rule)
};

struct CoordinatorStats {
    std::vector<SurveyCounts> surveys;
    int pending_sync = 0;         // finished responses waiting to go (not acknowledged, not set aside)
    int set_aside = 0;            // responses set aside: refused or failed on alone, not sent again
    // Why, the most frequent reason first, with how many responses each (sync/README.md).
    std::vector<std::pair<std::string, int>> set_aside_reasons;
    std::string sync_state;       // the uploader's last state ("" = never ran / sync off)
    std::string last_success_at;  // ISO 8601 UTC
    std::string last_error;
    bool auth_failed = false;
    // Year-clock wishes per month, per survey id: the wish-MM answer rows (one per wished
    // activity) of finished responses, complete or abandoned, not flagged by the mischief
    // rule. wishes["yearclock"][0] is January.
    std::map<std::string, std::array<int, 12>> wishes;
};

// Reads the numbers from the kiosk's database (the uploader writes its state there too).
// `survey_order` lists the configured surveys first, in order; others follow.
CoordinatorStats read_stats(sqlite3* db, std::int64_t now_wall_ms, const std::vector<std::string>& survey_order);

}  // namespace kohtaamo
