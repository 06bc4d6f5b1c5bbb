"""What the packaging tests share (tests/deploy/test_deploy.py).

A throw-away root: an empty folder laid out as a merged-/usr Debian system, with the
packages installed by `dpkg --root` (maintainer scripts run chrootless with DPKG_ROOT set,
as Debian's own bootstrap tools do; ours honour it). Programs run inside it by chroot, in a
mount namespace of their own (unshare) where the host's copies of the packages' runtime
dependencies are bound in read-only: the shared-library folder, the fonts, xkb, Mesa's
EGL vendor files and the cage binary. That stands in for what apt would pull; nothing
else of the host is visible. As root a program runs as the user the unit names (the
installed /etc/passwd's); as a normal user, in a user namespace as that user.

Every server a test starts is stopped, and the root removed, on success and on failure
(Cleanup). Nothing is written outside the test's own temporary folders and build/.
"""

import glob
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

BUILD = os.environ.get("KOHTAAMO_BUILD_DIR", "")
SOURCE = os.environ.get("KOHTAAMO_SOURCE_DIR", "")
PACKAGES = os.path.join(BUILD, "packages")
IS_ROOT = os.geteuid() == 0


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(*args):
    print(*args, flush=True)


def run(argv, check_rc=True, timeout=120, **kw):
    """Runs a program to completion, output captured (text)."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check_rc and r.returncode != 0:
        raise Failure(f"{' '.join(argv)} exited with {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def debs():
    """The two packages the 'packages' test built: {'kiosk': path, 'collector': path}."""
    found = {}
    for name in ("kiosk", "collector"):
        files = sorted(glob.glob(os.path.join(PACKAGES, f"kohtaamo-{name}_*.deb")))
        check(len(files) == 1, f"expected one kohtaamo-{name} package in {PACKAGES}, found {files}")
        found[name] = files[0]
    return found


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def multiarch_lib():
    for d in glob.glob("/usr/lib/*-linux-gnu*"):
        if os.path.exists(os.path.join(d, "libc.so.6")):
            return d
    raise Failure("cannot find the host's multiarch library folder")


# The mount namespace's setup, then chroot: bind the host's runtime dependencies in.
INROOT = r"""
set -e
R=$1; shift
bind() {
    src=$1; dst=$R$1
    [ -e "$src" ] || return 0
    if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; [ -e "$dst" ] || : > "$dst"; fi
    mount --rbind "$src" "$dst"
}
for p in "$MULTIARCH" /usr/lib64 /usr/share/fonts /usr/share/X11/xkb /usr/share/glvnd /usr/share/drirc.d \
         /usr/share/alsa /usr/bin/cage /usr/bin/Xwayland /usr/bin/sh /dev /proc /sys; do bind "$p"; done
mkdir -p "$R/tmp" "$R/run"; chmod 1777 "$R/tmp"
exec chroot "$@"
"""


class Root:
    """An empty Debian-like root with the packages installed into it."""

    def __init__(self, cleanup):
        self.path = tempfile.mkdtemp(prefix="kohtaamo-root-")
        os.chmod(self.path, 0o755)  # "/" for the users inside
        cleanup.add(lambda: shutil.rmtree(self.path, ignore_errors=True))
        for d in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "etc", "var/lib/dpkg/info", "var/lib/dpkg/updates",
                  "var/lib/dpkg/triggers", "tmp", "run"):
            os.makedirs(os.path.join(self.path, d), exist_ok=True)
        for link in ("bin", "sbin", "lib", "lib64"):  # merged /usr, as bookworm
            os.symlink("usr/" + link, os.path.join(self.path, link))
        for f in ("status", "available"):
            open(os.path.join(self.path, "var/lib/dpkg", f), "w").close()
        with open(os.path.join(tempfile.gettempdir(), f"kohtaamo-inroot-{os.getpid()}.sh"), "w") as f:
            f.write(INROOT)
            self.script = f.name
        cleanup.add(lambda: os.path.exists(self.script) and os.remove(self.script))

    def file(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def read(self, path):
        with open(self.file(path)) as f:
            return f.read()

    def write(self, path, text, mode=None):
        with open(self.file(path), "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(self.file(path), mode)

    def dpkg(self, *args, check_rc=True):
        """dpkg on this root: maintainer scripts chrootless (DPKG_ROOT), dependencies not
        installed here (the host has them). A normal user runs it under fakeroot."""
        argv = ["dpkg", f"--root={self.path}", "--force-script-chrootless", "--force-depends",
                "--log=/dev/null", *args]
        if not IS_ROOT:
            argv = ["fakeroot", *argv]
        env = dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
        return run(argv, check_rc=check_rc, env=env)

    def ids(self, user):
        """(uid, gid) of a user in this root's /etc/passwd."""
        for line in self.read("/etc/passwd").splitlines():
            f = line.split(":")
            if f[0] == user:
                return int(f[2]), int(f[3])
        raise Failure(f"no user {user} in the root's /etc/passwd")

    def command(self, argv, user=None):
        """argv to run `argv` inside this root (as `user` when we are root)."""
        if IS_ROOT:
            ns = ["unshare", "--mount"]
            chroot = [f"--userspec={':'.join(map(str, self.ids(user)))}"] if user else []
        else:
            ns = ["unshare", "--map-current-user", "--keep-caps", "--mount"]
            chroot = []
        return [*ns, "sh", self.script, self.path, *chroot, self.path, *argv]

    def env(self, extra=None):
        env = {"PATH": "/usr/bin:/usr/sbin:/bin:/sbin", "HOME": "/tmp", "LANG": "C.UTF-8",
               "MULTIARCH": multiarch_lib()}
        env.update(extra or {})
        return env

    def run(self, argv, user=None, extra_env=None, check_rc=True, timeout=60):
        return run(self.command(argv, user), check_rc=check_rc, timeout=timeout, env=self.env(extra_env))

    def spawn(self, argv, cleanup, user=None, extra_env=None, log_name="process.log"):
        """Starts `argv` in this root in a process group of its own, stopped by cleanup."""
        log_path = os.path.join(self.path, "tmp", log_name)
        out = open(log_path, "w")
        p = subprocess.Popen(self.command(argv, user), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=self.env(extra_env), start_new_session=True)
        p.log_path = log_path
        cleanup.add(lambda: stop(p))
        cleanup.report(lambda: log(f"--- {log_name}:\n" + read_log(p)))
        return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    """Signals the whole process group (as systemd signals a unit's cgroup) and waits."""
    if p.poll() is not None:
        return p.returncode
    try:
        os.killpg(p.pid, sig)
        return p.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.wait(timeout=10)


def read_log(p):
    with open(p.log_path, errors="replace") as f:
        return f.read()


def wait_for(condition, timeout, what):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise Failure(f"timed out after {timeout} s waiting for {what}")


class Cleanup:
    """Runs what was added in reverse order, whatever happened."""

    def __init__(self):
        self.actions = []
        self.reports = []

    def add(self, action):
        self.actions.append(action)

    def report(self, action):
        """Runs `action` (prints a log) only when the test fails."""
        self.reports.append(action)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            for report in self.reports:
                try:
                    report()
                except Exception as e:
                    log("report:", e)
        for action in reversed(self.actions):
            try:
                action()
            except Exception as e:  # keep cleaning up
                log("cleanup:", e)
        return False


def unit_lines(text, key):
    """The values of `key=` in a systemd unit's text (continuation lines are not used)."""
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]


# --- a collector inside the root, as its unit runs it --------------------------------

class Collector:
    """The installed kohtaamo-collector, run by its unit's ExecStart as its unit's user,
    on a free port (the admin's edit of /etc/kohtaamo/collector.toml)."""

    def __init__(self, root, cleanup):
        self.root = root
        self.port = free_port()
        conf = root.read("/etc/kohtaamo/collector.toml")
        conf = re.sub(r"(?m)^port = \d+", f"port = {self.port}", conf)
        root.write("/etc/kohtaamo/collector.toml", conf)
        unit = root.read("/lib/systemd/system/kohtaamo-collector.service")
        self.exec_start = unit_lines(unit, "ExecStart")[0].split()
        self.user = unit_lines(unit, "User")[0]
        self.process = root.spawn(self.exec_start, cleanup, user=self.user, log_name="collector.log")
        wait_for(lambda: "listening on" in read_log(self.process) or self.process.poll() is not None, 20,
                 "the collector to listen")
        check(self.process.poll() is None, "the collector did not start:\n" + read_log(self.process))
        self.url = f"http://127.0.0.1:{self.port}"

    def new_device(self, name):
        """A new kiosk token: its [[device]] entry appended to the config, then reloaded as
        `systemctl reload` does (the unit's ExecReload: SIGHUP). Returns the token."""
        out = self.root.run(["/usr/bin/kohtaamo-collector", "token", name]).stdout
        token = re.search(r"^#\s+([0-9a-f]{64})$", out, re.M).group(1)
        entry = out[out.index("[[device]]"):]
        with open(self.root.file("/etc/kohtaamo/collector.toml"), "a") as f:
            f.write("\n" + entry)
        before = read_log(self.process).count("reloaded ")
        unit = self.root.read("/lib/systemd/system/kohtaamo-collector.service")
        check(unit_lines(unit, "ExecReload") == ["/bin/kill -HUP $MAINPID"], "the unit reloads with SIGHUP")
        os.kill(self.process.pid, signal.SIGHUP)  # unshare, sh and chroot exec: this pid is the collector
        wait_for(lambda: read_log(self.process).count("reloaded ") > before, 10, "the collector to reload")
        return token

    def database(self):
        return self.root.file("/var/lib/kohtaamo-collector/collector.sqlite")


def child_pids(pid, comm):
    """Processes below `pid` (unshare → sh → chroot → …) whose name is `comm`."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    if f.read().strip() == comm:
                        found.append(k)
            except OSError:
                pass
            todo.append(k)
    return found


# --- pictures -----------------------------------------------------------------------

def read_ppm(path):
    """(width, height, bytes RGB) of a binary PPM (grim -t ppm)."""
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    check(m is not None, f"{path} is not a binary PPM")
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():m.end() + w * h * 3]


def read_png(path):
    """(width, height, bytes RGB) of an 8-bit RGB or RGBA PNG (the kiosk's screenshots)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and colour in (2, 6), f"{path}: only 8-bit RGB(A) PNGs are read here")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = w * channels
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    rgb = bytearray()
    for line in rows:
        for x in range(w):
            rgb += line[x * channels:x * channels + 3]
    return w, h, bytes(rgb)


def same_pixels(a, b, step=7):
    """The share of sampled pixels that are equal in two (w, h, rgb) pictures of one size."""
    (w, h, pa), (w2, h2, pb) = a, b
    check((w, h) == (w2, h2), f"pictures of different sizes: {w}x{h} and {w2}x{h2}")
    total = same = 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            i = (y * w + x) * 3
            total += 1
            same += pa[i:i + 3] == pb[i:i + 3]
    return same / total


def main(cases):
    """python3 test_deploy.py CASE: runs one case; exit 0 on success."""
    if len(sys.argv) != 2 or sys.argv[1] not in cases:
        print(f"usage: {sys.argv[0]} {'|'.join(cases)}", file=sys.stderr)
        return 2
    check(BUILD and SOURCE, "KOHTAAMO_BUILD_DIR and KOHTAAMO_SOURCE_DIR must be set (ctest does)")
    try:
        cases[sys.argv[1]]()
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    print("passed", flush=True)
    return 0
