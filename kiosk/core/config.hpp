// config.hpp — the kiosk's configuration (the shared kiosk.toml, and this device's own
// settings file laid over it) and the UI text catalogue (config/lang/<code>.toml).
// Format in docs/configuration.md.
//
// Two files, one configuration:
//   kiosk.toml   the county's: surveys, languages, timeouts, [sync] tuning, [export]. The
//                same file on every kiosk (installed as /etc/kohtaamo/kiosk.toml).
//   device.toml  this device's own, named by kiosk.toml's [kiosk] device: site, event, the
//                collector's URL and token, the PIN hash, the screen's rotation
//                (device_file_keys()). Written by kohtaamo-enroll, mode 0600. Its keys
//                override kiosk.toml's; any other key is refused with its file:line.
// Without [kiosk] device (the bundled development config) kiosk.toml holds everything.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catalog_keys.hpp"
#include "toml_reader.hpp"

namespace kohtaamo {

struct DeviceConfig {
    std::string file;
    std::string site;                    // meeting point id, stored with each response
    std::string event;                   // pop-up event tag, may be empty
    std::vector<std::string> languages;  // offered on the welcome screen; first is the default
    std::string fallback_language;       // must have every text; others may lack some (default: first)
    int idle_timeout_ms = 60'000;
    int thank_you_ms = 6'000;
    // The mischief rule (docs/store.md): a response with the same answers as the previous
    // one to its survey, started at most this long after that one finished, is flagged.
    // 0 turns the rule off.
    int repeat_window_ms = 20'000;
    // The one-question event mode: a survey id whose single question is the welcome screen
    // (one tap, thank-you, welcome again); empty: off. Checked by check_one_question().
    std::string one_question;
    int one_question_line = 0, one_question_column = 0;
    std::filesystem::path surveys_dir;
    std::filesystem::path texts_dir;
    std::filesystem::path news_file;     // "you said, we did" messages (may be missing)
    std::filesystem::path assets_dir;    // the media the surveys name (sounds), [kiosk] assets
    std::filesystem::path data_dir;
    std::string pin_hash;                // [coordinator] pin_hash; empty: no coordinator screen
    // [privacy] seal_to: the county's public key "k1:BASE64" (kohtaamo-collector keys); every
    // answer is then stored only sealed to it (docs/security.md). Empty: stored clear.
    std::string seal_to;
    int rotation = 0;                    // [display] rotation: 0, 90, 180 or 270 degrees clockwise
    std::filesystem::path device_file;   // the device settings file laid over this one; empty: none

    std::filesystem::path database() const { return data_dir / "kohtaamo.sqlite"; }
};

// Reads kiosk.toml and, when its [kiosk] device names one, the device settings file over
// it. `device_file`, when given, is read instead of the one kiosk.toml names (how
// kohtaamo-enroll checks a new device file before it replaces the old one). A device file
// that is missing ("not enrolled"), readable by other users, or holds a key that is not
// one of device_file_keys() is a ConfigError naming the file (and line).
TomlReader read_kiosk_config(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file = {});
// The same with the device file's contents given as text, read as if they were the file
// `device_file` (kohtaamo-enroll checks what it will write before it writes it).
TomlReader read_kiosk_config_with(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file,
                                  const std::string& device_text);
// The device file kiosk.toml names with [kiosk] device (relative to its folder); empty when
// it names none. Throws ConfigError for a broken kiosk.toml.
std::filesystem::path device_file_of(const std::filesystem::path& kiosk_toml);
// The keys a device file may hold, as "table.key" (device.site, sync.token, …).
const std::vector<std::string>& device_file_keys();
// The config a program uses when none is given: /etc/kohtaamo/kiosk.toml on an installed
// kiosk, else the bundled development config (config/kiosk.toml of the source tree).
std::filesystem::path default_kiosk_config();

// Relative paths in the file are resolved against the file's own folder.
DeviceConfig load_device_config(const TomlReader& config);
DeviceConfig load_device_config(const std::filesystem::path& kiosk_toml);  // read_kiosk_config + the above

// Every text the screens show that is not part of a survey, per language.
class Catalog {
public:
    // Loads <dir>/<code>.toml for each language. Each file has `language_name`, optionally
    // `direction = "rtl"` (a right-to-left language: the screens mirror), and a [ui] table.
    // The fallback language (default: the first) must give every key in `required` (the
    // keys the screens use, catalog_keys.hpp) — a key it lacks is a ConfigError naming its
    // file and [ui] line — and defines the keys; a key another language lacks is listed in
    // missing_texts() and shows in the fallback language.
    static Catalog load(const std::filesystem::path& dir, const std::vector<std::string>& languages,
                        const std::string& fallback = "", const std::vector<std::string>& required = catalog_keys());

    // The text for `key` in `lang`, else in the fallback language; the key itself in
    // brackets if neither has it (never empty).
    const std::string& get(const std::string& lang, const std::string& key) const;
    const std::string& fallback_language() const { return fallback_; }
    // The keys a language lacks, with the file and line of its [ui] table.
    const std::vector<MissingText>& missing_texts() const { return missing_texts_; }
    const std::string& language_name(const std::string& lang) const { return get(lang, "language_name"); }
    // True for a right-to-left language (a variant takes its base language's direction).
    bool rtl(const std::string& lang) const;
    // Every text of every language, where its file gives it (for check messages).
    const std::vector<TextRef>& text_refs() const { return text_refs_; }
    // Keys the screens asked for that no catalogue has (each shown as "[key]"); empty when
    // catalog_keys() lists everything the screens use.
    std::vector<std::string> unknown_keys_asked() const;

private:
    std::map<std::string, std::map<std::string, std::string>> texts_;
    std::map<std::string, bool> rtl_;
    std::vector<TextRef> text_refs_;
    std::string fallback_;
    std::vector<MissingText> missing_texts_;
    mutable std::map<std::string, std::string> missing_;
};

}  // namespace kohtaamo
