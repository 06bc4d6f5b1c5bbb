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
    DeviceConfig config = load_device_config(config_dir() / "kiosk.toml");
    std::vector<Survey> surveys = load_surveys(config.surveys_dir, config.languages, "", config.assets_dir);
    Catalog texts = Catalog::load(config.texts_dir, config.languages);
    Store store{dir / "k.sqlite", clock.wall_ms()};
    Session session{config, surveys, store, clock};
    KioskScene scene;
    platform::App app;

    // `rotation`: the screen (w×h) shows the picture turned by so many degrees clockwise.
    explicit Kiosk(int w = 1280, int h = 800, ExportConfig ec = {}, int rotation = 0)
        : scene(session, store, config, texts, clock, std::move(ec)),
          app(platform::AppOptions{true, false, true, w, h, screen_texts(texts, surveys), rotation}, clock) {
        // As kiosk/main.cpp does: the welcome screen shows "you said, we did".
        scene.set_news(load_news(config.news_file, config.languages, config.fallback_language));
        scene.set_audio(&app.audio());
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
