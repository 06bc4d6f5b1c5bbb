// The protocol's own rules, the kiosk's [sync] config, and the collector's config.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <zlib.h>

#include "collector.hpp"
#include "config_error.hpp"
#include "protocol.hpp"
#include "sync_config.hpp"
#include "sync_support.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;
using namespace kohtaamo::test;
using kohtaamo::test::sync::make_batch;

namespace {
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("protocol: a batch survives encode and decode unchanged and encodes to the same bytes twice", "[protocol]") {
    Batch b = make_batch(5, 1);
    b.responses[0].answers[0].value = "rivi 1\nrivi \"2\", åäö";
    b.responses[1].finished_at.clear();
    std::string text = encode_batch(b);
    CHECK(encode_batch(b) == text);
    Batch back = parse_batch(text, Limits{});
    CHECK(encode_batch(back) == text);
    CHECK(back.responses[0].answers[0].value == "rivi 1\nrivi \"2\", åäö");
    CHECK(back.responses[1].finished_at.empty());
}

TEST_CASE("protocol: decode names the field that is wrong", "[protocol]") {
    auto j = to_json(make_batch(3, 2));
    SECTION("wrong type") {
        j["responses"][2]["survey_version"] = "3";
        CHECK(message_of([&] { parse_batch(j.dump(), Limits{}); }) ==
              "responses[2].survey_version: must be an integer (digits only), not a string");
    }
    SECTION("missing") {
        j["responses"][1].erase("answers");
        CHECK(message_of([&] { parse_batch(j.dump(), Limits{}); }) == "responses[1].answers: missing");
    }
    SECTION("not a uuid") {
        j["responses"][0]["id"] = "123";
        CHECK_THAT(message_of([&] { parse_batch(j.dump(), Limits{}); }), Catch::Contains("responses[0].id: \"123\" is not a UUID"));
    }
    SECTION("a bad time") {
        j["responses"][0]["answers"][1]["answered_at"] = "2026-13-01T00:00:00Z";
        CHECK_THAT(message_of([&] { parse_batch(j.dump(), Limits{}); }),
                   Catch::StartsWith("responses[0].answers[1].answered_at:"));
    }
    SECTION("in progress is not sent") {
        j["responses"][0]["status"] = "in_progress";
        CHECK_THAT(message_of([&] { parse_batch(j.dump(), Limits{}); }), Catch::Contains("not a finished status"));
    }
    SECTION("unknown field") {
        j["responses"][0]["name"] = "Matti";
        CHECK_THAT(message_of([&] { parse_batch(j.dump(), Limits{}); }), Catch::StartsWith("responses[0].name: unknown field"));
    }
    SECTION("the same response twice") {
        j["responses"][1]["id"] = j["responses"][0]["id"];
        CHECK_THAT(message_of([&] { parse_batch(j.dump(), Limits{}); }), Catch::Contains("appears twice"));
    }
    SECTION("another protocol version") {
        j["protocol"] = 2;
        try {
            parse_batch(j.dump(), Limits{});
            FAIL("accepted");
        } catch (const ProtocolError& e) {
            CHECK(e.status() == 400);
            CHECK(e.code() == "unsupported_protocol");
        }
    }
    SECTION("too many responses is 413") {
        Limits small;
        small.max_responses = 2;
        try {
            parse_batch(j.dump(), small);
            FAIL("accepted");
        } catch (const ProtocolError& e) {
            CHECK(e.status() == 413);
        }
    }
}

TEST_CASE("protocol: a body with several faults is refused for the same one wherever they stand in the text",
          "[protocol]") {
    // The collector reads responses as they stream by: an error in one is kept and given
    // only after the JSON as a whole and the envelope have been checked.
    auto j = to_json(make_batch(3, 4));
    auto refused = [](const std::string& text, Limits limits = {}) {
        try {
            parse_batch(text, limits);
        } catch (const ProtocolError& e) {
            return std::to_string(e.status()) + " " + e.code() + " " + e.what();
        }
        return std::string("accepted");
    };
    j["responses"][0]["status"] = "in_progress";
    SECTION("the protocol version, written after the responses, comes first") {
        j["protocol"] = 2;
        std::string text = j.dump();
        const std::string version = ",\"protocol\":2";
        text.erase(text.find(version), version.size());
        text.insert(text.size() - 1, version);
        REQUIRE(text.find("\"protocol\"") > text.find("\"responses\""));
        CHECK_THAT(refused(text), Catch::StartsWith("400 unsupported_protocol protocol: version 2"));
    }
    SECTION("an error of the JSON in a later response comes before a field's in an earlier one") {
        std::string text = j.dump();
        const std::string flag = "\"flagged\":false";
        const auto third = text.find(flag, text.find(flag, text.find(flag) + 1) + 1);
        REQUIRE(third != std::string::npos);
        text.insert(third + flag.size(), ",\"flagged\":true");
        CHECK(refused(text) == "400 invalid_json responses[2].flagged: appears twice in the same object");
    }
    SECTION("too many responses comes before a field of one") {
        Limits small;
        small.max_responses = 2;
        CHECK_THAT(refused(j.dump(), small), Catch::StartsWith("413 too_large responses: has 3 items"));
    }
    SECTION("the envelope's ids come before a response's field") {
        j["batch_id"] = "not-a-uuid";
        CHECK_THAT(refused(j.dump()), Catch::StartsWith("400 invalid_body batch_id: \"not-a-uuid\" is not a UUID"));
    }
    SECTION("the first response at fault is named, and in it an unknown field before a wrong value") {
        j["responses"][1]["answers"][0] = 5;
        j["responses"][0]["zz"] = 1;
        CHECK_THAT(refused(j.dump()), Catch::StartsWith("400 invalid_body responses[0].zz: unknown field"));
        j["responses"][0].erase("zz");
        CHECK_THAT(refused(j.dump()), Catch::StartsWith("400 invalid_body responses[0].status: \"in_progress\""));
        j["responses"][0]["status"] = "complete";
        CHECK(refused(j.dump()) == "400 invalid_body responses[1].answers[0]: must be an object, not an integer");
    }
}

TEST_CASE("protocol: a reply counts only when it is the collector's and echoes the batch id", "[protocol]") {
    std::string why;
    Reply r{"11111111-2222-3333-4444-555555555555", {"a"}, {"b"}};
    auto ok = decode_reply(encode_reply(r), r.batch_id, why);
    REQUIRE(ok);
    CHECK(ok->stored == std::vector<std::string>{"a"});
    CHECK_FALSE(decode_reply(encode_reply(r), "99999999-2222-3333-4444-555555555555", why));
    CHECK_FALSE(decode_reply("<html><body>Welcome to Library WiFi</body></html>", r.batch_id, why));
    CHECK_THAT(why, Catch::Contains("captive portal"));
    CHECK_FALSE(decode_reply("{\"status\":\"ok\"}", r.batch_id, why));
}

TEST_CASE("protocol: gzip round trip works and truncated or corrupt or oversize streams are refused", "[protocol]") {
    std::string text(100000, 'x');
    std::string z = gzip(text);
    CHECK(z.size() < 1000);
    CHECK(gunzip(z, 1 << 20) == text);
    CHECK_THROWS_WITH(gunzip(z.substr(0, z.size() / 2), 1 << 20), Catch::Contains("ends early"));
    CHECK_THROWS_AS(gunzip("not gzip at all", 1 << 20), ProtocolError);
    CHECK_THROWS_WITH(gunzip(z, 1000), Catch::Contains("more than 1000 bytes"));
}

TEST_CASE("protocol: encode_batch writes exactly what nlohmann's dump of the batch gives, awkward text included",
          "[protocol]") {
    Batch b;
    b.batch_id = "7c4f3b1e-6a1d-4f0e-9c55-0a7e2f0f4b11";
    b.device_id = "2b0d8c8e-93a6-4c4e-8f3e-5d1f7f5a9e21";
    const std::vector<std::string> texts = {"",
                                            "Mukava paikka, kiitos!",
                                            "quote \" backslash \\ slash / tab \t newline \n cr \r",
                                            std::string("bell \x07 nul-less \x01 \x1f del \x7f bs \b ff \f"),
                                            "Päiväkoti Åbo – \xe2\x80\x9clainausmerkit\xe2\x80\x9d",
                                            "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",           // Arabic
                                            "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",  // a ZWJ family
                                            std::string(3000, 'x')};
    for (std::size_t i = 0; i < texts.size(); ++i) {
        Response r;
        r.id = "0190f3a4-0000-7000-8000-00000000000" + std::to_string(i);
        r.survey_id = i % 2 ? "family" : texts[i];
        r.survey_version = static_cast<std::int64_t>(i) * 1'000'000'007 % 1'000'000'000;
        r.language = "fi";
        r.status = i % 3 ? "complete" : "abandoned";
        r.started_at = "2026-11-25T19:55:49.123Z";
        if (i % 2) r.finished_at = "2026-11-25T19:56:49.123Z";
        r.site = texts[(i + 1) % texts.size()];
        r.event = texts[i];
        r.flagged = i % 4 == 1;
        if (i % 3 == 2) r.survey_hash = std::string(64, 'a');
        r.answers.push_back({"q1", texts[i], "2026-11-25T19:56:00.000Z"});
        r.answers.push_back({"q\"2", "", "2026-11-25T19:56:01.000Z", i % 2 ? "k1:QUJD" : ""});
        if (i == 3) r.answers.clear();
        b.responses.push_back(r);
    }
    CHECK(encode_batch(b) == to_json(b).dump());
    b.health = Health{"1.2.3", 4, "cfg \"7\"", 5, 6, 7, 8, "last\nerror"};
    CHECK(encode_batch(b) == to_json(b).dump());
    b.responses.clear();
    CHECK(encode_batch(b) == to_json(b).dump());
    // Invalid UTF-8 is refused, as dump() refuses it (the uploader sets such a response aside
    // before it is ever encoded).
    Response bad_text;
    bad_text.id = "0190f3a4-0000-7000-8000-000000000099";
    bad_text.event = "\xff\xfe";
    b.responses.push_back(bad_text);
    CHECK_THROWS(encode_batch(b));
    CHECK_THROWS(to_json(b).dump());
}

TEST_CASE("protocol: a gzip member written in parts is one member the collector reads whole", "[protocol]") {
    // As the uploader sends a batch: all but its closing brace compressed first, then the
    // health and the brace, without joining the two.
    Batch b;
    b.batch_id = "7c4f3b1e-6a1d-4f0e-9c55-0a7e2f0f4b11";
    b.device_id = "2b0d8c8e-93a6-4c4e-8f3e-5d1f7f5a9e21";
    for (int i = 0; i < 300; ++i) {
        Response r;
        char id[37];
        std::snprintf(id, sizeof id, "0190f3a4-0000-7000-8000-%012d", i);
        r.id = id;
        r.survey_id = "family";
        r.survey_version = 2;
        r.language = "fi";
        r.status = "complete";
        r.started_at = "2026-11-25T19:55:49.123Z";
        r.finished_at = "2026-11-25T19:56:49.123Z";
        r.answers.push_back({"q1", std::to_string(i % 5 + 1), "2026-11-25T19:56:00.000Z"});
        b.responses.push_back(r);
    }
    const std::string json = encode_batch(b);
    const std::string tail = ",\"health\":" + to_json(Health{}).dump() + "}";
    GzipWriter w;
    w.add(std::string_view(json).substr(0, json.size() - 1));
    const std::string z = w.finish(tail);
    const std::string whole = json.substr(0, json.size() - 1) + tail;
    CHECK(gunzip(z, 1 << 24) == whole);
    CHECK(z.size() < whole.size() / 5);
    Batch back = read_batch_body(z, "gzip", Limits{});
    CHECK(back.responses.size() == 300);
    CHECK(back.health.has_value());
    CHECK_THROWS_AS(w.finish(), std::logic_error);
    // And nothing but the trailer is a valid member too.
    CHECK(gunzip(GzipWriter().finish(), 100).empty());
}

namespace {
// The error gunzip (or read_batch_body) throws for `data`: "status code message".
std::string refusal(const std::function<void()>& f) {
    try {
        f();
    } catch (const ProtocolError& e) {
        return std::to_string(e.status()) + " " + e.code() + " " + e.what();
    }
    return "accepted";
}
}  // namespace

TEST_CASE("protocol: a gzip stream without its trailer, with a wrong CRC, with bytes after it or in zlib's format is refused",
          "[protocol]") {
    const std::string text = encode_batch(make_batch(3, 4));
    const std::string z = gzip(text);
    REQUIRE(gunzip(z, 1 << 20) == text);
    // The deflate data is complete without the last 8 bytes (CRC-32, length): every byte
    // of the JSON is there, and still it is refused.
    CHECK(refusal([&] { gunzip(z.substr(0, z.size() - 8), 1 << 20); }) ==
          "400 invalid_gzip body: the gzip stream ends early (cut off, or without its 8-byte trailer)");
    CHECK(refusal([&] { gunzip(z.substr(0, z.size() - 4), 1 << 20); }) ==
          "400 invalid_gzip body: the gzip stream ends early (cut off, or without its 8-byte trailer)");
    CHECK(refusal([&] { gunzip("", 1 << 20); }) ==
          "400 invalid_gzip body: the gzip stream ends early (cut off, or without its 8-byte trailer)");
    std::string wrong_crc = z;
    wrong_crc[wrong_crc.size() - 6] = static_cast<char>(wrong_crc[wrong_crc.size() - 6] ^ 0x55);
    CHECK_THAT(refusal([&] { gunzip(wrong_crc, 1 << 20); }), Catch::StartsWith("400 invalid_gzip body: corrupt gzip stream"));
    std::string wrong_length = z;
    wrong_length[wrong_length.size() - 2] = static_cast<char>(wrong_length[wrong_length.size() - 2] ^ 0x55);
    CHECK_THAT(refusal([&] { gunzip(wrong_length, 1 << 20); }), Catch::StartsWith("400 invalid_gzip body: corrupt gzip stream"));
    CHECK(refusal([&] { gunzip(z + "junk", 1 << 20); }) ==
          "400 invalid_gzip body: data after the end of the gzip stream (one gzip member only)");
    CHECK(refusal([&] { gunzip(z + gzip("{}"), 1 << 20); }) ==
          "400 invalid_gzip body: data after the end of the gzip stream (one gzip member only)");
    // zlib's own format (what "deflate" means in HTTP) is not gzip.
    uLongf zlen = compressBound(static_cast<uLong>(text.size()));
    std::string zl(zlen, '\0');
    REQUIRE(compress(reinterpret_cast<Bytef*>(zl.data()), &zlen, reinterpret_cast<const Bytef*>(text.data()),
                     static_cast<uLong>(text.size())) == Z_OK);
    zl.resize(zlen);
    CHECK_THAT(refusal([&] { gunzip(zl, 1 << 20); }), Catch::StartsWith("400 invalid_gzip body: corrupt gzip stream"));
}

TEST_CASE("protocol: a body as it came off the wire is read by its Content-Encoding", "[protocol]") {
    const Batch b = make_batch(2, 8);
    const std::string text = encode_batch(b);
    CHECK(read_batch_body(gzip(text), "gzip", Limits{}).batch_id == b.batch_id);
    CHECK(read_batch_body(gzip(text), "GZIP", Limits{}).batch_id == b.batch_id);
    CHECK(read_batch_body(gzip(text), "x-gzip", Limits{}).batch_id == b.batch_id);
    CHECK(read_batch_body(text, "", Limits{}).batch_id == b.batch_id);
    CHECK(read_batch_body(text, "identity", Limits{}).batch_id == b.batch_id);
    CHECK(refusal([&] { read_batch_body(gzip(text), "br", Limits{}); }) ==
          "415 unsupported_encoding Content-Encoding \"br\": send gzip");
    CHECK_THAT(refusal([&] { read_batch_body(gzip(text).substr(0, 30), "gzip", Limits{}); }),
               Catch::StartsWith("400 invalid_gzip"));
    Limits small;
    small.max_uncompressed_bytes = 100;
    CHECK_THAT(refusal([&] { read_batch_body(text, "", small); }), Catch::StartsWith("413 too_large body:"));
    CHECK_THAT(refusal([&] { read_batch_body(gzip(text), "gzip", small); }), Catch::StartsWith("413 too_large body:"));
}

TEST_CASE("protocol: every malformed body is refused with its status and code, and the message names the field",
          "[protocol]") {
    for (const auto& m : kohtaamo::test::sync::malformed_bodies()) {
        INFO(m.name);
        try {
            parse_batch(m.json, Limits{});
            FAIL_CHECK("accepted");
        } catch (const ProtocolError& e) {
            CHECK(e.status() == m.status);
            CHECK(e.code() == m.code);
            CHECK_THAT(std::string(e.what()), Catch::StartsWith(m.message));
            // The error reply can always carry the message (valid UTF-8, no raw bytes).
            const std::string reply = encode_error(e.code(), e.what());
            CHECK(decode_error(reply).second == e.what());
            CHECK(reply.find('\n') == std::string::npos);
        } catch (const std::exception& e) {
            FAIL_CHECK(std::string("not a ProtocolError: ") + e.what());
        }
    }
    for (const auto& [name, body] : kohtaamo::test::sync::borderline_good_bodies()) {
        INFO(name);
        CHECK_NOTHROW(parse_batch(body, Limits{}));
    }
}

TEST_CASE("protocol: an error reply is valid JSON whatever its message holds", "[protocol]") {
    const std::string reply = encode_error("invalid_body", "value \xff\xfe: bad \xc0");
    auto [code, message] = decode_error(reply);
    CHECK(code == "invalid_body");
    CHECK_THAT(message, Catch::StartsWith("value "));
}

TEST_CASE("protocol: the kiosk's check of one response names the field without a batch around it", "[protocol]") {
    Response r = make_batch(1, 3).responses[0];
    CHECK_FALSE(response_problem(r, Limits{}));
    r.answers[1].value = "ok \xff";
    CHECK(response_problem(r, Limits{}) == "answers[1].value: is not valid UTF-8 (byte 3)");
    r.answers[1].value = "ok";
    r.site = "a\tb";
    CHECK(response_problem(r, Limits{}) == "site: contains U+0009 (tab): a control character, not allowed here");
    r.site = "";
    r.finished_at = "2026-02-30T00:00:00Z";
    CHECK_THAT(*response_problem(r, Limits{}), Catch::EndsWith("2026-02-30 is not a day of the calendar"));
}

TEST_CASE("protocol: tokens are random and only their hash is kept", "[protocol]") {
    std::string a = new_token(), b = new_token();
    CHECK(a.size() == 64);
    CHECK(a != b);
    CHECK(hash_token(a) == hash_token(a));
    CHECK(hash_token(a) != hash_token(b));
    CHECK(hash_token(a).find(a) == std::string::npos);
    CHECK(hash_token(a).rfind("blake2b:", 0) == 0);
}

TEST_CASE("protocol: the bundled collector config's demo device is the public demo token, which is called out", "[protocol]") {
    // kohtaamo-collector and the kiosk warn at start when they meet it (collector/main.cpp, kiosk/main.cpp).
    const std::string cfg = read_file(source_dir() / "config/collector.toml");
    CHECK(cfg.find(hash_token(kDemoToken)) != std::string::npos);
    CHECK_THAT(std::string(kDemoTokenWarning), Catch::Contains("kohtaamo-collector token NAME"));
}

TEST_CASE("protocol: kiosk sync config has defaults and is off without an endpoint and errors name file and line", "[protocol][config]") {
    TempDir dir;
    auto file = dir / "kiosk.toml";
    SECTION("the bundled config has sync off") {
        SyncConfig c = load_sync_config(config_dir() / "kiosk.toml");
        CHECK_FALSE(c.enabled());
    }
    SECTION("all keys") {
        write_file(file, "[sync]\nendpoint = \"https://keruu.example.fi/k/\"\ntoken = \"abc\"\nbatch_max_responses = 50\n"
                         "backoff_initial_seconds = 3\nsend_abandoned = false\n");
        SyncConfig c = load_sync_config(file);
        CHECK(c.enabled());
        CHECK(c.endpoint == "https://keruu.example.fi/k");
        CHECK(c.batch_max_responses == 50);
        CHECK(c.backoff_initial == std::chrono::milliseconds(3000));
        CHECK_FALSE(c.send_abandoned);
    }
    SECTION("token from a file") {
        write_file(dir / "tok", "secret-token\n");
        write_file(file, "[sync]\nendpoint = \"https://x.example\"\ntoken_file = \"tok\"\n");
        CHECK(load_sync_config(file).token == "secret-token");
    }
    SECTION("plain http across the network needs a yes") {
        write_file(file, "[sync]\nendpoint = \"http://10.0.0.5:8470\"\ntoken = \"abc\"\n");
        CHECK_THROWS_WITH(load_sync_config(file), Catch::Contains("kiosk.toml:2:12") && Catch::Contains("allow_plain_http"));
    }
    SECTION("a typo") {
        write_file(file, "[sync]\nendpoint = \"https://x.example\"\ntoken = \"abc\"\nbatch_max_respones = 5\n");
        CHECK_THROWS_WITH(load_sync_config(file), Catch::Contains(":4:") && Catch::Contains("sync.batch_max_respones"));
    }
    SECTION("a wrong type") {
        write_file(file, "[sync]\nendpoint = \"https://x.example\"\ntoken = \"abc\"\ninterval_seconds = \"60\"\n");
        CHECK_THROWS_WITH(load_sync_config(file), Catch::Contains(":4:") && Catch::Contains("must be an integer"));
    }
    SECTION("no token") {
        write_file(file, "[sync]\nendpoint = \"https://x.example\"\n");
        CHECK_THROWS_WITH(load_sync_config(file), Catch::Contains("needs a token"));
    }
}

TEST_CASE("protocol: collector config example loads and mistakes name file and line and field", "[protocol][config]") {
    CollectorConfig c = load_collector_config(config_dir() / "collector.toml");
    CHECK(c.port == 8470);
    CHECK(c.devices.size() == 1);
    CHECK(c.export_tokens.empty());  // the example has none: each server makes its own
    CHECK(c.surveys.size() == 3);    // [export] surveys = "surveys", next to the file
    CHECK(c.texts_dir == config_dir() / "lang");
    CHECK(c.export_defaults.min_group == 5);
    TempDir dir;
    auto file = dir / "collector.toml";
    const std::string token = new_token();
    const std::string head = "[server]\nport = 8470\n[storage]\ndatabase = \"c.sqlite\"\n";
    // A kiosk's token can never also be an export token.
    write_file(file, head + "[[device]]\nname = \"k1\"\ntoken_hash = \"" + hash_token(token) +
                         "\"\n[[export_token]]\nname = \"coordinator\"\ntoken_hash = \"" + hash_token(token) + "\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:10") &&
                                                       Catch::Contains("export_token[0].token_hash is device \"k1\"'s token"));
    write_file(file, head + "[[export_token]]\nname = \"coordinator\"\ntoken_hash = \"" + token + "\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("export_token[0].token_hash") &&
                                                       Catch::Contains("token --export coordinator"));
    write_file(file, head + "[export]\nsurveys = \"nowhere\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:6") &&
                                                       Catch::Contains("export.surveys") && Catch::Contains("not a folder"));
    write_file(file, head + "[export]\ncsv = \"excel-fi\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("export.csv"));
    write_file(file, head + "[export]\nmin_group = 0\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("export.min_group must be 1..1000"));
    write_file(file, "[server]\nport = 8470\n[storage]\ndatabase = \"c.sqlite\"\n[[device]]\nname = \"k1\"\n"
                     "token_hash = \"plain-token\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:7") &&
                                                       Catch::Contains("device[0].token_hash") &&
                                                       Catch::Contains("never the token itself"));
    write_file(file, "[server]\nport = 99999\n[storage]\ndatabase = \"c.sqlite\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:2") && Catch::Contains("server.port"));

    // The database: [database] url for either driver; today's [storage] database still reads.
    write_file(file, "[server]\nport = 8470\n[storage]\ndatabase = \"c.sqlite\"\n");
    CollectorConfig old_style = load_collector_config(file);
    CHECK(old_style.database.driver == DatabaseConfig::Driver::Sqlite);
    CHECK(old_style.database.file == dir / "c.sqlite");
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"sqlite:data/c.sqlite\"\n");
    CHECK(load_collector_config(file).database.file == dir / "data/c.sqlite");
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"postgresql://kohtaamo:secret@db.example:5432/keruu\"\n"
                     "connections = 6\nstalled_after_seconds = 45\n");
    CollectorConfig pg = load_collector_config(file);
    CHECK(pg.database.driver == DatabaseConfig::Driver::Postgresql);
    CHECK(pg.database.connections == 6);
    CHECK(pg.database.stalled_after_seconds == 45);
    CHECK(old_style.database.stalled_after_seconds == 30);  // the default
    CHECK(pg.database.describe() == "postgresql://kohtaamo:***@db.example:5432/keruu");  // never the password
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"mysql://x\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:4") && Catch::Contains("database.url") &&
                                                       Catch::Contains("neither postgresql://"));
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"sqlite:c.sqlite\"\n[storage]\ndatabase = \"c.sqlite\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:5") && Catch::Contains("give the database once"));
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"sqlite:c.sqlite\"\nconnections = 3\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:5") &&
                                                       Catch::Contains("database.connections is for PostgreSQL"));
    write_file(file, "[server]\nport = 8470\n[database]\nurl = \"sqlite:c.sqlite\"\nstalled_after_seconds = 0\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:5") &&
                                                       Catch::Contains("database.stalled_after_seconds"));
    write_file(file, "[server]\nport = 8470\nheader_timeout_seconds = 0\n[database]\nurl = \"sqlite:c.sqlite\"\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("collector.toml:3") &&
                                                       Catch::Contains("server.header_timeout_seconds"));
    write_file(file, "[server]\nport = 8470\n");
    CHECK_THROWS_WITH(load_collector_config(file), Catch::Contains("no [database]"));
}

TEST_CASE("protocol: the device file gives the endpoint and token, and its relative paths are its own folder's", "[protocol][config]") {
    TempDir dir;
    std::filesystem::create_directories(dir / "etc");
    write_file(dir / "kiosk.toml", "[kiosk]\ndevice = \"etc/device.toml\"\n[sync]\ninterval_seconds = 5\n");
    write_file(dir / "etc/ca.pem", "not read here\n");
    write_file(dir / "etc/tok", "from-the-device-file\n");
    write_file(dir / "etc/device.toml", "[device]\nsite = \"k\"\n[sync]\nendpoint = \"https://keruu.example.fi\"\n"
                                        "token_file = \"tok\"\nca_file = \"ca.pem\"\n");
    std::filesystem::permissions(dir / "etc/device.toml",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    SyncConfig c = load_sync_config(dir / "kiosk.toml");
    CHECK(c.endpoint == "https://keruu.example.fi");
    CHECK(c.token == "from-the-device-file");
    CHECK(c.ca_file == (dir / "etc/ca.pem").string());
    CHECK(c.interval == std::chrono::milliseconds(5000));  // the shared file's tuning stays

    // The URL rule names the device file's line.
    write_file(dir / "etc/device.toml", "[device]\nsite = \"k\"\n[sync]\nendpoint = \"http://10.0.0.5\"\ntoken = \"t\"\n");
    CHECK_THROWS_WITH(load_sync_config(dir / "kiosk.toml"),
                      Catch::StartsWith((dir / "etc/device.toml").string() + ":4:") && Catch::Contains("plain http"));
    CHECK(endpoint_problem("http://127.0.0.1:8470", false) == std::nullopt);
    CHECK(endpoint_problem("https://keruu.example.fi", false) == std::nullopt);
    CHECK(endpoint_problem("http://keruu.example.fi", true) == std::nullopt);
    CHECK_THAT(endpoint_problem("http://keruu.example.fi", false).value_or(""), Catch::Contains("plain http"));
    CHECK_THAT(endpoint_problem("ftp://keruu.example.fi", false).value_or(""), Catch::Contains("must start with https://"));
    // Plain http only to this machine: the host is read whole.
    for (const char* local : {"http://127.0.0.1", "http://127.0.0.1:8470/kohtaamo", "http://127.1.2.3/x", "http://localhost",
                              "http://localhost:8470", "http://[::1]:8470", "http://LOCALHOST/x", "http://user@127.0.0.1:8470",
                              "http://127.255.255.254"})
        CHECK(endpoint_problem(local, false) == std::nullopt);
    for (const char* remote : {"http://127.0.0.1.example.net", "http://127.evil.example:80", "http://127.0.0.1@evil.example",
                               "http://127.0.0.1@elsewhere.example", "http://127.0.0.1:80@elsewhere.example/x",
                               "http://localhost@elsewhere.example", "http://[::1]@elsewhere.example",
                               "http://localhost.example.net", "http://127.0.0.256", "http://128.0.0.1", "http://[::2]"})
        CHECK(endpoint_problem(remote, false).has_value());
    // The refusal names the host curl would really connect to.
    CHECK_THAT(endpoint_problem("http://127.0.0.1@elsewhere.example", false).value_or(""),
               Catch::Contains("plain http to elsewhere.example"));
    CHECK_THAT(endpoint_problem("http://exa mple", false).value_or(""), Catch::Contains("not a URL"));
}

TEST_CASE("protocol: kohtaamo-collector keys writes the secret half 0600 and prints the public half for seal_to", "[protocol]") {
    TempDir dir;
    const mode_t old = ::umask(022);
    auto r = run_program({KOHTAAMO_COLLECTOR_BIN, "keys", "--id", "k2", "--secret", (dir / "k2.secret").string()});
    ::umask(old);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    struct stat st {};
    REQUIRE(::stat((dir / "k2.secret").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const std::string secret = read_file(dir / "k2.secret");
    CHECK_THAT(secret, Catch::StartsWith("k2:"));
    CHECK(secret.size() == 3 + 44 + 1);  // 32 bytes in Base64, a newline
    CHECK_THAT(r.out, Catch::Contains("[privacy]\nseal_to = \"k2:"));
    CHECK(r.out.find(secret.substr(3, 44)) == std::string::npos);  // the secret is never printed
    // Never over an existing key; a bad id is named.
    auto again = run_program({KOHTAAMO_COLLECTOR_BIN, "keys", "--id", "k2", "--secret", (dir / "k2.secret").string()});
    CHECK(again.exit_code == 2);
    CHECK_THAT(again.err, Catch::Contains("never overwritten"));
    CHECK(read_file(dir / "k2.secret") == secret);
    auto bad = run_program({KOHTAAMO_COLLECTOR_BIN, "keys", "--id", "k 1", "--secret", (dir / "x").string()});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("--id"));
}
