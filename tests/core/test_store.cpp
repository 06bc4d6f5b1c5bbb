// The store: answers are in the file when save_answer() returns, the schema is what
// docs/store.md says, old files migrate, and a crash mid-survey leaves an abandoned response.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include "schema.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "test_support.hpp"
#include "uuid.hpp"

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

// The mischief rule (docs/store.md): a response with the same answers as the previous one
// to its survey, started within the window after that one finished, is flagged, not dropped.
namespace {
struct Walk {
    std::string id;
    std::int64_t started_ms;
    std::vector<std::pair<std::string, std::string>> answers;  // question, value
    std::int64_t finished_ms;
    std::string survey = "child";
    ResponseStatus status = ResponseStatus::Complete;
};
bool walk(Store& store, const Walk& w, std::int64_t window_ms = 20'000) {
    ResponseHeader h{w.id, w.survey, 1, "fi", "site-a", "", w.started_ms};
    for (const auto& [q, v] : w.answers) store.save_answer(h, q, {v}, w.started_ms + 1000);
    return store.finish(w.id, w.status, w.finished_ms, window_ms);
}
const std::vector<std::pair<std::string, std::string>> kSame = {{"feeling", "5"}, {"age", "3-5"}};
}  // namespace

TEST_CASE("forty identical responses in a row count once: one kept plain, 39 flagged") {
    TempDir dir;
    Store store(dir / "k.sqlite", T0);
    int flagged = 0;
    for (int i = 0; i < 40; ++i) {
        // Each takes 3 s and the next starts 7 s after the last one finished.
        const std::int64_t start = T0 + i * 10'000;
        flagged += walk(store, {"r" + std::to_string(100 + i), start, kSame, start + 3000}) ? 1 : 0;
    }
    CHECK(flagged == 39);
    CHECK(query(dir / "k.sqlite", "SELECT flagged, count(*) FROM responses GROUP BY flagged ORDER BY flagged") ==
          Rows{{"0", "1"}, {"1", "39"}});
    CHECK(query(dir / "k.sqlite", "SELECT id FROM responses WHERE flagged = 0") == Rows{{"r100"}});
    // Flagged responses keep their status and answers: nothing is dropped.
    CHECK(query(dir / "k.sqlite", "SELECT status, count(*) FROM responses GROUP BY status") == Rows{{"complete", "40"}});
    CHECK(query(dir / "k.sqlite", "SELECT count(*) FROM answers") == Rows{{"80"}});
}

TEST_CASE("the mischief rule flags only identical answers within the window, compared with the previous response") {
    TempDir dir;
    Store store(dir / "k.sqlite", T0);
    const std::int64_t W = 20'000;
    std::int64_t t = T0;
    auto next = [&](const std::string& id, std::int64_t gap_ms, const std::vector<std::pair<std::string, std::string>>& a,
                    const std::string& survey = "child", ResponseStatus status = ResponseStatus::Complete) {
        t += gap_ms;  // from the previous finish to this start
        const std::int64_t start = t;
        t += 5000;    // five seconds to answer
        return walk(store, {id, start, a, t, survey, status}, W);
    };
    CHECK_FALSE(next("a", 0, kSame));                               // the first: nothing to compare with
    CHECK(next("b", W, kSame));                                     // exactly at the window: flagged
    CHECK_FALSE(next("c", W + 1, kSame));                           // 1 ms slower: a new visitor
    CHECK_FALSE(next("d", 1000, {{"feeling", "4"}, {"age", "3-5"}}));  // quick but a different answer
    CHECK_FALSE(next("e", 1000, {{"feeling", "4"}}));               // a subset is not the same
    CHECK(next("f", 1000, {{"feeling", "4"}}, "child", ResponseStatus::Abandoned));  // abandoned ones count too
    CHECK_FALSE(next("g", 1000, {{"welcome", "4"}}, "family"));     // another survey: its own previous (none)
    CHECK(next("h", 1000, {{"feeling", "4"}}));                     // compared with f, the previous child response
    CHECK(query(dir / "k.sqlite", "SELECT id FROM responses WHERE flagged = 1 ORDER BY started_at") ==
          Rows{{"b"}, {"f"}, {"h"}});
    // Finishing again changes nothing, and never unflags.
    CHECK_FALSE(store.finish("h", ResponseStatus::Abandoned, t + 1, W));
    CHECK(query(dir / "k.sqlite", "SELECT status, flagged FROM responses WHERE id = 'h'") == Rows{{"complete", "1"}});
}

TEST_CASE("a repeat window of 0 turns the mischief rule off") {
    TempDir dir;
    Store store(dir / "k.sqlite", T0);
    CHECK_FALSE(walk(store, {"a", T0, kSame, T0 + 1000}, 0));
    CHECK_FALSE(walk(store, {"b", T0 + 1000, kSame, T0 + 2000}, 0));
    CHECK(query(dir / "k.sqlite", "SELECT sum(flagged) FROM responses") == Rows{{"0"}});
}

TEST_CASE("new ids are version 7 UUIDs: unique, and those made later sort later") {
    // A collector's index of response ids then grows at its end (docs/performance.md, Sync).
    std::vector<std::string> ids;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 200; ++i) ids.push_back(new_uuid());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    for (const auto& id : ids) {
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '7');                                      // version
        CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 4122 variant
    }
    // Made 2 ms apart, each round's ids all sort after the round before's.
    for (std::size_t round = 1; round < 5; ++round) {
        const auto prev_max = *std::max_element(ids.begin() + (round - 1) * 200, ids.begin() + round * 200);
        const auto this_min = *std::min_element(ids.begin() + round * 200, ids.begin() + (round + 1) * 200);
        CHECK(prev_max < this_min);
    }
    // The first 48 bits are now's Unix time in milliseconds.
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string hex = ids.back().substr(0, 8) + ids.back().substr(9, 4);
    const long long ms = std::stoll(hex, nullptr, 16);
    CHECK(ms <= now_ms);
    CHECK(ms > now_ms - 10'000);
}
