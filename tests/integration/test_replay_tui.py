"""The interactive screen on a recording (memtop -r FILE), through tmux.

A live session of the demo is recorded with the screen (-w), with one
drill-down scan in it; the replay must step through the samples (t, T,
Home, End, b), say where it is in the header ("i/n REPLAY"), and show the
recorded scan, the same as it was live, when s is pressed on the same
region.  A damaged recording is refused before the screen is taken over.
"""

import os
import re
import sqlite3
import subprocess
import time

import mtlib
from tuilib import Tui

BADFILE = 7


def header(screen):
    return screen.split("\n")[0]


def position(screen):
    """(i, n) from the first line's "YYYY-MM-DD HH:MM:SS  i/n REPLAY"."""
    m = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (\d+)/(\d+) (REPLAY|PLAY)\s*$",
                  header(screen))
    return (int(m.group(1)), int(m.group(2))) if m else None


def refs_block(screen):
    """The References screen from Chain to the last reference row."""
    lines = screen.split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("Chain"))
    end = next(i for i, l in enumerate(lines) if l.startswith("Actions:"))
    # What the target points to is shown live only (not recorded).
    end = next((i for i in range(start, end) if lines[i].startswith("Points to")), end)
    return [l.rstrip() for l in lines[start:end] if l.strip()]


def chain(screen):
    m = re.search(r"(?m)^Chain\s+(.*?)\s*$", screen)
    return m.group(1).split(" \u203a ") if m else None


INTO = re.compile(r"(?m)^Into\s+(0x[0-9a-f]+)-(0x[0-9a-f]+) .*: (\d+) references?\s*$")


class ReplayTui(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()

    def tui(self, args, **kw):
        t = Tui(args, **kw)
        self.addCleanup(t.close)
        return t

    def start_demo(self):
        return self.quiet_demo()

    def open_detail(self, t, text):
        """From anywhere but a detail: the Regions view, the first row
        holding text, its detail; returns the detail's "Region" range."""
        t.keys("2")
        t.wait_for("ADDRESS")
        # (Not Home first: in a replay Home is the first sample.  The
        # search wraps around anyway.)
        t.keys("/")
        t.type(text)
        t.keys("Enter", "Enter")
        s = t.wait_for("scan for references")
        m = re.search(r"(?m)^Region\s+(0x[0-9a-f]+)-(0x[0-9a-f]+)", s)
        self.assertIsNotNone(m, s)
        return m.group(1), m.group(2)

    def goto(self, t, keys, want, n):
        """Press keys, wait for sample want of n in the header."""
        t.keys(*keys)
        return t.wait_for(lambda s: position(s) == (want, n), timeout=20)

    def test_record_live_then_replay(self):
        demo = self.start_demo()
        f = os.path.join(self.dir, "rec.db")

        # --- live, recording ---------------------------------------------
        t = self.tui(["-p", demo.pid, "-w", f, "-d", "0.3"], height=36)
        s = t.wait_for("CATEGORY")
        self.assertIn("REC", header(s))
        lo, hi = self.open_detail(t, "messages.dat")
        t.keys("s")
        live = t.wait_for(lambda s: "Scanning" not in s and INTO.search(s)
                          and INTO.search(s).group(1) == lo)
        into = INTO.search(live)
        self.assertEqual(into.group(2), hi)
        self.assertIn("MMFSerializer", live)
        live_block = refs_block(live)
        # Follow the holder: a second step, stored as the first's child.
        t.keys("Enter")
        live2 = t.wait_for(lambda s: "Scanning" not in s and chain(s) == [
            "messages.dat", "mmf::MMFSerializer"] and INTO.search(s))
        live2_block = refs_block(live2)
        t.keys("Escape")
        t.wait_for(lambda s: chain(s) == ["messages.dat"])
        # Enough samples for the stepping below.
        mtlib.wait_until(lambda: os.path.exists(f) and self.samples(f) >= 10, timeout=30,
                         what="10 recorded samples")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        # Closed cleanly: one file.
        self.assertEqual(sorted(x for x in os.listdir(self.dir) if x.startswith("rec")),
                         ["rec.db"])
        n = self.samples(f)
        c = sqlite3.connect("file:%s?mode=ro" % f, uri=True)
        scans = c.execute("SELECT s.seq, scan.lo, scan.refs_total FROM scan"
                          " JOIN sample s ON s.id = scan.sample"
                          " WHERE scan.parent IS NULL").fetchall()
        children = c.execute("SELECT count(*) FROM scan WHERE parent IS NOT NULL").fetchone()[0]
        c.close()
        self.assertEqual(len(scans), 1, scans)
        self.assertEqual(children, 1)
        scan_seq, scan_lo, refs_total = scans[0]
        self.assertEqual(scan_lo & 0xFFFFFFFFFFFFFFFF, int(lo, 16))
        self.assertEqual(refs_total, int(into.group(3)))

        # --- replay --------------------------------------------------------
        t = self.tui(["-r", f], height=36)
        s = t.wait_for(lambda s: position(s) == (1, n))
        self.assertRegex(header(s), r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  1/%d REPLAY$" % n)
        self.assertIn(str(demo.pid), header(s))
        self.goto(t, ["t"], 2, n)
        self.goto(t, ["End"], n, n)
        self.goto(t, ["T"], n - 1, n)
        self.goto(t, ["Home"], 1, n)
        t.keys("b")
        t.wait_for("Jump to")
        t.type("#3")
        self.goto(t, ["Enter"], 3, n)
        # The sample the scan was tied to: its region is there.
        t.keys("b")
        t.wait_for("Jump to")
        t.type("#%d" % (scan_seq + 1))
        self.goto(t, ["Enter"], scan_seq + 1, n)
        # (The search matches a row's text: its address without "0x".)
        self.assertEqual(self.open_detail(t, lo[2:]), (lo, hi))
        t.wait_for(lambda s: re.search(r"Recorded scans +1, at sample #%d \(s shows one\)"
                                       % (scan_seq + 1), s))
        t.keys("s")
        s = t.wait_for(lambda s: INTO.search(s) is not None)
        self.assertEqual(INTO.search(s).group(0), into.group(0))
        self.assertEqual(refs_block(s), live_block)
        # A rescan is live-only.
        t.keys("s")
        t.wait_for("needs a live process")
        # Enter follows the holder as it was followed live: the stored step.
        t.keys("Enter")
        s = t.wait_for(lambda s: chain(s) == ["messages.dat", "mmf::MMFSerializer"])
        self.assertEqual(refs_block(s), live2_block)
        t.keys("Escape")
        t.wait_for(lambda s: chain(s) == ["messages.dat"])
        # Back to the list; a region nobody scanned.
        t.keys("Escape")
        t.wait_for(lambda s: "scan for references" in s and "Chain" not in s)
        t.keys("Escape")
        t.wait_for("ADDRESS")
        self.open_detail(t, "libc.so")  # (not [heap]: the followed step is in it)
        t.wait_for(lambda s: re.search(r"Recorded scans +none", s))
        t.keys("s")
        s = t.wait_for("no scan of this region was recorded")
        self.assertIn("a new scan needs a live process", s)
        self.assertNotIn("Chain", s)
        # L lists the recorded scans; Enter goes to the first one's sample
        # and region.
        t.keys("Escape")
        t.wait_for("ADDRESS")
        t.keys("L")
        s = t.wait_for("Recorded scans: 2")
        rows = [l for l in s.split("\n") if re.match(r"^\d{4}-\d\d-\d\d ", l)]
        self.assertEqual(len(rows), 2, s)
        self.assertIn("#%d" % (scan_seq + 1), rows[0])
        self.assertIn("first", rows[0])
        self.assertIn(lo, rows[0])
        self.assertIn("next", rows[1])
        t.keys("Home", "Enter")
        s = t.wait_for(lambda s: re.search(r"(?m)^Region\s+%s-%s" % (lo, hi), s))
        self.assertEqual(position(s), (scan_seq + 1, n))
        # Stepping on from a detail keeps the position honest, then quit.
        self.goto(t, ["End"], n, n)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        self.assertTrue(demo.poll() is None, "the replay touched the demo?")

    def test_header_keeps_time_to_limit_beside_the_session_line(self):
        """A leak's "map count limit in ..." and the session line, both on
        screen; b HH:MM:SS goes to the first sample at or after it."""
        demo = self.quiet_demo(rate=200)
        f = os.path.join(self.dir, "leak.db")
        res = mtlib.run_memtop(["-p", demo.pid, "-b", "-d", "0.25", "-n", "24", "-w", f],
                               timeout=60)
        self.assertEqual(res.rc, 0, res)
        t = self.tui(["-r", f], width=120, height=30)
        t.wait_for("CATEGORY")
        t.keys("End")
        s = t.wait_for(lambda s: position(s) == (24, 24))
        self.assertRegex(s, r"map count limit in \S+ \(\+\d")
        self.assertIn("session 1 of 1:", s)
        # b: the first sample at or after the second given.
        c = sqlite3.connect("file:%s?mode=ro" % f, uri=True)
        times = [r[0] for r in c.execute("SELECT time FROM sample ORDER BY seq")]
        c.close()
        k = next(i for i in range(1, len(times)) if int(times[i]) > int(times[i - 1]))
        want = next(i for i, x in enumerate(times) if x >= int(times[k]))
        t.keys("b")
        t.type(time.strftime("%H:%M:%S", time.localtime(int(times[k]))))
        t.keys("Enter")
        t.wait_for(lambda s: position(s) == (want + 1, 24))

    def test_step_back_from_a_checkpoint(self):
        """Going back starts from a checkpoint taken on the way (every 64
        samples here): the views at sample n-1 reached by End, T must be
        those reached by folding forwards from the first sample."""
        demo = self.start_demo()
        f = os.path.join(self.dir, "long.db")
        n = 200
        res = mtlib.run_memtop(["-p", demo.pid, "-b", "-n", n, "-d", "0.02", "-w", f],
                               timeout=120)
        self.assertEqual(res.rc, 0, res)
        t = self.tui(["-r", f], height=40, width=130)
        t.wait_for(lambda s: position(s) == (1, n))

        # A column title only view v has: its list is on screen.
        title = {"2": "GROWTH", "3": "HISTORY", "4": "BETWEEN", "5": "EVENT "}

        def views():
            out = {}
            for v in "2345":
                t.keys(v)
                s = t.wait_for(lambda s: position(s) is not None and title[v] in s)
                lines = s.split("\n")
                out[v] = lines[1:2] + lines[4:]
            return out

        self.goto(t, ["End"], n, n)
        self.goto(t, ["T"], n - 1, n)
        self.goto(t, ["T"], n - 2, n)
        back = views()
        self.goto(t, ["Home"], 1, n)
        t.keys("b")
        t.wait_for("Jump to")
        t.type("#%d" % (n - 2))
        self.goto(t, ["Enter"], n - 2, n)
        forwards = views()
        for v in back:
            self.assertEqual(back[v], forwards[v], "view %s differs" % v)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_record_from_the_picker(self):
        """-w without -p: each process picked is a session of its own."""
        demo = self.start_demo()
        f = os.path.join(self.dir, "picked.db")
        t = self.tui(["-w", f, "-d", "0.3"], height=30, width=120)
        t.wait_for("choose a process")
        for _ in range(2):
            t.keys("\\")
            t.type(str(demo.pid))
            t.keys("Enter")
            t.wait_for(lambda s: "choose a process" in s and
                       re.search(r"(?m)^\s*%d\s" % demo.pid, s))
            t.keys("Enter")
            t.wait_for(lambda s: "REC" in header(s) and "PID %d" % demo.pid in header(s))
            mtlib.wait_until(lambda: self.samples(f) > 0, timeout=30, what="a sample")
            t.keys("Escape")  # back to the picker: the session ends
            t.wait_for("choose a process")
            t.keys("Escape")  # clear the filter
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        c = sqlite3.connect("file:%s?mode=ro" % f, uri=True)
        rows = c.execute("SELECT pid, ended IS NOT NULL FROM session ORDER BY id").fetchall()
        c.close()
        self.assertEqual(rows, [(demo.pid, 1), (demo.pid, 1)])

    def samples(self, f):
        c = sqlite3.connect("file:%s?mode=ro" % f, uri=True, timeout=5)
        try:
            return c.execute("SELECT count(*) FROM sample").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # not created yet
        finally:
            c.close()

    def test_damaged_recording(self):
        demo = self.start_demo()
        f = os.path.join(self.dir, "rec.db")
        res = mtlib.run_memtop(["-p", demo.pid, "-b", "-n", "3", "-d", "0.1", "-w", f],
                               timeout=60)
        self.assertEqual(res.rc, 0, res)

        newer = os.path.join(self.dir, "newer.db")
        with open(f, "rb") as src, open(newer, "wb") as dst:
            dst.write(src.read())
        c = sqlite3.connect(newer)
        c.execute("PRAGMA user_version=99")
        c.commit()
        c.close()
        cut = os.path.join(self.dir, "cut.db")
        with open(f, "rb") as src, open(cut, "wb") as dst:
            dst.write(src.read()[:4096])
        text = os.path.join(self.dir, "notes.txt")
        with open(text, "w") as fh:
            fh.write("not a recording\n")

        for path, what in ((newer, "newer memtop"), (cut, "damaged"),
                           (text, "not a memtop recording")):
            with self.subTest(path=os.path.basename(path)):
                t = self.tui(["-r", path])
                self.assertEqual(t.exit_code(), BADFILE)
                s = t.screen()
                self.assertFalse(t.alternate_screen())
                msg = [l for l in s.split("\n") if l.startswith("memtop: ")]
                self.assertEqual(len(msg), 1, s)
                self.assertIn(what, msg[0])
                # Nothing of the screen was drawn: no header, no views.
                self.assertNotIn("REPLAY", s)
                self.assertNotIn("Summary", s)
                t.close()


if __name__ == "__main__":
    mtlib.main()
