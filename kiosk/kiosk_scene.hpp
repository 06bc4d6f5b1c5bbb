// kiosk_scene.hpp — the kiosk as the platform layer runs it: draws the screen for the
// current mode, applies the Action the screen returns, and tells the loop when to wake.
//
// Modes: Visitor (the session's screens) ──hold the welcome screen's top-left corner 3 s──►
// Pin ──right PIN──► Staff (the coordinator's screen) ──Close / idle timeout──► Visitor.
// Pin ──Cancel / idle timeout──► Visitor. Staff ──Quit──► the program ends. In
// --fullscreen kiosk mode this is the only way out (App ignores window-close requests).
//
// The questions' voices (follow_sound(), after every action, tick and reset) follow what
// is on screen, keyed by survey, question and language:
//   a question with a sound opens (forward, back, or the language changed) ──► Audio::play()
//     of its file in the session's language, else the fallback language's;
//   a question without a sound opens, or the visitor leaves the questions for the
//     thank-you ──► Audio::stop();
//   the welcome screen (Back out of a survey, done, idle timeout, reset) ──► Audio::release(): no audio thread
//     while the kiosk waits for the next visitor;
//   the speaker button (Action::Listen) ──► Audio::play() of the same file from its start.
// Once the Audio is Off (no sound card), questions show no speaker button.
#pragma once
#include <array>
#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "app.hpp"
#include "coordinator.hpp"
#include "export.hpp"
#include "export_job.hpp"
#include "news.hpp"
#include "session.hpp"

namespace kohtaamo {

// Every icon the surveys and the news name must be one picture (kohtaamo --check-config
// and start-up): an emoji that the emoji font draws as one picture (HarfBuzz shapes it to
// one glyph with a colour bitmap: a skin tone, a ZWJ family, a flag, a keycap are fine),
// or a picture file that decodes and is at most kMaxPictureSide pixels on a side — each
// decoded once into `pictures` for the screens. Throws ConfigError naming the file, the
// line and column of the icon and the reason; std::runtime_error when the emoji font
// itself is missing.
void check_media(const std::vector<Survey>& surveys, const std::vector<NewsItem>& news, platform::Pictures& pictures);

// The texts that will not fit the smallest supported screen (800x480) even at the smallest
// size (ui::Metrics::floor), so that a screen cuts them with "…": one line each, naming
// where its file gives it ("FILE:LINE:COLUMN: ar text for question \"feeling\".text ...").
// Draws every screen of every survey and the news in every language, headless (SDL's
// offscreen driver, the software renderer), as kohtaamo --check-config does.
std::vector<std::string> check_fit(const DeviceConfig& config, const std::vector<Survey>& surveys, const Catalog& texts,
                                   const std::vector<NewsItem>& news);

// Every sound the surveys name must decode (platform::decode_wav; kohtaamo --check-config
// and start-up): throws ConfigError naming the survey file, the line and column of the
// sound, and SDL's reason.
void check_sounds(const std::vector<Survey>& surveys);

class KioskScene : public platform::Scene {
public:
    KioskScene(Session& session, Store& store, const DeviceConfig& config, const Catalog& texts, Clock& clock,
               ExportConfig export_config = {});

    void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) override;
    bool tick() override;
    std::optional<std::int64_t> deadline() const override;
    bool animating() const override;
    void input() override;
    void reset() override;
    bool wants_quit() const override { return quit_; }

    // Called when a visitor leaves a survey (finished or walked away): the uploader can
    // send the new response soon instead of at its next interval.
    void on_response_finished(std::function<void()> f) { finished_ = std::move(f); }
    // Wakes the UI loop from another thread (the export's progress).
    void set_wake(std::function<void()> f) { wake_ = std::move(f); }

    // The speaker for the questions' voices; nullptr (the default): silent, no speaker buttons.
    void set_audio(platform::Audio* audio) { audio_ = audio; }

    // "You said, we did" messages for the welcome screen.
    void set_news(std::vector<NewsItem> news) {
        news_ = std::move(news);
        news_step_ = -1;
    }
    void set_export_config(ExportConfig c) { export_config_ = std::move(c); }
    // Called as the coordinator screen opens (a survey bundle on a USB stick, main.cpp):
    // what it returns, if anything, is shown on that screen's message line.
    void on_staff_open(std::function<std::string(const std::string& lang)> f) { staff_open_ = std::move(f); }

    enum class Mode { Visitor, Pin, Staff };
    Mode mode() const { return mode_; }
    // Why the store cannot write ("" while it can): visitors see the resting screen.
    const std::string& resting() const { return resting_; }
    // Lines the coordinator screen shows in the error colour (Store::notices(), the
    // demo PIN, ...), besides the resting reason.
    void add_warning(std::string w) { warnings_.push_back(std::move(w)); }
    // Writes the sealed delivery file into a folder (sync/delivery.hpp): what Export does
    // instead of the CSVs and the report while the kiosk's answers are sealed.
    using DeliveryWriter = std::function<ExportResult(const std::filesystem::path& folder, const std::string& name)>;
    void set_delivery(DeliveryWriter w) { delivery_ = std::move(w); }
    static constexpr std::int64_t kRetryMs = 5000;

private:
    void apply(const ui::Action& a);
    void apply_staff(const ui::Action& a);
    void notice_finish(Screen before);
    void enter(Mode m);
    void start_export();
    // The unlock prompt's keys: typing the passphrase, Next opens the key and exports,
    // Back skips (the delivery file alone).
    void apply_unlock(const ui::Action& a);
    // Starts the export job: the delivery file, then, with `keys`, the readable files.
    void start_sealed_export(const std::filesystem::path& folder, const ExportOptions& o,
                             std::shared_ptr<const SealKeyring> keys);
    void follow_sound();
    // A write failed: visitors see the resting screen, staff the reason; tick() retries.
    void rest(const StoreError& e);
    // Resting: tries the store again (Store::probe), then finishes the visitor's open
    // response as abandoned and shows the welcome screen. True when it resumed.
    bool try_resume();
    // The current question's sound file in the session's language ("" for none).
    std::string sound_file() const;

    Session& session_;
    Store& store_;
    const DeviceConfig& config_;
    const Catalog& texts_;
    Clock& clock_;
    ExportConfig export_config_;
    std::function<void()> finished_;
    std::function<void()> wake_;
    std::string save_error_;  // shown to staff until the next answer is saved
    std::string resting_;     // why the store cannot write; "" = it can
    std::int64_t retry_at_ms_ = 0;
    std::vector<std::string> warnings_;
    DeliveryWriter delivery_;
    bool shift_ = false;      // the on-screen keyboard's shift
    std::vector<NewsItem> news_;
    std::int64_t news_step_ = -1;  // the message shown last (redraw when it changes)

    platform::Audio* audio_ = nullptr;
    std::string sound_key_;  // what follow_sound() last saw on screen ("" = no question)

    Mode mode_ = Mode::Visitor;
    std::int64_t staff_input_ms_ = 0;  // idle timeout in the Pin and Staff modes
    PinLock pin_lock_;
    std::string pin_;
    std::string pin_message_;
    CoordinatorStats stats_;
    ExportJob export_;
    std::string export_message_;
    // A locked key file on the stick of a sealed kiosk's export (docs/security.md): the
    // passphrase typed so far, held only here and wiped (sodium_memzero) once tried.
    struct Unlock {
        std::filesystem::path key_file, folder;
        ExportOptions options;
        std::array<char, 256> passphrase{};  // a fixed buffer: never reallocated, wiped whole
        std::size_t typed = 0;               // bytes of it in use
        std::string message;
        bool shift = false;
    };
    std::optional<Unlock> unlock_;
    void forget_unlock();
    std::function<std::string(const std::string&)> staff_open_;
    bool quit_ = false;
};

// At start, while the store cannot be opened (a full disk at recovery, a missing card):
// the resting screen, and a new try every KioskScene::kRetryMs; wants_quit() once `open`
// succeeds, and the kiosk goes on. (A broken config is ErrorScene's, not this.)
class StoreWaitScene : public platform::Scene {
public:
    StoreWaitScene(const Catalog& texts, std::vector<std::string> languages, Clock& clock,
                   std::function<void()> open, std::string reason);
    void draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) override;
    bool tick() override;
    std::optional<std::int64_t> deadline() const override { return retry_at_ms_; }
    bool animating() const override { return false; }
    void input() override {}
    void reset() override {}
    bool wants_quit() const override { return opened_; }
    const std::string& reason() const { return reason_; }

private:
    const Catalog& texts_;
    std::vector<std::string> languages_;
    Clock& clock_;
    std::function<void()> open_;
    std::string reason_;
    std::int64_t retry_at_ms_;
    bool opened_ = false;
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
