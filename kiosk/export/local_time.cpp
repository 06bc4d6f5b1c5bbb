#include "local_time.hpp"

#include <cstdio>
#include <ctime>

#include "export.hpp"

namespace kohtaamo {

static bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

std::optional<std::int64_t> parse_iso8601_utc(std::string_view s) {
    int y, mo, d, h, mi, se, ms = 0;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) ||
        s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    std::size_t at = 19;
    if (s[at] == '.') {
        if (!digits(s, at + 1, 3, ms)) return std::nullopt;
        at += 4;
    }
    if (at + 1 != s.size() || s[at] != 'Z') return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

LocalParts local_parts(std::int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    LocalParts p;
    p.year = tm.tm_year + 1900;
    p.month = tm.tm_mon + 1;
    p.day = tm.tm_mday;
    p.hour = tm.tm_hour;
    p.minute = tm.tm_min;
    char buf[16];
    std::strftime(buf, sizeof buf, "%G %V", &tm);
    std::sscanf(buf, "%d %d", &p.iso_year, &p.iso_week);
    return p;
}

std::optional<std::int64_t> local_midnight(const std::string& date, int add_days) {
    int y, m, d;
    if (date.size() != 10 || !digits(date, 0, 4, y) || date[4] != '-' || !digits(date, 5, 2, m) || date[7] != '-' ||
        !digits(date, 8, 2, d))
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + add_days;  // mktime normalises the day
    tm.tm_isdst = -1;
    std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return static_cast<std::int64_t>(t) * 1000;
}

bool valid_date(const std::string& date) {
    int y, m, d;
    if (date.size() != 10 || !digits(date, 0, 4, y) || date[4] != '-' || !digits(date, 5, 2, m) || date[7] != '-' ||
        !digits(date, 8, 2, d) || m < 1 || m > 12 || d < 1)
        return false;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::optional<DateRange> half_year_range(const std::string& spec) {
    // 2026H1, 2026-H1, 2026h2
    int y;
    if (spec.size() < 6 || !digits(spec, 0, 4, y)) return std::nullopt;
    std::string_view rest = std::string_view(spec).substr(4);
    if (!rest.empty() && rest[0] == '-') rest.remove_prefix(1);
    if (rest.size() != 2 || (rest[0] != 'H' && rest[0] != 'h') || (rest[1] != '1' && rest[1] != '2')) return std::nullopt;
    const std::string year = spec.substr(0, 4);
    if (rest[1] == '1') return DateRange{year + "-01-01", year + "-06-30"};
    return DateRange{year + "-07-01", year + "-12-31"};
}

std::string half_year_of(std::int64_t now_ms, int offset) {
    LocalParts p = local_parts(now_ms);
    int index = p.year * 2 + (p.month <= 6 ? 0 : 1) + offset;
    return std::to_string(index / 2) + (index % 2 == 0 ? "H1" : "H2");
}

}  // namespace kohtaamo
