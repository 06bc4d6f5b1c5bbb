#include "sync_support.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.hpp"
#include "pg_cluster.hpp"
#include "sqlite.hpp"
#include "store.hpp"
#include "uuid.hpp"

namespace kohtaamo::test::sync {

using namespace kohtaamo::sync;

namespace {
const char* kFreeTexts[] = {
    "Hyvä paikka, kiitos!", "Lapset \"tykkäsivät\", mutta jonotettiin, pitkään", "rad ett\nrad två",
    "Åäö ÅÄÖ — €", "", "ok",
    // (Backslashes, braces, a comma, quotes and the word NULL: what a layer quoting values for
    // SQL, JSON or an array literal could get wrong.)
    "C:\\kansio\\{uusi}, \\\"", "NULL"};
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

bool testing_postgresql() {
    const char* v = std::getenv("KOHTAAMO_TEST_DATABASE");
    return v && std::string(v) == "postgresql";
}

TestDatabase::TestDatabase(const std::filesystem::path& dir)
    : TestDatabase(dir, testing_postgresql() ? DatabaseConfig::Driver::Postgresql : DatabaseConfig::Driver::Sqlite) {}

TestDatabase::TestDatabase(const std::filesystem::path& dir, DatabaseConfig::Driver driver) : dir_(dir) {
    config_ = driver == DatabaseConfig::Driver::Postgresql ? DatabaseConfig::postgresql(testbed::PgCluster::get().create_database())
                                                           : DatabaseConfig::sqlite(dir / "collector.sqlite");
}

TestDatabase::TestDatabase(const std::filesystem::path& dir, DatabaseConfig config)
    : config_(std::move(config)), dir_(dir) {}

TestDatabase::~TestDatabase() = default;

std::string TestDatabase::url() const {
    return config_.driver == DatabaseConfig::Driver::Postgresql ? config_.url : "sqlite:" + config_.file.string();
}

std::string TestDatabase::toml() const { return "[database]\nurl = \"" + url() + "\"\n"; }

Rows TestDatabase::query(const std::string& sql) const {
    if (!storage_) storage_ = Storage::open(config_);
    return storage_->query_text(sql);
}

std::int64_t TestDatabase::count(const std::string& sql) const {
    Rows rows = query(sql);
    if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("count: not one value: " + sql);
    return rows[0][0] == "NULL" ? 0 : std::stoll(rows[0][0]);
}

ServerLimits TestCollector::fast_server() {
    ServerLimits s;
    s.read_timeout_seconds = 5;
    s.header_timeout_seconds = 3;
    s.body_timeout_seconds = 5;
    return s;
}

TestCollector::TestCollector(const std::filesystem::path& dir, Limits limits, bool with_tokens, ServerLimits server)
    : database_(dir) {
    CollectorConfig c;
    c.listen = "127.0.0.1";
    c.port = 0;
    c.database = database_.config();
    c.threads = 8;
    c.log_requests = true;
    c.server = server;
    c.limits = limits;
    c.export_work_dir = dir;
    for (int i = 1; i <= 3; ++i) {
        tokens_.push_back(new_token());
        devices_.push_back({"k" + std::to_string(i), hash_token(tokens_.back()), true});
    }
    if (with_tokens) c.devices = devices_;
    collector_ = std::make_unique<Collector>(c);
    collector_->set_log([this](const std::string& line) {
        std::lock_guard lock(log_mutex_);
        log_.push_back(line);
    });
    port_ = collector_->start();
}

std::vector<std::string> TestCollector::log() const {
    std::lock_guard lock(log_mutex_);
    return log_;
}

TestCollector::~TestCollector() { collector_->stop(); }

void TestCollector::accept_tokens() { collector_->set_devices(devices_); }

std::int64_t TestCollector::count(const std::string& sql) const { return database_.count(sql); }

std::int64_t count(const std::filesystem::path& db, const std::string& sql) {
    Rows rows = kohtaamo::test::query(db, sql);
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

void ErrorLog::attach(kohtaamo::sync::Uploader& up) {
    up.on_status_change([this](const kohtaamo::sync::SyncStatus& s) {
        std::lock_guard lock(m_);
        if (!s.last_error.empty() && (errors_.empty() || errors_.back() != s.last_error)) errors_.push_back(s.last_error);
    });
}

bool ErrorLog::any(const std::string& part) const {
    std::lock_guard lock(m_);
    return std::any_of(errors_.begin(), errors_.end(), [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

std::string ErrorLog::all() const {
    std::lock_guard lock(m_);
    std::string out;
    for (const auto& e : errors_) out += e + "\n";
    return out;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return done();
}

bool all_sent(const Uploader& up) {
    const auto s = up.status();
    return s.pending == 0 && s.state == SyncState::Idle;
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

HttpReply perform(const std::string& url, const std::vector<std::string>& headers, const std::string* body,
                  const std::string& ca_file = "") {
    CURL* c = curl_easy_init();
    if (!ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
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

HttpReply get(const std::string& url, const std::vector<std::string>& headers, const std::string& ca_file) {
    return perform(url, headers, nullptr, ca_file);
}

CollectorProcess::CollectorProcess(const std::filesystem::path& dir, const std::string& config_body,
                                   const std::string& name)
    : config_(dir / (name + ".toml")), log_(dir / (name + ".log")) {
    write_file(config_, config_body);
    const std::string bin = KOHTAAMO_COLLECTOR_BIN, config = config_.string();
    const pid_t parent = ::getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
        if (::getppid() != parent) _exit(125);
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
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
}

void CollectorProcess::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
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

RawConnection::RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string RawConnection::read_reply(std::chrono::milliseconds timeout) {
    std::string in;
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto head_end = in.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            std::string head = in.substr(0, head_end);
            for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const auto cl = head.find("content-length:");
            const std::size_t want = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
            if (in.size() >= head_end + 4 + want) return in;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return in;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return in;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return in;
        in.append(buf, static_cast<std::size_t>(n));
    }
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() < 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return true;
    }
}

int status_of(const std::string& reply) {
    if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12) return 0;
    return std::atoi(reply.c_str() + 9);
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

namespace kohtaamo::test::sync {

namespace {
std::string edit_nth(std::string text, std::string_view from, std::string_view to, int n) {
    std::size_t at = 0;
    for (int i = 0; i < n; ++i) {
        at = text.find(from, i == 0 ? 0 : at + 1);
        if (at == std::string::npos) throw std::logic_error("edit: no " + std::string(from) + " in the text");
    }
    return text.replace(at, from.size(), to);
}
}  // namespace

std::string edit_first(std::string text, std::string_view from, std::string_view to) {
    return edit_nth(std::move(text), from, to, 1);
}

std::vector<Malformed> malformed_bodies() {
    // Keys are sorted in encode_batch: in a response, answers come first; the first
    // "value" is responses[0].answers[0].value.
    const std::string good = encode_batch(make_batch(2, 99));
    const std::string t0 = iso8601_utc(1'790'000'000'000);  // responses[0].started_at and its answers' time
    const std::string t1 = iso8601_utc(1'790'000'030'000);  // responses[0].finished_at
    auto e = [&](std::string_view from, std::string_view to) { return edit_first(good, from, to); };
    const std::string J = "invalid_json", B = "invalid_body";
    const std::string r0 = "responses[0].", a0 = "responses[0].answers[0].";
    return {
        // UTF-8, in values and in keys, at any depth
        {"invalid UTF-8 in a value", e("\"value\":\"", "\"value\":\"\xff"), 400, J, a0 + "value: is not valid UTF-8"},
        {"invalid UTF-8 in a key", e("\"site\":", "\"si\xffte\":"), 400, J, "responses[0]: a field name is not valid UTF-8"},
        {"invalid UTF-8 in a top-level key", e("\"device_id\":", "\"device\xc3_id\":"), 400, J,
         "body: a field name is not valid UTF-8"},
        {"an overlong UTF-8 form", e("\"event\":\"", "\"event\":\"\xc0\xaf"), 400, J, r0 + "event: is not valid UTF-8"},
        {"a surrogate written in UTF-8", e("\"survey_id\":\"child\"", "\"survey_id\":\"ch\xed\xa0\x80ild\""), 400, J,
         r0 + "survey_id: is not valid UTF-8"},
        {"a code point above U+10FFFF", e("\"question_id\":\"q1\"", "\"question_id\":\"q\xf4\x90\x80\x80\""), 400, J,
         a0 + "question_id: is not valid UTF-8"},
        {"a cut-off UTF-8 sequence", e("\"value\":\"", "\"value\":\"\xe2\x82"), 400, J, a0 + "value: is not valid UTF-8"},
        {"a lone surrogate escape", e("\"value\":\"", "\"value\":\"\\ud800"), 400, J, a0 + "value: not valid JSON"},
        {"a stray byte between tokens", e("{", "{\xff"), 400, J, "body: not valid JSON"},
        // numbers
        {"a number beyond a double", e("\"survey_version\":1", "\"survey_version\":1e400"), 400, J,
         r0 + "survey_version: the number \"1e400\" is out of range"},
        {"an integer beyond 64 bits", e("\"survey_version\":1", "\"survey_version\":18446744073709551616"), 400, J,
         r0 + "survey_version: the integer \"18446744073709551616\" is out of range"},
        {"a negative integer beyond 64 bits", e("\"survey_version\":1", "\"survey_version\":-9223372036854775809"), 400,
         J, r0 + "survey_version: the integer \"-9223372036854775809\" is out of range"},
        {"the largest unsigned integer", e("\"survey_version\":1", "\"survey_version\":18446744073709551615"), 400, B,
         r0 + "survey_version: must be between 0 and 1000000000, not 18446744073709551615"},
        {"an integer written 3.0", e("\"survey_version\":1", "\"survey_version\":3.0"), 400, B,
         r0 + "survey_version: must be an integer (digits only), not a number with a fraction or an exponent"},
        {"an integer written 1e2", e("\"survey_version\":1", "\"survey_version\":1e2"), 400, B,
         r0 + "survey_version: must be an integer (digits only)"},
        {"a negative version", e("\"survey_version\":1", "\"survey_version\":-1"), 400, B,
         r0 + "survey_version: must be between 0 and 1000000000, not -1"},
        {"protocol 1.0", e("\"protocol\":1", "\"protocol\":1.0"), 400, B, "protocol: must be an integer (digits only)"},
        {"protocol 1e400", e("\"protocol\":1", "\"protocol\":1e400"), 400, J, "protocol: the number \"1e400\" is out of range"},
        {"protocol beyond 64 bits", e("\"protocol\":1", "\"protocol\":18446744073709551617"), 400, J,
         "protocol: the integer \"18446744073709551617\" is out of range"},
        // a key twice, at every depth
        {"a top-level key twice", e("\"protocol\":1", "\"protocol\":1,\"protocol\":1"), 400, J,
         "protocol: appears twice in the same object"},
        {"a response's key twice", e("\"site\":\"testi\"", "\"site\":\"testi\",\"site\":\"other\""), 400, J,
         r0 + "site: appears twice in the same object"},
        {"an answer's key twice", e("\"question_id\":\"q1\"", "\"question_id\":\"q1\",\"question_id\":\"q1\""), 400, J,
         a0 + "question_id: appears twice in the same object"},
        {"a key twice in the second response", edit_nth(good, "\"flagged\":false", "\"flagged\":false,\"flagged\":true", 2),
         400, J, "responses[1].flagged: appears twice in the same object"},
        // days and times that do not exist
        {"30 February", e("\"started_at\":\"" + t0, "\"started_at\":\"2026-02-30T10:00:00Z"), 400, B,
         r0 + "started_at: \"2026-02-30T10:00:00Z\" is not an ISO 8601 UTC time like 2026-11-25T19:55:49.123Z: "
              "2026-02-30 is not a day of the calendar"},
        {"29 February of a common year", e("\"started_at\":\"" + t0, "\"started_at\":\"2026-02-29T10:00:00Z"), 400, B,
         r0 + "started_at: \"2026-02-29T10:00:00Z\" is not an ISO 8601 UTC time"},
        {"month 13", e("\"finished_at\":\"" + t1, "\"finished_at\":\"2026-13-01T10:00:00.000Z"), 400, B,
         r0 + "finished_at: \"2026-13-01T10:00:00.000Z\" is not an ISO 8601 UTC time"},
        {"24:00:60", e("\"answered_at\":\"" + t0, "\"answered_at\":\"2026-05-01T24:00:60Z"), 400, B,
         a0 + "answered_at: \"2026-05-01T24:00:60Z\" is not an ISO 8601 UTC time like 2026-11-25T19:55:49.123Z: "
              "24:00:60 is not a time of day"},
        {"a leap second", e("\"answered_at\":\"" + t0, "\"answered_at\":\"2016-12-31T23:59:60Z"), 400, B,
         a0 + "answered_at: \"2016-12-31T23:59:60Z\" is not an ISO 8601 UTC time"},
        {"a local time with an offset", e("\"started_at\":\"" + t0, "\"started_at\":\"2026-05-01T12:00:00+03:00"), 400,
         B, r0 + "started_at: \"2026-05-01T12:00:00+03:00\" is not an ISO 8601 UTC time"},
        // control characters in one-line strings (tab, DEL and C1 too) and in free text
        {"a tab in site", e("\"site\":\"testi\"", "\"site\":\"tes\\tti\""), 400, B,
         r0 + "site: contains U+0009 (tab): a control character, not allowed here"},
        {"NUL in survey_id", e("\"survey_id\":\"child\"", "\"survey_id\":\"chi\\u0000ld\""), 400, B,
         r0 + "survey_id: contains U+0000 (NUL)"},
        {"a line feed in language", e("\"language\":\"fi\"", "\"language\":\"f\\ni\""), 400, B,
         r0 + "language: contains U+000A (line feed)"},
        {"DEL in event", e("\"event\":\"", "\"event\":\"x\x7f"), 400, B, r0 + "event: contains U+007F (DEL)"},
        {"a C1 control escaped in question_id", e("\"question_id\":\"q1\"", "\"question_id\":\"q1\\u0085\""), 400, B,
         a0 + "question_id: contains U+0085 (a C1 control)"},
        {"a C1 control in UTF-8 in site", e("\"site\":\"testi\"", "\"site\":\"te\xc2\x9bsti\""), 400, B,
         r0 + "site: contains U+009B (a C1 control)"},
        {"BEL in free text", e("\"value\":\"", "\"value\":\"ding\\u0007"), 400, B,
         a0 + "value: contains U+0007 (BEL): free text may hold tab, line feed and carriage return, no other control "
              "character"},
        {"DEL in free text", e("\"value\":\"", "\"value\":\"\x7f"), 400, B, a0 + "value: contains U+007F (DEL)"},
        {"a C1 control in free text", e("\"value\":\"", "\"value\":\"\\u009f"), 400, B,
         a0 + "value: contains U+009F (a C1 control)"},
        // structure
        {"nesting deeper than any message", e("\"site\":", "\"x\":[[[[[[[[[[1]]]]]]]]]],\"site\":"), 400, J,
         "responses[0].x[0][0][0][0][0]: nested deeper than 8 levels"},
        {"an unknown field whose name holds a control character",
         e("\"site\":", "\"s\\u0007ite\":\"x\",\"site\":"), 400, B, "responses[0].\"s\\u0007ite\": unknown field"},
    };
}

std::vector<std::pair<std::string, std::string>> borderline_good_bodies() {
    auto body = [](const std::function<void(Batch&)>& change) {
        Batch b = make_batch(1, 5);
        change(b);
        return encode_batch(b);
    };
    return {
        {"tab, line feed and carriage return in free text",
         body([](Batch& b) { b.responses[0].answers[0].value = "rivi 1\r\nrivi\t2\n"; })},
        {"29 February of a leap year and nine digits of a second", body([](Batch& b) {
             b.responses[0].started_at = "2028-02-29T23:59:59.999999999Z";
             b.responses[0].finished_at = "2028-03-01T00:00:00Z";
         })},
        {"the smallest and largest survey versions", body([](Batch& b) { b.responses[0].survey_version = 1'000'000'000; })},
        {"emoji, no-break space and U+2028 in text", body([](Batch& b) {
             b.responses[0].site = "k\xc2\xa0" "1";
             b.responses[0].answers[0].value = "😀 \xe2\x80\xa8 kiitos";
         })},
        {"an escaped surrogate pair", edit_first(encode_batch(make_batch(1, 6)), "\"value\":\"", "\"value\":\"\\ud83d\\ude00")},
    };
}

}  // namespace kohtaamo::test::sync
