// sql.hpp — the thin driver layer under the collector's storage: one connection to one
// database, statements with `?` placeholders, rows handed over one at a time. A driver is a
// connection class and a few lines of setup (driver_sqlite.cpp, driver_postgresql.cpp);
// every statement the collector runs, and every rule about transactions, is in storage.cpp.
//
// What a driver does and does not do:
//  - It runs the SQL it is given; it writes none of its own but its session setup (SQLite's
//    PRAGMAs, PostgreSQL's SET).
//  - Rows are streamed: query() calls back once per row while the database produces them
//    (SQLite steps; PostgreSQL's single-row mode), so memory stays flat.
//  - Errors become sql::Error with a kind the storage acts on: Retry (busy, deadlock,
//    serialisation failure: run the transaction again), Unavailable (the connection or the
//    server is gone, or it cannot store anything now: a full disk, a read-only standby, an
//    I/O error; reconnect, tell the client to come back), Other (what the database refused
//    in this statement: a bug, or a rule of a newer schema).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kohtaamo::sync::sql {

// A parameter: NULL, an integer or text. Text is a view: it must outlive the call.
using Value = std::variant<std::nullptr_t, std::int64_t, std::string_view>;
using Params = std::vector<Value>;

enum class ErrorKind { Retry, Unavailable, Other };

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

// One result row, valid during the callback only.
class Row {
public:
    virtual ~Row() = default;
    virtual int columns() const = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::string_view text(int column) const = 0;  // "" for NULL
    virtual std::int64_t integer(int column) const = 0;   // 0 for NULL
};
using RowCallback = std::function<void(const Row&)>;

enum class Dialect { Sqlite, Postgresql };

// One statement of a run_all(): its rows go to `rows` (if any), its changed-row count to
// `changed` (if given).
struct Step {
    std::string sql;
    Params params;
    RowCallback rows;
    std::int64_t* changed = nullptr;
};

class Connection {
public:
    virtual ~Connection() = default;
    virtual Dialect dialect() const = 0;
    // SQL without parameters or rows: schema scripts, BEGIN, COMMIT, SAVEPOINT.
    virtual void exec(const std::string& sql) = 0;
    // A statement; returns the number of rows it changed.
    virtual std::int64_t run(const std::string& sql, const Params& params) = 0;
    // A statement returning rows (SELECT, INSERT … RETURNING): `row` is called for each.
    virtual void query(const std::string& sql, const Params& params, const RowCallback& row) = 0;
    // The steps in order, as one round trip where the database allows it (PostgreSQL's
    // pipeline mode; SQLite runs them one by one, in process). The first error is thrown
    // and the steps after it are not run.
    virtual void run_all(const std::vector<Step>& steps);
    // After an Unavailable error: drop the connection and connect again (throws
    // Unavailable while the server is still away).
    virtual void reconnect() = 0;
};

inline void Connection::run_all(const std::vector<Step>& steps) {
    for (const Step& s : steps) {
        if (s.changed)
            *s.changed = run(s.sql, s.params);
        else
            query(s.sql, s.params, s.rows ? s.rows : RowCallback([](const Row&) {}));
    }
}

// A SQLite file (created when missing, unless read-only): WAL, synchronous=FULL, a 10 s
// busy timeout, the WAL checkpointed beside the commits (driver_sqlite.cpp; wal_checkpointer.hpp).
struct SqliteOptions {
    int checkpoint_wake_pages = 10000;      // a commit leaving this much in the WAL wakes the checkpointer
    int checkpoint_backstop_pages = 50000;  // ... this much: the commit checkpoints itself
};
std::unique_ptr<Connection> open_sqlite(const std::string& file, bool read_only, const SqliteOptions& options = {});
// A PostgreSQL server by libpq connection URI (postgresql://user@host:port/db?...).
std::unique_ptr<Connection> open_postgresql(const std::string& url);
// The URI without its password, for messages and logs.
std::string redact_url(const std::string& url);

}  // namespace kohtaamo::sync::sql
