// The coordinator's PIN lock and numbers.
#include <catch2/catch.hpp>

#include "config.hpp"
#include "coordinator.hpp"
#include "store.hpp"
#include "sqlite.hpp"
#include "test_support.hpp"

using namespace kohtaamo;

TEST_CASE("the PIN is kept only as an Argon2id hash and checked against it") {
    const std::string h = hash_pin("2580");
    CHECK_THAT(h, Catch::StartsWith("$argon2id$"));
    CHECK(h.find("2580") == std::string::npos);
    CHECK(hash_pin("2580") != h);  // salted
    PinLock lock(h);
    CHECK(lock.verify("2580", 0) == PinLock::Result::Ok);
    CHECK(lock.verify("2581", 0) == PinLock::Result::Wrong);
    CHECK_FALSE(PinLock("").configured());
    CHECK(PinLock("").verify("2580", 0) == PinLock::Result::Locked);
}

TEST_CASE("the PIN lock-out survives a restart: the count and the lock are in the database") {
    test::TempDir dir;
    const std::string h = hash_pin("482915");  // six digits
    const std::int64_t t = 1'764'000'000'000;
    {
        Store store(dir / "k.sqlite", t);
        PinLock lock(h, store.handle());
        CHECK(lock.verify("000000", t) == PinLock::Result::Wrong);
        CHECK(lock.verify("000000", t) == PinLock::Result::Wrong);
    }
    {
        // Pulling the plug gives no new free tries: the third wrong one locks.
        Store store(dir / "k.sqlite", t + 1000);
        PinLock lock(h, store.handle());
        CHECK(lock.failures() == 2);
        CHECK(lock.verify("111111", t + 1000) == PinLock::Result::Wrong);
        CHECK(lock.locked_for(t + 1000) == 30'000);
    }
    {
        Store store(dir / "k.sqlite", t + 2000);
        PinLock lock(h, store.handle());
        CHECK(lock.locked_for(t + 2000) == 29'000);  // still locked after the restart
        CHECK(lock.verify("482915", t + 2000) == PinLock::Result::Locked);
        CHECK(lock.verify("222222", t + 31'000) == PinLock::Result::Wrong);  // the fourth: 60 s
        CHECK(lock.locked_for(t + 31'000) == 60'000);
        // A clock set far back cannot stretch the lock past the cap.
        CHECK(lock.locked_for(t - 100'000'000) == PinLock::kMaxLockMs);
    }
    {
        Store store(dir / "k.sqlite", t);
        PinLock lock(h, store.handle());
        CHECK(lock.locked_for(t + 31'000) == 60'000);
        CHECK(lock.verify("482915", t + 91'000) == PinLock::Result::Ok);
    }
    Store store(dir / "k.sqlite", t);
    CHECK(PinLock(h, store.handle()).failures() == 0);
}

TEST_CASE("the bundled demo PIN is recognised, a real one is not") {
    CHECK(is_demo_pin(hash_pin(kDemoPin)));
    CHECK_FALSE(is_demo_pin(hash_pin("482915")));
    CHECK_FALSE(is_demo_pin(""));
    // The bundled config's hash is the demo PIN's.
    CHECK(is_demo_pin(load_device_config(test::config_dir() / "kiosk.toml").pin_hash));
    CHECK_THAT(demo_pin_warning(), Catch::Contains("DEMO PIN") && Catch::Contains("kohtaamo --hash-pin"));
}

TEST_CASE("wrong PINs lock the screen for a growing time, and the right PIN resets the count") {
    PinLock lock(hash_pin("2580"));
    std::int64_t t = 1000;
    CHECK(lock.verify("0000", t) == PinLock::Result::Wrong);
    CHECK(lock.verify("0000", t) == PinLock::Result::Wrong);
    CHECK(lock.locked_for(t) == 0);
    CHECK(lock.verify("0000", t) == PinLock::Result::Wrong);  // the third: locked 30 s
    CHECK(lock.locked_for(t) == 30'000);
    // While locked even the right PIN is refused, unchecked.
    CHECK(lock.verify("2580", t + 29'999) == PinLock::Result::Locked);
    t += 30'000;
    CHECK(lock.locked_for(t) == 0);
    CHECK(lock.verify("1111", t) == PinLock::Result::Wrong);  // the fourth: 60 s
    CHECK(lock.locked_for(t) == 60'000);
    t += 60'000;
    CHECK(lock.verify("1111", t) == PinLock::Result::Wrong);  // the fifth: 120 s
    CHECK(lock.locked_for(t) == 120'000);
    t += 120'000;
    CHECK(lock.verify("2580", t) == PinLock::Result::Ok);
    CHECK(lock.failures() == 0);
    CHECK(lock.verify("0000", t) == PinLock::Result::Wrong);
    CHECK(lock.locked_for(t) == 0);  // back to three free tries
}

TEST_CASE("the lock-out never grows beyond an hour") {
    PinLock lock(hash_pin("2580"));
    std::int64_t t = 0;
    for (int i = 0; i < 12; ++i) {
        lock.verify("0000", t);
        t += lock.locked_for(t);
    }
    lock.verify("0000", t);
    CHECK(lock.locked_for(t) == PinLock::kMaxLockMs);
}

TEST_CASE("the numbers count finished responses per survey, today and in total") {
    test::TempDir dir;
    const std::int64_t now = 1'764'000'000'000;  // 2025-11-24T16:00:00Z
    Store store(dir / "k.sqlite", now);
    auto add = [&](const std::string& id, const std::string& survey, std::int64_t started, ResponseStatus st) {
        store.save_answer(ResponseHeader{id, survey, 1, "fi", "s", "", started}, "q", {"1"}, started);
        if (st != ResponseStatus::InProgress) store.finish(id, st, started + 1000);
    };
    add("a", "child", now - 3600'000, ResponseStatus::Complete);
    add("b", "child", now - 60'000, ResponseStatus::Abandoned);
    add("c", "child", now - 10LL * 24 * 3600'000, ResponseStatus::Complete);  // ten days ago
    add("d", "family", now - 1000, ResponseStatus::InProgress);               // not finished: not counted
    auto st = read_stats(store.handle(), now, {"child", "family", "yearclock"});
    REQUIRE(st.surveys.size() == 3);
    CHECK(st.surveys[0].survey_id == "child");
    CHECK(st.surveys[0].today == 2);
    CHECK(st.surveys[0].total == 3);
    CHECK(st.surveys[0].abandoned == 1);
    CHECK(st.surveys[1].total == 0);
    CHECK(st.pending_sync == 3);
    CHECK(st.sync_state.empty());
}

TEST_CASE("the year-clock's wishes are counted per month, from finished responses not flagged") {
    test::TempDir dir;
    const std::int64_t now = 1'764'000'000'000;
    Store store(dir / "k.sqlite", now);
    auto visit = [&](const std::string& id, std::int64_t at, const std::vector<std::pair<std::string, std::vector<std::string>>>& rows,
                     ResponseStatus st) {
        const ResponseHeader h{id, "yearclock", 1, "fi", "s", "", at};
        for (const auto& [q, values] : rows) store.save_answer(h, q, values, at);
        if (st != ResponseStatus::InProgress) store.finish(id, st, at + 1000);
    };
    visit("a", now - 600'000, {{"wish-02", {"muskari", "ulkoilu"}}, {"come", {"laskiainen-2027"}}, {"idea-02", {"Pulkka"}}},
          ResponseStatus::Complete);
    visit("b", now - 500'000, {{"wish-02", {"ulkoilu"}}, {"wish-12", {"leipominen"}}}, ResponseStatus::Abandoned);
    visit("c", now - 400'000, {{"wish-07", {"retki"}}}, ResponseStatus::InProgress);  // not finished: not counted
    visit("d", now - 300'000, {{"wish-12", {"leipominen"}}}, ResponseStatus::Complete);
    Statement(store.handle(), "UPDATE responses SET flagged = 1 WHERE id = 'd'").run();  // the mischief rule's
    auto st = read_stats(store.handle(), now, {"child", "yearclock"});
    REQUIRE(st.wishes.count("yearclock") == 1);
    CHECK(st.wishes["yearclock"] == std::array<int, 12>{0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(st.wishes.count("child") == 0);
}
