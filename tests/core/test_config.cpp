// The device config and the UI text catalogue.
#include <catch2/catch.hpp>

#include "config.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::TempDir;
using kohtaamo::test::write_file;

TEST_CASE("the bundled device config and catalogue load") {
    DeviceConfig c = load_device_config(test::config_dir() / "kiosk.toml");
    CHECK(c.languages == std::vector<std::string>{"fi", "sv", "en"});
    CHECK(c.idle_timeout_ms == 60'000);
    CHECK(c.database().filename() == "kohtaamo.sqlite");
    CHECK(std::filesystem::is_directory(c.surveys_dir));
    Catalog cat = Catalog::load(c.texts_dir, c.languages);
    CHECK(cat.language_name("sv") == "Svenska");
    CHECK(cat.get("fi", "thanks_title") == "Kiitos!");
    CHECK(cat.get("en", "no_such_key") == "[no_such_key]");
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

TEST_CASE("a catalogue missing a text in one language is refused") {
    TempDir dir;
    write_file(dir / "fi.toml", "language_name = \"Suomi\"\n[ui]\nback = \"Takaisin\"\nnext = \"Seuraava\"\n");
    write_file(dir / "en.toml", "language_name = \"English\"\n[ui]\nback = \"Back\"\n");
    try {
        Catalog::load(dir.path(), {"fi", "en"});
        FAIL("loaded");
    } catch (const ConfigError& e) {
        CHECK_THAT(e.what(), Catch::Contains("en.toml:2:") && Catch::Contains("ui.next is missing"));
    }
}
