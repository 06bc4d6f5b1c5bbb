// Sealed answers end to end (issue 12, docs/security.md): a kiosk with [privacy] seal_to
// stores every answer only as a sealed box; a thief's copy of its data folder (database,
// WAL, the USB stick's delivery file) holds no answer value or typed text; the real
// collector binary, holding the secret key, opens them on arrival and exports exactly what
// an unsealed kiosk's answers give; a delivery file imports once; a collector without the
// key refuses the batch (422) and the kiosk keeps it; kohtaamo-export --key opens the kiosk
// database and the delivery file on a coordinator's computer.
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <thread>

#include <sys/stat.h>

#include "delivery.hpp"
#include "outbox.hpp"
#include "protocol.hpp"
#include "seal.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "sync_support.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;
namespace fs = std::filesystem;

namespace {

constexpr int kResponses = 100;
const char* kChoices[] = {"trampoliini-xq", "satunurkka-xq", "kahvinkeitin-xq"};

// What visitor i typed: a person's name in it, unique per response.
std::string free_text(int i) { return "Salaisuus " + std::to_string(1000 + i) + ": Matti Meikäläinen asuu Kotikatu 7:ssä"; }

// Every text a thief must not find: the typed ones and the choice ids.
std::vector<std::string> secrets() {
    std::vector<std::string> out;
    for (int i = 0; i < kResponses; ++i) out.push_back(free_text(i));
    out.insert(out.end(), std::begin(kChoices), std::end(kChoices));
    out.push_back("Matti Meikäläinen");
    out.push_back("Salaisuus");
    return out;
}

// 100 responses through the real Store, as the session writes them (answer by answer, then
// finish): a smiley, a multiple choice of distinctive ids, and free text. The same ids,
// times and values whether sealed or not. The Store stays open (its WAL in use) for the
// caller to copy the folder as a thief would.
std::unique_ptr<Store> fill(const fs::path& db, std::optional<SealPublicKey> key) {
    const std::int64_t base = 1'790'000'000'000;
    auto store = std::make_unique<Store>(db, base);
    store->set_seal_to(std::move(key));
    for (int i = 0; i < kResponses; ++i) {
        ResponseHeader h;
        char id[40];
        std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        h.id = id;
        h.survey_id = "family";
        h.survey_version = 1;
        h.language = "fi";
        h.site = "kirjasto";
        h.started_ms = base + i * 120'000;
        store->save_answer(h, "mood", {std::to_string(1 + i % 5)}, h.started_ms + 5'000);
        std::vector<std::string> liked = {kChoices[i % 3]};
        if (i % 2) liked.push_back(kChoices[(i + 1) % 3]);
        store->save_answer(h, "liked", liked, h.started_ms + 10'000);
        store->save_answer(h, "idea", {free_text(i)}, h.started_ms + 20'000);
        store->finish(h.id, i % 10 == 9 ? ResponseStatus::Abandoned : ResponseStatus::Complete, h.started_ms + 30'000,
                      20'000);
    }
    return store;
}

struct Keys {
    SealKeyPair k1 = new_seal_keypair("k1");
    SealKeyPair k2 = new_seal_keypair("k2");
};

void write_secret(const fs::path& file, const std::string& secret) {
    write_file(file, secret + "\n");
    ::chmod(file.c_str(), 0600);
}

std::string collector_config(const TestDatabase& database, const std::string& token, const std::string& keys) {
    return "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = true\n" + database.toml() +
           (keys.empty() ? std::string() : "[privacy]\nkeys = [" + keys + "]\n") +
           "[[device]]\nname = \"kirjasto-1\"\ntoken_hash = \"" + hash_token(token) + "\"\n";
}

RunResult sync_with(const TempDir& dir, const std::string& url, const std::string& token, const fs::path& db) {
    const auto config = dir / "sync.toml";
    write_file(config, "[sync]\nendpoint = \"" + url + "\"\ntoken = \"" + token + "\"\n");
    return run_program({KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", db.string()});
}

// The one long CSV a collector export command writes.
std::string collector_long_csv(const CollectorProcess& c, const fs::path& out) {
    fs::create_directories(out);
    RunResult r = c.run({"export", "--out", out.string(), "--format", "long", "--include-abandoned",
                         "--include-flagged"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    for (const auto& e : fs::directory_iterator(out))
        if (e.path().extension() == ".csv") return read_file(e.path());
    FAIL("no CSV in " << out.string());
    return "";
}

std::string kiosk_long_csv(const std::vector<std::string>& extra, const fs::path& out) {
    fs::create_directories(out);
    std::vector<std::string> argv = {KOHTAAMO_EXPORT_BIN, "--config", (config_dir() / "kiosk.toml").string(),
                                     "--out",             out.string(), "--format", "long", "--include-abandoned",
                                     "--include-flagged", "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult r = run_program(argv);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    for (const auto& e : fs::directory_iterator(out))
        if (e.path().extension() == ".csv") return read_file(e.path());
    FAIL("no CSV in " << out.string());
    return "";
}

// A kiosk database's device_id, set to `id` (so two kiosks' exports can be compared).
void set_device_id(const fs::path& db, const std::string& id) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    sqlite_exec(h, ("UPDATE device SET value = '" + id + "' WHERE key = 'device_id'").c_str());
    sqlite_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(h);
}

}  // namespace

TEST_CASE("sealed: a thief's copy of a sealed kiosk's data folder holds no answer value or typed text", "[seal]") {
    TempDir dir;
    Keys keys;
    const fs::path data = dir / "data";
    auto store = fill(data / "kohtaamo.sqlite", parse_seal_public_key(keys.k1.public_key));
    // What the coordinator's Export writes to a stick without the key, here into the data
    // folder's own stick folder, and what kohtaamo-export does on the kiosk without --key.
    fs::create_directories(data / "stick");
    ExportResult delivered = write_delivery_file(data / "kohtaamo.sqlite", true, data / "stick", "kohtaamo-kirjasto");
    INFO(delivered.message);
    REQUIRE(delivered.ok());
    CHECK(delivered.responses == static_cast<std::uint64_t>(kResponses));
    fs::create_directories(data / "exports");
    RunResult plain = run_program({KOHTAAMO_EXPORT_BIN, "--config", (config_dir() / "kiosk.toml").string(), "--db",
                                   (data / "kohtaamo.sqlite").string(), "--out", (data / "exports").string(),
                                   "--format", "long,jsonl", "--quiet"});
    CHECK(plain.exit_code != 0);
    CHECK_THAT(plain.err, Catch::Contains("sealed"));
    CHECK(fs::is_empty(data / "exports"));

    // The thief copies everything while the kiosk runs (the WAL in use, not checkpointed).
    const fs::path loot = dir / "loot";
    fs::copy(data, loot, fs::copy_options::recursive);
    CHECK(fs::file_size(loot / "kohtaamo.sqlite-wal") > 0);
    std::size_t files = 0, bytes = 0;
    const auto all = secrets();
    for (const auto& e : fs::recursive_directory_iterator(loot)) {
        if (!e.is_regular_file()) continue;
        const std::string content = read_file(e.path());
        ++files;
        bytes += content.size();
        for (const auto& s : all) {
            INFO(e.path().string() << " holds \"" << s << "\"");
            CHECK(content.find(s) == std::string::npos);
        }
    }
    CHECK(files >= 4);  // database, -wal, -shm, the delivery file
    CHECK(bytes > 10'000);
    // What the thief does learn: how many responses, when, of which survey.
    CHECK(query(loot / "kohtaamo.sqlite", "SELECT count(*), min(started_at) FROM responses") ==
          Rows{{"100", "2026-09-21T14:13:20.000Z"}});
    // Every answer row is a box with its key id; no clear value is left.
    CHECK(query(loot / "kohtaamo.sqlite", "SELECT count(*) FROM answers WHERE seal_key IS NOT 'k1'") == Rows{{"0"}});
    // A box's length says nothing about which choice it holds: every short value pads alike.
    CHECK(query(loot / "kohtaamo.sqlite",
                "SELECT count(DISTINCT length(value)) FROM answers WHERE question_id IN ('mood', 'liked')") ==
          Rows{{"1"}});
}

TEST_CASE("sealed: the collector opens sealed answers on arrival, its export equals an unsealed kiosk's, and a "
          "delivery file imports once",
          "[seal][db]") {
    TempDir dir;
    Keys keys;
    write_secret(dir / "k1.secret", keys.k1.secret_key);
    write_secret(dir / "k2.secret", keys.k2.secret_key);
    const std::string token = new_token();
    const fs::path sealed_db = dir / "sealed" / "kohtaamo.sqlite", clear_db = dir / "clear" / "kohtaamo.sqlite";
    std::string device_id;
    {
        auto s = fill(sealed_db, parse_seal_public_key(keys.k1.public_key));
        device_id = s->device_id();
        auto c = fill(clear_db, std::nullopt);
    }
    set_device_id(clear_db, device_id);

    // The unsealed kiosk to a collector without keys, the sealed one to one holding k1 and k2.
    TestDatabase clear_database(dir / "clear"), sealed_database(dir / "sealed");
    CollectorProcess clear_collector(dir.path(), collector_config(clear_database, token, ""), "clear");
    CollectorProcess sealed_collector(dir.path(), collector_config(sealed_database, token, "\"k1.secret\", \"k2.secret\""),
                                      "sealed");
    RunResult r = sync_with(dir, clear_collector.url(), token, clear_db);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    r = sync_with(dir, sealed_collector.url(), token, sealed_db);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(count(sealed_db, "SELECT count(*) FROM responses WHERE synced_at IS NULL") == 0);

    // The collector stores clear values, as from any kiosk: the same export, byte for byte.
    const std::string clear_csv = collector_long_csv(clear_collector, dir / "out-clear");
    const std::string sealed_csv = collector_long_csv(sealed_collector, dir / "out-sealed");
    CHECK_THAT(clear_csv, Catch::Contains(free_text(7)));
    CHECK(sealed_csv == clear_csv);
    CHECK(sealed_database.count("SELECT count(*) FROM answers WHERE value = '" + free_text(42) + "'") == 1);

    // The delivery file (the coordinator's Export without the key) into a third collector:
    // once stores every response, twice adds nothing; its export is the same again.
    fs::create_directories(dir / "stick");
    ExportResult delivered = write_delivery_file(sealed_db, true, dir / "stick", "kohtaamo-kirjasto");
    REQUIRE(delivered.ok());
    CHECK(delivered.responses == 0);  // everything was acknowledged by sync already
    // (A kiosk that never synced: the same data, nothing acknowledged.)
    const fs::path never = dir / "never" / "kohtaamo.sqlite";
    { auto s = fill(never, parse_seal_public_key(keys.k1.public_key)); }
    set_device_id(never, device_id);
    delivered = write_delivery_file(never, true, dir / "stick", "kohtaamo-kirjasto");
    REQUIRE(delivered.ok());
    REQUIRE(delivered.files.size() == 1);
    CHECK(delivered.responses == static_cast<std::uint64_t>(kResponses));
    CHECK((fs::status(delivered.files[0]).permissions() & fs::perms::others_read) == fs::perms::none);
    TestDatabase imported_database(dir / "imported");
    CollectorProcess imported(dir.path(), collector_config(imported_database, token, "\"k1.secret\""), "imported");
    r = imported.run({"import", delivered.files[0].string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("100 response(s) stored, 0 already held"));
    CHECK(imported_database.count("SELECT count(*) FROM responses") == kResponses);
    const std::int64_t answers = imported_database.count("SELECT count(*) FROM answers");
    r = imported.run({"import", delivered.files[0].string()});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("0 response(s) stored, 100 already held"));
    CHECK(imported_database.count("SELECT count(*) FROM responses") == kResponses);
    CHECK(imported_database.count("SELECT count(*) FROM answers") == answers);
    CHECK(collector_long_csv(imported, dir / "out-imported") == clear_csv);
    // The sync of the same responses afterwards: every one a duplicate, nothing new.
    r = sync_with(dir, imported.url(), token, never);
    REQUIRE(r.exit_code == 0);
    CHECK(imported_database.count("SELECT count(*) FROM responses") == kResponses);

    // A delivery file sealed to a key this collector lacks is refused, naming the key.
    const fs::path other = dir / "other" / "kohtaamo.sqlite";
    { auto s = fill(other, parse_seal_public_key(keys.k2.public_key)); }
    ExportResult k2file = write_delivery_file(other, true, dir / "stick", "other");
    REQUIRE(k2file.ok());
    r = imported.run({"import", k2file.files[0].string()});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("unknown_seal_key") && Catch::Contains("\"k2\""));
    CHECK(imported_database.count("SELECT count(*) FROM responses") == kResponses);
}

TEST_CASE("sealed: a batch sealed to a key the collector does not hold is refused with 422, and the kiosk keeps it "
          "without retrying it at the backoff's pace",
          "[seal][db]") {
    TempDir dir;
    Keys keys;
    write_secret(dir / "k1.secret", keys.k1.secret_key);
    const std::string token = new_token();
    const fs::path db = dir / "data" / "kohtaamo.sqlite";
    { auto s = fill(db, parse_seal_public_key(keys.k2.public_key)); }  // sealed to k2: the collector has k1
    TestDatabase database(dir / "c");
    CollectorProcess collector(dir.path(), collector_config(database, token, "\"k1.secret\""));

    // The one-shot uploader says why and exits 2; nothing is marked, set aside or lost.
    RunResult r = sync_with(dir, collector.url(), token, db);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("HTTP 422") && Catch::Contains("\"k2\""));
    CHECK(database.count("SELECT count(*) FROM responses") == 0);
    CHECK(count(db, "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NULL") == kResponses);
    const Rows open = query(db, "SELECT id, failures FROM sync_batches WHERE state = 'open'");
    REQUIRE(open.size() == 1);
    CHECK(open[0][1] == "0");  // not counted against the batch (it is not to blame)

    // The kiosk's own uploader thread, with a backoff of milliseconds: one request, then it
    // waits auth_retry (slow) instead; the coordinator screen reads why.
    SyncConfig config = fast_config(collector.url(), token);
    config.auth_retry = std::chrono::minutes(30);
    const auto posts = [&] {
        const std::string log = collector.log();
        std::size_t n = 0;
        for (std::size_t at = log.find("/v1/batches"); at != std::string::npos; at = log.find("/v1/batches", at + 1)) ++n;
        return n;
    };
    const std::size_t before = posts();
    {
        Uploader up(db, config);
        up.start();
        REQUIRE(wait_until([&] { return posts() > before; }, 10s));
        std::this_thread::sleep_for(1500ms);
        CHECK(posts() == before + 1);
        const SyncStatus s = up.status();
        CHECK(s.state == SyncState::Waiting);
        CHECK_THAT(s.last_error, Catch::Contains("cannot open this kiosk's sealed answers") && Catch::Contains("k2"));
        up.stop();
    }
    // By hand: a batch sealed to k1 is stored with its clear values; one box altered is 400
    // naming the answer (the uploader isolates that response, as for any 400).
    const SealPublicKey k1 = parse_seal_public_key(keys.k1.public_key);
    auto sealed = [&](Batch b) {
        for (auto& resp : b.responses)
            for (auto& a : resp.answers) {
                a.sealed = "k1:" + seal_value(k1, a.value);
                a.value.clear();
            }
        return b;
    };
    const std::vector<std::string> headers = {"Authorization: Bearer " + token, "Content-Type: application/json",
                                              "Content-Encoding: gzip"};
    const Batch clear = make_batch(2, 11);
    Batch good = sealed(clear);
    HttpReply ok = post(collector.url() + kBatchesPath, headers, gzip(encode_batch(good)));
    INFO(ok.body);
    CHECK(ok.status == 200);
    CHECK(database.count("SELECT count(*) FROM answers WHERE value = '" + clear.responses[0].answers[0].value +
                         "' AND response_id = '" + clear.responses[0].id + "'") == 1);
    Batch altered = sealed(make_batch(2, 12));
    std::string& box = altered.responses[1].answers[0].sealed;
    box[10] = box[10] == 'A' ? 'B' : 'A';
    HttpReply bad = post(collector.url() + kBatchesPath, headers, gzip(encode_batch(altered)));
    CHECK(bad.status == 400);
    CHECK_THAT(bad.body, Catch::Contains("invalid_body") && Catch::Contains("responses[1].answers[0].sealed") &&
                             Catch::Contains("does not open with key"));
    Batch malformed = sealed(make_batch(2, 13));
    malformed.responses[0].answers[0].sealed = "k1:not base64!";
    bad = post(collector.url() + kBatchesPath, headers, gzip(encode_batch(malformed)));
    CHECK(bad.status == 400);
    CHECK_THAT(bad.body, Catch::Contains("responses[0].answers[0].sealed"));

    // The same batch is kept open (same id) for when the collector gets the key.
    CHECK(query(db, "SELECT id FROM sync_batches WHERE state = 'open'") == Rows{{open[0][0]}});
    const SyncStatus saved = read_sync_status(db, true);
    CHECK(saved.pending == kResponses);
    CHECK(saved.rejected == 0);
    CHECK_THAT(saved.last_error, Catch::Contains("k2"));
}

TEST_CASE("sealed: kohtaamo-export --key opens a sealed kiosk database and a delivery file, and a locked key file "
          "opens with its passphrase",
          "[seal]") {
    TempDir dir;
    Keys keys;
    write_secret(dir / "k1.secret", keys.k1.secret_key);
    const fs::path sealed_db = dir / "sealed" / "kohtaamo.sqlite", clear_db = dir / "clear" / "kohtaamo.sqlite";
    { auto s = fill(sealed_db, parse_seal_public_key(keys.k1.public_key)); }
    { auto c = fill(clear_db, std::nullopt); }
    const std::string clear_csv = kiosk_long_csv({"--db", clear_db.string()}, dir / "out-clear");
    CHECK_THAT(clear_csv, Catch::Contains(free_text(3)));
    CHECK(kiosk_long_csv({"--db", sealed_db.string(), "--key", (dir / "k1.secret").string()}, dir / "out-sealed") ==
          clear_csv);
    // The database itself is untouched: still sealed.
    CHECK(count(sealed_db, "SELECT count(*) FROM answers WHERE seal_key IS NULL") == 0);

    fs::create_directories(dir / "stick");
    ExportResult delivered = write_delivery_file(sealed_db, true, dir / "stick", "kirjasto");
    REQUIRE(delivered.ok());
    CHECK(kiosk_long_csv({"--db", delivered.files[0].string(), "--key", (dir / "k1.secret").string()},
                         dir / "out-delivery") == clear_csv);

    // The coordinator's stick carries the key locked with a passphrase (wrap-key).
    RunResult w = run_program({"/bin/sh", "-c",
                               "printf 'kissa kävelee yksin\\nkissa kävelee yksin\\n' | " +
                                   std::string(KOHTAAMO_COLLECTOR_BIN) + " wrap-key --secret " +
                                   (dir / "k1.secret").string() + " --out " + (dir / "stick" / "k1.key").string()});
    INFO(w.out << w.err);
    REQUIRE(w.exit_code == 0);
    const std::string locked = read_file(dir / "stick" / "k1.key");
    CHECK(locked.rfind("kohtaamo-key-1 k1 ", 0) == 0);
    CHECK(locked.find(keys.k1.secret_key.substr(3)) == std::string::npos);
    auto export_with = [&](const std::string& passphrase, const fs::path& out) {
        fs::create_directories(out);
        return run_program({"/bin/sh", "-c",
                            "printf '" + passphrase + "\\n' | " + std::string(KOHTAAMO_EXPORT_BIN) + " --config " +
                                (config_dir() / "kiosk.toml").string() + " --db " + sealed_db.string() + " --key " +
                                (dir / "stick" / "k1.key").string() + " --out " + out.string() +
                                " --format long --include-abandoned --include-flagged --quiet"});
    };
    RunResult wrong = export_with("koira", dir / "out-wrong");
    CHECK(wrong.exit_code == 2);
    CHECK_THAT(wrong.err, Catch::Contains("the passphrase does not open key \"k1\""));
    CHECK(fs::is_empty(dir / "out-wrong"));
    RunResult right = export_with("kissa kävelee yksin", dir / "out-locked");
    INFO(right.out << right.err);
    REQUIRE(right.exit_code == 0);
    for (const auto& e : fs::directory_iterator(dir / "out-locked"))
        if (e.path().extension() == ".csv") CHECK(read_file(e.path()) == clear_csv);

    // A key of another id does not open k1's answers; the refusal names both.
    write_secret(dir / "k2.secret", keys.k2.secret_key);
    fs::create_directories(dir / "out-k2");
    RunResult k2 = run_program({KOHTAAMO_EXPORT_BIN, "--config", (config_dir() / "kiosk.toml").string(), "--db",
                                sealed_db.string(), "--key", (dir / "k2.secret").string(), "--out",
                                (dir / "out-k2").string(), "--format", "long", "--quiet"});
    CHECK(k2.exit_code != 0);
    CHECK_THAT(k2.err, Catch::Contains("\"k1\"") && Catch::Contains("k2"));
}
