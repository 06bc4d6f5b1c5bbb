#include "session.hpp"

#include <algorithm>
#include <stdexcept>

#include "utf8.hpp"
#include "uuid.hpp"

namespace kohtaamo {

const char* to_string(Screen s) {
    switch (s) {
        case Screen::Welcome: return "welcome";
        case Screen::Question: return "question";
        case Screen::YearClock: return "yearclock";
        case Screen::ThankYou: return "thank-you";
    }
    return "?";
}

Session::Session(const DeviceConfig& config, const std::vector<Survey>& surveys, Store& store, Clock& clock)
    : config_(config), surveys_(surveys), store_(store), clock_(clock), language_(config.languages.front()) {
    last_input_ms_ = screen_since_ms_ = clock_.mono_ms();
    if (!config.one_question.empty()) {
        auto it = std::find_if(surveys_.begin(), surveys_.end(), [&](const Survey& s) { return s.id == config.one_question; });
        // check_one_question() (survey.hpp) has told the admin with file:line already.
        if (it == surveys_.end() || it->questions.size() != 1 || !it->questions[0].single_tap())
            throw std::invalid_argument("one_question: no survey \"" + config.one_question + "\" of one single-tap question");
        one_question_ = &*it;
    }
}

void Session::configuration_changed() {
    if (screen_ != Screen::Welcome || saved_any_)
        throw std::logic_error("a new configuration is switched in only on the welcome screen, between visitors");
    survey_ = nullptr;
    one_question_ = nullptr;
    if (!config_.one_question.empty()) {
        auto it = std::find_if(surveys_.begin(), surveys_.end(), [&](const Survey& s) { return s.id == config_.one_question; });
        if (it == surveys_.end() || it->questions.size() != 1 || !it->questions[0].single_tap())
            throw std::invalid_argument("one_question: no survey \"" + config_.one_question + "\" of one single-tap question");
        one_question_ = &*it;
    }
    if (std::find(config_.languages.begin(), config_.languages.end(), language_) == config_.languages.end())
        language_ = config_.languages.front();
    screen_since_ms_ = clock_.mono_ms();
}

void check_one_question(const DeviceConfig& config, const std::vector<Survey>& surveys) {
    if (config.one_question.empty()) return;
    auto it = std::find_if(surveys.begin(), surveys.end(), [&](const Survey& s) { return s.id == config.one_question; });
    std::string problem;
    if (it == surveys.end()) {
        std::string ids;
        for (const auto& s : surveys) ids += (ids.empty() ? "" : ", ") + s.id;
        problem = "no survey \"" + config.one_question + "\" (the surveys are " + ids + ")";
    } else if (it->yearclock || it->questions.size() != 1) {
        problem = "survey \"" + it->id + "\" (" + it->file + ") must have exactly one question to be the welcome screen";
    } else if (!it->questions[0].single_tap()) {
        problem = "survey \"" + it->id + "\"'s question must be answered with one tap (smiley, agree, or picture or choice "
                  "without multiple)";
    } else if (it->questions[0].show_if) {
        problem = "survey \"" + it->id + "\"'s only question cannot have show_if";
    }
    if (!problem.empty())
        throw ConfigError(config.file, config.one_question_line, config.one_question_column, "kiosk.one_question: " + problem);
}

const Question* Session::question() const {
    if (screen_ == Screen::Welcome && one_question_) return &one_question_->questions[0];
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
    if (q->kind == QuestionKind::Text) return !q->required || !draft_.empty();
    return !q->required || !picked().empty();
}

bool Session::visible(int i) const {
    const Question& q = survey_->questions[static_cast<std::size_t>(i)];
    if (!q.show_if) return true;
    auto it = answers_.find(q.show_if->question);
    if (it == answers_.end()) return false;
    for (const auto& v : it->second)
        if (std::find(q.show_if->any_of.begin(), q.show_if->any_of.end(), v) != q.show_if->any_of.end()) return true;
    return false;
}

int Session::next_visible(int from) const {
    for (int i = from + 1; i < question_count(); ++i)
        if (visible(i)) return i;
    return -1;
}

int Session::visible_count() const {
    int n = 0;
    for (int i = 0; i < question_count(); ++i) n += visible(i);
    return n;
}

bool Session::is_last() const { return survey_ && next_visible(index_) < 0; }

void Session::go_to(int i) {
    index_ = i;
    screen_since_ms_ = clock_.mono_ms();
    const Question* q = question();
    auto it = answers_.find(q->id);
    draft_ = q->kind == QuestionKind::Text && it != answers_.end() && !it->second.empty() ? it->second.front() : "";
}

void Session::save_draft() {
    const Question* q = question();
    if (!q || q->kind != QuestionKind::Text) return;
    auto it = answers_.find(q->id);
    const bool had = it != answers_.end() && !it->second.empty();
    if (draft_.empty() && !had) return;
    if (had && it->second.front() == draft_) return;
    save(draft_.empty() ? std::vector<std::string>{} : std::vector<std::string>{draft_});
}

void Session::type(const std::string& utf8) {
    input();
    const Question* q = question();
    // A text question, or a year-clock idea (idea_limit(), session_yearclock.cpp).
    const int limit = q && q->kind == QuestionKind::Text ? q->max_length : idea_limit();
    if (limit == 0) return;
    auto now = utf8_decode(draft_), add = utf8_decode(utf8);
    if (!now || !add) return;
    if (static_cast<int>(now->size() + add->size()) > limit) return;
    draft_ += utf8;
}

void Session::erase() {
    input();
    if (draft_.empty()) return;
    // Drop the last UTF-8 character (its continuation bytes are 10xxxxxx).
    std::size_t n = draft_.size() - 1;
    while (n > 0 && (static_cast<unsigned char>(draft_[n]) & 0xC0) == 0x80) --n;
    draft_.erase(n);
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
    screen_since_ms_ = clock_.mono_ms();
}

void Session::choose_survey(const std::string& survey_id) {
    input();
    if (screen_ != Screen::Welcome || one_question_) return;
    auto it = std::find_if(surveys_.begin(), surveys_.end(), [&](const Survey& s) { return s.id == survey_id; });
    if (it == surveys_.end()) throw std::invalid_argument("no such survey: " + survey_id);
    start(*it);
    enter(survey_->yearclock ? Screen::YearClock : Screen::Question);
}

void Session::start(const Survey& s) {
    survey_ = &s;
    index_ = 0;
    answers_.clear();
    draft_.clear();
    saved_any_ = false;
    header_ = ResponseHeader{new_uuid(), survey_->id, survey_->version, language_, config_.site, config_.event,
                             clock_.wall_ms(), survey_->hash, survey_->hash.empty() ? nullptr : &survey_->definition};
    month_ = 0;
    idea_open_ = false;
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
    // The event mode's question is on the welcome screen: its response starts with its answer.
    if (screen_ == Screen::Welcome && survey_ != one_question_) start(*one_question_);
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
    save_draft();
    advance();
}

void Session::advance() {
    advance_at_ms_.reset();
    // Answers to questions that a changed answer now hides are removed, so the stored
    // response never holds an answer to a question the visitor was not shown.
    const int to = next_visible(index_);
    for (int i = index_ + 1; i < (to < 0 ? question_count() : to); ++i) {
        const Question& hidden = survey_->questions[static_cast<std::size_t>(i)];
        auto a = answers_.find(hidden.id);
        if (a != answers_.end() && !a->second.empty()) {
            store_.save_answer(header_, hidden.id, {}, clock_.wall_ms());
            answers_.erase(a);
        }
    }
    if (to >= 0) {
        go_to(to);
        return;
    }
    if (saved_any_) store_.finish(header_.id, ResponseStatus::Complete, clock_.wall_ms(), config_.repeat_window_ms);
    enter(Screen::ThankYou);
}

void Session::abandon() {
    advance_at_ms_.reset();
    if (screen_ == Screen::YearClock) close_idea();  // a typed idea is kept too
    if (screen_ == Screen::YearClock && saved_any_)
        store_.finish(header_.id, ResponseStatus::Abandoned, clock_.wall_ms(), config_.repeat_window_ms);
    if (screen_ == Screen::Question) save_draft();  // what was typed is kept too
    if ((screen_ == Screen::Question || (screen_ == Screen::Welcome && one_question_)) && saved_any_)
        store_.finish(header_.id, ResponseStatus::Abandoned, clock_.wall_ms(), config_.repeat_window_ms);
    saved_any_ = false;
    survey_ = nullptr;
    answers_.clear();
    draft_.clear();
}

void Session::back() {
    input();
    switch (screen_) {
        case Screen::Question: {
            int prev = index_ - 1;
            while (prev >= 0 && !visible(prev)) --prev;
            if (prev < 0) {
                abandon();
                enter(Screen::Welcome);
            } else {
                save_draft();
                advance_at_ms_.reset();
                go_to(prev);
            }
            break;
        }
        case Screen::YearClock: yearclock_back(); break;
        default: break;
    }
}

void Session::tick() {
    const std::int64_t now = clock_.mono_ms();
    if (advance_at_ms_ && now >= *advance_at_ms_) advance();
    const bool idle = now - last_input_ms_ >= config_.idle_timeout_ms;
    if (screen_ == Screen::ThankYou && now - screen_since_ms_ >= config_.thank_you_ms) {
        reset();
    } else if (screen_ != Screen::ThankYou && idle && (screen_ != Screen::Welcome || language_ != config_.languages.front())) {
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
    if (screen_ == Screen::Welcome && language_ == config_.languages.front()) return std::nullopt;
    return last_input_ms_ + config_.idle_timeout_ms;
}

}  // namespace kohtaamo
