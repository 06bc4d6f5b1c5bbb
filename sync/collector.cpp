#include "collector.hpp"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>

#include "clock.hpp"
#include "sqlite.hpp"
#include "toml_reader.hpp"

namespace kohtaamo::sync {

using nlohmann::json;

// ---------------------------------------------------------------------------------------
// Config

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

}  // namespace

CollectorConfig load_collector_config(const std::filesystem::path& file) {
    TomlReader r(file);
    const auto base = std::filesystem::absolute(file).parent_path();
    r.only_keys(r.root(), {"server", "storage", "limits", "device", "export_token", "export"}, "");
    CollectorConfig c;
    c.file = r.file();
    const toml::table& server = r.table(r.root(), "server", "");
    r.only_keys(server, {"listen", "port", "threads", "log_requests", "read_timeout_seconds"}, "server");
    c.listen = r.optional_string(server, "listen", "server").value_or(c.listen);
    std::int64_t port = r.integer_or(server, "port", c.port, "server");
    if (port < 0 || port > 65535) r.fail(server.get("port"), "server.port must be 0-65535");
    c.port = static_cast<int>(port);
    c.threads = static_cast<int>(positive(r, server, "threads", static_cast<std::size_t>(c.threads), "server"));
    c.log_requests = r.boolean_or(server, "log_requests", c.log_requests, "server");
    c.read_timeout_seconds = static_cast<int>(
        positive(r, server, "read_timeout_seconds", static_cast<std::size_t>(c.read_timeout_seconds), "server"));
    const toml::table& storage = r.table(r.root(), "storage", "");
    r.only_keys(storage, {"database"}, "storage");
    c.database = resolve(base, r.string(storage, "database", "storage"));
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
    CollectorTokens tokens = read_all_tokens(r);
    c.devices = std::move(tokens.devices);
    c.export_tokens = std::move(tokens.export_tokens);
    c.texts_dir = base / "lang";
    if (const toml::node* n = r.root().get("export")) {
        if (!n->is_table()) r.fail(n, "export must be a table ([export])");
        const toml::table& e = *n->as_table();
        r.only_keys(e, {"surveys", "texts", "min_group", "free_text", "report_language"}, "export");
        read_export_table(r, e, "export", c.export_defaults);
        if (auto texts = r.optional_string(e, "texts", "export")) c.texts_dir = resolve(base, *texts);
        if (auto surveys = r.optional_string(e, "surveys", "export")) {
            const auto dir = resolve(base, *surveys);
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec))
                r.fail(e.get("surveys"), "export.surveys: " + dir.string() + " is not a folder");
            c.surveys = load_surveys(dir, {"fi", "sv", "en"});
        }
    }
    return c;
}

ExportOptions CollectorConfig::export_options(const ExportRequest& request, std::int64_t now_ms) const {
    return make_export_options(request, export_defaults, kReportLanguage, texts_dir, now_ms);
}

CollectorTokens load_collector_tokens(const std::filesystem::path& file) {
    TomlReader r(file);
    return read_all_tokens(r);
}

// ---------------------------------------------------------------------------------------
// Database

namespace {

// The collector's schema, versioned like the kiosk's (PRAGMA user_version). Column names
// follow the kiosk's `responses` and `answers`.
const std::vector<const char*>& collector_migrations() {
    static const std::vector<const char*> steps = {
        R"sql(
CREATE TABLE responses (
    id             TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    language       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('complete', 'abandoned')),
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    site           TEXT NOT NULL DEFAULT '',
    event          TEXT NOT NULL DEFAULT '',
    flagged        INTEGER NOT NULL DEFAULT 0,
    device_id      TEXT NOT NULL,
    device_name    TEXT NOT NULL,
    batch_id       TEXT NOT NULL,
    received_at    TEXT NOT NULL
);
CREATE TABLE answers (
    response_id TEXT NOT NULL REFERENCES responses(id),
    question_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id, value)
);
CREATE TABLE batches (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    device_name TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    responses   INTEGER NOT NULL,
    stored      INTEGER NOT NULL
);
CREATE INDEX responses_by_device ON responses(device_id);
CREATE INDEX responses_by_started ON responses(started_at);
)sql",
    };
    return steps;
}

// GET /v1/export writes into a folder of this name next to the database, for one request.
constexpr std::string_view kExportFolderPrefix = ".kohtaamo-export-";

std::filesystem::path database_folder(const std::filesystem::path& database) {
    return database.has_parent_path() ? database.parent_path() : std::filesystem::path(".");
}

sqlite3* open_database(const std::filesystem::path& file, bool read_only) {
    std::error_code ec;
    if (!read_only && file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    sqlite3* db = nullptr;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("collector: cannot open " + file.string() + ": " + msg);
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

void migrate(sqlite3* db, const std::filesystem::path& file) {
    // An acknowledged batch is deleted from the kiosk's queue, so it must survive a power
    // cut here: WAL with synchronous=FULL syncs every commit.
    sqlite_exec(db, "PRAGMA journal_mode = WAL", "collector");
    sqlite_exec(db, "PRAGMA synchronous = FULL", "collector");
    sqlite_exec(db, "PRAGMA foreign_keys = ON", "collector");
    Statement v(db, "PRAGMA user_version");
    v.step();
    int version = static_cast<int>(v.integer(0));
    const auto& steps = collector_migrations();
    if (version > static_cast<int>(steps.size()))
        throw std::runtime_error("collector: " + file.string() + " has schema version " + std::to_string(version) +
                                 ", newer than this collector knows; update it");
    for (; version < static_cast<int>(steps.size()); ++version) {
        Transaction tx(db);
        sqlite_exec(db, steps[version], "collector: migrate " + file.string());
        sqlite_exec(db, ("PRAGMA user_version = " + std::to_string(version + 1)).c_str(), "collector");
        tx.commit();
    }
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void set_json(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "application/json");
}

void set_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    set_json(res, status, encode_error(code, message));
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Server

struct Collector::Impl {
    CollectorConfig config;
    sqlite3* db = nullptr;
    std::mutex db_mutex;  // one writer; SQLite would serialise writers anyway
    std::shared_mutex devices_mutex;  // guards devices and export_tokens
    std::vector<DeviceToken> devices;
    std::vector<DeviceToken> export_tokens;
    std::atomic<int> exports_running{0};
    std::mutex log_mutex;
    std::function<void(const std::string&)> log = [](const std::string& line) { std::cerr << line << '\n'; };
    httplib::Server server;
    std::thread thread;

    void write_log(const std::string& line) {
        if (!config.log_requests) return;
        std::lock_guard lock(log_mutex);
        log(iso8601_utc(now_ms()) + " " + line);
    }

    // The entry of `list` (devices or export_tokens) the request's bearer token belongs
    // to; nullopt when none.
    std::optional<DeviceToken> token_in(const httplib::Request& req, const std::vector<DeviceToken>& list) {
        std::string auth = req.get_header_value("Authorization");
        static constexpr std::string_view bearer = "Bearer ";
        if (auth.size() <= bearer.size() || auth.compare(0, bearer.size(), bearer) != 0) return std::nullopt;
        std::string hash = hash_token(std::string_view(auth).substr(bearer.size()));
        std::shared_lock lock(devices_mutex);
        std::optional<DeviceToken> found;
        for (const auto& d : list)  // every entry is compared, in constant time
            if (hashes_equal(d.token_hash, hash)) found = d;
        return found;
    }
    std::optional<DeviceToken> device_for(const httplib::Request& req) { return token_in(req, devices); }

    StoreOutcome store(const Batch& batch, const std::string& device_name, const std::string& body_hash);
    void handle_batch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
    void handle_health(httplib::Response& res);
    void handle_export(const httplib::Request& req, httplib::Response& res);
};

Collector::Collector(CollectorConfig config) : impl_(std::make_unique<Impl>()) {
    impl_->config = std::move(config);
    impl_->devices = impl_->config.devices;
    impl_->export_tokens = impl_->config.export_tokens;
    impl_->db = open_database(impl_->config.database, false);
    // Export folders a crash or a kill left behind (each lives only during one request).
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(database_folder(impl_->config.database), ec))
            if (e.path().filename().string().rfind(kExportFolderPrefix, 0) == 0) std::filesystem::remove_all(e.path(), ec);
    }
    try {
        migrate(impl_->db, impl_->config.database);
    } catch (...) {
        sqlite3_close(impl_->db);
        throw;
    }

    auto& svr = impl_->server;
    const int threads = impl_->config.threads;
    svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    svr.set_read_timeout(impl_->config.read_timeout_seconds, 0);
    svr.set_write_timeout(impl_->config.read_timeout_seconds, 0);
    svr.set_tcp_nodelay(true);  // the reply goes out in two writes: no 40 ms Nagle wait
    svr.set_keep_alive_max_count(1000);
    svr.set_keep_alive_timeout(10);
    svr.set_payload_max_length(impl_->config.limits.max_body_bytes);
    Impl* impl = impl_.get();
    svr.Post(kBatchesPath, [impl](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) { impl->handle_batch(req, res, reader); });
    svr.Get(kHealthPath, [impl](const httplib::Request&, httplib::Response& res) { impl->handle_health(res); });
    svr.Get(kExportPath, [impl](const httplib::Request& req, httplib::Response& res) { impl->handle_export(req, res); });
    // GET /v1/device: the enrolment check (kohtaamo-enroll). The kiosk's bearer token is
    // checked as POST /v1/batches checks it, and nothing else is done: 200 names the
    // device, 401 an unknown token, 403 a disabled one (sync/PROTOCOL.md).
    svr.Get(kDevicePath, [impl](const httplib::Request& req, httplib::Response& res) {
        const auto device = impl->device_for(req);
        if (!device) {
            res.set_header("WWW-Authenticate", "Bearer realm=\"kohtaamo\"");
            set_error(res, 401, "unauthorized", "missing or unknown bearer token");
        } else if (!device->enabled) {
            set_error(res, 403, "forbidden", "this device's token is disabled on the collector");
        } else {
            set_json(res, 200, json{{"protocol", kProtocolVersion}, {"device", device->name}}.dump());
        }
        impl->write_log("GET " + std::string(kDevicePath) + " device=" + (device ? device->name : "-") + " " +
                        std::to_string(res.status));
    });
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        std::string code = res.status == 404 ? "not_found" : res.status == 413 ? "too_large" : "bad_request";
        std::string message = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path +
                                                      " (POST " + kBatchesPath + ", GET " + kHealthPath + ", GET " + kExportPath + ")"
                                                : "HTTP " + std::to_string(res.status);
        set_error(res, res.status, code, message);
    });
    svr.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        impl->write_log(req.method + " " + req.path + " 500 " + what);
        set_error(res, 500, "internal", "the collector failed: " + what);
    });
}

Collector::~Collector() {
    stop();
    sqlite3_close(impl_->db);
}

int Collector::bind() {
    auto& c = impl_->config;
    if (c.port == 0) {
        port_ = impl_->server.bind_to_any_port(c.listen);
        if (port_ <= 0) throw std::runtime_error("collector: cannot listen on " + c.listen);
    } else {
        if (!impl_->server.bind_to_port(c.listen, c.port))
            throw std::runtime_error("collector: cannot listen on " + c.listen + ":" + std::to_string(c.port) +
                                     " (in use, or not an address of this machine?)");
        port_ = c.port;
    }
    return port_;
}

bool Collector::serve() { return impl_->server.listen_after_bind(); }

int Collector::start() {
    int port = bind();
    impl_->thread = std::thread([this] { serve(); });
    // The socket is listening since bind(): a client connecting now waits in the backlog.
    return port;
}

void Collector::stop() {
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

void Collector::set_devices(std::vector<DeviceToken> devices) {
    std::unique_lock lock(impl_->devices_mutex);
    impl_->devices = std::move(devices);
}

void Collector::set_export_tokens(std::vector<DeviceToken> export_tokens) {
    std::unique_lock lock(impl_->devices_mutex);
    impl_->export_tokens = std::move(export_tokens);
}

void Collector::set_log(std::function<void(const std::string&)> log) {
    std::lock_guard lock(impl_->log_mutex);
    impl_->log = std::move(log);
}

StoreOutcome Collector::store(const Batch& batch, const std::string& device_name, const std::string& body_hash) {
    return impl_->store(batch, device_name, body_hash);
}

StoreOutcome Collector::Impl::store(const Batch& batch, const std::string& device_name, const std::string& body_hash) {
    StoreOutcome out;
    out.reply.batch_id = batch.batch_id;
    const std::string received_at = iso8601_utc(now_ms());
    std::lock_guard lock(db_mutex);
    Transaction tx(db);
    Statement seen(db, "SELECT body_hash FROM batches WHERE id = ?");
    seen.bind(1, batch.batch_id);
    if (seen.step()) {
        if (seen.text(0) != body_hash) {
            out.status = 409;
            return out;  // rolled back: nothing changes
        }
        // A copy of a batch already stored (a lost acknowledgement, a retry): every
        // response is here already.
        for (const auto& r : batch.responses) out.reply.duplicate.push_back(r.id);
        return out;
    }
    Statement ins_response(db,
                           "INSERT OR IGNORE INTO responses(id, survey_id, survey_version, language, status, started_at,"
                           " finished_at, site, event, flagged, device_id, device_name, batch_id, received_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    Statement ins_answer(db, "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
    for (const auto& r : batch.responses) {
        ins_response.bind(1, r.id).bind(2, r.survey_id).bind(3, r.survey_version).bind(4, r.language);
        ins_response.bind(5, r.status).bind(6, r.started_at).bind(8, r.site);
        if (r.finished_at.empty())
            ins_response.bind_null(7);
        else
            ins_response.bind(7, r.finished_at);
        ins_response.bind(9, r.event).bind(10, r.flagged ? 1 : 0).bind(11, batch.device_id).bind(12, device_name);
        ins_response.bind(13, batch.batch_id).bind(14, received_at).run();
        if (sqlite3_changes(db) == 0) {
            // Stored before, in another batch: the first copy is kept as it was.
            out.reply.duplicate.push_back(r.id);
            continue;
        }
        for (const auto& a : r.answers)
            ins_answer.bind(1, r.id).bind(2, a.question_id).bind(3, a.value).bind(4, a.answered_at).run();
        out.reply.stored.push_back(r.id);
    }
    Statement ins_batch(db,
                        "INSERT INTO batches(id, device_id, device_name, body_hash, received_at, responses, stored)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins_batch.bind(1, batch.batch_id).bind(2, batch.device_id).bind(3, device_name).bind(4, body_hash);
    ins_batch.bind(5, received_at).bind(6, static_cast<std::int64_t>(batch.responses.size()));
    ins_batch.bind(7, static_cast<std::int64_t>(out.reply.stored.size())).run();
    tx.commit();
    return out;
}

void Collector::Impl::handle_batch(const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
    const auto started = std::chrono::steady_clock::now();
    std::string who = "-";
    auto log_result = [&](const std::string& detail) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        write_log("POST " + std::string(kBatchesPath) + " device=" + who + " " + std::to_string(res.status) + " " +
                  detail + " (" + std::to_string(ms.count()) + " ms)");
    };
    // Everything that can be decided from the headers is decided before reading the body,
    // so an unauthenticated or oversize request costs nothing.
    auto early = [&](int status, const std::string& code, const std::string& message) {
        set_error(res, status, code, message);
        res.set_header("Connection", "close");  // its body was not read
        log_result(code);
    };
    auto device = device_for(req);
    if (!device) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"kohtaamo\"");
        return early(401, "unauthorized", "missing or unknown bearer token");
    }
    who = device->name;
    if (!device->enabled) return early(403, "forbidden", "this device's token is disabled on the collector");
    if (!req.has_header("Content-Length"))
        return early(411, "length_required", "send the body with a Content-Length");
    const std::string length_text = req.get_header_value("Content-Length");
    std::uint64_t length = 0;
    try {
        length = std::stoull(length_text);
    } catch (const std::exception&) {
        return early(400, "invalid_body", "Content-Length \"" + length_text + "\" is not a number");
    }
    if (length > config.limits.max_body_bytes)
        return early(413, "too_large",
                     "body: " + std::to_string(length) + " bytes, more than the limit of " +
                         std::to_string(config.limits.max_body_bytes) + "; split the batch");
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (encoding != "gzip" && !encoding.empty())
        return early(415, "unsupported_encoding", "Content-Encoding \"" + encoding + "\": send gzip");

    // httplib inflates a gzip body on the fly (it is built with zlib); the limit applies
    // to the inflated bytes, so a small "gzip bomb" is cut off too.
    std::string body;
    bool too_large = false;
    bool read_ok = reader([&](const char* data, std::size_t n) {
        if (body.size() + n > config.limits.max_uncompressed_bytes) {
            too_large = true;
            return false;
        }
        body.append(data, n);
        return true;
    });
    if (too_large)
        return early(413, "too_large", "body: more than " + std::to_string(config.limits.max_uncompressed_bytes) +
                                           " bytes once decompressed; split the batch");
    if (!read_ok)
        return early(400, "invalid_body", "the body could not be read: a corrupt gzip stream, or the connection broke");

    Batch batch;
    try {
        batch = parse_batch(body, config.limits);
    } catch (const ProtocolError& e) {
        std::string message = e.what();
        if (e.code() == "invalid_json" && encoding == "gzip")
            message = "after gunzip, " + message + " (a truncated gzip stream ends like this too)";
        set_error(res, e.status(), e.code(), message);
        log_result(e.code() + ": " + message);
        return;
    }
    // The body's identity: its canonical JSON (parsed and dumped again), so that the same
    // content compares equal whatever its whitespace or key order.
    const std::string canonical = to_json(batch).dump();
    StoreOutcome outcome = [&] {
        for (int attempt = 0;; ++attempt) {
            try {
                return store(batch, device->name, hash_token(canonical));
            } catch (const SqliteError& e) {
                if ((e.code() != SQLITE_BUSY && e.code() != SQLITE_LOCKED) || attempt >= 3) throw;
            }
        }
    }();
    if (outcome.status == 409) {
        set_error(res, 409, "batch_conflict",
                  "batch_id " + batch.batch_id +
                      " was received before with a different body; send these responses under a new batch id");
        log_result("batch=" + batch.batch_id + " batch_conflict");
        return;
    }
    set_json(res, 200, encode_reply(outcome.reply));
    log_result("batch=" + batch.batch_id + " stored=" + std::to_string(outcome.reply.stored.size()) +
               " duplicate=" + std::to_string(outcome.reply.duplicate.size()));
}

// ---------------------------------------------------------------------------------------
// Export: GET /v1/export?format=long&half-year=2026H1&site=... with an export token.
//
// The query names are kohtaamo-export's options without the dashes, read into the same
// ExportRequest and checked by the same make_export_options (kiosk/export). The export is
// written by export_to_folder into a fresh folder next to the database, the one file is
// opened, the folder removed (the open file stays readable until it is closed), and the
// file is streamed from disk: a big export never sits in memory, and nothing is left
// behind if the client goes away. The database is opened read-only in one read
// transaction (WAL): uploads go on meanwhile.

namespace {

class BadParameter : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

ExportRequest export_request_of(const httplib::Params& params) {
    ExportRequest q;
    std::set<std::string> seen;
    auto single = [&](const std::string& key, const std::string& value, std::string& into) {
        if (!seen.insert(key).second) throw BadParameter(key + ": given twice");
        into = value;
    };
    auto flag = [&](const std::string& key, const std::string& value, bool& into) {
        if (!seen.insert(key).second) throw BadParameter(key + ": given twice");
        if (value.empty() || value == "1" || value == "true" || value == "yes") into = true;
        else if (value == "0" || value == "false" || value == "no") into = false;
        else throw BadParameter(key + ": expected 1 or 0 (true or false), not \"" + value + "\"");
    };
    std::string format, min_group;
    for (const auto& [key, value] : params) {
        if (key == "format") single(key, value, format);
        else if (key == "from") single(key, value, q.from);
        else if (key == "to") single(key, value, q.to);
        else if (key == "half-year") single(key, value, q.half_year);
        else if (key == "lang") single(key, value, q.lang);
        else if (key == "name") single(key, value, q.name);
        else if (key == "min-group") single(key, value, min_group);
        else if (key == "survey") q.surveys.push_back(value);
        else if (key == "site") q.sites.push_back(value);
        else if (key == "excel") flag(key, value, q.excel);
        else if (key == "include-abandoned") flag(key, value, q.include_abandoned);
        else if (key == "include-flagged") flag(key, value, q.include_flagged);
        else if (key == "no-free-text") flag(key, value, q.no_free_text);
        else
            throw BadParameter(key + ": unknown parameter (format, survey, site, from, to, half-year, include-abandoned, "
                                     "include-flagged, no-free-text, excel, lang, min-group, name)");
    }
    if (format.empty()) throw BadParameter(std::string("format: missing; one of ") + export_format_names());
    if (format.find(',') != std::string::npos)
        throw BadParameter("format: one format per request, not \"" + format + "\"");
    q.formats = {format};
    if (format == "wide" && q.surveys.size() != 1)
        throw BadParameter("survey: format=wide is one file per survey; give exactly one survey=ID");
    if (!min_group.empty()) {
        int v = 0;
        auto [end, ec] = std::from_chars(min_group.data(), min_group.data() + min_group.size(), v);
        if (ec != std::errc() || end != min_group.data() + min_group.size() || v < 1)
            throw BadParameter("min-group: expected a whole number 1..1000, not \"" + min_group + "\"");
        q.min_group = v;
    }
    return q;
}

const char* content_type_of(const ExportOptions& o) {
    if (o.report) return "text/html; charset=utf-8";
    if (o.jsonl) return "application/x-ndjson";
    return "text/csv; charset=utf-8";
}

// attachment; filename="ascii"; filename*=UTF-8''percent-encoded (RFC 6266)
std::string content_disposition(const std::string& name) {
    std::string ascii, encoded;
    static const char* hex = "0123456789ABCDEF";
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        ascii += c < 0x80 ? ch : '_';
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            encoded += ch;
        } else {
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 15];
        }
    }
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

// A file open for reading, closed when the last copy of the shared_ptr goes.
class OpenFile {
public:
    explicit OpenFile(int fd) : fd_(fd) {}
    ~OpenFile() { ::close(fd_); }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

}  // namespace

void Collector::Impl::handle_export(const httplib::Request& req, httplib::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    std::string who = "-";
    auto log_result = [&](const std::string& detail) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        write_log("GET " + std::string(kExportPath) + " exporter=" + who + " " + std::to_string(res.status) + " " +
                  detail + " (" + std::to_string(ms.count()) + " ms)");
    };
    auto fail = [&](int status, const std::string& code, const std::string& message) {
        set_error(res, status, code, message);
        log_result(code + ": " + message);
    };
    auto exporter = token_in(req, export_tokens);
    if (!exporter) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"kohtaamo-export\"");
        return fail(401, "unauthorized",
                    "missing or unknown export token: GET /v1/export takes a token from the collector's "
                    "[[export_token]] list (`kohtaamo-collector token --export NAME`), not a kiosk's");
    }
    who = exporter->name;
    if (!exporter->enabled) return fail(403, "forbidden", "this export token is disabled on the collector");

    ExportOptions options;
    try {
        options = config.export_options(export_request_of(req.params), now_ms());
    } catch (const BadParameter& e) {
        return fail(400, "invalid_parameter", e.what());
    } catch (const ExportRequestError& e) {
        return fail(400, "invalid_parameter", e.what());
    }

    // A few exports at a time: the rest of the thread pool stays free for uploads.
    if (exports_running.fetch_add(1) >= kMaxConcurrentExports) {
        --exports_running;
        res.set_header("Retry-After", "30");
        return fail(503, "unavailable",
                    std::to_string(kMaxConcurrentExports) + " exports are running already; try again in a moment");
    }
    struct Release {
        std::atomic<int>& n;
        ~Release() { --n; }
    } release{exports_running};

    std::string folder_template = (database_folder(config.database) / kExportFolderPrefix).string() + "XXXXXX";
    if (!::mkdtemp(folder_template.data()))
        return fail(500, "export_failed",
                    std::string("cannot make a folder for the export next to the database: ") + std::strerror(errno));
    const std::filesystem::path folder = folder_template;
    auto remove_folder = [&] {
        std::error_code ec;
        std::filesystem::remove_all(folder, ec);
    };
    const ExportResult result = export_to_folder(config.database, config.surveys, folder, options);
    if (!result.ok() || result.files.size() != 1) {
        remove_folder();
        return fail(500, "export_failed",
                    result.ok() ? "the export made " + std::to_string(result.files.size()) + " files, not one"
                                : std::string(to_string(result.status)) + ": " + result.message);
    }
    const std::filesystem::path file = result.files.front();
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        const std::string why = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        remove_folder();
        return fail(500, "export_failed", "cannot read the export back: " + why);
    }
    auto open = std::make_shared<OpenFile>(fd);
    remove_folder();  // the open file stays readable until it is closed

    res.status = 200;
    res.set_header("Content-Disposition", content_disposition(file.filename().string()));
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Kohtaamo-Responses", std::to_string(result.responses));
    res.set_header("X-Kohtaamo-Answers", std::to_string(result.answers));
    res.set_header("X-Kohtaamo-Withheld", std::to_string(result.withheld));
    res.set_content_provider(
        static_cast<std::size_t>(st.st_size), content_type_of(options),
        [open](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            char buf[64 * 1024];
            const ssize_t got = ::pread(open->fd(), buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
            if (got <= 0) return false;
            return sink.write(buf, static_cast<std::size_t>(got));
        });
    log_result(file.filename().string() + " responses=" + std::to_string(result.responses) +
               " answers=" + std::to_string(result.answers) + " bytes=" + std::to_string(st.st_size));
}

void Collector::Impl::handle_health(httplib::Response& res) {
    try {
        std::lock_guard lock(db_mutex);
        Statement s(db, "SELECT count(*) FROM batches");
        s.step();
        set_json(res, 200, json{{"status", "ok"}, {"protocol", kProtocolVersion}}.dump());
    } catch (const std::exception& e) {
        set_error(res, 503, "unavailable", std::string("the database cannot be read: ") + e.what());
    }
}

}  // namespace kohtaamo::sync
