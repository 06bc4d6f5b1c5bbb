#include "schema.hpp"

namespace kohtaamo {

const std::vector<const char*>& schema_migrations() {
    static const std::vector<const char*> steps = {
        // 0 -> 1: the first schema.
        R"sql(
CREATE TABLE responses (
    id             TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    language       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('in_progress', 'complete', 'abandoned')),
    started_at     TEXT NOT NULL,
    finished_at    TEXT
);
CREATE TABLE answers (
    response_id TEXT NOT NULL REFERENCES responses(id),
    question_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id, value)
);
CREATE INDEX responses_by_status ON responses(status);
)sql",
        // 1 -> 2: where the answer was given, and what sync needs to know.
        R"sql(
ALTER TABLE responses ADD COLUMN site TEXT NOT NULL DEFAULT '';
ALTER TABLE responses ADD COLUMN event TEXT NOT NULL DEFAULT '';
-- 1 when the kiosk's mischief rule marked it (kept, never dropped; exports can leave it out)
ALTER TABLE responses ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
CREATE TABLE device (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- device_id (a random UUID) is written by Store::open when missing.
CREATE INDEX responses_by_started ON responses(started_at);
)sql",
        // 2 -> 3: sync (sync/uploader.cpp; the state machine is described there).
        R"sql(
-- When the collector acknowledged this response (its reply listed the id); NULL = not yet.
ALTER TABLE responses ADD COLUMN synced_at TEXT;
-- The batch this response is (or was last) sent in; NULL = not in a batch yet.
ALTER TABLE responses ADD COLUMN batch_id TEXT;
-- The collector's reason when it refused this response on its own (never retried by
-- itself; `kohtaamo-sync --retry-rejected` puts it back in the queue); NULL otherwise.
ALTER TABLE responses ADD COLUMN sync_rejected TEXT;
CREATE INDEX responses_by_batch ON responses(batch_id);
CREATE INDEX responses_unsynced ON responses(status) WHERE synced_at IS NULL;
-- One row per batch ever formed; state 'open' until acknowledged (or split/rejected).
CREATE TABLE sync_batches (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('open', 'acked', 'split', 'rejected', 'conflict')),
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    closed_at   TEXT
);
-- The uploader's last known state, for the coordinator screen (keys: state,
-- last_success_at, last_attempt_at, last_error, last_error_at, auth_failed).
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql",
        // 3 -> 4: the uploader finds its open batch without scanning every batch ever sent.
        R"sql(
CREATE INDEX sync_batches_open ON sync_batches(created_at) WHERE state = 'open';
)sql",
        // 4 -> 5: one response the collector keeps failing on is set aside instead of
        // holding the others back ("Poison" in sync/uploader.cpp).
        R"sql(
-- > 0: the response failed alone while nothing else was acknowledged; it waits behind every
-- other response (the lowest number first) until the collector acknowledges anything. 0 otherwise.
ALTER TABLE responses ADD COLUMN sync_deferred INTEGER NOT NULL DEFAULT 0;
-- How many batches the collector had acknowledged when a batch holding this response first
-- failed; NULL: never in a failed batch. Evidence that the collector works for others.
ALTER TABLE responses ADD COLUMN sync_failed_acks INTEGER;
-- sync_batches gains the 'deferred' state (SQLite cannot change a CHECK: the table is
-- rebuilt) and the count of its failures in a row (inherited by the halves of a split).
CREATE TABLE sync_batches_v5 (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('open', 'acked', 'split', 'rejected', 'conflict', 'deferred')),
    created_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    closed_at   TEXT,
    failures    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sync_batches_v5(id, state, created_at, attempts, closed_at)
    SELECT id, state, created_at, attempts, closed_at FROM sync_batches;
DROP TABLE sync_batches;
ALTER TABLE sync_batches_v5 RENAME TO sync_batches;
CREATE INDEX sync_batches_open ON sync_batches(created_at) WHERE state = 'open';
)sql",
        // 5 -> 6 (privacy, issue 12): the coordinator PIN's lock-out survives a restart.
        R"sql(
-- One row: wrong PINs in a row and until when (wall clock, ms since the epoch) the
-- coordinator screen refuses every PIN (kiosk/core/coordinator.hpp, PinLock).
CREATE TABLE pin_lock (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER NOT NULL DEFAULT 0
);
)sql",
        // 6 -> 7 (issue #10, "versions of surveys live on"): what each response was answered
        // with, and the texts themselves, so that exports of old answers use their own texts.
        R"sql(
-- SHA-256 (64 hex digits) of the survey file the response was answered with; NULL for a
-- response from before step 7.
ALTER TABLE responses ADD COLUMN survey_hash TEXT;
-- Every survey definition this kiosk has had a response answered with, by its hash.
CREATE TABLE survey_definitions (
    hash           TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    definition     TEXT NOT NULL,
    first_used_at  TEXT NOT NULL,
    -- When the collector acknowledged it (PUT /v1/surveys/<hash>); NULL: not yet.
    sent_at        TEXT,
    -- The collector's refusal of it (a 4xx, with its message); NULL: none.
    send_error     TEXT
);
)sql",
        // 7 -> 8 (privacy, issue 12): sealed answers.
        R"sql(
-- The key id (e.g. 'k1') when `value` is the Base64 of a sealed box (crypto_box_seal of the
-- padded value, kiosk/core/seal.hpp) that only the collector's secret key opens; NULL when
-- `value` is the clear text (a kiosk without [privacy] seal_to).
ALTER TABLE answers ADD COLUMN seal_key TEXT;
)sql",
    };
    return steps;
}

}  // namespace kohtaamo
