"""The demo workload (memtop-demo) watched by memtop for a few refreshes.

messages.dat must grow, one 256 KiB window at a time, while journal.dat
(mapped and released) must not; SIGTERM must make the demo clean up.
"""

import os
import re
import resource
import signal
import subprocess

import mtlib
from mtlib import addr, path_bytes, file_entry

WINDOW = 256 * 1024


class DemoTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        if not mtlib.DEMO or not os.access(mtlib.DEMO, os.X_OK):
            self.fail("MEMTOP_DEMO=%r is not an executable (is demo/ built?)" % mtlib.DEMO)
        self.dir = self.tempdir()

    def start_demo(self, *args):
        proc = mtlib._popen([mtlib.DEMO, "--dir", self.dir] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        self.addCleanup(mtlib._kill, proc)
        out = mtlib._LineReader(proc.stdout)
        first = out.get(mtlib.START_TIMEOUT)
        self.assertIsNotNone(first, "memtop-demo printed nothing")
        m = re.search(rb"pid (\d+)", first)
        self.assertIsNotNone(m, first)
        self.assertEqual(int(m.group(1)), proc.pid)
        lines = [first]
        # Its start-up lines name both files.
        while not any(b"journal.dat" in x for x in lines):
            x = out.get(mtlib.START_TIMEOUT)
            self.assertIsNotNone(x, lines)
            lines.append(x)
        text = b"".join(lines)
        self.assertIn(os.path.join(self.dir, "messages.dat").encode(), text)
        return proc, out

    def test_leak_shows_in_files(self):
        proc, _ = self.start_demo("--rate", "20", "--threads", "--quiet")
        messages = os.path.join(self.dir, "messages.dat").encode()
        journal = os.path.join(self.dir, "journal.dat").encode()
        # From the first leaked window on, memtop must see the file grow.
        mtlib.wait_until(lambda: any(x["path"] == messages
                                     for x in mtlib.parse_maps(proc.pid)),
                         what="the first window of messages.dat")
        reps = self.reports(["-p", proc.pid, "--regions", "-d", "1"], 4)

        counts = []
        for rep in reps:
            f = file_entry(rep, messages)
            self.assertIsNotNone(f, "messages.dat missing from files[]")
            self.assertFalse(f["deleted"])
            self.assertTrue(f["present"])
            # Every window is 256 KiB: one size bucket, one region per window.
            self.assertEqual([b["size"] for b in f["sizes"]], [WINDOW], f)
            self.assertEqual(f["sizes"][0]["count"], f["regions"])
            self.assertEqual(f["virtual"], f["regions"] * WINDOW)
            regs = [r for r in rep["regions"] if path_bytes(r["path"]) == messages]
            self.assertEqual(len(regs), f["regions"])
            for r in regs:
                self.assertEqual((r["size"], r["category"]), (WINDOW, "file"), r)
            counts.append(f["regions"])
            j = file_entry(rep, journal)
            if j is not None:
                # Mapped and released: at most the window in use right now.
                self.assertLessEqual(j["regions"], 1, j)
                self.assertLessEqual(j["delta_regions"], 1, j)

        last = file_entry(reps[-1], messages)
        self.assertGreater(counts[-1], counts[0], counts)
        self.assertEqual(last["delta_regions"], counts[-1] - counts[0])
        self.assertEqual(last["sizes"][0]["delta"], counts[-1] - counts[0])
        self.assertGreater(last["rate_per_min"], 0)
        self.assertEqual(path_bytes(reps[-1]["files"][0]["path"]), messages,
                         "the leaking file comes first (largest growth)")
        # The trend: map_count grows, so it heads for vm.max_map_count.
        last_rep = reps[-1]
        self.assertGreater(last_rep["maps_rate"], 0)
        self.assertIsNone(reps[0]["maps_eta"], "one sample is no trend")
        self.assertIsNotNone(last_rep["maps_eta"])
        want = (last_rep["max_map_count"] - last_rep["map_count"]) / (last_rep["maps_rate"] / 60)
        self.assertAlmostEqual(last_rep["maps_eta"] / want, 1, delta=0.01)
        self.assertIsNone(last_rep["vsz_eta"], "no RLIMIT_AS, so no vsz deadline")
        self.assertGreater(last_rep["vsz_rate"], 0)
        self.assertEqual(reps[-1]["threads"], 3)  # main, journal, heartbeat
        # Stacks belong to the demo's threads (a thread running at the
        # instant of the snapshot may have no known stack pointer).
        tids = {r["tid"] for r in reps[-1]["regions"] if r["tid"] is not None}
        self.assertIn(proc.pid, tids)
        self.assertLessEqual(tids, {int(t) for t in os.listdir("/proc/%d/task" % proc.pid)})

    def test_rlimit_as_deadline(self):
        """Under RLIMIT_AS the growing VSZ has a deadline too."""
        proc, _ = self.start_demo("--rate", "20", "--quiet")
        vsz = mtlib.read_int("/proc/%d/statm" % proc.pid) * os.sysconf("SC_PAGESIZE")
        limit = vsz + (1 << 30)
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        reps = self.reports(["-p", proc.pid, "-d", "1"], 4)
        for rep in reps:
            self.assertEqual(rep["rlimit_as"], limit)
            self.assertEqual(rep["largest_mmap"], min(rep["largest_free"], limit - rep["vsz"]))
        last = reps[-1]
        self.assertGreater(last["vsz"], reps[0]["vsz"])
        self.assertGreater(last["vsz_rate"], 0)
        self.assertIsNotNone(last["vsz_eta"])
        want = (limit - last["vsz"]) / (last["vsz_rate"] / 60)
        self.assertAlmostEqual(last["vsz_eta"] / want, 1, delta=0.01)

    def test_events_account_for_every_change(self):
        """Between two refreshes, what the events say was mapped minus what
        they say was unmapped is what the address space gained: in all, and
        per file (transient windows included, they come and go)."""
        proc, _ = self.start_demo("--rate", "200", "--threads", "--quiet")
        reps = self.reports(["-p", proc.pid, "-d", "0.3"], 6)
        files = set()
        for r in reps:
            files.update(path_bytes(f["path"]) for f in r["files"])

        def virt(rep, path):
            f = file_entry(rep, path)
            return f["virtual"] if f else 0
        for prev, cur in zip(reps, reps[1:]):
            net = sum(e["size"] * (1 if e["kind"] == "map" else -1) for e in cur["events"])
            self.assertEqual(net, cur["vsz"] - prev["vsz"], cur["events"])
            for path in files:
                net = sum(e["size"] * (1 if e["kind"] == "map" else -1)
                          for e in cur["events"] if path_bytes(e["path"]) == path)
                self.assertEqual(net, virt(cur, path) - virt(prev, path), path)
            for e in cur["events"]:
                self.assertIn(e["kind"], ("map", "unmap"))
                self.assertEqual(e["size"], addr(e["end"]) - addr(e["start"]), e)
                self.assertGreater(e["size"], 0, e)
        messages = os.path.join(self.dir, "messages.dat").encode()
        grew = sum(e["size"] for r in reps[1:] for e in r["events"]
                   if e["kind"] == "map" and path_bytes(e["path"]) == messages)
        self.assertGreater(grew, 0)

    def test_memtop_demo_option(self):
        """memtop --demo -b starts the bundled demo, watches it, stops it."""
        env = dict(os.environ, TMPDIR=self.dir)
        before = set(os.listdir(self.dir))
        argv = [mtlib.MEMTOP, "--demo", "-b", "--json", "-d", "1", "-n", "3"]
        proc = mtlib._popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
        self.addCleanup(mtlib._kill, proc)
        out, err = proc.communicate(timeout=mtlib.RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        reps = mtlib.parse_json_lines(out)
        self.assertEqual(len(reps), 3, out)
        pid = reps[0]["pid"]
        self.assertEqual(reps[0]["comm"], "memtop-demo")
        messages = os.path.join(self.dir, "memtop-demo-%d" % pid, "messages.dat").encode()
        f = file_entry(reps[-1], messages)
        self.assertIsNotNone(f, [x["path"] for x in reps[-1]["files"]])
        self.assertGreater(f["delta_regions"], 0, f)
        # memtop stopped the demo, which removed its files.
        self.assertFalse(os.path.exists("/proc/%d" % pid) and
                         open("/proc/%d/comm" % pid).read().strip() == "memtop-demo")
        self.assertEqual(set(os.listdir(self.dir)), before)

    def test_max_stops_the_leak_and_sigterm_cleans_up(self):
        proc, out = self.start_demo("--rate", "50", "--max", "6", "--quiet")
        messages = os.path.join(self.dir, "messages.dat").encode()
        # Wait until the 6 windows are leaked, then check memtop agrees.
        mtlib.wait_until(lambda: sum(1 for x in mtlib.parse_maps(proc.pid)
                                     if x["path"] == messages) >= 6,
                         what="6 leaked windows")
        # A healthy communicator's window lives for a moment beside the 6
        # leaked ones, so a snapshot may catch 7; never more, and the count
        # must not keep growing.
        counts = [file_entry(rep, messages)["regions"]
                  for rep in self.reports(["-p", proc.pid, "-d", "0.2"], 3)]
        self.assertTrue(all(c in (6, 7) for c in counts), counts)
        self.assertIn(6, counts)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=mtlib.START_TIMEOUT), 0)
        self.assertEqual(sorted(os.listdir(self.dir)), [], "demo left files behind")


if __name__ == "__main__":
    mtlib.main()
