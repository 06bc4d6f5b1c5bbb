// keyboard.cpp — the on-screen keyboard for free-text questions: a Finnish/Swedish
// layout (å ä ö), a one-letter shift as on a phone, backspace, space, and the screen's
// Back and Next keys in its bottom row so that everything fits 800x480 with keys of at
// least Metrics::min_target. Every key is a plain tap (no hold, no hover).
#include <algorithm>
#include <array>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {
// Three rows of eleven keys; "⇧" and "⌫" are the shift and erase keys.
const std::array<std::array<const char*, 11>, 3> kLower = {{
    {"q", "w", "e", "r", "t", "y", "u", "i", "o", "p", "å"},
    {"a", "s", "d", "f", "g", "h", "j", "k", "l", "ö", "ä"},
    {"⇧", "z", "x", "c", "v", "b", "n", "m", "-", "?", "⌫"},
}};
const std::array<std::array<const char*, 11>, 3> kUpper = {{
    {"Q", "W", "E", "R", "T", "Y", "U", "I", "O", "P", "Å"},
    {"A", "S", "D", "F", "G", "H", "J", "K", "L", "Ö", "Ä"},
    {"⇧", "Z", "X", "C", "V", "B", "N", "M", "!", "'", "⌫"},
}};
}  // namespace

std::string keyboard_chars() {
    std::string out = "␣,.";
    for (const auto* rows : {&kLower, &kUpper})
        for (const auto& row : *rows)
            for (const char* k : row) out += k;
    return out;
}

Action keyboard(const Frame& f, ImVec2 min, ImVec2 max, bool shift, const std::string& next_label) {
    const Metrics& m = f.m;
    Action act;
    const float gap = std::max(4.0f, m.pad * 0.5f);
    const float key_w = (max.x - min.x - gap * 10) / 11;
    const float key_h = (max.y - min.y - gap * 3) / 4;
    const auto& rows = shift ? kUpper : kLower;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 11; ++c) {
            const std::string key = rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
            ImVec2 k0(min.x + static_cast<float>(c) * (key_w + gap), min.y + static_cast<float>(r) * (key_h + gap));
            ImVec2 k1(k0.x + key_w, k0.y + key_h);
            const bool special = key == "⇧" || key == "⌫";
            const bool lit = key == "⇧" && shift;
            std::string id = "key-" + std::to_string(r) + "-" + std::to_string(c);
            if (button(f, id.c_str(), k0, k1, key, lit ? colour::kPrimary : special ? colour::kSecondary : colour::kTile,
                       lit ? colour::kPrimaryDown : colour::kTileDown, lit ? colour::kOnPrimary : colour::kText)) {
                if (key == "⇧") act = {Action::Shift, ""};
                else if (key == "⌫") act = {Action::Erase, ""};
                else act = {Action::Type, key};
            }
        }
    }
    // Bottom row: Back (2 keys wide), comma, space (5), full stop, Next (2).
    const float y = min.y + 3 * (key_h + gap);
    auto span = [&](int col, int width) {
        float x0 = min.x + static_cast<float>(col) * (key_w + gap);
        return std::make_pair(ImVec2(x0, y), ImVec2(x0 + static_cast<float>(width) * key_w + static_cast<float>(width - 1) * gap,
                                                     y + key_h));
    };
    auto [b0, b1] = span(0, 2);
    if (button(f, "kb-back", b0, b1, f.t("back"), colour::kSecondary, colour::kEdge, colour::kText, Arrow::Back))
        act = {Action::Back, ""};
    auto [c0, c1] = span(2, 1);
    if (button(f, "kb-comma", c0, c1, ",", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, ","};
    auto [s0, s1] = span(3, 5);
    if (button(f, "kb-space", s0, s1, "␣", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, " "};
    auto [d0, d1] = span(8, 1);
    if (button(f, "kb-stop", d0, d1, ".", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, "."};
    if (!next_label.empty()) {
        auto [n0, n1] = span(9, 2);
        if (button(f, "kb-next", n0, n1, next_label, colour::kPrimary, colour::kPrimaryDown, colour::kOnPrimary,
                   Arrow::Forward))
            act = {Action::Next, ""};
    }
    return act;
}

}  // namespace kohtaamo::ui
