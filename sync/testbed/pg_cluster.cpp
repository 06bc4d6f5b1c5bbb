// pg_cluster.cpp — the tests' PostgreSQL (pg_cluster.hpp).
#include "pg_cluster.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

namespace kohtaamo::testbed {

namespace {

// A free port for a server started later (PostgreSQL, nginx), below the kernel's range for
// outgoing connections (32768-60999 by default): a port from that range, free while its
// server restarts, can be taken meanwhile as the source port of any connection, even one to
// itself (a collector reconnecting to a PostgreSQL that is restarting), and the server then
// cannot bind it again.
int any_port() {
    static std::mt19937 pick(std::random_device{}());
    for (int tries = 0; tries < 1000; ++tries) {
        const int port = std::uniform_int_distribution<int>(20000, 32000)(pick);
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (free) return port;
    }
    throw std::runtime_error("no free port between 20000 and 32000 on 127.0.0.1");
}

std::string slurp(const std::filesystem::path& f) {
    std::ifstream in(f);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void chown_tree(const std::filesystem::path& p, const RunAs& who) {
    if (!who.change) return;
    ::chown(p.c_str(), who.uid, who.gid);
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(p, ec)) ::lchown(e.path().c_str(), who.uid, who.gid);
}

}  // namespace

std::filesystem::path pg_bindir() { return KOHTAAMO_PG_BINDIR; }

RunAs unprivileged() {
    if (::geteuid() != 0) return {::geteuid(), ::getegid(), false};
    const passwd* pw = ::getpwnam("nobody");
    if (!pw) throw std::runtime_error("running as root and there is no user `nobody` to run postgres as");
    return {pw->pw_uid, pw->pw_gid, true};
}

int spawn_as(const RunAs& who, const std::vector<std::string>& argv, const std::filesystem::path& log,
             const std::filesystem::path& cwd) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);  // its own group: a test's Ctrl-C goes to the test alone
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        const int in = ::open("/dev/null", O_RDONLY);
        ::dup2(in, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
        if (who.change) {
            if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) _exit(126);
        }
        // After the change of user (which clears it): the server dies with the test.
        ::prctl(PR_SET_PDEATHSIG, SIGQUIT);  // postgres: immediate shutdown
        if (::getppid() != parent) _exit(125);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

PgCluster& PgCluster::get() {
    static PgCluster cluster(false);
    return cluster;
}

namespace {

// Runs `argv` as `who` to its end; its exit code.
int run_as(const RunAs& who, const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const int pid = spawn_as(who, argv, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

void PgCluster::make_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kohtaamo-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "socket");
    chown_tree(dir_, unprivileged());
}

PgCluster::PgCluster(bool fsync) : fsync_(fsync) {
    const RunAs who = unprivileged();
    make_dir();
    const auto log = dir_ / "initdb.log";
    // initdb takes a second or two; a copy of a cluster it made before takes a tenth. The
    // template is a folder of files next to the test binary (made once per build, under a
    // lock, never a running server).
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    const auto cache = exe.empty() ? std::filesystem::path() : exe.parent_path() / "pg-template";
    bool copied = false;
    if (!cache.empty()) {
        const int lock = ::open((cache.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock >= 0 && ::flock(lock, LOCK_EX) == 0) {
            if (!std::filesystem::exists(cache / "PG_VERSION", ec)) {
                std::filesystem::remove_all(cache, ec);
                const auto fresh = dir_ / "template";
                if (run_as(who,
                           {(pg_bindir() / "initdb").string(), "-D", fresh.string(), "-U", "kohtaamo", "--auth=trust",
                            "--encoding=UTF8", "--locale=C", "--no-sync"},
                           log) == 0)
                    run_as({0, 0, false}, {"/bin/cp", "-a", fresh.string(), cache.string()}, log);
                std::filesystem::remove_all(fresh, ec);
            }
            if (std::filesystem::exists(cache / "PG_VERSION", ec))
                copied = run_as({0, 0, false}, {"/bin/cp", "-a", cache.string(), (dir_ / "data").string()}, log) == 0;
        }
        if (lock >= 0) ::close(lock);
    }
    if (copied) {
        chown_tree(dir_ / "data", who);
    } else if (run_as(who,
                      {(pg_bindir() / "initdb").string(), "-D", (dir_ / "data").string(), "-U", "kohtaamo",
                       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"},
                      log) != 0) {
        const std::string out = slurp(log);
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("initdb failed: " + out);
    }
    port_ = any_port();
    start();
}

void PgCluster::start() {
    const RunAs who = unprivileged();
    // The tests' cluster runs with fsync off: a test's server never survives a power cut,
    // and it saves seconds. The benchmark's syncs as production does, with the shared
    // buffers of Debian's postgresql.conf (128 MB; the tests' 32 MB would have the
    // benchmark measure page evictions).
    pid_ = spawn_as(who,
                    {(pg_bindir() / "postgres").string(), "-D", (dir_ / "data").string(), "-p", std::to_string(port_),
                     "-k", (dir_ / "socket").string(), "-c", "listen_addresses=127.0.0.1", "-c",
                     fsync_ ? "fsync=on" : "fsync=off", "-c",
                     "max_connections=200", "-c", fsync_ ? "shared_buffers=128MB" : "shared_buffers=32MB", "-c",
                     "log_min_messages=warning"},
                    dir_ / "postgres.log");
    const std::string url = "postgresql://kohtaamo@127.0.0.1:" + std::to_string(port_) + "/postgres?connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (PQping(url.c_str()) == PQPING_OK) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("postgres stopped at start: " + slurp(dir_ / "postgres.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("postgres did not accept connections within 30 s: " + slurp(dir_ / "postgres.log"));
}

void PgCluster::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);  // fast shutdown: connections are cut, committed work is kept
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void PgCluster::restart() {
    stop();
    start();
}

PgCluster::~PgCluster() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

namespace {

// One statement on `url`; its first value ("" when none). Throws with the server's message.
std::string query_one(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("cannot connect to " + url + ": " + msg);
    }
    PGresult* r = PQexec(c, sql.c_str());
    const auto status = PQresultStatus(r);
    std::string msg = PQerrorMessage(c);
    std::string value = status == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(c);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw std::runtime_error(sql + ": " + msg);
    return value;
}

std::string admin_url(int port) {
    return "postgresql://kohtaamo@127.0.0.1:" + std::to_string(port) + "/postgres?connect_timeout=2";
}

}  // namespace

std::unique_ptr<PgCluster> PgCluster::standby_of(const PgCluster& primary, bool synchronous) {
    std::unique_ptr<PgCluster> s(new PgCluster());
    s->fsync_ = primary.fsync_;
    s->make_dir();
    const auto log = s->dir_ / "basebackup.log";
    if (run_as(unprivileged(),
               {(pg_bindir() / "pg_basebackup").string(), "-D", (s->dir_ / "data").string(), "-h", "127.0.0.1", "-p",
                std::to_string(primary.port_), "-U", "kohtaamo", "-R", "-X", "stream", "-c", "fast", "--no-sync"},
               log) != 0)
        throw std::runtime_error("pg_basebackup failed: " + slurp(log));
    s->port_ = any_port();
    s->start();
    if (synchronous) {
        const std::string p = admin_url(primary.port_);
        query_one(p, "ALTER SYSTEM SET synchronous_standby_names = '*'");
        query_one(p, "SELECT pg_reload_conf()");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (query_one(p, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") != "1") {
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("the standby did not become synchronous within 30 s: " + slurp(s->dir_ / "postgres.log"));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    return s;
}

void PgCluster::kill() {
    if (pid_ <= 0) return;
    // The postmaster leads its own process group (spawn_as); its backends are in it.
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    // Its System V shared memory segment would stay behind (a server started again in
    // this folder would remove it; this one is not): postmaster.pid's seventh line names
    // it, "key id".
    std::ifstream pidfile(dir_ / "data" / "postmaster.pid");
    std::string line;
    for (int i = 0; i < 7 && std::getline(pidfile, line); ++i) {
    }
    std::istringstream ids(line);
    long key = 0, id = -1;
    if (ids >> key >> id && id >= 0) ::shmctl(static_cast<int>(id), IPC_RMID, nullptr);
}

void PgCluster::promote() {
    const std::string url = admin_url(port_);
    query_one(url, "SELECT pg_promote(true, 30)");
    if (query_one(url, "SELECT pg_is_in_recovery()") != "f") throw std::runtime_error("the standby was not promoted");
}

std::string PgCluster::create_database() {
    const std::string name = "kohtaamo_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
    const std::string admin = "postgresql://kohtaamo@127.0.0.1:" + std::to_string(port_) + "/postgres";
    PGconn* c = PQconnectdb(admin.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("cannot connect to the test cluster: " + msg);
    }
    PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string msg = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error("CREATE DATABASE failed: " + msg);
    return "postgresql://kohtaamo@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

int free_port() { return any_port(); }

namespace {

void run_checked(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const int pid = spawn_as({0, 0, false}, argv, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(argv[0] + " failed: " + slurp(log));
}

void write(const std::filesystem::path& f, const std::string& text) {
    std::ofstream out(f);
    out << text;
}

}  // namespace

TestCa::TestCa(const std::filesystem::path& dir) : ca(dir / "ca.pem"), cert(dir / "server.pem"), key(dir / "server.key") {
    const std::string o = KOHTAAMO_OPENSSL;
    const auto log = dir / "openssl.log";
    write(dir / "ext.cnf",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
          "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
    run_checked({o, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 (dir / "ca.key").string(), "-out", ca.string(), "-days", "2", "-subj", "/CN=Kohtaamo test CA"},
                log);
    run_checked({o, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(),
                 "-out", (dir / "server.csr").string(), "-subj", "/CN=127.0.0.1"},
                log);
    run_checked({o, "x509", "-req", "-in", (dir / "server.csr").string(), "-CA", ca.string(), "-CAkey",
                 (dir / "ca.key").string(), "-CAcreateserial", "-out", cert.string(), "-days", "2", "-extfile",
                 (dir / "ext.cnf").string()},
                log);
}

Nginx::Nginx(const std::filesystem::path& dir, const TestCa& ca, const std::vector<int>& upstreams) {
    port_ = any_port();
    const auto n = dir / "nginx";
    std::filesystem::create_directories(n / "logs");
    std::string servers;
    for (int p : upstreams) servers += "        server 127.0.0.1:" + std::to_string(p) + " max_fails=1 fail_timeout=3s;\n";
    // The same settings as docs/collector-deploy.md, with this run's paths and port.
    const std::string config =
        std::string(::geteuid() == 0 ? "user root;\n" : "") + "worker_processes 1;\ndaemon off;\npid " +
        (n / "nginx.pid").string() + ";\nerror_log " + (n / "logs/error.log").string() +
        " warn;\nworker_rlimit_nofile 40000;\nevents { worker_connections 16384; }\nhttp {\n"
        "    access_log off;\n"
        "    client_body_temp_path " + (n / "body").string() + ";\n"
        "    proxy_temp_path " + (n / "proxy").string() + ";\n"
        "    fastcgi_temp_path " + (n / "fastcgi").string() + ";\n"
        "    uwsgi_temp_path " + (n / "uwsgi").string() + ";\n"
        "    scgi_temp_path " + (n / "scgi").string() + ";\n"
        "    upstream kohtaamo_collectors {\n" + servers + "        keepalive 32;\n    }\n"
        "    server {\n"
        "        listen 127.0.0.1:" + std::to_string(port_) + " ssl;\n"
        "        ssl_certificate " + ca.cert.string() + ";\n"
        "        ssl_certificate_key " + ca.key.string() + ";\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;\n"
        "        client_max_body_size 4m;\n"
        "        client_body_buffer_size 4m;\n"
        "        client_header_timeout 10s;\n"
        "        client_body_timeout 60s;\n"
        "        send_timeout 30s;\n"
        "        keepalive_timeout 10s;\n"
        "        location / {\n"
        "            proxy_pass http://kohtaamo_collectors;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_request_buffering on;\n"
        "            proxy_buffering off;\n"
        "            proxy_connect_timeout 2s;\n"
        "            proxy_send_timeout 30s;\n"
        "            proxy_read_timeout 60s;\n"
        "            proxy_next_upstream error timeout http_502 http_503 non_idempotent;\n"
        "            proxy_next_upstream_tries 3;\n"
        "        }\n"
        "    }\n}\n";
    write(n / "nginx.conf", config);
    pid_ = spawn_as({0, 0, false}, {KOHTAAMO_NGINX, "-p", n.string(), "-c", (n / "nginx.conf").string()},
                    n / "logs/stderr.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port_));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (up) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_ || std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            throw std::runtime_error("nginx did not start: " + slurp(n / "logs/stderr.log") + slurp(n / "logs/error.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Nginx::~Nginx() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGQUIT);
    ::waitpid(pid_, nullptr, 0);
}

}  // namespace kohtaamo::testbed
