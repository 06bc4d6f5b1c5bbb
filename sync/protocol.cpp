#include "protocol.hpp"

#include <algorithm>
#include <mutex>
#include <set>

#include <sodium.h>
#include <zlib.h>

namespace kohtaamo::sync {

using nlohmann::json;

namespace {

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "true/false";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        case json::value_t::number_float: return "a number with a fraction";
        default: return "something else";
    }
}

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
    throw ProtocolError(400, "invalid_body", field + ": " + problem);
}

const json& member(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) bad(where.empty() ? key : where + "." + key, "missing");
    return *it;
}

std::string path(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

void only_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
        if (!ok) bad(path(where, it.key().c_str()), "unknown field (protocol version " +
                                                        std::to_string(kProtocolVersion) + ")");
    }
}

bool has_control_chars(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t'; });
}

std::string string_at(const json& obj, const char* key, const std::string& where, std::size_t max_bytes,
                      bool allow_empty, bool allow_newlines = false) {
    const json& v = member(obj, key, where);
    if (!v.is_string()) bad(path(where, key), std::string("must be a string, not ") + type_name(v));
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() > max_bytes)
        bad(path(where, key), "is " + std::to_string(s.size()) + " bytes long, more than the limit of " +
                                  std::to_string(max_bytes));
    if (!allow_empty && s.empty()) bad(path(where, key), "must not be empty");
    if (!allow_newlines && has_control_chars(s)) bad(path(where, key), "must not contain control characters");
    return s;
}

std::string uuid_at(const json& obj, const char* key, const std::string& where) {
    std::string s = string_at(obj, key, where, 64, false);
    if (!is_uuid(s)) bad(path(where, key), "\"" + s + "\" is not a UUID (8-4-4-4-12 lowercase hex digits)");
    return s;
}

std::string timestamp_at(const json& obj, const char* key, const std::string& where) {
    std::string s = string_at(obj, key, where, 64, false);
    if (!is_timestamp(s)) bad(path(where, key), "\"" + s + "\" is not an ISO 8601 UTC time like 2026-11-25T19:55:49.123Z");
    return s;
}

const json& array_at(const json& obj, const char* key, const std::string& where, std::size_t min_items,
                     std::size_t max_items, int too_many_status) {
    const json& v = member(obj, key, where);
    if (!v.is_array()) bad(path(where, key), std::string("must be an array, not ") + type_name(v));
    if (v.size() < min_items) bad(path(where, key), "must have at least " + std::to_string(min_items) + " item(s)");
    if (v.size() > max_items) {
        std::string msg = path(where, key) + ": has " + std::to_string(v.size()) + " items, more than the limit of " +
                          std::to_string(max_items);
        throw ProtocolError(too_many_status, too_many_status == 413 ? "too_large" : "invalid_body", msg);
    }
    return v;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

bool is_timestamp(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fff]Z
    static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
    if (s.size() < shape.size() + 1 || s.size() > shape.size() + 11 || s.back() != 'Z') return false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i]) return false;
    }
    std::string_view rest = s.substr(shape.size(), s.size() - shape.size() - 1);
    if (!rest.empty()) {
        if (rest[0] != '.' || rest.size() < 2) return false;
        if (!std::all_of(rest.begin() + 1, rest.end(), is_digit)) return false;
    }
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    int hour = (s[11] - '0') * 10 + (s[12] - '0');
    int minute = (s[14] - '0') * 10 + (s[15] - '0');
    int second = (s[17] - '0') * 10 + (s[18] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

json to_json(const Response& r) {
    json answers = json::array();
    for (const auto& a : r.answers)
        answers.push_back({{"question_id", a.question_id}, {"value", a.value}, {"answered_at", a.answered_at}});
    return {{"id", r.id},
            {"survey_id", r.survey_id},
            {"survey_version", r.survey_version},
            {"language", r.language},
            {"status", r.status},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at.empty() ? json() : json(r.finished_at)},
            {"site", r.site},
            {"event", r.event},
            {"flagged", r.flagged},
            {"answers", std::move(answers)}};
}

json to_json(const Batch& b) {
    json responses = json::array();
    for (const auto& r : b.responses) responses.push_back(to_json(r));
    return {{"protocol", kProtocolVersion},
            {"batch_id", b.batch_id},
            {"device_id", b.device_id},
            {"responses", std::move(responses)}};
}

std::string encode_batch(const Batch& b) { return to_json(b).dump(); }

Batch decode_batch(const json& body, const Limits& limits) {
    if (!body.is_object()) bad("body", std::string("must be a JSON object, not ") + type_name(body));
    // The version first: a body from a newer protocol may differ in everything else.
    const json& version = member(body, "protocol", "");
    if (!version.is_number_integer()) bad("protocol", std::string("must be an integer, not ") + type_name(version));
    if (version.get<std::int64_t>() != kProtocolVersion)
        throw ProtocolError(400, "unsupported_protocol",
                            "protocol: version " + version.dump() + " is not supported; this collector speaks version " +
                                std::to_string(kProtocolVersion));
    only_keys(body, {"protocol", "batch_id", "device_id", "responses"}, "");
    Batch b;
    b.batch_id = uuid_at(body, "batch_id", "");
    b.device_id = uuid_at(body, "device_id", "");
    const json& responses = array_at(body, "responses", "", 1, limits.max_responses, 413);
    std::set<std::string> seen;
    b.responses.reserve(responses.size());
    for (std::size_t i = 0; i < responses.size(); ++i) {
        const std::string where = "responses[" + std::to_string(i) + "]";
        const json& rj = responses[i];
        if (!rj.is_object()) bad(where, std::string("must be an object, not ") + type_name(rj));
        only_keys(rj, {"id", "survey_id", "survey_version", "language", "status", "started_at", "finished_at", "site",
                       "event", "flagged", "answers"},
                  where);
        Response r;
        r.id = uuid_at(rj, "id", where);
        if (!seen.insert(r.id).second) bad(where + ".id", "\"" + r.id + "\" appears twice in the batch");
        r.survey_id = string_at(rj, "survey_id", where, limits.max_text_bytes, false);
        const json& ver = member(rj, "survey_version", where);
        if (!ver.is_number_integer())
            bad(where + ".survey_version", std::string("must be an integer, not ") + type_name(ver));
        r.survey_version = ver.get<std::int64_t>();
        if (r.survey_version < 0 || r.survey_version > 1'000'000'000)
            bad(where + ".survey_version", "must be between 0 and 1000000000");
        r.language = string_at(rj, "language", where, 16, false);
        r.status = string_at(rj, "status", where, 16, false);
        if (r.status != "complete" && r.status != "abandoned")
            bad(where + ".status", "\"" + r.status + "\" is not a finished status (complete, abandoned)");
        r.started_at = timestamp_at(rj, "started_at", where);
        if (!member(rj, "finished_at", where).is_null()) r.finished_at = timestamp_at(rj, "finished_at", where);
        r.site = string_at(rj, "site", where, limits.max_text_bytes, true);
        r.event = string_at(rj, "event", where, limits.max_text_bytes, true);
        const json& flagged = member(rj, "flagged", where);
        if (!flagged.is_boolean()) bad(where + ".flagged", std::string("must be true or false, not ") + type_name(flagged));
        r.flagged = flagged.get<bool>();
        const json& answers = array_at(rj, "answers", where, 0, limits.max_answers, 400);
        std::set<std::pair<std::string, std::string>> answer_keys;
        r.answers.reserve(answers.size());
        for (std::size_t k = 0; k < answers.size(); ++k) {
            const std::string aw = where + ".answers[" + std::to_string(k) + "]";
            const json& aj = answers[k];
            if (!aj.is_object()) bad(aw, std::string("must be an object, not ") + type_name(aj));
            only_keys(aj, {"question_id", "value", "answered_at"}, aw);
            Answer a;
            a.question_id = string_at(aj, "question_id", aw, limits.max_text_bytes, false);
            a.value = string_at(aj, "value", aw, limits.max_value_bytes, true, true);
            a.answered_at = timestamp_at(aj, "answered_at", aw);
            if (!answer_keys.emplace(a.question_id, a.value).second)
                bad(aw, "the same question_id and value appear twice");
            r.answers.push_back(std::move(a));
        }
        b.responses.push_back(std::move(r));
    }
    return b;
}

Batch parse_batch(std::string_view json_text, const Limits& limits) {
    json body;
    try {
        body = json::parse(json_text.begin(), json_text.end());
    } catch (const json::parse_error& e) {
        throw ProtocolError(400, "invalid_json", std::string("body is not valid JSON: ") + e.what());
    }
    return decode_batch(body, limits);
}

std::string encode_reply(const Reply& r) {
    return json{{"protocol", kProtocolVersion}, {"batch_id", r.batch_id}, {"stored", r.stored}, {"duplicate", r.duplicate}}
        .dump();
}

std::optional<Reply> decode_reply(std::string_view body, const std::string& batch_id, std::string& why) {
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        why = "the reply is not the collector's (not a JSON object; a captive portal or proxy?)";
        return std::nullopt;
    }
    auto version = j.find("protocol");
    if (version == j.end() || !version->is_number_integer() || version->get<std::int64_t>() != kProtocolVersion) {
        why = "the reply is not the collector's (no protocol version " + std::to_string(kProtocolVersion) + ")";
        return std::nullopt;
    }
    auto id = j.find("batch_id");
    if (id == j.end() || !id->is_string() || id->get<std::string>() != batch_id) {
        why = "the reply does not echo batch id " + batch_id;
        return std::nullopt;
    }
    Reply r;
    r.batch_id = batch_id;
    for (const char* key : {"stored", "duplicate"}) {
        auto list = j.find(key);
        if (list == j.end() || !list->is_array()) {
            why = std::string("the reply has no \"") + key + "\" list";
            return std::nullopt;
        }
        auto& out = std::string_view(key) == "stored" ? r.stored : r.duplicate;
        for (const auto& v : *list) {
            if (!v.is_string()) {
                why = std::string("the reply's \"") + key + "\" list holds something that is not an id";
                return std::nullopt;
            }
            out.push_back(v.get<std::string>());
        }
    }
    return r;
}

std::string encode_error(const std::string& code, const std::string& message) {
    return json{{"protocol", kProtocolVersion}, {"error", code}, {"message", message}}.dump();
}

std::pair<std::string, std::string> decode_error(std::string_view body) {
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return {};
    auto code = j.find("error");
    auto message = j.find("message");
    if (code == j.end() || !code->is_string()) return {};
    return {code->get<std::string>(), message != j.end() && message->is_string() ? message->get<std::string>() : ""};
}

std::string gzip(std::string_view data, int level) {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("gzip: deflateInit2 failed");
    std::string out;
    out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&z, Z_FINISH);
    std::size_t produced = out.size() - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
    out.resize(produced);
    return out;
}

std::string gunzip(std::string_view data, std::size_t max_out) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("gunzip: inflateInit2 failed");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buf[64 * 1024];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            bool truncated = rc == Z_BUF_ERROR && z.avail_in == 0;
            std::string msg = z.msg ? z.msg : "corrupt data";
            inflateEnd(&z);
            throw ProtocolError(400, "invalid_gzip",
                                truncated ? "body: the gzip stream is truncated" : "body: corrupt gzip stream: " + msg);
        }
        std::size_t produced = sizeof buf - z.avail_out;
        if (out.size() + produced > max_out) {
            inflateEnd(&z);
            throw ProtocolError(413, "too_large", "body: more than " + std::to_string(max_out) +
                                                      " bytes once decompressed");
        }
        out.append(buf, produced);
    }
    bool trailing = z.avail_in != 0;
    inflateEnd(&z);
    if (trailing) throw ProtocolError(400, "invalid_gzip", "body: data after the end of the gzip stream");
    return out;
}

namespace {
void init_sodium() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
    });
}
std::string hex(const unsigned char* p, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}
}  // namespace

std::string new_token() {
    init_sodium();
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    return hex(raw, sizeof raw);
}

std::string hash_token(std::string_view token) {
    init_sodium();
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
    return "blake2b:" + hex(h, sizeof h);
}

bool hashes_equal(const std::string& a, const std::string& b) {
    init_sodium();
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kohtaamo::sync
