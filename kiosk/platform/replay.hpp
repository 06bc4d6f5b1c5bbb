// replay.hpp — the headless harness: runs a script of taps and checks against the real
// app, one step a line (format in docs/replay.md):
//
//   tap "Suomi"        press and release on the visible button whose text is exactly this
//   tap 640 400        press and release at a window position
//   hold 20 20 3500    press at a position, keep the finger there 3.5 s (kiosk clock), release
//   wait 500           let 500 ms pass (real time; the app keeps running)
//   advance 61000      move the kiosk's clock 61 s on without sleeping
//   expect "Kiitos!"   fail unless a visible text contains this now
//   expect-not "Kiitos!"
//   expect-sound "fi/feeling.wav"   fail unless the sound playing now is a file whose path contains this
//   expect-no-sound                 fail if any sound is playing now
//   screenshot shots/thanks.png
//
// Blank lines and lines starting with # are skipped. The whole script is parsed before
// it runs, so a typo fails at once. A failing step throws ReplayError naming FILE:LINE.
#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "app.hpp"

namespace kohtaamo::platform {

class ReplayError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ReplayStep {
    enum Kind { TapText, TapAt, Hold, Wait, Advance, Expect, ExpectNot, ExpectSound, ExpectNoSound, Screenshot } kind;
    std::string text;
    float x = 0, y = 0;
    long ms = 0;
    int line = 0;
};

// Parses a script; throws ReplayError("FILE:LINE: ...") on a bad line.
std::vector<ReplayStep> parse_replay(const std::filesystem::path& file);

// Runs the steps against the app and scene. Throws ReplayError on the first failing step.
void run_replay(const std::filesystem::path& file, const std::vector<ReplayStep>& steps, App& app, Scene& scene,
                Clock& clock);

}  // namespace kohtaamo::platform
