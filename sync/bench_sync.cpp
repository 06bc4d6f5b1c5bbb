// kohtaamo-bench-sync — the sync benchmark (scripts/bench-sync; not a test).
//
// Fills a kiosk database with N finished responses, starts the real kohtaamo-collector
// on loopback, and times the real kohtaamo-sync sending all of them: once in batches (the
// normal configuration) and once one request per response. Both processes are children,
// so their peak memory is their own (ru_maxrss from wait4).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <string>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "clock.hpp"
#include "protocol.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "uuid.hpp"

using namespace kohtaamo;
namespace fs = std::filesystem;

namespace {

int fill(const fs::path& file, int n) {
    { Store store(file, 1'790'000'000'000); }
    sqlite3* db = nullptr;
    sqlite3_open(file.c_str(), &db);
    sqlite_exec(db, "PRAGMA synchronous = OFF");
    std::mt19937 rng(1);
    int answers = 0;
    {
        Transaction tx(db);
        Statement r(db, "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at,"
                        " finished_at, site, event) VALUES (?, 'family', 2, 'fi', ?, ?, ?, 'bench', '')");
        Statement a(db, "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        for (int i = 0; i < n; ++i) {
            std::string id = new_uuid();
            std::int64_t t = 1'790'000'000'000 + std::int64_t{i} * 30'000;
            r.bind(1, id).bind(2, i % 10 ? "complete" : "abandoned").bind(3, iso8601_utc(t)).bind(4, iso8601_utc(t + 40'000)).run();
            for (int q = 1; q <= 5; ++q) {
                std::string v = q == 5 ? (rng() % 4 ? "" : "Mukava paikka, kiitos!") : std::to_string(1 + rng() % 5);
                if (q == 5 && v.empty()) continue;
                a.bind(1, id).bind(2, "q" + std::to_string(q)).bind(3, v).bind(4, iso8601_utc(t + q * 5000)).run();
                ++answers;
            }
        }
        tx.commit();
    }
    sqlite3_close(db);
    return answers;
}

struct Child {
    pid_t pid = -1;
    int err_fd = -1;  // its stderr
};

Child spawn(const std::vector<std::string>& args, bool capture_stderr) {
    int fds[2] = {-1, -1};
    if (capture_stderr && pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        if (capture_stderr) {
            dup2(fds[1], 2);
            close(fds[0]);
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    if (capture_stderr) close(fds[1]);
    return {pid, fds[0]};
}

// Exit status and peak resident memory (MiB) of a finished child.
std::pair<int, double> reap(pid_t pid) {
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, static_cast<double>(ru.ru_maxrss) / 1024.0};
}

struct Run {
    double seconds = 0;
    double uploader_mib = 0;
    double collector_mib = 0;
    long long stored = 0;
};

Run run(const fs::path& dir, const fs::path& kiosk_db, int batch, int n) {
    const std::string token = sync::new_token();
    const fs::path cdb = dir / ("collector-" + std::to_string(batch) + ".sqlite");
    fs::remove(cdb);
    {
        std::ofstream c(dir / "collector.toml");
        c << "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = false\n[database]\nurl = \"sqlite:"
          << cdb.string() << "\"\n[[device]]\nname = \"bench\"\ntoken_hash = \"" << sync::hash_token(token) << "\"\n";
    }
    Child col = spawn({KOHTAAMO_COLLECTOR_BIN, "--config", (dir / "collector.toml").string()}, true);
    // Its first line names the port it got.
    std::string line;
    char ch;
    while (read(col.err_fd, &ch, 1) == 1 && ch != '\n') line += ch;
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(127\.0\.0\.1:(\d+))"))) throw std::runtime_error("collector: " + line);
    const std::string port = m[1];
    {
        std::ofstream k(dir / "kiosk.toml");
        k << "[sync]\nendpoint = \"http://127.0.0.1:" << port << "\"\ntoken = \"" << token
          << "\"\nbatch_max_responses = " << batch << "\n";
    }
    // Fresh queue: nothing sent yet.
    {
        sqlite3* db = nullptr;
        sqlite3_open(kiosk_db.c_str(), &db);
        sqlite_exec(db, "UPDATE responses SET synced_at = NULL, batch_id = NULL, sync_rejected = NULL;"
                        " DELETE FROM sync_batches; DELETE FROM sync_state; PRAGMA wal_checkpoint(TRUNCATE)");
        sqlite3_close(db);
    }
    auto t0 = std::chrono::steady_clock::now();
    Child up = spawn({KOHTAAMO_SYNC_BIN, "--config", (dir / "kiosk.toml").string(), "--database", kiosk_db.string(),
                      "--quiet"},
                     false);
    auto [rc, up_mib] = reap(up.pid);
    Run r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    kill(col.pid, SIGTERM);
    auto [crc, col_mib] = reap(col.pid);
    close(col.err_fd);
    (void)crc;
    if (rc != 0) throw std::runtime_error("kohtaamo-sync exited with " + std::to_string(rc));
    r.uploader_mib = up_mib;
    r.collector_mib = col_mib;
    sqlite3* db = nullptr;
    sqlite3_open_v2(cdb.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    Statement s(db, "SELECT count(*) FROM responses");
    s.step();
    r.stored = s.integer(0);
    sqlite3_close(db);
    if (r.stored != n) throw std::runtime_error("the collector holds " + std::to_string(r.stored) + ", not " + std::to_string(n));
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Sync benchmark: N queued responses over loopback, batched vs one request per response"};
    int n = 100000;
    int single = 100000;
    int batch = 200;
    std::string dir_arg;
    app.add_option("--responses", n, "queued responses (default 100000)");
    app.add_option("--single", single, "responses for the one-request-per-response run (default: all; 0 skips it)");
    app.add_option("--batch", batch, "batch_max_responses for the batched run (default 200)");
    app.add_option("--dir", dir_arg, "work folder (default: a new one under /tmp, removed afterwards)");
    CLI11_PARSE(app, argc, argv);
    signal(SIGPIPE, SIG_IGN);

    fs::path dir = dir_arg.empty() ? fs::temp_directory_path() / ("kohtaamo-bench-sync-" + std::to_string(getpid()))
                                   : fs::path(dir_arg);
    fs::create_directories(dir);
    try {
        const fs::path kiosk = dir / "kiosk.sqlite";
        fs::remove(kiosk);
        int answers = fill(kiosk, n);
        std::cout << "sync benchmark: " << n << " responses (" << answers << " answer rows) over loopback\n";
        auto report = [](const char* name, int count, const Run& r) {
            std::printf("%-34s %8d responses %8.1f s %9.0f responses/s   peak RSS: uploader %6.1f MiB, collector %6.1f MiB\n",
                        name, count, r.seconds, count / r.seconds, r.uploader_mib, r.collector_mib);
        };
        Run batched = run(dir, kiosk, batch, n);
        report(("batched (" + std::to_string(batch) + " per request)").c_str(), n, batched);
        if (single > 0) {
            if (single < n) {
                // Only the first `single` responses stay queued (the rest marked as sent).
                sqlite3* db = nullptr;
                sqlite3_open(kiosk.c_str(), &db);
                sqlite_exec(db, ("DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE rowid > " +
                                 std::to_string(single) + "); DELETE FROM responses WHERE rowid > " + std::to_string(single))
                                    .c_str());
                sqlite3_close(db);
            }
            Run one = run(dir, kiosk, 1, single);
            report("one request per response", single, one);
        }
    } catch (const std::exception& e) {
        std::cerr << "bench-sync: " << e.what() << "\n";
        if (dir_arg.empty()) fs::remove_all(dir);
        return 1;
    }
    if (dir_arg.empty()) fs::remove_all(dir);
    return 0;
}
