// kiosk_bench — time per frame of each kiosk screen on the software renderer, headless.
//
//   kohtaamo-bench-kiosk [--size 1280x800] [--frames 200] [--rotation 90]
//
// Prints one line per screen: mean, median and 95th percentile milliseconds per frame
// (NewFrame + screens + ImGui render + SDL software rasterisation + present), and the
// first frame's (the one that shapes the screen's texts and rasterises their glyphs),
// for the screens of the children's and the grown-ups' surveys and the year-clock, in
// Finnish and in Arabic.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <CLI/CLI.hpp>

#include "app.hpp"
#include "kiosk_scene.hpp"
#include "news.hpp"

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
    platform::AppOptions o{true, false, true, 1280, 800};
    std::sscanf(size.c_str(), "%dx%d", &o.width, &o.height);
    o.rotation = rotation;

    const auto dir = std::filesystem::temp_directory_path() / ("kohtaamo-bench-" + std::to_string(getpid()));
    Clock clock;
    DeviceConfig config = load_device_config(std::filesystem::path(KOHTAAMO_SOURCE_DIR) / "config" / "kiosk.toml");
    auto surveys = load_surveys(config.surveys_dir, config.languages, "", config.assets_dir);
    Catalog texts = Catalog::load(config.texts_dir, config.languages);
    int rc = 0;
    {
        // Shaping and laying out every text of the bundled catalogues and surveys once, cold
        // (a fresh Shaper): what a frame never pays again for a text it drew before.
        text::Shaper shaper;
        std::vector<const TextRef*> all;
        for (const auto& t : texts.text_refs()) all.push_back(&t);
        for (const auto& sv : surveys)
            for (const auto& t : sv.texts) all.push_back(&t);
        std::size_t bytes = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (const TextRef* t : all) {
            shaper.layout(t->text, text::Style::Regular, text::Fit{52, 32, 600, 0, 3},
                          texts.rtl(t->lang) ? text::Direction::Rtl : text::Direction::Ltr);
            bytes += t->text.size();
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        std::printf("shaped and laid out %zu texts (%zu bytes) once: %.1f ms, %.1f us a text\n", all.size(), bytes, ms,
                    ms * 1000 / static_cast<double>(all.size()));
    }
    {
        Store store(dir / "bench.sqlite", clock.wall_ms());
        Session session(config, surveys, store, clock);
        KioskScene scene(session, store, config, texts, clock);
        platform::App app(o, clock);
        app.settle(scene);

        auto measure = [&](const char* name) {
            std::vector<double> ms;
            double cpu = 0;  // this thread's CPU time: what the frame costs, whatever else the machine runs
            for (int i = 0; i < frames; ++i) {
                timespec c0{}, c1{};
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
                auto t0 = std::chrono::steady_clock::now();
                app.frame(scene);
                ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
                cpu += static_cast<double>(c1.tv_sec - c0.tv_sec) * 1e3 + static_cast<double>(c1.tv_nsec - c0.tv_nsec) / 1e6;
            }
            cpu /= frames;
            const double first = ms.front();  // shapes and rasterises what this screen shows first
            std::sort(ms.begin(), ms.end());
            double mean = 0;
            for (double v : ms) mean += v;
            mean /= static_cast<double>(ms.size());
            std::printf("%-25s %s%s  mean %6.2f ms  median %6.2f ms  p95 %6.2f ms  first %6.2f ms  cpu %6.2f ms  (%d frames)\n",
                        name, size.c_str(), rotation ? (" turned " + std::to_string(rotation)).c_str() : "", mean,
                        ms[ms.size() / 2], ms[ms.size() * 95 / 100], first, cpu, frames);
        };
        scene.set_news(load_news(config.news_file, config.languages, config.fallback_language, config.assets_dir));
        platform::Pictures pictures;
        check_media(surveys, load_news(config.news_file, config.languages, config.fallback_language, config.assets_dir), pictures);
        app.pictures() = std::move(pictures);
        // The same walk in Finnish and in Arabic (shaped, joined, right to left).
        for (const std::string lang : {"fi", "ar"}) {
            const std::string tag = " (" + lang + ")";
            session.reset();
            session.choose_language(lang);
            measure(("welcome" + tag).c_str());
            session.choose_survey("child");
            measure(("smileys" + tag).c_str());
            session.answer("4");
            clock.advance(Session::kAdvanceMs);
            session.tick();
            measure(("pictures (8)" + tag).c_str());
            session.answer("play");
            clock.advance(Session::kAdvanceMs);
            session.tick();
            measure(("age (4 pictures)" + tag).c_str());
            session.reset();
            session.choose_language(lang);
            session.choose_survey("family");
            measure(("agree scale" + tag).c_str());
            session.answer("5");
            clock.advance(Session::kAdvanceMs);
            session.tick();
            session.next();
            session.answer("weekly");
            clock.advance(Session::kAdvanceMs);
            session.tick();
            measure(("choices" + tag).c_str());
            session.next();
            for (const char* c : {"a", "b", "c", " ", "d"}) session.type(lang == "ar" ? "ك" : c);
            measure(("keyboard" + tag).c_str());
            session.reset();
            session.choose_language(lang);
            session.choose_survey("yearclock");
            measure(("year-clock ring" + tag).c_str());
            session.open_month(3);
            measure(("year-clock month" + tag).c_str());
        }
        std::printf("after the walk: glyph atlas %zu glyphs on %d page(s) of %dx%d; %zu texts shaped and %zu layouts cached; "
                    "own pictures %zu KiB decoded\n",
                    app.text().atlas().glyphs(), app.text().atlas().pages(), text::GlyphAtlas::kPage, text::GlyphAtlas::kPage,
                    app.text().shaper().cached_texts(), app.text().shaper().cached_layouts(), app.pictures().bytes() / 1024);
        if (app.frame_errors() > 0) rc = 1;
    }
    std::filesystem::remove_all(dir);
    return rc;
}
