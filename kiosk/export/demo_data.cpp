// kohtaamo-demo-data — fills a kiosk database with a realistic, reproducible demo dataset
// through the real Store: the bundled surveys, answered at several meeting points over a
// period, mostly in Finnish, in opening hours, with seasons in the children's choices and
// a few abandoned and flagged responses. Used for the report picture in docs/ and for the
// export benchmark (scripts/bench-export).
//
//   kohtaamo-demo-data --db demo.sqlite --responses 600 --from 2026-01-01 --days 181
//   kohtaamo-demo-data --db big.sqlite --answers 1000000 --fast
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "local_time.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "survey.hpp"

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
            char id[40];
            std::snprintf(id, sizeof id, "demo-%08x-%06d", seed, i);
            h.id = id;
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
        std::cout << made << " responses, " << answers << " answers in " << db << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "kohtaamo-demo-data: " << e.what() << "\n";
        return 1;
    }
}
