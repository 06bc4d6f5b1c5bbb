// The coordinator's screen in-process: Export to a real (tmpfs) stick with the progress
// bar, the result and the files on the stick; and a full-screen kiosk that ignores a
// window-close request.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "delivery.hpp"
#include "kiosk_fixture.hpp"
#include "seal.hpp"
#include "utf8.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {
void open_staff(Kiosk& k) {
    k.app.input().press(10, 10);
    k.scene.input();
    k.app.settle(k.scene);
    for (int i = 0; i < 35; ++i) {
        k.clock.advance(100);
        k.app.frame(k.scene);
    }
    k.app.input().release(10, 10);
    k.app.settle(k.scene);
    REQUIRE(k.scene.mode() == KioskScene::Mode::Pin);
    for (const char* d : {"2", "5", "8", "0", "OK"}) k.tap(d);
    REQUIRE(k.scene.mode() == KioskScene::Mode::Staff);
}
}  // namespace

TEST_CASE("Export writes the CSV, the Excel workbook and the report onto the stick and says how many went") {
    SmallDisk stick(8 * 1024 * 1024);
    ExportConfig ec;
    ec.drive = stick.path();
    Kiosk k(1280, 800, ec);
    // Two children answer first (different ages: the same answers this soon after each
    // other would be flagged by the mischief rule and left out of the export).
    for (int i = 0; i < 2; ++i) {
        k.tap("Suomi");
        k.tap("Lapset");
        k.tap("Tosi hyvä");
        k.advance(Session::kAdvanceMs);
        k.tap("Ohita");  // nothing picked: Skip
        k.tap(i == 0 ? "6–9 v." : "3–5 v.");
        k.advance(Session::kAdvanceMs);
        k.advance(10'000);
    }
    open_staff(k);
    k.tap("Vie tikulle");
    for (int i = 0; i < 200 && k.find("Vie tikulle") && !k.app.registry().empty(); ++i) {
        k.app.frame(k.scene);
        bool done = false;
        for (const auto& t : k.app.registry()) done = done || t.text.rfind("Valmis.", 0) == 0;
        if (done) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string message;
    for (const auto& t : k.app.registry())
        if (t.text.rfind("Valmis.", 0) == 0) message = t.text;
    std::string seen;
    for (const auto& t : k.app.registry()) seen += "[" + t.text + "] ";
    INFO("on screen: " << seen);
    CHECK_THAT(message, Catch::StartsWith("Valmis. Vastauksia: 2"));
    int csv = 0, html = 0, xlsx = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(stick.path())) {
        csv += e.path().extension() == ".csv";
        html += e.path().extension() == ".html";
        xlsx += e.path().extension() == ".xlsx";
        CHECK(e.path().filename().string().find(".part") == std::string::npos);
    }
    CHECK(csv >= 2);
    CHECK(html == 1);
    CHECK(xlsx == 1);
}

TEST_CASE("Export on a sealed kiosk writes the sealed delivery file alone onto the stick") {
    SmallDisk stick(8 * 1024 * 1024);
    ExportConfig ec;
    ec.drive = stick.path();
    Kiosk k(1280, 800, ec);
    auto [pub, secret] = new_seal_key_texts("k1");
    k.store.set_seal_to(parse_seal_public_key(pub));
    // As kiosk/main.cpp wires it.
    k.scene.set_delivery([&k](const std::filesystem::path& folder, const std::string& name) {
        return sync::write_delivery_file(k.store.path(), true, folder, name);
    });
    for (int i = 0; i < 2; ++i) {
        k.tap("Suomi");
        k.tap("Lapset");
        k.tap("Tosi hyvä");
        k.advance(Session::kAdvanceMs);
        k.tap("Ohita");
        k.tap(i == 0 ? "6–9 v." : "3–5 v.");
        k.advance(Session::kAdvanceMs);
        k.advance(10'000);
    }
    open_staff(k);
    // The counts are today's, as without sealing (they never read a value).
    const CoordinatorStats stats = read_stats(k.store.handle(), k.clock.wall_ms(), {});
    REQUIRE(stats.surveys.size() == 1);
    CHECK(stats.surveys[0].today == 2);
    CHECK(stats.surveys[0].flagged == 0);
    k.tap("Vie tikulle");
    std::string message;
    for (int i = 0; i < 200 && message.empty(); ++i) {
        k.app.frame(k.scene);
        for (const auto& t : k.app.registry())
            if (t.text.rfind("Valmis.", 0) == 0) message = t.text;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK_THAT(message, Catch::StartsWith("Valmis. Vastauksia: 2"));
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(stick.path()))
        if (e.is_regular_file()) files.push_back(e.path());
    REQUIRE(files.size() == 1);
    CHECK_THAT(files[0].filename().string(), Catch::EndsWith(".delivery.jsonl"));
    const std::string text = read_file(files[0]);
    CHECK(text.find("\"value\"") == std::string::npos);
    CHECK(text.find("\"sealed\":\"k1:") != std::string::npos);
    // What the collector reads from it: both responses, every answer opened.
    SealKeyring keys;
    keys.add(parse_seal_secret_key(secret));
    auto batches = sync::read_delivery_file(files[0]);
    REQUIRE(batches.size() == 1);
    sync::open_sealed(batches[0], keys, {});
    REQUIRE(batches[0].responses.size() == 2);
    for (const auto& r : batches[0].responses)
        for (const auto& a : r.answers) {
            CHECK(a.sealed.empty());
            CHECK_FALSE(a.value.empty());
        }
}

TEST_CASE("Export on a sealed kiosk with a locked key file on the stick asks its passphrase and writes the readable files too") {
    SmallDisk stick(8 * 1024 * 1024);
    ExportConfig ec;
    ec.drive = stick.path();
    Kiosk k(1280, 800, ec);
    auto [pub, secret] = new_seal_key_texts("k1");
    k.store.set_seal_to(parse_seal_public_key(pub));
    k.scene.set_delivery([&k](const std::filesystem::path& folder, const std::string& name) {
        return sync::write_delivery_file(k.store.path(), true, folder, name);
    });
    // The coordinator's own stick: the key, locked as `kohtaamo-collector wrap-key` locks it.
    const auto key_file = stick.path() / "koordinaattori.key";
    {
        std::ofstream out(key_file, std::ios::binary);
        out << wrap_seal_secret(parse_seal_secret_key(secret), "tikkuavain") << "\n";
    }
    for (int i = 0; i < 2; ++i) {
        k.tap("Suomi");
        k.tap("Lapset");
        k.tap("Tosi hyvä");
        k.advance(Session::kAdvanceMs);
        k.tap("Ohita");
        k.tap(i == 0 ? "6–9 v." : "3–5 v.");
        k.advance(Session::kAdvanceMs);
        k.advance(10'000);
    }
    open_staff(k);
    k.tap("Vie tikulle");
    // The passphrase screen, on the on-screen keyboard: what is typed shows as dots.
    auto shown = [&k](const std::string& text) {
        for (const auto& t : k.app.registry())
            if (t.text.find(text) != std::string::npos) return true;
        return false;
    };
    REQUIRE(shown("Avaa avain"));
    auto type = [&k](const std::string& word) {
        const auto letters = utf8_split(word).value_or(std::vector<std::string>{});
        for (const auto& c : letters) k.tap(c);
    };
    auto files_on_stick = [&] {
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::recursive_directory_iterator(stick.path()))
            if (e.is_regular_file() && e.path() != key_file) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        return files;
    };
    auto wait_done = [&k] {
        std::string message;
        for (int i = 0; i < 300 && message.empty(); ++i) {
            k.app.frame(k.scene);
            for (const auto& t : k.app.registry())
                if (t.text.rfind("Valmis.", 0) == 0) message = t.text;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return message;
    };
    type("vaara");
    CHECK(shown("•••••"));
    k.tap("Avaa");
    // A wrong one is refused, says so, and writes nothing.
    CHECK(shown("Tunnuslause ei avaa avainta. Kirjoita se uudelleen tai ohita (tikulle tulee vain sinetöity toimitustiedosto)."));
    CHECK(shown("Avaa avain"));
    CHECK(files_on_stick().empty());

    SECTION("the right passphrase: the delivery file, the readable CSVs with the answers, the workbook and the report") {
        type("tikkuavain");
        k.tap("Avaa");
        CHECK_THAT(wait_done(), Catch::StartsWith("Valmis. Vastauksia: 2"));
        int delivery = 0, csv = 0, html = 0, xlsx = 0;
        std::string long_csv;
        for (const auto& f : files_on_stick()) {
            const std::string name = f.filename().string();
            delivery += name.size() > 15 && name.substr(name.size() - 15) == ".delivery.jsonl";
            csv += f.extension() == ".csv";
            html += f.extension() == ".html";
            xlsx += f.extension() == ".xlsx";
            if (name.find("-long.csv") != std::string::npos) long_csv = read_file(f);
        }
        CHECK(delivery == 1);
        CHECK(csv >= 2);
        CHECK(html == 1);
        CHECK(xlsx == 1);
        // The answers in clear: both ages, no sealed box.
        CHECK(long_csv.find("6-9") != std::string::npos);
        CHECK(long_csv.find("3-5") != std::string::npos);
        CHECK(long_csv.find("k1:") == std::string::npos);
        CHECK(std::filesystem::exists(key_file));  // the stick's key stays as it was
    }
    SECTION("Skip: the sealed delivery file alone, as without a key") {
        k.tap("Ohita");
        CHECK_THAT(wait_done(), Catch::StartsWith("Valmis. Vastauksia: 2"));
        const auto files = files_on_stick();
        REQUIRE(files.size() == 1);
        CHECK_THAT(files[0].filename().string(), Catch::EndsWith(".delivery.jsonl"));
    }
}

TEST_CASE("Export with no stick says so and writes nothing") {
    ExportConfig ec;
    ec.drive = std::filesystem::path("/nonexistent/stick");
    Kiosk k(1280, 800, ec);
    open_staff(k);
    k.tap("Vie tikulle");
    bool said = false;
    for (const auto& t : k.app.registry()) said = said || t.text.find("USB-tikkua ei löydy") != std::string::npos;
    CHECK(said);
}

TEST_CASE("the staff screen shows responses set aside by sync, how many reasons, and the most frequent one") {
    for (auto [w, h] : {std::pair{1280, 800}, std::pair{800, 480}, std::pair{1080, 1920}}) {
        INFO(w << "x" << h);
        Kiosk k(w, h);
        for (int i = 0; i < 3; ++i) {  // three children's answers, as the session saves them
            const std::int64_t t = k.clock.wall_ms() - 3'600'000 + i * 60'000;
            ResponseHeader r{new_uuid(), "child", 1, "fi", "demo", "", t};
            k.store.save_answer(r, "mood", {std::to_string(3 + i)}, t + 5'000);
            k.store.finish(r.id, ResponseStatus::Complete, t + 9'000);
        }
        // What the uploader leaves in the database (sync/outbox.cpp): two responses set
        // aside for one reason, none for another; the sync state of a working uploader.
        const std::string reason = "the collector fails on this response alone and acknowledges others: HTTP 500: "
                                   "the collector failed: disk I/O error";
        k.store.exec(("UPDATE responses SET sync_rejected = '" + reason + "' WHERE rowid IN (SELECT rowid FROM responses"
                      " WHERE status = 'complete' ORDER BY rowid LIMIT 2)").c_str());
        k.store.exec("INSERT OR REPLACE INTO sync_state(key, value) VALUES ('state', 'idle'),"
                     " ('last_success_at', '2026-11-25T19:55:49.123Z')");
        open_staff(k);
        const ui::Target* line = nullptr;
        const ui::Target* why = nullptr;
        for (const auto& t : k.app.registry()) {
            if (t.text == "Sivuun pantu, ei lähetetä: 2 · eri syitä: 1 · Ota yhteys IT-tukeen.") line = &t;
            if (t.text.rfind("2 × the collector fails", 0) == 0) why = &t;
        }
        std::string seen;
        for (const auto& t : k.app.registry()) seen += "[" + t.text + "] ";
        INFO("on screen: " << seen);
        REQUIRE(line);
        // The two set aside are not counted as waiting; the third one is.
        bool pending = false;
        for (const auto& t : k.app.registry()) pending = pending || t.text.rfind("Lähettämättä: 1 ·", 0) == 0;
        CHECK(pending);
        // On the screen and above the buttons; the most frequent reason where there is room
        // for it (portrait), on one line (cut with "…" when long).
        float buttons_top = static_cast<float>(h);
        for (const auto& t : k.app.registry())
            if (t.tappable) buttons_top = std::min(buttons_top, t.min.y);
        CHECK(line->min.x >= 0);
        CHECK(line->max.x <= static_cast<float>(w));
        CHECK(line->max.y <= buttons_top);
        if (h > w) {
            REQUIRE(why);
            CHECK(why->text == "2 × " + reason);  // portrait: room for all of it
        }
        if (why) {
            CHECK(why->max.x <= static_cast<float>(w));
            CHECK(why->max.y <= buttons_top);
            // Whole where there is room, else one line cut short.
            if (why->text.find("disk I/O error") == std::string::npos)
                CHECK(why->max.y - why->min.y < 2 * k.app.metrics().small);
        }
    }
}

TEST_CASE("the staff screen closes itself after the idle timeout") {
    Kiosk k;
    open_staff(k);
    k.advance(k.config.idle_timeout_ms);
    CHECK(k.scene.mode() == KioskScene::Mode::Visitor);
}

namespace {
struct QuitLater : platform::Scene {
    std::atomic<bool> quit{false};
    void draw(const ui::Metrics&, const ui::Fonts&, const ui::IconLookup&, ui::Registry&) override {}
    bool tick() override { return false; }
    std::optional<std::int64_t> deadline() const override { return std::nullopt; }
    bool animating() const override { return false; }
    void input() override {}
    void reset() override {}
    bool wants_quit() const override { return quit; }
};
}  // namespace

TEST_CASE("a full-screen kiosk ignores a window-close request, and only the coordinator's Quit ends it") {
    Clock clock;
    platform::App app(platform::AppOptions{true, true, true, 800, 480}, clock);
    QuitLater scene;
    std::thread other([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        SDL_Event e{};
        e.type = SDL_WINDOWEVENT;  // what a window manager's close (Alt+F4) sends
        e.window.event = SDL_WINDOWEVENT_CLOSE;
        SDL_PushEvent(&e);
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        scene.quit = true;
        app.wake();
    });
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    auto ran = std::chrono::steady_clock::now() - t0;
    other.join();
    CHECK(ran >= std::chrono::milliseconds(550));
}

TEST_CASE("a windowed kiosk closes on a window-close request") {
    Clock clock;
    platform::App app(platform::AppOptions{true, false, true, 800, 480}, clock);
    QuitLater scene;
    SDL_Event e{};
    e.type = SDL_WINDOWEVENT;
    e.window.event = SDL_WINDOWEVENT_CLOSE;
    SDL_PushEvent(&e);
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("a full-screen kiosk stops when the display goes away (SDL_QUIT), as when its compositor ends") {
    Clock clock;
    platform::App app(platform::AppOptions{true, true, true, 800, 480}, clock);
    QuitLater scene;
    std::thread other([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        SDL_Event e{};
        e.type = SDL_QUIT;  // SDL's word for a lost Wayland connection
        SDL_PushEvent(&e);
    });
    auto t0 = std::chrono::steady_clock::now();
    app.run(scene);
    other.join();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK_FALSE(scene.quit);  // it was not the coordinator's Quit
}

TEST_CASE("the coordinator's wishes per month are labelled in the labels' own size at 1280x800") {
    Kiosk k(1280, 800);
    open_staff(k);
    const ui::Metrics& m = k.app.metrics();
    int months = 0;
    for (int i = 1; i <= 12; ++i) {
        const std::string name = k.texts.get("fi", "month_short_" + std::to_string(i));
        for (const auto& t : k.app.registry())
            if (!t.tappable && t.text == name) {
                ++months;
                INFO(name << " " << t.max.y - t.min.y);
                CHECK(t.max.y - t.min.y >= text::Shaper::line_height(m.small) - 0.5f);  // not shrunk to fit a column
                CHECK_FALSE(t.truncated);
            }
    }
    CHECK(months == 12);
}
