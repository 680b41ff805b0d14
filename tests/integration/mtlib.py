"""mtlib - shared helpers for memtop's integration tests (stdlib only).

Environment (set by ctest, see tests/CMakeLists.txt):
  MEMTOP           the memtop binary
  MEMTOP_FIXTURES  the directory of the built fixtures (tests/fixtures/*.c)
  MEMTOP_DEMO      the memtop-demo binary (may be empty)

The pieces:
  Fixture        start a fixture, read its JSON ready line, send commands
  Memtop         run memtop in the background, read its JSON lines as they come
  run_memtop     run memtop to completion (bounded by a timeout)
  MemtopTestCase unittest.TestCase whose cleanups kill whatever a test started
  parse_maps, region_at, addr, hexaddr, path_bytes: reading what memtop says

Every process started here is in its own process group and is killed (by
its process-group id, which is its pid) when the test ends, whatever
happens; every wait has a timeout, so a test can fail but never hang.
"""

import atexit
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MEMTOP = os.environ.get("MEMTOP", "")
FIXTURES = os.environ.get("MEMTOP_FIXTURES", "")
DEMO = os.environ.get("MEMTOP_DEMO", "")

# Generous bounds: a loaded CI machine is slow, but nothing may hang.
START_TIMEOUT = 20.0     # a fixture's ready line, a command's answer
RUN_TIMEOUT = 60.0       # a whole memtop run
REPORT_TIMEOUT = 30.0    # the next JSON line of a running memtop

CATEGORIES = ("image", "heap", "stack", "file", "shared", "anon", "reserved", "kernel")
X86_64_USER_LIMIT = 0x7FFFFFFFF000
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

_live = []  # Popen objects still to kill


def _kill(proc):
    """Kill a process we started (and its process group), then reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                proc.kill()
            except ProcessLookupError:
                pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f:
            try:
                f.close()
            except OSError:
                pass
    if proc in _live:
        _live.remove(proc)


def kill_all():
    for proc in list(_live):
        _kill(proc)


atexit.register(kill_all)


def wait_blocked_in_read(pid, timeout=5.0):
    """Wait until pid's main thread sleeps in read(2) (/proc/PID/syscall
    says syscall 0): a target that prints "ready" and then reads its stdin
    may still be allocating its read buffer just after the print."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/syscall" % pid, "rb") as f:
                if f.read().split(b" ", 1)[0] == b"0":
                    return True
        except OSError:
            return False
        time.sleep(0.005)
    return False


def _popen(argv, **kw):
    proc = subprocess.Popen(argv, start_new_session=True, **kw)
    _live.append(proc)
    return proc


class _LineReader:
    """Reads a pipe on a thread, so that reads can time out."""

    def __init__(self, pipe):
        self.q = queue.Queue()
        self.lines = []  # everything read, for error messages
        self.t = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.t.start()

    def _run(self, pipe):
        try:
            for raw in iter(pipe.readline, b""):
                self.lines.append(raw)
                self.q.put(raw)
        except (OSError, ValueError):
            pass
        self.q.put(None)  # EOF

    def get(self, timeout):
        """Next line as bytes, or None at EOF; raises TimeoutError."""
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no line within %.0f s" % timeout) from None


def addr(s):
    """An address as memtop and the fixtures write it ("0x7f...") to int."""
    if not isinstance(s, str) or not re.fullmatch(r"0x[0-9a-f]+", s):
        raise ValueError("not a lower-case 0x address: %r" % (s,))
    return int(s, 16)


def hexaddr(n):
    return "0x%x" % n


def path_bytes(s):
    """A path from memtop's JSON back to its bytes (surrogateescape, docs/json.md)."""
    return s.encode("utf-8", "surrogateescape")


def fixture_path(name):
    return os.path.join(FIXTURES, name)


class Fixture:
    """A fixture process: Fixture("fx_layout", dir).ready is its ready line."""

    def __init__(self, name, *args, cwd=None, env=None, as_nobody=False):
        exe = name if os.path.isabs(name) else fixture_path(name)
        self.argv = (NOBODY if as_nobody else []) + [exe] + [str(a) for a in args]
        self.proc = _popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=cwd, env=env)
        self.pid = self.proc.pid
        self.out = _LineReader(self.proc.stdout)
        self.err = _LineReader(self.proc.stderr)
        self.ready = self._read("ready line")
        if not self.ready.get("ready"):
            raise RuntimeError("%s: not a ready line: %r" % (name, self.ready))
        self._settle()

    def _settle(self, timeout=2.0):
        """A fixture answers, then goes back to reading its stdin: wait (a
        while at most) until its main thread sleeps there, so that memtop
        finds the quiet process the test means, on a loaded machine too."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/stat" % self.pid, "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                return
            if state != b"R":
                return
            time.sleep(0.005)

    def _read(self, what, timeout=START_TIMEOUT):
        try:
            raw = self.out.get(timeout)
        except TimeoutError:
            raise RuntimeError("%s: no %s; stderr: %r" % (self.argv[0], what,
                               b"".join(self.err.lines))) from None
        if raw is None:
            self.proc.wait(timeout=10)
            raise RuntimeError("%s exited (%s) before its %s; stderr: %r" % (
                self.argv[0], self.proc.returncode, what, b"".join(self.err.lines)))
        return json.loads(raw.decode("utf-8", "surrogateescape"))

    def cmd(self, line, timeout=START_TIMEOUT):
        """Send a command, return its JSON answer (which must say ok)."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        ans = self._read("answer to %r" % line, timeout)
        if not ans.get("ok"):
            raise RuntimeError("%s: command %r failed: %r" % (self.argv[0], line, ans))
        self._settle()
        return ans

    def exit_now(self, timeout=START_TIMEOUT):
        """Tell it to exit and reap it (a zombie would still be in /proc)."""
        ans = self.cmd("exit", timeout)
        self.proc.wait(timeout=timeout)
        return ans

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # EOF: the fixture exits cleanly
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        _kill(self.proc)
        # Files outside the test's temporary directory (/dev/shm) that the
        # fixture could not remove if it was killed.
        for h in self.ready.get("cleanup_hex", []):
            try:
                os.unlink(bytes.fromhex(h))
            except OSError:
                pass


class Result:
    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.rc, self.stdout, self.stderr = argv, rc, stdout, stderr

    @property
    def text(self):
        return self.stdout.decode("utf-8", "replace")

    @property
    def errtext(self):
        return self.stderr.decode("utf-8", "replace")

    def json_lines(self):
        return parse_json_lines(self.stdout)

    def __repr__(self):
        return "memtop %s -> rc %s\nstderr: %s\nstdout (first 2000): %s" % (
            " ".join(self.argv[1:]), self.rc, self.errtext, self.text[:2000])


def run_memtop(args, timeout=RUN_TIMEOUT, as_nobody=False, stdin=subprocess.DEVNULL, env=None):
    """Run memtop with args to completion; kill it after timeout (then rc is None)."""
    argv = [MEMTOP] + [str(a) for a in args]
    if as_nobody:
        argv = NOBODY + argv
    proc = _popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err, rc = b"", b"(killed after %.0f s: hung)" % timeout, None
    if proc in _live:
        _live.remove(proc)
    return Result(argv, rc, out, err)


def parse_json_lines(data):
    """memtop's JSON output: one object per non-empty line."""
    if isinstance(data, bytes):
        data = data.decode("ascii")  # docs/json.md: output is plain ASCII
    return [json.loads(line) for line in data.splitlines() if line.strip()]


class Memtop:
    """memtop running in the background; reports are read as they come.

        with Memtop(["-p", pid, "-b", "--json", "-d", "0.3"]) as m:
            first = m.next_report()
            ...
            later = m.wait_report(lambda r: r["time"] > t)
    """

    def __init__(self, args, as_nobody=False):
        argv = [MEMTOP] + [str(a) for a in args]
        if as_nobody:
            argv = NOBODY + argv
        self.argv = argv
        self.proc = _popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.out = _LineReader(self.proc.stdout)
        self.err = _LineReader(self.proc.stderr)
        self.reports = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stderr_text(self):
        return b"".join(self.err.lines).decode("utf-8", "replace")

    def next_report(self, timeout=REPORT_TIMEOUT):
        """The next JSON line; AssertionError if memtop ended or went silent."""
        try:
            raw = self.out.get(timeout)
        except TimeoutError:
            raise AssertionError("memtop printed nothing for %.0f s; stderr: %s"
                                 % (timeout, self.stderr_text())) from None
        if raw is None:
            rc = self.wait(10)
            raise AssertionError("memtop ended (rc %s) while reports were expected; "
                                 "stderr: %s" % (rc, self.stderr_text()))
        rep = json.loads(raw.decode("ascii"))
        self.reports.append(rep)
        return rep

    def wait_report(self, pred, timeout=REPORT_TIMEOUT, what="a matching report"):
        """Read reports until pred(report) holds; return that report."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0f s (%d reports read)"
                                     % (what, timeout, len(self.reports)))
            rep = self.next_report(left)
            if pred(rep):
                return rep

    def report_after(self, t, timeout=REPORT_TIMEOUT):
        """The first report of a snapshot taken after wall-clock time t."""
        return self.wait_report(lambda r: r["time"] > t, timeout,
                                "report taken after %.3f" % t)

    def wait(self, timeout):
        """Wait for memtop to end; its exit code, or None if still running.
        Once it has ended, what it wrote is read to the end too, so that
        stderr_text() holds its last words (a loaded machine may not have
        scheduled the readers yet)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.out.t.join(10)
        self.err.t.join(10)
        return rc

    def stop(self):
        _kill(self.proc)


class MemtopTestCase(unittest.TestCase):
    """Checks the environment; cleanups kill everything a test started."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if not MEMTOP or not os.access(MEMTOP, os.X_OK):
            raise RuntimeError("MEMTOP=%r is not an executable" % MEMTOP)
        if not FIXTURES or not os.path.isdir(FIXTURES):
            raise RuntimeError("MEMTOP_FIXTURES=%r is not a directory" % FIXTURES)

    def setUp(self):
        self.addCleanup(kill_all)

    def fixture(self, name, *args, **kw):
        fx = Fixture(name, *args, **kw)
        self.addCleanup(fx.close)
        return fx

    def memtop(self, args, **kw):
        m = Memtop(args, **kw)
        self.addCleanup(m.stop)
        return m

    def tempdir(self, prefix="memtop-test-"):
        d = tempfile.mkdtemp(prefix=prefix)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def quiet_demo(self, rate=20):
        """memtop-demo mapping and unmapping windows in a directory of its
        own (--threads --quiet); its Popen, once its first window is
        mapped."""
        if not DEMO or not os.access(DEMO, os.X_OK):
            self.fail("MEMTOP_DEMO=%r is not an executable (is demo/ built?)" % DEMO)
        ddir = self.tempdir("memtop-demo-")
        proc = _popen([DEMO, "--dir", ddir, "--rate", str(rate), "--threads", "--quiet"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
        self.addCleanup(_kill, proc)
        messages = os.path.join(ddir, "messages.dat").encode()
        wait_until(lambda: proc.poll() is None and any(
            m["path"] == messages for m in parse_maps(proc.pid)),
            what="the demo's first window")
        return proc

    def assertNoCrash(self, res):
        """memtop ended by itself: not killed by a signal, not hung."""
        self.assertIsNotNone(res.rc, "memtop hung: %r" % res)
        self.assertGreaterEqual(res.rc, 0, "memtop died of signal %s: %r"
                                % (-res.rc if res.rc is not None else 0, res))

    def run_ok(self, args, **kw):
        """Run memtop; it must exit 0. Returns the Result."""
        res = run_memtop(args, **kw)
        self.assertNoCrash(res)
        self.assertEqual(res.rc, 0, res)
        return res

    def reports(self, args, n, **kw):
        """Run memtop --json -b -n n and return its n reports."""
        res = self.run_ok(list(args) + ["-b", "--json", "-n", str(n)], **kw)
        reps = res.json_lines()
        self.assertEqual(len(reps), n, res)
        return reps


# --- reading /proc and reports ---------------------------------------------

_MAPS_RE = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) "
                      rb"([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$")


def parse_maps(pid):
    """/proc/PID/maps as dicts: start, end (ints), perms, offset, dev,
    inode, path (bytes, \\012 resolved through map_files, " (deleted)" kept)."""
    out = []
    with open("/proc/%d/maps" % pid, "rb") as f:
        for line in f.read().splitlines():
            m = _MAPS_RE.match(line)
            if not m:
                raise ValueError("unparsable maps line %r" % line)
            path = m.group(7)
            if b"\\012" in path:
                # Ambiguous (a newline, or a backslash and 012): the
                # map_files link says which, as memtop does (mapnames.h).
                try:
                    path = os.readlink(b"/proc/%d/map_files/%s-%s" % (
                        pid, m.group(1), m.group(2)))
                except OSError:
                    path = path.replace(b"\\012", b"\n")
            out.append({
                "start": int(m.group(1), 16), "end": int(m.group(2), 16),
                "perms": m.group(3).decode(), "offset": int(m.group(4), 16),
                "dev": m.group(5).decode(), "inode": int(m.group(6)),
                "path": path,
            })
    return out


def proc_status(pid, tid=None):
    """The fields of /proc/PID/status (or of one thread's), as strings."""
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def thread_states(pid):
    """{tid: one-letter state} of every thread still there."""
    states = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            pass
    return states


def unreleased(pid):
    """What still holds pid back: its threads that are stopped (t/T) or
    traced. Empty once memtop has let the target go."""
    problems = []
    for tid, state in thread_states(pid).items():
        if state in "tT":
            problems.append("thread %d is in state %s" % (tid, state))
        try:
            tracer = proc_status(pid, tid)["TracerPid"]
        except FileNotFoundError:
            continue
        if tracer != "0":
            problems.append("thread %d is traced by %s" % (tid, tracer))
    return problems


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def region_at(report, a):
    """The region of report["regions"] holding address a (int), or None."""
    for r in report["regions"]:
        if addr(r["start"]) <= a < addr(r["end"]):
            return r
    return None


def regions_in(report, lo, hi):
    """Regions of the report overlapping [lo, hi)."""
    return [r for r in report["regions"] if addr(r["start"]) < hi and addr(r["end"]) > lo]


def file_entry(report, path):
    """The files[] entry for path (bytes or str), or None."""
    if isinstance(path, str):
        path = path.encode()
    for f in report["files"]:
        if path_bytes(f["path"]) == path:
            return f
    return None


def category(report, name):
    for c in report["categories"]:
        if c["name"] == name:
            return c
    raise KeyError(name)


def gaps_of(regions, low, high=X86_64_USER_LIMIT):
    """Free blocks between low and high around the regions (sorted, as in
    docs/json.md: [vsyscall] and anything above the user limit ignored)."""
    spans = sorted((addr(r["start"]), addr(r["end"])) for r in regions)
    if any(s >= X86_64_USER_LIMIT and s < 0xffff800000000000 for s, _ in spans):
        high = 0xfffffffffff000  # 5-level paging: user mappings above 47 bits
    gaps = []
    cur = low
    for s, e in spans:
        if s >= high:
            break
        if s > cur:
            gaps.append((cur, s))
        cur = max(cur, e)
    if high > cur:
        gaps.append((cur, high))
    return gaps


def wait_until(pred, timeout=START_TIMEOUT, interval=0.05, what="condition"):
    """Poll pred() until it is true; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def main():
    """unittest.main with a non-zero exit on failure and killing at the end."""
    try:
        unittest.main(verbosity=2)
    finally:
        kill_all()


if __name__ == "__main__":
    sys.exit("mtlib is a helper module; run the test_*.py files")
