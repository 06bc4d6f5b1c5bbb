// export.hpp — getting the data out: CSV (wide and long), JSON Lines, an Excel workbook
// (XLSX) and the HTML report,
// from the kiosk's SQLite file or from the collector's storage (SQLite or PostgreSQL): any
// database with the tables `responses` and `answers` and the kiosk's column names (extra
// columns are ignored), read through an ExportDatabase (export_database.hpp).
//
// What it does and does not do:
//  1. One pass. A single cursor walks responses joined to their answers, ordered by
//     response (one query: a database server streams it row by row), and every output (wide CSV per survey, long CSV, JSON Lines, the report's
//     counters) is fed from that one row as it goes. Memory stays flat whatever the size:
//     at most one response's answers, the report's counters (bounded by weeks × values) and
//     a capped list of free texts are held.
//  2. Nothing half-written looks complete. Each file is written under a hidden temporary
//     name in the target folder (".<name>.part"), flushed and fsync'ed; only when every file
//     is complete are they renamed into place and the folder fsync'ed. On any failure or a
//     cancel the temporary files are removed and the result says why.
//  3. Errors a coordinator can act on: no drive (the folder is not there), drive full,
//     read-only drive, database unreadable. Never an exception out of export_to_folder.
//  4. The database is only read (opened read-only); the kiosk can keep taking answers.
//  5. Local time: dates in filters and the report's weeks, months and hours use the
//     machine's time zone (TZ; a kiosk in Finland runs on Europe/Helsinki); stored
//     timestamps stay UTC text in the CSVs and JSON Lines; the XLSX shows them as
//     date-times in that local zone (named in its header: "started_at (Europe/Helsinki)").
//
// It does not draw anything, find drives on its own or read the clock: the caller passes
// `now_ms` (the kiosk's Clock) and the folder (find_removable_drives below).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "local_time.hpp"  // valid_date, local_midnight
#include "export_database.hpp"
#include "survey.hpp"

struct sqlite3;

namespace kohtaamo {
// Text made safe for HTML text and attribute values (&, <, >, ", ' escaped; control
// characters other than newline and tab, which HTML does not allow, become spaces).
std::string html_escape(std::string_view s);


class SealKeyring;

// Which responses go out. Dates are local calendar dates, both ends included.
struct ExportFilter {
    std::optional<std::string> from;  // "YYYY-MM-DD"
    std::optional<std::string> to;    // "YYYY-MM-DD"
    std::vector<std::string> surveys;  // survey ids; empty = all
    std::vector<std::string> sites;    // site ids; empty = all
    bool include_abandoned = false;    // complete responses always; in_progress never
    bool include_flagged = false;      // responses the kiosk's mischief rule marked
    bool free_text = true;             // false: free-text answers are withheld everywhere
};

// "2026H1", "2026-H2" → the local dates of that half-year; nullopt if malformed.
struct DateRange {
    std::string from, to;
};
std::optional<DateRange> half_year_range(const std::string& spec);
// The half-year `now_ms` falls in (offset 0) or the one before (offset -1), e.g. "2026H2".
std::string half_year_of(std::int64_t now_ms, int offset = 0);

enum class CsvStyle {
    Rfc4180,  // comma, CRLF, UTF-8 without BOM: exactly the database's text
    ExcelFi,  // semicolon, CRLF, UTF-8 with BOM; cells starting with = + - @ get a leading '
              // so that Excel never runs free text as a formula
};

struct ExportOptions {
    ExportFilter filter;
    bool wide_csv = true;   // one file per survey: a row per response, a column per question
    bool long_csv = true;   // one file: a row per answer
    bool jsonl = true;      // one file: a line per response
    bool report = true;     // one self-contained HTML file
    bool xlsx = false;      // one Excel workbook: a sheet per survey, like the wide CSV (xlsx.hpp);
                            // asked for by name, or by "every format" (make_export_options), and
                            // always by the kiosk's staff screen
    CsvStyle csv_style = CsvStyle::Rfc4180;
    std::string report_language = "fi";  // fi, sv or en
    int min_group = 5;      // small-group protection: nothing is shown over fewer answers
    std::string name = "kohtaamo";  // file names: <name>-long.csv, <name>-wide-<survey>.csv, ...
    std::int64_t now_ms = 0;        // "generated at" in the report
    std::filesystem::path texts_dir;  // the catalogues: report-<lang>.toml and <lang>.toml
    // The report names each site so (the collector's [sites.ID] name); a site not here by its id.
    std::map<std::string, std::string> site_names;
};

enum class ExportStatus {
    Ok,
    NoDrive,        // the folder (the drive's mount point) is not there
    DriveFull,      // ENOSPC / EDQUOT while writing
    ReadOnly,       // EROFS, or not allowed to write there (EACCES/EPERM)
    DatabaseError,  // the database cannot be opened or read, or lacks the tables
    Cancelled,      // the progress callback returned false
    Failed,         // anything else (bad options, another I/O error)
    Sealed,         // the answers are sealed (docs/security.md) and no key was given
};
const char* to_string(ExportStatus);

struct ExportResult {
    ExportStatus status = ExportStatus::Ok;
    std::string message;  // for a person: what went wrong and where ("" when Ok)
    std::vector<std::filesystem::path> files;  // the complete files, in the order written
    std::uint64_t responses = 0;  // responses exported (a long CSV alone: those with answers)
    std::uint64_t answers = 0;    // answer rows exported
    std::uint64_t withheld = 0;   // answer rows left out as free text
    bool ok() const { return status == ExportStatus::Ok; }
};

// Called as rows go out: (answer rows done, answer rows in total; the total is 0 when it is
// not known: a long CSV or JSON Lines alone is not counted first). Return false to cancel.
// Called from the thread that runs the export, at most every ~1000 rows and at the end.
using ExportProgress = std::function<bool(std::uint64_t done, std::uint64_t total)>;

// Exports the responses in `db` that pass `options.filter` into `folder`. `surveys` give
// question order, kinds and labels (may be empty: then everything comes from the data).
// Safe to run on a worker thread while the kiosk keeps saving answers.
ExportResult export_to_folder(const std::filesystem::path& db, const std::vector<Survey>& surveys,
                              const std::filesystem::path& folder, const ExportOptions& options,
                              const ExportProgress& progress = {});
// The same from an open database (the collector's storage gives one per export). `db`
// should hold one read snapshot for the whole call.
ExportResult export_to_folder(ExportDatabase& db, const std::vector<Survey>& surveys,
                              const std::filesystem::path& folder, const ExportOptions& options,
                              const ExportProgress& progress = {});

// Sealed answers (docs/security.md). An export of a database holding sealed answers, without
// their key, fails with ExportStatus::Sealed; these open them first:
//  - whether the kiosk database `db` holds any sealed answer;
bool holds_sealed_answers(sqlite3* db);
//  - a copy of `source` (or an empty database when null) in memory with every sealed answer
//    opened by `keys` (ExportDatabaseError naming a key id `keys` lacks); the caller owns it;
sqlite3* open_answers_in_memory(sqlite3* source, const std::string& name, const SealKeyring& keys);
//  - a sealed kiosk database opened so (kohtaamo-export --key);
std::unique_ptr<ExportDatabase> open_sealed_export_database(const std::filesystem::path& file, const SealKeyring& keys);
//  - an open connection, owned from now on, as an export source.
std::unique_ptr<ExportDatabase> adopt_sqlite_export_database(sqlite3* db, const std::string& name);
// The result of a failed write into `folder` (a full drive, a read-only one, …).
class OutputError;
ExportResult output_failure_result(const OutputError& e, const std::filesystem::path& folder);

// A place an export can go: a mounted removable drive, or the configured folder.
struct Drive {
    std::filesystem::path path;
    std::string label;  // the folder's name, as a person would recognise the stick
    std::uint64_t free_bytes = 0;
    std::uint64_t total_bytes = 0;
    bool read_only = false;
};

// Mounted file systems at /media/*/*, /run/media/*/* and /mnt/* (read from `mounts`,
// normally /proc/self/mounts), then `configured` if given, exists, is a folder and is not
// on the root file system (an empty mount point with no stick in is not a drive).
std::vector<Drive> find_removable_drives(const std::optional<std::filesystem::path>& configured,
                                         const std::filesystem::path& mounts = "/proc/self/mounts");

// The [export] table of the device config (config/kiosk.toml); every key is optional.
struct ExportConfig {
    std::optional<std::filesystem::path> drive;  // drive = "/media/kohtaamo" (relative: to the file)
    int min_group = 5;                            // min_group = 5
    CsvStyle csv_style = CsvStyle::ExcelFi;       // csv = "excel-fi" | "rfc4180"
    bool free_text = true;                        // free_text = true
    std::optional<std::string> report_language;   // report_language = "fi" (else the kiosk's first)
};
// Reads [export] from the kiosk's configuration; throws ConfigError naming file and line.
ExportConfig load_export_config(const TomlReader& config);
ExportConfig load_export_config(const std::filesystem::path& kiosk_toml);  // read_kiosk_config + the above
// Reads the keys every [export] table may have (min_group, csv, free_text,
// report_language) from `t` into `c`, keeping c's values for absent keys; the caller
// checks which keys its table allows (the kiosk's, the collector's). `where` names the
// table in messages.
void read_export_table(const TomlReader& r, const toml::table& t, const std::string& where, ExportConfig& c);

}  // namespace kohtaamo
