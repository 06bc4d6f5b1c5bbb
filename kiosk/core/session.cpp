#include "session.hpp"

#include <algorithm>
#include <stdexcept>

#include "uuid.hpp"

namespace kohtaamo {

const char* to_string(Screen s) {
    switch (s) {
        case Screen::Welcome: return "welcome";
        case Screen::ChooseSurvey: return "choose-survey";
        case Screen::Question: return "question";
        case Screen::ThankYou: return "thank-you";
    }
    return "?";
}

Session::Session(const DeviceConfig& config, const std::vector<Survey>& surveys, Store& store, Clock& clock)
    : config_(config), surveys_(surveys), store_(store), clock_(clock), language_(config.languages.front()) {
    last_input_ms_ = screen_since_ms_ = clock_.mono_ms();
}

const Question* Session::question() const {
    if (screen_ != Screen::Question || !survey_) return nullptr;
    return &survey_->questions[static_cast<std::size_t>(index_)];
}

int Session::question_count() const { return survey_ ? static_cast<int>(survey_->questions.size()) : 0; }

const std::vector<std::string>& Session::picked() const {
    static const std::vector<std::string> none;
    const Question* q = question();
    if (!q) return none;
    auto it = answers_.find(q->id);
    return it == answers_.end() ? none : it->second;
}

bool Session::is_picked(const std::string& value) const {
    const auto& p = picked();
    return std::find(p.begin(), p.end(), value) != p.end();
}

bool Session::can_next() const {
    const Question* q = question();
    if (!q) return false;
    return !q->required || !picked().empty();
}

void Session::enter(Screen s) {
    screen_ = s;
    screen_since_ms_ = clock_.mono_ms();
    advance_at_ms_.reset();
}

void Session::input() { last_input_ms_ = clock_.mono_ms(); }

void Session::choose_language(const std::string& lang) {
    input();
    if (screen_ != Screen::Welcome) return;
    if (std::find(config_.languages.begin(), config_.languages.end(), lang) == config_.languages.end())
        throw std::invalid_argument("language not offered: " + lang);
    language_ = lang;
    enter(Screen::ChooseSurvey);
}

void Session::choose_survey(const std::string& survey_id) {
    input();
    if (screen_ != Screen::ChooseSurvey) return;
    auto it = std::find_if(surveys_.begin(), surveys_.end(), [&](const Survey& s) { return s.id == survey_id; });
    if (it == surveys_.end()) throw std::invalid_argument("no such survey: " + survey_id);
    survey_ = &*it;
    index_ = 0;
    answers_.clear();
    saved_any_ = false;
    header_ = ResponseHeader{new_uuid(), survey_->id, survey_->version, language_, config_.site, config_.event,
                             clock_.wall_ms()};
    enter(Screen::Question);
}

void Session::save(const std::vector<std::string>& values) {
    const Question* q = question();
    store_.save_answer(header_, q->id, values, clock_.wall_ms());
    saved_any_ = true;
    answers_[q->id] = values;
}

void Session::answer(const std::string& value) {
    input();
    const Question* q = question();
    if (!q || !q->single_tap()) return;
    const auto allowed = q->allowed_values();
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
        throw std::invalid_argument("question " + q->id + " has no value " + value);
    save({value});
    advance_at_ms_ = clock_.mono_ms() + kAdvanceMs;
}

void Session::toggle(const std::string& value) {
    input();
    const Question* q = question();
    if (!q || q->single_tap()) return;
    const auto allowed = q->allowed_values();
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
        throw std::invalid_argument("question " + q->id + " has no value " + value);
    std::vector<std::string> values;  // kept in the survey's order
    for (const auto& v : allowed)
        if ((v == value) != is_picked(v)) values.push_back(v);
    save(values);
}

void Session::next() {
    input();
    if (!can_next()) return;
    advance();
}

void Session::advance() {
    advance_at_ms_.reset();
    if (index_ + 1 < question_count()) {
        ++index_;
        screen_since_ms_ = clock_.mono_ms();
        return;
    }
    if (saved_any_) store_.finish(header_.id, ResponseStatus::Complete, clock_.wall_ms(), config_.repeat_window_ms);
    enter(Screen::ThankYou);
}

void Session::abandon() {
    if (screen_ == Screen::Question && saved_any_)
        store_.finish(header_.id, ResponseStatus::Abandoned, clock_.wall_ms(), config_.repeat_window_ms);
    saved_any_ = false;
    survey_ = nullptr;
    answers_.clear();
}

void Session::back() {
    input();
    switch (screen_) {
        case Screen::ChooseSurvey: enter(Screen::Welcome); break;
        case Screen::Question:
            if (index_ == 0) {
                abandon();
                enter(Screen::ChooseSurvey);
            } else {
                --index_;
                advance_at_ms_.reset();
            }
            break;
        default: break;
    }
}

void Session::tick() {
    const std::int64_t now = clock_.mono_ms();
    if (advance_at_ms_ && now >= *advance_at_ms_) advance();
    if (screen_ == Screen::ThankYou && now - screen_since_ms_ >= config_.thank_you_ms) {
        reset();
    } else if (screen_ != Screen::Welcome && screen_ != Screen::ThankYou &&
               now - last_input_ms_ >= config_.idle_timeout_ms) {
        reset();
    }
}

void Session::reset() {
    abandon();
    enter(Screen::Welcome);
    language_ = config_.languages.front();
}

std::optional<std::int64_t> Session::next_deadline() const {
    if (advance_at_ms_) return *advance_at_ms_;
    if (screen_ == Screen::ThankYou) return screen_since_ms_ + config_.thank_you_ms;
    if (screen_ == Screen::Welcome) return std::nullopt;
    return last_input_ms_ + config_.idle_timeout_ms;
}

}  // namespace kohtaamo
