// config.cpp — reading collector.toml (config.hpp).
#include "config.hpp"

#include <fstream>

#include "bundle.hpp"
#include "sql.hpp"
#include "toml_reader.hpp"

namespace kohtaamo::sync {

namespace {

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
    std::filesystem::path path(p);
    return path.is_absolute() ? path : base / path;
}

// [[device]] (kind "device") or [[export_token]] (kind "export_token"): the same entry,
// made by `kohtaamo-collector token NAME` (with --export for an export token).
std::vector<DeviceToken> read_tokens(const TomlReader& r, const char* kind) {
    std::vector<DeviceToken> tokens;
    auto list = r.tables(r.root(), kind, "");
    const std::string make = std::string("`kohtaamo-collector token ") +
                             (std::string_view(kind) == "export_token" ? "--export " : "");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const toml::table& t = *list[i];
        const std::string where = std::string(kind) + "[" + std::to_string(i) + "]";
        r.only_keys(t, {"name", "token_hash", "enabled"}, where);
        DeviceToken d;
        d.name = r.id(t, "name", where);
        d.token_hash = r.string(t, "token_hash", where);
        static constexpr std::string_view prefix = "blake2b:";
        bool ok = d.token_hash.size() == prefix.size() + 64 && d.token_hash.compare(0, prefix.size(), prefix) == 0 &&
                  d.token_hash.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos;
        if (!ok)
            r.fail(t.get("token_hash"), where + ".token_hash must be \"blake2b:\" and 64 hex digits, as printed by " +
                                            make + d.name + "` (never the token itself)");
        d.enabled = r.boolean_or(t, "enabled", true, where);
        for (const auto& other : tokens) {
            if (other.name == d.name) r.fail(t.get("name"), where + ".name \"" + d.name + "\" is used twice");
            if (other.token_hash == d.token_hash)
                r.fail(t.get("token_hash"), where + ".token_hash is the same as \"" + other.name + "\"'s");
        }
        tokens.push_back(std::move(d));
    }
    return tokens;
}

CollectorTokens read_all_tokens(const TomlReader& r) {
    CollectorTokens t{read_tokens(r, "device"), read_tokens(r, "export_token")};
    // A kiosk's token must never read everyone's answers: one token is never both.
    auto list = r.tables(r.root(), "export_token", "");
    for (std::size_t i = 0; i < t.export_tokens.size(); ++i)
        for (const auto& d : t.devices)
            if (hashes_equal(d.token_hash, t.export_tokens[i].token_hash))
                r.fail(list[i]->get("token_hash"), "export_token[" + std::to_string(i) +
                                                       "].token_hash is device \"" + d.name +
                                                       "\"'s token: an export token must be a token of its own "
                                                       "(`kohtaamo-collector token --export NAME`)");
    return t;
}

std::size_t positive(const TomlReader& r, const toml::table& t, const char* key, std::size_t fallback,
                     const std::string& where) {
    std::int64_t v = r.integer_or(t, key, static_cast<std::int64_t>(fallback), where);
    if (v <= 0) r.fail(t.get(key), where + "." + key + " must be a positive integer");
    return static_cast<std::size_t>(v);
}

int positive_int(const TomlReader& r, const toml::table& t, const char* key, int fallback, const std::string& where,
                 int max) {
    std::int64_t v = r.integer_or(t, key, fallback, where);
    if (v <= 0 || v > max)
        r.fail(t.get(key), where + "." + key + " must be a whole number from 1 to " + std::to_string(max));
    return static_cast<int>(v);
}

// [web] and [sites.ID] (the web page; docs/collector-deploy.md).
void read_web(const TomlReader& r, CollectorConfig& c) {
    if (const toml::node* n = r.root().get("web")) {
        if (!n->is_table()) r.fail(n, "web must be a table ([web])");
        const toml::table& w = *n->as_table();
        r.only_keys(w,
                    {"enabled", "prefix", "secure_cookies", "session_hours", "silent_after_minutes",
                     "lock_after_failures", "first_lock_minutes", "max_lock_minutes"},
                    "web");
        WebConfig& web = c.web;
        web.enabled = r.boolean_or(w, "enabled", web.enabled, "web");
        if (auto prefix = r.optional_string(w, "prefix", "web")) {
            std::string p = *prefix;
            if (p.empty() || p.front() != '/' || p.find_first_of("?#\"\\ ") != std::string::npos ||
                p.find("//") != std::string::npos || p.rfind("/v1/", 0) == 0 || p == "/v1")
                r.fail(w.get("prefix"), "web.prefix must be a path such as \"/kohtaamo/\" (or \"/\"), not under /v1/");
            if (p.back() != '/') p += '/';
            web.prefix = p;
        }
        web.secure_cookies = r.boolean_or(w, "secure_cookies", web.secure_cookies, "web");
        web.session_hours = positive_int(r, w, "session_hours", web.session_hours, "web", 24 * 31);
        web.silent_after_minutes = positive_int(r, w, "silent_after_minutes", web.silent_after_minutes, "web", 10080);
        web.lock_after_failures = positive_int(r, w, "lock_after_failures", web.lock_after_failures, "web", 100);
        web.first_lock_minutes = positive_int(r, w, "first_lock_minutes", web.first_lock_minutes, "web", 10080);
        web.max_lock_minutes = positive_int(r, w, "max_lock_minutes", web.max_lock_minutes, "web", 525600);
        if (web.max_lock_minutes < web.first_lock_minutes)
            r.fail(w.get("max_lock_minutes"), "web.max_lock_minutes must be at least web.first_lock_minutes");
    }
    if (const toml::node* n = r.root().get("sites")) {
        if (!n->is_table()) r.fail(n, "sites must be a table of sites ([sites.kirjasto])");
        for (const auto& [key, value] : *n->as_table()) {
            const std::string id(key.str()), where = "sites." + id;
            if (!valid_id(id)) r.fail(&value, where + ": a site id is 1-64 of a-z, 0-9, _ and -");
            if (!value.is_table()) r.fail(&value, where + " must be a table ([" + where + "])");
            const toml::table& t = *value.as_table();
            r.only_keys(t, {"name", "hours"}, where);
            SiteSettings s;
            s.id = id;
            s.name = r.optional_string(t, "name", where).value_or(id);
            if (auto hours = r.optional_string(t, "hours", where)) {
                try {
                    s.hours = parse_open_hours(*hours);
                } catch (const std::invalid_argument& e) {
                    r.fail(t.get("hours"), where + ".hours " + e.what());
                }
                s.hours_text = *hours;
            }
            c.sites.push_back(std::move(s));
        }
    }
}

}  // namespace

std::string DatabaseConfig::describe() const {
    return driver == Driver::Sqlite ? "sqlite:" + file.string() : sql::redact_url(url);
}

DatabaseConfig parse_database_url(const std::string& url, const std::filesystem::path& base) {
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
        DatabaseConfig d = DatabaseConfig::postgresql(url);
        return d;
    }
    std::string path = url;
    if (path.rfind("sqlite:", 0) == 0) path = path.substr(7);
    if (path.empty()) throw std::invalid_argument("is empty: give postgresql://user@host/db or sqlite:PATH");
    if (path.find("://") != std::string::npos)
        throw std::invalid_argument("\"" + url + "\" is neither postgresql://… nor sqlite:PATH");
    return DatabaseConfig::sqlite(resolve(base, path));
}

CollectorConfig load_collector_config(const std::filesystem::path& file) {
    TomlReader r(file);
    const auto base = std::filesystem::absolute(file).parent_path();
    r.only_keys(r.root(),
                {"server", "database", "storage", "limits", "device", "export_token", "export", "privacy", "web", "sites"},
                "");
    CollectorConfig c;
    c.file = r.file();
    const toml::table& server = r.table(r.root(), "server", "");
    r.only_keys(server,
                {"listen", "port", "threads", "log_requests", "read_timeout_seconds", "header_timeout_seconds",
                 "body_timeout_seconds", "max_connections"},
                "server");
    c.listen = r.optional_string(server, "listen", "server").value_or(c.listen);
    std::int64_t port = r.integer_or(server, "port", c.port, "server");
    if (port < 0 || port > 65535) r.fail(server.get("port"), "server.port must be 0-65535");
    c.port = static_cast<int>(port);
    c.threads = positive_int(r, server, "threads", c.threads, "server", 256);
    c.log_requests = r.boolean_or(server, "log_requests", c.log_requests, "server");
    c.server.read_timeout_seconds =
        positive_int(r, server, "read_timeout_seconds", c.server.read_timeout_seconds, "server", 3600);
    c.server.header_timeout_seconds =
        positive_int(r, server, "header_timeout_seconds", c.server.header_timeout_seconds, "server", 3600);
    c.server.body_timeout_seconds =
        positive_int(r, server, "body_timeout_seconds", c.server.body_timeout_seconds, "server", 3600);
    c.server.max_connections = positive_int(r, server, "max_connections", c.server.max_connections, "server", 60000);

    // The database: [database] url (either driver), or the older [storage] database (a
    // SQLite file), not both.
    const toml::node* database = r.root().get("database");
    const toml::node* storage = r.root().get("storage");
    if (database && storage)
        r.fail(storage, "storage: give the database once, in [database] url (the older [storage] database = \"FILE\" "
                        "is the same as [database] url = \"sqlite:FILE\")");
    if (database) {
        if (!database->is_table()) r.fail(database, "database must be a table ([database])");
        const toml::table& d = *database->as_table();
        r.only_keys(d, {"url", "connections", "stalled_after_seconds"}, "database");
        const std::string url = r.string(d, "url", "database");
        try {
            c.database = parse_database_url(url, base);
        } catch (const std::invalid_argument& e) {
            r.fail(d.get("url"), std::string("database.url ") + e.what());
        }
        c.database.connections = positive_int(r, d, "connections", c.database.connections, "database", 64);
        c.database.stalled_after_seconds =
            positive_int(r, d, "stalled_after_seconds", c.database.stalled_after_seconds, "database", 3600);
        if (c.database.driver == DatabaseConfig::Driver::Sqlite && d.get("connections"))
            r.fail(d.get("connections"), "database.connections is for PostgreSQL: SQLite has one writer");
    } else if (storage) {
        if (!storage->is_table()) r.fail(storage, "storage must be a table ([storage])");
        const toml::table& s = *storage->as_table();
        r.only_keys(s, {"database"}, "storage");
        c.database = DatabaseConfig::sqlite(resolve(base, r.string(s, "database", "storage")));
    } else {
        r.fail(nullptr, "no [database]: add [database] url = \"sqlite:collector.sqlite\" (one machine) or "
                        "url = \"postgresql://user@host/db\"");
    }

    if (const toml::node* n = r.root().get("limits")) {
        if (!n->is_table()) r.fail(n, "limits must be a table");
        const toml::table& l = *n->as_table();
        r.only_keys(l, {"max_body_bytes", "max_uncompressed_bytes", "max_responses", "max_answers", "max_value_bytes"},
                    "limits");
        c.limits.max_body_bytes = positive(r, l, "max_body_bytes", c.limits.max_body_bytes, "limits");
        c.limits.max_uncompressed_bytes =
            positive(r, l, "max_uncompressed_bytes", c.limits.max_uncompressed_bytes, "limits");
        c.limits.max_responses = positive(r, l, "max_responses", c.limits.max_responses, "limits");
        c.limits.max_answers = positive(r, l, "max_answers", c.limits.max_answers, "limits");
        c.limits.max_value_bytes = positive(r, l, "max_value_bytes", c.limits.max_value_bytes, "limits");
    }
    if (const toml::node* n = r.root().get("privacy")) {
        if (!n->is_table()) r.fail(n, "privacy must be a table ([privacy])");
        const toml::table& p = *n->as_table();
        r.only_keys(p, {"keys"}, "privacy");
        const toml::node* keys = p.get("keys");
        if (keys && !keys->is_array()) r.fail(keys, "privacy.keys must be a list of secret key files");
        if (keys)
            for (const auto& k : *keys->as_array()) {
                const auto file = k.value<std::string>();
                if (!file) r.fail(&k, "privacy.keys: each item is a file name (a string)");
                try {
                    c.seal_keys.add(load_seal_key_file(resolve(base, *file)));
                } catch (const SealError& e) {
                    r.fail(&k, std::string("privacy.keys: ") + e.what() +
                                   " (a file `kohtaamo-collector keys --secret FILE` wrote)");
                }
            }
    }
    CollectorTokens tokens = read_all_tokens(r);
    c.devices = std::move(tokens.devices);
    c.export_tokens = std::move(tokens.export_tokens);
    c.texts_dir = base / "lang";
    if (std::error_code ec; std::filesystem::is_regular_file(base / "bundle.pub", ec)) {
        std::ifstream in(base / "bundle.pub");
        std::string key;
        std::getline(in, key);
        while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
        if (!public_key_problem(key).empty())
            throw ConfigError((base / "bundle.pub").string(), 1, 1, "not a bundle public key: " + public_key_problem(key));
        c.bundle_public_key = key;
    }
    c.export_work_dir = c.database.driver == DatabaseConfig::Driver::Sqlite
                            ? (c.database.file.has_parent_path() ? c.database.file.parent_path()
                                                                 : std::filesystem::path("."))
                            : std::filesystem::temp_directory_path();
    if (const toml::node* n = r.root().get("export")) {
        if (!n->is_table()) r.fail(n, "export must be a table ([export])");
        const toml::table& e = *n->as_table();
        r.only_keys(e, {"surveys", "texts", "min_group", "free_text", "report_language", "work_dir"}, "export");
        read_export_table(r, e, "export", c.export_defaults);
        if (auto texts = r.optional_string(e, "texts", "export")) c.texts_dir = resolve(base, *texts);
        if (auto work = r.optional_string(e, "work_dir", "export")) {
            c.export_work_dir = resolve(base, *work);
            std::error_code ec;
            if (!std::filesystem::is_directory(c.export_work_dir, ec))
                r.fail(e.get("work_dir"), "export.work_dir: " + c.export_work_dir.string() + " is not a folder");
        }
        if (auto surveys = r.optional_string(e, "surveys", "export")) {
            const auto dir = resolve(base, *surveys);
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec))
                r.fail(e.get("surveys"), "export.surveys: " + dir.string() + " is not a folder");
            c.surveys = load_surveys(dir, {"fi", "sv", "en"});
        }
    }
    read_web(r, c);
    return c;
}

ExportOptions CollectorConfig::export_options(const ExportRequest& request, std::int64_t now_ms) const {
    ExportOptions o = make_export_options(request, export_defaults, kReportLanguage, texts_dir, now_ms);
    for (const auto& s : sites) o.site_names[s.id] = s.name;
    return o;
}

CollectorTokens load_collector_tokens(const std::filesystem::path& file) {
    TomlReader r(file);
    return read_all_tokens(r);
}

}  // namespace kohtaamo::sync
