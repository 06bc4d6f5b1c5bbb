// The session flow on the bundled config: what a visitor's taps do, what is in the store
// after each, the back button, the idle timeout and the thank-you screen.
#include <catch2/catch.hpp>

#include <algorithm>

#include "session_fixture.hpp"
#include "utf8.hpp"

using namespace kohtaamo;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::TempDir;

using Fixture = kohtaamo::test::SessionFixture;

TEST_CASE_METHOD(Fixture, "a child walks the survey and every answer is stored as it is given") {
    CHECK(session.screen() == Screen::Welcome);
    session.choose_language("sv");
    CHECK(session.screen() == Screen::Welcome);  // the surveys are on the welcome screen
    CHECK(session.language() == "sv");
    session.choose_survey("child");
    REQUIRE(session.screen() == Screen::Question);
    CHECK(session.question()->id == "feeling");
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});  // nothing until an answer

    session.answer("5");
    CHECK(rows("SELECT survey_id, language, status, site FROM responses") ==
          Rows{{"child", "sv", "in_progress", "demo-kohtaamispaikka"}});
    CHECK(rows("SELECT question_id, value FROM answers") == Rows{{"feeling", "5"}});
    CHECK(session.question()->id == "feeling");  // stays highlighted for a moment
    wait(Session::kAdvanceMs);
    CHECK(session.question()->id == "best");

    // One picture: a tap answers and moves on (four taps in all from the welcome screen).
    session.toggle("music");  // not a multiple choice: nothing happens
    CHECK(rows("SELECT count(*) FROM answers WHERE question_id = 'best'") == Rows{{"0"}});
    session.answer("music");
    session.answer("play");  // a second tap before it moves on replaces the first
    CHECK(rows("SELECT value FROM answers WHERE question_id = 'best'") == Rows{{"play"}});
    wait(Session::kAdvanceMs);
    CHECK(session.question()->id == "age");
    CHECK_FALSE(session.can_next());  // required
    session.answer("3-5");
    wait(Session::kAdvanceMs);
    CHECK(session.screen() == Screen::ThankYou);
    CHECK(rows("SELECT status, finished_at IS NOT NULL FROM responses") == Rows{{"complete", "1"}});

    wait(config.thank_you_ms);
    CHECK(session.screen() == Screen::Welcome);
    CHECK(session.language() == "fi");
}

TEST_CASE_METHOD(Fixture, "back goes to the previous question, shows its answer, and a new tap replaces it") {
    session.choose_language("en");
    session.choose_survey("child");
    session.answer("2");
    wait(Session::kAdvanceMs);
    session.back();
    CHECK(session.question()->id == "feeling");
    CHECK(session.is_picked("2"));
    session.answer("4");
    wait(Session::kAdvanceMs);
    CHECK(session.question()->id == "best");
    CHECK(rows("SELECT value FROM answers WHERE question_id = 'feeling'") == Rows{{"4"}});
    // Optional: Next with nothing picked skips it.
    CHECK(session.can_next());
    session.next();
    CHECK(session.question()->id == "age");
}

TEST_CASE_METHOD(Fixture, "backing out of a started survey leaves it abandoned; an untouched one leaves nothing") {
    session.choose_language("sv");
    session.choose_survey("child");
    session.back();
    CHECK(session.screen() == Screen::Welcome);
    CHECK(session.language() == "sv");  // still the visitor's language
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});
    session.choose_survey("child");
    session.answer("1");
    session.back();  // before the auto-advance: still on the first question
    CHECK(session.screen() == Screen::Welcome);
    CHECK(rows("SELECT status FROM responses") == Rows{{"abandoned"}});
    wait(Session::kAdvanceMs);  // the advance that was due does not happen after Back
    CHECK(session.screen() == Screen::Welcome);
}

TEST_CASE_METHOD(Fixture, "left alone half-way, the kiosk returns to welcome and keeps the answers as abandoned") {
    session.choose_language("fi");
    session.choose_survey("child");
    session.input();
    session.answer("4");
    wait(Session::kAdvanceMs);
    REQUIRE(session.question()->id == "best");
    REQUIRE(session.next_deadline().has_value());
    wait(config.idle_timeout_ms - Session::kAdvanceMs - 1);
    CHECK(session.screen() == Screen::Question);  // not yet
    wait(1);
    CHECK(session.screen() == Screen::Welcome);
    CHECK_FALSE(session.next_deadline().has_value());  // nothing to wake up for
    CHECK(rows("SELECT status FROM responses") == Rows{{"abandoned"}});
    CHECK(rows("SELECT question_id, value FROM answers") == Rows{{"feeling", "4"}});
}

TEST_CASE_METHOD(Fixture, "input keeps the session alive; a language left chosen returns to the default when idle") {
    session.choose_language("ar");
    REQUIRE(session.next_deadline().has_value());
    wait(config.idle_timeout_ms - 1000);
    session.input();
    wait(config.idle_timeout_ms - 1000);
    CHECK(session.language() == "ar");
    wait(1000);
    CHECK(session.screen() == Screen::Welcome);
    CHECK(session.language() == "fi");
    CHECK_FALSE(session.next_deadline().has_value());  // the default language: nothing to wait for
}

TEST_CASE_METHOD(Fixture, "values a question does not offer are refused") {
    session.choose_language("fi");
    CHECK_THROWS(session.choose_survey("nope"));
    session.choose_survey("child");
    CHECK_THROWS(session.answer("7"));
    CHECK(rows("SELECT count(*) FROM answers") == Rows{{"0"}});
}

TEST_CASE_METHOD(Fixture, "a child who runs through the same answers again and again is flagged after the first time") {
    REQUIRE(config.repeat_window_ms == 20'000);
    // feeling, then skip the pictures, then age; the thank-you screen ends by itself.
    auto child = [&](const std::string& feeling, const std::string& age) {
        session.choose_survey("child");
        session.answer(feeling);
        wait(Session::kAdvanceMs);
        session.next();
        session.answer(age);
        wait(Session::kAdvanceMs);
        REQUIRE(session.screen() == Screen::ThankYou);
        wait(config.thank_you_ms);
        REQUIRE(session.screen() == Screen::Welcome);
    };
    child("5", "3-5");
    child("5", "3-5");
    child("5", "3-5");
    wait(30'000);  // half a minute with nobody at the kiosk
    child("5", "3-5");
    child("1", "3-5");
    // Backing out after one tap, over and over, is caught too.
    for (int i = 0; i < 3; ++i) {
        session.choose_survey("child");
        session.answer("1");
        session.back();
        REQUIRE(session.screen() == Screen::Welcome);
    }
    CHECK(rows("SELECT status, flagged FROM responses ORDER BY started_at") ==
          Rows{{"complete", "0"}, {"complete", "1"}, {"complete", "1"}, {"complete", "0"}, {"complete", "0"},
               {"abandoned", "0"}, {"abandoned", "1"}, {"abandoned", "1"}});
}

TEST_CASE_METHOD(Fixture, "show-if: a question appears only after the answer it names, and its answer goes when that changes") {
    session.choose_language("fi");
    session.choose_survey("family");
    session.answer("4");
    wait(Session::kAdvanceMs);
    session.next();  // skip the optional "support"
    REQUIRE(session.question()->id == "visits");
    session.answer("first");
    wait(Session::kAdvanceMs);
    session.next();  // "heard": nothing picked
    REQUIRE(session.question()->id == "again");
    CHECK(session.visible_count() == 6);
    CHECK(session.question_count() == 6);  // the progress dots: every question, shown or not
    session.answer("yes");
    wait(Session::kAdvanceMs);
    REQUIRE(session.question()->id == "idea");
    CHECK(rows("SELECT value FROM answers WHERE question_id = 'again'") == Rows{{"yes"}});
    // Back to "visits" and a different answer: "again" is hidden and its answer removed.
    session.back();
    session.back();
    session.back();
    REQUIRE(session.question()->id == "visits");
    session.answer("weekly");
    wait(Session::kAdvanceMs);
    session.next();
    CHECK(session.question()->id == "idea");
    CHECK(session.visible_count() == 5);
    CHECK(session.question_count() == 6);
    CHECK(session.question_index() == 5);  // the last dot
    CHECK(rows("SELECT count(*) FROM answers WHERE question_id = 'again'") == Rows{{"0"}});
}

TEST_CASE_METHOD(Fixture, "free text: typed letters are saved on Next, kept on Back, and saved when the visitor walks away") {
    session.choose_language("sv");
    session.choose_survey("family");
    session.answer("5");
    wait(Session::kAdvanceMs);
    session.next();
    session.answer("monthly");
    wait(Session::kAdvanceMs);
    session.next();
    REQUIRE(session.question()->kind == QuestionKind::Text);
    CHECK(session.is_last());
    for (const char* c : {"m", "e", "r", " ", "m", "u", "s", "i", "k", "x"}) session.type(c);
    session.erase();
    CHECK(session.draft() == "mer musik");
    session.back();
    CHECK(rows("SELECT value FROM answers WHERE question_id = 'idea'") == Rows{{"mer musik"}});
    session.next();
    CHECK(session.draft() == "mer musik");
    session.type("å");
    // Left alone: the typed text is kept with the abandoned response.
    wait(config.idle_timeout_ms);
    CHECK(session.screen() == Screen::Welcome);
    CHECK(rows("SELECT r.status, a.value FROM answers a JOIN responses r ON r.id = a.response_id "
               "WHERE a.question_id = 'idea'") == Rows{{"abandoned", "mer musikå"}});
}

TEST_CASE_METHOD(Fixture, "free text stops at the question's max_length") {
    session.choose_language("en");
    session.choose_survey("family");
    session.answer("3");
    wait(Session::kAdvanceMs);
    session.next();
    session.answer("first");
    wait(Session::kAdvanceMs);
    session.next();  // heard
    session.next();  // again
    REQUIRE(session.question() != nullptr);
    REQUIRE(session.question()->id == "idea");
    for (int i = 0; i < 400; ++i) session.type("ä");
    CHECK(utf8_decode(session.draft())->size() == 300);
}

TEST_CASE("the one-question event mode: the welcome screen is the question, one tap answers, thank-you, welcome again") {
    TempDir dir;
    const auto kiosk = test::copy_bundled_config(dir.path());
    test::write_file(dir / "config" / "surveys" / "event.toml",
                     "id = \"event\"\nversion = 1\nicon = \"🎪\"\ntitle = { fi = \"Tapahtuma\" }\n[[questions]]\nid = \"mood\"\n"
                     "kind = \"smiley\"\nfaces = 3\ntext = { fi = \"Millainen päivä?\" }\n");
    std::string text = test::read_file(kiosk);
    text.replace(text.find("[kiosk]\n"), 8, "[kiosk]\none_question = \"event\"\n");
    test::write_file(kiosk, text);
    DeviceConfig config = load_device_config(kiosk);
    REQUIRE(config.one_question == "event");
    const auto surveys = load_surveys(config.surveys_dir, config.languages);
    check_one_question(config, surveys);
    Clock clock = Clock::manual(1'764'000'000'000);
    Store store(dir / "k.sqlite", clock.wall_ms());
    Session session(config, surveys, store, clock);
    auto rows = [&](const std::string& sql) { return query(dir / "k.sqlite", sql); };

    REQUIRE(session.screen() == Screen::Welcome);
    REQUIRE(session.question() != nullptr);
    CHECK(session.question()->id == "mood");
    session.choose_survey("child");  // the welcome screen shows no surveys in this mode
    CHECK(session.screen() == Screen::Welcome);
    session.answer("3");  // the one tap
    CHECK(rows("SELECT survey_id, status FROM responses") == Rows{{"event", "in_progress"}});
    CHECK(session.is_picked("3"));
    clock.advance(Session::kAdvanceMs);
    session.tick();
    CHECK(session.screen() == Screen::ThankYou);
    CHECK(rows("SELECT status FROM responses") == Rows{{"complete"}});
    CHECK(rows("SELECT question_id, value FROM answers") == Rows{{"mood", "3"}});
    clock.advance(config.thank_you_ms);
    session.tick();
    CHECK(session.screen() == Screen::Welcome);
    CHECK_FALSE(session.is_picked("3"));  // the next family starts afresh
    session.answer("1");
    clock.advance(Session::kAdvanceMs);
    session.tick();
    CHECK(rows("SELECT count(*), count(DISTINCT id) FROM responses WHERE status = 'complete'") == Rows{{"2", "2"}});

    // A survey that cannot be one tap is refused with the device config's line.
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find("one_question")), '\n'));
    for (const auto& [id, problem] : std::vector<std::pair<std::string, std::string>>{
             {"family", "must have exactly one question"}, {"nope", "no survey \"nope\""}, {"yearclock", "exactly one question"}}) {
        std::string bad = text;
        bad.replace(bad.find("\"event\""), 7, "\"" + id + "\"");
        test::write_file(kiosk, bad);
        CHECK_THROWS_WITH(check_one_question(load_device_config(kiosk), surveys),
                          Catch::Contains(kiosk.string() + ":" + std::to_string(line) + ":") && Catch::Contains(problem));
    }
}
