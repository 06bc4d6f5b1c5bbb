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
    };
    return steps;
}

}  // namespace kohtaamo
