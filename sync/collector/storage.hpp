// storage.hpp — the collector's storage: the ONE interface the rest of the collector (and
// whatever is added to it later) keeps its data through. Every SQL statement and every
// rule about transactions is in storage.cpp; the schema of each database is in schema.cpp,
// side by side; the drivers under it (sql.hpp) only connect and run what they are given.
//
// Rules (the invariants every method keeps):
//  1. A batch is stored atomically: its batch row, its new responses and their answers, or
//     nothing. A reply is given only after the commit.
//  2. Idempotent under concurrency, also across processes: responses.id, batches.id and
//     answers' key are unique, and every insert is INSERT … ON CONFLICT DO NOTHING. The
//     same batch at two instances at once is stored once; the other copy waits on the
//     first one's response rows (PostgreSQL), then finds them and reports duplicates.
//     The same batch id with another body is a conflict (409), whoever came first, and
//     the conflicting copy changes nothing.
//  3. Group commit: batches arriving together share one transaction (and one fsync), and
//     one batch's conflict or failure never touches another's: on SQLite (one writer, up
//     to 64 batches a commit) each is inside its own savepoint; on PostgreSQL (each of
//     `connections` connections commits up to 16) a group with a conflict or a failure is
//     rolled back and its batches run again one by one.
//  4. Nothing lives only in a process: the token lists every instance serves from and
//     the export slots are rows, so several collectors on one PostgreSQL agree on them.
//  5. Busy, deadlock and serialisation failures are retried here; a database that is
//     gone is StorageUnavailable (the HTTP layer answers 503 with Retry-After) and the
//     next call reconnects. So is a batch that fails on a database whose schema a collector
//     of a newer release has updated (and check() then says so).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "export_database.hpp"
#include "protocol.hpp"

namespace kohtaamo::sync {

// The database cannot be reached or used now (a restart, a full disk, a lock held too
// long): the request may be tried again later.
class StorageUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What storing one batch did.
struct StoreOutcome {
    int status = 200;  // 200, or 409 when the batch id was seen with another body
    Reply reply;
};

// One of the export slots, held by one export (renew it while working; it expires by
// itself when its holder dies).
struct ExportSlot {
    int slot = 0;
    std::string holder;
};

// The latest a collector heard from one kiosk (PROTOCOL.md, "Health").
struct DeviceHealth {
    std::string device_id, device_name;
    std::int64_t heard_ms = 0;  // wall clock, milliseconds since 1970
    std::string heard_at;       // the same, ISO 8601 UTC
    std::optional<Health> health;  // nullopt: the kiosk never sent any (an old kiosk)
};

using TextRows = std::vector<std::vector<std::string>>;  // NULL is "NULL"

// Signed survey bundles (issue #10, sync/PROTOCOL.md "Survey bundles").
struct BundleSurvey {
    std::string survey_id;
    std::int64_t survey_version = 0;
    std::string sha256;      // of the survey file's bytes
    std::string definition;  // the file itself
};
struct StoredBundle {
    std::int64_t version = 0;
    std::string site, created_at, sha256;
    std::int64_t bytes = 0;
};
// One kiosk's line of `kohtaamo-collector status`: every device token, with what it
// reported on its last GET /v1/bundle (running -1 and reported_at "" when it never did).
struct DeviceBundleStatus {
    std::string device_name, site;
    std::int64_t running = -1;
    std::string error, reported_at;
    bool has_token = true;  // false: reported, but its token is no longer in the list
};

// The web page's coordinator accounts and sessions (issue #14, sync/collector/web.hpp).
struct WebAccount {
    std::string name;
    std::string password_hash;       // crypto_pwhash_str (Argon2id)
    std::vector<std::string> sites;  // the sites it may see; empty: every site
    std::int64_t failures = 0;       // wrong passwords since the last good one (or lock)
    std::int64_t locks = 0;          // how many times it was locked since the last good login
    std::int64_t locked_until_ms = 0;
    std::string created_at;
};
struct WebSession {
    std::string account, csrf;
    std::int64_t expires_ms = 0;
};
// Complete, unflagged responses per site, survey and UTC hour ("2026-12-02T14").
struct HourCount {
    std::string site, survey_id, hour;
    std::int64_t responses = 0;
};

class Storage {
public:
    // Connects (creating a SQLite file and its folder when missing) and brings the schema
    // to this version (throws std::runtime_error naming the database when it is newer
    // than this collector knows, or cannot be reached).
    static std::unique_ptr<Storage> open(const DatabaseConfig& database);
    virtual ~Storage() = default;

    const DatabaseConfig& database() const { return database_; }
    std::string describe() const { return database_.describe(); }

    // POST /v1/batches: stores a validated batch (rules 1-3). `body_hash` identifies its
    // content (the hash of its canonical JSON). Throws StorageUnavailable. When it is
    // stored (200), the device's health (batch.health; nullopt: only "heard from now") is
    // kept in the same transaction, as record_health would; a failure there is ignored.
    virtual StoreOutcome store(const Batch& batch, const std::string& device_name, const std::string& body_hash) = 0;

    // Every batch and heartbeat: the device was heard from now, with this health (nullopt
    // from an old kiosk keeps the last health it had). An upsert, so several instances
    // agree; a report older than the stored one (heard_ms) changes nothing.
    virtual void record_health(const std::string& device_id, const std::string& device_name,
                               const std::optional<Health>& health, std::int64_t heard_ms) = 0;
    // Every device heard from, by device name.
    virtual std::vector<DeviceHealth> device_health() = 0;

    // GET /v1/health: throws StorageUnavailable unless the database answers, and while a
    // batch has waited longer than database().stalled_after_seconds to be stored (a
    // database that answers reads but commits nothing: a synchronous standby away, a lock).
    virtual void check() = 0;

    // The token lists every instance serves from. publish_tokens writes `tokens` when they
    // differ from the database's and returns whether they did; tokens_generation counts
    // the changes, so an instance re-reads only after one.
    virtual bool publish_tokens(const CollectorTokens& tokens) = 0;
    virtual std::int64_t tokens_generation() = 0;
    virtual CollectorTokens read_tokens() = 0;

    // At most `slots` exports at once across every instance: a free (or expired) slot is
    // taken for `ttl`, or nullopt when all are held.
    virtual std::optional<ExportSlot> take_export_slot(const std::string& holder, int slots,
                                                       std::chrono::seconds ttl) = 0;
    virtual void renew_export_slot(const ExportSlot& slot, std::chrono::seconds ttl) = 0;
    virtual void release_export_slot(const ExportSlot& slot) = 0;

    // A read-only snapshot for one export (kiosk/export reads through it; rows stream).
    virtual std::unique_ptr<ExportDatabase> export_snapshot() = 0;

    // --- survey bundles ---
    // The newest bundle version published (0: none).
    virtual std::int64_t latest_bundle_version() = 0;
    // Stores a bundle as `version` and the survey definitions it carries, in one
    // transaction. False when that version exists already (another publish was first).
    virtual bool store_bundle(const StoredBundle& bundle, const std::string& file,
                              const std::vector<BundleSurvey>& surveys) = 0;
    // Every definition the collector holds under this id and version (published or
    // received from a kiosk): its hash and where it came from ("bundle 3", "device k1").
    virtual std::vector<std::pair<std::string, std::string>> survey_definition_hashes(const std::string& survey_id,
                                                                                       std::int64_t version) = 0;
    // PUT /v1/surveys/<hash>: keeps a definition a kiosk answered with (table
    // survey_definitions, which publish fills too). False when it was there already.
    virtual bool store_survey_definition(const std::string& hash, const std::string& survey_id, std::int64_t version,
                                         const std::string& definition, const std::string& source,
                                         const std::string& at) = 0;
    // Every survey definition ever published (oldest bundle first).
    virtual std::vector<BundleSurvey> survey_definitions() = 0;
    // The newest bundle above `above` meant for `site` (or for every site): its version
    // and file; nullopt when there is none.
    virtual std::optional<std::pair<std::int64_t, std::string>> bundle_for(const std::string& site,
                                                                           std::int64_t above) = 0;
    virtual std::vector<StoredBundle> bundles() = 0;
    // What a kiosk said on GET /v1/bundle: the version it runs, its last bundle error.
    virtual void record_bundle_report(const std::string& device_name, const std::string& site, std::int64_t running,
                                      const std::string& error, const std::string& at) = 0;
    virtual std::vector<DeviceBundleStatus> bundle_status() = 0;

    // --- the web page's accounts and sessions (issue #14) ---
    // Adds the account, or replaces its password and sites (and clears its lockout).
    virtual void put_web_account(const WebAccount& account) = 0;
    // Removes it and its sessions; false when there was none.
    virtual bool remove_web_account(const std::string& name) = 0;
    virtual std::optional<WebAccount> web_account(const std::string& name) = 0;
    virtual std::vector<WebAccount> web_accounts() = 0;
    // A wrong password: counted; the `max_failures`-th in a row locks the account for
    // `first_lock_ms`, doubled with every lock since the last good login, at most
    // `max_lock_ms`. Returns the time the account is locked until (0: not locked).
    virtual std::int64_t web_login_failed(const std::string& name, std::int64_t now_ms, int max_failures,
                                          std::int64_t first_lock_ms, std::int64_t max_lock_ms) = 0;
    // A good password: the count of wrong ones and of locks start again.
    virtual void web_login_succeeded(const std::string& name) = 0;
    // A session: only the hash of the cookie's secret is stored. Expired ones are removed.
    virtual void create_web_session(const std::string& id_hash, const WebSession& session, std::int64_t now_ms) = 0;
    // The session, unless unknown or expired.
    virtual std::optional<WebSession> web_session(const std::string& id_hash, std::int64_t now_ms) = 0;
    virtual void remove_web_session(const std::string& id_hash) = 0;
    // The site each device's newest response names (by device id), and the site each kiosk
    // last reported on GET /v1/bundle (by device name).
    virtual std::vector<std::pair<std::string, std::string>> sites_by_device_id() = 0;
    virtual std::vector<std::pair<std::string, std::string>> sites_by_device_name() = 0;
    // Complete, unflagged responses by site, survey and hour (the counts page).
    virtual std::vector<HourCount> hour_counts() = 0;

    // Any read-only query as text, for tests and for checking a copy. Not for serving.
    virtual TextRows query_text(const std::string& sql) = 0;

protected:
    explicit Storage(DatabaseConfig database) : database_(std::move(database)) {}
    DatabaseConfig database_;
};

// `kohtaamo-collector migrate --to URL`: copies every batch, response and answer of
// `from` into `to` (ON CONFLICT DO NOTHING, so a second run after a failure is safe),
// then checks that `to` holds exactly what `from` holds: the same number of each and the
// same content (a BLAKE2b digest over every row in key order on both sides). `say` gets
// progress lines. Returns "" when they are equal, else what differs.
struct CopyCounts {
    std::int64_t batches = 0, responses = 0, answers = 0;
};
std::string copy_database(Storage& from, Storage& to, const std::function<void(const std::string&)>& say,
                          CopyCounts& counts);

}  // namespace kohtaamo::sync
