#include "service.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <SDL.h>
#include <systemd/sd-daemon.h>

namespace kohtaamo::platform {

namespace {

std::atomic<bool> g_signalled{false};
int g_signal_pipe = -1;  // the write end, for the handler
struct sigaction g_previous[2];
constexpr int kSignals[2] = {SIGTERM, SIGINT};

// Async-signal-safe: a flag and a write().
void on_signal(int) {
    g_signalled = true;
    const int saved = errno;
    const char byte = 's';
    if (g_signal_pipe >= 0) {
        [[maybe_unused]] const auto n = ::write(g_signal_pipe, &byte, 1);
    }
    errno = saved;
}

// The watchdog interval systemd asks for, in µs; 0 for none.
std::uint64_t watchdog_usec() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) return usec;
    // Under cage the service's main process is the compositor and WATCHDOG_PID names it:
    // the kiosk is its only client and the one whose loop the watchdog is for.
    const char* pid = std::getenv("WATCHDOG_PID");
    const char* us = std::getenv("WATCHDOG_USEC");
    if (!pid || !us || std::strtol(pid, nullptr, 10) != static_cast<long>(::getppid())) return 0;
    return std::strtoull(us, nullptr, 10);
}

}  // namespace

Service::Service() {
    interval_ms_ = static_cast<std::int64_t>(watchdog_usec() / 2000);
    if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error("cannot make the signal pipe");
    g_signalled = false;
    g_signal_pipe = pipe_[1];
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < 2; ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
    watcher_ = std::thread([fd = pipe_[0]] {
        char byte = 0;
        for (;;) {
            const ssize_t n = ::read(fd, &byte, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || byte == 'x') return;  // the App is going away
            SDL_Event e{};
            e.type = SDL_QUIT;
            SDL_PushEvent(&e);
        }
    });
}

Service::~Service() {
    for (int i = 0; i < 2; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
    g_signal_pipe = -1;
    const char byte = 'x';
    [[maybe_unused]] auto n = ::write(pipe_[1], &byte, 1);
    if (watcher_.joinable()) watcher_.join();
    ::close(pipe_[0]);
    ::close(pipe_[1]);
}

bool Service::signalled() { return g_signalled; }

void Service::ready() {
    if (ready_) return;
    ready_ = true;
    // MAINPID: under cage the service's main process is the compositor; from now on systemd
    // signals the kiosk (KillMode=mixed: a stop reaches the kiosk alone, which saves and
    // ends, and cage ends with it) and a watchdog timeout stops the kiosk, not cage.
    sd_notifyf(0, "READY=1\nSTATUS=running\nMAINPID=%ld", static_cast<long>(::getpid()));
}

std::optional<std::int64_t> Service::deadline() const {
    if (interval_ms_ <= 0) return std::nullopt;
    return next_ping_ms_;
}

void Service::alive(std::int64_t now_ms) {
    if (interval_ms_ <= 0 || now_ms < next_ping_ms_) return;
    sd_notify(0, "WATCHDOG=1");
    next_ping_ms_ = now_ms + interval_ms_;
}

void Service::stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace kohtaamo::platform
