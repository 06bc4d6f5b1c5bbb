// kiosk_bench — time per frame of each kiosk screen on the software renderer, headless.
//
//   kohtaamo-bench-kiosk [--size 1280x800] [--frames 200] [--rotation 90]
//
// Prints one line per screen: mean, median and 95th percentile milliseconds per frame
// (NewFrame + screens + ImGui render + SDL software rasterisation + present).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <CLI/CLI.hpp>

#include "app.hpp"
#include "kiosk_scene.hpp"

using namespace kohtaamo;

int main(int argc, char** argv) {
    std::string size = "1280x800";
    int frames = 200;
    CLI::App cli{"Kohtaamo kiosk frame-time benchmark"};
    cli.add_option("--size", size, "Window size WxH")->capture_default_str();
    cli.add_option("--frames", frames, "Frames to draw per screen")->capture_default_str();
    int rotation = 0;
    cli.add_option("--rotation", rotation, "The screen (--size) shows the picture turned: 0, 90, 180, 270")
        ->check(CLI::IsMember({0, 90, 180, 270}));
    CLI11_PARSE(cli, argc, argv);
    platform::AppOptions o{true, false, true, 1280, 800, ""};
    std::sscanf(size.c_str(), "%dx%d", &o.width, &o.height);
    o.rotation = rotation;

    const auto dir = std::filesystem::temp_directory_path() / ("kohtaamo-bench-" + std::to_string(getpid()));
    Clock clock;
    DeviceConfig config = load_device_config(std::filesystem::path(KOHTAAMO_SOURCE_DIR) / "config" / "kiosk.toml");
    auto surveys = load_surveys(config.surveys_dir, config.languages, "", config.assets_dir);
    Catalog texts = Catalog::load(config.texts_dir, config.languages);
    int rc = 0;
    {
        Store store(dir / "bench.sqlite", clock.wall_ms());
        Session session(config, surveys, store, clock);
        KioskScene scene(session, store, config, texts, clock);
        o.glyph_text = screen_texts(texts, surveys);
        platform::App app(o, clock);
        app.settle(scene);

        auto measure = [&](const char* name) {
            std::vector<double> ms;
            for (int i = 0; i < frames; ++i) {
                auto t0 = std::chrono::steady_clock::now();
                app.frame(scene);
                ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            }
            std::sort(ms.begin(), ms.end());
            double mean = 0;
            for (double v : ms) mean += v;
            mean /= static_cast<double>(ms.size());
            std::printf("%-22s %s%s  mean %6.2f ms  median %6.2f ms  p95 %6.2f ms  (%d frames)\n", name, size.c_str(),
                        rotation ? (" turned " + std::to_string(rotation)).c_str() : "", mean,
                        ms[ms.size() / 2], ms[ms.size() * 95 / 100], frames);
        };
        measure("welcome");
        session.choose_language("fi");
        measure("choose survey");
        session.choose_survey("child");
        measure("smileys");
        session.answer("4");
        clock.advance(Session::kAdvanceMs);
        session.tick();
        session.toggle("play");
        measure("pictures (8)");
        session.reset();
        session.choose_language("en");
        session.choose_survey("family");
        measure("agree scale");
        if (app.frame_errors() > 0) rc = 1;
    }
    std::filesystem::remove_all(dir);
    return rc;
}
