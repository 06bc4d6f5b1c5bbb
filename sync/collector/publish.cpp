// publish.cpp — `kohtaamo-collector publish`, `bundle-keys` and `status` (issue #10): the
// county's one place to send surveys, texts, news and shared settings to every kiosk.
#include "publish.hpp"

#include <iomanip>
#include <iostream>

#include "bundle.hpp"
#include "clock.hpp"
#include "config_error.hpp"
#include "kiosk_setup.hpp"
#include "storage.hpp"
#include "toml_reader.hpp"
#include "../kiosk/core/config.hpp"

namespace kohtaamo::sync {

namespace fs = std::filesystem;

namespace {

std::int64_t wall_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The folder must hold what every kiosk shares, and nothing of a device's own.
void check_shared_only(const fs::path& kiosk_toml) {
    const TomlReader r(kiosk_toml);
    for (const auto& key : device_file_keys()) {
        const auto dot = key.find('.');
        const toml::node* table = r.root().get(key.substr(0, dot));
        const toml::node* node = table && table->is_table() ? table->as_table()->get(key.substr(dot + 1)) : nullptr;
        if (node)
            r.fail(node, key + " is this device's own setting (its device.toml, kohtaamo-enroll): a bundle carries only "
                              "what every kiosk shares");
    }
    const toml::node* kiosk = r.root().get("kiosk");
    if (kiosk && kiosk->is_table() && kiosk->as_table()->get("device"))
        r.fail(kiosk->as_table()->get("device"),
               "kiosk.device: a bundle's kiosk.toml names no device file (each kiosk keeps its own)");
}

bool inside(const fs::path& p, const fs::path& dir) {
    const fs::path rel = fs::weakly_canonical(p).lexically_relative(fs::weakly_canonical(dir));
    return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

int run_publish(Storage& storage, const fs::path& dir, const std::string& site, const fs::path& key_file) {
    const BundleKeys keys = read_bundle_secret(key_file);
    std::vector<std::pair<std::string, std::string>> files;
    try {
        files = read_bundle_folder(dir);
    } catch (const BundleError& e) {
        std::cerr << "kohtaamo-collector: publish: " << e.what() << "\n";
        return 2;
    }
    // The check kohtaamo --check-config makes (load_kiosk_setup), over the folder's
    // kiosk.toml with a stand-in device file giving only the site.
    const fs::path kiosk_toml = dir / "kiosk.toml";
    KioskSetup setup;
    try {
        check_shared_only(kiosk_toml);
        const std::string device = "[device]\nsite = \"" + (site.empty() ? std::string("publish-check") : site) + "\"\n";
        setup = load_kiosk_setup(read_kiosk_config_with(kiosk_toml, dir / "(each kiosk's device.toml)", device));
    } catch (const ConfigError& e) {
        std::cerr << "kohtaamo-collector: publish: refused, nothing published: " << e.what() << "\n";
        return 2;
    }
    for (const auto& [what, p] : {std::pair<const char*, fs::path>{"kiosk.surveys", setup.config.surveys_dir},
                                  {"kiosk.texts", setup.config.texts_dir},
                                  {"kiosk.news", setup.config.news_file},
                                  {"kiosk.assets", setup.config.assets_dir}}) {
        std::error_code ec;
        if (fs::exists(p, ec) && !inside(p, dir)) {
            std::cerr << "kohtaamo-collector: publish: refused: " << kiosk_toml.string() << ": " << what << " names "
                      << p.string() << ", outside the folder: a bundle carries its files itself (use a relative path)\n";
            return 2;
        }
    }
    // Two definitions under one survey id and version are refused.
    std::vector<BundleSurvey> surveys;
    for (const Survey& s : setup.surveys) {
        const std::string rel = fs::weakly_canonical(s.file).lexically_relative(fs::weakly_canonical(dir)).generic_string();
        auto f = std::find_if(files.begin(), files.end(), [&](const auto& x) { return x.first == rel; });
        if (f == files.end()) continue;
        BundleSurvey b{s.id, s.version, sha256_hex(f->second), f->second};
        for (const auto& [hash, source] : storage.survey_definition_hashes(s.id, s.version))
            if (hash != b.sha256) {
                std::cerr << "kohtaamo-collector: publish: refused: " << s.file << ":" << s.id_line << ": survey \""
                          << s.id << "\" version " << s.version << " is known with another definition (from " << source
                          << ", sha256 " << hash.substr(0, 12)
                          << "…); raise its version (answers keep the texts of the version they were given with)\n";
                return 2;
            }
        surveys.push_back(std::move(b));
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        StoredBundle b;
        b.version = storage.latest_bundle_version() + 1;
        b.site = site;
        b.created_at = iso8601_utc(wall_now_ms());
        const std::string file = pack_bundle(b.version, b.created_at, site, files, keys);
        b.sha256 = sha256_hex(file);
        if (!storage.store_bundle(b, file, surveys)) continue;  // another publish took the number
        std::uint64_t bytes = 0;
        for (const auto& f : files) bytes += f.second.size();
        std::cout << "published bundle version " << b.version << " for " << (site.empty() ? "every site" : "site " + site)
                  << ": " << files.size() << " files, " << bytes << " bytes, " << setup.surveys.size()
                  << " surveys; kiosks take it on their next sync\n";
        return 0;
    }
    std::cerr << "kohtaamo-collector: publish: other publishes kept taking the next version; try again\n";
    return 1;
}

int run_bundle_keys(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    const BundleKeys keys = make_bundle_keys();
    write_bundle_keys(dir, keys);
    std::cout << "# " << (dir / "bundle.key").string() << ": the signing key (mode 0600): only publish reads it\n"
              << "# " << (dir / "bundle.pub").string() << ": the public key every kiosk trusts; in its device.toml:\n"
              << "[sync]\nbundle_key = \"" << keys.public_hex << "\"\n";
    return 0;
}

int run_status(Storage& storage, std::ostream& out) {
    const auto list = storage.bundles();
    if (list.empty())
        out << "no bundle published yet\n";
    else
        out << "newest bundle: version " << list.back().version << " ("
            << (list.back().site.empty() ? std::string("every site") : "site " + list.back().site) << ", "
            << list.back().created_at << ")\n";
    out << std::left << std::setw(24) << "kiosk" << std::setw(24) << "site" << std::setw(9) << "bundle"
        << std::setw(26) << "last seen" << "refused\n";
    for (const auto& d : storage.bundle_status()) {
        out << std::setw(24) << d.device_name + (d.has_token ? "" : " (no token)") << std::setw(24)
            << (d.site.empty() ? "-" : d.site) << std::setw(9)
            << (d.running < 0 ? std::string("?") : d.running == 0 ? std::string("none") : std::to_string(d.running))
            << std::setw(26) << (d.reported_at.empty() ? std::string("never") : d.reported_at)
            << (d.error.empty() ? "-" : d.error) << "\n";
    }
    return 0;
}

}  // namespace kohtaamo::sync
