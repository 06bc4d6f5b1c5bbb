// The questions' voices through a real SDL audio device: SDL's "disk" audio driver writes
// everything the device plays to a file (raw samples in the device's format, at the
// real-time rate, silence included), and these tests read that file back. Decoding is
// checked against platform::decode_wav, the same function the kiosk plays from.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "kiosk_fixture.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

using Bytes = std::vector<Uint8>;

// An environment variable for the test's lifetime (SDL reads it when the kiosk first
// opens its audio device).
struct Env {
    std::string name;
    Env(std::string n, const std::string& value) : name(std::move(n)) { setenv(name.c_str(), value.c_str(), 1); }
    ~Env() { unsetenv(name.c_str()); }
};

// SDL_AUDIODRIVER=disk for the kiosk made after it; the file is made when the kiosk first
// opens its device (the first question with a sound).
struct DiskAudio {
    TempDir dir;
    std::filesystem::path file = dir / "played.raw";
    Env driver{"SDL_AUDIODRIVER", "disk"};
    Env out{"SDL_DISKAUDIOFILE", file.string()};
    // Bytes written so far.
    std::size_t size() const {
        std::error_code ec;
        const auto n = std::filesystem::file_size(file, ec);
        return ec ? 0 : static_cast<std::size_t>(n);
    }
    // What was written from byte `from` on.
    Bytes since(std::size_t from) const {
        std::ifstream in(file, std::ios::binary);
        Bytes all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return from < all.size() ? Bytes(all.begin() + static_cast<long>(from), all.end()) : Bytes{};
    }
};

// One device buffer (1024 samples of 16 bits): the most the device can have taken from the
// queue and not yet written.
constexpr std::size_t kBuffer = 1024 * 2;

// How many times `clip` appears, byte for byte, in `out`.
int occurrences(const Bytes& out, const Bytes& clip) {
    int n = 0;
    for (auto it = std::search(out.begin(), out.end(), clip.begin(), clip.end()); it != out.end();
         it = std::search(it + 1, out.end(), clip.begin(), clip.end()))
        ++n;
    return n;
}

// Samples louder than a whisper.
std::size_t sounding(const Bytes& pcm, std::size_t from = 0) {
    std::size_t n = 0;
    for (std::size_t i = from & ~std::size_t{1}; i + 1 < pcm.size(); i += 2) {
        const auto s = static_cast<Sint16>(pcm[i] | (pcm[i + 1] << 8));
        n += s > 300 || s < -300;
    }
    return n;
}

// Waits (real time: the device plays at its own pace) until nothing is queued, then one
// more moment for the device's last buffer to reach the file.
void wait_until_played(Kiosk& k) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!k.app.audio().playing().empty() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(k.app.audio().playing().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
}

void wait_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string sound_of(const Kiosk& k, const std::string& survey, const std::string& question, const std::string& lang) {
    for (const auto& s : k.surveys)
        if (s.id == survey) return s.find(question)->sound.files.at(lang);
    FAIL("no survey " << survey);
    return "";
}

}  // namespace

TEST_CASE("a question's voice plays when it opens, again on the speaker, and stops when the visitor leaves") {
    DiskAudio disk;
    Kiosk k;
    const std::string feeling = sound_of(k, "child", "feeling", "fi");
    const std::string best = sound_of(k, "child", "best", "fi");
    const Bytes feeling_pcm = platform::decode_wav(feeling);
    const Bytes best_pcm = platform::decode_wav(best);
    REQUIRE(sounding(feeling_pcm) > 10000);  // the file holds a voice, not silence

    // The welcome screen is quiet: no device is even open.
    k.tap("Suomi");
    CHECK(k.app.audio().state() == platform::Audio::State::Closed);
    CHECK(disk.size() == 0);

    // Opening the first question plays its Finnish voice, every sample of it, once.
    k.tap("Lapset");
    CHECK(k.app.audio().playing() == feeling);
    wait_until_played(k);
    Bytes out = disk.since(0);
    CHECK(occurrences(out, feeling_pcm) == 1);

    // The speaker button plays it again from the start.
    REQUIRE(k.find("Kuuntele") != nullptr);
    std::size_t from = disk.size();
    k.tap("Kuuntele");
    CHECK(k.app.audio().playing() == feeling);
    wait_until_played(k);
    CHECK(occurrences(disk.since(from), feeling_pcm) == 1);

    // Answering moves on to the next question, which plays its own voice.
    from = disk.size();
    k.tap("Hyvä");
    k.advance(Session::kAdvanceMs);
    CHECK(k.app.audio().playing() == best);
    wait_until_played(k);
    out = disk.since(from);
    CHECK(occurrences(out, best_pcm) == 1);
    CHECK(occurrences(out, feeling_pcm) == 0);

    // Leaving a question while its voice plays stops it at once: Back to the first
    // question cuts "best" short and starts "feeling" (the device goes on, in silence
    // after the stop but for the one buffer it held); Back out of the survey, to the
    // welcome screen, stops that and closes the device.
    from = disk.size();
    k.tap("Kuuntele");
    wait_ms(300);
    k.tap("Takaisin");
    CHECK(k.app.audio().playing() == feeling);
    const std::size_t switched = disk.size();
    wait_ms(300);
    out = disk.since(from);
    CHECK(occurrences(out, best_pcm) == 0);     // cut short ...
    CHECK(sounding(out) > 1000);                // ... after it had begun
    CHECK(disk.size() > switched + 4000);       // the device went on, now with "feeling"
    k.tap("Takaisin");
    CHECK(k.app.audio().playing().empty());
    CHECK(k.app.audio().state() == platform::Audio::State::Closed);
    const std::size_t stopped = disk.size();
    wait_ms(500);
    CHECK(occurrences(disk.since(switched), feeling_pcm) == 0);  // "feeling" was cut short too
    // Nothing sounds after the stop but what the device already held (one buffer).
    CHECK(sounding(disk.since(stopped + 2 * kBuffer)) == 0);

    // A survey without sounds plays nothing and has no speaker button.
    from = disk.size();
    k.tap("Aikuiset");
    CHECK(k.app.audio().playing().empty());
    CHECK(k.find("Kuuntele") == nullptr);
    wait_ms(400);
    CHECK(sounding(disk.since(from)) == 0);

    // Back on the welcome screen the device is closed: no audio thread while the kiosk waits.
    k.tap("Takaisin");
    REQUIRE(k.find("Suomi") != nullptr);
    CHECK(k.app.audio().state() == platform::Audio::State::Closed);
}

TEST_CASE("the voice is the session's language, else the fallback language's, and the idle timeout silences it") {
    DiskAudio disk;
    Kiosk k;
    // Without a Ukrainian file for the first question, a Ukrainian child hears the Finnish one.
    for (auto& s : k.surveys)
        if (s.id == "child") s.questions[0].sound.files.erase("uk");
    k.tap("Svenska");
    k.tap("Barn");
    CHECK(k.app.audio().playing() == sound_of(k, "child", "feeling", "sv"));
    k.tap("Tillbaka");
    k.tap("Українська");
    k.tap("Діти");
    CHECK(k.app.audio().playing() == sound_of(k, "child", "feeling", "fi"));
    REQUIRE(k.find("Послухати") != nullptr);
    k.tap("Дуже добре");
    k.advance(Session::kAdvanceMs);
    CHECK(k.app.audio().playing() == sound_of(k, "child", "best", "uk"));
    // Walking away: the idle timeout takes the kiosk back to welcome, in silence.
    k.advance(k.config.idle_timeout_ms);
    REQUIRE(k.find("Suomi") != nullptr);
    CHECK(k.app.audio().playing().empty());
    CHECK(k.app.audio().state() == platform::Audio::State::Closed);
}

TEST_CASE("without an audio device the kiosk carries on silently, with no speaker buttons") {
    Env driver("SDL_AUDIODRIVER", "no-such-driver");
    Kiosk k;
    k.tap("Suomi");
    k.tap("Lapset");
    CHECK(k.app.audio().state() == platform::Audio::State::Off);
    CHECK_THAT(k.app.audio().off_reason(), Catch::Contains("no-such-driver"));
    CHECK(k.app.audio().playing().empty());
    k.app.settle(k.scene);
    CHECK(k.find("Kuuntele") == nullptr);
    // The survey works as before.
    k.tap("Tosi hyvä");
    k.advance(Session::kAdvanceMs);
    k.tap("Ohita");
    k.tap("3–5 v.");
    k.advance(Session::kAdvanceMs);
    CHECK(query(k.dir / "k.sqlite", "SELECT status FROM responses") == Rows{{"complete"}});
}

TEST_CASE("a sound file that cannot be decoded is named with its survey line, and every bundled one decodes") {
    TempDir dir;
    DeviceConfig config = load_device_config(config_dir() / "kiosk.toml");
    std::vector<Survey> surveys = load_surveys(config.surveys_dir, config.languages, config.fallback_language, config.assets_dir);
    CHECK_NOTHROW(check_sounds(surveys));
    // RIFF/WAVE on the outside (so the loader takes it), but no fmt chunk inside.
    write_file(dir / "broken.wav", std::string("RIFF\x04\0\0\0WAVE", 12));
    Question& q = surveys.front().questions.front();
    q.sound.files["sv"] = (dir / "broken.wav").string();
    q.sound.at["sv"] = {12, 34};
    CHECK_THROWS_WITH(check_sounds(surveys),
                      Catch::StartsWith(surveys.front().file + ":12:34: question \"" + q.id + "\".sound.sv: cannot play " +
                                        (dir / "broken.wav").string() + ": "));
    CHECK_THROWS_AS(platform::decode_wav((dir / "broken.wav").string()), std::runtime_error);
}
