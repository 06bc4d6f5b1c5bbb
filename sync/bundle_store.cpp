#include "bundle_store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bundle.hpp"
#include "config_error.hpp"
#include "http_client.hpp"
#include "sync_config.hpp"

namespace kohtaamo::sync {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void io_error(const std::string& what) {
    throw BundleError("no_space", what + ": " + std::strerror(errno));
}

void fsync_path(const fs::path& p, bool directory) {
    const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) io_error("cannot open " + p.string());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) io_error("cannot fsync " + p.string());
}

void write_file(const fs::path& p, std::string_view bytes) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) io_error("cannot create " + p.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            io_error("cannot write " + p.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        io_error("cannot fsync " + p.string());
    }
    ::close(fd);
}

// "17" → 17; anything else (17.tmp, current, last-error) → 0.
std::int64_t version_of(const std::string& name) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
    if (ec != std::errc() || end != name.data() + name.size() || name.empty() || name[0] == '0') return 0;
    return v;
}

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Refusals that the same bytes would always get: the kiosk does not fetch that version again.
bool for_good(const std::string& code) { return code == "other_key" || code == "config" || code == "not_newer"; }

}  // namespace

BundleStore::BundleStore(fs::path data_dir) : root_(std::move(data_dir) / "bundles") {}

void BundleStore::recover() {
    std::error_code ec;
    if (!fs::is_directory(root_, ec)) return;
    for (const auto& e : fs::directory_iterator(root_, ec)) {
        const std::string name = e.path().filename().string();
        if ((name.size() > 4 && name.substr(name.size() - 4) == ".tmp") || name == "current.new" ||
            name == "last-error.new")
            fs::remove_all(e.path(), ec);
    }
}

std::int64_t BundleStore::current_version() const {
    std::error_code ec;
    const fs::path target = fs::read_symlink(root_ / "current", ec);
    if (ec) return 0;
    const std::int64_t v = version_of(target.string());
    return v > 0 && fs::is_directory(folder(v), ec) ? v : 0;
}

std::int64_t BundleStore::newest_version() const {
    std::int64_t best = 0;
    std::error_code ec;
    if (!fs::is_directory(root_, ec)) return 0;
    for (const auto& e : fs::directory_iterator(root_, ec))
        if (e.is_directory() && !e.is_symlink()) best = std::max(best, version_of(e.path().filename().string()));
    return best;
}

std::int64_t BundleStore::stage(std::string_view bytes, const std::string& public_key,
                                const std::function<void(const fs::path&)>& check) {
    std::lock_guard lock(stage_mutex_);
    // VERIFY
    const OpenedBundle b = open_bundle(bytes, public_key);
    const std::int64_t v = b.manifest.version;
    const std::int64_t held = std::max(current_version(), newest_version());
    if (v <= held)
        throw BundleError("not_newer", "version " + std::to_string(v) + " is not newer than version " +
                                           std::to_string(held) + " which this kiosk has (a replayed old bundle)");
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) throw BundleError("no_space", "cannot make " + root_.string() + ": " + ec.message());
    prune();
    struct statvfs st {};
    std::uint64_t need = 1 << 20;  // and a MiB to spare
    for (const auto& f : b.manifest.files) need += f.size + 4096;
    if (::statvfs(root_.c_str(), &st) == 0) {
        const std::uint64_t free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
        if (free < need)
            throw BundleError("no_space", "version " + std::to_string(v) + " needs " + std::to_string(need >> 10) +
                                              " KiB, the disk has " + std::to_string(free >> 10) + " KiB free");
    }
    // STAGE
    const fs::path tmp = root_ / (std::to_string(v) + ".tmp");
    fs::remove_all(tmp, ec);
    try {
        std::vector<fs::path> dirs = {tmp};
        fs::create_directory(tmp);
        for (std::size_t i = 0; i < b.manifest.files.size(); ++i) {
            const fs::path p = tmp / b.manifest.files[i].path;
            if (!fs::exists(p.parent_path())) {
                fs::create_directories(p.parent_path());
                for (fs::path d = p.parent_path(); d != tmp; d = d.parent_path()) dirs.push_back(d);
            }
            write_file(p, b.contents[i]);
        }
        for (const auto& d : dirs) fsync_path(d, true);
        // CHECK
        try {
            check(tmp);
        } catch (const ConfigError& e) {
            std::string where = e.what();
            const std::string prefix = tmp.string() + "/";
            for (std::size_t at; (at = where.find(prefix)) != std::string::npos;) where.erase(at, prefix.size());
            throw BundleError("config", "version " + std::to_string(v) + " fails the config check: " + where);
        }
        // READY
        if (::rename(tmp.c_str(), folder(v).c_str()) != 0) io_error("cannot rename " + tmp.string());
        fsync_path(root_, true);
    } catch (const fs::filesystem_error& e) {
        fs::remove_all(tmp, ec);
        throw BundleError("no_space", std::string("cannot stage the bundle: ") + e.what());
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    clear_last_error();
    return v;
}

void BundleStore::switch_to(std::int64_t version) {
    const fs::path next = root_ / "current.new";
    std::error_code ec;
    fs::remove(next, ec);
    if (::symlink(std::to_string(version).c_str(), next.c_str()) != 0) io_error("cannot link " + next.string());
    if (::rename(next.c_str(), (root_ / "current").c_str()) != 0) io_error("cannot switch " + root_.string() + "/current");
    fsync_path(root_, true);
}

void BundleStore::prune() {
    const std::int64_t cur = current_version();
    std::error_code ec;
    std::vector<std::int64_t> older;
    for (const auto& e : fs::directory_iterator(root_, ec)) {
        const std::int64_t v = version_of(e.path().filename().string());
        if (v > 0 && v < cur) older.push_back(v);
    }
    std::sort(older.begin(), older.end());
    if (!older.empty()) older.pop_back();  // the previous one stays (a child may still be on it)
    for (std::int64_t v : older) fs::remove_all(folder(v), ec);
}

std::string BundleStore::last_error() const {
    std::ifstream in(root_ / "last-error");
    std::string refused, line;
    std::getline(in, refused);
    std::getline(in, line);
    return line;
}

std::int64_t BundleStore::refused_version() const {
    std::ifstream in(root_ / "last-error");
    std::string refused;
    std::getline(in, refused);
    return version_of(refused);
}

void BundleStore::set_last_error(const std::string& error, std::int64_t refused) {
    std::error_code ec;
    fs::create_directories(root_, ec);
    std::string line = error;
    for (char& c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    if (line.size() > 1000) line.resize(1000);
    try {
        write_file(root_ / "last-error.new", std::to_string(refused) + "\n" + line + "\n");
        if (::rename((root_ / "last-error.new").c_str(), (root_ / "last-error").c_str()) == 0) fsync_path(root_, true);
    } catch (const BundleError&) {
        // A full disk: the error is still logged and in memory for this run.
    }
}

void BundleStore::clear_last_error() {
    std::error_code ec;
    if (fs::remove(root_ / "last-error", ec)) fsync_path(root_, true);
}

namespace {

std::int64_t stage_and_report(std::string_view bytes, const std::string& public_key, BundleStore& store,
                              const BundleHooks& hooks) {
    try {
        const std::int64_t v = store.stage(bytes, public_key, hooks.check);
        if (hooks.log) hooks.log("bundle version " + std::to_string(v) + " verified and staged; switching in on the welcome screen");
        if (hooks.ready) hooks.ready(v);
        return v;
    } catch (const BundleError& e) {
        std::int64_t version = 0;
        try {
            version = peek_bundle(bytes).version;
        } catch (const BundleError&) {
        }
        const std::string line = e.code() + ": " + e.what();
        store.set_last_error(line, for_good(e.code()) ? version : 0);
        if (hooks.log) hooks.log("bundle refused, keeping version " + std::to_string(store.current_version()) + ": " + line);
        throw;
    }
}

}  // namespace

void fetch_bundle(HttpClient& http, const SyncConfig& config, BundleStore& store, const BundleHooks& hooks) {
    if (config.bundle_key.empty()) return;
    const std::int64_t running = store.current_version();
    const std::int64_t have = std::max(running, store.newest_version());
    const std::string url = config.endpoint + "/v1/bundle?have=" + std::to_string(have) +
                            "&running=" + std::to_string(running) + "&refused=" + std::to_string(store.refused_version()) +
                            "&site=" + percent_encode(hooks.site) + "&error=" + percent_encode(store.last_error());
    HttpResult r = http.get(url, {"Authorization: Bearer " + config.token, "Accept: application/vnd.kohtaamo.bundle"},
                            kMaxBundleBytes);
    if (!r.transport_ok) {
        if (!r.stopped && hooks.log) hooks.log("GET /v1/bundle: " + r.error);
        return;
    }
    if (r.status == 304) return;
    if (r.status != 200) {
        if (hooks.log) hooks.log("GET /v1/bundle: HTTP " + std::to_string(r.status));
        return;
    }
    try {
        stage_and_report(r.body, config.bundle_key, store, hooks);
    } catch (const BundleError&) {
        // recorded; reported on the next fetch
    }
}

std::int64_t apply_bundle_file(const fs::path& file, const std::string& public_key, BundleStore& store,
                               const BundleHooks& hooks) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw BundleError("malformed", file.string() + ": cannot read");
    std::ostringstream s;
    s << in.rdbuf();
    const std::string bytes = s.str();
    return stage_and_report(bytes, public_key, store, hooks);
}

}  // namespace kohtaamo::sync
