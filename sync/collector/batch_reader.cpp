// batch_reader.cpp — the collector's fast path for reading a batch (batch_reader.hpp).
// Every "return std::nullopt" below is a decline: parse_batch reads the body and answers.
#include "batch_reader.hpp"

#include <array>
#include <cstdint>
#include <set>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace kohtaamo::sync {

namespace {

namespace dom = simdjson::dom;
using Type = dom::element_type;

// The index of `key` in `names`, or -1.
template <std::size_t N>
int index_of(const std::array<std::string_view, N>& names, std::string_view key) {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == key) return static_cast<int>(i);
    return -1;
}

// Reads an object's members into `out` by name: false for an unknown name or a name twice.
template <std::size_t N>
bool members(dom::object obj, const std::array<std::string_view, N>& names, std::array<dom::element, N>& out,
             std::uint32_t& seen) {
    seen = 0;
    for (dom::key_value_pair kv : obj) {
        const int i = index_of(names, kv.key);
        if (i < 0 || (seen & (1u << i))) return false;
        seen |= 1u << i;
        out[static_cast<std::size_t>(i)] = kv.value;
    }
    return true;
}

bool text(dom::element e, std::string& out) {
    std::string_view v;
    if (e.get_string().get(v)) return false;
    out.assign(v.data(), v.size());
    return true;
}

constexpr std::array<std::string_view, 5> kEnvelope = {"protocol", "batch_id", "device_id", "responses", "health"};
constexpr std::array<std::string_view, 12> kResponse = {"id",         "survey_id",   "survey_version", "language",
                                                        "status",     "started_at",  "finished_at",    "site",
                                                        "event",      "survey_hash", "flagged",        "answers"};
constexpr std::array<std::string_view, 4> kAnswer = {"question_id", "value", "answered_at", "sealed"};
constexpr std::array<std::string_view, 8> kHealth = {"app_version", "bundle_version",  "config_version", "pending",
                                                     "oldest_pending_age_s", "free_disk_bytes", "uptime_s",
                                                     "last_error"};

// The health object as nlohmann's tree, for decode_health (one reader of its rules):
// scalars only (strings, integers, true/false, null), each name once.
std::optional<nlohmann::json> health_tree(dom::element e) {
    dom::object obj;
    if (e.get_object().get(obj)) return std::nullopt;
    std::array<dom::element, kHealth.size()> v;
    std::uint32_t seen = 0;
    if (!members(obj, kHealth, v, seen)) return std::nullopt;
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t i = 0; i < kHealth.size(); ++i) {
        if (!(seen & (1u << i))) continue;
        nlohmann::json& slot = j[std::string(kHealth[i])];
        switch (v[i].type()) {
            case Type::STRING: slot = std::string(std::string_view(v[i])); break;
            case Type::INT64: slot = std::int64_t(v[i]); break;
            case Type::UINT64: slot = std::uint64_t(v[i]); break;
            case Type::BOOL: slot = bool(v[i]); break;
            case Type::NULL_VALUE: slot = nullptr; break;
            default: return std::nullopt;  // a fraction, an exponent, a container
        }
    }
    return j;
}

bool response(dom::element e, const Limits& limits, Response& r) {
    dom::object obj;
    if (e.get_object().get(obj)) return false;
    enum { kId, kSurveyId, kSurveyVersion, kLanguage, kStatus, kStartedAt, kFinishedAt, kSite, kEvent, kSurveyHash,
           kFlagged, kAnswers };
    std::array<dom::element, kResponse.size()> v;
    std::uint32_t seen = 0;
    if (!members(obj, kResponse, v, seen)) return false;
    const std::uint32_t required = (1u << kResponse.size()) - 1 - (1u << kSurveyHash);
    if ((seen & required) != required) return false;
    if (!text(v[kId], r.id) || !text(v[kSurveyId], r.survey_id) || !text(v[kLanguage], r.language) ||
        !text(v[kStatus], r.status) || !text(v[kStartedAt], r.started_at) || !text(v[kSite], r.site) ||
        !text(v[kEvent], r.event))
        return false;
    if (v[kSurveyVersion].type() != Type::INT64) return false;
    r.survey_version = std::int64_t(v[kSurveyVersion]);
    if (!v[kFinishedAt].is_null() && (!text(v[kFinishedAt], r.finished_at) || r.finished_at.empty())) return false;
    if ((seen & (1u << kSurveyHash)) && (!text(v[kSurveyHash], r.survey_hash) || r.survey_hash.empty())) return false;
    if (v[kFlagged].get_bool().get(r.flagged)) return false;
    dom::array answers;
    if (v[kAnswers].get_array().get(answers) || answers.size() > limits.max_answers) return false;
    r.answers.reserve(answers.size());
    for (dom::element ae : answers) {
        dom::object ao;
        if (ae.get_object().get(ao)) return false;
        std::array<dom::element, kAnswer.size()> av;
        std::uint32_t aseen = 0;
        if (!members(ao, kAnswer, av, aseen)) return false;
        // A sealed answer carries `sealed` instead of `value` (PROTOCOL.md, "Sealed answers").
        const bool sealed = aseen & 8u;
        if (aseen != (sealed ? 13u : 7u)) return false;
        Answer& a = r.answers.emplace_back();
        if (!text(av[0], a.question_id) || !text(av[2], a.answered_at)) return false;
        if (sealed ? !text(av[3], a.sealed) : !text(av[1], a.value)) return false;
    }
    return true;
}

}  // namespace

std::optional<Batch> read_batch_fast(std::string& text_in, const Limits& limits) {
    if (text_in.size() > kFastBytes) return std::nullopt;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end (within the allocation).
    if (text_in.capacity() < text_in.size() + simdjson::SIMDJSON_PADDING)
        text_in.reserve(text_in.size() + simdjson::SIMDJSON_PADDING);
    // A parser keeps buffers sized for the largest document it has read (about 13 bytes
    // per byte of JSON): each worker thread keeps one for bodies up to kKeptBytes, and a
    // larger body gets a parser of its own, freed when it has been read. So a client that
    // posts large bodies to every thread leaves no memory behind.
    thread_local dom::parser kept;
    std::optional<dom::parser> own;
    dom::parser& parser = text_in.size() <= kKeptBytes ? kept : own.emplace();
    dom::element root;
    if (parser.parse(text_in.data(), text_in.size(), false).get(root)) return std::nullopt;
    dom::object obj;
    if (root.get_object().get(obj)) return std::nullopt;
    std::array<dom::element, kEnvelope.size()> v;
    std::uint32_t seen = 0;
    if (!members(obj, kEnvelope, v, seen) || (seen & 15u) != 15u) return std::nullopt;
    if (v[0].type() != Type::INT64 || std::int64_t(v[0]) != kProtocolVersion) return std::nullopt;
    try {
        Batch b;
        if (seen & 16u) {
            auto tree = health_tree(v[4]);
            if (!tree) return std::nullopt;
            b.health = decode_health(*tree, "health");
        }
        if (!text(v[1], b.batch_id) || !is_uuid(b.batch_id) || !text(v[2], b.device_id) || !is_uuid(b.device_id))
            return std::nullopt;
        dom::array responses;
        if (v[3].get_array().get(responses)) return std::nullopt;
        const std::size_t n = responses.size();
        if (n == 0 || n > limits.max_responses) return std::nullopt;
        b.responses.reserve(n);
        std::set<std::string_view> ids;
        for (dom::element e : responses) {
            Response& r = b.responses.emplace_back();
            if (!response(e, limits, r)) return std::nullopt;
            validate_response(r, limits, "");
        }
        for (const Response& r : b.responses)
            if (!ids.insert(r.id).second) return std::nullopt;
        return b;
    } catch (const std::exception&) {  // a refusal (ProtocolError) or anything else: parse_batch's to say
        return std::nullopt;
    }
}

Batch read_batch(std::string_view raw, std::string_view content_encoding, const Limits& limits) {
    std::string text = body_text(raw, content_encoding, limits);
    if (auto b = read_batch_fast(text, limits)) return std::move(*b);
    return parse_batch(text, limits);
}

}  // namespace kohtaamo::sync
