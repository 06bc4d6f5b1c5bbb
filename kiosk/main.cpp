// main.cpp — wires the kiosk together: command line, config, store, session, app.
//
//   kohtaamo [--config FILE] [--data DIR] [--fullscreen] [--headless] [--size WxH]
//            [--replay SCRIPT] [--check-config] [--version]
//
// Exit codes: 0 normal end, 1 a replay step failed (or --check-config found texts or sounds missing),
// 2 the configuration is broken,
// 3 the store could not be opened before the kiosk was stopped (until then it rests and
// retries), 4 the screen cannot be opened.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <fstream>
#include <mutex>
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
#include "protocol.hpp"
#include "uploader.hpp"
#include "bundle.hpp"
#include "bundle_store.hpp"
#include "delivery.hpp"
#include "kiosk_setup.hpp"

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

// The kiosk's scene with one thing more: between frames, on the welcome screen, a survey
// bundle that is ready is switched in (`switch_in` returns true when it did).
class BundleScene : public platform::Scene {
public:
    BundleScene(KioskScene& inner, std::function<bool()> switch_in) : inner_(inner), switch_in_(std::move(switch_in)) {}
    void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) override {
        inner_.draw(m, fonts, icon, reg);
    }
    bool tick() override {
        const bool switched = switch_in_();
        return inner_.tick() || switched;
    }
    std::optional<std::int64_t> deadline() const override { return inner_.deadline(); }
    bool animating() const override { return inner_.animating(); }
    void input() override { inner_.input(); }
    void reset() override { inner_.reset(); }
    bool wants_quit() const override { return inner_.wants_quit(); }

private:
    KioskScene& inner_;
    std::function<bool()> switch_in_;
};

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
    std::unique_ptr<sync::BundleStore> bundles;
    std::filesystem::path device_file;
    std::int64_t bundle_version = 0;
    // Everything the kiosk reads from a configuration, checked as --check-config checks it:
    // the installed one, or a survey bundle's kiosk.toml with this device's file over it
    // (sync/bundle_store.hpp). The data folder is always the installed config's.
    auto load = [&](const std::filesystem::path& kiosk_toml, const std::filesystem::path& device,
                    const std::filesystem::path& data_dir, platform::Pictures& pics) {
        sync::KioskSetup setup = sync::load_kiosk_setup(kiosk_toml, device);
        if (!data_dir.empty()) setup.config.data_dir = data_dir;
        // Every question's sound must decode (SDL reads the WAV; no audio device needed),
        // every icon must be one picture of the emoji font or a picture that decodes.
        check_sounds(setup.surveys);
        check_media(setup.surveys, setup.news, pics);
        return setup;
    };
    auto take = [&](sync::KioskSetup&& setup) {
        config = std::move(setup.config);
        surveys = std::move(setup.surveys);
        news = std::move(setup.news);
        texts = std::move(setup.texts);
        export_config = std::move(setup.export_config);
        sync_config = std::move(setup.sync);
        sync_config.app_version = KOHTAAMO_VERSION;  // its health (PROTOCOL.md)
    };
    try {
        // kiosk.toml and this device's settings file over it (config.hpp), read once.
        take(load(o.config, {}, o.data.empty() ? std::filesystem::path() : std::filesystem::absolute(o.data), pictures));
        device_file = device_file_of(o.config);
        // A survey bundle from the collector (or a USB stick) runs over the installed config:
        // a complete one newer than `current` was staged when the kiosk stopped: switch now
        // (no visitor at start). One that no longer loads is refused; the last good one runs.
        bundles = std::make_unique<sync::BundleStore>(config.data_dir);
        bundles->recover();
        for (std::int64_t v : {bundles->newest_version(), bundles->current_version()}) {
            if (v == 0) continue;
            try {
                platform::Pictures pics;
                sync::KioskSetup setup = load(bundles->folder(v) / "kiosk.toml", device_file, config.data_dir, pics);
                if (v != bundles->current_version()) bundles->switch_to(v);
                take(std::move(setup));
                pictures = std::move(pics);
                bundle_version = v;
                break;
            } catch (const ConfigError& e) {
                bundles->set_last_error(std::string("config: version ") + std::to_string(v) +
                                            " does not load on this kiosk: " + e.what(),
                                        v);
                std::fprintf(stderr, "kohtaamo: survey bundle %lld refused: %s\n", static_cast<long long>(v), e.what());
            }
        }
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
        if (bundle_version > 0) std::printf(" (survey bundle %lld)", static_cast<long long>(bundle_version));
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

    o.app.rotation = config.rotation;

    std::unique_ptr<platform::App> app;
    try {
        app = std::make_unique<platform::App>(o.app, clock);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kohtaamo: %s\n", e.what());
        return 4;
    }

    // The store, with recovery at start. When it cannot be opened (a full disk, the card
    // gone), visitors see the resting screen and the kiosk tries again until it can.
    std::unique_ptr<Store> store;
    // [privacy] seal_to (checked when the config was read): answers saved from now on are
    // sealed to it; again after a survey bundle changes it.
    auto seal_key = [&]() -> std::optional<SealPublicKey> {
        if (config.seal_to.empty()) return std::nullopt;
        return parse_seal_public_key(config.seal_to);
    };
    auto open_store = [&] {
        store = std::make_unique<Store>(config.database(), clock.wall_ms());
        store->set_seal_to(seal_key());
        if (store->recovered() > 0)
            std::fprintf(stderr, "kohtaamo: %d response(s) left open by the last run marked abandoned\n",
                         store->recovered());
    };
    try {
        open_store();
    } catch (const StoreError& e) {
        std::fprintf(stderr, "kohtaamo: %s; resting, trying again every %lld s\n", e.what(),
                     static_cast<long long>(KioskScene::kRetryMs / 1000));
        StoreWaitScene wait(texts, config.languages, clock, open_store, e.what());
        const int rc = run_scene(*app, wait, clock, o);
        if (!store) return rc != 0 ? rc : 3;  // the loop ended (SIGTERM, a replay) before the store opened
        std::fprintf(stderr, "kohtaamo: the store opened; the kiosk starts\n");
    }
    app->pictures() = std::move(pictures);

    Session session(config, surveys, *store, clock);
    KioskScene scene(session, *store, config, texts, clock, export_config);
    scene.set_news(news);
    if (sync_config.token == sync::kDemoToken) {
        std::fprintf(stderr, "kohtaamo: WARNING: %s\n", sync::kDemoTokenWarning);
        scene.add_warning(sync::kDemoTokenWarning);
    }
    if (is_demo_pin(config.pin_hash)) {
        std::fprintf(stderr, "kohtaamo: WARNING: %s\n", demo_pin_warning().c_str());
        scene.add_warning(demo_pin_warning());
    }
    if (o.app.fullscreen && config.seal_to.empty()) {
        std::fprintf(stderr, "kohtaamo: WARNING: %s\n", kNoSealWarning);
        scene.add_warning(kNoSealWarning);
    }
    scene.set_delivery([&config, &sync_config](const std::filesystem::path& folder, const std::string& name) {
        return sync::write_delivery_file(config.database(), sync_config.send_abandoned, folder, name);
    });
    scene.set_audio(&app->audio());
    scene.set_wake([&a = *app] { a.wake(); });
    // The uploader works on its own thread and its own connection to the database; a
    // status change wakes the UI loop with an SDL user event (it never waits for sync).
    sync::Uploader uploader(config.database(), sync_config);
    platform::App& ui = *app;
    uploader.on_status_change([&ui](const sync::SyncStatus&) { ui.wake(); });
    scene.on_response_finished([&uploader] { uploader.nudge(); });
    // Survey bundles: the uploader thread fetches, verifies, stages and checks a new one,
    // loads it (pictures decoded there too) and queues it; the UI thread switches it in on
    // the welcome screen between visitors (BundleScene).
    std::mutex ready_mutex;
    struct Ready {
        std::int64_t version;
        sync::KioskSetup setup;
        platform::Pictures pictures;
    };
    std::unique_ptr<Ready> ready;
    sync::BundleHooks hooks;
    hooks.site = config.site;
    const std::filesystem::path data_dir = config.data_dir;
    hooks.check = [&](const std::filesystem::path& dir) {
        platform::Pictures pics;
        load(dir / "kiosk.toml", device_file, data_dir, pics);
    };
    hooks.log = [](const std::string& line) { std::fprintf(stderr, "kohtaamo: %s\n", line.c_str()); };
    hooks.ready = [&](std::int64_t v) {
        auto r = std::make_unique<Ready>();
        r->version = v;
        try {
            r->setup = load(bundles->folder(v) / "kiosk.toml", device_file, data_dir, r->pictures);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kohtaamo: survey bundle %lld: %s\n", static_cast<long long>(v), e.what());
            return;
        }
        {
            std::lock_guard lock(ready_mutex);
            ready = std::move(r);
        }
        ui.wake();
    };
    uploader.set_bundles(bundles.get(), hooks);
    // A bundle on a USB stick (a pop-up event with no network): the coordinator screen
    // looks at the top of each stick for *.kbundle files as it opens, takes the newest one
    // newer than what the kiosk holds, and verifies and stages it as a fetched one; it is
    // switched in when the coordinator is back on the welcome screen.
    scene.on_staff_open([&](const std::string& lang) -> std::string {
        if (sync_config.bundle_key.empty()) return "";
        std::filesystem::path best;
        std::int64_t best_version = std::max(bundles->current_version(), bundles->newest_version());
        for (const Drive& d : find_removable_drives(export_config.drive)) {
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(d.path, ec)) {
                if (e.path().extension() != ".kbundle" || !e.is_regular_file(ec)) continue;
                try {
                    std::ifstream in(e.path(), std::ios::binary);
                    std::string head(1 << 20, '\0');
                    in.read(head.data(), static_cast<std::streamsize>(head.size()));
                    head.resize(static_cast<std::size_t>(in.gcount()));
                    // The manifest alone, to pick the newest; apply_bundle_file verifies it all.
                    std::int64_t v = 0;
                    try {
                        v = sync::peek_bundle(head).version;
                    } catch (const sync::BundleError& err) {
                        if (err.code() != "malformed") throw;
                        v = best_version + 1;  // let the full read say why
                    }
                    if (v > best_version) {
                        best_version = v;
                        best = e.path();
                    }
                } catch (const std::exception&) {
                }
            }
        }
        if (best.empty()) return "";
        try {
            const std::int64_t v = sync::apply_bundle_file(best, sync_config.bundle_key, *bundles, hooks);
            std::string m = texts.get(lang, "staff_bundle_ready");
            if (auto at = m.find("{version}"); at != std::string::npos) m.replace(at, 9, std::to_string(v));
            return m;
        } catch (const sync::BundleError& e) {
            return texts.get(lang, "staff_bundle_refused") + " " + e.what();
        }
    });
    BundleScene switching(scene, [&]() -> bool {
        if (session.screen() != Screen::Welcome || !session.response_id().empty() ||
            scene.mode() != KioskScene::Mode::Visitor)
            return false;
        std::unique_ptr<Ready> r;
        {
            std::lock_guard lock(ready_mutex);
            r = std::move(ready);
        }
        if (!r) return false;
        try {
            bundles->switch_to(r->version);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kohtaamo: cannot switch to survey bundle %lld: %s\n",
                         static_cast<long long>(r->version), e.what());
            return false;
        }
        take(std::move(r->setup));
        store->set_seal_to(seal_key());
        ui.pictures().release_textures();
        ui.pictures() = std::move(r->pictures);
        scene.set_news(news);
        scene.set_export_config(export_config);
        session.configuration_changed();
        std::fprintf(stderr, "kohtaamo: now running survey bundle %lld\n", static_cast<long long>(r->version));
        return true;
    });
    uploader.start();
    const int rc = run_scene(*app, switching, clock, o);
    uploader.stop();
    return rc;

}
