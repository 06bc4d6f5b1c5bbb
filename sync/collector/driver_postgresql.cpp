// driver_postgresql.cpp — the PostgreSQL driver (sql.hpp) on libpq: one connection,
// the storage's `?` placeholders numbered as $1, $2 … (outside quotes), results in
// single-row mode (PQsetSingleRowMode: one row in memory at a time, however large the
// result), and run_all() in pipeline mode with prepared statements (a batch's
// statements in one round trip, parsed and planned once per connection). Setup: the session's time zone is UTC and
// client_encoding UTF8; statements time out after 60 s, so a lock held by a stalled
// peer cannot hold a request forever.
//
// SQLSTATE classes map to the storage's error kinds: 40001 serialization_failure and
// 40P01 deadlock_detected are Retry; class 08 (connection), 57P0x (the server shutting
// down or restarting) and a connection that is no longer CONNECTION_OK are Unavailable.
#include <cstring>
#include <unordered_map>

#include <libpq-fe.h>

#include "sql.hpp"

namespace kohtaamo::sync::sql {

namespace {

// "? ? '?'" → "$1 $2 '?'": placeholders outside string literals and quoted names.
std::string number_placeholders(const std::string& sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int n = 0;
    char quote = 0;
    for (char c : sql) {
        if (quote) {
            if (c == quote) quote = 0;
            out += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out += c;
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++n);
        } else {
            out += c;
        }
    }
    return out;
}

class PgRow : public Row {
public:
    explicit PgRow(const PGresult* r, int row = 0) : r_(r), row_(row) {}
    int columns() const override { return PQnfields(r_); }
    bool is_null(int c) const override { return PQgetisnull(r_, row_, c) != 0; }
    std::string_view text(int c) const override {
        return std::string_view(PQgetvalue(r_, row_, c), static_cast<std::size_t>(PQgetlength(r_, row_, c)));
    }
    std::int64_t integer(int c) const override {
        if (is_null(c)) return 0;
        return std::strtoll(PQgetvalue(r_, row_, c), nullptr, 10);
    }

private:
    const PGresult* r_;
    int row_;
};

struct Result {
    PGresult* r = nullptr;
    ~Result() { PQclear(r); }
};

class PgConnection : public Connection {
public:
    explicit PgConnection(std::string url) : url_(std::move(url)) { connect(); }
    ~PgConnection() override { PQfinish(pg_); }

    Dialect dialect() const override { return Dialect::Postgresql; }

    void exec(const std::string& sql) override {
        Result r{PQexec(pg_, sql.c_str())};
        check(r.r, sql);
    }

    std::int64_t run(const std::string& sql, const Params& params) override {
        send(sql, params, false);
        std::int64_t changed = 0;
        for (;;) {
            Result r{PQgetResult(pg_)};
            if (!r.r) break;
            check(r.r, sql);
            const char* t = PQcmdTuples(r.r);
            if (t && *t) changed = std::strtoll(t, nullptr, 10);
        }
        return changed;
    }

    void query(const std::string& sql, const Params& params, const RowCallback& row) override {
        send(sql, params, true);
        // Every result is read to the end, even when `row` throws: the connection stays
        // usable for the next statement.
        std::exception_ptr failed;
        for (;;) {
            Result r{PQgetResult(pg_)};
            if (!r.r) break;
            if (failed) continue;
            const ExecStatusType st = PQresultStatus(r.r);
            if (st == PGRES_SINGLE_TUPLE) {
                try {
                    row(PgRow(r.r));
                } catch (...) {
                    failed = std::current_exception();
                    // Stop the rest of the result from being produced and sent.
                    if (PGcancel* c = PQgetCancel(pg_)) {
                        char err[256];
                        PQcancel(c, err, sizeof err);
                        PQfreeCancel(c);
                    }
                }
                continue;
            }
            try {
                check(r.r, sql);
            } catch (...) {
                failed = std::current_exception();
            }
        }
        if (failed) std::rethrow_exception(failed);
    }

    // Pipeline mode: every statement is sent before any reply is read, so a batch's
    // statements cost one round trip to the server instead of one each.
    void run_all(const std::vector<Step>& steps) override {
        if (steps.empty()) return;
        if (!PQenterPipelineMode(pg_)) fail_connection("pipeline");
        struct Leave {
            PGconn* pg;
            ~Leave() { PQexitPipelineMode(pg); }
        } leave{pg_};
        // Statements with parameters run as prepared statements, parsed and planned once
        // per connection: the same few texts come again with every batch. A new one is
        // prepared in the same pipeline, just before its first use.
        std::vector<bool> prepared_now(steps.size(), false);
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const Step& st = steps[i];
            if (st.params.empty()) {
                if (!PQsendQueryParams(pg_, st.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0))
                    fail_connection(st.sql);
                continue;
            }
            auto it = prepared_.find(st.sql);
            if (it == prepared_.end()) {
                const std::string name = "k" + std::to_string(++statements_);  // never reused
                if (!PQsendPrepare(pg_, name.c_str(), number_placeholders(st.sql).c_str(), 0, nullptr))
                    fail_connection(st.sql);
                it = prepared_.emplace(st.sql, name).first;
                prepared_now[i] = true;
            }
            Args args(st.params);
            if (!PQsendQueryPrepared(pg_, it->second.c_str(), static_cast<int>(st.params.size()), args.values.data(),
                                     args.lengths.data(), args.formats.data(), 0))
                fail_connection(st.sql);
        }
        if (!PQpipelineSync(pg_)) fail_connection("pipeline sync");
        std::exception_ptr failed;
        auto results = [&](const Step& st, bool rows) {  // one statement's results, up to their NULL
            for (;;) {
                Result r{PQgetResult(pg_)};
                if (!r.r) return;
                if (failed) continue;
                if (PQresultStatus(r.r) == PGRES_PIPELINE_ABORTED) continue;  // after an earlier error
                try {
                    check(r.r, st.sql);
                    if (!rows) continue;
                    if (st.changed) {
                        const char* t = PQcmdTuples(r.r);
                        *st.changed = t && *t ? std::strtoll(t, nullptr, 10) : 0;
                    }
                    if (st.rows)
                        for (int i = 0; i < PQntuples(r.r); ++i) st.rows(PgRow(r.r, i));
                } catch (...) {
                    failed = std::current_exception();
                }
            }
        };
        for (std::size_t i = 0; i < steps.size() && PQstatus(pg_) == CONNECTION_OK; ++i) {
            if (prepared_now[i]) results(steps[i], false);
            results(steps[i], true);
        }
        // The sync's own result ends the pipeline.
        while (PQstatus(pg_) == CONNECTION_OK) {
            Result r{PQgetResult(pg_)};
            if (r.r && PQresultStatus(r.r) == PGRES_PIPELINE_SYNC) break;
        }
        if (failed) {
            // A statement whose preparation came after the failure in the pipeline was
            // never made: forget every one (names are never reused, so one that does exist
            // cannot collide with the next).
            prepared_.clear();
            std::rethrow_exception(failed);
        }
        if (PQstatus(pg_) != CONNECTION_OK)
            throw Error(ErrorKind::Unavailable, "postgresql " + redact_url(url_) + ": the connection broke");
    }

    void reconnect() override {
        prepared_.clear();  // a new session has none
        PQfinish(pg_);
        pg_ = nullptr;
        connect();
    }

private:
    void connect() {
        pg_ = PQconnectdb(url_.c_str());
        if (PQstatus(pg_) != CONNECTION_OK) {
            std::string msg = PQerrorMessage(pg_);
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            throw Error(ErrorKind::Unavailable, "postgresql " + redact_url(url_) + ": " + msg);
        }
        PQsetNoticeProcessor(pg_, [](void*, const char*) {}, nullptr);  // NOTICEs are not errors
        exec("SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; SET statement_timeout = '60s'");
    }

    // Parameters for libpq: text as binary (sent as is, no terminating NUL needed),
    // integers as decimal text, NULL as a null pointer.
    struct Args {
        std::vector<std::string> ints;
        std::vector<const char*> values;
        std::vector<int> lengths, formats;
        explicit Args(const Params& params) : values(params.size()), lengths(params.size()), formats(params.size(), 0) {
            ints.reserve(params.size());
            for (std::size_t i = 0; i < params.size(); ++i) {
                if (auto* t = std::get_if<std::string_view>(&params[i])) {
                    values[i] = t->data() ? t->data() : "";
                    lengths[i] = static_cast<int>(t->size());
                    formats[i] = 1;
                } else if (auto* n = std::get_if<std::int64_t>(&params[i])) {
                    ints.push_back(std::to_string(*n));
                    values[i] = ints.back().c_str();
                } else {
                    values[i] = nullptr;
                }
            }
        }
    };

    void send(const std::string& sql, const Params& params, bool single_row) {
        const std::string numbered = number_placeholders(sql);
        Args args(params);
        if (!PQsendQueryParams(pg_, numbered.c_str(), static_cast<int>(params.size()), nullptr, args.values.data(),
                               args.lengths.data(), args.formats.data(), 0))
            fail_connection(sql);
        if (single_row) PQsetSingleRowMode(pg_);
    }



    [[noreturn]] void fail_connection(const std::string& sql) {
        std::string msg = PQerrorMessage(pg_);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        throw Error(ErrorKind::Unavailable, "postgresql " + redact_url(url_) + ": " + msg + " (" + sql.substr(0, 60) + ")");
    }

    void check(PGresult* r, const std::string& sql) {
        const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) return;
        const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
        const std::string code = state ? state : "";
        std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(pg_);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        // Unavailable: the server is gone (08, 57P0x), or it cannot store now whatever it
        // is sent: insufficient resources (53: a full disk, memory, connections), a system
        // or I/O error (58), damaged data (XX001, XX002), or a read-only server (25006: a
        // standby, as after a failover; the reconnect finds the primary with
        // target_session_attrs=read-write). Nothing a client sent is to blame (503).
        ErrorKind kind = ErrorKind::Other;
        const auto is = [&](const char* prefix) { return code.rfind(prefix, 0) == 0; };
        if (code == "40001" || code == "40P01") kind = ErrorKind::Retry;
        else if (is("08") || is("57P0") || is("53") || is("58") || code == "XX001" || code == "XX002" ||
                 code == "25006" || PQstatus(pg_) != CONNECTION_OK)
            kind = ErrorKind::Unavailable;
        if (code == "25006")
            msg += " (the server is read-only: a standby? [database] url needs target_session_attrs=read-write to find"
                   " the one that takes writes)";
        throw Error(kind, "postgresql: " + msg + (code.empty() ? "" : " [" + code + "]") + " in: " + sql.substr(0, 80));
    }

    std::string url_;
    PGconn* pg_ = nullptr;
    std::unordered_map<std::string, std::string> prepared_;  // statement text → its name here
    std::uint64_t statements_ = 0;
};

}  // namespace

std::unique_ptr<Connection> open_postgresql(const std::string& url) { return std::make_unique<PgConnection>(url); }

std::string redact_url(const std::string& url) {
    // postgresql://user:secret@host/db → postgresql://user:***@host/db; password=… likewise.
    std::string out = url;
    const auto scheme = out.find("://");
    if (scheme != std::string::npos) {
        const auto at = out.find('@', scheme + 3);
        const auto colon = out.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at)
            out.replace(colon + 1, at - colon - 1, "***");
    }
    for (std::size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        const auto end = out.find_first_of("& ", p);
        out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
    }
    return out;
}

}  // namespace kohtaamo::sync::sql
