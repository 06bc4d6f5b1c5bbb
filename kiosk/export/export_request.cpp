// export_request.cpp — one validation for every way of asking for an export (see
// export_request.hpp).
#include "export_request.hpp"

#include <algorithm>
#include <cstdio>

#include "local_time.hpp"
#include "toml_reader.hpp"

namespace kohtaamo {

const char* export_format_names() { return "wide, long, jsonl, report, xlsx"; }

std::optional<DateRange> half_year_range(const std::string& spec) {
    // 2026H1, 2026-H1, 2026h2
    if (spec.size() < 6 || !std::all_of(spec.begin(), spec.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::string_view rest = std::string_view(spec).substr(4);
    if (!rest.empty() && rest[0] == '-') rest.remove_prefix(1);
    if (rest.size() != 2 || (rest[0] != 'H' && rest[0] != 'h') || (rest[1] != '1' && rest[1] != '2')) return std::nullopt;
    const std::string year = spec.substr(0, 4);
    if (rest[1] == '1') return DateRange{year + "-01-01", year + "-06-30"};
    return DateRange{year + "-07-01", year + "-12-31"};
}

std::string half_year_of(std::int64_t now_ms, int offset) {
    LocalParts p = local_parts(now_ms);
    int index = p.year * 2 + (p.month <= 6 ? 0 : 1) + offset;
    return std::to_string(index / 2) + (index % 2 == 0 ? "H1" : "H2");
}

namespace {

// The report languages there is a catalogue for: report-<lang>.toml in `dir`.
std::vector<std::string> report_languages(const std::filesystem::path& dir) {
    std::vector<std::string> langs;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string f = e.path().filename().string();
        if (f.size() > 12 && f.rfind("report-", 0) == 0 && f.ends_with(".toml")) langs.push_back(f.substr(7, f.size() - 12));
    }
    std::sort(langs.begin(), langs.end());
    return langs;
}

// A prefix that is safe as a file name on any drive and inside an HTTP header's quotes.
bool usable_name(const std::string& s) {
    if (s.empty() || s.size() > 100 || s.front() == '.') return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"') return false;
    }
    return true;
}

}  // namespace

ExportOptions make_export_options(const ExportRequest& q, const ExportConfig& config,
                                  const std::string& default_language, const std::filesystem::path& texts_dir,
                                  std::int64_t now_ms) {
    ExportOptions o;
    o.now_ms = now_ms;
    o.texts_dir = texts_dir;

    o.xlsx = true;  // every format unless some are named
    if (!q.formats.empty()) {
        o.wide_csv = o.long_csv = o.jsonl = o.report = o.xlsx = false;
        for (const auto& f : q.formats) {
            if (f == "wide") o.wide_csv = true;
            else if (f == "long") o.long_csv = true;
            else if (f == "jsonl") o.jsonl = true;
            else if (f == "report") o.report = true;
            else if (f == "xlsx") o.xlsx = true;
            else throw ExportRequestError("format", "unknown format \"" + f + "\" (" + export_format_names() + ")");
        }
    }
    o.csv_style = q.excel ? CsvStyle::ExcelFi : CsvStyle::Rfc4180;

    std::string from = q.from, to = q.to;
    for (const auto& [option, date] : {std::pair<const char*, const std::string&>{"from", from}, {"to", to}})
        if (!date.empty() && !valid_date(date))
            throw ExportRequestError(option, "expected a date YYYY-MM-DD, not \"" + date + "\"");
    if (!q.half_year.empty()) {
        if (!from.empty() || !to.empty())
            throw ExportRequestError("half-year", "give either half-year or from/to, not both");
        const std::string spec = q.half_year == "current"    ? half_year_of(now_ms)
                                 : q.half_year == "previous" ? half_year_of(now_ms, -1)
                                                             : q.half_year;
        auto range = half_year_range(spec);
        if (!range)
            throw ExportRequestError("half-year", "expected e.g. 2026H1, 2026H2, current or previous, not \"" +
                                                      q.half_year + "\"");
        from = range->from;
        to = range->to;
    }
    if (!from.empty() && !to.empty() && from > to)
        throw ExportRequestError("to", "the period ends (" + to + ") before it starts (" + from + ")");
    if (!from.empty()) o.filter.from = from;
    if (!to.empty()) o.filter.to = to;

    for (const auto& [option, ids] :
         {std::pair<const char*, const std::vector<std::string>&>{"survey", q.surveys}, {"site", q.sites}})
        for (const auto& id : ids)
            if (id.empty()) throw ExportRequestError(option, "empty; give an id");
    o.filter.surveys = q.surveys;
    o.filter.sites = q.sites;
    o.filter.include_abandoned = q.include_abandoned;
    o.filter.include_flagged = q.include_flagged;
    o.filter.free_text = config.free_text && !q.no_free_text;

    if (q.min_group < 0 || q.min_group > 1000) throw ExportRequestError("min-group", "must be 1..1000");
    o.min_group = q.min_group > 0 ? q.min_group : config.min_group;

    o.report_language = !q.lang.empty() ? q.lang : config.report_language.value_or(default_language);
    if (!valid_language_tag(o.report_language))
        throw ExportRequestError("lang", "not a language code: \"" + o.report_language + "\"");
    if (o.report) {
        const auto langs = report_languages(texts_dir);
        if (std::find(langs.begin(), langs.end(), o.report_language) == langs.end()) {
            std::string have;
            for (const auto& l : langs) have += (have.empty() ? "" : ", ") + l;
            throw ExportRequestError("lang", "no report catalogue for \"" + o.report_language + "\" (there are: " +
                                                 (have.empty() ? "none" : have) + ")");
        }
    }

    if (q.name.empty()) {
        const LocalParts t = local_parts(now_ms);
        char today[32];
        std::snprintf(today, sizeof today, "%04d-%02d-%02d", t.year, t.month, t.day);
        o.name = std::string("kohtaamo-") + today;
    } else if (!usable_name(q.name)) {
        throw ExportRequestError("name", "not a usable file name prefix (1-100 bytes, no / \\ \" or control "
                                         "characters, not starting with a dot): \"" + q.name + "\"");
    } else {
        o.name = q.name;
    }
    return o;
}

}  // namespace kohtaamo
