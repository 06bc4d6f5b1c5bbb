// kiosk_scene.hpp — the kiosk as the platform layer runs it: draws the session's screen,
// applies the Action the screen returns, and tells the loop when to wake up.
#pragma once
#include <functional>
#include <string>

#include "app.hpp"
#include "session.hpp"

namespace kohtaamo {

// Every text the kiosk's screens can show (for AppOptions::glyph_text).
std::string screen_texts(const Catalog& texts, const std::vector<Survey>& surveys);

class KioskScene : public platform::Scene {
public:
    KioskScene(Session& session, const DeviceConfig& config, const Catalog& texts, Clock& clock)
        : session_(session), config_(config), texts_(texts), clock_(clock) {}

    void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) override;
    bool tick() override;
    std::optional<std::int64_t> deadline() const override;
    bool animating() const override;
    void input() override { session_.input(); }
    void reset() override;
    // Called when a visitor leaves a survey (finished or walked away): the uploader can
    // send the new response soon instead of at its next interval.
    void on_response_finished(std::function<void()> f) { finished_ = std::move(f); }

private:
    void apply(const ui::Action& a);
    void notice_finish(Screen before);
    std::function<void()> finished_;
    Session& session_;
    const DeviceConfig& config_;
    const Catalog& texts_;
    Clock& clock_;
    std::string save_error_;  // shown to staff until the next answer is saved
};

// Shows a configuration error until staff close it.
class ErrorScene : public platform::Scene {
public:
    explicit ErrorScene(std::string message) : message_(std::move(message)) {}
    void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) override;
    bool tick() override { return false; }
    std::optional<std::int64_t> deadline() const override { return std::nullopt; }
    bool animating() const override { return false; }
    void input() override {}
    void reset() override {}
    bool wants_quit() const override { return closed_; }

private:
    std::string message_;
    bool closed_ = false;
};

}  // namespace kohtaamo
