#include "test_support.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kohtaamo::test {

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kohtaamo-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& file, const std::string& content) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

SmallDisk::SmallDisk(std::size_t bytes) {
    std::string opts = "size=" + std::to_string(bytes);
    if (mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) != 0)
        throw std::runtime_error("cannot mount a small tmpfs for the full-disk test (needs root): " +
                                 std::string(std::strerror(errno)));
}

SmallDisk::~SmallDisk() { umount2(dir_.path().c_str(), MNT_DETACH); }

void SmallDisk::fill() {
    int fd = ::open((dir_.path() / "ballast").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) throw std::runtime_error("cannot create ballast");
    char block[4096];
    std::memset(block, 'b', sizeof block);
    while (::write(fd, block, sizeof block) > 0) {
    }
    while (::write(fd, block, 1) > 0) {
    }
    ::close(fd);
}

void SmallDisk::unfill() { std::filesystem::remove(dir_.path() / "ballast"); }

Rows query(const std::filesystem::path& db, const std::string& sql) {
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = h ? sqlite3_errmsg(h) : "?";
        sqlite3_close(h);
        throw std::runtime_error("cannot open " + db.string() + ": " + msg);
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
        std::string msg = sqlite3_errmsg(h);
        sqlite3_close(h);
        throw std::runtime_error("bad query: " + msg);
    }
    Rows rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
            auto p = sqlite3_column_text(s, i);
            row.push_back(p ? reinterpret_cast<const char*>(p) : "NULL");
        }
        rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    sqlite3_close(h);
    return rows;
}

RunResult run_program(const std::vector<std::string>& argv) {
    TempDir dir;
    const auto out = dir / "stdout", err = dir / "stderr";
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = ::open("/dev/null", O_RDONLY);
        dup2(o, 1);
        dup2(e, 2);
        dup2(in, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

std::filesystem::path source_dir() { return KOHTAAMO_SOURCE_DIR; }
std::filesystem::path config_dir() { return source_dir() / "config"; }

std::filesystem::path copy_bundled_config(const std::filesystem::path& dir) {
    std::filesystem::copy(config_dir(), dir / "config", std::filesystem::copy_options::recursive);
    std::filesystem::copy(source_dir() / "assets", dir / "assets", std::filesystem::copy_options::recursive);
    return dir / "config" / "kiosk.toml";
}

}  // namespace kohtaamo::test
