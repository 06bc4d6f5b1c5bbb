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

PinLock::Result PinLock::verify(const std::string& pin, std::int64_t now) {
    if (!configured() || locked_for(now) > 0) return Result::Locked;
    if (sodium_init() < 0) return Result::Locked;
    if (crypto_pwhash_str_verify(hash_.c_str(), pin.data(), pin.size()) == 0) {
        failures_ = 0;
        return Result::Ok;
    }
    ++failures_;
    if (failures_ >= kFreeTries) {
        const int doublings = std::min(failures_ - kFreeTries, 20);
        locked_until_ = now + std::min(kMaxLockMs, kFirstLockMs << doublings);
    }
    return Result::Wrong;
}

std::int64_t PinLock::locked_for(std::int64_t now) const { return std::max<std::int64_t>(0, locked_until_ - now); }

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
