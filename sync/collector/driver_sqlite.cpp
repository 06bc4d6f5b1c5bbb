// driver_sqlite.cpp — the SQLite driver (sql.hpp): one connection, its prepared statements
// cached by their text, SQLite's result codes mapped to the storage's error kinds. Setup:
// WAL (readers never wait for the writer), synchronous=FULL (a commit is on disk before
// the collector replies), foreign keys on, a 10 s busy timeout (another process writing),
// and a page cache, WAL checkpoints and temporary storage sized for random-key inserts.
//
// WAL checkpoints run beside the writer, not in its commits (wal_checkpointer.hpp): under
// 50 kiosks posting batches of 200 (scripts/bench-sync) the p99 was 270-310 ms with
// SQLite's own, whose commit copied and synced ~40 MiB while every batch queued behind it
// waited, and 194-247 ms with no checkpoint at all.
#include <memory>
#include <unordered_map>

#include <sqlite3.h>

#include "sql.hpp"
#include "wal_checkpointer.hpp"

namespace kohtaamo::sync::sql {

namespace {

class SqliteRow : public Row {
public:
    explicit SqliteRow(sqlite3_stmt* s) : s_(s) {}
    int columns() const override { return sqlite3_column_count(s_); }
    bool is_null(int c) const override { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::string_view text(int c) const override {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string_view();
    }
    std::int64_t integer(int c) const override { return sqlite3_column_int64(s_, c); }

private:
    sqlite3_stmt* s_;
};

class SqliteConnection : public Connection {
public:
    SqliteConnection(const std::string& file, bool read_only, const SqliteOptions& options) : file_(file) {
        const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        if (sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw Error(ErrorKind::Unavailable, "cannot open " + file + ": " + msg);
        }
        sqlite3_busy_timeout(db_, 10000);
        try {
            if (!read_only) {
                exec("PRAGMA journal_mode = WAL");
                exec("PRAGMA synchronous = FULL");
            }
            // Response ids are random UUIDs: every insert lands on a random page of each
            // index. A 32 MiB page cache (SQLite's default is 2 MiB) keeps those pages in
            // memory instead of reading one from the file per row.
            exec("PRAGMA cache_size = -32768");
            // Statement journals (a multi-row INSERT inside a transaction keeps one) in
            // memory, not in a temporary file: half the writes of a batch (measured with
            // strace: 2,650 → 1,380 pwrite calls per batch of 200).
            exec("PRAGMA temp_store = MEMORY");
            // Checkpoint the WAL every ~40 MiB instead of every 4 MiB: an index page that
            // many batches change (random ids again) is copied into the file once per
            // checkpoint, not once per few batches (a batch of 200 stores ~25 % faster).
            // On the WalCheckpointer's thread (sql.hpp's SqliteOptions: ~40 MiB, and the
            // commits themselves past ~200 MiB).
            if (!read_only)
                checkpointer_ = std::make_unique<WalCheckpointer>(db_, file, options.checkpoint_wake_pages,
                                                                  options.checkpoint_backstop_pages);
            exec("PRAGMA foreign_keys = ON");
        } catch (...) {
            checkpointer_.reset();
            sqlite3_close(db_);
            throw;
        }
    }
    ~SqliteConnection() override {
        for (auto& [sql, s] : cache_) sqlite3_finalize(s);
        checkpointer_.reset();  // its connection closed first: the last one to close checkpoints
        sqlite3_close_v2(db_);
    }

    Dialect dialect() const override { return Dialect::Sqlite; }

    void exec(const std::string& sql) override {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errmsg(db_);
            sqlite3_free(err);
            fail(rc, msg);
        }
    }

    std::int64_t run(const std::string& sql, const Params& params) override {
        query(sql, params, [](const Row&) {});
        return sqlite3_changes64(db_);
    }

    void query(const std::string& sql, const Params& params, const RowCallback& row) override {
        sqlite3_stmt* s = prepare(sql);
        struct Reset {
            sqlite3_stmt* s;
            ~Reset() {
                sqlite3_reset(s);
                sqlite3_clear_bindings(s);
            }
        } reset{s};
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int at = static_cast<int>(i) + 1;
            if (auto* t = std::get_if<std::string_view>(&params[i]))
                sqlite3_bind_text(s, at, t->data(), static_cast<int>(t->size()), SQLITE_STATIC);
            else if (auto* n = std::get_if<std::int64_t>(&params[i]))
                sqlite3_bind_int64(s, at, *n);
            else
                sqlite3_bind_null(s, at);
        }
        SqliteRow r(s);
        for (;;) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) {
                row(r);
                continue;
            }
            if (rc == SQLITE_DONE) return;
            fail(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
        }
    }

    void reconnect() override {}  // a file does not go away

private:
    sqlite3_stmt* prepare(const std::string& sql) {
        auto it = cache_.find(sql);
        if (it != cache_.end()) return it->second;
        sqlite3_stmt* s = nullptr;
        const int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) fail(rc, std::string("cannot prepare: ") + sqlite3_errmsg(db_));
        if (cache_.size() > 256) {  // many distinct texts (multi-row inserts of every size): start over
            for (auto& [k, v] : cache_) sqlite3_finalize(v);
            cache_.clear();
        }
        cache_.emplace(sql, s);
        return s;
    }

    [[noreturn]] void fail(int rc, const std::string& msg) const {
        const int primary = rc & 0xff;
        // The file cannot be used now (gone, unreadable, a full disk, read-only, damaged):
        // nothing a client sent is to blame, so the client comes back later (503).
        const ErrorKind kind = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? ErrorKind::Retry
                               : primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_NOTADB ||
                                       primary == SQLITE_FULL || primary == SQLITE_READONLY ||
                                       primary == SQLITE_CORRUPT || primary == SQLITE_NOMEM
                                   ? ErrorKind::Unavailable
                                   : ErrorKind::Other;
        throw Error(kind, "sqlite " + file_ + ": " + msg);
    }

    std::string file_;
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
    std::unique_ptr<WalCheckpointer> checkpointer_;  // read-write connections only
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& file, bool read_only, const SqliteOptions& options) {
    return std::make_unique<SqliteConnection>(file, read_only, options);
}

}  // namespace kohtaamo::sync::sql
