// audio.hpp — a question's voice through SDL audio: one short WAV file at a time.
//
// Does: WAV files in any encoding SDL_LoadWAV reads (PCM 8-32 bit, float, IMA and MS
// ADPCM, A-law, µ-law; any rate, mono or stereo), converted once with SDL_AudioStream to
// the one format the device is opened in (kFormat) and kept in a small cache, so a
// question that opens again costs nothing; SDL_QueueAudio plays it (no callback, no
// locking of our own). A kiosk without a sound card is not an error: the first failure
// is logged once and every later call does nothing.
// Does not: mix two sounds, loop, stream long files, or read anything but WAV.
//
// States (Audio::state()) and transitions, with the function behind each:
//
//   Closed ──play(file)──► [SDL_InitSubSystem(AUDIO) the first time; SDL_OpenAudioDevice]
//     ▲                       │ ok                                   │ fails
//     │                       ▼                                      ▼
//     │                     Open ◄──play(other): the queue is     Off (logged once; play(),
//     │                       │     cleared, the new clip queued   stop(), release() do nothing;
//     │                       │     from its start                 playing() is "")
//     └──release()────────────┘  (device closed: no audio thread while the kiosk is idle)
//
//   While Open, playing() is the file whose samples are still queued; stop() clears the
//   queue at once (what the hardware already has, a few ms, still sounds); when the queue
//   runs dry by itself the device stays open and plays silence until release().
//
// The scene decides when (kiosk_scene.hpp): a question opens → play its file; the question
// changes or the visitor leaves it → play the next one or stop(); back on the welcome
// screen → release().
#pragma once
#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <SDL.h>

namespace kohtaamo::platform {

class Audio {
public:
    // The device's format: mono 16-bit at 22,050 Hz, plenty for a voice. SDL converts it
    // to whatever the hardware wants.
    static constexpr int kRate = 22050;
    static constexpr SDL_AudioFormat kFormat = AUDIO_S16SYS;
    static constexpr int kChannels = 1;
    // Decoded clips kept, least recently played dropped first (~95 s of voice).
    static constexpr std::size_t kCacheBytes = 4u << 20;

    enum class State { Closed, Open, Off };

    Audio() = default;  // opens nothing until the first play()
    ~Audio();
    Audio(const Audio&) = delete;
    Audio& operator=(const Audio&) = delete;

    // Plays `file` from its start, replacing whatever plays. False when there is no
    // device or the file cannot be decoded (logged, once per file).
    bool play(const std::string& file);
    // Silence at once.
    void stop();
    // Stops and closes the device (see the states above).
    void release();

    State state() const { return state_; }
    // The file still playing ("" when nothing is queued).
    std::string playing() const;
    // Why the sound is off ("" while it is not).
    const std::string& off_reason() const { return off_reason_; }

private:
    struct Clip {
        std::vector<Uint8> pcm;  // kFormat, kChannels, kRate
        std::list<std::string>::iterator lru;
    };
    bool open();
    const Clip* clip(const std::string& file);
    void go_off(const std::string& why);

    State state_ = State::Closed;
    bool subsystem_ = false;
    SDL_AudioDeviceID device_ = 0;
    std::string current_;
    std::string off_reason_;
    std::map<std::string, Clip> cache_;
    std::list<std::string> lru_;  // most recently played first
    std::size_t cached_bytes_ = 0;
    std::set<std::string> failed_;  // files already reported as undecodable
};

// Decodes a WAV file into `kFormat`/`kChannels`/`kRate` samples; throws std::runtime_error
// with SDL's reason when it cannot (or when it is longer than a minute). Needs no audio
// device. (kiosk_scene.hpp's check_sounds() runs it over every survey's sounds at start.)
std::vector<Uint8> decode_wav(const std::string& file);

}  // namespace kohtaamo::platform
