// Several collectors on one PostgreSQL (tag [postgresql]: these run on that driver
// only): the same batch at two instances at once, token reloads and the export limit
// across instances, `kohtaamo-collector migrate` from SQLite, and three collector
// processes behind nginx with TLS (a test CA made here with openssl, verified by the
// uploader) through a SIGKILL of one collector and a restart of PostgreSQL; and a
// failover of PostgreSQL to its synchronous standby under two collectors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg_cluster.hpp"
#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;
using namespace kohtaamo::testbed;

namespace {

std::vector<std::string> batch_headers(const std::string& token) {
    return {"Authorization: Bearer " + token, "Content-Type: application/json", "Content-Encoding: gzip"};
}

CollectorConfig config_on(const DatabaseConfig& db, const std::vector<DeviceToken>& devices,
                          const std::filesystem::path& dir) {
    CollectorConfig c;
    c.port = 0;
    c.database = db;
    c.log_requests = false;
    c.devices = devices;
    c.export_work_dir = dir;
    c.server = TestCollector::fast_server();
    return c;
}

}  // namespace

TEST_CASE("instances: the same batch at two collectors at once is stored once", "[postgresql]") {
    TempDir dir;
    TestDatabase db(dir.path(), DatabaseConfig::Driver::Postgresql);
    const std::string token = new_token();
    const std::vector<DeviceToken> devices = {{"k1", hash_token(token), true}};
    Collector a(config_on(db.config(), devices, dir.path())), b(config_on(db.config(), devices, dir.path()));
    const int pa = a.start(), pb = b.start();
    std::size_t stored = 0, duplicate = 0;
    for (int round = 0; round < 20; ++round) {
        const Batch batch = make_batch(20, 1000 + round);
        const std::string body = gzip(encode_batch(batch));
        HttpReply ra, rb;
        std::thread ta([&] { ra = post("http://127.0.0.1:" + std::to_string(pa) + kBatchesPath, batch_headers(token), body); });
        std::thread tb([&] { rb = post("http://127.0.0.1:" + std::to_string(pb) + kBatchesPath, batch_headers(token), body); });
        ta.join();
        tb.join();
        REQUIRE(ra.status == 200);
        REQUIRE(rb.status == 200);
        std::string why;
        auto x = decode_reply(ra.body, batch.batch_id, why), y = decode_reply(rb.body, batch.batch_id, why);
        REQUIRE(x);
        REQUIRE(y);
        // One of the two stored all twenty, the other found them there.
        CHECK(x->stored.size() + y->stored.size() == 20);
        CHECK(x->duplicate.size() + y->duplicate.size() == 20);
        CHECK((x->stored.empty() || y->stored.empty()));
        stored += x->stored.size() + y->stored.size();
        duplicate += x->duplicate.size() + y->duplicate.size();
        // The same id with another body, at the other instance: 409.
        Batch changed = batch;
        changed.responses[0].site = "muu";
        CHECK(post("http://127.0.0.1:" + std::to_string(round % 2 ? pa : pb) + kBatchesPath, batch_headers(token),
                   gzip(encode_batch(changed)))
                  .status == 409);
    }
    CHECK(stored == 400);
    CHECK(db.count("SELECT count(*) FROM responses") == 400);
    CHECK(db.count("SELECT count(DISTINCT id) FROM responses") == 400);
    CHECK(db.count("SELECT count(*) FROM answers") == 1200);
    CHECK(db.count("SELECT count(*) FROM batches") == 20);
}

TEST_CASE("instances: a token reload at one collector reaches the others, and so does the export limit",
          "[postgresql]") {
    TempDir dir;
    TestDatabase db(dir.path(), DatabaseConfig::Driver::Postgresql);
    const std::string old_token = new_token(), new_kiosk = new_token(), exporter = new_token();
    Collector a(config_on(db.config(), {{"k1", hash_token(old_token), true}}, dir.path()));
    CollectorConfig cb = config_on(db.config(), {{"k1", hash_token(old_token), true}}, dir.path());
    cb.export_tokens = {{"coordinator", hash_token(exporter), true}};
    Collector b(cb);  // its start published the export token too: the database's lists are the last published
    const int pa = a.start(), pb = b.start();
    const std::string at_b = "http://127.0.0.1:" + std::to_string(pb);
    CHECK(get(at_b + kDevicePath, {"Authorization: Bearer " + old_token}).status == 200);
    CHECK(get(at_b + kDevicePath, {"Authorization: Bearer " + new_kiosk}).status == 401);
    // SIGHUP at A does this: A publishes its file's lists; B serves them within a second.
    a.set_tokens({{{"k1", hash_token(old_token), false}, {"k2", hash_token(new_kiosk), true}},
                  {{"coordinator", hash_token(exporter), true}}});
    CHECK(wait_until([&] { return get(at_b + kDevicePath, {"Authorization: Bearer " + new_kiosk}).status == 200; }, 3s));
    CHECK(get(at_b + kDevicePath, {"Authorization: Bearer " + old_token}).status == 403);
    CHECK(post(at_b + kBatchesPath, batch_headers(old_token), gzip(encode_batch(make_batch(1, 1)))).status == 403);
    CHECK(post("http://127.0.0.1:" + std::to_string(pa) + kBatchesPath, batch_headers(new_kiosk),
               gzip(encode_batch(make_batch(2, 2))))
              .status == 200);
    // Two exports held at A (its slots are the database's): B refuses a third with 503.
    auto one = a.storage().take_export_slot("test-1", kMaxConcurrentExports, 60s);
    auto two = a.storage().take_export_slot("test-2", kMaxConcurrentExports, 60s);
    REQUIRE(one);
    REQUIRE(two);
    CHECK_FALSE(b.storage().take_export_slot("test-3", kMaxConcurrentExports, 60s));
    HttpReply r = get(at_b + kExportPath + "?format=long", {"Authorization: Bearer " + exporter});
    CHECK(r.status == 503);
    CHECK(r.header("retry-after") == "30");
    a.storage().release_export_slot(*one);
    r = get(at_b + kExportPath + "?format=long", {"Authorization: Bearer " + exporter});
    CHECK(r.status == 200);
    CHECK(r.header("x-kohtaamo-responses") == "2");
    // An expired slot (its holder died) is free again.
    CHECK(a.storage().take_export_slot("test-4", kMaxConcurrentExports, 0s));
}

TEST_CASE("instances: PostgreSQL gone is 503 with Retry-After, and the collector recovers by itself", "[postgresql]") {
    TempDir dir;
    TestDatabase db(dir.path(), DatabaseConfig::Driver::Postgresql);
    const std::string token = new_token();
    Collector c(config_on(db.config(), {{"k1", hash_token(token), true}}, dir.path()));
    const std::string url = "http://127.0.0.1:" + std::to_string(c.start());
    REQUIRE(post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, 1)))).status == 200);
    PgCluster::get().stop();
    HttpReply r = post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, 2))));
    PgCluster::get().start();
    CHECK(r.status == 503);
    CHECK(decode_error(r.body).first == "unavailable");
    CHECK(r.header("retry-after") == "5");
    CHECK(get(url + kHealthPath).status == 200);
    CHECK(post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, 3)))).status == 200);
    CHECK(db.count("SELECT count(*) FROM responses") == 4);
}

TEST_CASE("migrate: a SQLite collector database copied into PostgreSQL holds the same rows, checked", "[postgresql]") {
    TempDir dir;
    // A SQLite collector that kiosks have uploaded to.
    TestDatabase from(dir.path(), DatabaseConfig::Driver::Sqlite);
    {
        const std::string token = new_token();
        CollectorConfig c = config_on(from.config(), {{"k1", hash_token(token), true}}, dir.path());
        Collector col(c);
        const std::string url = "http://127.0.0.1:" + std::to_string(col.start());
        for (int i = 0; i < 12; ++i) {
            Batch b = make_batch(150, 40 + i);
            b.responses[0].answers.push_back({"q9", std::string(12000, 'x') + "ä\n\"'", b.responses[0].started_at});
            b.responses[1].finished_at.clear();
            REQUIRE(post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(b))).status == 200);
        }
    }
    {
        // What the county published and what the kiosks said of themselves moves too.
        auto s = Storage::open(from.config());
        StoredBundle bundle{3, "kirjasto", "2026-11-30T10:00:00.000Z", "ab12", 5};
        REQUIRE(s->store_bundle(bundle, "QUJD", {{"perhe", 2, "cd34", "id = \"perhe\"\n"}}));
        s->record_bundle_report("k1", "kirjasto", 3, "", "2026-11-30T11:00:00.000Z");
        Health h;
        h.app_version = "1.4.0";
        h.pending = 7;
        h.free_disk_bytes = 5'000'000'000;
        h.last_error = "cannot reach the collector";
        s->record_health("1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5", "k1", h, 1'764'500'000'000);
        WebAccount coordinator;
        coordinator.name = "liisa";
        coordinator.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
        coordinator.sites = {"kirjasto"};
        s->put_web_account(coordinator);
    }
    TestDatabase to(dir.path(), DatabaseConfig::Driver::Postgresql);
    write_file(dir / "collector.toml", "[server]\nport = 0\n" + from.toml());
    auto migrate = [&](const std::string& target) {
        return run_program({KOHTAAMO_COLLECTOR_BIN, "--config", (dir / "collector.toml").string(), "migrate", "--to", target});
    };
    RunResult r = migrate(to.url());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("migrated 12 batches, 1800 responses and 5412 answers"));
    for (const char* sql : {"SELECT id, device_id, device_name, body_hash, received_at, responses, stored FROM batches ORDER BY id",
                            "SELECT id, survey_id, survey_version, language, status, started_at, finished_at, site, event,"
                            " flagged, device_id, device_name, batch_id, received_at FROM responses ORDER BY id",
                            "SELECT response_id, question_id, value, answered_at FROM answers ORDER BY response_id, question_id, value",
                            "SELECT version, site, created_at, bytes, sha256, body FROM bundles ORDER BY version",
                            "SELECT survey_id, survey_version, sha256, definition, bundle_version FROM bundle_surveys ORDER BY survey_id",
                            "SELECT device_name, site, running, error, reported_at FROM device_bundles ORDER BY device_name",
                            "SELECT device_id, device_name, heard_ms, heard_at, has_health, app_version, bundle_version,"
                            " config_version, pending, oldest_pending_age_s, free_disk_bytes, uptime_s, last_error"
                            " FROM device_health ORDER BY device_id",
                            "SELECT hash, survey_id, survey_version, definition, source, received_at FROM survey_definitions"
                            " ORDER BY hash",
                            "SELECT name, password_hash, sites, failures, locks, locked_until_ms, created_at FROM web_accounts"}) {
        INFO(sql);
        const Rows a = from.query(sql), b = to.query(sql);
        CHECK(a.size() > 0);
        CHECK(a == b);
    }
    // Again: nothing doubles, the check passes.
    r = migrate(to.url());
    CHECK(r.exit_code == 0);
    CHECK(to.count("SELECT count(*) FROM responses") == 1800);
    // Into a database that holds other answers: refused, saying so.
    TestDatabase busy(dir.path(), DatabaseConfig::Driver::Postgresql);
    {
        Storage::open(busy.config())->store(make_batch(1, 5), "other", "blake2b:x");
    }
    r = migrate(busy.url());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("NOT the same") && Catch::Contains("responses: 1800 in") &&
                          Catch::Contains("not an empty collector database"));
    // Not to SQLite, and not from PostgreSQL.
    CHECK(migrate("sqlite:" + (dir / "x.sqlite").string()).exit_code == 2);
    write_file(dir / "pg.toml", "[server]\nport = 0\n" + to.toml());
    r = run_program({KOHTAAMO_COLLECTOR_BIN, "--config", (dir / "pg.toml").string(), "migrate", "--to", busy.url()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("not a SQLite file"));
}

// ---------------------------------------------------------------------------------------
// Real kiosks through faults: three collectors behind nginx, and a failover.

namespace {

// `kiosks` kiosks k1, k2, … with `each` finished responses, their tokens, and the
// collectors' config for them on `db` (4 threads, 2 connections).
struct Fleet {
    std::vector<KioskDb> kiosks;
    std::vector<std::string> tokens;
    std::string collector_config;
    int total = 0, answers = 0;
    Fleet(const TempDir& dir, const TestDatabase& db, int kiosks_, int each, unsigned seed) {
        std::string devices;
        for (int i = 0; i < kiosks_; ++i) {
            tokens.push_back(new_token());
            devices += "[[device]]\nname = \"k" + std::to_string(i + 1) + "\"\ntoken_hash = \"" + hash_token(tokens.back()) + "\"\n";
            kiosks.push_back(make_kiosk_db(dir / ("k" + std::to_string(i) + ".sqlite"), each, seed + static_cast<unsigned>(i)));
            total += kiosks.back().finished;
            answers += kiosks.back().answers;
        }
        collector_config = "[server]\nlisten = \"127.0.0.1\"\nport = 0\nthreads = 4\n" + db.toml() +
                           "connections = 2\n[export]\nwork_dir = \"" + dir.path().string() + "\"\n" + devices;
    }
};

// A real kohtaamo-sync process per kiosk, posting to `endpoint(i)` (`extra`: more [sync]
// lines), small batches so that the faults land mid-run; each runs again until it says
// everything is sent, for at most 100 s.
struct KioskRuns {
    std::vector<std::thread> threads;
    std::atomic<int> finished{0};
    KioskRuns(const TempDir& dir, const Fleet& fleet, const std::function<std::string(int)>& endpoint,
              const std::string& extra = "") {
        for (int i = 0; i < static_cast<int>(fleet.kiosks.size()); ++i) {
            const auto conf = dir / ("kiosk-" + std::to_string(i) + ".toml");
            write_file(conf, "[sync]\nendpoint = \"" + endpoint(i) + "\"\ntoken = \"" +
                                 fleet.tokens[static_cast<std::size_t>(i)] + "\"\n" + extra +
                                 "batch_max_responses = 15\nconnect_timeout_seconds = 2\nrequest_timeout_seconds = 20\n"
                                 "backoff_initial_seconds = 1\nbackoff_max_seconds = 2\nretry_after_max_seconds = 1\n");
            const std::string database = fleet.kiosks[static_cast<std::size_t>(i)].path.string();
            threads.emplace_back([this, conf, database] {
                const auto deadline = std::chrono::steady_clock::now() + 100s;
                while (std::chrono::steady_clock::now() < deadline) {
                    RunResult r = run_program(
                        {KOHTAAMO_SYNC_BIN, "--config", conf.string(), "--database", database, "--attempts", "20", "-q"});
                    if (r.exit_code == 0) {
                        ++finished;
                        return;
                    }
                }
            });
        }
    }
    void join() {
        for (auto& t : threads) t.join();
    }
    ~KioskRuns() {
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
};

// Every response of every kiosk in the database exactly once with its answers, each
// kiosk's all marked sent, and every batch a kiosk counts as acknowledged held, once.
void check_delivered(const TestDatabase& db, const Fleet& fleet) {
    CHECK(db.count("SELECT count(*) FROM responses") == fleet.total);
    CHECK(db.count("SELECT count(DISTINCT id) FROM responses") == fleet.total);
    CHECK(db.count("SELECT count(*) FROM answers") == fleet.answers);
    for (std::size_t i = 0; i < fleet.kiosks.size(); ++i) {
        const auto& k = fleet.kiosks[i];
        CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished);
        CHECK(db.count("SELECT count(*) FROM responses WHERE device_name = 'k" + std::to_string(i + 1) + "'") == k.finished);
        CHECK(db.count("SELECT count(*) FROM batches WHERE device_id = '" + k.device_id + "'") ==
              count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'acked'"));
    }
}

// A primary with a database of its own and its standby (pg_basebackup -R), removed at the end.
struct Replicated {
    PgCluster primary{false};
    std::string on_primary = primary.create_database();  // its url
    std::string name = on_primary.substr(on_primary.rfind('/') + 1);
    std::unique_ptr<PgCluster> standby;
    explicit Replicated(bool synchronous) : standby(PgCluster::standby_of(primary, synchronous)) {}
    // A url listing both servers, `first` first, as collector.toml's may.
    std::string url(const PgCluster& first, const PgCluster& second, const std::string& options) const {
        return "postgresql://kohtaamo@" + first.host_port() + "," + second.host_port() + "/" + name + options;
    }
    // What the primary alone holds, asked of it with psql: "2\n" for two responses.
    std::string responses_on_primary() const {
        return run_program({(pg_bindir() / "psql").string(), on_primary, "-Atc", "SELECT count(*) FROM responses"}).out;
    }
};

}  // namespace

TEST_CASE("instances: three collectors behind nginx with TLS lose nothing and double nothing through a kill -9 "
          "of one and a restart of PostgreSQL",
          "[postgresql]") {
    TempDir dir;
    TestDatabase db(dir.path(), DatabaseConfig::Driver::Postgresql);
    TestCa ca(dir.path());
    const Fleet fleet(dir, db, 4, 600, 70);
    std::vector<std::unique_ptr<CollectorProcess>> collectors;
    for (int i = 0; i < 3; ++i)
        collectors.push_back(
            std::make_unique<CollectorProcess>(dir.path(), fleet.collector_config, "collector-" + std::to_string(i + 1)));
    Nginx nginx(dir.path(), ca, {collectors[0]->port(), collectors[1]->port(), collectors[2]->port()});
    const std::string endpoint = "https://127.0.0.1:" + std::to_string(nginx.port());
    // Through nginx, with the certificate verified against the test CA.
    HttpReply health = get(endpoint + kHealthPath);
    CHECK(health.status == 0);  // curl here trusts the system CAs only: the test CA is not one
    KioskRuns runs(dir, fleet, [&](int) { return endpoint; }, "ca_file = \"" + ca.ca.string() + "\"\n");
    auto stored = [&] { return db.count("SELECT count(*) FROM responses"); };
    // A third of the way: collector 2 is killed as a crash would.
    REQUIRE(wait_until([&] { return stored() >= fleet.total / 3; }, 60s));
    collectors[1]->kill();
    CHECK(runs.finished == 0);  // mid-run: nobody is done yet
    // Two thirds: PostgreSQL restarts under everyone's feet.
    REQUIRE(wait_until([&] { return stored() >= 2 * fleet.total / 3 || runs.finished == 4; }, 60s));
    const auto before_restart = stored();
    PgCluster::get().restart();
    CHECK(before_restart < fleet.total);  // mid-run
    runs.join();
    CHECK(runs.finished == 4);
    check_delivered(db, fleet);
    // The two survivors served after the kill, and all three before it.
    for (int i : {0, 2}) CHECK_THAT(collectors[static_cast<std::size_t>(i)]->log(), Catch::Contains("POST /v1/batches device=k"));
}

// ---------------------------------------------------------------------------------------
// A failover: the primary's machine gone, its synchronous standby promoted.

TEST_CASE("instances: PostgreSQL failing over to its synchronous standby mid-run (the primary killed, the standby "
          "promoted) loses no acknowledged batch and doubles nothing",
          "[postgresql]") {
    TempDir dir;
    Replicated servers(true);
    PgCluster& primary = servers.primary;
    auto& standby = servers.standby;
    // As docs/collector-deploy.md says: both servers, and only the one that takes writes.
    const std::string url = servers.url(primary, *standby, "?target_session_attrs=read-write&connect_timeout=2");
    TestDatabase db(dir.path(), DatabaseConfig::postgresql(url));
    const Fleet fleet(dir, db, 3, 500, 90);
    CollectorProcess a(dir.path(), fleet.collector_config, "collector-a"),
        b(dir.path(), fleet.collector_config, "collector-b");
    // The kiosks split between the two collectors.
    KioskRuns runs(dir, fleet, [&](int i) { return i % 2 ? b.url() : a.url(); });
    auto stored = [&] { return db.count("SELECT count(*) FROM responses"); };
    REQUIRE(wait_until([&] { return stored() >= fleet.total / 3; }, 60s));
    const auto before_kill = stored();
    primary.kill();
    const std::string primary_url = "postgresql://kohtaamo@" + primary.host_port() + "/postgres?connect_timeout=2";
    CHECK(PQping(primary_url.c_str()) == PQPING_NO_RESPONSE);  // gone
    CHECK(runs.finished == 0);  // mid-run
    // A while without a primary, as until someone (or a failover manager) promotes the
    // standby: the collectors answer 503 and the kiosks wait.
    std::this_thread::sleep_for(2s);
    standby->promote();
    runs.join();
    CHECK(runs.finished == 3);
    CHECK(before_kill < fleet.total);
    // Every batch a kiosk counts as acknowledged is on the new primary, once.
    check_delivered(db, fleet);
    // Both collectors were cut off by the failover and came back by themselves.
    for (const auto* c : {&a, &b}) CHECK_THAT(c->log(), Catch::Contains("unavailable"));
}

TEST_CASE("instances: while PostgreSQL's synchronous standby is away a batch waits, GET /v1/health says storing has "
          "stalled, and the batch is stored when the standby is back",
          "[postgresql]") {
    TempDir dir;
    Replicated servers(true);
    auto& standby = servers.standby;
    const std::string token = new_token();
    DatabaseConfig database = DatabaseConfig::postgresql(servers.on_primary);
    database.stalled_after_seconds = 2;
    Collector c(config_on(database, {{"k1", hash_token(token), true}}, dir.path()));
    const std::string url = "http://127.0.0.1:" + std::to_string(c.start());
    REQUIRE(post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, 1)))).status == 200);
    REQUIRE(get(url + kHealthPath).status == 200);
    standby->stop();
    std::atomic<int> status{-1};
    std::thread upload([&] { status = post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, 2)))).status; });
    // Whatever a check below throws: the standby back, so that the upload ends and its
    // thread is joined (a joinable thread destroyed is std::terminate, and the servers'
    // folders would stay behind).
    struct Back {
        PgCluster& standby;
        std::thread& upload;
        ~Back() {
            if (!upload.joinable()) return;
            standby.start();
            upload.join();
        }
    } back{*standby, upload};
    HttpReply health;
    CHECK(wait_until([&] { return (health = get(url + kHealthPath)).status == 503; }, 15s));
    CHECK_THAT(decode_error(health.body).second, Catch::Contains("storing has stalled: a batch has waited"));
    CHECK(health.header("retry-after") == "5");
    CHECK(status == -1);  // still waiting
    // Not stored on the primary alone, either.
    CHECK(servers.responses_on_primary() == "2\n");
    standby->start();
    upload.join();
    CHECK(status == 200);
    CHECK(get(url + kHealthPath).status == 200);
    CHECK(TestDatabase(dir.path(), database).count("SELECT count(*) FROM responses") == 4);
}

TEST_CASE("instances: a collector whose url lists a standby first is refused at the start and answers 503 when it "
          "reconnects to it, and target_session_attrs=read-write finds the primary",
          "[postgresql]") {
    // As after a failover, when the old primary comes back as the new one's standby and is
    // still first in collector.toml's url.
    TempDir dir;
    Replicated servers(false);
    PgCluster& primary = servers.primary;
    auto& standby = servers.standby;
    const std::string token = new_token();
    auto config = [&](const std::string& options) {
        return config_on(DatabaseConfig::postgresql(servers.url(*standby, primary, options)),
                         {{"k1", hash_token(token), true}}, dir.path());
    };
    int n = 0;  // batches made
    auto upload = [&](const std::string& url) {
        return post(url + kBatchesPath, batch_headers(token), gzip(encode_batch(make_batch(2, ++n))));
    };
    // Started on it: the collector stops at once, saying why.
    CHECK_THROWS_WITH(Collector(config("?connect_timeout=2")).start(),
                      Catch::Contains("read-only") && Catch::Contains("target_session_attrs=read-write"));
    SECTION("without target_session_attrs: 503, and health says so") {
        // Started while the standby was down, the collector is on the primary; PostgreSQL's
        // restart sends it to the first server of the url that answers.
        standby->stop();
        Collector c(config("?connect_timeout=2"));
        const std::string url = "http://127.0.0.1:" + std::to_string(c.start());
        CHECK(upload(url).status == 200);
        standby->start();
        primary.restart();
        const HttpReply refused = upload(url);
        CHECK(refused.status == 503);
        CHECK(refused.header("retry-after") == "5");
        CHECK_THAT(decode_error(refused.body).second, Catch::Contains("read-only"));
        const HttpReply health = get(url + kHealthPath);
        CHECK(health.status == 503);
        CHECK_THAT(decode_error(health.body).second,
                   Catch::Contains("read-only") && Catch::Contains("target_session_attrs=read-write"));
        CHECK(servers.responses_on_primary() == "2\n");  // the first batch only
    }
    SECTION("with it: the primary, before and after the restart") {
        Collector c(config("?target_session_attrs=read-write&connect_timeout=2"));
        const std::string url = "http://127.0.0.1:" + std::to_string(c.start());
        CHECK(upload(url).status == 200);
        primary.restart();
        CHECK(upload(url).status == 200);
        CHECK(get(url + kHealthPath).status == 200);
        CHECK(servers.responses_on_primary() == "4\n");
    }
}
