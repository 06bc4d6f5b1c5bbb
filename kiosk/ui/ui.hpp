// ui.hpp — what every screen draws with: the frame context (fonts, sizes, colours,
// pictures, texts) and the kiosk's few widgets.
//
// Screens are thin: each is one function that reads the core's state (through View) and
// returns an Action; it owns no data. Every widget records its visible text and rectangle
// in the frame's Registry, which is how the replay harness finds "the button whose text is
// exactly X" and checks `expect "text"`.
//
// Does: big touch targets (never smaller than Metrics::min_target), pressed feedback while
// a finger is down, no hover-only affordance; every text through the shaping layer
// (platform/text.hpp: joined scripts, right-to-left and mixed runs, emoji), wrapped and
// shrunk to fit its box down to Metrics::floor and, past that, cut with "…" (never off
// its box). Right to left (Frame::rtl): screens lay out as for a left-to-right language
// and every widget mirrors the rectangle it is given (Back on the right, Next on the left,
// a picture tile grid from the top right), its inner layout and its text's alignment.
// Does not: talk to SDL or the store.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <imgui.h>

#include "config.hpp"
#include "coordinator.hpp"
#include "news.hpp"
#include "session.hpp"
#include "text.hpp"

namespace kohtaamo::ui {

// Something a screen asks the session to do.
struct Action {
    enum Kind {
        None, Language, Survey, Answer, Toggle, Next, Back,  // the visitor
        Listen,                                              // the speaker: the question's voice again
        Type, Shift,                                         // the on-screen keyboard (+ Erase)
        Month, Wish, Come, Idea, Done,                       // the year-clock (value: month, id)
        OpenStaff, Digit, Erase, PinOk, Close, Export, Quit  // the coordinator
    } kind = None;
    std::string value;
    explicit operator bool() const { return kind != None; }
};

// One visible text on the last frame; `tappable` when it labels a target.
struct Target {
    std::string text;
    ImVec2 min, max;
    bool tappable = false;
    bool key = false;        // a key of the on-screen keyboard (at least Metrics::min_key)
    std::string id;          // the widget's id ("next", "choice-play", "lang-ar"); "" for plain text
    bool truncated = false;  // its text did not fit at Metrics::floor: cut, ending in "…"
    int lines = 1;           // lines its text was drawn on
    ImVec2 center() const { return {(min.x + max.x) / 2, (min.y + max.y) / 2}; }
};
using Registry = std::vector<Target>;

// Sizes that follow the window. Built by the platform layer when the window size changes.
struct Metrics {
    float width = 0, height = 0;
    float font = 0;        // body text, px
    float title = 0;       // headings, px
    float small = 0;       // labels under pictures, px (still large)
    float min_target = 0;  // smallest touch target side, px (>= 15 mm, and a share of the screen)
    float min_key = 0;     // smallest on-screen keyboard key side, px: 15 mm (12 keys must fit a row)
    float pad = 0;         // spacing unit
    float floor = 0;       // smallest text, px: a long text shrinks to it, then is cut with "…"
    float icon_max = 256;  // largest picture side before the emoji bitmaps look blurred
    bool portrait() const { return height > width; }
};

// An icon's picture: a colour emoji or one of the centre's own pictures (the platform
// makes the texture). `aspect` is width / height (1 for emoji).
struct Picture {
    ImTextureID texture = nullptr;
    float aspect = 1;
};
using IconLookup = std::function<Picture(const std::string& icon)>;

// A font is a style of the shaping layer; sizes are given per call.
struct Font {
    text::Typesetter* ts = nullptr;
    text::Style style = text::Style::Regular;
};
struct Fonts {
    Font body;   // DejaVu Sans, Noto Sans Arabic/Hebrew, Noto Color Emoji
    Font title;  // their bold faces
    Font small;  // as body (a size apart)
};

// Everything a screen needs for one frame.
struct Frame {
    const Metrics& m;
    const Fonts& fonts;
    const Catalog& texts;
    const IconLookup& icon;
    const std::string& lang;
    Registry& registry;
    double time_s = 0;  // seconds on the kiosk clock, for animations
    bool rtl = false;   // a right-to-left language (Catalog::rtl): the widgets mirror

    const std::string& t(const std::string& key) const { return texts.get(lang, key); }
    text::Direction dir() const { return rtl ? text::Direction::Rtl : text::Direction::Ltr; }
    // An x coordinate of a left-to-right layout, where it is on screen.
    float x(float v) const { return rtl ? m.width - v : v; }
    // The same frame drawing left to right (a clock face, a PIN pad and a keyboard's
    // letter rows keep their places in every language).
    Frame unmirrored() const {
        Frame f = *this;
        f.rtl = false;
        return f;
    }
};

// The colours of the kiosk's theme. Every text/background pair used by the screens has
// a contrast of at least 4.5:1 (WCAG AA); tests/ui checks each pair.
namespace colour {
constexpr ImU32 rgb(unsigned v) { return IM_COL32((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff, 0xff); }
constexpr unsigned kBackground = 0xFFF8EC;  // warm paper
constexpr unsigned kText = 0x1F2933;        // near black
constexpr unsigned kMuted = 0x4A5560;       // secondary text, still 7:1 on background
constexpr unsigned kPrimary = 0x1D4E89;     // main buttons (white text)
constexpr unsigned kPrimaryDown = 0x133762;
constexpr unsigned kOnPrimary = 0xFFFFFF;
constexpr unsigned kTile = 0xFFFFFF;        // picture tiles (dark text)
constexpr unsigned kTileDown = 0xE3ECF7;
constexpr unsigned kPicked = 0xCFE3FA;      // picked tile fill (dark text)
constexpr unsigned kPickedEdge = 0x1D4E89;
constexpr unsigned kEdge = 0x8A96A3;
constexpr unsigned kSecondary = 0xE6E1D6;   // back/skip buttons (dark text)
constexpr unsigned kError = 0x9B1C1C;       // error screen background (white text)
constexpr unsigned kSpeaker = 0xFFD166;     // the speaker button: sunny, unlike any answer (dark text)
constexpr unsigned kSpeakerDown = 0xF2B632;
// Smiley faces, saddest to happiest (drawn with dark features).
constexpr unsigned kFace[5] = {0xEE6A45, 0xF29E4C, 0xF1C453, 0xA3C45A, 0x4CAF50};
// The year-clock's seasons (month segments, dark text): winter, spring, summer, autumn.
constexpr unsigned kSeason[4] = {0xDCE9F7, 0xDDF0D2, 0xFFEDB3, 0xF8DCC4};
}  // namespace colour

// --- widgets ---

// The size of `s` on one line in `font` at `size` px.
ImVec2 measure(Font font, float size, const std::string& s);
// Text at a position (registered, not tappable): one line when `width` is 0, else wrapped
// in [pos.x, pos.x + width] on at most `max_lines` lines (shrinking to Metrics::floor,
// then cut), from the start side (the right, right to left). Returns its size.
ImVec2 text(const Frame& f, Font font, float size, ImVec2 pos, unsigned colour, const std::string& s,
            float width = 0, int max_lines = 1);
// Text centred horizontally in [x0, x1] at y: one line down to 80 %, else wrapped on at
// most `max_lines` lines and within `max_h` px (0: no limit), shrinking to Metrics::floor,
// then cut. Returns the height used.
float text_centred(const Frame& f, Font font, float size, float x0, float x1, float y, unsigned colour,
                   const std::string& s, int max_lines = 3, float max_h = 0);
// The height text_centred would use, without drawing.
float text_centred_height(const Frame& f, Font font, float size, float x0, float x1, const std::string& s,
                          int max_lines = 3, float max_h = 0);
// A filled rectangle with round corners of radius `r`, as ImDrawList::AddRectFilled draws
// it, but made of three plain rectangles and four corner pieces: the software renderer
// fills a plain rectangle as a block and only the small corners as triangles (a key, a
// tile or a button costs a fraction of a rounded polygon's triangle fan).
void fill_rounded(ImDrawList* dl, ImVec2 min, ImVec2 max, ImU32 colour, float r);
// An icon's picture fitted (its aspect kept) and centred in [min,max].
void picture(const Frame& f, const std::string& icon, ImVec2 min, ImVec2 max);
enum class Arrow { None, Back, Forward };
// The bottom bar: Back at the left, a primary button (Next, Skip, Done) at the right
// (mirrored right to left). True when tapped.
bool bottom_back(const Frame& f);
bool bottom_forward(const Frame& f, const char* id, const std::string& label, Arrow arrow = Arrow::Forward);
// A rounded button with a centred label. Returns true when tapped (released inside).
bool button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label, unsigned fill,
            unsigned fill_down, unsigned ink, Arrow arrow = Arrow::None);
// The speaker button (🔊 and its word): the question's voice again. Icon and word side by
// side when they fit, else the icon above the word. True when tapped.
bool speaker_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label);
// A picture tile: icon above, label below; `picked` draws it selected. True when tapped.
bool picture_tile(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                  const std::string& label, bool picked);
// A smiley face (level 0..faces-1 of `faces`) with its label below. True when tapped.
bool smiley(const Frame& f, const char* id, ImVec2 min, ImVec2 max, int level, int faces,
            const std::string& label, bool picked);
// Draws a face into a circle (used by smiley() and the agree scale).
void draw_face(ImDrawList* dl, ImVec2 centre, float radius, float mood /* -1 sad .. 1 happy */, unsigned fill);

// A grid of `n` cells in [min,max]: the columns/rows that give the largest cells; a last
// row that is not full is centred under the others.
struct Grid {
    int cols = 1, rows = 1, n = 1;
    ImVec2 cell;
    ImVec2 origin;
    float gap = 0;
    ImVec2 cell_min(int i) const;
    ImVec2 cell_max(int i) const { auto p = cell_min(i); return {p.x + cell.x, p.y + cell.y}; }
};
Grid layout_grid(int n, ImVec2 min, ImVec2 max, float gap, float aspect /* w/h wanted */);

// --- screens (one file each) ---

struct View {
    const Session& session;
    bool shift = false;  // the on-screen keyboard's shift (one letter, as on a phone)
    const std::vector<NewsItem>* news = nullptr;  // "you said, we did", on the welcome screen
    bool sound = true;  // a speaker may be there: questions with a voice get a speaker button
};

// A text-choice button: optional icon at the left, the words, a check when picked.
bool choice_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                   const std::string& label, bool picked);

// The text typed so far in a white box, wrapped, with a bar where the next letter goes;
// a long text shows its last lines.
void text_field(const Frame& f, const std::string& text, ImVec2 min, ImVec2 max);

// The on-screen keyboard's letter rows in a language (from its catalogue: keys_1..3, or
// keys_shift_1..3), the third row between shift "⇧" and erase "⌫".
struct KeyboardLayout {
    std::vector<std::vector<std::string>> rows;
    int columns = 0;  // the longest row
};
KeyboardLayout keyboard_layout(const Catalog& texts, const std::string& lang, bool shift);
// The on-screen keyboard in the visitor's language (Finnish/Swedish: å ä ö; Ukrainian:
// Cyrillic; Arabic) in [min,max], with Back and Next in its bottom row. Returns Type
// (value = the character), Erase, Shift, Back or Next. `next_label` empty: no Next key;
// `back_label` empty: the Back key says "back".
Action keyboard(const Frame& f, ImVec2 min, ImVec2 max, bool shift, const std::string& next_label,
                const std::string& back_label = "");
// The least height the keyboard needs: four rows of keys as high as a touch target.
float keyboard_height(const Metrics& m);

// The welcome screen: the surveys as big pictures (a child taps its own), the languages
// as a row of smaller buttons under them, "you said, we did" at the bottom. In the
// one-question event mode the question's answers stand where the surveys would.
Action welcome_screen(const Frame& f, const View& v, const std::vector<std::string>& languages);
Action question_screen(const Frame& f, const View& v);
// The answers of a single-tap question in [min,max] (the question screen's, and the
// welcome screen's in the one-question event mode).
Action answers(const Frame& f, const View& v, const Question& q, ImVec2 min, ImVec2 max);
Action thanks_screen(const Frame& f, const View& v);
// The participation year-clock: the ring of months, a month's page, typing an idea.
Action yearclock_screen(const Frame& f, const View& v);
// How long the thank-you screen animates (the loop draws continuously only that long).
double thanks_animation_seconds();
// Shown instead of the kiosk when the config is broken (staff read it). Texts are fixed
// here, in three languages, because the catalogue itself may be what is broken.
bool config_error_screen(const Frame& f, const std::string& message);
// "This kiosk is resting": shown to visitors while the store cannot write (a full disk, a
// failed SD card), calm and in every language given (`lines`, one each); `staff_reason`
// (SQLite's message and what the kiosk does) small at the bottom, for staff.
void resting_screen(const Frame& f, const std::vector<std::string>& lines, const std::string& staff_reason);
// A hidden target in the top-left corner of the welcome screen: held for 3 s it opens
// the coordinator's PIN screen. Not tappable by replay text (use `hold X Y MS`).
bool staff_corner(const Frame& f);

// The PIN pad. `entered` digits show as dots; `message` (wrong PIN, locked) above them.
struct PinView {
    int entered = 0;
    std::string message;
    bool locked = false;
};
Action pin_screen(const Frame& f, const PinView& v);

// The coordinator's screen: the numbers, sync state, Export, Close and Quit.
struct StaffView {
    const CoordinatorStats& stats;
    const std::vector<Survey>& surveys;
    std::string export_message;  // result or error of the last export; "" = none
    double export_progress = -1;  // 0..1 while an export runs; -1 otherwise
    // What staff must know and act on (a database moved aside, the store resting, the demo
    // PIN): each drawn in the error colour under the counts.
    std::vector<std::string> warnings = {};
};
Action staff_screen(const Frame& f, const StaffView& v);

// The passphrase of the locked key file on the coordinator's stick (docs/security.md), on
// the on-screen keyboard: what is typed shows as dots. Returns Type, Erase, Shift, Next
// (open the key) or Back (skip: the sealed delivery file alone).
struct UnlockView {
    std::string key_name;  // the key file's name on the stick
    int typed = 0;         // characters typed so far
    std::string message;   // "the passphrase does not open the key" after a wrong one
    bool shift = false;
};
Action unlock_screen(const Frame& f, const UnlockView& v);

// The top-level: the screen for the session's state.
Action draw(const Frame& f, const View& v, const std::vector<std::string>& languages);

}  // namespace kohtaamo::ui
