// sqlite.hpp — the small RAII layer over SQLite's C API that every part of Kohtaamo uses
// (kiosk store, sync, export, collector): a prepared statement and a transaction. Errors
// become SqliteError with SQLite's own message.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace kohtaamo {

class SqliteError : public std::runtime_error {
public:
    SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }  // SQLITE_FULL, SQLITE_BUSY, ...

private:
    int code_;
};

// Runs SQL with no result rows; throws SqliteError (prefixed with `context`) on failure.
void sqlite_exec(sqlite3* db, const char* sql, const std::string& context = "sqlite");

class Statement {
public:
    Statement(sqlite3* db, const char* sql);
    ~Statement() { sqlite3_finalize(s_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, std::int64_t{v}); }
    Statement& bind_null(int i);
    // One step: true while there is a row, false when done; throws on error.
    bool step();
    // Steps to completion (for INSERT/UPDATE/DELETE) and resets for the next binding.
    void run();
    void reset();

    std::string text(int col) const;
    std::optional<std::string> optional_text(int col) const;
    std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
    bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
    sqlite3_stmt* raw() { return s_; }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

// BEGIN IMMEDIATE … COMMIT; rolled back when left by an exception.
class Transaction {
public:
    explicit Transaction(sqlite3* db);
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

private:
    sqlite3* db_;
    bool done_ = false;
};

}  // namespace kohtaamo
