// screen_choose.cpp — who is answering: one picture tile per survey, and Back.
#include "ui.hpp"

namespace kohtaamo::ui {

// The bottom bar's Back button; shared by the screens that have one.
Action back_button(const Frame& f);

Action choose_screen(const Frame& f, const View& v) {
    const Metrics& m = f.m;
    Action act;
    float y = m.pad * 1.5f;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("choose_title"));
    y += m.pad;
    const auto& surveys = v.session.surveys();
    const float bottom = m.height - m.min_target - m.pad * 2.5f;
    Grid g = layout_grid(static_cast<int>(surveys.size()), ImVec2(m.pad * 2, y), ImVec2(m.width - m.pad * 2, bottom),
                         m.pad * 1.5f, 1.0f);
    for (std::size_t i = 0; i < surveys.size(); ++i) {
        const Survey& s = surveys[i];
        std::string id = "survey-" + s.id;
        if (picture_tile(f, id.c_str(), g.cell_min(static_cast<int>(i)), g.cell_max(static_cast<int>(i)), s.icon,
                         text_in(s.title, f.lang, f.texts.fallback_language()), false))
            act = {Action::Survey, s.id};
    }
    if (Action b = back_button(f)) act = b;
    return act;
}

}  // namespace kohtaamo::ui
