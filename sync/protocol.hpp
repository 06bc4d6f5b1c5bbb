// protocol.hpp — the sync wire protocol, shared by the uploader (kiosk) and the collector.
// sync/PROTOCOL.md is the written specification; this file is its one implementation:
// the message types, their JSON form, the strict JSON reader and the field rules (applied
// by the collector to what it receives and by the uploader to what it sends), gzip, and
// device tokens. Nothing a client sends makes it throw anything but ProtocolError.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kohtaamo {
class SealKeyring;  // seal.hpp
}

namespace kohtaamo::sync {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::int64_t kMaxSurveyVersion = 1'000'000'000;
inline constexpr std::size_t kMaxLanguageBytes = 16;
inline constexpr const char* kBatchesPath = "/v1/batches";
inline constexpr const char* kHealthPath = "/v1/health";
// The enrolment check: a kiosk's token → 200 {"protocol":1,"device":"<name>"}, 401, 403.
inline constexpr const char* kDevicePath = "/v1/device";
// A kiosk with nothing to send: {"protocol":1,"device_id":...,"health":{...}} → 204.
inline constexpr const char* kHeartbeatPath = "/v1/heartbeat";
// PUT /v1/surveys/<hash>: a survey definition a kiosk's responses were answered with.
inline constexpr std::string_view kSurveysPrefix = "/v1/surveys/";
inline constexpr std::size_t kMaxDefinitionBytes = 1 << 20;

struct Answer {
    std::string question_id;
    std::string value;  // the clear value ("" while `sealed` holds it)
    std::string answered_at;
    // A sealed answer (PROTOCOL.md, "Sealed answers"): "k1:BASE64", the key id and the
    // sealed box of the value; "" for a clear one. open_sealed() opens it into `value`.
    std::string sealed = {};
};

// One finished response, with the same fields as the kiosk's `responses` row.
struct Response {
    std::string id;
    std::string survey_id;
    std::int64_t survey_version = 0;
    std::string language;
    std::string status;  // "complete" or "abandoned"
    std::string started_at;
    std::string finished_at;  // empty: unknown (JSON null)
    std::string site;
    std::string event;
    bool flagged = false;
    std::vector<Answer> answers;
    // The SHA-256 (64 lowercase hex digits) of the survey definition it was answered with;
    // empty: not sent (optional in protocol 1: a kiosk from before it, or a definition the
    // collector has not acknowledged; PROTOCOL.md, "Survey definitions").
    std::string survey_hash = {};
};

// The kiosk's health, sent with every batch and in POST /v1/heartbeat (PROTOCOL.md,
// "Health"). Optional in a batch: a kiosk from before it sends none.
struct Health {
    std::string app_version;
    std::int64_t bundle_version = 0;  // 0: the config installed with the package
    std::string config_version;       // may be empty
    std::int64_t pending = 0;
    std::int64_t oldest_pending_age_s = 0;
    std::int64_t free_disk_bytes = 0;
    std::int64_t uptime_s = 0;
    std::string last_error;
};

struct Batch {
    std::string batch_id;
    std::string device_id;
    std::vector<Response> responses;
    std::optional<Health> health;  // not part of the batch's identity (a resend may carry newer health)
};

// POST /v1/heartbeat: a kiosk with nothing to send says it is alive.
struct Heartbeat {
    std::string device_id;
    Health health;
};
nlohmann::json to_json(const Health& h);
// Reads and checks a "health" object (400 naming the field under `where`).
Health decode_health(const nlohmann::json& j, const std::string& where);
std::string encode_heartbeat(const Heartbeat& h);

// What the collector accepts. Both ends know the defaults; a collector may lower them and
// says so with 413.
struct Limits {
    std::size_t max_body_bytes = 4 << 20;           // the request body as sent (gzip)
    std::size_t max_uncompressed_bytes = 16 << 20;  // the JSON after gunzip
    std::size_t max_responses = 1000;               // per batch
    std::size_t max_answers = 1000;                 // per response
    std::size_t max_value_bytes = 16 << 10;         // one answer's value (free text)
    std::size_t max_text_bytes = 200;               // site, event, language, ids
};

// A request the collector refuses: `status` is the HTTP status (400, 413), `code` the
// machine-readable reason, and the message names the field ("responses[3].answers[0].value").
class ProtocolError : public std::runtime_error {
public:
    ProtocolError(int status, std::string code, const std::string& message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }

private:
    int status_;
    std::string code_;
};

nlohmann::json to_json(const Response& r);
nlohmann::json to_json(const Batch& b);
// The request body before gzip. Deterministic: the same batch always gives the same bytes.
std::string encode_batch(const Batch& b);

// Parses JSON text strictly: refuses (400 invalid_json, naming the field) invalid UTF-8 in
// keys and values, a key twice in one object at any depth, an integer beyond 64 bits or a
// number beyond a double's range (1e400), nesting deeper than 8 levels, and anything that
// is not JSON. Never throws anything but ProtocolError.
nlohmann::json parse_json(std::string_view text);
// The (already gunzipped) JSON text of a request, read by parse_json()'s rules and every
// field checked against `limits` (400 or 413 naming the field); throws ProtocolError.
Batch parse_batch(std::string_view json_text, const Limits& limits);
// The JSON text of a request body exactly as it came off the wire, with its
// Content-Encoding ("gzip", or "" / "identity" for plain JSON; anything else is 415):
// gunzipped (trailer and all checked; 413 past max_uncompressed_bytes). Throws ProtocolError.
std::string body_text(std::string_view raw, std::string_view content_encoding, const Limits& limits);
// A POST /v1/batches body exactly as it came off the wire, with its Content-Encoding
// ("gzip", or "" / "identity" for plain JSON; anything else is 415): gunzip() (trailer and
// all checked; 413 past max_uncompressed_bytes), then parse_batch(). What the collector's
// HTTP layer calls with the raw body, never one its HTTP library inflated.
Batch read_batch_body(std::string_view raw, std::string_view content_encoding, const Limits& limits);
// A heartbeat body (plain JSON, or gzip as for batches).
Heartbeat read_heartbeat_body(std::string_view raw, std::string_view content_encoding, const Limits& limits);

// The field rules of PROTOCOL.md for one response (UTF-8, lengths, control characters,
// UUID, status, calendar-valid times, duplicate answers): the collector applies them to
// what it received, the uploader to what it is about to send. Throws ProtocolError naming
// the field under `where` ("responses[3]" → "responses[3].answers[0].value: ...").
void validate_response(const Response& r, const Limits& limits, const std::string& where);
// The same, as a message ("answers[0].value: is not valid UTF-8 (byte 4)"), or nullopt.
std::optional<std::string> response_problem(const Response& r, const Limits& limits);

// Opens every sealed answer of `b` with the keys held (the collector, on arrival, and
// `kohtaamo-collector import`), then applies the field rules to the clear values. A key id
// not in `keys` is 422 unknown_seal_key naming it; a box that does not open with its key
// is 400 invalid_body naming the answer. Does nothing to a batch without sealed answers.
void open_sealed(Batch& b, const SealKeyring& keys, const Limits& limits);
bool has_sealed(const Batch& b);

// The collector's 200 reply: which of the batch's responses it stored now and which it
// already had. Both lists mean "the collector holds it".
struct Reply {
    std::string batch_id;
    std::vector<std::string> stored;
    std::vector<std::string> duplicate;
};
std::string encode_reply(const Reply& r);
// Accepts only a body that is a protocol reply echoing `batch_id`; anything else (a
// captive portal's page, a proxy's error) gives nullopt and the reason in `why`.
std::optional<Reply> decode_reply(std::string_view body, const std::string& batch_id, std::string& why);

// An error body: {"protocol":1,"error":code,"message":message}.
std::string encode_error(const std::string& code, const std::string& message);
// The error code and message of an error body, or empty strings when it is not one.
std::pair<std::string, std::string> decode_error(std::string_view body);

// The deflate level of every body this code compresses. 3, not zlib's default 6: on a
// kiosk's batch of 200 responses (110 KB of JSON) level 6 spends 4.0 µs per response for
// 11,900 bytes, level 3 1.1 µs for 13,300 (docs/performance.md, "Sync").
inline constexpr int kGzipLevel = 3;
// gzip (RFC 1952) of `data`.
std::string gzip(std::string_view data, int level = kGzipLevel);
// One gzip member written in parts: add() compresses what it is given as it goes,
// finish() compresses the last part, adds the trailer and returns the whole member (once).
// The uploader compresses a batch's body but its closing brace, then the health that
// closes it, without joining the two first (uploader.cpp, "WINDOW").
class GzipWriter {
public:
    explicit GzipWriter(int level = kGzipLevel);
    ~GzipWriter();
    GzipWriter(GzipWriter&&) noexcept;
    GzipWriter& operator=(GzipWriter&&) noexcept;
    void add(std::string_view data);
    std::string finish(std::string_view last = {});

private:
    struct State;
    std::unique_ptr<State> s_;
};
// Inflates one gzip member (RFC 1952); throws ProtocolError 400 invalid_gzip on a corrupt
// stream, one that ends early (cut off, or without its 8-byte trailer: the CRC-32 and the
// length are always checked), a zlib or raw deflate stream, and bytes after the member;
// 413 when the output would pass `max_out` bytes.
std::string gunzip(std::string_view data, std::size_t max_out);

// Device tokens: 32 random bytes as 64 hex digits. The collector keeps only
// "blake2b:" + hex(BLAKE2b-256(token)); see PROTOCOL.md for why a fast hash is right here.
std::string new_token();
std::string hash_token(std::string_view token);
// A key pair for sealed answers (docs/security.md, "Keys"; kiosk/core/seal.hpp): X25519 (crypto_box_keypair), each half written "ID:BASE64" (standard Base64) —
// the public half for a kiosk's [privacy] seal_to, the secret half for the collector.
struct SealKeyPair {
    std::string public_key;  // "k1:BASE64"
    std::string secret_key;  // "k1:BASE64"
};
// `id`: 1 to 16 letters, digits, '-' or '_'; throws std::invalid_argument otherwise.
SealKeyPair new_seal_keypair(const std::string& id);

// The bundled demo token (config/kiosk.toml, config/collector.toml's "demo" device): public
// in this repository. A kiosk or collector that uses it says so loudly at start.
inline constexpr std::string_view kDemoToken = "demo-token-change-me";
inline constexpr const char* kDemoTokenWarning =
    "DEMO TOKEN: the bundled demo token \"demo-token-change-me\" is in use, and anyone can read it. Make a real one "
    "per kiosk with `kohtaamo-collector token NAME` (its token_hash into collector.toml, the token into the kiosk "
    "with kohtaamo-enroll) and remove the demo device (docs/security.md)";
// Constant-time comparison of two hashes.
bool hashes_equal(const std::string& a, const std::string& b);

bool is_uuid(std::string_view s);
bool is_sha256_hex(std::string_view s);  // 64 lowercase hex digits
bool is_timestamp(std::string_view s);  // 2026-11-25T19:55:49.123Z: parse_iso8601_utc (kiosk/core/clock.hpp)

}  // namespace kohtaamo::sync
