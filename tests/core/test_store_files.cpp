// The store's files (docs/store.md, "Files"): a private data folder and database whatever
// the umask, a damaged database moved aside and reported, a -wal that is not the
// database's refused and kept, the kiosk's own -wal after a crash applied.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::TempDir;
namespace fs = std::filesystem;

namespace {
const std::int64_t T0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

ResponseHeader header(const std::string& id) { return ResponseHeader{id, "child", 1, "fi", "site-a", "", T0}; }

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// In a child process: opens the store at `file`, saves `n` responses and dies by SIGKILL,
// so the -wal is left beside the file as a power cut leaves it.
void crash_after_saving(const fs::path& file, const std::string& prefix, int n) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        Store store(file, T0);
        for (int i = 0; i < n; ++i) {
            store.save_answer(header(prefix + std::to_string(i)), "feeling", {"3"}, T0 + 1000);
            store.finish(prefix + std::to_string(i), ResponseStatus::Complete, T0 + 2000);
        }
        kill(getpid(), SIGKILL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
}

std::vector<fs::path> aside(const fs::path& dir, const std::string& part) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(part) != std::string::npos) out.push_back(e.path());
    return out;
}
}  // namespace

TEST_CASE("the data folder is 0700 and the database with its WAL and SHM 0600, even with umask 022") {
    TempDir dir;
    const mode_t old = ::umask(022);
    const auto data = dir / "data";
    {
        Store store(data / "kohtaamo.sqlite", T0);
        store.save_answer(header("r1"), "feeling", {"5"}, T0);
        CHECK(mode_of(data) == 0700);
        CHECK(mode_of(data / "kohtaamo.sqlite") == 0600);
        CHECK(mode_of(data / "kohtaamo.sqlite-wal") == 0600);
        CHECK(mode_of(data / "kohtaamo.sqlite-shm") == 0600);
    }
    // A file an older kiosk left world-readable is made private at the next start.
    ::chmod((data / "kohtaamo.sqlite").c_str(), 0644);
    ::chmod(data.c_str(), 0755);
    {
        Store store(data / "kohtaamo.sqlite", T0);
        CHECK(mode_of(data) == 0700);
        CHECK(mode_of(data / "kohtaamo.sqlite") == 0600);
        CHECK(store.notices().empty());
    }
    ::umask(old);
}

TEST_CASE("a shared data folder (sticky, as /tmp) is not changed, and staff are told") {
    TempDir dir;
    const auto shared = dir / "shared";
    fs::create_directories(shared);
    ::chmod(shared.c_str(), 01777);
    Store store(shared / "kohtaamo.sqlite", T0);
    CHECK(mode_of(shared) == 0777);
    CHECK(mode_of(shared / "kohtaamo.sqlite") == 0600);
    REQUIRE(store.notices().size() == 1);
    CHECK_THAT(store.notices()[0], Catch::Contains("is shared"));
}

TEST_CASE("a database with a corrupt page is moved aside under a dated name and reported, never replaced silently") {
    TempDir dir;
    const auto file = dir / "kohtaamo.sqlite";
    {
        Store store(file, T0);
        for (int i = 0; i < 300; ++i) store.save_answer(header("r" + std::to_string(i)), "feeling", {std::string(200, 'a')}, T0);
    }
    REQUIRE(fs::file_size(file) > 8 * 4096);
    {
        // Page 3 (a b-tree page of the schema's tables) overwritten with noise, as a failing
        // SD card leaves it.
        std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(2 * 4096);
        std::mt19937 rng(7);
        for (int i = 0; i < 4096; ++i) f.put(static_cast<char>(rng()));
    }
    const std::string damaged = test::read_file(file);
    Store store(file, T0 + 3'600'000);
    REQUIRE(store.notices().size() == 1);
    CHECK_THAT(store.notices()[0], Catch::Contains("is damaged") && Catch::Contains("kohtaamo.sqlite.corrupt-2025-11-24T17-00-00Z"));
    const auto kept = aside(dir.path(), ".corrupt-");
    REQUIRE(kept.size() == 1);
    CHECK(test::read_file(kept[0]) == damaged);  // kept byte for byte
    // The kiosk goes on with a new, empty database.
    CHECK(query(file, "SELECT count(*) FROM responses") == Rows{{"0"}});
    store.save_answer(header("after"), "feeling", {"4"}, T0 + 3'600'001);
    CHECK(query(file, "SELECT id FROM responses") == Rows{{"after"}});
}

TEST_CASE("a -wal from another kiosk's database is refused, kept aside and reported; the kiosk's own is applied") {
    TempDir dir;
    const auto a = dir / "a" / "kohtaamo.sqlite";
    const auto b = dir / "b" / "kohtaamo.sqlite";
    { Store store(a, T0); store.save_answer(header("a-1"), "feeling", {"1"}, T0); store.finish("a-1", ResponseStatus::Complete, T0); }
    crash_after_saving(b, "b-", 5);
    REQUIRE(fs::file_size(b.string() + "-wal") > 0);
    REQUIRE(!fs::exists(a.string() + "-wal"));  // a clean close leaves no WAL
    fs::copy_file(b.string() + "-wal", a.string() + "-wal");
    const std::string foreign = test::read_file(a.string() + "-wal");
    {
        Store store(a, T0 + 60'000);
        REQUIRE(store.notices().size() == 1);
        CHECK_THAT(store.notices()[0], Catch::Contains("was not applied") && Catch::Contains("another database"));
        CHECK(query(a, "SELECT id FROM responses") == Rows{{"a-1"}});
        const auto kept = aside(dir / "a", "-wal.foreign-");
        REQUIRE(kept.size() == 1);
        CHECK(test::read_file(kept[0]) == foreign);
    }
    // b's own WAL, after its crash, is b's: applied, every answer there.
    Store store(b, T0 + 60'000);
    CHECK(store.notices().empty());
    CHECK(query(b, "SELECT count(*) FROM responses WHERE status = 'complete'") == Rows{{"5"}});
}

TEST_CASE("a -wal that is not a WAL, or of another page size, is refused and kept") {
    TempDir dir;
    const auto file = dir / "kohtaamo.sqlite";
    { Store store(file, T0); store.save_answer(header("r1"), "feeling", {"1"}, T0); }
    test::write_file(file.string() + "-wal", std::string(4096, 'z'));
    Store store(file, T0);
    REQUIRE(store.notices().size() == 1);
    CHECK_THAT(store.notices()[0], Catch::Contains("not an SQLite WAL"));
    CHECK(query(file, "SELECT id FROM responses") == Rows{{"r1"}});
    CHECK(aside(dir.path(), "-wal.foreign-").size() == 1);
}

TEST_CASE("a -wal in use by another open connection (the uploader's) is live, not checked or moved aside") {
    TempDir dir;
    const auto a = dir / "kohtaamo.sqlite";
    { Store store(a, T0); store.save_answer(header("a-1"), "feeling", {"1"}, T0); store.finish("a-1", ResponseStatus::Complete, T0); }
    // Another connection, as the uploader's thread or kohtaamo-sync: it writes what does not
    // touch the identity page and stays open.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(a.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "PRAGMA journal_mode = WAL; UPDATE responses SET synced_at = 'x' WHERE id = 'a-1'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(fs::file_size(a.string() + "-wal") > 0);
    {
        Store store(a, T0 + 60'000);
        CHECK(store.notices().empty());
        CHECK(aside(dir.path(), "-wal.foreign-").empty());
        CHECK(aside(dir.path(), ".corrupt-").empty());
        CHECK(query(a, "SELECT id, synced_at FROM responses") == Rows{{"a-1", "x"}});
    }
    sqlite3_close(other);
}
