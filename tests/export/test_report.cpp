// The report: one self-contained HTML file that parses cleanly, reads in fi, sv and en,
// never shows a number or chart over fewer than N answers, and renders in a browser.
#include <catch2/catch.hpp>

#include <regex>

#include <toml++/toml.h>

#include "export_fixtures.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

const std::int64_t kDay = 86'400'000;

// A small meeting point's spring: 40 children over five weeks, 12 parents, a few ideas.
void spring(KioskDb& db) {
    for (int i = 0; i < 40; ++i) {
        const std::string id = "c" + std::to_string(i);
        std::vector<std::string> best = {i % 3 ? "play" : "crafts"};
        if (i % 4 == 0) best.push_back("outdoors");
        db.add(id, "child", kT0 + (i % 5) * 7 * kDay + i * 60'000,
               {{"feeling", {std::to_string(1 + i % 5)}}, {"best", best}, {"age", {i % 2 ? "3-5" : "6-9"}}},
               ResponseStatus::Complete, "kalliola", i % 10 == 0 ? "sv" : "fi");
    }
    for (int i = 0; i < 12; ++i)
        db.add("p" + std::to_string(i), "family", kT0 + 35 * kDay + i * 60'000,
               {{"welcome", {std::to_string(1 + i % 5)}}, {"visits", {"weekly"}},
                {"idea", {"Idea <" + std::to_string(i) + "> & more"}}},
               ResponseStatus::Complete, "kalliola", i < 6 ? "fi-x-selko" : "fi");  // half in plain Finnish
    db.add("a1", "child", kT0 + 2 * kDay, {{"feeling", {"3"}}}, ResponseStatus::Abandoned);
}

std::string report_of(const std::filesystem::path& db, const std::filesystem::path& out, const std::string& lang,
                      int min_group = 5, const ExportFilter& filter = {}) {
    ExportOptions o = options_for();
    o.wide_csv = o.long_csv = o.jsonl = false;
    o.report_language = lang;
    o.min_group = min_group;
    o.filter = filter;
    ExportResult r = export_to_folder(db, bundled_surveys(), out, o);
    REQUIRE(r.ok());
    REQUIRE(r.files.size() == 1);
    return read_file(r.files[0]);
}

}  // namespace

TEST_CASE("the report is well-formed, self-contained HTML in fi, sv and en, with every text from a catalogue") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    spring(db);
    for (const std::string lang : {"fi", "sv", "en"}) {
        INFO(lang);
        const std::string html = report_of(db.path(), dir.path(), lang);
        const auto file = dir / ("t-report-" + lang + ".html");
        // An independent HTML parser finds every tag closed, nothing loaded from elsewhere, no script.
        CHECK(read_back("html", file) == "ok\n");
        // ... and it is well-formed XML too (libxml2).
        int code = -1;
        run("xmllint --noout " + shell_quote(file) + " 2>&1", &code);
        CHECK(code == 0);
        CHECK(html.find("<script") == std::string::npos);
        CHECK(html.find("<link") == std::string::npos);
        CHECK_THAT(html, Catch::Contains("<html lang=\"" + lang + "\">"));
        // No "[key]" placeholder: every heading and label came from a catalogue.
        std::smatch m;
        CHECK_FALSE(std::regex_search(html, m, std::regex(R"(\[[a-z][a-z0-9_]*\])")));
        if (m.size()) FAIL_CHECK("missing text " << m[0]);
    }
    const std::string fi = read_file(dir / "t-report-fi.html");
    CHECK_THAT(fi, Catch::Contains("Miltä tänään tuntui?") && Catch::Contains("Mikä oli parasta?") &&
                       Catch::Contains("🧸 Leikki") && Catch::Contains("Viikoittain") && Catch::Contains("Tosi hyvä"));
    CHECK_THAT(read_file(dir / "t-report-sv.html"), Catch::Contains("Hur kändes det i dag?") && Catch::Contains("Vecka för vecka"));
    const std::string en = read_file(dir / "t-report-en.html");
    CHECK_THAT(en, Catch::Contains("How did today feel?") && Catch::Contains("Week by week") &&
                       Catch::Contains("Time of day") && Catch::Contains("Language of the answer"));
    // The language split names plain Finnish (6 parents) in the report's language.
    CHECK_THAT(en, Catch::Contains("plain Finnish"));
    CHECK_THAT(fi, Catch::Contains("selkosuomi"));
    // Responses 52 complete, 1 abandoned: 98 % completed.
    CHECK_THAT(en, Catch::Contains("<b>52</b>responses") && Catch::Contains("<b>98%</b>completed"));
    // Free text is escaped, sorted (not in time order) and shown: 12 texts, at least 5.
    CHECK_THAT(en, Catch::Contains("<li>Idea &lt;0&gt; &amp; more</li><li>Idea &lt;10&gt; &amp; more</li>"));
}

TEST_CASE("the report catalogues of every language have the same keys") {
    auto keys = [](const std::string& lang) {
        std::vector<std::string> k;
        auto t = toml::parse_file((config_dir() / "lang" / ("report-" + lang + ".toml")).string());
        for (const auto& [key, _] : *t["report"].as_table()) k.emplace_back(key.str());
        return k;
    };
    CHECK(keys("sv") == keys("fi"));
    CHECK(keys("en") == keys("fi"));
}

TEST_CASE("small groups: no number or chart over fewer than min_group answers is shown") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    // Ten children in week 11, two in week 12, three answers at another meeting point.
    for (int i = 0; i < 10; ++i) db.add("w" + std::to_string(i), "child", kT0 + i * 60'000, {{"feeling", {"5"}}});
    for (int i = 0; i < 2; ++i) db.add("x" + std::to_string(i), "child", kT0 + 7 * kDay + i * 60'000, {{"feeling", {"1"}}});
    for (int i = 0; i < 3; ++i)
        db.add("s" + std::to_string(i), "family", kT0 + i * 60'000, {{"welcome", {"2"}}}, ResponseStatus::Complete, "puistola", "sv");

    const std::string all = report_of(db.path(), dir.path(), "en");
    // Week 12 (two answers) is a hatched "fewer than 5", week 11 (ten) is shown.
    CHECK(std::regex_search(all, std::regex(R"(>wk 12/2026</text><rect[^>]*url\(#hatch\)[^>]*/><text[^>]*>fewer than 5<)")));
    CHECK(std::regex_search(all, std::regex(R"(>wk 11/2026</text><rect[^>]*fill="#4575b4")")));
    CHECK_THAT(all, Catch::Contains("n = 10") && Catch::Contains("n = 12"));
    // Three Swedish answers: the count is not printed; the grown-ups' survey shows no chart.
    CHECK(all.find("3 responses") == std::string::npos);
    CHECK_THAT(all, Catch::Contains("fewer than 5 responses") && Catch::Contains(">fewer than 5</text>"));
    CHECK(all.find("It is easy to come here.") == std::string::npos);

    // The small meeting point alone: every figure reads "fewer than 5", no bar is drawn.
    ExportFilter f;
    f.sites = {"puistola"};
    const std::string small = report_of(db.path(), dir.path(), "en", 5, f);
    CHECK_THAT(small, Catch::Contains("<b>fewer than 5</b>responses") && Catch::Contains("<b>fewer than 5</b>completed"));
    for (const char* colour : {"#d73027", "#fc8d59", "#fee090", "#91bfdb", "#4575b4"})
        CHECK(small.find(std::string("fill=\"") + colour) == std::string::npos);
    CHECK(small.find(">3<") == std::string::npos);

    // The threshold is the config's: at 2, the three answers are shown.
    CHECK_THAT(report_of(db.path(), dir.path(), "en", 2, f), Catch::Contains("<b>3</b>responses") && Catch::Contains("n = 3"));
}

TEST_CASE("free text stays out of the report when left out, and few texts are not listed") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    spring(db);
    db.add("q1", "family", kT0, {{"wish", {"Lisää laulua!"}}});
    ExportFilter f;
    f.free_text = false;
    const std::string html = report_of(db.path(), dir.path(), "fi", 5, f);
    CHECK(html.find("Idea") == std::string::npos);
    CHECK(html.find("laulua") == std::string::npos);
    CHECK_THAT(html, Catch::Contains("Vapaat tekstit on jätetty pois"));
    const std::string with = report_of(db.path(), dir.path(), "fi");
    CHECK(with.find("laulua") == std::string::npos);  // one text: fewer than 5
    CHECK_THAT(with, Catch::Contains("Kysymys ”wish” (ei kyselytiedostoissa)</h3>\n<p class=\"n\">alle 5 vastasi</p>"));
    CHECK_THAT(with, Catch::Contains("<li>Idea &lt;0&gt; &amp; more</li>"));
}

namespace {

// Twelve year-clock visits: seven wish outdoor play for June (three of them also music
// play), five wish baking for December (one also story time for March); six will come to
// the summer park's opening, two to the Christmas workshop; five ideas for June and December.
void yearclock_visits(KioskDb& db, const std::string& site = "kalliola") {
    for (int i = 0; i < 12; ++i) {
        std::vector<std::pair<std::string, std::vector<std::string>>> a;
        if (i < 6) a.push_back({"come", {"kesapuisto-2027"}});
        if (i == 7 || i == 8) a.push_back({"come", {"joulupaja-2026"}});
        static const char* ideas[] = {"Uimaretki", "Vesileikit <3", "Eväsretki", "", "", "", "", "Piparkakkutalot", "Joululaulut"};
        if (i < 9 && *ideas[i]) a.push_back({i < 7 ? "idea-06" : "idea-12", {ideas[i]}});
        if (i == 7) a.push_back({"wish-03", {"satutuokio"}});
        if (i < 7) a.push_back({"wish-06", i < 3 ? std::vector<std::string>{"muskari", "ulkoilu"} : std::vector<std::string>{"ulkoilu"}});
        else a.push_back({"wish-12", {"leipominen"}});
        db.add(site + "-v" + std::to_string(i), "yearclock", kT0 + i * 60'000, a, ResponseStatus::Complete, site);
    }
}

// The heat map's cell for (activity, month): its tooltip names them and the count it shows.
std::regex cell(const std::string& label, const std::string& count, const std::string& fill, const std::string& shown) {
    return std::regex("<g><title>" + label + ", " + count + "</title><rect [^>]*fill=\"" + fill + "\"/>" +
                      (shown.empty() ? std::string() : "<text [^>]*>" + shown + "</text>") + "</g>");
}

}  // namespace

TEST_CASE("the year-clock: wishes as a months × activities heat map of counts, \"we'll come\" per event, ideas per month") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    yearclock_visits(db);
    const std::string html = report_of(db.path(), dir.path(), "en");
    CHECK(read_back("html", dir / "t-report-en.html") == "ok\n");
    int code = -1;
    run("xmllint --noout " + shell_quote(dir / "t-report-en.html") + " 2>&1", &code);
    CHECK(code == 0);

    CHECK_THAT(html, Catch::Contains("<h3>Year-clock wishes by month</h3>") && Catch::Contains("12 visits with a wish"));
    const std::string blue = "#[0-9a-f]{6}";
    CHECK(std::regex_search(html, cell("🌳 Outdoor play", "June: 7", blue, "7")));
    CHECK(std::regex_search(html, cell("🧁 Baking", "December: 5", blue, "5")));
    // Fewer than five: a hatched cell reading "<5", never the number.
    CHECK(std::regex_search(html, cell("🎵 Music play", "June: fewer than 5", "url\\(#hatch\\)", "&lt;5")));
    CHECK(std::regex_search(html, cell("📖 Story time", "March: fewer than 5", "url\\(#hatch\\)", "&lt;5")));
    CHECK(std::regex_search(html, cell("🌳 Outdoor play", "January: 0", "#f4f4f4", "")));
    // The most wished cell is the darkest: the scale's blue.
    CHECK(std::regex_search(html, cell("🌳 Outdoor play", "June: 7", "#4575b4", "7")));
    // Every activity of the year-clock has its row, wished for or not.
    for (const char* a : {"🎵 Music play", "🌳 Outdoor play", "✂️ Crafts", "⚽ Movement games", "📖 Story time", "🧁 Baking"})
        CHECK_THAT(html, Catch::Contains(std::string(">") + a + "</text>"));
    // The rows are not shown as questions of their own.
    CHECK(html.find("wish-06") == std::string::npos);
    CHECK(html.find("“come”") == std::string::npos);

    // "We'll come": the summer park's six, the workshop's two as "fewer than 5".
    CHECK_THAT(html, Catch::Contains("“We’ll come!” tapped at 8 visits"));
    CHECK(std::regex_search(html, std::regex(R"(>🎉 The summer park opens · 8 Jun 2027</text><rect[^>]*fill="#91bfdb"/><text[^>]*>6</text>)")));
    CHECK(std::regex_search(html, std::regex(R"(>✂️ Christmas crafts workshop · 28 Nov 2026</text><rect[^>]*url\(#hatch\)[^>]*/><text[^>]*>fewer than 5</text>)")));

    // Ideas by the month they are for, each month's sorted alphabetically.
    CHECK_THAT(html, Catch::Contains("<h3>Families’ own ideas by month</h3>\n<p class=\"n\">5 answered</p>"));
    CHECK_THAT(html, Catch::Contains("<h4>June – ☀️ Summer park</h4>\n<ul class=\"texts\"><li>Eväsretki</li><li>Uimaretki</li><li>Vesileikit &lt;3</li></ul>"));
    CHECK_THAT(html, Catch::Contains("<h4>December – 🎄 Christmas party</h4>\n<ul class=\"texts\"><li>Joululaulut</li><li>Piparkakkutalot</li></ul>"));

    // In Finnish, with the survey file's Finnish names.
    const std::string fi = report_of(db.path(), dir.path(), "fi");
    CHECK(std::regex_search(fi, cell("🌳 Ulkoilu", "Kesäkuu: 7", blue, "7")));
    CHECK_THAT(fi, Catch::Contains("<h3>Vuosikellon toiveet kuukausittain</h3>"));
}

TEST_CASE("the year-clock under small-group protection and without free text") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    yearclock_visits(db);

    // At 8, the seven who wished outdoor play for June are "<8" too, and the five ideas are not listed.
    const std::string strict = report_of(db.path(), dir.path(), "en", 8);
    CHECK(std::regex_search(strict, cell("🌳 Outdoor play", "June: fewer than 8", "url\\(#hatch\\)", "&lt;8")));
    CHECK(std::regex_search(strict, cell("🧁 Baking", "December: fewer than 8", "url\\(#hatch\\)", "&lt;8")));
    CHECK(strict.find(">7</text>") == std::string::npos);
    CHECK_THAT(strict, Catch::Contains("Fewer than 8 texts"));
    CHECK(strict.find("Uimaretki") == std::string::npos);
    CHECK(strict.find(">6</text>") == std::string::npos);  // the summer park's six

    // Without free text: the wishes and "we'll come" are all there, the ideas are not.
    ExportFilter f;
    f.free_text = false;
    const std::string no_text = report_of(db.path(), dir.path(), "en", 5, f);
    CHECK(std::regex_search(no_text, cell("🌳 Outdoor play", "June: 7", "#4575b4", "7")));
    CHECK_THAT(no_text, Catch::Contains("“We’ll come!” tapped at 8 visits"));
    CHECK(no_text.find("own ideas") == std::string::npos);
    CHECK(no_text.find("Uimaretki") == std::string::npos);

    // Fewer than five visits in all: no chart at all.
    TempDir few;
    KioskDb small(few / "k.sqlite");
    for (int i = 0; i < 4; ++i) small.add("v" + std::to_string(i), "yearclock", kT0 + i * 60'000, {{"wish-06", {"ulkoilu"}}});
    const std::string none = report_of(small.path(), few.path(), "en");
    CHECK_THAT(none, Catch::Contains("fewer than 5 responses"));
    CHECK(none.find("Year-clock wishes") == std::string::npos);
}

TEST_CASE("a year-clock without its survey file is still drawn, with the ids as labels") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    yearclock_visits(db);
    ExportOptions o = options_for();
    o.wide_csv = o.long_csv = o.jsonl = false;
    o.report_language = "en";
    ExportResult r = export_to_folder(db.path(), {}, dir.path(), o);
    REQUIRE(r.ok());
    const std::string html = read_file(r.files[0]);
    CHECK(std::regex_search(html, cell("ulkoilu", "June: 7", "#4575b4", "7")));
    CHECK(std::regex_search(html, cell("muskari", "June: fewer than 5", "url\\(#hatch\\)", "&lt;5")));
    CHECK(std::regex_search(html, std::regex(R"(>kesapuisto-2027</text><rect[^>]*/><text[^>]*>6</text>)")));
    CHECK_THAT(html, Catch::Contains("<h4>June</h4>\n<ul class=\"texts\"><li>Eväsretki</li>"));
    CHECK(html.find("“come”") == std::string::npos);  // not also a question of its own
}

TEST_CASE("headless Chromium renders the report to a PNG") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    spring(db);
    report_of(db.path(), dir.path(), "fi");
    const auto png = dir / "report.png";
    run("chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
        " --disable-component-update --disable-sync --user-data-dir=" + shell_quote(dir / "profile") +
        " --screenshot=" + shell_quote(png) + " --window-size=1200,2400 " + shell_quote("file://" + (dir / "t-report-fi.html").string()) +
        " >/dev/null 2>&1");
    REQUIRE(std::filesystem::exists(png));
    const std::string bytes = read_file(png);
    REQUIRE(bytes.size() > 24);
    CHECK(bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n");
    auto be32 = [&](std::size_t at) {
        return (std::uint32_t(std::uint8_t(bytes[at])) << 24) | (std::uint32_t(std::uint8_t(bytes[at + 1])) << 16) |
               (std::uint32_t(std::uint8_t(bytes[at + 2])) << 8) | std::uint32_t(std::uint8_t(bytes[at + 3]));
    };
    CHECK(be32(16) == 1200);
    CHECK(be32(20) == 2400);
    CHECK(bytes.size() > 50'000);  // charts and text, not a blank page
}
