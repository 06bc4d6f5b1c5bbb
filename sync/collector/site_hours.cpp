// site_hours.cpp — a site's expected hours and the silent rule (site_hours.hpp).
#include "site_hours.hpp"

#include <array>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include "local_time.hpp"

namespace kohtaamo::sync {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

int day_of(std::string_view name, const std::string& piece) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < kDays.size(); ++i)
        if (lower == kDays[i]) return static_cast<int>(i);
    throw std::invalid_argument("\"" + piece + "\": \"" + std::string(name) +
                                "\" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
}

// "09", "9", "09:30", "24" → minutes of the day
int minute_of(std::string_view t, const std::string& piece) {
    int h = 0, m = 0;
    std::size_t i = 0;
    auto digits = [&](int& into) {
        const std::size_t start = i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])) && i - start < 2) into = into * 10 + (t[i++] - '0');
        return i > start;
    };
    bool ok = digits(h);
    if (ok && i < t.size() && t[i] == ':') {
        ++i;
        ok = digits(m) && i - t.find(':') == 3;
    }
    if (!ok || i != t.size() || h > 24 || m > 59 || (h == 24 && m != 0))
        throw std::invalid_argument("\"" + piece + "\": \"" + std::string(t) + "\" is not a time (HH or HH:MM, 00-24)");
    return h * 60 + m;
}

}  // namespace

bool OpenHours::open_at(int weekday, int minute) const {
    for (const Piece& p : pieces)
        if ((p.days >> weekday & 1u) && minute >= p.from_minute && minute < p.to_minute) return true;
    return false;
}

OpenHours parse_open_hours(const std::string& text) {
    const std::string_view all = trim(text);
    if (all == "always") return OpenHours::always();
    if (all.empty()) throw std::invalid_argument("is empty; write e.g. \"Mon-Fri 09-17\" or \"always\"");
    OpenHours out;
    std::string_view rest = all;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view piece_view = trim(rest.substr(0, comma));
        const std::string piece(piece_view);
        const auto space = piece_view.find(' ');
        if (space == std::string_view::npos)
            throw std::invalid_argument("\"" + piece + "\": expected DAYS HH-HH, e.g. \"Mon-Fri 09-17\"");
        const std::string_view days = piece_view.substr(0, space), times = trim(piece_view.substr(space + 1));
        OpenHours::Piece p;
        const auto dash = days.find('-');
        const int first = day_of(days.substr(0, dash), piece);
        const int last = dash == std::string_view::npos ? first : day_of(days.substr(dash + 1), piece);
        for (int d = first;; d = (d + 1) % 7) {
            p.days |= 1u << d;
            if (d == last) break;
        }
        const auto tdash = times.find('-');
        if (tdash == std::string_view::npos)
            throw std::invalid_argument("\"" + piece + "\": expected the hours as HH-HH, e.g. 09-17");
        p.from_minute = minute_of(trim(times.substr(0, tdash)), piece);
        p.to_minute = minute_of(trim(times.substr(tdash + 1)), piece);
        if (p.to_minute <= p.from_minute)
            throw std::invalid_argument("\"" + piece + "\": the hours must end after they begin");
        out.pieces.push_back(p);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return out;
}

std::int64_t open_minutes_between(const OpenHours& hours, std::int64_t from_ms, std::int64_t to_ms,
                                  std::int64_t enough) {
    constexpr std::int64_t minute = 60'000;
    std::int64_t count = 0;
    // Whole minutes after the one it was heard in; at most a fortnight is looked at (a
    // site open at all is open for more than `enough` minutes in that time).
    const std::int64_t stop = std::min(to_ms, from_ms + 14 * 24 * 60 * minute);
    for (std::int64_t t = (from_ms / minute + 1) * minute; t + minute <= stop && count < enough; t += minute) {
        const LocalParts p = local_parts(t);
        // weekday: days since 1970-01-01 (a Thursday) of the local date
        const std::int64_t local_days = (local_wall_ms(t) / minute - p.hour * 60 - p.minute) / (24 * 60);
        const int weekday = static_cast<int>(((local_days + 3) % 7 + 7) % 7);
        if (hours.open_at(weekday, p.hour * 60 + p.minute)) ++count;
    }
    if (stop < to_ms && count < enough && !hours.pieces.empty()) count = enough;
    return count;
}

}  // namespace kohtaamo::sync
