// store.hpp — the kiosk's local SQLite store: every answer is committed the moment it
// is given.
//
// Design notes (see docs/store.md for the schema and the durability argument):
//  1. One file, WAL journal, synchronous=FULL: when save_answer() returns, the answer is
//     on disk and survives a power cut.
//  2. A response row is created by the first answer it gets (an untouched session leaves
//     nothing behind), in the same transaction as that answer.
//  3. The schema is versioned with PRAGMA user_version; open() migrates older files in
//     one transaction per step (schema.cpp lists the steps).
//
// Response state machine (column responses.status):
//
//        save_answer() [first answer]
//   (none) ──────────────────────────► in_progress ──finish(Complete)──► complete
//                                          │
//                                          ├──finish(Abandoned)────────► abandoned
//                                          │   (idle timeout, back out of the survey)
//                                          └──recover_interrupted()────► abandoned
//                                              (at open: the kiosk died mid-survey)
//
//   save_answer() on a complete/abandoned response throws: finished responses are
//   never changed by the kiosk. Only the sync columns change afterwards (sync/).
//
// When a write fails (StoreError: a full disk, a failing card), the kiosk never stops
// (kiosk/kiosk_scene.hpp, KioskScene::rest / try_resume; StoreWaitScene at start):
//
//                 save_answer()/finish() throws, on any path: a tap, the idle
//                 timeout, the timer after a last answer, a frame's reset()
//   writing ─────────────────────────────────────────────────────────────► resting
//      ▲        (visitors: the "this kiosk is resting" screen in every language;       │
//      │         staff: SQLite's reason, on it and on the coordinator screen)          │
//      │                                                                               │
//      └──── every KioskScene::kRetryMs: probe() (>= kProbeFreeBytes free and a small ◄┘
//            write commits), then the open response is finished as abandoned
//            (its committed answers kept) and the welcome screen shows
//
//   At start: Store() throws (recovery or the schema cannot be written) ──► the resting
//   screen, Store() tried again every kRetryMs; the kiosk starts once it opens.
//   What was committed before the failure is never touched: a failed transaction rolls
//   back only itself.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "seal.hpp"

struct sqlite3;

namespace kohtaamo {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ResponseStatus { InProgress, Complete, Abandoned };
const char* to_string(ResponseStatus);

// What a response is, fixed when the survey is chosen.
struct ResponseHeader {
    std::string id;  // random UUID
    std::string survey_id;
    int survey_version = 0;
    std::string language;
    std::string site;
    std::string event;
    std::int64_t started_ms = 0;  // wall clock
    // The survey definition it is answered with (Survey::hash, Survey::definition): kept
    // in survey_definitions with the first answer. Empty: none recorded.
    std::string survey_hash = {};
    const std::string* survey_definition = nullptr;
};

class Store {
public:
    // The schema version this build writes: the number of steps in schema.cpp.
    static int latest_schema_version();

    // Opens (creating it and its folder if needed) and migrates the file, then marks any
    // response left in_progress as abandoned at `now_ms`.
    Store(const std::filesystem::path& file, std::int64_t now_ms);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Sealed answers (docs/security.md): with a key ([privacy] seal_to), every answer value
    // saved from now on is stored only as a sealed box to it (answers.seal_key names the
    // key id; the clear value is never written); nullopt: clear values, as before.
    void set_seal_to(std::optional<SealPublicKey> key);
    bool sealing() const { return seal_.has_value(); }

    // Replaces the answer to one question (several values for a multiple choice, none to
    // clear it) and commits. Creates the response row on its first answer.
    void save_answer(const ResponseHeader& r, const std::string& question_id,
                     const std::vector<std::string>& values, std::int64_t at_ms);
    // Marks an in-progress response complete or abandoned and commits. Does nothing for a
    // response that has no row (no answer given), or one already finished.
    //
    // The mischief rule (docs/store.md), in the same transaction: with repeat_window_ms > 0
    // the response is flagged (responses.flagged = 1) when the previous response to the
    // same survey (the one started last before it) has exactly the same answers and
    // finished at most repeat_window_ms before this one started. Flagged responses are
    // kept like any other. Returns true when it flagged this one.
    // While sealing, the answers are compared by keyed hashes held in memory (AnswerHasher:
    // a random key made at open, never written), never by their clear text: a response
    // finished before this Store was opened (a restart) is then never "the same".
    bool finish(const std::string& response_id, ResponseStatus status, std::int64_t at_ms,
                std::int64_t repeat_window_ms = 0);

    // What the store found and did at open that staff must know (a damaged database or a
    // foreign -wal moved aside, with where it is kept): shown on the coordinator screen and
    // written to the log. Empty when all was well.
    const std::vector<std::string>& notices() const { return notices_; }
    // Number of responses the startup recovery marked abandoned.
    int recovered() const { return recovered_; }
    int schema_version() const;
    // This kiosk's random id, made when the file was created.
    std::string device_id() const;
    const std::filesystem::path& path() const { return path_; }
    sqlite3* handle() { return db_; }

    // Whether the store can write again after a failure (the kiosk's "resting" state): at
    // least kProbeFreeBytes free on the data folder's file system and a small write
    // committed. Throws StoreError with the reason when not.
    static constexpr std::uint64_t kProbeFreeBytes = 1 << 20;
    void probe();

    // Runs SQL with no result rows; throws StoreError.
    void exec(const char* sql);

private:
    void open(std::int64_t now_ms);
    void migrate();
    bool repeats_previous(const std::string& response_id, std::int64_t window_ms);
    void touch_identity();
    std::filesystem::path path_;
    std::optional<SealPublicKey> seal_;
    // While sealing: the keyed hashes of each open response's answers (per question), and of
    // the last finished response to each survey (its id and the hash of its answer set).
    struct OpenAnswers {
        std::string survey_id;
        std::map<std::string, std::vector<std::string>> by_question;
    };
    std::string answer_set(const OpenAnswers& a) const;
    std::unique_ptr<AnswerHasher> hasher_;
    std::map<std::string, OpenAnswers> open_answers_;
    std::map<std::string, std::pair<std::string, std::string>> last_finished_;
    sqlite3* db_ = nullptr;
    int recovered_ = 0;
    std::vector<std::string> notices_;
};

}  // namespace kohtaamo
