// previous_store — the database a kiosk of the previous release leaves behind, for the
// upgrade test (tests/deploy): the real migration steps of kiosk/core/schema.cpp up to
// the version before the newest, then finished responses that were never sent, written
// with only the columns that version has. Prints each response's id.
//
//   previous_store FILE SITE N
//
// When the next release adds a step, this still makes the one before it: the upgrade test
// always covers the newest step.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "clock.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "uuid.hpp"

using namespace kohtaamo;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: previous_store FILE SITE N\n");
        return 2;
    }
    const auto& steps = schema_migrations();
    const int version = static_cast<int>(steps.size()) - 1;  // the previous release's
    sqlite3* db = nullptr;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
    try {
        sqlite_exec(db, "PRAGMA journal_mode = WAL");
        for (int v = 0; v < version; ++v) {
            Transaction tx(db);
            sqlite_exec(db, steps[static_cast<std::size_t>(v)]);
            sqlite_exec(db, ("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
            tx.commit();
        }
        Transaction tx(db);
        Statement(db, "INSERT INTO device(key, value) VALUES ('device_id', ?)").bind(1, new_uuid()).run();
        Statement response(db,
                           "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                           " site, event, flagged) VALUES (?, 'child', 1, 'fi', 'complete', ?, ?, ?, '', 0)");
        Statement answer(db, "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        const std::int64_t start = Clock().wall_ms() - 86'400'000;  // yesterday, before the upgrade
        for (int i = 0; i < std::atoi(argv[3]); ++i) {
            const std::string id = new_uuid();
            const std::int64_t t = start + i * 60'000;
            response.bind(1, id).bind(2, iso8601_utc(t)).bind(3, iso8601_utc(t + 20'000)).bind(4, argv[2]).run();
            answer.bind(1, id).bind(2, "feeling").bind(3, std::to_string(1 + i % 5)).bind(4, iso8601_utc(t + 5'000)).run();
            answer.bind(1, id).bind(2, "best").bind(3, i % 2 ? "play" : "friends").bind(4, iso8601_utc(t + 12'000)).run();
            std::printf("%s\n", id.c_str());
        }
        tx.commit();
        sqlite_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "previous_store: %s\n", e.what());
        sqlite3_close(db);
        return 1;
    }
    sqlite3_close(db);
    return 0;
}
