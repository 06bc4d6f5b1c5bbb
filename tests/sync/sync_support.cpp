#include "sync_support.hpp"

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "uuid.hpp"

namespace kohtaamo::test::sync {

using namespace kohtaamo::sync;

namespace {
const char* kFreeTexts[] = {
    "Hyvä paikka, kiitos!", "Lapset \"tykkäsivät\", mutta jonotettiin, pitkään", "rad ett\nrad två",
    "Åäö ÅÄÖ — €", "", "ok"};
}

KioskDb make_kiosk_db(const std::filesystem::path& file, int finished, unsigned seed) {
    KioskDb out;
    out.path = file;
    const std::int64_t base = 1'790'000'000'000 + static_cast<std::int64_t>(seed) * 1'000'000;
    {
        Store store(file, base);  // creates and migrates the file, writes device_id
        out.device_id = store.device_id();
    }
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
    sqlite_exec(db, "PRAGMA synchronous = OFF");
    std::mt19937 rng(seed);
    {
        Transaction tx(db);
        Statement r(db,
                    "INSERT INTO responses(id, survey_id, survey_version, language, status, started_at, finished_at,"
                    " site, event, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Statement a(db, "INSERT INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        for (int i = 0; i < finished + 2; ++i) {
            const bool in_progress = i >= finished;
            const std::string id = new_uuid();
            const std::int64_t start = base + i * 60'000;
            const bool abandoned = !in_progress && rng() % 10 == 0;
            r.bind(1, id).bind(2, rng() % 2 ? "child" : "family").bind(3, static_cast<int>(1 + rng() % 3));
            r.bind(4, rng() % 3 == 0 ? "sv" : "fi");
            r.bind(5, in_progress ? "in_progress" : abandoned ? "abandoned" : "complete");
            r.bind(6, iso8601_utc(start));
            if (in_progress)
                r.bind_null(7);
            else
                r.bind(7, iso8601_utc(start + 45'000));
            r.bind(8, "kohtaamispaikka-" + std::to_string(seed)).bind(9, i % 7 == 0 ? "tapahtuma" : "");
            r.bind(10, rng() % 50 == 0 ? 1 : 0).run();
            const int questions = 2 + static_cast<int>(rng() % 4);
            int rows = 0;
            for (int q = 0; q < questions; ++q) {
                const std::string at = iso8601_utc(start + (q + 1) * 5'000);
                const std::string qid = "q" + std::to_string(q + 1);
                if (q == 1) {  // multiple choice: several rows
                    for (const char* v : {"swing", "books", "coffee"}) {
                        if (rng() % 2 == 0) continue;
                        a.bind(1, id).bind(2, qid).bind(3, v).bind(4, at).run();
                        ++rows;
                    }
                } else if (q == 3) {
                    a.bind(1, id).bind(2, qid).bind(3, kFreeTexts[rng() % std::size(kFreeTexts)]).bind(4, at).run();
                    ++rows;
                } else {
                    a.bind(1, id).bind(2, qid).bind(3, std::to_string(1 + rng() % 5)).bind(4, at).run();
                    ++rows;
                }
            }
            if (in_progress) {
                ++out.in_progress;
            } else {
                ++out.finished;
                out.answers += rows;
            }
        }
        tx.commit();
    }
    sqlite3_close(db);
    return out;
}

TestCollector::TestCollector(const std::filesystem::path& dir, Limits limits, bool with_tokens) {
    CollectorConfig c;
    c.listen = "127.0.0.1";
    c.port = 0;
    c.database = dir / "collector.sqlite";
    c.threads = 8;
    c.log_requests = false;
    c.read_timeout_seconds = 5;
    c.limits = limits;
    for (int i = 1; i <= 3; ++i) {
        tokens_.push_back(new_token());
        devices_.push_back({"k" + std::to_string(i), hash_token(tokens_.back()), true});
    }
    if (with_tokens) c.devices = devices_;
    database_ = c.database;
    collector_ = std::make_unique<Collector>(c);
    port_ = collector_->start();
}

TestCollector::~TestCollector() { collector_->stop(); }

void TestCollector::accept_tokens() { collector_->set_devices(devices_); }

std::int64_t TestCollector::count(const std::string& sql) const { return sync::count(database_, sql); }

std::int64_t count(const std::filesystem::path& db, const std::string& sql) {
    Rows rows = query(db, sql);
    if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("count: not one value: " + sql);
    return std::stoll(rows[0][0]);
}

SyncConfig fast_config(const std::string& endpoint, const std::string& token) {
    SyncConfig c;
    c.endpoint = endpoint;
    c.token = token;
    c.batch_max_responses = 100;
    c.interval = 200ms;
    c.connect_timeout = 1000ms;
    c.low_speed_bytes = 100;
    c.low_speed_time = 2000ms;
    c.request_timeout = 15000ms;
    c.backoff_initial = 100ms;
    c.backoff_max = 1000ms;
    c.retry_after_max = 10000ms;
    c.auth_retry = 1500ms;
    return c;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return done();
}

namespace {
std::size_t collect(char* p, std::size_t size, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(p, size * n);
    return size * n;
}

std::size_t collect_header(char* p, std::size_t size, std::size_t n, void* user) {
    std::string line(p, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon), value = line.substr(colon + 1);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
        (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
    }
    return size * n;
}

HttpReply perform(const std::string& url, const std::vector<std::string>& headers, const std::string* body) {
    CURL* c = curl_easy_init();
    HttpReply r;
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    else
        r.error = curl_easy_strerror(rc);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return r;
}
}  // namespace

HttpReply post(const std::string& url, const std::vector<std::string>& headers, const std::string& body) {
    return perform(url, headers, &body);
}

HttpReply get(const std::string& url, const std::vector<std::string>& headers) { return perform(url, headers, nullptr); }

CollectorProcess::CollectorProcess(const std::filesystem::path& dir, const std::string& config_body)
    : config_(dir / "collector.toml"), log_(dir / "collector.log") {
    write_file(config_, config_body);
    const std::string bin = KOHTAAMO_COLLECTOR_BIN, config = config_.string();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // It prints "listening on http://127.0.0.1:<port>" once its socket is bound.
    static constexpr std::string_view mark = "listening on http://127.0.0.1:";
    wait_until(
        [&] {
            const std::string text = log();
            const auto at = text.find(mark);
            if (at == std::string::npos) return false;
            port_ = std::atoi(text.c_str() + at + mark.size());
            return port_ > 0;
        },
        10s);
    if (port_ <= 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        throw std::runtime_error("kohtaamo-collector did not start: " + log());
    }
}

CollectorProcess::~CollectorProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
}

std::string CollectorProcess::log() const {
    std::error_code ec;
    return std::filesystem::exists(log_, ec) ? read_file(log_) : std::string();
}

bool CollectorProcess::reload() const {
    auto count = [&](const std::string& what) {
        const std::string text = log();
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    const std::size_t done = count("reloaded "), failed = count("reload failed");
    ::kill(pid_, SIGHUP);
    wait_until([&] { return count("reloaded ") > done || count("reload failed") > failed; }, 10s);
    return count("reloaded ") > done;
}

RunResult CollectorProcess::run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {KOHTAAMO_COLLECTOR_BIN, "--config", config_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
}

Batch make_batch(int n, unsigned seed) {
    std::mt19937 rng(seed);
    Batch b;
    b.batch_id = new_uuid();
    b.device_id = new_uuid();
    for (int i = 0; i < n; ++i) {
        Response r;
        r.id = new_uuid();
        r.survey_id = "child";
        r.survey_version = 1;
        r.language = "fi";
        r.status = "complete";
        r.started_at = iso8601_utc(1'790'000'000'000 + i * 1000);
        r.finished_at = iso8601_utc(1'790'000'030'000 + i * 1000);
        r.site = "testi";
        r.answers.push_back({"q1", std::to_string(1 + rng() % 5), r.started_at});
        r.answers.push_back({"q2", "swing", r.started_at});
        r.answers.push_back({"q2", "books", r.started_at});
        b.responses.push_back(std::move(r));
    }
    return b;
}

}  // namespace kohtaamo::test::sync
