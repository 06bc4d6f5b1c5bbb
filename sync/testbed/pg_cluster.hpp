// pg_cluster.hpp — a real PostgreSQL server for the tests and the benchmark (kohtaamo_testbed): a throw-away cluster made with
// initdb in a temporary folder and started on a free loopback port, as an unprivileged
// user (the tests run as root in CI, and postgres refuses root: then as `nobody`). One
// cluster per test process, started on first use; each test gets a database of its own.
//
// It never outlives the test: postgres runs as this process's child with a parent-death
// signal (SIGQUIT, an immediate shutdown, when the test process dies, however it dies), and the folder is
// removed at exit.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kohtaamo::testbed {

class PgCluster {
public:
    // The process's cluster, started on first use (throws with initdb's or postgres's
    // output when it cannot start).
    static PgCluster& get();
    // A cluster of its own (the benchmark's: with fsync on, as in production).
    explicit PgCluster(bool fsync);
    // A new, empty database; its libpq URI.
    std::string create_database();
    int port() const { return port_; }
    // A fast shutdown and a start on the same port and folder: the clients' connections
    // break, nothing committed is lost. Returns when it accepts connections again.
    void restart();
    void stop();
    void start();
    // A streaming standby of `primary` (pg_basebackup -R from it), started on a port of
    // its own, read-only until promoted. `synchronous`: the primary then waits at every
    // commit until the standby has it (synchronous_standby_names = '*'), as a failover
    // that loses nothing acknowledged needs; returns once it does.
    static std::unique_ptr<PgCluster> standby_of(const PgCluster& primary, bool synchronous);
    // The server gone at once, as with its machine: SIGKILL to the postmaster and every
    // backend. It is not started again.
    void kill();
    // A standby takes writes (pg_promote()); returns once it does.
    void promote();
    // libpq's "host:port" of this server, for a URI that lists several.
    std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
    ~PgCluster();

    // A child process of the cluster's user (for nginx, anything that refuses root).
private:
    PgCluster() = default;
    // A new folder for a cluster, owned by the server's user.
    void make_dir();
    std::filesystem::path dir_;
    bool fsync_ = false;
    int port_ = 0;
    int pid_ = -1;
    int databases_ = 0;
};

// initdb's and postgres's folder (pg_config --bindir at configure time).
std::filesystem::path pg_bindir();

// The user id and group id an unprivileged server runs as: this process's own, or
// `nobody`'s when this is root.
struct RunAs {
    unsigned uid, gid;
    bool change;  // root: switch to uid/gid in the child
};
RunAs unprivileged();

// fork + exec of `argv` as `who`, with the parent-death signal SIGQUIT (an immediate stop for postgres and nginx), its output to
// `log`. Returns the pid.
int spawn_as(const RunAs& who, const std::vector<std::string>& argv, const std::filesystem::path& log,
             const std::filesystem::path& cwd = {});

}  // namespace kohtaamo::testbed

namespace kohtaamo::testbed {

// A CA and a server certificate for 127.0.0.1 and localhost, made with openssl in `dir`
// (ca.pem, server.pem, server.key). Throws with openssl's output on failure.
struct TestCa {
    std::filesystem::path ca, cert, key;
    explicit TestCa(const std::filesystem::path& dir);
};

// nginx in the foreground as this process's child (it dies with its parent), terminating
// TLS on a free loopback port and passing to `upstreams` — the configuration
// docs/collector-deploy.md shows, with its paths in `dir`/nginx.
class Nginx {
public:
    Nginx(const std::filesystem::path& dir, const TestCa& ca, const std::vector<int>& upstreams);
    ~Nginx();
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;
    int port() const { return port_; }
    int pid() const { return pid_; }

private:
    int port_ = 0, pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

}  // namespace kohtaamo::testbed
