// A store that cannot write never takes the kiosk down (kiosk/core/store.hpp, "When a write
// fails"): on a real full disk (tmpfs) at a tap, at the idle timeout, at the timer that
// finishes a survey, and at start, the kiosk stays up on the resting screen, tells staff why,
// and goes on by itself when space returns, every committed answer kept.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using kohtaamo::test::Kiosk;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::SmallDisk;

namespace {
bool shows(const Kiosk& k, const std::string& part) {
    for (const auto& t : k.app.registry())
        if (t.text.find(part) != std::string::npos) return true;
    return false;
}

// The resting screen, in every bundled language, and the reason for staff.
void check_resting(Kiosk& k) {
    REQUIRE_FALSE(k.scene.resting().empty());
    CHECK_THAT(k.scene.resting(), Catch::Contains("full"));
    for (const auto& lang : k.config.languages) {
        INFO(lang);
        CHECK(shows(k, k.texts.get(lang, "resting")));
    }
    CHECK(shows(k, "full"));
    // docs/screenshots/resting.png: KOHTAAMO_RESTING_PNG=docs/screenshots/resting.png ui_tests '*idle timeout*'
    if (const char* png = std::getenv("KOHTAAMO_RESTING_PNG")) k.app.screenshot(png);
}

// Space returns: within one retry the kiosk is on the welcome screen again.
void check_resumes(Kiosk& k, SmallDisk& disk) {
    k.advance(static_cast<int>(KioskScene::kRetryMs));
    CHECK_FALSE(k.scene.resting().empty());  // still full: still resting
    disk.unfill();
    k.advance(static_cast<int>(KioskScene::kRetryMs));
    CHECK(k.scene.resting().empty());
    CHECK(k.session.screen() == Screen::Welcome);
    // And a new visitor's answers are saved.
    k.tap_id("survey-child");
    k.tap_id("face-2");
    k.advance(Session::kAdvanceMs);
    CHECK(k.scene.resting().empty());
}
}  // namespace

TEST_CASE("a full disk at the idle timeout: the kiosk rests, keeps the answer, and resumes when space returns") {
    SmallDisk disk(2 * 1024 * 1024);
    const auto db = disk.path() / "k.sqlite";
    Kiosk k(1280, 800, {}, test::config_dir() / "kiosk.toml", 0, db);
    k.tap_id("survey-child");
    k.tap_id("face-5");
    disk.fill();
    k.advance(static_cast<int>(k.config.idle_timeout_ms));  // finishing it as abandoned needs a write
    check_resting(k);
    check_resumes(k, disk);
    CHECK(query(db, "SELECT r.status, a.question_id, a.value FROM responses r JOIN answers a ON a.response_id = r.id"
                    " ORDER BY r.started_at") ==
          Rows{{"abandoned", "feeling", "5"}, {"in_progress", "feeling", "2"}});
}

TEST_CASE("a full disk when the last answer's timer finishes the survey: resting, then the response is kept") {
    SmallDisk disk(2 * 1024 * 1024);
    const auto db = disk.path() / "k.sqlite";
    Kiosk k(1280, 800, {}, test::config_dir() / "kiosk.toml", 0, db);
    for (const char* id : {"survey-child", "face-4", "choice-music"}) {
        k.tap_id(id);
        k.advance(Session::kAdvanceMs);
    }
    k.tap_id("choice-3-5");  // saved; the timer that shows the thank-you finishes it
    disk.fill();
    k.advance(Session::kAdvanceMs);
    check_resting(k);
    check_resumes(k, disk);
    CHECK(query(db, "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.status = 'abandoned'") ==
          Rows{{"3"}});
}

TEST_CASE("a full disk at a tap: the answer is not lost silently, the kiosk rests and resumes") {
    SmallDisk disk(2 * 1024 * 1024);
    const auto db = disk.path() / "k.sqlite";
    Kiosk k(1280, 800, {}, test::config_dir() / "kiosk.toml", 0, db);
    k.tap_id("survey-child");
    disk.fill();
    k.tap_id("face-3");
    check_resting(k);
    // The coordinator screen says why (behind the PIN, as always).
    check_resumes(k, disk);
    CHECK(query(db, "SELECT count(*) FROM responses WHERE status = 'abandoned'") == Rows{{"0"}});
}

TEST_CASE("a full disk at start (recovery cannot write): the resting screen, then the store opens when space returns") {
    SmallDisk disk(2 * 1024 * 1024);
    const auto db = disk.path() / "k.sqlite";
    {
        Store store(db, 0);
        store.save_answer(ResponseHeader{"r-open", "child", 1, "fi", "", "", 0}, "feeling", {"4"}, 0);
        // Left in progress, as a power cut leaves it: the next start must write to recover it.
    }
    disk.fill();
    Clock clock;
    DeviceConfig config = load_device_config(test::config_dir() / "kiosk.toml");
    Catalog texts = Catalog::load(config.texts_dir, config.languages);
    std::unique_ptr<Store> store;
    std::string first;
    try {
        store = std::make_unique<Store>(db, clock.wall_ms());
    } catch (const StoreError& e) {
        first = e.what();
    }
    REQUIRE_FALSE(first.empty());
    StoreWaitScene wait(texts, config.languages, clock, [&] { store = std::make_unique<Store>(db, clock.wall_ms()); }, first);
    platform::App app(platform::AppOptions{true, false, true, 1280, 800}, clock);
    app.settle(wait);
    for (const auto& lang : config.languages) {
        bool found = false;
        for (const auto& t : app.registry()) found = found || t.text == texts.get(lang, "resting");
        CHECK(found);
    }
    clock.advance(KioskScene::kRetryMs);
    app.settle(wait);
    CHECK_FALSE(wait.wants_quit());
    disk.unfill();
    clock.advance(KioskScene::kRetryMs);
    app.settle(wait);
    REQUIRE(wait.wants_quit());
    REQUIRE(store);
    CHECK(store->recovered() == 1);
    CHECK(query(db, "SELECT id, status FROM responses") == Rows{{"r-open", "abandoned"}});
    CHECK(query(db, "SELECT value FROM answers") == Rows{{"4"}});
}
