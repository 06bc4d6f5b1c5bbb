// The device config and the UI text catalogue.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "catalog_keys.hpp"
#include "config.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::TempDir;
using kohtaamo::test::write_file;

TEST_CASE("the bundled device config and catalogue load") {
    DeviceConfig c = load_device_config(test::config_dir() / "kiosk.toml");
    CHECK(c.languages == std::vector<std::string>{"fi", "fi-x-selko", "sv", "en", "uk", "ar"});
    CHECK(c.fallback_language == "fi");
    CHECK(c.idle_timeout_ms == 60'000);
    CHECK(c.database().filename() == "kohtaamo.sqlite");
    CHECK(std::filesystem::is_directory(c.surveys_dir));
    Catalog cat = Catalog::load(c.texts_dir, c.languages);
    CHECK(cat.language_name("sv") == "Svenska");
    CHECK(cat.language_name("uk") == "Українська");
    CHECK(cat.get("uk", "thanks_title") == "Дякуємо!");
    CHECK(cat.get("fi", "thanks_title") == "Kiitos!");
    CHECK(cat.get("ar", "thanks_title") == "شكراً لك!");
    CHECK(cat.rtl("ar"));
    CHECK_FALSE(cat.rtl("fi"));
    CHECK(cat.get("en", "no_such_key") == "[no_such_key]");
    // Plain Finnish rewrites what needs plainer words and shows the rest in Finnish.
    CHECK(cat.language_name("fi-x-selko") == "Selkosuomi");
    CHECK(cat.get("fi-x-selko", "agree_1") == "Ei pidä paikkaansa");
    CHECK(cat.get("fi-x-selko", "back") == "Takaisin");
    CHECK(cat.missing_texts().empty());
}

TEST_CASE("a language variant inherits its base language's texts, and anything else missing is listed") {
    CHECK(base_language("fi-x-selko") == "fi");
    CHECK(base_language("sv-FI") == "sv");
    CHECK(base_language("fi").empty());
    for (const char* good : {"fi", "sv", "uk", "fil", "fi-x-selko", "sv-FI", "zh-Hant"}) CHECK(valid_language_tag(good));
    for (const char* bad : {"", "f", "finnish", "FI", "fi-", "fi--x", "fi-toolongsubtag", "fi x", "-fi", "fi-x-selko-extras"})  // the last: 17 bytes, over the protocol's 16
        CHECK_FALSE(valid_language_tag(bad));

    TempDir dir;
    write_file(dir / "fi.toml", "language_name = \"Suomi\"\n[ui]\nback = \"Takaisin\"\nnext = \"Seuraava\"\n");
    write_file(dir / "sv.toml", "language_name = \"Svenska\"\n[ui]\nback = \"Tillbaka\"\n");
    write_file(dir / "fi-x-selko.toml", "language_name = \"Selkosuomi\"\n[ui]\nnext = \"Eteenpäin\"\n");
    write_file(dir / "sv-x-enkel.toml", "language_name = \"Lätt svenska\"\n[ui]\n");
    Catalog cat = Catalog::load(dir.path(), {"fi", "sv", "fi-x-selko", "sv-x-enkel"}, "", {});
    CHECK(cat.get("fi-x-selko", "next") == "Eteenpäin");
    CHECK(cat.get("fi-x-selko", "back") == "Takaisin");
    CHECK(cat.get("sv-x-enkel", "back") == "Tillbaka");
    CHECK(cat.get("sv-x-enkel", "next") == "Seuraava");
    // Only what neither the variant nor its base has is missing: sv's and sv-x-enkel's "next".
    std::vector<std::string> missing;
    for (const auto& m : cat.missing_texts()) missing.push_back(m.lang + " " + m.where);
    std::sort(missing.begin(), missing.end());
    CHECK(missing == std::vector<std::string>{"sv ui.next", "sv-x-enkel ui.next"});
}

TEST_CASE("a keyboard row in the catalogue that cannot fit or does not match its shifted row is refused") {
    TempDir dir;
    auto error_of = [&](const std::string& ui) -> std::string {
        write_file(dir / "fi.toml", "language_name = \"Suomi\"\n[ui]\n" + ui);
        try {
            Catalog::load(dir.path(), {"fi"}, "", {});
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "loaded";
    };
    CHECK(error_of("keys_1 = \"qwertyuiopå\"\nkeys_shift_1 = \"QWERTYUIOPÅ\"\n") == "loaded");
    CHECK_THAT(error_of("keys_1 = \"qwertyuiopåäö\"\n"),
               Catch::Contains("fi.toml:3:") && Catch::Contains("ui.keys_1 must have 1 to 12 keys") && Catch::Contains("not 13"));
    CHECK_THAT(error_of("keys_3 = \"zxcvbnm,.-?\"\n"), Catch::Contains("ui.keys_3 must have 1 to 10 keys"));
    CHECK_THAT(error_of("keys_2 = \"asdfghjklöä\"\nkeys_shift_2 = \"ASDFGHJKLÖ\"\n"),
               Catch::Contains("fi.toml:4:") && Catch::Contains("ui.keys_shift_2 must have as many keys as ui.keys_2 (11), not 10"));
}

TEST_CASE("a broken device config names the file, line and field") {
    TempDir dir;
    const std::string good =
        "[device]\nsite = \"x\"\n[kiosk]\nlanguages = [\"fi\"]\nidle_timeout_seconds = 60\n[store]\ndata_dir = \"d\"\n";
    auto error_of = [&](const std::string& text) -> std::string {
        write_file(dir / "kiosk.toml", text);
        try {
            load_device_config(dir / "kiosk.toml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "loaded";
    };
    CHECK(error_of(good) == "loaded");
    CHECK_THAT(error_of("[device\nsite = 1\n"), Catch::Contains("kiosk.toml:1:") && Catch::Contains("syntax error"));
    std::string bad_idle = good;
    bad_idle.replace(bad_idle.find("60"), 2, "\"60\"");
    CHECK_THAT(error_of(bad_idle), Catch::Contains("kiosk.toml:5:") && Catch::Contains("kiosk.idle_timeout_seconds must be an integer"));
    CHECK_THAT(error_of(good + "[kiosk2]\n"), Catch::Contains("unknown key kiosk2"));
    CHECK_THAT(error_of("[device]\nsite = \"x\"\n"), Catch::Contains("missing kiosk"));
}

TEST_CASE("a catalogue text missing in one language falls back to the fallback language and is listed") {
    TempDir dir;
    write_file(dir / "fi.toml", "language_name = \"Suomi\"\n[ui]\nback = \"Takaisin\"\nnext = \"Seuraava\"\n");
    write_file(dir / "en.toml", "language_name = \"English\"\n[ui]\nback = \"Back\"\n");
    Catalog cat = Catalog::load(dir.path(), {"fi", "en"}, "", {});
    CHECK(cat.fallback_language() == "fi");
    CHECK(cat.get("en", "back") == "Back");
    CHECK(cat.get("en", "next") == "Seuraava");  // falls back
    CHECK(cat.get("en", "no_such_key") == "[no_such_key]");
    REQUIRE(cat.missing_texts().size() == 1);
    CHECK(to_string(cat.missing_texts()[0]) ==
          (dir / "en.toml").string() + ":2: en text missing for ui.next (falls back to fi)");

    // With English as the fallback, Finnish lacks nothing (English has no key Finnish lacks).
    Catalog en_first = Catalog::load(dir.path(), {"fi", "en"}, "en", {});
    CHECK(en_first.fallback_language() == "en");
    CHECK(en_first.missing_texts().empty());
    CHECK(en_first.get("fi", "next") == "Seuraava");
}

TEST_CASE("the fallback language must be one of the languages, and defaults to the first") {
    TempDir dir;
    const std::string base = "[device]\nsite = \"x\"\n[store]\ndata_dir = \"d\"\n[kiosk]\nlanguages = [\"fi\", \"uk\"]\n";
    write_file(dir / "kiosk.toml", base);
    CHECK(load_device_config(dir / "kiosk.toml").fallback_language == "fi");
    write_file(dir / "kiosk.toml", base + "fallback_language = \"uk\"\n");
    CHECK(load_device_config(dir / "kiosk.toml").fallback_language == "uk");
    write_file(dir / "kiosk.toml", base + "fallback_language = \"sv\"\n");
    CHECK_THROWS_WITH(load_device_config(dir / "kiosk.toml"),
                      Catch::Contains("kiosk.toml:7:") && Catch::Contains("\"sv\" must be one of kiosk.languages"));
}

// The shared kiosk.toml names this device's own file with [kiosk] device; the device file
// is laid over it (kiosk/core/config.hpp).
namespace {
const char* kShared =
    "[kiosk]\nlanguages = [\"fi\", \"sv\"]\ndevice = \"dev/device.toml\"\n"
    "[store]\ndata_dir = \"d\"\n"
    "[coordinator]\npin_hash = \"$argon2id$shared\"\n";

void write_device(const std::filesystem::path& file, const std::string& text) {
    write_file(file, text);
    std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::string error_of(const std::filesystem::path& kiosk_toml) {
    try {
        load_device_config(kiosk_toml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "loaded";
}
}  // namespace

TEST_CASE("a device file gives this kiosk's site, event, PIN and rotation over the shared file") {
    TempDir dir;
    std::filesystem::create_directories(dir / "dev");
    write_file(dir / "kiosk.toml", kShared);
    write_device(dir / "dev/device.toml",
                 "[device]\nsite = \"kirjasto\"\nevent = \"messut-2026\"\n"
                 "[coordinator]\npin_hash = \"$argon2id$device\"\n[display]\nrotation = 90\n");
    DeviceConfig c = load_device_config(dir / "kiosk.toml");
    CHECK(c.site == "kirjasto");
    CHECK(c.event == "messut-2026");
    CHECK(c.pin_hash == "$argon2id$device");  // the device's overrides the shared one
    CHECK(c.rotation == 90);
    CHECK(c.languages == std::vector<std::string>{"fi", "sv"});  // the shared file's
    CHECK(c.device_file == dir / "dev/device.toml");
    CHECK(c.data_dir == dir / "d");  // relative to kiosk.toml, not to the device file

    // Without a PIN in the device file the shared one stays.
    write_device(dir / "dev/device.toml", "[device]\nsite = \"kirjasto\"\n");
    CHECK(load_device_config(dir / "kiosk.toml").pin_hash == "$argon2id$shared");
    CHECK(load_device_config(dir / "kiosk.toml").rotation == 0);
}

TEST_CASE("a mistake in the device file names the device file and its line") {
    TempDir dir;
    std::filesystem::create_directories(dir / "dev");
    write_file(dir / "kiosk.toml", kShared);
    const auto device = dir / "dev/device.toml";
    const std::string at = device.string() + ":";

    write_device(device, "[device]\nsite = \"Kirjasto 1\"\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "2:") && Catch::Contains("not a valid id"));
    write_device(device, "[device]\nsite = \"k\"\n[display]\nrotation = 45\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"),
               Catch::StartsWith(at + "4:") && Catch::Contains("display.rotation must be 0, 90, 180 or 270"));
    write_device(device, "[device]\nsite = \"k\"\n[coordinator]\npin_hash = \"2580\"\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "4:") && Catch::Contains("never the PIN itself"));
    write_device(device, "[device\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "1:") && Catch::Contains("syntax error"));
    write_device(device, "[display]\nrotation = 90\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(device.string()) && Catch::Contains("missing [device] site"));
}

TEST_CASE("a key that does not belong in the device file is refused with its file and line") {
    TempDir dir;
    std::filesystem::create_directories(dir / "dev");
    write_file(dir / "kiosk.toml", kShared);
    const auto device = dir / "dev/device.toml";
    const std::string at = device.string() + ":";
    // The county's settings stay the same on every kiosk: a device file cannot change them.
    write_device(device, "[device]\nsite = \"k\"\n[kiosk]\nlanguages = [\"en\"]\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "4:") &&
                                                 Catch::Contains("kiosk.languages does not belong in a device file") &&
                                                 Catch::Contains("device.site, device.event"));
    write_device(device, "[device]\nsite = \"k\"\n[store]\ndata_dir = \"/tmp\"\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "4:") && Catch::Contains("store.data_dir does not belong"));
    write_device(device, "site = \"k\"\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "1:") && Catch::Contains("site does not belong"));
    write_device(device, "[device]\nsite = \"k\"\nsiet = \"k\"\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "3:") && Catch::Contains("device.siet does not belong"));
    write_device(device, "[device]\nsite = \"k\"\n[sync]\nbatch_max_responses = 5\n");
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith(at + "4:") && Catch::Contains("sync.batch_max_responses"));
}

TEST_CASE("a kiosk without its device file says it is not enrolled, and a device file others can read is refused") {
    TempDir dir;
    write_file(dir / "kiosk.toml", kShared);
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::StartsWith((dir / "kiosk.toml").string() + ":3:") &&
                                                 Catch::Contains("not enrolled yet") && Catch::Contains("kohtaamo-enroll"));
    std::filesystem::create_directories(dir / "dev");
    write_file(dir / "dev/device.toml", "[device]\nsite = \"k\"\n");  // 0644: the umask's default
    CHECK_THAT(error_of(dir / "kiosk.toml"), Catch::Contains("mode 0644") && Catch::Contains("chmod 600"));
    std::filesystem::permissions(dir / "dev/device.toml",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    CHECK(error_of(dir / "kiosk.toml") == "loaded");
    // The bundled development config names no device file: everything is in kiosk.toml.
    CHECK(load_device_config(test::config_dir() / "kiosk.toml").device_file.empty());
}

TEST_CASE("the fallback catalogue must give every text the screens show; a key deleted from it is an error with its line") {
    TempDir dir;
    // The bundled Finnish catalogue has every key the screens use.
    const std::string fi = test::read_file(test::config_dir() / "lang" / "fi.toml");
    write_file(dir / "fi.toml", fi);
    write_file(dir / "en.toml", test::read_file(test::config_dir() / "lang" / "en.toml"));
    CHECK_NOTHROW(Catalog::load(dir.path(), {"fi", "en"}));
    for (const auto& key : catalog_keys()) CHECK(Catalog::load(dir.path(), {"fi"}).get("fi", key) != "[" + key + "]");

    // "next" deleted from Finnish (the fallback): refused, naming the file, the [ui] line and the key.
    std::string gone = fi;
    const auto at = gone.find("\nnext = ");
    REQUIRE(at != std::string::npos);
    gone.erase(at, gone.find('\n', at + 1) - at);
    write_file(dir / "fi.toml", gone);
    const int ui_line = 1 + static_cast<int>(std::count(gone.begin(), gone.begin() + static_cast<std::ptrdiff_t>(gone.find("[ui]")), '\n'));
    CHECK_THROWS_WITH(Catalog::load(dir.path(), {"fi", "en"}),
                      Catch::Contains((dir / "fi.toml").string() + ":" + std::to_string(ui_line) + ":") &&
                          Catch::Contains("lacks 1 text the screens show: ui.next"));
    // With English as the fallback the same files load: Finnish then lacks "next" and shows English's.
    Catalog en = Catalog::load(dir.path(), {"fi", "en"}, "en");
    CHECK(en.get("fi", "next") == "Next");
    REQUIRE(en.missing_texts().size() == 1);
    CHECK(en.missing_texts()[0].where == "ui.next");
}

TEST_CASE("a catalogue's direction is ltr or rtl; a variant takes its base language's") {
    TempDir dir;
    write_file(dir / "ar.toml", "language_name = \"العربية\"\ndirection = \"rtl\"\n[ui]\nback = \"رجوع\"\n");
    write_file(dir / "ar-x-easy.toml", "language_name = \"عربي\"\n[ui]\n");
    write_file(dir / "fi.toml", "language_name = \"Suomi\"\ndirection = \"ltr\"\n[ui]\nback = \"Takaisin\"\n");
    Catalog cat = Catalog::load(dir.path(), {"fi", "ar", "ar-x-easy"}, "", {});
    CHECK(cat.rtl("ar"));
    CHECK(cat.rtl("ar-x-easy"));
    CHECK_FALSE(cat.rtl("fi"));
    write_file(dir / "ar.toml", "language_name = \"العربية\"\ndirection = \"right\"\n[ui]\n");
    CHECK_THROWS_WITH(Catalog::load(dir.path(), {"fi", "ar"}, "", {}),
                      Catch::Contains("ar.toml:2:") && Catch::Contains("direction must be \"ltr\" or \"rtl\""));
}

TEST_CASE("the installed configs (scripts/deploy) ship with no PIN and no token: each device gets its own") {
    for (const char* name : {"kiosk.toml", "collector.toml"}) {
        const std::string text = test::read_file(test::source_dir() / "scripts/deploy" / name);
        std::istringstream in(text);
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            INFO("scripts/deploy/" << name << ":" << n << ": " << line);
            for (const char* key : {"pin_hash", "token", "token_hash", "token_file"})
                CHECK(line.compare(start, std::strlen(key) + 1, std::string(key) + " ") != 0);
            CHECK(line.find("[[device]]") == std::string::npos);
            CHECK(line.find("[[export_token]]") == std::string::npos);
        }
    }
}
