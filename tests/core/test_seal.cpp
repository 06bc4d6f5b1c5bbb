// Sealed answers in the kiosk's store (kiosk/core/seal.hpp, store.hpp): boxes that only the
// secret half opens, a locked key file, the mischief rule on keyed hashes held in memory,
// and [privacy] seal_to in the config.
#include <catch2/catch.hpp>

#include <fstream>

#include "config.hpp"
#include "config_error.hpp"
#include "seal.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "test_support.hpp"

using namespace kohtaamo;
using kohtaamo::test::query;
using kohtaamo::test::Rows;
using kohtaamo::test::TempDir;

namespace {

ResponseHeader header(int n, std::int64_t started_ms) {
    ResponseHeader h;
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", n);
    h.id = id;
    h.survey_id = "child";
    h.survey_version = 1;
    h.language = "fi";
    h.started_ms = started_ms;
    return h;
}

// One response with these answers, finished 5 s after it started.
bool answer(Store& s, int n, std::int64_t at, const std::string& mood, const std::vector<std::string>& liked) {
    const ResponseHeader h = header(n, at);
    s.save_answer(h, "mood", {mood}, at + 1000);
    s.save_answer(h, "liked", liked, at + 2000);
    return s.finish(h.id, ResponseStatus::Complete, at + 5000, 20'000);
}

}  // namespace

TEST_CASE("seal: a sealed value opens only with its secret key, padded so that short values look alike", "[seal]") {
    auto [pub, secret] = new_seal_key_texts("k1");
    auto [pub2, secret2] = new_seal_key_texts("k1");
    const SealPublicKey pk = parse_seal_public_key(pub);
    const SealSecretKey sk = parse_seal_secret_key(secret), other = parse_seal_secret_key(secret2);
    const std::string a = seal_value(pk, "4"), b = seal_value(pk, "4"), c = seal_value(pk, "kahvinkeitin");
    CHECK(a != b);  // random: equal values do not show as equal boxes
    CHECK(a.size() == c.size());
    CHECK(open_value(sk, a) == std::optional<std::string>("4"));
    CHECK(open_value(sk, c) == std::optional<std::string>("kahvinkeitin"));
    CHECK(open_value(other, a) == std::nullopt);  // another key of the same id
    std::string altered = a;
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    CHECK(open_value(sk, altered) == std::nullopt);
    const std::string long_text(5000, 'x');
    CHECK(open_value(sk, seal_value(pk, long_text)) == long_text);
    CHECK(open_value(sk, seal_value(pk, "")) == std::optional<std::string>(""));

    CHECK_THROWS_WITH(parse_seal_public_key("k1"), Catch::Contains("ID:BASE64"));
    CHECK_THROWS_WITH(parse_seal_public_key("k 1:AAAA"), Catch::Contains("key id"));
    CHECK_THROWS_WITH(parse_seal_public_key("k1:AAAA"), Catch::Contains("32 bytes"));

    // Locked with a passphrase (a coordinator's stick): the right one opens it, a wrong one says so.
    const std::string locked = wrap_seal_secret(sk, "kissa kävelee yksin");
    CHECK(locked.find(secret.substr(3)) == std::string::npos);
    const SealSecretKey back = unwrap_seal_secret(locked, "kissa kävelee yksin");
    CHECK(back.id == "k1");
    CHECK(open_value(back, a) == std::optional<std::string>("4"));
    CHECK_THROWS_WITH(unwrap_seal_secret(locked, "koira"), Catch::Contains("the passphrase does not open key \"k1\""));
    CHECK_THROWS_WITH(wrap_seal_secret(sk, "lyhyt"), Catch::Contains("8 characters"));
}

TEST_CASE("seal: a sealed store keeps no clear value, and the mischief rule compares keyed hashes and resets at a restart",
          "[seal]") {
    TempDir dir;
    const auto file = dir / "kohtaamo.sqlite";
    auto [pub, secret] = new_seal_key_texts("k7");
    const std::int64_t t = 1'790'000'000'000;
    {
        Store s(file, t);
        s.set_seal_to(parse_seal_public_key(pub));
        CHECK(s.sealing());
        CHECK_FALSE(answer(s, 1, t, "5", {"swing", "books"}));
        // The same answers (in another order) 10 s after: flagged, as without sealing.
        CHECK(answer(s, 2, t + 15'000, "5", {"books", "swing", "books"}));
        // Different answers: not flagged.
        CHECK_FALSE(answer(s, 3, t + 30'000, "5", {"books"}));
        // Back on a question: the last answer counts (as the session sends it again).
        const ResponseHeader h = header(4, t + 45'000);
        s.save_answer(h, "mood", {"1"}, t + 46'000);
        s.save_answer(h, "mood", {"5"}, t + 47'000);
        s.save_answer(h, "liked", {"books"}, t + 47'500);
        CHECK(s.finish(h.id, ResponseStatus::Complete, t + 50'000, 20'000));
    }
    // Nothing but boxes on disk: every row names its key, no value is a clear one.
    CHECK(query(file, "SELECT count(*), count(DISTINCT seal_key), min(seal_key) FROM answers") == Rows{{"10", "1", "k7"}});
    CHECK(query(file, "SELECT count(*) FROM answers WHERE value IN ('5', '1', 'swing', 'books')") == Rows{{"0"}});
    CHECK(query(file, "SELECT id, flagged FROM responses ORDER BY id") ==
          Rows{{"00000000-0000-4000-8000-000000000001", "0"},
               {"00000000-0000-4000-8000-000000000002", "1"},
               {"00000000-0000-4000-8000-000000000003", "0"},
               {"00000000-0000-4000-8000-000000000004", "1"}});
    const SealSecretKey sk = parse_seal_secret_key(secret);
    std::vector<std::string> opened;
    for (const auto& row : query(file, "SELECT value FROM answers WHERE response_id LIKE '%4' ORDER BY question_id"))
        opened.push_back(open_value(sk, row[0]).value_or("?"));
    CHECK(opened == std::vector<std::string>{"books", "5"});
    {
        // After a restart the hashing key is new: the previous response cannot be compared
        // (its clear answers were never kept), so the same answers again are not flagged.
        Store s(file, t + 55'000);
        s.set_seal_to(parse_seal_public_key(pub));
        CHECK_FALSE(answer(s, 5, t + 56'000, "5", {"books"}));
        CHECK(answer(s, 6, t + 62'000, "5", {"books"}));
        // Sealing off again: answers are stored clear, and compared as before.
        s.set_seal_to(std::nullopt);
        CHECK_FALSE(answer(s, 7, t + 70'000, "3", {"swing"}));  // the previous one is sealed: never equal
        CHECK(answer(s, 8, t + 76'000, "3", {"swing"}));
    }
    CHECK(query(file, "SELECT count(*) FROM answers WHERE seal_key IS NULL AND value IN ('3', 'swing')") == Rows{{"4"}});
}

TEST_CASE("seal: privacy.seal_to is the public key with its id, anything else is refused with its line", "[seal]") {
    TempDir dir;
    const auto kiosk = test::copy_bundled_config(dir.path());
    const std::string base = test::read_file(kiosk);
    auto [pub, secret] = new_seal_key_texts("k1");
    test::write_file(kiosk, base + "\n[privacy]\nseal_to = \"" + pub + "\"\n");
    CHECK(load_device_config(kiosk).seal_to == pub);
    test::write_file(kiosk, base + "\n[privacy]\nseal_to = \"k1:bm90IGEga2V5\"\n");
    CHECK_THROWS_WITH(load_device_config(kiosk), Catch::Contains("privacy.seal_to") && Catch::Contains("32 bytes"));
    test::write_file(kiosk, base + "\n[privacy]\nseal = \"" + pub + "\"\n");
    CHECK_THROWS_AS(load_device_config(kiosk), ConfigError);
    test::write_file(kiosk, base);
    CHECK(load_device_config(kiosk).seal_to.empty());
}
