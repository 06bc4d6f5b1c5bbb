#include "outbox.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "clock.hpp"
#include "sqlite.hpp"
#include "uuid.hpp"

namespace kohtaamo::sync {

namespace {

// The first kiosk schema version with the sync columns (kiosk/core/schema.cpp, step 3).
constexpr int kSyncSchemaVersion = 3;

std::string now_iso() {
    using namespace std::chrono;
    return iso8601_utc(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

sqlite3* open_kiosk_db(const std::filesystem::path& database, bool read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(database, ec))
        throw std::runtime_error("sync: " + database.string() + " does not exist (start the kiosk once to create it)");
    sqlite3* db = nullptr;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_FULLMUTEX;
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
            sqlite_exec(db, "PRAGMA synchronous = FULL", "sync");
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
}

Outbox::~Outbox() { sqlite3_close(db_); }

namespace {

// The two statements that read one response, prepared once per batch (preparing them for
// every response cost more than running them).
struct ResponseReader {
    Statement response, answers;
    explicit ResponseReader(sqlite3* db)
        : response(db,
                   "SELECT id, survey_id, survey_version, language, status, started_at, finished_at, site, event, flagged"
                   " FROM responses WHERE id = ?"),
          answers(db, "SELECT question_id, value, answered_at FROM answers WHERE response_id = ? ORDER BY question_id, value") {}
    Response read(const std::string& id) {
        Statement& s = response;
        s.bind(1, id);
        if (!s.step()) {
            s.reset();
            throw std::runtime_error("sync: response " + id + " vanished");
        }
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
        s.reset();
        answers.bind(1, id);
        while (answers.step()) r.answers.push_back({answers.text(0), answers.text(1), answers.text(2)});
        answers.reset();
        return r;
    }
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
                    std::to_string(r.survey_version).size();
    for (const auto& a : r.answers)  // {"answered_at":…,"question_id":…,"value":…},
        n += 41 + str(a.answered_at) + str(a.question_id) + str(a.value);
    return r.answers.empty() ? n : n - 1;  // no comma before the first
}

}  // namespace

Response Outbox::load_response(const std::string& id) { return ResponseReader(db_).read(id); }

OutgoingBatch Outbox::load_batch(const std::string& id) {
    OutgoingBatch out;
    out.id = id;
    Statement s(db_, "SELECT id FROM responses WHERE batch_id = ? AND synced_at IS NULL ORDER BY id");
    s.bind(1, id);
    while (s.step()) out.response_ids.push_back(s.text(0));
    Batch b;
    b.batch_id = id;
    b.device_id = device_id_;
    ResponseReader reader(db_);
    for (const auto& rid : out.response_ids) b.responses.push_back(reader.read(rid));
    out.json = encode_batch(b);
    return out;
}

std::optional<OutgoingBatch> Outbox::next_batch(std::size_t max_responses, std::size_t max_bytes) {
    Transaction tx(db_);
    // 1. An open batch: resent as it was.
    for (;;) {
        Statement open(db_, "SELECT id FROM sync_batches WHERE state = 'open' ORDER BY created_at, rowid LIMIT 1");
        if (!open.step()) break;
        std::string id = open.text(0);
        OutgoingBatch b = load_batch(id);
        if (!b.response_ids.empty()) {
            tx.commit();
            return b;
        }
        // Nothing left in it (cannot happen through this code; be safe): close it.
        Statement close(db_, "UPDATE sync_batches SET state = 'acked', closed_at = ? WHERE id = ?");
        close.bind(1, now_iso()).bind(2, id).run();
    }
    // 2. A new batch from the queue, oldest first.
    const std::string sql = "SELECT id FROM responses WHERE synced_at IS NULL AND batch_id IS NULL AND"
                            " sync_rejected IS NULL AND " + status_filter_ + " ORDER BY rowid LIMIT ?";
    Statement candidates(db_, sql.c_str());
    candidates.bind(1, static_cast<std::int64_t>(max_responses));
    Batch batch;
    std::size_t bytes = 200;  // the envelope
    ResponseReader reader(db_);
    while (candidates.step()) {
        Response r = reader.read(candidates.text(0));
        std::size_t size = json_size(r) + 1;
        if (!batch.responses.empty() && bytes + size > max_bytes) break;
        bytes += size;
        batch.responses.push_back(std::move(r));
    }
    if (batch.responses.empty()) {
        tx.commit();
        return std::nullopt;
    }
    // Members in id order: the body a resend builds (load_batch) is then the same bytes.
    std::sort(batch.responses.begin(), batch.responses.end(),
              [](const Response& a, const Response& b) { return a.id < b.id; });
    batch.batch_id = new_uuid();
    batch.device_id = device_id_;
    Statement ins(db_, "INSERT INTO sync_batches(id, state, created_at) VALUES (?, 'open', ?)");
    ins.bind(1, batch.batch_id).bind(2, now_iso()).run();
    Statement assign(db_, "UPDATE responses SET batch_id = ? WHERE id = ?");
    OutgoingBatch out;
    out.id = batch.batch_id;
    for (const auto& r : batch.responses) {
        assign.bind(1, batch.batch_id).bind(2, r.id).run();
        out.response_ids.push_back(r.id);
    }
    out.json = encode_batch(batch);
    tx.commit();
    return out;
}

AckResult Outbox::acknowledge(const std::string& batch_id, const Reply& reply) {
    AckResult out;
    const std::string now = now_iso();
    Transaction tx(db_);
    Statement mark(db_, "UPDATE responses SET synced_at = ? WHERE id = ? AND batch_id = ? AND synced_at IS NULL");
    for (const auto* list : {&reply.stored, &reply.duplicate}) {
        for (const auto& id : *list) {
            mark.bind(1, now).bind(2, id).bind(3, batch_id).run();
            out.acknowledged += sqlite3_changes(db_);
        }
    }
    Statement release(db_, "UPDATE responses SET batch_id = NULL WHERE batch_id = ? AND synced_at IS NULL");
    release.bind(1, batch_id).run();
    out.released = sqlite3_changes(db_);
    Statement close(db_, "UPDATE sync_batches SET state = 'acked', closed_at = ? WHERE id = ?");
    close.bind(1, now).bind(2, batch_id).run();
    Statement state(db_, "INSERT OR REPLACE INTO sync_state(key, value) VALUES ('last_success_at', ?)");
    state.bind(1, now).run();
    sqlite_exec(db_, "DELETE FROM sync_state WHERE key IN ('last_error', 'last_error_at', 'auth_failed')", "sync");
    tx.commit();
    return out;
}

bool Outbox::split(const std::string& batch_id) {
    Transaction tx(db_);
    std::vector<std::string> ids;
    Statement s(db_, "SELECT id FROM responses WHERE batch_id = ? AND synced_at IS NULL ORDER BY id");
    s.bind(1, batch_id);
    while (s.step()) ids.push_back(s.text(0));
    if (ids.size() < 2) return false;
    const std::string now = now_iso();
    Statement close(db_, "UPDATE sync_batches SET state = 'split', closed_at = ? WHERE id = ?");
    close.bind(1, now).bind(2, batch_id).run();
    Statement ins(db_, "INSERT INTO sync_batches(id, state, created_at) VALUES (?, 'open', ?)");
    Statement assign(db_, "UPDATE responses SET batch_id = ? WHERE id = ?");
    const std::size_t half = ids.size() / 2;
    for (int part = 0; part < 2; ++part) {
        const std::string id = new_uuid();
        ins.bind(1, id).bind(2, now).run();
        for (std::size_t i = part == 0 ? 0 : half; i < (part == 0 ? half : ids.size()); ++i)
            assign.bind(1, id).bind(2, ids[i]).run();
    }
    tx.commit();
    return true;
}

void Outbox::reject(const std::string& batch_id, const std::string& reason) {
    Transaction tx(db_);
    Statement mark(db_, "UPDATE responses SET sync_rejected = ?, batch_id = NULL WHERE batch_id = ? AND synced_at IS NULL");
    mark.bind(1, reason.empty() ? std::string("refused by the collector") : reason).bind(2, batch_id).run();
    Statement close(db_, "UPDATE sync_batches SET state = 'rejected', closed_at = ? WHERE id = ?");
    close.bind(1, now_iso()).bind(2, batch_id).run();
    tx.commit();
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
    sqlite_exec(db_, "UPDATE responses SET sync_rejected = NULL WHERE sync_rejected IS NOT NULL", "sync");
    int n = sqlite3_changes(db_);
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

std::int64_t Outbox::rejected() {
    Statement s(db_, "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NOT NULL");
    s.step();
    return s.integer(0);
}

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
        Statement r(db, "SELECT count(*) FROM responses WHERE synced_at IS NULL AND sync_rejected IS NOT NULL");
        r.step();
        out["rejected"] = std::to_string(r.integer(0));
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    sqlite3_close(db);
    return out;
}

}  // namespace kohtaamo::sync
