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
    float bottom = m.height - m.pad * 2;
    if (news) {
        const float band = std::max(m.small * 3.8f, m.height * 0.17f);
        news_band(f, *v.news, languages, ImVec2(m.pad * 2, bottom - band), ImVec2(m.width - m.pad * 2, bottom));
        bottom -= band + m.pad * 1.5f;
    }

    // One button per language, labelled in its own language, wide enough for the longest
    // name at full size ("Selkosuomi", "Українська"): with many languages they take two
    // rows rather than shrink their words. The waving hand above gives up room first, so
    // that the buttons never drop below a touch target.
    const int n = static_cast<int>(languages.size());
    float widest = 0;
    for (const auto& lang : languages) widest = std::max(widest, measure(f.fonts.body, m.font, f.texts.language_name(lang)).x);
    const float aspect = std::clamp((widest + 2.5f * m.pad) / m.min_target, m.portrait() ? 3.5f : 2.4f, 6.0f);
    const float header = m.pad * 2 + text_centred_height(f.fonts.title, m.title, m.pad, m.width - m.pad, f.t("welcome_title")) +
                         m.pad * 0.5f + text_centred_height(f.fonts.body, m.font, m.pad, m.width - m.pad, f.t("welcome_prompt")) +
                         m.pad * 2;
    const float full_hand = m.height * (m.portrait() ? 0.14f : (news ? 0.13f : 0.2f));
    float hand = full_hand;
    Grid g;
    for (float k : {1.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.0f}) {  // a hand smaller than half looks lost: none
        hand = full_hand * k;
        g = layout_grid(n, ImVec2(m.pad * 2, header + (hand > 0 ? hand + m.pad : 0)), ImVec2(m.width - m.pad * 2, bottom), m.pad * 1.5f, aspect);
        if (g.cell.y >= m.min_target * 1.05f) break;
    }

    // The waving hand, the greeting in the default language, and the prompt.
    float y = m.pad * 2;
    if (ImTextureID tex = f.icon("👋"); tex && hand > 0)
        ImGui::GetWindowDrawList()->AddImage(tex, ImVec2((m.width - hand) / 2, y), ImVec2((m.width + hand) / 2, y + hand));
    y += hand > 0 ? hand + m.pad : 0;
    y += text_centred(f, f.fonts.title, m.title, m.pad, m.width - m.pad, y, colour::kText, f.t("welcome_title"));
    y += m.pad * 0.5f;
    text_centred(f, f.fonts.body, m.font, m.pad, m.width - m.pad, y, colour::kMuted, f.t("welcome_prompt"));

    // A last row that is not full is centred under the others.
    const int last_row_first = (g.rows - 1) * g.cols, in_last_row = n - last_row_first;
    const float last_row_shift = static_cast<float>(g.cols - in_last_row) * (g.cell.x + g.gap) / 2;
    for (int i = 0; i < n; ++i) {
        const std::string& lang = languages[static_cast<std::size_t>(i)];
        std::string id = "lang-" + lang;
        const ImVec2 shift(i >= last_row_first ? last_row_shift : 0, 0);
        const ImVec2 p0 = g.cell_min(i), p1 = g.cell_max(i);
        if (button(f, id.c_str(), ImVec2(p0.x + shift.x, p0.y), ImVec2(p1.x + shift.x, p1.y), f.texts.language_name(lang), colour::kPrimary,
                   colour::kPrimaryDown, colour::kOnPrimary))
            act = {Action::Language, lang};
    }
    return act;
}

}  // namespace kohtaamo::ui
