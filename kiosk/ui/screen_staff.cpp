// screen_staff.cpp — the coordinator's screen: responses today and in total per survey,
// the abandoned share, sync state, Export to a USB stick with progress, Close and Quit.
#include <algorithm>
#include <cfloat>
#include <cstdio>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {
std::string percent(int part, int whole) {
    if (whole == 0) return "–";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%d %%", (part * 100 + whole / 2) / whole);
    return buf;
}
// ISO 8601 UTC → "2026-11-25 19:55 UTC" (short enough for a table cell).
std::string when(const std::string& iso) {
    if (iso.size() < 16) return iso;
    return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}
}  // namespace

Action staff_screen(const Frame& f, const StaffView& v) {
    const Metrics& m = f.m;
    Action act;
    float y = m.pad;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("staff_title"), 1);
    y += m.pad;

    // The numbers: one row per survey.
    const float x0 = m.pad * 2, x_today = m.width * 0.36f, x_total = m.width * 0.53f, x_aband = m.width * 0.7f;
    // Rows 1.5 lines apart where the screen has room, closer (down to 1.2) where the rows,
    // the sync lines and the buttons would not fit otherwise (a landscape screen with a
    // year-clock and responses set aside).
    int rows = 1 + static_cast<int>(v.stats.surveys.size());
    for (const auto& s : v.surveys) rows += s.yearclock ? 3 : 0;
    const float lines_below = text::Shaper::line_height(m.small) * (v.stats.set_aside > 0 ? 2.0f : 1.0f) + m.small +
                              m.pad +
                              static_cast<float>(v.warnings.size()) *
                                  (2 * text::Shaper::line_height(m.small * 0.9f) + m.small * 0.35f);
    const float room_for_rows = m.height - m.min_target - m.pad * 2.5f - y - lines_below;
    const float row = std::clamp(room_for_rows / static_cast<float>(rows), m.small * 1.2f, m.small * 1.5f);
    const float w_col = x_total - x_today - m.pad, w_last = m.width - x0 - x_aband;
    text(f, f.fonts.small, m.small, ImVec2(x_today, y), colour::kMuted, f.t("staff_today"), w_col, 1);
    text(f, f.fonts.small, m.small, ImVec2(x_total, y), colour::kMuted, f.t("staff_total"), w_col, 1);
    text(f, f.fonts.small, m.small, ImVec2(x_aband, y), colour::kMuted, f.t("staff_abandoned"), w_last, 1);
    y += row;
    for (const auto& c : v.stats.surveys) {
        std::string title = c.survey_id;
        for (const auto& s : v.surveys)
            if (s.id == c.survey_id) title = text_in(s.title, f.lang, f.texts.fallback_language());
        text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kText, title, x_today - x0 - m.pad, 1);
        text(f, f.fonts.small, m.small, ImVec2(x_today, y), colour::kText, std::to_string(c.today));
        text(f, f.fonts.small, m.small, ImVec2(x_total, y), colour::kText, std::to_string(c.total));
        text(f, f.fonts.small, m.small, ImVec2(x_aband, y), colour::kText, percent(c.abandoned, c.total));
        y += row;
    }
    // Year-clock wishes per month: two rows of six months, each month's short name with its
    // count beside it, in the labels' own size (twelve columns made them too small to read).
    for (const auto& s : v.surveys) {
        if (!s.yearclock) continue;
        auto it = v.stats.wishes.find(s.id);
        text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kMuted, f.t("staff_wishes"), m.width - 2 * x0, 1);
        y += row;
        const float col = (m.width - 2 * x0) / 6;
        for (int i = 0; i < 12; ++i) {
            const float x = x0 + col * static_cast<float>(i % 6), yy = y + row * static_cast<float>(i / 6);
            const std::string count = std::to_string(it == v.stats.wishes.end() ? 0 : it->second[static_cast<std::size_t>(i)]);
            const float cw = measure(f.fonts.title, m.small, count).x;
            text(f, f.fonts.small, m.small, ImVec2(x, yy), colour::kMuted, f.t("month_short_" + std::to_string(i + 1)),
                 col - cw - m.pad * 1.5f, 1);
            text(f, f.fonts.title, m.small, ImVec2(x + col - cw - m.pad, yy), colour::kText, count);
        }
        y += row * 2;
    }
    y += m.pad;

    // Sync.
    std::string sync;
    if (v.stats.auth_failed) sync = f.t("staff_sync_auth");
    else if (v.stats.sync_state.empty() || v.stats.sync_state == "off") sync = f.t("staff_sync_off");
    else sync = f.t("staff_sync_pending") + " " + std::to_string(v.stats.pending_sync) + " · " + f.t("staff_sync_last") +
                " " + (v.stats.last_success_at.empty() ? f.t("staff_sync_never") : when(v.stats.last_success_at));
    y += text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kText, sync, m.width - 2 * x0, 2).y + m.small * 0.35f;
    // Responses set aside (refused, or failed on alone): how many, and for how many
    // reasons; IT reads the reasons (`kohtaamo-sync --status`) and sends them again.
    std::string detail = v.stats.auth_failed ? "" : v.stats.last_error;
    if (v.stats.set_aside > 0) {
        const std::string line = f.t("staff_sync_set_aside") + " " + std::to_string(v.stats.set_aside) + " · " +
                                 f.t("staff_sync_reasons") + " " + std::to_string(v.stats.set_aside_reasons.size()) +
                                 " · " + f.t("staff_sync_it");
        // One line (shrunk, then cut): on a landscape screen the year-clock's months leave no
        // room for a second one above the buttons.
        y += text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kError, line, m.width - 2 * x0, 1).y + m.small * 0.35f;
        const auto& [reason, n] = v.stats.set_aside_reasons.front();
        detail = std::to_string(n) + " × " + reason;
    }
    // Everything below stays above the export's message and the buttons.
    const float bottom = m.height - m.min_target - m.pad * 2.5f -
                         (v.export_progress >= 0 || !v.export_message.empty() ? row * 2 + m.pad : 0.0f);
    // The warnings (demo PIN or token, no sealing key …): two lines each where they fit, at
    // least one (shrunk, then cut with "…").
    for (const auto& w : v.warnings) {
        const int lines =
            std::clamp(static_cast<int>((bottom - y) / text::Shaper::line_height(m.small * 0.9f)), 1, 2);
        y += text(f, f.fonts.small, m.small * 0.9f, ImVec2(x0, y), colour::kError, w, m.width - 2 * x0, lines).y +
             m.small * 0.35f;
    }
    // The last error, or the most frequent reason, on the lines left (cut with "…"; none on
    // a small screen: the counts alone).
    if (!detail.empty()) {
        const int lines = std::min(3, static_cast<int>((bottom - y) / text::Shaper::line_height(m.small * 0.9f)));
        if (lines > 0)
            y += text(f, f.fonts.small, m.small * 0.9f, ImVec2(x0, y), colour::kMuted, detail, m.width - 2 * x0, lines).y +
                 m.small * 0.35f;
    }

    // Export: a progress bar while it runs, then its result, under the rest and above the bar.
    const float bar_y = m.height - m.min_target - m.pad * 1.5f;
    const float room = std::max(0.0f, bar_y - m.pad - y);
    if (v.export_progress >= 0) {
        ImDrawList* dl = ImGui::GetWindowDrawList();
        const float top = std::min(y + row, bar_y - m.pad - m.font);
        text(f, f.fonts.small, m.small, ImVec2(x0, top - row), colour::kText, f.t("staff_exporting"), m.width - 2 * x0, 1);
        ImVec2 p0(x0, top), p1(m.width - x0, top + m.font);
        const float done = (p1.x - p0.x) * static_cast<float>(v.export_progress);
        dl->AddRectFilled(p0, p1, colour::rgb(colour::kSecondary), m.pad * 0.5f);
        dl->AddRectFilled(ImVec2(f.rtl ? p1.x - done : p0.x, p0.y), ImVec2(f.rtl ? p1.x : p0.x + done, p1.y),
                          colour::rgb(colour::kPrimary), m.pad * 0.5f);
    } else if (!v.export_message.empty()) {
        text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kText, v.export_message, m.width - 2 * x0,
             std::max(1, static_cast<int>(room / text::Shaper::line_height(m.floor))));
    }

    // The bottom bar: Close (back to the kiosk), Export, Quit (leaves the program).
    float w = (m.width - m.pad * 5) / 3;
    ImVec2 b0(m.pad * 1.5f, bar_y);
    if (button(f, "close", b0, ImVec2(b0.x + w, b0.y + m.min_target), f.t("staff_close"), colour::kSecondary,
               colour::kEdge, colour::kText, Arrow::Back))
        act = {Action::Close, ""};
    ImVec2 b1(b0.x + w + m.pad, bar_y);
    if (button(f, "export", b1, ImVec2(b1.x + w, b1.y + m.min_target), f.t("staff_export"), colour::kPrimary,
               colour::kPrimaryDown, colour::kOnPrimary) &&
        v.export_progress < 0)
        act = {Action::Export, ""};
    ImVec2 b2(b1.x + w + m.pad, bar_y);
    if (button(f, "quit", b2, ImVec2(b2.x + w, b2.y + m.min_target), f.t("staff_quit"), colour::kSecondary,
               colour::kEdge, colour::kText))
        act = {Action::Quit, ""};
    return act;
}

Action unlock_screen(const Frame& f, const UnlockView& v) {
    const Metrics& m = f.m;
    float y = m.pad * 1.5f;
    const float kb = keyboard_height(m), box_h = m.font * 2.2f;
    // The title, the key's name and the message share what the field and the keyboard leave.
    const float room = std::max(text::Shaper::line_height(m.floor), m.height - y - kb - box_h - m.pad * 3.5f);
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("staff_unlock_title"), 1,
                      room * 0.4f);
    const std::string hint = v.message.empty() ? f.t("staff_unlock_hint") + " " + v.key_name : v.message;
    y += text_centred(f, f.fonts.small, m.small, m.pad, m.width - m.pad, y, v.message.empty() ? colour::kMuted : colour::kError,
                      hint, 2, room * 0.6f);
    y += m.pad * 0.5f;
    std::string dots;
    for (int i = 0; i < v.typed; ++i) dots += "•";
    text_field(f, dots, ImVec2(m.pad * 1.5f, y), ImVec2(m.width - m.pad * 1.5f, y + box_h));
    y += box_h + m.pad;
    return keyboard(f, ImVec2(m.pad * 1.5f, y), ImVec2(m.width - m.pad * 1.5f, m.height - m.pad * 1.5f), v.shift,
                    v.typed > 0 ? f.t("staff_unlock_open") : "", f.t("staff_unlock_skip"));
}

}  // namespace kohtaamo::ui
