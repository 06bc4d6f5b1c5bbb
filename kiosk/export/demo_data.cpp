// kohtaamo-demo-data — fills a kiosk database with a realistic, reproducible demo dataset
// through the real Store: the bundled surveys, answered at several meeting points over a
// period, mostly in Finnish, in opening hours, with seasons in the children's choices and
// a few abandoned and flagged responses, and families at the year-clock wishing for the
// coming months. Used for the report picture in docs/ and for the export benchmark
// (scripts/bench-export).
//
//   kohtaamo-demo-data --db demo.sqlite --responses 600 --from 2026-01-01 --days 181
//   kohtaamo-demo-data --db big.sqlite --answers 1000000 --fast
#include <array>
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "local_time.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "survey.hpp"
#include "uuid.hpp"

using namespace kohtaamo;

int main(int argc, char** argv) {
    CLI::App app{"Fill a Kohtaamo database with a realistic demo dataset."};
    std::string db, from = "2026-01-01", surveys_dir = std::string(KOHTAAMO_SOURCE_DIR) + "/config/surveys";
    std::vector<std::string> sites = {"kalliola", "mustikkala", "puistola"};
    int responses = 600, days = 181;
    std::uint64_t answers_wanted = 0;
    unsigned seed = 7;
    bool fast = false;
    app.add_option("--db", db, "SQLite file to create or add to")->required();
    app.add_option("--responses", responses, "How many responses");
    app.add_option("--from", from, "First day (YYYY-MM-DD, local)");
    app.add_option("--days", days, "Over how many days");
    app.add_option("--answers", answers_wanted, "Stop once this many answers are in (overrides --responses)");
    int yearclock_visits = -1;
    app.add_option("--yearclock", yearclock_visits,
                   "Year-clock visits besides the responses (default: a fifth of --responses; none with --answers)");
    app.add_option("--site", sites, "Meeting points (repeatable)");
    app.add_option("--surveys", surveys_dir, "Survey files");
    app.add_option("--seed", seed, "Random seed");
    app.add_flag("--fast", fast, "synchronous=OFF while filling (for the benchmark's million answers)");
    CLI11_PARSE(app, argc, argv);

    try {
        const auto surveys = load_surveys(surveys_dir, {"fi", "sv", "en"});
        const auto start = local_midnight(from);
        if (!start) throw std::runtime_error("--from: not a date: " + from);
        std::mt19937 rng(seed);
        auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
        auto pick = [&](const std::vector<double>& weights) {
            return std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(rng);
        };

        // Response ids: UUIDs, as the kiosk writes and the sync protocol requires, from their
        // own seeded stream (the same ids on every run, and the answers' stream untouched).
        std::mt19937_64 id_rng(seed * 0x9E3779B97F4A7C15ULL + 1);
        auto next_id = [&] {
            std::array<unsigned char, 16> bytes;
            for (std::size_t k = 0; k < bytes.size(); k += 8) {
                const std::uint64_t v = id_rng();
                for (std::size_t b = 0; b < 8; ++b) bytes[k + b] = static_cast<unsigned char>(v >> (8 * b));
            }
            return uuid_from_bytes(bytes);
        };

        Store store(db, *start);
        if (fast) store.exec("PRAGMA synchronous = OFF");
        std::uint64_t answers = 0;
        int made = 0;
        for (int i = 0; answers_wanted ? answers < answers_wanted : i < responses; ++i, ++made) {
            // A day in the period (busier midweek), an hour in opening times (peaks at 10 and 15).
            const int day = std::uniform_int_distribution<int>(0, days - 1)(rng);
            const int hour = static_cast<int>(8 + pick({2, 8, 9, 6, 4, 5, 7, 6, 3, 2, 1}));
            const std::int64_t t0 = *local_midnight(from, day) + hour * 3'600'000LL +
                                    std::uniform_int_distribution<int>(0, 3'599'999)(rng);
            const LocalParts when = local_parts(t0);
            const bool summer = when.month >= 5 && when.month <= 8;
            const bool winter = when.month <= 2 || when.month >= 11;

            const Survey& s = surveys[pick({3, 2}) % surveys.size()];
            ResponseHeader h;
            h.id = next_id();
            h.survey_id = s.id;
            h.survey_version = s.version;
            h.language = std::vector<std::string>{"fi", "sv", "en"}[pick({84, 10, 6})];
            h.site = sites[pick({5, 3, 2}) % sites.size()];
            h.started_ms = t0;
            const bool abandon = chance(0.08);
            std::int64_t t = t0;
            std::size_t asked = 0;
            for (const auto& q : s.questions) {
                if (abandon && asked > 0 && chance(0.6)) break;
                ++asked;
                t += std::uniform_int_distribution<int>(2'000, 9'000)(rng);
                if (!q.required && chance(0.15)) continue;
                std::vector<std::string> values;
                switch (q.kind) {
                    case QuestionKind::Smiley: {
                        // Mostly happy; a little happier in summer.
                        std::vector<double> w = q.faces == 5 ? std::vector<double>{1, 2, 5, 12, summer ? 22.0 : 16.0}
                                                             : std::vector<double>{1, 4, 12};
                        values.push_back(std::to_string(pick(w) + 1));
                        break;
                    }
                    case QuestionKind::Agree:
                        values.push_back(std::to_string(pick({1, 2, 4, 10, 12}) + 1));
                        break;
                    case QuestionKind::Picture:
                    case QuestionKind::Choice: {
                        std::vector<double> w;
                        for (const auto& c : q.choices) {
                            double x = 3;
                            if (c.id == "outdoors") x = summer ? 9 : winter ? 1 : 4;
                            if (c.id == "crafts") x = winter ? 8 : 3;
                            if (c.id == "play" || c.id == "friends") x = 7;
                            if (c.id == "weekly") x = 6;
                            w.push_back(x);
                        }
                        const std::size_t n = q.multiple ? 1 + pick({5, 3, 2}) : 1;
                        for (std::size_t k = 0; k < n; ++k) {
                            std::string v = q.choices[pick(w)].id;
                            if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
                        }
                        break;
                    }
                    case QuestionKind::Text: {
                        static const char* ideas[] = {"Lisää ulkoilua!", "Vauvajumppa olisi kiva",
                                                      "Kiitos kun olette olemassa", "Enemmän iltaryhmiä isille"};
                        if (chance(0.5)) values.push_back(ideas[pick({1, 1, 1, 1})]);
                        break;
                    }
                }
                if (values.empty() && q.kind == QuestionKind::Text) continue;
                store.save_answer(h, q.id, values, t);
                answers += values.size();
            }
            store.finish(h.id, abandon ? ResponseStatus::Abandoned : ResponseStatus::Complete, t + 3'000);
            if (chance(0.01)) Statement(store.handle(), "UPDATE responses SET flagged = 1 WHERE id = ?").bind(1, h.id).run();
        }
        // Families at the year-clock (their own random stream: the responses above stay the
        // same whatever this adds). They look a few months ahead and wish by the season.
        const Survey* yc = nullptr;
        for (const auto& s : surveys)
            if (s.yearclock) yc = &s;
        if (yearclock_visits < 0) yearclock_visits = answers_wanted ? 0 : responses / 5;
        std::mt19937 yrng(seed + 1);
        auto ychance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(yrng) < p; };
        auto ypick = [&](const std::vector<double>& weights) {
            return std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(yrng);
        };
        static const char* ideas[] = {"Uimaretki yhdessä", "Vauvojen värikylpy", "Isä-lapsi-sählyä",
                                      "Lisää ulkoleikkejä puistossa", "Piparkakkutalojen rakentelu",
                                      "Retki kirjastoon", "Perhedisko", "Yhteinen piknik rannalla"};
        for (int i = 0; yc && i < yearclock_visits; ++i, ++made) {
            const YearClock& y = *yc->yearclock;
            const int day = std::uniform_int_distribution<int>(0, days - 1)(yrng);
            const std::int64_t t0 = *local_midnight(from, day) + (9 + static_cast<int>(ypick({3, 4, 2, 2, 3, 4, 3, 1}))) * 3'600'000LL +
                                    std::uniform_int_distribution<int>(0, 3'599'999)(yrng);
            ResponseHeader h;
            h.id = next_id();
            h.survey_id = yc->id;
            h.survey_version = yc->version;
            h.language = std::vector<std::string>{"fi", "sv", "en"}[ypick({84, 10, 6})];
            h.site = sites[ypick({5, 3, 2}) % sites.size()];
            h.started_ms = t0;
            std::int64_t t = t0;
            const int now = local_parts(t0).month;
            std::vector<int> months;  // this month or one of the next three; sometimes two
            for (std::size_t n = ychance(0.35) ? 2 : 1; months.size() < n;) {
                const int m = (now - 1 + static_cast<int>(ypick({3, 4, 3, 2}))) % 12 + 1;
                if (std::find(months.begin(), months.end(), m) == months.end()) months.push_back(m);
            }
            for (int m : months) {
                std::vector<double> w;
                for (const auto& a : y.activities) {
                    double x = 3;
                    if (a.id == "ulkoilu") x = m >= 5 && m <= 8 ? 12 : m >= 3 && m <= 9 ? 5 : 1.5;
                    if (a.id == "liikunta") x = m <= 2 || m == 12 ? 8 : 3;
                    if (a.id == "leipominen") x = m >= 11 ? 10 : 1.5;
                    if (a.id == "askartelu") x = m >= 10 || m <= 1 ? 7 : 2;
                    if (a.id == "satutuokio") x = m >= 9 || m <= 4 ? 6 : 2;
                    if (a.id == "muskari") x = 5;
                    w.push_back(x);
                }
                std::vector<std::string> wished;
                for (std::size_t k = 0, n = 1 + ypick({5, 3, 1}); k < n; ++k) {
                    const std::string a = y.activities[ypick(w)].id;
                    if (std::find(wished.begin(), wished.end(), a) == wished.end()) wished.push_back(a);
                }
                std::vector<std::string> ordered;  // the kiosk stores them in the file's order
                for (const auto& a : y.activities)
                    if (std::find(wished.begin(), wished.end(), a.id) != wished.end()) ordered.push_back(a.id);
                store.save_answer(h, wish_question(m), ordered, t += std::uniform_int_distribution<int>(3'000, 12'000)(yrng));
                answers += ordered.size();
            }
            std::vector<std::string> coming;
            for (const auto& e : y.events)
                if (std::find(months.begin(), months.end(), e.month) != months.end() && ychance(0.45)) coming.push_back(e.id);
            if (!coming.empty()) {
                store.save_answer(h, "come", coming, t += 4'000);
                answers += coming.size();
            }
            if (y.ideas && ychance(0.12)) {
                store.save_answer(h, idea_question(months.front()), {ideas[ypick(std::vector<double>(std::size(ideas), 1.0))]},
                                  t += 20'000);
                ++answers;
            }
            const bool abandon = ychance(0.06);
            store.finish(h.id, abandon ? ResponseStatus::Abandoned : ResponseStatus::Complete, t + 3'000);
        }
        std::cout << made << " responses, " << answers << " answers in " << db << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "kohtaamo-demo-data: " << e.what() << "\n";
        return 1;
    }
}
