// Exporting to a drive: a full, read-only or missing drive fails with a clear status and
// leaves nothing half-written under a final name; a cancel leaves nothing; drives are found
// where sticks are mounted; any SQLite file with the kiosk's tables exports (the collector's).
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>

#include "export_fixtures.hpp"

using namespace kohtaamo;
using namespace kohtaamo::test;

namespace {

// 300 parents with a long idea each: well over 256 KiB in every format.
void many_ideas(KioskDb& db) {
    const std::string idea(900, 'x');
    for (int i = 0; i < 300; ++i)
        db.add("p" + std::to_string(i), "family", kT0 + i * 60'000, {{"welcome", {"4"}}, {"idea", {idea + std::to_string(i)}}});
}

void remount(const std::filesystem::path& dir, unsigned long flags) {
    REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT | flags, nullptr) == 0);
}

}  // namespace

TEST_CASE("an export to a full drive fails as 'drive full' and leaves the earlier export as it was") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    many_ideas(db);
    SmallDisk disk(256 * 1024);
    write_file(disk.path() / "t-long.csv", "the export of last week\r\n");

    ExportResult r = export_to_folder(db.path(), bundled_surveys(), disk.path(), options_for());
    CHECK(r.status == ExportStatus::DriveFull);
    CHECK_THAT(r.message, Catch::Contains("full") && Catch::Contains(disk.path().string()));
    CHECK(r.files.empty());
    // No partial file under a final name, no temporary file left, last week's file untouched.
    CHECK(listing(disk.path()) == std::vector<std::string>{"t-long.csv"});
    CHECK(read_file(disk.path() / "t-long.csv") == "the export of last week\r\n");

    // A drive filled to the last byte fails the same way even for a small export ...
    std::filesystem::remove(disk.path() / "t-long.csv");
    disk.fill();
    ExportOptions small = options_for();
    small.wide_csv = small.long_csv = small.jsonl = false;
    CHECK(export_to_folder(db.path(), bundled_surveys(), disk.path(), small).status == ExportStatus::DriveFull);
    CHECK(listing(disk.path()) == std::vector<std::string>{"ballast"});
    // ... and works once there is room again.
    disk.unfill();
    ExportResult ok = export_to_folder(db.path(), bundled_surveys(), disk.path(), small);
    CHECK(ok.ok());
    CHECK(listing(disk.path()) == std::vector<std::string>{"t-report-fi.html"});
}

TEST_CASE("an export to a read-only drive fails as 'read-only' and writes nothing") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    db.add("r1", "child", kT0, {{"feeling", {"5"}}});
    SmallDisk disk(1024 * 1024);
    remount(disk.path(), MS_RDONLY);
    ExportResult r = export_to_folder(db.path(), bundled_surveys(), disk.path(), options_for());
    CHECK(r.status == ExportStatus::ReadOnly);
    CHECK_THAT(r.message, Catch::Contains("cannot be written") && Catch::Contains("Read-only file system"));
    CHECK(listing(disk.path()).empty());
    remount(disk.path(), 0);
}

TEST_CASE("no drive, a cancel and an unreadable database each fail clearly and leave nothing") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    db.add("r1", "child", kT0, {{"feeling", {"5"}}, {"best", {"play"}}});
    db.add("r2", "child", kT0 + 1, {{"feeling", {"4"}}});

    ExportResult gone = export_to_folder(db.path(), bundled_surveys(), dir / "media/usb", options_for());
    CHECK(gone.status == ExportStatus::NoDrive);
    CHECK_THAT(gone.message, Catch::Contains("media/usb"));
    write_file(dir / "a-file", "x");
    CHECK(export_to_folder(db.path(), bundled_surveys(), dir / "a-file", options_for()).status == ExportStatus::NoDrive);

    TempDir out;
    int calls = 0;
    ExportResult cancelled = export_to_folder(db.path(), bundled_surveys(), out.path(), options_for(),
                                              [&](std::uint64_t, std::uint64_t) { return ++calls < 1; });
    CHECK(cancelled.status == ExportStatus::Cancelled);
    CHECK(listing(out.path()).empty());

    // Progress ends at the total: every answer row.
    std::uint64_t last_done = 0, last_total = 0;
    REQUIRE(export_to_folder(db.path(), bundled_surveys(), out.path(), options_for(), [&](std::uint64_t d, std::uint64_t t) {
                last_done = d;
                last_total = t;
                return true;
            }).ok());
    CHECK(last_done == 3);
    CHECK(last_total == 3);

    ExportResult missing = export_to_folder(dir / "none.sqlite", bundled_surveys(), out.path(), options_for());
    CHECK(missing.status == ExportStatus::DatabaseError);
    CHECK_THAT(missing.message, Catch::Contains("none.sqlite"));
    {
        sqlite3* h = nullptr;
        sqlite3_open((dir / "empty.sqlite").c_str(), &h);
        sqlite_exec(h, "CREATE TABLE other(x)");
        sqlite3_close(h);
    }
    ExportResult wrong = export_to_folder(dir / "empty.sqlite", bundled_surveys(), out.path(), options_for("u"));
    CHECK(wrong.status == ExportStatus::DatabaseError);
    CHECK_THAT(wrong.message, Catch::Contains("no such table"));
    CHECK(listing(out.path()).size() == 4);  // only the good export's files: wide-child, long, jsonl, report
}

TEST_CASE("a collector's database (extra columns, several sites) exports with its device column") {
    TempDir dir;
    const auto file = dir / "collector.sqlite";
    {
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &h) == SQLITE_OK);
        sqlite_exec(h, R"sql(
CREATE TABLE responses (id TEXT PRIMARY KEY, survey_id TEXT NOT NULL, survey_version INTEGER NOT NULL,
  language TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
  site TEXT NOT NULL, event TEXT NOT NULL, flagged INTEGER NOT NULL, device_id TEXT NOT NULL,
  received_at TEXT NOT NULL, batch_id TEXT NOT NULL);
CREATE TABLE answers (response_id TEXT NOT NULL, question_id TEXT NOT NULL, value TEXT NOT NULL,
  answered_at TEXT NOT NULL, PRIMARY KEY (response_id, question_id, value));
INSERT INTO responses VALUES
  ('a', 'child', 1, 'fi', 'complete', '2026-03-10T10:00:00.000Z', '2026-03-10T10:00:09.000Z', 'kalliola', '', 0, 'dev-1', '2026-03-11T00:00:00.000Z', 'b1'),
  ('b', 'child', 1, 'sv', 'complete', '2026-03-10T11:00:00.000Z', '2026-03-10T11:00:09.000Z', 'puistola', 'fair', 0, 'dev-2', '2026-03-11T00:00:00.000Z', 'b2');
INSERT INTO answers VALUES ('a', 'feeling', '5', '2026-03-10T10:00:03.000Z'), ('b', 'feeling', '2', '2026-03-10T11:00:03.000Z');
)sql");
        sqlite3_close(h);
    }
    TempDir out;
    ExportOptions o = options_for();
    o.filter.sites = {"puistola"};
    ExportResult r = export_to_folder(file, bundled_surveys(), out.path(), o);
    REQUIRE(r.ok());
    CHECK(read_csv(out / "t-long.csv", ',') ==
          Rows{{"response_id", "survey_id", "survey_version", "site", "event", "device_id", "language", "status", "flagged",
                "started_at", "finished_at", "question_id", "value", "answered_at"},
               {"b", "child", "1", "puistola", "fair", "dev-2", "sv", "complete", "0", "2026-03-10T11:00:00.000Z",
                "2026-03-10T11:00:09.000Z", "feeling", "2", "2026-03-10T11:00:03.000Z"}});
}

TEST_CASE("drives are found where sticks are mounted, and a configured folder only when a drive is in it") {
    // A stick mounted at /mnt/<name with a space>, as /proc/self/mounts escapes it.
    std::string tmpl = "/mnt/kohtaamo test XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()));
    const std::filesystem::path stick = tmpl;
    REQUIRE(::mount("tmpfs", stick.c_str(), "tmpfs", 0, "size=2m") == 0);
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() {
            ::umount2(p.c_str(), MNT_DETACH);
            ::rmdir(p.c_str());
        }
    } cleanup{stick};

    auto find = [&](const std::optional<std::filesystem::path>& configured) -> std::optional<Drive> {
        for (const auto& d : find_removable_drives(configured))
            if (d.path == (configured ? *configured : stick)) return d;
        return std::nullopt;
    };
    auto d = find(std::nullopt);
    REQUIRE(d);
    CHECK(d->label == stick.filename().string());
    CHECK(d->total_bytes == 2 * 1024 * 1024);
    CHECK(d->free_bytes > 0);
    CHECK_FALSE(d->read_only);
    remount(stick, MS_RDONLY);
    REQUIRE(find(std::nullopt));
    CHECK(find(std::nullopt)->read_only);

    // The configured folder: found with a drive mounted on it ...
    SmallDisk configured(1024 * 1024);
    CHECK(find(configured.path()));
    // ... but an empty folder on the system disk is no drive.
    struct stat root {}, tmp {};
    TempDir plain;
    ::stat("/", &root);
    ::stat(plain.path().c_str(), &tmp);
    if (root.st_dev == tmp.st_dev) CHECK_FALSE(find(plain.path()));
    CHECK_FALSE(find(plain / "not-there"));
}

TEST_CASE("the [export] table of the device config") {
    TempDir dir;
    const std::string base = "[device]\nsite = \"x\"\n[kiosk]\nlanguages = [\"fi\"]\n[store]\ndata_dir = \"d\"\n";
    write_file(dir / "kiosk.toml", base);
    ExportConfig c = load_export_config(dir / "kiosk.toml");
    CHECK_FALSE(c.drive);
    CHECK(c.min_group == 5);
    CHECK(c.csv_style == CsvStyle::ExcelFi);
    CHECK(c.free_text);

    write_file(dir / "kiosk.toml", base + "[export]\ndrive = \"usb\"\nmin_group = 8\ncsv = \"rfc4180\"\nfree_text = false\nreport_language = \"sv\"\n");
    c = load_export_config(dir / "kiosk.toml");
    CHECK(c.drive == std::filesystem::absolute(dir / "usb"));
    CHECK(c.min_group == 8);
    CHECK(c.csv_style == CsvStyle::Rfc4180);
    CHECK_FALSE(c.free_text);
    CHECK(c.report_language == "sv");
    // The device config itself still loads with the table there.
    CHECK(load_device_config(dir / "kiosk.toml").site == "x");

    auto error_of = [&](const std::string& table) -> std::string {
        write_file(dir / "kiosk.toml", base + "[export]\n" + table);
        try {
            load_export_config(dir / "kiosk.toml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "loaded";
    };
    CHECK_THAT(error_of("min_group = 0\n"), Catch::Contains("kiosk.toml:8:") && Catch::Contains("export.min_group must be 1..1000"));
    CHECK_THAT(error_of("csv = \"excel\"\n"), Catch::Contains("export.csv must be"));
    CHECK_THAT(error_of("minimum_group = 3\n"), Catch::Contains("minimum_group"));
    // The bundled config loads (its [export] is an example in comments).
    CHECK(load_export_config(config_dir() / "kiosk.toml").min_group == 5);
}

TEST_CASE("an XLSX export to a full drive fails as 'drive full' and leaves neither the workbook nor its temporary files") {
    TempDir dir;
    KioskDb db(dir / "k.sqlite");
    many_ideas(db);
    SmallDisk disk(64 * 1024);
    ExportOptions o = options_for();
    o.wide_csv = o.long_csv = o.jsonl = o.report = false;
    o.xlsx = true;
    ExportResult r = export_to_folder(db.path(), bundled_surveys(), disk.path(), o);
    CHECK(r.status == ExportStatus::DriveFull);
    CHECK_THAT(r.message, Catch::Contains("full"));
    CHECK(listing(disk.path()).empty());
    disk.fill();
    CHECK(export_to_folder(db.path(), bundled_surveys(), disk.path(), o).status == ExportStatus::DriveFull);
    CHECK(listing(disk.path()) == std::vector<std::string>{"ballast"});
}
