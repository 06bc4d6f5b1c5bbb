// The survey loader: the bundled surveys load, and every kind of bad file is refused with
// a message naming the file, the line and the problem.
#include <catch2/catch.hpp>

#include "config.hpp"
#include "survey.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::TempDir;
using kohtaamo::test::write_file;

static const std::vector<std::string> kLangs = {"fi", "sv", "en"};

static const char* kGood = R"(id = "mini"
version = 3
title = { fi = "Mini", sv = "Mini", en = "Mini" }

[[questions]]
id = "feeling"
kind = "smiley"
faces = 3
text = { fi = "Miltä?", sv = "Hur?", en = "How?" }

[[questions]]
id = "best"
kind = "picture"
multiple = true
required = false
text = { fi = "Mikä?", sv = "Vad?", en = "What?" }
  [[questions.choices]]
  id = "play"
  icon = "🧸"
  text = { fi = "Leikki", sv = "Lek", en = "Play" }
  [[questions.choices]]
  id = "snack"
  icon = "🍎"
  text = { fi = "Välipala", sv = "Mellanmål", en = "Snack" }

[[questions]]
id = "fair"
kind = "agree"
text = { fi = "Reilu", sv = "Rättvis", en = "Fair" }
)";

// Loads `content` as a survey file and returns the error message (fails if it loads).
static std::string load_error(const std::string& content, const std::string& name = "bad.toml") {
    TempDir dir;
    write_file(dir / name, content);
    try {
        load_survey(dir / name, kLangs);
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        // The message starts with the file's path; tests compare the rest.
        REQUIRE(msg.rfind((dir / name).string(), 0) == 0);
        return msg.substr((dir / name).string().size());
    }
    FAIL("the file loaded although it is broken");
    return "";
}

static std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

TEST_CASE("a good survey file loads with every field") {
    TempDir dir;
    write_file(dir / "mini.toml", kGood);
    Survey s = load_survey(dir / "mini.toml", kLangs);
    CHECK(s.id == "mini");
    CHECK(s.version == 3);
    REQUIRE(s.questions.size() == 3);
    CHECK(s.questions[0].kind == QuestionKind::Smiley);
    CHECK(s.questions[0].faces == 3);
    CHECK(s.questions[0].required);
    CHECK(s.questions[0].allowed_values() == std::vector<std::string>{"1", "2", "3"});
    CHECK(s.questions[1].kind == QuestionKind::Picture);
    CHECK(s.questions[1].multiple);
    CHECK_FALSE(s.questions[1].required);
    CHECK(s.questions[1].choices[1].icon == "🍎");
    CHECK(s.questions[1].choices[1].text.at("sv") == "Mellanmål");
    CHECK(s.questions[2].allowed_values().size() == 5);
}

TEST_CASE("the bundled surveys load in fi, sv and en") {
    auto surveys = load_surveys(test::config_dir() / "surveys", kLangs);
    REQUIRE(surveys.size() >= 2);
    auto child = std::find_if(surveys.begin(), surveys.end(), [](const Survey& s) { return s.id == "child"; });
    REQUIRE(child != surveys.end());
    REQUIRE(child->questions.size() == 3);
    CHECK(child->questions[0].kind == QuestionKind::Smiley);
    CHECK(child->questions[1].choices.size() >= 6);
    CHECK(child->questions[2].id == "age");
}

TEST_CASE("a syntax error names the file and the parser's line") {
    std::string bad = replace(kGood, "kind = \"agree\"", "kind = \"agree");
    CHECK_THAT(load_error(bad), Catch::StartsWith(":28:14:") && Catch::Contains("syntax error"));
}

TEST_CASE("an unknown question kind is named with its line") {
    std::string bad = replace(kGood, "kind = \"smiley\"", "kind = \"smily\"");
    CHECK_THAT(load_error(bad), Catch::StartsWith(":7:") && Catch::Contains("unknown question kind \"smily\""));
}

TEST_CASE("a text missing in the fallback language names the question and the language") {
    std::string bad = replace(kGood, "text = { fi = \"Reilu\", sv = \"Rättvis\", en = \"Fair\" }",
                              "text = { sv = \"Rättvis\", en = \"Fair\" }");
    CHECK_THAT(load_error(bad), Catch::StartsWith(":29:") && Catch::Contains("question \"fair\".text") &&
                                    Catch::Contains("no text in language \"fi\" (the fallback language)"));
    CHECK_THAT(load_error(replace(kGood, "fi = \"Leikki\"", "fi = \"\"")),
               Catch::StartsWith(":20:") && Catch::Contains("choice \"play\".text.fi is empty"));
}

TEST_CASE("a text missing in another language is listed with its line and shows in the fallback language") {
    TempDir dir;
    std::string partial = replace(kGood, "text = { fi = \"Reilu\", sv = \"Rättvis\", en = \"Fair\" }",
                                  "text = { fi = \"Reilu\", en = \"Fair\" }");
    partial = replace(partial, "sv = \"Mellanmål\", ", "");
    write_file(dir / "mini.toml", partial);
    const std::string file = (dir / "mini.toml").string();

    Survey s = load_survey(dir / "mini.toml", kLangs);
    std::vector<std::string> listed;
    for (const auto& m : s.missing_texts) listed.push_back(to_string(m));
    CHECK(listed == std::vector<std::string>{
                        file + ":24: sv text missing for question \"best\" choice \"snack\".text (falls back to fi)",
                        file + ":29: sv text missing for question \"fair\".text (falls back to fi)"});
    const std::string& fallback = kLangs.front();
    CHECK(text_in(s.questions[2].text, "sv", fallback) == "Reilu");
    CHECK(text_in(s.questions[2].text, "en", fallback) == "Fair");
    CHECK(text_in(s.questions[1].choices[1].text, "sv", fallback) == "Välipala");
    CHECK(text_in(s.questions[1].choices[0].text, "sv", fallback) == "Lek");

    // With Swedish as the fallback the same file is broken: Swedish must be complete.
    CHECK_THROWS_WITH(load_survey(dir / "mini.toml", kLangs, "sv"),
                      Catch::Contains(file + ":24:") &&
                          Catch::Contains("question \"best\" choice \"snack\".text has no text in language \"sv\""));
    // An empty text is a mistake in any language, not a missing one.
    CHECK_THAT(load_error(replace(kGood, "en = \"Snack\"", "en = \"\"")),
               Catch::StartsWith(":24:") && Catch::Contains("choice \"snack\".text.en is empty"));
    // A language the kiosk does not offer is not asked for at all.
    CHECK(load_survey(dir / "mini.toml", {"fi", "en"}).missing_texts.empty());
}

TEST_CASE("duplicate ids are refused") {
    SECTION("question ids") {
        std::string bad = replace(kGood, "id = \"fair\"", "id = \"feeling\"");
        CHECK_THAT(load_error(bad), Catch::StartsWith(":27:") && Catch::Contains("duplicate question id \"feeling\""));
    }
    SECTION("choice ids") {
        std::string bad = replace(kGood, "id = \"snack\"", "id = \"play\"");
        CHECK_THAT(load_error(bad), Catch::Contains("duplicate choice id \"play\""));
    }
    SECTION("survey ids across files") {
        TempDir dir;
        write_file(dir / "a.toml", kGood);
        write_file(dir / "b.toml", kGood);
        try {
            load_surveys(dir.path(), kLangs);
            FAIL("two surveys with one id loaded");
        } catch (const ConfigError& e) {
            CHECK_THAT(e.what(), Catch::Contains("b.toml:1:") && Catch::Contains("duplicate survey id \"mini\"") &&
                                     Catch::Contains("a.toml"));
        }
    }
}

TEST_CASE("other mistakes are refused with a clear message") {
    CHECK_THAT(load_error(replace(kGood, "faces = 3", "faces = 4")), Catch::Contains("faces must be 3 or 5"));
    CHECK_THAT(load_error(replace(kGood, "version = 3", "version = \"3\"")),
               Catch::StartsWith(":2:") && Catch::Contains("version must be an integer"));
    CHECK_THAT(load_error(replace(kGood, "required = false", "requird = false")),
               Catch::Contains("unknown key question") || Catch::Contains("unknown key questions[1].requird"));
    CHECK_THAT(load_error(replace(kGood, "icon = \"🍎\"", "icon = \"\"")), Catch::Contains(".icon is empty"));
    CHECK_THAT(load_error(replace(kGood, "id = \"mini\"", "id = \"Mini Survey\"")), Catch::Contains("not a valid id"));
    // An icon is one picture: plain letters are not (whether an emoji sequence is one
    // picture is the emoji font's to say: tests/ui/test_pictures.cpp).
    CHECK_THAT(load_error(replace(kGood, "icon = \"🍎\"", "icon = \"A\"")),
               Catch::StartsWith(":23:") && Catch::Contains("must be one picture"));
    CHECK_THAT(load_error(replace(kGood, "icon = \"🍎\"", "icon = \"🍎 🍐\"")), Catch::Contains("must be one picture"));
    CHECK_THAT(load_error("id = \"x\"\nversion = 1\ntitle = { fi = \"a\", sv = \"b\", en = \"c\" }\n"),
               Catch::Contains("at least one [[questions]]"));
}

TEST_CASE("the bundled surveys and catalogue have every text in every bundled language") {
    const std::vector<std::string> langs = {"fi", "fi-x-selko", "sv", "en", "uk", "ar"};
    for (const auto& s : load_surveys(test::config_dir() / "surveys", langs)) {
        INFO(s.file);
        for (const auto& m : s.missing_texts) FAIL_CHECK(to_string(m));
    }
    Catalog cat = Catalog::load(test::config_dir() / "lang", langs);
    for (const auto& m : cat.missing_texts()) FAIL_CHECK(to_string(m));
    CHECK(cat.language_name("uk") == "Українська");
    CHECK(cat.language_name("ar") == "العربية");
    CHECK(cat.rtl("ar"));
    CHECK_FALSE(cat.rtl("fi-x-selko"));
}

TEST_CASE("the grown-ups' survey has its own plain-Finnish texts, the others show Finnish") {
    const std::vector<std::string> langs = {"fi", "fi-x-selko", "sv"};
    int own = 0;
    for (const auto& s : load_surveys(test::config_dir() / "surveys", langs)) {
        for (const auto& q : s.questions) {
            CHECK_FALSE(text_in(q.text, "fi-x-selko", "fi").empty());
            own += s.id == "family" && q.text.count("fi-x-selko");
        }
        if (s.id == "family") CHECK(text_in(s.questions[1].text, "fi-x-selko", "sv") == "Sain täältä apua arkeen.");
        if (s.id == "child") CHECK(text_in(s.questions[0].text, "fi-x-selko", "sv") == text_in(s.questions[0].text, "fi", "sv"));
    }
    CHECK(own >= 4);
}

TEST_CASE("choice, text and show-if questions load, and their mistakes are named") {
    const std::string base = std::string(kGood) + R"(
[[questions]]
id = "often"
kind = "choice"
text = { fi = "Kuinka usein?", sv = "Hur ofta?", en = "How often?" }
  [[questions.choices]]
  id = "first"
  text = { fi = "Ensi kertaa", sv = "Första gången", en = "First time" }
  [[questions.choices]]
  id = "weekly"
  icon = "🏠"
  text = { fi = "Viikoittain", sv = "Varje vecka", en = "Weekly" }

[[questions]]
id = "why"
kind = "text"
required = false
max_length = 120
show_if = { question = "often", any_of = ["first"] }
text = { fi = "Miksi?", sv = "Varför?", en = "Why?" }
)";
    TempDir dir;
    write_file(dir / "s.toml", base);
    Survey s = load_survey(dir / "s.toml", kLangs);
    REQUIRE(s.questions.size() == 5);
    CHECK(s.questions[3].kind == QuestionKind::Choice);
    CHECK(s.questions[3].choices[0].icon.empty());
    CHECK(s.questions[3].single_tap());
    CHECK(s.questions[4].kind == QuestionKind::Text);
    CHECK(s.questions[4].max_length == 120);
    CHECK_FALSE(s.questions[4].single_tap());
    REQUIRE(s.questions[4].show_if.has_value());
    CHECK(s.questions[4].show_if->any_of == std::vector<std::string>{"first"});

    CHECK_THAT(load_error(replace(base, "any_of = [\"first\"]", "any_of = [\"never\"]")),
               Catch::Contains("\"often\" has no value \"never\""));
    CHECK_THAT(load_error(replace(base, "question = \"often\"", "question = \"later\"")),
               Catch::Contains("\"later\" is not an earlier question"));
    CHECK_THAT(load_error(replace(base, "max_length = 120", "max_length = 0")), Catch::Contains("max_length must be 1..2000"));
    CHECK_THAT(load_error(replace(base, "kind = \"text\"", "kind = \"txt\"")),
               Catch::Contains("expected smiley, picture, agree, choice or text"));
}

// --- sound: a question's voice per language --------------------------------------------

namespace {

// The smallest file that starts like a WAV file (the loader looks no further; decoding is
// the platform layer's test).
const std::string kWavHead = std::string("RIFF\x24\0\0\0WAVEfmt ", 16) + std::string(24, '\0');

// kGood with a sound on its first question, and the files it names, in one folder (which
// is both the survey's folder and the assets folder).
struct SoundSurvey {
    TempDir dir;
    std::string sound = "sound = { fi = \"sounds/fi/feeling.wav\", sv = \"sounds/sv/feeling.wav\", en = \"sounds/en/feeling.wav\" }";
    SoundSurvey() {
        for (const char* lang : {"fi", "sv", "en"}) {
            std::filesystem::create_directories(dir / "sounds" / lang);
            write_file(dir / "sounds" / lang / "feeling.wav", kWavHead);
        }
    }
    std::string content() const { return replace(kGood, "faces = 3\n", "faces = 3\n" + sound + "\n"); }
    std::filesystem::path write() const {
        write_file(dir / "mini.toml", content());
        return dir / "mini.toml";
    }
    // The loader's message without the file's path.
    std::string error() const {
        const auto file = write();
        try {
            load_survey(file, kLangs, "", dir.path());
        } catch (const ConfigError& e) {
            std::string msg = e.what();
            REQUIRE(msg.rfind(file.string(), 0) == 0);
            return msg.substr(file.string().size());
        }
        FAIL("the file loaded although it is broken");
        return "";
    }
};

}  // namespace

TEST_CASE("a question's sound names a WAV file per language, relative to the assets folder") {
    SoundSurvey s;
    Survey survey = load_survey(s.write(), kLangs, "", s.dir.path());
    const Sound& sound = survey.questions[0].sound;
    REQUIRE(sound.files.size() == 3);
    CHECK(sound.files.at("sv") == (s.dir / "sounds" / "sv" / "feeling.wav").string());
    CHECK(sound.at.at("fi").line == 9);
    CHECK(sound.at.at("fi").column == 16);
    CHECK(survey.questions[1].sound.empty());
    CHECK(survey.missing_texts.empty());
    // The session's language, else the fallback language's file.
    CHECK(text_in(sound.files, "en", "fi") == (s.dir / "sounds" / "en" / "feeling.wav").string());
    CHECK(text_in(sound.files, "uk", "fi") == (s.dir / "sounds" / "fi" / "feeling.wav").string());

    // A language left out plays the fallback's file and is listed like a missing text.
    s.sound = "sound = { fi = \"sounds/fi/feeling.wav\", sv = \"sounds/sv/feeling.wav\" }";
    survey = load_survey(s.write(), kLangs, "", s.dir.path());
    REQUIRE(survey.missing_texts.size() == 1);
    CHECK(to_string(survey.missing_texts[0]) ==
          (s.dir / "mini.toml").string() + ":9: en sound missing for question \"feeling\".sound (falls back to fi)");
    // A language the question has a text in but the kiosk does not offer is fine.
    s.sound = "sound = { fi = \"sounds/fi/feeling.wav\", sv = \"sounds/sv/feeling.wav\", en = \"sounds/en/feeling.wav\" }";
    CHECK(load_survey(s.write(), {"fi", "sv"}, "", s.dir.path()).questions[0].sound.files.size() == 3);

    // A tool that plays nothing (no assets folder) keeps the names and looks at no file.
    std::filesystem::remove_all(s.dir / "sounds");
    survey = load_survey(s.write(), kLangs);
    CHECK(survey.questions[0].sound.files.at("sv") == "sounds/sv/feeling.wav");
}

TEST_CASE("a missing sound file, a file that is not WAV and an unknown language are named with line and column") {
    SoundSurvey s;
    SECTION("a missing file") {
        std::filesystem::remove(s.dir / "sounds" / "sv" / "feeling.wav");
        CHECK_THAT(s.error(), Catch::StartsWith(":9:46:") &&
                                  Catch::Contains("question \"feeling\".sound.sv: sound file \"sounds/sv/feeling.wav\" not found") &&
                                  Catch::Contains((s.dir / "sounds" / "sv" / "feeling.wav").string()));
    }
    SECTION("a file that is not a WAV file") {
        write_file(s.dir / "sounds" / "en" / "feeling.wav", "ID3\x03\x00 an MP3 file renamed");
        CHECK_THAT(s.error(), Catch::StartsWith(":9:76:") &&
                                  Catch::Contains("question \"feeling\".sound.en: \"sounds/en/feeling.wav\" is not a WAV file"));
        write_file(s.dir / "sounds" / "en" / "feeling.wav", "");
        CHECK_THAT(s.error(), Catch::StartsWith(":9:76:") && Catch::Contains("is not a WAV file"));
    }
    SECTION("a folder instead of a file") {
        s.sound = "sound = { fi = \"sounds/fi\" }";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:16:") && Catch::Contains("sound file \"sounds/fi\" not found"));
    }
    SECTION("an unknown language") {
        s.sound = "sound = { fi = \"sounds/fi/feeling.wav\", se = \"sounds/sv/feeling.wav\" }";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:46:") &&
                                  Catch::Contains("question \"feeling\".sound.se: unknown language \"se\"") &&
                                  Catch::Contains("are en, fi, sv)"));
    }
    SECTION("no file for the fallback language") {
        s.sound = "sound = { sv = \"sounds/sv/feeling.wav\" }";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:9:") &&
                                  Catch::Contains("question \"feeling\".sound has no sound in language \"fi\" (the fallback language)"));
    }
    SECTION("an empty path, a path that is not a string, a sound that is not a table") {
        s.sound = "sound = { fi = \"\" }";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:16:") && Catch::Contains("question \"feeling\".sound.fi is empty"));
        s.sound = "sound = { fi = 3 }";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:16:") && Catch::Contains("sound.fi must be a string"));
        s.sound = "sound = \"sounds/fi/feeling.wav\"";
        CHECK_THAT(s.error(), Catch::StartsWith(":9:9:") && Catch::Contains("question \"feeling\".sound must be a table"));
    }
}

TEST_CASE("the children's survey has a voice for every question in every bundled language, and it is small") {
    const std::vector<std::string> langs = {"fi", "sv", "en", "uk", "ar"};
    const Survey child = load_survey(test::config_dir() / "surveys" / "child.toml", langs, "", test::source_dir() / "assets");
    std::uintmax_t bytes = 0;
    for (const auto& q : child.questions) {
        INFO("question " << q.id);
        for (const auto& lang : langs) {
            INFO("language " << lang);
            REQUIRE(q.sound.files.count(lang) == 1);
            const std::filesystem::path file = q.sound.files.at(lang);
            CHECK(file.parent_path().filename() == lang);
            CHECK(is_wav_file(file));
            bytes += std::filesystem::file_size(file);
        }
    }
    CHECK(child.missing_texts.empty());
    CHECK(bytes < 400 * 1024);
}

// --- icons: one picture, an emoji or a picture file of the centre's own -----------------

namespace {
const std::string kPngHead = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(32, '\0');
}  // namespace

TEST_CASE("an icon may name a PNG or JPEG under the assets folder; a missing, non-picture or too large file is named with line and column") {
    TempDir dir;
    std::filesystem::create_directories(dir / "pictures");
    write_file(dir / "pictures" / "room.png", kPngHead);
    write_file(dir / "pictures" / "Yard.JPG", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(20, '\0'));
    const std::string survey = replace(replace(kGood, "icon = \"🍎\"", "icon = \"pictures/room.png\""), "icon = \"🧸\"",
                                       "icon = \"pictures/Yard.JPG\"");
    write_file(dir / "mini.toml", survey);
    auto error = [&](const std::string& text) -> std::string {
        write_file(dir / "mini.toml", text);
        try {
            load_survey(dir / "mini.toml", kLangs, "", dir.path());
        } catch (const ConfigError& e) {
            return std::string(e.what()).substr((dir / "mini.toml").string().size());
        }
        return "loaded";
    };
    Survey s = load_survey(dir / "mini.toml", kLangs, "", dir.path());
    CHECK(s.questions[1].choices[1].icon == (dir / "pictures" / "room.png").string());
    CHECK(s.questions[1].choices[0].icon == (dir / "pictures" / "Yard.JPG").string());
    CHECK(is_picture_file(s.questions[1].choices[0].icon));
    CHECK_FALSE(is_picture_file("🍎"));
    // Every icon's place is kept for the start-up check against the emoji font and the decoder.
    REQUIRE(s.icons.size() == 2);
    CHECK(s.icons[1].icon == (dir / "pictures" / "room.png").string());
    CHECK(s.icons[1].line == 23);
    CHECK(s.icons[1].where == "question \"best\" choice \"snack\".icon");
    // Without an assets folder (the exports) the name is kept as written.
    CHECK(load_survey(dir / "mini.toml", kLangs).questions[1].choices[1].icon == "pictures/room.png");

    CHECK_THAT(error(replace(survey, "pictures/room.png", "pictures/rooom.png")),
               Catch::StartsWith(":23:10:") && Catch::Contains("picture file \"pictures/rooom.png\" not found"));
    write_file(dir / "pictures" / "fake.png", "GIF89a, renamed");
    CHECK_THAT(error(replace(survey, "pictures/room.png", "pictures/fake.png")),
               Catch::StartsWith(":23:10:") && Catch::Contains("is not a PNG or JPEG file"));
    write_file(dir / "pictures" / "huge.png", kPngHead + std::string(kMaxPictureBytes, '\0'));
    CHECK_THAT(error(replace(survey, "pictures/room.png", "pictures/huge.png")),
               Catch::StartsWith(":23:10:") && Catch::Contains("at most 4 MB"));
}
