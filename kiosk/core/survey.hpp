// survey.hpp — the survey model and its loader.
//
// Surveys are data: one TOML file per survey under config/surveys/ (format in
// docs/survey-format.md). The loader validates everything a screen relies on — kinds,
// ids, texts in every configured language, choices — and refuses a bad file with a
// ConfigError naming the file, the line and the problem. Nothing here knows about SDL
// or ImGui.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media.hpp"
#include "toml_reader.hpp"
#include "yearclock.hpp"

namespace kohtaamo {

enum class QuestionKind {
    Smiley,   // 3 or 5 faces; value "1" (saddest) .. "3"/"5" (happiest)
    Picture,  // choices with a picture each; one or several; value = the choice id
    Agree,    // 5-point agree scale; value "1" (disagree) .. "5" (agree)
    Choice,   // text choices (an icon optional); one or several; value = the choice id
    Text,     // free text typed on the on-screen keyboard; value = the text
};

const char* to_string(QuestionKind);

struct Choice {
    std::string id;
    std::string icon;  // one picture: an emoji, or a picture file's path (is_picture_file)
    LangText text;
};

// Show a question only after a given answer to an earlier one.
struct ShowIf {
    std::string question;             // an earlier question's id
    std::vector<std::string> any_of;  // shown when one of these values was picked
};

// A question's voice, for children who cannot read yet: a WAV file per language, played
// when the question opens and on its speaker button (`sound` in the survey file). The
// loader checks that each file is there and is a WAV file (RIFF/WAVE); decoding and
// playing it is the platform layer's (platform/audio.hpp).
struct Sound {
    struct At {
        int line = 0, column = 0;
    };
    LangText files;                // language -> the WAV file (absolute path under the assets folder); pick with text_in()
    std::map<std::string, At> at;  // where each file is named in the survey file, for messages
    bool empty() const { return files.empty(); }
};

// True when `file` starts like a WAV file: "RIFF", a length, "WAVE".
bool is_wav_file(const std::filesystem::path& file);

struct Question {
    std::string id;
    QuestionKind kind = QuestionKind::Smiley;
    bool required = true;
    bool multiple = false;  // Picture: several choices may be picked
    int faces = 5;          // Smiley: 3 or 5
    LangText text;
    std::vector<Choice> choices;  // Picture and Choice
    int max_length = 300;         // Text: characters at most
    std::optional<ShowIf> show_if;
    Sound sound;                  // empty: the question has no voice

    // The values this question accepts, in display order.
    std::vector<std::string> allowed_values() const;
    // A single tap answers it (and the kiosk moves on); otherwise a "Next" confirms.
    bool single_tap() const { return !multiple && kind != QuestionKind::Text; }
    bool has_choices() const { return kind == QuestionKind::Picture || kind == QuestionKind::Choice; }
};

struct Survey {
    std::string id;
    int version = 1;
    std::string icon;
    LangText title;
    std::vector<Question> questions;  // empty for a year-clock
    // kind = "yearclock": the centre's year instead of questions (yearclock.hpp).
    std::optional<YearClock> yearclock;
    std::string file;  // where it was loaded from, for messages
    // The survey file's text as it was loaded, and its SHA-256 (64 lowercase hex digits):
    // what a response records it was answered with (docs/store.md, "Survey versions").
    std::string definition;
    std::string hash;
    std::vector<MissingText> missing_texts;  // texts a language lacks (they show in the fallback)
    std::vector<TextRef> texts;              // every text, where the file gives it
    std::vector<IconRef> icons;              // every icon, where the file names it
    int id_line = 0;
    int id_column = 0;

    const Question* find(const std::string& question_id) const;
};

// Reads an `icon` (a survey's, a choice's, a year-clock's, a news item's): one picture —
// an emoji, or a PNG or JPEG file named relative to `assets` that must be there, be at
// most kMaxPictureBytes and start like a PNG or JPEG file (its path is then kept). Without
// an assets folder the name is kept as written and no file is looked at. Records the
// icon's place (TomlReader::icons) for the start-up check against the emoji font and the
// decoder.
std::string read_icon(const TomlReader& r, const toml::table& t, const std::string& where,
                      const std::filesystem::path& assets);

// Loads and validates one survey file. Every text must be there in `fallback` (default:
// the first of `languages`); a text missing in another of `languages` is listed in
// Survey::missing_texts and shows in the fallback language.
//
// Media (a question's sounds, pictures) are named relative to `assets`, the kiosk's assets
// folder ([kiosk] assets), and each file is checked there. Without one (tools that play nothing:
// the exports, the collector) media names are kept as written and no file is looked at.
Survey load_survey(const std::filesystem::path& file, const std::vector<std::string>& languages,
                   const std::string& fallback = "", const std::filesystem::path& assets = {});

// A survey from a stored definition (the text of a survey file, kept by the store or the
// collector beside the answers given with it): no media file is looked at. The languages
// are the definition's own (its title's); `preferred` is the fallback when every text has
// it, else the first language that works. Throws ConfigError naming `name` and the line.
Survey parse_survey_definition(std::string_view text, const std::string& name, const std::string& preferred = "");

// SHA-256 of `bytes` as 64 lowercase hex digits (libsodium): a survey definition's hash.
std::string sha256_hex(std::string_view bytes);

// Loads every *.toml in `dir` (sorted by file name). Fails on any bad file and on two
// surveys with the same id (naming both files).
std::vector<Survey> load_surveys(const std::filesystem::path& dir, const std::vector<std::string>& languages,
                                 const std::string& fallback = "", const std::filesystem::path& assets = {});

}  // namespace kohtaamo
