// session_yearclock.cpp — the Session's year-clock screen (Screen::YearClock): the ring
// of months, a month's page, typing an idea. The transitions are drawn in session.hpp.
//
// One family visit is one response. Its rows (docs/survey-format.md, "Year-clock"):
//   wish-MM  one row per activity wished for month MM
//   come     one row per event the family will come to
//   idea-MM  the family's own idea for month MM (when the survey has ideas = true)
// Each toggle replaces that question id's rows in one transaction (Store::save_answer),
// so the store always holds exactly what is lit on screen.
#include <algorithm>
#include <stdexcept>

#include "session.hpp"

namespace kohtaamo {

const YearClock* Session::yearclock() const {
    return survey_ && survey_->yearclock ? &*survey_->yearclock : nullptr;
}

int Session::this_month() const { return local_month(clock_.wall_ms()); }

std::string Session::today() const { return local_date(clock_.wall_ms()); }

namespace {
bool has(const std::map<std::string, std::vector<std::string>>& answers, const std::string& q, const std::string& v) {
    auto it = answers.find(q);
    return it != answers.end() && std::find(it->second.begin(), it->second.end(), v) != it->second.end();
}
}  // namespace

bool Session::wished(int month, const std::string& activity_id) const {
    return has(answers_, wish_question(month), activity_id);
}

int Session::wish_count(int month) const {
    auto it = answers_.find(wish_question(month));
    return it == answers_.end() ? 0 : static_cast<int>(it->second.size());
}

bool Session::coming(const std::string& event_id) const { return has(answers_, "come", event_id); }

std::string Session::idea(int month) const {
    auto it = answers_.find(idea_question(month));
    return it == answers_.end() || it->second.empty() ? std::string() : it->second.front();
}

void Session::save_yearclock(const std::string& question_id, const std::vector<std::string>& values) {
    store_.save_answer(header_, question_id, values, clock_.wall_ms());
    saved_any_ = true;
    if (values.empty()) answers_.erase(question_id);
    else answers_[question_id] = values;
}

void Session::open_month(int month) {
    input();
    if (screen_ != Screen::YearClock || idea_open_) return;
    if (month < 1 || month > 12) throw std::invalid_argument("no such month: " + std::to_string(month));
    month_ = month;
    screen_since_ms_ = clock_.mono_ms();
}

void Session::wish(int month, const std::string& activity_id) {
    input();
    const YearClock* y = yearclock();
    if (screen_ != Screen::YearClock || !y || idea_open_) return;
    if (month < 1 || month > 12) throw std::invalid_argument("no such month: " + std::to_string(month));
    if (!y->find_activity(activity_id)) throw std::invalid_argument("the year-clock has no activity " + activity_id);
    std::vector<std::string> values;  // kept in the file's order
    for (const auto& a : y->activities)
        if ((a.id == activity_id) != wished(month, a.id)) values.push_back(a.id);
    save_yearclock(wish_question(month), values);
}

void Session::come(const std::string& event_id) {
    input();
    const YearClock* y = yearclock();
    if (screen_ != Screen::YearClock || !y || idea_open_) return;
    if (!y->find_event(event_id)) throw std::invalid_argument("the year-clock has no event " + event_id);
    std::vector<std::string> values;  // kept in date order
    for (const auto& e : y->events)
        if ((e.id == event_id) != coming(e.id)) values.push_back(e.id);
    save_yearclock("come", values);
}

int Session::idea_limit() const {
    return screen_ == Screen::YearClock && idea_open_ ? kIdeaMaxLength : 0;
}

void Session::open_idea() {
    input();
    const YearClock* y = yearclock();
    if (screen_ != Screen::YearClock || !y || !y->ideas || month_ == 0 || idea_open_) return;
    idea_open_ = true;
    draft_ = idea(month_);
    screen_since_ms_ = clock_.mono_ms();
}

void Session::close_idea() {
    input();
    if (screen_ != Screen::YearClock || !idea_open_) return;
    idea_open_ = false;
    screen_since_ms_ = clock_.mono_ms();
    // Spaces alone are no idea.
    const bool blank = draft_.find_first_not_of(" \n") == std::string::npos;
    const std::string before = idea(month_);
    const std::string now = blank ? std::string() : draft_;
    draft_.clear();
    if (now != before) save_yearclock(idea_question(month_), now.empty() ? std::vector<std::string>{} : std::vector<std::string>{now});
}

void Session::yearclock_back() {
    if (idea_open_) {
        close_idea();
    } else if (month_ != 0) {
        month_ = 0;
        screen_since_ms_ = clock_.mono_ms();
    } else {
        abandon();
        enter(Screen::Welcome);
    }
}

void Session::done() {
    input();
    if (screen_ != Screen::YearClock) return;
    close_idea();
    if (saved_any_) store_.finish(header_.id, ResponseStatus::Complete, clock_.wall_ms(), config_.repeat_window_ms);
    saved_any_ = false;
    month_ = 0;
    enter(Screen::ThankYou);
}

}  // namespace kohtaamo
