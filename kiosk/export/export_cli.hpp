// export_cli.hpp — the export's command-line options and its run, shared by the two
// commands that export: kohtaamo-export (a kiosk's or any database) and
// `kohtaamo-collector export` (the collector's). Both take the same options, spelled the
// same, so what a coordinator learns for one works for the other; the collector's HTTP
// endpoint takes the same names as query parameters (export_request.hpp).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "export.hpp"
#include "export_request.hpp"

namespace kohtaamo {

// Adds --format, --excel, --from, --to, --half-year, --survey, --site,
// --include-abandoned, --include-flagged, --no-free-text, --lang, --min-group and --name
// to `app` (a command or a subcommand), filling `request`.
void add_export_options(CLI::App& app, ExportRequest& request);

// Runs the export with a progress bar on stderr (when it is a terminal and not `quiet`),
// then prints what was written. Returns the exit code: 0 done, 1 failed (the reason on
// stderr, prefixed with `program`).
int run_export_command(const std::string& program, const std::filesystem::path& db, const std::vector<Survey>& surveys,
                       const std::filesystem::path& out, const ExportOptions& options, bool quiet);
// The same from an open database (the collector's storage).
int run_export_command(const std::string& program, ExportDatabase& db, const std::vector<Survey>& surveys,
                       const std::filesystem::path& out, const ExportOptions& options, bool quiet);

}  // namespace kohtaamo
