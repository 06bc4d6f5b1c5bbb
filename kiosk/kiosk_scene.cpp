#include "kiosk_scene.hpp"

#include <cstdio>

namespace kohtaamo {

std::string screen_texts(const Catalog& texts, const std::vector<Survey>& surveys) {
    std::string out = texts.all_text();
    for (const auto& s : surveys) out += s.all_text();
    return out;
}

void KioskScene::draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) {
    const double since = static_cast<double>(clock_.mono_ms() - session_.screen_since_ms()) / 1000.0;
    ui::Frame f{m, fonts, texts_, icon, session_.language(), reg, since};
    ui::Action a = ui::draw(f, ui::View{session_}, config_.languages);
    if (!save_error_.empty()) {
        // A staff-readable banner across the top: the answer was not saved.
        ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(0, 0), ImVec2(m.width, m.font * 1.6f),
                                                  ui::colour::rgb(ui::colour::kError));
        ui::text_centred(f, fonts.small, m.small, m.pad, m.width - m.pad, m.font * 0.3f, ui::colour::kOnPrimary,
                         texts_.get(session_.language(), "save_failed"));
    }
    if (a) apply(a);
}

void KioskScene::notice_finish(Screen before) {
    if (before == Screen::Question && session_.screen() != Screen::Question && finished_) finished_();
}

void KioskScene::apply(const ui::Action& a) {
    const Screen before = session_.screen();
    try {
        switch (a.kind) {
            case ui::Action::Language: session_.choose_language(a.value); break;
            case ui::Action::Survey: session_.choose_survey(a.value); break;
            case ui::Action::Answer: session_.answer(a.value); break;
            case ui::Action::Toggle: session_.toggle(a.value); break;
            case ui::Action::Next: session_.next(); break;
            case ui::Action::Back: session_.back(); break;
            case ui::Action::None: break;
        }
        if (a.kind == ui::Action::Answer || a.kind == ui::Action::Toggle) save_error_.clear();
        notice_finish(before);
    } catch (const StoreError& e) {
        // The answer is not in the store: say so, keep the visitor on this question.
        save_error_ = e.what();
        std::fprintf(stderr, "kohtaamo: %s\n", e.what());
    }
}

bool KioskScene::tick() {
    const auto before = std::make_pair(session_.screen(), session_.question_index());
    session_.tick();
    notice_finish(before.first);
    return before != std::make_pair(session_.screen(), session_.question_index());
}

std::optional<std::int64_t> KioskScene::deadline() const { return session_.next_deadline(); }

bool KioskScene::animating() const {
    return session_.screen() == Screen::ThankYou &&
           static_cast<double>(clock_.mono_ms() - session_.screen_since_ms()) / 1000.0 < ui::thanks_animation_seconds();
}

void KioskScene::reset() {
    // Leave whatever screen failed; an open response is finished as abandoned.
    const Screen before = session_.screen();
    session_.reset();
    notice_finish(before);
}

void ErrorScene::draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) {
    static const Catalog none;
    static const std::string lang = "en";
    ui::Frame f{m, fonts, none, icon, lang, reg, 0};
    if (ui::config_error_screen(f, message_)) closed_ = true;
}

}  // namespace kohtaamo
