// yearclock.hpp — the participation year-clock (osallisuuden vuosikello) as a survey kind.
//
// A survey file with `kind = "yearclock"` describes the centre's year instead of
// questions: twelve months, each with a theme and a picture; the coming events, each on
// a date; the activities a family can wish for in a month (pictures); and whether a
// family may also suggest an idea of its own as free text. Format and the answers it
// stores: docs/survey-format.md ("Year-clock"). The loader refuses a bad file with the
// file, the line and the problem, as for any survey.
//
// Answers are stored through the Store like any other (one response per family visit):
//   question_id "wish-MM" (MM = 01..12)  value = an activity id, one row per wish
//   question_id "come"                   value = an event id, one row per event
//   question_id "idea-MM"                value = the family's own text (ideas = true only)
//
// Does: the model, its loader, which events are still coming, the answer ids. Does not:
// know about sessions, SDL or ImGui.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "local_time.hpp"
#include <vector>

#include "toml_reader.hpp"

namespace kohtaamo {

struct YearClockMonth {
    int month = 0;     // 1..12
    std::string icon;  // one picture (an emoji or a picture file): the theme's, on the ring
    LangText theme;    // "Laskiainen"
};

struct YearClockEvent {
    std::string id;
    std::string date;  // YYYY-MM-DD (a valid calendar date)
    int month = 0;     // from the date
    std::string icon;
    LangText text;
};

struct YearClockActivity {
    std::string id;
    std::string icon;
    LangText text;
};

struct YearClock {
    static constexpr int kMaxEventsPerMonth = 3;  // what fits one month's page
    std::array<YearClockMonth, 12> months;        // months[0] is January
    std::vector<YearClockEvent> events;           // sorted by date
    std::vector<YearClockActivity> activities;    // 2..12, in the file's order
    bool ideas = false;                           // a family may suggest an idea as free text

    const YearClockMonth& month(int m) const { return months.at(static_cast<std::size_t>(m - 1)); }
    // The events in month `m` (1..12) dated `today` ("YYYY-MM-DD") or later, by date.
    std::vector<const YearClockEvent*> coming_events(int m, const std::string& today) const;
    const YearClockEvent* find_event(const std::string& id) const;
    const YearClockActivity* find_activity(const std::string& id) const;
};

// The answers' question ids: "wish-03", "idea-03".
std::string wish_question(int month);
std::string idea_question(int month);
// The month (1..12) of "wish-MM"; 0 for any other id.
int wish_month(const std::string& question_id);
// The month (1..12) of "idea-MM"; 0 for any other id.
int idea_month(const std::string& question_id);

// Which of a year-clock's answer rows a question id is (exports and the report read them).
enum class YearClockRow {
    None,  // not a year-clock id
    Wish,  // "wish-MM": an activity id
    Come,  // "come": an event id
    Idea,  // "idea-MM": the family's own text (free text)
};
YearClockRow yearclock_row(const std::string& question_id);

// The local calendar month of a wall-clock time, 1..12 (local_date is in local_time.hpp).
int local_month(std::int64_t wall_ms);

// Reads the year-clock part of a survey file (`kind = "yearclock"`): every key of the
// root table except the survey's own (id, version, icon, title, kind).
YearClock load_yearclock(const TomlReader& r, const std::vector<std::string>& languages,
                         const std::filesystem::path& assets = {});
// Fails on any root key a year-clock file cannot have.
void yearclock_only_keys(const TomlReader& r);

}  // namespace kohtaamo
