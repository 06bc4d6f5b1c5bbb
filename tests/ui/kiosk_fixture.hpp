// kiosk_fixture.hpp — the real kiosk in-process, headless, on the bundled config with a
// fresh database: for tests that look at layout and input frame by frame. Its sound goes
// to SDL's dummy audio driver (App's headless default) unless SDL_AUDIODRIVER says otherwise.
#pragma once
#include <catch2/catch.hpp>

#include "app.hpp"
#include "kiosk_scene.hpp"
#include "news.hpp"
#include "test_support.hpp"

namespace kohtaamo::test {

struct Kiosk {
    TempDir dir;
    Clock clock;
    DeviceConfig config;
    std::vector<Survey> surveys = load_surveys(config.surveys_dir, config.languages, "", config.assets_dir);
    std::vector<NewsItem> news = load_news(config.news_file, config.languages, config.fallback_language, config.assets_dir);
    Catalog texts = Catalog::load(config.texts_dir, config.languages);
    Store store{dir / "k.sqlite", clock.wall_ms()};
    Session session{config, surveys, store, clock};
    KioskScene scene;
    platform::App app;

    // The bundled config, or the one in `kiosk_toml` (a test's own copy). `rotation`: the
    // screen (w×h) shows the picture turned by so many degrees clockwise. `database`: the
// store's file (default: k.sqlite in the test's folder).
    explicit Kiosk(int w = 1280, int h = 800, ExportConfig ec = {},
                   const std::filesystem::path& kiosk_toml = config_dir() / "kiosk.toml", int rotation = 0,
                   const std::filesystem::path& database = {})
        : config(load_device_config(kiosk_toml)), store(database.empty() ? dir / "k.sqlite" : database, clock.wall_ms()),
          scene(session, store, config, texts, clock, std::move(ec)),
          app(platform::AppOptions{true, false, true, w, h, rotation}, clock) {
        // As kiosk/main.cpp does: every icon checked and its picture decoded, and the
        // welcome screen shows "you said, we did".
        platform::Pictures pictures;
        check_media(surveys, news, pictures);
        app.pictures() = std::move(pictures);
        scene.set_news(news);
        scene.set_audio(&app.audio());
        app.settle(scene);
    }

    // The tappable target of a widget id ("survey-child", "face-5", "next").
    const ui::Target* find_id(const std::string& id) const {
        for (const auto& t : app.registry())
            if (t.tappable && t.id == id) return &t;
        return nullptr;
    }
    void tap_id(const std::string& id) {
        const ui::Target* t = find_id(id);
        INFO("tapping #" << id);
        REQUIRE(t != nullptr);
        app.input().tap(t->center().x, t->center().y);
        scene.input();
        app.settle(scene);
    }

    const ui::Target* find(const std::string& text) const {
        for (const auto& t : app.registry())
            if (t.tappable && t.text == text) return &t;
        return nullptr;
    }
    void tap(const std::string& text) {
        const ui::Target* t = find(text);
        INFO("tapping \"" << text << "\"");
        REQUIRE(t != nullptr);
        app.input().tap(t->center().x, t->center().y);
        scene.input();
        app.settle(scene);
    }
    void advance(int ms) {
        clock.advance(ms);
        app.settle(scene);
    }
};

}  // namespace kohtaamo::test
