#include "clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

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

}  // namespace kohtaamo
