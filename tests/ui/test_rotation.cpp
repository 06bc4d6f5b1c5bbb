// A portrait kiosk on a landscape panel ([display] rotation): the screen shows the upright
// picture turned, and a touch on the screen lands on what the finger sees, for 90, 180 and
// 270 degrees — with real SDL events and the pixels the renderer put on the screen.
#include <stb_image.h>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

struct Picture {
    int w = 0, h = 0;
    std::vector<unsigned char> rgba;
    explicit Picture(const std::filesystem::path& png) {
        int n = 0;
        unsigned char* p = stbi_load(png.c_str(), &w, &h, &n, 4);
        REQUIRE(p != nullptr);
        rgba.assign(p, p + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4);
        stbi_image_free(p);
    }
    std::uint32_t at(int x, int y) const {
        const unsigned char* q = &rgba[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)) * 4];
        return static_cast<std::uint32_t>(q[0]) << 16 | static_cast<std::uint32_t>(q[1]) << 8 | q[2];
    }
};

// Where a point of the upright picture (fractions u, v) is on the screen turned clockwise.
std::pair<float, float> on_screen(float u, float v, int rotation) {
    switch (rotation) {
        case 90: return {1.0f - v, u};
        case 180: return {1.0f - u, 1.0f - v};
        case 270: return {v, 1.0f - u};
        default: return {u, v};
    }
}

void push_finger(Uint32 type, std::pair<float, float> at) {
    SDL_Event e{};
    e.type = type;
    e.tfinger.touchId = 1;
    e.tfinger.fingerId = 3;
    e.tfinger.x = at.first;
    e.tfinger.y = at.second;
    SDL_PushEvent(&e);
}

}  // namespace

TEST_CASE("a turned screen shows the upright picture turned, and a touch lands where the finger sees it") {
    const int rotation = GENERATE(90, 180, 270);
    INFO("rotation " << rotation);
    Kiosk k(1280, 800, {}, config_dir() / "kiosk.toml", rotation);
    const bool portrait = rotation != 180;
    CHECK(k.app.metrics().width == (portrait ? 800 : 1280));
    CHECK(k.app.metrics().height == (portrait ? 1280 : 800));

    k.app.screenshot(k.dir / "upright.png");
    k.app.output_screenshot(k.dir / "screen.png");
    const Picture upright(k.dir / "upright.png"), screen(k.dir / "screen.png");
    REQUIRE(screen.w == 1280);
    REQUIRE(screen.h == 800);
    REQUIRE(upright.w == static_cast<int>(k.app.metrics().width));
    // Every screen pixel (on a grid) is the upright picture's pixel that the turn puts there.
    int compared = 0, same = 0;
    for (int y = 3; y < upright.h; y += 11)
        for (int x = 3; x < upright.w; x += 11) {
            const auto [sx, sy] = on_screen((static_cast<float>(x) + 0.5f) / static_cast<float>(upright.w),
                                            (static_cast<float>(y) + 0.5f) / static_cast<float>(upright.h), rotation);
            ++compared;
            same += upright.at(x, y) == screen.at(static_cast<int>(sx * 1280.0f), static_cast<int>(sy * 800.0f));
        }
    CHECK(same >= compared * 99 / 100);
    // ... and not because the picture is one colour: the unturned place differs somewhere.
    int unturned_same = 0;
    for (int y = 3; y < std::min(upright.h, 800); y += 11)
        for (int x = 3; x < std::min(upright.w, 1280); x += 11) unturned_same += upright.at(x, y) == screen.at(x, y);
    CHECK(unturned_same < compared * 9 / 10);

    // A finger on the screen where "Svenska" shows chooses Swedish.
    const ui::Target* sv = k.find("Svenska");
    REQUIRE(sv != nullptr);
    const auto at = on_screen(sv->center().x / k.app.metrics().width, sv->center().y / k.app.metrics().height, rotation);
    push_finger(SDL_FINGERDOWN, at);
    push_finger(SDL_FINGERUP, at);
    k.app.settle(k.scene);
    CHECK(k.session.screen() == Screen::Welcome);  // the language changes on the welcome screen
    CHECK(k.session.language() == "sv");
}

TEST_CASE("on a turned screen a mouse click is turned back too") {
    Kiosk k(1280, 800, {}, config_dir() / "kiosk.toml", 90);
    const ui::Target* en = k.find("English");
    REQUIRE(en != nullptr);
    const auto [fx, fy] = on_screen(en->center().x / k.app.metrics().width, en->center().y / k.app.metrics().height, 90);
    for (Uint32 type : {SDL_MOUSEBUTTONDOWN, SDL_MOUSEBUTTONUP}) {
        SDL_Event e{};
        e.type = type;
        e.button.button = SDL_BUTTON_LEFT;
        e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
        e.button.x = static_cast<Sint32>(fx * 1280.0f);
        e.button.y = static_cast<Sint32>(fy * 800.0f);
        SDL_PushEvent(&e);
    }
    k.app.settle(k.scene);
    CHECK(k.session.language() == "en");
}
