#include "clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <date/date.h>

namespace kohtaamo {

std::int64_t Clock::wall_ms() const {
    using namespace std::chrono;
    if (manual_) return offset_ms_;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() + offset_ms_;
}

std::int64_t Clock::mono_ms() const {
    using namespace std::chrono;
    if (manual_) return offset_ms_;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count() + offset_ms_;
}

std::string iso8601_utc(std::int64_t wall_ms) {
    std::time_t secs = static_cast<std::time_t>(wall_ms / 1000);
    int millis = static_cast<int>(wall_ms % 1000);
    if (millis < 0) { millis += 1000; --secs; }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

namespace {
bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}
}  // namespace

std::optional<std::int64_t> parse_iso8601_utc(std::string_view s, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<std::int64_t> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    static constexpr const char* kShape = "not in the form YYYY-MM-DDTHH:MM:SS[.fff]Z (UTC)";
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) ||
        s[16] != ':' || !digits(s, 17, 2, se))
        return fail(kShape);
    std::int64_t ms = 0;
    std::size_t at = 19;
    if (s[at] == '.') {
        std::size_t n = 0;
        int scale = 100;
        for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++n) {
            ms += (s[at] - '0') * scale;
            scale /= 10;
        }
        if (n < 1 || n > 9) return fail(kShape);
    }
    if (at + 1 != s.size() || s[at] != 'Z') return fail(kShape);
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return fail(std::string(s.substr(0, 10)) + " is not a day of the calendar");
    if (h > 23 || mi > 59 || se > 59)
        return fail(std::string(s.substr(11, 8)) + " is not a time of day (00:00:00 to 23:59:59)");
    using namespace std::chrono;
    const auto t = date::sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + milliseconds{ms};
    return t.time_since_epoch().count();
}

}  // namespace kohtaamo
