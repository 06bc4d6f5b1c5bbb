// input.hpp — the one input adapter between SDL (or a replay script) and Dear ImGui.
//
// Does: turns SDL finger events and real mouse events (not the mouse events SDL
// synthesises from touches: one source only) into a queue of pointer states, and feeds
// ImGuiIO one state per frame, so a press is always seen for at least one frame before
// its release, however fast the tap. After a release the pointer is moved off-screen a
// frame later, so nothing stays highlighted (there is no hover on a touch screen).
// With a rotation (degrees clockwise the picture is turned on the screen) a touch is
// turned back onto the upright picture, so it lands on what the finger sees.
// Does not: use imgui_impl_sdl's global mouse polling or mouse capture (STYLE.md).
#pragma once
#include <deque>

#include <SDL.h>
#include <imgui.h>

namespace kohtaamo::platform {

class Input {
public:
    // Feeds one SDL event; true when it was pointer input. `w` and `h` are the picture's
    // (upright) size, `rotation` how it is turned on the screen (0, 90, 180, 270).
    bool handle(const SDL_Event& e, int w, int h, int rotation = 0);
    // Queues a press and a release at (x, y) (replay, tests).
    void tap(float x, float y);
    // Queues a press only / a release only (replay's hold).
    void press(float x, float y) { queue_.push_back({x, y, true}); }
    void release(float x, float y) { queue_.push_back({x, y, false}); }
    // A finger or the mouse button is down now.
    bool pointer_down() const { return current_.down; }
    // Applies the next pointer state to ImGuiIO; call once per frame before NewFrame().
    void apply(ImGuiIO& io);
    // Frames still needed to deliver what is queued (and clear the pointer afterwards).
    int frames_needed() const;

private:
    struct State {
        float x, y;
        bool down;
    };
    void push(float x, float y, bool down);
    // A point of the screen, as fractions of its width and height, on the upright picture.
    void push_screen(float sx, float sy, bool down);
    std::deque<State> queue_;
    State current_{-1, -1, false};
    bool clear_pending_ = false;
    SDL_FingerID finger_ = -1;  // the finger being tracked; others are ignored
    int w_ = 0, h_ = 0, rotation_ = 0;  // of the event being handled
};

}  // namespace kohtaamo::platform
