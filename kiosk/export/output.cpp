#include "output.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace kohtaamo {

AtomicFile::AtomicFile(const std::filesystem::path& folder, const std::string& name, unsigned mode)
    : final_(folder / name), temp_(folder / ("." + name + ".part")) {
    // A .part left by a power cut during an earlier write is removed, and the new one made
    // with O_EXCL, so it has `mode` from the start (O_TRUNC would keep the old file's mode).
    ::unlink(temp_.c_str());
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd_ < 0) fail("cannot create");
    buf_.reserve(kBuffer + 64 * 1024);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::fail(const char* what) const {
    int err = errno;
    throw OutputError(err, std::string(what) + " " + final_.string() + ": " + std::strerror(err));
}

void AtomicFile::flush() {
    const char* p = buf_.data();
    std::size_t left = buf_.size();
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    buf_.clear();
}

void AtomicFile::finish() {
    flush();
    if (::fsync(fd_) != 0) fail("cannot write");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot write");
}

void AtomicFile::chown(unsigned uid, unsigned gid) {
    if (::fchown(fd_, static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) fail("cannot give to its owner");
}

void AtomicFile::commit() {
    if (::rename(temp_.c_str(), final_.c_str()) != 0) fail("cannot rename the finished file to");
    committed_ = true;
}

void sync_folder(const std::filesystem::path& folder) {
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0) ::close(fd);
        throw OutputError(err, "cannot sync the folder " + folder.string() + ": " + std::strerror(err));
    }
    ::close(fd);
}

CsvWriter::CsvWriter(AtomicFile& out, CsvStyle style)
    : out_(out), style_(style), sep_(style == CsvStyle::ExcelFi ? ';' : ',') {
    if (style_ == CsvStyle::ExcelFi) out_.write("\xEF\xBB\xBF");
}

void CsvWriter::field(std::string_view v) {
    if (!first_) out_.write(std::string_view(&sep_, 1));
    first_ = false;
    const bool formula = style_ == CsvStyle::ExcelFi && !v.empty() &&
                         (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r');
    // One look at each byte (find_first_of with a 4-byte set calls memchr for every byte).
    bool quote = formula;
    for (std::size_t i = 0; !quote && i < v.size(); ++i) {
        const char c = v[i];
        quote = c == sep_ || c == '"' || c == '\r' || c == '\n';
    }
    if (!quote) {
        out_.write(v);
        return;
    }
    out_.write("\"");
    if (formula) out_.write("'");
    std::size_t start = 0;
    for (std::size_t q = v.find('"'); q != std::string_view::npos; q = v.find('"', start)) {
        out_.write(v.substr(start, q - start + 1));
        out_.write("\"");
        start = q + 1;
    }
    out_.write(v.substr(start));
    out_.write("\"");
}

void CsvWriter::end_row() {
    out_.write("\r\n");
    first_ = true;
}

}  // namespace kohtaamo
