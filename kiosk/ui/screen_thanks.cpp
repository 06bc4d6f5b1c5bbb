// screen_thanks.cpp — a joyful thank-you: a big smile, falling confetti for a moment,
// then the kiosk returns to the welcome screen by itself (Session::tick).
#include <cmath>

#include "ui.hpp"

namespace kohtaamo::ui {

// How long the confetti falls; after it the screen is still and the loop sleeps.
constexpr double kConfettiSeconds = 1.6;

double thanks_animation_seconds() { return kConfettiSeconds; }

Action thanks_screen(const Frame& f, const View&) {
    const Metrics& m = f.m;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    double t = f.time_s;
    if (t < kConfettiSeconds) {
        static const unsigned colours[] = {0xE4572E, 0xF1C453, 0x4CAF50, 0x1D4E89, 0xB565A7};
        for (int i = 0; i < 48; ++i) {
            float x = std::fmod(static_cast<float>(i * 131 % 997) / 997.0f * m.width + static_cast<float>(i) * 17.0f, m.width);
            float speed = 0.6f + static_cast<float>(i % 7) * 0.12f;
            float y = static_cast<float>(t) * speed * m.height - static_cast<float>(i % 5) * m.height * 0.15f;
            float s = m.pad * (0.4f + static_cast<float>(i % 3) * 0.2f);
            dl->AddRectFilled(ImVec2(x, y), ImVec2(x + s, y + s * 0.6f), colour::rgb(colours[i % 5]), s * 0.2f);
        }
    }
    float r = std::min(m.width, m.height) * 0.2f;
    float y = m.height * 0.12f;
    draw_face(dl, ImVec2(m.width / 2, y + r), r, 1.0f, colour::kFace[4]);
    y += 2 * r + m.pad * 1.5f;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("thanks_title"), 2,
                      text::Shaper::line_height(m.title) * 2);
    y += m.pad * 0.5f;
    text_centred(f, f.fonts.body, m.font, m.pad, m.width - m.pad, y, colour::kMuted, f.t("thanks_text"), 6,
                 std::max(m.font, m.height - y - m.pad));
    return {};
}

}  // namespace kohtaamo::ui
