// export.cpp — the one pass over the database that feeds every output (see export.hpp).
#include "export.hpp"

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "local_time.hpp"
#include "output.hpp"
#include "report.hpp"
#include "seal.hpp"
#include "sqlite.hpp"
#include "xlsx.hpp"

namespace kohtaamo {

const char* to_string(ExportStatus s) {
    switch (s) {
        case ExportStatus::Ok: return "ok";
        case ExportStatus::NoDrive: return "no drive";
        case ExportStatus::DriveFull: return "drive full";
        case ExportStatus::Sealed: return "sealed";
        case ExportStatus::ReadOnly: return "read-only drive";
        case ExportStatus::DatabaseError: return "database error";
        case ExportStatus::Cancelled: return "cancelled";
        case ExportStatus::Failed: return "failed";
    }
    return "?";
}

namespace {

struct Fail {
    ExportStatus status;
    std::string message;
};

// The WHERE clause for a filter over `responses r`, with its parameters in order.
struct Where {
    std::string sql;
    std::vector<std::string> params;
};

Where where_of(const ExportFilter& f, bool with_status) {
    Where w;
    std::vector<std::string> parts;
    if (with_status) {
        parts.push_back(f.include_abandoned ? "r.status IN ('complete', 'abandoned')" : "r.status = 'complete'");
        if (!f.include_flagged) parts.push_back("r.flagged = 0");
    }
    if (f.from) {
        parts.push_back("r.started_at >= ?");
        w.params.push_back(iso8601_utc(*local_midnight(*f.from)));
    }
    if (f.to) {
        parts.push_back("r.started_at < ?");
        w.params.push_back(iso8601_utc(*local_midnight(*f.to, 1)));
    }
    auto in = [&](const char* column, const std::vector<std::string>& ids) {
        if (ids.empty()) return;
        std::string p = std::string(column) + " IN (";
        for (std::size_t i = 0; i < ids.size(); ++i) {
            p += i ? ", ?" : "?";
            w.params.push_back(ids[i]);
        }
        parts.push_back(p + ")");
    };
    in("r.survey_id", f.surveys);
    in("r.site", f.sites);
    for (std::size_t i = 0; i < parts.size(); ++i) w.sql += (i ? " AND " : " WHERE ") + parts[i];
    return w;
}

// A SQLite file, read-only, holding one read transaction: every query sees the same
// snapshot while the kiosk keeps writing.
class SqliteExportDatabase : public ExportDatabase {
public:
    // An open connection it owns (an in-memory copy with the answers opened), in one read
    // transaction as a file's.
    SqliteExportDatabase(sqlite3* db, std::string name) : file_(std::move(name)), db_(db) {
        try {
            sqlite_exec(db_, "BEGIN", "export: " + file_.string());
        } catch (const SqliteError& e) {
            sqlite3_close(db_);
            db_ = nullptr;
            throw ExportDatabaseError(e.what());
        }
    }
    explicit SqliteExportDatabase(const std::filesystem::path& file) : file_(file) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) throw ExportDatabaseError("no database at " + file.string());
        // NOMUTEX: the connection is used by the one thread that runs the export, so it
        // goes without SQLite's per-call locking.
        if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw ExportDatabaseError("cannot open " + file.string() + ": " + msg);
        }
        sqlite3_busy_timeout(db_, 5000);
        try {
            sqlite_exec(db_, "BEGIN", "export: " + file.string());
        } catch (const SqliteError& e) {
            sqlite3_close(db_);
            throw ExportDatabaseError(e.what());
        }
    }
    ~SqliteExportDatabase() override { sqlite3_close_v2(db_); }  // ends the read transaction
    SqliteExportDatabase(const SqliteExportDatabase&) = delete;
    SqliteExportDatabase& operator=(const SqliteExportDatabase&) = delete;

    std::string name() const override { return file_.string(); }
    bool has_column(const std::string& table, const std::string& column) override {
        Statement s(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
        s.bind(1, table).bind(2, column);
        return s.step();
    }
    void query(const std::string& sql, const std::vector<std::string>& params,
               const std::function<void(const ExportRow&)>& row) override {
        Statement s(db_, sql.c_str());
        for (std::size_t i = 0; i < params.size(); ++i) s.bind(static_cast<int>(i) + 1, params[i]);
        struct Row : ExportRow {
            sqlite3_stmt* s;
            bool is_null(int c) const override { return sqlite3_column_type(s, c) == SQLITE_NULL; }
            std::string_view text(int c) const override {
                auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
                return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c))) : std::string_view();
            }
            std::int64_t integer(int c) const override { return sqlite3_column_int64(s, c); }
        } r;
        r.s = s.raw();
        while (s.step()) row(r);
    }

private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
};

// The survey definitions a database keeps (table survey_definitions: the kiosk's from
// schema step 7, the collector's from its step 6), and which one each response was
// answered with: by its survey_hash, else the survey files' own when their version is the
// response's, else a kept one of that id and version, else the files' (any version).
class Definitions {
public:
    Definitions(ExportDatabase& db, const std::vector<Survey>& files, const std::string& language) : files_(files) {
        if (!db.has_column("survey_definitions", "definition")) return;
        db.query("SELECT hash, survey_id, survey_version, definition FROM survey_definitions"
                 " ORDER BY survey_id, survey_version, hash",
                 {}, [&](const ExportRow& row) {
                     try {
                         auto s = std::make_unique<Survey>(parse_survey_definition(
                             row.text(3), "survey " + std::string(row.text(1)) + " version " +
                                              std::to_string(row.integer(2)) + " (" + std::string(row.text(0)) + ")",
                             language));
                         if (s->id != row.text(1)) return;  // not what it is filed as: not trusted
                         by_hash_[std::string(row.text(0))] = s.get();
                         kept_.push_back(std::move(s));
                     } catch (const ConfigError&) {
                         // A definition this build cannot read: its answers fall back to the files.
                     }
                 });
    }
    bool any() const { return !kept_.empty(); }

    const Survey* of(const std::string& survey_id, std::int64_t version, const std::optional<std::string>& hash) {
        const auto key = std::make_tuple(survey_id, version, hash.value_or(""));
        if (auto it = cache_.find(key); it != cache_.end()) return it->second;
        const Survey* found = nullptr;
        if (hash)
            if (auto it = by_hash_.find(*hash); it != by_hash_.end() && it->second->id == survey_id) found = it->second;
        for (const auto& s : files_)
            if (!found && s.id == survey_id && s.version == version) found = &s;
        for (const auto& s : kept_)
            if (!found && s->id == survey_id && s->version == version) found = s.get();
        for (const auto& s : files_)
            if (!found && s.id == survey_id) found = &s;
        for (auto it = kept_.rbegin(); !found && it != kept_.rend(); ++it)
            if ((*it)->id == survey_id) found = it->get();  // the newest kept
        return cache_[key] = found;
    }

private:
    const std::vector<Survey>& files_;
    std::vector<std::unique_ptr<Survey>> kept_;  // by id, version
    std::map<std::string, const Survey*> by_hash_;
    std::map<std::tuple<std::string, std::int64_t, std::string>, const Survey*> cache_;
};

struct QuestionColumn {
    std::string id;
    bool withheld = false;
};

struct SurveyPlan {
    const Survey* def = nullptr;
    std::vector<const Survey*> versions;  // the other definitions its responses were answered with
    std::vector<QuestionColumn> columns;  // the survey's order, then the data's
    std::unique_ptr<AtomicFile> file;
    std::unique_ptr<CsvWriter> csv;
    int sheet = -1;  // its sheet in the XLSX workbook
};

const Survey* find_survey(const std::vector<Survey>& surveys, const std::string& id) {
    for (const auto& s : surveys)
        if (s.id == id) return &s;
    return nullptr;
}

bool withheld(const Survey* def, const std::string& question_id, const ExportFilter& f) {
    return !f.free_text && may_be_free_text(def, question_id);
}

// The definition among a survey's versions that describes `question_id` (the files' first).
const Survey* describing(const SurveyPlan& p, const std::string& question_id) {
    if (!p.def || p.def->yearclock || p.def->find(question_id)) return p.def;
    for (const Survey* v : p.versions)
        if (v->find(question_id)) return v;
    return p.def;
}

Fail output_failure(const OutputError& e, const std::filesystem::path& folder);
}  // namespace

ExportResult output_failure_result(const OutputError& e, const std::filesystem::path& folder) {
    Fail f = output_failure(e, folder);
    ExportResult r;
    r.status = f.status;
    r.message = f.message;
    return r;
}

namespace {
Fail output_failure(const OutputError& e, const std::filesystem::path& folder) {
    switch (e.error_number()) {
        case ENOSPC:
        case EDQUOT:
            return {ExportStatus::DriveFull, "the drive is full (" + folder.string() + "): " + e.what()};
        case EROFS:
        case EACCES:
        case EPERM:
            return {ExportStatus::ReadOnly, "the drive cannot be written to (" + folder.string() + "): " + e.what()};
        case ENOENT:
        case ENODEV:
        case ENXIO:
            return {ExportStatus::NoDrive, "the drive is gone (" + folder.string() + "): " + e.what()};
        default:
            return {ExportStatus::Failed, e.what()};
    }
}

const char* kResponseColumns[] = {"response_id", "survey_id", "survey_version", "site", "event"};
const char* kResponseColumns2[] = {"language", "status", "flagged", "started_at", "finished_at"};

void header(CsvWriter& csv, bool device) {
    for (const char* c : kResponseColumns) csv.field(c);
    if (device) csv.field("device_id");
    for (const char* c : kResponseColumns2) csv.field(c);
}

void response_fields(CsvWriter& csv, const ResponseRow& r, bool device) {
    csv.field(r.id);
    csv.field(r.survey_id);
    csv.field(r.survey_version);
    csv.field(r.site);
    csv.field(r.event);
    if (device) csv.field(r.device_id.value_or(""));
    csv.field(r.language);
    csv.field(r.status);
    csv.field(r.flagged ? "1" : "0");
    csv.field(r.started_at);
    csv.field(r.finished_at.value_or(""));
}

// A value the XLSX writes as a number: a face or agree scale's single answer ("1".."5").
// Everything else (choice ids, free text, several values joined) is text.
bool numeric_answer(const Survey* def, const std::string& question_id, std::string_view value) {
    if (!def || def->yearclock || value.empty() || value.size() > 9) return false;
    const Question* q = def->find(question_id);
    if (!q || (q->kind != QuestionKind::Smiley && q->kind != QuestionKind::Agree)) return false;
    return std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           (value.size() == 1 || value[0] != '0');
}

// The response's columns in a sheet (as in the wide CSV), timestamps as local date-times.
std::vector<std::string> sheet_header(bool device) {
    std::vector<std::string> h(std::begin(kResponseColumns), std::end(kResponseColumns));
    if (device) h.push_back("device_id");
    const std::string zone = " (" + local_zone_name() + ")";
    for (const char* c : kResponseColumns2) h.push_back(std::string(c) + (std::string_view(c).ends_with("_at") ? zone : ""));
    return h;
}

void response_cells(XlsxBook& book, int sheet, const ResponseRow& r, bool device, int& c) {
    book.text(sheet, c++, r.id);
    book.text(sheet, c++, r.survey_id);
    book.number(sheet, c++, static_cast<double>(r.survey_version));
    book.text(sheet, c++, r.site);
    if (!r.event.empty()) book.text(sheet, c, r.event);
    ++c;
    if (device) {
        if (r.device_id) book.text(sheet, c, *r.device_id);
        ++c;
    }
    book.text(sheet, c++, r.language);
    book.text(sheet, c++, r.status);
    book.number(sheet, c++, r.flagged ? 1 : 0);
    for (const std::optional<std::string>& at : {std::optional<std::string>(r.started_at), r.finished_at}) {
        if (at) {
            if (auto ms = parse_iso8601_utc(*at)) book.local_datetime(sheet, c, *ms);
            else book.text(sheet, c, *at);  // not a timestamp: shown as stored
        }
        ++c;
    }
}

void validate(const ExportOptions& o, const std::filesystem::path& folder) {
    auto bad = [](const std::string& m) { throw Fail{ExportStatus::Failed, m}; };
    if (o.filter.from && !valid_date(*o.filter.from)) bad("not a date (YYYY-MM-DD): " + *o.filter.from);
    if (o.filter.to && !valid_date(*o.filter.to)) bad("not a date (YYYY-MM-DD): " + *o.filter.to);
    if (o.filter.from && o.filter.to && *o.filter.from > *o.filter.to)
        bad("the period ends (" + *o.filter.to + ") before it starts (" + *o.filter.from + ")");
    if (o.name.empty() || o.name.find('/') != std::string::npos || o.name[0] == '.')
        bad("not a usable file name: \"" + o.name + "\"");
    if (o.min_group < 1) bad("min_group must be 1 or more");
    if (!o.wide_csv && !o.long_csv && !o.jsonl && !o.report && !o.xlsx) bad("nothing to export: every format is off");
    std::error_code ec;
    if (!std::filesystem::exists(folder, ec))
        throw Fail{ExportStatus::NoDrive, "no drive: " + folder.string() + " is not there"};
    if (!std::filesystem::is_directory(folder, ec))
        throw Fail{ExportStatus::NoDrive, "no drive: " + folder.string() + " is not a folder"};
}

}  // namespace

std::unique_ptr<ExportDatabase> open_sqlite_export_database(const std::filesystem::path& file) {
    return std::make_unique<SqliteExportDatabase>(file);
}

std::unique_ptr<ExportDatabase> adopt_sqlite_export_database(sqlite3* db, const std::string& name) {
    return std::make_unique<SqliteExportDatabase>(db, name);
}

bool holds_sealed_answers(sqlite3* db) {
    Statement has(db, "SELECT 1 FROM pragma_table_info('answers') WHERE name = 'seal_key'");
    if (!has.step()) return false;
    Statement any(db, "SELECT 1 FROM answers WHERE seal_key IS NOT NULL LIMIT 1");
    return any.step();
}

namespace {
// kohtaamo_open(seal_key, value): the clear value; an error naming the key when the keyring
// lacks it or the box does not open.
void sql_open(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto* keys = static_cast<const SealKeyring*>(sqlite3_user_data(ctx));
    const auto* id = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto* box = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    if (!id || !box) {
        sqlite3_result_value(ctx, argv[1]);
        return;
    }
    const SealSecretKey* key = keys->find(id);
    if (!key) {
        const std::string m = std::string("answers sealed to key \"") + id + "\", which --key does not give (it gives: " +
                              keys->ids() + ")";
        sqlite3_result_error(ctx, m.c_str(), -1);
        return;
    }
    auto value = open_value(*key, box);
    if (!value) {
        const std::string m = std::string("an answer does not open with key \"") + id + "\" (altered, or another key of that id)";
        sqlite3_result_error(ctx, m.c_str(), -1);
        return;
    }
    sqlite3_result_text(ctx, value->data(), static_cast<int>(value->size()), SQLITE_TRANSIENT);
}
}  // namespace

sqlite3* open_answers_in_memory(sqlite3* source, const std::string& name, const SealKeyring& keys) {
    sqlite3* mem = nullptr;
    if (sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        sqlite3_close(mem);
        throw ExportDatabaseError("out of memory");
    }
    try {
        if (source) {
            sqlite3_backup* b = sqlite3_backup_init(mem, "main", source, "main");
            if (!b) throw ExportDatabaseError("cannot copy " + name + ": " + sqlite3_errmsg(mem));
            const int rc = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            if (rc != SQLITE_DONE) throw ExportDatabaseError("cannot copy " + name + ": " + sqlite3_errstr(rc));
        }
        Statement has(mem, "SELECT 1 FROM pragma_table_info('answers') WHERE name = 'seal_key'");
        if (has.step()) {
            sqlite3_create_function(mem, "kohtaamo_open", 2, SQLITE_UTF8, const_cast<SealKeyring*>(&keys), sql_open,
                                    nullptr, nullptr);
            sqlite_exec(mem,
                        "UPDATE answers SET value = kohtaamo_open(seal_key, value), seal_key = NULL"
                        " WHERE seal_key IS NOT NULL",
                        name);
        }
    } catch (const SqliteError& e) {
        sqlite3_close(mem);
        throw ExportDatabaseError(e.what());
    } catch (...) {
        sqlite3_close(mem);
        throw;
    }
    return mem;
}

std::unique_ptr<ExportDatabase> open_sealed_export_database(const std::filesystem::path& file, const SealKeyring& keys) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw ExportDatabaseError("no database at " + file.string());
    sqlite3* src = nullptr;
    if (sqlite3_open_v2(file.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = src ? sqlite3_errmsg(src) : "out of memory";
        sqlite3_close(src);
        throw ExportDatabaseError("cannot open " + file.string() + ": " + msg);
    }
    sqlite3_busy_timeout(src, 5000);
    sqlite3* mem = nullptr;
    try {
        mem = open_answers_in_memory(src, file.string(), keys);
    } catch (...) {
        sqlite3_close(src);
        throw;
    }
    sqlite3_close(src);
    return adopt_sqlite_export_database(mem, file.string());
}

ExportResult export_to_folder(const std::filesystem::path& db, const std::vector<Survey>& surveys,
                              const std::filesystem::path& folder, const ExportOptions& o,
                              const ExportProgress& progress) {
    std::unique_ptr<ExportDatabase> source;
    try {
        validate(o, folder);  // no drive is said before a missing database
        source = open_sqlite_export_database(db);
    } catch (const Fail& f) {
        ExportResult r;
        r.status = f.status;
        r.message = f.message;
        return r;
    } catch (const ExportDatabaseError& e) {
        ExportResult r;
        r.status = ExportStatus::DatabaseError;
        r.message = e.what();
        return r;
    }
    return export_to_folder(*source, surveys, folder, o, progress);
}

ExportResult export_to_folder(ExportDatabase& db, const std::vector<Survey>& surveys,
                              const std::filesystem::path& folder, const ExportOptions& o,
                              const ExportProgress& progress) {
    ExportResult result;
    try {
        validate(o, folder);
        // The report's words first: a missing catalogue fails before any file is made.
        std::optional<ReportBuilder> report;
        if (o.report)
            report.emplace(surveys, o, ReportTexts::load(o.texts_dir, o.report_language),
                           Catalog::load(o.texts_dir, {o.report_language}, "", {}));

        if (db.has_column("answers", "seal_key")) {
            bool sealed = false;
            db.query("SELECT seal_key FROM answers WHERE seal_key IS NOT NULL LIMIT 1", {},
                     [&](const ExportRow&) { sealed = true; });
            if (sealed)
                throw Fail{ExportStatus::Sealed,
                           "the answers in " + db.name() +
                               " are sealed: only the collector's key opens them (kohtaamo-export --key FILE, or give "
                               "the kiosk's delivery file to the collector)"};
        }
        const bool device = db.has_column("responses", "device_id");
        const bool hashes = db.has_column("responses", "survey_hash");
        Definitions definitions(db, surveys, o.report_language);
        const Where where = where_of(o.filter, true);

        // Pre-pass (an aggregate, bounded by surveys × questions): which surveys and
        // questions the rows hold, in order of first appearance, and how many rows. Only
        // the files with a column per question (wide CSV, XLSX) and the report need it; it
        // costs as much as the pass itself, so a long CSV or JSON Lines alone goes without
        // (the progress then has no total: 0).
        std::map<std::string, SurveyPlan> plans;
        std::vector<std::string> survey_order;
        std::uint64_t total = 0;
        if (o.wide_csv || o.xlsx || o.report) {
            std::map<std::string, std::vector<std::string>> seen;
            db.query("SELECT r.survey_id, a.question_id, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id" +
                         where.sql + " GROUP BY r.survey_id, a.question_id ORDER BY r.survey_id, MIN(r.started_at), a.question_id",
                     where.params, [&](const ExportRow& row) {
                         const std::string sid(row.text(0)), qid(row.text(1));
                         const auto n = static_cast<std::uint64_t>(row.integer(2));
                         if (!seen.count(sid)) survey_order.push_back(sid);
                         seen[sid].push_back(qid);
                         total += n;
                     });
            // A survey asked for by id gets its wide file even with no responses in the
            // period: the header alone tells the coordinator there were none.
            if (o.wide_csv || o.xlsx)
                for (const auto& sid : o.filter.surveys)
                    if (!seen.count(sid)) {
                        seen[sid];
                        survey_order.push_back(sid);
                    }
            // The versions each survey's responses were answered with (an aggregate).
            if (definitions.any())
                db.query("SELECT r.survey_id, r.survey_version, " + std::string(hashes ? "r.survey_hash" : "NULL") +
                             ", MAX(r.started_at) FROM responses r" + where.sql +
                             " GROUP BY r.survey_id, r.survey_version, 3 ORDER BY 4 DESC",
                         where.params, [&](const ExportRow& row) {
                             const std::string sid(row.text(0));
                             const Survey* v = definitions.of(
                                 sid, row.integer(1),
                                 row.is_null(2) ? std::nullopt : std::optional<std::string>(row.text(2)));
                             if (!v) return;
                             auto& list = plans[sid].versions;
                             if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
                         });
            for (const auto& sid : survey_order) {
                SurveyPlan& p = plans[sid];
                p.def = find_survey(surveys, sid);
                if (!p.def && !p.versions.empty()) p.def = p.versions.front();  // the latest answered
                std::set<std::string> have;
                if (p.def)
                    for (const auto& q : p.def->questions) {
                        p.columns.push_back({q.id, withheld(p.def, q.id, o.filter)});
                        have.insert(q.id);
                    }
                // Then the questions of older versions, in their order (a question dropped since).
                for (const Survey* v : p.versions)
                    if (v != p.def && !v->yearclock)
                        for (const auto& q : v->questions)
                            if (have.insert(q.id).second) p.columns.push_back({q.id, withheld(v, q.id, o.filter)});
                std::vector<std::string>& data = seen[sid];
                if (p.def && p.def->yearclock)  // wish-01..12, come, idea-01..12: the year's order
                    std::stable_sort(data.begin(), data.end(), [](const std::string& a, const std::string& b) {
                        auto key = [](const std::string& q) {
                            switch (yearclock_row(q)) {
                                case YearClockRow::Wish: return wish_month(q);
                                case YearClockRow::Come: return 13;
                                case YearClockRow::Idea: return 13 + idea_month(q);
                                case YearClockRow::None: break;
                            }
                            return 26;
                        };
                        return key(a) < key(b);
                    });
                for (const auto& qid : data)
                    if (have.insert(qid).second) p.columns.push_back({qid, withheld(describing(p, qid), qid, o.filter)});
            }
        }
        if (report) {
            const Where base = where_of(o.filter, false);
            StatusCounts c;
            db.query("SELECT r.status, r.flagged, COUNT(*) FROM responses r" + base.sql + " GROUP BY r.status, r.flagged",
                     base.params, [&](const ExportRow& row) {
                         auto n = static_cast<std::uint64_t>(row.integer(2));
                         if (row.integer(1) != 0) {
                             c.flagged += n;  // the mischief rule's: counted apart, never in the rate
                         } else if (row.text(0) == "complete") {
                             c.complete += n;
                         } else if (row.text(0) == "abandoned") {
                             c.abandoned += n;
                         }
                     });
            report->set_status_counts(c);
        }

        // The files, all under temporary names until every one is complete.
        std::unique_ptr<AtomicFile> long_file, jsonl_file, report_file;
        std::unique_ptr<CsvWriter> long_csv;
        if (o.wide_csv)
            for (const auto& sid : survey_order) {
                SurveyPlan& p = plans[sid];
                p.file = std::make_unique<AtomicFile>(folder, o.name + "-wide-" + sid + ".csv");
                p.csv = std::make_unique<CsvWriter>(*p.file, o.csv_style);
                header(*p.csv, device);
                for (const auto& c : p.columns)
                    if (!c.withheld) p.csv->field(c.id);
                p.csv->end_row();
            }
        if (o.long_csv) {
            long_file = std::make_unique<AtomicFile>(folder, o.name + "-long.csv");
            long_csv = std::make_unique<CsvWriter>(*long_file, o.csv_style);
            header(*long_csv, device);
            for (const char* c : {"question_id", "value", "answered_at"}) long_csv->field(c);
            long_csv->end_row();
        }
        std::unique_ptr<XlsxBook> book;
        if (o.xlsx) {
            book = std::make_unique<XlsxBook>(folder, o.name + ".xlsx");
            for (const auto& sid : survey_order) {
                SurveyPlan& p = plans[sid];
                std::vector<std::string> h = sheet_header(device);
                for (const auto& c : p.columns)
                    if (!c.withheld) h.push_back(c.id);
                p.sheet = book->add_sheet(sid, h);
            }
        }
        if (o.jsonl) jsonl_file = std::make_unique<AtomicFile>(folder, o.name + ".jsonl");
        if (o.report) report_file = std::make_unique<AtomicFile>(folder, o.name + "-report-" + o.report_language + ".html");

        // The pass: responses in time order, each with its answers, as one query that a
        // database server streams (rows of one response are consecutive). A long CSV alone
        // has no row for a response without answers, so it takes the inner join, written
        // as a CROSS JOIN with answers first: SQLite then runs it as one scan of the answers
        // (probing each one's response by its key) and one sort, instead of a search of the
        // answers' key per response; in PostgreSQL a CROSS JOIN with the WHERE is the
        // plain inner join, planned as it likes.
        const bool per_response = o.wide_csv || o.xlsx || o.report || o.jsonl;
        std::uint64_t done = 0, next_report = 0;
        ResponseRow r;
        bool open = false;  // r holds a response whose rows are still coming
        const Survey* def = nullptr;  // the definition r was answered with (else its survey's files)
        std::map<std::string, std::string> cells;  // one wide row: question → values joined with '|'
        auto emit = [&] {
            SurveyPlan& plan = plans[r.survey_id];
            ++result.responses;
            result.answers += r.answers.size();
            if (plan.csv || plan.sheet >= 0) {
                cells.clear();
                for (const auto& a : r.answers) {
                    auto& c = cells[a.question_id];
                    if (!c.empty()) c += '|';
                    c += a.value;
                }
            }
            if (plan.csv) {
                response_fields(*plan.csv, r, device);
                for (const auto& c : plan.columns)
                    if (!c.withheld) {
                        auto it = cells.find(c.id);
                        plan.csv->field(it == cells.end() ? std::string_view() : std::string_view(it->second));
                    }
                plan.csv->end_row();
            }
            if (plan.sheet >= 0) {
                int c = 0;
                response_cells(*book, plan.sheet, r, device, c);
                for (const auto& q : plan.columns)
                    if (!q.withheld) {
                        auto it = cells.find(q.id);
                        if (it != cells.end() && !it->second.empty()) {
                            if (numeric_answer(def, q.id, it->second))
                                book->number(plan.sheet, c, static_cast<double>(std::stol(it->second)));
                            else
                                book->text(plan.sheet, c, it->second);
                        }
                        ++c;
                    }
                book->end_row(plan.sheet);
            }
            if (long_csv)
                for (const auto& a : r.answers) {
                    response_fields(*long_csv, r, device);
                    long_csv->field(a.question_id);
                    long_csv->field(a.value);
                    long_csv->field(a.answered_at);
                    long_csv->end_row();
                }
            if (jsonl_file) {
                nlohmann::ordered_json j;
                j["response_id"] = r.id;
                j["survey_id"] = r.survey_id;
                j["survey_version"] = r.survey_version;
                j["site"] = r.site;
                j["event"] = r.event;
                if (device) j["device_id"] = r.device_id ? nlohmann::ordered_json(*r.device_id) : nullptr;
                j["language"] = r.language;
                j["status"] = r.status;
                j["flagged"] = r.flagged;
                j["started_at"] = r.started_at;
                j["finished_at"] = r.finished_at ? nlohmann::ordered_json(*r.finished_at) : nullptr;
                auto& ans = j["answers"] = nlohmann::ordered_json::object();
                for (const auto& a : r.answers) {
                    auto& q = ans[a.question_id];
                    if (q.is_null()) q = {{"values", nlohmann::ordered_json::array()}, {"answered_at", a.answered_at}};
                    q["values"].push_back(a.value);
                }
                jsonl_file->write(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
                jsonl_file->write("\n");
            }
            if (report) {
                auto ms = parse_iso8601_utc(r.started_at);
                if (ms) report->add(r, local_parts(*ms), def);
            }
        };
        db.query("SELECT r.id, r.survey_id, r.survey_version, r.language, r.status, r.flagged, r.site, r.event,"
                 " r.started_at, r.finished_at" +
                     std::string(device ? ", r.device_id" : ", NULL") +
                     ", a.question_id, a.value, a.answered_at" + (hashes ? ", r.survey_hash" : ", NULL") +
                     (per_response ? " FROM responses r LEFT JOIN answers a ON a.response_id = r.id" + where.sql
                                   : " FROM answers a CROSS JOIN responses r" + where.sql +
                                         (where.sql.empty() ? " WHERE" : " AND") + " a.response_id = r.id") +
                     " ORDER BY r.started_at, r.id, a.question_id, a.value",
                 where.params, [&](const ExportRow& row) {
                     if (!open || row.text(0) != r.id) {
                         if (open) emit();
                         open = true;
                         r.id = row.text(0);
                         r.survey_id = row.text(1);
                         r.survey_version = row.integer(2);
                         r.language = row.text(3);
                         r.status = row.text(4);
                         r.flagged = row.integer(5) != 0;
                         r.site = row.text(6);
                         r.event = row.text(7);
                         r.started_at = row.text(8);
                         r.finished_at = row.is_null(9) ? std::nullopt : std::optional<std::string>(row.text(9));
                         r.device_id = row.is_null(10) ? std::nullopt : std::optional<std::string>(row.text(10));
                         r.survey_hash = row.is_null(14) ? std::nullopt : std::optional<std::string>(row.text(14));
                         r.answers.clear();
                         SurveyPlan& plan = plans[r.survey_id];
                         if (!plan.def) plan.def = find_survey(surveys, r.survey_id);  // no pre-pass
                         def = definitions.of(r.survey_id, r.survey_version, r.survey_hash);
                         if (!def) def = plan.def;
                     }
                     if (row.is_null(11)) return;  // a response without answers
                     ++done;
                     AnswerRow ans{std::string(row.text(11)), std::string(row.text(12)), std::string(row.text(13))};
                     if (withheld(def, ans.question_id, o.filter)) ++result.withheld;
                     else r.answers.push_back(std::move(ans));
                     if (progress && done >= next_report) {
                         next_report = done + 1024;
                         if (!progress(done, total)) throw Fail{ExportStatus::Cancelled, "the export was cancelled"};
                     }
                 });
        if (open) emit();
        if (progress && !progress(done, total)) throw Fail{ExportStatus::Cancelled, "the export was cancelled"};
        if (report) report->render(*report_file);

        // Complete every file, then rename them all into place.
        std::vector<AtomicFile*> files;
        for (const auto& sid : survey_order)
            if (plans[sid].file) files.push_back(plans[sid].file.get());
        for (auto* f : {long_file.get(), jsonl_file.get(), report_file.get()})
            if (f) files.push_back(f);
        for (auto* f : files) f->finish();
        if (book) book->finish();
        for (auto* f : files) {
            f->commit();
            result.files.push_back(f->final_path());
        }
        if (book) {
            book->commit();
            result.files.push_back(book->final_path());
        }
        sync_folder(folder);
    } catch (const Fail& f) {
        result.status = f.status;
        result.message = f.message;
    } catch (const OutputError& e) {
        Fail f = output_failure(e, folder);
        result.status = f.status;
        result.message = f.message;
    } catch (const SqliteError& e) {
        result.status = ExportStatus::DatabaseError;
        result.message = "cannot read " + db.name() + ": " + e.what();
    } catch (const ExportDatabaseError& e) {
        result.status = ExportStatus::DatabaseError;
        result.message = "cannot read " + db.name() + ": " + e.what();
    } catch (const ConfigError& e) {
        result.status = ExportStatus::Failed;
        result.message = e.what();
    } catch (const std::exception& e) {
        result.status = ExportStatus::Failed;
        result.message = e.what();
    }
    if (!result.ok()) result.files.clear();
    return result;
}

}  // namespace kohtaamo
