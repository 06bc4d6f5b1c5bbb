// xlsx.cpp — the workbook over libxlsxwriter (see xlsx.hpp).
#include "xlsx.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "local_time.hpp"
#include "output.hpp"

namespace kohtaamo {

namespace {

constexpr double kMaxWidth = 60;  // characters: longer text wraps in Excel's cell editor anyway
constexpr double kMinWidth = 6;
constexpr std::size_t kMaxCell = 32767;  // Excel's limit on a cell's characters
constexpr std::uint32_t kMaxRows = 1'048'576;

// Characters, not bytes: UTF-8 continuation bytes do not count.
double chars_of(std::string_view s) {
    double n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// At most Excel's cell length, cut at a character boundary.
std::string_view cell_text(std::string_view v) {
    if (v.size() <= kMaxCell) return v;
    std::size_t end = kMaxCell;
    while (end > 0 && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) --end;
    return v.substr(0, end);
}

}  // namespace

XlsxBook::XlsxBook(const std::filesystem::path& folder, const std::string& name)
    : final_(folder / name), temp_(folder / ("." + name + ".part")), tmpdir_(folder.string()) {
    ::unlink(temp_.c_str());
    lxw_workbook_options options{};
    options.constant_memory = LXW_TRUE;
    // The sheets' row data waits in temporary files until the book is closed: on the target
    // drive (its free space is what the export needs anyway), not in a small /tmp.
    options.tmpdir = tmpdir_.data();
    options.use_zip64 = LXW_TRUE;  // a sheet of a million rows can pass 4 GiB uncompressed
    errno = 0;
    book_ = workbook_new_opt(temp_.c_str(), &options);
    if (!book_) fail("cannot create", errno ? errno : ENOMEM);
    bold_ = workbook_add_format(book_);
    format_set_bold(bold_);
    datetime_ = workbook_add_format(book_);
    format_set_num_format(datetime_, "yyyy-mm-dd hh:mm:ss");
}

XlsxBook::~XlsxBook() {
    if (book_ && !closed_) lxw_workbook_free(book_);  // never written out
    if (!committed_) ::unlink(temp_.c_str());
}

void XlsxBook::fail(const std::string& what, int err) const {
    throw OutputError(err, what + " " + final_.string() + ": " + std::strerror(err));
}

XlsxBook::Sheet& XlsxBook::sheet(int index) { return sheets_.at(static_cast<std::size_t>(index)); }

int XlsxBook::add_sheet(std::string_view name, const std::vector<std::string>& header) {
    std::string n;
    for (char c : name) n += std::string_view("[]:*?/\\").find(c) == std::string_view::npos ? c : '_';
    if (n.empty()) n = "Sheet";
    if (n.front() == '\'') n.front() = '_';
    // 31 characters at most, leaving room for a "~N" that makes it unique.
    auto cut = [](std::string s, std::size_t chars) {
        std::size_t count = 0, i = 0;
        for (; i < s.size(); ++i)
            if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && count++ == chars) break;
        s.resize(i);
        return s;
    };
    std::string unique = cut(n, LXW_SHEETNAME_MAX);
    auto taken = [&](const std::string& s) {
        return std::any_of(names_.begin(), names_.end(), [&](const std::string& t) {
            return std::equal(s.begin(), s.end(), t.begin(), t.end(),
                              [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                          std::tolower(static_cast<unsigned char>(b)); });
        });
    };
    for (int i = 2; taken(unique); ++i) unique = cut(n, LXW_SHEETNAME_MAX - 4) + "~" + std::to_string(i);
    if (unique.back() == '\'') unique.back() = '_';
    names_.push_back(unique);

    Sheet s;
    s.ws = workbook_add_worksheet(book_, unique.c_str());
    if (!s.ws) fail("cannot add the sheet \"" + unique + "\" to", EINVAL);
    worksheet_freeze_panes(s.ws, 1, 0);
    for (std::size_t c = 0; c < header.size(); ++c) {
        worksheet_write_string(s.ws, 0, static_cast<lxw_col_t>(c), std::string(cell_text(header[c])).c_str(), bold_);
        fit(s, static_cast<int>(c), chars_of(header[c]) + 1);  // bold is a little wider
    }
    sheets_.push_back(std::move(s));
    return static_cast<int>(sheets_.size()) - 1;
}

void XlsxBook::fit(Sheet& s, int column, double chars) {
    auto c = static_cast<std::size_t>(column);
    if (s.widths.size() <= c) s.widths.resize(c + 1, 0);
    s.widths[c] = std::max(s.widths[c], std::min(chars, kMaxWidth));
}

void XlsxBook::text(int index, int column, std::string_view value) {
    Sheet& s = sheet(index);
    if (s.row >= kMaxRows) fail("more than 1,048,576 rows (Excel's limit) in a sheet of", EFBIG);
    const std::string v(cell_text(value));
    if (worksheet_write_string(s.ws, s.row, static_cast<lxw_col_t>(column), v.c_str(), nullptr) != LXW_NO_ERROR)
        fail("cannot write a cell of", EIO);
    fit(s, column, chars_of(v));
}

void XlsxBook::number(int index, int column, double value) {
    Sheet& s = sheet(index);
    if (s.row >= kMaxRows) fail("more than 1,048,576 rows (Excel's limit) in a sheet of", EFBIG);
    if (worksheet_write_number(s.ws, s.row, static_cast<lxw_col_t>(column), value, nullptr) != LXW_NO_ERROR)
        fail("cannot write a cell of", EIO);
    fit(s, column, static_cast<double>(std::to_string(static_cast<long long>(value)).size()));
}

void XlsxBook::local_datetime(int index, int column, std::int64_t utc_ms) {
    Sheet& s = sheet(index);
    if (s.row >= kMaxRows) fail("more than 1,048,576 rows (Excel's limit) in a sheet of", EFBIG);
    // Excel's serial date: days since 1899-12-30 (1970-01-01 is 25569), local wall time.
    const double serial = 25569.0 + static_cast<double>(local_wall_ms(utc_ms)) / 86'400'000.0;
    if (worksheet_write_number(s.ws, s.row, static_cast<lxw_col_t>(column), serial, datetime_) != LXW_NO_ERROR)
        fail("cannot write a cell of", EIO);
    fit(s, column, 19);  // yyyy-mm-dd hh:mm:ss
}

void XlsxBook::end_row(int index) { ++sheet(index).row; }

void XlsxBook::finish() {
    for (auto& s : sheets_)
        for (std::size_t c = 0; c < s.widths.size(); ++c)
            worksheet_set_column(s.ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                                 std::max(kMinWidth, s.widths[c] + 1.5), nullptr);
    errno = 0;
    const lxw_error e = workbook_close(book_);
    closed_ = true;  // workbook_close frees the book, whatever it returns
    book_ = nullptr;
    if (e != LXW_NO_ERROR) {
        const int err = errno ? errno : EIO;
        throw OutputError(err, "cannot write " + final_.string() + ": " + lxw_strerror(e) + " (" + std::strerror(err) + ")");
    }
    const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot reopen", errno);
    if (::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        fail("cannot write", err);
    }
    ::close(fd);
}

void XlsxBook::commit() {
    if (::rename(temp_.c_str(), final_.c_str()) != 0) fail("cannot rename the finished file to", errno);
    committed_ = true;
}

}  // namespace kohtaamo
