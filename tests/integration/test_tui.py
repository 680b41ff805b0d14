"""The interactive screen, driven through tmux.

memtop runs in a detached tmux session of a fixed size against a fixture
whose layout the test knows (fx_layout: data.dat windows it maps and unmaps
on command, odd file names; fx_threads: blocked threads).  Keys go in with
send-keys, the screen comes back with capture-pane; every check polls the
screen until it shows the expected state, so nothing depends on timing.
"""

import os
import re
import signal
import unittest

import mtlib
import tuilib
from tuilib import Tui


def rows_with(screen, text):
    """Rows of a Regions or Events list holding text (not the header's
    filter note nor a prompt)."""
    return [l for l in screen.split("\n") if text in l and
            re.match(r"^([ +] 0x|\d\d:\d\d:\d\d )", l)]


def gone_rows(screen):
    """Rows of the Regions list marked "-": unmapped at the last refresh."""
    return [l for l in screen.split("\n") if l.startswith("- 0x")]


class TuiTestCase(mtlib.MemtopTestCase):

    def tui(self, args, **kw):
        t = Tui(args, **kw)
        self.addCleanup(t.close)
        return t

    def layout(self, windows=4):
        d = self.tempdir()
        return self.fixture("fx_layout", d, windows)


class Views(TuiTestCase):
    """Each view shows what the fixture did."""

    def setUp(self):
        super().setUp()
        self.fx = self.layout(4)
        self.t = self.tui(["-p", self.fx.pid, "-d", "0.5"])
        self.t.wait_for("CATEGORY")

    def test_header(self):
        s = self.t.screen()
        self.assertIn("PID %d" % self.fx.pid, s)
        self.assertIn("fx_layout", s)
        self.assertRegex(s, r"Maps\[\|* *\d+/%d\]" % mtlib.read_int("/proc/sys/vm/max_map_count"))
        self.assertRegex(s, r"VSZ [\d.]+ [KMG]iB")
        self.assertIn("Largest free", s)
        self.assertIn("every 0.5s", s)
        for tab in ("1 Summary", "2 Regions", "3 Files", "4 Free", "5 Events", "6 Threads"):
            self.assertIn(tab, s)
        self.assertIn("F1Help", s)
        self.assertIn("F10Quit", s)

    def test_summary(self):
        s = self.t.screen()
        for cat in mtlib.CATEGORIES:
            self.assertTrue(re.search(r"^%s\s+\d+" % cat, s, re.M), cat)
        self.assertRegex(s, r"(?m)^total\s+\d+")
        # Units in the headers: the rate is of virtual size (bytes).
        self.assertRegex(s, r"(?m)^CATEGORY .*\bVIRT/MIN")
        # One precision rule in the figures: no "3 MiB" beside "4.2 MiB".
        figs = re.findall(r"\b(\d+(?:\.\d)?) (?:KiB|MiB|GiB)\b", s.split("CATEGORY", 1)[1])
        self.assertTrue(all("." in f or int(f) >= 100 for f in figs), figs)
        self.assertIn("Address space", s)
        self.assertIn("largest free block", s)
        for t in ("private", "shared", "file"):
            self.assertRegex(s, r"(?m)^%s\s+\d+" % t)
        self.assertIn("rw-s", s)  # a protection of the fixture's shared files
        # The strip: one row of category blocks and free space.
        self.assertTrue(any(set(l.strip()) <= set("\u2588\u00b7\u2550") and len(l.strip()) > 50
                            for l in s.split("\n")), s)

    def test_address_column_fits_vsyscall(self):
        """[vsyscall]'s 0xffffffffff600000 whole in ADDRESS, at 80 and 120."""
        if not any(m["path"] == b"[vsyscall]" for m in mtlib.parse_maps(self.fx.pid)):
            self.skipTest("no [vsyscall] on this kernel")
        for w, h in ((80, 24), (120, 40)):
            t = self.tui(["-p", self.fx.pid, "-d", "0.5"], width=w, height=h)
            t.wait_for("CATEGORY")
            t.keys("2", "End")
            s = t.wait_for("[vsyscall]")
            row = [l for l in s.split("\n") if "[vsyscall]" in l][0]
            self.assertIn("0xffffffffff600000 ", row)

    def test_regions_new_and_gone(self):
        t = self.t
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("\\")
        t.type("data.dat")
        t.keys("Enter")
        t.wait_for(lambda s: len(rows_with(s, "data.dat")) == 4)
        # Regions there before memtop attached are older than the watch.
        s = t.screen()
        self.assertTrue(all(re.search(r" \u2265\d+[smhd]", l) for l in rows_with(s, "data.dat")),
                        s)
        self.fx.cmd("map 3")
        # New regions are marked "+" for one refresh.
        s = t.wait_for(lambda s: len([l for l in rows_with(s, "data.dat")
                                      if l.startswith("+")]) == 3)
        self.assertEqual(len(rows_with(s, "data.dat")), 7)
        s = t.wait_for(lambda s: len(rows_with(s, "data.dat")) == 7 and
                       not any(l.startswith("+") for l in rows_with(s, "data.dat")))
        # ... and those mapped since have an age of their own.
        self.assertEqual(len([l for l in rows_with(s, "data.dat") if "\u2265" in l]), 4, s)
        self.fx.cmd("unmap 2")
        # Gone ones are shown once, marked "-" and "gone", then dropped; their
        # text copies as it is (no strike-through combining characters).
        s = t.wait_for(lambda s: len(gone_rows(s)) == 2)
        self.assertTrue(all("gone" in l and "data.dat" in l for l in gone_rows(s)), s)
        self.assertNotIn("\u0336", s)
        for l in gone_rows(s):
            self.assertRegex(l, r"^- 0x[0-9a-f]{12} ")
        t.wait_for(lambda s: len(rows_with(s, "data.dat")) == 5 and not gone_rows(s))

    def test_growth_in_place(self):
        t = self.t
        t.keys("2")
        t.wait_for("GROWTH")
        t.keys("\\")
        t.type("[heap]")
        t.keys("Enter")
        t.wait_for(lambda s: len(rows_with(s, "[heap]")) == 1)
        ans = self.fx.cmd("sbrk 256")
        grown = mtlib.addr(ans["new_end"]) - mtlib.addr(ans["old_end"])
        self.assertEqual(grown, 256 * 1024)
        t.wait_for(lambda s: any(re.search(r"\+256 KiB .*\[heap\]", l)
                                 for l in rows_with(s, "[heap]")))

    def test_regions_sort_and_search(self):
        t = self.t
        t.keys("2")
        t.wait_for("ADDRESS\u25b2")
        t.keys("F6")  # next column: size, largest first
        t.wait_for("SIZE\u25bc")
        t.keys("Home")
        s = t.wait_for(lambda s: re.search(r"(?m)^. 0x[0-9a-f]+ +48(\.0)? MiB ", s))
        # The reservation (48 MiB PROT_NONE) is the largest region: first.
        rows = [l for l in s.split("\n") if re.match(r"^. 0x[0-9a-f]+ ", l)]
        self.assertRegex(rows[0], r"^. 0x[0-9a-f]+ +48(\.0)? MiB +0 B +---p reserved")
        t.keys("I")
        t.wait_for("SIZE\u25b2")
        t.keys("<")
        t.wait_for("ADDRESS\u25b2")
        t.keys("/")
        t.type("[heap]")
        t.keys("Enter")
        t.wait_for(lambda s: "Search:" not in s)

    def test_files_view(self):
        t = self.t
        t.keys("3")
        s = t.wait_for(lambda s: any("data.dat" in l and "256 KiB \u00d7 4" in l
                                     for l in s.split("\n")))
        self.assertIn("HISTORY", s)
        self.assertIn("(anonymous)", s)
        # Regions per minute, said so; more sizes are counted as sizes.
        self.assertIn("REG/MIN", s)
        self.assertNotRegex(s, r"\u00d7 \d+ \+\d+(?! size)")
        self.fx.cmd("map 2")
        t.wait_for(lambda s: any("data.dat" in l and "256 KiB \u00d7 6" in l and "+2" in l
                                 for l in s.split("\n")))
        # Enter on a file: its regions.
        t.keys("/")
        t.type("data.dat")
        t.keys("Enter", "Enter")
        s = t.wait_for("filter: ")
        self.assertIn("ADDRESS", s)
        t.wait_for(lambda s: len(rows_with(s, "data.dat")) == 6)
        # Esc: back to Files, where Enter was pressed, the filter gone.
        t.keys("Escape")
        s = t.wait_for("HISTORY")
        self.assertNotIn("filter: ", s)
        # Esc in Regions reached otherwise only clears the filter.
        t.keys("2", "\\")
        t.type("data.dat")
        t.keys("Enter")
        t.wait_for("filter: ")
        t.keys("Escape")
        s = t.wait_for(lambda s: "filter: " not in s)
        self.assertIn("ADDRESS", s)

    def test_free_view(self):
        t = self.t
        t.keys("4")
        s = t.wait_for("(largest)")
        self.assertIn("SIZE\u25bc", s)
        rows = [l for l in s.split("\n") if re.match(r"^\s+[\d.]+ [KMGT]iB 0x", l)]
        self.assertGreaterEqual(len(rows), 2)
        self.assertIn("(largest)", rows[0])

    def test_events_view(self):
        t = self.t
        t.keys("5")
        t.wait_for("EVENT")
        self.fx.cmd("map 2")
        t.wait_for(lambda s: len([l for l in rows_with(s, "data.dat") if " map " in l]) == 2)
        self.fx.cmd("unmap 1")
        s = t.wait_for(lambda s: len([l for l in rows_with(s, "data.dat")
                                      if " unmap " in l]) == 1)
        # The log is kept across refreshes, newest first.
        self.assertEqual(len([l for l in rows_with(s, "data.dat") if " map " in l]), 2)
        first = [l for l in s.split("\n") if re.match(r"^\d\d:\d\d:\d\d ", l)][0]
        self.assertIn("unmap", first)

    def test_odd_names_are_neutralised(self):
        """A file name holding an escape sequence is shown, not obeyed."""
        t = self.t
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("\\")
        t.type(".dat")
        t.keys("Enter")
        s = t.wait_for("esc?[7m?.dat")
        self.assertIn("bad??-\u00e9.dat", s)
        self.assertNotIn("\x7f", t.screen(escapes=True))


class Detail(TuiTestCase):

    def test_region_detail_and_back(self):
        fx = self.layout(2)
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type("data.dat")
        t.keys("Enter")
        t.keys("Enter")
        s = t.wait_for("Permissions")
        self.assertIn("Region", s)
        self.assertIn("data.dat", s)
        self.assertRegex(s, r"Permissions\s+r--s")
        self.assertRegex(s, r"Rss\s+")
        self.assertIn("Actions:", s)
        self.assertIn("scan for references", s)
        # Search works in the detail as in any list.
        t.keys("/")
        t.type("VmFlags")
        t.keys("Enter")
        t.wait_for(lambda s: re.search(r"(?m)^VmFlags +rd ", s))
        # At the end: the region's first bytes, read from the target, at
        # their absolute addresses.
        m = re.search(r"(?m)^Region\s+0x([0-9a-f]+)-", s)
        t.keys("End")
        s = t.wait_for(lambda s: re.search(r"(?m)^%s  " % m.group(1), s))
        self.assertIn("first 256 bytes", s)
        t.keys("Escape")
        t.wait_for(lambda s: "ADDRESS" in s and "VmFlags" not in s)

    def test_unreadable_region(self):
        """The PROT_NONE reservation: smaps is shown, the bytes are not."""
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type("---p reserved")
        t.keys("Enter", "Enter")
        t.wait_for(lambda s: re.search(r"Permissions\s+---p", s))
        t.keys("End")
        t.wait_for("not readable")


class Threads(TuiTestCase):

    def test_threads_view(self):
        fx = self.fixture("fx_threads", 3)
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("6")
        s = t.wait_for(lambda s: all(str(th["tid"]) in s for th in fx.ready["threads"]))
        self.assertIn("STACK REGION", s)
        for th in fx.ready["threads"]:
            row = [l for l in s.split("\n") if l.strip().startswith("%d " % th["tid"])]
            self.assertTrue(row, th)
        # Enter on a thread opens its stack region.
        t.keys("Down", "Enter")
        t.wait_for(lambda s: re.search(r"Category\s+stack", s))

    def test_stack_dump_starts_at_the_stack_pointer(self):
        """A thread's stack: the bytes from its stack pointer, not the
        lowest (unused) ones, at absolute addresses."""
        fx = self.fixture("fx_threads", 2)
        t = self.tui(["-p", fx.pid, "-d", "0.5"], height=40)
        t.wait_for("CATEGORY")
        t.keys("6")
        th = fx.ready["threads"][0]
        s = t.wait_for(lambda s: str(th["tid"]) in s and "running" not in s)
        row = [l for l in s.split("\n") if l.strip().startswith("%d " % th["tid"])][0]
        sp = int(re.search(r"0x([0-9a-f]{12})", row).group(1), 16)
        t.keys("/")
        t.type(str(th["tid"]))
        t.keys("Enter", "Enter")
        t.wait_for(lambda s: re.search(r"Category\s+stack", s))
        t.keys("End")
        s = t.wait_for("from the stack pointer")
        self.assertRegex(s, r"(?m)^%012x  " % (sp & ~15))

    def test_threads_at_80_columns(self):
        """No stack address cut mid-way at 80 columns: the start whole."""
        fx = self.fixture("fx_threads", 3)
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=80, height=24)
        t.wait_for("CATEGORY")
        t.keys("6")
        s = t.wait_for(lambda s: all(str(th["tid"]) in s for th in fx.ready["threads"]))
        stacks = {m["start"] for m in mtlib.parse_maps(fx.pid)}
        for th in fx.ready["threads"]:
            row = [l for l in s.split("\n") if l.strip().startswith("%d " % th["tid"])][0]
            last = row.split()[-1]
            self.assertRegex(last, r"^0x[0-9a-f]{12}$|^[0-9a-f]{12}-[0-9a-f]{12}$", row)
            self.assertIn(int(last.split("-")[0], 16), stacks, row)


class Navigation(TuiTestCase):

    def test_help(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        t.keys("F1")
        s = t.wait_for("show this help")
        self.assertIn("F1 h ?", s)
        t.keys("End")  # the help scrolls
        s = t.wait_for("F10 q")
        self.assertIn("quit", s)
        t.keys("x")
        t.wait_for(lambda s: "show this help" not in s and "CATEGORY" in s)
        t.keys("?")
        t.wait_for("show this help")
        t.keys("q")  # closes the help, does not quit
        t.wait_for("CATEGORY")
        self.assertTrue(t.alternate_screen())

    def test_tab_cycles_views(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        for header in ("ADDRESS", "HISTORY", "BETWEEN", "EVENT", "STACK REGION", "CATEGORY"):
            t.keys("Tab")
            t.wait_for(header)

    def test_pause(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid, "-d", "0.3"])
        t.wait_for("CATEGORY")
        t.keys("Space")
        t.wait_for("PAUSED")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("\\")
        t.type("data.dat")
        t.keys("Enter")
        t.wait_for(lambda s: len(rows_with(s, "data.dat")) == 1)
        fx.cmd("map 1")
        # Paused: nothing new is read until resumed.
        t.keys("Space")
        t.wait_for(lambda s: "PAUSED" not in s and len(rows_with(s, "data.dat")) == 2)

    def test_resize_and_too_small(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        t.resize(60, 20)
        s = t.wait_for("terminal too small")
        self.assertIn("60x20", s)
        self.assertNotIn("CATEGORY", s)
        t.resize(80, 24)
        s = t.wait_for("CATEGORY")
        self.assertIn("F10Quit", s.split("\n")[23])
        self.assertTrue(all(len(l) <= 80 for l in s.split("\n")))
        t.resize(79, 24)
        t.wait_for("terminal too small")
        # Narrow: the whole message, wrapped, none of it cut.
        for w, h in ((40, 12), (20, 10)):
            t.resize(w, h)
            s = t.wait_for("%dx%d" % (w, h))
            words = " ".join(s.split())
            self.assertIn("terminal too small: %dx%d, memtop needs 80x24 (q to quit)"
                          % (w, h), words)
        t.resize(120, 40)
        s = t.wait_for("CATEGORY")
        self.assertIn("F1Help", s.split("\n")[39])


class Mouse(TuiTestCase):

    def test_clicks_and_wheel(self):
        fx = self.layout(40)
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        t.wait_for("CATEGORY")
        self.assertTrue(t.mouse_mode())
        s = t.screen()
        line = s.split("\n")[3]
        t.click(line.index("2 Regions") + 2, 3)  # a tab
        s = t.wait_for("ADDRESS\u25b2")
        head = s.split("\n")[4]
        t.click(head.index("SIZE") + 1, 4)  # a column's title sorts
        t.wait_for("SIZE\u25bc")
        t.keys("Home")
        t.wheel(10, 10)
        t.wheel(10, 10)  # the wheel moves the selection three rows a turn
        t.click(10, 5 + 6)  # the selected row (the seventh): a click...
        t.wait_for("Permissions")  # ... opens it
        t.keys("Escape")
        t.wait_for("ADDRESS")
        bar = t.screen().split("\n")[29]
        t.click(bar.index("Quit"), 29)  # the function bar
        self.assertEqual(t.exit_code(), 0)

    def test_no_mouse(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid, "--no-mouse"])
        t.wait_for("CATEGORY")
        self.assertFalse(t.mouse_mode())


class Terminal(TuiTestCase):
    """The terminal is given back on every way out."""

    def test_q_restores(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        self.assertTrue(t.alternate_screen())
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        self.assertFalse(t.alternate_screen())
        self.assertNotIn("CATEGORY", t.screen())

    def test_f10_restores(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        t.keys("F10")
        self.assertEqual(t.exit_code(), 0)
        self.assertFalse(t.alternate_screen())

    def check_signal(self, sig):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        os.kill(t.memtop_pid(), sig)
        self.assertEqual(t.exit_code(), 0)
        self.assertFalse(t.alternate_screen())

    def test_sigterm_restores(self):
        self.check_signal(signal.SIGTERM)

    def test_sigint_restores(self):
        self.check_signal(signal.SIGINT)

    def test_sighup_restores(self):
        self.check_signal(signal.SIGHUP)

    def test_target_exit_keeps_last_state(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid, "-d", "0.3"])
        t.wait_for("CATEGORY")
        fx.exit_now()
        s = t.wait_for("has exited")
        self.assertIn("EXITED", s)
        self.assertIn("CATEGORY", s)  # the last state, still readable
        t.keys("2")
        t.wait_for("ADDRESS")
        self.assertTrue(t.alternate_screen())
        t.keys("q")
        self.assertEqual(t.exit_code(), 6)  # MT_EXIT_EXITED
        self.assertIn("exited", t.screen())

    def test_no_such_process_before_curses(self):
        t = self.tui(["-p", "999999999"])
        self.assertEqual(t.exit_code(), 3)
        self.assertFalse(t.alternate_screen())


class Looks(TuiTestCase):

    def test_colour_by_default(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid])
        t.wait_for("CATEGORY")
        self.assertRegex(t.screen(escapes=True), r"\x1b\[[0-9;]*(3[0-7]|4[0-7])[;m]")

    def check_monochrome(self, t):
        t.wait_for("CATEGORY")
        raw = t.screen(escapes=True)
        self.assertNotRegex(raw, r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|9[0-7])[;m]")
        self.assertRegex(raw, r"\x1b\[[0-9;]*7[;m]")  # reverse video still marks

    def test_no_color_option(self):
        fx = self.layout(1)
        self.check_monochrome(self.tui(["-p", fx.pid, "--no-color"]))

    def test_no_color_environment(self):
        fx = self.layout(1)
        self.check_monochrome(self.tui(["-p", fx.pid], env={"NO_COLOR": "1"}))

    def test_ascii_without_utf8_locale(self):
        fx = self.layout(1)
        t = self.tui(["-p", fx.pid], utf8=False)
        s = t.wait_for("CATEGORY")
        self.assertIn("I image", s)  # letters instead of blocks in the legend
        self.assertTrue(all(ord(c) < 128 for c in s), s)


class Picker(TuiTestCase):

    def test_pick_and_attach(self):
        fx = self.layout(1)
        t = self.tui([])
        s = t.wait_for("choose a process")
        self.assertIn("RSS\u25bc", s)
        t.keys("\\")
        t.type(str(fx.pid))
        t.keys("Enter")
        s = t.wait_for(lambda s: len([l for l in s.split("\n") if "fx_layout" in l]) == 1)
        # The header counts what the filter shows, of all.
        m = re.match(r"^(\d+) of (\d+) processes \(filter: %d\)" % fx.pid, s.split("\n")[1])
        self.assertIsNotNone(m, s)
        self.assertLess(int(m.group(1)), int(m.group(2)))
        t.keys("Enter")
        s = t.wait_for("CATEGORY")
        self.assertIn("PID %d" % fx.pid, s)
        # Esc goes back to the list.
        t.keys("Escape")
        t.wait_for("choose a process")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)


@unittest.skipUnless(mtlib.DEMO and os.access(mtlib.DEMO, os.X_OK), "no memtop-demo")
class Demo(TuiTestCase):

    def test_demo_leak_is_visible(self):
        t = self.tui(["--demo", "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("3")
        s = t.wait_for(lambda s: any("messages.dat" in l and "256 KiB \u00d7" in l and "+" in l
                                     for l in s.split("\n")))
        top = [l for l in s.split("\n") if re.match(r"^\s+\d+\s+[+-]?\d+", l)][0]
        self.assertIn("messages.dat", top)  # the leak tops the growth list
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_detail_scan_for_references(self):
        """s on a leaked window's detail: the drill-down's report under it."""
        t = self.tui(["--demo", "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type("messages.dat")
        t.keys("Enter", "Enter")
        t.wait_for("scan for references")
        t.keys("s")
        s = t.wait_for(lambda s: re.search(r"(?m)^References\s*$", s), timeout=60)
        self.assertNotIn("scan failed", s)
        self.assertIn("MMFSerializer", s)  # what holds the leaked window
        t.keys("q")  # memtop stops the demo, which removes its files
        self.assertEqual(t.exit_code(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
