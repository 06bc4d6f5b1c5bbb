#include "sqlite.hpp"

namespace kohtaamo {

void sqlite_exec(sqlite3* db, const char* sql, const std::string& context) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        throw SqliteError(context + ": " + msg, rc);
    }
}

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
    int rc = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
    if (rc != SQLITE_OK) throw SqliteError(std::string("sqlite: cannot prepare: ") + sqlite3_errmsg(db), rc);
}

Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
}

Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    rc = sqlite3_extended_errcode(db_);
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(s_);
    throw SqliteError("sqlite: " + msg, rc & 0xff);
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

std::string Statement::text(int col) const {
    auto p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : std::string();
}

std::optional<std::string> Statement::optional_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}

Transaction::Transaction(sqlite3* db) : db_(db) { sqlite_exec(db_, "BEGIN IMMEDIATE", "sqlite: begin"); }

Transaction::~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    sqlite_exec(db_, "COMMIT", "sqlite: commit");
    done_ = true;
}

}  // namespace kohtaamo
