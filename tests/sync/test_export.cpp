// The collector's exports, across sites: GET /v1/export with an export token and the
// `kohtaamo-collector export` command, on the real collector binary over loopback, with
// answers delivered by the real uploader (kohtaamo-sync) and by protocol batches. What a
// coordinator gets back is read by independent readers (Python's csv module) and compared
// with the collector's own database.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "clock.hpp"
#include "local_time.hpp"
#include "sync_support.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

// Local dates and half-years are Helsinki's in every test.
const bool kHelsinki = [] {
    ::setenv("TZ", "Europe/Helsinki", 1);
    ::tzset();
    return true;
}();

struct Tokens {
    std::string kiosk1 = new_token(), kiosk2 = new_token(), coordinator = new_token(), retired = new_token();
};

std::string config_for(const Tokens& t, const TestDatabase& database) {
    return "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = true\n" + database.toml() +
           "[export]\nsurveys = \"" + (config_dir() / "surveys").string() + "\"\ntexts = \"" +
           (config_dir() / "lang").string() + "\"\nwork_dir = \"" + database.dir().string() + "\"\n"
           "[[device]]\nname = \"k1\"\ntoken_hash = \"" + hash_token(t.kiosk1) + "\"\n"
           "[[device]]\nname = \"k2\"\ntoken_hash = \"" + hash_token(t.kiosk2) + "\"\n"
           "[[export_token]]\nname = \"coordinator\"\ntoken_hash = \"" + hash_token(t.coordinator) + "\"\n"
           "[[export_token]]\nname = \"retired\"\ntoken_hash = \"" + hash_token(t.retired) + "\"\nenabled = false\n";
}

std::vector<std::string> bearer(const std::string& token) { return {"Authorization: Bearer " + token}; }
// A kiosk's POST /v1/batches headers.
std::vector<std::string> batch_headers(const std::string& token) {
    return {"Authorization: Bearer " + token, "Content-Type: application/json", "Content-Encoding: gzip"};
}

// Sends a kiosk database to the collector with the real one-shot uploader.
void upload(const TempDir& dir, const std::string& url, const std::string& token, const KioskDb& kiosk) {
    const auto config = dir / ("kiosk-" + kiosk.device_id + ".toml");
    write_file(config, "[sync]\nendpoint = \"" + url + "\"\ntoken = \"" + token + "\"\n");
    RunResult r = run_program({KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", kiosk.path.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
}

// A CSV file as Python's csv module reads it.
Rows read_csv(const std::string& text, const TempDir& dir) {
    const auto file = dir / "read.csv";
    write_file(file, text);
    RunResult r = run_program({KOHTAAMO_PYTHON3, (source_dir() / "tests/export/read_back.py").string(), "csv",
                               file.string(), ","});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["rows"].get<Rows>();
}

const char* kLongSql =
    "SELECT r.id, r.survey_id, r.survey_version, r.site, r.event, r.device_id, r.language, r.status, r.flagged,"
    " r.started_at, coalesce(r.finished_at, ''), a.question_id, a.value, a.answered_at"
    " FROM responses r JOIN answers a ON a.response_id = r.id";
const char* kOrder = " ORDER BY r.started_at, r.id, a.question_id, a.value";
const std::vector<std::string> kLongHeader = {"response_id", "survey_id", "survey_version", "site", "event",
                                              "device_id", "language", "status", "flagged", "started_at",
                                              "finished_at", "question_id", "value", "answered_at"};

Rows with_header(const Rows& rows) {
    Rows all = {kLongHeader};
    all.insert(all.end(), rows.begin(), rows.end());
    return all;
}

// Two meeting points' kiosks, uploaded by the real uploader.
struct TwoSites {
    TempDir dir;
    Tokens tokens;
    KioskDb one = make_kiosk_db(dir / "k1.sqlite", 120, 1);  // site kohtaamispaikka-1
    KioskDb two = make_kiosk_db(dir / "k2.sqlite", 80, 2);   // site kohtaamispaikka-2
    TestDatabase db{dir.path()};
    CollectorProcess collector{dir.path(), config_for(tokens, db)};
    TwoSites() {
        upload(dir, collector.url(), tokens.kiosk1, one);
        upload(dir, collector.url(), tokens.kiosk2, two);
    }
    HttpReply get_export(const std::string& query, const std::string& token) const {
        return get(collector.url() + kExportPath + "?" + query, bearer(token));
    }
};

}  // namespace

TEST_CASE("export: over HTTP the export token gets exactly the collector's rows, a kiosk's token gets 401",
          "[export-http][db]") {
    TwoSites s;
    const std::string everything = "format=long&include-abandoned=1&include-flagged=1";
    HttpReply r = s.get_export(everything, s.tokens.coordinator);
    INFO(r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/csv; charset=utf-8");
    CHECK(std::regex_match(r.header("content-disposition"),
                           std::regex(R"(attachment; filename="kohtaamo-\d{4}-\d\d-\d\d-long\.csv"; filename\*=UTF-8''kohtaamo-\d{4}-\d\d-\d\d-long\.csv)")));
    // Every finished response of both kiosks, every answer row, byte for byte as stored.
    const Rows rows = read_csv(r.body, s.dir);
    CHECK(rows == with_header(s.db.query(std::string(kLongSql) + kOrder)));
    CHECK(rows.size() == static_cast<std::size_t>(s.one.answers + s.two.answers) + 1);
    CHECK(r.header("x-kohtaamo-responses") == std::to_string(s.one.finished + s.two.finished));
    // The default: complete responses the mischief rule did not flag.
    r = s.get_export("format=long", s.tokens.coordinator);
    REQUIRE(r.status == 200);
    CHECK(read_csv(r.body, s.dir) ==
          with_header(s.db.query(std::string(kLongSql) + " WHERE r.status = 'complete' AND r.flagged = 0" + kOrder)));

    // A kiosk's upload token reads nothing; nor does no token, a wrong one, or a disabled one.
    for (const auto& [what, headers, status] :
         std::vector<std::tuple<std::string, std::vector<std::string>, long>>{
             {"a kiosk's token", bearer(s.tokens.kiosk1), 401},
             {"the other kiosk's token", bearer(s.tokens.kiosk2), 401},
             {"no token", {}, 401},
             {"a wrong token", bearer(new_token()), 401},
             {"not a bearer token", {"Authorization: Basic " + s.tokens.coordinator}, 401},
             {"a disabled export token", bearer(s.tokens.retired), 403}}) {
        INFO(what);
        r = get(s.collector.url() + kExportPath + "?" + everything, headers);
        CHECK(r.status == status);
        CHECK(r.header("content-type") == "application/json");
        auto [code, message] = decode_error(r.body);
        CHECK(code == (status == 401 ? "unauthorized" : "forbidden"));
        CHECK_THAT(message, Catch::Contains("export token"));
        CHECK(r.body.find("kohtaamispaikka") == std::string::npos);
    }
    // ... and an export token delivers nothing: it is no kiosk's.
    r = post(s.collector.url() + kBatchesPath, batch_headers(s.tokens.coordinator), gzip(encode_batch(make_batch(1, 5))));
    CHECK(r.status == 401);

    // Nothing is left behind next to the database, and no token reached the log.
    for (const auto& e : std::filesystem::directory_iterator(s.dir.path()))
        CHECK(e.path().filename().string().rfind(".kohtaamo-export-", 0) == std::string::npos);
    const std::string log = s.collector.log();
    CHECK_THAT(log, Catch::Contains("GET /v1/export exporter=coordinator 200"));
    CHECK_THAT(log, Catch::Contains("GET /v1/export exporter=- 401"));
    for (const auto& t : {s.tokens.coordinator, s.tokens.kiosk1, s.tokens.retired}) CHECK(log.find(t) == std::string::npos);
}

TEST_CASE("export: format=xlsx over HTTP is a workbook whose free text stays text and whose times are Helsinki's",
          "[export-http][db]") {
    TempDir dir;
    Tokens tokens;
    TestDatabase db(dir.path());
    CollectorProcess collector(dir.path(), config_for(tokens, db));
    // Free text Excel would turn into a number, a date or a formula, or show with an apostrophe.
    const std::vector<std::string> lookalikes = {"0401234567", "12.3.", "1e5", "=SUM(A1)", "-5 astetta"};
    Batch b = make_batch(static_cast<int>(lookalikes.size()) + 1, 3);
    for (std::size_t i = 0; i < lookalikes.size(); ++i) {
        Response& r = b.responses[i];
        // The first in winter (UTC+2), the rest in summer (UTC+3), a minute apart.
        const std::int64_t at = i == 0 ? *parse_iso8601_utc("2026-01-15T10:00:00Z")
                                       : *parse_iso8601_utc("2026-07-15T10:00:00Z") + static_cast<std::int64_t>(i) * 60'000;
        r.survey_id = "family";
        r.started_at = iso8601_utc(at);
        r.finished_at = iso8601_utc(at + 30'000);
        r.answers = {{"welcome", "4", r.started_at}, {"idea", lookalikes[i], r.started_at}};
    }
    REQUIRE(post(collector.url() + kBatchesPath, batch_headers(tokens.kiosk1), gzip(encode_batch(b))).status == 200);

    HttpReply r = get(collector.url() + kExportPath + "?format=xlsx&name=vienti", bearer(tokens.coordinator));
    INFO(r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    CHECK_THAT(r.header("content-disposition"), Catch::Contains("filename=\"vienti.xlsx\""));
    write_file(dir / "got.xlsx", r.body);
    RunResult read = run_program({KOHTAAMO_PYTHON3, (source_dir() / "tests/export/read_back.py").string(), "xlsx",
                                  (dir / "got.xlsx").string()});
    REQUIRE(read.exit_code == 0);
    const nlohmann::json book = nlohmann::json::parse(read.out);
    REQUIRE(book["sheets"].size() == 2);  // a sheet per survey: child (make_batch's last response) and family
    std::map<std::string, nlohmann::json> sheets;
    for (const auto& sh : book["sheets"]) sheets[sh["name"].get<std::string>()] = sh;
    REQUIRE(sheets.count("family"));
    REQUIRE(sheets.count("child"));
    const nlohmann::json& family = sheets["family"];
    CHECK(family["frozen_rows"] == 1);
    CHECK(sheets["child"]["frozen_rows"] == 1);
    const nlohmann::json& rows = family["rows"];
    REQUIRE(rows.size() == lookalikes.size() + 1);
    // The collector's rows carry the device: response_id, survey_id, survey_version, site,
    // event, device_id, language, status, flagged, started_at, finished_at, then the questions.
    CHECK(rows[0][9] == nlohmann::json({{"t", "s"}, {"v", "started_at (Europe/Helsinki)"}}));
    const auto idea = std::find(rows[0].begin(), rows[0].end(), nlohmann::json({{"t", "s"}, {"v", "idea"}})) - rows[0].begin();
    const auto welcome = std::find(rows[0].begin(), rows[0].end(), nlohmann::json({{"t", "s"}, {"v", "welcome"}})) - rows[0].begin();
    REQUIRE(idea < static_cast<long>(rows[0].size()));
    REQUIRE(welcome < static_cast<long>(rows[0].size()));
    CHECK(rows[1][9] == nlohmann::json({{"t", "date"}, {"v", "2026-01-15 12:00:00"}}));
    CHECK(rows[1][10] == nlohmann::json({{"t", "date"}, {"v", "2026-01-15 12:00:30"}}));
    CHECK(rows[2][9] == nlohmann::json({{"t", "date"}, {"v", "2026-07-15 13:01:00"}}));
    for (std::size_t i = 0; i < lookalikes.size(); ++i) {
        INFO(lookalikes[i]);
        CHECK(rows[i + 1][idea] == nlohmann::json({{"t", "s"}, {"v", lookalikes[i]}}));
        CHECK(rows[i + 1][welcome] == nlohmann::json({{"t", "n"}, {"v", 4}}));  // an agree scale: a number
        CHECK(rows[i + 1][5] == nlohmann::json({{"t", "s"}, {"v", b.device_id}}));
    }
}

TEST_CASE("export: over HTTP a bad parameter is 400 naming it", "[export-http][db]") {
    TempDir dir;
    Tokens tokens;
    TestDatabase db(dir.path());
    CollectorProcess collector(dir.path(), config_for(tokens, db));
    struct Case {
        std::string query, parameter;
    };
    const std::vector<Case> cases = {
        {"", "format"},
        {"format=xls", "format"},
        {"format=long,jsonl", "format"},
        {"format=long&format=jsonl", "format"},
        {"format=wide", "survey"},
        {"format=wide&survey=child&survey=family", "survey"},
        {"format=long&half-year=2026H5", "half-year"},
        {"format=long&half-year=2026H1&from=2026-01-01", "half-year"},
        {"format=long&from=2026-02-30", "from"},
        {"format=long&to=yesterday", "to"},
        {"format=long&from=2026-05-01&to=2026-04-01", "to"},
        {"format=long&halfyear=2026H1", "halfyear"},
        {"format=long&include-abandoned=maybe", "include-abandoned"},
        {"format=report&lang=de", "lang"},
        {"format=report&lang=..%2F..%2Fetc", "lang"},
        {"format=report&min-group=few", "min-group"},
        {"format=long&site=", "site"},
        {"format=long&name=..%2Fescape", "name"},
    };
    for (const auto& c : cases) {
        INFO("?" << c.query);
        HttpReply r = get(collector.url() + kExportPath + "?" + c.query, bearer(tokens.coordinator));
        CHECK(r.status == 400);
        auto [code, message] = decode_error(r.body);
        CHECK(code == "invalid_parameter");
        CHECK_THAT(message, Catch::StartsWith(c.parameter + ": "));
    }
    // Still serving, and an empty period is a header alone.
    HttpReply r = get(collector.url() + kExportPath + "?format=long&half-year=2026H1", bearer(tokens.coordinator));
    CHECK(r.status == 200);
    CHECK(read_csv(r.body, dir) == Rows{kLongHeader});
    CHECK(get(collector.url() + kHealthPath).status == 200);
}

TEST_CASE("export: one site or two, by HTTP and by command, give the same files", "[export-http][db]") {
    TwoSites s;
    auto ids_in = [&](const Rows& rows) {
        std::set<std::string> sites;
        for (std::size_t i = 1; i < rows.size(); ++i) sites.insert(rows[i][3]);
        return sites;
    };
    HttpReply one = s.get_export("format=long&site=kohtaamispaikka-1", s.tokens.coordinator);
    REQUIRE(one.status == 200);
    Rows rows = read_csv(one.body, s.dir);
    CHECK(ids_in(rows) == std::set<std::string>{"kohtaamispaikka-1"});
    CHECK(rows == with_header(s.db.query(std::string(kLongSql) +
                                              " WHERE r.status = 'complete' AND r.flagged = 0 AND r.site = 'kohtaamispaikka-1'" +
                                              kOrder)));
    HttpReply both = s.get_export("format=long&site=kohtaamispaikka-1&site=kohtaamispaikka-2", s.tokens.coordinator);
    REQUIRE(both.status == 200);
    CHECK(ids_in(read_csv(both.body, s.dir)) == std::set<std::string>{"kohtaamispaikka-1", "kohtaamispaikka-2"});
    CHECK(both.body == s.get_export("format=long", s.tokens.coordinator).body);

    // The command writes the same bytes as the endpoint, for the same options.
    const auto out = s.dir / "out";
    std::filesystem::create_directory(out);
    RunResult cmd = s.collector.run({"export", "--out", out.string(), "--format", "long,jsonl", "--site",
                                     "kohtaamispaikka-1", "--name", "k"});
    INFO(cmd.err);
    REQUIRE(cmd.exit_code == 0);
    CHECK_THAT(cmd.out, Catch::Contains(std::to_string(rows.size() - 1) + " answers"));
    CHECK(read_file(out / "k-long.csv") == one.body);
    HttpReply jsonl = s.get_export("format=jsonl&site=kohtaamispaikka-1&name=k", s.tokens.coordinator);
    REQUIRE(jsonl.status == 200);
    CHECK(jsonl.header("content-type") == "application/x-ndjson");
    CHECK_THAT(jsonl.header("content-disposition"), Catch::StartsWith("attachment; filename=\"k.jsonl\""));
    CHECK(read_file(out / "k.jsonl") == jsonl.body);
    // The command's mistakes name the option, as kohtaamo-export's do.
    cmd = s.collector.run({"export", "--out", out.string(), "--half-year", "2026H5"});
    CHECK(cmd.exit_code == 2);
    CHECK_THAT(cmd.err, Catch::Contains("--half-year: expected e.g. 2026H1"));

    // A wide file is one survey's, with its questions as columns (the survey file's first).
    HttpReply wide = s.get_export("format=wide&survey=child&excel=1", s.tokens.coordinator);
    REQUIRE(wide.status == 200);
    CHECK(wide.header("content-type") == "text/csv; charset=utf-8");
    CHECK_THAT(wide.body, Catch::StartsWith("\xEF\xBB\xBFresponse_id;survey_id;survey_version;site;event;device_id;"
                                            "language;status;flagged;started_at;finished_at;feeling;best;age;q1;"));
}

namespace {

// A year-clock visit as the kiosk would send it.
Response visit(const std::string& site, std::int64_t at_ms,
               const std::vector<std::pair<std::string, std::vector<std::string>>>& answers) {
    Response r;
    r.id = new_uuid();
    r.survey_id = "yearclock";
    r.survey_version = 1;
    r.language = "fi";
    r.status = "complete";
    r.started_at = iso8601_utc(at_ms);
    r.finished_at = iso8601_utc(at_ms + 40'000);
    r.site = site;
    for (const auto& [q, values] : answers)
        for (const auto& v : values) r.answers.push_back({q, v, iso8601_utc(at_ms + 10'000)});
    return r;
}

}  // namespace

TEST_CASE("export: the report over HTTP draws the year-clock's wishes across sites, protecting small counts",
          "[export-http][db]") {
    TempDir dir;
    Tokens tokens;
    TestDatabase db(dir.path());
    CollectorProcess collector(dir.path(), config_for(tokens, db));
    // Six families at Kalliola: four wish outdoor play for June, two music play for July.
    // Three at Puistola wish outdoor play for June, say they will come to the summer
    // park's opening, and each has an idea.
    const std::int64_t t0 = *local_midnight("2026-03-10") + 12 * 3'600'000LL;
    using Answers = std::vector<std::pair<std::string, std::vector<std::string>>>;
    for (const auto& [site, n, token] : {std::tuple<std::string, int, std::string>{"kalliola", 6, tokens.kiosk1},
                                         {"puistola", 3, tokens.kiosk2}}) {
        Batch b;
        b.batch_id = new_uuid();
        b.device_id = new_uuid();
        for (int i = 0; i < n; ++i)
            b.responses.push_back(visit(site, t0 + i * 60'000,
                                        site == "puistola" ? Answers{{"wish-06", {"ulkoilu"}},
                                                                     {"come", {"kesapuisto-2027"}},
                                                                     {"idea-06", {"Vesileikit " + std::to_string(i)}}}
                                        : i < 4            ? Answers{{"wish-06", {"ulkoilu"}}}
                                                           : Answers{{"wish-07", {"muskari"}}}));
        HttpReply r = post(collector.url() + kBatchesPath, batch_headers(token), gzip(encode_batch(b)));
        REQUIRE(r.status == 200);
    }
    auto report = [&](const std::string& query) {
        HttpReply r = get(collector.url() + kExportPath + "?format=report&lang=en&" + query, bearer(tokens.coordinator));
        REQUIRE(r.status == 200);
        CHECK(r.header("content-type") == "text/html; charset=utf-8");
        return r.body;
    };
    // Every site: seven, shown, with the activity's name from the survey file.
    const std::string all = report("half-year=2026H1");
    CHECK_THAT(all, Catch::Contains("<g><title>🌳 Outdoor play, June: 7</title>"));
    CHECK_THAT(all, Catch::Contains(">7</text></g>"));
    // One site: four, under the threshold of five: "<5", never the number.
    const std::string kalliola = report("site=kalliola");
    CHECK_THAT(kalliola, Catch::Contains("<g><title>🌳 Outdoor play, June: fewer than 5</title>"));
    CHECK(kalliola.find(">4</text>") == std::string::npos);
    CHECK_THAT(kalliola, Catch::Contains("Meeting points: <b>kalliola</b>"));
    // A lower threshold asked for shows Puistola's three, and their "we'll come".
    const std::string puistola = report("site=puistola&min-group=3");
    CHECK_THAT(puistola, Catch::Contains("<g><title>🌳 Outdoor play, June: 3</title>"));
    CHECK_THAT(puistola, Catch::Contains("“We’ll come!” tapped at 3 visits"));
    CHECK_THAT(puistola, Catch::Contains("<li>Vesileikit 0</li>"));
    // Without free text the ideas stay on the collector; the wishes come out.
    const std::string no_text = report("site=puistola&min-group=3&no-free-text=1");
    CHECK(no_text.find("Vesileikit") == std::string::npos);
    CHECK_THAT(no_text, Catch::Contains("<g><title>🌳 Outdoor play, June: 3</title>"));
    HttpReply csv = get(collector.url() + kExportPath + "?format=long&no-free-text=1", bearer(tokens.coordinator));
    REQUIRE(csv.status == 200);
    CHECK(csv.header("x-kohtaamo-withheld") == "3");
    CHECK(csv.body.find("idea-06") == std::string::npos);
    CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 1 + 9 + 3);  // header, 9 wishes, 3 "come"
}

TEST_CASE("export: kiosks keep uploading while exports run", "[export-http][db]") {
    TempDir dir;
    Tokens tokens;
    TestDatabase db(dir.path());
    CollectorProcess collector(dir.path(), config_for(tokens, db));
    const std::string url = collector.url();
    for (int i = 0; i < 5; ++i)
        REQUIRE(post(url + kBatchesPath, batch_headers(tokens.kiosk1), gzip(encode_batch(make_batch(1000, 100 + i)))).status == 200);
    std::atomic<bool> uploading{true};
    std::atomic<int> exports{0}, failed{0};
    std::thread exporter([&] {
        while (uploading) {
            HttpReply r = get(url + kExportPath + "?format=long", bearer(tokens.coordinator));
            if (r.status == 200) ++exports;
            else ++failed;
        }
    });
    for (int i = 0; i < 20; ++i) {
        HttpReply r = post(url + kBatchesPath, batch_headers(tokens.kiosk2), gzip(encode_batch(make_batch(50, 200 + i))));
        CHECK(r.status == 200);
    }
    uploading = false;
    exporter.join();
    CHECK(exports > 0);
    CHECK(failed == 0);
    // The last export holds every response stored by then: 5 × 1000 + 20 × 50, 3 rows each.
    HttpReply r = get(url + kExportPath + "?format=long", bearer(tokens.coordinator));
    REQUIRE(r.status == 200);
    CHECK(r.header("x-kohtaamo-responses") == "6000");
    CHECK(r.header("x-kohtaamo-answers") == "18000");
}
