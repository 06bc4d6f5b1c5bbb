// widgets.cpp — the kiosk's widgets: text, buttons, picture tiles, smiley faces, grids.
// Every text goes through the shaping layer (text.hpp) and fits its box; every rectangle
// a screen gives is mirrored for a right-to-left language (ui.hpp).
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {

struct Rect {
    ImVec2 min, max;
    float w() const { return max.x - min.x; }
    float h() const { return max.y - min.y; }
};

// Where [min,max] of a left-to-right layout is on screen.
Rect place(const Frame& f, ImVec2 min, ImVec2 max) {
    if (!f.rtl) return {min, max};
    return {ImVec2(f.m.width - max.x, min.y), ImVec2(f.m.width - min.x, max.y)};
}
// [x, x + w] inside `r`, mirrored within it right to left: the left edge on screen.
float inside(const Frame& f, const Rect& r, float x, float w) { return f.rtl ? r.min.x + r.max.x - x - w : x; }

text::Align start(const Frame& f) { return f.rtl ? text::Align::Right : text::Align::Left; }

// `s` laid out to fit: see text::Shaper::layout. Cached there: no shaping per frame.
const text::Block& fit(const Frame& f, Font font, float size, const std::string& s, float width, int max_lines,
                       float height = 0, bool one_line_first = true) {
    const text::Fit fit{size, std::min(size, f.m.floor), width, height, max_lines, one_line_first};
    return font.ts->shaper().layout(s, font.style, fit, f.dir());
}

void draw(Font font, const text::Block& b, ImVec2 pos, float width, text::Align align, ImU32 col) {
    font.ts->draw(ImGui::GetWindowDrawList(), b, pos, width, align, col);
}

void add(const Frame& f, const char* id, const std::string& s, ImVec2 min, ImVec2 max, bool tappable,
         const text::Block* b) {
    Target t;
    t.text = s;
    t.min = min;
    t.max = max;
    t.tappable = tappable;
    if (id) t.id = id;
    if (b) {
        t.truncated = b->truncated;
        t.lines = static_cast<int>(b->lines.size());
    }
    f.registry.push_back(std::move(t));
}

// An invisible ImGui button over [min,max]: true on release inside; `down` while pressed.
// A rectangle without area (a layout squeezed to nothing) is no button.
bool hit(const char* id, ImVec2 min, ImVec2 max, bool* down) {
    *down = false;
    if (!(max.x - min.x >= 1.0f) || !(max.y - min.y >= 1.0f)) return false;
    ImGui::SetCursorScreenPos(min);
    bool clicked = ImGui::InvisibleButton(id, ImVec2(max.x - min.x, max.y - min.y));
    *down = ImGui::IsItemActive();
    return clicked;
}

void check_mark(ImDrawList* dl, ImVec2 cc, float c) {
    dl->AddCircleFilled(cc, c * 0.5f, colour::rgb(colour::kPickedEdge));
    dl->AddPolyline(std::array<ImVec2, 3>{ImVec2(cc.x - c * 0.22f, cc.y), ImVec2(cc.x - c * 0.05f, cc.y + c * 0.18f),
                                           ImVec2(cc.x + c * 0.25f, cc.y - c * 0.18f)}.data(),
                    3, colour::rgb(colour::kOnPrimary), 0, c * 0.1f);
}

}  // namespace

void fill_rounded(ImDrawList* dl, ImVec2 min, ImVec2 max, ImU32 col, float r) {
    min = ImVec2(std::round(min.x), std::round(min.y));
    max = ImVec2(std::round(max.x), std::round(max.y));
    r = std::round(std::clamp(r, 0.0f, std::min(max.x - min.x, max.y - min.y) / 2));
    if (r < 2 || max.x - min.x < 4 || max.y - min.y < 4) {
        dl->AddRectFilled(min, max, col);
        return;
    }
    constexpr float kPi = 3.14159265f;
    // The middle column, and the two sides between the corners (one pixel into the corner
    // pieces, so that their soft inner edges do not show).
    dl->AddRectFilled(ImVec2(min.x + r - 1, min.y), ImVec2(max.x - r + 1, max.y), col);
    dl->AddRectFilled(ImVec2(min.x, min.y + r - 1), ImVec2(min.x + r, max.y - r + 1), col);
    dl->AddRectFilled(ImVec2(max.x - r, min.y + r - 1), ImVec2(max.x, max.y - r + 1), col);
    const ImVec2 centres[4] = {ImVec2(min.x + r, min.y + r), ImVec2(max.x - r, min.y + r), ImVec2(max.x - r, max.y - r),
                               ImVec2(min.x + r, max.y - r)};
    for (int i = 0; i < 4; ++i) {
        const float a0 = kPi + static_cast<float>(i) * kPi / 2;
        dl->PathLineTo(centres[i]);
        dl->PathArcTo(centres[i], r, a0, a0 + kPi / 2);
        dl->PathFillConvex(col);
    }
}

ImVec2 measure(Font font, float size, const std::string& s) {
    return ImVec2(font.ts->shaper().width(s, font.style, size), size);
}

ImVec2 text(const Frame& f, Font font, float size, ImVec2 pos, unsigned colour, const std::string& s, float width,
            int max_lines) {
    const text::Block& b = width > 0 ? fit(f, font, size, s, width, max_lines, 0, false) : fit(f, font, size, s, 0, 1);
    const float w = width > 0 ? width : b.width;
    const Rect r = place(f, pos, ImVec2(pos.x + w, pos.y + b.height));
    draw(font, b, r.min, w, start(f), colour::rgb(colour));
    add(f, nullptr, s, ImVec2(f.rtl ? r.max.x - b.width : r.min.x, r.min.y),
        ImVec2(f.rtl ? r.max.x : r.min.x + b.width, r.max.y), false, &b);
    return ImVec2(b.width, b.height);
}

float text_centred_height(const Frame& f, Font font, float size, float x0, float x1, const std::string& s, int max_lines,
                          float max_h) {
    return fit(f, font, size, s, x1 - x0, max_lines, max_h).height;
}

float text_centred(const Frame& f, Font font, float size, float x0, float x1, float y, unsigned colour,
                   const std::string& s, int max_lines, float max_h) {
    const text::Block& b = fit(f, font, size, s, x1 - x0, max_lines, max_h);
    const Rect r = place(f, ImVec2(x0, y), ImVec2(x1, y + b.height));
    draw(font, b, r.min, r.w(), text::Align::Centre, colour::rgb(colour));
    add(f, nullptr, s, r.min, r.max, false, &b);
    return b.height;
}

void picture(const Frame& f, const std::string& icon, ImVec2 min, ImVec2 max) {
    const Rect r = place(f, min, max);
    if (r.w() < 1 || r.h() < 1 || icon.empty()) return;
    const Picture p = f.icon(icon);
    if (!p.texture) return;
    float w = r.w(), h = r.h();
    if (p.aspect > w / h) h = w / p.aspect;
    else w = h * p.aspect;
    const ImVec2 p0((r.min.x + r.max.x - w) / 2, (r.min.y + r.max.y - h) / 2);
    ImGui::GetWindowDrawList()->AddImage(p.texture, p0, ImVec2(p0.x + w, p0.y + h));
}

bool button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label, unsigned fill,
            unsigned fill_down, unsigned ink, Arrow arrow) {
    const Rect r = place(f, min, max);
    bool down = false;
    bool clicked = hit(id, r.min, r.max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float rad = std::max(0.0f, std::min(r.h(), r.w()) * 0.22f);
    fill_rounded(dl, r.min, r.max, colour::rgb(down ? fill_down : fill), rad);
    if (fill == colour::kSecondary || fill == colour::kTile)
        dl->AddRect(r.min, r.max, colour::rgb(colour::kEdge), rad, 0, std::max(2.0f, f.m.pad * 0.12f));
    // The arrow is drawn, not registered: replay scripts tap "Seuraava", not "Seuraava ›".
    // A no-break space keeps it with its word; right to left the bidi algorithm puts it at
    // the other end and mirrors it (‹ becomes ›).
    const std::string shown =
        arrow == Arrow::Back ? "‹\u00A0" + label : arrow == Arrow::Forward ? label + "\u00A0›" : label;
    const float pad = std::min(f.m.pad, r.w() * 0.12f);
    const text::Block& b = fit(f, f.fonts.body, f.m.font, shown, r.w() - 2 * pad, 2, r.h() - f.m.pad * 0.3f);
    draw(f.fonts.body, b, ImVec2(r.min.x, (r.min.y + r.max.y - b.height) / 2), r.w(), text::Align::Centre, colour::rgb(ink));
    add(f, id, label, r.min, r.max, true, &b);
    return clicked;
}

bool speaker_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label) {
    static const std::string kIcon = "🔊";
    const Rect r = place(f, min, max);
    bool down = false;
    bool clicked = hit(id, r.min, r.max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = r.w(), h = r.h();
    const float rad = std::min(w, h) * 0.22f;
    fill_rounded(dl, r.min, r.max, colour::rgb(down ? colour::kSpeakerDown : colour::kSpeaker), rad);
    dl->AddRect(r.min, r.max, colour::rgb(colour::kText), rad, 0, std::max(2.0f, f.m.pad * 0.15f));
    const Picture tex = f.icon(kIcon);
    const ImU32 ink = colour::rgb(colour::kText);
    // Side by side (the picture at the start): the picture 70 % of the button's height, the
    // word at body size (or a little smaller) on one line.
    const float pic = std::min(h * 0.7f, f.m.icon_max);
    const float gap = f.m.pad * 0.5f;
    const float room = w - 2 * f.m.pad - pic - gap;
    const text::Block* b = room > f.m.floor ? &fit(f, f.fonts.body, f.m.font, label, room, 1) : nullptr;
    if (b && !b->truncated && b->size >= f.m.font * 0.8f - 0.01f) {
        const float x = (r.min.x + r.max.x - (pic + gap + b->width)) / 2;
        const float px = inside(f, r, x, pic), tx = inside(f, r, x + pic + gap, b->width);
        if (tex.texture) dl->AddImage(tex.texture, ImVec2(px, (r.min.y + r.max.y - pic) / 2), ImVec2(px + pic, (r.min.y + r.max.y + pic) / 2));
        draw(f.fonts.body, *b, ImVec2(tx, (r.min.y + r.max.y - b->height) / 2), b->width, text::Align::Centre, ink);
    } else {
        // Stacked: the word in the small font at the bottom, the picture above it.
        const float inner = w - f.m.pad * 0.5f;
        b = &fit(f, f.fonts.small, f.m.small, label, inner, 1);
        const float label_h = b->height;
        const float spic = std::min({h - label_h - f.m.pad * 0.6f, w - f.m.pad, f.m.icon_max});
        const float top = r.min.y + (h - std::max(0.0f, spic) - label_h) / 2;
        if (tex.texture && spic > 0)
            dl->AddImage(tex.texture, ImVec2((r.min.x + r.max.x - spic) / 2, top), ImVec2((r.min.x + r.max.x + spic) / 2, top + spic));
        draw(f.fonts.small, *b, ImVec2(r.min.x, top + std::max(0.0f, spic)), w, text::Align::Centre, ink);
    }
    add(f, id, label, r.min, r.max, true, b);
    return clicked;
}

bool picture_tile(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                  const std::string& label, bool picked) {
    const Rect r = place(f, min, max);
    bool down = false;
    bool clicked = hit(id, r.min, r.max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = r.w(), h = r.h();
    const float rad = std::max(0.0f, std::min(w, h) * 0.12f);
    unsigned fill = picked ? colour::kPicked : (down ? colour::kTileDown : colour::kTile);
    fill_rounded(dl, r.min, r.max, colour::rgb(fill), rad);
    float edge = picked ? std::max(4.0f, f.m.pad * 0.35f) : std::max(2.0f, f.m.pad * 0.12f);
    dl->AddRect(r.min, r.max, colour::rgb(picked ? colour::kPickedEdge : colour::kEdge), rad, 0, edge);

    // Label: up to two lines at the bottom (at most half the tile); the picture takes the rest.
    const text::Block& b = fit(f, f.fonts.small, f.m.small, label, w - f.m.pad * 0.5f, 2, h * 0.5f);
    const float label_h = b.height;
    const float room = h - label_h - 1.5f * f.m.pad;
    const float pic = std::min({w - 2 * f.m.pad, room, f.m.icon_max});
    if (pic > 0) {
        const ImVec2 p0((r.min.x + r.max.x - pic) / 2, r.min.y + f.m.pad * 0.6f + (room - pic) / 2);
        Frame lr = f.unmirrored();  // p0 is already on screen
        picture(lr, icon, p0, ImVec2(p0.x + pic, p0.y + pic));
    }
    draw(f.fonts.small, b, ImVec2(r.min.x, r.max.y - label_h - f.m.pad * 0.4f), w, text::Align::Centre,
         colour::rgb(colour::kText));
    if (picked) {
        // A check mark in the end corner, so "picked" does not rely on colour alone.
        const float c = std::max(f.m.pad * 1.6f, w * 0.16f);
        check_mark(dl, ImVec2(f.rtl ? r.min.x + c * 0.65f : r.max.x - c * 0.65f, r.min.y + c * 0.65f), c);
    }
    add(f, id, label, r.min, r.max, true, &b);
    return clicked;
}

bool choice_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                   const std::string& label, bool picked) {
    const Rect r = place(f, min, max);
    bool down = false;
    bool clicked = hit(id, r.min, r.max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float h = r.h(), rad = std::max(0.0f, h * 0.18f);
    unsigned fill = picked ? colour::kPicked : (down ? colour::kTileDown : colour::kTile);
    fill_rounded(dl, r.min, r.max, colour::rgb(fill), rad);
    float edge = picked ? std::max(4.0f, f.m.pad * 0.35f) : std::max(2.0f, f.m.pad * 0.12f);
    dl->AddRect(r.min, r.max, colour::rgb(picked ? colour::kPickedEdge : colour::kEdge), rad, 0, edge);
    // Left to right: the icon, the words, a round check box at the end (mirrored right to left).
    float x = r.min.x + f.m.pad;
    if (!icon.empty()) {
        const float pic = std::min(h - f.m.pad, f.m.icon_max);
        const float px = inside(f, r, x, pic);
        picture(f.unmirrored(), icon, ImVec2(px, (r.min.y + r.max.y - pic) / 2), ImVec2(px + pic, (r.min.y + r.max.y + pic) / 2));
        x += pic + f.m.pad * 0.6f;
    }
    const float c = std::min(h * 0.5f, f.m.font);
    ImVec2 cc(r.max.x - f.m.pad - c / 2, (r.min.y + r.max.y) / 2);
    const float right = cc.x - c / 2 - f.m.pad * 0.5f;
    if (f.rtl) cc.x = r.min.x + r.max.x - cc.x;
    if (picked) check_mark(dl, cc, c);
    else dl->AddCircle(cc, c / 2, colour::rgb(colour::kEdge), 0, std::max(2.0f, f.m.pad * 0.15f));
    const float tw = std::max(1.0f, right - x);
    const text::Block& b = fit(f, f.fonts.body, f.m.font, label, tw, 2, h - f.m.pad * 0.3f);
    draw(f.fonts.body, b, ImVec2(inside(f, r, x, tw), (r.min.y + r.max.y - b.height) / 2), tw, start(f),
         colour::rgb(colour::kText));
    add(f, id, label, r.min, r.max, true, &b);
    return clicked;
}

void text_field(const Frame& f, const std::string& s, ImVec2 min, ImVec2 max) {
    const Rect r = place(f, min, max);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    fill_rounded(dl, r.min, r.max, colour::rgb(colour::kTile), f.m.pad * 0.5f);
    dl->AddRect(r.min, r.max, colour::rgb(colour::kPickedEdge), f.m.pad * 0.5f, 0, std::max(2.0f, f.m.pad * 0.2f));
    const float inner = r.w() - 2 * f.m.pad;
    // Wrapped at body size, never shrunk; a long text shows its last lines.
    const text::Fit all{f.m.font, f.m.font, inner, 0, 100000, false};
    const text::Block& b = f.fonts.body.ts->shaper().layout(s, f.fonts.body.style, all, f.dir());
    text::Block shown = b;
    const std::size_t fit_lines =
        std::max<std::size_t>(1, static_cast<std::size_t>((r.h() - f.m.pad * 0.5f) / text::Shaper::line_height(f.m.font)));
    if (shown.lines.size() > fit_lines)
        shown.lines.erase(shown.lines.begin(), shown.lines.end() - static_cast<std::ptrdiff_t>(fit_lines));
    const ImVec2 at(r.min.x + f.m.pad, r.min.y + f.m.pad * 0.4f);
    draw(f.fonts.body, shown, at, inner, start(f), colour::rgb(colour::kText));
    // The caret after the last character (at the left of a right-to-left line's end); a
    // trailing space counts, though the line drops it.
    ImVec2 caret = shown.lines.empty() || s.empty() ? ImVec2(f.rtl ? at.x + inner : at.x, at.y)
                                                    : f.fonts.body.ts->end_of_text(shown, at, inner, start(f));
    if (!s.empty() && s.back() == ' ') caret.x += (shown.rtl ? -1.0f : 1.0f) * measure(f.fonts.body, f.m.font, " ").x;
    // A bar 3 px wide just after the last character: to its right, or to its left when the
    // text runs right to left.
    const bool leftwards = s.empty() ? f.rtl : shown.rtl;
    caret.x = std::clamp(caret.x + (leftwards ? -5.0f : 2.0f), r.min.x + 2, r.max.x - 5);
    dl->AddRectFilled(ImVec2(caret.x, caret.y), ImVec2(caret.x + 3, caret.y + f.m.font * 1.1f), colour::rgb(colour::kPrimary));
    add(f, nullptr, s, r.min, r.max, false, nullptr);
}

void draw_face(ImDrawList* dl, ImVec2 c, float r, float mood, unsigned fill) {
    const ImU32 ink = colour::rgb(colour::kText);
    r = std::max(r, 1.0f);
    dl->AddCircleFilled(c, r, colour::rgb(fill), 48);
    dl->AddCircle(c, r, ink, 48, std::max(2.0f, r * 0.05f));
    // Eyes.
    float ex = r * 0.35f, ey = r * 0.28f, er = r * 0.1f;
    dl->AddCircleFilled(ImVec2(c.x - ex, c.y - ey), er, ink, 16);
    dl->AddCircleFilled(ImVec2(c.x + ex, c.y - ey), er, ink, 16);
    // Mouth: a curve from a frown (mood -1) to a wide smile (mood 1).
    float mw = r * 0.5f, my = c.y + r * 0.32f, bend = mood * r * 0.35f;
    dl->AddBezierCubic(ImVec2(c.x - mw, my - bend * 0.3f), ImVec2(c.x - mw * 0.4f, my + bend),
                       ImVec2(c.x + mw * 0.4f, my + bend), ImVec2(c.x + mw, my - bend * 0.3f), ink,
                       std::max(3.0f, r * 0.09f), 24);
}

bool smiley(const Frame& f, const char* id, ImVec2 min, ImVec2 max, int level, int faces, const std::string& label,
            bool picked) {
    const Rect r = place(f, min, max);
    bool down = false;
    bool clicked = hit(id, r.min, r.max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = r.w(), h = r.h();
    if (picked || down) {
        float rad = std::max(0.0f, std::min(w, h) * 0.12f);
        fill_rounded(dl, r.min, r.max, colour::rgb(picked ? colour::kPicked : colour::kTileDown), rad);
        if (picked) dl->AddRect(r.min, r.max, colour::rgb(colour::kPickedEdge), rad, 0, std::max(4.0f, f.m.pad * 0.35f));
    }
    // The words under the face: two lines at most, in at most 45 % of the cell.
    const text::Block& b = fit(f, f.fonts.small, f.m.small, label, w - f.m.pad * 0.5f, 2, h * 0.45f);
    const float label_h = b.height;
    const float radius = std::max(1.0f, std::min(w - f.m.pad, h - label_h - 2 * f.m.pad) / 2);
    const float mood = faces > 1 ? -1.0f + 2.0f * static_cast<float>(level) / static_cast<float>(faces - 1) : 0.0f;
    // 3 faces use the red, yellow and green of the 5-face palette.
    const int colour_index = faces == 3 ? level * 2 : level;
    draw_face(dl, ImVec2((r.min.x + r.max.x) / 2, r.min.y + f.m.pad + radius), radius, mood, colour::kFace[colour_index]);
    draw(f.fonts.small, b, ImVec2(r.min.x, r.max.y - label_h - f.m.pad * 0.5f), w, text::Align::Centre,
         colour::rgb(colour::kText));
    add(f, id, label, r.min, r.max, true, &b);
    return clicked;
}

ImVec2 Grid::cell_min(int i) const {
    int c = i % cols, r = i / cols;
    const int in_row = std::min(cols, n - r * cols);
    const float shift = static_cast<float>(cols - in_row) * (cell.x + gap) / 2;
    return ImVec2(origin.x + shift + static_cast<float>(c) * (cell.x + gap), origin.y + static_cast<float>(r) * (cell.y + gap));
}

Grid layout_grid(int n, ImVec2 min, ImVec2 max, float gap, float aspect) {
    Grid best;
    float best_area = -1;
    float W = max.x - min.x, H = max.y - min.y;
    for (int cols = 1; cols <= n; ++cols) {
        int rows = (n + cols - 1) / cols;
        float cw = (W - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols);
        float ch = (H - gap * static_cast<float>(rows - 1)) / static_cast<float>(rows);
        if (cw <= 0 || ch <= 0) continue;
        // Keep cells near the wanted aspect: shrink the longer side.
        if (cw / ch > aspect) cw = ch * aspect; else ch = cw / aspect;
        float area = cw * ch;
        if (area > best_area) {
            best_area = area;
            best.cols = cols;
            best.rows = rows;
            best.cell = ImVec2(cw, ch);
        }
    }
    best.gap = gap;
    best.n = std::max(1, n);
    float used_w = best.cell.x * static_cast<float>(best.cols) + gap * static_cast<float>(best.cols - 1);
    float used_h = best.cell.y * static_cast<float>(best.rows) + gap * static_cast<float>(best.rows - 1);
    best.origin = ImVec2(min.x + (W - used_w) / 2, min.y + (H - used_h) / 2);
    return best;
}

}  // namespace kohtaamo::ui
