// screen_error.cpp — shown instead of the kiosk when its configuration is broken, so
// staff at a full-screen kiosk see what to fix (never a blank screen). Its texts are the
// one place with fixed strings: the text catalogue may itself be the broken file.
#include "ui.hpp"

namespace kohtaamo::ui {

bool config_error_screen(const Frame& f, const std::string& message) {
    const Metrics& m = f.m;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(0, 0), ImVec2(m.width, m.height), colour::rgb(colour::kError));
    float y = m.pad * 2;
    y += text_centred(f, f.fonts.title, m.title * 0.8f, m.pad * 2, m.width - m.pad * 2, y, colour::kOnPrimary,
                      "Kohtaamo ei käynnistynyt · startade inte · did not start");
    y += m.pad;
    y += text_centred(f, f.fonts.small, m.small, m.pad * 2, m.width - m.pad * 2, y, colour::kOnPrimary,
                      "Asetuksissa on virhe · Fel i inställningarna · The configuration has an error:");
    y += m.pad;
    float w = std::max(m.min_target * 4.0f, m.width * 0.5f);
    ImVec2 min((m.width - w) / 2, m.height - m.min_target - m.pad * 2);
    const int lines = std::max(1, static_cast<int>((min.y - m.pad - y) / text::Shaper::line_height(m.floor)));
    text(f, f.fonts.small, m.small, ImVec2(m.pad * 2, y), colour::kOnPrimary, message, m.width - m.pad * 4, lines);
    return button(f, "close", min, ImVec2(min.x + w, min.y + m.min_target), "Sulje · Stäng · Close", colour::kSecondary,
                  colour::kEdge, colour::kText);
}

void resting_screen(const Frame& f, const std::vector<std::string>& lines, const std::string& staff_reason) {
    const Metrics& m = f.m;
    float y = m.pad * 3;
    y += text_centred(f, f.fonts.title, m.title, m.pad * 2, m.width - m.pad * 2, y, colour::kText, "\xF0\x9F\x8C\x99", 1);
    y += m.pad;
    const float bottom = m.height - m.pad * 2 - text::Shaper::line_height(m.floor) * 3;
    const float each = lines.empty() ? 0 : std::max(m.font, (bottom - y) / static_cast<float>(lines.size()));
    for (const auto& l : lines)
        y += std::max(each, text_centred(f, f.fonts.body, m.font, m.pad * 2, m.width - m.pad * 2, y, colour::kText, l, 2,
                                         each));
    text(f, f.fonts.small, m.floor, ImVec2(m.pad * 2, bottom + m.pad), colour::kMuted, staff_reason, m.width - m.pad * 4, 3);
}

}  // namespace kohtaamo::ui
