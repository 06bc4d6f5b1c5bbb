// local_time.hpp — stored timestamps are ISO 8601 UTC text; people think in local dates,
// weeks, months and hours. These helpers convert between the two with the C library's
// time zone (TZ; Europe/Helsinki on a Finnish kiosk), so that a response given at 00:30 on
// New Year's Day in Helsinki counts in the new year's H1.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kohtaamo {

// "2026-11-25T19:55:49.123Z" (milliseconds optional) → ms since the epoch.
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text);

struct LocalParts {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0;
    int iso_year = 0, iso_week = 0;  // ISO 8601 week (Finnish calendars number weeks so)
};
LocalParts local_parts(std::int64_t ms);

// Local midnight at the start of `date` ("YYYY-MM-DD") plus `add_days`, as ms since the epoch.
std::optional<std::int64_t> local_midnight(const std::string& date, int add_days = 0);

}  // namespace kohtaamo
