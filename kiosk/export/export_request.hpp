// export_request.hpp — what a coordinator asks an export for, as text, and its one
// validation. The command lines (kohtaamo-export, `kohtaamo-collector export`; their
// options in export_cli.hpp) and the collector's HTTP endpoint (GET /v1/export, the same
// names as query parameters) all fill an ExportRequest and turn it into ExportOptions
// here, so a period, a half-year or a format means the same thing everywhere and a
// mistake is reported the same way, naming the option.
//
// Does: check every value, resolve "current"/"previous" half-years against `now_ms`,
// apply the config's defaults (min_group, free_text, report_language). Does not: read
// files, the clock or the database.
#pragma once
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "export.hpp"

namespace kohtaamo {

struct ExportRequest {
    std::vector<std::string> formats;  // "wide", "long", "jsonl", "report", "xlsx"; empty = all five
    bool excel = false;                // CSV for Excel with Finnish settings
    std::string from, to;              // "YYYY-MM-DD", local dates, both included; "" = open
    std::string half_year;             // "2026H1", "2026H2", "current", "previous"; not with from/to
    std::vector<std::string> surveys;  // survey ids; empty = all
    std::vector<std::string> sites;    // meeting points; empty = all
    bool include_abandoned = false;
    bool include_flagged = false;
    bool no_free_text = false;  // can only withhold more than the config's free_text
    std::string lang;           // report language; "" = the config's
    int min_group = 0;          // 0 = the config's
    std::string name;           // file name prefix; "" = kohtaamo-<today>
};

// A request that cannot be honoured; `option()` is the option's name without dashes
// ("half-year", "format", ...), which is also the HTTP query parameter's name.
class ExportRequestError : public std::runtime_error {
public:
    ExportRequestError(std::string option, const std::string& message)
        : std::runtime_error(option + ": " + message), option_(std::move(option)) {}
    const std::string& option() const { return option_; }

private:
    std::string option_;
};

// The request as ExportOptions. `config` gives the defaults (its report_language, when
// unset, falls back to `default_language`); the report's catalogues must be in
// `texts_dir` (report-<lang>.toml) when a report is asked for. Throws ExportRequestError.
ExportOptions make_export_options(const ExportRequest& request, const ExportConfig& config,
                                  const std::string& default_language, const std::filesystem::path& texts_dir,
                                  std::int64_t now_ms);

// The formats' names, for messages: "wide, long, jsonl, report, xlsx".
const char* export_format_names();

}  // namespace kohtaamo
