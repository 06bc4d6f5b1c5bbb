// "You said, we did": the messages load from config, and the welcome screen shows each in
// turn, in each language in turn.
#include <catch2/catch.hpp>

#include "config.hpp"
#include "news.hpp"
#include "test_support.hpp"

using namespace kohtaamo;

TEST_CASE("the bundled messages load in every language") {
    DeviceConfig c = load_device_config(test::config_dir() / "kiosk.toml");
    auto news = load_news(c.news_file, c.languages, c.fallback_language);
    REQUIRE(news.size() >= 2);
    for (const auto& n : news)
        for (const auto& l : c.languages) CHECK_FALSE(text_in(n.text, l, c.fallback_language).empty());
}

TEST_CASE("messages take turns, then the next language") {
    const std::vector<std::string> langs = {"fi", "sv"};
    CHECK(news_slot(3, langs, 0).item == 0);
    CHECK(news_slot(3, langs, 0).lang == "fi");
    CHECK(news_slot(3, langs, kNewsMs - 1).item == 0);
    CHECK(news_slot(3, langs, kNewsMs).item == 1);
    CHECK(news_slot(3, langs, 3 * kNewsMs).item == 0);
    CHECK(news_slot(3, langs, 3 * kNewsMs).lang == "sv");
    CHECK(news_slot(3, langs, 6 * kNewsMs).lang == "fi");
    CHECK(news_slot(0, langs, 5000).lang.empty());
    // Plain Finnish beside Finnish takes no turn of its own; alone it does.
    const std::vector<std::string> with_selko = {"fi", "fi-x-selko", "sv"};
    CHECK(news_slot(3, with_selko, 3 * kNewsMs).lang == "sv");
    CHECK(news_slot(3, with_selko, 6 * kNewsMs).lang == "fi");
    CHECK(news_slot(1, {"fi-x-selko", "sv"}, 0).lang == "fi-x-selko");
}

TEST_CASE("a bad message file is refused with its line, and a missing one means no messages") {
    test::TempDir dir;
    CHECK(load_news(dir / "none.toml", {"fi"}, "fi").empty());
    test::write_file(dir / "n.toml", "[[news]]\nicon = \"🌳\"\ntext = { fi = \"Ulos!\" }\n[[news]]\nicon = \"no\"\ntext = { fi = \"x\" }\n");
    CHECK_THROWS_WITH(load_news(dir / "n.toml", {"fi"}, "fi"), Catch::Contains("n.toml:5:") && Catch::Contains("must be one picture"));
    test::write_file(dir / "m.toml", "[[news]]\nicon = \"🌳\"\ntext = { sv = \"Ut!\" }\n");
    CHECK_THROWS_WITH(load_news(dir / "m.toml", {"fi", "sv"}, "fi"), Catch::Contains("m.toml:3:") && Catch::Contains("\"fi\""));
}
