// export_fixtures.hpp — what the export tests share: kiosk databases made with the real
// Store, the bundled surveys, and running the independent readers (Python's csv, json and
// html.parser; xmllint; Chromium) as separate processes.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "clock.hpp"
#include "config.hpp"
#include "export.hpp"
#include "local_time.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "survey.hpp"
#include "test_support.hpp"

namespace kohtaamo::test {

// Local dates, weeks and half-years are Helsinki's in every test, whatever the machine's zone.
inline const bool kHelsinki = [] {
    ::setenv("TZ", "Europe/Helsinki", 1);
    ::tzset();
    return true;
}();

// 2026-03-10 12:00 in Helsinki (UTC+2).
inline const std::int64_t kT0 = *local_midnight("2026-03-10") + 12 * 3'600'000LL;

inline const std::vector<Survey>& bundled_surveys() {
    static const std::vector<Survey> s = load_surveys(config_dir() / "surveys", {"fi", "sv", "en"});
    return s;
}

// A kiosk database filled through the real Store (synchronous off: the tests need speed,
// not power-cut safety).
class KioskDb {
public:
    explicit KioskDb(const std::filesystem::path& file) : store_(file, kT0) { store_.exec("PRAGMA synchronous = OFF"); }

    // One response: answers {question, values...}, then finished with `status` (or left in progress).
    void add(const std::string& id, const std::string& survey, std::int64_t at_ms,
             const std::vector<std::pair<std::string, std::vector<std::string>>>& answers,
             ResponseStatus status = ResponseStatus::Complete, const std::string& site = "kalliola",
             const std::string& language = "fi") {
        ResponseHeader h{id, survey, 1, language, site, "", at_ms};
        std::int64_t t = at_ms;
        for (const auto& [q, values] : answers) store_.save_answer(h, q, values, t += 1000);
        if (status != ResponseStatus::InProgress) store_.finish(id, status, t + 1000);
    }
    void flag(const std::string& id) {
        Statement(store_.handle(), "UPDATE responses SET flagged = 1 WHERE id = ?").bind(1, id).run();
    }
    const std::filesystem::path& path() const { return store_.path(); }

private:
    Store store_;
};

// Runs a command and returns its standard output; fails the test on a non-zero exit.
inline std::string run(const std::string& command, int* exit_code = nullptr) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + command);
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (exit_code) *exit_code = code;
    else if (code != 0) throw std::runtime_error("command failed (" + std::to_string(code) + "): " + command);
    return out;
}

inline std::string shell_quote(const std::string& s) { return "'" + s + "'"; }
inline std::string shell_quote(const std::filesystem::path& p) { return shell_quote(p.string()); }

inline std::string read_back(const std::string& kind, const std::filesystem::path& file, const std::string& extra = "") {
    return run(std::string(KOHTAAMO_PYTHON3) + " " + shell_quote(source_dir() / "tests/export/read_back.py") + " " + kind +
               " " + shell_quote(file) + (extra.empty() ? "" : " '" + extra + "'"));
}

// The rows of a CSV file as Python's csv module reads them; `bom` tells whether it began with one.
inline Rows read_csv(const std::filesystem::path& file, char sep, bool* bom = nullptr) {
    auto j = nlohmann::json::parse(read_back("csv", file, std::string(1, sep)));
    if (bom) *bom = j["bom"].get<bool>();
    return j["rows"].get<Rows>();
}

inline ExportOptions options_for(const std::string& name = "t") {
    ExportOptions o;
    o.name = name;
    o.now_ms = kT0 + 86'400'000LL * 120;
    o.texts_dir = config_dir() / "lang";
    return o;
}

// The files in a folder, hidden ones too, sorted.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace kohtaamo::test
