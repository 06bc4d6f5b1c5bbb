// local_time.hpp — stored timestamps are ISO 8601 UTC text; people think in local dates,
// weeks, months and hours. These helpers convert between the two in the machine's time
// zone, from the system's tzdata (/usr/share/zoneinfo) through Debian's
// libhowardhinnant-date (date/tz.h, libdate-tz), so that a response given at 00:30 on
// 1 July in Helsinki counts in H2 although its UTC time is still 30 June.
//
// The zone, looked up once per value of TZ:
//   1. TZ naming a zone ("Europe/Helsinki", ":Europe/Helsinki", or a path ending in
//      zoneinfo/Europe/Helsinki); TZ="" or TZ="UTC" is UTC;
//   2. otherwise the machine's zone (the /etc/localtime link, else /etc/timezone);
//   3. otherwise (TZ names no zone of tzdata, e.g. a POSIX rule string; or the machine
//      names none) UTC, as the C library does for a zone it does not know.
// A Finnish kiosk runs on Europe/Helsinki: `timedatectl set-timezone Europe/Helsinki`.
//
// The calendar (days of a month, leap years, ISO weeks) is date.h's, never hand-written.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kohtaamo {

struct LocalParts {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0;
    int iso_year = 0, iso_week = 0;  // ISO 8601 week (Finnish calendars number weeks so)
};
LocalParts local_parts(std::int64_t ms);

// Local midnight at the start of `date` ("YYYY-MM-DD") plus `add_days`, as ms since the
// epoch; nullopt when `date` is not a real calendar date. On a day that has no midnight
// (a zone that moves its clocks at 00:00) the first moment of the day.
std::optional<std::int64_t> local_midnight(std::string_view date, int add_days = 0);
// The start of the local day `ms` falls on.
std::int64_t local_day_start(std::int64_t ms);
// "2026-11-25": the local date `ms` falls on.
std::string local_date(std::int64_t ms);

// The local wall-clock time of `ms` as milliseconds since 1970-01-01 00:00 local time (UTC
// plus the zone's offset at that moment): what a spreadsheet's date-time cell holds.
std::int64_t local_wall_ms(std::int64_t ms);

// True for a real calendar date written YYYY-MM-DD (2026-02-29 is not; 2028-02-29 is).
bool valid_date(std::string_view date);

// The zone's name as used ("Europe/Helsinki", "UTC"): for diagnostics and tests.
std::string local_zone_name();

}  // namespace kohtaamo
