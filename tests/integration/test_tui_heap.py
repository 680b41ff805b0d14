"""The heap census on the screen: H takes it (the target released after),
H again shows growth, L adds the leaks, Esc goes back; --heap-every takes
it again by itself."""

import re

import mtlib
from tuilib import Tui


class TuiHeapTest(mtlib.MemtopTestCase):

    def tui(self, args, **kw):
        t = Tui(args, **kw)
        self.addCleanup(t.close)
        return t

    def test_census_growth_leaks(self):
        fx = self.fixture("heap_census")
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=140, height=60)
        t.wait_for("CATEGORY")
        t.keys("H")
        s = t.wait_for("Heap census (glibc malloc)")
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        self.assertRegex(s, r"census 1 as of \d\d:\d\d:\d\d, target stopped \d+ ms")
        self.assertRegex(s, r"\n\s+#\d+\s+300\s+\S+ \S+\s+\+0\s+0\s+Widget")
        self.assertRegex(s, r"\n\s+#\d+\s+240\s+\S+ \S+\s+\+0\s+0\s+ThreadObj")
        self.assertRegex(s, r"main\s+0x[0-9a-f]+\s+1\s")
        self.assertEqual(len(re.findall(r"(?m)^\s+thread\s+0x", s)), 2, s)
        t.keys("L")
        s = t.wait_for("census 2 as of")
        self.assertRegex(s, r"leaks\s+50 chunks")
        self.assertIn("Leaky (40 unreferenced)", s)
        self.assertIn("LeakNode (1 unreferenced)", s)
        self.assertRegex(s, r"\s+#\d+\s+40\s+\S+ \S+\s+\+0\s+0\s+40\s+Leaky")
        # The node patterns name the fixture's list, map and set nodes
        # (none leaked; the growth column counts them as new classes, the
        # first census having no patterns).
        for name, n in fx.ready["patterns"].items():
            self.assertRegex(s, r"\s+#\d+\s+%d\s+\S+ \S+\s+\+%d\s+\S+ \S+\s+0\s+%s\n"
                             % (n, n, re.escape(name)))
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        # Enter on a leak group: the drill-down from its first example,
        # the head of the leaked list; Esc comes back to the census.
        t.keys("/")
        t.type("LeakNode (1")
        t.keys("Enter", "Enter")
        s = t.wait_for("Chain  leaked LeakNode %s" % fx.ready["nodes"][0])
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        t.keys("Escape")
        t.wait_for("census 2 as of")
        t.keys("Escape")
        t.wait_for(lambda s: "CATEGORY" in s and "Heap census" not in s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_heap_every(self):
        fx = self.fixture("heap_census")
        t = self.tui(["-p", fx.pid, "-d", "0.5", "--heap-every", "0.5"], width=140, height=40)
        t.wait_for("CATEGORY")
        t.keys("H")
        t.wait_for("census 1 as of")
        t.wait_for("census 3 as of")
        self.assertEqual(mtlib.unreleased(fx.pid), [])

    def test_recorded_and_replayed(self):
        """With -w each census goes into the recording; in the replay H shows
        the one recorded at or before the sample on show, with its growth."""
        fx = self.fixture("heap_census")
        rec = self.tempdir() + "/heap.mtrec"
        t = self.tui(["-p", fx.pid, "-d", "0.3", "-w", rec], width=140, height=50)
        t.wait_for("CATEGORY")
        t.keys("H")
        t.wait_for("census 1 as of")
        fx.cmd("grow 700")
        t.keys("L")
        s = t.wait_for("census 2 as of")
        self.assertRegex(s, r"1000\s+\S+ \S+\s+\+700\s+\S+ \S+\s+0\s+Widget")
        t.keys("Escape")
        t.wait_for(lambda s: "Heap census" not in s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        r = self.tui(["-r", rec], width=140, height=50)
        r.wait_for("REPLAY")
        r.keys("End", "H")
        s = r.wait_for("recorded census 2 of 2")
        self.assertRegex(s, r"1000\s+\S+ \S+\s+\+700\s+\S+ \S+\s+0\s+Widget")
        self.assertRegex(s, r"\s40\s+Leaky")
        self.assertIn("50 chunks", s)
        # The chunks the patterns named, under their names.
        for name, n in fx.ready["patterns"].items():
            self.assertRegex(s, r"#\d+\s+%d\s+[^\n]*\s0\s+%s\n" % (n, re.escape(name)))
        # The leak groups, with their examples, as recorded.
        self.assertIn("(recorded)", s)
        self.assertRegex(s, r"LeakNode \(1 unreferenced\) e\.g\. 0x[0-9a-f]+")
        self.assertRegex(s, r"Leaky \(40 unreferenced\) e\.g\. 0x[0-9a-f]+")
        # At the first sample: a census of that sample, or none yet.
        r.keys("Escape", "Home", "H")
        r.wait_for(lambda s: "no heap census recorded yet" in s or
                   re.search(r"recorded census \d of 2", s) and " 1/" in s)

    def test_unloaded_code(self):
        """A library unloaded with a hook left pointing into it: its unmap
        event offers the scan (Enter in the Events view, and from the heap
        census), which finds the global and the heap object holding it."""
        fx = self.fixture("fx_dlopen")
        t = self.tui(["-p", fx.pid, "-d", "0.3"], width=200, height=50)
        t.wait_for("CATEGORY")
        t.keys("5")
        fx.cmd("load")
        t.wait_for("libfxplugin.so")
        hook = fx.cmd("hook")
        fx.cmd("unload")
        t.wait_for(lambda s: re.search(r"unmap.*r-x.*libfxplugin", s))
        t.keys("H")
        s = t.wait_for("unloaded code")
        # The leak search counts the words still pointing into it.
        t.keys("L")
        s = t.wait_for("point into it")
        m = re.search(r"libfxplugin.so, unmapped at \S+: (\d+) words point into it, "
                      r"at 0x[0-9a-f]+", s)
        self.assertTrue(m, s)
        self.assertGreaterEqual(int(m.group(1)), 2)  # the global and the object
        t.keys("/")
        t.type("libfxplugin.so, unmapped")
        t.keys("Enter", "Enter")
        s = t.wait_for("Chain  unloaded libfxplugin.so")
        self.assertIn("g_hook", s)
        self.assertIn(hook["object"], s)
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        t.keys("Escape")
        t.wait_for("unloaded code")

    def test_not_a_live_process(self):
        fx = self.fixture("heap_census")
        t = self.tui(["-p", fx.pid, "-d", "0.5", "--no-freeze"])
        t.wait_for("CATEGORY")
        t.keys("H")
        t.wait_for("not with --no-freeze")


if __name__ == "__main__":
    mtlib.main()
