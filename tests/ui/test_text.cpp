// The shaping layer (kiosk/platform/text.hpp) on Debian's real fonts: Arabic letters take
// their joined forms from the font, right-to-left and mixed runs come out in visual order,
// bidi mirroring, emoji sequences as one glyph, wrapping and cutting, shaping once per
// text, and an atlas that holds only the glyphs drawn.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <SDL.h>
#include <ft2build.h>
#include FT_FREETYPE_H

#include "text.hpp"

using namespace kohtaamo::text;

namespace {

std::uint32_t cmap(const Shaper& s, int face, char32_t c) { return FT_Get_Char_Index(s.face(face).ft, c); }

std::vector<std::uint32_t> ids(const Line& l) {
    std::vector<std::uint32_t> out;
    for (const auto& g : l.glyphs) out.push_back(g.id);
    return out;
}
std::vector<std::uint32_t> clusters(const Line& l) {
    std::vector<std::uint32_t> out;
    for (const auto& g : l.glyphs) out.push_back(g.cluster);
    return out;
}
std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {  // [from, to), down when from > to
    std::vector<std::uint32_t> out;
    if (from <= to)
        for (std::uint32_t i = from; i < to; ++i) out.push_back(i);
    else
        for (std::uint32_t i = from; i > to; --i) out.push_back(i - 1);
    return out;
}
std::vector<std::uint32_t> cat(std::initializer_list<std::vector<std::uint32_t>> parts) {
    std::vector<std::uint32_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("Arabic letters take their initial, medial and final forms from Noto Sans Arabic, right to left") {
    Shaper s;
    REQUIRE(s.face(Shaper::kArabic).ft != nullptr);
    // "كيف" (how): kaf initial, yeh medial, feh final — the glyphs the font maps to the
    // presentation forms U+FEDB, U+FEF4, U+FED2 — drawn from the right: in visual order
    // (left to right) feh, yeh, kaf.
    const Line l = s.line("كيف", Style::Regular, Direction::Rtl);
    const std::vector<std::uint32_t> joined = {cmap(s, Shaper::kArabic, 0xFED2), cmap(s, Shaper::kArabic, 0xFEF4),
                                               cmap(s, Shaper::kArabic, 0xFEDB)};
    CHECK(ids(l) == joined);
    CHECK(clusters(l) == std::vector<std::uint32_t>{2, 1, 0});
    // ... and not the isolated forms the code points alone map to ("ك ي ف").
    const std::vector<std::uint32_t> isolated = {cmap(s, Shaper::kArabic, 0x0641), cmap(s, Shaper::kArabic, 0x064A),
                                                 cmap(s, Shaper::kArabic, 0x0643)};
    for (std::size_t i = 0; i < 3; ++i) CHECK(ids(l)[i] != isolated[i]);
    for (const auto& g : l.glyphs) CHECK(g.face == Shaper::kArabic);
    // Spaced apart they are isolated, and each word still reads from the right.
    const Line apart = s.line("ك ي ف", Style::Regular, Direction::Rtl);
    CHECK(clusters(apart) == std::vector<std::uint32_t>{4, 3, 2, 1, 0});
    CHECK(apart.glyphs[0].id == isolated[0]);
    CHECK(apart.glyphs[4].id == isolated[2]);
    // The bold face joins too.
    const Line bold = s.line("كيف", Style::Bold, Direction::Rtl);
    CHECK(bold.glyphs.front().face == Shaper::kArabicBold);
    CHECK(bold.glyphs.front().id == cmap(s, Shaper::kArabicBold, 0xFED2));
    CHECK(s.rtl("كيف", Direction::Ltr));  // its own first strong letter makes it right to left
}

TEST_CASE("mixed runs come out in visual order: a Latin word or a number inside Arabic, Arabic inside Finnish") {
    Shaper s;
    // "مرحبا Kohtaamo 2026": right to left; the Latin word and the year (code points 6..18)
    // read left to right, at the left of the Arabic word (code points 0..4, from the right).
    const Line a = s.line("مرحبا Kohtaamo 2026", Style::Regular, Direction::Rtl);
    CHECK(clusters(a) == cat({range(6, 19), {5}, range(5, 0)}));
    // A number in an Arabic sentence: "عمري 12 سنة" (my age is 12 years): the digits keep
    // their order, the words read from the right.
    const Line n = s.line("عمري 12 سنة", Style::Regular, Direction::Rtl);
    CHECK(clusters(n) == cat({range(11, 8), {7}, {5, 6}, {4}, range(4, 0)}));
    // The bundled age label "3–5 سنوات": the range reads 3–5 (3 at its right end, as Arabic
    // readers read it), then "years" further left.
    const Line age = s.line("3–5 سنوات", Style::Regular, Direction::Rtl);
    CHECK(s.rtl("3–5 سنوات", Direction::Ltr));
    CHECK(clusters(age).back() == 0);        // "3", the first character, at the right end
    CHECK(clusters(age).front() == 8);       // the end of "سنوات" at the left end
    // Arabic inside a Finnish sentence keeps the sentence left to right.
    const Line f = s.line("Hei كيف!", Style::Regular, Direction::Ltr);
    CHECK_FALSE(s.rtl("Hei كيف!", Direction::Ltr));
    CHECK(clusters(f) == cat({range(0, 4), {6, 5, 4}, {7}}));
    CHECK(f.glyphs[4].face == Shaper::kArabic);
    CHECK(f.glyphs[0].face == Shaper::kRegular);
    // Positions grow left to right whatever the order of the characters.
    for (std::size_t i = 1; i < a.glyphs.size(); ++i) CHECK(a.glyphs[i].x >= a.glyphs[i - 1].x);
}

TEST_CASE("right to left, paired marks mirror: the Back arrow points right, the Next arrow left") {
    Shaper s;
    const FT_Face dv = s.face(Shaper::kRegular).ft;
    const Line back = s.line("‹\u00A0رجوع", Style::Regular, Direction::Rtl);
    CHECK(back.glyphs.back().id == FT_Get_Char_Index(dv, 0x203A));  // › at the right end, where Back starts
    const Line next = s.line("التالي\u00A0›", Style::Regular, Direction::Rtl);
    CHECK(next.glyphs.front().id == FT_Get_Char_Index(dv, 0x2039));  // ‹ at the left end
    const Line ltr = s.line("‹\u00A0Takaisin", Style::Regular, Direction::Ltr);
    CHECK(ltr.glyphs.front().id == FT_Get_Char_Index(dv, 0x2039));
}

TEST_CASE("emoji sequences in a text are one glyph of the colour font; a missing letter falls back to a font that has it") {
    Shaper s;
    for (const char* e : {"👨‍👩‍👧", "👋🏽", "🇫🇮", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🧑🏽‍🤝‍🧑🏻"}) {
        INFO(e);
        const Line l = s.line(e, Style::Regular);
        REQUIRE(l.glyphs.size() == 1);
        CHECK(l.glyphs[0].face == Shaper::kEmoji);
        CHECK(l.glyphs[0].id != 0);
    }
    const Line mixed = s.line("Kiitos 👋🏽!", Style::Regular);
    CHECK(mixed.glyphs.size() == 9);
    CHECK(mixed.glyphs[7].face == Shaper::kEmoji);
    // Hebrew goes to Noto Sans Hebrew, Cyrillic stays in DejaVu Sans.
    CHECK(s.line("שלום", Style::Regular).glyphs[0].face == Shaper::kHebrew);
    CHECK(s.line("Дякуємо", Style::Regular).glyphs[0].face == Shaper::kRegular);
    // Broken UTF-8 draws a replacement character instead of failing.
    CHECK(s.line(std::string("a\xC3", 2), Style::Regular).glyphs.size() == 2);
}

TEST_CASE("a long text wraps at spaces, shrinks to the floor, and past it is cut with an ellipsis at its end") {
    Shaper s;
    const float size = 40, floor = 24, width = 400;
    // Short: one line at full size.
    const Block& one = s.layout("Miltä tänään tuntui?", Style::Regular, Fit{size, floor, width, 0, 3}, Direction::Ltr);
    CHECK(one.lines.size() == 1);
    CHECK(one.size == size);
    CHECK_FALSE(one.truncated);
    // Longer: wrapped, every line within the width, no word cut.
    std::string text;
    for (int i = 0; i < 12; ++i) text += "sana" + std::to_string(i) + " ";
    const Block& wrapped = s.layout(text, Style::Regular, Fit{size, floor, width, 0, 6}, Direction::Ltr);
    CHECK(wrapped.lines.size() > 1);
    CHECK_FALSE(wrapped.truncated);
    for (const auto& l : wrapped.lines) CHECK(l.width * s.em(wrapped.size) <= width + 0.5f);
    // Two lines only: smaller, down to the floor.
    const Block& small = s.layout(text, Style::Regular, Fit{size, floor, width, 0, 2}, Direction::Ltr);
    CHECK(small.size < size);
    CHECK(small.size >= floor);
    // 2,000 characters without a space in a 3-line box: cut between letters at the floor,
    // the last line ending in "…", nothing wider than the box.
    const std::string wall(2000, 'm');
    const Block& cut = s.layout(wall, Style::Regular, Fit{size, floor, width, Shaper::line_height(floor) * 3, 99}, Direction::Ltr);
    CHECK(cut.truncated);
    CHECK(cut.size == floor);
    CHECK(cut.lines.size() == 3);
    CHECK(cut.height <= Shaper::line_height(floor) * 3 + 0.5f);
    for (const auto& l : cut.lines) CHECK(l.width * s.em(floor) <= width + 0.5f);
    const FT_Face dv = s.face(Shaper::kRegular).ft;
    CHECK(cut.lines.back().glyphs.back().id == FT_Get_Char_Index(dv, 0x2026));
    CHECK(cut.lines.front().glyphs.back().id == FT_Get_Char_Index(dv, '-'));  // a broken word gets a hyphen
    // A word too long for its box at the floor breaks with a hyphen (an Arabic one without).
    const Block& word = s.layout("Liikuntaleikit", Style::Regular, Fit{size, floor, 100, 0, 2}, Direction::Ltr);
    REQUIRE(word.lines.size() == 2);
    CHECK(word.size == floor);
    CHECK_FALSE(word.truncated);
    CHECK(word.lines[0].glyphs.back().id == FT_Get_Char_Index(dv, '-'));
    for (const auto& l : word.lines) CHECK(l.width * s.em(floor) <= 100.5f);
    const Block& arabic_word = s.layout("الاستثنائيةالاستثنائية", Style::Regular, Fit{size, floor, 150, 0, 3}, Direction::Rtl);
    for (const auto& l : arabic_word.lines)
        for (const auto& g : l.glyphs) CHECK(g.face == Shaper::kArabic);
    // Right to left the "…" is at the left end, where the reading stops.
    std::string arabic;
    for (int i = 0; i < 300; ++i) arabic += "كيف ";
    const Block& rtl = s.layout(arabic, Style::Regular, Fit{size, floor, width, 0, 2}, Direction::Rtl);
    CHECK(rtl.truncated);
    CHECK(rtl.rtl);
    CHECK(rtl.lines.back().glyphs.front().id == FT_Get_Char_Index(dv, 0x2026));
}

TEST_CASE("a text is shaped once, whatever the sizes and boxes it is laid out for, and again only after it went unused") {
    Shaper s;
    const std::uint64_t before = s.shaped_count();
    for (int frame = 0; frame < 50; ++frame) {
        s.begin_frame();
        for (float size : {30.0f, 40.0f, 52.0f})
            for (float width : {200.0f, 400.0f}) s.layout("Mikä oli parasta? ما الذي أعجبك أكثر؟", Style::Regular, Fit{size, 20, width, 0, 3}, Direction::Ltr);
    }
    CHECK(s.shaped_count() - before == 1);
    // A visitor typing makes one new text per key; the ones no frame uses any more go once
    // the cache is large, and a text in use stays.
    for (int i = 0; i < 2500; ++i) {
        s.begin_frame();
        s.layout("kept", Style::Regular, Fit{40, 20, 300, 0, 1}, Direction::Ltr);
        s.layout("typed " + std::to_string(i), Style::Regular, Fit{40, 20, 300, 0, 1}, Direction::Ltr);
    }
    CHECK(s.cached_texts() < 2100);
    const std::uint64_t typed = s.shaped_count();
    s.layout("kept", Style::Regular, Fit{40, 20, 300, 0, 1}, Direction::Ltr);
    CHECK(s.shaped_count() == typed);
}

TEST_CASE("the glyph atlas holds the glyphs drawn, once each, and is emptied when the sizes change") {
    SDL_Surface* surface = SDL_CreateRGBSurfaceWithFormat(0, 400, 200, 32, SDL_PIXELFORMAT_RGBA32);
    REQUIRE(surface != nullptr);
    SDL_Renderer* renderer = SDL_CreateSoftwareRenderer(surface);
    REQUIRE(renderer != nullptr);
    {
        Typesetter t(renderer);
        Shaper& s = t.shaper();
        auto distinct = [&](const Block& b) {
            std::set<std::pair<int, std::uint32_t>> g;
            for (const auto& l : b.lines)
                for (const auto& gl : l.glyphs) g.insert({gl.face, gl.id});
            return g.size();
        };
        const int em = static_cast<int>(std::lround(s.em(40)));
        auto rasterise = [&](const Block& b) {
            for (const auto& l : b.lines)
                for (const auto& g : l.glyphs) t.atlas().get(g.face, g.id, em);
        };
        const Block& b = s.layout("kiitos kiitos كيف كيف", Style::Regular, Fit{40, 40, 0, 0, 1}, Direction::Ltr);
        rasterise(b);
        rasterise(b);
        CHECK(t.atlas().glyphs() == distinct(b));  // the same glyph twice is one entry
        CHECK(t.atlas().pages() == 1);
        t.clear();
        CHECK(t.atlas().glyphs() == 0);
        CHECK(t.atlas().pages() == 0);
        // A colour emoji is rasterised from its bitmap strike, in colour.
        const Block& e = s.layout("👋🏽", Style::Regular, Fit{40, 40, 0, 0, 1}, Direction::Ltr);
        const auto& entry = t.atlas().get(e.lines[0].glyphs[0].face, e.lines[0].glyphs[0].id, em);
        CHECK(entry.colour);
        CHECK(entry.w > em * 0.8f);
    }
    SDL_DestroyRenderer(renderer);
    SDL_FreeSurface(surface);
}
