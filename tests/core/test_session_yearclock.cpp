// The year-clock in the session, on the bundled config and a manual clock: what a family's
// taps do and exactly which rows are in the store after each.
#include <catch2/catch.hpp>

#include "session_fixture.hpp"

using namespace kohtaamo;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::TempDir;

namespace {
struct Fixture : kohtaamo::test::SessionFixture {
    Rows answers() { return rows("SELECT question_id, value FROM answers ORDER BY question_id, value"); }
    void start(const std::string& lang = "fi") {
        session.choose_language(lang);
        session.choose_survey("yearclock");
    }
};
}  // namespace

TEST_CASE_METHOD(Fixture, "a family wishes, comes and suggests an idea; Done completes the visit") {
    start("sv");
    REQUIRE(session.screen() == Screen::YearClock);
    REQUIRE(session.yearclock() != nullptr);
    CHECK(session.open_month() == 0);  // the ring
    CHECK(session.this_month() == 11);
    CHECK(session.today() == "2025-11-24");
    CHECK(session.question() == nullptr);
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});  // nothing until the first action

    session.open_month(2);
    CHECK(session.open_month() == 2);
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});  // looking is not answering
    session.wish(2, "ulkoilu");
    CHECK(rows("SELECT survey_id, survey_version, language, status FROM responses") ==
          Rows{{"yearclock", "1", "sv", "in_progress"}});
    session.wish(2, "muskari");
    CHECK(answers() == Rows{{"wish-02", "muskari"}, {"wish-02", "ulkoilu"}});
    CHECK(session.wished(2, "ulkoilu"));
    CHECK(session.wish_count(2) == 2);
    session.wish(2, "ulkoilu");  // a second tap takes the wish back
    CHECK_FALSE(session.wished(2, "ulkoilu"));
    session.come("laskiainen-2027");
    CHECK(session.coming("laskiainen-2027"));
    CHECK(answers() == Rows{{"come", "laskiainen-2027"}, {"wish-02", "muskari"}});

    session.back();
    CHECK(session.open_month() == 0);
    CHECK(session.screen() == Screen::YearClock);
    session.open_month(12);
    session.wish(12, "leipominen");
    session.come("joulujuhla-2026");
    session.open_idea();
    REQUIRE(session.idea_open());
    session.type("J");
    session.type("oulupuuro ");
    session.type("yhdessä");
    session.erase();
    CHECK(session.draft() == "Joulupuuro yhdess");
    session.type("ä");
    session.close_idea();
    CHECK_FALSE(session.idea_open());
    CHECK(session.idea(12) == "Joulupuuro yhdessä");

    session.done();
    CHECK(session.screen() == Screen::ThankYou);
    CHECK(rows("SELECT status, finished_at IS NOT NULL FROM responses") == Rows{{"complete", "1"}});
    // One response for the whole visit; "come" rows are kept in date order by the session.
    CHECK(answers() == Rows{{"come", "joulujuhla-2026"},
                            {"come", "laskiainen-2027"},
                            {"idea-12", "Joulupuuro yhdessä"},
                            {"wish-02", "muskari"},
                            {"wish-12", "leipominen"}});
    wait(config.thank_you_ms);
    CHECK(session.screen() == Screen::Welcome);
}

TEST_CASE_METHOD(Fixture, "an idea: reopened shows the saved text, emptied removes it, spaces alone are none") {
    start();
    session.open_month(5);
    session.open_idea();
    CHECK(session.draft().empty());
    session.type("Retki");
    session.back();  // Back saves too, like a text question
    CHECK(answers() == Rows{{"idea-05", "Retki"}});
    session.open_idea();
    CHECK(session.draft() == "Retki");
    for (int i = 0; i < 5; ++i) session.erase();
    session.type("  ");
    session.close_idea();
    CHECK(answers() == Rows{});
    CHECK(session.idea(5).empty());
    // An idea is at most kIdeaMaxLength characters.
    session.open_idea();
    for (int i = 0; i < Session::kIdeaMaxLength + 20; ++i) session.type("ä");
    CHECK(session.draft().size() == 2u * Session::kIdeaMaxLength);
}

TEST_CASE_METHOD(Fixture, "left alone, the visit is kept as abandoned with what was given (a typed idea too)") {
    start();
    session.open_month(6);
    session.wish(6, "ulkoilu");
    session.open_idea();
    session.type("Vesileikit");
    wait(config.idle_timeout_ms - 1);
    CHECK(session.screen() == Screen::YearClock);
    wait(1);
    CHECK(session.screen() == Screen::Welcome);
    CHECK(rows("SELECT status FROM responses") == Rows{{"abandoned"}});
    CHECK(answers() == Rows{{"idea-06", "Vesileikit"}, {"wish-06", "ulkoilu"}});
}

TEST_CASE_METHOD(Fixture, "looking only leaves nothing; Back from the ring returns to the welcome screen") {
    start();
    session.open_month(3);
    session.back();
    session.back();
    CHECK(session.screen() == Screen::Welcome);
    start();
    session.done();  // Done without any action: thank-you, no row
    CHECK(session.screen() == Screen::ThankYou);
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});
}

TEST_CASE_METHOD(Fixture, "backing out of the ring after a wish keeps it as abandoned; a new visit is a new response") {
    start();
    session.open_month(1);
    session.wish(1, "liikunta");
    session.back();
    session.back();
    CHECK(session.screen() == Screen::Welcome);
    session.choose_survey("yearclock");
    CHECK_FALSE(session.wished(1, "liikunta"));
    session.open_month(1);
    session.wish(1, "liikunta");
    session.done();
    CHECK(rows("SELECT status, count(*) FROM responses GROUP BY status ORDER BY status") ==
          Rows{{"abandoned", "1"}, {"complete", "1"}});
}

TEST_CASE_METHOD(Fixture, "wrong ids are refused, and ideas only where the survey allows them") {
    start();
    session.open_month(4);
    CHECK_THROWS_AS(session.wish(4, "sukellus"), std::invalid_argument);
    CHECK_THROWS_AS(session.come("no-such-event"), std::invalid_argument);
    CHECK_THROWS_AS(session.open_month(13), std::invalid_argument);
    CHECK(rows("SELECT count(*) FROM responses") == Rows{{"0"}});
    session.back();
    session.open_idea();  // not on the ring
    CHECK_FALSE(session.idea_open());
    session.back();
    for (auto& s : surveys)
        if (s.yearclock) s.yearclock->ideas = false;
    session.choose_survey("yearclock");
    session.open_month(4);
    session.open_idea();
    CHECK_FALSE(session.idea_open());
    session.type("x");
    CHECK(session.draft().empty());
}
