// Hostile and broken clients at the HTTP layer, on the real collector over loopback: idle
// and byte-a-second connections held open while kiosks upload, request smuggling (two
// Content-Length headers, Content-Length with Transfer-Encoding), bodies that must get a
// 4xx and never a 5xx, log lines that never carry a client's CR or LF, floods of
// connections that never finish a request (at the collector, and at nginx as
// docs/collector-deploy.md configures it), and the kiosks' enrolment check GET /v1/device.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <sys/resource.h>

#include "pg_cluster.hpp"
#include "sync_support.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

std::string post_head(const std::string& token, const std::string& extra) {
    return "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
           "\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n" + extra;
}

std::vector<std::string> batch_headers(const std::string& token) {
    return {"Authorization: Bearer " + token, "Content-Type: application/json", "Content-Encoding: gzip"};
}

// One client that keeps `n` connections to `port` open, each having sent `first` (or
// nothing), and opens a new one for every one the server closes, until destroyed.
class ConnectionFlood {
public:
    ConnectionFlood(int port, std::size_t n, std::string first) {
        // Room for the flood's sockets beside the test's own (root may raise both limits).
        rlimit lim{};
        ::getrlimit(RLIMIT_NOFILE, &lim);
        const rlim_t want = static_cast<rlim_t>(n) + 1024;
        if (lim.rlim_cur < want) {
            lim.rlim_cur = want;
            if (lim.rlim_max < want) lim.rlim_max = want;
            REQUIRE(::setrlimit(RLIMIT_NOFILE, &lim) == 0);
        }
        thread_ = std::thread([this, port, n, first] {
            std::vector<std::unique_ptr<RawConnection>> held;
            while (on_) {
                std::erase_if(held, [](const auto& c) { return c->closed_within(0ms); });
                try {
                    while (on_ && held.size() < n) {
                        held.push_back(std::make_unique<RawConnection>(port));
                        if (!first.empty()) held.back()->send(first);
                        ++opened_;
                    }
                } catch (const std::exception&) {  // the backlog is full: the next round
                }
                std::this_thread::sleep_for(20ms);
            }
        });
    }
    ~ConnectionFlood() { stop(); }
    void stop() {
        on_ = false;
        if (thread_.joinable()) thread_.join();
    }
    long opened() const { return opened_; }

private:
    std::atomic<bool> on_{true};
    std::atomic<long> opened_{0};
    std::thread thread_;
};

// A kiosk's real uploader sends everything `kiosk` holds in batches of 10; true when it is
// all sent within `within`.
bool upload_all(const KioskDb& kiosk, SyncConfig cfg, std::chrono::seconds within) {
    cfg.batch_max_responses = 10;
    Uploader up(kiosk.path, cfg);
    up.start();
    const bool sent = wait_until([&] { return all_sent(up); }, within);
    up.stop();
    return sent;
}

// Ten single batches of two from device k2 (make_batch seeds first…first+9), each
// answered 200 within a second.
void check_answered_at_once(const TestCollector& col, int first) {
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        HttpReply r =
            post(col.url() + kBatchesPath, batch_headers(col.token(2)), gzip(encode_batch(make_batch(2, first + i))));
        CHECK(r.status == 200);
        CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    }
}

}  // namespace

TEST_CASE("hostile: ten idle and byte-a-second connections do not slow the uploads, and are cut at their deadline",
          "[hostile][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    // Four that connect and say nothing, three that send headers a byte every 200 ms, three
    // that send whole headers and then the body a byte every 200 ms.
    std::vector<std::unique_ptr<RawConnection>> idle, slow_headers, slow_body;
    for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawConnection>(col.port()));
    const Batch b = make_batch(3, 99);
    const std::string body = gzip(encode_batch(b));
    const std::string slow_request = post_head(col.token(0), "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    for (int i = 0; i < 3; ++i) slow_headers.push_back(std::make_unique<RawConnection>(col.port()));
    for (int i = 0; i < 3; ++i) {
        slow_body.push_back(std::make_unique<RawConnection>(col.port()));
        REQUIRE(slow_body.back()->send(slow_request));
    }
    std::atomic<bool> dripping{true};
    std::thread drip([&] {
        for (std::size_t at = 0; dripping && at < 60; ++at) {
            for (auto& c : slow_headers) c->send(std::string(1, slow_request[at % slow_request.size()]));
            for (auto& c : slow_body) c->send(std::string(1, body[at % body.size()]));
            std::this_thread::sleep_for(200ms);
        }
    });
    // Meanwhile: a kiosk's real uploader sends 300 responses in 30 batches over keep-alive,
    // and single requests are each answered at once (the test's deadline is 3 s: any
    // stall behind the ten would last until a connection's deadline or longer).
    KioskDb kiosk = make_kiosk_db(dir / "k.sqlite", 300, 5);
    const auto started = std::chrono::steady_clock::now();
    // (CHECK, not REQUIRE: the drip thread below is joined whatever this finds.)
    CHECK(upload_all(kiosk, fast_config(col.url(), col.token(1)), 20s));
    CHECK(std::chrono::steady_clock::now() - started < 3s);
    check_answered_at_once(col, 500);
    CHECK(col.count("SELECT count(*) FROM responses") == kiosk.finished + 20);
    // The header deadline is 3 s and the body deadline 5 s (TestCollector::fast_server):
    // every one of the ten is closed by the collector, without a reply.
    for (auto& c : idle) CHECK(c->closed_within(5s));
    for (auto& c : slow_headers) CHECK(c->closed_within(5s));
    for (auto& c : slow_body) CHECK(c->closed_within(7s));
    dripping = false;
    drip.join();
    CHECK(col.count("SELECT count(*) FROM batches WHERE id = '" + b.batch_id + "'") == 0);
    bool logged = false;
    for (const auto& line : col.log()) logged |= line.find("not complete within 5 s") != std::string::npos;
    CHECK(logged);
}

TEST_CASE("hostile: a flood of connections that send no request cannot take every place: uploads are served, and it "
          "gets a few log lines",
          "[hostile][db]") {
    TempDir dir;
    ServerLimits server = TestCollector::fast_server();
    server.max_connections = 32;
    TestCollector col(dir.path(), {}, true, server);
    // One client keeps 300 connections open, ten times the limit, each with its headers
    // unfinished, and opens a new one for every one the collector closes.
    ConnectionFlood flood(col.port(), 300, "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    wait_until([&] { return flood.opened() >= 600; }, 10s);  // the limit is reached, and passed
    // Meanwhile a kiosk's real uploader sends 300 responses in 30 batches, and single
    // requests are answered at once. Before, the 32 places were the flood's until their
    // header deadline, and then the flood's again: nothing else got in.
    KioskDb kiosk = make_kiosk_db(dir / "k.sqlite", 300, 5);
    const auto started = std::chrono::steady_clock::now();
    CHECK(upload_all(kiosk, fast_config(col.url(), col.token(1)), 20s));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    check_answered_at_once(col, 700);
    flood.stop();
    const long opened = flood.opened();
    CHECK(col.count("SELECT count(*) FROM responses") == kiosk.finished + 20);
    col.collector().stop();
    // Thousands of connections closed: one line says how many, and libmicrohttpd's message
    // for each is written once and then counted.
    const auto log = col.log();
    bool told = false;
    std::size_t server_lines = 0;
    for (const auto& line : log) {
        told |= line.find("at max_connections (32): closed ") != std::string::npos;
        server_lines += line.find("http: ") != std::string::npos;
    }
    INFO("opened " << opened << " connections; " << log.size() << " log lines, " << server_lines
                   << " of libmicrohttpd");
    CHECK(opened > 1000);
    CHECK(told);
    CHECK(server_lines < 20);
}

TEST_CASE("hostile: behind nginx as docs/collector-deploy.md configures it, 1,500 connections that stop in the TLS "
          "handshake do not stop the kiosks",
          "[hostile][db]") {
    // nginx reuses a connection that is idle, but not one in the middle of its TLS
    // handshake or its headers: past worker_connections it closes the new ones. With
    // Debian's 768 (or 1,024), 1,500 such connections from one client stopped every new
    // connection through it (each health check here: status 0); the deploy guide's
    // 16,384 leave room for them.
    TempDir dir;
    TestCollector col(dir.path());
    testbed::TestCa ca(dir.path());
    testbed::Nginx nginx(dir.path(), ca, {col.port()});
    const std::string endpoint = "https://127.0.0.1:" + std::to_string(nginx.port());
    ConnectionFlood flood(nginx.port(), 1500, std::string("\x16\x03\x01\x02\x00\x01", 6));  // a ClientHello's start
    REQUIRE(wait_until([&] { return flood.opened() >= 1500; }, 10s));
    // New connections (a kiosk waking up, the monitoring's health check) get in and are
    // answered at once, and a kiosk's uploader sends everything.
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        HttpReply r = get(endpoint + kHealthPath, {}, ca.ca.string());
        INFO(r.error);
        CHECK(r.status == 200);
        CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    }
    KioskDb kiosk = make_kiosk_db(dir / "k.sqlite", 300, 6);
    SyncConfig cfg = fast_config(endpoint, col.token(1));
    cfg.ca_file = ca.ca.string();
    const auto started = std::chrono::steady_clock::now();
    CHECK(upload_all(kiosk, cfg, 20s));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    flood.stop();
    CHECK(col.count("SELECT count(*) FROM responses") == kiosk.finished);
}

TEST_CASE("hostile: more connections than the process may open is refused at the start, naming the file and the key",
          "[hostile]") {
    TempDir dir;
    const std::string config = (dir / "collector.toml").string();
    auto with = [&](const std::string& server) {
        write_file(config, "[server]\nlisten = \"127.0.0.1\"\nport = 0\n" + server +
                               "[database]\nurl = \"sqlite:c.sqlite\"\n");
    };
    // The collector under `prlimit --nofile=SOFT:HARD`, stopped by timeout's SIGTERM.
    auto run_with = [&](const std::string& seconds, const std::string& nofile) {
        return run_program({"/usr/bin/timeout", seconds, "/usr/bin/prlimit", "--nofile=" + nofile,
                            KOHTAAMO_COLLECTOR_BIN, "--config", config});
    };
    // 2,000 connections and the descriptors beside them do not fit in 1,024 open files: a
    // collector that started would fail accept() and its database's open() under load.
    with("max_connections = 2000\n");
    RunResult r = run_with("10", "1024:1024");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(config + ": [server] max_connections = 2000 needs up to") &&
                          Catch::Contains("this process may open 1024") && Catch::Contains("LimitNOFILE="));
    CHECK_THAT(r.err, !Catch::Contains("listening on"));
    // A hard limit that allows it: the collector raises its own soft limit and serves
    // (until timeout's SIGTERM). And the default, 512, fits systemd's soft limit of 1,024.
    r = run_with("3", "1024:8192");
    CHECK_THAT(r.err, Catch::Contains("listening on") && !Catch::Contains("max_connections"));
    with("");
    r = run_with("3", "1024:1024");
    CHECK_THAT(r.err, Catch::Contains("listening on") && !Catch::Contains("max_connections"));
}

TEST_CASE("hostile: two Content-Length headers, or Content-Length with Transfer-Encoding, are 400", "[hostile][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string body = gzip(encode_batch(make_batch(2, 7)));
    const std::string n = std::to_string(body.size());
    struct Case {
        std::string name, headers, says;
    };
    for (const Case& c : std::vector<Case>{
             {"two equal", "Content-Length: " + n + "\r\nContent-Length: " + n + "\r\n", "two Content-Length headers"},
             {"two different", "Content-Length: " + n + "\r\nContent-Length: 5\r\n", "two Content-Length headers"},
             {"with chunked", "Content-Length: " + n + "\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding"},
         }) {
        INFO(c.name);
        RawConnection raw(col.port());
        raw.send(post_head(col.token(0), c.headers + "\r\n") + body);
        const std::string reply = raw.read_reply(5s);
        CHECK(status_of(reply) == 400);
        CHECK_THAT(reply, Catch::Contains("\"error\":\"bad_request\"") && Catch::Contains(c.says));
        CHECK(raw.closed_within(2s));  // never reused: nobody knows where its next request starts
    }
    // Chunked alone is refused for want of a length.
    RawConnection raw(col.port());
    raw.send(post_head(col.token(0), "Transfer-Encoding: chunked\r\n\r\n") + "5\r\nhello\r\n0\r\n\r\n");
    const std::string reply = raw.read_reply(5s);
    CHECK(status_of(reply) == 411);
    CHECK_THAT(reply, Catch::Contains("\"error\":\"length_required\""));
    CHECK(col.count("SELECT count(*) FROM responses") == 0);
}

TEST_CASE("hostile: what a client sends is never a 5xx, and log lines carry no CR or LF from it", "[hostile][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    const std::string url = col.url() + kBatchesPath;
    nlohmann::json good = to_json(make_batch(2, 3));
    const std::string text = good.dump();
    auto replace = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        const auto at = t.find(from);
        REQUIRE(at != std::string::npos);
        return t.replace(at, from.size(), to);
    };
    struct Case {
        std::string name, body;
    };
    const std::string site = "\"site\":\"testi\"";
    for (const Case& c : std::vector<Case>{
             {"invalid UTF-8 in a field", replace(site, "\"site\":\"te\xff\xfeti\"")},
             {"an overlong UTF-8 slash", replace(site, "\"site\":\"a\xc0\xafz\"")},
             {"a number that overflows", replace("\"survey_version\":1", "\"survey_version\":123456789012345678901234567890")},
             {"a huge exponent", replace("\"survey_version\":1", "\"survey_version\":1e400")},
             {"a NUL in a free text", replace("\"value\":\"swing\"", "\"value\":\"sw\\u0000ing\"")},
             {"a lone surrogate escape", replace(site, "\"site\":\"\\ud800\"")},
             {"a JSON array", "[1,2,3]"},
             {"deep nesting", std::string(5000, '[') + std::string(5000, ']')},
             {"empty", ""},
         }) {
        INFO(c.name);
        HttpReply r = post(url, batch_headers(col.token(0)), gzip(c.body));
        CHECK(r.status >= 400);
        CHECK(r.status < 500);
        CHECK_FALSE(decode_error(r.body).first.empty());  // the body is the protocol's error JSON
    }
    // A gzip stream cut short, and one without its trailer.
    const std::string zipped = gzip(text);
    for (const auto& cut : {zipped.substr(0, zipped.size() - 8), zipped.substr(0, 10), zipped.substr(0, zipped.size() - 3)}) {
        HttpReply r = post(url, batch_headers(col.token(0)), cut);
        CHECK(r.status >= 400);
        CHECK(r.status < 500);
    }
    // CR and LF (and other control characters) in a path, a header value and a body field
    // reach the log only escaped.
    RawConnection raw(col.port());
    raw.send("GET /v1/%0d%0aINJECTED%20200%20OK%1b[31m HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_of(raw.read_reply(5s)) == 404);
    HttpReply r = post(url, {"Authorization: Bearer " + col.token(0), "Content-Encoding: x\x7f\x01y"}, "{}");
    CHECK(r.status == 415);
    r = post(url, batch_headers(col.token(0)), gzip(replace(site, "\"site\":\"a\\r\\nINJECTED\"")));
    CHECK(r.status == 400);  // no control characters in a short string
    const auto lines = col.log();
    bool saw_injection = false;
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line.find('\r') == std::string::npos);
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line.find('\x1b') == std::string::npos);
        CHECK(line.find('\x7f') == std::string::npos);
        saw_injection |= line.find("\\x0d\\x0aINJECTED") != std::string::npos;
    }
    CHECK(saw_injection);
    // And the collector still serves.
    r = post(url, batch_headers(col.token(0)), gzip(encode_batch(make_batch(3, 77))));
    CHECK(r.status == 200);
    CHECK(col.count("SELECT count(*) FROM responses") == 3);
}

TEST_CASE("device: GET /v1/device names the kiosk a token belongs to, 401 and 403 as for uploads", "[hostile][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    HttpReply r = get(col.url() + kDevicePath, {"Authorization: Bearer " + col.token(1)});
    CHECK(r.status == 200);
    CHECK(nlohmann::json::parse(r.body) == nlohmann::json{{"protocol", 1}, {"device", "k2"}});
    r = get(col.url() + kDevicePath, {"Authorization: Bearer " + new_token()});
    CHECK(r.status == 401);
    CHECK(decode_error(r.body).first == "unauthorized");
    CHECK(r.header("www-authenticate") == "Bearer realm=\"kohtaamo\"");
    CHECK(get(col.url() + kDevicePath).status == 401);
    // Disabled on the collector: 403, on the next request already.
    col.collector().set_devices({{"k1", hash_token(col.token(0)), true}, {"k2", hash_token(col.token(1)), false}});
    r = get(col.url() + kDevicePath, {"Authorization: Bearer " + col.token(1)});
    CHECK(r.status == 403);
    CHECK(decode_error(r.body).first == "forbidden");
    CHECK(get(col.url() + kDevicePath, {"Authorization: Bearer " + col.token(0)}).status == 200);
    // An upload with the disabled token is 403 too.
    CHECK(post(col.url() + kBatchesPath, batch_headers(col.token(1)), gzip(encode_batch(make_batch(1, 1)))).status == 403);
}
