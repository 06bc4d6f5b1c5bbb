// Every screen at every supported size: touch targets at least 15 mm (and never below a
// fixed share of the screen; the keys of the on-screen keyboard, twelve to a row, at least
// 15 mm), inside the window, not overlapping; every text inside the window; text large;
// on the bundled config no label cut. Then every screen with texts of 1 to 2,000
// characters in Latin, Cyrillic, Arabic and emoji: no crash, and the same checks.
#include <cmath>
#include <functional>

#include <fstream>
#include <map>

#include "kiosk_fixture.hpp"
#include "utf8.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

// `bundled`: the bundled texts, which must show whole (no label cut with "…").
void check_screen(const Kiosk& k, const std::string& name, bool bundled = true) {
    const ui::Metrics& m = k.app.metrics();
    INFO("screen " << name << " at " << m.width << "x" << m.height);
    CHECK(k.app.frame_errors() == 0);
    for (const auto& t : k.app.registry()) {
        INFO("text \"" << t.text.substr(0, 80) << "\" " << t.min.x << "," << t.min.y << " - " << t.max.x << "," << t.max.y);
        CHECK(t.min.x >= -0.5f);
        CHECK(t.min.y >= -0.5f);
        CHECK(t.max.x <= m.width + 0.5f);
        CHECK(t.max.y <= m.height + 0.5f);
        if (bundled && t.tappable) CHECK_FALSE(t.truncated);
        // The keyboard's Back and Next keep their arrow and word on one line.
        if (bundled && (t.id == "kb-back" || t.id == "kb-next")) CHECK(t.lines == 1);
    }
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
    if (name.rfind("thank-you", 0) != 0) CHECK(targets > 0);  // the thank-you screen has nothing to tap
}

}  // namespace

TEST_CASE("every screen has big, separate targets inside the window at each size") {
    const std::pair<int, int> sizes[] = {{800, 480}, {1280, 800}, {1920, 1080}, {1080, 1920}};
    for (auto [w, h] : sizes) {
        DYNAMIC_SECTION(w << "x" << h) {
            Kiosk k(w, h);
            check_screen(k, "welcome");
            k.tap("العربية");
            check_screen(k, "welcome in Arabic");
            k.tap("Suomi");
            k.tap("Lapset");
            check_screen(k, "smileys");
            k.tap("Ihan ok");
            k.advance(Session::kAdvanceMs);
            check_screen(k, "pictures (8)");
            k.tap("Takaisin");
            check_screen(k, "smileys with Next");
            k.tap("Seuraava");
            k.tap("Leikki");
            k.advance(Session::kAdvanceMs);
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
        {"العربية", "الكبار", "أوافق", "تخطٍّ", "كل أسبوع", "التالي", "ك", "أ"},
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
                // Right to left Back is at the right and Next at the left; the letters keep
                // the catalogue's order from the left.
                const bool rtl = k.texts.rtl(k.session.language());
                const ui::Target* back = k.find_id("kb-back");
                const ui::Target* next = k.find_id("kb-next");
                REQUIRE(back != nullptr);
                REQUIRE(next != nullptr);
                CHECK((back->min.x > next->min.x) == rtl);
                CHECK(k.find_id("key-0-0")->min.x < k.find_id("key-0-1")->min.x);
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

// --- every screen, walked by widget id (the texts may be anything) -----------------------

namespace {

// Opens the coordinator's screen: the hidden corner held 3 s, then the bundled PIN.
void open_staff(Kiosk& k) {
    k.app.input().press(10, 10);
    k.scene.input();
    k.app.settle(k.scene);
    for (int i = 0; i < 35; ++i) {
        k.clock.advance(100);
        k.app.frame(k.scene);
    }
    k.app.input().release(10, 10);
    k.app.settle(k.scene);
    REQUIRE(k.scene.mode() == KioskScene::Mode::Pin);
    for (const char* key : {"pin-1", "pin-4", "pin-7", "pin-10", "pin-11"}) k.tap_id(key);  // 2, 5, 8, 0, OK
    REQUIRE(k.scene.mode() == KioskScene::Mode::Staff);
}

// Every screen of the bundled surveys in `lang`, and the coordinator's; `check` after each.
void walk_everything(Kiosk& k, const std::string& lang, const std::function<void(const std::string&)>& check) {
    // The bundled events, moved to 2099 so that they stay "coming" whenever this runs.
    for (auto& s : k.surveys)
        if (s.yearclock)
            for (auto& e : s.yearclock->events) e.date = "2099" + e.date.substr(4);
    check("welcome");
    k.tap_id("lang-" + lang);
    check("welcome in the language");
    k.tap_id("survey-child");
    check("smileys");
    k.tap_id("face-5");
    k.advance(Session::kAdvanceMs);
    check("pictures (8)");
    k.tap_id("choice-play");
    k.advance(Session::kAdvanceMs);
    check("pictures (4)");
    k.tap_id("choice-3-5");
    k.advance(Session::kAdvanceMs);
    check("thank-you");
    k.advance(10'000);
    k.tap_id("lang-" + lang);
    k.tap_id("survey-family");
    check("agree scale");
    k.tap_id("agree-5");
    k.advance(Session::kAdvanceMs);
    k.tap_id("next");  // "support" is optional: Skip
    check("pictures (3)");
    k.tap_id("choice-first");
    k.advance(Session::kAdvanceMs);
    check("text choices");
    k.tap_id("choice-clinic");
    k.tap_id("next");
    check("choice after show-if");
    k.tap_id("choice-yes");
    k.advance(Session::kAdvanceMs);
    check("keyboard");
    for (const char* key : {"key-0-0", "key-1-1", "kb-space", "key-0-2"}) k.tap_id(key);
    check("keyboard with text");
    k.tap_id("kb-next");
    check("thank-you again");
    k.advance(10'000);
    k.tap_id("lang-" + lang);
    k.tap_id("survey-yearclock");
    check("year-clock ring");
    k.tap_id("month-3");
    check("year-clock month");
    k.tap_id("wish-ulkoilu");
    k.tap_id("come-satutuokio-2027");
    check("year-clock month, wished and coming");
    k.tap_id("idea");
    check("year-clock idea");
    k.tap_id("key-0-0");
    k.tap_id("kb-next");
    k.tap_id("back");
    check("year-clock ring with a check");
    k.tap_id("done");
    k.advance(10'000);
    open_staff(k);
    check("coordinator");
    k.tap_id("close");
}

// `n` characters of `script`: its words repeated (a sentence of the kiosk's own kind).
std::string filler(const std::string& script, std::size_t n) {
    const std::map<std::string, std::string> words = {
        {"latin", "Miltä tänään tuntui, mikä oli parasta? Åke ja Öljy! "},
        {"cyrillic", "Як тобі було сьогодні? Що було найкраще? "},
        {"arabic", "كيف كان شعورك اليوم؟ ما الذي أعجبك 12 أكثر؟ "},
        {"emoji", "👨‍👩‍👧 👋🏽 🇫🇮 1️⃣ 🧑🏽‍🤝‍🧑🏻 🎨 "}};
    const auto cps = utf8_split(words.at(script)).value();
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += cps[i % cps.size()];
    return out;
}

// A copy of the bundled config in `dir` with every text of the surveys and the catalogues
// (the language names too; not the keyboard's keys) replaced by `text`. Returns kiosk.toml.
std::filesystem::path long_texts(const std::filesystem::path& dir, const std::string& text) {
    const auto kiosk = copy_bundled_config(dir);
    auto rewrite = [&](const std::filesystem::path& file, const std::function<void(toml::table&)>& change) {
        toml::table t = toml::parse_file(file.string());
        change(t);
        std::ofstream out(file);
        out << t << "\n";
    };
    auto texts = [&](toml::table& t) {  // {fi = "...", sv = "..."} tables, wherever they are
        std::function<void(toml::node&, const std::string&)> walk = [&](toml::node& n, const std::string& key) {
            if (auto* tab = n.as_table()) {
                const bool lang_table = key == "title" || key == "text" || key == "theme";
                for (auto&& [k, v] : *tab) {
                    if (lang_table && v.is_string()) v.as_string()->get() = text;
                    else walk(v, std::string(k.str()));
                }
            } else if (auto* arr = n.as_array()) {
                for (auto& v : *arr) walk(v, key);
            }
        };
        walk(t, "");
    };
    for (const auto& f : std::filesystem::directory_iterator(dir / "config" / "surveys")) rewrite(f.path(), texts);
    for (const auto& f : std::filesystem::directory_iterator(dir / "config" / "lang")) {
        if (f.path().filename().string().rfind("report-", 0) == 0) continue;
        rewrite(f.path(), [&](toml::table& t) {
            t.insert_or_assign("language_name", text);
            for (auto&& [k, v] : *t["ui"].as_table())
                if (std::string(k.str()).rfind("keys_", 0) != 0) v.as_string()->get() = text;
        });
    }
    return kiosk;
}

void sweep(const std::string& script) {
    const std::pair<int, int> sizes[] = {{800, 480}, {1080, 1920}};
    for (std::size_t n : {1, 12, 60, 600, 2000}) {
        for (auto [w, h] : sizes) {
            if (n != 2000 && w == 1080) continue;  // (within the CI budget: portrait, the slowest to draw, at the longest)
            DYNAMIC_SECTION(n << " characters at " << w << "x" << h) {
                TempDir dir;
                const std::string text = filler(script, n);
                Kiosk k(w, h, {}, long_texts(dir.path(), text));
                // The news too (its file allows 120 characters; the screen takes any).
                for (auto& item : k.news)
                    for (auto& [_, t] : item.text) t = text;
                k.scene.set_news(k.news);
                k.app.settle(k.scene);
                walk_everything(k, script == "arabic" ? "ar" : "sv", [&](const std::string& screen) { check_screen(k, screen, false); });
                CHECK(k.app.frame_errors() == 0);
            }
        }
    }
}

}  // namespace

TEST_CASE("every screen takes texts of 1 to 2000 characters in Latin: no crash, every control inside the window and big") { sweep("latin"); }
TEST_CASE("every screen takes texts of 1 to 2000 characters in Cyrillic: no crash, every control inside the window and big") { sweep("cyrillic"); }
TEST_CASE("every screen takes texts of 1 to 2000 characters in Arabic: no crash, every control inside the window and big") { sweep("arabic"); }
TEST_CASE("every screen takes texts of 1 to 2000 characters of emoji: no crash, every control inside the window and big") { sweep("emoji"); }

TEST_CASE("the screens ask the catalogue for no key that catalog_keys() does not list, in any language") {
    for (const std::string lang : {"fi", "ar"}) {
        DYNAMIC_SECTION(lang) {
            Kiosk k(1280, 800);
            walk_everything(k, lang, [&](const std::string& screen) { check_screen(k, screen); });
            CHECK(k.texts.unknown_keys_asked().empty());
            for (const auto& t : k.app.registry()) CHECK(t.text.find("[") != 0);
        }
    }
}

TEST_CASE("a child's four taps from the welcome screen to the thank-you are all on pictures") {
    Kiosk k(1280, 800);
    int taps = 0;
    for (const char* id : {"survey-child", "face-5", "choice-music", "choice-3-5"}) {
        const ui::Target* t = k.find_id(id);
        REQUIRE(t != nullptr);
        CHECK(t->max.y - t->min.y >= k.app.metrics().min_target * 1.5f);  // big pictures, not a row of words
        k.tap_id(id);
        ++taps;
        k.advance(Session::kAdvanceMs);
    }
    CHECK(taps == 4);
    CHECK(k.session.screen() == Screen::ThankYou);
    CHECK(query(k.dir / "k.sqlite", "SELECT question_id, value FROM answers ORDER BY answered_at") ==
          Rows{{"feeling", "5"}, {"best", "music"}, {"age", "3-5"}});
}

TEST_CASE("the one-question event mode: the welcome screen is the question, one tap answers") {
    TempDir dir;
    const auto kiosk = copy_bundled_config(dir.path());
    write_file(dir / "config" / "surveys" / "event.toml",
               "id = \"event\"\nversion = 1\nicon = \"🎪\"\ntitle = { fi = \"Tapahtuma\" }\n[[questions]]\nid = \"mood\"\n"
               "kind = \"smiley\"\nfaces = 3\ntext = { fi = \"Millainen päivä?\", ar = \"كيف كان اليوم؟\" }\n");
    std::string text = read_file(kiosk);
    text.replace(text.find("[kiosk]\n"), 8, "[kiosk]\none_question = \"event\"\n");
    write_file(kiosk, text);
    for (auto [w, h] : {std::pair{800, 480}, std::pair{1080, 1920}}) {
        Kiosk k(w, h, {}, kiosk);
        check_screen(k, "event welcome");
        CHECK(k.find("Millainen päivä?") == nullptr);  // a heading, not a button ...
        bool heading = false;
        for (const auto& t : k.app.registry()) heading = heading || t.text == "Millainen päivä?";
        CHECK(heading);
        CHECK(k.find_id("survey-child") == nullptr);  // ... and no surveys
        k.tap_id("face-3");
        k.advance(Session::kAdvanceMs);
        CHECK(k.session.screen() == Screen::ThankYou);
        k.advance(k.config.thank_you_ms);
        CHECK(k.session.screen() == Screen::Welcome);
        k.tap_id("lang-ar");
        check_screen(k, "event welcome in Arabic");
        k.tap_id("face-1");
        k.advance(Session::kAdvanceMs);
        CHECK(query(k.dir / "k.sqlite", "SELECT language, status FROM responses ORDER BY started_at") ==
              Rows{{"fi", "complete"}, {"ar", "complete"}});
    }
}
