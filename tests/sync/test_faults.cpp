// Network faults between the kiosk and the collector, injected by a real TCP proxy on
// loopback. Each one is followed by recovery on the uploader's own retries, and an exact
// count at the collector.
#include <catch2/catch.hpp>

#include <mutex>

#include "fault_proxy.hpp"
#include "sync_support.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

struct Rig {
    TempDir dir;
    TestCollector col;
    FaultProxy proxy;
    KioskDb kiosk;
    SyncConfig config;
    ErrorLog errors;

    explicit Rig(int responses = 250, bool with_tokens = true)
        : col(dir.path(), {}, with_tokens), proxy(col.port()), kiosk(make_kiosk_db(dir / "k.sqlite", responses, 42)),
          config(fast_config(proxy.url(), col.token(0))) {}

    std::unique_ptr<Uploader> uploader() {
        auto up = std::make_unique<Uploader>(kiosk.path, config);
        errors.attach(*up);
        return up;
    }
    bool any_error(const std::string& part) const { return errors.any(part); }
    // Runs the uploader until everything is acknowledged; then the counts must be exact.
    void recover(Uploader& up, std::chrono::milliseconds limit = 30s) {
        up.start();
        bool done = wait_until([&] { return all_sent(up); }, limit);
        up.stop();
        INFO(errors.all());
        REQUIRE(done);
        check_exact();
    }
    void check_exact() {
        CHECK(col.count("SELECT count(*) FROM responses") == kiosk.finished);
        CHECK(col.count("SELECT count(*) FROM answers") == kiosk.answers);
        CHECK(count(kiosk.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == kiosk.finished);
        // Every acknowledged batch is one the collector has, under the id the kiosk gave it:
        // a retry never made a second batch.
        CHECK(col.count("SELECT count(*) FROM batches") ==
              count(kiosk.path, "SELECT count(*) FROM sync_batches WHERE state = 'acked'"));
    }
    std::int64_t synced() { return count(kiosk.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL"); }
};

}  // namespace

TEST_CASE("fault: connection refused until the collector comes back", "[faults][db]") {
    Rig rig;
    rig.proxy.refuse(true);
    auto up = rig.uploader();
    up->start();
    REQUIRE(wait_until([&] { return rig.any_error("cannot reach the collector"); }, 10s));
    // The uploader backs off and retries by itself: it is seen Waiting between its tries.
    CHECK(wait_until([&] { return up->status().state == SyncState::Waiting; }, 10s));
    CHECK(rig.synced() == 0);
    rig.proxy.refuse(false);
    rig.recover(*up);
}

TEST_CASE("fault: connection reset in the middle of the request", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::ResetMidRequest, Fault::ResetMidRequest});
    auto up = rig.uploader();
    SyncReport first = up->sync_once();
    CHECK_FALSE(first.complete);
    CHECK(first.transient);
    // The two batches that were reset are neither at the collector nor marked; the one
    // that travelled beside them (WINDOW, uploader.cpp) may be both.
    CHECK(rig.synced() == rig.col.count("SELECT count(*) FROM responses"));
    CHECK(count(rig.kiosk.path, "SELECT count(*) FROM sync_batches WHERE state = 'open'") == 2);
    CHECK(rig.synced() < rig.kiosk.finished);
    rig.recover(*up);
    CHECK(rig.proxy.faults_left() == 0);
}

TEST_CASE("fault: reset after the collector stored the batch (the acknowledgement is lost)", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::LoseReply});
    auto up = rig.uploader();
    SyncReport first = up->sync_once();
    CHECK(first.transient);
    // The collector has the batch whose reply was lost; the kiosk does not know it. The
    // batches that travelled beside it on other connections (WINDOW, uploader.cpp) were
    // acknowledged.
    // The lost one waits, open, with its members, and goes again first.
    const auto held = rig.col.count("SELECT count(*) FROM responses");
    const auto waiting = count(rig.kiosk.path, "SELECT count(*) FROM responses WHERE batch_id IS NOT NULL AND synced_at IS NULL");
    CHECK(count(rig.kiosk.path, "SELECT count(*) FROM sync_batches WHERE state = 'open'") == 1);
    CHECK(waiting > 0);
    CHECK(held - rig.synced() == waiting);
    CHECK(rig.synced() > 0);
    rig.recover(*up);
    // The resend was the same batch id: the collector answered "duplicate" for it.
    CHECK(rig.col.count("SELECT count(*) FROM batches WHERE stored = responses") ==
          rig.col.count("SELECT count(*) FROM batches"));
}

TEST_CASE("fault: the collector accepts the connection and never answers", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::Blackhole});
    auto up = rig.uploader();
    auto t0 = std::chrono::steady_clock::now();
    SyncReport first = up->sync_once();
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(first.transient);
    CHECK_THAT(first.error, Catch::Contains("timed out"));
    CHECK(took < 6s);  // the low-speed limit (2 s windows in the test config), not forever
    // The batch that went unanswered is not marked (those beside it were, WINDOW in
    // uploader.cpp) and is not at the collector.
    CHECK(rig.synced() == rig.col.count("SELECT count(*) FROM responses"));
    CHECK(count(rig.kiosk.path, "SELECT count(*) FROM sync_batches WHERE state = 'open'") == 1);
    CHECK(count(rig.kiosk.path, "SELECT count(*) FROM responses WHERE batch_id IS NOT NULL AND synced_at IS NULL") > 0);
    rig.recover(*up);
}

TEST_CASE("fault: the reply trickles at 1 byte per second", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::Trickle});
    auto up = rig.uploader();
    auto t0 = std::chrono::steady_clock::now();
    SyncReport first = up->sync_once();
    CHECK(first.transient);
    CHECK_THAT(first.error, Catch::Contains("bytes/s"));
    CHECK(std::chrono::steady_clock::now() - t0 < 6s);
    // The collector stored it, but the kiosk never read the reply (the batches beside it,
    // WINDOW in uploader.cpp, were acknowledged).
    CHECK(count(rig.kiosk.path, "SELECT count(*) FROM sync_batches WHERE state = 'open'") == 1);
    CHECK(rig.col.count("SELECT count(*) FROM responses") - rig.synced() ==
          count(rig.kiosk.path, "SELECT count(*) FROM responses WHERE batch_id IS NOT NULL AND synced_at IS NULL"));
    CHECK(rig.col.count("SELECT count(*) FROM responses") > rig.synced());
    rig.recover(*up);
}

TEST_CASE("fault: a captive portal answers 200 with an HTML page and nothing is marked sent", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::CaptivePortal, Fault::CaptivePortal, Fault::CaptivePortal});
    auto up = rig.uploader();
    SyncReport first = up->sync_once();
    CHECK(first.transient);
    CHECK_THAT(first.error, Catch::Contains("not the collector's"));
    CHECK(rig.synced() == 0);
    CHECK(up->status().pending == rig.kiosk.finished);
    rig.recover(*up);
}

TEST_CASE("fault: 500 from the server", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::Status500, Fault::Status500, Fault::Status500});
    auto up = rig.uploader();
    rig.recover(*up);
    CHECK(rig.any_error("HTTP 500"));
    CHECK(rig.proxy.faults_left() == 0);
}

TEST_CASE("fault: 503 with Retry-After makes the next try wait at least that long", "[faults][db]") {
    Rig rig;
    rig.proxy.retry_after_seconds = 2;
    rig.proxy.inject({Fault::Status503});
    auto up = rig.uploader();
    rig.recover(*up);
    auto seen = rig.proxy.seen();
    REQUIRE(seen.size() >= 2);
    CHECK(seen[0].fault == Fault::Status503);
    // Only the batches beside it (WINDOW, uploader.cpp: up to 3 in flight) went at once;
    // every later request waited for the Retry-After (the backoff alone would be ~0.1 s).
    std::size_t with_first = 0;
    for (const auto& s : seen) {
        if (s.at - seen[0].at < 500ms)
            ++with_first;
        else
            CHECK(s.at - seen[0].at >= 2s);
    }
    CHECK(with_first <= 3);
    CHECK(seen.size() > with_first);
    CHECK(rig.any_error("HTTP 503"));
}

TEST_CASE("fault: a wrong token stops fast retries and shows in the status until it is fixed", "[faults][db]") {
    Rig rig(250, false);  // the collector does not know the kiosk's token yet
    auto up = rig.uploader();
    up->start();
    // auth_failed and the AuthFailed state are published by two status updates: wait for both.
    REQUIRE(wait_until([&] { auto st = up->status(); return st.auth_failed && st.state == SyncState::AuthFailed; }, 10s));
    auto s = up->status();
    CHECK(s.state == SyncState::AuthFailed);
    CHECK_THAT(s.last_error, Catch::Contains("token"));
    CHECK(read_sync_status(rig.kiosk.path).auth_failed);  // the coordinator screen sees it too
    const auto tries = rig.proxy.seen().size();
    std::this_thread::sleep_for(1000ms);  // the network backoff would have tried ~5 times
    CHECK(rig.proxy.seen().size() <= tries + 1);
    rig.col.accept_tokens();
    rig.recover(*up);
    CHECK_FALSE(up->status().auth_failed);
}

TEST_CASE("fault: stop() is prompt even while a request hangs", "[faults][db]") {
    Rig rig;
    rig.proxy.inject({Fault::Blackhole});
    rig.config.low_speed_time = 60s;
    auto up = rig.uploader();
    up->start();
    REQUIRE(wait_until([&] { return !rig.proxy.seen().empty(); }, 5s));
    std::this_thread::sleep_for(200ms);
    auto t0 = std::chrono::steady_clock::now();
    up->stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    CHECK(up->status().state == SyncState::Stopped);
}

TEST_CASE("fault: the uploader asks for gzip or nothing, so the collector never answers in Brotli", "[faults]") {
    Rig rig(30);
    auto up = rig.uploader();
    rig.recover(*up);
    const auto seen = rig.proxy.seen();
    REQUIRE_FALSE(seen.empty());
    for (const auto& s : seen) {
        std::string head = s.request_head;
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        CHECK_THAT(head, Catch::Contains("\r\naccept-encoding: gzip\r\n") || Catch::EndsWith("\r\naccept-encoding: gzip"));
        std::string reply = s.reply_head;
        std::transform(reply.begin(), reply.end(), reply.begin(), [](unsigned char c) { return std::tolower(c); });
        CHECK_THAT(reply, !Catch::Contains("content-encoding: br") && !Catch::Contains("content-encoding: deflate") &&
                              !Catch::Contains("content-encoding: zstd"));
    }
}
