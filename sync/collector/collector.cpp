// collector.cpp — the collector's endpoints on the HTTP layer (http.hpp) and the storage
// (storage.hpp): who may do what, what each request gets, and the one log line per
// request. See collector.hpp for the parts and sync/PROTOCOL.md for every status code.
//
// The rule for errors: anything decided from what a client sent — its headers, its
// gzip, its JSON, its fields, and any exception while reading them — is a 4xx naming the
// problem; only the database (503 unavailable, with Retry-After) or a bug (500 internal)
// gives a 5xx.
#include "collector.hpp"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "batch_reader.hpp"
#include "clock.hpp"
#include "config_error.hpp"
#include "http.hpp"
#include "survey.hpp"
#include "utf8.hpp"
#include "web.hpp"

namespace kohtaamo::sync {

using nlohmann::json;

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

http::Response json_reply(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

http::Response error_reply(int status, const std::string& code, const std::string& message) {
    // printable(): a message may quote what a client sent; the JSON stays valid UTF-8.
    return json_reply(status, encode_error(code, http::printable(message)));
}

// GET /v1/export writes into a folder of this name (and the process id) for one request.
constexpr std::string_view kExportFolderPrefix = ".kohtaamo-export-";

// Export folders a crash or a kill left behind: those of processes no longer running
// (another collector on this machine may be using its own right now).
void remove_stale_export_folders(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(kExportFolderPrefix, 0) != 0) continue;
        const std::string rest = name.substr(kExportFolderPrefix.size());
        int pid = 0;
        auto [end, err] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
        const bool alive = err == std::errc() && end != rest.data() && *end == '-' && pid > 0 &&
                           (::kill(pid, 0) == 0 || errno != ESRCH);
        if (!alive) std::filesystem::remove_all(e.path(), ec);
    }
}

class BadParameter : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

ExportRequest export_request_of(const std::vector<std::pair<std::string, std::string>>& params) {
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
    if (o.xlsx) return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    if (o.jsonl) return "application/x-ndjson";
    return "text/csv; charset=utf-8";
}

// attachment; filename="ascii"; filename*=UTF-8''percent-encoded (RFC 6266)
std::string content_disposition(const std::string& name) {
    std::string ascii, encoded;
    static const char* hex = "0123456789ABCDEF";
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        ascii += c < 0x80 && c >= 0x20 && c != '"' && c != '\\' ? ch : '_';
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

}  // namespace

// A batch's identity: BLAKE2b-256 over its fields in protocol order, each with its length,
// so two bodies with the same content have the same identity whatever their whitespace
// and key order, and different content never collides by concatenation. (Cheaper than
// serialising the batch to canonical JSON again: that cost ~10 µs per response.) The
// fields are laid out in one buffer and hashed in one call: a call per field cost more
// than the hashing.
std::string batch_identity(const Batch& b) {
    std::string buffer;
    buffer.reserve(512 * b.responses.size() + 128);
    auto put = [&](std::string_view v) {
        const std::uint64_t n = v.size();
        buffer.append(reinterpret_cast<const char*>(&n), sizeof n);
        buffer.append(v);
    };
    auto number = [&](std::int64_t v) { put(std::to_string(v)); };
    put("kohtaamo-batch-1");
    put(b.batch_id);
    put(b.device_id);
    number(static_cast<std::int64_t>(b.responses.size()));
    for (const Response& r : b.responses) {
        put(r.id);
        put(r.survey_id);
        number(r.survey_version);
        put(r.language);
        put(r.status);
        put(r.started_at);
        put(r.finished_at);
        put(r.site);
        put(r.event);
        number(r.flagged ? 1 : 0);
        if (!r.survey_hash.empty()) {  // optional: a batch without it keeps its identity of before
            put("survey_hash");
            put(r.survey_hash);
        }
        number(static_cast<std::int64_t>(r.answers.size()));
        for (const Answer& a : r.answers) {
            put(a.question_id);
            put(a.value);
            put(a.answered_at);
        }
    }
    unsigned char out[32];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size(), nullptr,
                       0);
    static const char* hex = "0123456789abcdef";
    std::string h = "blake2b:";
    for (unsigned char c : out) {
        h += hex[c >> 4];
        h += hex[c & 15];
    }
    return h;
}

struct Collector::Impl : http::Handler {
    CollectorConfig config;
    std::unique_ptr<Storage> storage;
    std::unique_ptr<http::Server> server;
    std::shared_mutex tokens_mutex;
    CollectorTokens tokens;  // as last read from the database
    std::int64_t tokens_generation = -1;
    std::mutex log_mutex;
    std::function<void(const std::string&)> log_to = [](const std::string& line) { std::cerr << line << '\n'; };
    std::thread refresher;
    std::mutex refresher_mutex;
    std::condition_variable refresher_cv;
    bool stopping = false;
    std::atomic<int> exports_here{0};
    std::unique_ptr<Web> web;  // the coordinators' pages under [web] prefix (web.hpp)

    void write_log(const std::string& line) {
        if (!config.log_requests) return;
        std::lock_guard lock(log_mutex);
        log_to(iso8601_utc(now_ms()) + " " + http::printable(line));
    }
    void log(const std::string& line) override { write_log(line); }

    // The token lists, re-read from the database when another instance (or this one)
    // changed them.
    void refresh_tokens() {
        try {
            const std::int64_t g = storage->tokens_generation();
            if (g == tokens_generation) return;
            CollectorTokens t = storage->read_tokens();
            std::unique_lock lock(tokens_mutex);
            tokens = std::move(t);
            tokens_generation = g;
        } catch (const StorageUnavailable&) {
            // Keep serving from the lists in hand; the next second tries again.
        }
    }

    void publish(const CollectorTokens& t) {
        storage->publish_tokens(t);
        refresh_tokens();
    }

    // The entry of the kiosks' (or the exporters') list the request's bearer token
    // belongs to; nullopt when none.
    std::optional<DeviceToken> token_in(const http::Request& req, bool exporters) {
        const std::string auth = req.header("authorization");
        static constexpr std::string_view bearer = "Bearer ";
        if (auth.size() <= bearer.size() || auth.compare(0, bearer.size(), bearer) != 0) return std::nullopt;
        const std::string hash = hash_token(std::string_view(auth).substr(bearer.size()));
        std::shared_lock lock(tokens_mutex);
        std::optional<DeviceToken> found;
        for (const auto& d : exporters ? tokens.export_tokens : tokens.devices)  // every entry, in constant time
            if (hashes_equal(d.token_hash, hash)) found = d;
        return found;
    }

    void log_request(const http::Request& req, int status, const std::string& detail) {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - req.started);
        const bool account = req.principal.rfind("web:", 0) == 0;  // the web page's (web.hpp)
        const char* who = account ? " account=" : req.path == kExportPath ? " exporter=" : " device=";
        write_log(req.method + " " + req.path + who + (req.principal.empty() ? "-" : req.principal.substr(account ? 4 : 0)) + " " +
                  std::to_string(status) + " " + detail + " (" + std::to_string(ms.count()) + " ms)");
    }

    http::Response fail(const http::Request& req, int status, const std::string& code, const std::string& message) {
        http::Response r = error_reply(status, code, message);
        log_request(req, status, code + ": " + message);
        return r;
    }

    http::Response refuse(const http::Request& req, int status, const std::string& code,
                          const std::string& message) override {
        return fail(req, status, code, message);
    }

    std::optional<http::Response> on_headers(http::Request& req) override {
        if (web && web->owns(req.path)) return web->on_headers(req);
        const bool get = req.method == "GET" || req.method == "HEAD";
        if (req.path == kBatchesPath && req.method == "POST") return batch_headers(req);
        if (req.path == kHeartbeatPath && req.method == "POST") return batch_headers(req);
        if (req.path == kHealthPath && get) return std::nullopt;
        if (req.path == kDevicePath && get) return device(req);
        if (req.path == kExportPath && get) return export_headers(req);
        if (req.path == kBundlePath && get) return bundle_headers(req);
        if (req.path.starts_with(kSurveysPrefix) && req.method == "PUT") return survey_headers(req);
        return fail(req, 404, "not_found",
                    "no such endpoint: " + req.method + " " + req.path + " (POST " + kBatchesPath + ", POST " +
                        kHeartbeatPath + ", GET " + kHealthPath + ", GET " + kDevicePath + ", GET " + kExportPath +
                        ", GET " + kBundlePath + ", PUT " + std::string(kSurveysPrefix) + "<sha256>)");
    }

    http::Response handle(http::Request& req) override {
        if (web && web->owns(req.path)) return web->handle(req);
        if (req.path == kBatchesPath) return batch(req);
        if (req.path == kHeartbeatPath) return heartbeat(req);
        if (req.path == kHealthPath) return health();
        if (req.path == kBundlePath) return bundle(req);
        if (req.path.starts_with(kSurveysPrefix)) return survey(req);
        return export_file(req);
    }

    // A device's bearer token, for every endpoint a kiosk calls: 401 when missing or
    // unknown, 403 when disabled; otherwise the request's principal is the device's name.
    std::optional<http::Response> refuse_device(http::Request& req) {
        auto device = token_in(req, false);
        if (!device) {
            http::Response r = fail(req, 401, "unauthorized", "missing or unknown bearer token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kohtaamo\"");
            return r;
        }
        req.principal = device->name;
        if (!device->enabled) return fail(req, 403, "forbidden", "this device's token is disabled on the collector");
        return std::nullopt;
    }

    // A request body's Content-Length: present (411), a number (400), at most `max` (413).
    std::optional<http::Response> refuse_length(http::Request& req, const char* what, std::uint64_t max,
                                                const char* limit_name, const char* advice) {
        if (!req.count("content-length"))
            return fail(req, 411, "length_required", std::string("send ") + what + " with a Content-Length (not chunked)");
        const std::string length_text = req.header("content-length");
        std::uint64_t length = 0;
        auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
        if (ec != std::errc() || end != length_text.data() + length_text.size() || length_text.empty())
            return fail(req, 400, "invalid_body", "Content-Length \"" + length_text + "\" is not a number");
        if (length > max)
            return fail(req, 413, "too_large",
                        "body: " + std::to_string(length) + " bytes, more than " + limit_name + std::to_string(max) +
                            advice);
        return std::nullopt;
    }

    // --- POST /v1/batches -------------------------------------------------------------
    // Everything that can be decided from the headers is decided before reading the
    // body, so an unauthenticated or oversize request costs nothing.
    std::optional<http::Response> batch_headers(http::Request& req) {
        if (auto refused = refuse_device(req)) return refused;
        if (auto refused = refuse_length(req, "the body", config.limits.max_body_bytes, "the limit of ", "; split the batch"))
            return refused;
        const std::string encoding = req.header("content-encoding");
        if (encoding != "gzip" && !encoding.empty())
            return fail(req, 415, "unsupported_encoding", "Content-Encoding \"" + encoding + "\": send gzip");
        return std::nullopt;
    }

    http::Response batch(http::Request& req) {
        Batch parsed;
        // Decoding what the client sent: every failure here is the client's (4xx). The body
        // is as it came off the wire; read_batch gunzips it (trailer checked) and reads it
        // (batch_reader.hpp: simdjson for a well-formed body, parse_batch for the rest).
        try {
            // (The field rules refuse a NUL anywhere, which PostgreSQL's text cannot hold.)
            parsed = read_batch(req.body, req.header("content-encoding"), config.limits);
            // Sealed answers are opened on arrival and stored clear (PROTOCOL.md, "Sealed answers").
            if (has_sealed(parsed)) open_sealed(parsed, config.seal_keys, config.limits);
        } catch (const ProtocolError& e) {
            return fail(req, e.status(), e.code(), e.what());
        } catch (const nlohmann::json::exception& e) {
            return fail(req, 400, "invalid_body", std::string("the body could not be read as a batch: ") + e.what());
        } catch (const std::exception& e) {
            return fail(req, 400, "invalid_body", std::string("the body could not be read: ") + e.what());
        }
        StoreOutcome outcome;
        try {
            outcome = storage->store(parsed, req.principal, batch_identity(parsed));
        } catch (const StorageUnavailable& e) {
            http::Response r = fail(req, 503, "unavailable", std::string("the database is unavailable: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        } catch (const std::exception& e) {
            return fail(req, 500, "internal", std::string("the database refused the batch: ") + e.what());
        }
        // (The batch's health was kept in its transaction: Storage::store.)
        if (outcome.status == 409)
            return fail(req, 409, "batch_conflict",
                        "batch_id " + parsed.batch_id +
                            " was received before with a different body; send these responses under a new batch id");
        log_request(req, 200,
                    "batch=" + parsed.batch_id + " stored=" + std::to_string(outcome.reply.stored.size()) +
                        " duplicate=" + std::to_string(outcome.reply.duplicate.size()));
        return json_reply(200, encode_reply(outcome.reply));
    }

    // --- GET /v1/bundle (sync/PROTOCOL.md "Survey bundles") ------------------------------
    // The kiosk says what it has (have), runs (running), the version it refused for good
    // (refused), its site and its last bundle error; the collector keeps the report per
    // device and answers 304 or the newest bundle for that site above max(have, refused).
    struct BundleQuery {
        std::int64_t have = 0, running = 0, refused = 0;
        std::string site, error;
    };
    std::optional<BundleQuery> bundle_query(const http::Request& req, std::string& why) {
        BundleQuery q;
        bool have = false, running = false;
        auto integer = [&](const std::string& name, const std::string& v, std::int64_t& out) {
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 0 || n > 1'000'000'000) {
                why = name + "=\"" + http::printable(v) + "\" is not an integer 0 … 1000000000";
                return false;
            }
            out = n;
            return true;
        };
        std::set<std::string> seen;
        for (const auto& [k, v] : req.query) {
            if (!seen.insert(k).second) {
                why = "the parameter " + http::printable(k) + " is given twice";
                return std::nullopt;
            }
            if (k == "have") {
                if (!integer(k, v, q.have)) return std::nullopt;
                have = true;
            } else if (k == "running") {
                if (!integer(k, v, q.running)) return std::nullopt;
                running = true;
            } else if (k == "refused") {
                if (!integer(k, v, q.refused)) return std::nullopt;
            } else if (k == "site" || k == "error") {
                const std::size_t max = k == "site" ? 200 : 2000;
                if (v.size() > max || http::printable(v) != v) {
                    why = k + " must be one line of at most " + std::to_string(max) + " bytes";
                    return std::nullopt;
                }
                (k == "site" ? q.site : q.error) = v;
            } else {
                why = "unknown parameter " + http::printable(k) + " (have, running, refused, site, error)";
                return std::nullopt;
            }
        }
        if (!have) {
            why = "have=N (the newest bundle version the kiosk holds, 0 for none) is required";
            return std::nullopt;
        }
        if (!running) q.running = q.have;
        return q;
    }

    std::optional<http::Response> bundle_headers(http::Request& req) {
        if (auto refused = refuse_device(req)) return refused;
        std::string why;
        if (!bundle_query(req, why)) return fail(req, 400, "invalid_query", why);
        return std::nullopt;
    }

    http::Response bundle(http::Request& req) {
        std::string why;
        const BundleQuery q = *bundle_query(req, why);
        try {
            storage->record_bundle_report(req.principal, q.site, q.running, q.error, iso8601_utc(now_ms()));
            auto found = storage->bundle_for(q.site, std::max(q.have, q.refused));
            if (!found) {
                log_request(req, 304, "have=" + std::to_string(q.have) + (q.error.empty() ? "" : " error=" + q.error));
                http::Response r;
                r.status = 304;
                r.content_type.clear();
                return r;
            }
            log_request(req, 200, "have=" + std::to_string(q.have) + " sent=" + std::to_string(found->first) +
                                      (q.error.empty() ? "" : " error=" + q.error));
            http::Response r;
            r.status = 200;
            r.content_type = "application/vnd.kohtaamo.bundle";
            r.body = std::move(found->second);
            r.headers.emplace_back("Kohtaamo-Bundle-Version", std::to_string(found->first));
            return r;
        } catch (const StorageUnavailable& e) {
            http::Response r = fail(req, 503, "unavailable", std::string("the database is unavailable: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
    }

    // --- PUT /v1/surveys/<sha256> (sync/PROTOCOL.md "Survey definitions") ------------------
    // A survey definition (the survey file's text) a kiosk's responses were answered with,
    // named by its SHA-256. Idempotent: the same definition again is 200 with stored=false.
    std::optional<http::Response> survey_headers(http::Request& req) {
        if (auto refused = refuse_device(req)) return refused;
        const std::string_view hash = std::string_view(req.path).substr(kSurveysPrefix.size());
        if (!is_sha256_hex(hash))
            return fail(req, 400, "invalid_hash",
                        "the path must end in the definition's SHA-256 (64 lowercase hex digits), not \"" +
                            http::printable(std::string(hash.substr(0, 80))) + "\"");
        if (auto refused = refuse_length(req, "the definition", kMaxDefinitionBytes, "a survey definition's limit of ", ""))
            return refused;
        const std::string encoding = req.header("content-encoding");
        if (!encoding.empty() && encoding != "identity")
            return fail(req, 415, "unsupported_encoding",
                        "Content-Encoding \"" + encoding + "\": send the definition uncompressed");
        return std::nullopt;
    }

    http::Response survey(http::Request& req) {
        const std::string hash = req.path.substr(kSurveysPrefix.size());
        const std::string& body = req.body;
        if (sha256_hex(body) != hash)
            return fail(req, 400, "hash_mismatch",
                        "the body's SHA-256 is " + sha256_hex(body) + ", not the " + hash + " the path names");
        if (auto at = utf8_invalid_at(body))
            return fail(req, 400, "invalid_definition", "body: is not valid UTF-8 (byte " + std::to_string(*at) + ")");
        if (body.find('\0') != std::string::npos)
            return fail(req, 400, "invalid_definition", "body: holds a NUL byte");
        Survey s;
        try {
            s = parse_survey_definition(body, "survey", "fi");
        } catch (const ConfigError& e) {
            return fail(req, 400, "invalid_definition", std::string("not a survey definition: ") + e.what());
        }
        try {
            const bool stored = storage->store_survey_definition(hash, s.id, s.version, body, "device " + req.principal,
                                                                 iso8601_utc(now_ms()));
            log_request(req, 200, "survey=" + s.id + " version=" + std::to_string(s.version) +
                                      (stored ? " stored" : " known"));
            return json_reply(200, json{{"protocol", kProtocolVersion},
                                        {"hash", hash},
                                        {"survey_id", s.id},
                                        {"survey_version", s.version},
                                        {"stored", stored}}
                                       .dump());
        } catch (const StorageUnavailable& e) {
            http::Response r = fail(req, 503, "unavailable", std::string("the database is unavailable: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
    }

    // --- POST /v1/heartbeat ---------------------------------------------------------------
    // The headers were checked as for a batch (token, length, encoding).
    http::Response heartbeat(http::Request& req) {
        Heartbeat beat;
        try {
            beat = read_heartbeat_body(req.body, req.header("content-encoding"), config.limits);
        } catch (const ProtocolError& e) {
            return fail(req, e.status(), e.code(), e.what());
        } catch (const std::exception& e) {
            return fail(req, 400, "invalid_body", std::string("the body could not be read as a heartbeat: ") + e.what());
        }
        try {
            storage->record_health(beat.device_id, req.principal, beat.health, now_ms());
        } catch (const StorageUnavailable& e) {
            http::Response r = fail(req, 503, "unavailable", std::string("the database is unavailable: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        } catch (const std::exception& e) {
            return fail(req, 500, "internal", std::string("the database refused the heartbeat: ") + e.what());
        }
        log_request(req, 204, "heartbeat");
        http::Response r;
        r.status = 204;
        return r;
    }

    // --- GET /v1/health, GET /v1/device ---------------------------------------------------
    http::Response health() {
        try {
            storage->check();
            return json_reply(200, json{{"status", "ok"}, {"protocol", kProtocolVersion}}.dump());
        } catch (const std::exception& e) {
            http::Response r = error_reply(503, "unavailable", std::string("the database cannot be used: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
    }

    // A kiosk's enrolment check: is this token one the collector accepts for uploads?
    // Answered from the token lists in memory: costs no database.
    http::Response device(http::Request& req) {
        if (auto refused = refuse_device(req)) return *refused;
        log_request(req, 200, "ok");
        json reply = {{"protocol", kProtocolVersion}, {"device", req.principal}};
        // The survey bundles' public key, for kohtaamo-enroll (it trusts this reply: its TLS
        // and the token were verified).
        if (!config.bundle_public_key.empty()) reply["bundle_key"] = config.bundle_public_key;
        return json_reply(200, reply.dump());
    }

    // --- GET /v1/export -------------------------------------------------------------------
    // The query names are kohtaamo-export's options without the dashes, read into the
    // same ExportRequest and checked by the same make_export_options (kiosk/export). The
    // export is written by export_to_folder from a snapshot of the storage into a fresh
    // folder, the one file is opened, the folder removed (the open file stays readable
    // until it is closed), and the file is sent from its descriptor: a big export never
    // sits in memory, and nothing is left behind if the client goes away.
    ExportOptions export_options_of(const http::Request& req) {
        return config.export_options(export_request_of(req.query), now_ms());
    }

    std::optional<http::Response> export_headers(http::Request& req) {
        auto exporter = token_in(req, true);
        if (!exporter) {
            http::Response r = fail(req, 401, "unauthorized",
                                    "missing or unknown export token: GET /v1/export takes a token from the collector's "
                                    "[[export_token]] list (`kohtaamo-collector token --export NAME`), not a kiosk's");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kohtaamo-export\"");
            return r;
        }
        req.principal = exporter->name;
        if (!exporter->enabled) return fail(req, 403, "forbidden", "this export token is disabled on the collector");
        try {
            export_options_of(req);
        } catch (const BadParameter& e) {
            return fail(req, 400, "invalid_parameter", e.what());
        } catch (const ExportRequestError& e) {
            return fail(req, 400, "invalid_parameter", e.what());
        }
        return std::nullopt;
    }

    // A download from the web page: GET /v1/export's parameters, checked as there.
    http::Response web_export(http::Request& req) {
        try {
            export_options_of(req);
        } catch (const BadParameter& e) {
            return fail(req, 400, "invalid_parameter", e.what());
        } catch (const ExportRequestError& e) {
            return fail(req, 400, "invalid_parameter", e.what());
        }
        return export_file(req);
    }

    http::Response export_file(http::Request& req) {
        const ExportOptions options = export_options_of(req);  // checked in export_headers
        // A few exports at a time across every instance: the rest stays free for uploads.
        const std::string holder = std::to_string(::getpid()) + "/" + std::to_string(++exports_here);
        constexpr std::chrono::seconds ttl{120};
        std::optional<ExportSlot> slot;
        try {
            slot = storage->take_export_slot(holder, kMaxConcurrentExports, ttl);
        } catch (const StorageUnavailable& e) {
            http::Response r = fail(req, 503, "unavailable", std::string("the database is unavailable: ") + e.what());
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
        if (!slot) {
            http::Response r = fail(req, 503, "unavailable",
                                    std::to_string(kMaxConcurrentExports) +
                                        " exports are running already; try again in a moment");
            r.headers.emplace_back("Retry-After", "30");
            return r;
        }
        struct Release {
            Storage& s;
            const ExportSlot& slot;
            ~Release() {
                try {
                    s.release_export_slot(slot);
                } catch (...) {
                }
            }
        } release{*storage, *slot};

        std::string folder_template = (config.export_work_dir / kExportFolderPrefix).string() +
                                      std::to_string(::getpid()) + "-XXXXXX";
        if (!::mkdtemp(folder_template.data()))
            return fail(req, 500, "export_failed",
                        "cannot make a folder for the export in " + config.export_work_dir.string() + ": " +
                            std::strerror(errno));
        const std::filesystem::path folder = folder_template;
        auto remove_folder = [&] {
            std::error_code ec;
            std::filesystem::remove_all(folder, ec);
        };
        ExportResult result;
        try {
            auto snapshot = storage->export_snapshot();
            auto renewed = std::chrono::steady_clock::now();
            result = export_to_folder(*snapshot, config.surveys, folder, options, [&](std::uint64_t, std::uint64_t) {
                if (std::chrono::steady_clock::now() - renewed > ttl / 4) {
                    renewed = std::chrono::steady_clock::now();
                    try {
                        storage->renew_export_slot(*slot, ttl);
                    } catch (...) {
                    }
                }
                return true;
            });
        } catch (const ExportDatabaseError& e) {
            result.status = ExportStatus::DatabaseError;
            result.message = e.what();
        }
        if (!result.ok() || result.files.size() != 1) {
            remove_folder();
            return fail(req, 500, "export_failed",
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
            return fail(req, 500, "export_failed", "cannot read the export back: " + why);
        }
        remove_folder();  // the open file stays readable until it is closed

        http::Response r;
        r.status = 200;
        r.content_type = content_type_of(options);
        r.file = fd;
        r.file_size = static_cast<std::uint64_t>(st.st_size);
        r.headers = {{"Content-Disposition", content_disposition(file.filename().string())},
                     {"Cache-Control", "no-store"},
                     {"X-Kohtaamo-Responses", std::to_string(result.responses)},
                     {"X-Kohtaamo-Answers", std::to_string(result.answers)},
                     {"X-Kohtaamo-Withheld", std::to_string(result.withheld)}};
        log_request(req, 200,
                    file.filename().string() + " responses=" + std::to_string(result.responses) +
                        " answers=" + std::to_string(result.answers) + " bytes=" + std::to_string(st.st_size));
        return r;
    }
};

Collector::Collector(CollectorConfig config) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    if (sodium_init() < 0) throw std::runtime_error("collector: libsodium cannot initialise");
    s.config = std::move(config);
    s.storage = Storage::open(s.config.database);
    remove_stale_export_folders(s.config.export_work_dir);
    s.web = std::make_unique<Web>(
        s.config, *s.storage, [&s](http::Request& req) { return s.web_export(req); },
        [&s](const http::Request& req, int status, const std::string& detail) { s.log_request(req, status, detail); });
    s.publish({s.config.devices, s.config.export_tokens});
    s.refresher = std::thread([&s] {
        std::unique_lock lock(s.refresher_mutex);
        while (!s.refresher_cv.wait_for(lock, std::chrono::seconds(1), [&] { return s.stopping; })) {
            lock.unlock();
            s.refresh_tokens();
            lock.lock();
        }
    });
}

Collector::~Collector() {
    stop();
    {
        std::lock_guard lock(impl_->refresher_mutex);
        impl_->stopping = true;
    }
    impl_->refresher_cv.notify_all();
    if (impl_->refresher.joinable()) impl_->refresher.join();
}

int Collector::bind() {
    Impl& s = *impl_;
    http::Options o;
    o.listen = s.config.listen;
    o.port = s.config.port;
    o.workers = s.config.threads;
    o.max_body = s.config.limits.max_body_bytes;
    o.header_timeout = std::chrono::seconds(s.config.server.header_timeout_seconds);
    o.body_timeout = std::chrono::seconds(s.config.server.body_timeout_seconds);
    o.read_timeout = std::chrono::seconds(s.config.server.read_timeout_seconds);
    o.max_connections = s.config.server.max_connections;
    s.server = std::make_unique<http::Server>(o, s);
    port_ = s.server->bind();
    return port_;
}

bool Collector::serve() {
    if (!impl_->server) bind();
    impl_->server->start();
    impl_->server->wait();
    return true;
}

int Collector::start() {
    const int port = bind();
    impl_->server->start();
    return port;
}

void Collector::stop() {
    if (impl_->server) impl_->server->stop();
}

void Collector::set_devices(std::vector<DeviceToken> devices) {
    CollectorTokens t;
    {
        std::shared_lock lock(impl_->tokens_mutex);
        t.export_tokens = impl_->tokens.export_tokens;
    }
    t.devices = std::move(devices);
    impl_->publish(t);
}

void Collector::set_export_tokens(std::vector<DeviceToken> export_tokens) {
    CollectorTokens t;
    {
        std::shared_lock lock(impl_->tokens_mutex);
        t.devices = impl_->tokens.devices;
    }
    t.export_tokens = std::move(export_tokens);
    impl_->publish(t);
}

void Collector::set_tokens(const CollectorTokens& tokens) { impl_->publish(tokens); }

void Collector::set_log(std::function<void(const std::string&)> log) {
    std::lock_guard lock(impl_->log_mutex);
    impl_->log_to = std::move(log);
}

Storage& Collector::storage() { return *impl_->storage; }

}  // namespace kohtaamo::sync
