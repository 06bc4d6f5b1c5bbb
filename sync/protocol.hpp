// protocol.hpp — the sync wire protocol, shared by the uploader (kiosk) and the collector.
// sync/PROTOCOL.md is the written specification; this file is its one implementation:
// the message types, their JSON form, the validation the collector applies to every field,
// gzip, and device tokens.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kohtaamo::sync {

inline constexpr int kProtocolVersion = 1;
inline constexpr const char* kBatchesPath = "/v1/batches";
inline constexpr const char* kHealthPath = "/v1/health";
// The enrolment check: a kiosk's token → 200 {"protocol":1,"device":"<name>"}, 401, 403.
inline constexpr const char* kDevicePath = "/v1/device";

struct Answer {
    std::string question_id;
    std::string value;
    std::string answered_at;
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
};

struct Batch {
    std::string batch_id;
    std::string device_id;
    std::vector<Response> responses;
};

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

// Validates every field of a parsed request body against `limits`; throws ProtocolError.
Batch decode_batch(const nlohmann::json& body, const Limits& limits);
// Parses the (already gunzipped) JSON text (400 invalid_json), then decode_batch().
Batch parse_batch(std::string_view json_text, const Limits& limits);

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

// gzip (RFC 1952) of `data`.
std::string gzip(std::string_view data, int level = 6);
// Inflates a gzip stream; throws ProtocolError 400 on a corrupt or truncated stream and
// 413 when the output would pass `max_out` bytes.
std::string gunzip(std::string_view data, std::size_t max_out);

// Device tokens: 32 random bytes as 64 hex digits. The collector keeps only
// "blake2b:" + hex(BLAKE2b-256(token)); see PROTOCOL.md for why a fast hash is right here.
std::string new_token();
std::string hash_token(std::string_view token);
// Constant-time comparison of two hashes.
bool hashes_equal(const std::string& a, const std::string& b);

bool is_uuid(std::string_view s);
bool is_timestamp(std::string_view s);  // 2026-11-25T19:55:49.123Z

}  // namespace kohtaamo::sync
