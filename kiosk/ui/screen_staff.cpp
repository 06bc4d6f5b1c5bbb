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
// `s` cut at a character boundary with "…" so that it fits `width` on one line.
std::string fit_line(ImFont* font, float size, std::string s, float width) {
    auto drop_last = [&] {  // one character: its continuation bytes, then its lead byte
        while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
        if (!s.empty()) s.pop_back();
    };
    if (measure(font, size, s).x <= width) return s;
    while (s.size() > 300) drop_last();  // no line of the screen holds more
    while (!s.empty()) {
        drop_last();
        if (measure(font, size, s + "…").x <= width) return s + "…";
    }
    return s;
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
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("staff_title"));
    y += m.pad;

    // The numbers: one row per survey.
    const float x0 = m.pad * 2, x_today = m.width * 0.36f, x_total = m.width * 0.53f, x_aband = m.width * 0.7f;
    const float row = m.small * 1.5f;
    text(f, f.fonts.small, m.small, ImVec2(x_today, y), colour::kMuted, f.t("staff_today"));
    text(f, f.fonts.small, m.small, ImVec2(x_total, y), colour::kMuted, f.t("staff_total"));
    text(f, f.fonts.small, m.small, ImVec2(x_aband, y), colour::kMuted, f.t("staff_abandoned"));
    y += row;
    for (const auto& c : v.stats.surveys) {
        std::string title = c.survey_id;
        for (const auto& s : v.surveys)
            if (s.id == c.survey_id) title = text_in(s.title, f.lang, f.texts.fallback_language());
        text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kText, title);
        text(f, f.fonts.small, m.small, ImVec2(x_today, y), colour::kText, std::to_string(c.today));
        text(f, f.fonts.small, m.small, ImVec2(x_total, y), colour::kText, std::to_string(c.total));
        text(f, f.fonts.small, m.small, ImVec2(x_aband, y), colour::kText, percent(c.abandoned, c.total));
        y += row;
    }
    // Year-clock wishes per month: the months' short names over a row of counts.
    for (const auto& s : v.surveys) {
        if (!s.yearclock) continue;
        auto it = v.stats.wishes.find(s.id);
        const float col = (m.width - m.pad * 2 - x_today) / 12;
        float widest = 1;  // the month names shrink together until the widest fits its column
        for (int i = 1; i <= 12; ++i) {
            const std::string& n = f.t("month_short_" + std::to_string(i));
            widest = std::max(widest, measure(f.fonts.small, m.small, n).x);
        }
        const float size = std::min(m.small, m.small * (col - m.pad * 0.4f) / widest);
        text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kMuted, f.t("staff_wishes"), x_today - x0 - m.pad);
        for (int i = 0; i < 12; ++i) {
            const float x = x_today + col * static_cast<float>(i);
            text(f, f.fonts.small, size, ImVec2(x, y + (m.small - size)), colour::kMuted, f.t("month_short_" + std::to_string(i + 1)));
            text(f, f.fonts.small, m.small, ImVec2(x, y + row), colour::kText,
                 std::to_string(it == v.stats.wishes.end() ? 0 : it->second[static_cast<std::size_t>(i)]));
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
    y += std::max(row, text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kText, sync, m.width - 2 * x0).y);
    // Responses set aside (refused, or failed on alone): how many, and for how many
    // reasons; IT reads the reasons (`kohtaamo-sync --status`) and sends them again.
    std::string detail = v.stats.auth_failed ? "" : v.stats.last_error;
    if (v.stats.set_aside > 0) {
        const std::string line = f.t("staff_sync_set_aside") + " " + std::to_string(v.stats.set_aside) + " · " +
                                 f.t("staff_sync_reasons") + " " + std::to_string(v.stats.set_aside_reasons.size()) +
                                 " · " + f.t("staff_sync_it");
        y += std::max(row, text(f, f.fonts.small, m.small, ImVec2(x0, y), colour::kError, line, m.width - 2 * x0).y);
        const auto& [reason, n] = v.stats.set_aside_reasons.front();
        detail = std::to_string(n) + " × " + reason;
    }
    // The last error, or the most frequent reason, where it fits above the export's message
    // and the buttons: whole where there is room (portrait), else one line cut with "…",
    // else not at all (a small screen shows the counts alone).
    const float detail_size = m.small * 0.9f, detail_width = m.width - 2 * x0;
    const float bottom = m.height - m.min_target - m.pad * 2.5f -
                         (v.export_progress >= 0 || !v.export_message.empty() ? row * 2 + m.pad : 0.0f);
    if (!detail.empty()) {
        const float whole = f.fonts.small->CalcTextSizeA(detail_size, FLT_MAX, detail_width, detail.c_str(),
                                                          detail.c_str() + detail.size()).y;
        if (y + whole <= bottom)
            text(f, f.fonts.small, detail_size, ImVec2(x0, y), colour::kMuted, detail, detail_width);
        else if (y + detail_size * 1.3f <= bottom)
            text(f, f.fonts.small, detail_size, ImVec2(x0, y), colour::kMuted,
                 fit_line(f.fonts.small, detail_size, detail, detail_width));
    }

    // Export: a progress bar while it runs, then its result.
    const float bar_y = m.height - m.min_target - m.pad * 1.5f;
    if (v.export_progress >= 0) {
        ImDrawList* dl = ImGui::GetWindowDrawList();
        ImVec2 p0(x0, bar_y - m.pad - m.font), p1(m.width - x0, bar_y - m.pad);
        dl->AddRectFilled(p0, p1, colour::rgb(colour::kSecondary), m.pad * 0.5f);
        dl->AddRectFilled(p0, ImVec2(p0.x + (p1.x - p0.x) * static_cast<float>(v.export_progress), p1.y),
                          colour::rgb(colour::kPrimary), m.pad * 0.5f);
        text(f, f.fonts.small, m.small, ImVec2(x0, p0.y - row), colour::kText, f.t("staff_exporting"));
    } else if (!v.export_message.empty()) {
        text(f, f.fonts.small, m.small, ImVec2(x0, bar_y - m.pad - row * 2), colour::kText, v.export_message,
             m.width - 2 * x0);
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

}  // namespace kohtaamo::ui
