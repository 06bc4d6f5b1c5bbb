// site_hours.hpp — when a meeting point expects its kiosks to be heard from, and whether a
// kiosk is silent (issue #14, the web page's fleet; docs/collector-deploy.md "Sites").
//
// A site's hours are written as in collector.toml's [sites.ID] hours: comma-separated
// pieces "DAYS HH-HH" or "DAYS HH:MM-HH:MM", DAYS one day or a range of Mon Tue Wed Thu
// Fri Sat Sun (a range may wrap: Sat-Mon), e.g. "Mon-Fri 09-17, Sat 10-14"; "always"
// (the default) is every day 00-24. Times are the collector's local time (its TZ).
//
// A kiosk is silent when more than `silent_after_minutes` of its site's expected hours
// have passed since it was last heard from: a kiosk switched off over the weekend at a
// site open Mon-Fri is not silent on Sunday, and is on Monday an hour after opening.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kohtaamo::sync {

struct OpenHours {
    struct Piece {
        unsigned days = 0;  // bit 0 Monday … bit 6 Sunday
        int from_minute = 0, to_minute = 24 * 60;
    };
    std::vector<Piece> pieces;
    // Every day, all day.
    static OpenHours always() { return OpenHours{{Piece{0x7f, 0, 24 * 60}}}; }
    // Whether the site is open at that local weekday (0 Monday) and minute of the day.
    bool open_at(int weekday, int minute) const;
};

// Parses the hours text; throws std::invalid_argument saying what is wrong.
OpenHours parse_open_hours(const std::string& text);

// Minutes of expected hours between `from_ms` and `to_ms` (wall clock), counted up to
// `enough` (the count stops there).
std::int64_t open_minutes_between(const OpenHours& hours, std::int64_t from_ms, std::int64_t to_ms,
                                  std::int64_t enough);

inline bool is_silent(const OpenHours& hours, std::int64_t heard_ms, std::int64_t now_ms, int silent_after_minutes) {
    return open_minutes_between(hours, heard_ms, now_ms, silent_after_minutes + 1) > silent_after_minutes;
}

}  // namespace kohtaamo::sync
