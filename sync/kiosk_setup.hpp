// kiosk_setup.hpp — everything the kiosk reads from its configuration, loaded in one place:
// kiosk.toml with the device file over it, the surveys, the news, the UI texts, the event
// mode's check, [export] and [sync]. `kohtaamo` at start and `--check-config`, the kiosk
// checking a bundle it has staged, and `kohtaamo-collector publish` checking a folder all
// call load_kiosk_setup(), so they refuse the same things with the same file:line.
// (The checks that need SDL and the fonts — every sound decodes, every icon is one
// picture, texts fit the screen — are the kiosk's own, kiosk_scene.hpp; the kiosk runs
// them on a staged bundle too before it switches to it.)
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "../kiosk/core/config.hpp"  // the kiosk's (the collector has a config.hpp of its own)
#include "export.hpp"
#include "news.hpp"
#include "survey.hpp"
#include "sync_config.hpp"

namespace kohtaamo::sync {

struct KioskSetup {
    DeviceConfig config;
    std::vector<Survey> surveys;
    std::vector<NewsItem> news;
    Catalog texts;
    ExportConfig export_config;
    SyncConfig sync;
    std::int64_t bundle_version = 0;  // 0: the installed configuration, no bundle
};

// Loads `kiosk_toml` with `device_file` over it (empty: the one kiosk.toml names, if any).
// Throws ConfigError naming file:line.
KioskSetup load_kiosk_setup(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file = {});
// The same over files already read (read_kiosk_config, read_kiosk_config_with).
KioskSetup load_kiosk_setup(const TomlReader& files);

}  // namespace kohtaamo::sync
