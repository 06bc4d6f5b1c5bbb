// The store: answers are in the file when save_answer() returns, the schema is what
// docs/store.md says, old files migrate, and a crash mid-survey leaves an abandoned response.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::TempDir;

static const std::int64_t T0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

static ResponseHeader header(const std::string& id) {
    return ResponseHeader{id, "child", 1, "fi", "site-a", "", T0};
}

TEST_CASE("each answer is readable by another connection as soon as it is saved") {
    TempDir dir;
    Store store(dir / "k.sqlite", T0);
    store.save_answer(header("r1"), "feeling", {"5"}, T0 + 1000);
    // A separate, read-only connection (as a coordinator's tool) sees it at once.
    CHECK(query(dir / "k.sqlite", "SELECT id, survey_id, survey_version, language, status, started_at, finished_at, site FROM responses") ==
          Rows{{"r1", "child", "1", "fi", "in_progress", "2025-11-24T16:00:00.000Z", "NULL", "site-a"}});
    CHECK(query(dir / "k.sqlite", "SELECT response_id, question_id, value, answered_at FROM answers") ==
          Rows{{"r1", "feeling", "5", "2025-11-24T16:00:01.000Z"}});

    // Answering again replaces; several values for a multiple choice; none clears.
    store.save_answer(header("r1"), "feeling", {"4"}, T0 + 2000);
    store.save_answer(header("r1"), "best", {"play", "music"}, T0 + 3000);
    CHECK(query(dir / "k.sqlite", "SELECT question_id, value FROM answers ORDER BY question_id, value") ==
          Rows{{"best", "music"}, {"best", "play"}, {"feeling", "4"}});
    store.save_answer(header("r1"), "best", {}, T0 + 4000);
    CHECK(query(dir / "k.sqlite", "SELECT question_id, value FROM answers") == Rows{{"feeling", "4"}});

    store.finish("r1", ResponseStatus::Complete, T0 + 5000);
    CHECK(query(dir / "k.sqlite", "SELECT status, finished_at FROM responses") ==
          Rows{{"complete", "2025-11-24T16:00:05.000Z"}});
    // A finished response never changes.
    CHECK_THROWS_AS(store.save_answer(header("r1"), "feeling", {"1"}, T0 + 6000), StoreError);
    store.finish("r1", ResponseStatus::Abandoned, T0 + 7000);
    CHECK(query(dir / "k.sqlite", "SELECT status FROM responses") == Rows{{"complete"}});
}

TEST_CASE("the file is in WAL mode and synchronous is FULL on the store's connection") {
    TempDir dir;
    Store store(dir / "k.sqlite", T0);
    CHECK(query(dir / "k.sqlite", "PRAGMA journal_mode") == Rows{{"wal"}});
    Statement s(store.handle(), "PRAGMA synchronous");
    REQUIRE(s.step());
    CHECK(s.integer(0) == 2);  // FULL
    CHECK(store.schema_version() == Store::latest_schema_version());
    CHECK(store.device_id().size() == 36);
}

TEST_CASE("a response left in progress by a killed process is abandoned at the next start") {
    TempDir dir;
    const auto file = dir / "k.sqlite";
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        Store store(file, T0);
        store.save_answer(header("r-killed"), "feeling", {"3"}, T0 + 1000);
        kill(getpid(), SIGKILL);  // no destructor, no close: as a power cut leaves it
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    Store store(file, T0 + 60'000);
    CHECK(store.recovered() == 1);
    CHECK(query(file, "SELECT id, status, finished_at FROM responses") ==
          Rows{{"r-killed", "abandoned", "2025-11-24T16:01:00.000Z"}});
    CHECK(query(file, "SELECT question_id, value FROM answers") == Rows{{"feeling", "3"}});
}

TEST_CASE("a file made with the first schema is migrated and keeps its data") {
    TempDir dir;
    const auto file = dir / "old.sqlite";
    {
        // Build the file exactly as the first release did: step 0 only, user_version 1.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite_exec(db, schema_migrations()[0]);
        sqlite_exec(db, "PRAGMA user_version = 1");
        sqlite_exec(db,
                    "INSERT INTO responses VALUES ('old-1', 'child', 1, 'sv', 'complete', "
                    "'2026-01-05T09:00:00.000Z', '2026-01-05T09:00:30.000Z');"
                    "INSERT INTO answers VALUES ('old-1', 'feeling', '4', '2026-01-05T09:00:10.000Z');");
        sqlite3_close(db);
    }
    Store store(file, T0);
    CHECK(store.schema_version() == Store::latest_schema_version());
    CHECK(query(file, "SELECT id, language, status, site, event FROM responses") ==
          Rows{{"old-1", "sv", "complete", "", ""}});
    CHECK(query(file, "SELECT response_id, value FROM answers") == Rows{{"old-1", "4"}});
    CHECK(store.device_id().size() == 36);
    // And it takes new answers with the new columns.
    store.save_answer(header("new-1"), "feeling", {"5"}, T0 + 1);
    CHECK(query(file, "SELECT site FROM responses WHERE id = 'new-1'") == Rows{{"site-a"}});
}

TEST_CASE("a file from a newer kiosk is refused, not damaged") {
    TempDir dir;
    const auto file = dir / "new.sqlite";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite_exec(db, "PRAGMA user_version = 99");
        sqlite3_close(db);
    }
    CHECK_THROWS_WITH(Store(file, T0), Catch::Contains("schema version 99") && Catch::Contains("newer"));
    CHECK(query(file, "PRAGMA user_version") == Rows{{"99"}});
}

TEST_CASE("a full disk fails the save loudly, keeps what was saved, and recovers when space returns") {
    test::SmallDisk disk(512 * 1024);
    const auto file = disk.path() / "k.sqlite";
    Store store(file, T0);
    store.save_answer(header("r1"), "feeling", {"5"}, T0);
    disk.fill();
    const std::string big(16 * 1024, 'x');  // enough that the WAL must grow
    std::vector<std::string> values;
    for (int i = 0; i < 16; ++i) values.push_back(big + std::to_string(i));
    CHECK_THROWS_WITH(store.save_answer(header("r2"), "best", values, T0 + 1),
                      Catch::Contains("cannot save the answer") && Catch::Contains("full"));
    disk.unfill();
    CHECK(query(file, "SELECT id, status FROM responses") == Rows{{"r1", "in_progress"}});
    // With space again, the same store goes on saving.
    store.save_answer(header("r2"), "feeling", {"2"}, T0 + 2);
    CHECK(query(file, "SELECT id FROM responses ORDER BY id") == Rows{{"r1"}, {"r2"}});
}
