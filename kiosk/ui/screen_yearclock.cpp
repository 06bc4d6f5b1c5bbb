// screen_yearclock.cpp — the participation year-clock (osallisuuden vuosikello): the
// centre's year as a ring of twelve months with this month lit; a month's page with its
// theme, its coming events ("We'll come!") and the activities to wish for; and typing an
// idea of one's own on the on-screen keyboard.
//
// Does: the ring is drawn with ImDrawList (twelve annular segments, January at the top,
// clockwise as on a clock, coloured by season); a tap anywhere in a segment opens that
// month. Each segment registers a square target around its label for the replay harness
// and the layout tests. Right to left the ring stays a clock (January at the top,
// clockwise, as clocks are not mirrored) while the month's page and the bars mirror.
// Does not: keep any state — the Session holds the open month, the wishes and the idea
// (session_yearclock.cpp).
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>

#include "ui.hpp"

namespace kohtaamo::ui {

// The bottom bar's Back button (screen_question.cpp).
Action back_button(const Frame& f);

namespace {

constexpr float kPi = 3.14159265f;

const std::string& tr(const Frame& f, const LangText& t) { return text_in(t, f.lang, f.texts.fallback_language()); }

std::string month_name(const Frame& f, int m) { return f.t("month_" + std::to_string(m)); }

// "7.2." in Finnish and Swedish, "7 Feb" in English and Arabic (the month's name).
std::string short_date(const Frame& f, const YearClockEvent& e) {
    const int month = std::stoi(e.date.substr(5, 2)), day = std::stoi(e.date.substr(8, 2));
    if (f.lang == "en" || f.rtl) return std::to_string(day) + " " + f.t("month_short_" + std::to_string(month));
    return std::to_string(day) + "." + std::to_string(month) + ".";
}

unsigned season(int m) { return colour::kSeason[(m % 12) / 3]; }  // Dec-Feb winter, Mar-May spring …

// A point on the ring: `a` radians clockwise from twelve o'clock.
ImVec2 at(ImVec2 c, float r, float a) { return ImVec2(c.x + r * std::sin(a), c.y - r * std::cos(a)); }

void check_mark(ImDrawList* dl, ImVec2 cc, float c) {
    dl->AddCircleFilled(cc, c * 0.5f, colour::rgb(colour::kPickedEdge));
    dl->AddPolyline(std::array<ImVec2, 3>{ImVec2(cc.x - c * 0.22f, cc.y), ImVec2(cc.x - c * 0.05f, cc.y + c * 0.18f),
                                           ImVec2(cc.x + c * 0.25f, cc.y - c * 0.18f)}.data(),
                    3, colour::rgb(colour::kOnPrimary), 0, c * 0.1f);
}

// --- the ring --------------------------------------------------------------------------

Action ring(const Frame& bar_frame, const View& v, const YearClock& y) {
    const Frame f = bar_frame.unmirrored();  // a clock face is not mirrored
    const Metrics& m = f.m;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    Action act;
    const float bar = m.height - m.min_target - m.pad * 2.5f;  // top of the bottom bar
    // Landscape: the ring fills the height between the corners' buttons. Portrait: the width.
    const float outer = m.portrait() ? m.width / 2 - m.pad * 1.5f : m.height / 2 - m.pad;
    const ImVec2 c(m.width / 2, m.portrait() ? (m.pad + bar) / 2 : m.height / 2);
    const float R = outer / 1.22f;           // where the labels sit
    const float inner = R * 0.72f;           // the hole in the middle
    const float s = std::max(m.min_target, R * 0.4f);  // the registered square per month
    const int now = v.session.this_month();

    // The bottom bar first: ImGui gives a touch to the first item under it, and the ring's
    // square reaches into the corners where Back and Done are.
    if (Action b = back_button(bar_frame)) act = b;
    if (bottom_forward(bar_frame, "done", f.t("done"), Arrow::None)) act = {Action::Done, ""};

    // Which segment is the finger on (polar hit test of the press position)?
    auto month_at = [&](ImVec2 p) {
        const float dx = p.x - c.x, dy = p.y - c.y, r = std::sqrt(dx * dx + dy * dy);
        if (r < inner || r > outer) return 0;
        float a = std::atan2(dx, -dy);
        if (a < 0) a += 2 * kPi;
        return std::clamp(static_cast<int>(a / (kPi / 6)) + 1, 1, 12);
    };
    ImGui::SetCursorScreenPos(ImVec2(c.x - outer, c.y - outer));
    const bool released = ImGui::InvisibleButton("ring", ImVec2(2 * outer, 2 * outer));
    const int down = ImGui::IsItemActive() ? month_at(ImGui::GetIO().MouseClickedPos[0]) : 0;
    if (released) {
        const int pressed = month_at(ImGui::GetIO().MouseClickedPos[0]);
        if (pressed != 0 && pressed == month_at(ImGui::GetIO().MousePos)) act = {Action::Month, std::to_string(pressed)};
    }

    for (int mo = 1; mo <= 12; ++mo) {
        const float a0 = static_cast<float>(mo - 1) * kPi / 6, a1 = a0 + kPi / 6;
        const bool lit = mo == now;
        const unsigned fill = mo == down ? colour::kPicked : lit ? colour::kPrimary : season(mo);
        const unsigned ink = lit && mo != down ? colour::kOnPrimary : colour::kText;
        // The segment: one thick arc (its ends are radial), so no seams show inside it.
        dl->PathArcTo(c, (inner + outer) / 2, a0 - kPi / 2, a1 - kPi / 2, 16);
        dl->PathStroke(colour::rgb(fill), 0, outer - inner);
        // The label: the theme's picture above the month's short name.
        const ImVec2 p = at(c, R, (a0 + a1) / 2);
        const std::string name = f.t("month_short_" + std::to_string(mo));
        const text::Block& label = f.fonts.small.ts->shaper().layout(
            name, f.fonts.small.style, text::Fit{m.small, std::min(m.small, m.floor), s * 1.15f, 0, 1, true}, bar_frame.dir());
        const float fs = label.size;
        const float pic = std::min({s * 0.55f, m.icon_max, s - fs * 1.2f});
        const float top = p.y - (pic + fs * 1.1f) / 2;
        picture(f, y.month(mo).icon, ImVec2(p.x - pic / 2, top), ImVec2(p.x + pic / 2, top + pic));
        f.fonts.small.ts->draw(dl, label, ImVec2(p.x - s * 0.6f, top + pic + fs * 0.05f), s * 1.2f, text::Align::Centre,
                               colour::rgb(ink));
        Target t;
        t.text = name;
        t.min = ImVec2(p.x - s / 2, p.y - s / 2);
        t.max = ImVec2(p.x + s / 2, p.y + s / 2);
        t.tappable = true;
        t.id = "month-" + std::to_string(mo);
        t.truncated = label.truncated;
        f.registry.push_back(std::move(t));
        // What this family has given for the month: a check in the segment's outer corner.
        const bool given = v.session.wish_count(mo) > 0 || !v.session.idea(mo).empty() ||
                           std::any_of(y.events.begin(), y.events.end(),
                                       [&](const YearClockEvent& e) { return e.month == mo && v.session.coming(e.id); });
        if (given) check_mark(dl, at(c, outer - s * 0.2f, a0 + kPi / 6 * 0.82f), s * 0.32f);
    }
    // Spokes between the months and the rims, in the background's colour and the edge's.
    for (int k = 0; k < 12; ++k)
        dl->AddLine(at(c, inner, static_cast<float>(k) * kPi / 6), at(c, outer, static_cast<float>(k) * kPi / 6),
                    colour::rgb(colour::kBackground), std::max(3.0f, m.pad * 0.3f));
    dl->AddCircle(c, outer, colour::rgb(colour::kEdge), 96, std::max(2.0f, m.pad * 0.12f));
    dl->AddCircle(c, inner, colour::rgb(colour::kEdge), 96, std::max(2.0f, m.pad * 0.12f));
    // This month's segment gets a dark rim too, so "now" does not rely on colour alone.
    {
        const float a0 = static_cast<float>(now - 1) * kPi / 6, a1 = a0 + kPi / 6;
        dl->PathArcTo(c, outer, a0 - kPi / 2, a1 - kPi / 2, 12);
        dl->PathArcTo(c, inner, a1 - kPi / 2, a0 - kPi / 2, 12);
        dl->PathStroke(colour::rgb(colour::kText), ImDrawFlags_Closed, std::max(3.0f, m.pad * 0.3f));
    }

    // In the middle: the survey's title and what to do.
    const float half = inner * 0.8f;
    float ty = c.y - m.title * 0.9f;
    ty += text_centred(bar_frame, f.fonts.title, m.title, c.x - half, c.x + half, ty, colour::kText,
                       tr(f, v.session.survey()->title), 2, m.title * 1.15f * 2);
    text_centred(bar_frame, f.fonts.small, m.small, c.x - half, c.x + half, ty + m.pad * 0.3f, colour::kMuted,
                 f.t("yc_pick_month"), 2, std::max(m.small, c.y + inner * 0.8f - ty - m.pad * 0.3f));

    return act;
}

// --- a month's page --------------------------------------------------------------------

// One coming event: date and words on a tile, "We'll come!" at its right.
Action event_row(const Frame& f, const View& v, const YearClockEvent& e, ImVec2 min, ImVec2 max) {
    const Metrics& m = f.m;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    Action act;
    const float r = std::min(max.y - min.y, max.x - min.x) * 0.15f;
    const ImVec2 t0(f.x(f.rtl ? max.x : min.x), min.y), t1(f.x(f.rtl ? min.x : max.x), max.y);
    fill_rounded(dl, t0, t1, colour::rgb(colour::kTile), r);
    dl->AddRect(t0, t1, colour::rgb(colour::kEdge), r, 0, std::max(2.0f, m.pad * 0.12f));
    const bool coming = v.session.coming(e.id);
    const float bw = std::clamp((max.x - min.x) * 0.38f, m.min_target * 1.6f, m.font * 8.0f);
    const ImVec2 b0(max.x - bw, min.y), b1(max.x, max.y);
    const std::string id = "come-" + e.id;
    if (button(f, id.c_str(), b0, b1, f.t("yc_come"), coming ? colour::kPicked : colour::kPrimary,
               coming ? colour::kTileDown : colour::kPrimaryDown, coming ? colour::kText : colour::kOnPrimary))
        act = {Action::Come, e.id};
    if (coming) {
        const ImVec2 c0(f.x(f.rtl ? b1.x : b0.x), b0.y), c1(f.x(f.rtl ? b0.x : b1.x), b1.y);
        dl->AddRect(c0, c1, colour::rgb(colour::kPickedEdge), std::min(b1.y - b0.y, bw) * 0.22f, 0, std::max(4.0f, m.pad * 0.35f));
        const float c = std::max(m.pad * 1.6f, (b1.y - b0.y) * 0.34f);
        check_mark(dl, ImVec2(f.x(b1.x - c * 0.45f), b0.y + c * 0.45f), c);
    }
    // The picture (when there is room), then the date and the words.
    float x = min.x + m.pad * 0.6f;
    const float h = max.y - min.y;
    const float pic = std::min(h - m.pad, m.font * 1.6f);
    if (max.x - min.x - bw > m.font * 7) {
        picture(f, e.icon, ImVec2(x, min.y + (h - pic) / 2), ImVec2(x + pic, min.y + (h + pic) / 2));
        x += pic + m.pad * 0.6f;
    }
    const std::string words = short_date(f, e) + "  " + tr(f, e.text);
    const float room = b0.x - m.pad * 0.6f - x;
    // Up to two lines; a long text gets a smaller font rather than a third line.
    // Up to three lines in the row's height; registered as the event's own words (its date
    // is drawn before them).
    const text::Block& b = f.fonts.small.ts->shaper().layout(
        words, f.fonts.small.style, text::Fit{m.small, std::min(m.small, m.floor), room, h - m.pad * 0.4f, 3, false}, f.dir());
    const ImVec2 p0(x, min.y + (h - b.height) / 2);
    const float sx = f.rtl ? m.width - p0.x - room : p0.x;
    f.fonts.small.ts->draw(dl, b, ImVec2(sx, p0.y), room, f.rtl ? text::Align::Right : text::Align::Left, colour::rgb(colour::kText));
    Target t;
    t.text = tr(f, e.text);
    t.min = ImVec2(sx, p0.y);
    t.max = ImVec2(sx + room, p0.y + b.height);
    t.truncated = b.truncated;
    t.lines = static_cast<int>(b.lines.size());
    f.registry.push_back(std::move(t));
    return act;
}

Action month_page(const Frame& f, const View& v, const YearClock& y, int mo) {
    const Metrics& m = f.m;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    Action act;
    const YearClockMonth& month = y.month(mo);

    // The heading: the month, and its theme with its picture, on a band of the season's colour.
    const float head = m.pad + m.title * 1.15f + m.font * 1.3f + m.pad * 0.6f;
    dl->AddRectFilled(ImVec2(0, 0), ImVec2(m.width, head), colour::rgb(season(mo)));
    float ty = m.pad * 0.6f;
    ty += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, ty, colour::kText, month_name(f, mo), 1);
    {
        const std::string& theme = tr(f, month.theme);
        const float pic = m.font * 1.25f;
        const float room = m.width - pic - m.pad * 4;
        const float tw = std::min(measure(f.fonts.body, m.font, theme).x, room);
        const float x0 = (m.width - pic - m.pad * 0.5f - tw) / 2;
        picture(f, month.icon, ImVec2(x0, ty), ImVec2(x0 + pic, ty + pic));
        const text::Block& b = f.fonts.body.ts->shaper().layout(
            theme, f.fonts.body.style, text::Fit{m.font, std::min(m.font, m.floor), tw + 1, 0, 1, true}, f.dir());
        text(f, f.fonts.body, b.size, ImVec2(x0 + pic + m.pad * 0.5f, ty + (pic - b.size) / 2), colour::kText, theme, tw + 1, 1);
    }

    const float bar = m.height - m.min_target - m.pad * 2.5f;
    const float top = head + m.pad;
    const float gap = m.pad * 0.6f;
    const auto events = y.coming_events(mo, v.session.today());
    // Landscape: events (and the idea) on the left, wishes on the right. Portrait: stacked.
    const float left = m.pad * 1.5f, right = m.width - m.pad * 1.5f;
    const float split = m.portrait() ? right : left + (right - left) * 0.44f;
    // The events' rows share what the column leaves (the heading, the idea's button), as
    // tall as three lines at the floor at most.
    const int rows = std::max<int>(1, static_cast<int>(events.size()));
    const float column = bar - top - m.small * 1.2f - gap * 0.5f - (y.ideas ? m.min_target + gap : 0.0f) - gap;
    const float row_h = std::clamp(column / static_cast<float>(rows) - gap,
                                   std::max(m.min_target, m.small * 2.6f), std::max(m.min_target, m.small * 3.6f));
    float ey = top;
    ey += text_centred(f, f.fonts.small, m.small, left, split, ey, colour::kMuted, f.t("yc_events"), 1) + gap * 0.5f;
    if (events.empty()) {
        ey += text_centred(f, f.fonts.small, m.small * 0.9f, left, split, ey + (row_h - m.small) / 2, colour::kText,
                           f.t("yc_no_events"), 2, row_h) + (row_h - m.small) / 2 + gap;
    }
    for (const auto* e : events) {
        if (Action a = event_row(f, v, *e, ImVec2(left, ey), ImVec2(split, ey + row_h))) act = a;
        ey += row_h + gap;
    }
    if (y.ideas) {
        // Our own idea: opens the keyboard; a check shows when one is saved for this month.
        const float w = std::min(split - left, std::max(m.min_target * 3.0f, m.font * 7.0f));
        const ImVec2 i0((left + split - w) / 2, ey), i1(i0.x + w, ey + m.min_target);
        if (button(f, "idea", i0, i1, f.t("yc_idea"), colour::kSecondary, colour::kEdge, colour::kText))
            act = {Action::Idea, ""};
        if (!v.session.idea(mo).empty())
            check_mark(dl, ImVec2(f.x(i1.x - m.min_target * 0.3f), i0.y + m.min_target * 0.3f), m.min_target * 0.4f);
        ey += m.min_target + gap;
    }

    // The wishes: the centre's activities as picture tiles that toggle.
    const float wx0 = m.portrait() ? left : split + m.pad * 1.5f;
    float wy = m.portrait() ? ey + m.pad : top;
    wy += text_centred(f, f.fonts.small, m.small, wx0, right, wy, colour::kMuted, f.t("yc_wish"), 1) + gap * 0.5f;
    const int n = static_cast<int>(y.activities.size());
    Grid g = layout_grid(n, ImVec2(wx0, wy), ImVec2(right, bar), gap, 0.95f);
    for (int i = 0; i < n; ++i) {
        const YearClockActivity& a = y.activities[static_cast<std::size_t>(i)];
        const std::string id = "wish-" + a.id;
        if (picture_tile(f, id.c_str(), g.cell_min(i), g.cell_max(i), a.icon, tr(f, a.text), v.session.wished(mo, a.id)))
            act = {Action::Wish, a.id};
    }

    if (Action b = back_button(f)) act = b;
    if (bottom_forward(f, "done", f.t("done"), Arrow::None)) act = {Action::Done, ""};
    return act;
}

// --- typing an idea --------------------------------------------------------------------

Action idea_page(const Frame& f, const View& v) {
    const Metrics& m = f.m;
    const int mo = v.session.open_month();
    float ty = m.pad;
    ty += text_centred(f, f.fonts.title, m.title, m.pad * 2, m.width - m.pad * 2, ty, colour::kText,
                       f.t("yc_idea_title") + ": " + month_name(f, mo), 2,
                       std::max(text::Shaper::line_height(m.floor),
                                std::min(m.title * 1.15f * 2, m.height - ty - m.pad * 3 - m.font * 2.6f - keyboard_height(m))));
    ty += m.pad * 0.5f;
    const float box_h = m.font * 2.6f;
    text_field(f, v.session.draft(), ImVec2(m.pad * 1.5f, ty), ImVec2(m.width - m.pad * 1.5f, ty + box_h));
    ty += box_h + m.pad;
    return keyboard(f, ImVec2(m.pad * 1.5f, ty), ImVec2(m.width - m.pad * 1.5f, m.height - m.pad * 1.5f), v.shift,
                    f.t("yc_idea_save"));
}

}  // namespace

Action yearclock_screen(const Frame& f, const View& v) {
    const YearClock* y = v.session.yearclock();
    if (!y) return {};
    if (v.session.idea_open()) return idea_page(f, v);
    if (v.session.open_month() == 0) return ring(f, v, *y);
    return month_page(f, v, *y, v.session.open_month());
}

}  // namespace kohtaamo::ui
