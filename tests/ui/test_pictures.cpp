// Icons as one picture: emoji sequences the colour font draws as one picture (skin tones,
// ZWJ families, flags, keycaps) are accepted and drawn as one; two emoji, or a letter the
// font has no picture for, are refused at start-up with the file, line and column. The
// centre's own pictures: the bundled one decodes and shows; a corrupt or oversized file is
// refused with its line; a missing one is refused by the loader.
#include <cmath>

#include <stb_image.h>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

// A copy of the bundled config whose children's survey's first picture choice ("play",
// 🧸) has `icon` instead; returns the error check_media gives ("" for none).
struct IconCopy {
    TempDir dir;
    std::filesystem::path kiosk = copy_bundled_config(dir.path());
    const std::string original = read_file(dir / "config" / "surveys" / "child.toml");
    const std::size_t at = original.find("icon = \"🧸\"");
    const int line = 1 + static_cast<int>(std::count(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    const int column = static_cast<int>(at - original.rfind('\n', at)) + 7;  // the value, after `icon = `
    std::string set(const std::string& icon) {
        REQUIRE(at != std::string::npos);
        std::string child = original;
        child.replace(at, std::string("icon = \"🧸\"").size(), "icon = \"" + icon + "\"");
        write_file(dir / "config" / "surveys" / "child.toml", child);
        const DeviceConfig c = load_device_config(kiosk);
        try {
            auto surveys = load_surveys(c.surveys_dir, c.languages, c.fallback_language, c.assets_dir);
            platform::Pictures p;
            check_media(surveys, load_news(c.news_file, c.languages, c.fallback_language, c.assets_dir), p);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }
    std::string where() const {
        return (dir / "config" / "surveys" / "child.toml").string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ":";
    }
};

// How much of [min,max] in the last frame's picture is close to `rgb`.
double share_of(const std::string& png, ImVec2 min, ImVec2 max, unsigned rgb) {
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load(png.c_str(), &w, &h, &n, 4);
    REQUIRE(px != nullptr);
    long hits = 0, all = 0;
    for (int y = static_cast<int>(min.y); y < static_cast<int>(max.y) && y < h; ++y)
        for (int x = static_cast<int>(min.x); x < static_cast<int>(max.x) && x < w; ++x) {
            const unsigned char* p = px + (y * w + x) * 4;
            const int dr = p[0] - static_cast<int>((rgb >> 16) & 0xff), dg = p[1] - static_cast<int>((rgb >> 8) & 0xff),
                      db = p[2] - static_cast<int>(rgb & 0xff);
            hits += dr * dr + dg * dg + db * db < 40 * 40;
            ++all;
        }
    stbi_image_free(px);
    return all ? static_cast<double>(hits) / static_cast<double>(all) : 0;
}

}  // namespace

TEST_CASE("every bundled icon is one picture of the emoji font or a picture that decodes") {
    const DeviceConfig c = load_device_config(config_dir() / "kiosk.toml");
    auto surveys = load_surveys(c.surveys_dir, c.languages, c.fallback_language, c.assets_dir);
    const auto news = load_news(c.news_file, c.languages, c.fallback_language, c.assets_dir);
    platform::Pictures p;
    CHECK_NOTHROW(check_media(surveys, news, p));
    // The news has the centre's own picture, decoded once, scaled to what a tile shows.
    const std::string room = (source_dir() / "assets" / "pictures" / "playroom.png").lexically_normal().string();
    CHECK(p.has(room));
    CHECK(p.bytes() == 480u * 360u * 4u);
}

TEST_CASE("emoji sequences the colour font draws as one picture are accepted: skin tones, families, flags, keycaps") {
    IconCopy copy;
    for (const char* one : {"👋🏽", "👨‍👩‍👧", "👩🏻‍🤝‍👨🏿", "🇫🇮", "🇸🇴", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "⛸️"}) {
        INFO(one);
        CHECK(copy.set(one).empty());
    }
    platform::EmojiFont font;
    for (const char* one : {"👋🏽", "👨‍👩‍👧", "🇫🇮", "1️⃣"}) {
        INFO(one);
        CHECK(font.shape(one).glyphs == 1);
        CHECK(font.picture(one).has_value());
    }
    // Each is drawn as one picture: a family's glyph is not its first person's.
    CHECK(*font.picture("👨‍👩‍👧") != *font.picture("👨"));
    CHECK(*font.picture("👋🏽") != *font.picture("👋"));
}

TEST_CASE("two emoji, or a character the emoji font has no picture for, are refused with the line and column") {
    IconCopy copy;
    CHECK_THAT(copy.set("🍎🍐"), Catch::StartsWith(copy.where()) &&
                                     Catch::Contains("question \"best\" choice \"play\".icon \"🍎🍐\" is not one picture") &&
                                     Catch::Contains("draws it as 2 pictures"));
    CHECK_THAT(copy.set("👋 🏽"), Catch::Contains("must be one picture"));  // a space: the loader says so
    CHECK_THAT(copy.set("€"), Catch::StartsWith(copy.where()) && Catch::Contains("has no picture for it"));
}

TEST_CASE("a picture of the centre's own: the bundled one shows in the news; a corrupt or too large one is refused with its line") {
    SECTION("shown") {
        Kiosk k;
        // The fourth message has the playroom picture (assets/pictures/playroom.png).
        k.advance(3 * kNewsMs);
        REQUIRE(k.app.frame_errors() == 0);
        const ui::Target* band = nullptr;
        for (const auto& t : k.app.registry())
            if (t.text.find("leikkihuone") != std::string::npos) band = &t;
        REQUIRE(band != nullptr);
        k.app.screenshot(k.dir / "news.png");
        // The picture sits left of the words: its wall (255,240,222) and floor (205,160,112)
        // are there, scaled to the band's height.
        const ImVec2 p0(k.app.metrics().pad * 2, band->min.y - k.app.metrics().small * 1.2f);
        const ImVec2 p1(band->min.x, k.app.metrics().height - k.app.metrics().pad * 2);
        CHECK(share_of((k.dir / "news.png").string(), p0, p1, 0xFFF0DE) > 0.1);
        CHECK(share_of((k.dir / "news.png").string(), p0, p1, 0xCDA070) > 0.05);
    }
    SECTION("corrupt, too large, missing") {
        IconCopy copy;
        const std::string room = read_file(copy.dir / "assets" / "pictures" / "playroom.png");
        // A PNG cut short: its header is right (the loader takes it), its pixels are not there.
        write_file(copy.dir / "assets" / "pictures" / "cut.png", room.substr(0, room.size() / 2));
        CHECK_THAT(copy.set("pictures/cut.png"), Catch::StartsWith(copy.where()) &&
                                                     Catch::Contains("question \"best\" choice \"play\".icon: the picture") &&
                                                     Catch::Contains("cut.png cannot be shown: cannot decode it"));
        // A PNG that says it is 5000 pixels wide is refused before it is decoded.
        std::string wide = room;
        wide[16] = 0;
        wide[17] = 0;
        wide[18] = 0x13;
        wide[19] = static_cast<char>(0x88);  // IHDR width = 5000
        write_file(copy.dir / "assets" / "pictures" / "wide.png", wide);
        CHECK_THAT(copy.set("pictures/wide.png"), Catch::StartsWith(copy.where()) && Catch::Contains("5000×360 pixels; at most 4096"));
        // Random bytes behind a JPEG's first bytes.
        write_file(copy.dir / "assets" / "pictures" / "noise.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(300, 'x'));
        CHECK_THAT(copy.set("pictures/noise.jpg"), Catch::StartsWith(copy.where()) && Catch::Contains("cannot be shown"));
        CHECK_THAT(copy.set("pictures/none.png"), Catch::StartsWith(copy.where()) && Catch::Contains("not found"));
        // A good one stands where the emoji stood, on the pictures' screen.
        CHECK(copy.set("pictures/playroom.png").empty());
        Kiosk k(1280, 800, {}, copy.kiosk);
        k.tap_id("survey-child");
        k.tap_id("face-5");
        k.advance(Session::kAdvanceMs);
        const ui::Target* tile = k.find_id("choice-play");
        REQUIRE(tile != nullptr);
        k.app.screenshot(k.dir / "tile.png");
        CHECK(share_of((k.dir / "tile.png").string(), tile->min, tile->max, 0xFFF0DE) > 0.1);
    }
}
