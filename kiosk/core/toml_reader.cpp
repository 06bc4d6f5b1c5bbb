#include "toml_reader.hpp"

#include <algorithm>

namespace kohtaamo {

namespace {
std::string join(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
}
const char* type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "true/false";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "a date or time";
    }
}
}  // namespace

std::string base_language(const std::string& tag) {
    const auto dash = tag.find('-');
    return dash == std::string::npos ? std::string() : tag.substr(0, dash);
}

bool valid_language_tag(const std::string& tag) {
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (tag.size() > 16) return false;  // the sync protocol carries at most 16 bytes (sync/PROTOCOL.md)
    std::size_t i = 0;
    while (i < tag.size() && lower(tag[i])) ++i;
    if (i < 2 || i > 3) return false;
    while (i < tag.size()) {
        if (tag[i] != '-') return false;
        std::size_t n = 0;
        for (++i; i < tag.size() && alnum(tag[i]); ++i) ++n;
        if (n < 1 || n > 8) return false;
    }
    return true;
}

const std::string& text_in(const LangText& t, const std::string& lang, const std::string& fallback) {
    static const std::string none;
    auto it = t.find(lang);
    if (it != t.end()) return it->second;
    const std::string base = base_language(lang);
    if (!base.empty() && (it = t.find(base)) != t.end()) return it->second;
    it = t.find(fallback);
    return it != t.end() ? it->second : none;
}

std::string to_string(const MissingText& m) {
    return m.file + ":" + std::to_string(m.line) + ": " + m.lang + " " + m.what + " missing for " + m.where +
           " (falls back to " + m.fallback + ")";
}

std::string to_string(const TextRef& t) {
    return t.file + ":" + std::to_string(t.line) + ":" + std::to_string(t.column);
}

std::vector<std::string> fallback_first(const std::vector<std::string>& languages, const std::string& fallback) {
    if (fallback.empty()) return languages;
    std::vector<std::string> out{fallback};
    for (const auto& l : languages)
        if (l != fallback) out.push_back(l);
    return out;
}

bool valid_id(std::string_view v) {
    return !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

TomlReader::TomlReader(const std::filesystem::path& file) : file_(file.string()) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) throw ConfigError(file_, 0, 0, "file not found");
    try {
        root_ = toml::parse_file(file_);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(file_, static_cast<int>(where.line), static_cast<int>(where.column),
                          "syntax error: " + std::string(e.description()));
    }
}

namespace {
// Moves every key of `from` into `into`; a table present in both is merged. Nodes are
// moved, never copied: toml++ keeps a node's source (file and line) only on a move.
void merge_into(toml::table& into, toml::table& from) {
    for (auto&& [key, node] : from) {
        if (toml::table* mine = into[key].as_table(); mine && node.is_table()) {
            merge_into(*mine, *node.as_table());
            continue;
        }
        node.visit([&, &k = key](auto&& value) { into.insert_or_assign(k, std::move(value)); });
    }
}
}  // namespace

void TomlReader::overlay(TomlReader&& other) {
    merge_into(root_, other.root_);
    missing_.insert(missing_.end(), other.missing_.begin(), other.missing_.end());
}

const std::string& TomlReader::file_of(const toml::node* near) const {
    if (near && near->source().path && !near->source().path->empty()) return *near->source().path;
    return file_;
}

std::filesystem::path TomlReader::resolve(const toml::node* near, const std::string& p) const {
    std::filesystem::path path(p);
    if (path.is_absolute()) return path;
    return std::filesystem::absolute(file_of(near)).parent_path() / path;
}

TomlReader TomlReader::parse(std::string_view text, const std::string& name) {
    TomlReader r;
    r.file_ = name;
    try {
        r.root_ = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(name, static_cast<int>(where.line), static_cast<int>(where.column),
                          "syntax error: " + std::string(e.description()));
    }
    return r;
}

void TomlReader::fail(const toml::node* near, const std::string& problem) const {
    int line = 0, column = 0;
    if (near) {
        line = static_cast<int>(near->source().begin.line);
        column = static_cast<int>(near->source().begin.column);
    }
    throw ConfigError(file_of(near), line, column, problem);
}

std::optional<std::string> TomlReader::optional_string(const toml::table& t, const std::string& key,
                                                       const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(n, join(where, key) + " must be a string, not " + type_name(*n));
    return n->value<std::string>();
}

std::string TomlReader::string(const toml::table& t, const std::string& key, const std::string& where) const {
    auto v = optional_string(t, key, where);
    if (!v) fail(&t, "missing " + join(where, key));
    return *v;
}

std::int64_t TomlReader::integer(const toml::table& t, const std::string& key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) fail(&t, "missing " + join(where, key));
    if (!n->is_integer()) fail(n, join(where, key) + " must be an integer, not " + type_name(*n));
    return *n->value<std::int64_t>();
}

std::int64_t TomlReader::integer_or(const toml::table& t, const std::string& key, std::int64_t fallback,
                                    const std::string& where) const {
    return t.get(key) ? integer(t, key, where) : fallback;
}

bool TomlReader::boolean_or(const toml::table& t, const std::string& key, bool fallback,
                            const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) fail(n, join(where, key) + " must be true or false, not " + type_name(*n));
    return *n->value<bool>();
}

std::string TomlReader::id(const toml::table& t, const std::string& key, const std::string& where) const {
    std::string v = string(t, key, where);
    if (!valid_id(v)) fail(t.get(key), join(where, key) + " \"" + v + "\" is not a valid id (use 1-64 of a-z, 0-9, _ and -)");
    return v;
}

const toml::table& TomlReader::table(const toml::table& t, const std::string& key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) fail(&t, "missing " + join(where, key));
    if (!n->is_table()) fail(n, join(where, key) + " must be a table, not " + type_name(*n));
    return *n->as_table();
}

std::vector<const toml::table*> TomlReader::tables(const toml::table& t, const std::string& key,
                                                   const std::string& where) const {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) fail(n, join(where, key) + " must be a list of tables ([[" + key + "]]), not " + type_name(*n));
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        if (!item.is_table())
            fail(&item, join(where, key) + "[" + std::to_string(i) + "] must be a table, not " + type_name(item));
        out.push_back(item.as_table());
    }
    return out;
}

std::vector<std::string> TomlReader::strings(const toml::table& t, const std::string& key,
                                             const std::string& where) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) fail(&t, "missing " + join(where, key));
    const toml::array* arr = n->as_array();
    if (!arr) fail(n, join(where, key) + " must be a list of strings, not " + type_name(*n));
    for (const auto& item : *arr) {
        if (!item.is_string()) fail(&item, join(where, key) + " must hold only strings, not " + type_name(item));
        out.push_back(*item.value<std::string>());
    }
    return out;
}

LangText TomlReader::texts(const toml::table& t, const std::string& key, const std::vector<std::string>& langs,
                           const std::string& where, const std::string& what) const {
    const toml::table& tt = table(t, key, where);
    LangText out;
    for (const auto& [lang, node] : tt) {
        std::string code(lang.str());
        if (!node.is_string()) fail(&node, join(join(where, key), code) + " must be a string, not " + type_name(node));
        out[code] = *node.value<std::string>();
        if (what == "text") note_text(&node, code, join(where, key), out[code]);
    }
    for (const auto& lang : langs) {
        auto it = out.find(lang);
        if (it == out.end()) {
            if (lang == langs.front())
                fail(&tt, join(where, key) + " has no " + what + " in language \"" + lang + "\" (the fallback language)");
            if (const std::string base = base_language(lang); !base.empty() && out.count(base))
                continue;  // a variant (fi-x-selko) shows its base language's text: by design
            note_missing(&tt, lang, join(where, key), langs.front(), what);
        } else if (it->second.empty()) {
            fail(tt.get(lang), join(join(where, key), lang) + " is empty");
        }
    }
    return out;
}

void TomlReader::note_missing(const toml::node* near, const std::string& lang, const std::string& where,
                              const std::string& fallback, const std::string& what) const {
    const int line = near ? static_cast<int>(near->source().begin.line) : 0;
    missing_.push_back(MissingText{file_of(near), line, lang, where, fallback, what});
}

void TomlReader::note_text(const toml::node* at, const std::string& lang, const std::string& where,
                           const std::string& text) const {
    read_.push_back(TextRef{file_, static_cast<int>(at->source().begin.line), static_cast<int>(at->source().begin.column),
                            lang, where, text});
}

void TomlReader::note_icon(const toml::node* at, const std::string& where, const std::string& icon) const {
    icons_.push_back(IconRef{file_, static_cast<int>(at->source().begin.line), static_cast<int>(at->source().begin.column),
                             where, icon});
}

void TomlReader::only_keys(const toml::table& t, std::initializer_list<const char*> allowed,
                           const std::string& where) const {
    for (const auto& [key, node] : t) {
        bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key.str() == a; });
        if (!ok) {
            std::string list;
            for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            fail(&node, "unknown key " + join(where, std::string(key.str())) + " (expected one of: " + list + ")");
        }
    }
}

}  // namespace kohtaamo
