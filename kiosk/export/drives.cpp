// drives.cpp — where an export can go (removable drives) and the [export] config table.
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include "config.hpp"
#include "export.hpp"
#include "toml_reader.hpp"

namespace kohtaamo {

namespace {

// /proc/self/mounts writes space, tab, newline and backslash as \040, \011, \012, \134.
std::string unescape_mount(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            int v = 0;
            bool ok = true;
            for (std::size_t k = 1; k <= 3; ++k) {
                char c = s[i + k];
                if (c < '0' || c > '7') ok = false;
                v = v * 8 + (c - '0');
            }
            if (ok) {
                out += static_cast<char>(v);
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// /media/X, /media/X/Y, /run/media/X/Y, /mnt/X — where desktops and usbmount put sticks.
bool usual_mount_point(const std::filesystem::path& p) {
    std::vector<std::string> parts;
    for (const auto& part : p.relative_path()) parts.push_back(part.string());
    if (parts.size() >= 2 && parts.size() <= 3 && parts[0] == "media") return true;
    if (parts.size() == 4 && parts[0] == "run" && parts[1] == "media") return true;
    if (parts.size() == 2 && parts[0] == "mnt") return true;
    return false;
}

std::optional<Drive> drive_at(const std::filesystem::path& p) {
    struct statvfs v {};
    if (::statvfs(p.c_str(), &v) != 0) return std::nullopt;
    Drive d;
    d.path = p;
    d.label = p.filename().string();
    d.free_bytes = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
    d.total_bytes = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
    d.read_only = (v.f_flag & ST_RDONLY) != 0;
    return d;
}

}  // namespace

std::vector<Drive> find_removable_drives(const std::optional<std::filesystem::path>& configured,
                                         const std::filesystem::path& mounts) {
    std::vector<Drive> out;
    std::set<std::filesystem::path> seen;
    std::ifstream in(mounts);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string device, point;
        if (!(fields >> device >> point)) continue;
        std::filesystem::path p = unescape_mount(point);
        if (!usual_mount_point(p) || !seen.insert(p).second) continue;
        if (auto d = drive_at(p)) out.push_back(std::move(*d));
    }
    if (configured && !seen.count(*configured)) {
        std::error_code ec;
        struct stat at {}, root {};
        if (std::filesystem::is_directory(*configured, ec) && ::stat(configured->c_str(), &at) == 0 &&
            ::stat("/", &root) == 0 && at.st_dev != root.st_dev)
            if (auto d = drive_at(*configured)) out.push_back(std::move(*d));
    }
    return out;
}

void read_export_table(const TomlReader& r, const toml::table& t, const std::string& where, ExportConfig& c) {
    auto min = r.integer_or(t, "min_group", c.min_group, where);
    if (min < 1 || min > 1000) r.fail(t.get("min_group"), where + ".min_group must be 1..1000");
    c.min_group = static_cast<int>(min);
    if (auto csv = r.optional_string(t, "csv", where)) {
        if (*csv == "excel-fi") c.csv_style = CsvStyle::ExcelFi;
        else if (*csv == "rfc4180") c.csv_style = CsvStyle::Rfc4180;
        else r.fail(t.get("csv"), where + ".csv must be \"excel-fi\" or \"rfc4180\"");
    }
    c.free_text = r.boolean_or(t, "free_text", c.free_text, where);
    if (auto lang = r.optional_string(t, "report_language", where)) c.report_language = lang;
}

ExportConfig load_export_config(const std::filesystem::path& kiosk_toml) {
    return load_export_config(read_kiosk_config(kiosk_toml));
}

ExportConfig load_export_config(const TomlReader& r) {
    ExportConfig c;
    const toml::table* t = r.root()["export"].as_table();
    if (!t) {
        if (r.root().get("export")) r.fail(r.root().get("export"), "export must be a table ([export])");
        return c;
    }
    r.only_keys(*t, {"drive", "min_group", "csv", "free_text", "report_language"}, "export");
    if (auto drive = r.optional_string(*t, "drive", "export")) {
        c.drive = r.resolve(t->get("drive"), *drive);
    }
    read_export_table(r, *t, "export", c);
    return c;
}

}  // namespace kohtaamo
