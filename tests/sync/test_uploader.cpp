// The uploader against the real collector over loopback, without faults: everything
// arrives once, batches are bounded and split when too big, a response the collector
// refuses stays in the kiosk, the kiosk keeps saving answers while it uploads.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include <sqlite3.h>

#include "clock.hpp"
#include "outbox.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "sync_support.hpp"
#include "uploader.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

// Every answer row of the kiosk's finished responses equals what the collector holds for
// that device: same responses, same values, nothing missing, nothing twice.
void check_same_content(const KioskDb& k, const TestCollector& col) {
    auto kiosk = query(k.path,
                       "SELECT r.id, r.survey_id, r.survey_version, r.status, r.finished_at, r.flagged, a.question_id,"
                       " a.value, a.answered_at FROM responses r JOIN answers a ON a.response_id = r.id"
                       " WHERE r.status <> 'in_progress' ORDER BY 1, 7, 8");
    auto central = col.query(
                         "SELECT r.id, r.survey_id, r.survey_version, r.status, r.finished_at, r.flagged, a.question_id,"
                         " a.value, a.answered_at FROM responses r JOIN answers a ON a.response_id = r.id"
                         " WHERE r.device_id = '" + k.device_id + "' ORDER BY 1, 7, 8");
    REQUIRE(kiosk.size() == static_cast<std::size_t>(k.answers));
    CHECK(kiosk == central);
}

}  // namespace

TEST_CASE("uploader: 10000 responses from 3 kiosks arrive exactly once", "[uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    std::vector<KioskDb> kiosks = {make_kiosk_db(dir / "k1.sqlite", 3334, 1),
                                   make_kiosk_db(dir / "k2.sqlite", 3333, 2),
                                   make_kiosk_db(dir / "k3.sqlite", 3333, 3)};
    std::vector<std::unique_ptr<Uploader>> uploaders;
    for (int i = 0; i < 3; ++i) {
        SyncConfig cfg = fast_config(col.url(), col.token(i));
        cfg.batch_max_responses = 250;
        uploaders.push_back(std::make_unique<Uploader>(kiosks[static_cast<std::size_t>(i)].path, cfg));
    }
    for (auto& up : uploaders) up->start();
    for (auto& up : uploaders) REQUIRE(wait_until([&] { return all_sent(*up); }, 90s));
    for (auto& up : uploaders) up->stop();

    CHECK(col.count("SELECT count(*) FROM responses") == 10000);
    CHECK(col.count("SELECT count(DISTINCT id) FROM responses") == 10000);
    CHECK(col.count("SELECT count(*) FROM answers") == kiosks[0].answers + kiosks[1].answers + kiosks[2].answers);
    for (std::size_t i = 0; i < kiosks.size(); ++i) {
        INFO("kiosk " << i + 1);
        const auto& k = kiosks[i];
        CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished);
        CHECK(count(k.path, "SELECT count(*) FROM responses WHERE status = 'in_progress' AND synced_at IS NULL") ==
              k.in_progress);
        CHECK(col.count("SELECT count(*) FROM responses WHERE device_name = 'k" + std::to_string(i + 1) + "'") ==
              k.finished);
        // Batches are bounded: 250 at most, so at least 14 per kiosk.
        CHECK(count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'acked'") >= (k.finished + 249) / 250);
        check_same_content(k, col);
    }
    CHECK(col.count("SELECT max(responses) FROM batches") <= 250);
}

TEST_CASE("uploader: stopped in the middle of a backlog, it has marked every batch the collector answered but the "
          "ones in flight",
          "[uploader][db]") {
    // In a backlog three batches travel at once, each on its own connection (WINDOW,
    // uploader.cpp); a stop leaves at most those three stored and unmarked, nothing half-marked.
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 6000, 7);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = 50;
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        Uploader up(k.path, cfg);
        up.start();
        const auto before = col.count("SELECT count(*) FROM batches");
        REQUIRE(wait_until([&] { return col.count("SELECT count(*) FROM batches") >= before + 5; }, 30s));
        up.stop();
        const auto per_batch = static_cast<std::int64_t>(cfg.batch_max_responses);
        const auto marked = count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'acked'");
        // Every acknowledged batch marked whole, none half.
        CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == marked * per_batch);
        // The collector may still commit a batch whose body had arrived when the stop cut its
        // connection, so what it holds is read in one statement (one snapshot): every batch
        // with all of its responses.
        CHECK(col.count("SELECT (SELECT count(*) FROM responses) - " + std::to_string(per_batch) +
                        " * (SELECT count(*) FROM batches)") == 0);
        const auto held = col.count("SELECT count(*) FROM batches");
        CHECK(held >= marked);
        CHECK(held - marked <= 3);  // at most the three in flight when it stopped: stored, their replies unread
    }
    Uploader up(k.path, cfg);
    up.start();
    REQUIRE(wait_until([&] { return all_sent(up); }, 90s));
    up.stop();
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished);
    check_same_content(k, col);
}

TEST_CASE("uploader: without abandoned responses only complete ones are sent", "[uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 300, 4);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.send_abandoned = false;
    Uploader up(k.path, cfg);
    SyncReport r = up.sync_once();
    CHECK(r.complete);
    const auto complete = count(k.path, "SELECT count(*) FROM responses WHERE status = 'complete'");
    CHECK(r.acknowledged == complete);
    CHECK(col.count("SELECT count(*) FROM responses") == complete);
    CHECK(col.count("SELECT count(*) FROM responses WHERE status = 'abandoned'") == 0);
}

TEST_CASE("uploader: a batch over the collector's size limit gets 413 and is split until it fits", "[uploader][db]") {
    TempDir dir;
    Limits limits;
    limits.max_body_bytes = 6000;  // gzip bytes: a few dozen responses
    TestCollector col(dir.path(), limits);
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 500, 5);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = 500;
    cfg.batch_max_bytes = 10 << 20;
    Uploader up(k.path, cfg);
    up.start();
    REQUIRE(wait_until([&] { return all_sent(up); }, 60s));
    up.stop();
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
    CHECK(count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'split'") >= 1);
    CHECK(col.count("SELECT count(*) FROM batches") ==
          count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'acked'"));
    check_same_content(k, col);
}

TEST_CASE("uploader: a backlog goes in batches growing from 200 to batch_max_responses while the collector takes them",
          "[uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 3000, 12);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = SyncConfig{}.batch_max_responses;
    CHECK(cfg.batch_max_responses == 1000);  // the default (sync/README.md)
    cfg.batch_max_bytes = 8 << 20;           // (bounded by count alone here)
    Uploader up(k.path, cfg);
    SyncReport r = up.sync_once();
    CHECK(r.complete);
    // In the order formed (RAMP, uploader.cpp): three of 200 in flight at once; each
    // acknowledgement of a full one doubles the next, up to 1000; the rest.
    std::vector<std::string> sizes;
    for (const auto& row : query(k.path, "SELECT count(*) FROM sync_batches b JOIN responses r ON r.batch_id = b.id"
                                         " GROUP BY b.rowid ORDER BY b.rowid"))
        sizes.push_back(row[0]);
    CHECK(sizes == std::vector<std::string>{"200", "200", "200", "400", "800", "1000", "200"});
    CHECK(col.count("SELECT count(*) FROM responses") == 3000);
    CHECK(col.count("SELECT max(responses) FROM batches") == 1000);
    check_same_content(k, col);
}

TEST_CASE("uploader: after a 413 its batches stay under half the refused one, however well the rest goes",
          "[uploader][db]") {
    TempDir dir;
    Limits limits;
    limits.max_responses = 300;  // a collector configured below the kiosk's 1000
    TestCollector col(dir.path(), limits);
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 4000, 13);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = 1000;
    cfg.batch_max_bytes = 8 << 20;
    Uploader up(k.path, cfg);
    SyncReport r = up.sync_once();
    CHECK(r.complete);
    CHECK(col.count("SELECT count(*) FROM responses") == 4000);
    CHECK(col.count("SELECT max(responses) FROM batches") <= 300);
    // Formed before the first refusal: 200, 200, 200, 400, 800, 1000. The three largest get
    // 413 and are split (400 into 200s; 800 and 1000 into 400s and 500s, each split once
    // more): seven splits. Every batch from the queue after them takes 200, the most half
    // of the first refused one allows, although each is acknowledged in full: the other
    // 1200 responses go in six batches of 200 and nothing more is refused. (Ramping up
    // again, 1000 of them would be refused and split three times over.)
    CHECK(count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'split'") == 7);
    check_same_content(k, col);
}

TEST_CASE("uploader: a response the collector refuses stays in the kiosk and is reported while the rest arrive", "[uploader][db]") {
    TempDir dir;
    Limits limits;
    limits.max_value_bytes = 1000;
    TestCollector col(dir.path(), limits);
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 120, 6);
    const auto bad = query(k.path, "SELECT id FROM responses WHERE status = 'complete' LIMIT 1")[0][0];
    {
        sqlite3* db = nullptr;
        sqlite3_open(k.path.c_str(), &db);
        sqlite3_exec(db, ("INSERT INTO answers(response_id, question_id, value, answered_at) VALUES ('" + bad + "', 'q9', printf('%.*c', 5000, 'x'), '" +
                          iso8601_utc(1'790'000'000'000) + "')").c_str(),
                     nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    Uploader up(k.path, fast_config(col.url(), col.token(0)));
    SyncReport r = up.sync_once();
    CHECK(r.complete);  // nothing pending: all sent, or refused
    CHECK(r.rejected == 1);
    CHECK(r.acknowledged == k.finished - 1);
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished - 1);
    auto rows = query(k.path, "SELECT id, sync_rejected FROM responses WHERE sync_rejected IS NOT NULL");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][0] == bad);
    CHECK_THAT(rows[0][1], Catch::Contains("value: is 5000 bytes long"));
    CHECK(up.status().rejected == 1);
    CHECK(up.retry_rejected() == 1);
    CHECK(up.status().pending == 1);
}

TEST_CASE("uploader: status is kept in the database and readable without the uploader", "[uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 50, 7);
    SyncStatus before = read_sync_status(k.path);
    CHECK(before.pending == 50);
    CHECK(before.last_success_at.empty());
    std::vector<SyncStatus> seen;
    std::mutex m;
    {
        Uploader up(k.path, fast_config(col.url(), col.token(0)));
        up.on_status_change([&](const SyncStatus& s) {
            std::lock_guard lock(m);
            seen.push_back(s);
        });
        up.start();
        REQUIRE(wait_until([&] { return all_sent(up); }, 20s));
    }
    SyncStatus after = read_sync_status(k.path);
    CHECK(after.pending == 0);
    CHECK_FALSE(after.last_success_at.empty());
    CHECK(after.last_error.empty());
    std::lock_guard lock(m);
    REQUIRE_FALSE(seen.empty());
    CHECK(std::any_of(seen.begin(), seen.end(), [](auto& s) { return s.state == SyncState::Sending; }));
    CHECK(seen.back().state == SyncState::Stopped);
    CHECK(seen.back().pending == 0);
}

TEST_CASE("uploader: the kiosk keeps saving answers quickly while it uploads", "[uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 4000, 8);
    Store store(k.path, 1'800'000'000'000);  // the kiosk's own connection, as the UI uses it
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = 1000;
    Uploader up(k.path, cfg);
    up.start();
    std::chrono::steady_clock::duration worst{};
    int saved = 0;
    // Answers keep coming while the 4000 queued ones go out.
    while (col.count("SELECT count(*) FROM responses") < k.finished || saved < 20) {
        ResponseHeader h{new_uuid(), "child", 1, "fi", "demo", "", 1'800'000'000'000};
        auto t0 = std::chrono::steady_clock::now();
        store.save_answer(h, "q1", {"4"}, 1'800'000'001'000);
        store.finish(h.id, ResponseStatus::Complete, 1'800'000'002'000);
        worst = std::max(worst, std::chrono::steady_clock::now() - t0);
        ++saved;
        up.nudge();
        REQUIRE(saved < 2000);
        std::this_thread::sleep_for(5ms);
    }
    REQUIRE(wait_until([&] { return all_sent(up); }, 20s));
    up.stop();
    CHECK(worst < 1s);
    // (opening the Store marked the two in-progress responses abandoned: they are sent too)
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished + k.in_progress + saved);
}

TEST_CASE("uploader: with no endpoint sync is off and start() does nothing", "[uploader][db]") {
    TempDir dir;
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 3, 9);
    Uploader up(k.path, SyncConfig{});
    up.start();
    CHECK(up.status().state == SyncState::Off);
    CHECK(up.status().pending == 3);
    up.stop();
}

TEST_CASE("uploader: kohtaamo-demo-data's database syncs to the collector completely", "[uploader][demo]") {
    TempDir dir;
    TestCollector col(dir.path());
    const auto db = dir / "demo.sqlite";
    RunResult made = run_program({KOHTAAMO_DEMO_DATA_BIN, "--db", db.string(), "--responses", "300", "--yearclock", "60",
                                  "--from", "2026-01-01", "--days", "181", "--fast"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    const auto finished = count(db, "SELECT count(*) FROM responses WHERE status <> 'in_progress'");
    REQUIRE(finished == 360);
    CHECK(count(db, "SELECT count(*) FROM responses WHERE id GLOB"
                    " '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-*-4*'") == finished);
    Uploader up(db, fast_config(col.url(), col.token(0)));
    SyncReport r = up.sync_once();
    INFO(r.error);
    CHECK(r.complete);
    CHECK(r.rejected == 0);
    CHECK(r.acknowledged == finished);
    CHECK(col.count("SELECT count(*) FROM responses") == finished);
    CHECK(col.count("SELECT count(*) FROM answers") ==
          count(db, "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.status <> 'in_progress'"));
    // The same seed gives the same ids: the dataset is reproducible.
    const auto again = dir / "again.sqlite";
    REQUIRE(run_program({KOHTAAMO_DEMO_DATA_BIN, "--db", again.string(), "--responses", "300", "--yearclock", "60",
                         "--from", "2026-01-01", "--days", "181", "--fast"})
                .exit_code == 0);
    CHECK(query(db, "SELECT id FROM responses ORDER BY id") == query(again, "SELECT id FROM responses ORDER BY id"));
}

TEST_CASE("uploader: an outbox open while the kiosk migrates its database reads the new columns at its next batch",
          "[uploader]") {
    TempDir dir;
    const auto file = dir.path() / "kiosk.sqlite";
    // A kiosk database of schema 7 (before sealed answers), with one finished response.
    const auto& steps = schema_migrations();
    REQUIRE(steps.size() == 8);
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite_exec(db, "PRAGMA journal_mode = WAL");
        for (std::size_t v = 0; v < 7; ++v) {
            sqlite_exec(db, steps[v]);
            sqlite_exec(db, ("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
        }
        Statement(db, "INSERT INTO device(key, value) VALUES ('device_id', ?)").bind(1, new_uuid()).run();
        sqlite3_close(db);
    }
    auto add_response = [&](const char* value, const char* seal_key) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        const std::string id = new_uuid();
        Statement(db, "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at)"
                      " VALUES (?, 'child', 1, 'fi', 'complete', '2026-12-03T09:00:00.000Z', '2026-12-03T09:00:30.000Z')")
            .bind(1, id)
            .run();
        Statement a(db, seal_key ? "INSERT INTO answers(response_id, question_id, value, answered_at, seal_key)"
                                   " VALUES (?, 'feeling', ?, '2026-12-03T09:00:10.000Z', ?)"
                                 : "INSERT INTO answers(response_id, question_id, value, answered_at)"
                                   " VALUES (?, 'feeling', ?, '2026-12-03T09:00:10.000Z')");
        a.bind(1, id).bind(2, value);
        if (seal_key) a.bind(3, seal_key);
        a.run();
        sqlite3_close(db);
    };
    add_response("4", nullptr);
    Outbox box(file, false);
    auto first = box.next_batch(200, 1 << 20);
    REQUIRE(first);
    CHECK_THAT(first->json, Catch::Contains("\"value\":\"4\""));
    box.acknowledge(*first, Reply{first->id, first->response_ids, {}});

    // The kiosk's new version starts: the database goes to schema 8, and its answers are sealed.
    { Store store(file, Clock().wall_ms()); }
    add_response("QUJDREVGR0g=", "k1");
    auto second = box.next_batch(200, 1 << 20);
    REQUIRE(second);
    CHECK_THAT(second->json, Catch::Contains("\"sealed\":\"k1:QUJDREVGR0g=\""));
    CHECK_THAT(second->json, !Catch::Contains("\"value\":\"QUJDREVGR0g=\""));
}
