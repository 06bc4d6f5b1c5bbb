// Input as a user gives it: touches and mouse clicks through real SDL events, one source
// only, taps however fast, nothing left highlighted; and the loop that sleeps when idle.
#include <thread>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

void push_finger(Uint32 type, float x, float y, const ui::Metrics& m) {
    SDL_Event e{};
    e.type = type;
    e.tfinger.touchId = 1;
    e.tfinger.fingerId = 7;
    e.tfinger.x = x / m.width;
    e.tfinger.y = y / m.height;
    SDL_PushEvent(&e);
}

void push_mouse(Uint32 type, float x, float y, Uint32 which) {
    SDL_Event e{};
    e.type = type;
    e.button.which = which;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    e.button.x = static_cast<Sint32>(x);
    e.button.y = static_cast<Sint32>(y);
    SDL_PushEvent(&e);
}

}  // namespace

TEST_CASE("a finger tap (down and up in the same frame) chooses the language") {
    Kiosk k;
    auto c = k.find("Svenska")->center();
    push_finger(SDL_FINGERDOWN, c.x, c.y, k.app.metrics());
    push_finger(SDL_FINGERUP, c.x, c.y, k.app.metrics());
    k.app.frame(k.scene);  // both events arrive before this one frame
    k.app.settle(k.scene);
    CHECK(k.session.screen() == Screen::Welcome);  // the welcome screen, now in Swedish
    CHECK(k.session.language() == "sv");
    CHECK(k.find("Barn") != nullptr);
}

TEST_CASE("a mouse click works, and mouse events SDL makes from touches are ignored") {
    Kiosk k;
    auto c = k.find("English")->center();
    push_mouse(SDL_MOUSEBUTTONDOWN, c.x, c.y, SDL_TOUCH_MOUSEID);
    push_mouse(SDL_MOUSEBUTTONUP, c.x, c.y, SDL_TOUCH_MOUSEID);
    k.app.settle(k.scene);
    CHECK(k.session.language() == "fi");  // a synthetic event alone does nothing
    push_mouse(SDL_MOUSEBUTTONDOWN, c.x, c.y, 0);
    push_mouse(SDL_MOUSEBUTTONUP, c.x, c.y, 0);
    k.app.settle(k.scene);
    CHECK(k.session.language() == "en");
}

TEST_CASE("a press that slides off a button and is released elsewhere does nothing") {
    Kiosk k;
    auto c = k.find("Lapset")->center();
    push_finger(SDL_FINGERDOWN, c.x, c.y, k.app.metrics());
    k.app.settle(k.scene);
    push_finger(SDL_FINGERMOTION, 5, 5, k.app.metrics());
    push_finger(SDL_FINGERUP, 5, 5, k.app.metrics());
    k.app.settle(k.scene);
    CHECK(k.session.screen() == Screen::Welcome);
}

TEST_CASE("after a tap the pointer is cleared, so nothing stays highlighted") {
    Kiosk k;
    k.tap("Suomi");
    CHECK(ImGui::GetIO().MousePos.x < -1e30f);
    CHECK_FALSE(ImGui::GetIO().MouseDown[0]);
}

TEST_CASE("an idle kiosk draws no frames while it waits") {
    Kiosk k;
    const auto before = k.app.frames_drawn();
    std::thread quitter([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        SDL_Event e{};
        e.type = SDL_QUIT;
        SDL_PushEvent(&e);
    });
    k.app.run(k.scene);
    quitter.join();
    // A busy loop would have drawn ~90 frames at 60 Hz; a sleeping one draws the few
    // settle frames (at most a handful) and then nothing.
    CHECK(k.app.frames_drawn() - before <= 3);
}

namespace {
struct ThrowingScene : platform::Scene {
    int draws = 0, resets = 0;
    void draw(const ui::Metrics&, const ui::Fonts&, const ui::IconLookup&, ui::Registry&) override {
        if (++draws == 2) throw std::runtime_error("boom");
    }
    bool tick() override { return false; }
    std::optional<std::int64_t> deadline() const override { return std::nullopt; }
    bool animating() const override { return false; }
    void input() override {}
    void reset() override { ++resets; }
};
}  // namespace

TEST_CASE("a frame that throws is counted and the scene reset, and the app goes on") {
    Clock clock;
    platform::App app(platform::AppOptions{true, false, true, 640, 480}, clock);
    ThrowingScene scene;
    for (int i = 0; i < 4; ++i) app.frame(scene);
    CHECK(app.frame_errors() == 1);
    CHECK(scene.resets == 1);
    CHECK(scene.draws == 4);
}

TEST_CASE("Arabic typed on the on-screen keyboard is kept as typed and shown joined, each new text shaped once") {
    Kiosk k(1280, 800);
    k.tap("العربية");
    k.tap("الكبار");
    k.tap("أوافق تماماً");
    k.advance(Session::kAdvanceMs);
    k.tap("تخطٍّ");
    k.tap("كل أسبوع");
    k.advance(Session::kAdvanceMs);
    k.tap("تخطٍّ");  // how we heard of it: nothing picked
    REQUIRE(k.session.question()->kind == QuestionKind::Text);
    text::Shaper& shaper = k.app.text().shaper();
    auto glyphs = [&] {
        std::vector<std::uint32_t> out;
        for (const auto& g : shaper.line(k.session.draft(), text::Style::Regular, text::Direction::Rtl).glyphs) out.push_back(g.id);
        return out;
    };
    auto form = [&](char32_t c) { return FT_Get_Char_Index(shaper.face(text::Shaper::kArabic).ft, c); };
    k.tap("ك");
    CHECK(k.session.draft() == "ك");
    CHECK(glyphs() == std::vector<std::uint32_t>{form(0x0643)});  // alone: isolated
    std::uint64_t shaped = shaper.shaped_count();
    k.tap("ي");
    CHECK(k.session.draft() == "كي");
    CHECK(glyphs() == std::vector<std::uint32_t>{form(0xFEF2), form(0xFEDB)});  // kaf initial, yeh final
    CHECK(shaper.shaped_count() == shaped + 1);  // the new text, once, over the frames that drew it
    shaped = shaper.shaped_count();
    k.tap("ف");
    CHECK(k.session.draft() == "كيف");
    CHECK(glyphs() == std::vector<std::uint32_t>{form(0xFED2), form(0xFEF4), form(0xFEDB)});
    CHECK(shaper.shaped_count() == shaped + 1);
    // The field shows the typed text, right-aligned, the caret at its left end.
    const ui::Target* field = nullptr;
    for (const auto& t : k.app.registry())
        if (!t.tappable && t.text == "كيف") field = &t;
    REQUIRE(field != nullptr);
    k.tap("تم");
    CHECK(query(k.dir / "k.sqlite", "SELECT value FROM answers WHERE question_id = 'idea'") == Rows{{"كيف"}});
}
