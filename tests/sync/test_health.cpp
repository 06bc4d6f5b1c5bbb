// Health with every sync (PROTOCOL.md, "Health"): the collector keeps the latest report of
// each kiosk, from batches and heartbeats, on either database, and refuses a malformed one
// naming the field; a kiosk that sends none (an old kiosk) is still served.
#include <catch2/catch.hpp>

#include <thread>

#include "storage.hpp"
#include "uploader.hpp"
#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

std::vector<std::string> headers_for(const std::string& token) {
    return {"Authorization: Bearer " + token, "Content-Type: application/json"};
}

Health sample_health(std::int64_t pending) {
    return Health{"1.4.0", 3, "2026-11-30", pending, 120, 5'000'000'000, 86'400, "cannot reach the collector"};
}

const std::string kDevice = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5";

}  // namespace

TEST_CASE("health: a batch's health and a heartbeat are kept, the latest per device", "[health][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    Batch b = make_batch(2, 41);
    b.health = sample_health(7);
    REQUIRE(post(col.url() + kBatchesPath, headers_for(col.token(0)), encode_batch(b)).status == 200);
    Rows rows = col.query("SELECT device_name, app_version, bundle_version, config_version, pending,"
                          " oldest_pending_age_s, free_disk_bytes, uptime_s, last_error FROM device_health");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == std::vector<std::string>{"k1", "1.4.0", "3", "2026-11-30", "7", "120", "5000000000", "86400",
                                              "cannot reach the collector"});

    Heartbeat beat{b.device_id, sample_health(0)};
    beat.health.last_error = "";
    HttpReply r = post(col.url() + kHeartbeatPath, headers_for(col.token(0)), encode_heartbeat(beat));
    CHECK(r.status == 204);
    rows = col.query("SELECT pending, last_error FROM device_health");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == std::vector<std::string>{"0", ""});

    // Another kiosk, and an old one without health: listed, heard from, no health.
    Batch old = make_batch(1, 42);
    old.device_id = kDevice;
    REQUIRE(post(col.url() + kBatchesPath, headers_for(col.token(1)), encode_batch(old)).status == 200);
    CHECK(col.count("SELECT count(*) FROM device_health") == 2);
    CHECK(col.count("SELECT count(*) FROM device_health WHERE device_name = 'k2' AND has_health = 0") == 1);
}

TEST_CASE("health: record_health is an upsert where an older report changes nothing", "[health][db]") {
    TempDir dir;
    TestDatabase db(dir.path());
    auto storage = Storage::open(db.config());
    storage->record_health(kDevice, "k1", sample_health(5), 2'000'000);
    storage->record_health(kDevice, "k1", sample_health(9), 1'000'000);  // late, older
    storage->record_health(kDevice, "k1", std::nullopt, 3'000'000);       // heard, health kept
    auto all = storage->device_health();
    REQUIRE(all.size() == 1);
    CHECK(all[0].heard_ms == 3'000'000);
    REQUIRE(all[0].health);
    CHECK(all[0].health->pending == 5);
    CHECK(all[0].heard_at == "1970-01-01T00:50:00.000Z");
}

TEST_CASE("health: a malformed health or heartbeat is 400 naming the field, a heartbeat needs a token", "[health]") {
    TempDir dir;
    TestCollector col(dir.path());
    Batch b = make_batch(1, 43);
    b.health = sample_health(1);
    const std::string good = encode_batch(b);
    struct Case {
        std::string from, to, field;
    };
    const std::vector<Case> cases = {
        {"\"pending\":1", "\"pending\":-1", "health.pending"},
        {"\"pending\":1", "\"pending\":\"1\"", "health.pending"},
        {"\"uptime_s\":86400", "\"uptime_s\":1.5", "health.uptime_s"},
        {"\"app_version\":\"1.4.0\"", "\"app_version\":7", "health.app_version"},
        {"\"last_error\":\"cannot reach the collector\"", "\"last_error\":\"x\",\"colour\":1", "health.colour"},
        {",\"free_disk_bytes\":5000000000", "", "health.free_disk_bytes"},
    };
    for (const auto& c : cases) {
        INFO(c.to);
        HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)), edit_first(good, c.from, c.to));
        CHECK(r.status == 400);
        CHECK_THAT(decode_error(r.body).second, Catch::Contains(c.field));
    }
    HttpReply r = post(col.url() + kBatchesPath, headers_for(col.token(0)),
                       edit_first(good, "\"health\":{", "\"health\":[],\"x\":{"));
    CHECK(r.status == 400);
    CHECK(col.count("SELECT count(*) FROM responses") == 0);

    Heartbeat beat{kDevice, sample_health(0)};
    CHECK(post(col.url() + kHeartbeatPath, {"Content-Type: application/json"}, encode_heartbeat(beat)).status == 401);
    r = post(col.url() + kHeartbeatPath, headers_for(col.token(0)), "{\"protocol\":1,\"device_id\":\"" + kDevice + "\"}");
    CHECK(r.status == 400);
    CHECK_THAT(decode_error(r.body).second, Catch::Contains("health"));
    CHECK(col.count("SELECT count(*) FROM device_health") == 0);
}

TEST_CASE("health: a kiosk's uploader reports its health with its batches, then in heartbeats", "[health][uploader][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 30, 44);
    SyncConfig cfg = fast_config(col.url(), col.token(0));
    cfg.batch_max_responses = 10;
    cfg.app_version = "9.8.7";
    cfg.bundle_version = 2;
    cfg.heartbeat_interval = Millis{1};
    Uploader up(k.path, cfg);
    SyncReport r = up.sync_once();
    REQUIRE(r.complete);
    const auto health_row = [&] {
        Rows rows = col.query("SELECT device_id, device_name, app_version, bundle_version, pending, last_error"
                              " FROM device_health");
        REQUIRE(rows.size() == 1);
        return rows[0];
    };
    // The last batch's health, or the heartbeat right after it when a millisecond had
    // passed since the acknowledgement. The three batches travel at once (WINDOW,
    // uploader.cpp): each was formed before any was acknowledged, so each says 30 pending.
    std::vector<std::string> row = health_row();
    CHECK((row[4] == "30" || row[4] == "0"));
    CHECK(row == std::vector<std::string>{k.device_id, "k1", "9.8.7", "2", row[4], ""});
    // Nothing to send, after the interval: a heartbeat says nothing is pending, no error.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(up.sync_once().complete);
    CHECK(health_row() == std::vector<std::string>{k.device_id, "k1", "9.8.7", "2", "0", ""});
    const std::int64_t first = col.count("SELECT heard_ms FROM device_health");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(up.sync_once().complete);  // nothing to send: a heartbeat
    CHECK(col.count("SELECT heard_ms FROM device_health") > first);
    CHECK(col.count("SELECT uptime_s FROM device_health") >= 0);
    CHECK(col.count("SELECT free_disk_bytes FROM device_health") > 0);
}
