// The one-shot command (kohtaamo-sync) as a real child process: killed with SIGKILL in the
// middle of an upload, again and again, then run to the end: nothing lost, nothing twice.
#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;
using namespace kohtaamo::test::sync;

namespace {

std::filesystem::path write_config(const TempDir& dir, const std::string& endpoint, const std::string& token,
                                   int batch) {
    auto file = dir / "kiosk.toml";
    write_file(file, "[sync]\nendpoint = \"" + endpoint + "\"\ntoken = \"" + token + "\"\nbatch_max_responses = " +
                         std::to_string(batch) +
                         "\nbackoff_initial_seconds = 1\nbackoff_max_seconds = 1\nconnect_timeout_seconds = 2\n"
                         "low_speed_seconds = 3\n");
    return file;
}

pid_t spawn_sync(const std::filesystem::path& config, const std::filesystem::path& db,
                 const std::filesystem::path& log, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {KOHTAAMO_SYNC_BIN, "--config", config.string(), "--database", db.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_t pid = fork();
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

TEST_CASE("kill: the uploading process killed with SIGKILL mid-upload and restarted loses nothing and sends nothing twice",
          "[kill][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 2500, 77);
    auto config = write_config(dir, col.url(), col.token(0), 8);  // many small batches: a long upload
    auto log = dir / "sync.log";
    int kills = 0;
    for (std::int64_t target : {300, 1000, 1700}) {
        pid_t pid = spawn_sync(config, k.path, log);
        bool reached = wait_until([&] { return col.count("SELECT count(*) FROM responses") >= target; }, 60s);
        ::kill(pid, SIGKILL);
        int rc = wait_exit(pid);
        INFO(read_file(log));
        REQUIRE(reached);
        REQUIRE(rc == -SIGKILL);  // it was still uploading
        ++kills;
        const auto held = col.count("SELECT count(*) FROM responses");
        const auto marked = count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL");
        CHECK(marked <= held);  // never marked before the collector had it
        CHECK(held < k.finished);
    }
    CHECK(kills == 3);
    pid_t pid = spawn_sync(config, k.path, log);
    int rc = wait_exit(pid);
    INFO(read_file(log));
    CHECK(rc == 0);
    CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
    CHECK(col.count("SELECT count(DISTINCT id) FROM responses") == k.finished);
    CHECK(col.count("SELECT count(*) FROM answers") == k.answers);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NOT NULL") == k.finished);
    CHECK(count(k.path, "SELECT count(*) FROM responses WHERE synced_at IS NULL AND status <> 'in_progress'") == 0);
}

TEST_CASE("kohtaamo-sync: exit codes say what happened", "[kill][cli][db]") {
    TempDir dir;
    TestCollector col(dir.path());
    KioskDb k = make_kiosk_db(dir / "k.sqlite", 30, 78);
    auto log = dir / "sync.log";
    SECTION("nothing listening gives 2 with the reason") {
        auto config = write_config(dir, "http://127.0.0.1:9", col.token(0), 10);
        CHECK(wait_exit(spawn_sync(config, k.path, log, {"--attempts", "1"})) == 2);
        CHECK_THAT(read_file(log), Catch::Contains("cannot reach the collector"));
    }
    SECTION("a wrong token gives 3") {
        auto config = write_config(dir, col.url(), "wrong", 10);
        CHECK(wait_exit(spawn_sync(config, k.path, log)) == 3);
        CHECK_THAT(read_file(log), Catch::Contains("refused this kiosk's token"));
    }
    SECTION("no database gives 1") {
        auto config = write_config(dir, col.url(), col.token(0), 10);
        CHECK(wait_exit(spawn_sync(config, dir / "missing.sqlite", log)) == 1);
        CHECK_THAT(read_file(log), Catch::Contains("does not exist"));
    }
    SECTION("all sent gives 0 and --status shows it") {
        auto config = write_config(dir, col.url(), col.token(0), 10);
        CHECK(wait_exit(spawn_sync(config, k.path, log)) == 0);
        CHECK(col.count("SELECT count(*) FROM responses") == k.finished);
        CHECK(wait_exit(spawn_sync(config, k.path, log, {"--status"})) == 0);
        CHECK_THAT(read_file(log), Catch::Contains("pending:         0"));
    }
}
