// The participation year-clock: its file format (good files load, every kind of bad file
// is refused with the file, the line and the problem), which events are still coming,
// and the answer ids it stores.
#include <catch2/catch.hpp>

#include "survey.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::TempDir;
using kohtaamo::test::write_file;

namespace {

const std::vector<std::string> kLangs = {"fi", "sv", "en"};

// A small good year-clock: months 1..12 (line 6 + 4*(m-1) holds `month = m`), two
// events, two activities.
std::string good() {
    std::string s = "id = \"vk\"\nversion = 2\nkind = \"yearclock\"\ntitle = { fi = \"V\", sv = \"Å\", en = \"Y\" }\n";
    for (int m = 1; m <= 12; ++m)
        s += "[[months]]\nmonth = " + std::to_string(m) + "\nicon = \"🎈\"\ntheme = { fi = \"T" + std::to_string(m) +
             "\", sv = \"S\", en = \"E\" }\n";
    // Line 53 on.
    s += "[[events]]\nid = \"later\"\ndate = \"2027-03-24\"\nicon = \"🥚\"\ntext = { fi = \"Munat\", sv = \"Ägg\", en = \"Eggs\" }\n";
    s += "[[events]]\nid = \"sooner\"\ndate = \"2027-03-10\"\nicon = \"📖\"\ntext = { fi = \"Satu\", sv = \"Saga\", en = \"Story\" }\n";
    s += "[[activities]]\nid = \"muskari\"\nicon = \"🎵\"\ntext = { fi = \"Muskari\", sv = \"Musiklek\", en = \"Music\" }\n";
    s += "[[activities]]\nid = \"ulkoilu\"\nicon = \"🌳\"\ntext = { fi = \"Ulkoilu\", sv = \"Utelek\", en = \"Outdoors\" }\n";
    return s;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

// Loads `content` as a survey file; returns the error after the file name.
std::string load_error(const std::string& content) {
    TempDir dir;
    write_file(dir / "vk.toml", content);
    try {
        load_survey(dir / "vk.toml", kLangs);
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        REQUIRE(msg.rfind((dir / "vk.toml").string(), 0) == 0);
        return msg.substr((dir / "vk.toml").string().size());
    }
    FAIL("the file loaded although it is broken");
    return "";
}

}  // namespace

TEST_CASE("a good year-clock file loads: twelve months, events by date, activities") {
    TempDir dir;
    write_file(dir / "vk.toml", good());
    Survey s = load_survey(dir / "vk.toml", kLangs);
    CHECK(s.id == "vk");
    CHECK(s.version == 2);
    CHECK(s.questions.empty());
    REQUIRE(s.yearclock);
    const YearClock& y = *s.yearclock;
    for (int m = 1; m <= 12; ++m) {
        CHECK(y.month(m).month == m);
        CHECK(y.month(m).theme.at("fi") == "T" + std::to_string(m));
    }
    REQUIRE(y.events.size() == 2);
    CHECK(y.events[0].id == "sooner");  // sorted by date
    CHECK(y.events[0].month == 3);
    CHECK(y.events[1].text.at("sv") == "Ägg");
    REQUIRE(y.activities.size() == 2);
    CHECK(y.activities[1].icon == "🌳");
    CHECK_FALSE(y.ideas);
}

TEST_CASE("the bundled year-clock loads in fi, sv and en") {
    auto surveys = load_surveys(test::config_dir() / "surveys", kLangs);
    auto it = std::find_if(surveys.begin(), surveys.end(), [](const Survey& s) { return s.id == "yearclock"; });
    REQUIRE(it != surveys.end());
    REQUIRE(it->yearclock);
    CHECK(it->yearclock->activities.size() >= 6);
    CHECK(it->yearclock->events.size() >= 6);
    CHECK(it->yearclock->ideas);
    CHECK(it->yearclock->month(2).theme.at("fi") == "Laskiainen");
    // Other surveys are question surveys.
    CHECK_FALSE(std::find_if(surveys.begin(), surveys.end(), [](const Survey& s) { return s.id == "child"; })->yearclock);
}

TEST_CASE("coming events: the month's events from today on, by date") {
    TempDir dir;
    write_file(dir / "vk.toml", good());
    const YearClock y = *load_survey(dir / "vk.toml", kLangs).yearclock;
    auto ids = [](const std::vector<const YearClockEvent*>& es) {
        std::vector<std::string> out;
        for (auto* e : es) out.push_back(e->id);
        return out;
    };
    CHECK(ids(y.coming_events(3, "2026-11-25")) == std::vector<std::string>{"sooner", "later"});
    CHECK(ids(y.coming_events(3, "2027-03-10")) == std::vector<std::string>{"sooner", "later"});  // today counts
    CHECK(ids(y.coming_events(3, "2027-03-11")) == std::vector<std::string>{"later"});
    CHECK(y.coming_events(4, "2026-11-25").empty());
    CHECK(y.find_event("later")->date == "2027-03-24");
    CHECK(y.find_event("nope") == nullptr);
    CHECK(y.find_activity("ulkoilu") != nullptr);
}

TEST_CASE("year-clock answer ids and local dates") {
    CHECK(wish_question(3) == "wish-03");
    CHECK(wish_question(12) == "wish-12");
    CHECK(idea_question(1) == "idea-01");
    CHECK(wish_month("wish-03") == 3);
    CHECK(wish_month("wish-12") == 12);
    CHECK(wish_month("wish-13") == 0);
    CHECK(wish_month("wish-00") == 0);
    CHECK(wish_month("idea-03") == 0);
    CHECK(wish_month("come") == 0);
    // 2025-11-24T16:00:00Z is the 24th of November in Helsinki and in UTC.
    CHECK(local_month(1'764'000'000'000) == 11);
    CHECK(local_date(1'764'000'000'000) == "2025-11-24");
}

TEST_CASE("a broken year-clock file is refused with its line and the problem") {
    const std::string g = good();
    SECTION("unknown survey kind") {
        CHECK_THAT(load_error(replace(g, "kind = \"yearclock\"", "kind = \"yearclok\"")),
                   Catch::StartsWith(":3:") && Catch::Contains("unknown survey kind \"yearclok\""));
    }
    SECTION("unknown keys at every level") {
        CHECK_THAT(load_error(replace(g, "version = 2", "version = 2\nquestions = []")),
                   Catch::StartsWith(":3:") && Catch::Contains("unknown key questions"));
        CHECK_THAT(load_error(replace(g, "month = 5\n", "month = 5\ncolour = \"red\"\n")),
                   Catch::StartsWith(":23:") && Catch::Contains("unknown key months[4].colour"));
        CHECK_THAT(load_error(replace(g, "id = \"later\"", "id = \"later\"\ntime = \"17:00\"")),
                   Catch::StartsWith(":55:") && Catch::Contains("unknown key events[0].time"));
    }
    SECTION("twelve months, each once") {
        CHECK_THAT(load_error(replace(g, "month = 7\n", "month = 6\n")),
                   Catch::StartsWith(":30:") && Catch::Contains("month 6 is in [[months]] twice"));
        CHECK_THAT(load_error(replace(g, "month = 7\n", "month = 13\n")),
                   Catch::StartsWith(":30:") && Catch::Contains("must be 1..12"));
        std::string eleven = g;
        const auto from = eleven.find("[[months]]\nmonth = 12");
        eleven.erase(from, eleven.find("[[events]]") - from);
        CHECK_THAT(load_error(eleven), Catch::Contains("exactly 12 [[months]]") && Catch::Contains("has 11"));
    }
    SECTION("texts in every language, icons that are one picture") {
        CHECK_THAT(load_error(replace(g, "fi = \"T4\", ", "")),
                   Catch::StartsWith(":20:") && Catch::Contains("month 4.theme has no text in language \"fi\""));
        CHECK_THAT(load_error(replace(g, "icon = \"🥚\"", "icon = \"egg\"")),
                   Catch::StartsWith(":56:") && Catch::Contains("must be one picture"));
        CHECK_THAT(load_error(replace(g, "fi = \"Muskari\"", "fi = \"\"")),
                   Catch::Contains("activity \"muskari\".text.fi is empty"));
    }
    SECTION("event dates are real YYYY-MM-DD dates") {
        for (const char* bad : {"2027-02-30", "2027-13-01", "27-03-24", "2027-3-24", "24.3.2027", "2027-03-24T10:00"}) {
            INFO(bad);
            CHECK_THAT(load_error(replace(g, "\"2027-03-24\"", std::string("\"") + bad + "\"")),
                       Catch::StartsWith(":55:") && Catch::Contains("is not a date written as YYYY-MM-DD"));
        }
        CHECK_THAT(load_error(replace(g, "date = \"2027-03-24\"", "date = 2027-03-24")),
                   Catch::StartsWith(":55:") && Catch::Contains("must be a string"));
        // 29 February only in a leap year.
        CHECK_THAT(load_error(replace(g, "\"2027-03-24\"", "\"2027-02-29\"")), Catch::Contains("not a date"));
        TempDir dir;
        write_file(dir / "vk.toml", replace(g, "\"2027-03-24\"", "\"2028-02-29\""));
        CHECK(load_survey(dir / "vk.toml", kLangs).yearclock->events[1].month == 2);
    }
    SECTION("ids unique and valid") {
        CHECK_THAT(load_error(replace(g, "id = \"sooner\"", "id = \"later\"")),
                   Catch::StartsWith(":59:") && Catch::Contains("duplicate event id \"later\""));
        CHECK_THAT(load_error(replace(g, "id = \"ulkoilu\"", "id = \"muskari\"")),
                   Catch::Contains("duplicate activity id \"muskari\""));
        CHECK_THAT(load_error(replace(g, "id = \"later\"", "id = \"Later On\"")), Catch::Contains("not a valid id"));
    }
    SECTION("at most three events in a month, two to twelve activities") {
        std::string four = g;
        for (int i = 0; i < 2; ++i)
            four += "[[events]]\nid = \"more" + std::to_string(i) +
                    "\"\ndate = \"2027-03-30\"\nicon = \"🎉\"\ntext = { fi = \"a\", sv = \"b\", en = \"c\" }\n";
        CHECK_THAT(load_error(four), Catch::Contains("more than 3 events in 2027-03"));
        std::string one = g;
        one.erase(one.rfind("[[activities]]"));
        CHECK_THAT(load_error(one), Catch::Contains("at least two [[activities]]"));
    }
    SECTION("ideas is true or false") {
        CHECK_THAT(load_error(replace(g, "version = 2", "version = 2\nideas = \"yes\"")),
                   Catch::StartsWith(":3:") && Catch::Contains("ideas must be true or false"));
    }
}
