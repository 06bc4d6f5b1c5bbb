#include "local_time.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

namespace kohtaamo {

namespace {

using namespace std::chrono;

// The zone TZ names, or nullptr when it names none of tzdata's.
const date::time_zone* zone_named(std::string_view tz) {
    if (!tz.empty() && tz.front() == ':') tz.remove_prefix(1);
    if (const auto at = tz.rfind("zoneinfo/"); !tz.empty() && tz.front() == '/' && at != std::string_view::npos)
        tz.remove_prefix(at + 9);
    if (tz.empty()) tz = "UTC";  // glibc: TZ="" is UTC
    try {
        return date::locate_zone(tz);
    } catch (const std::exception&) {
        return nullptr;
    }
}

const date::time_zone* find_zone(const char* tz) {
    if (tz) {
        if (const date::time_zone* z = zone_named(tz)) return z;
        return zone_named("UTC");  // a name tzdata does not know: the C library says UTC too
    }
    try {
        return date::current_zone();
    } catch (const std::exception&) {
        return zone_named("UTC");  // /etc/localtime names no zone
    }
}

// The zone for this thread, found again only when TZ changes (tests set it; a kiosk never
// does), so that an export of a million rows looks it up once.
const date::time_zone* zone() {
    thread_local std::string seen_tz;
    thread_local bool seen_set = false;
    thread_local const date::time_zone* cached = nullptr;
    const char* tz = std::getenv("TZ");
    if (!cached || seen_set != (tz != nullptr) || (tz && seen_tz != tz)) {
        cached = find_zone(tz);
        seen_set = tz != nullptr;
        seen_tz = tz ? tz : "";
        if (!cached) throw std::runtime_error("the system's tzdata has no UTC zone (is the tzdata package installed?)");
    }
    return cached;
}

std::optional<date::year_month_day> parse_date(std::string_view s) {
    auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9'; };
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
        if (!digit(i)) return std::nullopt;
    auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    const date::year_month_day ymd{date::year{num(0, 4)}, date::month{static_cast<unsigned>(num(5, 2))},
                                   date::day{static_cast<unsigned>(num(8, 2))}};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

date::local_time<milliseconds> to_local(std::int64_t ms) {
    return zone()->to_local(date::sys_time<milliseconds>{milliseconds{ms}});
}

std::int64_t to_sys_ms(date::local_days day) {
    // choose::earliest: a midnight that does not exist (clocks moved forward at 00:00) is
    // the moment the day begins; one that exists twice is the first.
    return duration_cast<milliseconds>(zone()->to_sys(day, date::choose::earliest).time_since_epoch()).count();
}

}  // namespace

LocalParts local_parts(std::int64_t ms) {
    const auto lt = to_local(ms);
    const auto day = date::floor<date::days>(lt);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<milliseconds> hms{lt - day};
    const iso_week::year_weeknum_weekday week{day};
    LocalParts p;
    p.year = static_cast<int>(ymd.year());
    p.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    p.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    p.hour = static_cast<int>(hms.hours().count());
    p.minute = static_cast<int>(hms.minutes().count());
    p.iso_year = static_cast<int>(week.year());
    p.iso_week = static_cast<int>(static_cast<unsigned>(week.weeknum()));
    return p;
}

std::optional<std::int64_t> local_midnight(std::string_view date, int add_days) {
    const auto ymd = parse_date(date);
    if (!ymd) return std::nullopt;
    return to_sys_ms(date::local_days{*ymd} + date::days{add_days});
}

std::int64_t local_wall_ms(std::int64_t ms) { return to_local(ms).time_since_epoch().count(); }

std::int64_t local_day_start(std::int64_t ms) { return to_sys_ms(date::floor<date::days>(to_local(ms))); }

std::string local_date(std::int64_t ms) {
    const LocalParts p = local_parts(ms);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", p.year, p.month, p.day);
    return buf;
}

bool valid_date(std::string_view date) { return parse_date(date).has_value(); }

std::string local_zone_name() { return std::string(zone()->name()); }

}  // namespace kohtaamo
