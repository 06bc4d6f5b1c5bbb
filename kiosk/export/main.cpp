// kohtaamo-export — the command-line tool over the export library (docs/export.md).
//
//   kohtaamo-export --out /media/usb [--db FILE] [--half-year 2026H1] [--excel] ...
//   kohtaamo-export --key k1.secret --db kohtaamo.sqlite|FILE.delivery.jsonl --out DIR ...
//                   sealed answers opened with the county's secret key (a locked key file's
//                   passphrase is read from stdin); docs/security.md
//
// Reads the device config for the database, the survey files, the text catalogues and
// the [export] table; --db takes any SQLite file with the kiosk's tables (the collector's
// too). The export options themselves are shared with `kohtaamo-collector export`
// (export_cli.hpp). Draws a progress bar on stderr when stderr is a terminal.
#include <iostream>

#include <CLI/CLI.hpp>

#include "clock.hpp"
#include "config.hpp"
#include "delivery.hpp"
#include "export_cli.hpp"
#include "seal.hpp"

using namespace kohtaamo;

int main(int argc, char** argv) {
    CLI::App app{"Export Kohtaamo responses as CSV, JSON Lines and an HTML report."};
    std::string config = default_kiosk_config().string();
    std::string db, surveys_dir, texts_dir, out;
    bool quiet = false;
    ExportRequest request;
    app.add_option("-c,--config", config, "Kiosk config (kiosk.toml, default /etc/kohtaamo/kiosk.toml when installed): database, surveys, texts, [export]")->check(CLI::ExistingFile);
    app.add_option("--db", db, "SQLite file to export (the kiosk's or the collector's); default: the config's");
    app.add_option("--surveys", surveys_dir, "Survey files for question order and labels; default: the config's");
    app.add_option("--texts", texts_dir, "Text catalogues (report-<lang>.toml); default: the config's");
    app.add_option("-o,--out", out, "Folder to write into (must exist)")->required();
    add_export_options(app, request);
    app.add_flag("-q,--quiet", quiet, "No progress bar, no summary");
    std::vector<std::string> key_files;
    app.add_option("--key", key_files,
                   "A secret key file that opens sealed answers (repeatable); --db may then be a kiosk's delivery "
                   "file too. A locked key file's passphrase is read from stdin");
    CLI11_PARSE(app, argc, argv);

    try {
        const TomlReader files = read_kiosk_config(config);
        const DeviceConfig device = load_device_config(files);
        const ExportConfig ec = load_export_config(files);
        ExportOptions o;
        try {
            o = make_export_options(request, ec, device.languages.front(),
                                    texts_dir.empty() ? device.texts_dir : std::filesystem::path(texts_dir),
                                    Clock().wall_ms());
        } catch (const ExportRequestError& e) {
            std::cerr << "kohtaamo-export: --" << e.what() << "\n";
            return 2;
        }
        const auto surveys = load_surveys(surveys_dir.empty() ? device.surveys_dir : std::filesystem::path(surveys_dir), device.languages);
        const std::filesystem::path source = db.empty() ? device.database() : std::filesystem::path(db);
        if (key_files.empty() && !sync::is_delivery_file(source))
            return run_export_command("kohtaamo-export", source, surveys, out, o, quiet);
        if (key_files.empty()) {
            std::cerr << "kohtaamo-export: " << source.string()
                      << " is a delivery file: its answers are sealed; give the key with --key FILE\n";
            return 2;
        }
        SealKeyring keys;
        for (const auto& f : key_files) {
            std::string pass;
            if (is_wrapped_key_file(f)) std::getline(std::cin, pass);
            try {
                keys.add(load_seal_key_file(f, pass));
            } catch (const SealError& e) {
                std::cerr << "kohtaamo-export: --key " << e.what() << "\n";
                return 2;
            }
        }
        std::unique_ptr<ExportDatabase> opened;
        try {
            opened = sync::is_delivery_file(source) ? sync::open_delivery_export_database(source, keys)
                                                    : open_sealed_export_database(source, keys);
        } catch (const std::exception& e) {
            std::cerr << "kohtaamo-export: " << e.what() << "\n";
            return 1;
        }
        return run_export_command("kohtaamo-export", *opened, surveys, out, o, quiet);
    } catch (const std::exception& e) {
        std::cerr << "kohtaamo-export: " << e.what() << "\n";
        return 1;
    }
}
