// screen_welcome.cpp — the first screen: a greeting; the surveys as big pictures (a child
// taps its own, without reading: the children's survey starts at once); the languages as
// smaller buttons beside them (landscape) or under them (portrait), the one in use lit;
// "you said, we did" along the bottom. In the one-question event mode the question and its
// answers stand where the greeting and the surveys would: one tap answers.
#include <algorithm>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {

// "You said, we did": one message at a time across the bottom, in each language in turn;
// once a visitor has picked a language, in that one.
void news_band(const Frame& f, const std::vector<NewsItem>& news, const std::vector<std::string>& languages,
               ImVec2 min, ImVec2 max) {
    const Metrics& m = f.m;
    const auto ms = static_cast<std::int64_t>(f.time_s * 1000);
    NewsSlot slot = news_slot(news.size(), languages, ms);
    if (f.lang != languages.front()) slot = {static_cast<std::size_t>(ms / kNewsMs) % news.size(), f.lang};
    const NewsItem& item = news[slot.item];
    // The message is in its own language, which may read the other way than the screen's.
    Frame nf = f;
    nf.rtl = f.texts.rtl(slot.lang);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    fill_rounded(dl, min, max, colour::rgb(colour::kTile), m.pad * 0.6f);
    dl->AddRect(min, max, colour::rgb(colour::kEdge), m.pad * 0.6f, 0, 2.0f);
    const float h = max.y - min.y, pic = std::min(h - m.pad, m.icon_max);
    picture(nf, item.icon, ImVec2(min.x + m.pad * 0.6f, min.y + (h - pic) / 2), ImVec2(min.x + m.pad * 0.6f + pic, min.y + (h + pic) / 2));
    const float x = min.x + pic + m.pad * 1.4f, w = max.x - x - m.pad;
    float y = min.y + m.pad * 0.3f;
    y += text(nf, f.fonts.small, m.small, ImVec2(x, y), colour::kMuted, f.texts.get(slot.lang, "news_title"), w).y;
    const float left = max.y - m.pad * 0.3f - y;
    text(nf, f.fonts.small, m.small, ImVec2(x, y), colour::kText, text_in(item.text, slot.lang, f.texts.fallback_language()),
         w, std::max(1, static_cast<int>(left / text::Shaper::line_height(m.floor))));
}

// The language buttons in a block at most `max_w` wide and `max_h` high: the fewest
// columns (the widest buttons) whose rows fit the height and whose cells show every name
// at 80 % of the body size or more; else the fewest columns whose rows fit at all.
struct LanguageGrid {
    int cols = 1, rows = 1;
    float width = 0, height = 0;  // the whole block
};
LanguageGrid language_grid(const Frame& f, const std::vector<std::string>& languages, float max_w, float max_h) {
    const Metrics& m = f.m;
    const int n = static_cast<int>(languages.size());
    float widest = 0;
    for (const auto& lang : languages) widest = std::max(widest, measure(f.fonts.body, m.font, f.texts.language_name(lang)).x);
    const float gap = m.pad, cell_need = widest * 0.8f + 2 * m.pad;
    auto block_h = [&](int rows) { return m.min_target * static_cast<float>(rows) + gap * static_cast<float>(rows - 1); };
    auto cell_w = [&](int cols) { return (max_w - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols); };
    LanguageGrid g;
    g.cols = n;
    for (int cols = 1; cols <= n; ++cols)
        if (block_h((n + cols - 1) / cols) <= max_h && cell_w(cols) >= cell_need) {
            g.cols = cols;
            break;
        }
    if (cell_w(g.cols) < cell_need)
        for (int cols = 1; cols <= n; ++cols)
            if (block_h((n + cols - 1) / cols) <= max_h) {
                g.cols = cols;
                break;
            }
    g.rows = (n + g.cols - 1) / g.cols;
    const float w = std::min(cell_w(g.cols), std::max(cell_need, m.min_target * 2.2f));
    g.width = w * static_cast<float>(g.cols) + gap * static_cast<float>(g.cols - 1);
    g.height = block_h(g.rows);
    return g;
}

Action language_buttons(const Frame& f, const View& v, const std::vector<std::string>& languages, ImVec2 at,
                        const LanguageGrid& g) {
    const Metrics& m = f.m;
    Action act;
    const float gap = m.pad;
    const float cell_w = (g.width - gap * static_cast<float>(g.cols - 1)) / static_cast<float>(g.cols);
    const int n = static_cast<int>(languages.size());
    for (int i = 0; i < n; ++i) {
        const std::string& lang = languages[static_cast<std::size_t>(i)];
        const int row = i / g.cols, col = i % g.cols;
        // A last row that is not full is centred under the others.
        const int in_row = std::min(g.cols, n - row * g.cols);
        const float shift = static_cast<float>(g.cols - in_row) * (cell_w + gap) / 2;
        const ImVec2 p0(at.x + shift + static_cast<float>(col) * (cell_w + gap), at.y + static_cast<float>(row) * (m.min_target + gap));
        const bool current = lang == v.session.language();
        const std::string id = "lang-" + lang;
        // Each name in its own language (its letters give its direction).
        if (button(f, id.c_str(), p0, ImVec2(p0.x + cell_w, p0.y + m.min_target), f.texts.language_name(lang),
                   current ? colour::kPrimary : colour::kTile, current ? colour::kPrimaryDown : colour::kTileDown,
                   current ? colour::kOnPrimary : colour::kText))
            act = {Action::Language, lang};
    }
    return act;
}

}  // namespace

Action welcome_screen(const Frame& f, const View& v, const std::vector<std::string>& languages) {
    const Metrics& m = f.m;
    Action act;
    const bool news = v.news && !v.news->empty();
    const Question* event = v.session.one_question() ? v.session.question() : nullptr;
    float bottom = m.height - m.pad * 2;
    if (news) {
        const float band = std::max(m.small * 3.8f, m.height * 0.17f);
        news_band(f, *v.news, languages, ImVec2(m.pad * 2, bottom - band), ImVec2(m.width - m.pad * 2, bottom));
        bottom -= band + m.pad * 1.5f;
    }

    // The greeting (or the event's question) and the prompt, across the top.
    float y = m.pad * 2;
    const std::string& title = event ? text_in(event->text, f.lang, f.texts.fallback_language()) : f.t("welcome_title");
    y += text_centred(f, f.fonts.title, m.title, m.pad * 2, m.width - m.pad * 2, y, colour::kText, title, 2,
                      text::Shaper::line_height(m.title) * 2);
    if (!event) {
        y += m.pad * 0.3f;
        y += text_centred(f, f.fonts.body, m.font, m.pad * 2, m.width - m.pad * 2, y, colour::kMuted, f.t("choose_title"), 1);
    }
    y += m.pad;

    // The languages: a block at the right (landscape) or under the pictures (portrait).
    ImVec2 cmin(m.pad * 2, y), cmax(m.width - m.pad * 2, bottom);
    if (languages.size() > 1) {
        if (m.portrait()) {
            const LanguageGrid g = language_grid(f, languages, cmax.x - cmin.x, (cmax.y - cmin.y) * 0.45f);
            const ImVec2 at((m.width - g.width) / 2, bottom - g.height);
            if (Action a = language_buttons(f, v, languages, at, g)) act = a;
            cmax.y = at.y - m.pad * 1.5f;
        } else {
            const LanguageGrid g = language_grid(f, languages, (cmax.x - cmin.x) * 0.45f, cmax.y - cmin.y);
            const ImVec2 at(cmax.x - g.width, cmin.y + std::max(0.0f, (cmax.y - cmin.y - g.height) / 2));
            if (Action a = language_buttons(f, v, languages, at, g)) act = a;
            cmax.x = at.x - m.pad * 2;
        }
    }

    if (event) {
        if (Action a = answers(f, v, *event, cmin, cmax)) act = a;
        return act;
    }
    // The surveys: one big picture each; a child taps its own.
    const auto& surveys = v.session.surveys();
    const Grid g = layout_grid(static_cast<int>(surveys.size()), cmin, cmax, m.pad * 1.5f, 1.0f);
    for (std::size_t i = 0; i < surveys.size(); ++i) {
        const Survey& s = surveys[i];
        const std::string id = "survey-" + s.id;
        if (picture_tile(f, id.c_str(), g.cell_min(static_cast<int>(i)), g.cell_max(static_cast<int>(i)), s.icon,
                         text_in(s.title, f.lang, f.texts.fallback_language()), false))
            act = {Action::Survey, s.id};
    }
    return act;
}

}  // namespace kohtaamo::ui
