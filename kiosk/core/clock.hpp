// clock.hpp — the kiosk's one source of time.
//
// Wall time (for the timestamps stored with answers) and monotonic time (for the idle
// timeout and the thank-you screen) both come from here, so that a replay script can
// `advance` the kiosk's clock without sleeping. Nothing else in the core reads the system
// clock.
#pragma once
#include <cstdint>
#include <string>

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

}  // namespace kohtaamo
