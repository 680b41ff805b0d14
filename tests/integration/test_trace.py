"""--trace: every map and unmap with its call stack, against trace_calls.

trace_calls maps windows of one file from two functions (fx::Windows::leak
keeps its windows, fx::Windows::churn unmaps each within microseconds),
then starts a thread (after memtop began tracing) that maps and unmaps
anonymous blocks; it answers with its own counts of every call.  The
stripped build has no symbols of its own and no frame pointers: only the
.eh_frame CFI can unwind it.
"""

import os
import sqlite3

import mtlib
from mtlib import addr

N = 25


def symbols(stack):
    return [f["symbol"] for f in (stack or [])]


def has(stack, name):
    return any(name in s for s in symbols(stack))


class TraceTest(mtlib.MemtopTestCase):

    def start(self, exe="trace_calls", *extra):
        d = self.tempdir()
        fx = self.fixture(exe, d)
        path = bytes.fromhex(fx.ready["file_hex"]).decode()
        m = self.memtop(["-p", fx.pid, "-b", "--json", "-d", "0.3", "--trace"] + list(extra))
        first = m.next_report()
        self.assertTrue(first["trace"]["on"], first["trace"])
        return fx, path, m

    def events_until(self, m, t):
        """All events of the reports up to one taken 1 s after t (the tracer
        drains its buffers every 50 ms)."""
        last = m.report_after(t + 1.0)
        events = [e for r in m.reports for e in r["events"]]
        return events, last

    def check_counts(self, fx, path, m, stripped=False):
        ans = fx.cmd("run %d" % N)
        events, last = self.events_until(m, ans["time"])
        traced = [e for e in events if e["traced"]]
        self.assertEqual(last["trace"]["lost"], 0, last["trace"])
        win = fx.ready["window"]
        files = [e for e in traced if e["call"] == "mmap" and e["path"] == path]
        self.assertEqual(len(files), ans["leak_maps"] + ans["churn_maps"])
        for e in files:
            self.assertEqual(e["size"], win)
            self.assertEqual(e["perms"], "r--s")
            self.assertEqual(e["tid"], fx.pid)
            self.assertTrue(e["stack"], e)
        # The thread's blocks: its own tid, a thread created after tracing began.
        tid = ans["thread_tid"]
        blk = fx.ready["thread_block"]
        t_maps = [e for e in traced if e["tid"] == tid and e["call"] == "mmap"
                  and e["size"] == blk]
        t_unmaps = [e for e in traced if e["tid"] == tid and e["call"] == "munmap"
                    and e["size"] == blk]
        why = "%r %r" % (last["trace"], [(e["call"], e["time"]) for e in traced
                                         if e["tid"] == tid])
        self.assertEqual(len(t_maps), ans["thread_maps"], why)
        self.assertEqual(len(t_unmaps), ans["thread_unmaps"], why)
        # Transient windows: unmapped within microseconds, never in a
        # snapshot, yet each has its map and its unmap.
        unmaps = [e for e in traced if e["call"] == "munmap" and e["size"] == win
                  and e["tid"] == fx.pid]
        self.assertEqual(len(unmaps), ans["churn_unmaps"])
        for e in unmaps:  # what an unmap removed, from its map event
            self.assertEqual((e["path"], e["perms"], e["category"]), (path, "r--s", "file"))
        # (No bound on how long they lived: churn_max_life is for people,
        # the machine may be loaded.)
        for e in events:
            if not e["traced"]:
                self.assertNotEqual(e["path"], path, "a window only the snapshots saw: %r" % e)
        self.assertEqual(last["trace"]["lost"], 0)
        if not stripped:
            leak = [e for e in files if has(e["stack"], "fx::Windows::leak")]
            churn = [e for e in files if has(e["stack"], "fx::Windows::churn")]
            self.assertEqual(len(leak), ans["leak_maps"])
            self.assertEqual(len(churn), ans["churn_maps"])
            self.assertTrue(all(has(e["stack"], "fx::Windows::churn") for e in unmaps))
            self.assertTrue(all(has(e["stack"], "fx_thread_maps") for e in t_maps + t_unmaps))
            # Debug information names the inlined helper.
            fr = [f for f in leak[0]["stack"] if f["symbol"] == "map_window"]
            self.assertTrue(fr and fr[0]["inlined"], leak[0]["stack"])
        return ans, files, last

    def test_exact_events_and_origins(self):
        fx, path, m = self.start()
        ans, files, last = self.check_counts(fx, path, m)
        f = mtlib.file_entry(last, path.encode())
        self.assertIsNotNone(f)
        origins = f["origins"]
        self.assertEqual(len(origins), 1, origins)  # the churned windows are gone
        self.assertEqual(origins[0]["count"], N)
        self.assertEqual(origins[0]["bytes"], N * fx.ready["window"])
        self.assertTrue(has(origins[0]["stack"], "fx::Windows::leak"))
        self.assertFalse(has(origins[0]["stack"], "fx::Windows::churn"))
        frame = origins[0]["stack"][0]
        self.assertEqual(set(frame), {"ip", "symbol", "offset", "module", "inlined"})
        self.assertEqual(last["trace"]["untraced"], 0, last["trace"])
        # Anonymous memory likewise: the thread's stack (glibc keeps it
        # after the join) names pthread_create, called from run in main.
        stacks = [g for g in last["anon_origins"] if has(g["stack"], "pthread_create")]
        self.assertEqual(len(stacks), 1, last["anon_origins"])
        self.assertTrue(has(stacks[0]["stack"], "main"))
        self.assertGreater(stacks[0]["bytes"], 64 << 10)

    def test_shmat_and_shmdt(self):
        """A System V segment attached and detached: both traced, with the
        segment's size (from the snapshot, then from the attach) and the
        code that did it; nothing left for the snapshot diff to explain."""
        fx, path, m = self.start("trace_calls", "--regions")
        at = fx.cmd("shmat")
        last = m.report_after(at["time"] + 1.0)
        region = [r for r in last["regions"] if addr(r["start"]) == addr(at["addr"])]
        self.assertEqual(len(region), 1, last["regions"])
        self.assertTrue(has(last["stacks"][region[0]["origin"]]["stack"], "fx::Segment::attach"))
        dt = fx.cmd("shmdt")
        events, last = self.events_until(m, dt["time"])
        mine = [e for e in events if addr(e["start"]) == addr(at["addr"])]
        got = [(e["call"], e["kind"], e["size"], e["category"], e["traced"]) for e in mine]
        self.assertEqual(got, [("shmat", "map", at["size"], "shared", True),
                               ("shmdt", "unmap", at["size"], "shared", True)], mine)
        self.assertTrue(has(mine[0]["stack"], "fx::Segment::attach"), mine[0])
        self.assertTrue(has(mine[1]["stack"], "fx::Segment::detach"), mine[1])
        self.assertEqual(last["trace"]["untraced"], 0, last["trace"])

    def test_regions_name_their_origin(self):
        fx, path, m = self.start("trace_calls", "--regions")
        ans = fx.cmd("run 3")
        last = m.report_after(ans["time"] + 1.0)
        wins = [r for r in last["regions"] if r["path"].encode() == path.encode()]
        self.assertEqual(len(wins), 3)
        for r in wins:
            self.assertIsInstance(r["origin"], int)
            self.assertTrue(has(last["stacks"][r["origin"]]["stack"], "fx::Windows::leak"))
        # Mapped before tracing began: no origin.
        libc = [r for r in last["regions"] if "libc.so" in r["path"]]
        self.assertTrue(libc and all(r["origin"] is None for r in libc))

    def test_stripped_binary_unwinds_through_eh_frame(self):
        fx, path, m = self.start("trace_calls_stripped")
        ans, files, last = self.check_counts(fx, path, m, stripped=True)
        exe = os.path.join(mtlib.FIXTURES, "trace_calls_stripped")
        for e in files:
            mods = [f["module"] for f in e["stack"]]
            # Through the fixture's own frames (nameless, no frame
            # pointers) down to libc's start of main.
            self.assertIn(exe, mods, e["stack"])
            self.assertTrue(has(e["stack"], "__libc_start_call_main"), symbols(e["stack"]))
            inner = mods.index(exe)
            self.assertGreaterEqual(mods.count(exe), 2, e["stack"])  # leak/churn <- main
            self.assertTrue(all(not f["inlined"] for f in e["stack"][inner:]
                                if f["module"] == exe))

    def test_lost_events_are_counted_under_a_flood(self):
        fx, path, m = self.start("trace_calls", "--trace-stack", "60000")
        ans = fx.cmd("flood 200000", timeout=60)
        last = m.report_after(ans["time"] + 1.0)
        tr = last["trace"]
        self.assertGreater(tr["lost"], 0, tr)
        traced_maps = sum(1 for r in m.reports for e in r["events"]
                          if e["traced"] and e["call"] == "mmap" and e["size"] == 4096)
        self.assertLess(traced_maps, ans["maps"])
        # Still running, still tracing afterwards.
        ans = fx.cmd("run 2")
        later = m.report_after(ans["time"] + 1.0)
        self.assertTrue(later["trace"]["on"])

    def test_refused_falls_back_on_snapshot_diffs(self):
        d = self.tempdir()
        os.chmod(d, 0o777)
        fx = self.fixture("trace_calls", d, as_nobody=True)
        res = mtlib.run_memtop(["-p", fx.pid, "-b", "--json", "-n", "2", "-d", "0.2",
                                "--trace"], as_nobody=True)
        self.assertEqual(res.rc, 0, res)
        lines = [l for l in res.errtext.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, res.errtext)
        self.assertIn("--trace", lines[0])
        self.assertIn("falling back to snapshot diffs", lines[0])
        reps = res.json_lines()
        self.assertEqual(len(reps), 2)
        for r in reps:
            self.assertFalse(r["trace"]["on"])
            self.assertTrue(r["trace"]["reason"])
            for e in r["events"]:
                self.assertFalse(e["traced"])
                self.assertIsNone(e["stack"])

    def test_recorded_once_and_replayed(self):
        d = self.tempdir()
        rec = os.path.join(d, "t.mtrec")
        fx, path, m = self.start("trace_calls", "--regions", "-w", rec)
        ans = fx.cmd("run %d" % N)
        m.report_after(ans["time"] + 1.0)
        m.stop()
        live = m.reports
        reps = self.run_ok(["-r", rec, "-b", "--json", "--regions"]).json_lines()
        # memtop was killed: the replay has every sample committed, and
        # each is the live report's double in all --trace adds.
        self.assertGreaterEqual(len(reps), len(live) - 1)
        for a, b in zip(live, reps):
            for k in ("events", "anon_origins", "trace", "stacks"):
                self.assertEqual(a.get(k), b.get(k), k)
            self.assertEqual([f["origins"] for f in a["files"]],
                             [f["origins"] for f in b["files"]])
            self.assertEqual([r["origin"] for r in a["regions"]],
                             [r["origin"] for r in b["regions"]])
        # Stacks once, events by reference.
        db = sqlite3.connect(rec)
        stacks, = db.execute("SELECT count(*) FROM trace_stack").fetchone()
        events, = db.execute("SELECT count(*) FROM trace_event").fetchone()
        refs, = db.execute("SELECT count(DISTINCT stack) FROM trace_event").fetchone()
        db.close()
        self.assertEqual(events, sum(len([e for e in r["events"] if e["traced"]])
                                     for r in reps))
        self.assertGreaterEqual(events, 4 * N)
        self.assertEqual(stacks, refs)
        self.assertLess(stacks, 12)
        # A damaged trace row is refused with the bad-recording code, not
        # trusted.
        db = sqlite3.connect(rec)
        db.execute("UPDATE trace_event SET call = 'bogus' WHERE idx = 0")
        db.execute("UPDATE trace_frame SET idx = idx + 70 WHERE idx = 1")
        db.commit()
        db.close()
        res = mtlib.run_memtop(["-r", rec, "-b", "--json"])
        self.assertEqual(res.rc, 7, res)
        self.assertIn("damaged", res.errtext)

    def test_perf_refused_falls_back(self):
        """perf_event_open refused (EACCES, as kernel.perf_event_paranoid
        does to an unprivileged user): one line, the fallback, exit 0.
        The test build's hook refuses it (tests/support/trace_deny.c)."""
        fx = self.fixture("trace_calls", self.tempdir())
        os.environ["MEMTOP_TEST_TRACE_ERRNO"] = "13"
        try:
            res = mtlib.run_memtop(["-p", fx.pid, "-b", "--json", "-n", "2", "-d", "0.2",
                                    "--trace"])
        finally:
            del os.environ["MEMTOP_TEST_TRACE_ERRNO"]
        self.assertEqual(res.rc, 0, res)
        lines = [l for l in res.errtext.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, res.errtext)
        self.assertRegex(lines[0], r"perf events refused \(kernel\.perf_event_paranoid=-?\d+, "
                         r"needs CAP_PERFMON or root\); falling back to snapshot diffs")
        reps = res.json_lines()
        self.assertTrue(all(not r["trace"]["on"] and "perf events refused" in
                            r["trace"]["reason"] for r in reps))
        fx.cmd("run 2")

    def test_trace_refused_with_a_replay(self):
        res = mtlib.run_memtop(["-r", "/nonexistent.mtrec", "--trace"])
        self.assertEqual(res.rc, 2, res)


if __name__ == "__main__":
    mtlib.main()
