#include "config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <list>

#include <sys/stat.h>

#include "seal.hpp"
#include "utf8.hpp"

namespace kohtaamo {

namespace {
// What a device file may hold: this device's identity, its collector and token, its PIN
// and how its screen is mounted. Later: the public key of signed survey bundles and the
// sealing key's id (docs/deploy.md).
using KeyList = std::vector<std::pair<std::string, std::vector<std::string>>>;
const KeyList& device_tables() {
    static const KeyList keys = {
        {"device", {"site", "event"}},
        {"sync", {"endpoint", "token", "token_file", "ca_file", "allow_plain_http", "bundle_key"}},
        {"coordinator", {"pin_hash"}},
        {"display", {"rotation"}},
    };
    return keys;
}

std::string joined_device_keys() {
    std::string out;
    for (const auto& k : device_file_keys()) out += (out.empty() ? "" : ", ") + k;
    return out;
}

// Every key of the device file must be one of device_file_keys().
void check_device_keys(const TomlReader& d) {
    const auto& tables = device_tables();
    auto refuse = [&](const toml::node* n, const std::string& key) {
        d.fail(n, key + " does not belong in a device file: it holds only " + joined_device_keys() +
                      " (everything else is the county's shared kiosk.toml)");
    };
    for (const auto& [table, node] : d.root()) {
        const std::string name(table.str());
        auto allowed = std::find_if(tables.begin(), tables.end(), [&](const auto& t) { return t.first == name; });
        if (!node.is_table() || (allowed == tables.end() && node.as_table()->empty())) refuse(&node, name);
        for (const auto& [key, value] : *node.as_table()) {
            const bool ok = allowed != tables.end() &&
                            std::find(allowed->second.begin(), allowed->second.end(), key.str()) != allowed->second.end();
            if (!ok) refuse(&value, name + "." + std::string(key.str()));
        }
    }
}
}  // namespace

const std::vector<std::string>& device_file_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out;
        for (const auto& [table, list] : device_tables())
            for (const auto& k : list) out.push_back(table + "." + k);
        return out;
    }();
    return keys;
}

std::filesystem::path default_kiosk_config() {
    const std::filesystem::path installed = "/etc/kohtaamo/kiosk.toml";
    std::error_code ec;
    if (std::filesystem::exists(installed, ec)) return installed;
    return std::filesystem::path(KOHTAAMO_SOURCE_DIR) / "config" / "kiosk.toml";
}

namespace {
// kiosk.toml's [kiosk] device node, or null.
const toml::node* device_key(const TomlReader& r) {
    const toml::table* kiosk = r.root()["kiosk"].as_table();
    if (!kiosk || !r.optional_string(*kiosk, "device", "kiosk")) return nullptr;
    return kiosk->get("device");
}
}  // namespace

std::filesystem::path device_file_of(const std::filesystem::path& kiosk_toml) {
    TomlReader r(kiosk_toml);
    const toml::node* named = device_key(r);
    return named ? r.resolve(named, *named->value<std::string>()) : std::filesystem::path();
}

TomlReader read_kiosk_config(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file) {
    TomlReader r(kiosk_toml);
    const toml::node* named = device_key(r);
    std::filesystem::path file = device_file;
    if (file.empty() && named) file = r.resolve(named, *named->value<std::string>());
    if (file.empty()) return r;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        if (errno == ENOENT && device_file.empty())
            r.fail(named, "kiosk.device: " + file.string() +
                              " does not exist: this kiosk is not enrolled yet. Run kohtaamo-enroll (docs/deploy.md)");
        throw ConfigError(file.string(), 0, 0, std::string("cannot read the device file: ") + std::strerror(errno));
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw ConfigError(file.string(), 0, 0,
                          std::string("mode ") + mode + " lets other users read this kiosk's token and PIN hash: chmod 600 " +
                              file.string() + " (kohtaamo-enroll writes it so)");
    }
    if (!std::ifstream(file))
        throw ConfigError(file.string(), 0, 0,
                          std::string("cannot read the device file: ") + std::strerror(errno) +
                              " (it must belong to the user the kiosk runs as; kohtaamo-enroll sees to that)");
    TomlReader d(file);
    check_device_keys(d);
    r.overlay(std::move(d));
    return r;
}

TomlReader read_kiosk_config_with(const std::filesystem::path& kiosk_toml, const std::filesystem::path& device_file,
                                  const std::string& device_text) {
    TomlReader r(kiosk_toml);
    TomlReader d = TomlReader::parse(device_text, device_file.string());
    check_device_keys(d);
    r.overlay(std::move(d));
    return r;
}

DeviceConfig load_device_config(const std::filesystem::path& kiosk_toml) {
    return load_device_config(read_kiosk_config(kiosk_toml));
}

DeviceConfig load_device_config(const TomlReader& r) {
    const toml::table& root = r.root();
    // [sync] and [export] belong to sync/ and the export code, which read them themselves.
    r.only_keys(root, {"device", "kiosk", "store", "coordinator", "sync", "export", "display", "privacy"}, "");
    DeviceConfig c;
    c.file = r.file();
    const auto base = std::filesystem::absolute(r.file()).parent_path();

    if (const toml::table* k = root["kiosk"].as_table())
        if (auto name = r.optional_string(*k, "device", "kiosk")) c.device_file = r.resolve(k->get("device"), *name);
    if (!root.get("device") && !c.device_file.empty())
        throw ConfigError(c.device_file.string(), 0, 0,
                          "missing [device] site: this device's id belongs here (kohtaamo-enroll --site ID writes it)");
    const toml::table& device = r.table(root, "device", "");
    r.only_keys(device, {"site", "event"}, "device");
    c.site = r.id(device, "site", "device");
    c.event = r.optional_string(device, "event", "device").value_or("");

    const toml::table& kiosk = r.table(root, "kiosk", "");
    r.only_keys(kiosk, {"languages", "idle_timeout_seconds", "thank_you_seconds", "repeat_window_seconds", "fallback_language", "surveys", "texts", "news", "assets", "device", "one_question"},
                "kiosk");
    c.languages = r.strings(kiosk, "languages", "kiosk");
    if (c.languages.empty()) r.fail(kiosk.get("languages"), "kiosk.languages must name at least one language");
    for (const auto& l : c.languages)
        if (!valid_language_tag(l))
            r.fail(kiosk.get("languages"), "kiosk.languages: \"" + l +
                                               "\" is not a language code (\"fi\", \"sv\", or a variant such as \"fi-x-selko\")");
    c.fallback_language = r.optional_string(kiosk, "fallback_language", "kiosk").value_or(c.languages.front());
    if (std::find(c.languages.begin(), c.languages.end(), c.fallback_language) == c.languages.end())
        r.fail(kiosk.get("fallback_language"),
               "kiosk.fallback_language \"" + c.fallback_language + "\" must be one of kiosk.languages");
    auto idle = r.integer_or(kiosk, "idle_timeout_seconds", 60, "kiosk");
    if (idle < 10 || idle > 3600) r.fail(kiosk.get("idle_timeout_seconds"), "kiosk.idle_timeout_seconds must be 10..3600");
    c.idle_timeout_ms = static_cast<int>(idle * 1000);
    auto thanks = r.integer_or(kiosk, "thank_you_seconds", 6, "kiosk");
    if (thanks < 1 || thanks > 60) r.fail(kiosk.get("thank_you_seconds"), "kiosk.thank_you_seconds must be 1..60");
    c.thank_you_ms = static_cast<int>(thanks * 1000);
    auto repeat = r.integer_or(kiosk, "repeat_window_seconds", 20, "kiosk");
    if (repeat < 0 || repeat > 600) r.fail(kiosk.get("repeat_window_seconds"), "kiosk.repeat_window_seconds must be 0..600 (0: off)");
    c.repeat_window_ms = static_cast<int>(repeat * 1000);
    if (const toml::node* n = kiosk.get("one_question")) {
        c.one_question = r.id(kiosk, "one_question", "kiosk");
        c.one_question_line = static_cast<int>(n->source().begin.line);
        c.one_question_column = static_cast<int>(n->source().begin.column);
    }
    c.surveys_dir = base / r.optional_string(kiosk, "surveys", "kiosk").value_or("surveys");
    c.texts_dir = base / r.optional_string(kiosk, "texts", "kiosk").value_or("lang");
    c.news_file = base / r.optional_string(kiosk, "news", "kiosk").value_or("news.toml");
    c.assets_dir = (base / r.optional_string(kiosk, "assets", "kiosk").value_or("assets")).lexically_normal();

    const toml::table& store = r.table(root, "store", "");
    r.only_keys(store, {"data_dir"}, "store");
    c.data_dir = base / r.string(store, "data_dir", "store");

    if (root.get("privacy")) {
        const toml::table& privacy = r.table(root, "privacy", "");
        r.only_keys(privacy, {"seal_to"}, "privacy");
        c.seal_to = r.optional_string(privacy, "seal_to", "privacy").value_or("");
        if (!c.seal_to.empty()) {
            try {
                parse_seal_public_key(c.seal_to);
            } catch (const SealError& e) {
                r.fail(privacy.get("seal_to"), std::string("privacy.seal_to: ") + e.what() +
                                                   " (the line `kohtaamo-collector keys` prints; never the secret half)");
            }
        }
    }
    if (root.get("coordinator")) {
        const toml::table& coord = r.table(root, "coordinator", "");
        r.only_keys(coord, {"pin_hash"}, "coordinator");
        c.pin_hash = r.optional_string(coord, "pin_hash", "coordinator").value_or("");
        if (!c.pin_hash.empty() && c.pin_hash.rfind("$argon2", 0) != 0)
            r.fail(coord.get("pin_hash"), "coordinator.pin_hash must be a hash from `kohtaamo --hash-pin`, never the PIN itself");
    }
    if (root.get("display")) {
        const toml::table& display = r.table(root, "display", "");
        r.only_keys(display, {"rotation"}, "display");
        const auto rotation = r.integer_or(display, "rotation", 0, "display");
        if (rotation != 0 && rotation != 90 && rotation != 180 && rotation != 270)
            r.fail(display.get("rotation"),
                   "display.rotation must be 0, 90, 180 or 270 (degrees clockwise the picture is turned), not " +
                       std::to_string(rotation));
        c.rotation = static_cast<int>(rotation);
    }
    return c;
}

namespace {
// The on-screen keyboard's rows (keys_1..3, keys_shift_1..3): one key per character, at
// most 12 keys a row (the third also holds shift and erase), and the shifted row as long
// as its plain one, so the keys stay put when shift is tapped.
void check_keyboard(const TomlReader& r, const toml::table& ui) {
    for (int row = 1; row <= 3; ++row) {
        const std::string plain = "keys_" + std::to_string(row), shifted = "keys_shift_" + std::to_string(row);
        const std::size_t most = row == 3 ? 10 : 12;
        std::size_t lengths[2] = {0, 0};
        int i = 0;
        for (const std::string& key : {plain, shifted}) {
            const toml::node* n = ui.get(key);
            if (!n || !n->is_string()) continue;
            const std::size_t count = utf8_split(*n->value<std::string>()).value_or(std::vector<std::string>{}).size();
            if (count == 0 || count > most)
                r.fail(n, "ui." + key + " must have 1 to " + std::to_string(most) + " keys (one per character), not " +
                              std::to_string(count));
            lengths[i++] = count;
        }
        if (i == 2 && lengths[0] != lengths[1])
            r.fail(ui.get(shifted), "ui." + shifted + " must have as many keys as ui." + plain + " (" +
                                        std::to_string(lengths[0]) + "), not " + std::to_string(lengths[1]));
    }
}
}  // namespace

Catalog Catalog::load(const std::filesystem::path& dir, const std::vector<std::string>& offered,
                      const std::string& fallback, const std::vector<std::string>& required) {
    Catalog cat;
    const std::vector<std::string> languages = fallback_first(offered, fallback);
    cat.fallback_ = languages.front();
    struct Read {
        TomlReader r;
        const toml::table* ui;
        std::string lang;
    };
    std::list<Read> readers;  // kept (not moved) until every language is read
    for (const auto& lang : languages) {
        TomlReader& r = readers.emplace_back(Read{TomlReader(dir / (lang + ".toml")), nullptr, lang}).r;
        r.only_keys(r.root(), {"language_name", "direction", "ui"}, "");
        auto& texts = cat.texts_[lang];
        texts["language_name"] = r.string(r.root(), "language_name", "");
        r.note_text(r.root().get("language_name"), lang, "language_name", texts["language_name"]);
        const std::string direction = r.optional_string(r.root(), "direction", "").value_or("ltr");
        if (direction != "ltr" && direction != "rtl")
            r.fail(r.root().get("direction"), "direction must be \"ltr\" or \"rtl\" (right to left: Arabic, Persian, Hebrew …), not \"" +
                                                  direction + "\"");
        if (r.root().get("direction")) cat.rtl_[lang] = direction == "rtl";
        const toml::table& ui = r.table(r.root(), "ui", "");
        for (const auto& [key, node] : ui) {
            if (!node.is_string()) r.fail(&node, "ui." + std::string(key.str()) + " must be a string");
            texts[std::string(key.str())] = *node.value<std::string>();
            if (std::string(key.str()).rfind("keys_", 0) != 0)
                r.note_text(&node, lang, "ui." + std::string(key.str()), *node.value<std::string>());
        }
        check_keyboard(r, ui);
        readers.back().ui = &ui;
        if (lang == cat.fallback_) {
            // The fallback language shows wherever another lacks a text, so it must have
            // every text a screen asks for.
            std::string missing;
            int count = 0;
            for (const auto& key : required)
                if (!texts.count(key)) {
                    missing += (missing.empty() ? "" : ", ") + key;
                    ++count;
                }
            if (count > 0)
                r.fail(&ui, "the fallback language \"" + lang + "\" lacks " + std::to_string(count) + " text" +
                                (count > 1 ? "s" : "") + " the screens show: ui." + missing +
                                " (every other language falls back to this file, so it must have them all)");
        }
        for (const auto& t : r.texts_read()) cat.text_refs_.push_back(t);
    }
    // The fallback language (read first) defines the keys; another language may lack some,
    // which then show in its base language (a variant such as fi-x-selko) or else in the
    // fallback language.
    for (auto& [r, ui, lang] : readers) {
        if (lang == cat.fallback_) continue;
        const auto& texts = cat.texts_[lang];
        const std::string base = base_language(lang);
        const auto base_texts = cat.texts_.find(base);
        for (const auto& [key, _] : cat.texts_[cat.fallback_]) {
            if (texts.count(key)) continue;
            if (!base.empty() && base_texts != cat.texts_.end() && base_texts->second.count(key)) continue;
            r.note_missing(ui, lang, "ui." + key, cat.fallback_);
        }
        for (const auto& m : r.missing_texts()) cat.missing_texts_.push_back(m);
    }
    return cat;
}

bool Catalog::rtl(const std::string& lang) const {
    auto it = rtl_.find(lang);
    if (it != rtl_.end()) return it->second;
    const std::string base = base_language(lang);
    return !base.empty() && rtl(base);
}

std::vector<std::string> Catalog::unknown_keys_asked() const {
    std::vector<std::string> out;
    for (const auto& [key, _] : missing_) out.push_back(key);
    return out;
}

const std::string& Catalog::get(const std::string& lang, const std::string& key) const {
    auto l = texts_.find(lang);
    if (l != texts_.end()) {
        auto t = l->second.find(key);
        if (t != l->second.end()) return t->second;
    }
    if (const std::string base = base_language(lang); !base.empty()) return get(base, key);
    if (lang != fallback_) return get(fallback_, key);
    auto [it, _] = missing_.emplace(key, "[" + key + "]");
    return it->second;
}

}  // namespace kohtaamo
