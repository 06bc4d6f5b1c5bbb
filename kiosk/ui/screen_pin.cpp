// screen_pin.cpp — the coordinator's PIN pad: 0-9, erase, OK, and Cancel. The digits
// show as dots; a wrong PIN or the lock-out says so above them.
#include <algorithm>

#include "ui.hpp"

namespace kohtaamo::ui {

bool staff_corner(const Frame& f) {
    ImGui::SetCursorScreenPos(ImVec2(0, 0));
    ImGui::InvisibleButton("staff-corner", ImVec2(f.m.min_target, f.m.min_target));
    return ImGui::IsItemActive() && ImGui::GetIO().MouseDownDuration[0] >= 3.0f;
}

Action pin_screen(const Frame& bar, const PinView& v) {
    const Frame f = bar.unmirrored();  // a keypad keeps its digits' places in every language
    const Metrics& m = f.m;
    Action act;
    float y = m.pad;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("pin_title"), 1);
    // Dots for the digits entered, or the message.
    float dot_y = y + m.font * 0.8f;
    if (!v.message.empty()) {
        text_centred(f, f.fonts.body, m.font, m.pad, m.width - m.pad, y, colour::kError, v.message, 2, m.font * 1.8f);
    } else {
        ImDrawList* dl = ImGui::GetWindowDrawList();
        float r = m.font * 0.25f, gap = r * 3.5f;
        int shown = std::max(v.entered, 4);
        float x0 = (m.width - gap * static_cast<float>(shown - 1)) / 2;
        for (int i = 0; i < shown; ++i) {
            ImVec2 c(x0 + gap * static_cast<float>(i), dot_y);
            if (i < v.entered) dl->AddCircleFilled(c, r, colour::rgb(colour::kText));
            else dl->AddCircle(c, r, colour::rgb(colour::kEdge), 0, 2.0f);
        }
    }
    y += m.font * 1.8f;

    // The keypad: 3 x 4, below it Cancel.
    const float bottom = m.height - m.min_target - m.pad * 2.5f;
    float key = std::min((bottom - y - 3 * m.pad) / 4, (m.width - 4 * m.pad) / 3);
    key = std::max(key, m.min_target);
    float keypad_w = key * 3 + m.pad * 2;
    float x0 = (m.width - keypad_w) / 2;
    static const char* labels[12] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"};
    for (int i = 0; i < 12; ++i) {
        ImVec2 min(x0 + static_cast<float>(i % 3) * (key + m.pad), y + static_cast<float>(i / 3) * (key + m.pad));
        ImVec2 max(min.x + key, min.y + key);
        std::string label = labels[i];
        std::string id = "pin-" + std::to_string(i);
        bool primary = i == 11;
        if (button(f, id.c_str(), min, max, label, primary ? colour::kPrimary : colour::kTile,
                   primary ? colour::kPrimaryDown : colour::kTileDown, primary ? colour::kOnPrimary : colour::kText) &&
            !v.locked) {
            if (i == 9) act = {Action::Erase, ""};
            else if (i == 11) act = {Action::PinOk, ""};
            else act = {Action::Digit, label};
        }
    }
    float w = std::max(m.min_target * 2.6f, m.width * 0.22f);
    ImVec2 min(m.pad * 1.5f, m.height - m.min_target - m.pad * 1.5f);
    if (button(bar, "cancel", min, ImVec2(min.x + w, min.y + m.min_target), f.t("cancel"), colour::kSecondary,
               colour::kEdge, colour::kText, Arrow::Back))
        act = {Action::Close, ""};
    return act;
}

}  // namespace kohtaamo::ui
