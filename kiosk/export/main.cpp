// kohtaamo-export — the command-line tool over the export library (docs/export.md).
//
//   kohtaamo-export --out /media/usb [--db FILE] [--half-year 2026H1] [--excel] ...
//
// Reads the device config for the database, the survey files, the text catalogues and
// the [export] table; --db takes any SQLite file with the kiosk's tables (the collector's
// too). Draws a progress bar on stderr when stderr is a terminal.
#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "clock.hpp"
#include "config.hpp"
#include "export.hpp"
#include "local_time.hpp"

using namespace kohtaamo;

int main(int argc, char** argv) {
    CLI::App app{"Export Kohtaamo responses as CSV, JSON Lines and an HTML report."};
    std::string config = std::string(KOHTAAMO_SOURCE_DIR) + "/config/kiosk.toml";
    std::string db, surveys_dir, texts_dir, out, half_year, from, to, lang, name, formats = "wide,long,jsonl,report";
    std::vector<std::string> survey_ids, sites;
    bool excel = false, abandoned = false, flagged = false, no_free_text = false, quiet = false;
    int min_group = 0;
    app.add_option("-c,--config", config, "Device config (kiosk.toml): database, surveys, texts, [export]")->check(CLI::ExistingFile);
    app.add_option("--db", db, "SQLite file to export (the kiosk's or the collector's); default: the config's");
    app.add_option("--surveys", surveys_dir, "Survey files for question order and labels; default: the config's");
    app.add_option("--texts", texts_dir, "Text catalogues (report-<lang>.toml); default: the config's");
    app.add_option("-o,--out", out, "Folder to write into (must exist)")->required();
    app.add_option("--format", formats, "Comma-separated: wide, long, jsonl, report (default: all)");
    app.add_flag("--excel", excel, "CSV for Excel with Finnish settings: semicolons and a byte order mark");
    app.add_option("--from", from, "First day, YYYY-MM-DD (local time)");
    app.add_option("--to", to, "Last day, YYYY-MM-DD (local time)");
    app.add_option("--half-year", half_year, "2026H1, 2026H2, current or previous (the half-year follow-up)");
    app.add_option("--survey", survey_ids, "Only this survey (repeatable)");
    app.add_option("--site", sites, "Only this meeting point (repeatable)");
    app.add_flag("--include-abandoned", abandoned, "Also responses left unfinished");
    app.add_flag("--include-flagged", flagged, "Also responses the kiosk's mischief rule flagged");
    app.add_flag("--no-free-text", no_free_text, "Leave free-text answers out of every file");
    app.add_option("--lang", lang, "Report language: fi, sv or en (default: [export] report_language, else the kiosk's first)");
    app.add_option("--min-group", min_group, "Small-group protection: hide numbers over fewer answers (default: [export] min_group, 5)");
    app.add_option("--name", name, "File name prefix (default: kohtaamo-<date>)");
    app.add_flag("-q,--quiet", quiet, "No progress bar, no summary");
    CLI11_PARSE(app, argc, argv);

    try {
        const DeviceConfig device = load_device_config(config);
        const ExportConfig ec = load_export_config(config);
        const Clock clock;
        ExportOptions o;
        o.now_ms = clock.wall_ms();
        if (!half_year.empty()) {
            std::string spec = half_year == "current" ? half_year_of(o.now_ms) : half_year == "previous" ? half_year_of(o.now_ms, -1) : half_year;
            auto range = half_year_range(spec);
            if (!range) {
                std::cerr << "kohtaamo-export: --half-year: expected e.g. 2026H1, 2026H2, current or previous, not \"" << half_year << "\"\n";
                return 2;
            }
            if (!from.empty() || !to.empty()) {
                std::cerr << "kohtaamo-export: give either --half-year or --from/--to\n";
                return 2;
            }
            from = range->from;
            to = range->to;
        }
        if (!from.empty()) o.filter.from = from;
        if (!to.empty()) o.filter.to = to;
        o.filter.surveys = survey_ids;
        o.filter.sites = sites;
        o.filter.include_abandoned = abandoned;
        o.filter.include_flagged = flagged;
        o.filter.free_text = ec.free_text && !no_free_text;
        o.wide_csv = o.long_csv = o.jsonl = o.report = false;
        for (const auto& f : CLI::detail::split(formats, ',')) {
            if (f == "wide") o.wide_csv = true;
            else if (f == "long") o.long_csv = true;
            else if (f == "jsonl") o.jsonl = true;
            else if (f == "report") o.report = true;
            else {
                std::cerr << "kohtaamo-export: --format: unknown format \"" << f << "\" (wide, long, jsonl, report)\n";
                return 2;
            }
        }
        o.csv_style = excel ? CsvStyle::ExcelFi : CsvStyle::Rfc4180;
        o.report_language = !lang.empty() ? lang : ec.report_language.value_or(device.languages.front());
        o.min_group = min_group > 0 ? min_group : ec.min_group;
        o.texts_dir = texts_dir.empty() ? device.texts_dir : std::filesystem::path(texts_dir);
        if (name.empty()) {
            const LocalParts t = local_parts(o.now_ms);
            char today[16];
            std::snprintf(today, sizeof today, "%04d-%02d-%02d", t.year, t.month, t.day);
            name = std::string("kohtaamo-") + today;
        }
        o.name = name;
        const auto surveys = load_surveys(surveys_dir.empty() ? device.surveys_dir : std::filesystem::path(surveys_dir), device.languages);

        const bool bar = !quiet && isatty(STDERR_FILENO);
        int shown = -1;
        auto progress = [&](std::uint64_t done, std::uint64_t total) {
            if (!bar) return true;
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
        const ExportResult r = export_to_folder(db.empty() ? device.database() : std::filesystem::path(db), surveys, out, o, progress);
        if (bar) std::fputs("\n", stderr);
        if (!r.ok()) {
            std::cerr << "kohtaamo-export: " << to_string(r.status) << ": " << r.message << "\n";
            return 1;
        }
        if (!quiet) {
            std::cout << r.responses << " responses, " << r.answers << " answers";
            if (r.withheld) std::cout << " (" << r.withheld << " free-text answers left out)";
            std::cout << "\n";
            for (const auto& f : r.files) std::cout << f.string() << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "kohtaamo-export: " << e.what() << "\n";
        return 1;
    }
}
