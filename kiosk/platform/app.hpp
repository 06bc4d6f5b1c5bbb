// app.hpp — the platform layer: SDL window and renderer, text (text.hpp: shaped,
// bidirectional, in a glyph atlas of its own) and sizes, pictures (emoji and the centre's
// own), input, the main loop, and PNG screenshots. It knows nothing of surveys: it runs a
// Scene.
//
// The main loop (App::run) reads top to bottom:
//   1. wait for an event, at most until the scene's next deadline (idle timeout, end of
//      the thank-you screen) — SDL_WaitEventTimeout where the video driver can sleep
//      (x11, wayland), a 10 ms poll where it cannot — so an idle kiosk uses ~no CPU;
//   2. hand pointer events to Input, resize the layout on a window change;
//   3. let the scene tick (its clock-driven transitions);
//   4. draw a frame only when something changed: a few frames after input or a state
//      change, continuously only while the scene animates;
//   5. a frame that throws is logged and counted, and the scene is reset (to the
//      welcome screen) instead of the kiosk dying.
// The loop also feeds the systemd watchdog and stops on SIGTERM/SIGINT (service.hpp).
// Rotation ([display] rotation): the scene draws upright into a texture of the turned size,
// which is copied turned onto the screen; touches are turned back (Input), so a portrait
// kiosk on a landscape panel needs no compositor setting and no touch calibration.
// Headless (--headless): SDL's offscreen video driver and the software renderer, the same
// code; the replay harness (replay.hpp) drives it frame by frame. Sound goes to SDL's
// dummy audio driver there unless SDL_AUDIODRIVER names another (the tests use "disk").
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <SDL.h>

#include "audio.hpp"
#include "clock.hpp"
#include "emoji.hpp"
#include "input.hpp"
#include "service.hpp"
#include "pictures.hpp"
#include "text.hpp"
#include "ui.hpp"

namespace kohtaamo::platform {

struct AppOptions {
    bool headless = false;
    bool fullscreen = false;
    bool software = false;  // force the software renderer in a window too
    int width = 1280, height = 800;
    // Degrees clockwise the picture is turned on the screen (0, 90, 180, 270): 90 or 270
    // for a landscape panel mounted in portrait. The window (--size, the panel) keeps its
    // shape; the scene sees the turned size.
    int rotation = 0;
};

// What the app runs: the kiosk, or the config-error screen.
class Scene {
public:
    virtual ~Scene() = default;
    // Draws the frame (calling ui widgets) and applies what the user did.
    virtual void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon,
                      ui::Registry& registry) = 0;
    // Clock-driven transitions; true when the picture changed.
    virtual bool tick() = 0;
    // Monotonic ms of the next tick() that has work; nullopt for none.
    virtual std::optional<std::int64_t> deadline() const = 0;
    // True while an animation needs continuous frames.
    virtual bool animating() const = 0;
    // Something the user did counts as input (idle timer).
    virtual void input() = 0;
    // After a frame threw: back to a safe state.
    virtual void reset() = 0;
    virtual bool wants_quit() const { return false; }
};

class App {
public:
    App(const AppOptions& options, Clock& clock);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // The main loop; returns when the window closes or the scene quits. Exit code.
    int run(Scene& scene);

    // --- step by step, for the replay harness ---
    // Processes pending SDL events, ticks, and draws one frame.
    void frame(Scene& scene);
    // Draws frames until queued input is delivered and the picture is settled.
    void settle(Scene& scene);
    Input& input() { return input_; }
    const ui::Registry& registry() const { return registry_; }
    // Writes the last drawn frame as PNG, as the scene drew it (upright); throws on failure.
    void screenshot(const std::filesystem::path& png);
    // The same as the screen shows it (turned by the rotation), for the rotation's tests.
    void output_screenshot(const std::filesystem::path& png);
    // Wakes the loop from any thread (posts an SDL user event).
    void wake() const;
    // Emoji pictures.
    EmojiPictures& emoji() { return *emoji_; }
    // The centre's own pictures: decoded by the start-up check (kiosk_scene.hpp
    // check_media) and moved in here before the first frame; textures on first draw.
    Pictures& pictures() { return pictures_; }
    // The text layer the screens draw with.
    text::Typesetter& text() { return *text_; }
    // The speaker (opened on first use; closed again with the SDL window).
    Audio& audio() { return *audio_; }

    // Figures for the benchmark and the issue notes.
    std::int64_t frames_drawn() const { return frames_drawn_; }
    int frame_errors() const { return frame_errors_; }
    const ui::Metrics& metrics() const { return metrics_; }
    Service& service() { return *service_; }

private:
    void layout();  // metrics and fonts for the current window size
    void handle(const SDL_Event& e, Scene& scene);
    void render(Scene& scene);
    bool wait_for_event(SDL_Event* e, int timeout_ms);
    void write_png(const std::filesystem::path& png, int w, int h);

    AppOptions options_;
    Clock& clock_;
    SDL_Window* window_ = nullptr;
    SDL_Renderer* renderer_ = nullptr;
    std::unique_ptr<EmojiFont> emoji_font_;
    std::unique_ptr<EmojiPictures> emoji_;
    Pictures pictures_;
    std::unique_ptr<text::Typesetter> text_;
    std::unique_ptr<Audio> audio_;
    std::unique_ptr<Service> service_;
    SDL_Texture* turned_ = nullptr;  // the scene's picture when rotated; null at 0 degrees
    ui::IconLookup icon_;
    Input input_;
    ui::Metrics metrics_;
    ui::Fonts fonts_;
    ui::Registry registry_;
    std::int64_t last_frame_ms_ = 0;
    std::int64_t frames_drawn_ = 0;
    int frame_errors_ = 0;
    int frames_pending_ = 2;
    bool quit_ = false;
    float dpi_ = 0;
    bool driver_waits_ = false;
    Uint32 wake_event_ = 0;
};

}  // namespace kohtaamo::platform
