"""Recording (-w FILE) and replaying (-r FILE) in batch mode.

A replay must print exactly what the live run printed (JSON and text,
with and without --regions); a recording killed with SIGKILL replays every
sample committed before; a file that is not a recording is never written
to; a damaged recording is refused with exit 7 and a one-line message,
never a crash; a full disk stops the recording, not the monitoring.
Everything runs against the real demo workload (it maps and unmaps
windows all the time, so regions are born and die during a recording).
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

import mtlib

OK, FAILURE, USAGE, BADFILE = 0, 1, 2, 7


def sample_count(path):
    """Samples committed in the recording, read without writing to it
    (read-only: no WAL checkpoint, the file stays as memtop left it)."""
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return c.execute("SELECT count(*) FROM sample").fetchone()[0]
    finally:
        c.close()


def file_state(path):
    """Everything a refused -w could have changed: the bytes (or, for a
    directory, its listing) and the files beside it."""
    if os.path.isdir(path):
        content = sorted(os.listdir(path))
    else:
        with open(path, "rb") as f:
            content = f.read()
    d = os.path.dirname(path) or "."
    return content, sorted(os.listdir(d))


# Samples the writer thread may hold when memtop dies: QUEUE_MAX batches
# queued (src/store/record.c) and the one it is writing.
BEHIND_MAX = 8 + 1

class RecordTestCase(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()

    def start_demo(self, rate=20):
        """The demo's pid, once it has mapped its first window."""
        return self.quiet_demo(rate).pid

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_rc(self, args, code, timeout=60):
        res = mtlib.run_memtop(args, timeout=timeout)
        self.assertNoCrash(res)
        self.assertEqual(res.rc, code, res)
        self.assertNotIn("AddressSanitizer", res.errtext)
        self.assertNotIn("runtime error", res.errtext)
        return res

    def assert_message(self, res, *patterns):
        """One line on stderr, "memtop: ...", matching every pattern."""
        lines = res.errtext.splitlines()
        self.assertEqual(len(lines), 1, "expected a one-line message: %r" % res)
        self.assertTrue(lines[0].startswith("memtop: "), res)
        for p in patterns:
            self.assertRegex(lines[0], p)
        return lines[0]

    def record(self, pid, f, n, *extra, delay="0.2"):
        """A live batch run recording into f; its stdout."""
        res = self.run_rc(["-p", pid, "-b", "-n", n, "-d", delay, "-w", f] + list(extra), OK)
        self.assertEqual(res.errtext, "", res)
        return res.stdout


class Identical(RecordTestCase):
    """Replay prints byte for byte what the live run printed."""

    def test_json(self):
        pid = self.start_demo()
        f = self.path("rec.db")
        live = self.record(pid, f, 8, "--json")
        reps = mtlib.parse_json_lines(live)
        self.assertEqual(len(reps), 8)
        # The recording is worth the name only if the process changed.
        self.assertGreater(len({r["map_count"] for r in reps}), 1, "demo did not change")
        self.assertTrue(any(r["events"] for r in reps[1:]), "no map/unmap events")
        # Closed cleanly: one self-contained file, no WAL left.
        self.assertEqual(sorted(os.listdir(self.dir)), ["rec.db"])
        replay = self.run_rc(["-r", f, "-b", "--json"], OK)
        self.assertEqual(replay.stdout, live)
        self.assertEqual(replay.errtext, "")
        # Twice: a replay does not change the recording.
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json"], OK).stdout, live)
        # -n limits a replay too.
        three = self.run_rc(["-r", f, "-b", "--json", "-n", "3"], OK).stdout
        self.assertEqual(three, b"".join(live.splitlines(True)[:3]))

    def test_text_and_json_with_regions(self):
        pid = self.start_demo()
        f = self.path("rec.db")
        live_text = self.record(pid, f, 6, "--regions")
        live_json = self.record(pid, f, 6, "--regions", "--json")
        self.assertIn(b"memtop - ", live_text)
        reps = mtlib.parse_json_lines(live_json)
        self.assertGreater(len({len(r["regions"]) for r in reps}), 1, "demo did not change")
        text = self.run_rc(["-r", f, "-b", "--regions", "--session", "1"], OK).stdout
        self.assertEqual(text.decode("utf-8", "replace"), live_text.decode("utf-8", "replace"))
        self.assertEqual(text, live_text)
        js = self.run_rc(["-r", f, "-b", "--json", "--regions", "--session", "2"], OK).stdout
        self.assertEqual(js, live_json)
        # The same samples without --regions: the live lines less regions[].
        short = mtlib.parse_json_lines(
            self.run_rc(["-r", f, "-b", "--json", "--session", "2"], OK).stdout)
        for a, b in zip(short, reps):
            b = dict(b)
            del b["regions"]
            self.assertEqual(a, b)


class Sessions(RecordTestCase):

    def test_sessions(self):
        pid = self.start_demo()
        f = self.path("rec.db")
        one = self.record(pid, f, 3, "--json", delay="0.1")
        two = self.record(pid, f, 5, "--json", delay="0.1")
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json", "--session", "1"], OK).stdout, one)
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json", "--session", "2"], OK).stdout, two)
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json"], OK).stdout, two)
        # The second session starts over: its deltas count from its own first sample.
        first2 = mtlib.parse_json_lines(two)[0]
        self.assertTrue(all(c["delta_regions"] == 0 for c in first2["categories"]), first2)
        res = self.run_rc(["-r", f, "-b", "--json", "--session", "3"], USAGE)
        self.assert_message(res, r"--session 3", r"2 sessions")
        self.assertEqual(res.stdout, b"")
        for bad in ("0", "x", "-1", "1.5"):
            res = self.run_rc(["-r", f, "-b", "--session", bad], USAGE)
            self.assertIn("--session", res.errtext)


class Killed(RecordTestCase):
    """SIGKILL at any moment: every committed sample replays."""

    def test_kill_9(self):
        pid = self.start_demo()
        for i, wait_for in enumerate((0, 1, 3, 9)):
            f = self.path("killed%d.db" % i)
            m = self.memtop(["-p", pid, "-b", "--json", "-d", "0.1", "-w", f])
            for _ in range(wait_for):
                m.next_report()
            if wait_for == 0:
                time.sleep(0.05)  # early: the schema, maybe no sample yet
            try:
                seen = sample_count(f) if wait_for else 0
            except sqlite3.OperationalError:
                seen = 0  # the writer has not made the tables yet
            os.kill(m.proc.pid, signal.SIGKILL)
            self.assertEqual(m.wait(10), -signal.SIGKILL)
            m.out.t.join(10)
            live = [l for l in m.out.lines if l.strip()]
            res = mtlib.run_memtop(["-r", f, "-b", "--json"], timeout=60)
            self.assertNoCrash(res)
            if res.rc == FAILURE and not os.path.exists(f):
                self.assert_message(res, "No such file")
                continue
            if res.rc == BADFILE:
                # Killed before the first commit: nothing to replay, said so.
                # (Samples are written by a thread of their own: a report
                # may be printed before its sample is committed.)
                self.assertEqual(seen, 0, res)
                self.assertLessEqual(len(live), BEHIND_MAX, res)
                if os.path.exists(f):
                    self.assert_message(res, r"no (session|sample)|No such file")
                continue
            self.assertEqual(res.rc, OK, res)
            self.assertEqual(res.errtext, "")
            got = res.stdout.splitlines(True)
            for line in got:
                mtlib.parse_json_lines(line)
            committed = sample_count(f)
            self.assertEqual(len(got), committed, res)
            self.assertGreaterEqual(len(got), seen, res)
            # Printed and committed go nearly together: the report may trail
            # its commit by one, and the writer thread may trail the reports
            # by its queue (on a loaded machine it does).
            self.assertLessEqual(len(got), len(live) + 1, res)
            self.assertGreaterEqual(len(got), len(live) - BEHIND_MAX, res)
            self.assertEqual(got[:len(live)], live[:len(got)], "replay differs from the live run")
            # And a new session can be appended to the killed recording.
            self.record(pid, f, 2, "--json", delay="0.1")
            again = self.run_rc(["-r", f, "-b", "--json", "--session", "1"], OK)
            self.assertEqual(again.stdout, res.stdout)


class WhileWritten(RecordTestCase):
    """A recording read while memtop writes it."""

    def test_consistent_while_written(self):
        """Every read sees the samples committed at one moment, whole:
        never "damaged" (a churning target, many lifetimes a second)."""
        pid = self.start_demo(rate=2000)
        f = self.path("live.db")
        w = self.memtop(["-p", pid, "-b", "--json", "-d", "0.02", "-w", f])
        w.next_report()
        mtlib.wait_until(lambda: os.path.exists(f) and sample_count(f) >= 3,
                         what="three samples committed")
        for _ in range(20):
            # To the last sample committed (at least), where lifetimes end
            # in samples committed while the reader reads.
            n = sample_count(f)
            res = self.run_rc(["-r", f, "-b", "--json", "-n", str(n)], OK)
            self.assertEqual(len(res.stdout.splitlines()), n, res)

    def test_follows_as_it_grows(self):
        """-r on a file being written goes on as samples come (tail -f),
        and ends once the writer has ended the session."""
        pid = self.start_demo()
        f = self.path("follow.db")
        w = self.memtop(["-p", pid, "-b", "--json", "-d", "0.1", "-w", f])
        w.next_report()
        mtlib.wait_until(lambda: os.path.exists(f) and sample_count(f) >= 2,
                         what="two samples committed")
        at_start = sample_count(f)
        r = self.memtop(["-r", f, "-b", "--json"])
        for _ in range(at_start + 10):
            r.next_report()
        os.kill(w.proc.pid, signal.SIGTERM)
        self.assertEqual(w.wait(30), 0, w.stderr_text())
        self.assertEqual(r.wait(30), 0, r.stderr_text())
        r.out.t.join(10)
        self.assertEqual(len([l for l in r.out.lines if l.strip()]), sample_count(f))


class Refusals(RecordTestCase):

    def make_files(self):
        files = {}
        files["text"] = self.path("notes.txt")
        with open(files["text"], "w") as fh:
            fh.write("precious notes\n" * 20)
        files["png"] = self.path("picture.png")
        with open(files["png"], "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
        files["sqlite"] = self.path("other.db")
        c = sqlite3.connect(files["sqlite"])
        c.execute("CREATE TABLE accounts (name TEXT, balance INTEGER)")
        c.execute("INSERT INTO accounts VALUES ('alice', 100)")
        c.commit()
        c.close()
        files["sqlite_wal"] = self.path("other-wal.db")
        c = sqlite3.connect(files["sqlite_wal"])
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("CREATE TABLE session (id INTEGER PRIMARY KEY)")  # a lookalike
        c.commit()
        c.close()
        files["short"] = self.path("short.bin")
        with open(files["short"], "wb") as fh:
            fh.write(b"SQLite format 3\0")  # the magic, then nothing
        files["dir"] = self.path("adir")
        os.mkdir(files["dir"])
        with open(os.path.join(files["dir"], "inside"), "w") as fh:
            fh.write("x")
        return files

    def test_not_a_recording(self):
        pid = self.start_demo()
        for kind, f in self.make_files().items():
            with self.subTest(kind=kind):
                before = file_state(f)
                res = self.run_rc(["-p", pid, "-b", "-n", "1", "-w", f], BADFILE)
                self.assertEqual(res.stdout, b"", "a report although -w was refused")
                line = self.assert_message(res, re.escape(os.path.basename(f)))
                if kind in ("text", "png", "sqlite", "short"):
                    self.assertIn("memtop will not write to it", line)
                self.assertEqual(file_state(f), before, "%s was changed" % f)
                res = self.run_rc(["-r", f, "-b"], BADFILE)
                self.assert_message(res, re.escape(os.path.basename(f)))
                self.assertEqual(file_state(f), before, "%s was changed by -r" % f)

    def test_missing_and_empty(self):
        pid = self.start_demo()
        missing = self.path("missing.db")
        # Missing is the system's reason, exit 1; 7 is for a file that is
        # there and is no recording (the empty file below).
        res = self.run_rc(["-r", missing, "-b"], FAILURE)
        self.assert_message(res, "missing.db: No such file or directory")
        self.assertFalse(os.path.exists(missing), "-r created the file")
        empty = self.path("empty.db")
        open(empty, "w").close()
        res = self.run_rc(["-r", empty, "-b"], BADFILE)
        self.assert_message(res, "empty.db")
        self.assertEqual(os.path.getsize(empty), 0)
        live = self.record(pid, empty, 2, "--json", delay="0.1")
        self.assertEqual(self.run_rc(["-r", empty, "-b", "--json"], OK).stdout, live)

    def test_cannot_create(self):
        pid = self.start_demo()
        f = self.path("no/such/dir/rec.db")
        res = self.run_rc(["-p", pid, "-b", "-n", "1", "-w", f], FAILURE)
        self.assert_message(res, re.escape(f))
        self.assertEqual(res.stdout, b"")

    def test_permissions(self):
        """As another user: a directory it cannot write to, a recording it
        cannot read: exit 1 with the system's reason, not 7."""
        pid = self.start_demo()
        f = self.path("rec.db")
        self.record(pid, f, 2)
        os.chmod(f, 0o600)
        os.chmod(self.dir, 0o755)
        res = mtlib.run_memtop(["-r", f, "-b"], as_nobody=True, timeout=30)
        self.assertEqual(res.rc, FAILURE, res)
        self.assert_message(res, re.escape(f), "Permission denied")
        nobody_proc = mtlib._popen(mtlib.NOBODY + ["sleep", "60"])
        self.addCleanup(mtlib._kill, nobody_proc)
        locked = self.path("locked")
        os.mkdir(locked, 0o755)
        res = mtlib.run_memtop(["-p", nobody_proc.pid, "-b", "-n", "1", "-w",
                                os.path.join(locked, "rec.db")], as_nobody=True, timeout=30)
        self.assertEqual(res.rc, FAILURE, res)
        self.assert_message(res, "locked/rec.db", "Permission denied")
        self.assertEqual(os.listdir(locked), [])

    def test_two_writers_create_one_file(self):
        """Two memtops creating the same new file at once: both sessions land."""
        pid = self.start_demo()
        for round in range(6):
            f = self.path("race%d.db" % round)
            procs = [mtlib._popen([mtlib.MEMTOP, "-p", str(pid), "-b", "-n", "2", "-d", "0.05",
                                   "-w", f], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                     for _ in range(2)]
            for p in procs:
                self.addCleanup(mtlib._kill, p)
            for p in procs:
                self.assertEqual(p.wait(timeout=60), 0, p.stderr.read())
            c = sqlite3.connect("file:%s?mode=ro" % f, uri=True, timeout=5)
            try:
                self.assertEqual(c.execute("SELECT count(*) FROM session").fetchone()[0], 2)
            finally:
                c.close()

    def test_no_such_process_leaves_no_file(self):
        f = self.path("rec.db")
        res = mtlib.run_memtop(["-p", 4194303, "-b", "-n", "1", "-w", f], timeout=30)
        self.assertNoCrash(res)
        self.assertEqual(res.rc, 3, res)
        self.assertFalse(os.path.exists(f), "a typo in -p left a recording behind")


class Damaged(RecordTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.origin = None

    def recording(self):
        """A real recording of 8 samples, recorded once for the class."""
        if Damaged.origin is None:
            pid = self.start_demo()
            d = tempfile.mkdtemp(prefix="memtop-test-rec-")
            f = os.path.join(d, "origin.db")
            Damaged.live = self.record(pid, f, 8, "--json", delay="0.1")
            Damaged.origin = f
            Damaged.origin_dir = d
        return Damaged.origin

    @classmethod
    def tearDownClass(cls):
        if cls.origin:
            shutil.rmtree(cls.origin_dir, True)
        super().tearDownClass()

    def copy(self, name):
        f = self.path(name)
        shutil.copy(self.recording(), f)
        return f

    def refused(self, f, *patterns, allow_ok=False):
        res = mtlib.run_memtop(["-r", f, "-b", "--json"], timeout=60)
        self.assertNoCrash(res)
        self.assertLess(res.rc, 128, res)
        self.assertNotIn("AddressSanitizer", res.errtext)
        self.assertNotIn("runtime error", res.errtext)
        if allow_ok and res.rc == OK:
            for line in res.stdout.splitlines():
                mtlib.parse_json_lines(line)
            return res
        self.assertEqual(res.rc, BADFILE, res)
        self.assert_message(res, *patterns)
        if not res.stdout:
            # Refused at open: the TUI refuses it the same way, before it
            # needs a terminal (the file is read before the screen).
            tui = mtlib.run_memtop(["-r", f], timeout=30)
            self.assertNoCrash(tui)
            self.assertEqual(tui.rc, BADFILE, tui)
        return res

    def test_truncated(self):
        size = os.path.getsize(self.recording())
        for cut in (size // 2, size - 4096, 4096, 1024, 100, 99, 16):
            with self.subTest(cut=cut):
                f = self.copy("cut%d.db" % cut)
                os.truncate(f, cut)
                self.refused(f, allow_ok=cut >= size - 4096)

    def test_flipped_bytes(self):
        with open(self.recording(), "rb") as fh:
            data = fh.read()
        for where in (len(data) // 2, len(data) // 3, 2 * len(data) // 3, 4096 + 8, 120):
            with self.subTest(where=where):
                f = self.path("flip%d.db" % where)
                d = bytearray(data)
                for i in range(where, min(where + 64, len(d))):
                    d[i] ^= 0xFF
                with open(f, "wb") as fh:
                    fh.write(d)
                # A flip in a string or free space may well go unnoticed.
                self.refused(f, allow_ok=True)

    def sql(self, name, script):
        f = self.copy(name)
        c = sqlite3.connect(f)
        c.executescript(script)
        c.commit()
        c.close()
        return f

    def test_newer_schema(self):
        f = self.sql("newer.db", "PRAGMA user_version=99;")
        self.refused(f, "newer", "99")
        pid = self.start_demo()
        before = file_state(f)
        res = self.run_rc(["-p", pid, "-b", "-n", "1", "-w", f], BADFILE)
        self.assert_message(res, "newer")
        self.assertEqual(file_state(f), before)

    def test_hostile_rows(self):
        cases = {
            "start_after_end": "UPDATE region SET start = end + 4096"
                               " WHERE id = (SELECT min(id) FROM region);",
            "overlap": "UPDATE region SET start = (SELECT start FROM region WHERE id = 1),"
                       " end = (SELECT end FROM region WHERE id = 1) WHERE id = 2;",
            "rss_not_alive": "INSERT INTO region_rss (sample, region, rss) VALUES"
                             " ((SELECT min(id) FROM sample), (SELECT max(id) FROM region),"
                             " 4096);",
            "rss_no_region": "INSERT INTO region_rss (sample, region, rss) VALUES"
                             " ((SELECT min(id) FROM sample), 999999, 4096);",
            "time_text": "UPDATE sample SET time = 'yesterday' WHERE seq = 2;",
            "time_backwards": "UPDATE sample SET mono = 1 WHERE seq = 3;",
            "no_samples": "DELETE FROM sample;",
            "region_born_later": "UPDATE region SET born = 99999 WHERE id = 3;",
            "threads_negative": "UPDATE sample SET threads = -5 WHERE seq = 1;",
            "bad_perms": "UPDATE region SET perms = 'zzzzzzzz' WHERE id = 4;",
            "time_far_future": "UPDATE sample SET time = 1e300 WHERE seq = 1;",
            "bad_category": "UPDATE region SET category = 'bogus' WHERE id = 2;",
            "negative_delay": "UPDATE session SET delay = -1;",
        }
        # The region born last must not be in the first sample, for rss_not_alive.
        c = sqlite3.connect("file:%s?mode=ro" % self.recording(), uri=True)
        first = c.execute("SELECT min(id) FROM sample").fetchone()[0]
        born = c.execute("SELECT born FROM region ORDER BY id DESC LIMIT 1").fetchone()[0]
        c.close()
        self.assertGreater(born, first, "no region born during the recording")
        for name, script in cases.items():
            with self.subTest(case=name):
                f = self.sql(name + ".db", script)
                res = self.refused(f, "damaged")
                # Whatever was printed before the damage was found is what was live.
                self.assertTrue(Damaged.live.startswith(res.stdout), res)

    def test_other_tables_missing(self):
        f = self.sql("dropped.db", "DROP TABLE region;")
        self.refused(f, "damaged|not memtop")


class DiskFull(RecordTestCase):

    def mount(self, *opts):
        if os.getuid() != 0 or not shutil.which("mount"):
            self.skipTest("needs root to mount a tmpfs")
        d = self.path("mnt")
        os.mkdir(d)
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(opts), "tmpfs", d],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if res.returncode != 0:
            print("note: cannot mount a tmpfs (%s): skipped" % res.stderr.decode().strip())
            self.skipTest("cannot mount a tmpfs here")
        self.addCleanup(subprocess.run, ["umount", "-l", d], timeout=30)
        return d

    def test_full_disk(self):
        pid = self.start_demo(rate=50)
        d = self.mount("size=200k")
        f = os.path.join(d, "rec.db")
        n = 60
        res = self.run_rc(["-p", pid, "-b", "--json", "--regions", "-n", n, "-d", "0.05",
                           "-w", f], OK, timeout=120)
        live = res.stdout.splitlines(True)
        self.assertEqual(len(live), n, "batch reports stopped with the recording: %r" % res)
        for line in live:
            mtlib.parse_json_lines(line)
        self.assertRegex(res.errtext, r"recording to %s stopped; monitoring goes on"
                         % re.escape(f), "the tmpfs never filled? %r" % res)
        self.assert_message(res, "full")
        replay = self.run_rc(["-r", f, "-b", "--json", "--regions"], OK)
        got = replay.stdout.splitlines(True)
        self.assertGreaterEqual(len(got), 1)
        self.assertLess(len(got), n)
        self.assertEqual(len(got), sample_count(f))
        self.assertEqual(got, live[:len(got)])
        # Cut short, yet out of WAL mode: replayable from a read-only place.
        with open(f, "rb") as fh:
            self.assertEqual(fh.read(20)[18:20], b"\x01\x01", "left in WAL mode")
        subprocess.run(["mount", "-o", "remount,ro", d], check=True, timeout=30)
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json", "--regions"], OK).stdout,
                         replay.stdout)

    def test_wal_left_behind_read_only(self):
        """A recording in WAL mode (an older memtop's, or one killed) on a
        read-only file system, its WAL folded in: the reader cannot make
        the -shm file, and replays it all the same."""
        pid = self.start_demo()
        d = self.mount("size=2m")
        f = os.path.join(d, "rec.db")
        live = self.record(pid, f, 3, "--json", delay="0.1")
        c = sqlite3.connect(f)
        c.execute("PRAGMA journal_mode=WAL")
        c.close()
        with open(f, "rb") as fh:
            self.assertEqual(fh.read(20)[18:20], b"\x02\x02")
        subprocess.run(["mount", "-o", "remount,ro", d], check=True, timeout=30)
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json"], OK).stdout, live)

    def test_read_only(self):
        pid = self.start_demo()
        d = self.mount("ro", "size=200k")
        f = os.path.join(d, "rec.db")
        res = self.run_rc(["-p", pid, "-b", "--json", "-n", "2", "-d", "0.1", "-w", f], FAILURE)
        self.assertEqual(res.stdout, b"", "a report although the recording cannot be made")
        self.assert_message(res, re.escape(f), "Read-only file system")
        self.assertFalse(os.path.exists(f))

    def test_read_only_existing_recording(self):
        """On a file system made read-only after recording: -w fails at the
        start, -r still replays."""
        pid = self.start_demo()
        d = self.mount("size=2m")
        f = os.path.join(d, "rec.db")
        live = self.record(pid, f, 3, "--json", delay="0.1")
        subprocess.run(["mount", "-o", "remount,ro", d], check=True, timeout=30)
        res = self.run_rc(["-p", pid, "-b", "--json", "-n", "2", "-d", "0.1", "-w", f], FAILURE)
        self.assertEqual(res.stdout, b"")
        self.assert_message(res, "cannot be written|[Rr]ead-only|readonly")
        self.assertEqual(self.run_rc(["-r", f, "-b", "--json"], OK).stdout, live)


class Usage(RecordTestCase):

    def test_screen_needs_a_terminal(self):
        """A good recording replayed on the screen without a terminal: a
        clear error at once, not a screen waiting for keys forever."""
        f = self.path("tty.db")
        self.record(self.start_demo(), f, 2)
        res = self.run_rc(["-r", f], FAILURE, timeout=30)
        self.assertIn("needs a terminal", res.errtext)
        self.assertIn("-b", res.errtext)

    def test_usage_errors(self):
        f = self.path("rec.db")
        for args in (["-r", f, "-p", "1"], ["-r", f, "-b", "-p", "1"],
                     ["-w", f, "-b"], ["--session", "2"],
                     ["-p", "1", "-b", "--session", "2"], ["-r", f, "-w", f],
                     ["-r", f, "--demo"], ["-p", "1", "-w", f, "--refs", "0x1000"]):
            with self.subTest(args=args):
                res = self.run_rc(args, USAGE, timeout=30)
                self.assertTrue(res.errtext.startswith("memtop: "), res)
                self.assertEqual(res.stdout, b"")
        self.assertFalse(os.path.exists(f), "a usage error created the file")


if __name__ == "__main__":
    mtlib.main()
