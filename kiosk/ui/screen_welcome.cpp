// screen_welcome.cpp — the first screen: a greeting and one big button per language.
#include <algorithm>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {
// "You said, we did": one message at a time across the bottom, in each language in turn.
void news_band(const Frame& f, const std::vector<NewsItem>& news, const std::vector<std::string>& languages,
               ImVec2 min, ImVec2 max) {
    const Metrics& m = f.m;
    const NewsSlot slot = news_slot(news.size(), languages, static_cast<std::int64_t>(f.time_s * 1000));
    const NewsItem& item = news[slot.item];
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(min, max, colour::rgb(colour::kTile), m.pad * 0.6f);
    dl->AddRect(min, max, colour::rgb(colour::kEdge), m.pad * 0.6f, 0, 2.0f);
    const float h = max.y - min.y, pic = std::min(h - m.pad, m.icon_max);
    if (ImTextureID tex = f.icon(item.icon))
        dl->AddImage(tex, ImVec2(min.x + m.pad * 0.6f, min.y + (h - pic) / 2), ImVec2(min.x + m.pad * 0.6f + pic, min.y + (h + pic) / 2));
    const float x = min.x + pic + m.pad * 1.4f;
    float y = min.y + m.pad * 0.3f;
    y += text(f, f.fonts.small, m.small, ImVec2(x, y), colour::kMuted, f.texts.get(slot.lang, "news_title")).y;
    text(f, f.fonts.small, m.small, ImVec2(x, y), colour::kText,
         text_in(item.text, slot.lang, f.texts.fallback_language()), max.x - x - m.pad);
}
}  // namespace

Action welcome_screen(const Frame& f, const View& v, const std::vector<std::string>& languages) {
    const Metrics& m = f.m;
    Action act;
    const bool news = v.news && !v.news->empty();
    // A waving hand, the greeting in the default language, and the prompt.
    float y = m.pad * 2;
    float hand = m.height * (m.portrait() ? 0.14f : (news ? 0.13f : 0.2f));
    if (ImTextureID tex = f.icon("👋"))
        ImGui::GetWindowDrawList()->AddImage(tex, ImVec2((m.width - hand) / 2, y), ImVec2((m.width + hand) / 2, y + hand));
    y += hand + m.pad;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("welcome_title"));
    y += m.pad * 0.5f;
    y += text_centred(f, f.fonts.body, m.font, m.pad, m.width - m.pad, y, colour::kMuted, f.t("welcome_prompt"));
    y += m.pad * 2;

    // The language buttons, each labelled in its own language.
    const int n = static_cast<int>(languages.size());
    float bottom = m.height - m.pad * 2;
    if (news) {
        const float band = std::max(m.small * 3.8f, m.height * 0.17f);
        news_band(f, *v.news, languages, ImVec2(m.pad * 2, bottom - band), ImVec2(m.width - m.pad * 2, bottom));
        bottom -= band + m.pad * 1.5f;
    }
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
