// toml_reader.hpp — reads TOML config files (toml++) and turns every problem into a
// ConfigError that names the file, the line and the key. The survey loader, the device
// config and the UI text catalogue all read through this one helper.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config_error.hpp"

namespace kohtaamo {

// Texts per language code: {"fi": "Kiitos!", "sv": "Tack!", "en": "Thank you!"}.
using LangText = std::map<std::string, std::string>;

// Language codes are BCP 47 tags: "fi", "sv", "uk", or a variant of a language such as
// "fi-x-selko" (plain Finnish, selkosuomi). A variant inherits every text it does not
// give from its base language, the tag's first subtag ("fi"), as in RFC 4647 lookup: a
// plain-language survey only rewrites the texts that need it. The base of "fi" is "".
std::string base_language(const std::string& tag);
// True for a tag of that shape: 2–3 lower-case letters, then "-" subtags of 1–8 letters
// or digits; 16 bytes at most (what the sync protocol carries).
bool valid_language_tag(const std::string& tag);

// The one way to pick a text for the screen: the text in `lang`, else in its base
// language, else in the fallback language (the loaders make sure it is there), else "".
const std::string& text_in(const LangText& t, const std::string& lang, const std::string& fallback);

// A text (or a question's sound) that a language lacks (and its base language too, for a
// variant) and that shows (plays) in the fallback language instead; listed by
// `kohtaamo --check-config`.
struct MissingText {
    std::string file;
    int line = 0;
    std::string lang;      // the language that lacks it
    std::string where;     // question "feeling".text, ui.next, …
    std::string fallback;  // the language it shows in instead
    std::string what = "text";  // "text" or "sound"
};
// "FILE:LINE: <lang> <what> missing for <where> (falls back to <fallback>)"
std::string to_string(const MissingText& m);

// Where a file gives a text: for the messages of checks that run after loading (a text
// that will not fit the smallest screen, `kohtaamo --check-config`).
struct TextRef {
    std::string file;
    int line = 0, column = 0;
    std::string lang;
    std::string where;  // question "feeling".text, ui.next, …
    std::string text;
};
// "FILE:LINE:COLUMN"
std::string to_string(const TextRef& t);

// Where a file names an icon (an emoji, or a picture file under the assets folder): for
// the start-up check that the emoji font draws it as one picture, or that the picture
// decodes (kiosk_scene.hpp, check_media).
struct IconRef {
    std::string file;
    int line = 0, column = 0;
    std::string where;  // question "best" choice "play".icon, news[0].icon, …
    std::string icon;   // as the model keeps it: the emoji, or the picture's path
};

// `languages` with `fallback` moved to the front (the order TomlReader::texts expects);
// an empty fallback means the first language.
std::vector<std::string> fallback_first(const std::vector<std::string>& languages, const std::string& fallback);

// True for an id: 1–64 characters of a-z, 0-9, '_' and '-' (the rule of TomlReader::id, for
// values that come from elsewhere, such as kohtaamo-enroll's --site).
bool valid_id(std::string_view value);

class TomlReader {
public:
    // Parses the file; a syntax error becomes a ConfigError with the parser's line.
    explicit TomlReader(const std::filesystem::path& file);
    // Parses `text` as if it were the file `name` (messages name it): for a file about to
    // be written, checked before it is.
    static TomlReader parse(std::string_view text, const std::string& name);

    const toml::table& root() const { return root_; }
    const std::string& file() const { return file_; }

    // Lays `other`'s keys over this file's: a table is merged key by key, any other value
    // replaces this file's. A message about a key that came from `other` names `other`'s
    // file and line (each node keeps the file it was read from).
    void overlay(TomlReader&& other);
    // `p` as a path: an absolute one as it is, a relative one against the folder of the
    // file `near` was read from (this file's, or an overlay's).
    std::filesystem::path resolve(const toml::node* near, const std::string& p) const;

    // Throws a ConfigError naming the file and line of `near` (this file when null).
    [[noreturn]] void fail(const toml::node* near, const std::string& problem) const;

    // `where` is a dotted path used in messages ("questions[2].id").
    std::string string(const toml::table& t, const std::string& key, const std::string& where) const;
    std::optional<std::string> optional_string(const toml::table& t, const std::string& key,
                                               const std::string& where) const;
    std::int64_t integer(const toml::table& t, const std::string& key, const std::string& where) const;
    std::int64_t integer_or(const toml::table& t, const std::string& key, std::int64_t fallback,
                            const std::string& where) const;
    bool boolean_or(const toml::table& t, const std::string& key, bool fallback,
                    const std::string& where) const;
    // An id: 1–64 characters of a-z, 0-9, '_' and '-'.
    std::string id(const toml::table& t, const std::string& key, const std::string& where) const;
    const toml::table& table(const toml::table& t, const std::string& key, const std::string& where) const;
    // An array of tables; missing gives an empty list.
    std::vector<const toml::table*> tables(const toml::table& t, const std::string& key,
                                           const std::string& where) const;
    std::vector<std::string> strings(const toml::table& t, const std::string& key,
                                     const std::string& where) const;
    // A {fi = "...", sv = "...", en = "..."} table of texts. The first of `langs` is the
    // fallback language: its text must be there (else a ConfigError). A text missing in any
    // other of `langs` is recorded in missing_texts(), with the table's line; the screens
    // then show the fallback's text. An empty text is a ConfigError in every language.
    // `what` names the values in messages ("text", or "sound" for a table of sound files).
    LangText texts(const toml::table& t, const std::string& key, const std::vector<std::string>& langs,
                   const std::string& where, const std::string& what = "text") const;
    // Every text texts() found missing in this file so far.
    const std::vector<MissingText>& missing_texts() const { return missing_; }
    // Every text texts() read in this file so far (not sounds), with its line.
    const std::vector<TextRef>& texts_read() const { return read_; }
    // Records a text at `at` read by another layout (the catalogue's [ui] table).
    void note_text(const toml::node* at, const std::string& lang, const std::string& where, const std::string& text) const;
    // Records an icon at `at`; icons() lists them.
    void note_icon(const toml::node* at, const std::string& where, const std::string& icon) const;
    const std::vector<IconRef>& icons() const { return icons_; }
    // Records a missing text at `near`'s line (for readers of other text layouts).
    void note_missing(const toml::node* near, const std::string& lang, const std::string& where,
                      const std::string& fallback, const std::string& what = "text") const;
    // Fails on any key not in `allowed` (catches typos such as "requird").
    void only_keys(const toml::table& t, std::initializer_list<const char*> allowed,
                   const std::string& where) const;

private:
    TomlReader() = default;
    const std::string& file_of(const toml::node* near) const;

    std::string file_;
    toml::table root_;
    mutable std::vector<MissingText> missing_;
    mutable std::vector<TextRef> read_;
    mutable std::vector<IconRef> icons_;
};

}  // namespace kohtaamo
