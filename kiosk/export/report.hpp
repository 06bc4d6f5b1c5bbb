// report.hpp — the coordinator's report: one self-contained HTML file (inline SVG, inline
// CSS, no scripts, nothing fetched) that prints well to A4.
//
// ReportBuilder is fed one response at a time by the export pass and keeps only counters
// (per question: values overall, per ISO week, per month) and a capped list of free texts,
// so it is as flat in memory as the CSV writers. render() writes the page.
//
// Sections, in order: summary (responses, completion rate); per survey, one block per
// question chosen by its kind (switch in report.cpp: smiley → distribution overall, per
// week, per month; agree → distribution overall and per month; picture → ranked choices
// and a choices × months heat map; a question not in the survey files → ranked values, or
// its texts when the values are free text) — or, for a year-clock, the families' wishes
// as an activities × months heat map of counts, "we'll come" per event and the ideas per
// month; languages; time of day; sites (when several).
//
// Small-group protection: every count under `min_group` is printed as "fewer than N" (in
// a year-clock's heat map "<N" on a hatched cell), and every chart, bar or heat-map column
// over fewer than `min_group` answers is replaced by that text. Free texts are shown only for a question with at least `min_group` answers,
// sorted alphabetically (not by time), without dates or sites.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "export.hpp"
#include "local_time.hpp"
#include "survey.hpp"

namespace kohtaamo {

class AtomicFile;

struct AnswerRow {
    std::string question_id, value, answered_at;
};

// One response with its answers, as the export pass reads it.
struct ResponseRow {
    std::string id, survey_id;
    std::int64_t survey_version = 0;
    std::string language, status;
    bool flagged = false;
    std::string site, event, started_at;
    std::optional<std::string> finished_at;
    std::optional<std::string> device_id;  // collector databases only
    std::vector<AnswerRow> answers;        // ordered by question_id, value
    std::optional<std::string> survey_hash;  // the definition it was answered with (schema 7); nullopt: unknown
};

// Free-text questions: withheld from every output when the filter says so, and listed as
// texts in the report (the switch makes the compiler ask when a kind is added).
bool is_free_text(QuestionKind kind);

// Whether the answers to `question_id` of survey `def` are left out when free text is
// withheld: a free-text question, a year-clock's ideas (idea-MM; its wishes and "we'll
// come" rows are ids and stay), and — to be safe — any question the survey files do not
// describe (`def` null, or no such question).
bool may_be_free_text(const Survey* def, const std::string& question_id);

// A value that is an id or a number (a choice id, a scale step), not a person's text.
bool looks_like_id(const std::string& value);

// The report's own words: [report] in <texts_dir>/report-<lang>.toml.
class ReportTexts {
public:
    // Throws ConfigError naming the file when it is missing or malformed.
    static ReportTexts load(const std::filesystem::path& texts_dir, const std::string& lang);
    // The text, or "[key]" when absent (never empty).
    const std::string& get(const std::string& key) const;
    // get(key) with "{name}" replaced by value for each pair.
    std::string fill(const std::string& key, std::initializer_list<std::pair<const char*, std::string>> values) const;
    const std::string& lang() const { return lang_; }

private:
    std::string lang_;
    std::map<std::string, std::string> texts_;
    mutable std::map<std::string, std::string> missing_;
};

// How many responses the period holds by status, whatever the export's status filter:
// the completion rate compares complete with abandoned.
struct StatusCounts {
    std::uint64_t complete = 0, abandoned = 0, flagged = 0;
};

class ReportBuilder {
public:
    ReportBuilder(const std::vector<Survey>& surveys, const ExportOptions& options, ReportTexts texts, Catalog ui);
    void set_status_counts(const StatusCounts& c) { status_ = c; }
    // Feeds one exported response (answers already filtered of withheld free text), with
    // the definition it was answered with (null: none known; its survey's files are used).
    void add(const ResponseRow& r, const LocalParts& when, const Survey* answered_with = nullptr);
    void render(AtomicFile& out) const;

    static constexpr std::size_t kMaxTexts = 200;  // per question; the rest are in the CSV

    struct Bucket {
        std::uint64_t n = 0;                       // responses that answered
        std::map<std::string, std::uint64_t> values;  // responses that gave each value
    };
    struct QuestionStats {
        std::string id;
        const Question* def = nullptr;  // null: not in the survey files nor any version answered
        // The question in each version its answers were given with (survey version → it):
        // its heading is the newest one's, and an older text that differs is named too.
        std::map<std::int64_t, const Question*> versions;
        std::int64_t files_version = -1;  // the survey files' version when they have the question
        Bucket total;
        std::map<int, Bucket> weeks;   // iso_year * 100 + iso_week
        std::map<int, Bucket> months;  // year * 100 + month
        std::deque<std::string> texts;  // free text, the latest kMaxTexts
        std::uint64_t text_count = 0;
        bool all_ids = true;
    };
    // A year-clock's visits: wishes per month and activity, "we'll come" per event and
    // ideas per month (the wish-MM, come and idea-MM rows; yearclock.hpp).
    struct YearClockStats {
        std::map<std::string, std::array<std::uint64_t, 12>> wishes;  // activity → visits per month
        std::vector<std::string> activities;         // activity ids in order of first appearance
        std::map<std::string, std::uint64_t> come;   // event id → visits
        std::vector<std::string> events;             // event ids in order of first appearance
        std::array<std::deque<std::string>, 12> ideas;  // per month, the latest kMaxTexts
        std::array<std::uint64_t, 12> idea_count{};
        std::uint64_t wish_visits = 0, come_visits = 0;  // visits with at least one wish / one "come"
        bool many = false;  // more distinct ids than are counted: the rest are in the CSV only
    };
    struct SurveyStats {
        std::string id;
        const Survey* def = nullptr;
        std::uint64_t responses = 0;
        std::vector<QuestionStats> questions;  // the survey's order, then the data's
        // A year-clock: kind = "yearclock" in the survey files or, for a survey they do not
        // describe, one that stores wish-MM or idea-MM rows.
        bool is_yearclock = false;
        YearClockStats yearclock;
    };

private:
    QuestionStats& question(SurveyStats& s, const std::string& id);
    std::string fewer() const;
    std::string count(std::uint64_t n) const;
    std::string percent(double p) const;
    std::string date(int y, int m, int d) const;
    std::string text(const LangText& t, const std::string& fallback) const;
    std::string site_name(const std::string& id) const;  // options_.site_names, else the id
    std::string value_label(const QuestionStats& q, const std::string& value) const;
    // The values of the question in every version (the newest's order, then older ones').
    std::vector<std::string> allowed_values(const QuestionStats& q) const;
    void render_question(std::string& html, const QuestionStats& q) const;
    void render_scale(std::string& html, const QuestionStats& q, const std::vector<std::string>& values,
                      bool weeks) const;
    void render_ranked(std::string& html, const QuestionStats& q, std::vector<std::string> values) const;
    void render_texts(std::string& html, const QuestionStats& q) const;
    void render_yearclock(std::string& html, const SurveyStats& s) const;
    // Bars of counts, each under min_group drawn as a hatched "fewer than N".
    std::string count_svg(const std::string& title, const std::vector<std::pair<std::string, std::uint64_t>>& rows,
                          double label_width) const;

    const std::vector<Survey>& surveys_;
    ExportOptions options_;
    ReportTexts texts_;
    Catalog ui_;
    StatusCounts status_;
    std::vector<SurveyStats> stats_;
    std::map<std::string, std::uint64_t> languages_, sites_;
    std::array<std::uint64_t, 7> bands_{};  // time of day: -9, 9-11, 11-13, 13-15, 15-17, 17-19, 19-
    std::uint64_t responses_ = 0;
    std::optional<LocalParts> first_, last_;
};

}  // namespace kohtaamo
