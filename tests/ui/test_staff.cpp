// The coordinator's screen in-process: Export to a real (tmpfs) stick with the progress
// bar, the result and the files on the stick; and a full-screen kiosk that ignores a
// window-close request.
#include <atomic>
#include <thread>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {
void open_staff(Kiosk& k) {
    k.app.input().press(10, 10);
    k.scene.input();
    k.app.settle(k.scene);
    for (int i = 0; i < 35; ++i) {
        k.clock.advance(100);
        k.app.frame(k.scene);
    }
    k.app.input().release(10, 10);
    k.app.settle(k.scene);
    REQUIRE(k.scene.mode() == KioskScene::Mode::Pin);
    for (const char* d : {"2", "5", "8", "0", "OK"}) k.tap(d);
    REQUIRE(k.scene.mode() == KioskScene::Mode::Staff);
}
}  // namespace

TEST_CASE("Export writes the CSV and the report onto the stick and says how many went") {
    SmallDisk stick(8 * 1024 * 1024);
    ExportConfig ec;
    ec.drive = stick.path();
    Kiosk k(1280, 800, ec);
    // Two children answer first (different ages: the same answers this soon after each
    // other would be flagged by the mischief rule and left out of the export).
    for (int i = 0; i < 2; ++i) {
        k.tap("Suomi");
        k.tap("Lapset");
        k.tap("Tosi hyvä");
        k.advance(Session::kAdvanceMs);
        k.tap("Ohita");  // nothing picked: Skip
        k.tap(i == 0 ? "6–9 v." : "3–5 v.");
        k.advance(Session::kAdvanceMs);
        k.advance(10'000);
    }
    open_staff(k);
    k.tap("Vie tikulle");
    for (int i = 0; i < 200 && k.find("Vie tikulle") && !k.app.registry().empty(); ++i) {
        k.app.frame(k.scene);
        bool done = false;
        for (const auto& t : k.app.registry()) done = done || t.text.rfind("Valmis.", 0) == 0;
        if (done) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string message;
    for (const auto& t : k.app.registry())
        if (t.text.rfind("Valmis.", 0) == 0) message = t.text;
    std::string seen;
    for (const auto& t : k.app.registry()) seen += "[" + t.text + "] ";
    INFO("on screen: " << seen);
    CHECK_THAT(message, Catch::StartsWith("Valmis. Vastauksia: 2"));
    int csv = 0, html = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(stick.path())) {
        csv += e.path().extension() == ".csv";
        html += e.path().extension() == ".html";
        CHECK(e.path().filename().string().find(".part") == std::string::npos);
    }
    CHECK(csv >= 2);
    CHECK(html == 1);
}

TEST_CASE("Export with no stick says so and writes nothing") {
    ExportConfig ec;
    ec.drive = std::filesystem::path("/nonexistent/stick");
    Kiosk k(1280, 800, ec);
    open_staff(k);
    k.tap("Vie tikulle");
    bool said = false;
    for (const auto& t : k.app.registry()) said = said || t.text.find("USB-tikkua ei löydy") != std::string::npos;
    CHECK(said);
}

TEST_CASE("the staff screen closes itself after the idle timeout") {
    Kiosk k;
    open_staff(k);
    k.advance(k.config.idle_timeout_ms);
    CHECK(k.scene.mode() == KioskScene::Mode::Visitor);
}

namespace {
struct QuitLater : platform::Scene {
    std::atomic<bool> quit{false};
    void draw(const ui::Metrics&, const ui::Fonts&, const ui::IconLookup&, ui::Registry&) override {}
    bool tick() override { return false; }
    std::optional<std::int64_t> deadline() const override { return std::nullopt; }
    bool animating() const override { return false; }
    void input() override {}
    void reset() override {}
    bool wants_quit() const override { return quit; }
};
}  // namespace

TEST_CASE("a full-screen kiosk ignores a window-close request, and only the coordinator's Quit ends it") {
    Clock clock;
    platform::App app(platform::AppOptions{true, true, true, 800, 480, ""}, clock);
    QuitLater scene;
    std::thread other([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        SDL_Event e{};
        e.type = SDL_WINDOWEVENT;  // what a window manager's close (Alt+F4) sends
        e.window.event = SDL_WINDOWEVENT_CLOSE;
        SDL_PushEvent(&e);
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        scene.quit = true;
        app.wake();
    });
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    auto ran = std::chrono::steady_clock::now() - t0;
    other.join();
    CHECK(ran >= std::chrono::milliseconds(550));
}

TEST_CASE("a windowed kiosk closes on a window-close request") {
    Clock clock;
    platform::App app(platform::AppOptions{true, false, true, 800, 480, ""}, clock);
    QuitLater scene;
    SDL_Event e{};
    e.type = SDL_WINDOWEVENT;
    e.window.event = SDL_WINDOWEVENT_CLOSE;
    SDL_PushEvent(&e);
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("a full-screen kiosk stops when the display goes away (SDL_QUIT), as when its compositor ends") {
    Clock clock;
    platform::App app(platform::AppOptions{true, true, true, 800, 480, ""}, clock);
    QuitLater scene;
    std::thread other([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        SDL_Event e{};
        e.type = SDL_QUIT;  // SDL's word for a lost Wayland connection
        SDL_PushEvent(&e);
    });
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    other.join();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK_FALSE(scene.quit);  // it was not the coordinator's Quit
}
