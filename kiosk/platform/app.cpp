#include "app.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <imgui.h>
#include <imgui_impl_sdlrenderer.h>
#include <stb_image_write.h>

#include "media.hpp"

namespace kohtaamo::platform {

App::App(const AppOptions& options, Clock& clock) : options_(options), clock_(clock) {
    if (options_.headless) {
        setenv("SDL_VIDEODRIVER", "offscreen", 1);
        // No speaker wanted when headless (tests, screenshots), unless the caller chose a
        // driver (SDL_AUDIODRIVER=disk writes what is played to a file).
        setenv("SDL_AUDIODRIVER", "dummy", 0);
    }
    if (options_.headless || options_.software) {
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        // Without this SDL backs the window surface with OpenGL (Mesa, LLVM): ~90 MB
        // more resident memory for nothing when we draw in software anyway.
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    }
    SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "0");  // touches arrive as finger events only
    SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
    // SIGTERM and SIGINT are Service's: SDL's own handlers are not installed when SIGINT
    // was ignored at start (a background job), and would leave such a kiosk running.
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    // A window's close request is an SDL_WINDOWEVENT_CLOSE only (handle()), so that SDL_QUIT
    // means "stop": a signal, or the display (the compositor) has gone away.
    SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
        throw std::runtime_error(std::string("SDL could not start: ") + SDL_GetError());

    service_ = std::make_unique<Service>();
    wake_event_ = SDL_RegisterEvents(1);

    Uint32 flags = SDL_WINDOW_ALLOW_HIGHDPI | (options_.headless ? SDL_WINDOW_HIDDEN : SDL_WINDOW_RESIZABLE);
    if (options_.fullscreen) flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    window_ = SDL_CreateWindow("Kohtaamo", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, options_.width,
                               options_.height, flags);
    if (!window_) throw std::runtime_error(std::string("cannot open a window: ") + SDL_GetError());
    bool software = options_.headless || options_.software;
    renderer_ = SDL_CreateRenderer(window_, -1, software ? SDL_RENDERER_SOFTWARE : SDL_RENDERER_ACCELERATED);
    if (!renderer_ && !software) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
    if (!renderer_) throw std::runtime_error(std::string("cannot create a renderer: ") + SDL_GetError());
    if (options_.fullscreen) {
        SDL_ShowCursor(SDL_DISABLE);
        // Keep the window manager's shortcuts (Alt+Tab, Super) away from the kiosk.
        SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
        SDL_SetWindowKeyboardGrab(window_, SDL_TRUE);
    }

    const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "";
    driver_waits_ = driver == "x11" || driver == "wayland" || driver == "windows" || driver == "cocoa";

    float ddpi = 0;
    if (!options_.headless && SDL_GetDisplayDPI(SDL_GetWindowDisplayIndex(window_), &ddpi, nullptr, nullptr) == 0)
        dpi_ = ddpi;

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no imgui.ini: the kiosk keeps no UI state on disk
    io.LogFilename = nullptr;
    io.ConfigInputTextCursorBlink = false;
    io.ConfigFlags &= ~(ImGuiConfigFlags_NavEnableKeyboard | ImGuiConfigFlags_NavEnableGamepad);
    io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
    ImGui::GetStyle().Colors[ImGuiCol_NavHighlight] = ImVec4(0, 0, 0, 0);
    ImGui_ImplSDLRenderer_Init(renderer_);
    // ImGui draws no text of ours (text.hpp does); it only needs a font to start a frame:
    // its small built-in one, ASCII only.
    io.Fonts->AddFontDefault();

    text_ = std::make_unique<text::Typesetter>(renderer_);
    emoji_font_ = std::make_unique<EmojiFont>();
    emoji_ = std::make_unique<EmojiPictures>(renderer_, *emoji_font_);
    audio_ = std::make_unique<Audio>();
    icon_ = [this](const std::string& icon) -> ui::Picture {
        if (is_picture_file(icon)) {
            ui::Picture p;
            p.texture = pictures_.texture(renderer_, icon, &p.aspect);
            return p;
        }
        return ui::Picture{emoji_->get(icon), 1.0f};
    };
    fonts_.body = ui::Font{text_.get(), text::Style::Regular};
    fonts_.small = ui::Font{text_.get(), text::Style::Regular};
    fonts_.title = ui::Font{text_.get(), text::Style::Bold};
    layout();
    last_frame_ms_ = clock_.mono_ms();
}

App::~App() {
    service_.reset();
    if (turned_) SDL_DestroyTexture(turned_);
    audio_.reset();
    emoji_.reset();
    pictures_.release_textures();
    text_.reset();
    ImGui_ImplSDLRenderer_Shutdown();
    ImGui::DestroyContext();
    if (renderer_) SDL_DestroyRenderer(renderer_);
    if (window_) SDL_DestroyWindow(window_);
    SDL_Quit();
}

void App::layout() {
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(renderer_, &w, &h);
    if (options_.rotation != 0) {
        // The scene draws upright into a texture of the turned size (render()).
        if (options_.rotation != 180) std::swap(w, h);
        int tw = 0, th = 0;
        if (turned_) SDL_QueryTexture(turned_, nullptr, nullptr, &tw, &th);
        if (tw != w || th != h) {
            if (turned_) SDL_DestroyTexture(turned_);
            turned_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, w, h);
            if (!turned_) throw std::runtime_error(std::string("cannot make the rotated picture: ") + SDL_GetError());
            SDL_SetTextureBlendMode(turned_, SDL_BLENDMODE_NONE);
        }
    }
    ui::Metrics m;
    m.width = static_cast<float>(w);
    m.height = static_cast<float>(h);
    float shorter = std::min(m.width, m.height);
    m.font = std::round(std::clamp(shorter * 0.065f, 24.0f, 96.0f));
    m.title = std::round(m.font * 1.35f);
    m.small = std::round(m.font * 0.8f);
    m.pad = std::round(m.font * 0.4f);
    // At least 15 mm: from the display's DPI when SDL knows it, else assume 96 dpi.
    float mm15 = 15.0f / 25.4f * (dpi_ > 0 ? dpi_ : 96.0f);
    m.min_target = std::round(std::max({mm15, shorter * 0.13f, m.font * 1.8f}));
    m.min_key = std::round(mm15);
    // A long text shrinks to this and no further (then it is cut with "…"): 70 % of the
    // labels' size (what a label could always shrink to), at least 18 px (5 mm at 800x480).
    m.floor = std::max(18.0f, std::round(m.small * 0.7f));
    m.icon_max = emoji_ ? 2.0f * static_cast<float>(emoji_->native_size()) : 256.0f;

    const bool sizes_changed = m.font != metrics_.font;
    metrics_ = m;
    // The glyphs drawn so far were at the old sizes: they will not be drawn again.
    if (sizes_changed) text_->clear();
}

void App::handle(const SDL_Event& e, Scene& scene) {
    if (e.type == SDL_QUIT) {
        // Only a signal (Service) or the end of the display (the compositor is gone: SDL
        // says so with SDL_QUIT) come this way; a window's close request does not
        // (SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE is off).
        std::fprintf(stderr, "kohtaamo: %s; stopping\n",
                     Service::signalled() ? "SIGTERM or SIGINT" : "the display has gone (or the system asks to quit)");
        quit_ = true;
        return;
    }
    if (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE) {
        // Full screen is kiosk mode: only a signal (system shutdown) or the coordinator's
        // Quit ends it, not a close request from the window manager or a keyboard.
        if (!options_.fullscreen) quit_ = true;
        return;
    }
    if (e.type == SDL_WINDOWEVENT) {
        if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) layout();
        frames_pending_ = std::max(frames_pending_, 2);
        return;
    }
    if (input_.handle(e, static_cast<int>(metrics_.width), static_cast<int>(metrics_.height), options_.rotation)) {
        scene.input();
        frames_pending_ = std::max(frames_pending_, input_.frames_needed() + 1);
        return;
    }
    // Anything else (a user event from a background thread, a key): redraw once.
    frames_pending_ = std::max(frames_pending_, 1);
}

void App::render(Scene& scene) {
    ImGuiIO& io = ImGui::GetIO();
    const std::int64_t now = clock_.mono_ms();
    io.DisplaySize = ImVec2(metrics_.width, metrics_.height);
    io.DeltaTime = std::clamp(static_cast<float>(now - last_frame_ms_) / 1000.0f, 0.001f, 1.0f);
    last_frame_ms_ = now;
    input_.apply(io);

    text_->begin_frame();
    ImGui_ImplSDLRenderer_NewFrame();
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0);
    ImGui::Begin("kohtaamo", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBackground |
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoNav | ImGuiWindowFlags_NoScrollWithMouse);
    registry_.clear();
    try {
        scene.draw(metrics_, fonts_, icon_, registry_);
    } catch (const std::exception& e) {
        ++frame_errors_;
        std::fprintf(stderr, "kohtaamo: a frame failed (%s); back to the welcome screen\n", e.what());
        scene.reset();
        frames_pending_ = std::max(frames_pending_, 2);
    }
    ImGui::End();
    ImGui::PopStyleVar(2);
    ImGui::Render();

    if (turned_) SDL_SetRenderTarget(renderer_, turned_);
    const unsigned bg = ui::colour::kBackground;
    SDL_SetRenderDrawColor(renderer_, (bg >> 16) & 0xff, (bg >> 8) & 0xff, bg & 0xff, 255);
    SDL_RenderClear(renderer_);
    ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
    if (turned_) {
        // The upright picture, turned about its centre onto the screen (it covers it).
        SDL_SetRenderTarget(renderer_, nullptr);
        int w = 0, h = 0;
        SDL_GetRendererOutputSize(renderer_, &w, &h);
        const int lw = static_cast<int>(metrics_.width), lh = static_cast<int>(metrics_.height);
        const SDL_Rect to{(w - lw) / 2, (h - lh) / 2, lw, lh};
        SDL_RenderCopyEx(renderer_, turned_, nullptr, &to, options_.rotation, nullptr, SDL_FLIP_NONE);
    }
    ++frames_drawn_;
}

void App::frame(Scene& scene) {
    SDL_Event e;
    while (SDL_PollEvent(&e)) handle(e, scene);
    if (scene.tick()) frames_pending_ = std::max(frames_pending_, 2);
    render(scene);
    if (frames_pending_ > 0) --frames_pending_;
    // The picture stays in the renderer's target for screenshot(); present it.
    SDL_RenderPresent(renderer_);
}

void App::wake() const {
    SDL_Event e{};
    e.type = wake_event_;
    SDL_PushEvent(&e);
}

void App::settle(Scene& scene) {
    frames_pending_ = std::max(frames_pending_, input_.frames_needed() + 2);
    for (int guard = 0; guard < 64 && (frames_pending_ > 0 || input_.frames_needed() > 0); ++guard) frame(scene);
}

bool App::wait_for_event(SDL_Event* e, int timeout_ms) {
    if (timeout_ms == 0) return SDL_PollEvent(e) == 1;
    if (driver_waits_) return SDL_WaitEventTimeout(e, timeout_ms) == 1;
    // Video drivers without a native wait (offscreen, KMSDRM) make SDL_WaitEventTimeout
    // poll every millisecond; polling every 10 ms instead costs a tenth of the wake-ups
    // and adds no latency anyone can feel.
    const Uint32 until = SDL_GetTicks() + static_cast<Uint32>(timeout_ms);
    for (;;) {
        if (SDL_PollEvent(e)) return true;
        if (SDL_TICKS_PASSED(SDL_GetTicks(), until)) return false;
        SDL_Delay(10);
    }
}

int App::run(Scene& scene) {
    Service& service = *service_;
    while (!quit_ && !scene.wants_quit()) {
        int timeout = -1;  // nothing to do: sleep until an event
        const std::int64_t now = clock_.mono_ms();
        if (frames_pending_ > 0 || input_.frames_needed() > 0) {
            timeout = 0;
        } else if (scene.animating()) {
            timeout = 33;  // ~30 frames per second while something moves
        } else if (input_.pointer_down()) {
            timeout = 100;  // a finger held still: frames for hold gestures (staff corner)
        } else if (auto d = scene.deadline()) {
            timeout = static_cast<int>(std::clamp<std::int64_t>(*d - now, 0, 60'000));
        }
        if (auto ping = service.deadline()) {  // the watchdog's own deadline
            const int until_ping = static_cast<int>(std::clamp<std::int64_t>(*ping - now, 0, 60'000));
            timeout = timeout == -1 ? until_ping : std::min(timeout, until_ping);
        }
        SDL_Event e;
        if (wait_for_event(&e, timeout == -1 ? 60'000 : timeout)) {
            handle(e, scene);
            while (SDL_PollEvent(&e)) handle(e, scene);
        }
        if (scene.tick()) frames_pending_ = std::max(frames_pending_, 2);
        if (frames_pending_ > 0 || input_.frames_needed() > 0 || scene.animating() || input_.pointer_down()) {
            render(scene);
            SDL_RenderPresent(renderer_);
            if (frames_pending_ > 0) --frames_pending_;
            service.ready();  // once: the first frame is on the screen
        }
        service.alive(clock_.mono_ms());  // the loop went round: feed the watchdog
    }
    service.stopping();
    return 0;
}

void App::screenshot(const std::filesystem::path& png) {
    if (turned_) SDL_SetRenderTarget(renderer_, turned_);
    write_png(png, static_cast<int>(metrics_.width), static_cast<int>(metrics_.height));
    if (turned_) SDL_SetRenderTarget(renderer_, nullptr);
}

void App::output_screenshot(const std::filesystem::path& png) {
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(renderer_, &w, &h);
    write_png(png, w, h);
}

// The renderer's current target as PNG.
void App::write_png(const std::filesystem::path& png, int w, int h) {
    std::vector<unsigned char> pixels(static_cast<std::size_t>(w * h * 4));
    if (SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_ABGR8888, pixels.data(), w * 4) != 0)
        throw std::runtime_error(std::string("cannot read the screen: ") + SDL_GetError());
    if (png.has_parent_path()) std::filesystem::create_directories(png.parent_path());
    if (!stbi_write_png(png.c_str(), w, h, 4, pixels.data(), w * 4))
        throw std::runtime_error("cannot write " + png.string());
}

}  // namespace kohtaamo::platform
