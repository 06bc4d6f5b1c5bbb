#include "store.hpp"

#include "clock.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "uuid.hpp"

#include <utility>
#include <vector>

namespace kohtaamo {

const char* to_string(ResponseStatus s) {
    switch (s) {
        case ResponseStatus::InProgress: return "in_progress";
        case ResponseStatus::Complete: return "complete";
        case ResponseStatus::Abandoned: return "abandoned";
    }
    return "?";
}

Store::Store(const std::filesystem::path& file, std::int64_t now_ms) : path_(file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store: cannot open " + file.string() + ": " + msg);
    }
    try {
        sqlite3_busy_timeout(db_, 5000);
        // The journal mode is a property of the file; synchronous and foreign keys are
        // per connection. FULL in WAL mode syncs the WAL at every commit, so a committed
        // answer survives a power cut (NORMAL could lose the last commits).
        exec("PRAGMA journal_mode = WAL");
        exec("PRAGMA synchronous = FULL");
        exec("PRAGMA foreign_keys = ON");
        migrate();
        Statement(db_, "INSERT OR IGNORE INTO device(key, value) VALUES ('device_id', ?)").bind(1, new_uuid()).run();
        Statement recover(db_, "UPDATE responses SET status = 'abandoned', finished_at = ? WHERE status = 'in_progress'");
        recover.bind(1, iso8601_utc(now_ms)).run();
        recovered_ = sqlite3_changes(db_);
    } catch (const SqliteError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store: " + file.string() + ": " + e.what());
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Store::~Store() { sqlite3_close(db_); }

void Store::exec(const char* sql) { sqlite_exec(db_, sql, "store: " + path_.string()); }

int Store::latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

int Store::schema_version() const {
    Statement s(db_, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

std::string Store::device_id() const {
    Statement s(db_, "SELECT value FROM device WHERE key = 'device_id'");
    return s.step() ? s.text(0) : std::string();
}

void Store::migrate() {
    const auto& steps = schema_migrations();
    int version = schema_version();
    if (version > static_cast<int>(steps.size()))
        throw StoreError("store: " + path_.string() + " has schema version " + std::to_string(version) +
                         ", newer than this kiosk knows (" + std::to_string(steps.size()) +
                         "); update the kiosk software");
    for (; version < static_cast<int>(steps.size()); ++version) {
        Transaction tx(db_);
        exec(steps[version]);
        exec(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
        tx.commit();
    }
}

void Store::save_answer(const ResponseHeader& r, const std::string& question_id,
                        const std::vector<std::string>& values, std::int64_t at_ms) {
    try {
        const std::string at = iso8601_utc(at_ms);
        Transaction tx(db_);
        Statement status(db_, "SELECT status FROM responses WHERE id = ?");
        status.bind(1, r.id);
        if (status.step()) {
            if (status.text(0) != "in_progress")
                throw StoreError("store: response " + r.id + " is " + status.text(0) + " and cannot change");
        } else {
            Statement ins(db_,
                          "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, site, event)"
                          " VALUES (?, ?, ?, ?, 'in_progress', ?, ?, ?)");
            ins.bind(1, r.id).bind(2, r.survey_id).bind(3, r.survey_version).bind(4, r.language);
            ins.bind(5, iso8601_utc(r.started_ms)).bind(6, r.site).bind(7, r.event).run();
        }
        Statement del(db_, "DELETE FROM answers WHERE response_id = ? AND question_id = ?");
        del.bind(1, r.id).bind(2, question_id).run();
        Statement ins(db_,
                      "INSERT OR IGNORE INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        for (const auto& v : values) ins.bind(1, r.id).bind(2, question_id).bind(3, v).bind(4, at).run();
        tx.commit();
    } catch (const SqliteError& e) {
        throw StoreError("store: " + path_.string() + ": cannot save the answer: " + e.what());
    }
}

bool Store::finish(const std::string& response_id, ResponseStatus status, std::int64_t at_ms,
                   std::int64_t repeat_window_ms) {
    if (status == ResponseStatus::InProgress) throw StoreError("store: finish() needs complete or abandoned");
    try {
        Transaction tx(db_);
        Statement s(db_, "UPDATE responses SET status = ?, finished_at = ? WHERE id = ? AND status = 'in_progress'");
        s.bind(1, to_string(status)).bind(2, iso8601_utc(at_ms)).bind(3, response_id).run();
        if (sqlite3_changes(db_) == 0) return false;  // no such row, or finished already
        const bool flag = repeat_window_ms > 0 && repeats_previous(response_id, repeat_window_ms);
        if (flag) Statement(db_, "UPDATE responses SET flagged = 1 WHERE id = ?").bind(1, response_id).run();
        tx.commit();
        return flag;
    } catch (const SqliteError& e) {
        throw StoreError("store: " + path_.string() + ": cannot finish the response: " + e.what());
    }
}

// The mischief rule's test (docs/store.md): the response started last before this one, to
// the same survey, finished at most `window_ms` before this one started, with exactly the
// same set of (question, value) answers.
bool Store::repeats_previous(const std::string& response_id, std::int64_t window_ms) {
    Statement prev(db_,
                   "SELECT p.id, CAST(round((julianday(r.started_at) - julianday(p.finished_at)) * 86400000.0) AS INTEGER)"
                   "  FROM responses r JOIN responses p"
                   "    ON p.survey_id = r.survey_id AND p.id != r.id AND p.started_at <= r.started_at"
                   " WHERE r.id = ? AND p.finished_at IS NOT NULL"
                   " ORDER BY p.started_at DESC, p.rowid DESC LIMIT 1");
    prev.bind(1, response_id);
    if (!prev.step()) return false;
    const std::string previous = prev.text(0);
    const std::int64_t gap_ms = prev.integer(1);
    if (gap_ms < 0 || gap_ms > window_ms) return false;
    Statement answers(db_, "SELECT question_id, value FROM answers WHERE response_id = ? ORDER BY question_id, value");
    auto answers_of = [&](const std::string& id) {
        std::vector<std::pair<std::string, std::string>> out;
        answers.bind(1, id);
        while (answers.step()) out.emplace_back(answers.text(0), answers.text(1));
        answers.reset();
        return out;
    };
    return answers_of(previous) == answers_of(response_id);
}

}  // namespace kohtaamo
