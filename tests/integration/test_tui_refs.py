"""The drill-down in the interactive screen, driven through tmux.

From a region's detail, s scans for pointers into it and lists who holds
them; Enter follows a holder, Esc steps back.  refs_classes builds
    g_communicator -> Communicator -> mmf::MMFSerializer -> view.dat
    Registry<Communicator> (heap) -> Communicator
(normal and stripped builds); refs_plant plants pointers in known places
and blocks a thread in block_here().  After every step the target must be
running again: no thread in a stop (t/T), no tracer.
"""

import os
import re
import signal
import unittest

import mtlib
from tuilib import Tui


def released(pid):
    """The target is running, not traced: every thread."""
    return not mtlib.unreleased(pid)


def stopped(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] in "tT"


def chain(screen):
    m = re.search(r"(?m)^Chain\s+(.*?)\s*$", screen)
    return m.group(1).split(" \u203a ") if m else None


def selected_holder(screen, holder):
    """A reference row whose HELD BY column names holder."""
    return any(re.match(r"^0x[0-9a-f]{12}\s+\+0x[0-9a-f]+ %s" % re.escape(holder), l)
               for l in screen.split("\n"))


class DrillTestCase(mtlib.MemtopTestCase):

    def tui(self, args, **kw):
        t = Tui(args, **kw)
        self.addCleanup(t.close)
        return t

    def open_detail(self, t, text):
        """The Regions view, the region whose row holds text, its detail."""
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type(text)
        t.keys("Enter", "Enter")
        t.wait_for("scan for references")

    def step(self, t, fx, key, expect):
        """Press key (s or Enter), wait for the list of the next step."""
        before = t.screen()
        t.keys(key)
        s = t.wait_for(lambda s: s != before and "Scanning" not in s and expect(s))
        self.assertTrue(released(fx.pid), "target left stopped after %s:\n%s" % (key, s))
        return s


class Chain(DrillTestCase):

    def walk(self, exe):
        fx = self.fixture(exe, self.tempdir())
        r = fx.ready
        t = self.tui(["-p", fx.pid, "-d", "0.5"], height=36)
        self.open_detail(t, "view.dat")

        s = self.step(t, fx, "s", lambda s: "References" in s and chain(s) == ["view.dat"])
        self.assertTrue(selected_holder(s, "mmf::MMFSerializer"), s)
        self.assertIn("object %s+0x8" % r["serializer"]["object"], s)
        self.assertRegex(s, r"stopped \d+ ms")
        self.assertIn("1 reference", s)

        s = self.step(t, fx, "Enter", lambda s: chain(s) == ["view.dat", "mmf::MMFSerializer"])
        self.assertRegex(s, r"Into\s+%s-" % r["serializer"]["object"])
        self.assertTrue(selected_holder(s, "Communicator"), s)

        s = self.step(t, fx, "Enter", lambda s: chain(s) == [
            "view.dat", "mmf::MMFSerializer", "Communicator"])
        self.assertTrue(selected_holder(s, "Registry<Communicator>"), s)
        self.assertIn("2 references", s)
        return fx, t, s

    def test_chain_to_the_global_and_back(self):
        fx, t, s = self.walk("refs_classes")
        self.assertTrue(selected_holder(s, "g_communicator+0x0"), s)
        # The cursor is on the first reference: the global, in the image.
        s = self.step(t, fx, "Enter", lambda s: chain(s) == [
            "view.dat", "mmf::MMFSerializer", "Communicator", "g_communicator"])
        self.assertRegex(s, r"Into\s+%s-0x[0-9a-f]+ \(8 B, image" % fx.ready["global"]["addr"])

        # Esc steps back one level: the list as it was, no rescan.
        t.keys("Escape")
        s = t.wait_for(lambda s: chain(s) == ["view.dat", "mmf::MMFSerializer", "Communicator"])
        self.assertTrue(selected_holder(s, "Registry<Communicator>"), s)
        t.keys("Down", "Down", "Enter")  # the Registry, past the heap's group row
        s = t.wait_for(lambda s: chain(s) and chain(s)[-1] == "Registry<Communicator>")
        self.assertRegex(s, r"Into\s+%s-" % fx.ready["registry"]["object"])
        self.assertTrue(released(fx.pid))
        for n in (3, 2, 1):
            t.keys("BSpace")
            t.wait_for(lambda s: chain(s) is not None and len(chain(s)) == n)
        t.keys("Escape")  # at the root: back to the region's detail
        s = t.wait_for(lambda s: "Permissions" in s and "Chain" not in s)
        self.assertIn("view.dat", s)
        self.assertTrue(released(fx.pid))

    def test_points_to_and_follow(self):
        """Below the holders, what the target points to; Enter follows one."""
        fx, t, s = self.walk("refs_classes")
        r = fx.ready
        self.assertIn("Points to (2)", s)
        self.assertRegex(s, r"(?m)^%s\s+from \+0x8 mmf::MMFSerializer" % r["serializer"]["object"])
        self.assertIn("vtable for Communicator", s)
        # group, global, group, registry, head, vtable, serializer_
        t.keys(*["Down"] * 5, "Enter")
        s = t.wait_for(lambda s: chain(s) == [
            "view.dat", "mmf::MMFSerializer", "Communicator", "mmf::MMFSerializer"])
        self.assertRegex(s, r"Into\s+%s-" % r["serializer"]["object"])
        self.assertTrue(released(fx.pid))

    def test_stripped_classes_by_rtti(self):
        fx, t, s = self.walk("refs_classes_stripped")
        self.assertNotIn("g_communicator", s)  # no symbols: the image's region
        self.assertTrue(released(fx.pid))

    def test_type_ahead(self):
        """Keys typed while a scan runs wait for it: s Enter Enter at once."""
        fx = self.fixture("refs_classes", self.tempdir())
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        self.open_detail(t, "view.dat")
        t.keys("s", "Enter", "Enter")
        s = t.wait_for(lambda s: chain(s) == [
            "view.dat", "mmf::MMFSerializer", "Communicator"])
        self.assertTrue(released(fx.pid), s)
        t.keys("F1")
        s = t.wait_for("follow: scan for the selected holder")
        self.assertIn("HELD BY", s)  # the screen's legend
        t.keys("Escape")
        t.wait_for("Chain")

    def test_rescan_and_quit(self):
        fx = self.fixture("refs_classes", self.tempdir())
        t = self.tui(["-p", fx.pid, "-d", "0.5"])
        self.open_detail(t, "view.dat")
        self.step(t, fx, "s", lambda s: chain(s) == ["view.dat"])
        s = self.step(t, fx, "s", lambda s: chain(s) == ["view.dat"] and
                      selected_holder(s, "mmf::MMFSerializer"))
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        self.assertTrue(released(fx.pid))


class Plant(DrillTestCase):

    def test_every_kind_of_holder(self):
        fx = self.fixture("refs_plant")
        r = fx.ready
        fx.cmd("corrupt")
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=110, height=50)
        self.open_detail(t, r["target"]["start"][2:])
        s = self.step(t, fx, "s", lambda s: "References" in s and "g_table" in s)
        self.assertIn("g_table+0x10", s)
        self.assertIn("g_target_holder+0x0", s)
        self.assertIn("object %s+0x8" % r["heap"][0]["object"], s)
        self.assertIn("mmapped chunk %s" % r["mmapped"]["object"], s)
        self.assertRegex(s, r"thread %d\s+frame #\d+ stack_holder\+0x" % r["stack"]["tid"])
        self.assertIn("+ 1 stale copy below the stack pointer", s)
        self.assertRegex(s, r"(?m)^\s+#\d+\s+block_here\+0x")  # the holder's backtrace
        # The corrupt chunk: the walk error, and the reference after it
        # without an object.
        self.assertRegex(s, r"walk stopped at 0x[0-9a-f]+ \(corrupt chunk\)")
        # Group rows: range, category, path.
        self.assertRegex(s, r"(?m)^0x[0-9a-f]{12}-0x[0-9a-f]{12}\s+heap 132 KiB\s+\[heap\]: \d")
        self.assertRegex(s, r"(?m)^0x[0-9a-f]{12}-0x[0-9a-f]{12}\s+stack .*\[stack:%d\]: 2"
                         % r["stack"]["tid"])

    def test_no_freeze_never_traces(self):
        fx = self.fixture("refs_plant")
        t = self.tui(["-p", fx.pid, "-d", "0.5", "--no-freeze"], width=110, height=50)
        self.open_detail(t, fx.ready["target"]["start"][2:])
        s = self.step(t, fx, "s", lambda s: "g_table" in s)
        self.assertIn("target running (--no-freeze)", s)
        # Not unwound without a freeze: the thread, no frame.
        self.assertRegex(s, r"thread %d\s+stack\+0x" % fx.ready["stack"]["tid"])

    def test_target_killed_during_the_scan(self):
        """The target dies while frozen: the step fails and says why, the
        screen stays on the detail, memtop goes on and quits cleanly."""
        fx = self.fixture("refs_plant")
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=110, height=50,
                     env={"MEMTOP_TEST_FREEZE_HOLD_MS": "2000"})
        self.open_detail(t, fx.ready["target"]["start"][2:])
        t.keys("s")
        t.wait_for("Esc cancels")
        mtlib.wait_until(lambda: stopped(fx.pid), what="the freeze")
        os.kill(fx.pid, signal.SIGKILL)
        # The failure, or at once the refresh that finds the target gone.
        s = t.wait_for(lambda s: "scan failed" in s or "has exited" in s)
        self.assertNotIn("Chain", s)
        self.assertIn("Permissions", s)  # still the region's detail
        t.wait_for("EXITED")
        t.keys("q")
        self.assertIn(t.exit_code(), (0, 6))

    def test_cancel_releases_the_target(self):
        """Esc while the scan runs: cut short, target running, "cancelled".
        The freeze is held (the testing hook of docs/freeze.md) so that the
        Esc is there when the scan reads the keyboard after its first chunk."""
        fx = self.fixture("refs_plant")
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=110, height=50,
                     env={"MEMTOP_TEST_FREEZE_HOLD_MS": "3000"})
        self.open_detail(t, fx.ready["target"]["start"][2:])
        t.keys("s")
        t.wait_for("Esc cancels")
        mtlib.wait_until(lambda: stopped(fx.pid), what="the freeze")
        t.keys("Escape")
        s = t.wait_for("cancelled")
        self.assertIn("the list is incomplete", s)
        self.assertTrue(released(fx.pid), s)
        # The list is what was found before the cut, attribution skipped.
        self.assertEqual(chain(s), ["[shared 1 MiB]"])


class Backtraces(DrillTestCase):

    def test_every_thread_unwound(self):
        fx = self.fixture("refs_plant")
        tid = fx.ready["stack"]["tid"]
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=100, height=50)
        t.wait_for("CATEGORY")
        t.keys("6")
        t.wait_for("STACK REGION")
        self.assertIn("bBtrace", t.screen())  # in the function bar
        t.keys("b")
        s = t.wait_for("Backtraces")
        self.assertTrue(released(fx.pid), s)
        self.assertRegex(s, r"\d+ threads, \d+ distinct stacks?, as of \d\d:\d\d:\d\d, "
                            r"target stopped \d+ ms")
        for task in os.listdir("/proc/%d/task" % fx.pid):
            self.assertRegex(s, r"thread %s\b|threads with this stack: [\d ]*\b%s\b"
                             % (task, task))
        block = s[s.index("thread %d" % tid):]
        funcs = re.findall(r"(?m)^\s+#\d+\s+(\S+?)\+0x", block)
        i = funcs.index("block_here")
        self.assertEqual(funcs[i:i + 3], ["block_here", "stack_holder", "worker"], block)
        # Again, then back to the view.
        t.keys("b")
        t.wait_for("Backtraces")
        self.assertTrue(released(fx.pid))
        t.keys("Escape")
        t.wait_for(lambda s: "STACK REGION" in s and "Backtraces" not in s)

    def test_identical_stacks_grouped_with_modules(self):
        """fx_threads 8: threads i and i+4 block in the same call; each
        such stack is shown once with its count, frames name their module."""
        fx = self.fixture("fx_threads", 8)
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=120, height=60)
        t.wait_for("CATEGORY")
        t.keys("6", "b")
        s = t.wait_for("Backtraces")
        self.assertTrue(released(fx.pid), s)
        self.assertRegex(s, r"9 threads, 5 distinct stacks")
        groups = re.findall(r"2 threads with this stack: (\d+) (\d+)", s)
        self.assertEqual(len(groups), 4, s)
        by_index = {th["tid"]: i for i, th in enumerate(fx.ready["threads"])}
        for a, b in groups:
            self.assertEqual(by_index[int(a)] % 4, by_index[int(b)] % 4)
        self.assertRegex(s, r"\+0x[0-9a-f]+ \(libc\.so\.6\)")
        self.assertRegex(s, r"thread_main\+0x[0-9a-f]+ \(fx_threads\)")

    def test_not_with_no_freeze(self):
        fx = self.fixture("refs_plant")
        t = self.tui(["-p", fx.pid, "-d", "0.5", "--no-freeze"])
        t.wait_for("CATEGORY")
        t.keys("6", "b")
        t.wait_for("not with --no-freeze")
        self.assertTrue(released(fx.pid))


@unittest.skipUnless(mtlib.DEMO and os.access(mtlib.DEMO, os.X_OK), "no memtop-demo")
class Demo(DrillTestCase):

    def test_leaked_window_to_its_holders(self):
        t = self.tui(["--demo", "-d", "0.5"])
        self.open_detail(t, "messages.dat")
        t.keys("s")
        s = t.wait_for(lambda s: chain(s) == ["messages.dat"] and "Scanning" not in s)
        self.assertTrue(selected_holder(s, "mmf::MMFSerializer"), s)
        t.keys("Enter")
        s = t.wait_for(lambda s: chain(s) == ["messages.dat", "mmf::MMFSerializer"])
        self.assertTrue(selected_holder(s, "Communicator"), s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)



class Freed(DrillTestCase):

    def test_freed_copies_counted_not_listed(self):
        """refs_freed: per arena one live holder, and ten stale copies in
        tcache and fastbin chunks counted in one row, never listed."""
        fx = self.fixture("refs_freed")
        r = fx.ready
        t = self.tui(["-p", fx.pid, "-d", "0.5"], width=110, height=50)
        self.open_detail(t, r["target"]["start"][2:])
        s = self.step(t, fx, "s", lambda s: "References" in s and "freed chunks" in s)
        for p in r["live"]:
            self.assertIn("object %s+0x10 (40 B)" % p["object"], s)
        for k in ("tcache", "fastbin"):
            for p in r[k]:
                self.assertNotIn(p["addr"][2:], s)
        self.assertEqual(s.count("+ 10 stale copies in freed chunks"), 2, s)
        self.assertNotIn("freed: tcache", s)


if __name__ == "__main__":
    mtlib.main()
