#!/usr/bin/env python3
"""The Debian packages and the boot session, for real (ctest runs each case on its own):

  packages  both .debs built by CPack from this build tree into <build>/packages (nothing
            written into the source tree): every file where Debian puts it, the conffiles,
            the dependencies, maintainer scripts that parse
  lintian   lintian reports no errors on either package
  install   into a clean root (dpkg --root): the users, /var/lib/kohtaamo 0700; the installed
            `kohtaamo --check-config` says "not enrolled", then, after the installed
            kohtaamo-enroll against the installed collector (its unit's command line, its
            user, reloaded by SIGHUP), passes; the installed kiosk writes its database as its
            user; remove keeps settings and data; purge removes this device's settings and
            says where the data is (kept)
  units     `systemd-analyze verify` accepts both installed units without a word (and does
            complain about a broken copy, so the check can fail)
  cage      the kiosk unit's own command line, environment and user under cage's headless
            backend: READY=1 and WATCHDOG=1 reach the notify socket from the kiosk (cage's
            child), grim's picture from the compositor is the welcome screen the kiosk draws
            headless at that size; SIGTERM to the session ends it cleanly
  upgrade   from the previous release (this package at an older version, plus the database
            it leaves: the real migration steps up to the previous schema, with answers never
            sent): dpkg upgrades without a question, keeping the admin's edit, the device
            file and the database; the new kiosk's next start migrates it and sends every
            answer to the collector
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploy_support import (BUILD, IS_ROOT, PACKAGES, SOURCE, Cleanup, Collector, Failure, Root, check,  # noqa: E402
                            child_pids, debs, log, read_log, read_png, read_ppm, run, same_pixels, stop, unit_lines,
                            wait_for)

KIOSK_FILES = [
    "./usr/bin/kohtaamo", "./usr/bin/kohtaamo-enroll", "./usr/bin/kohtaamo-sync", "./usr/bin/kohtaamo-export",
    "./usr/share/kohtaamo/surveys/child.toml", "./usr/share/kohtaamo/lang/fi.toml", "./usr/share/kohtaamo/news.toml",
    "./usr/share/kohtaamo/assets/sounds/fi/child-feeling.wav", "./etc/kohtaamo/kiosk.toml", "./etc/pam.d/kohtaamo-kiosk",
    "./lib/systemd/system/kohtaamo-kiosk.service", "./usr/lib/sysusers.d/kohtaamo-kiosk.conf",
    "./usr/lib/tmpfiles.d/kohtaamo-kiosk.conf", "./usr/share/doc/kohtaamo-kiosk/copyright",
    "./usr/share/doc/kohtaamo-kiosk/changelog.gz", "./usr/share/doc/kohtaamo-kiosk/deploy.md",
]
COLLECTOR_FILES = [
    "./usr/bin/kohtaamo-collector", "./usr/share/kohtaamo-collector/surveys/child.toml",
    "./usr/share/kohtaamo-collector/lang/report-fi.toml", "./etc/kohtaamo/collector.toml",
    "./lib/systemd/system/kohtaamo-collector.service", "./usr/lib/sysusers.d/kohtaamo-collector.conf",
    "./usr/lib/tmpfiles.d/kohtaamo-collector.conf", "./usr/share/doc/kohtaamo-collector/copyright",
]


def source_changes():
    """Every file of the source tree outside build/ (and .git) with its size and time."""
    files = []
    for top, dirs, names in os.walk(SOURCE):
        if top == SOURCE:
            dirs[:] = [d for d in dirs if d not in ("build", ".git")]
        for n in names:
            st = os.lstat(os.path.join(top, n))
            files.append(f"{os.path.relpath(os.path.join(top, n), SOURCE)} {st.st_size} {st.st_mtime_ns}")
    return sorted(files)


def case_packages():
    shutil.rmtree(PACKAGES, ignore_errors=True)
    before = source_changes()
    started = time.monotonic()
    run(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", PACKAGES], timeout=600)
    log(f"cpack: {time.monotonic() - started:.1f} s")
    check(source_changes() == before, "building the packages changed the source tree:\n" +
          "\n".join(sorted(set(source_changes()) - set(before))))
    found = debs()
    for name, wanted, conffiles in (("kiosk", KIOSK_FILES, ["/etc/kohtaamo/kiosk.toml", "/etc/pam.d/kohtaamo-kiosk"]),
                                    ("collector", COLLECTOR_FILES, ["/etc/kohtaamo/collector.toml"])):
        deb = found[name]
        listing = run(["dpkg-deb", "-c", deb]).stdout
        paths = [line.split()[-1] for line in listing.splitlines()]
        for p in wanted:
            check(p in paths, f"{os.path.basename(deb)} lacks {p}")
        for p in paths:
            check(not p.startswith("./usr/local") and "/tests" not in p and not p.endswith("_tests"),
                  f"{os.path.basename(deb)} ships {p}")
            check(not p.startswith("./var/lib/kohtaamo"), f"{p}: the data folder is made by tmpfiles.d, not shipped")
        check("./etc/kohtaamo/device.toml" not in paths, "device.toml is the device's own, never shipped")
        control = tempfile.mkdtemp()
        try:
            run(["dpkg-deb", "-e", deb, control])
            with open(os.path.join(control, "conffiles")) as f:
                check(f.read().split() == conffiles, f"{name}: conffiles are {conffiles}")
            for script in ("postinst", "prerm", "postrm"):
                path = os.path.join(control, script)
                check(os.stat(path).st_mode & 0o777 == 0o755, f"{name} {script} is 0755")
                run(["sh", "-n", path])
            depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
        finally:
            shutil.rmtree(control)
        needed = ["libc6", "libsqlite3-0", "systemd", "init-system-helpers"]
        if name == "kiosk":
            needed += ["cage", "xwayland", "libsdl2-2.0-0", "libsystemd0", "libcurl4", "fonts-dejavu-core", "fonts-noto-color-emoji",
                       "libpam-systemd"]
        else:
            needed += ["libmicrohttpd12", "libpq5"]
        for d in needed:
            check(d in depends, f"{name} does not depend on {d}: {depends}")
        log(f"{os.path.basename(deb)}: {os.path.getsize(deb) // 1024} KiB, {len(paths)} entries")


def case_lintian():
    found = debs()
    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix="kohtaamo-lintian-")  # lintian leaves files in TMPDIR
    try:
        r = run(["lintian", "--tag-display-limit", "0", found["kiosk"], found["collector"]], check_rc=False,
                timeout=300, env=dict(os.environ, TMPDIR=scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log(r.stdout.strip())
    log(f"lintian: {time.monotonic() - started:.1f} s")
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    check(not errors, "lintian reports errors:\n" + "\n".join(errors))
    check(r.returncode in (0, 1), f"lintian itself failed ({r.returncode}): {r.stderr}")


def install(root, *names):
    found = debs()
    r = root.dpkg("-i", *[found[n] for n in names])
    return r.stdout + r.stderr


def case_install():
    with Cleanup() as c:
        root = Root(c)
        out = install(root, "kiosk", "collector")
        check("Setting up kohtaamo-kiosk" in out and "Setting up kohtaamo-collector" in out, out)
        kiosk_uid, kiosk_gid = root.ids("kohtaamo")
        root.ids("kohtaamo-collector")
        for folder, user in (("/var/lib/kohtaamo", "kohtaamo"), ("/var/lib/kohtaamo-collector", "kohtaamo-collector")):
            st = os.stat(root.file(folder))
            check(st.st_mode & 0o7777 == 0o700, f"{folder} is 0{st.st_mode & 0o7777:o}, not 0700")
            if IS_ROOT:
                check(st.st_uid == root.ids(user)[0], f"{folder} belongs to {user}")

        # Before enrolment the installed kiosk says what is missing.
        r = root.run(["/usr/bin/kohtaamo", "--check-config"], user="kohtaamo", check_rc=False)
        check(r.returncode == 2 and "not enrolled yet" in r.stderr and "kohtaamo-enroll" in r.stderr,
              f"check-config before enrolment: {r.returncode} {r.stderr}")

        # Enrolment against the installed collector, as the admin does it.
        collector = Collector(root, c)
        token = collector.new_device("kirjasto-1")
        root.write("/tmp/kirjasto.token", token + "\n", 0o600)
        r = root.run(["/usr/bin/kohtaamo-enroll", "--site", "kirjasto", "--collector", collector.url,
                      "--token-file", "/tmp/kirjasto.token"])
        check("knows this kiosk as \"kirjasto-1\"" in r.stdout, r.stdout + r.stderr)
        st = os.stat(root.file("/etc/kohtaamo/device.toml"))
        check(st.st_mode & 0o7777 == 0o600, "device.toml is 0600")
        if IS_ROOT:
            check((st.st_uid, st.st_gid) == (kiosk_uid, kiosk_gid), "device.toml belongs to the kiosk's user")

        r = root.run(["/usr/bin/kohtaamo", "--check-config"], user="kohtaamo", check_rc=False)
        log(r.stdout.strip())
        check(r.returncode == 0, f"check-config after enrolment: {r.returncode}\n{r.stdout}{r.stderr}")
        check("/etc/kohtaamo/kiosk.toml: ok" in r.stdout and "database /var/lib/kohtaamo/kohtaamo.sqlite" in r.stdout,
              r.stdout)

        # The installed kiosk, as its user: a visitor picks a language; the answer database is made.
        root.write("/tmp/walk.txt", 'tap "Suomi"\nscreenshot /tmp/choose.png\n')
        root.run(["/usr/bin/kohtaamo", "--headless", "--replay", "/tmp/walk.txt"], user="kohtaamo")
        check(os.path.exists(root.file("/var/lib/kohtaamo/kohtaamo.sqlite")), "the kiosk made its database")

        # Remove: settings and data stay.
        root.dpkg("--remove", "kohtaamo-kiosk")
        check(not os.path.exists(root.file("/usr/bin/kohtaamo")), "removed: the program is gone")
        for kept in ("/etc/kohtaamo/kiosk.toml", "/etc/kohtaamo/device.toml", "/var/lib/kohtaamo/kohtaamo.sqlite"):
            check(os.path.exists(root.file(kept)), f"removing deleted {kept}")

        # Purge: this device's settings go, the data stays and the admin is told where.
        r = root.dpkg("--purge", "kohtaamo-kiosk")
        said = r.stdout + r.stderr
        log(said.strip())
        for gone in ("/etc/kohtaamo/kiosk.toml", "/etc/kohtaamo/device.toml", "/etc/pam.d/kohtaamo-kiosk"):
            check(not os.path.exists(root.file(gone)), f"purging kept {gone}")
        check(os.path.exists(root.file("/var/lib/kohtaamo/kohtaamo.sqlite")), "purging deleted the answers")
        check("/var/lib/kohtaamo" in said and "kept" in said, "purge says where the data is: " + said)
        check(os.path.exists(root.file("/etc/kohtaamo/collector.toml")), "the collector's config stays")
        stop(collector.process)
        r = root.dpkg("--purge", "kohtaamo-collector")
        check("/var/lib/kohtaamo-collector" in r.stdout + r.stderr, "the collector's purge says where its data is")
        check(os.path.exists(collector.database()), "purging the collector deleted its database")


def case_units():
    with Cleanup() as c:
        root = Root(c)
        install(root, "kiosk", "collector")
        # What the units need from other packages: systemd's own units (systemd) and the
        # programs they run (cage, kill) — copies of the host's, in this throw-away root.
        units = root.file("/usr/lib/systemd/system")
        for f in os.listdir("/usr/lib/systemd/system"):
            if f.endswith((".target", ".socket", ".slice")) or f in ("systemd-logind.service", "dbus.service"):
                src = os.path.join("/usr/lib/systemd/system", f)
                if os.path.isfile(src) and not os.path.exists(os.path.join(units, f)):
                    shutil.copy(src, units)
        for program in ("/usr/bin/cage", "/usr/bin/kill"):
            shutil.copy(program, root.file(program))
        mine = ["/lib/systemd/system/kohtaamo-kiosk.service", "/lib/systemd/system/kohtaamo-collector.service"]
        r = run(["systemd-analyze", "verify", f"--root={root.path}", *mine], check_rc=False)
        log(f"systemd-analyze verify: exit {r.returncode} {r.stdout}{r.stderr}".strip())
        check(r.returncode == 0 and not (r.stdout + r.stderr).strip(), "systemd-analyze verify complains:\n" + r.stdout + r.stderr)
        # The same check on a unit with a typo does complain.
        with open(root.file(mine[0])) as f:
            broken = f.read().replace("Restart=always", "Restrat=always")
        root.write("/lib/systemd/system/kohtaamo-broken.service", broken)
        r = run(["systemd-analyze", "verify", f"--root={root.path}", "/lib/systemd/system/kohtaamo-broken.service"],
                check_rc=False)
        check("Restrat" in r.stdout + r.stderr, "systemd-analyze verify did not see a broken unit")


def describe(pid):
    """Each thread of a process: its name, state and where it waits (for a failure's report)."""
    out = ""
    for task in sorted(os.listdir(f"/proc/{pid}/task")) if os.path.exists(f"/proc/{pid}") else []:
        def read(name):
            try:
                with open(f"/proc/{pid}/task/{task}/{name}") as f:
                    return f.read().strip()
            except OSError:
                return "?"
        state = re.search(r"(?m)^State:\s+(.*)$", read("status"))
        out += f"  {pid}/{task} {read('comm')} {state.group(1) if state else '?'} wchan={read('wchan')}\n"
    return out or f"  {pid}: gone\n"


class NotifySocket:
    """A unix datagram socket as systemd's notify socket, read all the time as systemd reads
    it (a sender blocks when its queue is full), with each sender's pid."""

    def __init__(self, path, cleanup):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # the kiosk's user sends to it
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, pid, text)
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        cleanup.add(self.close)

    def _read(self):
        while not self.done:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = 0
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = int.from_bytes(cdata[:4], "little")
            with self.lock:
                self.messages.append((time.monotonic(), pid, data.decode(errors="replace")))

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()

    def since(self, t):
        """[(pid, text)] of what arrived after monotonic time `t`."""
        with self.lock:
            return [(pid, m) for at, pid, m in self.messages if at > t]

    def wait_for(self, text, seconds):
        """(pid, message) of the first message containing `text`."""
        def found():
            return next(((pid, m) for pid, m in self.since(0) if text in m), None)
        return wait_for(found, seconds, f"{text} on the notify socket")


def case_cage():
    with Cleanup() as c:
        root = Root(c)
        install(root, "kiosk")
        uid, gid = root.ids("kohtaamo")
        # An enrolled kiosk without a collector (sync off): enrolment has its own tests.
        root.write("/etc/kohtaamo/device.toml", '[device]\nsite = "kirjasto"\n', 0o600)
        unit = root.read("/lib/systemd/system/kohtaamo-kiosk.service")
        exec_start = unit_lines(unit, "ExecStart")[0].split()
        user = unit_lines(unit, "User")[0]
        env = dict(e.split("=", 1) for e in unit_lines(unit, "Environment"))
        check(unit_lines(unit, "Type") == ["notify"] and unit_lines(unit, "NotifyAccess") == ["all"],
              "the kiosk unit waits for READY=1 and hears the kiosk, cage's child")
        watchdog_usec = int(unit_lines(unit, "WatchdogSec")[0]) * 1_000_000
        runtime = f"/run/user/{uid}"
        os.makedirs(root.file(runtime), exist_ok=True)
        os.chmod(root.file(runtime), 0o700)
        if IS_ROOT:
            os.chown(root.file(runtime), uid, gid)
            os.chown(root.file("/etc/kohtaamo/device.toml"), uid, gid)
        notify = NotifySocket(root.file("/run/notify"), c)
        # What systemd and logind give the unit's process, and cage's headless backend. Two
        # headless outputs: with one, cage 0.1.4 scans the kiosk's buffer out directly and
        # wlroots 0.15's screencopy (grim) of such a frame on the pixman renderer is black;
        # across two outputs cage composites, as on a real screen, and grim sees the frame.
        env.update({"XDG_RUNTIME_DIR": runtime, "NOTIFY_SOCKET": "/run/notify",
                    "WATCHDOG_USEC": str(watchdog_usec // 15),  # 2 s here: a ping a second
                    "WLR_BACKENDS": "headless", "WLR_HEADLESS_OUTPUTS": "2", "WLR_RENDERER": "pixman",
                    "WLR_LIBINPUT_NO_DEVICES": "1"})
        # systemd sets WATCHDOG_PID to the main process: cage.
        argv = ["/usr/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh", *exec_start]
        session = root.spawn(argv, c, user=user, extra_env=env, log_name="session.log")
        ready_from, ready_text = notify.wait_for("READY=1", 60)
        cage_pid = session.pid  # unshare, sh, chroot and sh exec: this is cage
        kiosks = child_pids(cage_pid, "kohtaamo")
        check(kiosks == [ready_from], f"READY=1 came from {ready_from}, cage's children are {kiosks}")
        t = time.monotonic()
        time.sleep(3.5)
        pings = [m for pid, m in notify.since(t) if "WATCHDOG=1" in m and pid == ready_from]
        check(2 <= len(pings) <= 6, f"{len(pings)} watchdog pings from the kiosk in 3.5 s at a 2 s watchdog")

        shots = os.path.join(BUILD, "deploy-shots")
        os.makedirs(shots, exist_ok=True)
        grim_env = dict(os.environ, XDG_RUNTIME_DIR=root.file(runtime), WAYLAND_DISPLAY="wayland-0")
        run(["grim", "-t", "ppm", os.path.join(shots, "boot.ppm")], env=grim_env)
        run(["grim", os.path.join(shots, "boot-welcome.png")], env=grim_env)  # to look at
        screen = read_ppm(os.path.join(shots, "boot.ppm"))
        log(f"grim: {screen[0]}x{screen[1]}, {shots}/boot-welcome.png")
        # The same kiosk headless at that size, as the reference of its welcome screen.
        # (and its next screen, which the picture must not match: the comparison can fail).
        root.write("/tmp/shot.txt", 'screenshot /tmp/welcome.png\ntap "Lapset"\nscreenshot /tmp/next.png\n')
        root.run(["/usr/bin/kohtaamo", "--headless", "--size", f"{screen[0]}x{screen[1]}", "--data", "/tmp/ref",
                  "--replay", "/tmp/shot.txt"], user=user)
        share = same_pixels(screen, read_png(root.file("/tmp/welcome.png")))
        other = same_pixels(screen, read_png(root.file("/tmp/next.png")))
        log(f"the compositor's picture and the kiosk's own welcome screen: {share:.1%} of pixels the same "
            f"(its next screen: {other:.1%})")
        check(share > 0.9 and other < 0.7, f"grim's picture is not the welcome screen ({share:.1%} the same, "
                                           f"{other:.1%} as the next screen; see {shots}/boot-welcome.png)\n" +
              read_log(session))
        black = same_pixels(screen, (screen[0], screen[1], bytes(len(screen[2]))))
        check(black < 0.05, "grim's picture is black")

        # systemctl stop with the unit's KillMode=mixed: SIGTERM to the main process, which
        # the kiosk named itself with READY=1; cage ends with its client.
        check(unit_lines(unit, "KillMode") == ["mixed"], "the kiosk unit signals its main process alone")
        check(f"MAINPID={ready_from}" in ready_text, f"READY=1 names the kiosk the main process: {ready_text!r}")
        os.kill(ready_from, signal.SIGTERM)
        try:
            rc = session.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise Failure("the session did not end within 10 s of SIGTERM to the kiosk:\n" +
                          describe(ready_from) + describe(cage_pid))
        check(rc == 0, f"cage ended with {rc}:\n" + read_log(session))
        check(not os.path.exists(f"/proc/{ready_from}"), "the kiosk ended")
        check("SIGTERM or SIGINT; stopping" in read_log(session), "the kiosk says why it stops:\n" + read_log(session))
        check(not os.path.exists(root.file("/var/lib/kohtaamo/kohtaamo.sqlite-wal")), "the kiosk closed its database")


def previous_package(cleanup):
    """This kiosk package at a version before it: the previous release's files and scripts."""
    work = tempfile.mkdtemp(prefix="kohtaamo-previous-")
    cleanup.add(lambda: shutil.rmtree(work, ignore_errors=True))
    tree = os.path.join(work, "tree")
    run(["dpkg-deb", "-R", debs()["kiosk"], tree])
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control) as f:
        text = f.read()
    version = re.search(r"(?m)^Version: (.+)$", text).group(1)
    previous = version + "~previous1"
    with open(control, "w") as f:
        f.write(text.replace(f"Version: {version}", f"Version: {previous}"))
    deb = os.path.join(work, "kohtaamo-kiosk_previous.deb")
    run(["dpkg-deb", "--root-owner-group", "-b", tree, deb])
    return deb, previous, version


def case_upgrade():
    with Cleanup() as c:
        root = Root(c)
        old_deb, old_version, new_version = previous_package(c)
        root.dpkg("-i", old_deb, debs()["collector"])
        collector = Collector(root, c)
        token = collector.new_device("kirjasto-1")
        root.write("/tmp/kirjasto.token", token + "\n", 0o600)
        root.run(["/usr/bin/kohtaamo-enroll", "--site", "kirjasto", "--collector", collector.url,
                  "--token-file", "/tmp/kirjasto.token"])
        # What the previous release's kiosk left behind: answers it never sent, in a
        # database at the previous schema version made by the real earlier migration steps.
        db = root.file("/var/lib/kohtaamo/kohtaamo.sqlite")
        r = run([os.environ["KOHTAAMO_PREVIOUS_STORE"], db, "kirjasto", "25"])
        ids = set(r.stdout.split())
        check(len(ids) == 25, r.stdout)
        os.chmod(db, 0o600)
        if IS_ROOT:
            os.chown(db, *root.ids("kohtaamo"))
        with sqlite3.connect(db) as con:
            old_schema = con.execute("PRAGMA user_version").fetchone()[0]
        # An admin's edit of the shared config.
        conf = root.read("/etc/kohtaamo/kiosk.toml").replace("idle_timeout_seconds = 60", "idle_timeout_seconds = 90")
        root.write("/etc/kohtaamo/kiosk.toml", conf)
        digest = lambda p: hashlib.sha256(open(root.file(p), "rb").read()).hexdigest()  # noqa: E731
        before = {p: digest(p) for p in ("/var/lib/kohtaamo/kohtaamo.sqlite", "/etc/kohtaamo/device.toml")}

        r = root.dpkg("-i", debs()["kiosk"])  # stdin is /dev/null: a conffile question would fail here
        said = r.stdout + r.stderr
        check(f"over ({old_version})" in said and "Setting up kohtaamo-kiosk" in said, said)
        status = run(["dpkg-query", f"--root={root.path}", "-W", "-f=${Version}", "kohtaamo-kiosk"]).stdout
        check(status == new_version, f"installed version {status}")
        check("idle_timeout_seconds = 90" in root.read("/etc/kohtaamo/kiosk.toml"), "the upgrade undid the admin's edit")
        leftovers = [f for f in os.listdir(root.file("/etc/kohtaamo")) if ".dpkg-" in f]
        check(not leftovers, f"dpkg left {leftovers}")
        for p, d in before.items():
            check(digest(p) == d, f"the upgrade changed {p}")

        # The next start: the new kiosk migrates the database and sends what was waiting.
        kiosk = root.spawn(["/usr/bin/kohtaamo", "--headless", "--config", "/etc/kohtaamo/kiosk.toml"], c,
                           user="kohtaamo", log_name="kiosk.log")

        def received():
            if not os.path.exists(collector.database()):
                return False
            with sqlite3.connect(f"file:{collector.database()}?mode=ro", uri=True) as con:
                got = {row[0] for row in con.execute("SELECT id FROM responses WHERE site = 'kirjasto'")}
            return got == ids

        wait_for(received, 30, "the collector to hold every answer sent after the upgrade")
        check(stop(kiosk) == 0, "the kiosk ended cleanly:\n" + read_log(kiosk))
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            new_schema = con.execute("PRAGMA user_version").fetchone()[0]
            unsent = con.execute("SELECT count(*) FROM responses WHERE synced_at IS NULL").fetchone()[0]
            kept = con.execute("SELECT count(*) FROM answers").fetchone()[0]
        log(f"schema {old_schema} -> {new_schema}; {len(ids)} answers sent; {kept} answer rows kept")
        check(new_schema == old_schema + 1, f"the database is at schema {new_schema}, not {old_schema + 1}")
        check(unsent == 0, f"{unsent} responses not marked sent")
        check(kept == 50, f"{kept} answer rows in the kiosk, not 50")


CASES = {"packages": case_packages, "lintian": case_lintian, "install": case_install, "units": case_units,
         "cage": case_cage, "upgrade": case_upgrade}

if __name__ == "__main__":
    from deploy_support import main
    sys.exit(main(CASES))
