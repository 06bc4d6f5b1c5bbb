// kohtaamo-enroll against the real collector binary on loopback, and a real TLS endpoint
// (openssl s_server with a certificate this test makes): every refusal leaves the kiosk's
// settings folder exactly as it was (names, sizes, times, inodes); a success writes a
// device file the kiosk's own loaders read, mode 0600; a second run replaces it in one
// rename, so a reader never sees half a file. The collector's token list is changed the
// way an admin does it: edit collector.toml, SIGHUP.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <pwd.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "bundle.hpp"
#include "config.hpp"
#include "publish.hpp"
#include "sync_support.hpp"
#include "sync_config.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

// The settings folder as `ls -li --full-time` would show it.
std::vector<std::string> snapshot(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        struct stat st {};
        ::lstat(e.path().c_str(), &st);
        out.push_back(e.path().filename().string() + " " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) +
                      " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + " " +
                      std::to_string(st.st_mode));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// openssl s_server on 127.0.0.1 with a self-signed certificate for 127.0.0.1: a real TLS
// endpoint that is not a collector (-www answers any GET with an HTML page).
struct TlsServer {
    pid_t pid = -1;
    int port = 0;
    std::filesystem::path cert;
    explicit TlsServer(const TempDir& dir) {
        cert = dir / "tls-cert.pem";
        const auto key = dir / "tls-key.pem", log = dir / "s_server.log";
        RunResult made = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.string(), "-out", cert.string(),
                                      "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
        REQUIRE(made.exit_code == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execl("/usr/bin/openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert.c_str(), "-key",
                    key.c_str(), "-www", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // It prints "ACCEPT 127.0.0.1:<port>" once it listens.
        wait_until(
            [&] {
                const std::string text = std::filesystem::exists(log) ? read_file(log) : "";
                const auto at = text.find("ACCEPT 127.0.0.1:");
                if (at != std::string::npos) port = std::atoi(text.c_str() + at + 17);
                return port > 0;
            },
            10s);
        REQUIRE(port > 0);
    }
    ~TlsServer() {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
    }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
};

struct Enrolment {
    TempDir dir;
    std::filesystem::path etc = dir / "etc", kiosk_toml = etc / "kiosk.toml", device = etc / "device.toml";
    std::string user = ::getpwuid(::geteuid())->pw_name;
    Enrolment() {
        std::filesystem::create_directories(etc);
        // The shared file as installed: no device settings of its own, it names device.toml.
        write_file(kiosk_toml, "[kiosk]\nlanguages = [\"fi\"]\ndevice = \"device.toml\"\n[store]\ndata_dir = \"" +
                                   (dir / "data").string() + "\"\n[sync]\nconnect_timeout_seconds = 5\n");
    }
    RunResult enroll(std::vector<std::string> args) const {
        std::vector<std::string> argv = {KOHTAAMO_ENROLL_BIN, "--config", kiosk_toml.string(), "--user", user};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv);
    }
};

std::string collector_config(const std::string& database) {
    return "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = true\n[storage]\ndatabase = \"" + database + "\"\n";
}

}  // namespace

TEST_CASE("enrol: every refusal leaves the settings untouched, then the enrolment succeeds", "[enroll]") {
    Enrolment e;
    CollectorProcess collector(e.dir.path(), collector_config((e.dir / "collector.sqlite").string()));
    const std::string token = new_token();
    write_file(e.dir / "token", token + "\n");
    // An earlier enrolment's file, which every refusal must leave as it is.
    write_file(e.device, "[device]\nsite = \"vanha\"\n");
    std::filesystem::permissions(e.device, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const auto before = snapshot(e.etc);
    const std::vector<std::string> good = {"--site", "kirjasto", "--collector", collector.url(), "--token-file",
                                           (e.dir / "token").string()};

    struct Case {
        std::string name;
        std::vector<std::string> args;
        int code;
        std::string says;
    };
    TlsServer tls(e.dir);
    auto with = [&](const std::string& option, const std::string& value) {
        std::vector<std::string> a = good;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i] == option) a[i + 1] = value;
        return a;
    };
    const std::vector<Case> refusals = {
        {"an invalid site id", with("--site", "Kirjasto 1"), 2, "\"Kirjasto 1\" is not a valid id"},
        {"a site id with a slash", with("--site", "../etc"), 2, "is not a valid id"},
        {"plain http across the network", with("--collector", "http://192.0.2.1:8470"), 2, "is plain http"},
        {"no collector there", with("--collector", "http://127.0.0.1:" + std::to_string(closed_port())), 3,
         "cannot reach the collector"},
        {"a TLS certificate that does not verify", with("--collector", tls.url()), 3, "TLS certificate does not verify"},
        {"a TLS server that verifies but is no collector", [&] {
             auto a = with("--collector", tls.url());
             a.insert(a.end(), {"--ca-file", tls.cert.string()});
             return a;
         }(), 5, "not as a Kohtaamo collector"},
        {"a path that is not the collector's", with("--collector", collector.url() + "/wrong"), 5, "is not there (404)"},
        {"a token the collector does not know", good, 4, "does not accept this token (401"},
        {"a rotation a screen cannot have", [&] {
             auto a = good;
             a.insert(a.end(), {"--rotation", "45"});
             return a;
         }(), 2, "--rotation must be 0, 90, 180 or 270"},
    };
    for (const auto& c : refusals) {
        INFO(c.name);
        RunResult r = e.enroll(c.args);
        INFO(r.out << r.err);
        CHECK(r.exit_code == c.code);
        CHECK_THAT(r.err, Catch::Contains("refused, nothing written") && Catch::Contains(c.says));
        CHECK(snapshot(e.etc) == before);
    }

    // The admin adds the kiosk to the collector, disabled at first: 403.
    const std::string entry = "[[device]]\nname = \"kirjasto-1\"\ntoken_hash = \"" + hash_token(token) + "\"\n";
    write_file(collector.config(), read_file(collector.config()) + entry + "enabled = false\n");
    REQUIRE(collector.reload());
    RunResult disabled = e.enroll(good);
    CHECK(disabled.exit_code == 4);
    CHECK_THAT(disabled.err, Catch::Contains("token disabled (403)"));
    CHECK(snapshot(e.etc) == before);

    // Enabled: enrolled.
    write_file(collector.config(), collector_config((e.dir / "collector.sqlite").string()) + entry);
    REQUIRE(collector.reload());
    RunResult ok = e.enroll(good);
    INFO(ok.out << ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains("knows this kiosk as \"kirjasto-1\""));
    struct stat st {};
    REQUIRE(::stat(e.device.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == ::geteuid());
    // The kiosk's own loaders read it over the shared file.
    CHECK(load_device_config(e.kiosk_toml).site == "kirjasto");
    const SyncConfig sync = load_sync_config(e.kiosk_toml);
    CHECK(sync.endpoint == collector.url());
    CHECK(sync.token == token);
    CHECK(sync.connect_timeout == std::chrono::seconds(5));  // the shared file's tuning stays
    CHECK_THAT(collector.log(), Catch::Contains("GET /v1/device device=kirjasto-1 200"));
    CHECK(collector.log().find(token) == std::string::npos);  // never logged
}

TEST_CASE("enrol: from a file on a USB stick, run again it replaces the settings in one rename", "[enroll]") {
    Enrolment e;
    const std::string token = new_token();
    CollectorProcess collector(e.dir.path(), collector_config((e.dir / "collector.sqlite").string()) +
                                                 "[[device]]\nname = \"kirjasto-2\"\ntoken_hash = \"" + hash_token(token) +
                                                 "\"\n");
    // The stick: one file per kiosk, the token beside it, paths relative to the file.
    std::filesystem::create_directories(e.dir / "usb");
    write_file(e.dir / "usb/kirjasto.token", token + "\n");
    write_file(e.dir / "usb/kirjasto.toml", "site = \"kirjasto\"\ncollector = \"" + collector.url() +
                                                "\"\ntoken_file = \"kirjasto.token\"\nrotation = 270\n");
    RunResult first = e.enroll({"--from", (e.dir / "usb/kirjasto.toml").string()});
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(load_device_config(e.kiosk_toml).rotation == 270);

    // A key the file may not have is refused with its file and line, and nothing is written.
    write_file(e.dir / "usb/typo.toml", "site = \"kirjasto\"\ncolector = \"x\"\n");
    const auto before = snapshot(e.etc);
    RunResult typo = e.enroll({"--from", (e.dir / "usb/typo.toml").string()});
    CHECK(typo.exit_code == 2);
    CHECK_THAT(typo.err, Catch::Contains("typo.toml:2:") && Catch::Contains("unknown key colector"));
    CHECK(snapshot(e.etc) == before);

    // While a reader reads the file over and over, enrol ten more times, between two sites:
    // every read is one whole file or the other, never a half-written or missing one.
    const std::string a = read_file(e.device);
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, torn{0};
    std::string b;
    std::thread reader([&] {
        while (!done) {
            std::ifstream in(e.device);
            std::stringstream s;
            s << in.rdbuf();
            const std::string text = s.str();
            ++reads;
            if (!in || text.empty() || text.find("rotation = 270") == std::string::npos) ++torn;
        }
    });
    for (int i = 0; i < 10; ++i) {
        RunResult r = e.enroll({"--from", (e.dir / "usb/kirjasto.toml").string(), "--site", i % 2 ? "kirjasto" : "kirjasto-b"});
        CHECK(r.exit_code == 0);
    }
    done = true;
    reader.join();
    CHECK(reads > 10);
    CHECK(torn == 0);
    CHECK(load_device_config(e.kiosk_toml).site == "kirjasto");
    // No temporary file is left behind, and the mode is still 0600.
    for (const auto& f : std::filesystem::directory_iterator(e.etc))
        CHECK((f.path().filename() == "kiosk.toml" || f.path().filename() == "device.toml"));
    struct stat st {};
    REQUIRE(::stat(e.device.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("enrol: a collector's private CA is copied next to the settings, so the USB stick can go", "[enroll]") {
    Enrolment e;
    const std::string token = new_token();
    CollectorProcess collector(e.dir.path(), collector_config((e.dir / "collector.sqlite").string()) +
                                                 "[[device]]\nname = \"k\"\ntoken_hash = \"" + hash_token(token) + "\"\n");
    TlsServer tls(e.dir);  // for a real CA file; the collector itself is plain http on loopback
    write_file(e.dir / "token", token);
    RunResult r = e.enroll({"--site", "k", "--collector", collector.url(), "--token-file", (e.dir / "token").string(),
                            "--ca-file", tls.cert.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const SyncConfig sync = load_sync_config(e.kiosk_toml);
    CHECK(std::filesystem::path(sync.ca_file).parent_path() == e.etc);
    CHECK(read_file(sync.ca_file) == read_file(tls.cert));
    std::filesystem::remove(tls.cert);  // the stick is gone
    CHECK(load_sync_config(e.kiosk_toml).ca_file == sync.ca_file);
}

TEST_CASE("enrol: without --bundle-key the kiosk takes the collector's survey-bundle key, and says so", "[enroll]") {
    Enrolment e;
    run_bundle_keys(e.dir.path());  // bundle.key and bundle.pub beside the collector's config
    std::string pub = read_file(e.dir / "bundle.pub");
    pub = pub.substr(0, pub.find('\n'));
    const std::string token = new_token();
    write_file(e.dir / "token", token + "\n");
    CollectorProcess collector(e.dir.path(), collector_config((e.dir / "collector.sqlite").string()) +
                                                 "[[device]]\nname = \"kirjasto-1\"\ntoken_hash = \"" +
                                                 hash_token(token) + "\"\n");
    const std::vector<std::string> good = {"--site", "kirjasto", "--collector", collector.url(), "--token-file",
                                           (e.dir / "token").string()};
    RunResult ok = e.enroll(good);
    INFO(ok.out << ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains("the collector's public key " + pub + " (from the collector"));
    CHECK(load_sync_config(e.kiosk_toml).bundle_key == pub);
    // A key given on the command line wins, and the difference is said.
    const std::string other = make_bundle_keys().public_hex;
    std::vector<std::string> with_key = good;
    with_key.insert(with_key.end(), {"--bundle-key", other});
    RunResult given = e.enroll(with_key);
    INFO(given.out << given.err);
    REQUIRE(given.exit_code == 0);
    CHECK_THAT(given.out, Catch::Contains("not the collector's own (" + pub + ")"));
    CHECK(load_sync_config(e.kiosk_toml).bundle_key == other);
}
