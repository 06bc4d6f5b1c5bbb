// schema.cpp — the collector's tables on SQLite and on PostgreSQL, side by side (as
// PowerDNS ships schema.sqlite3.sql beside schema.pgsql.sql). Step N of one list is step
// N of the other; storage.cpp applies the missing ones in one transaction at start
// (SQLite: PRAGMA user_version; PostgreSQL: the kohtaamo_schema table, under an advisory
// lock so that collectors starting together migrate once).
//
// Column names follow the kiosk's `responses` and `answers` (kiosk/core/schema.cpp), so
// the kiosk's export code reads either. Differences, and why:
//  - PostgreSQL text is COLLATE "C": ORDER BY compares bytes, as SQLite does, so an
//    export is the same file from either database.
//  - PostgreSQL keeps a response's answers in its own row, as three arrays, and `answers`
//    is a view of them with the table's columns (step 10), which takes a collector of
//    the previous release's inserts (step 11); SQLite keeps them as rows.
//  - Timestamps stay ISO 8601 text in UTC on both, exactly as the kiosk sent them.
#include "schema.hpp"

namespace kohtaamo::sync {

namespace {

const std::vector<const char*> kSqlite = {
    // 1: responses, answers, batches (the collector's first schema).
    R"sql(
CREATE TABLE responses (
    id             TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    language       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('complete', 'abandoned')),
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    site           TEXT NOT NULL DEFAULT '',
    event          TEXT NOT NULL DEFAULT '',
    flagged        INTEGER NOT NULL DEFAULT 0,
    device_id      TEXT NOT NULL,
    device_name    TEXT NOT NULL,
    batch_id       TEXT NOT NULL,
    received_at    TEXT NOT NULL
);
CREATE TABLE answers (
    response_id TEXT NOT NULL REFERENCES responses(id),
    question_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id, value)
);
CREATE TABLE batches (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    device_name TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    responses   INTEGER NOT NULL,
    stored      INTEGER NOT NULL
);
CREATE INDEX responses_by_device ON responses(device_id);
CREATE INDEX responses_by_started ON responses(started_at);
)sql",
    // 2: what several instances share: the token lists, a counter of their changes, and
    // the export slots.
    R"sql(
CREATE TABLE tokens (
    kind       TEXT NOT NULL CHECK (kind IN ('device', 'export')),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters(name, value) VALUES ('tokens', 0);
CREATE TABLE export_slots (
    slot       INTEGER PRIMARY KEY,
    holder     TEXT NOT NULL DEFAULT '',
    expires_ms INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 3 (branch bundles, issue #10): signed survey bundles. Every bundle ever published
    // (its whole file, base64), the survey definitions each carried (id + version → the
    // hash of its file: two definitions under one id and version are refused at publish),
    // and what each kiosk last said it runs, and its last bundle error.
    R"sql(
CREATE TABLE bundles (
    version    INTEGER PRIMARY KEY,
    site       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE bundle_surveys (
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    definition     TEXT NOT NULL,
    bundle_version INTEGER NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);
CREATE TABLE device_bundles (
    device_name    TEXT PRIMARY KEY,
    site           TEXT NOT NULL DEFAULT '',
    running        INTEGER NOT NULL,
    error          TEXT NOT NULL DEFAULT '',
    reported_at    TEXT NOT NULL
);
)sql",
    // 4 (issue #14): the latest health of each kiosk (PROTOCOL.md, "Health"): one row per device,
    // upserted by whichever instance hears from it; heard_ms orders reports (the newest wins).
    R"sql(
CREATE TABLE device_health (
    device_id            TEXT PRIMARY KEY,
    device_name          TEXT NOT NULL,
    heard_ms             INTEGER NOT NULL,
    heard_at             TEXT NOT NULL,
    has_health           INTEGER NOT NULL DEFAULT 0,
    app_version          TEXT NOT NULL DEFAULT '',
    bundle_version       INTEGER NOT NULL DEFAULT 0,
    config_version       TEXT NOT NULL DEFAULT '',
    pending              INTEGER NOT NULL DEFAULT 0,
    oldest_pending_age_s INTEGER NOT NULL DEFAULT 0,
    free_disk_bytes      INTEGER NOT NULL DEFAULT 0,
    uptime_s             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT NOT NULL DEFAULT ''
);
)sql",
    // 5 (issue #14, the web page): coordinator accounts (Argon2id hashes from
    // `kohtaamo-collector account add`, the sites each may see, "" = all; the wrong
    // passwords in a row and how often the account was locked, for the growing lockout)
    // and their sessions (only a hash of the cookie is kept), shared by every instance.
    R"sql(
CREATE TABLE web_accounts (
    name            TEXT PRIMARY KEY,
    password_hash   TEXT NOT NULL,
    sites           TEXT NOT NULL DEFAULT '',
    failures        INTEGER NOT NULL DEFAULT 0,
    locks           INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_account ON web_sessions(account);
)sql",
    // 6 (issue #10, "versions of surveys live on"): every survey definition the collector
    // has published or received, by the SHA-256 of its text, and the one each response was
    // answered with (NULL: not sent, a kiosk from before it). Filled from the bundles
    // published so far.
    R"sql(
ALTER TABLE responses ADD COLUMN survey_hash TEXT;
CREATE TABLE survey_definitions (
    hash           TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    definition     TEXT NOT NULL,
    source         TEXT NOT NULL,
    received_at    TEXT NOT NULL
);
CREATE INDEX survey_definitions_by_id ON survey_definitions(survey_id, survey_version);
INSERT INTO survey_definitions(hash, survey_id, survey_version, definition, source, received_at)
    SELECT s.sha256, s.survey_id, s.survey_version, s.definition, 'bundle ' || s.bundle_version, b.created_at
      FROM bundle_surveys s JOIN bundles b ON b.version = s.bundle_version WHERE true
    ON CONFLICT (hash) DO NOTHING;
)sql",
    // 7 (issue #11, speed): the responses of one batch. A batch's answers are inserted
    // joined on the responses this batch stored (storage.cpp, plan_batch); PostgreSQL,
    // its statistics taken on a small table, planned that join as a scan of every
    // response per statement — a cost that grew with the table (docs/performance.md).
    R"sql(
CREATE INDEX responses_by_batch ON responses(batch_id);
)sql",
    // 8 (issue #11, speed): answers kept by their primary key alone (WITHOUT ROWID: one
    // B-tree entry per answer, where a row and an index entry copying every value were
    // two), and without the foreign key to responses (its check looked each answer's
    // response up again, although the one statement that inserts answers joins each to a
    // response this batch stored, and the collector deletes no response; PostgreSQL's
    // went in step 7). SQLite changes neither in place: the table is rebuilt, once, when a
    // collector of this version first opens the database. And step 7's index goes: SQLite
    // joins a batch's answers on the responses' primary key (EXPLAIN QUERY PLAN), and
    // nothing else reads responses by batch, so it was one B-tree more to write per response.
    R"sql(
DROP INDEX responses_by_batch;
CREATE TABLE answers_v8 (
    response_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id, value)
) WITHOUT ROWID;
INSERT INTO answers_v8(response_id, question_id, value, answered_at)
    SELECT response_id, question_id, value, answered_at FROM answers;
DROP TABLE answers;
ALTER TABLE answers_v8 RENAME TO answers;
)sql",
    // 9: nothing (PostgreSQL's answers change their unique key; SQLite's is the table's
    // own primary key, which holds every value whole).
    R"sql(
SELECT 1;
)sql",
    // 10: nothing (PostgreSQL's answers move into their response's row; SQLite's answers
    // stay rows of their own, as the kiosk's are).
    R"sql(
SELECT 1;
)sql",
    // 11: nothing (PostgreSQL's answers view takes the inserts of a collector of the
    // previous release; one SQLite collector has no such neighbour).
    R"sql(
SELECT 1;
)sql",
};

const std::vector<const char*> kPostgresql = {
    // 1
    R"sql(
CREATE TABLE responses (
    id             TEXT COLLATE "C" PRIMARY KEY,
    survey_id      TEXT COLLATE "C" NOT NULL,
    survey_version BIGINT NOT NULL,
    language       TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('complete', 'abandoned')),
    started_at     TEXT COLLATE "C" NOT NULL,
    finished_at    TEXT COLLATE "C",
    site           TEXT COLLATE "C" NOT NULL DEFAULT '',
    event          TEXT COLLATE "C" NOT NULL DEFAULT '',
    flagged        INTEGER NOT NULL DEFAULT 0,
    device_id      TEXT COLLATE "C" NOT NULL,
    device_name    TEXT COLLATE "C" NOT NULL,
    batch_id       TEXT COLLATE "C" NOT NULL,
    received_at    TEXT COLLATE "C" NOT NULL
);
CREATE TABLE answers (
    response_id TEXT COLLATE "C" NOT NULL REFERENCES responses(id),
    question_id TEXT COLLATE "C" NOT NULL,
    value       TEXT COLLATE "C" NOT NULL,
    answered_at TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX answers_key ON answers(response_id, question_id, md5(value));
CREATE TABLE batches (
    id          TEXT COLLATE "C" PRIMARY KEY,
    device_id   TEXT COLLATE "C" NOT NULL,
    device_name TEXT COLLATE "C" NOT NULL,
    body_hash   TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    responses   BIGINT NOT NULL,
    stored      BIGINT NOT NULL
);
CREATE INDEX responses_by_device ON responses(device_id);
CREATE INDEX responses_by_started ON responses(started_at);
)sql",
    // 2
    R"sql(
CREATE TABLE tokens (
    kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('device', 'export')),
    name       TEXT COLLATE "C" NOT NULL,
    token_hash TEXT COLLATE "C" NOT NULL,
    enabled    INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters(name, value) VALUES ('tokens', 0);
CREATE TABLE export_slots (
    slot       INTEGER PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_ms BIGINT NOT NULL DEFAULT 0
);
)sql",
    // 3 (branch bundles, issue #10)
    R"sql(
CREATE TABLE bundles (
    version    BIGINT PRIMARY KEY,
    site       TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TEXT COLLATE "C" NOT NULL,
    bytes      BIGINT NOT NULL,
    sha256     TEXT COLLATE "C" NOT NULL,
    body       TEXT COLLATE "C" NOT NULL
);
CREATE TABLE bundle_surveys (
    survey_id      TEXT COLLATE "C" NOT NULL,
    survey_version BIGINT NOT NULL,
    sha256         TEXT COLLATE "C" NOT NULL,
    definition     TEXT COLLATE "C" NOT NULL,
    bundle_version BIGINT NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);
CREATE TABLE device_bundles (
    device_name    TEXT COLLATE "C" PRIMARY KEY,
    site           TEXT COLLATE "C" NOT NULL DEFAULT '',
    running        BIGINT NOT NULL,
    error          TEXT COLLATE "C" NOT NULL DEFAULT '',
    reported_at    TEXT COLLATE "C" NOT NULL
);
)sql",
    // 4 (issue #14)
    R"sql(
CREATE TABLE device_health (
    device_id            TEXT COLLATE "C" PRIMARY KEY,
    device_name          TEXT COLLATE "C" NOT NULL,
    heard_ms             BIGINT NOT NULL,
    heard_at             TEXT COLLATE "C" NOT NULL,
    has_health           INTEGER NOT NULL DEFAULT 0,
    app_version          TEXT COLLATE "C" NOT NULL DEFAULT '',
    bundle_version       BIGINT NOT NULL DEFAULT 0,
    config_version       TEXT COLLATE "C" NOT NULL DEFAULT '',
    pending              BIGINT NOT NULL DEFAULT 0,
    oldest_pending_age_s BIGINT NOT NULL DEFAULT 0,
    free_disk_bytes      BIGINT NOT NULL DEFAULT 0,
    uptime_s             BIGINT NOT NULL DEFAULT 0,
    last_error           TEXT COLLATE "C" NOT NULL DEFAULT ''
);
)sql",
    // 5 (issue #14, the web page)
    R"sql(
CREATE TABLE web_accounts (
    name            TEXT COLLATE "C" PRIMARY KEY,
    password_hash   TEXT COLLATE "C" NOT NULL,
    sites           TEXT COLLATE "C" NOT NULL DEFAULT '',
    failures        BIGINT NOT NULL DEFAULT 0,
    locks           BIGINT NOT NULL DEFAULT 0,
    locked_until_ms BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE web_sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY,
    account    TEXT COLLATE "C" NOT NULL,
    csrf       TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_account ON web_sessions(account);
)sql",
    // 6 (issue #10)
    R"sql(
ALTER TABLE responses ADD COLUMN survey_hash TEXT COLLATE "C";
CREATE TABLE survey_definitions (
    hash           TEXT COLLATE "C" PRIMARY KEY,
    survey_id      TEXT COLLATE "C" NOT NULL,
    survey_version BIGINT NOT NULL,
    definition     TEXT COLLATE "C" NOT NULL,
    source         TEXT COLLATE "C" NOT NULL,
    received_at    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX survey_definitions_by_id ON survey_definitions(survey_id, survey_version);
INSERT INTO survey_definitions(hash, survey_id, survey_version, definition, source, received_at)
    SELECT s.sha256, s.survey_id, s.survey_version, s.definition, 'bundle ' || s.bundle_version, b.created_at
      FROM bundle_surveys s JOIN bundles b ON b.version = s.bundle_version WHERE true
    ON CONFLICT (hash) DO NOTHING;
)sql",
    // (And no foreign key from answers to responses: its trigger looked each answer's
    // response up again, with a row lock, although the one statement that inserts answers
    // joins each to a response this batch stored, and the collector deletes no response.
    // SQLite's went with the rebuild of its step 8.)
    R"sql(
CREATE INDEX responses_by_batch ON responses(batch_id);
ALTER TABLE answers DROP CONSTRAINT IF EXISTS answers_response_id_fkey;
)sql",
    // 8: nothing (PostgreSQL keeps a table's rows in a heap whatever its keys, so there is
    // no WITHOUT ROWID to change to; its foreign key went in step 7).
    R"sql(
SELECT 1;
)sql",
    // 9: answers are unique by their value itself when it is short, by its first 64
    // characters and its md5 when it is longer; the key was md5(value) for every answer,
    // computed through OpenSSL's digest set-up at every insert: a third of what storing an
    // answer cost the server (4,225 answers 15.5 -> 11.7 ms; docs/performance.md). Nearly every
    // value is short (a smiley's digit, a choice's id, a word). An entry fits any B-tree
    // (a short value's 64 bytes, or 64 characters and 32 digits; ids and question ids are
    // at most 200 bytes, protocol.hpp's max_text_bytes), and a long value's key, of 96 bytes
    // or more, is never a short one's. The index still leads with response_id, for the
    // export's join. INSERT … ON CONFLICT DO NOTHING (no target) answers to it as before.
    // And step 7's index goes: the answers no longer join the responses by batch (they are
    // the answers of the ids the responses' INSERT returned: storage.cpp, plan_answers), and
    // nothing else reads responses by batch.
    R"sql(
DROP INDEX responses_by_batch;
DROP INDEX answers_key;
CREATE UNIQUE INDEX answers_key ON answers(response_id, question_id,
    (CASE WHEN octet_length(value) <= 64 THEN value ELSE left(value, 64) || md5(value) END));
)sql",
    // 10 (issue #11, speed): a response's answers are three arrays in its own row, in the
    // order the kiosk sent them: question ids, values, times, the i-th element of each one
    // answer. An answer was a heap tuple and a B-tree entry of its own, so a response of
    // four answers was five tuples, seven index entries and ~1.7 KB of WAL; storing an
    // answer was half of what the server spent on a batch (1,000 responses: 23.4-27.8 ->
    // 12.0-12.7 ms in psql, docs/performance.md). Nothing is lost by it: an answer is
    // stored only with its response, in one statement (storage.cpp, plan_batch), never
    // changed, and a response's answers are unique already (protocol.cpp refuses a value
    // twice for one question). `answers` becomes a view with the table's columns, so every
    // query that read the table (a DBA's, the tests', migrate's check) reads the same rows;
    // the export reads through it too (a long CSV of 200,000 responses took 1.54-1.61 s
    // before and after).
    // An answer without its response (there is no foreign key since step 7, and the
    // collector inserts none) would stop the step rather than be dropped with the table.
    R"sql(
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM answers a WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.id = a.response_id)) THEN
        RAISE EXCEPTION 'schema step 10: the answers table holds answers of a response that is not in responses; '
                        'nothing was changed (SELECT * FROM answers a WHERE NOT EXISTS (SELECT 1 FROM responses r '
                        'WHERE r.id = a.response_id) lists them)';
    END IF;
END
$$;
ALTER TABLE responses
    ADD COLUMN answer_question_ids TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
    ADD COLUMN answer_values       TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
    ADD COLUMN answer_times        TEXT[] COLLATE "C" NOT NULL DEFAULT '{}';
UPDATE responses r SET answer_question_ids = a.q, answer_values = a.v, answer_times = a.t
    FROM (SELECT response_id, array_agg(question_id ORDER BY question_id, value) AS q,
                 array_agg(value ORDER BY question_id, value) AS v,
                 array_agg(answered_at ORDER BY question_id, value) AS t
            FROM answers GROUP BY response_id) a
    WHERE r.id = a.response_id;
ALTER TABLE responses ADD CONSTRAINT responses_answers_aligned
    CHECK (cardinality(answer_values) = cardinality(answer_question_ids)
           AND cardinality(answer_times) = cardinality(answer_question_ids));
DROP TABLE answers;
CREATE VIEW answers AS
    SELECT r.id AS response_id, a.question_id, a.value, a.answered_at
      FROM responses r
     CROSS JOIN LATERAL unnest(r.answer_question_ids, r.answer_values, r.answer_times) AS a(question_id, value, answered_at);
)sql",
    // 11 (issue #11, a rolling update): the answers view takes an INSERT, as the table did.
    // Several collectors on one database are updated one machine at a time; the first to
    // start applies step 10 (and this one), and the others, still of the previous release,
    // insert each stored response's answers into `answers` (after the response, in the
    // same transaction). A view refused that ("cannot insert into view"), so every batch
    // that reached one of them was a 500, which a kiosk counts against the batch and may
    // set its responses aside for (PROTOCOL.md, "poison"). The trigger appends the answer
    // to its response's arrays, unless the response has it already (which answers_key's
    // ON CONFLICT DO NOTHING skipped), and refuses an answer without its response, rather
    // than lose it. This release never inserts into the view.
    R"sql(
CREATE FUNCTION kohtaamo_answers_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE responses
       SET answer_question_ids = answer_question_ids || NEW.question_id,
           answer_values = answer_values || NEW.value,
           answer_times = answer_times || NEW.answered_at
     WHERE id = NEW.response_id
       AND NOT EXISTS (SELECT 1 FROM unnest(answer_question_ids, answer_values) AS a(question_id, value)
                        WHERE a.question_id = NEW.question_id AND a.value = NEW.value);
    IF FOUND THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM responses WHERE id = NEW.response_id) THEN
        RETURN NULL;  -- the response has this answer already: nothing, as ON CONFLICT DO NOTHING did
    END IF;
    RAISE EXCEPTION 'an answer of response % which is not in responses', NEW.response_id
        USING ERRCODE = 'foreign_key_violation';
END
$$;
CREATE TRIGGER answers_insert INSTEAD OF INSERT ON answers
    FOR EACH ROW EXECUTE FUNCTION kohtaamo_answers_insert();
)sql",
};

}  // namespace

const std::vector<const char*>& schema_steps(sql::Dialect dialect) {
    return dialect == sql::Dialect::Sqlite ? kSqlite : kPostgresql;
}

}  // namespace kohtaamo::sync
