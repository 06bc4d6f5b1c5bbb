// main.cpp — wires the kiosk together: command line, config, store, session, app.
//
//   kohtaamo [--config FILE] [--data DIR] [--fullscreen] [--headless] [--size WxH]
//            [--replay SCRIPT] [--check-config] [--version]
//
// Exit codes: 0 normal end, 1 a replay step failed (or --check-config found texts or sounds missing),
// 2 the configuration is broken,
// 3 the store cannot be opened, 4 the screen cannot be opened.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <regex>

#include <CLI/CLI.hpp>

#include "app.hpp"
#include "config.hpp"
#include "coordinator.hpp"
#include "export.hpp"
#include "kiosk_scene.hpp"
#include "replay.hpp"
#include "session.hpp"
#include "store.hpp"
#include "survey.hpp"
#include "uploader.hpp"

using namespace kohtaamo;

namespace {

struct Options {
    std::string config = default_kiosk_config().string();
    std::string data;
    std::string size;
    std::string replay;
    bool check_config = false;
    platform::AppOptions app;
};

// Runs `scene` as the app does: the replay script if one is given, else the main loop.
int run_scene(platform::App& app, platform::Scene& scene, Clock& clock, const Options& o) {
    if (o.replay.empty()) return app.run(scene);
    try {
        auto steps = platform::parse_replay(o.replay);
        platform::run_replay(o.replay, steps, app, scene, clock);
    } catch (const platform::ReplayError& e) {
        std::fprintf(stderr, "replay failed: %s\n", e.what());
        return 1;
    }
    return 0;
}

// The configuration is broken: say so on the terminal, and on the screen for staff when
// the kiosk was started full-screen (or a replay wants to see that screen).
int config_failure(const std::string& message, Clock& clock, const Options& o) {
    std::fprintf(stderr, "kohtaamo: configuration error: %s\n", message.c_str());
    if (o.app.fullscreen || !o.replay.empty()) {
        try {
            platform::App app(o.app, clock);
            ErrorScene scene(message);
            int rc = run_scene(app, scene, clock, o);
            if (rc != 0) return rc;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kohtaamo: cannot show the error on screen: %s\n", e.what());
        }
    }
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App cli{"Kohtaamo — the participation kiosk"};
    cli.set_version_flag("--version", std::string("kohtaamo ") + KOHTAAMO_VERSION);
    cli.add_option("--config", o.config, "Device config file")->capture_default_str();
    cli.add_option("--data", o.data, "Data folder: the database is DIR/kohtaamo.sqlite (overrides the config)");
    cli.add_flag("--fullscreen", o.app.fullscreen, "Full screen, for kiosk use");
    cli.add_flag("--headless", o.app.headless, "No display: SDL's offscreen driver and the software renderer");
    cli.add_flag("--software", o.app.software, "Use the software renderer in a window too");
    cli.add_option("--size", o.size, "Window size WxH, e.g. 1280x800")->check([](const std::string& s) {
        return std::regex_match(s, std::regex("[0-9]{3,4}x[0-9]{3,4}")) ? "" : "expected WxH, e.g. 1280x800";
    });
    cli.add_option("--replay", o.replay, "Run a replay script (see docs/replay.md) and exit")->check(CLI::ExistingFile);
    cli.add_flag("--check-config", o.check_config, "Check the config and surveys, print a summary, and exit");
    bool hash = false;
    cli.add_flag("--hash-pin", hash, "Read a coordinator PIN from standard input, print its hash for [coordinator] pin_hash");
    CLI11_PARSE(cli, argc, argv);
    if (hash) {
        std::string pin;
        std::getline(std::cin, pin);
        if (pin.size() < 4 || pin.size() > 12 || pin.find_first_not_of("0123456789") != std::string::npos) {
            std::fprintf(stderr, "kohtaamo: a PIN is 4 to 12 digits\n");
            return 2;
        }
        std::printf("%s\n", hash_pin(pin).c_str());
        return 0;
    }
    if (!o.size.empty()) std::sscanf(o.size.c_str(), "%dx%d", &o.app.width, &o.app.height);

    Clock clock;
    DeviceConfig config;
    std::vector<Survey> surveys;
    Catalog texts;
    ExportConfig export_config;
    std::vector<NewsItem> news;
    platform::Pictures pictures;
    sync::SyncConfig sync_config;
    try {
        // kiosk.toml and this device's settings file over it (config.hpp), read once.
        const TomlReader files = read_kiosk_config(o.config);
        config = load_device_config(files);
        if (!o.data.empty()) config.data_dir = std::filesystem::absolute(o.data);
        surveys = load_surveys(config.surveys_dir, config.languages, config.fallback_language, config.assets_dir);
        news = load_news(config.news_file, config.languages, config.fallback_language, config.assets_dir);
        texts = Catalog::load(config.texts_dir, config.languages, config.fallback_language);
        check_one_question(config, surveys);
        export_config = load_export_config(files);
        sync_config = sync::load_sync_config(files);
        sync_config.app_version = KOHTAAMO_VERSION;  // its health (PROTOCOL.md); no config bundles yet: 0
        // Every question's sound must decode (SDL reads the WAV; no audio device needed),
        // every icon must be one picture of the emoji font or a picture that decodes.
        check_sounds(surveys);
        check_media(surveys, news, pictures);
    } catch (const ConfigError& e) {
        return config_failure(e.what(), clock, o);
    } catch (const std::runtime_error& e) {
        std::fprintf(stderr, "kohtaamo: %s\n", e.what());  // the emoji font is not installed
        return 4;
    }
    if (o.check_config) {
        // Every text or question sound a language lacks (it shows or plays in the fallback
        // language), every text that will not fit the smallest screen, then the summary;
        // exit 1 when anything is missing or will not fit.
        std::vector<MissingText> missing = texts.missing_texts();
        for (const auto& s : surveys) missing.insert(missing.end(), s.missing_texts.begin(), s.missing_texts.end());
        for (const auto& m : missing) std::printf("%s\n", to_string(m).c_str());
        std::vector<std::string> cut;
        try {
            cut = check_fit(config, surveys, texts, news);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kohtaamo: cannot lay the screens out to check the texts' lengths: %s\n", e.what());
            return 4;
        }
        for (const auto& c : cut) std::printf("%s\n", c.c_str());
        std::printf("%s: ok — %zu surveys, languages", config.file.c_str(), surveys.size());
        for (const auto& l : config.languages) std::printf(" %s", l.c_str());
        std::printf(", database %s\n", config.database().c_str());
        if (!cut.empty()) std::printf("%zu text(s) will not fit at 800x480 even at the smallest size\n", cut.size());
        if (missing.empty()) return cut.empty() ? 0 : 1;
        const auto sounds = static_cast<std::size_t>(
            std::count_if(missing.begin(), missing.end(), [](const MissingText& m) { return m.what == "sound"; }));
        if (missing.size() > sounds)
            std::printf("%zu text(s) missing: they show in %s\n", missing.size() - sounds, config.fallback_language.c_str());
        if (sounds > 0) std::printf("%zu sound(s) missing: they play in %s\n", sounds, config.fallback_language.c_str());
        return 1;
    }

    std::unique_ptr<Store> store;
    try {
        store = std::make_unique<Store>(config.database(), clock.wall_ms());
        if (store->recovered() > 0)
            std::fprintf(stderr, "kohtaamo: %d response(s) left open by the last run marked abandoned\n",
                         store->recovered());
    } catch (const StoreError& e) {
        std::fprintf(stderr, "kohtaamo: %s\n", e.what());
        return 3;
    }

    o.app.rotation = config.rotation;

    std::unique_ptr<platform::App> app;
    try {
        app = std::make_unique<platform::App>(o.app, clock);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kohtaamo: %s\n", e.what());
        return 4;
    }
    app->pictures() = std::move(pictures);

    Session session(config, surveys, *store, clock);
    KioskScene scene(session, *store, config, texts, clock, export_config);
    scene.set_news(news);
    scene.set_audio(&app->audio());
    scene.set_wake([&a = *app] { a.wake(); });
    // The uploader works on its own thread and its own connection to the database; a
    // status change wakes the UI loop with an SDL user event (it never waits for sync).
    sync::Uploader uploader(config.database(), sync_config);
    platform::App& ui = *app;
    uploader.on_status_change([&ui](const sync::SyncStatus&) { ui.wake(); });
    scene.on_response_finished([&uploader] { uploader.nudge(); });
    uploader.start();
    const int rc = run_scene(*app, scene, clock, o);
    uploader.stop();
    return rc;

}
