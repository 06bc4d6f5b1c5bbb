// screen_question.cpp — one question per screen: the question, its answers (faces,
// pictures or an agree scale), progress dots, and the bottom bar (Back; the speaker when
// the question has a voice — in portrait on a row of its own above the bar; Next, Skip
// or Done). Right to left, the widgets mirror all of it: Back on the right, Next on the
// left, the dots filling from the right.
#include <algorithm>

#include "ui.hpp"

namespace kohtaamo::ui {

namespace {
float bar_button_width(const Metrics& m) { return std::max(m.min_target * 2.6f, m.width * 0.22f); }
}  // namespace

bool bottom_back(const Frame& f) {
    const Metrics& m = f.m;
    ImVec2 min(m.pad * 1.5f, m.height - m.min_target - m.pad * 1.5f);
    return button(f, "back", min, ImVec2(min.x + bar_button_width(m), min.y + m.min_target), f.t("back"),
                  colour::kSecondary, colour::kEdge, colour::kText, Arrow::Back);
}

bool bottom_forward(const Frame& f, const char* id, const std::string& label, Arrow arrow) {
    const Metrics& m = f.m;
    const float w = bar_button_width(m);
    ImVec2 min(m.width - m.pad * 1.5f - w, m.height - m.min_target - m.pad * 1.5f);
    return button(f, id, min, ImVec2(min.x + w, min.y + m.min_target), label, colour::kPrimary, colour::kPrimaryDown,
                  colour::kOnPrimary, arrow);
}

Action back_button(const Frame& f) { return bottom_back(f) ? Action{Action::Back, ""} : Action{}; }

namespace {

// Where the speaker goes: in the bottom bar between Back and Next when it fits there with
// its picture and its word at body size; else (portrait) on a row of its own just above
// the bar, centred. Never narrower than Back and Next.
struct SpeakerPlace {
    ImVec2 min, max;
    bool own_row = false;
};
SpeakerPlace speaker_place(const Frame& f) {
    const Metrics& m = f.m;
    const std::string& label = f.t("listen");
    const float h = m.min_target;
    const float want = 2 * m.pad + h * 0.7f + m.pad * 0.5f +
                       measure(f.fonts.body, m.font, label).x;
    const float w = bar_button_width(m);
    const float x0 = m.pad * 1.5f + w + m.pad, x1 = m.width - m.pad * 1.5f - w - m.pad;
    const float bar_y = m.height - h - m.pad * 1.5f;
    SpeakerPlace p;
    if (x1 - x0 >= want) {
        const float sw = std::min(std::max(w, want), x1 - x0);
        p.min = ImVec2((x0 + x1 - sw) / 2, bar_y);
        p.max = ImVec2(p.min.x + sw, bar_y + h);
    } else {
        const float sw = std::min(std::max(w, want), m.width - 3 * m.pad);
        p.min = ImVec2((m.width - sw) / 2, bar_y - m.pad - h);
        p.max = ImVec2(p.min.x + sw, p.min.y + h);
        p.own_row = true;
    }
    return p;
}

}  // namespace

namespace {

// One dot per question of the survey (a question that show_if hides is passed like an
// answered one), so that the number of dots never changes during a walk.
void progress_dots(const Frame& f, int index, int count, float y) {
    const Metrics& m = f.m;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float r = m.pad * 0.45f, gap = std::min(r * 3.2f, (m.width - 4 * m.pad) / static_cast<float>(std::max(1, count)));
    float x0 = (m.width - gap * static_cast<float>(count - 1)) / 2;
    for (int i = 0; i < count; ++i) {
        ImVec2 c(f.x(x0 + gap * static_cast<float>(i)), y);
        if (i <= index)
            dl->AddCircleFilled(c, r, colour::rgb(colour::kPrimary), 20);
        else
            dl->AddCircle(c, r, colour::rgb(colour::kEdge), 20, 2.0f);
    }
}

Action smiley_answers(const Frame& f, const View& v, const Question& q, ImVec2 min, ImVec2 max) {
    Action act;
    Grid g = layout_grid(q.faces, min, max, f.m.pad, 0.8f);
    if (g.rows > 1) g = layout_grid(q.faces, min, max, f.m.pad * 0.5f, 0.55f);
    for (int i = 0; i < q.faces; ++i) {
        std::string value = std::to_string(i + 1);
        std::string id = "face-" + value;
        std::string label = f.t("smiley_" + std::to_string(q.faces) + "_" + value);
        if (smiley(f, id.c_str(), g.cell_min(i), g.cell_max(i), i, q.faces, label, v.session.is_picked(value)))
            act = {Action::Answer, value};
    }
    return act;
}

Action agree_answers(const Frame& f, const View& v, ImVec2 min, ImVec2 max) {
    Action act;
    // Five faces from "strongly disagree" to "strongly agree", in one row (landscape)
    // or one column (portrait), each with its words.
    Grid g = f.m.portrait() ? layout_grid(5, min, max, f.m.pad * 0.5f, 3.0f) : layout_grid(5, min, max, f.m.pad * 0.5f, 0.62f);
    for (int i = 0; i < 5; ++i) {
        std::string value = std::to_string(i + 1);
        std::string id = "agree-" + value;
        if (smiley(f, id.c_str(), g.cell_min(i), g.cell_max(i), i, 5, f.t("agree_" + value), v.session.is_picked(value)))
            act = {Action::Answer, value};
    }
    return act;
}

Action picture_answers(const Frame& f, const View& v, const Question& q, ImVec2 min, ImVec2 max) {
    Action act;
    Grid g = layout_grid(static_cast<int>(q.choices.size()), min, max, f.m.pad, 0.95f);
    for (std::size_t i = 0; i < q.choices.size(); ++i) {
        const Choice& c = q.choices[i];
        std::string id = "choice-" + c.id;
        if (picture_tile(f, id.c_str(), g.cell_min(static_cast<int>(i)), g.cell_max(static_cast<int>(i)), c.icon,
                         text_in(c.text, f.lang, f.texts.fallback_language()), v.session.is_picked(c.id)))
            act = {q.multiple ? Action::Toggle : Action::Answer, c.id};
    }
    return act;
}

Action choice_answers(const Frame& f, const View& v, const Question& q, ImVec2 min, ImVec2 max) {
    Action act;
    // One column of wide buttons; two columns on a wide screen when there are many, or when
    // one column would make the buttons lower than a touch target.
    const int n = static_cast<int>(q.choices.size());
    const float gap = f.m.pad * 0.6f;
    const float one_column_h = (max.y - min.y - gap * static_cast<float>(n - 1)) / static_cast<float>(n);
    const int cols = (!f.m.portrait() && (n > 4 || one_column_h < f.m.min_target)) ? 2 : 1;
    const int rows = (n + cols - 1) / cols;
    const float h = std::min((max.y - min.y - gap * static_cast<float>(rows - 1)) / static_cast<float>(rows),
                             f.m.min_target * 1.6f);
    const float w = std::min((max.x - min.x - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols),
                             f.m.font * 16.0f);
    const float total_w = w * static_cast<float>(cols) + gap * static_cast<float>(cols - 1);
    const float x0 = (min.x + max.x - total_w) / 2;
    for (int i = 0; i < n; ++i) {
        const Choice& c = q.choices[static_cast<std::size_t>(i)];
        ImVec2 p0(x0 + static_cast<float>(i % cols) * (w + gap), min.y + static_cast<float>(i / cols) * (h + gap));
        std::string id = "choice-" + c.id;
        if (choice_button(f, id.c_str(), p0, ImVec2(p0.x + w, p0.y + h), c.icon, text_in(c.text, f.lang, f.texts.fallback_language()), v.session.is_picked(c.id)))
            act = {q.multiple ? Action::Toggle : Action::Answer, c.id};
    }
    return act;
}

}  // namespace

Action answers(const Frame& f, const View& v, const Question& q, ImVec2 min, ImVec2 max) {
    switch (q.kind) {
        case QuestionKind::Smiley: return smiley_answers(f, v, q, min, max);
        case QuestionKind::Agree: return agree_answers(f, v, min, max);
        case QuestionKind::Picture: return picture_answers(f, v, q, min, max);
        case QuestionKind::Choice: return choice_answers(f, v, q, min, max);
        case QuestionKind::Text: break;  // the question screen draws the keyboard
    }
    return {};
}

Action question_screen(const Frame& f, const View& v) {
    const Metrics& m = f.m;
    const Question* q = v.session.question();
    if (!q) return {};
    Action act;

    progress_dots(f, v.session.question_index(), v.session.question_count(), m.pad * 1.2f);
    float y = m.pad * 2.4f;
    // The question: wrapped, shrinking to the floor, within a share of the screen that
    // leaves the answers (or the keyboard) room; a text longer still is cut with "…".
    // (A text question keeps the room its box and the whole keyboard need.)
    const float room = q->kind == QuestionKind::Text
                           ? std::min(m.height * 0.2f, m.height - y - m.font * 2.6f - m.pad * 3.5f - keyboard_height(m))
                           : m.height * (m.portrait() ? 0.3f : 0.34f);
    y += text_centred(f, f.fonts.title, m.title, m.pad * 2, m.width - m.pad * 2, y, colour::kText,
                      text_in(q->text, f.lang, f.texts.fallback_language()), 12, std::max(room, text::Shaper::line_height(m.floor)));
    if (q->multiple) y += text_centred(f, f.fonts.small, m.small, m.pad * 2, m.width - m.pad * 2, y, colour::kMuted, f.t("pick_many"), 1);
    y += m.pad;

    const bool last = v.session.is_last();
    const bool speaker = v.sound && !q->sound.empty();
    if (q->kind == QuestionKind::Text) {
        // The text box (the speaker at its right), then the keyboard, which carries Back
        // and Next itself.
        const float box_h = m.font * 2.6f;
        float box_right = m.width - m.pad * 1.5f;
        if (speaker) {
            // Square, or as wide as its word needs in the small font (drawn under the picture).
            const std::string& label = f.t("listen");
            const float sw = std::min(std::max({m.min_target, box_h, measure(f.fonts.small, m.small, label).x + m.pad}),
                                      std::max(m.min_target, (m.width - m.pad * 3) * 0.35f));
            if (speaker_button(f, "speaker", ImVec2(box_right - sw, y), ImVec2(box_right, y + box_h), f.t("listen")))
                act = {Action::Listen, ""};
            box_right -= sw + m.pad;
        }
        text_field(f, v.session.draft(), ImVec2(m.pad * 1.5f, y), ImVec2(box_right, y + box_h));
        y += box_h + m.pad;
        const std::string next_label =
            v.session.can_next() ? (v.session.draft().empty() ? f.t("skip") : (last ? f.t("done") : f.t("next"))) : "";
        if (Action k = keyboard(f, ImVec2(m.pad * 1.5f, y), ImVec2(m.width - m.pad * 1.5f, m.height - m.pad * 1.5f),
                                v.shift, next_label))
            act = k;
        return act;
    }

    float bar = m.height - m.min_target - m.pad * 2.5f;
    const SpeakerPlace place = speaker ? speaker_place(f) : SpeakerPlace{};
    if (speaker && place.own_row) bar = place.min.y - m.pad;
    ImVec2 min(m.pad * 1.5f, y), max(m.width - m.pad * 1.5f, bar);
    act = answers(f, v, *q, min, max);

    if (Action b = back_button(f)) act = b;
    if (speaker && speaker_button(f, "speaker", place.min, place.max, f.t("listen"))) act = {Action::Listen, ""};
    // Next (or Skip, or Done on the last question) when it can be used. A single-tap
    // question moves on by itself once answered, so Next shows only when coming back.
    if (v.session.can_next()) {
        const std::string& label = v.session.picked().empty() ? f.t("skip") : (last ? f.t("done") : f.t("next"));
        if (bottom_forward(f, "next", label)) act = {Action::Next, ""};
    }
    return act;
}

}  // namespace kohtaamo::ui
