// The collector over loopback: what it refuses (with which status and reason), that it
// keeps serving afterwards, and that it stores each response once under concurrency.
#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <thread>

#include <zlib.h>

#include "collector.hpp"
#include "collector/schema.hpp"  // (kiosk/core has a schema.hpp too)
#include "collector/sql.hpp"
#include "sqlite.hpp"
#include "storage.hpp"
#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

std::vector<std::string> headers_for(const std::string& token, bool gzipped = true) {
    std::vector<std::string> h = {"Authorization: Bearer " + token, "Content-Type: application/json"};
    if (gzipped) h.push_back("Content-Encoding: gzip");
    return h;
}

// A good batch is still stored and acknowledged after whatever came before.
void still_serves(TestCollector& col, unsigned seed) {
    Batch good = make_batch(3, seed);
    HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), gzip(encode_batch(good)));
    REQUIRE(r.status == 200);
    std::string why;
    auto reply = decode_reply(r.body, good.batch_id, why);
    REQUIRE(reply);
    CHECK(reply->stored.size() == 3);
    CHECK(get(col.url() + kHealthPath).status == 200);
}

// A raw libpq connection to `url`, as a collector of another release (or a DBA) has one;
// closed however the test ends.
std::unique_ptr<PGconn, decltype(&PQfinish)> connect_pg(const std::string& url) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> pg(PQconnectdb(url.c_str()), &PQfinish);
    REQUIRE(PQstatus(pg.get()) == CONNECTION_OK);
    return pg;
}

// One statement (or, without parameters, several) on a raw libpq connection, as a collector
// of another release would send it: "ok", or the SQLSTATE it failed with.
std::string pg_exec(PGconn* pg, const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> p;
    for (const auto& v : params) p.push_back(v.c_str());
    PGresult* res = p.empty() ? PQexec(pg, sql.c_str())  // (a schema step holds several statements)
                              : PQexecParams(pg, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr,
                                             nullptr, 0);
    const ExecStatusType st = PQresultStatus(res);
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "ok" : state ? state : "";
    PQclear(res);
    return out;
}

// The collector asks the kiosk to wait (503 unavailable with Retry-After, the message
// naming `why`), then, once `fix` has run, stores the same body in full.
void unavailable_then_stored(TestCollector& col, const Batch& b, const std::string& why,
                             const std::function<void()>& fix) {
    const std::string body = gzip(encode_batch(b));
    const HttpReply refused = post(col.url() + kBatchesPath, headers_for(col.token(0)), body);
    CHECK(refused.status == 503);
    CHECK(refused.headers.count("retry-after") == 1);
    CHECK_THAT(refused.body, Catch::Contains("\"error\":\"unavailable\"") && Catch::Contains(why));
    fix();
    const HttpReply again = post(col.url() + kBatchesPath, headers_for(col.token(0)), body);
    REQUIRE(again.status == 200);
    std::string reason;
    const auto reply = decode_reply(again.body, b.batch_id, reason);
    REQUIRE(reply);
    CHECK(reply->stored.size() == b.responses.size());
}

}  // namespace

TEST_CASE("collector: health check answers", "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    HttpReply r = get(col.url() + kHealthPath);
    CHECK(r.status == 200);
    CHECK_THAT(r.body, Catch::Contains("\"status\":\"ok\""));
    CHECK(get(col.url() + "/nothing").status == 404);
}

TEST_CASE("collector: GET /v1/device names the device of a kiosk token and refuses any other", "[collector]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string url = col.url() + kDevicePath;
    HttpReply ok = get(url, {"Authorization: Bearer " + col.token(1)});
    CHECK(ok.status == 200);
    CHECK(nlohmann::json::parse(ok.body) == nlohmann::json{{"protocol", 1}, {"device", "k2"}});
    HttpReply unknown = get(url, {"Authorization: Bearer " + new_token()});
    CHECK(unknown.status == 401);
    CHECK_THAT(unknown.header("www-authenticate"), Catch::Contains("Bearer"));
    CHECK_THAT(unknown.body, Catch::Contains("\"error\":\"unauthorized\""));
    CHECK(get(url).status == 401);
    CHECK(get(url, {"Authorization: Basic " + col.token(0)}).status == 401);
    // A disabled kiosk: 403. Nothing was stored by any of this.
    std::vector<DeviceToken> devices = {{"k1", hash_token(col.token(0)), false}};
    col.collector().set_devices(devices);
    HttpReply disabled = get(url, {"Authorization: Bearer " + col.token(0)});
    CHECK(disabled.status == 403);
    CHECK_THAT(disabled.body, Catch::Contains("\"error\":\"forbidden\""));
    CHECK(col.count("SELECT count(*) FROM batches") == 0);
}

TEST_CASE("collector: bad bodies get their 4xx with a reason and the next good request is served",
          "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string url = col.url() + kBatchesPath;
    const std::string token = col.token(0);
    nlohmann::json good = to_json(make_batch(2, 7));
    struct Case {
        std::string name;
        std::string body;
        std::vector<std::string> headers;
        long status;
        std::string reason;  // in the error body
    };
    std::string zipped = gzip(good.dump());
    auto with = [&](const std::function<void(nlohmann::json&)>& change) {
        nlohmann::json j = good;
        change(j);
        return gzip(j.dump());
    };
    std::vector<Case> cases = {
        {"truncated gzip", zipped.substr(0, zipped.size() / 2), headers_for(token), 400, "gzip"},
        {"not gzip at all", "{\"protocol\": 1", headers_for(token), 400, "gzip"},
        {"invalid JSON", gzip("{\"protocol\": 1, \"batch_id\": "), headers_for(token), 400, "not valid JSON"},
        {"wrong type", with([](auto& j) { j["responses"][0]["flagged"] = "no"; }), headers_for(token), 400,
         "responses[0].flagged: must be true or false"},
        {"missing field", with([](auto& j) { j["responses"][1]["answers"][0].erase("value"); }), headers_for(token),
         400, "responses[1].answers[0].value: missing"},
        {"a 10 MB string", with([](auto& j) { j["responses"][0]["answers"][0]["value"] = std::string(10 << 20, 'a'); }),
         headers_for(token), 400, "responses[0].answers[0].value: is 10485760 bytes long"},
        {"unknown protocol version", with([](auto& j) { j["protocol"] = 99; }), headers_for(token), 400,
         "version 99 is not supported"},
        {"empty batch", with([](auto& j) { j["responses"] = nlohmann::json::array(); }), headers_for(token), 400,
         "responses: must have at least 1"},
        {"no token", zipped, {"Content-Encoding: gzip"}, 401, "bearer token"},
        {"a wrong token", zipped, headers_for("not-a-token"), 401, "bearer token"},
        {"a gzip bomb", gzip(std::string(40 << 20, ' ')), headers_for(token), 413, "once decompressed"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        HttpReply r = post(url, c.headers, c.body);
        CHECK(r.status == c.status);
        auto [code, message] = decode_error(r.body);
        CHECK_FALSE(code.empty());
        CHECK_THAT(message, Catch::Contains(c.reason));
        still_serves(col, static_cast<unsigned>(c.name.size()));
    }
    SECTION("a 100 MB body is refused from its Content-Length, before it is read") {
        std::string huge(100 << 20, 'x');
        auto started = std::chrono::steady_clock::now();
        HttpReply r = post(url, headers_for(token), huge);
        CHECK(r.status == 413);
        CHECK_THAT(r.body, Catch::Contains("more than the limit"));
        CHECK(std::chrono::steady_clock::now() - started < 10s);
        still_serves(col, 100);
    }
    // Nothing but the good batches was stored.
    CHECK(col.count("SELECT count(*) FROM responses") == col.count("SELECT sum(stored) FROM batches"));
    CHECK(col.count("SELECT count(*) FROM batches") == static_cast<std::int64_t>(cases.size()) + 1);
}

TEST_CASE("collector: the same batch posted 50 times at once is stored once", "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    Batch batch = make_batch(40, 11);
    const std::string body = gzip(encode_batch(batch));
    std::vector<HttpReply> replies(50);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < replies.size(); ++i)
        threads.emplace_back([&, i] { replies[i] = post(col.url() + kBatchesPath, headers_for(col.token(0)), body); });
    for (auto& t : threads) t.join();
    std::size_t stored = 0, duplicate = 0;
    for (const auto& r : replies) {
        REQUIRE(r.status == 200);
        std::string why;
        auto reply = decode_reply(r.body, batch.batch_id, why);
        REQUIRE(reply);
        CHECK(reply->stored.size() + reply->duplicate.size() == 40);
        stored += reply->stored.size();
        duplicate += reply->duplicate.size();
    }
    CHECK(stored == 40);  // exactly one copy stored them
    CHECK(duplicate == 49 * 40);
    CHECK(col.count("SELECT count(*) FROM responses") == 40);
    CHECK(col.count("SELECT count(*) FROM answers") == 120);
    CHECK(col.count("SELECT count(*) FROM batches") == 1);
}

// PostgreSQL keeps a response's answers as three arrays in its row (schema.cpp, step 10),
// written as array literals, and in a large batch as an array of those (storage.cpp,
// kArrayResponses): what array_in treats specially must come back as it was sent, read
// through the `answers` view as rows. Both forms of the responses' statement.
TEST_CASE("collector: on PostgreSQL, every answer comes back exactly as sent through its response's arrays, whatever "
          "its characters, in both statement forms",
          "[collector][postgresql]") {
    const int n = GENERATE(3, 600);
    INFO(n << " responses");
    TempDir dir;
    TestCollector col(dir.path());
    Batch batch = make_batch(n, 31);
    const std::vector<std::string> awkward = {
        "", "NULL", "null", "{}", "{\"a\",\"b\"}", "a,b", "\"", "\\", "\\\"{", " leading and trailing ", "rivi 1\r\nrivi\t2\n",
        "ä ö å ✓ 😀", "ٱلسَّلَامُ", std::string(65, 'x') + "ä \\ \"{NULL}\"", std::string(3000, 'y') + "}"};
    Response& r = batch.responses[1];
    r.answers.clear();
    for (std::size_t i = 0; i < awkward.size(); ++i)
        r.answers.push_back({"q" + std::to_string(10 + i) + (i % 2 ? "\"{," : ""), awkward[i], r.started_at});
    batch.responses[2].answers.clear();  // a response without answers
    // The other columns, each with what is not the common case: NULL, a large number, quotes.
    Response& odd = batch.responses[0];
    odd.status = "abandoned";
    odd.finished_at.clear();  // NULL
    odd.survey_version = kMaxSurveyVersion;
    odd.flagged = true;
    odd.event = "ilta \"{x}\" \\ ä";
    batch.responses[2].survey_hash = std::string(64, 'a');

    HttpReply reply = post(col.url() + kBatchesPath, headers_for(col.token(0)), gzip(encode_batch(batch)));
    REQUIRE(reply.status == 200);
    std::string why;
    auto ack = decode_reply(reply.body, batch.batch_id, why);
    REQUIRE(ack);
    CHECK(ack->stored.size() == static_cast<std::size_t>(n));
    CHECK(col.count("SELECT count(*) FROM responses") == n);
    CHECK(col.count("SELECT count(*) FROM answers") == 3 * (n - 2) + static_cast<std::int64_t>(awkward.size()));
    CHECK(col.count("SELECT count(*) FROM answers WHERE response_id = '" + batch.responses[2].id + "'") == 0);
    Rows want;
    for (const Answer& a : r.answers) want.push_back({a.question_id, a.value, a.answered_at});
    std::sort(want.begin(), want.end());
    CHECK(col.database().query("SELECT question_id, value, answered_at FROM answers WHERE response_id = '" + r.id +
                               "' ORDER BY question_id, value") == want);
    CHECK(col.database().query("SELECT status, coalesce(finished_at, 'NULL'), survey_version, flagged, event,"
                               " coalesce(survey_hash, 'NULL') FROM responses WHERE id IN ('" + odd.id + "', '" +
                               batch.responses[2].id + "') ORDER BY status") ==
          Rows{{"abandoned", "NULL", std::to_string(kMaxSurveyVersion), "1", odd.event, "NULL"},
               {"complete", batch.responses[2].finished_at, std::to_string(batch.responses[2].survey_version), "0", batch.responses[2].event, std::string(64, 'a')}});
    // In its row, in the order sent.
    CHECK(col.count("SELECT count(*) FROM responses WHERE id = '" + r.id + "' AND answer_values[1] = '' AND "
                    "answer_values[2] = 'NULL' AND cardinality(answer_values) = " + std::to_string(awkward.size())) == 1);
}

TEST_CASE("collector: a batch's identity is the same digest as the collectors before computed (a resend after an "
          "upgrade is a duplicate, not a 409)",
          "[collector]") {
    // The digest below comes from outside this code: Python's hashlib.blake2b(digest_size=32)
    // over the layout collector.cpp describes (each field as its 8-byte little-endian length
    // and its bytes; numbers in decimal; survey_hash only when present).
    Batch b;
    b.batch_id = "11111111-2222-4333-8444-555555555555";
    b.device_id = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    Response r1;
    r1.id = "0b0b0b0b-0000-4000-8000-000000000001";
    r1.survey_id = "lapset";
    r1.survey_version = 3;
    r1.language = "fi";
    r1.status = "complete";
    r1.started_at = "2026-11-30T09:15:00.000Z";
    r1.finished_at = "2026-11-30T09:16:10.500Z";
    r1.site = "espoo-leppavaara";
    r1.flagged = true;
    r1.answers = {{"mood", "4", "2026-11-30T09:15:20.000Z"}, {"wish", "Äiti ja minä 🦔", "2026-11-30T09:16:00.000Z"}};
    Response r2;
    r2.id = "0b0b0b0b-0000-4000-8000-000000000002";
    r2.survey_id = "lapset";
    r2.survey_version = 1;
    r2.language = "fi";
    r2.status = "abandoned";
    r2.started_at = "2026-11-30T10:00:00.000Z";
    r2.event = "syysjuhla";
    for (int i = 0; i < 32; ++i) r2.survey_hash += "ab";  // 64 hex digits
    b.responses = {r1, r2};
    CHECK(batch_identity(b) == "blake2b:4e5648438a0363ffe33557c118637232a23807f911808311a6f617c7dfd4036a");
    b.responses[1].survey_hash.clear();  // another batch: another identity
    CHECK(batch_identity(b) != "blake2b:4e5648438a0363ffe33557c118637232a23807f911808311a6f617c7dfd4036a");
}

TEST_CASE("collector: a batch id reused with another body is 409 and a response sent in two batches is kept once",
          "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    Batch a = make_batch(3, 21);
    REQUIRE(post(col.url() + kBatchesPath, headers_for(col.token(0)), gzip(encode_batch(a))).status == 200);
    Batch changed = a;
    changed.responses[0].answers[0].value = "5" + changed.responses[0].answers[0].value;
    HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), gzip(encode_batch(changed)));
    CHECK(r.status == 409);
    CHECK(decode_error(r.body).first == "batch_conflict");
    // The same responses in another batch, one of them now with other answers, beside a
    // new one: the first copy is kept with its own answers, the new one with its.
    const Rows first = col.query("SELECT response_id, question_id, value FROM answers ORDER BY 1, 2, 3");
    REQUIRE(first.size() == 9);
    Batch again = a;
    again.batch_id = "0a0a0a0a-0000-4000-8000-000000000000";
    again.responses[0].answers[0].value = "5" + again.responses[0].answers[0].value;
    again.responses[0].answers.push_back({"q3", "late", again.responses[0].started_at});
    again.responses.push_back(make_batch(1, 22).responses[0]);
    r = post(col.url() + kBatchesPath, headers_for(col.token(1)), gzip(encode_batch(again)));
    REQUIRE(r.status == 200);
    std::string why;
    auto reply = decode_reply(r.body, again.batch_id, why);
    REQUIRE(reply);
    CHECK(reply->duplicate.size() == 3);
    CHECK(reply->stored == std::vector<std::string>{again.responses[3].id});
    CHECK(col.count("SELECT count(*) FROM responses") == 4);
    CHECK(col.count("SELECT count(*) FROM responses WHERE device_name = 'k1'") == 3);
    CHECK(col.query("SELECT response_id, question_id, value FROM answers WHERE response_id <> '" +
                    again.responses[3].id + "' ORDER BY 1, 2, 3") == first);
    CHECK(col.count("SELECT count(*) FROM answers WHERE response_id = '" + again.responses[3].id + "'") == 3);
}

TEST_CASE("collector: every malformed body gets its 4xx over HTTP, with the code and the field named, never a 5xx",
          "[collector]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string url = col.url() + kBatchesPath;
    const auto cases = malformed_bodies();
    unsigned seed = 1000;
    for (const auto& m : cases) {
        for (bool gzipped : {true, false}) {
            INFO(m.name << (gzipped ? " (gzip)" : " (plain JSON)"));
            HttpReply r = post(url, headers_for(col.token(0), gzipped), gzipped ? gzip(m.json) : m.json);
            CHECK(r.status == m.status);
            auto [code, message] = decode_error(r.body);
            CHECK(code == m.code);
            CHECK_THAT(message, Catch::Contains(m.message));
        }
        if (++seed % 8 == 0) still_serves(col, seed);
    }
    for (const auto& [name, body] : borderline_good_bodies()) {
        INFO(name);
        CHECK(post(url, headers_for(col.token(0)), gzip(body)).status == 200);
    }
    still_serves(col, 1);
    // Nothing of the refused bodies was stored.
    CHECK(col.count("SELECT count(*) FROM batches") == static_cast<std::int64_t>(cases.size() / 8 + 1 + 5));
}

TEST_CASE("collector: a gzip body with data after its end, or a second member, is 400", "[collector]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string body = gzip(encode_batch(make_batch(2, 40)));
    for (const std::string& bad : {body + "trailing junk", body + gzip("{}")}) {
        HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), bad);
        CHECK(r.status == 400);
        CHECK_THAT(decode_error(r.body).second, Catch::Contains("gzip"));
    }
    CHECK(col.count("SELECT count(*) FROM batches") == 0);
}

// The collector hands the raw body to sync::read_batch_body() (protocol.hpp), which checks
// the trailer (the CRC-32 and length) and refuses a zlib stream labelled gzip.
TEST_CASE("collector: a gzip body without its trailer, with half of it, or in zlib's format is 400 invalid_gzip",
          "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string text = encode_batch(make_batch(2, 41));
    const std::string z = gzip(text);
    uLongf zlen = compressBound(static_cast<uLong>(text.size()));
    std::string zl(zlen, '\0');
    REQUIRE(compress(reinterpret_cast<Bytef*>(zl.data()), &zlen, reinterpret_cast<const Bytef*>(text.data()),
                     static_cast<uLong>(text.size())) == Z_OK);
    zl.resize(zlen);
    for (const std::string& bad : {z.substr(0, z.size() - 8), z.substr(0, z.size() - 4), zl, z + "junk"}) {
        HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), bad);
        CHECK(r.status == 400);
        CHECK(decode_error(r.body).first == "invalid_gzip");
    }
    CHECK(col.count("SELECT count(*) FROM batches") == 0);
}

TEST_CASE("collector: a SQLite database that a collector of schema 7 left is rebuilt at schema 8 with every answer, and "
          "stores on at schema 11",
          "[collector]") {
    TempDir dir;
    const auto file = dir.path() / "collector.sqlite";
    // The database as the previous collector left it: the real steps 1 to 7, and the rows
    // its store() wrote for one batch (written here with the same columns).
    const Batch old = make_batch(4, 31);
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        const auto& steps = schema_steps(sql::Dialect::Sqlite);
        REQUIRE(steps.size() == 11);
        for (std::size_t i = 0; i < 7; ++i) sqlite_exec(db, steps[i]);
        sqlite_exec(db, "PRAGMA user_version = 7");
        Statement r(db, "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                        " site, event, flagged, device_id, device_name, batch_id, received_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'k1', ?, '2026-12-01T10:00:00.000Z')");
        Statement a(db, "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        for (const Response& x : old.responses) {
            r.bind(1, x.id).bind(2, x.survey_id).bind(3, x.survey_version).bind(4, x.language).bind(5, x.status);
            r.bind(6, x.started_at).bind(7, x.finished_at).bind(8, x.site).bind(9, x.event).bind(10, old.device_id);
            r.bind(11, old.batch_id).run();
            for (const Answer& y : x.answers) a.bind(1, x.id).bind(2, y.question_id).bind(3, y.value).bind(4, y.answered_at).run();
        }
        sqlite3_close(db);
    }
    const std::string answers = "SELECT response_id, question_id, value, answered_at FROM answers ORDER BY 1, 2, 3";
    const Rows before = query(file, answers);
    REQUIRE(before.size() >= 4);

    auto storage = Storage::open(DatabaseConfig::sqlite(file));
    CHECK(query(file, "PRAGMA user_version") == Rows{{"11"}});
    CHECK(query(file, answers) == before);
    CHECK_THAT(query(file, "SELECT sql FROM sqlite_master WHERE name = 'answers'").at(0).at(0),
               Catch::Contains("WITHOUT ROWID"));
    CHECK(query(file, "SELECT count(*) FROM pragma_foreign_key_list('answers')") == Rows{{"0"}});
    CHECK(query(file, "SELECT count(*) FROM sqlite_master WHERE name = 'responses_by_batch'") == Rows{{"0"}});

    // It stores on: a new batch, and the old batch's responses again in another batch (kept once).
    const Batch next = make_batch(3, 32);
    StoreOutcome o = storage->store(next, "k1", "blake2b:next");
    CHECK(o.status == 200);
    CHECK(o.reply.stored.size() == 3);
    Batch again = old;
    again.batch_id = "0b0b0b0b-0000-4000-8000-000000000000";
    o = storage->store(again, "k1", "blake2b:again");
    CHECK(o.status == 200);
    CHECK(o.reply.duplicate.size() == 4);
    std::size_t next_answers = 0;
    for (const Response& x : next.responses) next_answers += x.answers.size();
    CHECK(query(file, "SELECT count(*) FROM answers") == Rows{{std::to_string(before.size() + next_answers)}});
    CHECK(query(file, "SELECT count(*) FROM responses") == Rows{{"7"}});
}

TEST_CASE("collector: a PostgreSQL database that a collector of schema 8 left keeps every answer at schema 11, in its "
          "response's row, and the answers view shows them as the table did",
          "[collector][postgresql]") {
    TempDir dir;
    TestDatabase database(dir.path(), DatabaseConfig::Driver::Postgresql);
    auto pg = connect_pg(database.url());
    const auto exec = [&](const std::string& sql, std::vector<std::string> params = {}) {
        return pg_exec(pg.get(), sql, params);
    };
    // Read without a Storage (TestDatabase::query opens one, which would migrate first).
    const auto rows = [&](const std::string& sql) {
        PGresult* res = PQexec(pg.get(), sql.c_str());
        Rows out;
        for (int i = 0; i < PQntuples(res); ++i) {
            out.emplace_back();
            for (int j = 0; j < PQnfields(res); ++j) out.back().push_back(PQgetvalue(res, i, j));
        }
        PQclear(res);
        return out;
    };
    // The database as the previous collector left it: the real steps 1 to 8, and one
    // batch's rows (a long free text and array_in's special characters among them, a
    // response without answers) with the same columns its store() wrote.
    const auto& steps = schema_steps(sql::Dialect::Postgresql);
    REQUIRE(steps.size() == 11);
    for (std::size_t i = 0; i < 8; ++i) REQUIRE(exec(steps[i]) == "ok");
    REQUIRE(exec("CREATE TABLE kohtaamo_schema (version INTEGER NOT NULL); INSERT INTO kohtaamo_schema VALUES (8)") == "ok");
    Batch old = make_batch(4, 33);
    const std::string long_text = std::string(3000, 'y') + " ä";
    old.responses[2].answers.push_back({"q9", long_text, old.responses[2].started_at});
    old.responses[2].answers.push_back({"q9", "{\"NULL\", \\}", old.responses[2].started_at});
    old.responses[3].answers.clear();
    for (const Response& x : old.responses) {
        REQUIRE(exec("INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                     " device_id, device_name, batch_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'k1', $9,"
                     " '2026-12-01T10:00:00.000Z')",
                     {x.id, x.survey_id, std::to_string(x.survey_version), x.language, x.status, x.started_at,
                      x.finished_at, old.device_id, old.batch_id}) == "ok");
        for (const Answer& y : x.answers)
            REQUIRE(exec("INSERT INTO answers(response_id, question_id, value, answered_at) VALUES ($1, $2, $3, $4)",
                         {x.id, y.question_id, y.value, y.answered_at}) == "ok");
    }
    const std::string answers = "SELECT response_id, question_id, value, answered_at FROM answers ORDER BY 1, 2, 3";
    const Rows before = rows(answers);
    REQUIRE(before.size() == 11);
    REQUIRE(rows("SELECT table_type FROM information_schema.tables WHERE table_name = 'answers'") == Rows{{"BASE TABLE"}});

    // An answer whose response is not there stops the step, and nothing changes.
    REQUIRE(exec("INSERT INTO answers(response_id, question_id, value, answered_at) VALUES ('gone', 'q1', '3', $1)",
                 {old.responses[0].started_at}) == "ok");
    CHECK_THROWS_WITH(Storage::open(database.config()),
                      Catch::Contains("schema step 10") && Catch::Contains("not in responses"));
    CHECK(rows("SELECT version FROM kohtaamo_schema") == Rows{{"8"}});
    CHECK(rows("SELECT count(*) FROM answers") == Rows{{"12"}});
    REQUIRE(exec("DELETE FROM answers WHERE response_id = 'gone'") == "ok");

    auto storage = Storage::open(database.config());
    CHECK(rows("SELECT version FROM kohtaamo_schema") == Rows{{"11"}});
    CHECK(rows(answers) == before);
    CHECK(rows("SELECT table_type FROM information_schema.tables WHERE table_name = 'answers'") == Rows{{"VIEW"}});
    CHECK(database.count("SELECT count(*) FROM responses WHERE id = '" + old.responses[3].id +
                         "' AND answer_values = '{}'") == 1);
    // The three arrays stay aligned: a row whose arrays differ in length is refused.
    CHECK(exec("UPDATE responses SET answer_times = '{}' WHERE id = $1", {old.responses[0].id}) == "23514");
    pg.reset();

    // It stores on: a new batch, and the old batch's responses again in another batch (kept
    // once, with their first answers).
    const Batch next = make_batch(600, 34);
    CHECK(storage->store(next, "k1", "blake2b:next").reply.stored.size() == 600);
    Batch again = old;
    again.batch_id = "0b0b0b0b-0000-4000-8000-000000000000";
    again.responses[0].answers.push_back({"q8", "another", again.responses[0].started_at});
    const StoreOutcome o = storage->store(again, "k1", "blake2b:again");
    CHECK(o.status == 200);
    CHECK(o.reply.duplicate.size() == 4);
    CHECK(database.count("SELECT count(*) FROM answers") == 11 + 3 * 600);
    CHECK(database.count("SELECT count(*) FROM responses") == 604);
}

TEST_CASE("collector: on PostgreSQL, a collector of the previous release still serving during a rolling update "
          "stores its answers through the answers view, each once, and never an answer without its response",
          "[collector][postgresql]") {
    TempDir dir;
    TestDatabase database(dir.path(), DatabaseConfig::Driver::Postgresql);
    auto storage = Storage::open(database.config());  // this release's steps, 10 and 11 among them
    auto pg = connect_pg(database.url());
    const auto exec = [&](const std::string& sql, std::vector<std::string> params = {}) {
        return pg_exec(pg.get(), sql, params);
    };
    // A batch stored exactly as the previous release's collector (schema 9) stored it: its
    // responses without the arrays, then, in the same transaction, their answers as one
    // INSERT of unnest()ed arrays; awkward characters and a long text among them.
    Batch old = make_batch(3, 35);
    old.responses[0].answers.push_back({"q9", std::string(3000, 'y') + " ä", old.responses[0].started_at});
    old.responses[1].answers.push_back({"q9", "{\"NULL\", \\}", old.responses[1].started_at});
    old.responses[2].answers.clear();
    const auto literal = [](const std::vector<std::string>& v) {
        std::string out = "{";
        for (const auto& x : v) {
            if (out.size() > 1) out += ',';
            out += '"';
            for (char c : x) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
            out += '"';
        }
        return out + "}";
    };
    const auto store_as_previous_release = [&](const Batch& b, bool twice) {
        std::vector<std::string> rid, qid, value, at;
        for (const Response& x : b.responses)
            for (int n = 0; n < (twice ? 2 : 1); ++n)
                for (const Answer& y : x.answers) {
                    rid.push_back(x.id);
                    qid.push_back(y.question_id);
                    value.push_back(y.value);
                    at.push_back(y.answered_at);
                }
        REQUIRE(exec("BEGIN") == "ok");
        for (const Response& x : b.responses)
            REQUIRE(exec("INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                         " device_id, device_name, batch_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'k1',"
                         " $9, '2026-12-07T10:00:00.000Z') ON CONFLICT (id) DO NOTHING",
                         {x.id, x.survey_id, std::to_string(x.survey_version), x.language, x.status, x.started_at,
                          x.finished_at, b.device_id, b.batch_id}) == "ok");
        const std::string st = exec("INSERT INTO answers(response_id, question_id, value, answered_at)"
                                    " SELECT * FROM unnest($1::text::text[], $2::text::text[], $3::text::text[],"
                                    " $4::text::text[])",
                                    {literal(rid), literal(qid), literal(value), literal(at)});
        REQUIRE(exec(st == "ok" ? "COMMIT" : "ROLLBACK") == "ok");
        return st;
    };
    CHECK(store_as_previous_release(old, false) == "ok");
    const std::string answers = "SELECT response_id, question_id, value, answered_at FROM answers ORDER BY 1, 2, 3";
    Rows expected;
    for (const Response& x : old.responses)
        for (const Answer& y : x.answers) expected.push_back({x.id, y.question_id, y.value, y.answered_at});
    std::sort(expected.begin(), expected.end());
    CHECK(expected.size() == old.responses[0].answers.size() + old.responses[1].answers.size());
    CHECK(database.query(answers) == expected);
    // An answer the response has already is skipped, as answers_key's ON CONFLICT did.
    Batch again = old;
    again.batch_id = "0c0c0c0c-0000-4000-8000-000000000000";
    CHECK(store_as_previous_release(again, true) == "ok");
    CHECK(database.query(answers) == expected);
    // An answer without its response is refused, and nothing of its statement stays.
    const Batch orphan = make_batch(1, 36);
    REQUIRE(exec("BEGIN") == "ok");
    CHECK(exec("INSERT INTO answers(response_id, question_id, value, answered_at) VALUES ($1, 'q1', '3', $2)",
               {orphan.responses[0].id, orphan.responses[0].started_at}) == "23503");
    REQUIRE(exec("ROLLBACK") == "ok");
    CHECK(database.count("SELECT count(*) FROM responses") == 3);
    pg.reset();

    // And this release reads what it stored: the export's rows, and the responses as duplicates.
    const StoreOutcome o = storage->store(old, "k1", "blake2b:old");
    CHECK(o.status == 200);
    CHECK(o.reply.duplicate.size() == 3);
    CHECK(database.query(answers) == expected);
}

TEST_CASE("collector: a batch that fails on a database a collector of a newer release has updated is 503 with "
          "Retry-After, which a kiosk waits out, not a 500 it counts against the batch, and the health check says why",
          "[collector][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    still_serves(col, 37);
    // What a newer release might do: a schema version past this one's, and a rule this
    // release's INSERT breaks.
    const DatabaseConfig& config = col.database().config();
    const bool pg = config.driver == DatabaseConfig::Driver::Postgresql;
    const std::string newer = std::to_string(schema_steps(pg ? sql::Dialect::Postgresql : sql::Dialect::Sqlite).size() + 1);
    auto c = pg ? sql::open_postgresql(config.url) : sql::open_sqlite(config.file.string(), false);
    if (pg) {
        c->exec("UPDATE kohtaamo_schema SET version = " + newer);
        c->exec("ALTER TABLE responses ADD CONSTRAINT from_a_newer_release CHECK (false) NOT VALID");
    } else {
        c->exec("PRAGMA user_version = " + newer);
        c->exec("CREATE TRIGGER from_a_newer_release BEFORE INSERT ON responses"
                " BEGIN SELECT RAISE(ABORT, 'a newer release''s rule'); END");
    }
    const Batch b = make_batch(4, 38);
    const HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), gzip(encode_batch(b)));
    CHECK(r.status == 503);
    CHECK(r.headers.count("retry-after") == 1);
    CHECK_THAT(r.body, Catch::Contains("\"error\":\"unavailable\"") &&
                           Catch::Contains("schema is version " + newer + ", newer than this collector's") &&
                           Catch::Contains("update this one too"));
    std::int64_t responses = -1;  // (a Storage of this release would refuse to open it)
    c->query("SELECT count(*) FROM responses", {}, [&](const sql::Row& row) { responses = row.integer(0); });
    CHECK(responses == 3);
    const HttpReply health = get(col.url() + kHealthPath);
    CHECK(health.status == 503);
    CHECK_THAT(health.body, Catch::Contains("newer than this collector's"));
}

TEST_CASE("collector: a full disk under its SQLite database is 503 with Retry-After, which a kiosk waits out, and the "
          "same batch is stored once there is space again",
          "[collector]") {
    SmallDisk disk(2 * 1024 * 1024);  // a real tmpfs holds the collector's database
    TestCollector col(disk.path());
    REQUIRE(col.database().config().driver == DatabaseConfig::Driver::Sqlite);
    still_serves(col, 51);
    disk.fill();
    // 500 responses: their WAL frames need space the disk has not.
    unavailable_then_stored(col, make_batch(500, 52), "full", [&] { disk.unfill(); });
    CHECK(col.count("SELECT count(*) FROM responses") == 503);
}

TEST_CASE("collector: on PostgreSQL, a server that has become read-only (a standby, as after a failover) is 503 with "
          "Retry-After, and once it takes writes again the same batch is stored",
          "[collector][postgresql]") {
    TempDir dir;
    TestCollector col(dir.path());
    REQUIRE(col.database().config().driver == DatabaseConfig::Driver::Postgresql);
    still_serves(col, 53);
    auto pg = connect_pg(col.database().url());
    const auto exec = [&](const std::string& sql) { return pg_exec(pg.get(), sql, {}); };
    const auto read_only = [&](bool on) {
        REQUIRE(exec(std::string("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I ") +
                     (on ? "SET default_transaction_read_only = on" : "RESET default_transaction_read_only") +
                     "', current_database()); END $$") == "ok");
        // The collector's sessions end, as at a failover; the ones it opens next take the setting.
        REQUIRE(exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = current_database() AND pid <> pg_backend_pid()") == "ok");
    };
    read_only(true);
    unavailable_then_stored(col, make_batch(20, 54), "read-only", [&] { read_only(false); });
    CHECK(col.count("SELECT count(*) FROM responses") == 23);
}

TEST_CASE("collector: SQLite's WAL is copied into the database file beside the commits, and a commit copies it only "
          "when the copying falls behind",
          "[collector]") {
    using namespace std::chrono_literals;
    TempDir dir;
    constexpr std::uintmax_t frame = 4096 + 24;  // a page in the WAL, with its header
    const auto size = [](const std::filesystem::path& p) {
        std::error_code ec;
        const auto n = std::filesystem::file_size(p, ec);
        return ec ? std::uintmax_t{0} : n;
    };
    const auto fill = [](sql::Connection& c, int commits) {
        for (int i = 0; i < commits; ++i)
            c.exec("BEGIN; INSERT INTO t(v) VALUES (randomblob(4000)), (randomblob(4000)); COMMIT");
    };
    const auto rows = [](const std::filesystem::path& p) {
        std::int64_t n = -1;
        sql::open_sqlite(p.string(), true)->query("SELECT count(*) FROM t", {},
                                                  [&](const sql::Row& r) { n = r.integer(0); });
        return n;
    };
    SECTION("the checkpointer's thread copies it: no commit does") {
        const auto file = dir.path() / "beside.sqlite";
        sql::SqliteOptions o;
        o.checkpoint_wake_pages = 100;
        o.checkpoint_backstop_pages = 1000000;
        auto c = sql::open_sqlite(file.string(), false, o);
        c->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
        fill(*c, 200);  // ~400 pages: the checkpointer woken from the 50th commit on
        // Then no commit at all: what reaches the file is the thread's copy of the WAL.
        CHECK(wait_until([&] { return size(file) >= 200 * 8000; }, 20s));
        CHECK(rows(file) == 400);
    }
    SECTION("past the backstop a commit copies what is left itself, so the WAL stays bounded") {
        const auto file = dir.path() / "backstop.sqlite";
        sql::SqliteOptions o;
        o.checkpoint_wake_pages = 1000000;  // the thread never woken: as if it could not keep up
        o.checkpoint_backstop_pages = 300;
        auto c = sql::open_sqlite(file.string(), false, o);
        c->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
        fill(*c, 1500);  // ~3,000 pages: twelve MiB in a WAL left alone
        CHECK(size(std::filesystem::path(file.string() + "-wal")) <= (300 + 10) * frame);
        CHECK(size(file) >= 1500 * 8000);
        CHECK(rows(file) == 3000);
    }
}
