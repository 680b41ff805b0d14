"""Thread stacks and glibc thread arenas, against fx_threads.

fx_threads starts threads that each malloc (so glibc gives each its own
arena, a 64 MiB aligned reservation) and then block in a system call; it
reports every thread's tid, stack bounds, a stack address and its malloc'ed
pointer.
"""

import os

import mtlib
from mtlib import addr, region_at, regions_in, category

ARENA = 64 * 1024 * 1024  # glibc's HEAP_MAX_SIZE on 64-bit


class ThreadsTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("fx_threads", 4)
        self.r = self.fx.ready
        # Two refreshes: the second must agree with the first.
        self.reps = self.reports(["-p", self.fx.pid, "--regions", "-d", "0.2"], 2)

    def test_thread_count(self):
        for rep in self.reps:
            self.assertEqual(rep["threads"], 1 + len(self.r["threads"]))

    def test_thread_stacks_have_their_tid(self):
        for rep in self.reps:
            for t in self.r["threads"]:
                what = "thread %d (blocked in %s)" % (t["tid"], t["blocked_in"])
                reg = region_at(rep, addr(t["local"]))
                self.assertIsNotNone(reg, what)
                self.assertEqual(reg["category"], "stack", "%s: %r" % (what, reg))
                self.assertEqual(reg["tid"], t["tid"], "%s: %r" % (what, reg))
                self.assertEqual(reg["path"], "")
                # The whole stack pthread reports is in that region...
                self.assertLessEqual(addr(reg["start"]), addr(t["stack_lo"]), what)
                self.assertGreaterEqual(addr(reg["end"]), addr(t["stack_hi"]), what)
                # ...and the guard page below it counts as stack too.
                guard = region_at(rep, addr(t["stack_lo"]) - 1)
                self.assertIsNotNone(guard, what)
                self.assertEqual(guard["perms"], "---p", "%s guard: %r" % (what, guard))
                self.assertEqual(guard["category"], "stack", "%s guard: %r" % (what, guard))

    def test_main_stack(self):
        rep = self.reps[-1]
        reg = region_at(rep, addr(self.r["main"]["local"]))
        self.assertEqual(reg["path"], "[stack]")
        self.assertEqual(reg["category"], "stack")
        self.assertEqual(reg["tid"], self.fx.pid)
        # Exactly one stack region per thread holds a tid, the guards aside.
        tids = sorted(x["tid"] for x in rep["regions"]
                      if x["category"] == "stack" and x["perms"] != "---p")
        want = sorted([self.fx.pid] + [t["tid"] for t in self.r["threads"]])
        self.assertEqual(tids, want)
        self.assertGreaterEqual(category(rep, "stack")["regions"], 1 + 2 * len(self.r["threads"]))

    def test_arenas_are_heap(self):
        rep = self.reps[-1]
        bases = set()
        for t in self.r["threads"]:
            p = addr(t["arena_ptr"])
            reg = region_at(rep, p)
            self.assertIsNotNone(reg)
            self.assertEqual(reg["category"], "heap", "arena of %d: %r" % (t["tid"], reg))
            self.assertIsNone(reg["tid"])
            # The arena's reserve (the PROT_NONE rest of its 64 MiB) is heap too.
            base = p & ~(ARENA - 1)
            bases.add(base)
            inside = regions_in(rep, base, base + ARENA)
            self.assertGreaterEqual(len(inside), 2, inside)
            for x in inside:
                self.assertEqual(x["category"], "heap", "arena at 0x%x: %r" % (base, x))
        self.assertEqual(len(bases), len(self.r["threads"]), "one arena per thread")
        # Committed apart from reserved: the arenas' 64 MiB each are mostly
        # reserve, so the heap's committed size is a small part of it.
        heap = [c for c in rep["categories"] if c["name"] == "heap"][0]
        self.assertGreaterEqual(heap["virtual"], len(bases) * ARENA)
        self.assertLess(heap["committed"], heap["virtual"] // 4, heap)
        main = region_at(rep, addr(self.r["main"]["heap_ptr"]))
        self.assertEqual((main["path"], main["category"]), ("[heap]", "heap"))


class StackShapeTest(mtlib.MemtopTestCase):
    """Stacks of threads whose stack pointer /proc cannot tell
    (docs/categories.md, "stack: thread stacks", by shape)."""

    def test_running_thread_stack_by_shape(self):
        fx = self.fixture("fx_threads", 2)
        spin = fx.cmd("spin")
        for rep in self.reports(["-p", fx.pid, "--regions", "-d", "0.2"], 3):
            reg = region_at(rep, addr(spin["local"]))
            self.assertEqual(reg["category"], "stack", reg)
            # Caught running: owner unknown (null in JSON); caught
            # preempted outside a system call: its tid.
            self.assertIn(reg["tid"], (None, spin["tid"]), reg)
            guard = region_at(rep, addr(spin["stack_lo"]) - 1)
            self.assertEqual((guard["perms"], guard["category"]), ("---p", "stack"), guard)
            self.assertEqual(rep["threads"], 4)

    def test_cached_stack_of_exited_thread_is_not_a_stack(self):
        fx = self.fixture("fx_threads", 2)
        gone = fx.cmd("join1")
        self.assertNotIn(str(gone["tid"]), os.listdir("/proc/%d/task" % fx.pid))
        for rep in self.reports(["-p", fx.pid, "--regions", "-d", "0.2"], 3):
            reg = region_at(rep, addr(gone["local"]))
            self.assertIsNotNone(reg, "glibc unmapped the stack: no stack cache?")
            self.assertEqual((reg["perms"], reg["category"], reg["tid"]),
                             ("rw-p", "anon", None), reg)
            guard = region_at(rep, addr(gone["stack_lo"]) - 1)
            self.assertEqual((guard["perms"], guard["category"]), ("---p", "reserved"), guard)
            # The live threads keep their stacks and tids.
            for t in fx.ready["threads"]:
                self.assertEqual(region_at(rep, addr(t["local"]))["tid"], t["tid"])


if __name__ == "__main__":
    mtlib.main()
