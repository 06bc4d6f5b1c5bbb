// export_cli.cpp — the export commands' shared options and run (see export_cli.hpp).
#include "export_cli.hpp"

#include <cstdio>
#include <functional>
#include <iostream>

#include <unistd.h>

namespace kohtaamo {

void add_export_options(CLI::App& app, ExportRequest& q) {
    app.add_option("--format", q.formats, std::string("Comma-separated: ") + export_format_names() + " (default: all)")
        ->delimiter(',');
    app.add_flag("--excel", q.excel, "CSV for Excel with Finnish settings: semicolons and a byte order mark");
    app.add_option("--from", q.from, "First day, YYYY-MM-DD (local time)");
    app.add_option("--to", q.to, "Last day, YYYY-MM-DD (local time)");
    app.add_option("--half-year", q.half_year, "2026H1, 2026H2, current or previous (the half-year follow-up)");
    app.add_option("--survey", q.surveys, "Only this survey (repeatable)");
    app.add_option("--site", q.sites, "Only this meeting point (repeatable)");
    app.add_flag("--include-abandoned", q.include_abandoned, "Also responses left unfinished");
    app.add_flag("--include-flagged", q.include_flagged, "Also responses the kiosk's mischief rule flagged");
    app.add_flag("--no-free-text", q.no_free_text, "Leave free-text answers out of every file");
    app.add_option("--lang", q.lang, "Report language: fi, sv or en (default: [export] report_language)");
    app.add_option("--min-group", q.min_group,
                   "Small-group protection: hide numbers over fewer answers (default: [export] min_group, 5)");
    app.add_option("--name", q.name, "File name prefix (default: kohtaamo-<date>)");
}

namespace {

int run_export(const std::string& program, const std::function<ExportResult(const ExportProgress&)>& run_it,
               bool quiet) {
    const bool bar = !quiet && isatty(STDERR_FILENO);
    int shown = -1;
    auto progress = [&](std::uint64_t done, std::uint64_t total) {
        if (!bar) return true;
        if (total == 0) {  // not counted first: the rows so far
            if (done % 65536 < 1024) std::fprintf(stderr, "\rExporting... %llu answers", static_cast<unsigned long long>(done));
            return true;
        }
        const int pct = total ? static_cast<int>(done * 100 / total) : 100;
        if (pct == shown) return true;
        shown = pct;
        const int width = 40, filled = pct * width / 100;
        std::fprintf(stderr, "\rExporting [%s%s] %3d%%  %llu/%llu answers", std::string(filled, '#').c_str(),
                     std::string(width - filled, '.').c_str(), pct, static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total));
        std::fflush(stderr);
        return true;
    };
    const ExportResult r = run_it(progress);
    if (bar) std::fputs("\n", stderr);
    if (!r.ok()) {
        std::cerr << program << ": " << to_string(r.status) << ": " << r.message << "\n";
        return 1;
    }
    if (!quiet) {
        std::cout << r.responses << " responses, " << r.answers << " answers";
        if (r.withheld) std::cout << " (" << r.withheld << " free-text answers left out)";
        std::cout << "\n";
        for (const auto& f : r.files) std::cout << f.string() << "\n";
    }
    return 0;
}

}  // namespace

int run_export_command(const std::string& program, const std::filesystem::path& db, const std::vector<Survey>& surveys,
                       const std::filesystem::path& out, const ExportOptions& options, bool quiet) {
    return run_export(
        program, [&](const ExportProgress& p) { return export_to_folder(db, surveys, out, options, p); }, quiet);
}

int run_export_command(const std::string& program, ExportDatabase& db, const std::vector<Survey>& surveys,
                       const std::filesystem::path& out, const ExportOptions& options, bool quiet) {
    return run_export(
        program, [&](const ExportProgress& p) { return export_to_folder(db, surveys, out, options, p); }, quiet);
}

}  // namespace kohtaamo
