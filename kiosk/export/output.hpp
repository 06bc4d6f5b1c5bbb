// output.hpp — writing an export file so that nothing half-written ever looks complete,
// and the CSV field rules (RFC 4180) on top of it.
//
// AtomicFile writes to ".<name>.part" in the target folder through a large buffer and
// keeps the errno of every failing call, so that a full or read-only drive becomes an
// OutputError the caller can name. finish() flushes and fsyncs; commit() renames the file
// to its final name. A file that is destroyed before commit() is unlinked. The .part file
// is made anew with `mode` (a .part left by a power cut is removed first), so a secret
// written with 0600 is never readable by others, not even for a moment (kohtaamo-enroll).
#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "export.hpp"

namespace kohtaamo {

class OutputError : public std::runtime_error {
public:
    OutputError(int err, const std::string& what) : std::runtime_error(what), err_(err) {}
    int error_number() const { return err_; }

private:
    int err_;
};

class AtomicFile {
public:
    AtomicFile(const std::filesystem::path& folder, const std::string& name, unsigned mode = 0644);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view bytes) {
        buf_.append(bytes);
        if (buf_.size() >= kBuffer) flush();
    }
    // Flushes, fsyncs and closes; throws OutputError.
    void finish();
    // Renames the finished file to its final name.
    void commit();
    // Gives the file to another owner (before finish()); throws OutputError.
    void chown(unsigned uid, unsigned gid);
    const std::filesystem::path& final_path() const { return final_; }

private:
    static constexpr std::size_t kBuffer = 256 * 1024;
    void flush();
    [[noreturn]] void fail(const char* what) const;
    std::filesystem::path final_, temp_;
    int fd_ = -1;
    bool committed_ = false;
    std::string buf_;
};

// fsyncs a folder so that renames in it are durable; throws OutputError.
void sync_folder(const std::filesystem::path& folder);

// Writes rows of fields. Rfc4180: comma; ExcelFi: semicolon, a byte order mark first and a
// ' before a cell that Excel would take as a formula. Both end rows with CRLF and quote a
// field that holds the separator, a quote, CR or LF (quotes doubled).
class CsvWriter {
public:
    CsvWriter(AtomicFile& out, CsvStyle style);
    void field(std::string_view value);
    void field(std::int64_t value) { field(std::string_view(std::to_string(value))); }
    void end_row();

private:
    AtomicFile& out_;
    CsvStyle style_;
    char sep_;
    bool first_ = true;
};

}  // namespace kohtaamo
