// storage.cpp — every SQL statement of the collector and every rule about its
// transactions (storage.hpp lists the rules). The drivers under it (sql.hpp) run what they
// are given; where the two databases' SQL differs, the difference is written here, next
// to the statement, on the Dialect.
//
// The write path (store), as a state machine per batch:
//   queued ──(a writer connection is free; up to group_size(dialect) queued batches are taken)──▶
//   in a group transaction: BEGIN; for each batch SAVEPOINT, plan_batch()'s statements,
//   finish_batch(), RELEASE; the batches' UPDATEs and COMMIT (SQLite). On PostgreSQL the
//   group's statements go in one pipeline without savepoints (run_pipelined_group): a
//   round trip for them all (the responses with their answers), one for the UPDATEs and COMMIT
//     ├─ COMMIT ok ─────────────────────────────▶ done: the outcome goes back to its caller
//     ├─ Retry (busy, deadlock, serialisation) ─▶ ROLLBACK, the whole group again (≤ 5 times)
//     ├─ Unavailable (connection/server gone) ──▶ ROLLBACK, reconnect, the group again once;
//     │                                            then StorageUnavailable for each batch
//     ├─ Other, inside one batch ───────────────▶ ROLLBACK TO its savepoint: that batch fails
//     │                                           alone, the others commit
//     └─ a batch is a conflict (409) ───────────▶ ROLLBACK TO its savepoint (or ROLLBACK, alone;
//                                                 a pipelined group: ROLLBACK, each batch alone)
//   and a batch that failed (Other) while the database's schema is newer than this
//   collector's (a newer collector updated it) gets StorageUnavailable instead: 503, not 500.
// Nothing is replied before COMMIT returns, so a 200 is durable.
#include "storage.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <initializer_list>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <sodium.h>

#include "clock.hpp"
#include "schema.hpp"
#include "sql.hpp"

namespace kohtaamo::sync {

namespace {

using sql::Dialect;
using sql::ErrorKind;
using sql::Params;

std::int64_t wall_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The words that differ between the two databases.
const char* begin_write(Dialect d) { return d == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN"; }

// One write transaction around `body`, which returns whether to keep what it did: COMMIT
// when it returns true, ROLLBACK when false or when it throws (the error goes on).
template <class Body>
bool write_transaction(sql::Connection& c, Body&& body) {
    c.exec(begin_write(c.dialect()));
    try {
        const bool keep = body();
        c.exec(keep ? "COMMIT" : "ROLLBACK");
        return keep;
    } catch (...) {
        try {
            c.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
    }
}
const char* begin_snapshot(Dialect d) {
    return d == Dialect::Sqlite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}
// Batches per transaction: batches waiting together share one commit (one fsync). SQLite
// has one writer; PostgreSQL has `connections` writers, each committing a group.
std::size_t group_size(Dialect d) { return d == Dialect::Sqlite ? 64 : 16; }
// A group stops growing at this many responses: a transaction of a few thousand rows
// holds its locks and its WAL for milliseconds, not seconds.
constexpr std::size_t kGroupResponses = 1000;

std::string to_base64(std::string_view bytes) {
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the NUL
    return out;
}

std::string from_base64(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        throw std::runtime_error("a stored bundle is not base64");
    out.resize(len);
    return out;
}

// "(one), (one)" for `rows` rows of the row `one`.
std::string rows_of(std::size_t rows, const std::string& one) {
    std::string out;
    out.reserve(rows * (one.size() + 2));
    for (std::size_t r = 0; r < rows; ++r) {
        if (r) out += ", ";
        out += one;
    }
    return out;
}

// "(?, ?, ?), (?, ?, ?)" for `rows` rows of `columns` columns.
std::string values_list(std::size_t rows, std::size_t columns) {
    std::string one = "(";
    for (std::size_t c = 0; c < columns; ++c) one += c ? ", ?" : "?";
    return rows_of(rows, one + ")");
}

constexpr std::size_t kResponsesPerInsert = 64;  // 15 parameters each (PostgreSQL: 18)
constexpr std::size_t kAnswersPerInsert = 256;   // 4 parameters each

// PostgreSQL: the responses of a batch of kArrayResponses or more (a backlog's: RAMP in
// sync/uploader.cpp) go as one array per column, unnest()ed in one statement, not as
// multi-row VALUES lists, for which PostgreSQL sets up every row's
// expressions anew as it reads them (ExecInitExprList: a fifth of its server's CPU in a
// profile of one kiosk's backlog; docs/performance.md). No such statement joins anything,
// so the plan prepared once suits every batch. (The answers were once joined to the
// responses in phase one; a plan made for unknown parameters rescanned the unnest for
// every response, and planning each run instead cost what the arrays saved.) A small
// batch's responses keep the VALUES form: as arrays, fifty kiosks' batches of 5 went 10 %
// slower. An array parameter goes in PostgreSQL's binary form (BinaryArray): the driver
// sends a text parameter's bytes as binary, and the statement's cast (?::text[]) makes it
// an array, read by array_recv without the quoting array_in parses (the server's CPU for a
// batch of 1000: 15 % less; docs/performance.md). A response's answers are three arrays of
// its own row (schema.cpp, step 10) in either form: in the arrays' form, a text array of
// their array literals (ArrayLiteral: each element quoted, backslashes and double quotes
// escaped, array_in's rules), each cast in the statement, since one array cannot hold
// arrays of different lengths.
constexpr std::size_t kArrayResponses = 500;
class BinaryArray {
public:
    static constexpr std::uint32_t kText = 25, kBigint = 20, kInteger = 23;  // pg_type's oids
    explicit BinaryArray(std::uint32_t element_type) : type_(element_type) {
        // One dimension: its length and "has nulls" are set by finish().
        for (std::uint32_t v : {1u, 0u, element_type, 0u, 1u}) put(out_, v);  // ndim, nulls, type, length, lower bound
    }
    void text(std::string_view v) {
        ++count_;
        put(out_, static_cast<std::uint32_t>(v.size()));
        out_ += v;
    }
    void null() {
        ++count_;
        nulls_ = true;
        put(out_, 0xffffffffu);  // length -1
    }
    void bigint(std::int64_t v) {
        ++count_;
        put(out_, 8);
        put(out_, static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> 32));
        put(out_, static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
    }
    void integer(std::int32_t v) {
        ++count_;
        put(out_, 4);
        put(out_, static_cast<std::uint32_t>(v));
    }
    std::string finish() {
        if (count_ == 0) {  // no dimensions at all
            std::string empty;
            for (std::uint32_t v : {0u, 0u, type_}) put(empty, v);
            return empty;
        }
        patch(4, nulls_ ? 1 : 0);
        patch(12, count_);
        return std::move(out_);
    }

private:
    static void put(std::string& out, std::uint32_t v) {  // big-endian, as the wire protocol has it
        for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
    }
    void patch(std::size_t at, std::uint32_t v) {
        std::string b;
        put(b, v);
        out_.replace(at, 4, b);
    }
    std::uint32_t type_;
    std::string out_;
    std::uint32_t count_ = 0;
    bool nulls_ = false;
};

class ArrayLiteral {
public:
    void text(std::string_view v) {
        comma();
        out_ += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out_ += '\\';
            out_ += c;
        }
        out_ += '"';
    }
    std::string finish() { return std::move(out_) + "}"; }

private:
    void comma() {
        if (out_.size() > 1) out_ += ',';
    }
    std::string out_ = "{";
};

// How many rows the next multi-row INSERT takes of `left`: `most`, or the largest power of
// two below what is left. So a batch's statements come in a few sizes only, each prepared
// once and kept by the driver's cache (a statement of every remainder cost a parse of its
// SQL for nearly every batch).
std::size_t rows_per_statement(std::size_t most, std::size_t left) {
    if (left >= most) return most;
    std::size_t n = 1;
    while (n * 2 <= left) n *= 2;
    return n;
}

// The database's schema version (SQLite: PRAGMA user_version; PostgreSQL: the row of
// kohtaamo_schema, nothing while it has none).
std::optional<std::int64_t> schema_version(sql::Connection& c) {
    std::optional<std::int64_t> version;
    c.query(c.dialect() == Dialect::Sqlite ? "PRAGMA user_version" : "SELECT version FROM kohtaamo_schema", {},
            [&](const sql::Row& r) { version = r.integer(0); });
    return version;
}

// The schema to this collector's version, in one transaction.
void migrate(sql::Connection& c, const std::string& name) {
    const auto& steps = schema_steps(c.dialect());
    std::int64_t version = 0;
    c.exec(begin_write(c.dialect()));
    try {
        if (c.dialect() == Dialect::Postgresql) {
            // Collectors starting together: the first migrates, the others wait here.
            c.exec("SELECT pg_advisory_xact_lock(8470001)");
            c.exec("CREATE TABLE IF NOT EXISTS kohtaamo_schema (version INTEGER NOT NULL)");
        }
        if (const auto v = schema_version(c))
            version = *v;
        else
            c.exec("INSERT INTO kohtaamo_schema(version) VALUES (0)");
        if (version > static_cast<std::int64_t>(steps.size()))
            throw std::runtime_error("collector: " + name + " has schema version " + std::to_string(version) +
                                     ", newer than this collector knows (" + std::to_string(steps.size()) +
                                     "); update it");
        for (; version < static_cast<std::int64_t>(steps.size()); ++version) c.exec(steps[version]);
        if (c.dialect() == Dialect::Sqlite)
            c.exec("PRAGMA user_version = " + std::to_string(version));
        else
            c.run("UPDATE kohtaamo_schema SET version = ?", {version});
        c.exec("COMMIT");
    } catch (...) {
        try {
            c.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
    }
}

// When the database's schema is newer than this collector knows, what to say: a collector
// of a newer release updated it (several collectors are updated one machine at a time).
// Nothing when it is not. Outside a transaction; a failure to read it is the driver's error.
std::optional<std::string> newer_schema(sql::Connection& c) {
    const std::int64_t version = schema_version(c).value_or(0);
    const auto known = static_cast<std::int64_t>(schema_steps(c.dialect()).size());
    if (version <= known) return std::nullopt;
    return "the database's schema is version " + std::to_string(version) + ", newer than this collector's (" +
           std::to_string(known) + "): a collector of a newer release updated it; update this one too";
}

// PostgreSQL: throws when this connection's server takes no writes (a standby, as the old
// primary is after a failover when it comes back first in the url). Reads work there, so
// without this GET /v1/health would answer 200 while every batch gets 503. It throws
// Unavailable, so that the control connection reconnects: with
// target_session_attrs=read-write in the url, to the server that takes writes.
void check_takes_writes(sql::Connection& c) {
    if (c.dialect() != Dialect::Postgresql) return;
    bool read_only = false;
    c.query("SHOW transaction_read_only", {}, [&](const sql::Row& r) { read_only = r.text(0) == "on"; });
    if (read_only)
        throw sql::Error(sql::ErrorKind::Unavailable,
                         "postgresql: the server is read-only (transaction_read_only = on: a standby?); "
                         "[database] url needs target_session_attrs=read-write to find the one that takes writes");
}

bool is_unavailable(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const StorageUnavailable&) {
        return true;
    } catch (...) {
        return false;
    }
}

// A snapshot for one export: its own connection, one read transaction.
class SnapshotDatabase : public ExportDatabase {
public:
    SnapshotDatabase(std::unique_ptr<sql::Connection> c, std::string name) : c_(std::move(c)), name_(std::move(name)) {
        try {
            c_->exec(begin_snapshot(c_->dialect()));
        } catch (const sql::Error& e) {
            throw ExportDatabaseError(e.what());
        }
    }
    ~SnapshotDatabase() override {
        try {
            c_->exec("ROLLBACK");
        } catch (...) {
        }
    }
    std::string name() const override { return name_; }
    bool has_column(const std::string& table, const std::string& column) override {
        bool found = false;
        const Params p = {std::string_view(table), std::string_view(column)};
        run([&] {
            c_->query(c_->dialect() == Dialect::Sqlite
                          ? "SELECT 1 FROM pragma_table_info(?) WHERE name = ?"
                          : "SELECT 1 FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
                      p, [&](const sql::Row&) { found = true; });
        });
        return found;
    }
    void query(const std::string& sql, const std::vector<std::string>& params,
               const std::function<void(const ExportRow&)>& row) override {
        Params p;
        p.reserve(params.size());
        for (const auto& s : params) p.emplace_back(std::string_view(s));
        struct Adapter : ExportRow {
            const sql::Row* r = nullptr;
            bool is_null(int c) const override { return r->is_null(c); }
            std::string_view text(int c) const override { return r->text(c); }
            std::int64_t integer(int c) const override { return r->integer(c); }
        } a;
        run([&] {
            c_->query(sql, p, [&](const sql::Row& r) {
                a.r = &r;
                row(a);
            });
        });
    }

private:
    template <class F>
    void run(F&& f) {
        try {
            f();
        } catch (const sql::Error& e) {
            throw ExportDatabaseError(e.what());
        }
    }
    std::unique_ptr<sql::Connection> c_;
    std::string name_;
};

class SqlStorage : public Storage {
public:
    explicit SqlStorage(const DatabaseConfig& database) : Storage(database) {
        if (database.driver == DatabaseConfig::Driver::Sqlite && database.file.has_parent_path()) {
            std::error_code ec;
            std::filesystem::create_directories(database.file.parent_path(), ec);
        }
        try {
            control_ = connect(false);
            migrate(*control_, describe());
            const int writers = database.driver == DatabaseConfig::Driver::Sqlite ? 1 : database.connections;
            for (int i = 0; i < writers; ++i) free_writers_.push_back(connect(false));
        } catch (const sql::Error& e) {
            throw std::runtime_error(std::string("collector: the database: ") + e.what());
        }
    }

    StoreOutcome store(const Batch& batch, const std::string& device_name, const std::string& body_hash) override {
        Job job;
        job.batch = &batch;
        job.device_name = &device_name;
        job.body_hash = &body_hash;
        std::unique_lock lock(mutex_);
        queue_.push_back(&job);
        const auto since = waiting_since_.insert(std::chrono::steady_clock::now());
        while (!job.done) {
            if (!job.taken && !free_writers_.empty()) {
                auto writer = std::move(free_writers_.back());
                free_writers_.pop_back();
                std::vector<Job*> group;
                const std::size_t most = group_size(writer->dialect());
                std::size_t responses = 0;  // and at most ~kGroupResponses responses a transaction
                while (!queue_.empty() && group.size() < most &&
                       (group.empty() || responses + queue_.front()->batch->responses.size() <= kGroupResponses)) {
                    responses += queue_.front()->batch->responses.size();
                    queue_.front()->taken = true;
                    group.push_back(queue_.front());
                    queue_.pop_front();
                }
                lock.unlock();
                run_group(*writer, group);
                newer_schema_is_unavailable(*writer, group);
                lock.lock();
                free_writers_.push_back(std::move(writer));
                for (Job* j : group) j->done = true;
                done_.notify_all();
            } else {
                done_.wait(lock);
            }
        }
        waiting_since_.erase(since);
        if (job.error) std::rethrow_exception(job.error);
        return std::move(job.out);
    }

    void record_health(const std::string& device_id, const std::string& device_name,
                       const std::optional<Health>& health, std::int64_t heard_ms) override {
        const std::string heard_at = iso8601_utc(heard_ms);
        control([&](sql::Connection& c) {
            const sql::Step st = health_step(device_id, device_name, health, heard_ms, heard_at);
            c.run(st.sql, st.params);
        });
    }

    // The upsert of a device's health (heard_ms and heard_at must outlive the step).
    static sql::Step health_step(const std::string& device_id, const std::string& device_name,
                                 const std::optional<Health>& health, std::int64_t heard_ms, const std::string& heard_at) {
        sql::Step st;
        if (!health) {
            st.sql = "INSERT INTO device_health(device_id, device_name, heard_ms, heard_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT (device_id) DO UPDATE SET device_name = excluded.device_name,"
                     " heard_ms = excluded.heard_ms, heard_at = excluded.heard_at"
                     " WHERE excluded.heard_ms >= device_health.heard_ms";
            st.params = {std::string_view(device_id), std::string_view(device_name), heard_ms, std::string_view(heard_at)};
            return st;
        }
        const Health& h = *health;
        st.sql = "INSERT INTO device_health(device_id, device_name, heard_ms, heard_at, has_health, app_version,"
                 " bundle_version, config_version, pending, oldest_pending_age_s, free_disk_bytes, uptime_s, last_error)"
                 " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)"
                 " ON CONFLICT (device_id) DO UPDATE SET device_name = excluded.device_name,"
                 " heard_ms = excluded.heard_ms, heard_at = excluded.heard_at, has_health = 1,"
                 " app_version = excluded.app_version, bundle_version = excluded.bundle_version,"
                 " config_version = excluded.config_version, pending = excluded.pending,"
                 " oldest_pending_age_s = excluded.oldest_pending_age_s, free_disk_bytes = excluded.free_disk_bytes,"
                 " uptime_s = excluded.uptime_s, last_error = excluded.last_error"
                 " WHERE excluded.heard_ms >= device_health.heard_ms";
        st.params = {std::string_view(device_id), std::string_view(device_name), heard_ms, std::string_view(heard_at),
                     std::string_view(h.app_version), h.bundle_version, std::string_view(h.config_version), h.pending,
                     h.oldest_pending_age_s, h.free_disk_bytes, h.uptime_s, std::string_view(h.last_error)};
        return st;
    }

    std::vector<DeviceHealth> device_health() override {
        std::vector<DeviceHealth> out;
        control([&](sql::Connection& c) {
            c.query("SELECT device_id, device_name, heard_ms, heard_at, has_health, app_version, bundle_version,"
                    " config_version, pending, oldest_pending_age_s, free_disk_bytes, uptime_s, last_error"
                    " FROM device_health ORDER BY device_name, device_id",
                    {}, [&](const sql::Row& r) {
                        DeviceHealth d{std::string(r.text(0)), std::string(r.text(1)), r.integer(2),
                                       std::string(r.text(3)), std::nullopt};
                        if (r.integer(4) != 0)
                            d.health = Health{std::string(r.text(5)), r.integer(6), std::string(r.text(7)),
                                              r.integer(8),           r.integer(9), r.integer(10),
                                              r.integer(11),          std::string(r.text(12))};
                        out.push_back(std::move(d));
                    });
        });
        return out;
    }

    void check() override {
        // First what the writers wait for (no database call: it answers while one hangs).
        {
            std::lock_guard lock(mutex_);
            if (!waiting_since_.empty()) {
                const auto waited = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now() - *waiting_since_.begin());
                if (waited.count() >= database_.stalled_after_seconds)
                    throw StorageUnavailable("storing has stalled: a batch has waited " + std::to_string(waited.count()) +
                                             " s to be stored (database.stalled_after_seconds = " +
                                             std::to_string(database_.stalled_after_seconds) + ")");
            }
        }
        // One read proves the database answers, and says whether this collector knows its
        // schema; PostgreSQL's, whether its server takes writes.
        control([&](sql::Connection& c) {
            if (auto newer = newer_schema(c)) throw StorageUnavailable(*newer);
            check_takes_writes(c);
        });
    }

    bool publish_tokens(const CollectorTokens& tokens) override {
        struct Entry {
            std::string kind, name, hash;
            std::int64_t enabled;
            bool operator<(const Entry& o) const { return std::tie(kind, name) < std::tie(o.kind, o.name); }
            bool operator==(const Entry& o) const {
                return kind == o.kind && name == o.name && hash == o.hash && enabled == o.enabled;
            }
        };
        std::vector<Entry> wanted;
        for (const auto& d : tokens.devices) wanted.push_back({"device", d.name, d.token_hash, d.enabled ? 1 : 0});
        for (const auto& d : tokens.export_tokens) wanted.push_back({"export", d.name, d.token_hash, d.enabled ? 1 : 0});
        std::sort(wanted.begin(), wanted.end());
        return control([&](sql::Connection& c) {
            return write_transaction(c, [&] {
                // Taking the counter's row first serialises publishers (PostgreSQL's row
                // lock; SQLite's write lock is already held).
                c.run("UPDATE counters SET value = value + 1 WHERE name = 'tokens'", {});
                std::vector<Entry> have;
                c.query("SELECT kind, name, token_hash, enabled FROM tokens ORDER BY kind, name", {},
                        [&](const sql::Row& r) {
                            have.push_back({std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                                            r.integer(3)});
                        });
                std::sort(have.begin(), have.end());
                if (have == wanted) return false;
                c.run("DELETE FROM tokens", {});
                for (const auto& e : wanted)
                    c.run("INSERT INTO tokens(kind, name, token_hash, enabled) VALUES (?, ?, ?, ?)",
                          {std::string_view(e.kind), std::string_view(e.name), std::string_view(e.hash), e.enabled});
                return true;
            });
        });
    }

    std::int64_t tokens_generation() override {
        std::int64_t v = 0;
        control([&](sql::Connection& c) {
            c.query("SELECT value FROM counters WHERE name = 'tokens'", {}, [&](const sql::Row& r) { v = r.integer(0); });
        });
        return v;
    }

    CollectorTokens read_tokens() override {
        CollectorTokens t;
        control([&](sql::Connection& c) {
            c.query("SELECT kind, name, token_hash, enabled FROM tokens ORDER BY kind, name", {}, [&](const sql::Row& r) {
                DeviceToken d{std::string(r.text(1)), std::string(r.text(2)), r.integer(3) != 0};
                (r.text(0) == "device" ? t.devices : t.export_tokens).push_back(std::move(d));
            });
        });
        return t;
    }

    std::optional<ExportSlot> take_export_slot(const std::string& holder, int slots, std::chrono::seconds ttl) override {
        return control([&](sql::Connection& c) -> std::optional<ExportSlot> {
            const std::int64_t now = wall_ms(), until = now + ttl.count() * 1000;
            for (std::int64_t s = 1; s <= slots; ++s)
                c.run("INSERT INTO export_slots(slot) VALUES (?) ON CONFLICT (slot) DO NOTHING", {s});
            for (std::int64_t s = 1; s <= slots; ++s)
                if (c.run("UPDATE export_slots SET holder = ?, expires_ms = ? WHERE slot = ? AND (holder = '' OR "
                          "expires_ms < ?)",
                          {std::string_view(holder), until, s, now}) == 1)
                    return ExportSlot{static_cast<int>(s), holder};
            return std::nullopt;
        });
    }

    void renew_export_slot(const ExportSlot& slot, std::chrono::seconds ttl) override {
        control([&](sql::Connection& c) {
            c.run("UPDATE export_slots SET expires_ms = ? WHERE slot = ? AND holder = ?",
                  {wall_ms() + ttl.count() * 1000, std::int64_t{slot.slot}, std::string_view(slot.holder)});
        });
    }

    void release_export_slot(const ExportSlot& slot) override {
        control([&](sql::Connection& c) {
            c.run("UPDATE export_slots SET holder = '', expires_ms = 0 WHERE slot = ? AND holder = ?",
                  {std::int64_t{slot.slot}, std::string_view(slot.holder)});
        });
    }

    std::unique_ptr<ExportDatabase> export_snapshot() override {
        try {
            return std::make_unique<SnapshotDatabase>(connect(true), describe());
        } catch (const sql::Error& e) {
            throw ExportDatabaseError(e.what());
        }
    }

    // --- survey bundles (issue #10) --------------------------------------------------
    // The bundle's file is kept as base64 text: both databases hold it in a text column
    // (the drivers pass text only), and a bundle is fetched whole anyway.
    std::int64_t latest_bundle_version() override {
        std::int64_t v = 0;
        control([&](sql::Connection& c) {
            c.query("SELECT COALESCE(MAX(version), 0) FROM bundles", {}, [&](const sql::Row& r) { v = r.integer(0); });
        });
        return v;
    }

    bool store_bundle(const StoredBundle& b, const std::string& file, const std::vector<BundleSurvey>& surveys) override {
        const std::string body = to_base64(file);
        return control([&](sql::Connection& c) {
            return write_transaction(c, [&] {
                const std::int64_t added =
                    c.run("INSERT INTO bundles(version, site, created_at, bytes, sha256, body) VALUES (?, ?, ?, ?, ?, ?) "
                          "ON CONFLICT (version) DO NOTHING",
                          {b.version, std::string_view(b.site), std::string_view(b.created_at),
                           static_cast<std::int64_t>(file.size()), std::string_view(b.sha256), std::string_view(body)});
                if (added == 0) return false;
                const std::string source = "bundle " + std::to_string(b.version);
                for (const auto& s : surveys) {
                    c.run("INSERT INTO bundle_surveys(survey_id, survey_version, sha256, definition, bundle_version) "
                          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (survey_id, survey_version) DO NOTHING",
                          {std::string_view(s.survey_id), s.survey_version, std::string_view(s.sha256),
                           std::string_view(s.definition), b.version});
                    c.run("INSERT INTO survey_definitions(hash, survey_id, survey_version, definition, source, received_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                          {std::string_view(s.sha256), std::string_view(s.survey_id), s.survey_version,
                           std::string_view(s.definition), std::string_view(source), std::string_view(b.created_at)});
                }
                return true;
            });
        });
    }

    std::vector<std::pair<std::string, std::string>> survey_definition_hashes(const std::string& survey_id,
                                                                               std::int64_t version) override {
        std::vector<std::pair<std::string, std::string>> out;
        control([&](sql::Connection& c) {
            out.clear();
            c.query("SELECT hash, source FROM survey_definitions WHERE survey_id = ? AND survey_version = ? ORDER BY hash",
                    {std::string_view(survey_id), version},
                    [&](const sql::Row& r) { out.emplace_back(std::string(r.text(0)), std::string(r.text(1))); });
        });
        return out;
    }

    bool store_survey_definition(const std::string& hash, const std::string& survey_id, std::int64_t version,
                                 const std::string& definition, const std::string& source,
                                 const std::string& at) override {
        return control([&](sql::Connection& c) {  // one statement: its own transaction
            return c.run("INSERT INTO survey_definitions(hash, survey_id, survey_version, definition, source, "
                         "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                         {std::string_view(hash), std::string_view(survey_id), version, std::string_view(definition),
                          std::string_view(source), std::string_view(at)}) > 0;
        });
    }

    std::vector<BundleSurvey> survey_definitions() override {
        std::vector<BundleSurvey> out;
        control([&](sql::Connection& c) {
            out.clear();
            c.query("SELECT survey_id, survey_version, sha256, definition FROM bundle_surveys "
                    "ORDER BY bundle_version, survey_id, survey_version",
                    {}, [&](const sql::Row& r) {
                        out.push_back({std::string(r.text(0)), r.integer(1), std::string(r.text(2)), std::string(r.text(3))});
                    });
        });
        return out;
    }

    std::optional<std::pair<std::int64_t, std::string>> bundle_for(const std::string& site, std::int64_t above) override {
        std::optional<std::pair<std::int64_t, std::string>> out;
        control([&](sql::Connection& c) {
            out.reset();
            c.query("SELECT version, body FROM bundles WHERE version > ? AND (site = '' OR site = ?) "
                    "ORDER BY version DESC LIMIT 1",
                    {above, std::string_view(site)},
                    [&](const sql::Row& r) { out.emplace(r.integer(0), from_base64(r.text(1))); });
        });
        return out;
    }

    std::vector<StoredBundle> bundles() override {
        std::vector<StoredBundle> out;
        control([&](sql::Connection& c) {
            out.clear();
            c.query("SELECT version, site, created_at, sha256, bytes FROM bundles ORDER BY version", {},
                    [&](const sql::Row& r) {
                        out.push_back({r.integer(0), std::string(r.text(1)), std::string(r.text(2)),
                                       std::string(r.text(3)), r.integer(4)});
                    });
        });
        return out;
    }

    void record_bundle_report(const std::string& device_name, const std::string& site, std::int64_t running,
                              const std::string& error, const std::string& at) override {
        control([&](sql::Connection& c) {
            c.run("INSERT INTO device_bundles(device_name, site, running, error, reported_at) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (device_name) DO UPDATE SET site = excluded.site, running = excluded.running, "
                  "error = excluded.error, reported_at = excluded.reported_at",
                  {std::string_view(device_name), std::string_view(site), running, std::string_view(error),
                   std::string_view(at)});
        });
    }

    std::vector<DeviceBundleStatus> bundle_status() override {
        std::vector<DeviceBundleStatus> out;
        control([&](sql::Connection& c) {
            out.clear();
            c.query("SELECT t.name, COALESCE(d.site, ''), COALESCE(d.running, -1), COALESCE(d.error, ''), "
                    "COALESCE(d.reported_at, '') FROM tokens t LEFT JOIN device_bundles d ON d.device_name = t.name "
                    "WHERE t.kind = 'device' ORDER BY t.name",
                    {}, [&](const sql::Row& r) {
                        out.push_back({std::string(r.text(0)), std::string(r.text(1)), r.integer(2),
                                       std::string(r.text(3)), std::string(r.text(4)), true});
                    });
            c.query("SELECT device_name, site, running, error, reported_at FROM device_bundles WHERE device_name NOT IN "
                    "(SELECT name FROM tokens WHERE kind = 'device') ORDER BY device_name",
                    {}, [&](const sql::Row& r) {
                        out.push_back({std::string(r.text(0)), std::string(r.text(1)), r.integer(2),
                                       std::string(r.text(3)), std::string(r.text(4)), false});
                    });
        });
        return out;
    }

    TextRows query_text(const std::string& sql) override {
        TextRows rows;
        control([&](sql::Connection& c) {
            c.query(sql, {}, [&](const sql::Row& r) {
                std::vector<std::string> row;
                for (int i = 0; i < r.columns(); ++i) row.push_back(r.is_null(i) ? "NULL" : std::string(r.text(i)));
                rows.push_back(std::move(row));
            });
        });
        return rows;
    }

    // --- the web page's accounts and sessions (issue #14) ---------------------------------
    static std::string join_sites(const std::vector<std::string>& sites) {
        std::string out;
        for (const auto& s : sites) out += (out.empty() ? "" : ",") + s;
        return out;
    }
    static std::vector<std::string> split_sites(std::string_view text) {
        std::vector<std::string> out;
        while (!text.empty()) {
            const auto comma = text.find(',');
            if (comma) out.emplace_back(text.substr(0, comma));
            if (comma == std::string_view::npos) break;
            text.remove_prefix(comma + 1);
        }
        return out;
    }

    void put_web_account(const WebAccount& a) override {
        const std::string sites = join_sites(a.sites), created = iso8601_utc(wall_ms());
        control([&](sql::Connection& c) {
            c.run("INSERT INTO web_accounts(name, password_hash, sites, created_at) VALUES (?, ?, ?, ?)"
                  " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, sites = excluded.sites,"
                  " failures = 0, locks = 0, locked_until_ms = 0",
                  {std::string_view(a.name), std::string_view(a.password_hash), std::string_view(sites),
                   std::string_view(created)});
        });
    }

    bool remove_web_account(const std::string& name) override {
        return control([&](sql::Connection& c) {
            std::int64_t removed = 0;
            write_transaction(c, [&] {
                c.run("DELETE FROM web_sessions WHERE account = ?", {std::string_view(name)});
                removed = c.run("DELETE FROM web_accounts WHERE name = ?", {std::string_view(name)});
                return true;
            });
            return removed > 0;
        });
    }

    static constexpr const char* kAccountColumns =
        "SELECT name, password_hash, sites, failures, locks, locked_until_ms, created_at FROM web_accounts";
    static WebAccount account_of(const sql::Row& r) {
        return WebAccount{std::string(r.text(0)), std::string(r.text(1)), split_sites(r.text(2)), r.integer(3),
                          r.integer(4),           r.integer(5),           std::string(r.text(6))};
    }

    std::optional<WebAccount> web_account(const std::string& name) override {
        std::optional<WebAccount> out;
        control([&](sql::Connection& c) {
            c.query(std::string(kAccountColumns) + " WHERE name = ?", {std::string_view(name)},
                    [&](const sql::Row& r) { out = account_of(r); });
        });
        return out;
    }

    std::vector<WebAccount> web_accounts() override {
        std::vector<WebAccount> out;
        control([&](sql::Connection& c) {
            c.query(std::string(kAccountColumns) + " ORDER BY name", {},
                    [&](const sql::Row& r) { out.push_back(account_of(r)); });
        });
        return out;
    }

    std::int64_t web_login_failed(const std::string& name, std::int64_t now_ms, int max_failures,
                                  std::int64_t first_lock_ms, std::int64_t max_lock_ms) override {
        // One transaction, so wrong passwords at two instances at once are both counted.
        return control([&](sql::Connection& c) {
            std::int64_t until = 0;
            write_transaction(c, [&] {
                std::int64_t failures = -1, locks = 0;
                c.query("UPDATE web_accounts SET failures = failures + 1 WHERE name = ? RETURNING failures, locks,"
                        " locked_until_ms",
                        {std::string_view(name)}, [&](const sql::Row& r) {
                            failures = r.integer(0);
                            locks = r.integer(1);
                            until = r.integer(2) > now_ms ? r.integer(2) : 0;
                        });
                if (failures >= max_failures) {
                    std::int64_t lock = first_lock_ms;
                    for (std::int64_t i = 0; i < locks && lock < max_lock_ms; ++i) lock *= 2;
                    until = now_ms + std::min(lock, max_lock_ms);
                    c.run("UPDATE web_accounts SET failures = 0, locks = locks + 1, locked_until_ms = ? WHERE name = ?",
                          {until, std::string_view(name)});
                }
                return true;
            });
            return until;
        });
    }

    void web_login_succeeded(const std::string& name) override {
        control([&](sql::Connection& c) {
            c.run("UPDATE web_accounts SET failures = 0, locks = 0, locked_until_ms = 0 WHERE name = ?",
                  {std::string_view(name)});
        });
    }

    void create_web_session(const std::string& id_hash, const WebSession& s, std::int64_t now_ms) override {
        control([&](sql::Connection& c) {
            write_transaction(c, [&] {
                c.run("DELETE FROM web_sessions WHERE expires_ms <= ?", {now_ms});
                c.run("INSERT INTO web_sessions(id_hash, account, csrf, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)",
                      {std::string_view(id_hash), std::string_view(s.account), std::string_view(s.csrf), now_ms,
                       s.expires_ms});
                return true;
            });
        });
    }

    std::optional<WebSession> web_session(const std::string& id_hash, std::int64_t now_ms) override {
        std::optional<WebSession> out;
        control([&](sql::Connection& c) {
            c.query("SELECT account, csrf, expires_ms FROM web_sessions WHERE id_hash = ? AND expires_ms > ?",
                    {std::string_view(id_hash), now_ms}, [&](const sql::Row& r) {
                        out = WebSession{std::string(r.text(0)), std::string(r.text(1)), r.integer(2)};
                    });
        });
        return out;
    }

    void remove_web_session(const std::string& id_hash) override {
        control([&](sql::Connection& c) {
            c.run("DELETE FROM web_sessions WHERE id_hash = ?", {std::string_view(id_hash)});
        });
    }

    std::vector<std::pair<std::string, std::string>> sites_by_device_id() override {
        std::vector<std::pair<std::string, std::string>> out;
        control([&](sql::Connection& c) {
            std::vector<std::string> ids;
            c.query("SELECT device_id FROM device_health ORDER BY device_id", {},
                    [&](const sql::Row& r) { ids.emplace_back(r.text(0)); });
            for (const auto& id : ids)
                c.query("SELECT site FROM responses WHERE device_id = ? ORDER BY started_at DESC LIMIT 1",
                        {std::string_view(id)}, [&](const sql::Row& r) { out.emplace_back(id, std::string(r.text(0))); });
        });
        return out;
    }

    std::vector<std::pair<std::string, std::string>> sites_by_device_name() override {
        std::vector<std::pair<std::string, std::string>> out;
        control([&](sql::Connection& c) {
            c.query("SELECT device_name, site FROM device_bundles WHERE site <> '' ORDER BY device_name", {},
                    [&](const sql::Row& r) { out.emplace_back(std::string(r.text(0)), std::string(r.text(1))); });
        });
        return out;
    }

    std::vector<HourCount> hour_counts() override {
        std::vector<HourCount> out;
        control([&](sql::Connection& c) {
            c.query("SELECT site, survey_id, substr(started_at, 1, 13) AS hour_utc, count(*) FROM responses"
                    " WHERE status = 'complete' AND flagged = 0 GROUP BY site, survey_id, hour_utc"
                    " ORDER BY hour_utc, site, survey_id",
                    {}, [&](const sql::Row& r) {
                        out.push_back(HourCount{std::string(r.text(0)), std::string(r.text(1)),
                                                std::string(r.text(2)), r.integer(3)});
                    });
        });
        return out;
    }

    std::unique_ptr<sql::Connection> connect(bool read_only) const {
        if (database_.driver == DatabaseConfig::Driver::Sqlite)
            return sql::open_sqlite(database_.file.string(), read_only);
        return sql::open_postgresql(database_.url);
    }

    // The control connection (tokens, slots, health, queries), reconnected when it broke.
    template <class F>
    auto control(F&& f) -> decltype(f(std::declval<sql::Connection&>())) {
        std::lock_guard lock(control_mutex_);
        for (int attempt = 0;; ++attempt) {
            try {
                if (!control_) control_ = connect(false);
                return f(*control_);
            } catch (const sql::Error& e) {
                if (e.kind() == ErrorKind::Unavailable) control_.reset();
                if (e.kind() != ErrorKind::Other && attempt < 2) continue;
                throw StorageUnavailable(e.what());
            }
        }
    }

private:
    struct Job {
        const Batch* batch = nullptr;
        const std::string* device_name = nullptr;
        const std::string* body_hash = nullptr;
        StoreOutcome out;
        std::exception_ptr error;
        bool taken = false, done = false;
    };

    // One batch's statements inside the caller's transaction (rules 1 and 2), and what
    // their results say. Phase one (plan_batch) needs no result of another statement, so a
    // driver can send it all at once: the new responses (ON CONFLICT DO NOTHING RETURNING
    // id), the batch row (ON CONFLICT DO NOTHING) and the batch's stored body hash. A
    // response that another batch stored keeps its first answers: on PostgreSQL they are
    // in the response's row, which ON CONFLICT leaves as it was; SQLite's, rows of their
    // own, are inserted right after phase one (in process), for exactly the ids it returned
    // (plan_answers). Then:
    //   batch row inserted now            → 200, the returned ids stored, the rest duplicate
    //   batch row there, the same hash    → 200, every response duplicate (a retried batch:
    //                                       its responses were there, nothing was inserted)
    //   batch row there, another hash     → 409: the caller rolls back what phase one did
    // Concurrent copies of one batch, at one collector or several, wait for each other on
    // the response rows' unique index, then find them (PostgreSQL READ COMMITTED).
    struct PendingBatch {
        const Batch* batch = nullptr;
        std::string received_at;
        std::vector<const Response*> order;  // by id: every writer takes row locks in one order
        std::set<std::string_view> stored;
        std::int64_t batch_inserted = 0;
        std::string seen_hash;
        StoreOutcome out;
        std::int64_t heard_ms = 0;  // for the device's health, kept in the same transaction
        std::string heard_at;
        std::deque<std::string> arrays;  // PostgreSQL: the arrays (BinaryArray) its statements' parameters view
    };

    // PostgreSQL and a large batch: its responses in the arrays' form (BinaryArray).
    static bool as_arrays(Dialect d, const PendingBatch& p) {
        return d == Dialect::Postgresql && p.order.size() >= kArrayResponses;
    }

    // Phase one; on SQLite the caller plans the answers with plan_answers() once it has run.
    static void plan_batch(Dialect dialect, PendingBatch& p, const Batch& batch, const std::string& device_name,
                           const std::string& body_hash, std::vector<sql::Step>& steps) {
        p.batch = &batch;
        p.received_at = iso8601_utc(wall_ms());
        p.order.clear();
        for (const auto& r : batch.responses) p.order.push_back(&r);
        std::sort(p.order.begin(), p.order.end(), [](const Response* a, const Response* b) { return a->id < b->id; });
        const bool pg = dialect == Dialect::Postgresql;
        if (as_arrays(dialect, p)) {
            plan_responses_as_arrays(p, batch, device_name, steps);
        } else {
            for (std::size_t first = 0, n = 0; first < p.order.size(); first += n) {
                n = rows_per_statement(kResponsesPerInsert, p.order.size() - first);
                sql::Step st;
                st.sql = std::string("INSERT INTO responses(id, survey_id, survey_version, language, status, started_at,"
                                     " finished_at, site, event, flagged, device_id, device_name, batch_id, received_at,"
                                     " survey_hash") +
                         (pg ? ", answer_question_ids, answer_values, answer_times) VALUES " +
                                   rows_of(n, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::text[], ?::text[],"
                                              " ?::text[])")
                             : ") VALUES " + values_list(n, 15)) +
                         " ON CONFLICT (id) DO NOTHING RETURNING id";
                st.params.reserve(n * (pg ? 18 : 15));
                for (std::size_t i = first; i < first + n; ++i) {
                    const Response& r = *p.order[i];
                    st.params.insert(
                        st.params.end(),
                        {std::string_view(r.id), std::string_view(r.survey_id), r.survey_version,
                         std::string_view(r.language), std::string_view(r.status), std::string_view(r.started_at),
                         r.finished_at.empty() ? sql::Value(nullptr) : sql::Value(std::string_view(r.finished_at)),
                         std::string_view(r.site), std::string_view(r.event), std::int64_t{r.flagged ? 1 : 0},
                         std::string_view(batch.device_id), std::string_view(device_name), std::string_view(batch.batch_id),
                         std::string_view(p.received_at),
                         r.survey_hash.empty() ? sql::Value(nullptr) : sql::Value(std::string_view(r.survey_hash))});
                    if (pg)
                        for (std::string& a : answer_arrays<BinaryArray>(r, BinaryArray::kText))
                            st.params.emplace_back(std::string_view(p.arrays.emplace_back(std::move(a))));
                }
                PendingBatch* pp = &p;
                st.rows = [pp, first, n](const sql::Row& row) {
                    // The set keeps views into the batch, not into the row.
                    const std::string_view id = row.text(0);
                    for (std::size_t i = first; i < first + n; ++i)
                        if (pp->order[i]->id == id) {
                            pp->stored.insert(pp->order[i]->id);
                            break;
                        }
                };
                steps.push_back(std::move(st));
            }
        }
        sql::Step row;
        row.sql = "INSERT INTO batches(id, device_id, device_name, body_hash, received_at, responses, stored)"
                  " VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING";
        row.params = {std::string_view(batch.batch_id), std::string_view(batch.device_id), std::string_view(device_name),
                      std::string_view(body_hash), std::string_view(p.received_at),
                      static_cast<std::int64_t>(batch.responses.size())};
        row.changed = &p.batch_inserted;
        steps.push_back(std::move(row));
        sql::Step seen;
        seen.sql = "SELECT body_hash FROM batches WHERE id = ?";
        seen.params = {std::string_view(batch.batch_id)};
        PendingBatch* pp = &p;
        seen.rows = [pp](const sql::Row& r) { pp->seen_hash = r.text(0); };
        steps.push_back(std::move(seen));
    }

    // PostgreSQL (BinaryArray): the batch's responses in one INSERT of unnest()ed arrays,
    // in id order as the rows of the VALUES form are.
    static void plan_responses_as_arrays(PendingBatch& p, const Batch& batch, const std::string& device_name,
                                         std::vector<sql::Step>& steps) {
        using A = BinaryArray;
        A id(A::kText), survey_id(A::kText), survey_version(A::kBigint), language(A::kText), status(A::kText),
            started_at(A::kText), finished_at(A::kText), site(A::kText), event(A::kText), flagged(A::kInteger),
            survey_hash(A::kText), question_ids(A::kText), values(A::kText), times(A::kText);
        for (const Response* r : p.order) {
            const auto answers = answer_arrays<ArrayLiteral>(*r);
            question_ids.text(answers[0]);
            values.text(answers[1]);
            times.text(answers[2]);
            id.text(r->id);
            survey_id.text(r->survey_id);
            survey_version.bigint(r->survey_version);
            language.text(r->language);
            status.text(r->status);
            started_at.text(r->started_at);
            r->finished_at.empty() ? finished_at.null() : finished_at.text(r->finished_at);
            site.text(r->site);
            event.text(r->event);
            flagged.integer(r->flagged ? 1 : 0);
            r->survey_hash.empty() ? survey_hash.null() : survey_hash.text(r->survey_hash);
        }
        sql::Step st;
        st.sql = "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                 " site, event, flagged, device_id, device_name, batch_id, received_at, survey_hash,"
                 " answer_question_ids, answer_values, answer_times)"
                 " SELECT u.id, u.survey_id, u.survey_version, u.language, u.status, u.started_at, u.finished_at,"
                 " u.site, u.event, u.flagged, ?, ?, ?, ?, u.survey_hash, u.question_ids::text[], u.answer_values::text[],"
                 " u.times::text[]"
                 " FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[],"
                 " ?::text[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::text[], ?::text[])"
                 " AS u(id, survey_id, survey_version, language, status, started_at, finished_at, site, event,"
                 " flagged, survey_hash, question_ids, answer_values, times) ON CONFLICT (id) DO NOTHING RETURNING id";
        st.params = {std::string_view(batch.device_id), std::string_view(device_name), std::string_view(batch.batch_id),
                     std::string_view(p.received_at)};
        for (A* a : {&id, &survey_id, &survey_version, &language, &status, &started_at, &finished_at, &site, &event,
                     &flagged, &survey_hash, &question_ids, &values, &times})
            st.params.emplace_back(std::string_view(p.arrays.emplace_back(a->finish())));
        PendingBatch* pp = &p;
        st.rows = [pp](const sql::Row& row) {
            // The set keeps views into the batch, not into the row.
            const std::string_view rid = row.text(0);
            auto it = std::lower_bound(pp->order.begin(), pp->order.end(), rid,
                                       [](const Response* r, std::string_view v) { return r->id < v; });
            if (it != pp->order.end() && (*it)->id == rid) pp->stored.insert((*it)->id);
        };
        steps.push_back(std::move(st));
    }

    // PostgreSQL: a response's answers as the three arrays of its row (question ids,
    // values, times; schema.cpp, step 10), in the order the kiosk sent them: parameters in
    // binary form (BinaryArray, made with the element type), or literals (ArrayLiteral) as
    // the elements of the arrays' form.
    template <class Array, class... Made>
    static std::array<std::string, 3> answer_arrays(const Response& r, Made... made) {
        Array question_ids(made...), values(made...), times(made...);
        for (const auto& a : r.answers) {
            question_ids.text(a.question_id);
            values.text(a.value);
            times.text(a.answered_at);
        }
        return {question_ids.finish(), values.finish(), times.finish()};
    }

    // SQLite: the answers of the responses phase one stored (the ids it returned), as plain
    // rows, ON CONFLICT DO NOTHING. (PostgreSQL's went in phase one, in their responses' rows.)
    static void plan_answers(PendingBatch& p, std::vector<sql::Step>& steps) {
        std::vector<std::pair<const Response*, const Answer*>> all;
        for (const Response* r : p.order)
            if (p.stored.count(r->id))
                for (const auto& a : r->answers) all.emplace_back(r, &a);
        for (std::size_t first = 0, rows = 0; first < all.size(); first += rows) {
            rows = rows_per_statement(kAnswersPerInsert, all.size() - first);
            sql::Step answers;
            answers.sql = "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES " +
                          values_list(rows, 4) + " ON CONFLICT DO NOTHING";
            answers.params.reserve(rows * 4);
            for (std::size_t i = first; i < first + rows; ++i) {
                const auto& [r, a] = all[i];
                answers.params.insert(answers.params.end(),
                                      {std::string_view(r->id), std::string_view(a->question_id),
                                       std::string_view(a->value), std::string_view(a->answered_at)});
            }
            steps.push_back(std::move(answers));
        }
    }

    // After phase one: the outcome, and (when the batch row is new) phase two's statement.
    static void finish_batch(PendingBatch& p, const std::string& body_hash, std::vector<sql::Step>& after) {
        p.out = {};
        p.out.reply.batch_id = p.batch->batch_id;
        if (p.batch_inserted == 0 && p.seen_hash != body_hash) {
            p.out.status = 409;
            return;
        }
        for (const auto& r : p.batch->responses)
            (p.stored.count(r.id) ? p.out.reply.stored : p.out.reply.duplicate).push_back(r.id);
        if (p.batch_inserted == 0) return;
        sql::Step st;
        st.sql = "UPDATE batches SET stored = ? WHERE id = ?";
        st.params = {static_cast<std::int64_t>(p.stored.size()), std::string_view(p.batch->batch_id)};
        after.push_back(std::move(st));
    }

    // PostgreSQL, several batches: the whole group in one pipeline and one transaction,
    // without savepoints (a savepoint's fate needs a round trip). If any batch of it is a
    // conflict or fails, the group is rolled back and each batch runs alone. Returns
    // false when it did that.
    bool run_pipelined_group(sql::Connection& c, const std::vector<Job*>& group, std::vector<PendingBatch>& pending) {
        std::vector<sql::Step> steps;
        steps.push_back({begin_write(c.dialect()), {}, {}, nullptr});
        for (std::size_t i = 0; i < group.size(); ++i) {
            pending[i] = PendingBatch{};
            plan_batch(c.dialect(), pending[i], *group[i]->batch, *group[i]->device_name, *group[i]->body_hash, steps);
        }
        bool alone = false;
        try {
            c.run_all(steps);
        } catch (const sql::Error& e) {
            if (e.kind() != ErrorKind::Other) throw;
            alone = true;  // which batch failed is not known: each alone says
        }
        std::vector<sql::Step> after;
        for (std::size_t i = 0; i < group.size() && !alone; ++i) {
            finish_batch(pending[i], *group[i]->body_hash, after);
            group[i]->out = pending[i].out;
            group[i]->error = nullptr;
            if (group[i]->out.status == 409) alone = true;
        }
        if (!alone) {
            try {
                commit_with_health(c, group, pending, after);
                return true;
            } catch (const sql::Error& e) {
                if (e.kind() != ErrorKind::Other) throw;  // a failure of the group's own statements: each alone
            }
        }
        c.exec("ROLLBACK");
        for (Job* j : group) run_group(c, {j});
        return false;
    }

    // The group's last statements (`after`: phase two of its batches), then the health of
    // every device whose batch is stored (PROTOCOL.md, "Health"), then COMMIT: one commit
    // for both, where the health cost a transaction (an fsync, and SQLite's write lock)
    // of its own per batch before. The health is in a savepoint: if it fails, it alone is
    // rolled back and the batches commit (a failure to keep it never fails a batch).
    void commit_with_health(sql::Connection& c, const std::vector<Job*>& group, std::vector<PendingBatch>& pending,
                            std::vector<sql::Step>& after) {
        std::vector<sql::Step> health;
        for (std::size_t i = 0; i < group.size(); ++i) {
            if (group[i]->error || group[i]->out.status != 200 || pending[i].batch == nullptr) continue;
            PendingBatch& p = pending[i];
            p.heard_ms = wall_ms();
            p.heard_at = iso8601_utc(p.heard_ms);
            health.push_back(health_step(p.batch->device_id, *group[i]->device_name, p.batch->health, p.heard_ms,
                                         p.heard_at));
        }
        if (health.empty()) {
            after.push_back({"COMMIT", {}, {}, nullptr});
            c.run_all(after);
            return;
        }
        after.push_back({"SAVEPOINT health", {}, {}, nullptr});
        for (auto& st : health) after.push_back(std::move(st));
        after.push_back({"RELEASE health", {}, {}, nullptr});
        after.push_back({"COMMIT", {}, {}, nullptr});
        try {
            c.run_all(after);
        } catch (const sql::Error& e) {
            if (e.kind() != ErrorKind::Other) throw;
            // Where it failed is not known: if before the savepoint (the group's own
            // statements), there is no such savepoint, and the first failure goes on.
            const std::exception_ptr first = std::current_exception();
            try {
                c.exec("ROLLBACK TO SAVEPOINT health");
            } catch (const sql::Error&) {
                std::rethrow_exception(first);
            }
            c.exec("COMMIT");
        }
    }

    // A batch that failed on a database whose schema is newer than this collector's failed
    // for that, not for its content: 503, so its kiosk waits and sends it again (to this
    // collector once updated, or to another behind the proxy), never counting it against
    // the batch (a 500 may set its responses aside: PROTOCOL.md, "poison").
    static void newer_schema_is_unavailable(sql::Connection& c, const std::vector<Job*>& group) {
        if (std::none_of(group.begin(), group.end(), [](const Job* j) { return j->error && !is_unavailable(j->error); }))
            return;
        std::optional<std::string> newer;
        try {
            newer = newer_schema(c);
        } catch (const sql::Error&) {
            return;  // the batches keep their own errors
        }
        if (!newer) return;
        for (Job* j : group) {
            if (!j->error || is_unavailable(j->error)) continue;
            std::string why;
            try {
                std::rethrow_exception(j->error);
            } catch (const std::exception& e) {
                why = e.what();
            }
            j->error = std::make_exception_ptr(StorageUnavailable(*newer + " (" + why + ")"));
        }
    }

    void run_group(sql::Connection& c, const std::vector<Job*>& group) {
        const bool pipelined = group.size() > 1 && c.dialect() == Dialect::Postgresql;
        const bool savepoints = group.size() > 1 && !pipelined;
        std::string failure;
        bool reconnected = false;
        std::vector<PendingBatch> pending(group.size());
        for (int attempt = 0; attempt < 6; ++attempt) {
            try {
                if (pipelined) {
                    run_pipelined_group(c, group, pending);
                    return;
                }
                std::vector<sql::Step> after;  // phase two of every batch, then COMMIT
                bool rollback = false;
                for (std::size_t i = 0; i < group.size(); ++i) {
                    Job* j = group[i];
                    j->error = nullptr;
                    pending[i] = PendingBatch{};
                    std::vector<sql::Step> steps;
                    if (i == 0) steps.push_back({begin_write(c.dialect()), {}, {}, nullptr});
                    if (savepoints) steps.push_back({"SAVEPOINT batch", {}, {}, nullptr});
                    // SQLite: the answers once the responses' INSERT has said which it stored
                    // (PostgreSQL's are in the responses' rows).
                    plan_batch(c.dialect(), pending[i], *j->batch, *j->device_name, *j->body_hash, steps);
                    try {
                        c.run_all(steps);
                        if (c.dialect() == Dialect::Sqlite) {
                            std::vector<sql::Step> answers;
                            plan_answers(pending[i], answers);
                            c.run_all(answers);
                        }
                    } catch (const sql::Error& e) {
                        if (e.kind() != ErrorKind::Other || !savepoints) throw;
                        c.exec("ROLLBACK TO batch");
                        c.exec("RELEASE batch");
                        j->error = std::make_exception_ptr(std::runtime_error(e.what()));
                        continue;
                    }
                    finish_batch(pending[i], *j->body_hash, after);
                    j->out = pending[i].out;
                    if (j->out.status == 409) {
                        if (savepoints) {
                            c.exec("ROLLBACK TO batch");
                            c.exec("RELEASE batch");
                        } else {
                            rollback = true;  // nothing of it may stay
                        }
                    } else if (savepoints) {
                        c.exec("RELEASE batch");
                    }
                }
                if (rollback) {
                    c.exec("ROLLBACK");
                    return;
                }
                commit_with_health(c, group, pending, after);
                return;
            } catch (const sql::Error& e) {
                failure = e.what();
                try {
                    c.exec("ROLLBACK");
                } catch (...) {
                }
                if (e.kind() == ErrorKind::Retry) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
                    continue;
                }
                if (e.kind() == ErrorKind::Unavailable && !reconnected) {
                    reconnected = true;
                    try {
                        c.reconnect();
                        continue;
                    } catch (const sql::Error& again) {
                        failure = again.what();
                    }
                }
                if (e.kind() == ErrorKind::Other) {
                    for (Job* j : group) j->error = std::make_exception_ptr(std::runtime_error(failure));
                    return;
                }
                break;
            }
        }
        for (Job* j : group) j->error = std::make_exception_ptr(StorageUnavailable(failure));
    }

    std::mutex mutex_;
    std::condition_variable done_;
    std::deque<Job*> queue_;
    std::vector<std::unique_ptr<sql::Connection>> free_writers_;
    std::multiset<std::chrono::steady_clock::time_point> waiting_since_;  // each store() under way: since when

    std::mutex control_mutex_;
    std::unique_ptr<sql::Connection> control_;

    friend std::string kohtaamo::sync::copy_database(Storage&, Storage&, const std::function<void(const std::string&)>&,
                                                    CopyCounts&);
};

}  // namespace

std::unique_ptr<Storage> Storage::open(const DatabaseConfig& database) { return std::make_unique<SqlStorage>(database); }

// ---------------------------------------------------------------------------------------
// migrate: a copy, then a check of the copy.

namespace {

struct Table {
    const char* name;
    const char* columns;  // in the order copied and hashed
    const char* key;      // ORDER BY
    std::size_t width;
    const char* conflict;
    unsigned integers;    // bit i: column i holds integers (copied as such, so PostgreSQL's BIGINT takes them)
};

constexpr unsigned bits(std::initializer_list<unsigned> columns) {
    unsigned b = 0;
    for (unsigned c : columns) b |= 1u << c;
    return b;
}

// Every table that holds what kiosks sent or the county published. Not copied: the token
// lists (published again from collector.toml at start), the export slots (leases) and the
// web page's sessions.
const Table kTables[] = {
    {"batches", "id, device_id, device_name, body_hash, received_at, responses, stored", "id", 7, "ON CONFLICT (id) DO NOTHING",
     bits({5, 6})},
    {"responses",
     "id, survey_id, survey_version, language, status, started_at, finished_at, site, event, flagged, device_id,"
     " device_name, batch_id, received_at, survey_hash",
     "id", 15, "ON CONFLICT (id) DO NOTHING", bits({2, 9})},
    {"answers", "response_id, question_id, value, answered_at", "response_id, question_id, value", 4,
     "ON CONFLICT DO NOTHING", 0},
    {"bundles", "version, site, created_at, bytes, sha256, body", "version", 6, "ON CONFLICT (version) DO NOTHING",
     bits({0, 3})},
    {"bundle_surveys", "survey_id, survey_version, sha256, definition, bundle_version", "survey_id, survey_version", 5,
     "ON CONFLICT (survey_id, survey_version) DO NOTHING", bits({1, 4})},
    {"device_bundles", "device_name, site, running, error, reported_at", "device_name", 5,
     "ON CONFLICT (device_name) DO NOTHING", bits({2})},
    {"device_health",
     "device_id, device_name, heard_ms, heard_at, has_health, app_version, bundle_version, config_version, pending,"
     " oldest_pending_age_s, free_disk_bytes, uptime_s, last_error",
     "device_id", 13, "ON CONFLICT (device_id) DO NOTHING", bits({2, 4, 6, 8, 9, 10, 11})},
    {"survey_definitions", "hash, survey_id, survey_version, definition, source, received_at", "hash", 6,
     "ON CONFLICT (hash) DO NOTHING", bits({2})},
    // The coordinators' accounts (their sessions are not copied: they log in again).
    {"web_accounts", "name, password_hash, sites, failures, locks, locked_until_ms, created_at", "name", 7,
     "ON CONFLICT (name) DO NOTHING", bits({3, 4, 5})},
};

// Streams every row of `t` in key order into `row`.
void each_row(sql::Connection& c, const Table& t, const sql::RowCallback& row) {
    c.query(std::string("SELECT ") + t.columns + " FROM " + t.name + " ORDER BY " + t.key, {}, row);
}

// Into PostgreSQL, whose answers are arrays in their responses' rows (schema.cpp, step 10):
// each response's answers, read in the table's key order, set on its row (copied before)
// in one UPDATE per 200 responses. A row that has answers already keeps them (as ON
// CONFLICT DO NOTHING keeps a row); the check after the copy finds any difference.
void copy_answers_into_rows(sql::Connection& source, sql::Connection& target,
                            const std::function<void(const std::string&)>& say) {
    constexpr std::size_t kResponsesPerUpdate = 200;
    std::int64_t copied = 0, since_commit = 0;
    std::string current;  // the response whose answers are being gathered
    ArrayLiteral question_ids, values, times;
    ArrayLiteral ids, all_question_ids, all_values, all_times;
    std::size_t responses = 0;
    auto end_response = [&] {
        if (current.empty()) return;
        ids.text(current);
        all_question_ids.text(question_ids.finish());
        all_values.text(values.finish());
        all_times.text(times.finish());
        question_ids = values = times = ArrayLiteral{};
        ++responses;
    };
    auto flush = [&] {
        if (responses == 0) return;
        const std::string a = ids.finish(), b = all_question_ids.finish(), c = all_values.finish(), d = all_times.finish();
        ids = all_question_ids = all_values = all_times = ArrayLiteral{};
        target.run("UPDATE responses SET answer_question_ids = u.q::text[], answer_values = u.v::text[],"
                   " answer_times = u.t::text[]"
                   " FROM unnest(?::text::text[], ?::text::text[], ?::text::text[], ?::text::text[]) AS u(id, q, v, t)"
                   " WHERE responses.id = u.id AND cardinality(responses.answer_question_ids) = 0",
                   {std::string_view(a), std::string_view(b), std::string_view(c), std::string_view(d)});
        responses = 0;
        if (since_commit >= 10'000) {
            target.exec("COMMIT");
            say("answers: " + std::to_string(copied) + " rows copied");
            target.exec(begin_write(target.dialect()));
            since_commit = 0;
        }
    };
    target.exec(begin_write(target.dialect()));
    source.query("SELECT response_id, question_id, value, answered_at FROM answers ORDER BY response_id, question_id, value",
                 {}, [&](const sql::Row& r) {
                     if (r.text(0) != current) {
                         end_response();
                         if (responses == kResponsesPerUpdate) flush();
                         current = std::string(r.text(0));
                     }
                     question_ids.text(r.text(1));
                     values.text(r.text(2));
                     times.text(r.text(3));
                     ++copied;
                     ++since_commit;
                 });
    end_response();
    flush();
    target.exec("COMMIT");
    say("answers: " + std::to_string(copied) + " rows copied");
}

std::string digest_of(sql::Connection& c, const Table& t, std::int64_t& rows) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    rows = 0;
    each_row(c, t, [&](const sql::Row& r) {
        ++rows;
        for (std::size_t i = 0; i < t.width; ++i) {
            const int col = static_cast<int>(i);
            if (r.is_null(col)) {
                crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("\0N"), 2);
            } else {
                const auto v = r.text(col);
                crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(v.data()), v.size());
            }
            crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("\x1f"), 1);
        }
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("\x1e"), 1);
    });
    unsigned char out[32];
    crypto_generichash_final(&st, out, sizeof out);
    static const char* hex = "0123456789abcdef";
    std::string h;
    for (unsigned char b : out) {
        h += hex[b >> 4];
        h += hex[b & 15];
    }
    return h;
}

}  // namespace

std::string copy_database(Storage& from_storage, Storage& to_storage, const std::function<void(const std::string&)>& say,
                          CopyCounts& counts) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to start");
    auto& from = dynamic_cast<SqlStorage&>(from_storage);
    auto& to = dynamic_cast<SqlStorage&>(to_storage);
    try {
        auto source = from.connect(true);
        auto target = to.connect(false);
        source->exec(begin_snapshot(source->dialect()));  // one consistent picture of the source
        for (const Table& t : kTables) {
            if (std::string_view(t.name) == "answers" && target->dialect() == Dialect::Postgresql) {
                copy_answers_into_rows(*source, *target, say);
                continue;
            }
            constexpr std::size_t kRowsPerInsert = 200, kRowsPerCommit = 10'000;
            std::vector<std::vector<std::optional<std::string>>> pending;
            std::int64_t copied = 0;
            auto flush = [&] {
                if (pending.empty()) return;
                Params p;
                for (const auto& row : pending)
                    for (std::size_t i = 0; i < row.size(); ++i) {
                        if (!row[i]) p.emplace_back(nullptr);
                        else if (t.integers & (1u << i)) p.emplace_back(std::int64_t{std::stoll(*row[i])});
                        else p.emplace_back(std::string_view(*row[i]));
                    }
                target->run(std::string("INSERT INTO ") + t.name + "(" + t.columns + ") VALUES " +
                                values_list(pending.size(), t.width) + " " + t.conflict,
                            p);
                copied += static_cast<std::int64_t>(pending.size());
                pending.clear();
                if (copied % kRowsPerCommit == 0) {
                    target->exec("COMMIT");
                    say(std::string(t.name) + ": " + std::to_string(copied) + " rows copied");
                    target->exec(begin_write(target->dialect()));
                }
            };
            target->exec(begin_write(target->dialect()));
            each_row(*source, t, [&](const sql::Row& r) {
                std::vector<std::optional<std::string>> row;
                for (std::size_t i = 0; i < t.width; ++i)
                    row.push_back(r.is_null(static_cast<int>(i)) ? std::nullopt
                                                                 : std::optional<std::string>(r.text(static_cast<int>(i))));
                pending.push_back(std::move(row));
                if (pending.size() == kRowsPerInsert) flush();
            });
            flush();
            target->exec("COMMIT");
            say(std::string(t.name) + ": " + std::to_string(copied) + " rows copied");
        }
        // The check: every table, counted and hashed row by row on both sides.
        std::string differs;
        auto check_target = to.connect(false);
        check_target->exec(begin_snapshot(check_target->dialect()));
        for (const Table& t : kTables) {
            std::int64_t a = 0, b = 0;
            const std::string ha = digest_of(*source, t, a), hb = digest_of(*check_target, t, b);
            if (std::string(t.name) == "batches") counts.batches = b;
            if (std::string(t.name) == "responses") counts.responses = b;
            if (std::string(t.name) == "answers") counts.answers = b;
            if (a != b)
                differs += std::string(t.name) + ": " + std::to_string(a) + " in " + from.describe() + " but " +
                           std::to_string(b) + " in " + to.describe() +
                           (b > a ? " (the target held other rows already: it is not an empty collector database)"
                                  : "") +
                           "; ";
            else if (ha != hb)
                differs += std::string(t.name) + ": the same number of rows (" + std::to_string(a) +
                           ") but different content; ";
            else
                say(std::string(t.name) + ": " + std::to_string(a) + " rows, the same on both (blake2b " +
                    ha.substr(0, 16) + "…)");
        }
        return differs;
    } catch (const sql::Error& e) {
        throw std::runtime_error(e.what());
    }
}

}  // namespace kohtaamo::sync
