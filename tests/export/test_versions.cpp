// Survey versions in the exports (docs/export.md, "Survey versions"): each response is read
// with the definition it was answered with, kept in the kiosk's database (store step 7).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "export_fixtures.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Version 1: a face, what was best (choice ids) and a free comment. Version 2: the face only.
const char* kV1 = R"(id = "visit"
version = 1
title = { fi = "Käynti" }
[[questions]]
id = "feeling"
kind = "smiley"
faces = 3
text = { fi = "Miltä tuntui?" }
[[questions]]
id = "best"
kind = "choice"
text = { fi = "Mikä oli parasta?" }
  [[questions.choices]]
  id = "swing"
  text = { fi = "Keinu" }
  [[questions.choices]]
  id = "books"
  text = { fi = "Kirjat" }
[[questions]]
id = "comment"
kind = "text"
required = false
text = { fi = "Terveiset?" }
)";
const char* kV2 = R"(id = "visit"
version = 2
title = { fi = "Käynti" }
[[questions]]
id = "feeling"
kind = "smiley"
faces = 3
text = { fi = "Miltä tuntui?" }
)";

}  // namespace

TEST_CASE("versions: without free text, a question dropped since stays for the answers given to it when its own "
          "version says it is no free text, and its free text goes") {
    TempDir dir;
    write_file(dir / "v1.toml", kV1);
    write_file(dir / "v2" / "visit.toml", kV2);
    const Survey v1 = load_survey(dir / "v1.toml", {"fi"}), v2 = load_survey(dir / "v2" / "visit.toml", {"fi"});
    const fs::path db = dir / "k.sqlite";
    {
        Store store(db, kT0);
        std::int64_t t = kT0;
        for (int i = 0; i < 6; ++i, t += 60'000) {
            ResponseHeader h{new_uuid(), "visit", 1, "fi", "kalliola", "", t, v1.hash, &v1.definition};
            store.save_answer(h, "feeling", {"3"}, t + 1000);
            store.save_answer(h, "best", {"swing"}, t + 2000);
            store.save_answer(h, "comment", {"Kiitos paljon"}, t + 3000);
            store.finish(h.id, ResponseStatus::Complete, t + 4000);
        }
        for (int i = 0; i < 6; ++i, t += 60'000) {
            ResponseHeader h{new_uuid(), "visit", 2, "fi", "kalliola", "", t, v2.hash, &v2.definition};
            store.save_answer(h, "feeling", {"1"}, t + 1000);
            store.finish(h.id, ResponseStatus::Complete, t + 2000);
        }
    }
    ExportOptions o;
    o.long_csv = false;
    o.jsonl = false;
    o.xlsx = false;
    o.min_group = 1;
    o.name = "v";
    o.now_ms = kT0 + 86'400'000;
    o.texts_dir = config_dir() / "lang";
    o.filter.free_text = false;
    fs::create_directories(dir / "out");
    const ExportResult r = export_to_folder(db, {v2}, dir / "out", o);
    INFO(r.message);
    REQUIRE(r.ok());
    CHECK(r.withheld == 6);  // the comments, and nothing else
    const std::string wide = read_all(dir / "out" / "v-wide-visit.csv");
    CHECK(wide.substr(0, wide.find("\r\n")).ends_with(",feeling,best"));
    CHECK_THAT(wide, Catch::Contains(",3,swing\r\n") && !Catch::Contains("Kiitos"));
    const std::string html = read_all(dir / "out" / "v-report-fi.html");
    CHECK_THAT(html, Catch::Contains("Mikä oli parasta?") && Catch::Contains("Keinu") && !Catch::Contains("Kiitos"));
    CHECK_THAT(html, !Catch::Contains("Terveiset?"));
}
