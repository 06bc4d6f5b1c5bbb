// Time and text as the core reads them: the one ISO 8601 UTC reader (calendar-valid days and
// times only), local dates, weeks and midnights in Europe/Helsinki across its DST changes
// and half-year edges (the system's tzdata through libdate-tz), which zone TZ selects, and
// well-formed UTF-8 with the control characters the sync protocol refuses.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "clock.hpp"
#include "local_time.hpp"
#include "utf8.hpp"

using namespace kohtaamo;

namespace {

// Sets TZ for one test case and puts the old value back.
class ZoneFor {
public:
    explicit ZoneFor(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        had_ = std::getenv("TZ") != nullptr;
        if (tz)
            ::setenv("TZ", tz, 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    ~ZoneFor() {
        if (had_)
            ::setenv("TZ", old_.c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }

private:
    std::string old_;
    bool had_ = false;
};

std::int64_t utc(const char* text) {
    auto ms = parse_iso8601_utc(text);
    REQUIRE(ms);
    return *ms;
}

std::string why_not(const char* text) {
    std::string why;
    CHECK_FALSE(parse_iso8601_utc(text, &why));
    return why;
}

}  // namespace

TEST_CASE("time: ISO 8601 UTC times are read exactly, and impossible days and times are refused with the reason") {
    CHECK(utc("1970-01-01T00:00:00Z") == 0);
    CHECK(utc("2026-11-25T19:55:49.123Z") == 1'795'636'549'123);
    CHECK(iso8601_utc(utc("2026-11-25T19:55:49.123Z")) == "2026-11-25T19:55:49.123Z");
    CHECK(utc("2026-11-25T19:55:49.1Z") == 1'795'636'549'100);
    CHECK(utc("2026-11-25T19:55:49.123456789Z") == 1'795'636'549'123);  // cut to milliseconds
    CHECK(utc("2028-02-29T12:00:00Z") - utc("2028-02-28T12:00:00Z") == 86'400'000);  // a leap year
    CHECK(utc("2000-02-29T00:00:00Z") > 0);                                           // divisible by 400
    CHECK(utc("1969-12-31T23:59:59.999Z") == -1);

    CHECK(why_not("2026-02-30T10:00:00Z") == "2026-02-30 is not a day of the calendar");
    CHECK(why_not("2026-02-29T10:00:00Z") == "2026-02-29 is not a day of the calendar");
    CHECK(why_not("1900-02-29T10:00:00Z") == "1900-02-29 is not a day of the calendar");  // divisible by 100
    CHECK(why_not("2026-13-01T10:00:00Z") == "2026-13-01 is not a day of the calendar");
    CHECK(why_not("2026-00-10T10:00:00Z") == "2026-00-10 is not a day of the calendar");
    CHECK(why_not("2026-04-31T10:00:00Z") == "2026-04-31 is not a day of the calendar");
    CHECK(why_not("2026-01-00T10:00:00Z") == "2026-01-00 is not a day of the calendar");
    CHECK(why_not("2026-01-01T24:00:00Z") == "24:00:00 is not a time of day (00:00:00 to 23:59:59)");
    CHECK(why_not("2026-01-01T23:60:00Z") == "23:60:00 is not a time of day (00:00:00 to 23:59:59)");
    CHECK(why_not("2026-12-31T23:59:60Z") == "23:59:60 is not a time of day (00:00:00 to 23:59:59)");
    CHECK(why_not("2026-01-01T24:00:60Z") == "24:00:60 is not a time of day (00:00:00 to 23:59:59)");
    for (const char* shape : {"2026-01-01T10:00:00", "2026-01-01T10:00:00z", "2026-01-01 10:00:00Z",
                              "2026-01-01T10:00:00+02:00", "2026-01-01T10:00Z", "26-01-01T10:00:00Z",
                              "2026-1-01T10:00:00Z", "2026-01-01T10:00:00.Z", "2026-01-01T10:00:00.1234567890Z",
                              "2026-01-01T10:00:00.12aZ", "+2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z ", ""}) {
        INFO(shape);
        CHECK_THAT(why_not(shape), Catch::StartsWith("not in the form YYYY-MM-DDTHH:MM:SS"));
    }
}

TEST_CASE("time: local dates, hours and weeks in Helsinki across the spring and autumn clock changes") {
    ZoneFor zone("Europe/Helsinki");
    CHECK(local_zone_name() == "Europe/Helsinki");
    // Spring: 29 March 2026, 03:00 EET becomes 04:00 EEST (at 01:00 UTC).
    LocalParts before = local_parts(utc("2026-03-29T00:59:59.999Z"));
    CHECK(before.hour == 2);
    CHECK(before.minute == 59);
    LocalParts after = local_parts(utc("2026-03-29T01:00:00Z"));
    CHECK(after.hour == 4);
    CHECK(after.minute == 0);
    CHECK(*local_midnight("2026-03-29") == utc("2026-03-28T22:00:00Z"));  // UTC+2
    CHECK(*local_midnight("2026-03-30") == utc("2026-03-29T21:00:00Z"));  // UTC+3
    CHECK(*local_midnight("2026-03-29", 1) - *local_midnight("2026-03-29") == 23 * 3'600'000LL);
    // Autumn: 25 October 2026, 04:00 EEST becomes 03:00 EET (at 01:00 UTC): 03:xx twice.
    CHECK(local_parts(utc("2026-10-25T00:30:00Z")).hour == 3);
    CHECK(local_parts(utc("2026-10-25T01:30:00Z")).hour == 3);
    CHECK(*local_midnight("2026-10-25", 1) - *local_midnight("2026-10-25") == 25 * 3'600'000LL);
    CHECK(local_day_start(utc("2026-10-25T21:59:59Z")) == utc("2026-10-24T21:00:00Z"));
    CHECK(local_day_start(utc("2026-10-25T22:00:00Z")) == utc("2026-10-25T22:00:00Z"));
    // The calendar days around midnight UTC.
    CHECK(local_date(utc("2026-07-31T20:59:59Z")) == "2026-07-31");
    CHECK(local_date(utc("2026-07-31T21:00:00Z")) == "2026-08-01");
    // ISO weeks: 1 January 2026 is a Thursday (week 1); 1 January 2027 a Friday (week 53
    // of 2026); Monday 30 December 2024 is in week 1 of 2025.
    CHECK(local_parts(utc("2026-01-01T10:00:00Z")).iso_week == 1);
    LocalParts y27 = local_parts(utc("2027-01-01T10:00:00Z"));
    CHECK(y27.iso_year == 2026);
    CHECK(y27.iso_week == 53);
    LocalParts d24 = local_parts(utc("2024-12-30T10:00:00Z"));
    CHECK(d24.iso_year == 2025);
    CHECK(d24.iso_week == 1);
    CHECK_FALSE(local_midnight("2026-02-30"));
    CHECK_FALSE(local_midnight("2026-2-3"));
}

TEST_CASE("time: half-year edges fall on local midnight in Helsinki, not on UTC's") {
    ZoneFor zone("Europe/Helsinki");
    // 1 July 00:00 EEST is 30 June 21:00 UTC.
    CHECK(*local_midnight("2026-07-01") == utc("2026-06-30T21:00:00Z"));
    CHECK(local_parts(utc("2026-06-30T20:59:59.999Z")).month == 6);
    CHECK(local_parts(utc("2026-06-30T21:00:00Z")).month == 7);
    // 1 January 00:00 EET is 31 December 22:00 UTC.
    CHECK(*local_midnight("2026-01-01") == utc("2025-12-31T22:00:00Z"));
    LocalParts ny = local_parts(utc("2025-12-31T22:00:00Z"));
    CHECK(ny.year == 2026);
    CHECK(ny.month == 1);
    CHECK(ny.day == 1);
    CHECK(local_parts(utc("2025-12-31T21:59:59.999Z")).year == 2025);
    // The last day of H1 ends where H2 begins.
    CHECK(*local_midnight("2026-06-30", 1) == *local_midnight("2026-07-01"));
    CHECK(*local_midnight("2026-12-31", 1) == *local_midnight("2027-01-01"));
}

TEST_CASE("time: TZ selects the zone by name, with a colon or as a zoneinfo path, and an unknown one is UTC") {
    {
        ZoneFor zone(":Europe/Helsinki");
        CHECK(local_zone_name() == "Europe/Helsinki");
    }
    {
        ZoneFor zone("/usr/share/zoneinfo/Europe/Stockholm");
        CHECK(local_zone_name() == "Europe/Stockholm");
        CHECK(local_parts(utc("2026-01-15T23:30:00Z")).hour == 0);  // UTC+1
    }
    {
        ZoneFor zone("Nowhere/Atlantis");
        CHECK(local_parts(utc("2026-01-15T23:30:00Z")).hour == 23);
    }
    {
        ZoneFor zone("");
        CHECK(local_parts(utc("2026-01-15T23:30:00Z")).hour == 23);
    }
    {
        // No TZ: the machine's own zone, as /etc/localtime names it.
        ZoneFor zone(nullptr);
        std::error_code ec;
        const auto link = std::filesystem::read_symlink("/etc/localtime", ec).string();
        const auto at = link.rfind("zoneinfo/");
        if (!ec && at != std::string::npos) {
            const std::string expected = link.substr(at + 9);
            // tzdata may name the same zone by a link (Etc/UTC and UTC are one zone).
            CHECK((local_zone_name() == expected || local_zone_name() == "Etc/" + expected ||
                   "Etc/" + local_zone_name() == expected));
        }
    }
}

TEST_CASE("time: valid_date is the calendar's") {
    CHECK(valid_date("2026-01-31"));
    CHECK(valid_date("2028-02-29"));
    CHECK_FALSE(valid_date("2026-02-29"));
    CHECK_FALSE(valid_date("2026-06-31"));
    CHECK_FALSE(valid_date("2026-13-01"));
    CHECK_FALSE(valid_date("2026-01-1"));
    CHECK_FALSE(valid_date("2026/01/01"));
}

TEST_CASE("text: only well-formed UTF-8 passes, and control characters are found whatever their form") {
    CHECK_FALSE(utf8_invalid_at("aå€😀"));
    CHECK(utf8_invalid_at("ok\xff") == 2u);
    CHECK(utf8_invalid_at("\xc0\xaf") == 0u);          // overlong "/"
    CHECK(utf8_invalid_at("\xe0\x80\xaf") == 0u);      // overlong, three bytes
    CHECK(utf8_invalid_at("a\xed\xa0\x80") == 1u);     // U+D800, a surrogate
    CHECK(utf8_invalid_at("\xf4\x90\x80\x80") == 0u);  // above U+10FFFF
    CHECK(utf8_invalid_at("\xe2\x82") == 0u);          // cut off
    CHECK(utf8_invalid_at("\x80") == 0u);              // a lone continuation byte
    CHECK_FALSE(utf8_decode("\xed\xa0\x80"));
    // (ASCII is skipped eight bytes at a time: what follows a run of any length is still
    // checked, a character across the eighth byte too.)
    for (std::size_t n = 0; n <= 17; ++n) {
        INFO("after " << n << " ASCII bytes");
        const std::string run(n, 'a');
        CHECK(utf8_invalid_at(run + "\xff" + "bcdefghijk") == n);
        CHECK(utf8_invalid_at(run + "\xe2\x82") == n);  // cut off at the end
        CHECK_FALSE(utf8_invalid_at(run + "€" + std::string(9, 'b') + "😀"));
        CHECK(utf8_invalid_at(run + "é" + run + "\x80" + "0123456789") == 2 * n + 2);
    }

    CHECK_FALSE(first_control("Hyvä paikka — kiitos!"));
    CHECK(first_control("a\tb") == U'\t');
    CHECK_FALSE(first_control("a\tb\nc\r\n", "\t\n\r"));
    CHECK(first_control("a\x7f") == 0x7F);
    CHECK(first_control("next line\xc2\x85") == 0x85);  // NEL, a C1 control
    CHECK(first_control("\xc2\x9f") == 0x9F);
    CHECK_FALSE(first_control("\xc2\xa0"));  // no-break space is text
    CHECK(first_control(std::string_view("a\0b", 3)) == 0u);
    CHECK(describe_code_point(U'\t') == "U+0009 (tab)");
    CHECK(describe_code_point(0x85) == "U+0085 (a C1 control)");
}
