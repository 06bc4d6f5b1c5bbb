// kohtaamo-bench-sync — the sync benchmark (scripts/bench-sync; not a test).
//
// Two measurements, each on real processes over loopback:
//  one kiosk   (default) fills a kiosk database with N finished responses, starts the real
//              kohtaamo-collector and times the real kohtaamo-sync sending all of them:
//              once in batches (the normal configuration) and once one request per
//              response. --driver postgresql stores into a PostgreSQL cluster of its own.
//  --kiosks K  K simulated kiosks (threads, one keep-alive connection each, as a kiosk's
//              libcurl keeps it) post batches of --batch responses back to back (or one
//              every --pace-ms, open loop, the kiosks' slots spread over the period) to
//              --setup sqlite (one SQLite collector), postgresql (one PostgreSQL
//              collector) or nginx3 (three PostgreSQL collectors behind nginx with TLS):
//              accepted responses/s, p50 and p99 latency of the batches on kept-alive
//              connections, and apart from them each kiosk's first (it connects),
//              failed requests, peak memory.
//  --export N  N responses into PostgreSQL through the collector's storage, then the long
//              CSV exported from a snapshot: time, and peak memory before and after.
// Every process it starts is its child with a parent-death signal, and is stopped on
// every way out: nothing is left running.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <iostream>
#include <random>
#include <regex>
#include <string>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include "clock.hpp"
#include "export.hpp"
#include "storage.hpp"
#include "pg_cluster.hpp"
#include "protocol.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "uuid.hpp"

#include <libpq-fe.h>

using namespace kohtaamo;
namespace fs = std::filesystem;

namespace {

// "q1", "q2", … (built by append: GCC 12's -Wrestrict misfires on "q" + std::to_string(q)
// when inlined, its bug 105329).
std::string question_id(int q) {
    std::string id = "q";
    return id.append(std::to_string(q));
}

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
                a.bind(1, id).bind(2, question_id(q)).bind(3, v).bind(4, iso8601_utc(t + q * 5000)).run();
                ++answers;
            }
        }
        tx.commit();
    }
    sqlite3_close(db);
    return answers;
}

// A child process, stopped (SIGTERM, then SIGKILL) when this goes out of scope unless
// reaped before; it also gets SIGKILL if the benchmark itself dies.
class Child {
public:
    Child(const std::vector<std::string>& args, const fs::path& log) {
        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(125);
            if (!log.empty()) {
                const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                dup2(fd, 2);
                dup2(fd, 1);
            }
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }
    ~Child() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return pid_; }
    // Waits for it (after SIGTERM when `stop`); its exit code and peak memory in MiB (and
    // in cpu_seconds(), the CPU it used, user and system).
    std::pair<int, double> reap(bool stop) {
        if (stop) kill(pid_, SIGTERM);
        int status = 0;
        rusage ru{};
        wait4(pid_, &status, 0, &ru);
        pid_ = -1;
        cpu_ = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, static_cast<double>(ru.ru_maxrss) / 1024.0};
    }
    double cpu_seconds() const { return cpu_; }

private:
    pid_t pid_ = -1;
    double cpu_ = 0;
};

std::string slurp(const fs::path& f) {
    std::ifstream in(f);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

int g_connections = 0;                       // --connections: [database] connections (0: the default)
int g_threads = 16;                          // --threads: the collectors' [server] threads
std::string g_sync_bin = KOHTAAMO_SYNC_BIN;  // --sync: the kohtaamo-sync binary

// The collector's database in its config: SQLite as [storage] database (read by this
// collector and by the ones before [database] existed, for before/after runs), or
// [database] url for PostgreSQL.
// `connections`: [database] connections (0: the collector's default).
std::string database_toml(const std::string& sqlite_file, const std::string& pg_url, int connections) {
    if (!pg_url.empty())
        return "[database]\nurl = \"" + pg_url + "\"\n" +
               (connections > 0 ? "connections = " + std::to_string(connections) + "\n" : std::string());
    return "[storage]\ndatabase = \"" + sqlite_file + "\"\n";
}

// A collector process serving `database` on a free port; waits for its "listening on"
// line (any warning before it is passed on), at most 30 s.
struct CollectorRun {
    std::unique_ptr<Child> child;
    int port = 0;
};
CollectorRun start_collector(const std::string& bin, const fs::path& dir, const std::string& name,
                             const std::string& database, const std::string& token_hash, int threads) {
    const fs::path config = dir / (name + ".toml"), log = dir / (name + ".log");
    fs::remove(log);  // a line of the run before must not be read as this one's
    {
        std::ofstream c(config);
        c << "[server]\nlisten = \"127.0.0.1\"\nport = 0\nlog_requests = false\nthreads = " << threads << "\n"
          << database << "[[device]]\nname = \"bench\"\ntoken_hash = \"" << token_hash << "\"\n";
    }
    CollectorRun run;
    run.child = std::make_unique<Child>(std::vector<std::string>{bin, "--config", config.string()}, log);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    static const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = slurp(log);
        std::smatch m;
        if (std::regex_search(text, m, listening)) {
            run.port = std::stoi(m[1]);
            return run;
        }
        if (waitpid(run.child->pid(), nullptr, WNOHANG) != 0) throw std::runtime_error(name + " stopped: " + text);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error(name + " did not say it was listening within 30 s: " + slurp(log));
}

std::int64_t count_responses(const std::string& sqlite_file, const std::string& pg_url);

struct Run {
    double seconds = 0;
    double uploader_mib = 0;
    double collector_mib = 0;
    double uploader_cpu = 0, collector_cpu = 0;  // seconds, user and system
    long long stored = 0;
};

Run run(const fs::path& dir, const fs::path& kiosk_db, int batch, int n, const std::string& collector_bin,
        const std::string& pg_url) {
    const std::string token = sync::new_token();
    const fs::path cdb = dir / ("collector-" + std::to_string(batch) + ".sqlite");
    fs::remove(cdb);
    CollectorRun col = start_collector(collector_bin, dir, "collector", database_toml(cdb.string(), pg_url, g_connections),
                                       sync::hash_token(token), g_threads);
    {
        std::ofstream k(dir / "kiosk.toml");
        k << "[sync]\nendpoint = \"http://127.0.0.1:" << col.port << "\"\ntoken = \"" << token << "\"\n";
        if (batch > 0) k << "batch_max_responses = " << batch << "\n";  // 0: the kiosk's default
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
    Child up({g_sync_bin, "--config", (dir / "kiosk.toml").string(), "--database", kiosk_db.string(), "--quiet"},
             dir / "kohtaamo-sync.log");
    auto [rc, up_mib] = up.reap(false);
    Run r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto [crc, col_mib] = col.child->reap(true);
    (void)crc;
    if (rc != 0) throw std::runtime_error("kohtaamo-sync exited with " + std::to_string(rc) + ": " + slurp(dir / "kohtaamo-sync.log"));
    r.uploader_mib = up_mib;
    r.collector_mib = col_mib;
    r.uploader_cpu = up.cpu_seconds();
    r.collector_cpu = col.child->cpu_seconds();
    r.stored = count_responses(cdb.string(), pg_url);
    if (r.stored != n) throw std::runtime_error("the collector holds " + std::to_string(r.stored) + ", not " + std::to_string(n));
    return r;
}

std::int64_t count_responses(const std::string& sqlite_file, const std::string& pg_url) {
    if (!pg_url.empty()) {
        PGconn* c = PQconnectdb(pg_url.c_str());
        PGresult* res = PQexec(c, "SELECT count(*) FROM responses");
        const std::int64_t n = PQresultStatus(res) == PGRES_TUPLES_OK ? std::atoll(PQgetvalue(res, 0, 0)) : -1;
        PQclear(res);
        PQfinish(c);
        return n;
    }
    sqlite3* db = nullptr;
    sqlite3_open_v2(sqlite_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    Statement s(db, "SELECT count(*) FROM responses");
    s.step();
    const std::int64_t n = s.integer(0);
    sqlite3_close(db);
    return n;
}

// ---------------------------------------------------------------------------------------
// Many kiosks at once.

// A new complete response of the family survey (version 2) at `site`: q1…q4 answered 1–5
// at its start.
sync::Response bench_response(std::int64_t started_ms, std::int64_t finished_ms, std::string site, std::mt19937& rng) {
    sync::Response r;
    r.id = new_uuid();
    r.survey_id = "family";
    r.survey_version = 2;
    r.language = "fi";
    r.status = "complete";
    r.started_at = iso8601_utc(started_ms);
    r.finished_at = iso8601_utc(finished_ms);
    r.site = std::move(site);
    for (int q = 1; q <= 4; ++q) r.answers.push_back({question_id(q), std::to_string(1 + rng() % 5), r.started_at});
    return r;
}

// A batch body as kiosk `device_id` sends it (gzip of the canonical JSON), `n` new responses.
std::string batch_body(const std::string& device_id, int n, std::mt19937& rng, std::int64_t t) {
    sync::Batch b;
    b.batch_id = new_uuid();
    b.device_id = device_id;
    for (int i = 0; i < n; ++i) {
        sync::Response r = bench_response(t + i * 30'000, t + i * 30'000 + 40'000, "bench", rng);
        if (rng() % 4 == 0) r.answers.push_back({"q5", "Mukava paikka, kiitos!", r.started_at});
        b.responses.push_back(std::move(r));
    }
    return sync::gzip(sync::encode_batch(b));
}

std::size_t keep(char* p, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

// Each kiosk's first batch opens its connection (TCP, and behind nginx a TLS handshake),
// all kiosks in the same instant; its later ones go on that kept-alive connection, as a
// kiosk's do. Their latencies are kept apart: the target (p99 under 250 ms with
// keep-alive) is the later ones'.
struct LoadResult {
    std::vector<double> latency_ms;  // every batch
    std::vector<double> first_ms;    // each kiosk's first
    std::vector<double> kept_ms;     // the rest
    long long failed = 0, accepted = 0;
    double seconds = 0;
};

int g_pace_ms = 0;  // --pace-ms: each kiosk posts a batch every this many ms (0: back to back)

LoadResult load(const std::string& endpoint, const std::string& token, const std::string& ca_file, int kiosks,
                int batch, int batches_each) {
    std::vector<std::vector<std::string>> bodies(static_cast<std::size_t>(kiosks));
    for (int k = 0; k < kiosks; ++k) {
        std::mt19937 rng(static_cast<unsigned>(k + 1));
        const std::string device_id = new_uuid();  // one per kiosk, as a kiosk has
        for (int i = 0; i < batches_each; ++i)
            bodies[static_cast<std::size_t>(k)].push_back(
                batch_body(device_id, batch, rng, 1'790'000'000'000 + (k * 1000 + i) * 10'000'000LL));
    }
    LoadResult out;
    std::mutex m;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int k = 0; k < kiosks; ++k)
        threads.emplace_back([&, k] {
            CURL* h = curl_easy_init();
            curl_slist* headers = nullptr;
            for (const std::string& line : {"Authorization: Bearer " + token, std::string("Content-Type: application/json"),
                                            std::string("Content-Encoding: gzip"), std::string("Expect:")})
                headers = curl_slist_append(headers, line.c_str());
            const std::string url = endpoint + sync::kBatchesPath;
            curl_easy_setopt(h, CURLOPT_URL, url.c_str());
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
            curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
            if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
            std::string reply;
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
            std::vector<double> lat;
            long long failed = 0, accepted = 0;
            ++ready;
            while (!go) std::this_thread::yield();
            // Paced (--pace-ms): the kiosks' slots spread evenly over one period, as kiosks
            // that started at different times would post; a late reply does not shift the
            // next slot (open loop).
            auto slot = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<std::int64_t>(g_pace_ms) * k / kiosks);
            for (const auto& body : bodies[static_cast<std::size_t>(k)]) {
                if (g_pace_ms > 0) {
                    std::this_thread::sleep_until(slot);
                    slot += std::chrono::milliseconds(g_pace_ms);
                }
                reply.clear();
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
                const auto t0 = std::chrono::steady_clock::now();
                const CURLcode rc = curl_easy_perform(h);
                lat.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                long status = 0;
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                if (rc != CURLE_OK || status != 200) {
                    ++failed;
                    continue;
                }
                // "stored":[ids…]: count the ids.
                const auto at = reply.find("\"stored\":[");
                const auto end = reply.find(']', at);
                if (at != std::string::npos && end != std::string::npos)
                    accepted += std::count(reply.begin() + static_cast<long>(at), reply.begin() + static_cast<long>(end), '"') / 2 - 1;
            }
            curl_slist_free_all(headers);
            curl_easy_cleanup(h);
            std::lock_guard lock(m);
            out.latency_ms.insert(out.latency_ms.end(), lat.begin(), lat.end());
            if (!lat.empty()) {
                out.first_ms.push_back(lat.front());
                out.kept_ms.insert(out.kept_ms.end(), lat.begin() + 1, lat.end());
            }
            out.failed += failed;
            out.accepted += accepted;
        });
    while (ready < kiosks) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto t0 = std::chrono::steady_clock::now();
    go = true;
    for (auto& t : threads) t.join();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto* v : {&out.latency_ms, &out.first_ms, &out.kept_ms}) std::sort(v->begin(), v->end());
    return out;
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
}

int run_kiosks(const fs::path& dir, const std::string& setup, int kiosks, int batch, int batches_each,
               const std::string& collector_bin) {
    const std::string token = sync::new_token();
    std::unique_ptr<testbed::PgCluster> pg;
    std::string pg_url;
    if (setup != "sqlite") {
        pg = std::make_unique<testbed::PgCluster>(true);
        pg_url = pg->create_database();
    }
    const std::string sqlite_file = (dir / "collector.sqlite").string();
    fs::remove(sqlite_file);
    const int instances = setup == "nginx3" ? 3 : 1;
    // Three collectors share one database server: together about as many connections as
    // it has cores, as docs/collector-deploy.md says (this machine's cores, at least one
    // each), unless --connections says otherwise. One collector keeps its default.
    const int connections =
        g_connections > 0 || instances == 1
            ? g_connections
            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / instances);
    if (instances > 1)
        std::printf("%d collectors, [database] connections = %d each\n", instances, connections);
    std::vector<CollectorRun> collectors;
    std::vector<int> ports;
    for (int i = 0; i < instances; ++i) {
        collectors.push_back(start_collector(collector_bin, dir, "collector-" + std::to_string(i + 1),
                                             database_toml(sqlite_file, pg_url, connections), sync::hash_token(token),
                                             g_threads));
        ports.push_back(collectors.back().port);
    }
    std::unique_ptr<testbed::TestCa> ca;
    std::unique_ptr<testbed::Nginx> nginx;
    std::string endpoint = "http://127.0.0.1:" + std::to_string(ports[0]), ca_file;
    if (setup == "nginx3") {
        ca = std::make_unique<testbed::TestCa>(dir);
        nginx = std::make_unique<testbed::Nginx>(dir, *ca, ports);
        endpoint = "https://127.0.0.1:" + std::to_string(nginx->port());
        ca_file = ca->ca.string();
    }
    const LoadResult r = load(endpoint, token, ca_file, kiosks, batch, batches_each);
    double peak = 0;
    for (auto& c : collectors) peak = std::max(peak, c.child->reap(true).second);
    const std::int64_t held = count_responses(sqlite_file, pg_url);
    // The headline latencies are the kept-alive batches' (every batch's when each kiosk
    // posts only one).
    const std::vector<double>& kept = r.kept_ms.empty() ? r.latency_ms : r.kept_ms;
    std::printf("%-10s %3d kiosks x %3d batches of %3d: %8.0f accepted responses/s  kept-alive p50 %7.1f ms  p99 %7.1f ms  "
                "max %7.1f ms  failed %lld of %zu  peak RSS per collector %6.1f MiB  (held %lld)\n",
                setup.c_str(), kiosks, batches_each, batch, static_cast<double>(r.accepted) / r.seconds,
                percentile(kept, 0.50), percentile(kept, 0.99), kept.empty() ? 0.0 : kept.back(), r.failed,
                r.latency_ms.size(), peak, static_cast<long long>(held));
    std::printf("%-10s each kiosk's first batch (connecting%s, all %d at once): p50 %7.1f ms  max %7.1f ms;  "
                "every batch: p99 %7.1f ms\n",
                "", setup == "nginx3" ? ", TLS" : "", kiosks, percentile(r.first_ms, 0.50),
                r.first_ms.empty() ? 0.0 : r.first_ms.back(), percentile(r.latency_ms, 0.99));
    return r.failed == 0 && held == r.accepted ? 0 : 1;
}

// --export N: N responses (4 answers each) stored through the collector's storage into a
// PostgreSQL database, then the long CSV exported from its snapshot as GET /v1/export
// does; this process's peak memory before and after the export (flat: rows stream).
long peak_kib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

int run_export(const fs::path& dir, int n) {
    testbed::PgCluster pg(true);
    auto storage = sync::Storage::open(sync::DatabaseConfig::postgresql(pg.create_database()));
    std::mt19937 rng(1);
    for (int k = 0; k * 1000 < n; ++k) {
        sync::Batch b;
        b.batch_id = new_uuid();
        b.device_id = new_uuid();
        for (int i = 0; i < 1000 && k * 1000 + i < n; ++i) {
            const std::int64_t t = 1'790'000'000'000LL + (k * 1000LL + i) * 60'000LL;
            b.responses.push_back(bench_response(t, t, "site-" + std::to_string(i % 7), rng));
        }
        storage->store(b, "bench", "blake2b:" + b.batch_id);
    }
    const long before = peak_kib();
    ExportOptions o;
    o.wide_csv = o.jsonl = o.report = false;
    o.name = "bench";
    const fs::path out = dir / "export";
    fs::create_directories(out);
    auto snapshot = storage->export_snapshot();
    const auto t0 = std::chrono::steady_clock::now();
    const ExportResult r = export_to_folder(*snapshot, {}, out, o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) throw std::runtime_error("export: " + r.message);
    std::printf("export from PostgreSQL: %d responses, %llu answers, long CSV in %.2f s; peak RSS %.1f MiB before the "
                "export, %.1f MiB after\n",
                n, static_cast<unsigned long long>(r.answers), seconds, before / 1024.0, peak_kib() / 1024.0);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Sync benchmark: N queued responses over loopback, batched vs one request per response"};
    int n = 100000;
    int single = 100000;
    int batch = 0;  // one kiosk: the kiosk's default (kohtaamo-sync's RAMP); --kiosks: 200
    std::string dir_arg;
    app.add_option("--responses", n, "queued responses (default 100000)");
    app.add_option("--single", single, "responses for the one-request-per-response run (default: all; 0 skips it)");
    app.add_option("--batch", batch,
                   "batch_max_responses for the batched run (default: the kiosk's own, batches growing from 200 to 1000;"
                   " with --kiosks, 200)");
    app.add_option("--dir", dir_arg, "work folder (default: a new one under /tmp, removed afterwards)");
    std::string driver = "sqlite", setup = "sqlite", collector_bin = KOHTAAMO_COLLECTOR_BIN;
    int kiosks = 0, batches_each = 0;
    app.add_option("--driver", driver, "one kiosk: the collector's database, sqlite or postgresql")
        ->check(CLI::IsMember({"sqlite", "postgresql"}));
    app.add_option("--kiosks", kiosks, "simulated kiosks posting at once (instead of one kiosk's kohtaamo-sync)");
    app.add_option("--setup", setup, "with --kiosks: sqlite, postgresql or nginx3 (three PostgreSQL collectors behind nginx)")
        ->check(CLI::IsMember({"sqlite", "postgresql", "nginx3"}));
    app.add_option("--batches-per-kiosk", batches_each, "with --kiosks: batches each kiosk posts (default: 20000 responses in all)");
    app.add_option("--collector", collector_bin, "the kohtaamo-collector binary (to compare builds)");
    int export_n = 0;
    app.add_option("--export", export_n, "N responses into PostgreSQL, then the long CSV exported (memory stays flat)");
    app.add_option("--sync", g_sync_bin, "the kohtaamo-sync binary (to compare builds)");
    app.add_option("--threads", g_threads, "the collectors' [server] threads (default 16, as collector.toml's)");
    app.add_option("--connections", g_connections,
                   "PostgreSQL: each collector's [database] connections (default: the collector's; nginx3: this "
                   "machine's cores / 3, at least 1)");
    app.add_option("--pace-ms", g_pace_ms,
                   "with --kiosks: each kiosk posts a batch every N ms, as a kiosk at its interval (default 0: back to back)");
    CLI11_PARSE(app, argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);

    fs::path dir = dir_arg.empty() ? fs::temp_directory_path() / ("kohtaamo-bench-sync-" + std::to_string(getpid()))
                                   : fs::path(dir_arg);
    fs::create_directories(dir);
    try {
        if (export_n > 0) {
            const int rc = run_export(dir, export_n);
            if (dir_arg.empty()) fs::remove_all(dir);
            return rc;
        }
        if (kiosks > 0) {
            if (batch <= 0) batch = 200;
            if (batches_each <= 0) batches_each = std::max(1, 20000 / (kiosks * batch));
            const int rc = run_kiosks(dir, setup, kiosks, batch, batches_each, collector_bin);
            if (dir_arg.empty()) fs::remove_all(dir);
            return rc;
        }
        std::unique_ptr<testbed::PgCluster> pg;
        auto pg_database = [&] {
            if (driver != "postgresql") return std::string();
            if (!pg) pg = std::make_unique<testbed::PgCluster>(true);
            return pg->create_database();
        };
        const fs::path kiosk = dir / "kiosk.sqlite";
        fs::remove(kiosk);
        int answers = fill(kiosk, n);
        std::cout << "sync benchmark: " << n << " responses (" << answers << " answer rows) over loopback, collector on "
                  << driver << "\n";
        auto report = [](const char* name, int count, const Run& r) {
            std::printf("%-34s %8d responses %8.1f s %9.0f responses/s   peak RSS: uploader %6.1f MiB, collector %6.1f MiB"
                        "   CPU per response: uploader %5.1f µs, collector %5.1f µs\n",
                        name, count, r.seconds, count / r.seconds, r.uploader_mib, r.collector_mib,
                        r.uploader_cpu * 1e6 / count, r.collector_cpu * 1e6 / count);
        };
        Run batched = run(dir, kiosk, batch, n, collector_bin, pg_database());
        report(batch > 0 ? ("batched (" + std::to_string(batch) + " per request)").c_str() : "batched (200 growing to 1000)",
               n, batched);
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
            Run one = run(dir, kiosk, 1, single, collector_bin, pg_database());
            report("one request per response", single, one);
            std::printf("batched / one by one: %.1fx\n", (n / batched.seconds) / (single / one.seconds));
        }
    } catch (const std::exception& e) {
        std::cerr << "bench-sync: " << e.what() << "\n";
        if (dir_arg.empty()) fs::remove_all(dir);
        return 1;
    }
    if (dir_arg.empty()) fs::remove_all(dir);
    return 0;
}
