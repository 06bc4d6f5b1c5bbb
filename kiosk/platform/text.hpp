// text.hpp — every text the kiosk draws: shaped with HarfBuzz, ordered with FriBidi,
// wrapped and fitted to a box, rasterised with FreeType into a glyph atlas of our own and
// drawn as ImDrawList quads. The screens reach it through ui::Font (ui.hpp); nothing else
// in the kiosk draws text.
//
// Why not ImGui's fonts: Dear ImGui 1.86 from Debian draws from a font atlas of 16-bit
// code points, one glyph per code point, left to right. Arabic needs contextual forms
// (initial, medial, final) and ligatures chosen by OpenType rules (HarfBuzz), right-to-left
// runs and mixed runs in the right order (UAX #9, FriBidi), and emoji sequences are one
// glyph made of several code points. So text is shaped into glyph ids here, and ImGui only
// carries the quads.
//
// Design (docs/architecture.md, "Text"):
//  1. Shape once per text (Shaper::shaped): UTF-8 → code points → FriBidi embedding levels
//     (the paragraph's direction from its first strong letter, else the UI's) → runs of
//     one level, one script and one font (itemised here: Arabic script to Noto Sans Arabic,
//     Hebrew to Noto Sans Hebrew, emoji to Noto Color Emoji, the rest to DejaVu Sans, a
//     character a font lacks to the next that has it) → each run shaped by HarfBuzz in the
//     font's own units (hb_ot functions, no hinting), so the result does not depend on the
//     size: an advance is a fraction of the em. Cached by (text, style, UI direction).
//  2. Lay out per box (Shaper::layout): the size that fits — one line at full size or down
//     to 80 %; else wrapped, shrinking in 5 % steps to the floor; else, at the floor, the
//     lines that fit with the last one cut and ended by "…" (Block::truncated). Lines break
//     at spaces (and after a hyphen or dash); a word wider than the line at the floor breaks
//     between clusters, with a hyphen in Latin, Cyrillic and Greek. Each line's runs are ordered visually by rule L2 of UAX #9 on their levels;
//     HarfBuzz gives each right-to-left run's glyphs already in visual order. Cached by
//     (text, style, direction, box): a frame that draws what the last one drew shapes and
//     breaks nothing.
//  3. Rasterise per glyph id and whole-pixel em (GlyphAtlas): FreeType renders an outline
//     glyph as coverage into white-with-alpha texels (the vertex colour tints it), a colour
//     emoji glyph from the font's bitmap strike scaled down with stb_image_resize. Glyphs
//     are packed on shelves into 1024×1024 RGBA pages (SDL textures). The atlas holds only
//     the glyphs drawn since it was last emptied: it is emptied when the window's sizes
//     change and, at the start of a frame, when it has grown past kMaxPages pages.
//  4. Draw (Typesetter::draw): one textured quad per glyph through ImDrawList::PrimRectUV,
//     consecutive glyphs of a page in one draw command.
// Does not: hyphenate, justify, vertical text, or text input (the on-screen keyboard
// appends characters to a string and the field shows it shaped).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <imgui.h>

struct SDL_Renderer;
struct SDL_Texture;
typedef struct FT_LibraryRec_* FT_Library;
typedef struct FT_FaceRec_* FT_Face;
typedef struct hb_font_t hb_font_t;
typedef struct hb_buffer_t hb_buffer_t;

namespace kohtaamo::text {

enum class Style : std::uint8_t { Regular, Bold };
// The UI's direction: a paragraph with no strong letter of its own (digits, "–") takes it.
enum class Direction : std::uint8_t { Ltr, Rtl };
enum class Align : std::uint8_t { Left, Centre, Right };

// One glyph of a laid-out line, in visual order (left to right).
struct Glyph {
    std::uint32_t id = 0;       // glyph index in its face (what the font's GSUB chose)
    std::uint8_t face = 0;      // index into Shaper::face()
    float x = 0;                // pen position from the line's left edge, em
    float dx = 0, dy = 0;       // HarfBuzz's offsets, em (dy upwards)
    float advance = 0;          // em
    std::uint32_t cluster = 0;  // the first code point of its cluster (logical index)
};

struct Line {
    std::vector<Glyph> glyphs;         // visual order
    float width = 0;                   // em
    std::uint32_t begin = 0, end = 0;  // its code points, logical [begin, end)
};

// A text laid out at one size for one box: what Typesetter::draw draws.
struct Block {
    float size = 0;         // px, in ImGui's sense: ascent + descent of the primary font
    float line_height = 0;  // px between lines
    std::vector<Line> lines;
    float width = 0, height = 0;  // px: the widest line, all the lines
    bool rtl = false;             // the paragraph's direction
    bool truncated = false;       // did not fit at the floor: cut, its last line ending in "…"
};

// The box a text must fit and how small it may get.
struct Fit {
    float size = 0;   // wanted, px
    float floor = 0;  // smallest, px (>= size: never smaller)
    float width = 0;  // px; <= 0: one line, as wide as it is
    float height = 0; // px; 0: only max_lines limits
    int max_lines = 1;
    bool prefer_one_line = true;  // one line down to 80 % before wrapping (labels, headings)
};

// The fonts (Debian packages fonts-dejavu-core, fonts-noto-core, fonts-noto-color-emoji).
struct FontFiles {
    std::string regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    std::string bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    std::string arabic = "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf";
    std::string arabic_bold = "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf";
    std::string hebrew = "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf";
    std::string hebrew_bold = "/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf";
    std::string emoji = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
};

// Shaping and layout; no SDL, no ImGui drawing (tests and the checks use it alone).
class Shaper {
public:
    // The faces, in Shaper::face() order.
    enum FaceIndex : std::uint8_t { kRegular, kArabic, kHebrew, kEmoji, kBold, kArabicBold, kHebrewBold, kFaces };
    struct Face {
        FT_Face ft = nullptr;  // nullptr: the file is missing (its script draws in DejaVu Sans)
        hb_font_t* hb = nullptr;
        float upem = 1000;
        bool colour = false;   // a bitmap colour font (emoji)
        int strike = 0;        // its bitmaps' em in px
        std::string file;
    };
    // The shaped text, size-independent (step 1 above).
    struct Shaped;

    // Throws std::runtime_error when DejaVu Sans (regular or bold) cannot be opened; a
    // missing Noto font is logged once and its script falls back to DejaVu Sans.
    explicit Shaper(const FontFiles& files = {});
    ~Shaper();
    Shaper(const Shaper&) = delete;
    Shaper& operator=(const Shaper&) = delete;

    // `text` laid out for `fit` (cached; the reference stays valid until begin_frame()).
    const Block& layout(std::string_view text, Style style, const Fit& fit, Direction ui);
    // The width of `text` on one line at `size` px.
    float width(std::string_view text, Style style, float size, Direction ui = Direction::Ltr);
    // `text` as one line in visual order (for tests: glyph ids, faces and clusters).
    Line line(std::string_view text, Style style, Direction ui = Direction::Ltr);
    // The paragraph direction FriBidi gives `text` with `ui` as the fallback.
    bool rtl(std::string_view text, Direction ui);

    const Face& face(int i) const { return faces_[static_cast<std::size_t>(i)]; }
    float em(float size) const { return size * em_per_size_; }      // px per em
    float ascent(float size) const { return size * ascent_per_size_; }  // px above the baseline
    static float line_height(float size) { return size * 1.15f; }

    // Call once per frame: ages the caches and drops what has not been used for a while.
    void begin_frame();
    std::size_t cached_texts() const { return shaped_.size(); }
    std::size_t cached_layouts() const { return blocks_.size(); }
    // How many texts were shaped (cache misses) since the start: for the tests of "once".
    std::uint64_t shaped_count() const { return shaped_count_; }

private:
    const Shaped& shaped(std::string_view text, Style style, Direction ui);
    std::shared_ptr<Shaped> shape(std::string_view text, Style style, Direction ui);
    Line make_line(const Shaped& s, std::uint32_t begin, std::uint32_t end) const;

    FT_Library ft_ = nullptr;
    Face faces_[kFaces];
    hb_buffer_t* buffer_ = nullptr;
    float em_per_size_ = 1, ascent_per_size_ = 0.8f;
    std::uint64_t frame_ = 0, shaped_count_ = 0;
    struct ShapedEntry {
        std::shared_ptr<Shaped> s;
        std::uint64_t used = 0;
    };
    struct BlockEntry {
        Block b;
        std::uint64_t used = 0;
    };
    std::unordered_map<std::string, ShapedEntry> shaped_;
    std::unordered_map<std::string, BlockEntry> blocks_;
    Line ellipsis_[2];  // "…" in the regular and the bold face
    Line hyphen_[2];    // "-": ends a line where a word too long for it was broken
};

// Glyph bitmaps in SDL textures (step 3 above).
class GlyphAtlas {
public:
    static constexpr int kPage = 1024;
    static constexpr int kMaxPages = 4;
    struct Entry {
        int page = -1;
        ImVec2 uv0, uv1;
        float w = 0, h = 0;        // px at the rasterised em
        float left = 0, top = 0;   // bearing from the pen position and the baseline, px
        bool colour = false;       // drawn in its own colours (emoji), not tinted
    };
    GlyphAtlas(SDL_Renderer* renderer, Shaper& shaper);
    ~GlyphAtlas();
    GlyphAtlas(const GlyphAtlas&) = delete;
    GlyphAtlas& operator=(const GlyphAtlas&) = delete;

    // The glyph at `em_px` px per em, rasterised on first use.
    const Entry& get(int face, std::uint32_t glyph, int em_px);
    SDL_Texture* page(int i) const { return pages_[static_cast<std::size_t>(i)].texture; }
    int pages() const { return static_cast<int>(pages_.size()); }
    std::size_t glyphs() const { return entries_.size(); }
    // Empties the atlas when it has grown past kMaxPages (call before a frame draws).
    void begin_frame();
    void clear();

private:
    struct Shelf {
        int y = 0, height = 0, x = 0;
    };
    struct Page {
        SDL_Texture* texture = nullptr;
        std::vector<Shelf> shelves;
        int bottom = 0;
    };
    bool place(int w, int h, int* page, int* x, int* y);
    SDL_Renderer* renderer_;
    Shaper& shaper_;
    std::vector<Page> pages_;
    std::unordered_map<std::uint64_t, Entry> entries_;
};

// What the screens draw text with: the Shaper's layout and the atlas's glyphs.
class Typesetter {
public:
    Typesetter(SDL_Renderer* renderer, const FontFiles& files = {});
    Shaper& shaper() { return shaper_; }
    GlyphAtlas& atlas() { return atlas_; }
    // Draws `b` with its first line's top at `pos.y`, each line aligned in
    // [pos.x, pos.x + box_width]. `colour` tints outline glyphs (emoji keep their colours).
    void draw(ImDrawList* dl, const Block& b, ImVec2 pos, float box_width, Align align, ImU32 colour);
    // Where the logical end of `b` is (after its last character): the caret's x, the top
    // of its line. For a right-to-left paragraph that is the left end of the last line.
    ImVec2 end_of_text(const Block& b, ImVec2 pos, float box_width, Align align) const;
    void begin_frame() {
        shaper_.begin_frame();
        atlas_.begin_frame();
    }
    // The window's sizes changed: the glyphs drawn so far will not be drawn again.
    void clear() { atlas_.clear(); }

private:
    float line_x(const Block& b, const Line& l, ImVec2 pos, float box_width, Align align) const;
    Shaper shaper_;
    GlyphAtlas atlas_;
};

}  // namespace kohtaamo::text
