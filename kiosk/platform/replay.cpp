#include "replay.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace kohtaamo::platform {

namespace {

// Reads a "quoted string" (with \" and \\ escapes) from `in`.
bool read_quoted(std::istringstream& in, std::string& out) {
    in >> std::ws;
    if (in.get() != '"') return false;
    out.clear();
    for (int c; (c = in.get()) != EOF;) {
        if (c == '"') return true;
        if (c == '\\') c = in.get();
        out.push_back(static_cast<char>(c));
    }
    return false;
}

bool at_end(std::istringstream& in) {
    in >> std::ws;
    return in.peek() == EOF || in.peek() == '#';
}

}  // namespace

std::vector<ReplayStep> parse_replay(const std::filesystem::path& file) {
    std::ifstream f(file);
    if (!f) throw ReplayError(file.string() + ": cannot read the replay script");
    std::vector<ReplayStep> steps;
    std::string line;
    for (int n = 1; std::getline(f, line); ++n) {
        std::istringstream in(line);
        std::string verb;
        if (!(in >> verb) || verb[0] == '#') continue;
        auto fail = [&](const std::string& why) -> ReplayError {
            return ReplayError(file.string() + ":" + std::to_string(n) + ": " + why);
        };
        ReplayStep s{};
        s.line = n;
        if (verb == "tap") {
            in >> std::ws;
            if (in.peek() == '"') {
                s.kind = ReplayStep::TapText;
                if (!read_quoted(in, s.text)) throw fail("tap: unterminated \"text\"");
            } else {
                s.kind = ReplayStep::TapAt;
                if (!(in >> s.x >> s.y)) throw fail("tap needs \"text\" or X Y");
            }
        } else if (verb == "hold") {
            s.kind = ReplayStep::Hold;
            if (!(in >> s.x >> s.y >> s.ms) || s.ms < 0) throw fail("hold needs X Y and milliseconds");
        } else if (verb == "wait" || verb == "advance") {
            s.kind = verb == "wait" ? ReplayStep::Wait : ReplayStep::Advance;
            if (!(in >> s.ms) || s.ms < 0) throw fail(verb + " needs milliseconds (a whole number >= 0)");
        } else if (verb == "expect" || verb == "expect-not") {
            s.kind = verb == "expect" ? ReplayStep::Expect : ReplayStep::ExpectNot;
            if (!read_quoted(in, s.text)) throw fail(verb + " needs a \"quoted text\"");
        } else if (verb == "expect-sound") {
            s.kind = ReplayStep::ExpectSound;
            if (!read_quoted(in, s.text)) throw fail("expect-sound needs a \"quoted\" part of the sound file's path");
        } else if (verb == "expect-no-sound") {
            s.kind = ReplayStep::ExpectNoSound;
        } else if (verb == "screenshot") {
            s.kind = ReplayStep::Screenshot;
            if (!(in >> s.text)) throw fail("screenshot needs a file name");
        } else {
            throw fail("unknown step \"" + verb + "\" (expected tap, hold, wait, advance, expect, expect-not, expect-sound, expect-no-sound, screenshot)");
        }
        if (!at_end(in)) throw fail("unexpected text after the step");
        steps.push_back(s);
    }
    return steps;
}

void run_replay(const std::filesystem::path& file, const std::vector<ReplayStep>& steps, App& app, Scene& scene,
                Clock& clock) {
    app.settle(scene);
    for (const auto& s : steps) {
        auto fail = [&](const std::string& why) {
            throw ReplayError(file.string() + ":" + std::to_string(s.line) + ": " + why);
        };
        auto visible = [&](const std::string& text) {
            for (const auto& t : app.registry())
                if (t.text.find(text) != std::string::npos) return true;
            return false;
        };
        switch (s.kind) {
            case ReplayStep::TapText: {
                const ui::Target* hit = nullptr;
                for (const auto& t : app.registry())
                    if (t.tappable && t.text == s.text) {
                        hit = &t;
                        break;
                    }
                if (!hit) {
                    std::string seen;
                    for (const auto& t : app.registry())
                        if (t.tappable) seen += (seen.empty() ? "\"" : ", \"") + t.text + "\"";
                    fail("no button \"" + s.text + "\" on screen (buttons: " + seen + ")");
                }
                app.input().tap(hit->center().x, hit->center().y);
                scene.input();
                app.settle(scene);
                break;
            }
            case ReplayStep::TapAt:
                app.input().tap(s.x, s.y);
                scene.input();
                app.settle(scene);
                break;
            case ReplayStep::Hold:
                app.input().press(s.x, s.y);
                scene.input();
                app.settle(scene);
                for (long held = 0; held < s.ms; held += 100) {
                    clock.advance(std::min(100L, s.ms - held));
                    app.frame(scene);
                }
                app.input().release(s.x, s.y);
                app.settle(scene);
                break;
            case ReplayStep::Wait: {
                auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.ms);
                while (std::chrono::steady_clock::now() < until) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                    app.frame(scene);
                }
                app.settle(scene);
                break;
            }
            case ReplayStep::Advance:
                clock.advance(s.ms);
                app.settle(scene);
                break;
            case ReplayStep::Expect:
                if (!visible(s.text)) fail("expected \"" + s.text + "\" on screen, but it is not there");
                break;
            case ReplayStep::ExpectNot:
                if (visible(s.text)) fail("\"" + s.text + "\" is on screen, but it should not be");
                break;
            case ReplayStep::ExpectSound: {
                const std::string playing = app.audio().playing();
                if (playing.find(s.text) == std::string::npos)
                    fail("expected a sound \"" + s.text + "\" to be playing, but " +
                         (!playing.empty() ? "\"" + playing + "\" is"
                          : app.audio().state() == Audio::State::Off ? "the sound is off (" + app.audio().off_reason() + ")"
                                                                     : "nothing is"));
                break;
            }
            case ReplayStep::ExpectNoSound:
                if (!app.audio().playing().empty()) fail("\"" + app.audio().playing() + "\" is playing, but nothing should be");
                break;
            case ReplayStep::Screenshot:
                try {
                    app.screenshot(s.text);
                } catch (const std::exception& e) {
                    fail(e.what());
                }
                break;
        }
    }
}

}  // namespace kohtaamo::platform
