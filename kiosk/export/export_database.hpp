// export_database.hpp — what an export reads through: a read-only query interface small
// enough that the kiosk's SQLite file and the collector's storage (SQLite or PostgreSQL,
// sync/collector/storage.hpp) can both give it. The export's SQL stays in export.cpp,
// written in the SQL both databases speak, with `?` placeholders (a driver that numbers
// its parameters, like PostgreSQL's $1, rewrites them).
//
// Rows are handed over one at a time as the database produces them: nothing is collected,
// so an export's memory stays flat however many rows a query returns.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kohtaamo {

// The database could not be opened or read (ExportStatus::DatabaseError).
class ExportDatabaseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One row of a result, valid only during the callback that receives it.
class ExportRow {
public:
    virtual ~ExportRow() = default;
    virtual bool is_null(int column) const = 0;
    virtual std::string_view text(int column) const = 0;  // "" for NULL
    virtual std::int64_t integer(int column) const = 0;   // 0 for NULL
};

class ExportDatabase {
public:
    virtual ~ExportDatabase() = default;
    // For messages: the file, or the database's name (never a password).
    virtual std::string name() const = 0;
    virtual bool has_column(const std::string& table, const std::string& column) = 0;
    // Runs `sql` with text parameters for its `?`s and calls `row` for every result row,
    // in order, as it arrives. Throws ExportDatabaseError (or whatever `row` throws; the
    // query is then abandoned).
    virtual void query(const std::string& sql, const std::vector<std::string>& params,
                       const std::function<void(const ExportRow&)>& row) = 0;
};

// A SQLite file (the kiosk's, or a collector's), read-only, in one read transaction for
// the object's life. Throws ExportDatabaseError when it is not there or cannot be opened.
std::unique_ptr<ExportDatabase> open_sqlite_export_database(const std::filesystem::path& file);

}  // namespace kohtaamo
