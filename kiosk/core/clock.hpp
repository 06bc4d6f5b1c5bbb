// clock.hpp — the kiosk's one source of time.
//
// Wall time (for the timestamps stored with answers) and monotonic time (for the idle
// timeout and the thank-you screen) both come from here, so that a replay script can
// `advance` the kiosk's clock without sleeping. Nothing else in the core reads the system
// clock.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kohtaamo {

class Clock {
public:
    Clock() = default;
    // A clock that stands still until advance()d: for tests that must be exact to the ms.
    static Clock manual(std::int64_t wall_start_ms) {
        Clock c;
        c.manual_ = true;
        c.offset_ms_ = wall_start_ms;
        return c;
    }

    // Milliseconds since the Unix epoch, plus any advance().
    std::int64_t wall_ms() const;
    // Milliseconds on a monotonic clock, plus any advance().
    std::int64_t mono_ms() const;
    // Moves both clocks forward; used by replay scripts and tests.
    void advance(std::int64_t ms) { offset_ms_ += ms; }

private:
    bool manual_ = false;
    std::int64_t offset_ms_ = 0;
};

// "2026-11-25T19:55:49.123Z" — ISO 8601, UTC, millisecond precision.
std::string iso8601_utc(std::int64_t wall_ms);

// The one reader of stored and sent timestamps: exactly YYYY-MM-DDTHH:MM:SS[.f]Z with 1-9
// fraction digits (cut to milliseconds), a real day of the (proleptic Gregorian) calendar
// and a time of day 00:00:00-23:59:59 — no leap second 60 (Unix time, which the kiosk's
// clock counts, has none), no 24:00, no offsets other than Z. Milliseconds since the
// epoch, or nullopt with the reason in `why` ("2026-02-30 is not a day of the calendar").
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text, std::string* why = nullptr);

}  // namespace kohtaamo
