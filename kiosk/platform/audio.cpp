#include "audio.hpp"

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace kohtaamo::platform {

namespace {
// A question's voice is a few seconds; a longer file is surely a mistake (and would stall
// the frame that decodes it).
constexpr int kMaxSeconds = 60;
constexpr std::size_t kBytesPerSecond = static_cast<std::size_t>(Audio::kRate) * Audio::kChannels * 2;
}  // namespace

std::vector<Uint8> decode_wav(const std::string& file) {
    SDL_AudioSpec spec{};
    Uint8* raw = nullptr;
    Uint32 raw_len = 0;
    if (!SDL_LoadWAV(file.c_str(), &spec, &raw, &raw_len)) throw std::runtime_error(SDL_GetError());
    std::unique_ptr<Uint8, void (*)(Uint8*)> wav(raw, SDL_FreeWAV);
    std::unique_ptr<SDL_AudioStream, void (*)(SDL_AudioStream*)> stream(
        SDL_NewAudioStream(spec.format, spec.channels, spec.freq, Audio::kFormat, Audio::kChannels, Audio::kRate),
        SDL_FreeAudioStream);
    if (!stream) throw std::runtime_error(std::string("cannot convert it: ") + SDL_GetError());
    if (SDL_AudioStreamPut(stream.get(), raw, static_cast<int>(raw_len)) != 0 || SDL_AudioStreamFlush(stream.get()) != 0)
        throw std::runtime_error(std::string("cannot convert it: ") + SDL_GetError());
    std::vector<Uint8> pcm(static_cast<std::size_t>(SDL_AudioStreamAvailable(stream.get())));
    const int got = SDL_AudioStreamGet(stream.get(), pcm.data(), static_cast<int>(pcm.size()));
    if (got < 0) throw std::runtime_error(std::string("cannot convert it: ") + SDL_GetError());
    pcm.resize(static_cast<std::size_t>(got));
    if (pcm.empty()) throw std::runtime_error("it holds no sound");
    if (pcm.size() > kMaxSeconds * kBytesPerSecond)
        throw std::runtime_error("it is " + std::to_string(pcm.size() / kBytesPerSecond) + " s long; a question's voice may be " +
                                 std::to_string(kMaxSeconds) + " s at most");
    return pcm;
}

Audio::~Audio() {
    if (device_) SDL_CloseAudioDevice(device_);
    if (subsystem_) SDL_QuitSubSystem(SDL_INIT_AUDIO);
}

void Audio::go_off(const std::string& why) {
    state_ = State::Off;
    off_reason_ = why;
    std::fprintf(stderr, "kohtaamo: no sound (%s); the questions' voices are off\n", why.c_str());
}

bool Audio::open() {
    if (!subsystem_) {
        if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
            go_off(std::string("SDL audio could not start: ") + SDL_GetError());
            return false;
        }
        subsystem_ = true;
    }
    SDL_AudioSpec want{};
    want.freq = kRate;
    want.format = kFormat;
    want.channels = kChannels;
    want.samples = 1024;  // ~46 ms a buffer
    // No changes allowed: SDL converts to the hardware's format, so every clip is decoded
    // to one format and the cache stays valid across release() and open().
    device_ = SDL_OpenAudioDevice(nullptr, 0, &want, nullptr, 0);
    if (!device_) {
        go_off(std::string("no audio device: ") + SDL_GetError());
        return false;
    }
    SDL_PauseAudioDevice(device_, 0);
    state_ = State::Open;
    return true;
}

const Audio::Clip* Audio::clip(const std::string& file) {
    auto it = cache_.find(file);
    if (it != cache_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return &it->second;
    }
    std::vector<Uint8> pcm;
    try {
        pcm = decode_wav(file);
    } catch (const std::runtime_error& e) {
        if (failed_.insert(file).second) std::fprintf(stderr, "kohtaamo: cannot play %s: %s\n", file.c_str(), e.what());
        return nullptr;
    }
    lru_.push_front(file);
    cached_bytes_ += pcm.size();
    Clip& c = cache_[file];
    c.pcm = std::move(pcm);
    c.lru = lru_.begin();
    // Drop the least recently played clips beyond the budget (never the one just made).
    while (cached_bytes_ > kCacheBytes && lru_.size() > 1) {
        auto old = cache_.find(lru_.back());
        cached_bytes_ -= old->second.pcm.size();
        cache_.erase(old);
        lru_.pop_back();
    }
    return &c;
}

bool Audio::play(const std::string& file) {
    if (state_ == State::Off) return false;
    if (state_ == State::Closed && !open()) return false;
    SDL_ClearQueuedAudio(device_);
    current_.clear();
    const Clip* c = clip(file);
    if (!c) return false;
    if (SDL_QueueAudio(device_, c->pcm.data(), static_cast<Uint32>(c->pcm.size())) != 0) {
        std::fprintf(stderr, "kohtaamo: cannot play %s: %s\n", file.c_str(), SDL_GetError());
        return false;
    }
    current_ = file;
    return true;
}

void Audio::stop() {
    if (state_ != State::Open) return;
    SDL_ClearQueuedAudio(device_);
    current_.clear();
}

void Audio::release() {
    if (state_ != State::Open) return;
    stop();
    SDL_CloseAudioDevice(device_);
    device_ = 0;
    state_ = State::Closed;
}

std::string Audio::playing() const {
    if (state_ != State::Open || current_.empty() || SDL_GetQueuedAudioSize(device_) == 0) return "";
    return current_;
}

}  // namespace kohtaamo::platform
