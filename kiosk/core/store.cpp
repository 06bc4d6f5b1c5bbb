#include "store.hpp"

#include "clock.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "uuid.hpp"

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace kohtaamo {

const char* to_string(ResponseStatus s) {
    switch (s) {
        case ResponseStatus::InProgress: return "in_progress";
        case ResponseStatus::Complete: return "complete";
        case ResponseStatus::Abandoned: return "abandoned";
    }
    return "?";
}

namespace {
namespace fs = std::filesystem;

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::string read_bytes(const fs::path& file, std::size_t n) {
    std::ifstream in(file, std::ios::binary);
    std::string out(n, '\0');
    in.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
}

// "2026-12-02T13-15-00Z": a time for a file name (no ':').
std::string dated(std::int64_t now_ms) {
    std::string t = iso8601_utc(now_ms);
    t = t.substr(0, 19) + "Z";
    for (char& c : t)
        if (c == ':') c = '-';
    return t;
}

// Moves `file` aside as `file`.`what`-`date` (never over an earlier one); returns the new name.
fs::path move_aside(const fs::path& file, const std::string& what, std::int64_t now_ms) {
    fs::path to = file.string() + "." + what + "-" + dated(now_ms);
    for (int n = 2; fs::exists(to); ++n) to = file.string() + "." + what + "-" + dated(now_ms) + "-" + std::to_string(n);
    fs::rename(file, to);
    return to;
}

// Creates `file` empty with mode 0600 when it does not exist, and makes it 0600 when it
// does (a kiosk from before schema 6 made it 0644): whatever the umask.
void private_file(const fs::path& file, bool create) {
    if (create && !fs::exists(file)) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) throw StoreError("store: cannot create " + file.string() + ": " + std::strerror(errno));
        ::close(fd);
    }
    if (fs::exists(file) && ::chmod(file.c_str(), 0600) != 0)
        throw StoreError("store: cannot make " + file.string() + " private (0600): " + std::strerror(errno));
}

std::string single_text(sqlite3* db, const char* sql) {
    Statement s(db, sql);
    return s.step() ? s.text(0) : std::string();
}

struct Db {
    sqlite3* db = nullptr;
    explicit Db(const fs::path& file) {
        if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
            sqlite3_close(db);
            throw SqliteError(msg, SQLITE_CANTOPEN);
        }
    }
    ~Db() { sqlite3_close(db); }
};

// Whether the -wal beside `file` belongs to it (docs/store.md, "A -wal that is not the
// database's"): nothing when it does, else why not. The WAL file format has no field that
// names its database, so the store keeps its own identity in it: every write of the kiosk
// rewrites the `device` row that holds the database's random device_id, so any WAL the
// kiosk's writes left behind carries that page. The WAL is the database's when
//  - its header is a valid WAL header (magic, version 3007000, header checksum) with the
//    database's page size,
//  - it holds a committed-looking frame (the header's salts) of the `device` table's page,
//  - and a copy of the database with the WAL applied passes quick_check and still has the
//    database's own device_id.
// Checked on a copy in the same folder (0600, removed after): the real files are not
// touched until the answer is known.
// Is the database open in some connection right now, in this process or another? Every
// SQLite connection in WAL mode holds a shared POSIX lock on its -shm file (the "DMS" byte)
// for as long as it is open, and the kernel lists every POSIX lock in /proc/locks, with the
// file's device and inode. Read, not probed with fcntl: closing a descriptor of our own on
// the -shm would drop this process's SQLite locks on it. A live WAL (the uploader's, or
// kohtaamo-sync's from cron) is then not a crash's leftover and is never checked or moved.
bool shm_in_use(const fs::path& shm) {
    struct stat st {};
    if (::stat(shm.c_str(), &st) != 0) return false;
    std::ifstream locks("/proc/locks");
    if (!locks) return true;  // cannot tell: treat it as in use (the WAL is then applied as SQLite does)
    char want[64];
    std::snprintf(want, sizeof want, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    std::string line;
    while (std::getline(locks, line)) {
        std::size_t at = line.find(want);
        if (at != std::string::npos && at > 0 && line[at - 1] == ' ' &&
            (at + std::strlen(want) == line.size() || line[at + std::strlen(want)] == ' '))
            return true;
    }
    return false;
}

std::optional<std::string> foreign_wal(const fs::path& file, const fs::path& wal) {
    const std::string db_head = read_bytes(file, 100);
    if (db_head.size() < 100 || db_head.compare(0, 16, std::string("SQLite format 3\0", 16)) != 0)
        return "the database beside it is empty or not an SQLite file";
    const auto* d = reinterpret_cast<const unsigned char*>(db_head.data());
    std::uint32_t page_size = (std::uint32_t{d[16]} << 8) | d[17];
    if (page_size == 1) page_size = 65536;
    const std::string head = read_bytes(wal, 32);
    if (head.size() < 32) return "it is shorter than a WAL header";
    const auto* h = reinterpret_cast<const unsigned char*>(head.data());
    const std::uint32_t magic = be32(h);
    if (magic != 0x377f0682 && magic != 0x377f0683) return "it is not an SQLite WAL (bad magic number)";
    if (be32(h + 4) != 3007000) return "it has an unknown WAL format version";
    if (be32(h + 8) != page_size)
        return "its page size (" + std::to_string(be32(h + 8)) + ") is not the database's (" + std::to_string(page_size) + ")";
    // The header checksum (the WAL format's Fibonacci-weighted sum over the first 24 bytes,
    // in big-endian words when the magic's low bit is 1, else little-endian).
    std::uint32_t s0 = 0, s1 = 0;
    for (int i = 0; i < 24; i += 8) {
        auto word = [&](int at) {
            const unsigned char* p = h + at;
            return (magic & 1) ? be32(p)
                               : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
        };
        s0 += word(i) + s1;
        s1 += word(i + 4) + s0;
    }
    if (s0 != be32(h + 24) || s1 != be32(h + 28)) return "its header checksum is wrong";

    const fs::path copy = file.string() + ".walcheck";
    struct Cleanup {
        fs::path f;
        ~Cleanup() {
            std::error_code ec;
            for (const char* x : {"", "-wal", "-shm", "-journal"}) fs::remove(f.string() + x, ec);
        }
    } cleanup{copy};
    std::string own_id, device_page;
    {
        private_file(copy, true);
        fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
        Db c(copy);
        own_id = single_text(c.db, "SELECT value FROM device WHERE key = 'device_id'");
        device_page = single_text(c.db, "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'device'");
    }
    if (own_id.empty() || device_page.empty()) return "the database has no device identity to check it against";
    // A frame of the device page with the header's salts.
    bool carries_identity = false;
    {
        std::ifstream in(wal, std::ios::binary);
        in.seekg(32);
        std::string frame(24, '\0');
        const auto want = static_cast<std::uint32_t>(std::stoul(device_page));
        while (in.read(frame.data(), 24)) {
            const auto* f = reinterpret_cast<const unsigned char*>(frame.data());
            if (be32(f) == want && be32(f + 8) == be32(h + 16) && be32(f + 12) == be32(h + 20)) carries_identity = true;
            in.seekg(page_size, std::ios::cur);
        }
    }
    if (!carries_identity) return "it carries no write of this database's identity (the device page)";
    private_file(fs::path(copy.string() + "-wal"), true);
    fs::copy_file(wal, copy.string() + "-wal", fs::copy_options::overwrite_existing);
    try {
        Db c(copy);
        const std::string check = single_text(c.db, "PRAGMA quick_check");
        if (check != "ok") return "the database with it applied fails quick_check: " + check;
        const std::string id = single_text(c.db, "SELECT value FROM device WHERE key = 'device_id'");
        if (id != own_id) return "it belongs to another database (device " + id + ", this database is " + own_id + ")";
    } catch (const SqliteError& e) {
        return std::string("the database with it applied cannot be read: ") + e.what();
    }
    return std::nullopt;
}
}  // namespace

Store::Store(const std::filesystem::path& file, std::int64_t now_ms) : path_(file) {
    try {
        open(now_ms);
    } catch (const fs::filesystem_error& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store: " + file.string() + ": " + e.what());
    } catch (const SqliteError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store: " + file.string() + ": " + e.what());
    }
}

void Store::open(std::int64_t now_ms) {
    const fs::path& file = path_;
    std::error_code ec;
    // The data folder is the kiosk's alone (0700), the database and its WAL and SHM 0600
    // (SQLite gives the -wal and -shm the database file's mode), whatever the umask.
    if (file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path(), ec);
        // Never a shared folder (--data /tmp): one with the sticky bit or of another user is
        // left as it is, and said so; the database files are still 0600.
        struct stat st {};
        if (::stat(file.parent_path().c_str(), &st) == 0 && ((st.st_mode & S_ISVTX) || st.st_uid != ::geteuid())) {
            notices_.push_back("The data folder " + file.parent_path().string() +
                               " is shared (sticky, or another user's): it is left as it is. Give the kiosk a folder "
                               "of its own ([kiosk] data_dir or --data).");
        } else if ((st.st_mode & 0777) != 0700 && ::chmod(file.parent_path().c_str(), 0700) != 0) {
            throw StoreError("store: cannot make the data folder " + file.parent_path().string() +
                             " private (0700): " + std::strerror(errno));
        }
    }
    const fs::path wal = file.string() + "-wal", shm = file.string() + "-shm";
    // A -wal left by a crash is applied by SQLite at open: first make sure it is this
    // database's. One that is not is moved aside (never applied, never deleted).
    // (Only when no connection has the database open: see shm_in_use.)
    if (fs::exists(wal) && fs::file_size(wal, ec) > 0 && fs::exists(file) && !shm_in_use(shm)) {
        if (auto why = foreign_wal(file, wal)) {
            const fs::path to = move_aside(wal, "foreign", now_ms);
            fs::remove(shm, ec);  // the WAL's index, rebuilt from the WAL at open
            notices_.push_back("The file " + wal.string() + " was not applied: " + *why + ". It is kept as " + to.string() +
                               "; the database opened without it.");
        }
    }
    for (int attempt = 0;; ++attempt) {
        private_file(file, true);
        private_file(wal, false);
        private_file(shm, false);
        if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                            nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            throw StoreError("store: cannot open " + file.string() + ": " + msg);
        }
        // A damaged file is moved aside under a dated name and reported, then the kiosk
        // starts a new one: it is never repaired or replaced silently.
        std::string damage;
        try {
            sqlite3_busy_timeout(db_, 5000);
            const std::string check = single_text(db_, "PRAGMA quick_check");
            if (check != "ok") damage = "quick_check: " + check;
        } catch (const SqliteError& e) {
            if (e.code() != SQLITE_CORRUPT && e.code() != SQLITE_NOTADB) {
                sqlite3_close(db_);
                db_ = nullptr;
                throw StoreError("store: " + file.string() + ": " + e.what());
            }
            damage = e.what();
        }
        if (damage.empty()) break;
        sqlite3_close(db_);
        db_ = nullptr;
        if (attempt > 0) throw StoreError("store: " + file.string() + ": a new database fails its check: " + damage);
        const fs::path to = move_aside(file, "corrupt", now_ms);
        for (const auto& side : {wal, shm})
            if (fs::exists(side)) fs::rename(side, to.string() + side.string().substr(file.string().size()));
        notices_.push_back("The database " + file.string() + " is damaged (" + damage + "). It is kept as " + to.string() +
                           " for recovery; the kiosk started a new, empty database.");
    }
    for (const auto& n : notices_) std::fprintf(stderr, "kohtaamo: store: %s\n", n.c_str());
    try {
        // The journal mode is a property of the file; synchronous and foreign keys are
        // per connection. FULL in WAL mode syncs the WAL at every commit, so a committed
        // answer survives a power cut (NORMAL could lose the last commits).
        exec("PRAGMA journal_mode = WAL");
        exec("PRAGMA synchronous = FULL");
        exec("PRAGMA foreign_keys = ON");
        migrate();
        Statement(db_, "INSERT OR IGNORE INTO device(key, value) VALUES ('device_id', ?)").bind(1, new_uuid()).run();
        Statement recover(db_, "UPDATE responses SET status = 'abandoned', finished_at = ? WHERE status = 'in_progress'");
        recover.bind(1, iso8601_utc(now_ms)).run();
        recovered_ = sqlite3_changes(db_);
        // The identity and the schema into the database file itself, so that the check of
        // a -wal at the next start has the device_id to compare with.
        exec("PRAGMA wal_checkpoint(TRUNCATE)");
        private_file(wal, false);
        private_file(shm, false);
    } catch (const SqliteError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store: " + file.string() + ": " + e.what());
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Store::~Store() { sqlite3_close(db_); }

void Store::probe() {
    struct statvfs fs {};
    const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
    if (::statvfs(dir.c_str(), &fs) != 0)
        throw StoreError("store: " + dir.string() + " cannot be read: " + std::strerror(errno));
    const std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
    if (free_bytes < kProbeFreeBytes)
        throw StoreError("store: " + dir.string() + " has " + std::to_string(free_bytes / 1024) + " KiB free (waiting for " +
                         std::to_string(kProbeFreeBytes / 1024) + ")");
    try {
        Transaction tx(db_);
        touch_identity();
        tx.commit();
    } catch (const SqliteError& e) {
        throw StoreError("store: " + path_.string() + ": cannot write yet: " + e.what());
    }
}

// Counts the write in the device table (row 'writes', beside 'device_id' on the table's one
// page) in the write's own transaction, so the WAL frames of every kiosk write carry the
// database's identity page (foreign_wal() above). The value must change: SQLite does not
// rewrite a page whose row is written back unchanged.
void Store::touch_identity() {
    Statement(db_,
              "INSERT INTO device(key, value) VALUES ('writes', '1')"
              " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        .run();
}

void Store::exec(const char* sql) { sqlite_exec(db_, sql, "store: " + path_.string()); }

int Store::latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

int Store::schema_version() const {
    Statement s(db_, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

std::string Store::device_id() const {
    Statement s(db_, "SELECT value FROM device WHERE key = 'device_id'");
    return s.step() ? s.text(0) : std::string();
}

void Store::migrate() {
    const auto& steps = schema_migrations();
    int version = schema_version();
    if (version > static_cast<int>(steps.size()))
        throw StoreError("store: " + path_.string() + " has schema version " + std::to_string(version) +
                         ", newer than this kiosk knows (" + std::to_string(steps.size()) +
                         "); update the kiosk software");
    for (; version < static_cast<int>(steps.size()); ++version) {
        Transaction tx(db_);
        exec(steps[version]);
        exec(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
        tx.commit();
    }
}

void Store::set_seal_to(std::optional<SealPublicKey> key) {
    seal_ = std::move(key);
    if (seal_ && !hasher_) hasher_ = std::make_unique<AnswerHasher>();
}

void Store::save_answer(const ResponseHeader& r, const std::string& question_id,
                        const std::vector<std::string>& values, std::int64_t at_ms) {
    try {
        const std::string at = iso8601_utc(at_ms);
        Transaction tx(db_);
        Statement status(db_, "SELECT status FROM responses WHERE id = ?");
        status.bind(1, r.id);
        if (status.step()) {
            if (status.text(0) != "in_progress")
                throw StoreError("store: response " + r.id + " is " + status.text(0) + " and cannot change");
        } else {
            Statement ins(db_,
                          "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, site, event,"
                          " survey_hash) VALUES (?, ?, ?, ?, 'in_progress', ?, ?, ?, ?)");
            ins.bind(1, r.id).bind(2, r.survey_id).bind(3, r.survey_version).bind(4, r.language);
            ins.bind(5, iso8601_utc(r.started_ms)).bind(6, r.site).bind(7, r.event);
            if (r.survey_hash.empty()) ins.bind_null(8);
            else ins.bind(8, r.survey_hash);
            ins.run();
            // The definition it is answered with, once per definition (docs/store.md).
            if (!r.survey_hash.empty() && r.survey_definition) {
                Statement def(db_,
                              "INSERT OR IGNORE INTO survey_definitions(hash, survey_id, survey_version, definition,"
                              " first_used_at) VALUES (?, ?, ?, ?, ?)");
                def.bind(1, r.survey_hash).bind(2, r.survey_id).bind(3, r.survey_version).bind(4, *r.survey_definition);
                def.bind(5, at).run();
            }
        }
        touch_identity();
        Statement del(db_, "DELETE FROM answers WHERE response_id = ? AND question_id = ?");
        del.bind(1, r.id).bind(2, question_id).run();
        if (!seal_) {
            Statement ins(db_,
                          "INSERT OR IGNORE INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
            for (const auto& v : values) ins.bind(1, r.id).bind(2, question_id).bind(3, v).bind(4, at).run();
            tx.commit();
            return;
        }
        // Sealed: each distinct value as its own box (a box is random, so the table's key
        // no longer folds a value given twice: done here), and its keyed hash in memory.
        std::vector<std::string> distinct = values;
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        Statement ins(db_,
                      "INSERT INTO answers(response_id, question_id, value, answered_at, seal_key) VALUES (?, ?, ?, ?, ?)");
        std::vector<std::string> hashes;
        for (const auto& v : distinct) {
            ins.bind(1, r.id).bind(2, question_id).bind(3, seal_value(*seal_, v)).bind(4, at).bind(5, seal_->id).run();
            hashes.push_back(hasher_->answer(question_id, v));
        }
        tx.commit();
        OpenAnswers& open = open_answers_[r.id];
        open.survey_id = r.survey_id;
        if (hashes.empty()) open.by_question.erase(question_id);
        else open.by_question[question_id] = std::move(hashes);
    } catch (const SqliteError& e) {
        throw StoreError("store: " + path_.string() + ": cannot save the answer: " + e.what());
    } catch (const SealError& e) {
        throw StoreError("store: " + path_.string() + ": cannot seal the answer: " + e.what());
    }
}

bool Store::finish(const std::string& response_id, ResponseStatus status, std::int64_t at_ms,
                   std::int64_t repeat_window_ms) {
    if (status == ResponseStatus::InProgress) throw StoreError("store: finish() needs complete or abandoned");
    try {
        Transaction tx(db_);
        Statement s(db_, "UPDATE responses SET status = ?, finished_at = ? WHERE id = ? AND status = 'in_progress'");
        s.bind(1, to_string(status)).bind(2, iso8601_utc(at_ms)).bind(3, response_id).run();
        if (sqlite3_changes(db_) == 0) return false;  // no such row, or finished already
        touch_identity();
        const bool flag = repeat_window_ms > 0 && repeats_previous(response_id, repeat_window_ms);
        if (flag) Statement(db_, "UPDATE responses SET flagged = 1 WHERE id = ?").bind(1, response_id).run();
        tx.commit();
        if (hasher_) {
            // The finished response's answer set, for the next one's comparison.
            auto open = open_answers_.find(response_id);
            if (open != open_answers_.end()) {
                last_finished_[open->second.survey_id] = {response_id, answer_set(open->second)};
                open_answers_.erase(open);
            }
        }
        return flag;
    } catch (const SqliteError& e) {
        throw StoreError("store: " + path_.string() + ": cannot finish the response: " + e.what());
    }
}

// The keyed hash of a response's whole answer set (while sealing).
std::string Store::answer_set(const OpenAnswers& a) const {
    std::vector<std::string> all;
    for (const auto& [question, hashes] : a.by_question) all.insert(all.end(), hashes.begin(), hashes.end());
    return hasher_->set(std::move(all));
}

// The mischief rule's test (docs/store.md): the response started last before this one, to
// the same survey, finished at most `window_ms` before this one started, with exactly the
// same set of (question, value) answers.
bool Store::repeats_previous(const std::string& response_id, std::int64_t window_ms) {
    Statement prev(db_,
                   "SELECT p.id, CAST(round((julianday(r.started_at) - julianday(p.finished_at)) * 86400000.0) AS INTEGER)"
                   "  FROM responses r JOIN responses p"
                   "    ON p.survey_id = r.survey_id AND p.id != r.id AND p.started_at <= r.started_at"
                   " WHERE r.id = ? AND p.finished_at IS NOT NULL"
                   " ORDER BY p.started_at DESC, p.rowid DESC LIMIT 1");
    prev.bind(1, response_id);
    if (!prev.step()) return false;
    const std::string previous = prev.text(0);
    const std::int64_t gap_ms = prev.integer(1);
    if (gap_ms < 0 || gap_ms > window_ms) return false;
    if (hasher_) {
        // Sealing (now, or earlier in this run): the keyed hashes in memory, never clear text.
        auto open = open_answers_.find(response_id);
        const std::string mine = open == open_answers_.end() ? hasher_->set({}) : answer_set(open->second);
        for (const auto& [survey, last] : last_finished_)
            if (last.first == previous) return last.second == mine;
        // Not finished in this run (or a clear response from before sealing): the clear
        // comparison below applies only when neither response is sealed.
        Statement sealed(db_, "SELECT 1 FROM answers WHERE response_id IN (?, ?) AND seal_key IS NOT NULL LIMIT 1");
        sealed.bind(1, previous).bind(2, response_id);
        if (sealed.step()) return false;
    }
    Statement answers(db_, "SELECT question_id, value FROM answers WHERE response_id = ? ORDER BY question_id, value");
    auto answers_of = [&](const std::string& id) {
        std::vector<std::pair<std::string, std::string>> out;
        answers.bind(1, id);
        while (answers.step()) out.emplace_back(answers.text(0), answers.text(1));
        answers.reset();
        return out;
    };
    return answers_of(previous) == answers_of(response_id);
}

}  // namespace kohtaamo
