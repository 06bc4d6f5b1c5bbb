// test_support.hpp — what many tests need: a temporary folder, writing a file, and
// reading rows back from an SQLite file with a separate connection (as a coordinator's
// SQLite tool would).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace kohtaamo::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& file, const std::string& content);
std::string read_file(const std::filesystem::path& file);

// A real small file system (tmpfs of `bytes`), mounted on a fresh folder for the test's
// lifetime: for provoking a genuinely full disk. Needs root (the tests run as root in CI);
// throws with a clear message otherwise.
class SmallDisk {
public:
    explicit SmallDisk(std::size_t bytes);
    ~SmallDisk();
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    const std::filesystem::path& path() const { return dir_.path(); }
    // Fills the disk with a ballast file until the next write fails.
    void fill();
    // Frees the ballast again.
    void unfill();

private:
    TempDir dir_;
};

using Rows = std::vector<std::vector<std::string>>;
// Runs `sql` on `db` through its own read-only connection; NULL reads as "NULL".
Rows query(const std::filesystem::path& db, const std::string& sql);

// Runs a program to completion (no shell), capturing its output.
struct RunResult {
    int exit_code = -1;  // -1 when it died by a signal
    std::string out, err;
};
RunResult run_program(const std::vector<std::string>& argv);

// The repository's own folders.
std::filesystem::path source_dir();
std::filesystem::path config_dir();
// A copy of the bundled config/ and assets/ as `dir`/config and `dir`/assets (for a test
// that changes a file); returns the copy's kiosk.toml.
std::filesystem::path copy_bundled_config(const std::filesystem::path& dir);

}  // namespace kohtaamo::test
