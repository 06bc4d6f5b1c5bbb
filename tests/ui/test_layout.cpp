// Every screen at every supported size: touch targets at least 15 mm (and never below a
// fixed share of the screen; the keys of the on-screen keyboard, twelve to a row, at least
// 15 mm), inside the window, not overlapping; text large.
#include <cmath>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

void check_screen(const Kiosk& k, const std::string& name) {
    const ui::Metrics& m = k.app.metrics();
    INFO("screen " << name << " at " << m.width << "x" << m.height);
    // 15 mm at 96 dpi (the assumption when the display does not report its DPI).
    CHECK(m.min_target >= 15.0f / 25.4f * 96.0f);
    CHECK(m.min_key >= std::round(15.0f / 25.4f * 96.0f));
    CHECK(m.small >= 24.0f);
    int targets = 0;
    const auto& reg = k.app.registry();
    for (std::size_t i = 0; i < reg.size(); ++i) {
        const auto& t = reg[i];
        if (!t.tappable) continue;
        ++targets;
        INFO("target \"" << t.text << "\" " << t.min.x << "," << t.min.y << " - " << t.max.x << "," << t.max.y);
        const float least = t.key ? m.min_key : m.min_target;
        CHECK(t.max.x - t.min.x >= least - 0.5f);
        CHECK(t.max.y - t.min.y >= least - 0.5f);
        CHECK(t.min.x >= 0);
        CHECK(t.min.y >= 0);
        CHECK(t.max.x <= m.width);
        CHECK(t.max.y <= m.height);
        for (std::size_t j = i + 1; j < reg.size(); ++j) {
            const auto& u = reg[j];
            if (!u.tappable) continue;
            bool overlap = t.min.x < u.max.x && u.min.x < t.max.x && t.min.y < u.max.y && u.min.y < t.max.y;
            INFO("overlaps \"" << u.text << "\"");
            CHECK_FALSE(overlap);
        }
    }
    CHECK(targets > 0);
}

}  // namespace

TEST_CASE("every screen has big, separate targets inside the window at each size") {
    const std::pair<int, int> sizes[] = {{800, 480}, {1280, 800}, {1920, 1080}, {1080, 1920}};
    for (auto [w, h] : sizes) {
        DYNAMIC_SECTION(w << "x" << h) {
            Kiosk k(w, h);
            check_screen(k, "welcome");
            k.tap("Suomi");
            check_screen(k, "choose");
            k.tap("Lapset");
            check_screen(k, "smileys");
            k.tap("Ihan ok");
            k.advance(Session::kAdvanceMs);
            check_screen(k, "pictures (8)");
            k.tap("Leikki");
            check_screen(k, "pictures with Next");
            k.tap("Seuraava");
            check_screen(k, "pictures (4)");
            k.tap("Takaisin");
            k.tap("Takaisin");
            k.tap("Takaisin");
            k.tap("Aikuiset");
            check_screen(k, "agree scale");
        }
    }
}

TEST_CASE("the grown-ups' survey, its choices and its keyboard fit every size in every language") {
    struct Walk {
        const char *language, *survey, *agree, *skip, *weekly, *next, *letter, *capital;
    };
    const Walk walks[] = {
        {"Suomi", "Aikuiset", "Jokseenkin samaa mieltä", "Ohita", "Joka viikko", "Seuraava", "ä", "Ä"},
        {"Selkosuomi", "Aikuiset", "Pitää melkein paikkansa", "Ohita", "Joka viikko", "Seuraava", "ö", "Ö"},
        {"Svenska", "Vuxna", "Delvis av samma åsikt", "Hoppa över", "Varje vecka", "Nästa", "å", "Å"},
        {"Українська", "Дорослі", "Скоріше погоджуюся", "Пропустити", "Щотижня", "Далі", "ї", "Ї"},
    };
    const std::pair<int, int> sizes[] = {{800, 480}, {1280, 800}, {1920, 1080}, {1080, 1920}};
    for (auto [w, h] : sizes) {
        for (const Walk& walk : walks) {
            DYNAMIC_SECTION(w << "x" << h << " " << walk.language) {
                Kiosk k(w, h);
                k.tap(walk.language);
                k.tap(walk.survey);
                check_screen(k, "agree scale");
                k.tap(walk.agree);
                k.advance(Session::kAdvanceMs);
                k.tap(walk.skip);
                k.tap(walk.weekly);
                k.advance(Session::kAdvanceMs);
                check_screen(k, "multiple choice");
                k.tap(walk.skip);
                check_screen(k, "text on the keyboard");
                CHECK(k.find(walk.letter) != nullptr);
                k.tap("⇧");
                check_screen(k, "keyboard with shift");
                CHECK(k.find(walk.capital) != nullptr);
                CHECK(k.find(walk.letter) == nullptr);
            }
        }
    }
}

TEST_CASE("a window resized at run time lays out again") {
    Kiosk k(1280, 800);
    const float before = k.app.metrics().font;
    SDL_Window* w = SDL_GetWindowFromID(1);
    if (!w) w = SDL_GetGrabbedWindow();
    REQUIRE(w != nullptr);
    SDL_SetWindowSize(w, 800, 480);
    k.app.settle(k.scene);
    CHECK(k.app.metrics().width == 800);
    CHECK(k.app.metrics().font < before);
    check_screen(k, "welcome after resize");
}

TEST_CASE("the year-clock's ring, a month's page and the idea keyboard fit every size") {
    const std::pair<int, int> sizes[] = {{800, 480}, {1280, 800}, {1920, 1080}, {1080, 1920}};
    for (auto [w, h] : sizes) {
        DYNAMIC_SECTION(w << "x" << h) {
            Kiosk k(w, h);
            // The bundled events, moved to 2099 so that they stay "coming" whenever this runs.
            for (auto& s : k.surveys)
                if (s.yearclock)
                    for (auto& e : s.yearclock->events) e.date = "2099" + e.date.substr(4);
            k.tap("Suomi");
            check_screen(k, "choose with the year-clock");
            k.tap("Vuosikello");
            check_screen(k, "year-clock ring");
            int months = 0;
            for (const auto& t : k.app.registry()) months += t.tappable && t.text.size() <= 8 && t.text != "Valmis";
            CHECK(months >= 12);
            // March has two coming events (in the bundled file), the most of any month.
            k.tap("Maalis");
            check_screen(k, "year-clock month with two events");
            k.tap("Ulkoilu");
            k.tap("Tulemme!");
            check_screen(k, "year-clock month, wished and coming");
            k.tap("Oma idea");
            REQUIRE(k.find("Tallenna") != nullptr);
            REQUIRE(k.find("ä") != nullptr);
            check_screen(k, "year-clock idea keyboard");
            k.tap("Tallenna");
            k.tap("Takaisin");
            check_screen(k, "year-clock ring with a check");
        }
    }
}

TEST_CASE("the speaker button beside a text question's box is a big target that overlaps no key") {
    const std::pair<int, int> sizes[] = {{800, 480}, {1280, 800}, {1920, 1080}, {1080, 1920}};
    for (auto [w, h] : sizes) {
        DYNAMIC_SECTION(w << "x" << h) {
            Kiosk k(w, h);
            // The grown-ups' free-text question, given the children's first voice.
            std::string voice;
            for (const auto& s : k.surveys)
                if (s.id == "child") voice = s.questions[0].sound.files.at("fi");
            for (auto& s : k.surveys)
                for (auto& q : s.questions)
                    if (q.kind == QuestionKind::Text) q.sound.files["fi"] = voice;
            k.tap("Suomi");
            k.tap("Aikuiset");
            k.tap("Täysin samaa mieltä");
            k.advance(Session::kAdvanceMs);
            k.tap("Ohita");
            k.tap("Joka viikko");
            k.advance(Session::kAdvanceMs);
            k.tap("Tutuilta");
            k.tap("Seuraava");
            REQUIRE(k.find("ä") != nullptr);  // the keyboard is there
            const ui::Target* speaker = k.find("Kuuntele");
            REQUIRE(speaker != nullptr);
            const ui::Metrics& m = k.app.metrics();
            INFO("speaker " << speaker->min.x << "," << speaker->min.y << " - " << speaker->max.x << "," << speaker->max.y);
            CHECK(speaker->max.x - speaker->min.x >= m.min_target - 0.5f);
            CHECK(speaker->max.y - speaker->min.y >= m.min_target - 0.5f);
            CHECK(speaker->min.x >= 0);
            CHECK(speaker->max.x <= m.width);
            for (const auto& t : k.app.registry()) {
                if (&t == speaker || !(t.tappable || t.text.empty())) continue;
                const bool overlap = t.min.x < speaker->max.x && speaker->min.x < t.max.x && t.min.y < speaker->max.y &&
                                     speaker->min.y < t.max.y;
                INFO("overlaps \"" << t.text << "\"");
                CHECK_FALSE(overlap);
            }
            k.tap("Kuuntele");
            CHECK(k.app.audio().playing() == voice);
        }
    }
}
