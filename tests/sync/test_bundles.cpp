// Signed survey bundles (issue #10): publish on the real collector, fetch by the real
// uploader over loopback, each refusal with its reason on the collector (a bundle that
// does not fit on a real small tmpfs among them), and kill -9 through the apply: of a
// forked process staging, and of the real kiosk binary at points of its apply.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <future>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle.hpp"
#include "fault_proxy.hpp"
#include "bundle_store.hpp"
#include "config_error.hpp"
#include "kiosk_setup.hpp"
#include "publish.hpp"
#include "sync_support.hpp"
#include "test_support.hpp"
#include "uploader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
namespace fs = std::filesystem;

namespace {

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

// A folder to publish: the bundled surveys, texts, news and media with a shared kiosk.toml
// (no device settings in it).
fs::path make_folder(const fs::path& dir) {
    fs::create_directories(dir);
    fs::copy(config_dir() / "surveys", dir / "surveys", fs::copy_options::recursive);
    fs::copy(config_dir() / "lang", dir / "lang", fs::copy_options::recursive);
    fs::copy_file(config_dir() / "news.toml", dir / "news.toml");
    fs::copy(config_dir().parent_path() / "assets", dir / "assets", fs::copy_options::recursive);
    write_all(dir / "kiosk.toml",
              "[kiosk]\nlanguages = [\"fi\", \"sv\", \"en\"]\nsurveys = \"surveys\"\ntexts = \"lang\"\n"
              "news = \"news.toml\"\nassets = \"assets\"\n[store]\ndata_dir = \"/var/lib/kohtaamo\"  # each kiosk keeps its own\n");
    return dir;
}

// A kiosk's device file and the installed kiosk.toml naming it.
fs::path make_kiosk(const fs::path& dir, const std::string& endpoint, const std::string& token,
                    const std::string& bundle_key) {
    make_folder(dir / "etc");
    std::string installed = read_all(dir / "etc" / "kiosk.toml");
    installed = installed.substr(0, installed.find("[store]")) + "device = \"device.toml\"\n[store]\ndata_dir = \"" +
                (dir / "data").string() + "\"\n";
    write_all(dir / "etc" / "kiosk.toml", installed);
    write_all(dir / "etc" / "device.toml", "[device]\nsite = \"kirjasto\"\n[sync]\nendpoint = \"" + endpoint +
                                               "\"\ntoken = \"" + token + "\"\nbundle_key = \"" + bundle_key + "\"\n");
    fs::permissions(dir / "etc" / "device.toml", fs::perms::owner_read | fs::perms::owner_write);
    return dir / "etc" / "kiosk.toml";
}

std::vector<std::pair<std::string, std::string>> files_of(const fs::path& dir) { return read_bundle_folder(dir); }

std::string status_text(Storage& s) {
    std::ostringstream out;
    run_status(s, out);
    return out.str();
}

std::string error_of(Storage& s, const std::string& device) {
    for (const auto& d : s.bundle_status())
        if (d.device_name == device) return d.error;
    return "(no such device)";
}

std::int64_t running_of(Storage& s, const std::string& device) {
    for (const auto& d : s.bundle_status())
        if (d.device_name == device) return d.running;
    return -2;
}

}  // namespace

TEST_CASE("Bundles: the format refuses a changed byte, another key, a cut file", "[bundles]") {
    const BundleKeys keys = make_bundle_keys(), other = make_bundle_keys();
    const std::vector<std::pair<std::string, std::string>> files = {{"kiosk.toml", "[kiosk]\n"},
                                                                   {"surveys/a.toml", "id = \"a\"\n"}};
    const std::string b = pack_bundle(3, "2026-12-02T13:00:00.000Z", "", files, keys);
    const OpenedBundle ok = open_bundle(b, keys.public_hex);
    CHECK(ok.manifest.version == 3);
    CHECK(ok.contents.at(1) == "id = \"a\"\n");
    auto code_of = [&](const std::string& bytes, const std::string& key) {
        try {
            open_bundle(bytes, key);
            return std::string("accepted");
        } catch (const BundleError& e) {
            return e.code();
        }
    };
    CHECK(code_of(b, other.public_hex) == "other_key");
    for (std::size_t at : {std::size_t{30}, b.size() - 3, b.size() - 80}) {  // manifest, a file, the signature
        std::string t = b;
        t[at] = static_cast<char>(t[at] ^ 1);
        const std::string c = code_of(t, keys.public_hex);
        INFO("byte " << at << " changed: " << c);
        CHECK((c == "bad_signature" || c == "altered" || c == "malformed"));
    }
    CHECK(code_of(b.substr(0, b.size() - 1), keys.public_hex) == "altered");
    CHECK(code_of(b + "x", keys.public_hex) == "altered");
    CHECK(code_of("KOHTAAMO-BUNDLE1", keys.public_hex) == "malformed");
    CHECK_THROWS_AS(pack_bundle(1, "2026-12-02T13:00:00.000Z", "", {{"../x", ""}}, keys), BundleError);
    CHECK(!bundle_path_problem("device.toml").empty());
    CHECK(!bundle_path_problem("a/../b").empty());
    CHECK(!bundle_path_problem("secret.key").empty());
}

TEST_CASE("Bundles: publish, fetch, and each refusal with its reason on the collector", "[db][bundles]") {
    TempDir dir;
    test::sync::TestCollector collector(dir.path() / "collector");
    Storage& storage = collector.collector().storage();
    run_bundle_keys(dir.path() / "keys");
    const fs::path key_file = dir.path() / "keys" / "bundle.key";
    const BundleKeys keys = read_bundle_secret(key_file);
    const fs::path folder = make_folder(dir.path() / "publish");

    // A broken survey is refused at publish with its file and line; nothing is stored.
    {
        const fs::path broken = make_folder(dir.path() / "broken");
        write_all(broken / "surveys" / "child.toml", read_all(broken / "surveys" / "child.toml") + "\nnonsense = 1\n");
        CHECK(run_publish(storage, broken, "", key_file) == 2);
        CHECK(storage.latest_bundle_version() == 0);
        // Device settings never go in a bundle.
        const fs::path with_device = make_folder(dir.path() / "withdevice");
        write_all(with_device / "kiosk.toml", read_all(with_device / "kiosk.toml") + "[coordinator]\npin_hash = \"x\"\n");
        CHECK(run_publish(storage, with_device, "", key_file) == 2);
        write_all(with_device / "device.toml", "[device]\nsite = \"x\"\n");
        CHECK(run_publish(storage, with_device, "", key_file) == 2);
    }
    REQUIRE(run_publish(storage, folder, "", key_file) == 0);
    CHECK(storage.latest_bundle_version() == 1);

    // The kiosk: its installed config, a device file with the collector's public key.
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", collector.url(), collector.token(1), keys.public_hex);
    KioskSetup installed = load_kiosk_setup(kiosk_toml);
    REQUIRE(installed.sync.bundle_key == keys.public_hex);
    fs::create_directories(installed.config.data_dir);
    test::sync::make_kiosk_db(installed.config.database(), 0, 1);
    BundleStore store(installed.config.data_dir);
    std::vector<std::int64_t> ready;
    BundleHooks hooks;
    hooks.site = installed.config.site;
    hooks.check = [&](const fs::path& staged) { load_kiosk_setup(staged / "kiosk.toml", kiosk_toml.parent_path() / "device.toml"); };
    hooks.ready = [&](std::int64_t v) { ready.push_back(v); };
    SyncConfig sc = installed.sync;
    sc.interval = Millis(100);
    Uploader up(installed.config.database(), sc);
    up.set_bundles(&store, hooks);

    up.sync_once();
    REQUIRE(ready == std::vector<std::int64_t>{1});
    CHECK(store.newest_version() == 1);
    store.switch_to(1);
    CHECK(store.current_version() == 1);
    CHECK(load_kiosk_setup(store.folder(1) / "kiosk.toml", kiosk_toml.parent_path() / "device.toml").surveys.size() ==
          installed.surveys.size());
    up.sync_once();  // nothing newer: 304; the collector now knows it runs 1
    CHECK(ready.size() == 1);
    CHECK(running_of(storage, "k2") == 1);
    CHECK(error_of(storage, "k2").empty());

    // Each refusal: the collector serves it (stored as if published), the kiosk refuses and
    // keeps version 1, and says why on its next fetch.
    auto serve = [&](std::int64_t row, const std::string& file) {
        StoredBundle b{row, "", "2026-12-02T13:00:00.000Z", sha256_hex(file), static_cast<std::int64_t>(file.size())};
        REQUIRE(storage.store_bundle(b, file, {}));
    };
    auto refused_with = [&](const std::string& reason) {
        up.sync_once();  // fetched and refused
        up.sync_once();  // reported
        CHECK(store.current_version() == 1);
        CHECK(store.newest_version() == 1);
        INFO(status_text(storage));
        CHECK_THAT(error_of(storage, "k2"), Catch::Contains(reason));
        CHECK_THAT(status_text(storage), Catch::Contains(reason));
    };
    const auto good = files_of(folder);
    {
        std::string t = pack_bundle(2, "2026-12-02T13:00:00.000Z", "", good, keys);
        t[t.size() - 10] = static_cast<char>(t[t.size() - 10] ^ 0x20);  // one byte of a file
        serve(2, t);
        refused_with("altered");
    }
    serve(3, pack_bundle(3, "2026-12-02T13:00:00.000Z", "", good, make_bundle_keys()));
    refused_with("other_key");
    serve(4, pack_bundle(1, "2026-12-02T13:00:00.000Z", "", good, keys));  // an old file served again
    refused_with("not_newer");
    {
        auto broken = good;
        for (auto& [path, bytes] : broken)
            if (path == "surveys/child.toml") bytes += "\nnonsense = 1\n";
        serve(5, pack_bundle(5, "2026-12-02T13:00:00.000Z", "", broken, keys));
        refused_with("fails the config check");
        CHECK_THAT(error_of(storage, "k2"), Catch::Contains("surveys/child.toml:"));
    }
    // A good newer one is taken, and the error goes.
    REQUIRE(run_publish(storage, folder, "", key_file) == 0);
    up.sync_once();
    CHECK(ready.back() == 6);
    store.switch_to(6);
    up.sync_once();
    CHECK(running_of(storage, "k2") == 6);
    CHECK(error_of(storage, "k2").empty());
    CHECK_THAT(status_text(storage), Catch::Contains("k1") && Catch::Contains("never"));

    // The same survey id and version with another definition is refused at publish.
    write_all(folder / "surveys" / "child.toml", read_all(folder / "surveys" / "child.toml") + "\n# changed\n");
    CHECK(run_publish(storage, folder, "", key_file) == 2);
    // A bundle for another site is not sent here.
    const fs::path other_site = make_folder(dir.path() / "other");
    REQUIRE(run_publish(storage, other_site, "pop-up", key_file) == 0);
    const std::size_t before = ready.size();
    up.sync_once();
    CHECK(ready.size() == before);
}

TEST_CASE("Bundles: kill -9 at any moment of the apply leaves the old bundle or the new one", "[bundles]") {
    TempDir dir;
    const BundleKeys keys = make_bundle_keys();
    const fs::path folder = make_folder(dir.path() / "publish");
    const auto files = files_of(folder);
    const fs::path data = dir.path() / "data";
    // Version 1 applied first.
    {
        BundleStore s(data);
        s.stage(pack_bundle(1, "2026-12-02T13:00:00.000Z", "", files, keys), keys.public_hex, [](const fs::path&) {});
        s.switch_to(1);
    }
    std::mt19937 rng(7);
    std::int64_t next = 2;
    int saw_old = 0, saw_new = 0;
    for (int round = 0; round < 25; ++round) {
        auto changed = files;
        changed.front().second += "# round " + std::to_string(round) + "\n";  // kiosk.toml differs per version
        const std::string bytes = pack_bundle(next, "2026-12-02T13:00:00.000Z", "", changed, keys);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            BundleStore s(data);
            try {
                const std::int64_t v = s.stage(bytes, keys.public_hex, [](const fs::path&) {});
                s.switch_to(v);
            } catch (...) {
                ::_exit(3);
            }
            ::_exit(0);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30000)(rng)));
        ::kill(pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
        // The restart: recover, then what the kiosk's start does.
        BundleStore s(data);
        s.recover();
        if (s.newest_version() > s.current_version()) s.switch_to(s.newest_version());
        const std::int64_t cur = s.current_version();
        REQUIRE(cur >= 1);
        for (const auto& e : fs::directory_iterator(s.root()))
            CHECK(e.path().extension() != ".tmp");
        // Every file of the version `current` names is there, whole: the same bytes as published.
        const auto held = read_bundle_folder(s.folder(cur));
        if (cur == next) {
            CHECK(held == changed);
            ++saw_new;
            ++next;
        } else {
            CHECK(held.size() == files.size());
            ++saw_old;
        }
    }
    INFO("old " << saw_old << ", new " << saw_new);
    CHECK(saw_old + saw_new == 25);
}

TEST_CASE("Bundles: v2 published while a visitor is mid-survey is switched in after the thank-you", "[bundles]") {
    TempDir dir;
    test::sync::TestCollector collector(dir.path() / "collector");
    Storage& storage = collector.collector().storage();
    run_bundle_keys(dir.path() / "keys");
    const fs::path key_file = dir.path() / "keys" / "bundle.key";
    const BundleKeys keys = read_bundle_secret(key_file);
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", collector.url(), collector.token(1), keys.public_hex);
    write_all(kiosk_toml, read_all(kiosk_toml) + "[sync]\ninterval_seconds = 1\n");
    // v2 of the folder: the children's survey version 3, with a new title.
    const fs::path v2 = make_folder(dir.path() / "v2");
    std::string child = read_all(v2 / "surveys" / "child.toml");
    using test::sync::edit_first;
    child = edit_first(edit_first(child, "version = 2", "version = 3"), "fi = \"Lapset\"", "fi = \"Lapsille\"");
    write_all(v2 / "surveys" / "child.toml", child);
    const fs::path script = dir.path() / "visitor.txt";
    write_all(script,
              "tap \"Lapset\"\n"
              "expect \"Miltä tänään tuntui?\"\n"
              "tap \"Tosi hyvä\"\n"
              "wait 5000\n"                      // v2 is published and staged meanwhile
              "expect \"Mikä oli parasta?\"\n"  // the visitor goes on with the old survey
              "tap \"Musiikki\"\n"
              "wait 600\n"
              "tap \"3–5 v.\"\n"
              "wait 600\n"
              "expect \"Kiitos!\"\n"
              "advance 6000\n"
              "wait 300\n"
              "expect \"Tervetuloa!\"\n"
              "expect \"Lapsille\"\n"
              "expect-not \"Lapset\"\n");
    const fs::path db = dir.path() / "kiosk" / "data" / "kohtaamo.sqlite";
    auto run = std::async(std::launch::async, [&] {
        return run_program({KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay", script.string()});
    });
    // Published once the visitor's first answer is in the kiosk's database.
    REQUIRE(test::sync::wait_until(
        [&] {
            std::error_code ec;
            try {
                return fs::exists(db, ec) && test::sync::count(db, "SELECT count(*) FROM answers") > 0;
            } catch (const std::exception&) {
                return false;  // the kiosk is creating it
            }
        },
        std::chrono::seconds(20)));
    REQUIRE(run_publish(storage, v2, "", key_file) == 0);
    const RunResult r = run.get();
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("now running survey bundle 1"));
    // The visitor's response keeps the version it was answered with.
    CHECK(test::sync::count(db, "SELECT count(*) FROM responses WHERE survey_id = 'child' AND survey_version = 2 AND "
                                "status = 'complete'") == 1);
    // ... and the definition it was answered with: the installed child.toml, byte for byte.
    CHECK(query(db, "SELECT d.definition FROM responses r JOIN survey_definitions d ON d.hash = r.survey_hash"
                    " WHERE r.survey_id = 'child' AND r.status = 'complete'") ==
          Rows{{read_all(dir.path() / "kiosk" / "etc" / "surveys" / "child.toml")}});
    CHECK(fs::read_symlink(dir.path() / "kiosk" / "data" / "bundles" / "current") == "1");
    // Restarted, it runs the bundle.
    const fs::path again = dir.path() / "again.txt";
    write_all(again, "expect \"Lapsille\"\n");
    const RunResult r2 = run_program({KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay", again.string()});
    INFO(r2.err);
    CHECK(r2.exit_code == 0);
}

TEST_CASE("Bundles: an offline kiosk gets the bundle when the network returns", "[bundles]") {
    TempDir dir;
    test::sync::TestCollector collector(dir.path() / "collector");
    test::sync::FaultProxy proxy(collector.port());
    proxy.refuse(true);  // the network is down
    run_bundle_keys(dir.path() / "keys");
    const fs::path key_file = dir.path() / "keys" / "bundle.key";
    const BundleKeys keys = read_bundle_secret(key_file);
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", proxy.url(), collector.token(0), keys.public_hex);
    KioskSetup installed = load_kiosk_setup(kiosk_toml);
    fs::create_directories(installed.config.data_dir);
    test::sync::make_kiosk_db(installed.config.database(), 3, 2);
    REQUIRE(run_publish(collector.collector().storage(), make_folder(dir.path() / "v1"), "", key_file) == 0);
    BundleStore store(installed.config.data_dir);
    std::atomic<std::int64_t> ready{0};  // set on the uploader thread
    BundleHooks hooks;
    hooks.site = installed.config.site;
    hooks.check = [&](const fs::path& staged) { load_kiosk_setup(staged / "kiosk.toml", kiosk_toml.parent_path() / "device.toml"); };
    hooks.ready = [&](std::int64_t v) { ready = v; };
    SyncConfig sc = installed.sync;
    sc.interval = Millis(200);
    sc.backoff_initial = Millis(100);
    sc.backoff_max = Millis(500);
    sc.connect_timeout = Millis(1000);
    Uploader up(installed.config.database(), sc);
    up.set_bundles(&store, hooks);
    up.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(ready == 0);
    CHECK(store.newest_version() == 0);
    proxy.refuse(false);  // back
    CHECK(test::sync::wait_until([&] { return ready == 1; }, std::chrono::seconds(15)));
    up.stop();
    CHECK(store.newest_version() == 1);
    CHECK(test::sync::count(installed.config.database(), "SELECT count(*) FROM responses WHERE synced_at IS NULL AND status <> 'in_progress'") == 0);
}

TEST_CASE("Bundles: a bundle on a USB stick applies on a kiosk with no network", "[bundles]") {
    TempDir dir;
    SmallDisk stick(8 * 1024 * 1024);
    const BundleKeys keys = make_bundle_keys();
    // No collector: the endpoint is a closed port.
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", "http://127.0.0.1:9", "t", keys.public_hex);
    std::string pin_line;
    {
        std::istringstream in(read_all(config_dir() / "kiosk.toml"));
        for (std::string l; std::getline(in, l);)
            if (l.rfind("pin_hash", 0) == 0) pin_line = l;
    }
    const fs::path device = kiosk_toml.parent_path() / "device.toml";
    write_all(device, read_all(device) + "[coordinator]\n" + pin_line + "\n");
    fs::permissions(device, fs::perms::owner_read | fs::perms::owner_write);
    write_all(kiosk_toml, read_all(kiosk_toml) + "[export]\ndrive = \"" + stick.path().string() + "\"\n");
    const fs::path v1 = make_folder(dir.path() / "v1");
    // (The bundle's kiosk.toml replaces the installed one: it names the stick's folder too;
    // /media/*/* and the other usual mount points are always looked at.)
    write_all(v1 / "kiosk.toml", read_all(v1 / "kiosk.toml") + "[export]\ndrive = \"" + stick.path().string() + "\"\n");
    write_all(v1 / "surveys" / "child.toml",
              test::sync::edit_first(read_all(v1 / "surveys" / "child.toml"), "fi = \"Lapset\"", "fi = \"Lapsille\""));
    write_all(stick.path() / "kirjasto.kbundle", pack_bundle(4, "2026-12-02T13:00:00.000Z", "", read_bundle_folder(v1), keys));
    const fs::path script = dir.path() / "usb.txt";
    write_all(script,
              "expect \"Lapset\"\n"
              "hold 20 20 3200\n"
              "tap \"2\"\ntap \"5\"\ntap \"8\"\ntap \"0\"\ntap \"OK\"\n"
              "expect \"Koordinaattori\"\n"
              "expect \"versio 4\"\n"
              "tap \"Sulje\"\n"
              "wait 300\n"
              "expect \"Tervetuloa!\"\n"
              "expect \"Lapsille\"\n");
    const RunResult r = run_program({KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay", script.string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(fs::read_symlink(dir.path() / "kiosk" / "data" / "bundles" / "current") == "4");
    // A tampered copy on the stick is refused with its reason, and the kiosk keeps 4.
    std::string bad = pack_bundle(5, "2026-12-02T13:00:00.000Z", "", read_bundle_folder(v1), keys);
    bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 1);
    write_all(stick.path() / "kirjasto.kbundle", bad);
    const fs::path again = dir.path() / "again.txt";
    write_all(again,
              "hold 20 20 3200\n"
              "tap \"2\"\ntap \"5\"\ntap \"8\"\ntap \"0\"\ntap \"OK\"\n"
              "expect \"Koordinaattori\"\n"
              "screenshot " + (dir.path() / "refused.png").string() + "\n"
              "expect \"ei otettu käyttöön\"\n"
              "tap \"Sulje\"\n"
              "expect \"Lapsille\"\n");
    const RunResult r2 = run_program({KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay", again.string()});
    INFO(r2.out << r2.err);
    CHECK(r2.exit_code == 0);
    if (r2.exit_code != 0) fs::copy_file(dir.path() / "refused.png", "/tmp/bundles-refused.png", fs::copy_options::overwrite_existing);
    CHECK(fs::read_symlink(dir.path() / "kiosk" / "data" / "bundles" / "current") == "4");
    CHECK_THAT(read_all(dir.path() / "kiosk" / "data" / "bundles" / "last-error"), Catch::Contains("altered"));
}

TEST_CASE("Bundles: a bundle that would not fit on the kiosk's disk is refused, the kiosk keeps the one it runs, and "
          "the collector hears why",
          "[db][bundles]") {
    TempDir dir;
    SmallDisk disk(6 * 1024 * 1024);  // a real tmpfs of 6 MiB holds the kiosk's data folder
    test::sync::TestCollector collector(dir.path() / "collector");
    Storage& storage = collector.collector().storage();
    run_bundle_keys(dir.path() / "keys");
    const fs::path key_file = dir.path() / "keys" / "bundle.key";
    const BundleKeys keys = read_bundle_secret(key_file);
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", collector.url(), collector.token(1), keys.public_hex);
    KioskSetup installed = load_kiosk_setup(kiosk_toml);
    installed.config.data_dir = disk.path() / "data";
    fs::create_directories(installed.config.data_dir);
    test::sync::make_kiosk_db(installed.config.database(), 3, 4);
    BundleStore store(installed.config.data_dir);
    std::vector<std::int64_t> ready;
    std::vector<std::string> logged;
    BundleHooks hooks;
    hooks.site = installed.config.site;
    hooks.check = [&](const fs::path& staged) { load_kiosk_setup(staged / "kiosk.toml", kiosk_toml.parent_path() / "device.toml"); };
    hooks.ready = [&](std::int64_t v) { ready.push_back(v); };
    hooks.log = [&](const std::string& line) { logged.push_back(line); };
    SyncConfig sc = installed.sync;
    Uploader up(installed.config.database(), sc);
    up.set_bundles(&store, hooks);

    // Version 1 fits, and runs.
    REQUIRE(run_publish(storage, make_folder(dir.path() / "v1"), "", key_file) == 0);
    up.sync_once();
    REQUIRE(ready == std::vector<std::int64_t>{1});
    store.switch_to(1);
    // Version 2 carries an 8 MiB film: more than the disk has.
    const fs::path v2 = make_folder(dir.path() / "v2");
    {
        std::mt19937 rng(3);
        std::string film(8 << 20, '\0');
        for (auto& c : film) c = static_cast<char>(rng());
        write_all(v2 / "assets" / "film.bin", film);
    }
    REQUIRE(run_publish(storage, v2, "", key_file) == 0);
    up.sync_once();  // fetched and refused
    CHECK(ready.size() == 1);
    CHECK(store.current_version() == 1);
    CHECK(store.newest_version() == 1);
    for (const auto& e : fs::directory_iterator(store.root())) CHECK(e.path().extension() != ".tmp");
    std::string said;
    for (const auto& l : logged) said += l + "\n";
    INFO(said);
    CHECK_THAT(said, Catch::Contains("bundle refused, keeping version 1: no_space"));
    CHECK_THAT(store.last_error(), Catch::StartsWith("no_space: version 2 needs"));
    // The kiosk still runs version 1, whole.
    CHECK(load_kiosk_setup(store.folder(1) / "kiosk.toml", kiosk_toml.parent_path() / "device.toml").surveys.size() ==
          installed.surveys.size());
    up.sync_once();  // reported
    CHECK(running_of(storage, "k2") == 1);
    CHECK_THAT(error_of(storage, "k2"), Catch::StartsWith("no_space: version 2 needs"));
    CHECK_THAT(status_text(storage), Catch::Contains("no_space"));
    // Not refused for good: once there is room (a smaller version 3), it is taken.
    REQUIRE(run_publish(storage, make_folder(dir.path() / "v3"), "", key_file) == 0);
    up.sync_once();
    CHECK(ready.back() == 3);
}

TEST_CASE("Bundles: the real kiosk killed with SIGKILL at points through the apply restarts on the old bundle or the "
          "new one, never a mix",
          "[db][bundles]") {
    TempDir dir;
    test::sync::TestCollector collector(dir.path() / "collector");
    Storage& storage = collector.collector().storage();
    run_bundle_keys(dir.path() / "keys");
    const fs::path key_file = dir.path() / "keys" / "bundle.key";
    const BundleKeys keys = read_bundle_secret(key_file);
    const fs::path kiosk_toml = make_kiosk(dir.path() / "kiosk", collector.url(), collector.token(1), keys.public_hex);
    write_all(kiosk_toml, read_all(kiosk_toml) + "[sync]\ninterval_seconds = 1\n");
    const fs::path device = kiosk_toml.parent_path() / "device.toml";
    const std::string online = read_all(device);
    const std::string offline = test::sync::edit_first(online, collector.url(), "http://127.0.0.1:9");
    const fs::path bundles = dir.path() / "kiosk" / "data" / "bundles";
    const fs::path idle = dir.path() / "idle.txt", restart = dir.path() / "restart.txt";
    write_all(idle, "wait 15000\n");  // on the welcome screen: a ready bundle is switched in at once
    write_all(restart, "expect \"Tervetuloa!\"\n");
    auto spawn = [&](const fs::path& script, const fs::path& log) {
        std::vector<std::string> args = {KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay",
                                         script.string()};
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        return pid;
    };
    auto current = [&] {
        std::error_code ec;
        const fs::path t = fs::read_symlink(bundles / "current", ec);
        return ec ? std::int64_t{0} : std::int64_t{std::stoll(t.string())};
    };
    // Each version's files as published: what `current` must name, whole, after a restart.
    std::map<std::int64_t, std::vector<std::pair<std::string, std::string>>> published;
    auto publish = [&](int n) {
        const fs::path folder = make_folder(dir.path() / ("v" + std::to_string(n)));
        std::mt19937 rng(static_cast<unsigned>(n));
        for (int i = 0; i < 12; ++i) {  // a dozen pictures' worth of files: the stage takes a while
            std::string bytes(256 << 10, '\0');
            for (auto& c : bytes) c = static_cast<char>(rng());
            write_all(folder / "assets" / "extra" / ("f" + std::to_string(i) + ".bin"), bytes);
        }
        write_all(folder / "kiosk.toml", read_all(folder / "kiosk.toml") + "# version " + std::to_string(n) + "\n");
        REQUIRE(run_publish(storage, folder, "", key_file) == 0);
        published[storage.latest_bundle_version()] = read_bundle_folder(folder);
        return storage.latest_bundle_version();
    };
    // Version 1 first, applied by a kiosk left to finish.
    REQUIRE(publish(1) == 1);
    {
        const pid_t pid = spawn(idle, dir.path() / "first.log");
        const bool applied = test::sync::wait_until([&] { return current() == 1; }, std::chrono::seconds(20));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        REQUIRE(applied);
    }
    // Then each round: a new version, the kiosk started and killed at one point of its apply.
    const char* points[] = {"staging (<N>.tmp exists)", "ready (<N> complete, not switched)", "just switched",
                            "a random moment"};
    int saw_old = 0, saw_new = 0;
    int hit[3] = {0, 0, 0};  // rounds killed exactly at each point
    std::mt19937 rng(11);
    for (int round = 0; round < 8; ++round) {
        const std::int64_t before = current(), next = publish(round + 2);
        const int point = round % 4;
        write_all(device, online);
        fs::permissions(device, fs::perms::owner_read | fs::perms::owner_write);
        const fs::path log = dir.path() / ("round" + std::to_string(round) + ".log");
        const pid_t pid = spawn(idle, log);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        std::error_code ec;
        auto reached = [&] {
            switch (point) {
                case 0: return fs::exists(bundles / (std::to_string(next) + ".tmp"), ec);
                case 1: return fs::is_directory(bundles / std::to_string(next), ec);
                case 2: return current() == next;
                default: return false;
            }
        };
        if (point == 3) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 2500)(rng)));
        } else {
            while (!reached() && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            if (reached()) ++hit[point];
        }
        ::kill(pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
        INFO("round " << round << ", killed at " << points[point] << "; " << read_all(log));
        CHECK(WIFSIGNALED(st));
        // The restart, with no network: what it finds on disk is what it runs.
        write_all(device, offline);
        fs::permissions(device, fs::perms::owner_read | fs::perms::owner_write);
        const RunResult r = run_program({KOHTAAMO_BIN, "--headless", "--config", kiosk_toml.string(), "--replay",
                                         restart.string()});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const std::int64_t cur = current();
        CHECK((cur == before || cur == next));
        for (const auto& e : fs::directory_iterator(bundles)) {
            CHECK(e.path().extension() != ".tmp");
            CHECK(e.path().filename() != "current.new");
        }
        // Every file of the version it runs is there, the same bytes as published.
        CHECK(read_bundle_folder(bundles / std::to_string(cur)) == published.at(cur));
        (cur == next ? saw_new : saw_old)++;
    }
    INFO("old " << saw_old << ", new " << saw_new << "; killed while staging " << hit[0] << ", ready " << hit[1]
                << ", switched " << hit[2]);
    CHECK(saw_old > 0);
    CHECK(saw_new > 0);
    CHECK(hit[0] + hit[1] + hit[2] >= 4);  // most rounds were killed at the point they aimed at
}

TEST_CASE("Bundles: a write that fails while staging (a real file-size limit) is refused as no_space and leaves the "
          "bundle the kiosk runs",
          "[bundles]") {
    TempDir dir;
    const BundleKeys keys = make_bundle_keys();
    const fs::path folder = make_folder(dir.path() / "publish");
    const auto files = files_of(folder);
    const fs::path data = dir.path() / "data";
    {
        BundleStore s(data);
        s.stage(pack_bundle(1, "2026-12-02T13:00:00.000Z", "", files, keys), keys.public_hex, [](const fs::path&) {});
        s.switch_to(1);
    }
    auto big = files;
    big.emplace_back("assets/zz-film.bin", std::string(2 << 20, 'x'));
    std::sort(big.begin(), big.end());  // a bundle lists its files by path
    const std::string bytes = pack_bundle(2, "2026-12-02T13:00:00.000Z", "", big, keys);
    // The disk has room (statvfs says so); the kernel refuses any file past 1 MiB (RLIMIT_FSIZE, EFBIG).
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{1 << 20, 1 << 20};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        BundleStore s(data);
        try {
            s.stage(bytes, keys.public_hex, [](const fs::path&) {});
            ::_exit(1);  // staged: not expected
        } catch (const BundleError& e) {
            std::fprintf(stderr, "%s: %s\n", e.code().c_str(), e.what());
            ::_exit(e.code() == "no_space" && std::string(e.what()).find("zz-film.bin") != std::string::npos ? 0 : 2);
        } catch (...) {
            ::_exit(3);
        }
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    REQUIRE(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    BundleStore s(data);
    CHECK(s.current_version() == 1);
    CHECK(s.newest_version() == 1);
    for (const auto& e : fs::directory_iterator(s.root())) CHECK(e.path().extension() != ".tmp");
    CHECK(read_bundle_folder(s.folder(1)) == files);
}
