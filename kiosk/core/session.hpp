// session.hpp — one visitor's walk through the kiosk, as a state machine. No UI here:
// screens read this state and call the event functions; the platform layer calls
// tick() from its loop and sleeps until next_deadline().
//
// States (Session::screen()) and transitions, with the function behind each:
//
//   Welcome ──choose_language()──► Welcome, in that language (an idle timeout returns to
//      │                           the default language)
//      ├──choose_survey()──► Question[0]   (the surveys are big pictures on the welcome
//      ▲                        │           screen: a child taps its own, no reading)
//      │  back() on the first   │ answer() on a single-tap kind: saved at once, moves on
//      │  question              │ after kAdvanceMs; toggle() + next() for multiple choice;
//      │◄───────────────────────┤ next() skips an optional question
//      │                Question[i] ──back()──► the previous shown question
//      │                Question[last] ──next()/answer()──► ThankYou
//      │   (a question whose show_if is not met is skipped both ways, and an answer it
//      │    had is removed; a text question keeps its draft and saves it on next()/back()
//      │    and when the idle timeout abandons the survey)
//      │                                    (response finished as complete)
//      │
//      │   A year-clock survey (kind = "yearclock", yearclock.hpp) has one screen instead of
//      │   questions (functions in session_yearclock.cpp):
//      │   Welcome ──choose_survey()──► YearClock (the ring; open_month() == 0)
//      │     ring ──open_month(m)──► month m's page ──back()──► ring ──back()──► Welcome
//      │     month page: wish(activity) and come(event) toggle and save at once;
//      │                 open_idea() ──► typing an idea (type()/erase()) ──close_idea()/back()──►
//      │                 month page (the idea is saved; an empty idea removes it)
//      │     done() anywhere ──► ThankYou (response finished as complete)
//      │
//      │   The one-question event mode ([kiosk] one_question = SURVEY, a survey of one
//      │   single-tap question): the welcome screen is that question (question() gives it
//      │   there), and choose_survey() does nothing:
//      │   Welcome ──answer()──► (a response started and the answer saved at once; held
//      │                         kAdvanceMs, a second tap replaces it) ──► ThankYou (complete)
//      │
//      ├──tick(): ThankYou shown for thank_you_ms
//      └──tick(): no input for idle_timeout_ms on any other screen (or on the welcome screen
//                 in another language than the default) → reset(): a response with answers
//                 is finished as abandoned
//
// Invariants:
//  1. Every answer is in the store before answer()/toggle() returns (Store::save_answer).
//  2. A response row exists only once it has an answer; leaving a survey (back out of
//     it, idle timeout) finishes it as abandoned.
//  3. Time comes only from the Clock, so replays can advance it.
//  4. Finishing a response (complete or abandoned) applies the mischief rule in the same
//     transaction (Store::finish with config.repeat_window_ms; docs/store.md).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config.hpp"
#include "store.hpp"
#include "survey.hpp"

namespace kohtaamo {

enum class Screen { Welcome, Question, YearClock, ThankYou };
const char* to_string(Screen);

// [kiosk] one_question must name a survey of exactly one single-tap question (without
// show_if); throws ConfigError naming the device config's line otherwise. Nothing to
// check when it is not set.
void check_one_question(const DeviceConfig& config, const std::vector<Survey>& surveys);

class Session {
public:
    // How long a picked single-tap answer stays highlighted before the next question.
    static constexpr int kAdvanceMs = 450;

    Session(const DeviceConfig& config, const std::vector<Survey>& surveys, Store& store, Clock& clock);

    // --- state, for screens ---
    Screen screen() const { return screen_; }
    // Monotonic ms when the current screen (or question) was entered.
    std::int64_t screen_since_ms() const { return screen_since_ms_; }
    const std::string& language() const { return language_; }
    const std::vector<Survey>& surveys() const { return surveys_; }
    const Survey* survey() const { return survey_; }
    const Question* question() const;
    int question_index() const { return index_; }
    int question_count() const;
    // The current question's picked values.
    const std::vector<std::string>& picked() const;
    bool is_picked(const std::string& value) const;
    // "Next" is offered: multiple choice, or an optional question, or an answered one.
    bool can_next() const;
    // How many of the survey's questions are shown now (show_if can hide some). The
    // progress dots show every question (question_index() of question_count()) so that
    // their number does not change as a show_if question appears or goes.
    int visible_count() const;
    // The one-question event mode's survey ([kiosk] one_question), or nullptr.
    const Survey* one_question() const { return one_question_; }
    // No question is shown after this one: Next finishes the survey.
    bool is_last() const;
    // The text typed so far on a text question (saved when the visitor leaves it).
    const std::string& draft() const { return draft_; }
    // The id of the response being answered ("" before its first answer is saved).
    std::string response_id() const { return saved_any_ ? header_.id : std::string(); }

    // The config and the surveys given to the constructor were replaced in place (a new
    // survey bundle, switched in on the welcome screen only: no survey is open then).
    // Finds the event mode's survey again and goes back to the default language when
    // the new config no longer offers the one chosen. Throws std::logic_error off the
    // welcome screen.
    void configuration_changed();

    // --- events, from screens (each one also counts as input) ---
    void input();  // any touch or key: resets the idle timer
    void choose_language(const std::string& lang);  // on the welcome screen; stays there
    void choose_survey(const std::string& survey_id);
    void answer(const std::string& value);  // single-tap kinds (and the event mode's question)
    void toggle(const std::string& value);  // multiple choice
    void type(const std::string& utf8);     // a key on the on-screen keyboard
    void erase();                           // backspace
    void next();
    void back();
    // Back to the welcome screen at once; an open response is finished as abandoned.
    // (The idle timeout does this; so does the platform after a frame fails.)
    void reset();

    // --- the year-clock (Screen::YearClock; session_yearclock.cpp) ---
    static constexpr int kIdeaMaxLength = 300;  // characters in one idea
    // The chosen survey's year-clock, or nullptr.
    const YearClock* yearclock() const;
    // 0: the ring of months; 1..12: that month's page.
    int open_month() const { return month_; }
    // Typing an idea for the open month (draft() holds the text).
    bool idea_open() const { return idea_open_; }
    // The month (1..12) and date ("YYYY-MM-DD") now, local time, from the Clock.
    int this_month() const;
    std::string today() const;
    bool wished(int month, const std::string& activity_id) const;
    int wish_count(int month) const;
    bool coming(const std::string& event_id) const;
    // The idea saved for a month ("" when none).
    std::string idea(int month) const;
    void open_month(int month);
    void wish(int month, const std::string& activity_id);  // toggles; saved at once
    void come(const std::string& event_id);                // toggles; saved at once
    void open_idea();
    void close_idea();  // saves the typed idea
    void done();        // the family is finished: complete, thank-you

    // --- time, from the main loop ---
    void tick();
    // Monotonic ms of the next moment tick() has something to do (idle timeout,
    // auto-advance, end of thank-you); nullopt when nothing is due (welcome screen).
    std::optional<std::int64_t> next_deadline() const;

private:
    void enter(Screen s);
    void start(const Survey& s);
    void save(const std::vector<std::string>& values);
    void save_draft();
    bool visible(int i) const;
    int next_visible(int from) const;  // first visible index after `from`, or -1
    void go_to(int i);
    void advance();
    void abandon();
    void yearclock_back();
    void save_yearclock(const std::string& question_id, const std::vector<std::string>& values);
    int idea_limit() const;  // characters an idea may have now; 0 when no idea is open

    const DeviceConfig& config_;
    const std::vector<Survey>& surveys_;
    const Survey* one_question_ = nullptr;
    Store& store_;
    Clock& clock_;

    Screen screen_ = Screen::Welcome;
    std::string language_;
    const Survey* survey_ = nullptr;
    int index_ = 0;
    ResponseHeader header_;
    bool saved_any_ = false;
    std::map<std::string, std::vector<std::string>> answers_;  // question id -> values
    std::int64_t last_input_ms_ = 0;
    std::int64_t screen_since_ms_ = 0;
    std::optional<std::int64_t> advance_at_ms_;
    std::string draft_;
    int month_ = 0;           // year-clock: the open month, 0 = the ring
    bool idea_open_ = false;  // year-clock: typing an idea for month_
};

}  // namespace kohtaamo
