// outbox.hpp — the uploader's side of the kiosk database: which responses are waiting,
// the batches they travel in, and what the collector acknowledged. Every change is one
// short transaction on the uploader's own connection (the UI keeps writing answers
// through its own; WAL lets both in, busy_timeout makes them queue, never fail).
// The state machine these functions implement is described in uploader.cpp.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol.hpp"

struct sqlite3;
namespace kohtaamo {
class Statement;        // sqlite.hpp
class WalCheckpointer;  // wal_checkpointer.hpp
}

namespace kohtaamo::sync {

struct ResponseReader;  // outbox.cpp

struct OutgoingBatch {
    std::string id;
    std::vector<std::string> response_ids;  // sorted
    std::string json;                       // the request body before gzip
};

struct AckResult {
    int acknowledged = 0;  // responses now marked synced
    int released = 0;      // members the reply did not mention, back in the queue
};

// A batch may fail this many times in a row (5xx, an empty reply, a reply that acknowledges
// nothing of it) before it is split, and a single response alone before it is set aside.
inline constexpr int kBatchFailureLimit = 3;

// What Outbox::fail() did with a batch that failed once more (uploader.cpp, "Poison").
enum class FailOutcome {
    Retry,        // fewer than kBatchFailureLimit failures in a row: the same batch again
    Split,        // several responses: two halves under new ids, each inheriting the count
    Deferred,     // one response, and nothing acknowledged since it began failing: it waits
                  // behind every other response until the collector acknowledges something
    Quarantined,  // one response, and the collector acknowledged others meanwhile: set aside
};

class Outbox {
public:
    // Opens its own connection to the kiosk's database, which the kiosk (Store) has
    // created and migrated. Throws std::runtime_error with a clear message otherwise.
    Outbox(const std::filesystem::path& database, bool send_abandoned);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    const std::string& device_id() const { return device_id_; }

    // The batch to send next: the oldest open one (formed before a failure or a crash:
    // same id, same members, same body), else a new one formed now from the queue, at
    // most `max_responses` and about `max_bytes` of JSON (always at least one response).
    // nullopt when nothing is waiting.
    // A response the collector would refuse anyway (the protocol's field rules, as
    // response_problem() applies them; invalid UTF-8 among them, which could not even be
    // encoded) is set aside on the spot instead ("not sent: ..."), counted in `set_aside`.
    // A deferred response goes last, alone.
    // `in_flight`: the batches now being sent, never returned (the uploader forms the next
    // batch while others are in flight: uploader.cpp, "WINDOW").
    std::optional<OutgoingBatch> next_batch(std::size_t max_responses, std::size_t max_bytes, int* set_aside = nullptr,
                                            const std::vector<std::string>& in_flight = {});

    // The collector's reply to `batch` (as next_batch() returned it): its listed members
    // become synced, the others go back to the queue, the batch closes. One transaction.
    AckResult acknowledge(const OutgoingBatch& batch, const Reply& reply);
    // Replaces an open batch with two halves under new ids (413, or 400 on a batch of
    // several responses). Returns false when it has one response (nothing to split).
    bool split(const std::string& batch_id);
    // The collector refused the batch's only response: it leaves the queue, with reason.
    void reject(const std::string& batch_id, const std::string& reason);
    // The batch failed once more in a way that may be its own fault (the rule in
    // uploader.cpp, "Poison"); `reason` says how ("HTTP 500: ..."). One transaction.
    FailOutcome fail(const std::string& batch_id, const std::string& reason);
    // 409: the id is spent; its members go back to the queue, to travel under a new id.
    void renew(const std::string& batch_id);
    // A delivery file's batches (delivery.hpp): every finished response the uploader would
    // send and the collector has not acknowledged, read in one snapshot, in id order, at most
    // `max_responses` per batch under new batch ids. What is set aside, or what the field
    // rules refuse, is left out (counted in `left_out`). Changes nothing in the database.
    std::vector<Batch> delivery(std::size_t max_responses, int* left_out = nullptr);
    // Puts every rejected response back in the queue; returns how many.
    int retry_rejected();

    std::int64_t pending();   // finished, not acknowledged, not rejected
    // When the oldest of them finished (or started, when its end is unknown), as stored;
    // "" when nothing is pending.
    std::string oldest_pending_at();
    std::int64_t rejected();
    // The reasons of the responses set aside, most frequent first, with their counts.
    std::vector<std::pair<std::string, std::int64_t>> rejected_reasons();

    // Survey definitions (PROTOCOL.md, "Survey definitions"): those the collector has not
    // acknowledged nor refused yet, as (hash, text); then what it said. A response carries
    // its survey_hash only once its definition is acknowledged.
    std::vector<std::pair<std::string, std::string>> unsent_definitions();
    void definition_sent(const std::string& hash);
    void definition_refused(const std::string& hash, const std::string& reason);

    // The persistent status (table sync_state): read all, write some keys.
    std::map<std::string, std::string> load_state();
    void save_state(const std::map<std::string, std::string>& values);

private:
    // The statement for `sql`, prepared at its first use and kept (reset) for the next:
    // the uploader forms a batch and acknowledges one with the same dozen statements.
    Statement& prepared(const std::string& sql);
    ResponseReader& reader();
    OutgoingBatch load_batch(const std::string& id, int* set_aside);
    // Inside a transaction: sets the response aside with `reason` and notes it in sync_state.
    void set_aside(const std::string& response_id, const std::string& reason);
    void note_rejections(const std::string& last_reason);
    bool split_locked(const std::string& batch_id);
    void reject_locked(const std::string& batch_id, const std::string& reason);
    std::int64_t batches_acked();
    sqlite3* db_ = nullptr;
    bool send_abandoned_;
    bool hashes_ = false;  // the database has survey_hash (schema 7)
    // False once an acknowledgement has undeferred everything and fail() deferred nothing
    // since: acknowledge() then skips its scan for deferred responses.
    bool may_have_deferred_ = true;
    std::string device_id_;
    std::string status_filter_;
    std::unique_ptr<ResponseReader> reader_;
    std::int64_t reader_schema_ = 0;  // PRAGMA schema_version when reader_ was made
    std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
    std::unique_ptr<WalCheckpointer> checkpointer_;
};

// Opens the database read-only and returns the saved sync state plus the current
// pending and rejected counts (keys: pending, rejected, rejected_reasons, and sync_state's keys).
std::map<std::string, std::string> read_sync_state(const std::filesystem::path& database, bool send_abandoned);
// The reasons of the responses set aside, most frequent first, with their counts.
std::vector<std::pair<std::string, std::int64_t>> read_rejected_reasons(const std::filesystem::path& database);

}  // namespace kohtaamo::sync
