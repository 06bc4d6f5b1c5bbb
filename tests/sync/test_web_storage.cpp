// The web page's parts below the browser (issue #14): a site's expected hours and the
// silent rule (site_hours.hpp, at fixed times in Europe/Helsinki), and the accounts,
// lockout and sessions the storage keeps on either database (several collectors share them).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "clock.hpp"
#include "local_time.hpp"
#include "site_hours.hpp"
#include "storage.hpp"
#include "sync_support.hpp"
#include "web.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

// TZ for one test, restored after it.
struct Zone {
    std::string old;
    bool had = false;
    explicit Zone(const char* zone) {
        if (const char* o = std::getenv("TZ")) {
            old = o;
            had = true;
        }
        ::setenv("TZ", zone, 1);
    }
    ~Zone() {
        if (had) ::setenv("TZ", old.c_str(), 1);
        else ::unsetenv("TZ");
    }
};

std::int64_t at(const char* iso) { return *parse_iso8601_utc(iso); }

}  // namespace

TEST_CASE("web: a site's hours are read, and a mistake says what is wrong", "[web]") {
    OpenHours h = parse_open_hours("Mon-Fri 09-17, Sat 10:30-14");
    CHECK(h.open_at(0, 9 * 60));
    CHECK_FALSE(h.open_at(0, 17 * 60));
    CHECK(h.open_at(5, 10 * 60 + 30));
    CHECK_FALSE(h.open_at(5, 10 * 60 + 29));
    CHECK_FALSE(h.open_at(6, 12 * 60));
    CHECK(parse_open_hours("Sat-Mon 00-24").open_at(0, 0));  // a range may wrap
    CHECK(parse_open_hours("always").open_at(3, 23 * 60 + 59));
    CHECK_THROWS_WITH(parse_open_hours("Mon-Fry 09-17"), Catch::Contains("\"Fry\" is not a day"));
    CHECK_THROWS_WITH(parse_open_hours("Mon 17-09"), Catch::Contains("end after they begin"));
    CHECK_THROWS_WITH(parse_open_hours("Mon 9-25"), Catch::Contains("is not a time"));
    CHECK_THROWS_WITH(parse_open_hours("Mon"), Catch::Contains("expected DAYS HH-HH"));
}

TEST_CASE("web: a kiosk is silent after an hour of its site's expected hours without a word", "[web]") {
    Zone zone("Europe/Helsinki");
    const OpenHours weekdays = parse_open_hours("Mon-Fri 09-17");
    // Last heard on Friday 2026-12-04 at 16:30 Helsinki time (14:30 UTC).
    const std::int64_t heard = at("2026-12-04T14:30:00Z");
    CHECK_FALSE(is_silent(weekdays, heard, at("2026-12-04T14:50:00Z"), 60));  // 20 open minutes
    CHECK_FALSE(is_silent(weekdays, heard, at("2026-12-05T12:00:00Z"), 60));  // Saturday: closed since 17:00
    CHECK_FALSE(is_silent(weekdays, heard, at("2026-12-07T07:20:00Z"), 60));  // Monday 09:20: 30 + 20 minutes
    CHECK(is_silent(weekdays, heard, at("2026-12-07T07:45:00Z"), 60));        // Monday 09:45: 30 + 45 minutes
    // Open every day: an hour and a bit is silent, whatever the day.
    CHECK(is_silent(OpenHours::always(), heard, heard + 62 * 60'000, 60));
    CHECK_FALSE(is_silent(OpenHours::always(), heard, heard + 59 * 60'000, 60));
    // Heard from long ago: silent (the count stops early).
    CHECK(is_silent(weekdays, heard, heard + 400LL * 24 * 3'600'000, 60));
}

TEST_CASE("web: accounts, the growing lockout and sessions are kept in the database", "[web][db]") {
    TempDir dir;
    TestDatabase db(dir.path());
    auto storage = Storage::open(db.config());
    WebAccount a;
    a.name = "anna";
    a.password_hash = hash_password("oikea-salasana-123");
    a.sites = {"kirjasto", "nuorisotalo"};
    storage->put_web_account(a);
    auto got = storage->web_account("anna");
    REQUIRE(got);
    CHECK(got->sites == std::vector<std::string>{"kirjasto", "nuorisotalo"});
    CHECK(got->password_hash.rfind("$argon2id$", 0) == 0);

    const std::int64_t now = 1'780'000'000'000;
    constexpr std::int64_t minute = 60'000;
    for (int i = 1; i < 5; ++i) CHECK(storage->web_login_failed("anna", now, 5, 5 * minute, 60 * minute) == 0);
    CHECK(storage->web_login_failed("anna", now, 5, 5 * minute, 60 * minute) == now + 5 * minute);
    // Another instance sees the lock: it is a row.
    auto other = Storage::open(db.config());
    CHECK(other->web_account("anna")->locked_until_ms == now + 5 * minute);
    // The next five wrong ones (after the lock ran out) lock it twice as long, and so on up to the limit.
    const std::int64_t later = now + 10 * minute;
    for (int i = 1; i < 5; ++i) other->web_login_failed("anna", later, 5, 5 * minute, 60 * minute);
    CHECK(other->web_login_failed("anna", later, 5, 5 * minute, 60 * minute) == later + 10 * minute);
    for (int lock = 0; lock < 4; ++lock)
        for (int i = 0; i < 5; ++i) storage->web_login_failed("anna", later, 5, 5 * minute, 60 * minute);
    CHECK(storage->web_account("anna")->locked_until_ms == later + 60 * minute);
    // A good login starts again.
    storage->web_login_succeeded("anna");
    CHECK(storage->web_account("anna")->locks == 0);
    CHECK(storage->web_login_failed("anna", later, 5, 5 * minute, 60 * minute) == 0);
    CHECK(storage->web_login_failed("nobody", later, 5, 5 * minute, 60 * minute) == 0);

    storage->create_web_session("blake2b:s1", WebSession{"anna", "csrf-1", now + 60 * minute}, now);
    CHECK(other->web_session("blake2b:s1", now)->csrf == "csrf-1");
    CHECK_FALSE(other->web_session("blake2b:s1", now + 61 * minute));  // expired
    storage->create_web_session("blake2b:s2", WebSession{"anna", "csrf-2", now + 120 * minute}, now + 61 * minute);
    CHECK(db.count("SELECT count(*) FROM web_sessions") == 1);  // the expired one is gone
    CHECK(storage->remove_web_account("anna"));
    CHECK_FALSE(storage->web_session("blake2b:s2", now));
    CHECK_FALSE(storage->remove_web_account("anna"));
}

TEST_CASE("web: the fleet's sites and the counts per site, survey and hour", "[web][db]") {
    TempDir dir;
    TestDatabase db(dir.path());
    auto storage = Storage::open(db.config());
    Batch b = make_batch(3, 7);
    REQUIRE(storage->store(b, "k1", "blake2b:x").status == 200);
    storage->record_health(b.device_id, "k1", std::nullopt, 1'790'000'000'000);
    const auto sites = storage->sites_by_device_id();
    REQUIRE(sites.size() == 1);
    CHECK(sites[0] == std::pair<std::string, std::string>{b.device_id, "testi"});
    std::int64_t total = 0;
    for (const HourCount& h : storage->hour_counts()) {
        CHECK(h.site == "testi");
        CHECK(h.hour.size() == 13);
        total += h.responses;
    }
    CHECK(total == 3);
    storage->record_bundle_report("k1", "kirjasto", 2, "", "2026-12-02T10:00:00Z");
    CHECK(storage->sites_by_device_name() == std::vector<std::pair<std::string, std::string>>{{"k1", "kirjasto"}});
}
