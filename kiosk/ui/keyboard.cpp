// keyboard.cpp — the on-screen keyboard for free-text questions. Its letters come from the
// visitor's language catalogue (keys_1..3 and keys_shift_1..3 in config/lang/<code>.toml):
// Finnish and Swedish have å ä ö, Ukrainian the ЙЦУКЕН layout, Arabic the Arabic (101)
// layout. Three letter rows (the third between shift and erase), a one-letter shift as on
// a phone, then a bottom row with the screen's Back, comma, space, full stop and Next, so
// that everything fits 800x480. The keys share the width: each at least Metrics::min_key
// (15 mm), the other targets of the row at least Metrics::min_target; Back and Next take
// three keys' width each so that their words fit on one line (in portrait, where keys are
// narrow, they take a bar of their own under the keys, half the width each). Every key is a plain tap
// (no hold, no hover). Right to left the letter rows keep the catalogue's order from the
// left, as a physical keyboard of that language has them, and the bottom row mirrors with
// the screen (Back on the right, Next on the left). What is typed shows shaped in the text
// field (an Arabic letter joins its neighbours as the next one comes).
#include <algorithm>

#include "ui.hpp"
#include "utf8.hpp"

namespace kohtaamo::ui {

KeyboardLayout keyboard_layout(const Catalog& texts, const std::string& lang, bool shift) {
    KeyboardLayout l;
    for (int r = 1; r <= 3; ++r) {
        const std::string key = std::string(shift ? "keys_shift_" : "keys_") + std::to_string(r);
        // The catalogue's loader checked the text is UTF-8; a broken one gives no keys.
        std::vector<std::string> row = utf8_split(texts.get(lang, key)).value_or(std::vector<std::string>{});
        if (r == 3) {
            row.insert(row.begin(), "⇧");
            row.push_back("⌫");
        }
        l.columns = std::max(l.columns, static_cast<int>(row.size()));
        l.rows.push_back(std::move(row));
    }
    return l;
}

float keyboard_height(const Metrics& m) {
    const float gap = std::max(4.0f, m.pad * 0.5f);
    return 4 * m.min_target + 3 * gap + (m.portrait() ? m.min_target + m.pad : 0.0f) + 1;
}

Action keyboard(const Frame& f, ImVec2 min, ImVec2 max, bool shift, const std::string& next_label,
                const std::string& back_label) {
    const Metrics& m = f.m;
    Action act;
    const KeyboardLayout layout = keyboard_layout(f.texts, f.lang, shift);
    const int cols = std::max(layout.columns, 11);  // the bottom row needs 11
    const Frame rows = f.unmirrored();
    // The keys take the whole width the screen gives; the gap shrinks before they do.
    float gap = std::max(4.0f, m.pad * 0.5f);
    float key_w = (max.x - min.x - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols);
    if (key_w < m.min_key) {
        gap = 4.0f;
        key_w = (max.x - min.x - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols);
    }
    // In portrait the keys are narrow: Back and Next go to a bar of their own under the
    // keys, half the width each, so their words always fit (they were cut there).
    const bool bar = m.portrait();
    const float bar_y = max.y - m.min_target;
    if (bar) max.y = bar_y - m.pad;
    const float key_h = (max.y - min.y - gap * 3) / 4;
    for (std::size_t r = 0; r < layout.rows.size(); ++r) {
        const auto& row = layout.rows[r];
        // A shorter row is centred under the longer ones.
        const float indent = static_cast<float>(cols - static_cast<int>(row.size())) * (key_w + gap) / 2;
        for (std::size_t c = 0; c < row.size(); ++c) {
            const std::string& key = row[c];
            ImVec2 k0(min.x + indent + static_cast<float>(c) * (key_w + gap), min.y + static_cast<float>(r) * (key_h + gap));
            ImVec2 k1(k0.x + key_w, k0.y + key_h);
            const bool special = key == "⇧" || key == "⌫";
            const bool lit = key == "⇧" && shift;
            std::string id = "key-" + std::to_string(r) + "-" + std::to_string(c);
            if (button(rows, id.c_str(), k0, k1, key, lit ? colour::kPrimary : special ? colour::kSecondary : colour::kTile,
                       lit ? colour::kPrimaryDown : colour::kTileDown, lit ? colour::kOnPrimary : colour::kText)) {
                if (key == "⇧") act = {Action::Shift, ""};
                else if (key == "⌫") act = {Action::Erase, ""};
                else act = {Action::Type, key};
            }
            f.registry.back().key = true;
        }
    }
    // Bottom row: Back (3 keys wide), comma, space (the rest), full stop, Next (3); in
    // portrait comma, space and full stop, over the bar with Back and Next.
    const float y = min.y + 3 * (key_h + gap);
    const int side = bar ? 0 : 3;
    auto span = [&](int col, int width) {
        float x0 = min.x + static_cast<float>(col) * (key_w + gap);
        return std::make_pair(ImVec2(x0, y), ImVec2(x0 + static_cast<float>(width) * key_w + static_cast<float>(width - 1) * gap,
                                                     y + key_h));
    };
    auto [b0, b1] = bar ? std::make_pair(ImVec2(min.x, bar_y), ImVec2((min.x + max.x - m.pad) / 2, bar_y + m.min_target))
                        : span(0, side);
    if (button(f, "kb-back", b0, b1, back_label.empty() ? f.t("back") : back_label, colour::kSecondary,
               colour::kEdge, colour::kText, Arrow::Back))
        act = {Action::Back, ""};
    auto [c0, c1] = span(side, 1);
    if (button(f, "kb-comma", c0, c1, ",", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, ","};
    f.registry.back().key = true;
    auto [s0, s1] = span(side + 1, cols - 2 * side - 2);
    if (button(f, "kb-space", s0, s1, "␣", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, " "};
    auto [d0, d1] = span(cols - side - 1, 1);
    if (button(f, "kb-stop", d0, d1, ".", colour::kTile, colour::kTileDown, colour::kText)) act = {Action::Type, "."};
    f.registry.back().key = true;
    if (!next_label.empty()) {
        auto [n0, n1] = bar ? std::make_pair(ImVec2((min.x + max.x + m.pad) / 2, bar_y), ImVec2(max.x, bar_y + m.min_target))
                            : span(cols - side, side);
        if (button(f, "kb-next", n0, n1, next_label, colour::kPrimary, colour::kPrimaryDown, colour::kOnPrimary,
                   Arrow::Forward))
            act = {Action::Next, ""};
    }
    return act;
}

}  // namespace kohtaamo::ui
