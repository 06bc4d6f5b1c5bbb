#include "survey.hpp"

#include "utf8.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <sodium.h>

namespace kohtaamo {

const char* to_string(QuestionKind k) {
    switch (k) {
        case QuestionKind::Smiley: return "smiley";
        case QuestionKind::Picture: return "picture";
        case QuestionKind::Agree: return "agree";
        case QuestionKind::Choice: return "choice";
        case QuestionKind::Text: return "text";
    }
    return "?";
}

std::vector<std::string> Question::allowed_values() const {
    std::vector<std::string> out;
    switch (kind) {
        case QuestionKind::Smiley:
            for (int i = 1; i <= faces; ++i) out.push_back(std::to_string(i));
            break;
        case QuestionKind::Agree:
            for (int i = 1; i <= 5; ++i) out.push_back(std::to_string(i));
            break;
        case QuestionKind::Picture:
        case QuestionKind::Choice:
            for (const auto& c : choices) out.push_back(c.id);
            break;
        case QuestionKind::Text: break;  // any text up to max_length
    }
    return out;
}

const Question* Survey::find(const std::string& question_id) const {
    for (const auto& q : questions)
        if (q.id == question_id) return &q;
    return nullptr;
}

bool is_picture_file(const std::string& icon) {
    std::string lower = icon;
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (const char* ext : {".png", ".jpg", ".jpeg"}) {
        const std::size_t n = std::char_traits<char>::length(ext);
        if (lower.size() > n && lower.compare(lower.size() - n, n, ext) == 0) return true;
    }
    return false;
}

// An emoji as a survey writes it: one or more code points, none of them a space or a plain
// ASCII letter; a keycap (1️⃣, #️⃣) starts with its ASCII digit or sign. Whether the emoji
// font draws it as one picture is checked against the font at start-up (check_media).
static bool emoji_like(const std::string& s) {
    auto cps = utf8_decode(s);
    if (!cps || cps->empty() || cps->size() > 16) return false;
    const bool keycap = std::find(cps->begin(), cps->end(), U'\u20E3') != cps->end();
    for (std::size_t i = 0; i < cps->size(); ++i) {
        const char32_t c = (*cps)[i];
        if (i == 0 && keycap && ((c >= '0' && c <= '9') || c == '#' || c == '*')) continue;
        if (c < 0xA9 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029) return false;
    }
    return true;
}

static bool starts_with(const std::string& s, const char* magic, std::size_t n) {
    return s.size() >= n && std::memcmp(s.data(), magic, n) == 0;
}

std::string read_icon(const TomlReader& r, const toml::table& t, const std::string& where,
                      const std::filesystem::path& assets) {
    const std::string what = where + ".icon";
    std::string v = r.string(t, "icon", where);
    const toml::node* n = t.get("icon");
    if (v.empty()) r.fail(n, what + " is empty: give an emoji or a picture file (PNG or JPEG under the assets folder)");
    if (is_picture_file(v)) {
        if (!assets.empty()) {
            const std::filesystem::path file = (assets / v).lexically_normal();
            std::error_code ec;
            if (!std::filesystem::is_regular_file(file, ec))
                r.fail(n, what + ": picture file \"" + v + "\" not found (looked for " + file.string() + ")");
            const auto bytes = std::filesystem::file_size(file, ec);
            if (ec || bytes > kMaxPictureBytes)
                r.fail(n, what + ": picture file \"" + v + "\" is " + std::to_string(bytes / 1024) +
                              " KB; at most " + std::to_string(kMaxPictureBytes / 1024 / 1024) +
                              " MB (the kiosk shows it at most " + std::to_string(kMaxPictureSide) + " pixels wide)");
            std::ifstream in(file, std::ios::binary);
            std::string head(8, '\0');
            in.read(head.data(), 8);
            head.resize(static_cast<std::size_t>(in.gcount()));
            if (!starts_with(head, "\x89PNG\r\n\x1a\n", 8) && !starts_with(head, "\xFF\xD8\xFF", 3))
                r.fail(n, what + ": \"" + v + "\" is not a PNG or JPEG file");
            v = file.string();
        }
    } else if (!emoji_like(v)) {
        r.fail(n, what + " \"" + v + "\" must be one picture: an emoji (a sequence such as a family or a flag too) or a "
                         "PNG or JPEG file under the assets folder, not plain letters");
    }
    r.note_icon(n, what, v);
    return v;
}

// show_if = { question = "visits", any_of = ["first"] }: the question must come earlier
// and have choices or a scale, and every value must be one it offers.
static ShowIf parse_show_if(const TomlReader& r, const toml::table& qt, const std::string& where,
                            const std::vector<Question>& earlier) {
    const toml::table& t = r.table(qt, "show_if", where);
    r.only_keys(t, {"question", "any_of"}, where + ".show_if");
    ShowIf si;
    si.question = r.id(t, "question", where + ".show_if");
    auto it = std::find_if(earlier.begin(), earlier.end(), [&](const Question& q) { return q.id == si.question; });
    if (it == earlier.end())
        r.fail(t.get("question"), where + ".show_if: \"" + si.question + "\" is not an earlier question of this survey");
    if (it->kind == QuestionKind::Text)
        r.fail(t.get("question"), where + ".show_if: \"" + si.question + "\" is a text question; pick one with choices");
    si.any_of = r.strings(t, "any_of", where + ".show_if");
    if (si.any_of.empty()) r.fail(t.get("any_of"), where + ".show_if.any_of needs at least one value");
    const auto allowed = it->allowed_values();
    for (const auto& v : si.any_of)
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
            r.fail(t.get("any_of"), where + ".show_if: \"" + si.question + "\" has no value \"" + v + "\"");
    return si;
}

bool is_wav_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    char head[12] = {};
    if (!in.read(head, sizeof head)) return false;
    return std::string(head, 4) == "RIFF" && std::string(head + 8, 4) == "WAVE";
}

// sound = { fi = "sounds/fi/feeling.wav", ... }: paths relative to the assets folder. Read
// like a text table (the fallback language must be there; another language may be left
// out and then plays the fallback's file, listed by --check-config). Each language must be
// one the kiosk offers or the question has a text in (so a typo such as "se" is caught),
// and each file must exist and be a WAV file. Without an assets folder (a tool that plays
// nothing) the names are kept as written and the files are not looked at.
static Sound read_sound(const TomlReader& r, const toml::table& qt, const std::vector<std::string>& languages,
                        const std::string& where, const LangText& text, const std::filesystem::path& assets) {
    Sound out;
    out.files = r.texts(qt, "sound", languages, where, "sound");
    const toml::table& t = *qt.get("sound")->as_table();
    for (auto& [lang, name] : out.files) {
        const toml::node* n = t.get(lang);
        const std::string what = where + ".sound." + lang;
        if (std::find(languages.begin(), languages.end(), lang) == languages.end() && !text.count(lang)) {
            std::set<std::string> known(languages.begin(), languages.end());
            for (const auto& [l, _] : text) known.insert(l);
            std::string list;
            for (const auto& l : known) list += (list.empty() ? "" : ", ") + l;
            r.fail(n, what + ": unknown language \"" + lang + "\" (the kiosk's languages and this question's texts are " +
                          list + ")");
        }
        out.at[lang] = Sound::At{static_cast<int>(n->source().begin.line), static_cast<int>(n->source().begin.column)};
        if (assets.empty()) continue;
        const std::filesystem::path file = (assets / name).lexically_normal();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec))
            r.fail(n, what + ": sound file \"" + name + "\" not found (looked for " + file.string() + ")");
        if (!is_wav_file(file))
            r.fail(n, what + ": \"" + name + "\" is not a WAV file (it must start with RIFF....WAVE)");
        name = file.string();
    }
    return out;
}

static QuestionKind parse_kind(const TomlReader& r, const toml::table& t, const std::string& where) {
    std::string kind = r.string(t, "kind", where);
    if (kind == "smiley") return QuestionKind::Smiley;
    if (kind == "picture") return QuestionKind::Picture;
    if (kind == "agree") return QuestionKind::Agree;
    if (kind == "choice") return QuestionKind::Choice;
    if (kind == "text") return QuestionKind::Text;
    r.fail(t.get("kind"), "unknown question kind \"" + kind + "\" in " + where +
                              " (expected smiley, picture, agree, choice or text)");
}

// The survey in `r`; `languages` has the fallback language first (TomlReader::texts).
static Survey read_survey(const TomlReader& r, const std::vector<std::string>& languages,
                          const std::filesystem::path& assets) {
    const toml::table& root = r.root();
    // kind = "questions" (the default) or "yearclock" (the participation year-clock).
    const std::string kind = r.optional_string(root, "kind", "").value_or("questions");
    if (kind != "questions" && kind != "yearclock")
        r.fail(root.get("kind"), "unknown survey kind \"" + kind + "\" (expected questions or yearclock)");
    if (kind == "yearclock") yearclock_only_keys(r);
    else r.only_keys(root, {"id", "version", "icon", "title", "kind", "questions"}, "");

    Survey s;
    s.file = r.file();
    s.id = r.id(root, "id", "");
    s.id_line = static_cast<int>(root.get("id")->source().begin.line);
    s.id_column = static_cast<int>(root.get("id")->source().begin.column);
    s.version = static_cast<int>(r.integer(root, "version", ""));
    if (s.version < 1) r.fail(root.get("version"), "version must be 1 or more");
    s.icon = root.get("icon") ? read_icon(r, root, "survey", assets) : "";
    s.title = r.texts(root, "title", languages, "");
    if (kind == "yearclock") {
        s.yearclock = load_yearclock(r, languages, assets);
        return s;
    }

    auto qs = r.tables(root, "questions", "");
    if (qs.empty()) r.fail(&root, "a survey needs at least one [[questions]]");
    std::set<std::string> question_ids;
    for (std::size_t i = 0; i < qs.size(); ++i) {
        const toml::table& qt = *qs[i];
        std::string where = "questions[" + std::to_string(i) + "]";
        r.only_keys(qt, {"id", "kind", "required", "multiple", "faces", "text", "choices", "max_length", "show_if", "sound"}, where);
        Question q;
        q.id = r.id(qt, "id", where);
        if (!question_ids.insert(q.id).second) r.fail(qt.get("id"), "duplicate question id \"" + q.id + "\"");
        where = "question \"" + q.id + "\"";
        q.kind = parse_kind(r, qt, where);
        q.required = r.boolean_or(qt, "required", true, where);
        q.text = r.texts(qt, "text", languages, where);
        if (qt.get("sound")) q.sound = read_sound(r, qt, languages, where, q.text, assets);

        if (q.kind == QuestionKind::Smiley) {
            q.faces = static_cast<int>(r.integer_or(qt, "faces", 5, where));
            if (q.faces != 3 && q.faces != 5) r.fail(qt.get("faces"), where + ": faces must be 3 or 5");
        } else if (qt.get("faces")) {
            r.fail(qt.get("faces"), where + ": faces is only for smiley questions");
        }

        if (q.has_choices()) {
            q.multiple = r.boolean_or(qt, "multiple", false, where);
            auto cs = r.tables(qt, "choices", where);
            const std::size_t most = q.kind == QuestionKind::Picture ? 12 : 8;
            if (cs.size() < 2) r.fail(&qt, where + " needs at least two [[questions.choices]]");
            if (cs.size() > most)
                r.fail(&qt, where + " has " + std::to_string(cs.size()) + " choices; at most " + std::to_string(most) +
                                " fit one screen");
            std::set<std::string> choice_ids;
            for (std::size_t j = 0; j < cs.size(); ++j) {
                const toml::table& ct = *cs[j];
                std::string cwhere = where + " choices[" + std::to_string(j) + "]";
                r.only_keys(ct, {"id", "icon", "text"}, cwhere);
                Choice c;
                c.id = r.id(ct, "id", cwhere);
                cwhere = where + " choice \"" + c.id + "\"";
                if (!choice_ids.insert(c.id).second) r.fail(ct.get("id"), "duplicate choice id \"" + c.id + "\" in " + where);
                // A picture question needs a picture for every choice; for text choices it is optional.
                if (q.kind == QuestionKind::Picture || ct.get("icon")) c.icon = read_icon(r, ct, cwhere, assets);
                c.text = r.texts(ct, "text", languages, cwhere);
                q.choices.push_back(std::move(c));
            }
        } else {
            if (qt.get("multiple")) r.fail(qt.get("multiple"), where + ": multiple is only for picture and choice questions");
            if (qt.get("choices")) r.fail(qt.get("choices"), where + ": choices are only for picture and choice questions");
        }
        if (q.kind == QuestionKind::Text) {
            q.max_length = static_cast<int>(r.integer_or(qt, "max_length", 300, where));
            if (q.max_length < 1 || q.max_length > 2000) r.fail(qt.get("max_length"), where + ": max_length must be 1..2000");
        } else if (qt.get("max_length")) {
            r.fail(qt.get("max_length"), where + ": max_length is only for text questions");
        }
        if (qt.get("show_if")) q.show_if = parse_show_if(r, qt, where, s.questions);
        s.questions.push_back(std::move(q));
    }
    return s;
}

Survey load_survey(const std::filesystem::path& file, const std::vector<std::string>& languages,
                   const std::string& fallback, const std::filesystem::path& assets) {
    TomlReader r(file);
    Survey s = read_survey(r, fallback_first(languages, fallback), assets);
    s.missing_texts = r.missing_texts();
    s.texts = r.texts_read();
    s.icons = r.icons();
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    s.definition = bytes.str();
    s.hash = sha256_hex(s.definition);
    return s;
}

std::string sha256_hex(std::string_view bytes) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : h) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

Survey parse_survey_definition(std::string_view text, const std::string& name, const std::string& preferred) {
    const TomlReader probe = TomlReader::parse(text, name);
    std::vector<std::string> languages;
    if (const toml::table* title = probe.root()["title"].as_table())
        for (const auto& [lang, value] : *title) languages.emplace_back(lang.str());
    if (languages.empty()) probe.fail(probe.root().get("title"), "a survey needs a title (a table of texts)");
    auto it = std::find(languages.begin(), languages.end(), preferred);
    if (it != languages.end()) std::rotate(languages.begin(), it, it + 1);
    std::optional<ConfigError> first;
    for (std::size_t i = 0; i < languages.size(); ++i) {
        try {
            const TomlReader r = TomlReader::parse(text, name);
            Survey s = read_survey(r, fallback_first(languages, languages[i]), {});
            s.missing_texts = r.missing_texts();
            s.definition = std::string(text);
            s.hash = sha256_hex(text);
            return s;
        } catch (const ConfigError& e) {
            if (!first) first = e;
        }
    }
    throw *first;
}

std::vector<Survey> load_surveys(const std::filesystem::path& dir, const std::vector<std::string>& languages,
                                 const std::string& fallback, const std::filesystem::path& assets) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw ConfigError(dir.string(), 0, 0, "survey folder not found");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw ConfigError(dir.string(), 0, 0, "no survey files (*.toml) in the survey folder");

    std::vector<Survey> out;
    for (const auto& f : files) {
        Survey s = load_survey(f, languages, fallback, assets);
        for (const auto& other : out)
            if (other.id == s.id)
                throw ConfigError(s.file, s.id_line, s.id_column, "duplicate survey id \"" + s.id + "\" (also in " + other.file + ")");
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace kohtaamo
