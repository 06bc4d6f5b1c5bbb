// xlsx.hpp — an Excel workbook written with libxlsxwriter (Debian's libxlsxwriter-dev),
// the one XLSX writer of every export (the kiosk's USB export, kohtaamo-export and the
// collector's GET /v1/export?format=xlsx all go through export_to_folder, which uses this).
//
// What it guarantees:
//  - Streamed, flat memory: the workbook is opened in libxlsxwriter's constant_memory
//    mode, so each sheet's rows go to a temporary file (in the target folder, not /tmp)
//    as they are written; rows of one sheet must come in order, sheets may interleave.
//  - Cells keep their type: text() always writes a string cell (worksheet_write_string:
//    "0401234567", "12.3.", "1e5", "=SUM(A1)" stay that text, never a number, date or
//    formula, and no guard character is added); number() a number; local_datetime() a
//    number with a date-time style holding the machine's local time (kiosk/core/local_time).
//  - Frozen header row, bold; column widths fitted to the longest value seen (capped).
//  - Nothing half-written looks complete, as with AtomicFile (output.hpp): the workbook is
//    written as ".<name>.part", finish() closes and fsyncs it, commit() renames it; a book
//    destroyed before commit() is removed. Failures throw OutputError with the errno seen.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace kohtaamo {

class XlsxBook {
public:
    XlsxBook(const std::filesystem::path& folder, const std::string& name);
    ~XlsxBook();
    XlsxBook(const XlsxBook&) = delete;
    XlsxBook& operator=(const XlsxBook&) = delete;

    // A new sheet named after `name` (characters Excel forbids become '_', at most 31,
    // made unique); its first row is `header`, frozen. Returns the sheet's index.
    int add_sheet(std::string_view name, const std::vector<std::string>& header);

    // Cells of the sheet's current row (columns may be skipped: an empty cell).
    void text(int sheet, int column, std::string_view value);
    void number(int sheet, int column, double value);
    void local_datetime(int sheet, int column, std::int64_t utc_ms);
    void end_row(int sheet);

    // Sets the column widths, writes the workbook, fsyncs it; throws OutputError.
    void finish();
    void commit();
    const std::filesystem::path& final_path() const { return final_; }

private:
    struct Sheet {
        lxw_worksheet* ws = nullptr;
        std::uint32_t row = 1;          // the next data row (0 is the header)
        std::vector<double> widths;     // characters, per column
    };
    void fit(Sheet& s, int column, double chars);
    [[noreturn]] void fail(const std::string& what, int err) const;
    Sheet& sheet(int index);

    std::filesystem::path final_, temp_;
    std::string tmpdir_;
    lxw_workbook* book_ = nullptr;
    lxw_format* bold_ = nullptr;
    lxw_format* datetime_ = nullptr;
    std::vector<Sheet> sheets_;
    std::vector<std::string> names_;
    bool closed_ = false, committed_ = false;
};

}  // namespace kohtaamo
