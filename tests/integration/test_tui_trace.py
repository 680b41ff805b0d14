"""--trace on the screen, against trace_calls: the header counts the
calls, Files names who maps each file, Events has each call's thread and
caller, a region's detail its whole stack."""

import os

import mtlib
from tuilib import Tui, rows_with


class TuiTraceTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("trace_calls", self.tempdir())
        self.rec = os.path.join(self.tempdir(), "t.mtrec")
        self.t = Tui(["-p", self.fx.pid, "--trace", "-d", "0.3", "-w", self.rec],
                     width=180, height=45)
        self.addCleanup(self.t.close)
        self.t.wait_for("traced ")

    def test_files_events_and_detail(self):
        t = self.t
        self.fx.cmd("run 4")
        t.keys("3")
        s = t.wait_for(lambda s: any("windows.dat" in l and "Windows::lea" in l
                                     for l in s.split("\n")))
        self.assertIn("MAPPED BY", s)
        row = [l for l in rows_with(s, "windows.dat")][0]
        self.assertIn("4\u00d7 map_window (inlined) <- fx::Windows::lea", row, s)

        t.keys("5")
        s = t.wait_for(lambda s: any("fx::Windows::churn" in l for l in s.split("\n")))
        self.assertIn("CALLED FROM", s)
        churn = [l for l in s.split("\n") if "fx::Windows::churn" in l]
        self.assertTrue(any(l.split()[1] == "unmap" for l in churn), s)
        self.assertTrue(any(str(self.fx.pid) in l for l in churn), s)

        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("\\")
        t.type("windows.dat")
        t.keys("Enter")
        t.wait_for(lambda s: len([l for l in rows_with(s, "windows.dat") if "0x" in l]) == 4)
        t.keys("Enter")
        s = t.wait_for("Mapped by")
        self.assertIn("fx::Windows::leak(counts*)", s)
        self.assertIn("(inlined) map_window", s)
        self.assertIn("main", s)

        # The recording replays it: Files and Events as they were, at the
        # last sample and again after going back to the first.
        t.keys("q")
        t.exit_code()
        r = Tui(["-r", self.rec], width=180, height=45)
        self.addCleanup(r.close)
        r.wait_for("REPLAY")
        r.keys("End", "3")
        r.wait_for(lambda s: any("windows.dat" in l and "Windows::lea" in l
                                 for l in s.split("\n")))
        r.keys("5")
        r.wait_for(lambda s: any("fx::Windows::churn" in l for l in s.split("\n")))
        r.keys("Home")
        r.wait_for(lambda s: not any("fx::Windows" in l for l in s.split("\n")))
        r.keys("End")
        r.wait_for(lambda s: any("fx::Windows::churn" in l for l in s.split("\n")))


if __name__ == "__main__":
    mtlib.main()
