#include "outbox.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "sqlite.hpp"
#include "uuid.hpp"
#include "wal_checkpointer.hpp"

namespace kohtaamo::sync {

namespace {

// The kiosk schema version with every sync column this code uses (kiosk/core/schema.cpp:
// step 3 added sync, step 5 the poison rule's columns).
constexpr int kSyncSchemaVersion = 5;
// Step 7 added responses.survey_hash and survey_definitions.
constexpr int kHashSchemaVersion = 7;

std::string now_iso() {
    using namespace std::chrono;
    return iso8601_utc(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

sqlite3* open_kiosk_db(const std::filesystem::path& database, bool read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(database, ec))
        throw std::runtime_error("sync: " + database.string() + " does not exist (start the kiosk once to create it)");
    sqlite3* db = nullptr;
    // NOMUTEX: one thread at a time uses a connection opened here (the uploader's cycles
    // take turns under its cycle mutex; a read-only one lives inside one function), so
    // SQLite's lock around each call (a tenth of the uploader's thread in a profile) guards nothing.
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(database.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("sync: cannot open " + database.string() + ": " + msg);
    }
    // The UI's transactions are a few milliseconds; waiting for one is always right.
    sqlite3_busy_timeout(db, 10000);
    try {
        Statement v(db, "PRAGMA user_version");
        v.step();
        if (v.integer(0) < kSyncSchemaVersion)
            throw std::runtime_error("sync: " + database.string() + " has schema version " +
                                     std::to_string(v.integer(0)) + ", older than sync needs (" +
                                     std::to_string(kSyncSchemaVersion) + "); start the updated kiosk once to migrate it");
        if (!read_only) {
            // NORMAL, not the kiosk's FULL: sync's own marks (a batch formed, acknowledged,
            // set aside) are not fsynced at each commit. A power cut may lose the last of
            // them, never an answer (those are the Store's, FULL) and never a mark half
            // made (WAL); what it costs is a resend the collector answers "duplicate" for
            // (a batch formed again gets a new id). Saves an fsync per batch formed and per
            // acknowledgement (docs/store.md, "Durability").
            sqlite_exec(db, "PRAGMA synchronous = NORMAL", "sync");
            sqlite_exec(db, "PRAGMA foreign_keys = ON", "sync");
        }
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    return db;
}

std::string filter_for(bool send_abandoned) {
    return send_abandoned ? "status IN ('complete', 'abandoned')" : "status = 'complete'";
}

}  // namespace

Outbox::Outbox(const std::filesystem::path& database, bool send_abandoned)
    : db_(open_kiosk_db(database, false)), send_abandoned_(send_abandoned), status_filter_(filter_for(send_abandoned)) {
    Statement s(db_, "SELECT value FROM device WHERE key = 'device_id'");
    if (!s.step()) {
        sqlite3_close(db_);
        throw std::runtime_error("sync: " + database.string() + " has no device_id");
    }
    device_id_ = s.text(0);
    Statement v(db_, "PRAGMA user_version");
    v.step();
    hashes_ = v.integer(0) >= kHashSchemaVersion;
    // The WAL is checkpointed beside this connection's commits, not inside them, past the
    // same ~4 MiB as SQLite's own (wal_checkpointer.hpp): in a backlog the kiosk's thread,
    // which forms and acknowledges every batch, spent a tenth of its time waiting for the
    // copy's writes and fsync (perf sched, docs/performance.md).
    checkpointer_ = std::make_unique<WalCheckpointer>(db_, database.string(), 1000, 10000);
}

std::vector<std::pair<std::string, std::string>> Outbox::unsent_definitions() {
    std::vector<std::pair<std::string, std::string>> out;
    if (!hashes_) return out;
    Statement s(db_, "SELECT hash, definition FROM survey_definitions WHERE sent_at IS NULL AND send_error IS NULL"
                     " ORDER BY first_used_at, hash");
    while (s.step()) out.emplace_back(s.text(0), s.text(1));
    return out;
}

void Outbox::definition_sent(const std::string& hash) {
    Statement(db_, "UPDATE survey_definitions SET sent_at = ? WHERE hash = ?").bind(1, now_iso()).bind(2, hash).run();
}

void Outbox::definition_refused(const std::string& hash, const std::string& reason) {
    Statement(db_, "UPDATE survey_definitions SET send_error = ? WHERE hash = ?").bind(1, reason).bind(2, hash).run();
}

// Reading responses: the columns of one (and its survey's hash, once the collector has
// acknowledged the definition: PROTOCOL.md, "Survey definitions"; NULL in a database from
// before schema 7), and the statement for its answers, prepared once per Outbox.
struct ResponseReader {
    // "SELECT <columns> FROM <from>" reads a response from column 0 on (r: responses).
    std::string columns, from;
    Statement response, answers;
    // (A sealed answer's value is the Base64 of its box and answers.seal_key its key id
    // (kiosk schema step 8); it travels as "sealed": "KEYID:BASE64", never opened here.)
    ResponseReader(sqlite3* db, bool hashes)
        : columns(std::string("r.id, r.survey_id, r.survey_version, r.language, r.status, r.started_at, r.finished_at,"
                              " r.site, r.event, r.flagged, ") +
                  (hashes ? "d.hash" : "NULL")),
          from(hashes ? "responses r LEFT JOIN survey_definitions d ON d.hash = r.survey_hash AND d.sent_at IS NOT NULL"
                      : "responses r"),
          response(db, ("SELECT " + columns + " FROM " + from + " WHERE r.id = ?").c_str()),
          answers(db, has_seal_column(db)
                          ? "SELECT question_id, value, answered_at, seal_key FROM answers WHERE response_id = ?"
                            " ORDER BY question_id, value"
                          : "SELECT question_id, value, answered_at, NULL FROM answers WHERE response_id = ?"
                            " ORDER BY question_id, value") {}
    static bool has_seal_column(sqlite3* db) {
        Statement s(db, "SELECT 1 FROM pragma_table_info('answers') WHERE name = 'seal_key'");
        return s.step();
    }
    // The response in the current row of `s` (its `columns` first), with its answers.
    Response from_row(const Statement& s) {
        Response r;
        r.id = s.text(0);
        r.survey_id = s.text(1);
        r.survey_version = s.integer(2);
        r.language = s.text(3);
        r.status = s.text(4);
        r.started_at = s.text(5);
        r.finished_at = s.optional_text(6).value_or("");
        r.site = s.text(7);
        r.event = s.text(8);
        r.flagged = s.integer(9) != 0;
        r.survey_hash = s.optional_text(10).value_or("");
        answers.bind(1, r.id);
        while (answers.step()) {
            if (answers.is_null(3))
                r.answers.push_back({answers.text(0), answers.text(1), answers.text(2)});
            else
                r.answers.push_back({answers.text(0), "", answers.text(2), answers.text(3) + ":" + answers.text(1)});
        }
        answers.reset();
        return r;
    }
    Response read(const std::string& id) {
        response.bind(1, id);
        if (!response.step()) {
            response.reset();
            throw std::runtime_error("sync: response " + id + " vanished");
        }
        Response r = from_row(response);
        response.reset();
        return r;
    }
};

namespace {

// A statement of Outbox::prepared(), reset (its read of the database ended) when this goes.
struct Resetting {
    Statement& s;
    ~Resetting() { s.reset(); }
};

// The length of to_json(r).dump() without building it: the strings with nlohmann's
// escapes, the numbers' digits, the fixed keys and punctuation.
std::size_t json_size(const Response& r) {
    auto str = [](const std::string& v) {
        std::size_t n = v.size() + 2;
        for (unsigned char c : v) {
            if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') n += 1;
            else if (c < 0x20) n += 5;
        }
        return n;
    };
    // {"answers":[…],"event":…,"finished_at":…,"flagged":…,"id":…,"language":…,"site":…,
    //  "started_at":…,"status":…,"survey_id":…,"survey_version":…}
    std::size_t n = 130 + str(r.event) + (r.finished_at.empty() ? 4 : str(r.finished_at)) + (r.flagged ? 4 : 5) +
                    str(r.id) + str(r.language) + str(r.site) + str(r.started_at) + str(r.status) + str(r.survey_id) +
                    std::to_string(r.survey_version).size() +
                    (r.survey_hash.empty() ? 0 : 16 + str(r.survey_hash));  // ,"survey_hash":…
    for (const auto& a : r.answers)  // {"answered_at":…,"question_id":…,"value":…}, (or "sealed":…)
        n += 41 + str(a.answered_at) + str(a.question_id) + (a.sealed.empty() ? str(a.value) : 1 + str(a.sealed));
    return r.answers.empty() ? n : n - 1;  // no comma before the first
}

}  // namespace

Outbox::~Outbox() {
    reader_.reset();  // (every statement finalized before the connection closes)
    statements_.clear();
    checkpointer_.reset();
    sqlite3_close(db_);
}

// Kept while the database's schema stays as it was: a kiosk that migrates its database
// (survey_hash at step 7, seal_key at step 8) while this outbox is open gets a reader of
// the new columns at the next batch, not the old statements re-prepared on new tables.
ResponseReader& Outbox::reader() {
    std::int64_t schema = 0, version = 0;
    {
        Statement& s = prepared("SELECT schema_version, user_version FROM pragma_schema_version, pragma_user_version");
        Resetting done{s};
        s.step();
        schema = s.integer(0);
        version = s.integer(1);
    }
    if (!reader_ || schema != reader_schema_) {
        hashes_ = version >= kHashSchemaVersion;
        reader_ = std::make_unique<ResponseReader>(db_, hashes_);
        reader_schema_ = schema;
    }
    return *reader_;
}

Statement& Outbox::prepared(const std::string& sql) {
    auto& s = statements_[sql];
    if (!s) s = std::make_unique<Statement>(db_, sql.c_str());
    s->reset();
    return *s;
}

OutgoingBatch Outbox::load_batch(const std::string& id, int* set_aside_count) {
    OutgoingBatch out;
    out.id = id;
    std::vector<std::string> ids;
    Statement s(db_, "SELECT id FROM responses WHERE batch_id = ? AND synced_at IS NULL ORDER BY id");
    s.bind(1, id);
    while (s.step()) ids.push_back(s.text(0));
    Batch b;
    b.batch_id = id;
    b.device_id = device_id_;
    ResponseReader& reader = this->reader();
    for (const auto& rid : ids) {
        Response r = reader.read(rid);
        // (A batch formed by an older uploader may hold what the rules refuse.)
        if (auto problem = response_problem(r, Limits{})) {
            set_aside(rid, "not sent: " + *problem);
            if (set_aside_count) ++*set_aside_count;
            continue;
        }
        out.response_ids.push_back(rid);
        b.responses.push_back(std::move(r));
    }
    if (!b.responses.empty()) out.json = encode_batch(b);
    return out;
}

void Outbox::set_aside(const std::string& response_id, const std::string& reason) {
    Statement mark(db_, "UPDATE responses SET sync_rejected = ?, batch_id = NULL WHERE id = ?");
    mark.bind(1, reason).bind(2, response_id).run();
    note_rejections(reason);
}

void Outbox::note_rejections(const std::string& last_reason) {
    Statement counts(db_,
                     "SELECT count(*), count(DISTINCT sync_rejected) FROM responses"
                     " WHERE synced_at IS NULL AND sync_rejected IS NOT NULL");
    counts.step();
    Statement s(db_, "INSERT OR REPLACE INTO sync_state(key, value) VALUES (?, ?)");
    s.bind(1, "rejected").bind(2, std::to_string(counts.integer(0))).run();
    s.bind(1, "rejected_reasons").bind(2, std::to_string(counts.integer(1))).run();
    s.bind(1, "last_rejected").bind(2, last_reason).run();
    s.bind(1, "last_rejected_at").bind(2, now_iso()).run();
}

std::int64_t Outbox::batches_acked() {
    Statement& s = prepared("SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'batches_acked'");
    Resetting done{s};
    return s.step() ? s.integer(0) : 0;
}

std::optional<OutgoingBatch> Outbox::next_batch(std::size_t max_responses, std::size_t max_bytes, int* set_aside_count,
                                                const std::vector<std::string>& in_flight) {
    Transaction tx(db_);
    // 1. An open batch (but those in flight): resent as it was.
    std::string open_sql = "SELECT id FROM sync_batches WHERE state = 'open'";
    for (std::size_t i = 0; i < in_flight.size(); ++i) open_sql += i == 0 ? " AND id NOT IN (?" : ", ?";
    open_sql += in_flight.empty() ? " ORDER BY created_at, rowid LIMIT 1" : ") ORDER BY created_at, rowid LIMIT 1";
    for (;;) {
        std::string id;
        {
            Statement& open = prepared(open_sql);
            Resetting done{open};
            for (std::size_t i = 0; i < in_flight.size(); ++i) open.bind(static_cast<int>(i + 1), in_flight[i]);
            if (!open.step()) break;
            id = open.text(0);
        }
        OutgoingBatch b = load_batch(id, set_aside_count);
        if (!b.response_ids.empty()) {
            tx.commit();
            return b;
        }
        // Nothing left in it (every member set aside just now): close it.
        Statement close(db_, "UPDATE sync_batches SET state = 'rejected', closed_at = ? WHERE id = ?");
        close.bind(1, now_iso()).bind(2, id).run();
    }
    // 2. A new batch from the queue, oldest first; deferred responses only when nothing
    //    else waits, and then one alone, the longest deferred first. The candidates come
    //    with their columns and row ids (read once, marked by row id).
    ResponseReader& reader = this->reader();
    const std::string queued = "SELECT " + reader.columns + ", r.rowid FROM " + reader.from +
                               " WHERE r.synced_at IS NULL AND r.batch_id IS NULL AND r.sync_rejected IS NULL AND r." +
                               status_filter_;
    const std::string fresh_sql = queued + " AND r.sync_deferred = 0 ORDER BY r.rowid LIMIT ?";
    const std::string deferred_sql = queued + " AND r.sync_deferred > 0 ORDER BY r.sync_deferred, r.rowid LIMIT 1";
    Batch batch;
    std::vector<std::int64_t> rows;  // the members' row ids
    for (const std::string* sql : {&fresh_sql, &deferred_sql}) {
        for (;;) {
            std::size_t bytes = 200;  // the envelope
            int refused = 0;
            std::vector<std::pair<std::string, std::string>> refusals;
            {
                Statement& candidates = prepared(*sql);
                Resetting done{candidates};
                if (sql == &fresh_sql) candidates.bind(1, static_cast<std::int64_t>(max_responses));
                while (candidates.step()) {
                    Response r = reader.from_row(candidates);
                    if (auto problem = response_problem(r, Limits{})) {
                        refusals.emplace_back(r.id, "not sent: " + *problem);
                        ++refused;
                        continue;
                    }
                    std::size_t size = json_size(r) + 1;
                    if (!batch.responses.empty() && bytes + size > max_bytes) break;
                    bytes += size;
                    rows.push_back(candidates.integer(11));
                    batch.responses.push_back(std::move(r));
                }
            }
            for (const auto& [rid, reason] : refusals) set_aside(rid, reason);
            if (set_aside_count) *set_aside_count += refused;
            // All of a page set aside: look at the next one; otherwise this is the batch.
            if (!batch.responses.empty() || refused == 0) break;
        }
        if (!batch.responses.empty()) break;
    }
    if (batch.responses.empty()) {
        tx.commit();
        return std::nullopt;
    }
    batch.batch_id = new_uuid();
    batch.device_id = device_id_;
    prepared("INSERT INTO sync_batches(id, state, created_at) VALUES (?, 'open', ?)")
        .bind(1, batch.batch_id)
        .bind(2, now_iso())
        .run();
    // The members marked in one statement (their row ids as a JSON array), not one each.
    std::string members = "[";
    for (std::int64_t row : rows) members.append(members.size() > 1 ? "," : "").append(std::to_string(row));
    members += "]";
    prepared("UPDATE responses SET batch_id = ? WHERE rowid IN (SELECT value FROM json_each(?))")
        .bind(1, batch.batch_id)
        .bind(2, members)
        .run();
    // Members in id order: the body a resend builds (load_batch) is then the same bytes.
    std::sort(batch.responses.begin(), batch.responses.end(),
              [](const Response& a, const Response& b) { return a.id < b.id; });
    OutgoingBatch out;
    out.id = batch.batch_id;
    for (const auto& r : batch.responses) out.response_ids.push_back(r.id);
    out.json = encode_batch(batch);
    tx.commit();
    return out;
}

std::vector<Batch> Outbox::delivery(std::size_t max_responses, int* left_out) {
    std::vector<Batch> out;
    sqlite_exec(db_, "BEGIN", "sync");  // one read snapshot; the UI keeps writing meanwhile
    try {
        const std::string sql = "SELECT id FROM responses WHERE synced_at IS NULL AND sync_rejected IS NULL AND " +
                                status_filter_ + " ORDER BY id";
        Statement ids(db_, sql.c_str());
        ResponseReader& reader = this->reader();
        while (ids.step()) {
            Response r = reader.read(ids.text(0));
            if (response_problem(r, Limits{})) {  // what next_batch() would set aside: left out
                if (left_out) ++*left_out;
                continue;
            }
            if (out.empty() || out.back().responses.size() >= max_responses) {
                out.emplace_back();
                out.back().batch_id = new_uuid();
                out.back().device_id = device_id_;
            }
            out.back().responses.push_back(std::move(r));
        }
    } catch (...) {
        sqlite_exec(db_, "ROLLBACK", "sync");
        throw;
    }
    sqlite_exec(db_, "COMMIT", "sync");
    return out;
}

AckResult Outbox::acknowledge(const OutgoingBatch& batch, const Reply& reply) {
    AckResult out;
    const std::string& batch_id = batch.id;
    const std::string now = now_iso();
    Transaction tx(db_);
    // (Each statement prepared once per Outbox: an acknowledgement follows every batch.)
    std::vector<std::string_view> listed;
    listed.reserve(reply.stored.size() + reply.duplicate.size());
    for (const auto* list : {&reply.stored, &reply.duplicate}) listed.insert(listed.end(), list->begin(), list->end());
    std::sort(listed.begin(), listed.end());
    const bool every_member =
        std::equal(listed.begin(), listed.end(), batch.response_ids.begin(), batch.response_ids.end());
    if (every_member) {
        // The usual reply: every member listed, once. They are the batch's unsynced rows
        // (its members as formed; only this outbox moves them), so the batch's index alone
        // finds them, without looking each listed id up.
        prepared("UPDATE responses SET synced_at = ? WHERE batch_id = ? AND synced_at IS NULL")
            .bind(1, now)
            .bind(2, batch_id)
            .run();
    } else {
        // The listed ids, as one JSON array: one statement marks every listed member
        // (through the batch's index), where a statement per id cost more than the marking.
        nlohmann::json ids = nlohmann::json::array();
        for (std::string_view id : listed) ids.push_back(id);
        prepared("UPDATE responses SET synced_at = ? WHERE batch_id = ? AND synced_at IS NULL"
                 " AND id IN (SELECT value FROM json_each(?))")
            .bind(1, now)
            .bind(2, batch_id)
            .bind(3, ids.dump())
            .run();
    }
    out.acknowledged += sqlite3_changes(db_);
    // Nothing is left to release when every member was listed (each unsynced row of the batch
    // was just marked), or when the batch's rows (counted from its index alone) are as many as
    // were just marked: the two statements below, each a walk through every member's row,
    // would change nothing and are skipped.
    std::int64_t in_batch = out.acknowledged;
    if (!every_member) {
        Statement& count = prepared("SELECT count(*) FROM responses WHERE batch_id = ?");
        Resetting done{count};
        count.bind(1, batch_id).step();
        in_batch = count.integer(0);
    }
    if (in_batch != out.acknowledged) {
        // A member the reply leaves out failed in a batch the collector otherwise took:
        // evidence for the poison rule, should it keep failing alone.
        prepared("UPDATE responses SET sync_failed_acks = ? WHERE batch_id = ? AND synced_at IS NULL"
                 " AND sync_failed_acks IS NULL")
            .bind(1, batches_acked())
            .bind(2, batch_id)
            .run();
        prepared("UPDATE responses SET batch_id = NULL WHERE batch_id = ? AND synced_at IS NULL").bind(1, batch_id).run();
        out.released = sqlite3_changes(db_);
    }
    prepared("UPDATE sync_batches SET state = 'acked', closed_at = ? WHERE id = ?").bind(1, now).bind(2, batch_id).run();
    prepared("INSERT OR REPLACE INTO sync_state(key, value) VALUES ('last_success_at', ?)").bind(1, now).run();
    // The collector works: deferred responses take their turn again ("Poison", uploader.cpp).
    // (A scan of every response, so only while this outbox may have deferred some: at the
    // first acknowledgement after opening, and after fail() deferred one.)
    if (may_have_deferred_) sqlite_exec(db_, "UPDATE responses SET sync_deferred = 0 WHERE sync_deferred > 0", "sync");
    prepared("INSERT INTO sync_state(key, value) VALUES ('batches_acked', '1') ON CONFLICT(key)"
             " DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        .run();
    prepared("DELETE FROM sync_state WHERE key IN ('last_error', 'last_error_at', 'auth_failed')").run();
    tx.commit();
    may_have_deferred_ = false;
    return out;
}

bool Outbox::split(const std::string& batch_id) {
    Transaction tx(db_);
    if (!split_locked(batch_id)) return false;
    tx.commit();
    return true;
}

bool Outbox::split_locked(const std::string& batch_id) {
    std::vector<std::string> ids;
    Statement s(db_, "SELECT id FROM responses WHERE batch_id = ? AND synced_at IS NULL ORDER BY id");
    s.bind(1, batch_id);
    while (s.step()) ids.push_back(s.text(0));
    if (ids.size() < 2) return false;
    const std::string now = now_iso();
    Statement failures(db_, "SELECT failures FROM sync_batches WHERE id = ?");
    failures.bind(1, batch_id);
    const std::int64_t inherited = failures.step() ? failures.integer(0) : 0;
    Statement close(db_, "UPDATE sync_batches SET state = 'split', closed_at = ? WHERE id = ?");
    close.bind(1, now).bind(2, batch_id).run();
    Statement ins(db_, "INSERT INTO sync_batches(id, state, created_at, failures) VALUES (?, 'open', ?, ?)");
    Statement assign(db_, "UPDATE responses SET batch_id = ? WHERE id = ?");
    const std::size_t half = ids.size() / 2;
    for (int part = 0; part < 2; ++part) {
        const std::string id = new_uuid();
        ins.bind(1, id).bind(2, now).bind(3, inherited).run();
        for (std::size_t i = part == 0 ? 0 : half; i < (part == 0 ? half : ids.size()); ++i)
            assign.bind(1, id).bind(2, ids[i]).run();
    }
    return true;
}

void Outbox::reject(const std::string& batch_id, const std::string& reason) {
    Transaction tx(db_);
    reject_locked(batch_id, reason);
    tx.commit();
}

void Outbox::reject_locked(const std::string& batch_id, const std::string& reason) {
    const std::string why = reason.empty() ? std::string("refused by the collector") : reason;
    Statement mark(db_, "UPDATE responses SET sync_rejected = ?, batch_id = NULL WHERE batch_id = ? AND synced_at IS NULL");
    mark.bind(1, why).bind(2, batch_id).run();
    Statement close(db_, "UPDATE sync_batches SET state = 'rejected', closed_at = ? WHERE id = ?");
    close.bind(1, now_iso()).bind(2, batch_id).run();
    note_rejections(why);
}

FailOutcome Outbox::fail(const std::string& batch_id, const std::string& reason) {
    Transaction tx(db_);
    const std::int64_t acks = batches_acked();
    Statement since(db_,
                    "UPDATE responses SET sync_failed_acks = ? WHERE batch_id = ? AND synced_at IS NULL"
                    " AND sync_failed_acks IS NULL");
    since.bind(1, acks).bind(2, batch_id).run();
    Statement count(db_, "UPDATE sync_batches SET failures = failures + 1 WHERE id = ? RETURNING failures");
    count.bind(1, batch_id);
    const std::int64_t failures = count.step() ? count.integer(0) : 0;
    count.reset();
    if (failures < kBatchFailureLimit) {
        tx.commit();
        return FailOutcome::Retry;
    }
    std::vector<std::pair<std::string, std::int64_t>> members;  // id, sync_failed_acks
    Statement s(db_, "SELECT id, sync_failed_acks FROM responses WHERE batch_id = ? AND synced_at IS NULL ORDER BY id");
    s.bind(1, batch_id);
    while (s.step()) members.emplace_back(s.text(0), s.integer(1));
    if (members.size() >= 2) {
        split_locked(batch_id);
        tx.commit();
        return FailOutcome::Split;
    }
    if (members.empty()) {  // nothing left to send in it
        Statement close(db_, "UPDATE sync_batches SET state = 'acked', closed_at = ? WHERE id = ?");
        close.bind(1, now_iso()).bind(2, batch_id).run();
        tx.commit();
        return FailOutcome::Retry;
    }
    if (acks > members.front().second) {
        // (The reason names no count or batch: the same fault gives the same text, so that
        // reasons can be counted.)
        reject_locked(batch_id, "the collector fails on this response alone and acknowledges others: " + reason);
        tx.commit();
        return FailOutcome::Quarantined;
    }
    Statement next(db_, "SELECT coalesce(max(sync_deferred), 0) + 1 FROM responses");
    next.step();
    Statement defer(db_, "UPDATE responses SET sync_deferred = ?, batch_id = NULL WHERE id = ?");
    defer.bind(1, next.integer(0)).bind(2, members.front().first).run();
    may_have_deferred_ = true;
    Statement close(db_, "UPDATE sync_batches SET state = 'deferred', closed_at = ? WHERE id = ?");
    close.bind(1, now_iso()).bind(2, batch_id).run();
    tx.commit();
    return FailOutcome::Deferred;
}

void Outbox::renew(const std::string& batch_id) {
    Transaction tx(db_);
    Statement release(db_, "UPDATE responses SET batch_id = NULL WHERE batch_id = ? AND synced_at IS NULL");
    release.bind(1, batch_id).run();
    Statement close(db_, "UPDATE sync_batches SET state = 'conflict', closed_at = ? WHERE id = ?");
    close.bind(1, now_iso()).bind(2, batch_id).run();
    tx.commit();
}

int Outbox::retry_rejected() {
    Transaction tx(db_);
    sqlite_exec(db_,
                "UPDATE responses SET sync_rejected = NULL, sync_failed_acks = NULL, sync_deferred = 0"
                " WHERE sync_rejected IS NOT NULL",
                "sync");
    int n = sqlite3_changes(db_);
    sqlite_exec(db_, "DELETE FROM sync_state WHERE key IN ('rejected', 'rejected_reasons', 'last_rejected', 'last_rejected_at')",
                "sync");
    // A survey definition the collector refused is offered again too (responses sent
    // meanwhile went without its hash).
    if (hashes_) sqlite_exec(db_, "UPDATE survey_definitions SET send_error = NULL WHERE send_error IS NOT NULL", "sync");
    tx.commit();
    return n;
}

std::int64_t Outbox::pending() {
    const std::string sql = "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NULL AND " +
                            status_filter_;
    Statement s(db_, sql.c_str());
    s.step();
    return s.integer(0);
}

std::string Outbox::oldest_pending_at() {
    const std::string sql = "SELECT min(coalesce(finished_at, started_at)) FROM responses WHERE synced_at IS NULL AND "
                            "sync_rejected IS NULL AND " +
                            status_filter_;
    Statement s(db_, sql.c_str());
    s.step();
    return s.optional_text(0).value_or("");
}

std::int64_t Outbox::rejected() {
    Statement s(db_, "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NOT NULL");
    s.step();
    return s.integer(0);
}

namespace {
std::vector<std::pair<std::string, std::int64_t>> reasons_in(sqlite3* db) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    Statement s(db,
                "SELECT sync_rejected, count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NOT NULL"
                " GROUP BY 1 ORDER BY 2 DESC, 1");
    while (s.step()) out.emplace_back(s.text(0), s.integer(1));
    return out;
}
}  // namespace

std::vector<std::pair<std::string, std::int64_t>> Outbox::rejected_reasons() { return reasons_in(db_); }

std::map<std::string, std::string> Outbox::load_state() {
    std::map<std::string, std::string> out;
    Statement s(db_, "SELECT key, value FROM sync_state");
    while (s.step()) out[s.text(0)] = s.text(1);
    return out;
}

void Outbox::save_state(const std::map<std::string, std::string>& values) {
    Transaction tx(db_);
    Statement s(db_, "INSERT OR REPLACE INTO sync_state(key, value) VALUES (?, ?)");
    for (const auto& [k, v] : values) s.bind(1, k).bind(2, v).run();
    tx.commit();
}

std::map<std::string, std::string> read_sync_state(const std::filesystem::path& database, bool send_abandoned) {
    sqlite3* db = open_kiosk_db(database, true);
    std::map<std::string, std::string> out;
    try {
        Statement s(db, "SELECT key, value FROM sync_state");
        while (s.step()) out[s.text(0)] = s.text(1);
        const std::string sql = "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NULL AND " +
                                filter_for(send_abandoned);
        Statement p(db, sql.c_str());
        p.step();
        out["pending"] = std::to_string(p.integer(0));
        Statement r(db,
                    "SELECT count(*), count(DISTINCT sync_rejected) FROM responses"
                    " WHERE synced_at IS NULL AND sync_rejected IS NOT NULL");
        r.step();
        out["rejected"] = std::to_string(r.integer(0));
        out["rejected_reasons"] = std::to_string(r.integer(1));
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    sqlite3_close(db);
    return out;
}

}  // namespace kohtaamo::sync

namespace kohtaamo::sync {

std::vector<std::pair<std::string, std::int64_t>> read_rejected_reasons(const std::filesystem::path& database) {
    sqlite3* db = open_kiosk_db(database, true);
    try {
        auto out = reasons_in(db);
        sqlite3_close(db);
        return out;
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
}

}  // namespace kohtaamo::sync
