// One bad response among many, against the real collector over loopback: it never holds
// the others back and is never retried forever (the POISON rule, sync/uploader.cpp). The
// collector failing on one response is real: an SQLite trigger in its database makes the
// insert of that id fail, so the collector answers 500 for every batch that holds it.
#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fault_proxy.hpp"
#include "outbox.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "uuid.hpp"
#include "sync_support.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

void exec(const std::filesystem::path& db, const std::string& sql) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char* err = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(h);
    REQUIRE(rc == SQLITE_OK);
}

// The collector's database refuses to store `response_id`: its insert fails, the request
// gets 500, every time.
// (A SQLite trigger: these tests run on the SQLite driver.)
void poison_collector(const TestCollector& col, const std::string& response_id) {
    REQUIRE(col.database().config().driver == kohtaamo::sync::DatabaseConfig::Driver::Sqlite);
    exec(col.database().config().file, "CREATE TRIGGER poison BEFORE INSERT ON responses WHEN NEW.id = '" + response_id +
                             "' BEGIN SELECT RAISE(ABORT, 'this row cannot be stored'); END");
}

// The finished responses `offset` to `offset + n` in the queue (by rowid), smallest id
// first: the members of a batch, in the order halves split them.
std::vector<std::string> queued(const KioskDb& k, int offset, int n) {
    auto rows = query(k.path, "SELECT id FROM (SELECT id FROM responses WHERE status <> 'in_progress' ORDER BY rowid"
                              " LIMIT " + std::to_string(n) + " OFFSET " + std::to_string(offset) + ") ORDER BY id");
    std::vector<std::string> ids;
    for (auto& r : rows) ids.push_back(r[0]);
    return ids;
}

int count_status(const FaultProxy& proxy, const std::string& status) {
    int n = 0;
    for (const auto& s : proxy.seen())
        if (s.reply_head.rfind("HTTP/1.1 " + status, 0) == 0) ++n;
    return n;
}

// Everything but `poison` reached the collector exactly once; the kiosk holds `poison`
// alone, set aside with a reason starting `reason`.
void check_only_poison_left(const KioskDb& k, const TestCollector& col, const std::string& poison,
                            const std::string& reason) {
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished - 1);
    CHECK(col.count("SELECT count(DISTINCT id) FROM responses") == k.finished - 1);
    CHECK(col.count("SELECT count(*) FROM responses WHERE id = '" + poison + "'") == 0);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished - 1);
    auto left = query(k.path, "SELECT id, sync_rejected FROM responses WHERE status <> 'in_progress' AND synced_at IS NULL");
    REQUIRE(left.size() == 1);
    CHECK(left[0][0] == poison);
    CHECK_THAT(left[0][1], Catch::StartsWith(reason));
}

}  // namespace

TEST_CASE("poison: one response the collector fails on (500) is set aside and all 299 others arrive", "[poison]") {
    TempDir dir;
    TestCollector col(dir.path());
    FaultProxy proxy(col.port());  // passes everything; counts what the collector answered
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 300, 31);
    SyncConfig cfg = fast_config(proxy.url(), col.token(0));
    cfg.backoff_initial = 50ms;
    cfg.backoff_max = 200ms;
    std::string poison;
    std::string where;
    SECTION("in the middle of the queue: the batches before it were acknowledged") {
        poison = queued(k, 100, 100).back();  // the second batch's last id: every split keeps it in the second half
        where = "middle";
    }
    SECTION("first in the very first batch: nothing was acknowledged when it first failed alone") {
        poison = queued(k, 0, 100).front();
        where = "first";
    }
    INFO(where << " " << poison);
    poison_collector(col, poison);
    Uploader up(k.path, cfg);
    up.start();
    REQUIRE(wait_until([&] { return all_sent(up) && up.status().rejected == 1; }, 60s));
    up.stop();
    check_only_poison_left(k, col, poison,
                           "the collector fails on this response alone and acknowledges others: HTTP 500: the "
                           "database refused the batch:");
    SyncStatus s = read_sync_status(k.path);
    CHECK(s.rejected == 1);
    CHECK(s.rejected_reasons == 1);
    CHECK(s.pending == 0);
    auto state = query(k.path, "SELECT value FROM sync_state WHERE key IN ('rejected', 'rejected_reasons') ORDER BY key");
    CHECK(state == Rows{{"1"}, {"1"}});
    // Bounded: 3 failures, then one per halving of a batch of 100 (6 or 7) and the lone
    // response's; at most twice that, should it be deferred first and meet the others again.
    const int failed = count_status(proxy, "500");
    CHECK(failed >= kBatchFailureLimit + 6);
    CHECK(failed <= 2 * (kBatchFailureLimit + 8));
    // Nothing more is tried for it: the uploader is idle and asks nothing.
    const auto asked = proxy.seen().size();
    up.start();
    up.nudge();
    std::this_thread::sleep_for(500ms);
    up.stop();
    CHECK(proxy.seen().size() == asked);
}

TEST_CASE("poison: one response the collector dies on while other batches travel beside it is set aside alone, and "
          "all 299 others arrive",
          "[poison]") {
    // In a backlog three batches are in flight at once (WINDOW, sync/uploader.cpp). The
    // collector "dies" on the second one: every connection closes without a reply, the
    // first and third batches' too. Their failures must not count against them.
    TempDir dir;
    TestCollector col(dir.path());
    FaultProxy proxy(col.port());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 300, 37);
    SyncConfig cfg = fast_config(proxy.url(), col.token(0));
    cfg.backoff_initial = 50ms;
    cfg.backoff_max = 200ms;
    const std::string poison = queued(k, 100, 100).back();
    INFO(poison);
    proxy.crash_on(poison);
    ErrorLog errors;
    Uploader up(k.path, cfg);
    errors.attach(up);
    up.start();
    REQUIRE(wait_until([&] { return all_sent(up) && up.status().rejected == 1; }, 60s));
    up.stop();
    check_only_poison_left(k, col, poison,
                           "the collector fails on this response alone and acknowledges others: the collector closed "
                           "the connection without a reply");
    // The first crash met batches travelling together: the status said so, and they went
    // again one at a time.
    CHECK(errors.any("with other batches in flight: each goes again alone"));
    int crashes = 0;
    for (const auto& s : proxy.seen()) crashes += s.fault == Fault::EmptyReply;
    CHECK(crashes >= kBatchFailureLimit + 6);  // 3 failures, then one per halving of 100, then alone
    CHECK(crashes <= 2 * (kBatchFailureLimit + 8) + 1);
}

TEST_CASE("poison: an outage of 500s for every batch sets nothing aside, and everything arrives afterwards", "[poison]") {
    TempDir dir;
    TestCollector col(dir.path());
    FaultProxy proxy(col.port());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 250, 32);
    SyncConfig cfg = fast_config(proxy.url(), col.token(0));
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 100ms;
    std::vector<Fault> outage(40, Fault::Status500);
    for (int i = 0; i < 10; ++i) outage.push_back(Fault::EmptyReply);  // the collector dying, too
    proxy.inject(outage);
    Uploader up(k.path, cfg);
    up.start();
    REQUIRE(wait_until([&] { return all_sent(up); }, 60s));
    up.stop();
    CHECK(proxy.faults_left() == 0);
    CHECK(up.status().rejected == 0);
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE sync_rejected IS NOT NULL OR sync_deferred > 0") == 0);
    // The outage split batches (3 failures each) and deferred lone responses; none was lost.
    CHECK(count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'split'") >= 1);
}

TEST_CASE("poison: what the kiosk itself cannot send (invalid UTF-8, a control character) is set aside before sending",
          "[poison]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 120, 33);
    auto ids = queued(k, 0, 120);
    const std::string bad_text = ids[10], bad_id = ids[70];
    // A value whose bytes are not UTF-8 (the JSON encoder cannot even write it), and a
    // question id with a tab.
    exec(k.path, "UPDATE answers SET value = CAST(X'4869FF21' AS TEXT) WHERE response_id = '" + bad_text +
                     "' AND question_id = 'q1'");
    exec(k.path, "UPDATE answers SET question_id = 'q' || char(9) || '1' WHERE response_id = '" + bad_id +
                     "' AND question_id = 'q1'");
    Uploader up(k.path, fast_config(col.url(), col.token(0)));
    SyncReport r = up.sync_once();
    CHECK(r.complete);
    CHECK(r.rejected == 2);
    CHECK(r.acknowledged == k.finished - 2);
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished - 2);
    auto reasons = read_set_aside_reasons(k.path);
    REQUIRE(reasons.size() == 2);
    std::vector<std::string> texts = {reasons[0].first, reasons[1].first};
    std::sort(texts.begin(), texts.end());
    CHECK_THAT(texts[0], Catch::StartsWith("not sent: answers[") && Catch::Contains("].question_id: contains U+0009 (tab)"));
    CHECK_THAT(texts[1], Catch::StartsWith("not sent: answers[") && Catch::Contains("].value: is not valid UTF-8 (byte 2)"));
    CHECK(query(k.path, "SELECT id FROM responses WHERE sync_rejected IS NOT NULL ORDER BY id") ==
          Rows{{std::min(bad_text, bad_id)}, {std::max(bad_text, bad_id)}});
    CHECK(up.status().rejected == 2);
    CHECK(up.status().rejected_reasons == 2);
}

TEST_CASE("poison: one response too large for the collector (413 alone) is set aside and the rest arrive", "[poison]") {
    TempDir dir;
    Limits limits;
    limits.max_body_bytes = 8000;  // gzip bytes
    TestCollector col(dir.path(), limits);
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 200, 34);
    const std::string big = queued(k, 0, 200)[120];
    // ~15 KB of text that does not compress below 8000 bytes (within the protocol's 16 KiB).
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string noise;
    std::mt19937 rng(5);
    for (int i = 0; i < 15000; ++i) noise += kAlphabet[rng() % 62];
    exec(k.path, "UPDATE answers SET value = '" + noise + "' WHERE response_id = '" + big + "' AND question_id = 'q1'");
    Uploader up(k.path, fast_config(col.url(), col.token(0)));
    SyncReport r = up.sync_once();
    CHECK(r.complete);
    CHECK(r.rejected == 1);
    check_only_poison_left(k, col, big, "HTTP 413: body:");
}

TEST_CASE("poison: kohtaamo-sync delivers every other response in one run, exits 4, and --status gives the reason",
          "[poison][cli]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 64, 35);
    const std::string poison = queued(k, 0, 16).back();
    poison_collector(col, poison);
    auto config = dir / "kiosk.toml";
    write_file(config, "[sync]\nendpoint = \"" + col.url() + "\"\ntoken = \"" + col.token(0) +
                           "\"\nbatch_max_responses = 16\nbackoff_initial_seconds = 1\nbackoff_max_seconds = 1\n");
    RunResult run = run_program({KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", k.path.string()});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 4);
    CHECK_THAT(run.err, Catch::Contains("63 response(s) acknowledged; 1 set aside, kept in the kiosk (the collector fails "
                                        "on this response alone and acknowledges others: HTTP 500: the database refused the batch: "));
    check_only_poison_left(k, col, poison, "the collector fails on this response alone and acknowledges others: HTTP 500");
    RunResult status = run_program({KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", k.path.string(), "--status"});
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.out, Catch::Contains("pending:         0\n"));
    CHECK_THAT(status.out, Catch::Contains("rejected:        1 set aside, for 1 reason (not sent again until --retry-rejected)\n"
                                           "  1 × the collector fails on this response alone and acknowledges others: "
                                           "HTTP 500"));
    // After the collector is fixed, --retry-rejected sends it.
    exec(col.database().config().file, "DROP TRIGGER poison");
    RunResult again = run_program({KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", k.path.string(),
                                   "--retry-rejected"});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
    // Its health names the program's version (the fleet page shows it).
    CHECK(col.query("SELECT app_version FROM device_health") == Rows{{KOHTAAMO_VERSION}});
}

TEST_CASE("poison: a lone response failing while nothing else gets through is deferred, not set aside, until another "
          "is acknowledged", "[poison]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 1, 36);
    const std::string poison = queued(k, 0, 1).front();
    poison_collector(col, poison);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    Uploader up(k.path, cfg);
    // Alone, with nothing acknowledged: an outage looks just the same. Retried, never set aside.
    for (int i = 0; i < 3 * kBatchFailureLimit; ++i) {
        SyncReport r = up.sync_once();
        CHECK(r.transient);
        CHECK(r.rejected == 0);
    }
    CHECK(count(k.path, "SELECT sync_deferred > 0 FROM responses WHERE id = '" + poison + "'") == 1);
    CHECK(count(k.path, "SELECT count(*) FROM sync_batches WHERE state = 'deferred'") == kBatchFailureLimit);
    CHECK(up.status().rejected == 0);
    CHECK(up.status().pending == 1);
    // A visitor answers: that response goes first, is acknowledged, and the next failures of
    // the lone one set it aside.
    {
        Store store(k.path, 1'800'000'000'000);
        ResponseHeader h{new_uuid(), "child", 1, "fi", "demo", "", 1'800'000'000'000};
        store.save_answer(h, "q1", {"4"}, 1'800'000'001'000);
        store.finish(h.id, ResponseStatus::Complete, 1'800'000'002'000);
    }
    SyncReport r{};
    for (int i = 0; i < 2 * kBatchFailureLimit && !r.complete; ++i) r = up.sync_once();
    CHECK(r.complete);
    CHECK(up.status().rejected == 1);
    // The kiosk's store had marked the two unfinished ones abandoned: they went too.
    CHECK(col.count("SELECT count(*) FROM responses") == 1 + k.in_progress);
    CHECK_THAT(query(k.path, "SELECT sync_rejected FROM responses WHERE id = '" + poison + "'")[0][0],
               Catch::StartsWith("the collector fails on this response alone and acknowledges others: HTTP 500"));
}
