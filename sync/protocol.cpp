// protocol.cpp — the protocol's one implementation (sync/PROTOCOL.md): the JSON reader
// that refuses what nlohmann::json would let through (duplicate keys, integers out of
// range, invalid UTF-8 named by its field), the field rules both ends apply, gzip and tokens.
#include "protocol.hpp"

#include <cstring>
#include <stdexcept>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <type_traits>

#include <sodium.h>

#include "seal.hpp"
#include <zlib.h>

#include "clock.hpp"
#include "utf8.hpp"

namespace kohtaamo::sync {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------
// Messages never carry a client's raw bytes: values are shown JSON-quoted, cut at 64
// bytes, and a message is plain valid UTF-8 whatever the body held.

std::string quote(std::string_view s) {
    std::string cut(s.substr(0, 64));
    while (!cut.empty() && utf8_invalid_at(cut)) cut.pop_back();  // never cut inside a character
    std::string q = json(cut).dump(-1, ' ', false, json::error_handler_t::replace);
    if (cut.size() < s.size()) q.insert(q.size() - 1, "…");
    return q;
}

// `s` with every byte that is not printable UTF-8 (invalid, or a control) as '?'.
std::string printable(std::string s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::string_view rest = std::string_view(s).substr(i);
        const auto bad_at = utf8_invalid_at(rest);
        const std::size_t good = bad_at.value_or(rest.size());
        for (std::size_t k = i; k < i + good; ++k)
            if (static_cast<unsigned char>(s[k]) < 0x20 || s[k] == 0x7F) s[k] = '?';
        if (!bad_at) break;
        s[i + good] = '?';
        i += good + 1;
    }
    return s;
}

// A field name in a path: as it is when it looks like one, else quoted.
std::string key_text(std::string_view k) {
    const bool plain = !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    return plain ? std::string(k) : quote(k);
}

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "true/false";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        case json::value_t::number_float: return "a number with a fraction or an exponent";
        default: return "something else";
    }
}

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
    throw ProtocolError(400, "invalid_body", field + ": " + problem);
}
[[noreturn]] void bad_json(const std::string& field, const std::string& problem) {
    throw ProtocolError(400, "invalid_json", (field.empty() ? std::string("body") : field) + ": " + problem);
}

std::string path(const std::string& where, std::string_view key) {
    return where.empty() ? key_text(key) : where + "." + key_text(key);
}

// ---------------------------------------------------------------------------------------
// The JSON reader: nlohmann's SAX parser feeding a reader that knows where it is
// ("responses[3].answers[0].value"), so that whatever the text gets wrong is named by its
// field:
//  - a key twice in one object (nlohmann alone keeps the last one silently);
//  - an integer beyond 64 bits (nlohmann alone turns it into an inexact double) and a
//    number beyond a double's range (1e400);
//  - invalid UTF-8 in a key or a value (nlohmann alone reports it with the raw bytes in
//    its message, which no JSON reply can then carry);
//  - nesting deeper than any protocol message (8 levels).
// It builds nlohmann's tree (parse_json), except, for a batch (parse_batch), inside the
// top-level "responses" array: each response is read straight into a Response, its
// strings moved out of the parser, and checked when its object closes (BatchDraft below).
// Building and freeing the tree of 200 responses, then walking it, was two fifths of the
// collector's CPU (docs/performance.md, Sync).
//
// What is refused, and in which order, is the same either way: an error of the JSON
// itself (above) anywhere in the body comes first, then the envelope's fields (protocol
// first), then the responses in order. So an error found in a response is kept (the first
// one), the rest of the body is still read for errors of the JSON, and the kept error is
// thrown after the envelope's checks (parse_batch).

constexpr std::size_t kMaxDepth = 8;

// A JSON value's type, as the field rules name it.
enum class Kind : std::uint8_t { Missing, Null, Object, Array, String, Boolean, Integer, Unsigned, Float };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Null: return "null";
        case Kind::Object: return "an object";
        case Kind::Array: return "an array";
        case Kind::String: return "a string";
        case Kind::Boolean: return "true/false";
        case Kind::Integer:
        case Kind::Unsigned: return "an integer";
        case Kind::Float: return "a number with a fraction or an exponent";
        default: return "something else";
    }
}

// The fields of a response and of an answer, in the order decode checks them.
enum RField { kId, kSurveyId, kSurveyVersion, kLanguage, kStatus, kStartedAt, kFinishedAt, kSite, kEvent, kSurveyHash,
              kFlagged, kAnswers, kRFields, kUnknown = -1 };
constexpr std::array<std::string_view, kRFields> kRNames = {"id", "survey_id", "survey_version", "language",
                                                            "status", "started_at", "finished_at", "site", "event",
                                                            "survey_hash", "flagged", "answers"};
enum AField { kQuestionId, kValue, kAnsweredAt, kSealed, kAFields };
constexpr std::array<std::string_view, kAFields> kANames = {"question_id", "value", "answered_at", "sealed"};

template <std::size_t N>
int field_index(const std::array<std::string_view, N>& names, std::string_view k) {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == k) return static_cast<int>(i);
    return kUnknown;
}

// One response (or answer) as read so far: its strings in place, and each field's kind.
struct AnswerDraft {
    Answer a;
    std::array<Kind, kAFields> kind{};
    Kind element = Kind::Object;  // what answers[k] was (anything but an object is refused)
    std::string unknown;          // the first unknown field name in byte order ("" + !has_unknown: none)
    bool has_unknown = false;
};
struct BatchDraft {
    std::vector<Response> responses;
    std::size_t count = 0;  // elements of "responses", read or not
    std::optional<ProtocolError> error;  // the first error found in a response
    // The response being read.
    Response r;
    std::array<Kind, kRFields> kind{};
    std::int64_t version = 0;
    std::uint64_t version_unsigned = 0;
    std::string unknown;
    bool has_unknown = false;
    std::size_t answer_count = 0;
    std::vector<AnswerDraft> answers;  // at most max_answers of them
    std::set<std::string, std::less<>> ids;
    const Limits* limits = nullptr;

    bool reading() const { return !error && count <= limits->max_responses; }
    void note_unknown(std::string_view k, std::string& first, bool& has) {
        if (!has || k < first) first = std::string(k);
        has = true;
    }
};

class Reader {
public:
    json root;
    explicit Reader(BatchDraft* batch = nullptr) : batch_(batch) {}

    bool null() { return scalar(Kind::Null, [] { return json(nullptr); }, [](Slot) {}); }
    bool boolean(bool v) {
        return scalar(Kind::Boolean, [v] { return json(v); }, [&](Slot s) { if (s.flagged) batch_->r.flagged = v; });
    }
    bool number_integer(json::number_integer_t v) {
        return scalar(Kind::Integer, [v] { return json(v); }, [&](Slot s) { if (s.version) batch_->version = v; });
    }
    bool number_unsigned(json::number_unsigned_t v) {
        return scalar(Kind::Unsigned, [v] { return json(v); }, [&](Slot s) {
            if (s.version) batch_->version_unsigned = v;
        });
    }
    bool number_float(json::number_float_t v, const std::string& text) {
        if (text.find_first_of(".eE") == std::string::npos)
            bad_json(here(), "the integer " + quote(text) + " is out of range (at most 64 bits)");
        if (!std::isfinite(v)) bad_json(here(), "the number " + quote(text) + " is out of range");
        return scalar(Kind::Float, [v] { return json(v); }, [](Slot) {});
    }
    bool string(std::string& v) {
        return scalar(Kind::String, [&] { return json(std::move(v)); }, [&](Slot s) {
            if (s.text) std::swap(*s.text, v);
        });
    }
    bool binary(json::binary_t&) { bad_json(here(), "binary data"); }
    bool start_object(std::size_t) { return open(false); }
    bool start_array(std::size_t) { return open(true); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string& k) {
        Frame& f = frames_.back();
        f.expect_key = false;
        switch (f.role) {
            case Role::Tree: {
                auto [it, inserted] = f.node->get_ref<json::object_t&>().try_emplace(k);
                if (!inserted) twice(k);
                f.slot = &it->second;
                break;
            }
            case Role::Response:
                f.field = field_index(kRNames, k);
                if (f.field == kUnknown) {
                    if (!f.keys.insert(k).second) twice(k);
                    if (batch_->reading()) batch_->note_unknown(k, batch_->unknown, batch_->has_unknown);
                } else if (f.seen & (1u << f.field)) {
                    twice(k);
                } else {
                    f.seen |= 1u << f.field;
                }
                break;
            case Role::Answer:
                f.field = field_index(kANames, k);
                if (f.field == kUnknown) {
                    if (!f.keys.insert(k).second) twice(k);
                    if (batch_->reading() && !batch_->answers.empty())
                        batch_->note_unknown(k, batch_->answers.back().unknown, batch_->answers.back().has_unknown);
                } else if (f.seen & (1u << f.field)) {
                    twice(k);
                } else {
                    f.seen |= 1u << f.field;
                }
                break;
            default:
                if (!f.keys.insert(k).second) twice(k);
        }
        f.key = std::move(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
        const std::string at = " (byte " + std::to_string(position) + " of the body)";
        if (e.id == 406) bad_json(here(), "the number " + quote(token) + " is out of range" + at);
        std::string what = e.what();
        const bool in_key = !frames_.empty() && !frames_.back().array && frames_.back().expect_key;
        const std::string container = frames_.empty() ? std::string() : path_of(frames_.size() - 1);
        const std::string where = in_key ? (container.empty() ? std::string("body") : container) : here();
        if (what.find("ill-formed UTF-8") != std::string::npos)
            bad_json(where, std::string(in_key ? "a field name is" : "is") + " not valid UTF-8" + at);
        // nlohmann's own wording, without the raw token it quotes (cut and escaped instead).
        if (const auto p = what.find("syntax error"); p != std::string::npos) what.erase(0, p);
        if (const auto p = what.find("; last read: '" + token + "'"); p != std::string::npos)
            what.replace(p, token.size() + 15, "; last read: " + quote(token.size() > 32 ? token.substr(token.size() - 32) : token));
        bad_json(where, "not valid JSON: " + printable(what) + at);
    }

private:
    // What a frame is: a container of the tree, or (a batch) the responses array, a
    // response, its answers array, an answer, or anything else inside them (read and
    // checked as JSON, then dropped: a field of the wrong type is refused by its kind).
    enum class Role : std::uint8_t { Tree, Responses, Response, Answers, Answer, Other };
    // A frame's own path ("responses[3].answers") is not kept: it is spelled out from the
    // frames below it only when an error names it (path_of), not for every object read.
    struct Frame {
        Role role = Role::Tree;
        bool array = false;
        bool expect_key = true;
        std::size_t next = 0;  // arrays: the index of the next element
        std::string key;       // objects: the key whose value comes next
        json* node = nullptr;  // Tree: the container, and where the next value goes
        json* slot = nullptr;
        int field = kUnknown;                  // Response, Answer: the field whose value comes next
        std::uint32_t seen = 0;                // ... and the known fields read so far
        std::set<std::string, std::less<>> keys;  // other keys read so far (not Tree)
    };
    std::vector<Frame> frames_;
    BatchDraft* batch_;

    // Where a scalar of a response or an answer goes.
    struct Slot {
        std::string* text = nullptr;
        bool version = false, flagged = false;
    };

    [[noreturn]] void twice(std::string_view k) const {
        bad_json(path(path_of(frames_.size() - 1), k), "appears twice in the same object");
    }

    // The path of the container frames_[i]: each frame below it is an array whose last
    // element (next - 1) it is, or an object whose current key it is the value of.
    std::string path_of(std::size_t i) const {
        std::string p;
        for (std::size_t d = 0; d < i; ++d) {
            const Frame& f = frames_[d];
            p = f.array ? p + "[" + std::to_string(f.next - 1) + "]" : path(p, f.key);
        }
        return p;
    }
    // The path of the value being read now.
    std::string here() const {
        if (frames_.empty()) return "";
        const Frame& f = frames_.back();
        const std::string p = path_of(frames_.size() - 1);
        if (f.array) return p + "[" + std::to_string(f.next) + "]";
        return path(p, f.key);
    }

    // A value begins in the innermost frame: its kind is noted where a batch keeps it, and
    // the role of the frame it opens (if it is a container) is returned.
    Role begin_value(Kind kind, Slot* slot) {
        Frame& f = frames_.back();
        if (f.array) ++f.next;
        else f.expect_key = true;
        BatchDraft* b = batch_;
        switch (f.role) {
            case Role::Tree:
                // The top-level "responses" array of a batch: its elements are read as responses.
                if (b && kind == Kind::Array && frames_.size() == 1 && !f.array && f.key == "responses")
                    return Role::Responses;
                return Role::Tree;
            case Role::Responses:
                if (b->reading() && kind != Kind::Object)
                    b->error = ProtocolError(400, "invalid_body", "responses[" + std::to_string(f.next - 1) +
                                                                      "]: must be an object, not " + kind_name(kind));
                ++b->count;
                if (kind != Kind::Object) return Role::Other;
                b->r = Response{};
                b->kind.fill(Kind::Missing);
                b->has_unknown = false;
                b->answer_count = 0;
                b->answers.clear();
                return Role::Response;
            case Role::Response: {
                if (f.field == kUnknown) return Role::Other;
                b->kind[f.field] = kind;
                if (f.field == kAnswers && kind == Kind::Array) return Role::Answers;
                if (!slot) return Role::Other;
                if (kind == Kind::String && f.field < kFlagged) {
                    std::string* texts[] = {&b->r.id, &b->r.survey_id, nullptr, &b->r.language, &b->r.status,
                                            &b->r.started_at, &b->r.finished_at, &b->r.site, &b->r.event,
                                            &b->r.survey_hash};
                    slot->text = texts[f.field];
                }
                slot->version = f.field == kSurveyVersion;
                slot->flagged = f.field == kFlagged;
                return Role::Other;
            }
            case Role::Answers:
                if (++b->answer_count > b->limits->max_answers || !b->reading()) return Role::Other;
                b->answers.emplace_back();
                b->answers.back().element = kind;
                b->answers.back().kind.fill(Kind::Missing);
                return kind == Kind::Object ? Role::Answer : Role::Other;
            case Role::Answer: {
                if (f.field == kUnknown || b->answers.empty()) return Role::Other;
                AnswerDraft& d = b->answers.back();
                d.kind[f.field] = kind;
                if (slot && kind == Kind::String) {
                    std::string* texts[] = {&d.a.question_id, &d.a.value, &d.a.answered_at, &d.a.sealed};
                    slot->text = texts[f.field];
                }
                return Role::Other;
            }
            default: return Role::Other;
        }
    }

    // A scalar: into the tree (`make` gives it), or where a response keeps it (`store`).
    template <typename Make, typename Store>
    bool scalar(Kind kind, Make&& make, Store&& store) {
        if (frames_.empty()) {
            root = make();
            return true;
        }
        Frame& f = frames_.back();
        if (f.role == Role::Tree) {
            begin_value(kind, nullptr);
            if (f.array) f.node->push_back(make());
            else *f.slot = make();
            return true;
        }
        Slot slot;
        begin_value(kind, &slot);
        store(slot);
        return true;
    }
    bool open(bool array) {
        if (frames_.size() >= kMaxDepth)
            bad_json(here(), "nested deeper than " + std::to_string(kMaxDepth) + " levels (no protocol message is)");
        Frame n;
        n.array = array;
        if (frames_.empty()) {
            root = array ? json::array() : json::object();
            n.node = &root;
        } else {
            Frame& f = frames_.back();
            n.role = begin_value(array ? Kind::Array : Kind::Object, nullptr);
            if (f.role == Role::Tree) {
                // (The responses array stays empty in the tree: parse_batch knows its count.)
                json* node;
                if (f.array) {
                    f.node->push_back(array ? json::array() : json::object());
                    node = &f.node->back();
                } else {
                    *f.slot = array ? json::array() : json::object();
                    node = f.slot;
                }
                if (n.role == Role::Tree) n.node = node;
            }
        }
        frames_.push_back(std::move(n));
        return true;
    }
    bool close() {
        const Role role = frames_.back().role;
        frames_.pop_back();
        if (role == Role::Response && batch_->reading()) finish_response();
        return true;
    }

    // A response's object has closed: its fields are checked in decode's order; a
    // refusal is kept (BatchDraft::error), the response otherwise goes into the batch.
    void finish_response() {
        BatchDraft& b = *batch_;
        const std::string where = "responses[" + std::to_string(b.count - 1) + "]";
        try {
            if (b.has_unknown)
                bad(path(where, b.unknown), "unknown field (protocol version " + std::to_string(kProtocolVersion) + ")");
            Response& r = b.r;
            auto need = [&](int field, const char* name, const std::string& at) -> Kind {
                const Kind k = field < 0 ? Kind::Missing : b.kind[field];
                if (k == Kind::Missing) bad(path(at, name), "missing");
                return k;
            };
            auto text = [&](int field, const std::string& at) {
                const Kind k = need(field, kRNames[field].data(), at);
                if (k != Kind::String) bad(path(at, kRNames[field]), std::string("must be a string, not ") + kind_name(k));
            };
            text(kId, where);
            text(kSurveyId, where);
            {
                const Kind k = need(kSurveyVersion, "survey_version", where);
                const std::string field = path(where, "survey_version");
                const std::string range = "between 0 and " + std::to_string(kMaxSurveyVersion);
                if (k == Kind::Unsigned && b.version_unsigned > static_cast<std::uint64_t>(kMaxSurveyVersion))
                    bad(field, "must be " + range + ", not " + std::to_string(b.version_unsigned));
                if (k != Kind::Integer && k != Kind::Unsigned)
                    bad(field, std::string("must be an integer (digits only), not ") + kind_name(k));
                const std::int64_t n = k == Kind::Unsigned ? static_cast<std::int64_t>(b.version_unsigned) : b.version;
                if (n < 0 || n > kMaxSurveyVersion) bad(field, "must be " + range + ", not " + std::to_string(n));
                r.survey_version = n;
            }
            text(kLanguage, where);
            text(kStatus, where);
            text(kStartedAt, where);
            if (need(kFinishedAt, "finished_at", where) != Kind::Null) {
                text(kFinishedAt, where);
                if (r.finished_at.empty()) bad(where + ".finished_at", "must be a time or null, not \"\"");
            }
            text(kSite, where);
            text(kEvent, where);
            if (b.kind[kSurveyHash] != Kind::Missing) {
                text(kSurveyHash, where);
                if (r.survey_hash.empty()) bad(where + ".survey_hash", "must be 64 lowercase hex digits, not \"\" (leave it out)");
            }
            if (const Kind k = need(kFlagged, "flagged", where); k != Kind::Boolean)
                bad(where + ".flagged", std::string("must be true or false, not ") + kind_name(k));
            if (const Kind k = need(kAnswers, "answers", where); k != Kind::Array)
                bad(path(where, "answers"), std::string("must be an array, not ") + kind_name(k));
            if (b.answer_count > b.limits->max_answers)
                bad(path(where, "answers"), "has " + std::to_string(b.answer_count) + " items, more than the limit of " +
                                                std::to_string(b.limits->max_answers));
            r.answers.reserve(b.answers.size());
            for (std::size_t k = 0; k < b.answers.size(); ++k) {
                AnswerDraft& d = b.answers[k];
                const std::string aw = where + ".answers[" + std::to_string(k) + "]";
                if (d.element != Kind::Object) bad(aw, std::string("must be an object, not ") + kind_name(d.element));
                // A sealed answer carries `sealed` instead of `value` (PROTOCOL.md, "Sealed answers").
                const bool sealed = d.kind[kSealed] != Kind::Missing;
                if (sealed && d.kind[kValue] != Kind::Missing) b.note_unknown("value", d.unknown, d.has_unknown);
                if (d.has_unknown)
                    bad(path(aw, d.unknown), "unknown field (protocol version " + std::to_string(kProtocolVersion) + ")");
                auto atext = [&](int field) {
                    const Kind kk = d.kind[field];
                    if (kk == Kind::Missing) bad(path(aw, kANames[field]), "missing");
                    if (kk != Kind::String)
                        bad(path(aw, kANames[field]), std::string("must be a string, not ") + kind_name(kk));
                };
                atext(kQuestionId);
                if (!sealed) atext(kValue);
                atext(kAnsweredAt);
                if (sealed) atext(kSealed);
                r.answers.push_back(std::move(d.a));
            }
            validate_response(r, *b.limits, where);
            if (!b.ids.insert(r.id).second) bad(where + ".id", quote(r.id) + " appears twice in the batch");
            b.responses.push_back(std::move(r));
        } catch (const ProtocolError& e) {
            b.error = e;
        }
    }
};

// ---------------------------------------------------------------------------------------
// Reading the parsed body into the message types: types, missing and unknown fields.

const json& member(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) bad(path(where, key), "missing");
    return *it;
}

// (string_view: a name of another length is passed over without reading it.)
void only_keys(const json& obj, std::initializer_list<std::string_view> allowed, const std::string& where) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const std::string& key = it.key();
        bool ok = std::any_of(allowed.begin(), allowed.end(), [&](std::string_view a) { return a == key; });
        if (!ok) bad(path(where, key), "unknown field (protocol version " + std::to_string(kProtocolVersion) + ")");
    }
}

const std::string& string_at(const json& obj, const char* key, const std::string& where) {
    const json& v = member(obj, key, where);
    if (!v.is_string()) bad(path(where, key), std::string("must be a string, not ") + type_name(v));
    return v.get_ref<const std::string&>();
}

// A JSON integer (digits only: 3.0 and 3e0 are numbers with a fraction or an exponent,
// refused where the protocol says integer) in [lo, hi].
std::int64_t integer_at(const json& obj, const char* key, const std::string& where, std::int64_t lo, std::int64_t hi) {
    const json& v = member(obj, key, where);
    const std::string range = "between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
        bad(path(where, key), "must be " + range + ", not " + v.dump());
    if (!v.is_number_integer())
        bad(path(where, key), std::string("must be an integer (digits only), not ") + type_name(v));
    const std::int64_t n = v.get<std::int64_t>();
    if (n < lo || n > hi) bad(path(where, key), "must be " + range + ", not " + std::to_string(n));
    return n;
}

// ---------------------------------------------------------------------------------------
// The field rules (PROTOCOL.md, "Fields"), on the message types: the collector applies
// them to what it received, the kiosk to what it is about to send.

enum class Text {
    Short,     // one line: no control character at all (C0 with tab, DEL, C1)
    FreeText,  // an answer's value: tab, line feed and carriage return allowed, no other
};

// A field's name is spelled out only when an error names it: `field` is the name, or a
// function that gives it (building "responses[3].answers[0].value" for every field read
// was a tenth of the collector's time to read a batch).
template <class Name>
std::string spell(const Name& field) {
    if constexpr (std::is_invocable_v<const Name&>) return field();
    else return std::string(field);
}

template <class Name>
void check_text(const std::string& s, const Name& field, std::size_t min_bytes, std::size_t max_bytes, Text kind) {
    if (auto at = utf8_invalid_at(s)) bad(spell(field), "is not valid UTF-8 (byte " + std::to_string(*at) + ")");
    if (s.size() > max_bytes)
        bad(spell(field), "is " + std::to_string(s.size()) + " bytes long, more than the limit of " + std::to_string(max_bytes));
    if (s.size() < min_bytes) bad(spell(field), "must not be empty");
    if (auto c = first_control(s, kind == Text::FreeText ? "\t\n\r" : ""))
        bad(spell(field), "contains " + describe_code_point(*c) +
                              (kind == Text::FreeText ? ": free text may hold tab, line feed and carriage return, no other "
                                                        "control character"
                                                      : ": a control character, not allowed here"));
}

template <class Name>
void check_uuid(const std::string& s, const Name& field) {
    if (!is_uuid(s)) bad(spell(field), quote(s) + " is not a UUID (8-4-4-4-12 lowercase hex digits)");
}

template <class Name>
void check_timestamp(const std::string& s, const Name& field) {
    if (auto at = utf8_invalid_at(s)) bad(spell(field), "is not valid UTF-8 (byte " + std::to_string(*at) + ")");
    std::string why;
    if (!parse_iso8601_utc(s, &why))
        bad(spell(field), quote(s) + " is not an ISO 8601 UTC time like 2026-11-25T19:55:49.123Z: " + why);
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

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

bool is_timestamp(std::string_view s) { return parse_iso8601_utc(s).has_value(); }

bool is_sha256_hex(std::string_view s) { return s.size() == 64 && std::all_of(s.begin(), s.end(), is_hex); }

void validate_response(const Response& r, const Limits& limits, const std::string& where) {
    auto field = [&](const char* name) { return where.empty() ? std::string(name) : where + "." + name; };
    auto named = [&](const char* name) { return [&field, name] { return field(name); }; };
    check_uuid(r.id, named("id"));
    check_text(r.survey_id, named("survey_id"), 1, limits.max_text_bytes, Text::Short);
    if (r.survey_version < 0 || r.survey_version > kMaxSurveyVersion)
        bad(field("survey_version"), "must be between 0 and " + std::to_string(kMaxSurveyVersion));
    check_text(r.language, named("language"), 1, kMaxLanguageBytes, Text::Short);
    if (r.status != "complete" && r.status != "abandoned")
        bad(field("status"), quote(r.status) + " is not a finished status (complete, abandoned)");
    check_timestamp(r.started_at, named("started_at"));
    if (!r.finished_at.empty()) check_timestamp(r.finished_at, named("finished_at"));
    check_text(r.site, named("site"), 0, limits.max_text_bytes, Text::Short);
    check_text(r.event, named("event"), 0, limits.max_text_bytes, Text::Short);
    if (!r.survey_hash.empty() && !is_sha256_hex(r.survey_hash))
        bad(field("survey_hash"), quote(r.survey_hash) + " is not a SHA-256 (64 lowercase hex digits)");
    if (r.answers.size() > limits.max_answers)
        bad(field("answers"), "has " + std::to_string(r.answers.size()) + " items, more than the limit of " +
                                  std::to_string(limits.max_answers));
    // The same (question_id, value) twice: a look back at the answers before it when there
    // are a few (as there nearly always are), a set when there are many.
    constexpr std::size_t kFew = 16;
    std::set<std::pair<std::string_view, std::string_view>> seen;
    for (std::size_t k = 0; k < r.answers.size(); ++k) {
        const Answer& a = r.answers[k];
        auto aw = [&] { return field("answers") + "[" + std::to_string(k) + "]"; };
        auto in_answer = [&](const char* name) { return [&aw, name] { return aw() + "." + name; }; };
        check_text(a.question_id, in_answer("question_id"), 1, limits.max_text_bytes, Text::Short);
        if (!a.sealed.empty()) {
            // Sealed: the key id and the Base64 of a box no longer than the largest value's.
            const auto colon = a.sealed.find(':');
            if (colon == std::string::npos || !valid_seal_key_id(std::string_view(a.sealed).substr(0, colon)))
                bad(aw() + ".sealed", "must be \"KEYID:BASE64\" (a key id of 1 to 16 letters, digits, '-' or '_')");
            const std::size_t max = (limits.max_value_bytes + kSealBlock + 48) / 3 * 4 + 4;
            if (a.sealed.size() - colon - 1 > max || a.sealed.size() - colon - 1 < 4 ||
                a.sealed.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                                           colon + 1) != std::string::npos)
                bad(aw() + ".sealed", "the box is not Base64 of at most " + std::to_string(max) + " characters");
        } else {
            check_text(a.value, in_answer("value"), 0, limits.max_value_bytes, Text::FreeText);
        }
        check_timestamp(a.answered_at, in_answer("answered_at"));
        if (!a.sealed.empty()) continue;
        bool twice = false;
        if (r.answers.size() <= kFew) {
            for (std::size_t j = 0; j < k && !twice; ++j)
                twice = r.answers[j].sealed.empty() && r.answers[j].question_id == a.question_id &&
                        r.answers[j].value == a.value;
        } else {
            twice = !seen.emplace(a.question_id, a.value).second;
        }
        if (twice) bad(aw(), "the same question_id and value appear twice");
    }
}

std::optional<std::string> response_problem(const Response& r, const Limits& limits) {
    try {
        validate_response(r, limits, "");
    } catch (const ProtocolError& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

json to_json(const Response& r) {
    json answers = json::array();
    for (const auto& a : r.answers) {
        if (a.sealed.empty())
            answers.push_back({{"question_id", a.question_id}, {"value", a.value}, {"answered_at", a.answered_at}});
        else
            answers.push_back({{"question_id", a.question_id}, {"sealed", a.sealed}, {"answered_at", a.answered_at}});
    }
    json j = {{"id", r.id},
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
    if (!r.survey_hash.empty()) j["survey_hash"] = r.survey_hash;
    return j;
}

json to_json(const Batch& b) {
    json responses = json::array();
    for (const auto& r : b.responses) responses.push_back(to_json(r));
    json j = {{"protocol", kProtocolVersion},
              {"batch_id", b.batch_id},
              {"device_id", b.device_id},
              {"responses", std::move(responses)}};
    if (b.health) j["health"] = to_json(*b.health);
    return j;
}

json to_json(const Health& h) {
    return {{"app_version", h.app_version},         {"bundle_version", h.bundle_version},
            {"config_version", h.config_version},   {"pending", h.pending},
            {"oldest_pending_age_s", h.oldest_pending_age_s}, {"free_disk_bytes", h.free_disk_bytes},
            {"uptime_s", h.uptime_s},               {"last_error", h.last_error}};
}

Health decode_health(const json& j, const std::string& where) {
    if (!j.is_object()) bad(where, std::string("must be an object, not ") + type_name(j));
    only_keys(j, {"app_version", "bundle_version", "config_version", "pending", "oldest_pending_age_s",
                  "free_disk_bytes", "uptime_s", "last_error"},
              where);
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    Health h;
    h.app_version = string_at(j, "app_version", where);
    check_text(h.app_version, where + ".app_version", 0, 200, Text::Short);
    h.bundle_version = integer_at(j, "bundle_version", where, 0, kMax);
    h.config_version = string_at(j, "config_version", where);
    check_text(h.config_version, where + ".config_version", 0, 200, Text::Short);
    h.pending = integer_at(j, "pending", where, 0, kMax);
    h.oldest_pending_age_s = integer_at(j, "oldest_pending_age_s", where, 0, kMax);
    h.free_disk_bytes = integer_at(j, "free_disk_bytes", where, 0, kMax);
    h.uptime_s = integer_at(j, "uptime_s", where, 0, kMax);
    h.last_error = string_at(j, "last_error", where);
    check_text(h.last_error, where + ".last_error", 0, 2000, Text::FreeText);
    return h;
}

std::string encode_heartbeat(const Heartbeat& h) {
    return json{{"protocol", kProtocolVersion}, {"device_id", h.device_id}, {"health", to_json(h.health)}}.dump();
}

namespace {

// A JSON string as nlohmann's dump() writes it (UTF-8 kept, its short escapes, \u00xx for
// the other control characters; invalid UTF-8 refused, as dump() refuses it).
void put_string(std::string& out, std::string_view v) {
    if (auto at = utf8_invalid_at(v))
        throw std::runtime_error("encode_batch: a string is not valid UTF-8 (byte " + std::to_string(*at) + ")");
    out += '"';
    std::size_t plain = 0;  // start of the run of bytes copied as they are
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(v.data() + plain, i - plain);
        plain = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: {
                static const char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            }
        }
    }
    out.append(v.data() + plain, v.size() - plain);
    out += '"';
}

void put_response(std::string& out, const Response& r) {
    // Keys in the order of to_json(r)'s std::map: byte for byte its dump().
    out += "{\"answers\":[";
    for (std::size_t i = 0; i < r.answers.size(); ++i) {
        const Answer& a = r.answers[i];
        if (i) out += ',';
        out += "{\"answered_at\":";
        put_string(out, a.answered_at);
        out += ",\"question_id\":";
        put_string(out, a.question_id);
        if (a.sealed.empty()) {
            out += ",\"value\":";
            put_string(out, a.value);
        } else {
            out += ",\"sealed\":";
            put_string(out, a.sealed);
        }
        out += '}';
    }
    out += "],\"event\":";
    put_string(out, r.event);
    out += ",\"finished_at\":";
    if (r.finished_at.empty())
        out += "null";
    else
        put_string(out, r.finished_at);
    out += r.flagged ? ",\"flagged\":true" : ",\"flagged\":false";
    out += ",\"id\":";
    put_string(out, r.id);
    out += ",\"language\":";
    put_string(out, r.language);
    out += ",\"site\":";
    put_string(out, r.site);
    out += ",\"started_at\":";
    put_string(out, r.started_at);
    out += ",\"status\":";
    put_string(out, r.status);
    if (!r.survey_hash.empty()) {
        out += ",\"survey_hash\":";
        put_string(out, r.survey_hash);
    }
    out += ",\"survey_id\":";
    put_string(out, r.survey_id);
    out += ",\"survey_version\":";
    out += std::to_string(r.survey_version);
    out += '}';
}

}  // namespace

// Written directly, byte for byte what to_json(b).dump() gives (tests/sync/test_protocol.cpp
// compares the two on awkward text): building and printing nlohmann's tree of a batch of
// 200 responses was a third of the kiosk's time to form it (docs/performance.md, Sync).
std::string encode_batch(const Batch& b) {
    std::string out;
    out.reserve(256 + b.responses.size() * 700);
    out += "{\"batch_id\":";
    put_string(out, b.batch_id);
    out += ",\"device_id\":";
    put_string(out, b.device_id);
    if (b.health) {
        out += ",\"health\":";
        out += to_json(*b.health).dump();
    }
    out += ",\"protocol\":";
    out += std::to_string(kProtocolVersion);
    out += ",\"responses\":[";
    for (std::size_t i = 0; i < b.responses.size(); ++i) {
        if (i) out += ',';
        put_response(out, b.responses[i]);
    }
    out += "]}";
    return out;
}

bool has_sealed(const Batch& b) {
    for (const auto& r : b.responses)
        for (const auto& a : r.answers)
            if (!a.sealed.empty()) return true;
    return false;
}

void open_sealed(Batch& b, const SealKeyring& keys, const Limits& limits) {
    for (std::size_t i = 0; i < b.responses.size(); ++i) {
        Response& r = b.responses[i];
        bool any = false;
        for (std::size_t k = 0; k < r.answers.size(); ++k) {
            Answer& a = r.answers[k];
            if (a.sealed.empty()) continue;
            any = true;
            const std::string aw = "responses[" + std::to_string(i) + "].answers[" + std::to_string(k) + "].sealed";
            const std::string id = a.sealed.substr(0, a.sealed.find(':'));
            const SealSecretKey* key = keys.find(id);
            if (!key)
                throw ProtocolError(422, "unknown_seal_key",
                                    aw + ": sealed to key \"" + id + "\", which this collector does not hold (it holds: " +
                                        keys.ids() + "); add that key's secret file to [privacy] keys");
            auto value = open_value(*key, std::string_view(a.sealed).substr(id.size() + 1));
            if (!value) bad(aw, "does not open with key \"" + id + "\" (altered, or sealed to another key of that id)");
            a.value = std::move(*value);
            a.sealed.clear();
        }
        if (any) validate_response(r, limits, "responses[" + std::to_string(i) + "]");
    }
}

namespace {
void run_parser(std::string_view text, Reader& reader) {
    try {
        json::sax_parse(text.begin(), text.end(), &reader, json::input_format_t::json, true, false);
    } catch (const json::exception& e) {
        // Not expected (the Reader reports every error itself); never a 500 all the same.
        throw ProtocolError(400, "invalid_json", std::string("body: not valid JSON: ") +
                                                     json(std::string(e.what())).dump(-1, ' ', true,
                                                                                      json::error_handler_t::replace));
    }
}
}  // namespace

json parse_json(std::string_view text) {
    Reader reader;
    run_parser(text, reader);
    return std::move(reader.root);
}

Batch parse_batch(std::string_view json_text, const Limits& limits) {
    BatchDraft draft;
    draft.limits = &limits;
    Reader reader(&draft);
    run_parser(json_text, reader);
    // The envelope, from the tree (where "responses", when it is an array, stays empty).
    const json& body = reader.root;
    if (!body.is_object()) bad("body", std::string("must be a JSON object, not ") + type_name(body));
    // The version first: a body from a newer protocol may differ in everything else.
    const json& version = member(body, "protocol", "");
    if (!version.is_number_integer())
        bad("protocol", std::string("must be an integer (digits only), not ") + type_name(version));
    const bool supported = version.is_number_unsigned()
                               ? version.get<std::uint64_t>() == static_cast<std::uint64_t>(kProtocolVersion)
                               : version.get<std::int64_t>() == kProtocolVersion;
    if (!supported)
        throw ProtocolError(400, "unsupported_protocol",
                            "protocol: version " + version.dump() + " is not supported; this collector speaks version " +
                                std::to_string(kProtocolVersion));
    only_keys(body, {"protocol", "batch_id", "device_id", "responses", "health"}, "");
    Batch b;
    if (auto h = body.find("health"); h != body.end()) b.health = decode_health(*h, "health");
    b.batch_id = string_at(body, "batch_id", "");
    check_uuid(b.batch_id, "batch_id");
    b.device_id = string_at(body, "device_id", "");
    check_uuid(b.device_id, "device_id");
    const json& responses = member(body, "responses", "");
    if (!responses.is_array()) bad("responses", std::string("must be an array, not ") + type_name(responses));
    if (draft.count > limits.max_responses)
        throw ProtocolError(413, "too_large", "responses: has " + std::to_string(draft.count) +
                                                  " items, more than the limit of " + std::to_string(limits.max_responses));
    if (draft.count == 0) bad("responses", "must have at least 1 item(s)");
    if (draft.error) throw *draft.error;
    b.responses = std::move(draft.responses);
    return b;
}

std::string body_text(std::string_view raw, std::string_view content_encoding, const Limits& limits) {
    std::string encoding(content_encoding);
    std::transform(encoding.begin(), encoding.end(), encoding.begin(), [](unsigned char c) { return std::tolower(c); });
    if (encoding == "gzip" || encoding == "x-gzip") return gunzip(raw, limits.max_uncompressed_bytes);
    if (!encoding.empty() && encoding != "identity")
        throw ProtocolError(415, "unsupported_encoding", "Content-Encoding " + quote(content_encoding) + ": send gzip");
    if (raw.size() > limits.max_uncompressed_bytes)
        throw ProtocolError(413, "too_large", "body: " + std::to_string(raw.size()) + " bytes, more than the limit of " +
                                                  std::to_string(limits.max_uncompressed_bytes));
    return std::string(raw);
}

Batch read_batch_body(std::string_view raw, std::string_view content_encoding, const Limits& limits) {
    return parse_batch(body_text(raw, content_encoding, limits), limits);
}

Heartbeat read_heartbeat_body(std::string_view raw, std::string_view content_encoding, const Limits& limits) {
    const json body = parse_json(body_text(raw, content_encoding, limits));
    if (!body.is_object()) bad("body", std::string("must be a JSON object, not ") + type_name(body));
    const json& version = member(body, "protocol", "");
    if (!version.is_number_integer() || version.dump() != std::to_string(kProtocolVersion))
        throw ProtocolError(400, "unsupported_protocol",
                            "protocol: version " + version.dump() + " is not supported; this collector speaks version " +
                                std::to_string(kProtocolVersion));
    only_keys(body, {"protocol", "device_id", "health"}, "");
    Heartbeat h;
    h.device_id = string_at(body, "device_id", "");
    check_uuid(h.device_id, "device_id");
    h.health = decode_health(member(body, "health", ""), "health");
    return h;
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
    // A message may quote what a client sent: it never makes the error reply itself fail.
    return json{{"protocol", kProtocolVersion}, {"error", code}, {"message", message}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
}

std::pair<std::string, std::string> decode_error(std::string_view body) {
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return {};
    auto code = j.find("error");
    auto message = j.find("message");
    if (code == j.end() || !code->is_string()) return {};
    return {code->get<std::string>(), message != j.end() && message->is_string() ? message->get<std::string>() : ""};
}

struct GzipWriter::State {
    z_stream z{};
    std::string out;
    bool finished = false;
    void run(std::string_view data, int flush) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        z.avail_in = static_cast<uInt>(data.size());
        for (;;) {
            const std::size_t have = out.size();
            const std::size_t room = deflateBound(&z, static_cast<uLong>(z.avail_in)) + 64;
            out.resize(have + room);
            z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
            z.avail_out = static_cast<uInt>(room);
            const int rc = deflate(&z, flush);
            out.resize(have + room - z.avail_out);
            if (rc == Z_STREAM_END) return;
            if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("gzip: deflate failed");
            if (flush != Z_FINISH && z.avail_in == 0) return;
        }
    }
};

GzipWriter::GzipWriter(int level) : s_(std::make_unique<State>()) {
    if (deflateInit2(&s_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("gzip: deflateInit2 failed");
}
GzipWriter::~GzipWriter() {
    if (s_) deflateEnd(&s_->z);
}
GzipWriter::GzipWriter(GzipWriter&&) noexcept = default;
GzipWriter& GzipWriter::operator=(GzipWriter&& o) noexcept {
    if (this != &o) {
        if (s_) deflateEnd(&s_->z);
        s_ = std::move(o.s_);
    }
    return *this;
}
void GzipWriter::add(std::string_view data) {
    if (s_->finished) throw std::logic_error("gzip: add() after finish()");
    if (!data.empty()) s_->run(data, Z_NO_FLUSH);
}
std::string GzipWriter::finish(std::string_view last) {
    if (s_->finished) throw std::logic_error("gzip: finish() twice");
    s_->run(last, Z_FINISH);
    s_->finished = true;
    return std::move(s_->out);
}

std::string gzip(std::string_view data, int level) { return GzipWriter(level).finish(data); }

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
                                truncated ? "body: the gzip stream ends early (cut off, or without its 8-byte trailer)"
                                          : "body: corrupt gzip stream: " + msg);
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
    if (trailing)
        throw ProtocolError(400, "invalid_gzip", "body: data after the end of the gzip stream (one gzip member only)");
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

SealKeyPair new_seal_keypair(const std::string& id) {
    try {
        auto [pub, secret] = new_seal_key_texts(id);
        return SealKeyPair{pub, secret};
    } catch (const SealError& e) {
        throw std::invalid_argument(e.what());
    }
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
