// service.hpp — the kiosk as a service: what it tells systemd, and how it hears that it
// must stop. Owned by App; the main loop (App::run) calls it.
//
// Does:
//   - READY=1 (sd_notify, libsystemd) once the first frame is on the screen, so
//     `systemctl start` returns when the kiosk shows something, not when it was forked,
//     with MAINPID= the kiosk's: under cage systemd then stops the kiosk (which saves and
//     ends, and cage with it) rather than cage, and a hang is the kiosk's to answer for;
//   - WATCHDOG=1 from the main loop, every half of WATCHDOG_USEC. The ping has its own
//     deadline in the loop's wait (deadline()), so an idle kiosk wakes once per half
//     interval (15 s with the unit's WatchdogSec=30) and no more; a loop that hangs stops
//     pinging and systemd restarts the kiosk. Under cage the kiosk is the compositor's child,
//     not the service's main process: WATCHDOG_PID then names our parent, and we take the
//     watchdog as ours (the unit says NotifyAccess=all so systemd hears us);
//   - STOPPING=1 when the loop ends;
//   - SIGTERM and SIGINT end the loop cleanly: our own handler is installed whatever the
//     inherited disposition (a background job starts with SIGINT ignored) and SDL installs
//     none (SDL_HINT_NO_SIGNAL_HANDLERS). The handler only writes a byte to a pipe; a small
//     thread, asleep in read() otherwise, turns it into SDL_QUIT, which wakes the loop at
//     once whatever the video driver.
// Does not: talk to systemd when NOTIFY_SOCKET is not set (sd_notify is then a no-op), or
// keep any state on disk.
#pragma once
#include <cstdint>
#include <optional>
#include <thread>

namespace kohtaamo::platform {

class Service {
public:
    // Reads the watchdog interval from the environment and installs the signal handlers
    // (SDL must be initialised: the thread posts SDL events).
    Service();
    // Restores the previous signal handlers.
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // True once SIGTERM or SIGINT arrived.
    static bool signalled();

    // The first frame is on the screen: READY=1 (once).
    void ready();
    // Monotonic ms when the next watchdog ping is due; nullopt without a watchdog.
    std::optional<std::int64_t> deadline() const;
    // The loop went round: WATCHDOG=1 when it is due.
    void alive(std::int64_t now_ms);
    // The loop ended: STOPPING=1.
    void stopping();

    std::int64_t watchdog_interval_ms() const { return interval_ms_; }

private:
    std::int64_t interval_ms_ = 0;  // half of WATCHDOG_USEC; 0: no watchdog
    std::int64_t next_ping_ms_ = 0;
    bool ready_ = false;
    int pipe_[2] = {-1, -1};
    std::thread watcher_;
};

}  // namespace kohtaamo::platform
