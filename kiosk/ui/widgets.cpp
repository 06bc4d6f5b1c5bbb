// widgets.cpp — the kiosk's widgets: text, buttons, picture tiles, smiley faces, grids.
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>

#include "ui.hpp"

namespace kohtaamo::ui {

ImVec2 measure(ImFont* font, float size, const std::string& s) {
    return font->CalcTextSizeA(size, FLT_MAX, 0.0f, s.c_str(), s.c_str() + s.size());
}

namespace {

// Splits `s` into lines no wider than `width` (a single word wider than the width stays
// on its own line; callers shrink the font first so that this is rare).
std::vector<std::string> wrap(ImFont* font, float size, const std::string& s, float width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t i = 0;
    while (i <= s.size()) {
        std::size_t j = s.find(' ', i);
        if (j == std::string::npos) j = s.size();
        std::string word = s.substr(i, j - i);
        std::string candidate = line.empty() ? word : line + " " + word;
        if (!line.empty() && measure(font, size, candidate).x > width) {
            lines.push_back(line);
            line = word;
        } else {
            line = candidate;
        }
        i = j + 1;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

// The font size for `s` in `width`: full size on one line if it fits; else a little
// smaller (down to 80%) on one line; else wrapped to at most `max_lines` (down to 70%).
float fit(ImFont* font, float size, const std::string& s, float width, int max_lines) {
    for (float k = 1.0f; k >= 0.8f; k -= 0.05f)
        if (measure(font, size * k, s).x <= width) return size * k;
    for (float k = 1.0f; k >= 0.7f; k -= 0.05f) {
        float sz = size * k;
        auto lines = wrap(font, sz, s, width);
        bool ok = static_cast<int>(lines.size()) <= max_lines;
        for (const auto& l : lines) ok = ok && measure(font, sz, l).x <= width;
        if (ok) return sz;
    }
    return size * 0.7f;
}

void add(const Frame& f, const std::string& s, ImVec2 min, ImVec2 max, bool tappable) {
    f.registry.push_back(Target{s, min, max, tappable});
}

// An invisible ImGui button over [min,max]: true on release inside; `down` while pressed.
bool hit(const char* id, ImVec2 min, ImVec2 max, bool* down) {
    ImGui::SetCursorScreenPos(min);
    bool clicked = ImGui::InvisibleButton(id, ImVec2(max.x - min.x, max.y - min.y));
    *down = ImGui::IsItemActive();
    return clicked;
}

// Draws lines centred in [x0,x1] from y; returns the height.
float draw_lines(ImDrawList* dl, ImFont* font, float size, float x0, float x1, float y, ImU32 col,
                 const std::vector<std::string>& lines) {
    float line_h = size * 1.15f;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        float w = measure(font, size, lines[i]).x;
        dl->AddText(font, size, ImVec2(std::floor((x0 + x1 - w) / 2), y + line_h * static_cast<float>(i)), col,
                    lines[i].c_str(), lines[i].c_str() + lines[i].size());
    }
    return line_h * static_cast<float>(lines.size());
}

}  // namespace

ImVec2 text(const Frame& f, ImFont* font, float size, ImVec2 pos, unsigned colour, const std::string& s,
            float wrap_width) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 sz = font->CalcTextSizeA(size, FLT_MAX, wrap_width, s.c_str(), s.c_str() + s.size());
    dl->AddText(font, size, pos, colour::rgb(colour), s.c_str(), s.c_str() + s.size(), wrap_width);
    add(f, s, pos, ImVec2(pos.x + sz.x, pos.y + sz.y), false);
    return sz;
}

float text_centred_height(ImFont* font, float size, float x0, float x1, const std::string& s) {
    const float sz = fit(font, size, s, x1 - x0, 3);
    return sz * 1.15f * static_cast<float>(wrap(font, sz, s, x1 - x0).size());
}

float text_centred(const Frame& f, ImFont* font, float size, float x0, float x1, float y, unsigned colour,
                   const std::string& s) {
    float sz = fit(font, size, s, x1 - x0, 3);
    auto lines = wrap(font, sz, s, x1 - x0);
    float h = draw_lines(ImGui::GetWindowDrawList(), font, sz, x0, x1, y, colour::rgb(colour), lines);
    add(f, s, ImVec2(x0, y), ImVec2(x1, y + h), false);
    return h;
}

bool button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label, unsigned fill,
            unsigned fill_down, unsigned ink, Arrow arrow) {
    bool down = false;
    bool clicked = hit(id, min, max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float r = std::min(max.y - min.y, max.x - min.x) * 0.22f;
    dl->AddRectFilled(min, max, colour::rgb(down ? fill_down : fill), r);
    if (fill == colour::kSecondary || fill == colour::kTile)
        dl->AddRect(min, max, colour::rgb(colour::kEdge), r, 0, std::max(2.0f, f.m.pad * 0.12f));
    // The arrow is drawn, not registered: replay scripts tap "Seuraava", not "Seuraava ›".
    const std::string shown = arrow == Arrow::Back ? "‹ " + label : arrow == Arrow::Forward ? label + " ›" : label;
    float inner = (max.x - min.x) - 2 * f.m.pad;
    float sz = fit(f.fonts.body, f.m.font, shown, inner, 2);
    auto lines = wrap(f.fonts.body, sz, shown, inner);
    float h = sz * 1.15f * static_cast<float>(lines.size());
    draw_lines(dl, f.fonts.body, sz, min.x, max.x, (min.y + max.y - h) / 2, colour::rgb(ink), lines);
    add(f, label, min, max, true);
    return clicked;
}

bool speaker_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& label) {
    static const std::string kIcon = "🔊";
    bool down = false;
    bool clicked = hit(id, min, max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = max.x - min.x, h = max.y - min.y;
    const float r = std::min(w, h) * 0.22f;
    dl->AddRectFilled(min, max, colour::rgb(down ? colour::kSpeakerDown : colour::kSpeaker), r);
    dl->AddRect(min, max, colour::rgb(colour::kText), r, 0, std::max(2.0f, f.m.pad * 0.15f));
    const ImTextureID tex = f.icon(kIcon);
    const ImU32 ink = colour::rgb(colour::kText);
    // Side by side: the picture 70 % of the button's height, the word at body size (or a
    // little smaller) on one line.
    const float pic = std::min(h * 0.7f, f.m.icon_max);
    const float gap = f.m.pad * 0.5f;
    const float room = w - 2 * f.m.pad - pic - gap;
    const float sz = room > 0 ? fit(f.fonts.body, f.m.font, label, room, 1) : 0;
    const float label_w = sz > 0 ? measure(f.fonts.body, sz, label).x : 0;
    if (room > 0 && label_w <= room) {
        const float x = (min.x + max.x - (pic + gap + label_w)) / 2;
        if (tex) dl->AddImage(tex, ImVec2(x, (min.y + max.y - pic) / 2), ImVec2(x + pic, (min.y + max.y + pic) / 2));
        draw_lines(dl, f.fonts.body, sz, x + pic + gap, x + pic + gap + label_w, (min.y + max.y - sz * 1.15f) / 2, ink,
                   {label});
    } else {
        // Stacked: the word in the small font at the bottom, the picture above it.
        const float inner = w - f.m.pad * 0.5f;
        const float ssz = fit(f.fonts.small, f.m.small, label, inner, 1);
        const float label_h = ssz * 1.15f;
        const float spic = std::min({h - label_h - f.m.pad * 0.6f, w - f.m.pad, f.m.icon_max});
        const float top = min.y + (h - spic - label_h) / 2;
        if (tex && spic > 0)
            dl->AddImage(tex, ImVec2((min.x + max.x - spic) / 2, top), ImVec2((min.x + max.x + spic) / 2, top + spic));
        draw_lines(dl, f.fonts.small, ssz, min.x, max.x, top + spic, ink, wrap(f.fonts.small, ssz, label, inner));
    }
    add(f, label, min, max, true);
    return clicked;
}

bool picture_tile(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                  const std::string& label, bool picked) {
    bool down = false;
    bool clicked = hit(id, min, max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float w = max.x - min.x, h = max.y - min.y;
    float r = std::min(w, h) * 0.12f;
    unsigned fill = picked ? colour::kPicked : (down ? colour::kTileDown : colour::kTile);
    dl->AddRectFilled(min, max, colour::rgb(fill), r);
    float edge = picked ? std::max(4.0f, f.m.pad * 0.35f) : std::max(2.0f, f.m.pad * 0.12f);
    dl->AddRect(min, max, colour::rgb(picked ? colour::kPickedEdge : colour::kEdge), r, 0, edge);

    // Label: up to two lines at the bottom; the picture takes the rest.
    float inner = w - f.m.pad;
    float sz = fit(f.fonts.small, f.m.small, label, inner, 2);
    auto lines = wrap(f.fonts.small, sz, label, inner);
    float label_h = sz * 1.15f * static_cast<float>(lines.size());
    float room = h - label_h - 1.5f * f.m.pad;
    float pic = std::min({w - 2 * f.m.pad, room, f.m.icon_max});
    if (pic > 0) {
        ImTextureID tex = f.icon(icon);
        ImVec2 p0((min.x + max.x - pic) / 2, min.y + f.m.pad * 0.6f + (room - pic) / 2);
        if (tex) dl->AddImage(tex, p0, ImVec2(p0.x + pic, p0.y + pic));
    }
    draw_lines(dl, f.fonts.small, sz, min.x, max.x, max.y - label_h - f.m.pad * 0.4f, colour::rgb(colour::kText), lines);
    if (picked) {
        // A check mark in the corner, so "picked" does not rely on colour alone.
        float c = std::max(f.m.pad * 1.6f, w * 0.16f);
        ImVec2 cc(max.x - c * 0.65f, min.y + c * 0.65f);
        dl->AddCircleFilled(cc, c * 0.5f, colour::rgb(colour::kPickedEdge));
        dl->AddPolyline(std::array<ImVec2, 3>{ImVec2(cc.x - c * 0.22f, cc.y), ImVec2(cc.x - c * 0.05f, cc.y + c * 0.18f),
                                               ImVec2(cc.x + c * 0.25f, cc.y - c * 0.18f)}.data(),
                        3, colour::rgb(colour::kOnPrimary), 0, c * 0.1f);
    }
    add(f, label, min, max, true);
    return clicked;
}

bool choice_button(const Frame& f, const char* id, ImVec2 min, ImVec2 max, const std::string& icon,
                   const std::string& label, bool picked) {
    bool down = false;
    bool clicked = hit(id, min, max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float h = max.y - min.y, r = h * 0.18f;
    unsigned fill = picked ? colour::kPicked : (down ? colour::kTileDown : colour::kTile);
    dl->AddRectFilled(min, max, colour::rgb(fill), r);
    float edge = picked ? std::max(4.0f, f.m.pad * 0.35f) : std::max(2.0f, f.m.pad * 0.12f);
    dl->AddRect(min, max, colour::rgb(picked ? colour::kPickedEdge : colour::kEdge), r, 0, edge);
    float x = min.x + f.m.pad;
    if (!icon.empty()) {
        float pic = std::min(h - f.m.pad, f.m.icon_max);
        if (ImTextureID tex = f.icon(icon))
            dl->AddImage(tex, ImVec2(x, (min.y + max.y - pic) / 2), ImVec2(x + pic, (min.y + max.y + pic) / 2));
        x += pic + f.m.pad * 0.6f;
    }
    // A round check box at the right: empty, or filled with a check when picked.
    float c = std::min(h * 0.5f, f.m.font);
    ImVec2 cc(max.x - f.m.pad - c / 2, (min.y + max.y) / 2);
    float right = cc.x - c / 2 - f.m.pad * 0.5f;
    if (picked) {
        dl->AddCircleFilled(cc, c / 2, colour::rgb(colour::kPickedEdge));
        dl->AddPolyline(std::array<ImVec2, 3>{ImVec2(cc.x - c * 0.22f, cc.y), ImVec2(cc.x - c * 0.05f, cc.y + c * 0.18f),
                                               ImVec2(cc.x + c * 0.25f, cc.y - c * 0.18f)}.data(),
                        3, colour::rgb(colour::kOnPrimary), 0, c * 0.1f);
    } else {
        dl->AddCircle(cc, c / 2, colour::rgb(colour::kEdge), 0, std::max(2.0f, f.m.pad * 0.15f));
    }
    float sz = fit(f.fonts.body, f.m.font, label, right - x, 2);
    auto lines = wrap(f.fonts.body, sz, label, right - x);
    float lh = sz * 1.15f, y = (min.y + max.y - lh * static_cast<float>(lines.size())) / 2;
    for (const auto& l : lines) {
        dl->AddText(f.fonts.body, sz, ImVec2(x, y), colour::rgb(colour::kText), l.c_str(), l.c_str() + l.size());
        y += lh;
    }
    add(f, label, min, max, true);
    return clicked;
}

void text_field(const Frame& f, const std::string& s, ImVec2 min, ImVec2 max) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(min, max, colour::rgb(colour::kTile), f.m.pad * 0.5f);
    dl->AddRect(min, max, colour::rgb(colour::kPickedEdge), f.m.pad * 0.5f, 0, std::max(2.0f, f.m.pad * 0.2f));
    const float inner = max.x - min.x - 2 * f.m.pad, line_h = f.m.font * 1.15f;
    auto lines = wrap(f.fonts.body, f.m.font, s, inner);
    if (lines.empty()) lines.emplace_back();
    const std::size_t fit_lines = std::max<std::size_t>(1, static_cast<std::size_t>((max.y - min.y - f.m.pad * 0.5f) / line_h));
    const std::size_t first = lines.size() > fit_lines ? lines.size() - fit_lines : 0;
    float y = min.y + f.m.pad * 0.4f;
    for (std::size_t i = first; i < lines.size(); ++i, y += line_h)
        dl->AddText(f.fonts.body, f.m.font, ImVec2(min.x + f.m.pad, y), colour::rgb(colour::kText), lines[i].c_str(),
                    lines[i].c_str() + lines[i].size());
    // The cursor after the last character (a trailing space counts: wrap() drops it).
    float x = min.x + f.m.pad + measure(f.fonts.body, f.m.font, lines.back()).x;
    if (!s.empty() && s.back() == ' ') x += measure(f.fonts.body, f.m.font, " ").x;
    y -= line_h;
    dl->AddRectFilled(ImVec2(x + 2, y), ImVec2(x + 5, y + f.m.font * 1.1f), colour::rgb(colour::kPrimary));
    add(f, s, min, max, false);
}

void draw_face(ImDrawList* dl, ImVec2 c, float r, float mood, unsigned fill) {
    const ImU32 ink = colour::rgb(colour::kText);
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
    bool down = false;
    bool clicked = hit(id, min, max, &down);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float w = max.x - min.x, h = max.y - min.y;
    if (picked || down) {
        float r = std::min(w, h) * 0.12f;
        dl->AddRectFilled(min, max, colour::rgb(picked ? colour::kPicked : colour::kTileDown), r);
        if (picked) dl->AddRect(min, max, colour::rgb(colour::kPickedEdge), r, 0, std::max(4.0f, f.m.pad * 0.35f));
    }
    float inner = w - f.m.pad * 0.5f;
    float sz = fit(f.fonts.small, f.m.small, label, inner, 2);
    auto lines = wrap(f.fonts.small, sz, label, inner);
    float label_h = sz * 1.15f * static_cast<float>(lines.size());
    float radius = std::min(w - f.m.pad, h - label_h - 2 * f.m.pad) / 2;
    float mood = faces > 1 ? -1.0f + 2.0f * static_cast<float>(level) / static_cast<float>(faces - 1) : 0.0f;
    // 3 faces use the red, yellow and green of the 5-face palette.
    int colour_index = faces == 3 ? level * 2 : level;
    draw_face(dl, ImVec2((min.x + max.x) / 2, min.y + f.m.pad + radius), radius, mood, colour::kFace[colour_index]);
    draw_lines(dl, f.fonts.small, sz, min.x, max.x, max.y - label_h - f.m.pad * 0.5f, colour::rgb(colour::kText), lines);
    add(f, label, min, max, true);
    return clicked;
}

ImVec2 Grid::cell_min(int i) const {
    int c = i % cols, r = i / cols;
    return ImVec2(origin.x + static_cast<float>(c) * (cell.x + gap), origin.y + static_cast<float>(r) * (cell.y + gap));
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
    float used_w = best.cell.x * static_cast<float>(best.cols) + gap * static_cast<float>(best.cols - 1);
    float used_h = best.cell.y * static_cast<float>(best.rows) + gap * static_cast<float>(best.rows - 1);
    best.origin = ImVec2(min.x + (W - used_w) / 2, min.y + (H - used_h) / 2);
    return best;
}

}  // namespace kohtaamo::ui
