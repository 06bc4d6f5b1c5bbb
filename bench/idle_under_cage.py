#!/usr/bin/env python3
"""The kiosk idle on its welcome screen under cage's headless backend, as the boot session
runs it (full screen, Wayland, a notify socket read like systemd's): CPU seconds and
main-thread wake-ups over a window, with the watchdog off and at the unit's 20 s.

  python3 bench/idle_under_cage.py KOHTAAMO_BINARY CONFIG [SECONDS]

cage refuses to run as root: as root, the kiosk runs as `nobody` (which must be able to
read the binary and the config)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def measure(binary, config, watchdog_usec, seconds):
    d = tempfile.mkdtemp(prefix="kohtaamo-idle-")
    os.chmod(d, 0o755)
    os.makedirs(d + "/xdg")
    os.makedirs(d + "/data")
    prefix = []
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "nobody", d], check=True)
        prefix = ["runuser", "-u", "nobody", "--"]
    os.chmod(d + "/xdg", 0o700)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(d + "/notify")
    os.chmod(d + "/notify", 0o777)
    s.settimeout(0.2)
    env = dict(os.environ, XDG_RUNTIME_DIR=d + "/xdg", WLR_BACKENDS="headless", WLR_RENDERER="pixman",
               WLR_LIBINPUT_NO_DEVICES="1", SDL_VIDEODRIVER="wayland", NOTIFY_SOCKET=d + "/notify")
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    p = subprocess.Popen(prefix + ["cage", "-d", "--", binary, "--fullscreen", "--config", config, "--data", d + "/data"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        pid, until = None, time.monotonic() + 30
        while pid is None and time.monotonic() < until:
            try:
                m = s.recv(512).decode()
            except socket.timeout:
                continue
            for line in m.split("\n"):
                if line.startswith("MAINPID="):
                    pid = int(line[8:])
        if pid is None:
            raise SystemExit("the kiosk did not say READY=1")
        time.sleep(3)  # the first frames, the news

        def cpu():
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

        def wakes():
            with open(f"/proc/{pid}/task/{pid}/status") as f:
                return int(next(l for l in f if l.startswith("voluntary_ctxt_switches")).split()[1])

        c0, w0, pings, t0 = cpu(), wakes(), 0, time.monotonic()
        while time.monotonic() - t0 < seconds:
            try:
                pings += "WATCHDOG=1" in s.recv(512).decode()
            except socket.timeout:
                pass
        c1, w1 = cpu(), wakes()
        label = f"{watchdog_usec / 1e6:g} s" if watchdog_usec else "off"
        print(f"idle under cage {seconds} s, watchdog {label}: CPU {c1 - c0:.2f} s, "
              f"main-thread wake-ups {w1 - w0}, pings {pings}", flush=True)
        os.kill(pid, signal.SIGTERM)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        s.close()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    binary, config = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    measure(binary, config, 0, seconds)
    measure(binary, config, 20_000_000, seconds)
