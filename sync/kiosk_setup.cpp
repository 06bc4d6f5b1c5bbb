#include "kiosk_setup.hpp"

#include "session.hpp"

namespace kohtaamo::sync {

KioskSetup load_kiosk_setup(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file) {
    return load_kiosk_setup(read_kiosk_config(kiosk_toml, device_file));
}

KioskSetup load_kiosk_setup(const TomlReader& files) {
    KioskSetup s;
    s.config = load_device_config(files);
    s.surveys = load_surveys(s.config.surveys_dir, s.config.languages, s.config.fallback_language, s.config.assets_dir);
    s.news = load_news(s.config.news_file, s.config.languages, s.config.fallback_language, s.config.assets_dir);
    s.texts = Catalog::load(s.config.texts_dir, s.config.languages, s.config.fallback_language);
    check_one_question(s.config, s.surveys);
    s.export_config = load_export_config(files);
    s.sync = load_sync_config(files);
    return s;
}

}  // namespace kohtaamo::sync
