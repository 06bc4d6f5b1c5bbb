// screens.cpp — picks the screen for the session's state.
#include "ui.hpp"

namespace kohtaamo::ui {

Action draw(const Frame& f, const View& v, const std::vector<std::string>& languages) {
    switch (v.session.screen()) {
        case Screen::Welcome: return welcome_screen(f, v, languages);
        case Screen::Question: return question_screen(f, v);
        case Screen::YearClock: return yearclock_screen(f, v);
        case Screen::ThankYou: return thanks_screen(f, v);
    }
    return {};
}

}  // namespace kohtaamo::ui
