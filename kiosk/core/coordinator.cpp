#include "coordinator.hpp"

#include <algorithm>
#include <stdexcept>

#include <sodium.h>

#include "clock.hpp"
#include "local_time.hpp"
#include "sqlite.hpp"
#include "yearclock.hpp"

namespace kohtaamo {

std::string hash_pin(const std::string& pin) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, pin.data(), pin.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        throw std::runtime_error("out of memory while hashing the PIN");
    return out;
}

bool is_demo_pin(const std::string& pin_hash) {
    if (pin_hash.empty() || sodium_init() < 0) return false;
    return crypto_pwhash_str_verify(pin_hash.c_str(), kDemoPin, std::char_traits<char>::length(kDemoPin)) == 0;
}

std::string demo_pin_warning() {
    return std::string("DEMO PIN: this kiosk opens its coordinator screen with the bundled PIN ") + kDemoPin +
           ", which anyone can read. Set your own (6 digits or more): echo NNNNNN | kohtaamo --hash-pin, into "
           "[coordinator] pin_hash of the device file (docs/security.md)";
}

PinLock::PinLock(std::string pin_hash, sqlite3* db) : hash_(std::move(pin_hash)), db_(db) {
    if (!db_) return;
    try {
        Statement s(db_, "SELECT failures, locked_until_ms FROM pin_lock WHERE id = 1");
        if (s.step()) {
            failures_ = static_cast<int>(s.integer(0));
            locked_until_ = s.integer(1);
        }
    } catch (const SqliteError&) {
        // An older file without the table (opened read-only elsewhere): the lock in memory.
    }
}

void PinLock::save() {
    if (!db_) return;
    try {
        Statement s(db_,
                    "INSERT INTO pin_lock(id, failures, locked_until_ms) VALUES (1, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET failures = excluded.failures, locked_until_ms = excluded.locked_until_ms");
        s.bind(1, failures_).bind(2, locked_until_).run();
    } catch (const SqliteError&) {
        // A full disk: the lock holds in memory until the kiosk restarts.
    }
}

PinLock::Result PinLock::verify(const std::string& pin, std::int64_t now) {
    if (!configured() || locked_for(now) > 0) return Result::Locked;
    if (sodium_init() < 0) return Result::Locked;
    // The failure is counted (and kept) before the slow check, so pulling the plug while
    // it runs does not make a free try.
    ++failures_;
    save();
    if (crypto_pwhash_str_verify(hash_.c_str(), pin.data(), pin.size()) == 0) {
        failures_ = 0;
        locked_until_ = 0;
        save();
        return Result::Ok;
    }
    if (failures_ >= kFreeTries) {
        const int doublings = std::min(failures_ - kFreeTries, 20);
        locked_until_ = now + std::min(kMaxLockMs, kFirstLockMs << doublings);
        save();
    }
    return Result::Wrong;
}

std::int64_t PinLock::locked_for(std::int64_t now) const {
    return std::clamp<std::int64_t>(locked_until_ - now, 0, kMaxLockMs);
}

CoordinatorStats read_stats(sqlite3* db, std::int64_t now_wall_ms, const std::vector<std::string>& survey_order) {
    CoordinatorStats st;
    Statement counts(db,
                     "SELECT survey_id, sum(started_at >= ?), count(*), sum(status = 'abandoned'), sum(flagged)"
                     " FROM responses WHERE status != 'in_progress' GROUP BY survey_id");
    // Local midnight as ISO 8601 UTC text: stored timestamps are UTC text, which compares in time order.
    counts.bind(1, iso8601_utc(local_day_start(now_wall_ms)));
    for (const auto& id : survey_order) st.surveys.push_back(SurveyCounts{id});
    while (counts.step()) {
        SurveyCounts c{counts.text(0), static_cast<int>(counts.integer(1)), static_cast<int>(counts.integer(2)),
                       static_cast<int>(counts.integer(3)), static_cast<int>(counts.integer(4))};
        auto it = std::find_if(st.surveys.begin(), st.surveys.end(),
                               [&](const SurveyCounts& s) { return s.survey_id == c.survey_id; });
        if (it != st.surveys.end()) *it = c; else st.surveys.push_back(c);
    }
    Statement wishes(db,
                     "SELECT r.survey_id, a.question_id, count(*) FROM answers a JOIN responses r ON r.id = a.response_id"
                     " WHERE r.status != 'in_progress' AND r.flagged = 0 AND a.question_id GLOB 'wish-[01][0-9]'"
                     " GROUP BY 1, 2");
    while (wishes.step())
        if (const int month = wish_month(wishes.text(1)))
            st.wishes[wishes.text(0)][static_cast<std::size_t>(month - 1)] += static_cast<int>(wishes.integer(2));
    // The sync columns and table exist from schema step 3 on (sync/uploader.cpp).
    Statement pending(db,
                      "SELECT count(*) FROM responses WHERE status != 'in_progress' AND synced_at IS NULL"
                      " AND sync_rejected IS NULL");
    if (pending.step()) st.pending_sync = static_cast<int>(pending.integer(0));
    Statement aside(db,
                    "SELECT sync_rejected, count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NOT NULL"
                    " GROUP BY 1 ORDER BY 2 DESC, 1");
    while (aside.step()) {
        st.set_aside_reasons.emplace_back(aside.text(0), static_cast<int>(aside.integer(1)));
        st.set_aside += static_cast<int>(aside.integer(1));
    }
    Statement state(db, "SELECT key, value FROM sync_state");
    while (state.step()) {
        const std::string key = state.text(0);
        if (key == "state") st.sync_state = state.text(1);
        else if (key == "last_success_at") st.last_success_at = state.text(1);
        else if (key == "last_error") st.last_error = state.text(1);
        else if (key == "auth_failed") st.auth_failed = state.text(1) == "1" || state.text(1) == "true";
    }
    return st;
}

}  // namespace kohtaamo
