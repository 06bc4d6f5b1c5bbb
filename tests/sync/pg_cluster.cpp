// pg_cluster.cpp — the tests' PostgreSQL (pg_cluster.hpp).
#include "pg_cluster.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

namespace kohtaamo::test::sync {

namespace {

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
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
    static PgCluster cluster;
    return cluster;
}

PgCluster::PgCluster() {
    const RunAs who = unprivileged();
    std::string tmpl = (std::filesystem::temp_directory_path() / "kohtaamo-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "socket");
    chown_tree(dir_, who);
    const auto log = dir_ / "initdb.log";
    const int pid = spawn_as(who,
                             {(pg_bindir() / "initdb").string(), "-D", (dir_ / "data").string(), "-U", "kohtaamo",
                              "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"},
                             log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        const std::string out = slurp(log);
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("initdb failed: " + out);
    }
    port_ = free_port();
    start();
}

void PgCluster::start() {
    const RunAs who = unprivileged();
    // fsync off: a test's server never survives a power cut, and it saves seconds.
    pid_ = spawn_as(who,
                    {(pg_bindir() / "postgres").string(), "-D", (dir_ / "data").string(), "-p", std::to_string(port_),
                     "-k", (dir_ / "socket").string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                     "max_connections=200", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning"},
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

}  // namespace kohtaamo::test::sync
