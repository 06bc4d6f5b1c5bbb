// The collector's fast batch reader (sync/collector/batch_reader.hpp) against the one
// that decides (parse_batch): whatever the fast one returns must be exactly what
// parse_batch returns, on kiosks' bodies and on many thousand bodies mutated at random.
#include <catch2/catch.hpp>

#include <random>

#include "batch_reader.hpp"
#include "protocol.hpp"
#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using kohtaamo::test::sync::make_batch;

namespace {

// Every field of two batches, health included ("" when equal, else the first difference).
std::string difference(const Batch& a, const Batch& b) {
    if (a.batch_id != b.batch_id || a.device_id != b.device_id) return "the envelope";
    if (a.health.has_value() != b.health.has_value()) return "health present";
    if (a.health) {
        const Health &x = *a.health, &y = *b.health;
        if (x.app_version != y.app_version || x.bundle_version != y.bundle_version ||
            x.config_version != y.config_version || x.pending != y.pending ||
            x.oldest_pending_age_s != y.oldest_pending_age_s || x.free_disk_bytes != y.free_disk_bytes ||
            x.uptime_s != y.uptime_s || x.last_error != y.last_error)
            return "health";
    }
    if (a.responses.size() != b.responses.size()) return "the number of responses";
    for (std::size_t i = 0; i < a.responses.size(); ++i) {
        const Response &r = a.responses[i], &s = b.responses[i];
        const std::string at = "responses[" + std::to_string(i) + "]";
        if (r.id != s.id || r.survey_id != s.survey_id || r.survey_version != s.survey_version ||
            r.language != s.language || r.status != s.status || r.started_at != s.started_at ||
            r.finished_at != s.finished_at || r.site != s.site || r.event != s.event || r.flagged != s.flagged ||
            r.survey_hash != s.survey_hash)
            return at;
        if (r.answers.size() != s.answers.size()) return at + ".answers";
        for (std::size_t k = 0; k < r.answers.size(); ++k) {
            const Answer &x = r.answers[k], &y = s.answers[k];
            if (x.question_id != y.question_id || x.value != y.value || x.answered_at != y.answered_at ||
                x.sealed != y.sealed)
                return at + ".answers[" + std::to_string(k) + "]";
        }
    }
    return "";
}

// What parse_batch makes of `text`: the batch, or its refusal.
struct Slow {
    std::optional<Batch> batch;
    std::string refusal;
};
Slow slow(const std::string& text) {
    Slow out;
    try {
        out.batch = parse_batch(text, Limits{});
    } catch (const ProtocolError& e) {
        out.refusal = std::to_string(e.status()) + " " + e.what();
    }
    return out;
}

// Checks the fast reader on `text`; returns whether it read it (rather than declined).
bool agrees(const std::string& text) {
    std::string copy = text;
    const std::optional<Batch> fast = read_batch_fast(copy, Limits{});
    const Slow s = slow(text);
    if (!fast) return false;
    INFO(text);
    REQUIRE(s.refusal == "");  // read by the fast path, refused by parse_batch: never
    const std::string diff = difference(*fast, *s.batch);
    CHECK(diff == "");
    return diff.empty();
}

// Kiosks' bodies: clear and sealed answers, health, no finished_at, a survey hash, text
// in several scripts, escapes.
std::vector<std::string> kiosk_bodies() {
    std::vector<std::string> out;
    for (unsigned seed = 1; seed <= 4; ++seed) {
        Batch b = make_batch(3, seed);
        b.responses[0].answers[0].value = "rivi 1\nrivi \"2\"\t\\ åäö Привіт مرحبا 🙂";
        b.responses[1].finished_at.clear();
        b.responses[1].survey_hash = std::string(64, 'a');
        b.responses[2].flagged = seed % 2 == 0;
        b.responses[2].site = "Hervanta";
        if (seed % 2) {
            b.responses[2].answers[0].sealed = "k1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";
            b.responses[2].answers[0].value.clear();
        }
        if (seed > 2) b.health = Health{"1.4.0", 7, "2026-11", 12, 30, 1'000'000'000, 3600, "upload: timed out"};
        out.push_back(encode_batch(b));
    }
    return out;
}

}  // namespace

TEST_CASE("batch reader: a kiosk's batch is read by the fast reader into exactly what parse_batch reads",
          "[protocol]") {
    for (const std::string& body : kiosk_bodies()) CHECK(agrees(body));
    // Whitespace between the tokens and keys in another order are still a kiosk's JSON.
    const std::string body = kiosk_bodies()[3];
    nlohmann::json j = nlohmann::json::parse(body);
    CHECK(agrees(j.dump(2)));
    CHECK(agrees(" \n" + body + "\n\t"));
    // The largest body it takes, and one past it (read by parse_batch all the same).
    std::string big = body;
    big.insert(big.size() - 1, std::string(kFastBytes - big.size(), ' '));
    CHECK(agrees(big));
    big.insert(big.size() - 1, " ");
    CHECK_FALSE(agrees(big));
    CHECK(read_batch(big, "", Limits{}).batch_id == j["batch_id"]);
}

TEST_CASE("batch reader: every body parse_batch refuses, the fast reader declines and the refusal is parse_batch's",
          "[protocol]") {
    for (const auto& m : kohtaamo::test::sync::malformed_bodies()) {
        INFO(m.name);
        std::string copy = m.json;
        CHECK_FALSE(read_batch_fast(copy, Limits{}).has_value());
        // read_batch (what the collector calls) refuses it with parse_batch's words.
        try {
            read_batch(m.json, "", Limits{});
            FAIL_CHECK("accepted");
        } catch (const ProtocolError& e) {
            CHECK(std::to_string(e.status()) + " " + e.what() == slow(m.json).refusal);
        }
    }
    for (const auto& [name, body] : kohtaamo::test::sync::borderline_good_bodies()) {
        INFO(name);
        agrees(body);  // read or declined; if read, read the same
        CHECK(read_batch(body, "", Limits{}).batch_id == parse_batch(body, Limits{}).batch_id);
    }
    // What simdjson and nlohmann might disagree on, each told apart by parse_batch.
    const std::string body = kiosk_bodies()[2];
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = body;
        const auto at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    for (const std::string& text :
         {"\xEF\xBB\xBF" + body, with("\"survey_version\":1", "\"survey_version\":-0"),
          with("\"survey_version\":1", "\"survey_version\":1.0"), with("\"survey_version\":1", "\"survey_version\":1e0"),
          with("\"survey_version\":1", "\"survey_version\":1,\"survey_version\":1"),
          with("\"value\":\"", "\"value\":\"\\ud800"), with("\"value\":\"", "\"value\":\"\\u0000"),
          with("\"value\":\"", "\"value\":\"\\udc00\\ud800"), with("\"value\":\"", "\"value\":\"\\ud83d\\ude42"),
          with("\"pending\":12", "\"pending\":1e400"), with("\"pending\":12", "\"pending\":12,\"pending\":12"),
          with("\"pending\":12", "\"pending\":12.0"), with("\"pending\":12", "\"pending\":18446744073709551615"),
          with("\"protocol\":1", "\"protocol\":1,\"protocol\":1"), with("\"value\":\"", "\"value\":\"\x7f"),
          with("\"value\":\"", "\"value\":\"\xc2\x85"), with("\"value\":\"", "\"value\":\"\xed\xa0\x80"),
          with("\"value\":\"", "\"value\":\"\xf4\x90\x80\x80"), with("\"value\":\"", "\"value\":\"\x01"),
          body + "x", body.substr(0, body.size() - 1)}) {
        agrees(text);
        try {
            const Batch b = read_batch(text, "", Limits{});
            CHECK(slow(text).refusal == "");
            CHECK(difference(b, *slow(text).batch) == "");
        } catch (const ProtocolError& e) {
            CHECK(std::to_string(e.status()) + " " + e.what() == slow(text).refusal);
        }
    }
}

TEST_CASE("batch reader: on 40,000 bodies mutated at random, what the fast reader reads equals what parse_batch reads",
          "[protocol]") {
    // Byte edits biased to what JSON and the field rules care about.
    const std::string alphabet = std::string("\"\\{}[]:,0123456789-+.eEtrufalsn u") + '\0' + "\x01\x1f\x7f\x80\xbf\xc2\xc3\xe2\xed\xf0\xf4\xff\t\n";
    const std::vector<std::string> bases = kiosk_bodies();
    std::mt19937 rng(20261203);
    int read = 0, declined_but_good = 0;
    for (int round = 0; round < 40000; ++round) {
        std::string s = bases[rng() % bases.size()];
        const int edits = rng() % 4 == 0 ? 2 : 1;
        for (int e = 0; e < edits && !s.empty(); ++e) {
            const std::size_t at = rng() % s.size();
            switch (rng() % 7) {
                case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
                case 1: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
                case 2: s.erase(at, 1 + rng() % 3); break;
                case 3: {  // a span copied elsewhere (a key or a member twice, say)
                    const std::size_t len = 1 + rng() % 40, to = rng() % s.size();
                    s.insert(to, s.substr(at, len));
                    break;
                }
                case 5:
                case 6: {  // an answer's value: escapes, control characters, UTF-8 in free text
                    std::size_t v = s.find("\"value\":\"", at);
                    if (v == std::string::npos) v = s.find("\"value\":\"");
                    if (v != std::string::npos) {
                        std::string what(1 + rng() % 2, alphabet[rng() % alphabet.size()]);
                        if (rng() % 2) what = std::string("\\") + "u\\nt\"/bfr"[rng() % 10] + (rng() % 2 ? "00e5" : "d83d");
                        s.insert(v + 9, what);
                    }
                    break;
                }
                default: {  // a string's content changed for another
                    const std::size_t q = s.find('"', at);
                    if (q != std::string::npos) s.insert(q + 1, std::string(1 + rng() % 3, alphabet[rng() % alphabet.size()]));
                }
            }
        }
        if (agrees(s)) ++read;
        else if (slow(s).batch) ++declined_but_good;
    }
    // The mutations reach both sides: many bodies still good and read fast, many refused.
    INFO("read by the fast reader: " << read << ", good but declined: " << declined_but_good);
    CHECK(read > 4000);
    CHECK(read < 36000);
}
