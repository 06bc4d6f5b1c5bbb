// toml_reader.hpp — reads TOML config files (toml++) and turns every problem into a
// ConfigError that names the file, the line and the key. The survey loader, the device
// config and the UI text catalogue all read through this one helper.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config_error.hpp"

namespace kohtaamo {

// Texts per language code: {"fi": "Kiitos!", "sv": "Tack!", "en": "Thank you!"}.
using LangText = std::map<std::string, std::string>;

class TomlReader {
public:
    // Parses the file; a syntax error becomes a ConfigError with the parser's line.
    explicit TomlReader(const std::filesystem::path& file);

    const toml::table& root() const { return root_; }
    const std::string& file() const { return file_; }

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
    // A {fi = "...", sv = "...", en = "..."} table that must have every language in `langs`.
    LangText texts(const toml::table& t, const std::string& key, const std::vector<std::string>& langs,
                   const std::string& where) const;
    // Fails on any key not in `allowed` (catches typos such as "requird").
    void only_keys(const toml::table& t, std::initializer_list<const char*> allowed,
                   const std::string& where) const;

private:
    std::string file_;
    toml::table root_;
};

}  // namespace kohtaamo
