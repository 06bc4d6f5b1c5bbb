// screen_welcome.cpp — the first screen: a greeting and one big button per language.
#include "ui.hpp"

namespace kohtaamo::ui {

Action welcome_screen(const Frame& f, const View&, const std::vector<std::string>& languages) {
    const Metrics& m = f.m;
    Action act;
    // A waving hand, the greeting in the default language, and the prompt.
    float y = m.pad * 2;
    float hand = m.height * (m.portrait() ? 0.14f : 0.2f);
    if (ImTextureID tex = f.icon("👋"))
        ImGui::GetWindowDrawList()->AddImage(tex, ImVec2((m.width - hand) / 2, y), ImVec2((m.width + hand) / 2, y + hand));
    y += hand + m.pad;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("welcome_title"));
    y += m.pad * 0.5f;
    y += text_centred(f, f.fonts.body, m.font, m.pad, m.width - m.pad, y, colour::kMuted, f.t("welcome_prompt"));
    y += m.pad * 2;

    // The language buttons, each labelled in its own language.
    const int n = static_cast<int>(languages.size());
    const float bottom = m.height - m.pad * 2;
    Grid g = layout_grid(n, ImVec2(m.pad * 2, y), ImVec2(m.width - m.pad * 2, bottom), m.pad * 1.5f,
                         m.portrait() ? 3.5f : 2.4f);
    for (int i = 0; i < n; ++i) {
        const std::string& lang = languages[static_cast<std::size_t>(i)];
        std::string id = "lang-" + lang;
        if (button(f, id.c_str(), g.cell_min(i), g.cell_max(i), f.texts.language_name(lang), colour::kPrimary,
                   colour::kPrimaryDown, colour::kOnPrimary))
            act = {Action::Language, lang};
    }
    return act;
}

}  // namespace kohtaamo::ui
