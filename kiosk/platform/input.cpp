#include "input.hpp"

#include <cfloat>

namespace kohtaamo::platform {

void Input::push(float x, float y, bool down) {
    // Coalesce moves: a state with the same button as the last queued one replaces it.
    if (!queue_.empty() && queue_.back().down == down && down) {
        queue_.back().x = x;
        queue_.back().y = y;
        return;
    }
    queue_.push_back({x, y, down});
}

void Input::push_screen(float sx, float sy, bool down) {
    // The picture is turned clockwise by rotation_ about the screen's centre; turn back.
    float u = sx, v = sy;
    switch (rotation_) {
        case 90: u = sy, v = 1.0f - sx; break;
        case 180: u = 1.0f - sx, v = 1.0f - sy; break;
        case 270: u = 1.0f - sy, v = sx; break;
        default: break;
    }
    push(u * static_cast<float>(w_), v * static_cast<float>(h_), down);
}

bool Input::handle(const SDL_Event& e, int w, int h, int rotation) {
    w_ = w, h_ = h, rotation_ = rotation;
    // The screen's size in pixels, for mouse events (touches come as fractions of it).
    const bool turned = rotation == 90 || rotation == 270;
    const float sw = static_cast<float>(turned ? h : w), sh = static_cast<float>(turned ? w : h);
    switch (e.type) {
        case SDL_FINGERDOWN:
            if (finger_ != -1) return true;  // a second finger: ignored
            finger_ = e.tfinger.fingerId;
            push_screen(e.tfinger.x, e.tfinger.y, true);
            return true;
        case SDL_FINGERMOTION:
            if (e.tfinger.fingerId == finger_) push_screen(e.tfinger.x, e.tfinger.y, true);
            return true;
        case SDL_FINGERUP:
            if (e.tfinger.fingerId != finger_) return true;
            finger_ = -1;
            push_screen(e.tfinger.x, e.tfinger.y, false);
            return true;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            if (e.button.which == SDL_TOUCH_MOUSEID || e.button.button != SDL_BUTTON_LEFT) return false;
            push_screen(static_cast<float>(e.button.x) / sw, static_cast<float>(e.button.y) / sh,
                        e.type == SDL_MOUSEBUTTONDOWN);
            return true;
        case SDL_MOUSEMOTION:
            // Only drags matter: there is no hover on a touch screen.
            if (e.motion.which == SDL_TOUCH_MOUSEID || !(e.motion.state & SDL_BUTTON_LMASK)) return false;
            push_screen(static_cast<float>(e.motion.x) / sw, static_cast<float>(e.motion.y) / sh, true);
            return true;
        default: return false;
    }
}

void Input::tap(float x, float y) {
    queue_.push_back({x, y, true});
    queue_.push_back({x, y, false});
}

void Input::apply(ImGuiIO& io) {
    if (!queue_.empty()) {
        current_ = queue_.front();
        queue_.pop_front();
        clear_pending_ = !current_.down;
        io.MousePos = ImVec2(current_.x, current_.y);
        io.MouseDown[0] = current_.down;
        return;
    }
    if (clear_pending_) {
        io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
        io.MouseDown[0] = false;
        clear_pending_ = false;
    }
}

int Input::frames_needed() const { return static_cast<int>(queue_.size()) + (clear_pending_ ? 1 : 0); }

}  // namespace kohtaamo::platform
