// Versions of surveys live on (issue #10, item 4): a response records the hash of the
// survey definition it was answered with, the kiosk keeps the definition and sends it to
// the collector once (PUT /v1/surveys/<hash>), and every export, on the kiosk and from
// the collector, uses the texts the answers were given with: a question dropped in a
// later version still shows, with its own words, for the answers given to it.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "export.hpp"
#include "http_client.hpp"
#include "protocol.hpp"
#include "publish.hpp"
#include "storage.hpp"
#include "store.hpp"
#include "survey.hpp"
#include "sync_support.hpp"
#include "test_support.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;
namespace fs = std::filesystem;

namespace {

const bool kHelsinki = [] {
    ::setenv("TZ", "Europe/Helsinki", 1);
    ::tzset();
    return true;
}();

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_all(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// Version 1 asks how it felt and what was best; version 2 asks how it felt today (a new
// text for the same question) and whether the family comes again, and no longer what was best.
const char* kVisitV1 = R"(id = "visit"
version = 1
icon = "🙂"
title = { fi = "Käynti", en = "Visit" }

[[questions]]
id = "feeling"
kind = "smiley"
faces = 3
text = { fi = "Miltä tuntui?", en = "How was it?" }

[[questions]]
id = "best"
kind = "choice"
text = { fi = "Mikä oli parasta?", en = "What was best?" }

  [[questions.choices]]
  id = "swing"
  text = { fi = "Keinu", en = "Swing" }

  [[questions.choices]]
  id = "books"
  text = { fi = "Kirjat", en = "Books" }
)";

const char* kVisitV2 = R"(id = "visit"
version = 2
icon = "🙂"
title = { fi = "Käynti", en = "Visit" }

[[questions]]
id = "feeling"
kind = "smiley"
faces = 3
text = { fi = "Miltä tänään tuntui?", en = "How was today?" }

[[questions]]
id = "again"
kind = "choice"
text = { fi = "Tuletko uudestaan?", en = "Will you come again?" }

  [[questions.choices]]
  id = "yes"
  text = { fi = "Kyllä", en = "Yes" }

  [[questions.choices]]
  id = "no"
  text = { fi = "En", en = "No" }
)";

// A kiosk database with `n` finished responses to each version, made through the real Store
// with the definitions the kiosk loaded from its files.
void answer(const fs::path& db, const Survey& v1, const Survey& v2, int n) {
    const std::int64_t t0 = *parse_iso8601_utc("2026-10-05T09:00:00Z");
    Store store(db, t0);
    std::int64_t t = t0;
    for (int i = 0; i < n; ++i) {
        ResponseHeader h{new_uuid(), "visit", 1, "fi", "kirjasto", "", t, v1.hash, &v1.definition};
        store.save_answer(h, "feeling", {"3"}, t + 1000);
        store.save_answer(h, "best", {i % 3 == 0 ? "books" : "swing"}, t + 2000);
        store.finish(h.id, ResponseStatus::Complete, t + 3000);
        t += 60'000;
    }
    for (int i = 0; i < n; ++i) {
        ResponseHeader h{new_uuid(), "visit", 2, "fi", "kirjasto", "", t, v2.hash, &v2.definition};
        store.save_answer(h, "feeling", {"2"}, t + 1000);
        store.save_answer(h, "again", {"yes"}, t + 2000);
        store.finish(h.id, ResponseStatus::Complete, t + 3000);
        t += 60'000;
    }
}

// What a coordinator reads in the report over both versions' answers.
void check_report(const std::string& html) {
    INFO(html.substr(0, 20000));
    // The question asked in both: the newest text as its heading, the old one named too.
    CHECK_THAT(html, Catch::Contains("Miltä tänään tuntui?"));
    CHECK_THAT(html, Catch::Contains("Kysytty versioissa 1, 2"));
    CHECK_THAT(html, Catch::Contains("Versiossa 1: ”Miltä tuntui?”"));
    // Dropped in version 2: still there for version 1's answers, in version 1's words.
    CHECK_THAT(html, Catch::Contains("Mikä oli parasta?"));
    CHECK_THAT(html, Catch::Contains("Keinu"));
    CHECK_THAT(html, Catch::Contains("Kirjat"));
    CHECK_THAT(html, Catch::Contains("Kysytty versioissa 1<"));
    CHECK_THAT(html, !Catch::Contains("Kysymys ”best”"));  // never "not in the survey files"
    // New in version 2.
    CHECK_THAT(html, Catch::Contains("Tuletko uudestaan?"));
    CHECK_THAT(html, Catch::Contains("Kyllä"));
}

}  // namespace

TEST_CASE("Versions: a response keeps the hash and text of the survey it was answered with; the kiosk's own report "
          "names both versions' questions",
          "[versions]") {
    TempDir dir;
    write_all(dir / "v1" / "visit.toml", kVisitV1);
    write_all(dir / "v2" / "visit.toml", kVisitV2);
    const Survey v1 = load_survey(dir / "v1" / "visit.toml", {"fi", "en"});
    const Survey v2 = load_survey(dir / "v2" / "visit.toml", {"fi", "en"});
    CHECK(v1.hash == sha256_hex(kVisitV1));
    CHECK(v1.hash != v2.hash);
    const fs::path db = dir / "data" / "kohtaamo.sqlite";
    answer(db, v1, v2, 6);
    CHECK(count(db, "SELECT count(*) FROM responses WHERE survey_version = 1 AND survey_hash = '" + v1.hash + "'") == 6);
    CHECK(count(db, "SELECT count(*) FROM responses WHERE survey_version = 2 AND survey_hash = '" + v2.hash + "'") == 6);
    CHECK(count(db, "SELECT count(*) FROM survey_definitions") == 2);
    CHECK(query(db, "SELECT definition FROM survey_definitions WHERE survey_version = 1").at(0).at(0) == kVisitV1);

    // The kiosk now has version 2 only in its files; its export still knows version 1.
    fs::create_directories(dir / "out");
    ExportOptions o;
    o.wide_csv = true;
    o.long_csv = false;
    o.jsonl = false;
    o.report = true;
    o.min_group = 1;
    o.name = "k";
    o.now_ms = *parse_iso8601_utc("2026-11-01T12:00:00Z");
    o.texts_dir = config_dir() / "lang";
    const ExportResult r = export_to_folder(db, {v2}, dir / "out", o);
    INFO(r.message);
    REQUIRE(r.ok());
    check_report(read_all(dir / "out" / "k-report-fi.html"));
    // The wide file: version 2's questions, then the one version 1 had.
    const std::string wide = read_all(dir / "out" / "k-wide-visit.csv");
    const std::string header = wide.substr(0, wide.find("\r\n"));
    CHECK_THAT(header, Catch::EndsWith(",feeling,again,best"));
    CHECK_THAT(wide, Catch::Contains(",3,,swing\r\n"));
    CHECK_THAT(wide, Catch::Contains(",2,yes,\r\n"));
}

TEST_CASE("Versions: the kiosk sends each definition once, the collector keeps it, and its report over v1 and v2 "
          "answers names both versions' questions",
          "[versions][db]") {
    TempDir dir;
    write_all(dir / "v1" / "visit.toml", kVisitV1);
    write_all(dir / "v2" / "visit.toml", kVisitV2);
    const Survey v1 = load_survey(dir / "v1" / "visit.toml", {"fi", "en"});
    const Survey v2 = load_survey(dir / "v2" / "visit.toml", {"fi", "en"});
    const fs::path kiosk_db = dir / "data" / "kohtaamo.sqlite";
    answer(kiosk_db, v1, v2, 6);

    const std::string device = new_token(), exporter = new_token();
    TestDatabase database(dir / "collector");
    CollectorProcess collector(
        dir / "collector",
        "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = true\n" + database.toml() + "[export]\nsurveys = \"" +
            (dir / "v2").string() + "\"\ntexts = \"" + (config_dir() / "lang").string() + "\"\nwork_dir = \"" +
            database.dir().string() + "\"\n[[device]]\nname = \"k1\"\ntoken_hash = \"" + hash_token(device) +
            "\"\n[[export_token]]\nname = \"coordinator\"\ntoken_hash = \"" + hash_token(exporter) + "\"\n");
    const fs::path sync_toml = dir / "sync.toml";
    write_all(sync_toml, "[sync]\nendpoint = \"" + collector.url() + "\"\ntoken = \"" + device + "\"\n");
    RunResult up = run_program({KOHTAAMO_SYNC_BIN, "--config", sync_toml.string(), "--database", kiosk_db.string()});
    INFO(up.out << up.err << collector.log());
    REQUIRE(up.exit_code == 0);
    // Each definition went once, before the batches, and is acknowledged in the kiosk.
    const std::string log = collector.log();
    CHECK(count(kiosk_db, "SELECT count(*) FROM survey_definitions WHERE sent_at IS NOT NULL") == 2);
    CHECK(count(kiosk_db, "SELECT count(*) FROM responses WHERE synced_at IS NULL") == 0);
    std::size_t puts = 0;
    for (std::size_t at = 0; (at = log.find("PUT /v1/surveys/", at)) != std::string::npos; ++at) ++puts;
    CHECK(puts == 2);
    CHECK(log.find("PUT /v1/surveys/") < log.find("POST /v1/batches"));
    CHECK(database.count("SELECT count(*) FROM survey_definitions") == 2);
    CHECK(database.query("SELECT definition FROM survey_definitions WHERE hash = '" + v1.hash + "'").at(0).at(0) ==
          kVisitV1);
    CHECK(database.count("SELECT count(*) FROM responses WHERE survey_hash = '" + v1.hash + "' AND survey_version = 1") == 6);
    CHECK(database.count("SELECT count(*) FROM responses WHERE survey_hash = '" + v2.hash + "' AND survey_version = 2") == 6);
    // A second run sends no definition again.
    RunResult again = run_program({KOHTAAMO_SYNC_BIN, "--config", sync_toml.string(), "--database", kiosk_db.string()});
    CHECK(again.exit_code == 0);
    std::size_t puts_after = 0;
    const std::string log2 = collector.log();
    for (std::size_t at = 0; (at = log2.find("PUT /v1/surveys/", at)) != std::string::npos; ++at) ++puts_after;
    CHECK(puts_after == 2);

    // The collector's files name only version 2; its report over both uses each one's texts.
    const HttpReply report = get(collector.url() + "/v1/export?format=report&lang=fi&min-group=1&name=c",
                                 {"Authorization: Bearer " + exporter});
    INFO(report.body.substr(0, 2000));
    REQUIRE(report.status == 200);
    check_report(report.body);
    const HttpReply wide = get(collector.url() + "/v1/export?format=wide&survey=visit&name=c",
                               {"Authorization: Bearer " + exporter});
    REQUIRE(wide.status == 200);
    CHECK_THAT(wide.body.substr(0, wide.body.find("\r\n")), Catch::EndsWith(",feeling,again,best"));
}

TEST_CASE("Versions: PUT /v1/surveys/<hash> keeps a definition once and refuses a wrong one with a 4xx naming why",
          "[versions][db]") {
    TempDir dir;
    TestCollector collector(dir / "collector");
    const SyncConfig config = fast_config(collector.url(), collector.token(0));
    const std::atomic<bool> stop{false};
    HttpClient http(config, &stop);
    const std::vector<std::string> auth = {"Authorization: Bearer " + collector.token(0), "Content-Type: application/toml"};
    const std::string good = kVisitV1, hash = sha256_hex(good);
    auto put = [&](const std::string& path_hash, const std::string& body,
                   const std::vector<std::string>& headers) { return http.put(collector.url() + "/v1/surveys/" + path_hash, headers, body); };
    auto error_of = [](const HttpResult& r) { return decode_error(r.body); };

    HttpResult r = put(hash, good, auth);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["hash"] == hash);
    CHECK(j["survey_id"] == "visit");
    CHECK(j["survey_version"] == 1);
    CHECK(j["stored"] == true);
    r = put(hash, good, auth);  // idempotent
    REQUIRE(r.status == 200);
    CHECK(nlohmann::json::parse(r.body)["stored"] == false);
    CHECK(collector.count("SELECT count(*) FROM survey_definitions") == 1);

    // Another body under this hash.
    r = put(hash, good + "\n# changed\n", auth);
    CHECK(r.status == 400);
    CHECK(error_of(r).first == "hash_mismatch");
    // Not a hash.
    r = put("not-a-hash", good, auth);
    CHECK(r.status == 400);
    CHECK(error_of(r).first == "invalid_hash");
    r = put(std::string(64, 'A'), good, auth);
    CHECK(r.status == 400);
    // Not a survey: named with its line.
    const std::string broken = "id = \"visit\"\nversion = 1\ntitle = { fi = \"x\" }\n[[questions]]\nid = \"q\"\nkind = \"nope\"\n";
    r = put(sha256_hex(broken), broken, auth);
    CHECK(r.status == 400);
    CHECK(error_of(r).first == "invalid_definition");
    CHECK_THAT(error_of(r).second, Catch::Contains(":6:") && Catch::Contains("nope"));
    const std::string syntax = "id = \"visit\nversion = 1\n";
    r = put(sha256_hex(syntax), syntax, auth);
    CHECK(r.status == 400);
    CHECK(error_of(r).first == "invalid_definition");
    const std::string not_utf8 = std::string("id = \"vis\xff\"\n");
    r = put(sha256_hex(not_utf8), not_utf8, auth);
    CHECK(r.status == 400);
    // Too big, and without a token.
    const std::string huge(kMaxDefinitionBytes + 1, '#');
    r = put(sha256_hex(huge), huge, auth);
    CHECK(r.status == 413);
    r = put(hash, good, {"Content-Type: application/toml"});
    CHECK(r.status == 401);
    CHECK(collector.count("SELECT count(*) FROM survey_definitions") == 1);
    // Every bundled survey is one the collector takes (a year-clock's too).
    for (const char* name : {"child.toml", "family.toml", "yearclock.toml"}) {
        const std::string text = read_all(config_dir() / "surveys" / name);
        r = put(sha256_hex(text), text, auth);
        INFO(name << ": " << r.body);
        CHECK(r.status == 200);
    }
    CHECK(collector.count("SELECT count(*) FROM survey_definitions") == 4);
}

TEST_CASE("Versions: publish refuses a survey id and version a kiosk answered with another definition", "[versions][db]") {
    TempDir dir;
    TestCollector collector(dir / "collector");
    Storage& storage = collector.collector().storage();
    run_bundle_keys(dir / "keys");
    const fs::path folder = dir / "publish";
    fs::create_directories(folder);
    fs::copy(config_dir() / "surveys", folder / "surveys", fs::copy_options::recursive);
    fs::copy(config_dir() / "lang", folder / "lang", fs::copy_options::recursive);
    fs::copy_file(config_dir() / "news.toml", folder / "news.toml");
    fs::copy(config_dir().parent_path() / "assets", folder / "assets", fs::copy_options::recursive);
    write_all(folder / "kiosk.toml", "[kiosk]\nlanguages = [\"fi\", \"sv\", \"en\"]\nsurveys = \"surveys\"\ntexts = \"lang\"\n"
                                     "news = \"news.toml\"\nassets = \"assets\"\n[store]\ndata_dir = \"/var/lib/kohtaamo\"\n");
    // A kiosk answered "child" version 2 with a text of its own (edited by hand on the kiosk).
    const std::string edited = read_all(folder / "surveys" / "child.toml") + "\n# edited on the kiosk\n";
    REQUIRE(storage.store_survey_definition(sha256_hex(edited), "child", 2, edited, "device k1", "2026-12-01T10:00:00Z"));
    CHECK(run_publish(storage, folder, "", dir / "keys" / "bundle.key") == 2);
    CHECK(storage.latest_bundle_version() == 0);
    // The kiosk's text itself may be published: one id and version, one text.
    write_all(folder / "surveys" / "child.toml", edited);
    CHECK(run_publish(storage, folder, "", dir / "keys" / "bundle.key") == 0);
    CHECK(storage.latest_bundle_version() == 1);
    CHECK(collector.count("SELECT count(*) FROM survey_definitions WHERE survey_id = 'child'") == 1);
    CHECK(collector.count("SELECT count(*) FROM survey_definitions") == 3);  // and the other two surveys
}
