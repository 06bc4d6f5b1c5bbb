// The kiosk as systemd runs it: the real binary (headless, its main loop, no replay) as a
// child process with NOTIFY_SOCKET pointing at a datagram socket this test listens on, as
// systemd's is. READY=1 and WATCHDOG=1 must arrive while the loop runs and stop while the
// process is SIGSTOPped (a hung loop); SIGTERM and SIGINT end it cleanly, also when SIGINT
// was ignored at start (a background job).
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

using namespace kohtaamo::test;
using namespace std::chrono;

namespace {

// A unix datagram socket, as systemd's notify socket is.
class NotifySocket {
public:
    explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        REQUIRE(path.string().size() < sizeof a.sun_path);
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~NotifySocket() { ::close(fd_); }
    const std::filesystem::path& path() const { return path_; }

    struct Message {
        steady_clock::time_point at;
        std::string text;
    };
    // Every message that arrives within `for_ms`.
    std::vector<Message> collect(int for_ms) {
        std::vector<Message> out;
        const auto until = steady_clock::now() + milliseconds(for_ms);
        for (;;) {
            const auto left = duration_cast<milliseconds>(until - steady_clock::now()).count();
            if (left <= 0) return out;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[512];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) out.push_back({steady_clock::now(), std::string(buf, static_cast<std::size_t>(n))});
        }
    }
    // Waits at most `timeout_ms` for a message containing `what`.
    bool wait_for(const std::string& what, int timeout_ms) {
        const auto until = steady_clock::now() + milliseconds(timeout_ms);
        while (steady_clock::now() < until) {
            for (const auto& m : collect(100))
                if (m.text.find(what) != std::string::npos) return true;
        }
        return false;
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

int count(const std::vector<NotifySocket::Message>& ms, const std::string& what) {
    int n = 0;
    for (const auto& m : ms) n += m.text.find(what) != std::string::npos;
    return n;
}

// The kiosk, headless in its main loop, with `env` added; SIGINT ignored first when asked.
struct Kiosk {
    pid_t pid = -1;
    std::filesystem::path err;

    Kiosk(const TempDir& dir, const std::vector<std::string>& env, bool ignore_sigint = false) {
        err = dir / "kiosk.err";
        std::vector<std::string> args = {KOHTAAMO_BIN, "--headless", "--config", (config_dir() / "kiosk.toml").string(),
                                         "--data", (dir / "data").string()};
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 2);
            ::dup2(fd, 1);
            if (ignore_sigint) ::signal(SIGINT, SIG_IGN);  // as a shell starts a background job
            ::unsetenv("NOTIFY_SOCKET");
            ::unsetenv("WATCHDOG_USEC");
            ::unsetenv("WATCHDOG_PID");
            for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~Kiosk() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    // Waits for the exit; the exit code, or -1 when it died by a signal, -2 on a timeout.
    int wait_exit(int timeout_ms) {
        const auto until = steady_clock::now() + milliseconds(timeout_ms);
        while (steady_clock::now() < until) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        return -2;
    }
};

}  // namespace

TEST_CASE("the kiosk tells systemd it is ready and feeds the watchdog from its loop, and a stopped loop stops feeding") {
    TempDir dir;
    NotifySocket sock(dir / "notify");
    // WATCHDOG_USEC 600 ms: a ping every 300 ms (systemd's unit says 30 s: every 15 s).
    Kiosk k(dir, {"NOTIFY_SOCKET=" + sock.path().string(), "WATCHDOG_USEC=600000"});
    REQUIRE(sock.wait_for("READY=1", 15000));

    auto running = sock.collect(1500);
    INFO(read_file(k.err));
    CHECK(count(running, "WATCHDOG=1") >= 3);
    CHECK(count(running, "WATCHDOG=1") <= 7);  // half the interval, not a busy loop

    // A hung loop: nothing more, however long it waits.
    REQUIRE(::kill(k.pid, SIGSTOP) == 0);
    sock.collect(100);  // a ping already on its way
    CHECK(count(sock.collect(1500), "WATCHDOG=1") == 0);
    REQUIRE(::kill(k.pid, SIGCONT) == 0);
    CHECK(sock.wait_for("WATCHDOG=1", 2000));

    REQUIRE(::kill(k.pid, SIGTERM) == 0);
    CHECK(sock.wait_for("STOPPING=1", 5000));
    CHECK(k.wait_exit(10000) == 0);
}

TEST_CASE("without a watchdog the kiosk sends READY=1 and no pings") {
    TempDir dir;
    NotifySocket sock(dir / "notify");
    Kiosk k(dir, {"NOTIFY_SOCKET=" + sock.path().string()});
    REQUIRE(sock.wait_for("READY=1", 15000));
    CHECK(count(sock.collect(1000), "WATCHDOG=1") == 0);
    ::kill(k.pid, SIGTERM);
    CHECK(k.wait_exit(10000) == 0);
}

TEST_CASE("SIGTERM and SIGINT end the kiosk cleanly, also when it started with SIGINT ignored") {
    const int sig = GENERATE(SIGTERM, SIGINT);
    const bool ignored = GENERATE(false, true);
    INFO("signal " << sig << (ignored ? ", SIGINT ignored at start" : ""));
    TempDir dir;
    NotifySocket sock(dir / "notify");
    Kiosk k(dir, {"NOTIFY_SOCKET=" + sock.path().string()}, ignored);
    REQUIRE(sock.wait_for("READY=1", 15000));  // in its main loop, asleep
    REQUIRE(::kill(k.pid, sig) == 0);
    const auto sent = steady_clock::now();
    const int rc = k.wait_exit(5000);
    INFO(read_file(k.err));
    CHECK(rc == 0);
    CHECK(duration_cast<milliseconds>(steady_clock::now() - sent).count() < 3000);
    // Closed cleanly: the uploader stopped and SQLite's last connection folded the
    // write-ahead log into the database and removed it (a killed kiosk leaves it behind).
    CHECK(std::filesystem::exists(dir / "data/kohtaamo.sqlite"));
    CHECK_FALSE(std::filesystem::exists(dir / "data/kohtaamo.sqlite-wal"));
}
