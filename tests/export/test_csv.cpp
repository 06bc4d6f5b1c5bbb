// CSV and JSON Lines: what a coordinator's spreadsheet or script reads back is exactly what
// the database holds, and the filters choose the responses a coordinator asked for.
#include <catch2/catch.hpp>

#include "export_fixtures.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

// Free text as families type it (stored under a question the survey files do not know yet,
// as the adult survey's free text would be).
const std::vector<std::string> kTricky = {
    "Kiva paikka, \"paras\" ikinä!",        // comma and quotes
    "rivi yksi\r\nrivi kaksi\nrivi kolme",   // CRLF and LF inside a cell
    "Åsa ja Öljy: äiti söi jäätelöä 🍦👨‍👩‍👧", // å ä ö, emoji (a ZWJ family)
    "=SUMMA(A1:A9); -1 @home",              // what Excel would run as a formula
    "  välilyönnit reunoilla  ",
    "",                                     // an empty answer
};

void fill(KioskDb& db) {
    db.add("r1", "child", kT0, {{"feeling", {"5"}}, {"best", {"play", "music"}}, {"age", {"3-5"}}});
    db.add("r2", "family", kT0 + 60'000, {{"welcome", {"4"}}, {"visits", {"weekly"}}, {"idea", {kTricky[0]}}});
    db.add("r3", "family", kT0 + 120'000, {{"welcome", {"2"}}, {"idea", {kTricky[1]}}}, ResponseStatus::Complete, "puistola", "sv");
    db.add("r4", "family", kT0 + 180'000, {{"support", {"5"}}, {"idea", {kTricky[2]}}}, ResponseStatus::Complete, "kalliola", "en");
    db.add("r5", "family", kT0 + 240'000, {{"welcome", {"1"}}, {"idea", {kTricky[3]}}});
    db.add("r6", "family", kT0 + 300'000, {{"welcome", {"3"}}, {"idea", {kTricky[4]}}});
    db.add("r7", "family", kT0 + 360'000, {{"welcome", {"3"}}, {"idea", {kTricky[5]}}});
    db.add("r8", "child", kT0 + 420'000, {{"feeling", {"1"}}}, ResponseStatus::Abandoned);
    db.add("r9", "child", kT0 + 480'000, {{"feeling", {"3"}}, {"best", {"crafts"}}});
    db.flag("r9");
    db.add("r10", "child", kT0 + 540'000, {{"feeling", {"4"}}}, ResponseStatus::InProgress);
}

// A kiosk database with fill()'s responses and an empty folder to export into.
struct Filled {
    TempDir dir;
    KioskDb db{dir / "k.sqlite"};
    std::filesystem::path out = dir / "out";
    Filled() {
        fill(db);
        std::filesystem::create_directory(out);
    }
};

const char* kLongSql =
    "SELECT r.id, r.survey_id, r.survey_version, r.site, r.event, r.language, r.status, r.flagged, r.started_at,"
    " coalesce(r.finished_at, ''), a.question_id, a.value, a.answered_at"
    " FROM responses r JOIN answers a ON a.response_id = r.id";
const Rows kLongHeader = {{"response_id", "survey_id", "survey_version", "site", "event", "language", "status", "flagged",
                           "started_at", "finished_at", "question_id", "value", "answered_at"}};

Rows with_header(Rows header, const Rows& rows) {
    header.insert(header.end(), rows.begin(), rows.end());
    return header;
}

}  // namespace

TEST_CASE("the long CSV read back by Python's csv module equals the database, quotes, line breaks, å ä ö and emoji included") {
    Filled f;
    auto& db = f.db;
    const auto& out = f.out;

    ExportOptions o = options_for();
    o.report = false;
    ExportResult r = export_to_folder(db.path(), bundled_surveys(), out, o);
    REQUIRE(r.ok());
    CHECK(r.responses == 7);  // complete and not flagged: r1..r7
    CHECK(r.answers == 17);

    bool bom = true;
    Rows rows = read_csv(out / "t-long.csv", ',', &bom);
    CHECK_FALSE(bom);
    CHECK(rows == with_header(kLongHeader, query(db.path(), std::string(kLongSql) +
                                                                " WHERE r.status = 'complete' AND r.flagged = 0"
                                                                " ORDER BY r.started_at, r.id, a.question_id, a.value")));
    // Every tricky text came back byte for byte.
    std::vector<std::string> ideas;
    for (const auto& row : rows)
        if (row[10] == "idea") ideas.push_back(row[11]);
    CHECK(ideas == kTricky);
    // RFC 4180: CRLF between records.
    const std::string raw = read_file(out / "t-long.csv");
    CHECK(raw.substr(0, raw.find('\n') + 1).ends_with("answered_at\r\n"));
}

TEST_CASE("the wide CSV has one row per response and the survey's questions in the survey's order") {
    Filled f;
    auto& db = f.db;
    const auto& out = f.out;
    ExportOptions o = options_for();
    o.report = o.jsonl = o.long_csv = false;
    o.filter.include_abandoned = true;
    REQUIRE(export_to_folder(db.path(), bundled_surveys(), out, o).ok());
    CHECK(listing(out) == std::vector<std::string>{"t-wide-child.csv", "t-wide-family.csv"});

    // child.toml asks feeling, best, age; several choices are joined with '|'.
    CHECK(read_csv(out / "t-wide-child.csv", ',') ==
          Rows{{"response_id", "survey_id", "survey_version", "site", "event", "language", "status", "flagged", "started_at",
                "finished_at", "feeling", "best", "age"},
               {"r1", "child", "1", "kalliola", "", "fi", "complete", "0", iso8601_utc(kT0), iso8601_utc(kT0 + 4000), "5",
                "music|play", "3-5"},
               {"r8", "child", "1", "kalliola", "", "fi", "abandoned", "0", iso8601_utc(kT0 + 420'000),
                iso8601_utc(kT0 + 422'000), "1", "", ""}});
    // family.toml: welcome, support, visits, heard, again, idea (a free-text question).
    Rows family = read_csv(out / "t-wide-family.csv", ',');
    REQUIRE(family.size() == 7);
    CHECK(std::vector<std::string>(family[0].begin() + 10, family[0].end()) ==
          std::vector<std::string>{"welcome", "support", "visits", "heard", "again", "idea"});
    CHECK(std::vector<std::string>(family[1].begin() + 10, family[1].end()) ==
          std::vector<std::string>{"4", "", "weekly", "", "", kTricky[0]});
    CHECK(family[3][15] == kTricky[2]);
}

TEST_CASE("the Excel option writes semicolons and a byte order mark, and defuses formulas") {
    Filled f;
    auto& db = f.db;
    const auto& out = f.out;
    ExportOptions o = options_for();
    o.report = o.jsonl = false;
    o.csv_style = CsvStyle::ExcelFi;
    REQUIRE(export_to_folder(db.path(), bundled_surveys(), out, o).ok());

    const std::string raw = read_file(out / "t-long.csv");
    CHECK(raw.rfind("\xEF\xBB\xBFresponse_id;survey_id;", 0) == 0);
    bool bom = false;
    Rows rows = read_csv(out / "t-long.csv", ';', &bom);
    CHECK(bom);
    Rows db_rows = query(db.path(), std::string(kLongSql) +
                                        " WHERE r.status = 'complete' AND r.flagged = 0 ORDER BY r.started_at, r.id, a.question_id, a.value");
    REQUIRE(rows.size() == db_rows.size() + 1);
    for (std::size_t i = 0; i < db_rows.size(); ++i) {
        Rows::value_type expected = db_rows[i];
        // A cell Excel would run as a formula starts with an apostrophe; nothing else changes.
        if (expected[11] == kTricky[3]) expected[11] = "'" + expected[11];
        CHECK(rows[i + 1] == expected);
    }
}

TEST_CASE("JSON Lines read back by Python's json module hold every response with its answers") {
    Filled f;
    auto& db = f.db;
    const auto& out = f.out;
    ExportOptions o = options_for();
    o.report = o.wide_csv = o.long_csv = false;
    REQUIRE(export_to_folder(db.path(), bundled_surveys(), out, o).ok());
    auto lines = nlohmann::json::parse(read_back("jsonl", out / "t.jsonl"));
    REQUIRE(lines.size() == 7);
    CHECK(lines[0]["response_id"] == "r1");
    CHECK(lines[0]["flagged"] == false);
    CHECK(lines[0]["finished_at"] == iso8601_utc(kT0 + 4000));
    CHECK(lines[0]["answers"]["best"]["values"] == nlohmann::json::array({"music", "play"}));
    CHECK(lines[3]["language"] == "en");
    CHECK(lines[3]["answers"]["idea"]["values"][0] == kTricky[2]);
    CHECK(lines[2]["answers"]["idea"]["values"][0] == kTricky[1]);
}

TEST_CASE("filters: period in local time, half-year, survey, site, abandoned, flagged and free text") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    fill(db);
    // 00:30 on 1 July in Helsinki is still 30 June in UTC: it belongs to H2.
    const std::int64_t july1 = *local_midnight("2026-07-01") + 30 * 60'000;
    db.add("h2", "child", july1, {{"feeling", {"4"}}});
    db.add("h1", "child", july1 - 3'600'000, {{"feeling", {"2"}}});
    REQUIRE(iso8601_utc(july1).substr(0, 10) == "2026-06-30");

    auto ids = [&](const ExportFilter& f) {
        TempDir out;
        ExportOptions o = options_for();
        o.filter = f;
        o.report = o.wide_csv = o.jsonl = false;
        ExportResult r = export_to_folder(db.path(), bundled_surveys(), out.path(), o);
        REQUIRE(r.ok());
        std::vector<std::string> got;
        for (const auto& row : read_csv(out / "t-long.csv", ','))
            if (got.empty() || got.back() != row[0]) got.push_back(row[0]);
        got.erase(got.begin());  // the header
        return got;
    };
    using V = std::vector<std::string>;
    ExportFilter f;
    CHECK(ids(f) == V{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "h1", "h2"});

    auto h1 = half_year_range("2026H1");
    REQUIRE(h1);
    CHECK(h1->from == "2026-01-01");
    CHECK(h1->to == "2026-06-30");
    CHECK(half_year_range("2026-h2")->from == "2026-07-01");
    CHECK_FALSE(half_year_range("2026H3"));
    CHECK(half_year_of(july1) == "2026H2");
    CHECK(half_year_of(july1, -1) == "2026H1");
    CHECK(half_year_of(*local_midnight("2026-01-01"), -1) == "2025H2");

    ExportFilter first = f;
    first.from = h1->from;
    first.to = h1->to;
    CHECK(ids(first) == V{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "h1"});
    ExportFilter second = f;
    second.from = "2026-07-01";
    second.to = "2026-12-31";
    CHECK(ids(second) == V{"h2"});
    ExportFilter day = f;
    day.from = day.to = "2026-03-10";
    CHECK(ids(day).size() == 7);

    ExportFilter survey = f;
    survey.surveys = {"child"};
    CHECK(ids(survey) == V{"r1", "h1", "h2"});
    ExportFilter site = f;
    site.sites = {"puistola"};
    CHECK(ids(site) == V{"r3"});
    ExportFilter all = f;
    all.include_abandoned = true;
    all.include_flagged = true;
    all.surveys = {"child"};
    // In-progress responses never go out: they are not answers yet.
    CHECK(ids(all) == V{"r1", "r8", "r9", "h1", "h2"});

    // Without free text: the idea answers (a question the survey files do not describe) go.
    TempDir out;
    ExportOptions o = options_for();
    o.filter.free_text = false;
    o.report = false;
    o.xlsx = true;
    ExportResult r = export_to_folder(db.path(), bundled_surveys(), out.path(), o);
    REQUIRE(r.ok());
    CHECK(r.withheld == 6);
    const std::string everything = read_file(out / "t-long.csv") + read_file(out / "t-wide-family.csv") + read_file(out / "t.jsonl");
    CHECK(everything.find("idea") == std::string::npos);
    CHECK(everything.find("paras") == std::string::npos);
    CHECK(read_csv(out / "t-wide-family.csv", ',')[0].back() == "again");  // the free-text column is left out
    // The workbook too (read through Python's zipfile: its XML is compressed).
    const std::string book = read_back("xlsx", out / "t.xlsx");
    CHECK(book.find("idea") == std::string::npos);
    CHECK(book.find("paras") == std::string::npos);
}

TEST_CASE("kohtaamo-export on the command line: --db, a half-year, Excel, and clear errors") {
    Filled f;
    auto& db = f.db;
    const auto& out = f.out;
    const std::string tool = KOHTAAMO_EXPORT_TOOL;
    std::string printed = run(tool + " --db " + shell_quote(db.path()) + " --out " + shell_quote(out) +
                              " --half-year 2026H1 --excel --name k --lang sv --survey family 2>&1");
    CHECK_THAT(printed, Catch::Contains("6 responses, 13 answers"));
    CHECK(listing(out) ==
          std::vector<std::string>{"k-long.csv", "k-report-sv.html", "k-wide-family.csv", "k.jsonl", "k.xlsx"});
    CHECK(read_file(out / "k-long.csv").rfind("\xEF\xBB\xBF", 0) == 0);
    CHECK_THAT(read_file(out / "k-report-sv.html"), Catch::Contains("<html lang=\"sv\">"));

    int code = 0;
    printed = run(tool + " --db " + shell_quote(db.path()) + " --out " + shell_quote(f.dir / "no-such-stick") + " 2>&1", &code);
    CHECK(code == 1);
    CHECK_THAT(printed, Catch::Contains("no drive"));
    printed = run(tool + " --db " + shell_quote(f.dir / "nothing.sqlite") + " --out " + shell_quote(out) + " 2>&1", &code);
    CHECK(code == 1);
    CHECK_THAT(printed, Catch::Contains("database error") && Catch::Contains("nothing.sqlite"));
    printed = run(tool + " --db " + shell_quote(db.path()) + " --out " + shell_quote(out) + " --half-year 2026H5 2>&1", &code);
    CHECK(code == 2);
    CHECK_THAT(printed, Catch::Contains("--half-year"));
}

TEST_CASE("without free text a year-clock's wishes and \"we'll come\" rows stay and only its ideas go") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    db.add("y1", "yearclock", kT0, {{"wish-06", {"ulkoilu", "muskari"}}, {"come", {"kesapuisto-2027"}}, {"idea-06", {"Uimaan!"}}});
    db.add("y2", "yearclock", kT0 + 60'000, {{"wish-12", {"leipominen"}}, {"idea-12", {"Piparit, \"kiitos\""}}});
    db.add("f1", "family", kT0 + 120'000, {{"welcome", {"4"}}, {"idea", {"Lisää iltaryhmiä"}}});  // a text question

    auto exported = [&](bool free_text, const std::vector<Survey>& surveys, ExportResult* result = nullptr) {
        auto out = std::make_unique<TempDir>();
        ExportOptions o = options_for();
        o.report = false;
        o.filter.free_text = free_text;
        ExportResult r = export_to_folder(db.path(), surveys, out->path(), o);
        REQUIRE(r.ok());
        if (result) *result = r;
        return out;
    };
    auto answers_of = [](const std::filesystem::path& long_csv, const std::string& survey) {
        std::vector<std::pair<std::string, std::string>> got;
        for (const auto& row : read_csv(long_csv, ','))
            if (row[1] == survey) got.emplace_back(row[10], row[11]);
        return got;
    };
    using P = std::vector<std::pair<std::string, std::string>>;

    ExportResult r;
    auto out = exported(false, bundled_surveys(), &r);
    CHECK(r.withheld == 3);  // the two ideas and the family survey's free text
    CHECK(answers_of(*out / "t-long.csv", "yearclock") ==
          P{{"come", "kesapuisto-2027"}, {"wish-06", "muskari"}, {"wish-06", "ulkoilu"}, {"wish-12", "leipominen"}});
    CHECK(answers_of(*out / "t-long.csv", "family") == P{{"welcome", "4"}});
    // The wide file: the wishes month by month, then "we'll come"; no idea columns.
    Rows wide = read_csv(*out / "t-wide-yearclock.csv", ',');
    REQUIRE(wide.size() == 3);
    CHECK(std::vector<std::string>(wide[0].begin() + 10, wide[0].end()) == std::vector<std::string>{"wish-06", "wish-12", "come"});
    CHECK(std::vector<std::string>(wide[1].begin() + 10, wide[1].end()) ==
          std::vector<std::string>{"muskari|ulkoilu", "", "kesapuisto-2027"});
    auto lines = nlohmann::json::parse(read_back("jsonl", *out / "t.jsonl"));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["answers"].size() == 2);
    CHECK(lines[0]["answers"]["come"]["values"] == nlohmann::json::array({"kesapuisto-2027"}));
    const std::string everything = read_file(*out / "t-long.csv") + read_file(*out / "t-wide-yearclock.csv") + read_file(*out / "t.jsonl");
    CHECK(everything.find("idea") == std::string::npos);
    CHECK(everything.find("Uimaan") == std::string::npos);
    CHECK(everything.find("Piparit") == std::string::npos);

    // With free text: the ideas too, after the wishes and "we'll come".
    out = exported(true, bundled_surveys(), &r);
    CHECK(r.withheld == 0);
    wide = read_csv(*out / "t-wide-yearclock.csv", ',');
    CHECK(std::vector<std::string>(wide[0].begin() + 10, wide[0].end()) ==
          std::vector<std::string>{"wish-06", "wish-12", "come", "idea-06", "idea-12"});
    CHECK(wide[2].back() == "Piparit, \"kiitos\"");

    // Without the survey files nothing says which rows are free text: all are left out.
    out = exported(false, {}, &r);
    CHECK(r.withheld == 8);
    CHECK(answers_of(*out / "t-long.csv", "yearclock").empty());
}
