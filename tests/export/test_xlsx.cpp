// The XLSX workbook read back cell by cell, with each cell's type, by an independent reader
// (Python's zipfile and xml.etree: tests/export/read_back.py xlsx): a sheet per survey,
// a frozen header, free text that stays exactly its text, numbers as numbers, and
// timestamps as date-times in Helsinki's local time, summer and winter.
#include <catch2/catch.hpp>

#include "export_fixtures.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

using json = nlohmann::json;

// What Excel with Finnish settings would turn into a number, a date or a formula, or show
// with a guard apostrophe, if the cell were not a text cell.
const std::vector<std::string> kLookalikes = {"0401234567", "12.3.", "1e5", "=SUM(A1)", "-5 astetta",
                                              "+358 40 123", "@home", "Åsa 🍦 \"lainaus\", rivi\nkaksi"};

std::int64_t utc(const char* iso) { return *parse_iso8601_utc(iso); }

json text(const std::string& v) { return {{"t", "s"}, {"v", v}}; }
json number(int v) { return {{"t", "n"}, {"v", v}}; }
json date(const std::string& v) { return {{"t", "date"}, {"v", v}}; }

const json& sheet(const json& book, const std::string& name) {
    for (const auto& s : book["sheets"])
        if (s["name"] == name) return s;
    FAIL("no sheet " << name);
    static json none;
    return none;
}

}  // namespace

TEST_CASE("the XLSX read back by Python's zipfile and xml: a sheet per survey, frozen header, free text stays text, "
          "timestamps are Helsinki date-times") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    // Winter (UTC+2) and summer (UTC+3).
    db.add("w1", "family", utc("2026-01-15T10:00:00Z"), {{"welcome", {"4"}}, {"visits", {"weekly"}}, {"idea", {kLookalikes[0]}}});
    db.add("s1", "family", utc("2026-07-15T10:00:00Z"), {{"welcome", {"2"}}, {"idea", {kLookalikes[1]}}});
    for (std::size_t i = 2; i < kLookalikes.size(); ++i)
        db.add("t" + std::to_string(i), "family", utc("2026-07-16T08:00:00Z") + static_cast<std::int64_t>(i) * 60'000,
               {{"idea", {kLookalikes[i]}}});
    db.add("c1", "child", utc("2026-03-29T01:30:00Z"), {{"feeling", {"5"}}, {"best", {"play", "music"}}});
    std::filesystem::create_directory(dir / "out");

    ExportOptions o = options_for();
    o.wide_csv = o.long_csv = o.jsonl = o.report = false;
    o.xlsx = true;
    ExportResult r = export_to_folder(db.path(), bundled_surveys(), dir / "out", o);
    REQUIRE(r.ok());
    CHECK(listing(dir / "out") == std::vector<std::string>{"t.xlsx"});  // no .part, no temporary files left

    const json book = json::parse(read_back("xlsx", dir / "out/t.xlsx"));
    REQUIRE(book["sheets"].size() == 2);
    const json& family = sheet(book, "family");
    const json& child = sheet(book, "child");
    CHECK(family["frozen_rows"] == 1);
    CHECK(child["frozen_rows"] == 1);

    const json& h = family["rows"][0];
    REQUIRE(h.size() == 16);
    CHECK(h[0] == text("response_id"));
    CHECK(h[8] == text("started_at (Europe/Helsinki)"));
    CHECK(h[9] == text("finished_at (Europe/Helsinki)"));
    CHECK(h[10] == text("welcome"));
    CHECK(h[15] == text("idea"));
    // Widths fit: the id column is wider than the default, the header's name fits.
    CHECK(family["widths"][8].get<double>() >= 19);
    CHECK(family["widths"][15].get<double>() >= 12);

    const json& rows = family["rows"];
    REQUIRE(rows.size() == 1 + kLookalikes.size());
    // Winter: 10:00 UTC is 12:00 in Helsinki; the answers 1 s apart, finished 1 s after the last.
    const json& w = rows[1];
    CHECK(w[0] == text("w1"));
    CHECK(w[2] == number(1));  // survey_version
    CHECK(w[3] == text("kalliola"));
    CHECK(w[4].is_null());     // no event
    CHECK(w[7] == number(0));  // flagged
    CHECK(w[8] == date("2026-01-15 12:00:00"));
    CHECK(w[9] == date("2026-01-15 12:00:04"));
    CHECK(w[10] == number(4));  // an agree scale's answer is a number
    CHECK(w[12] == text("weekly"));
    CHECK(w[15] == text("0401234567"));
    // Summer: 10:00 UTC is 13:00.
    const json& s = rows[2];
    CHECK(s[8] == date("2026-07-15 13:00:00"));
    CHECK(s[10] == number(2));
    CHECK(s[15] == text("12.3."));
    for (std::size_t i = 2; i < kLookalikes.size(); ++i) {
        INFO(kLookalikes[i]);
        CHECK(rows[i + 1][15] == text(kLookalikes[i]));  // exactly that text: no number, formula or apostrophe
    }

    // The night clocks go forward (01:00 UTC on 29 March): 01:30 UTC is already 04:30 EEST.
    const json& c = child["rows"][1];
    CHECK(c[8] == date("2026-03-29 04:30:00"));
    CHECK(c[10] == number(5));             // a face
    CHECK(c[11] == text("music|play"));    // several choices joined, as in the wide CSV
}

TEST_CASE("kohtaamo-export --format xlsx writes the workbook, and the formats are checked by name") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    db.add("r1", "family", kT0, {{"idea", {"=SUM(A1)"}}});
    std::filesystem::create_directory(dir / "out");
    run(std::string(KOHTAAMO_EXPORT_TOOL) + " -q --db " + shell_quote(db.path()) + " --out " + shell_quote(dir / "out") +
        " --format xlsx --name k");
    const json book = json::parse(read_back("xlsx", dir / "out/k.xlsx"));
    CHECK(sheet(book, "family")["rows"][1].back() == text("=SUM(A1)"));
}
