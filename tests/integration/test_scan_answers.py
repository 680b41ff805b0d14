"""--refs names the holders right on the layouts real processes have.

Each fixture reproduces a case where the answer used to be wrong:
  static_tables_nopie  pointers in never-touched pages of a non-PIE
                       program's .rodata and .data (read from the file)
  heap_split           a [heap] in two mappings (fork, then growth)
  bss_neighbour        anonymous memory right after a library whose .bss
                       fits in its file pages (not the library's .bss)
  stack_cases          a word in a leaf's red zone (frame 0), a stripped
                       frame (an index, no name), a leader that called
                       pthread_exit, threads traced by another tracer
See each test's docstring for the others.
"""

import ctypes
import json
import os

import mtlib
from mtlib import addr


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
WALL = 0x40000000


class Tracer:
    """This test process as another debugger holding some threads."""

    def __init__(self, tids):
        self.tids = []
        for tid in tids:
            if _libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
                raise OSError(ctypes.get_errno(), "PTRACE_SEIZE %d" % tid)
            self.tids.append(tid)

    def release(self):
        for tid in self.tids:
            if _libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == 0:
                os.waitpid(tid, WALL)
                _libc.ptrace(PTRACE_DETACH, tid, None, None)
        self.tids = []


class Answers(mtlib.MemtopTestCase):

    def refs(self, fx, spec, *extra, pid=None):
        pid = pid or fx.pid
        res = self.run_ok(["-p", pid, "--refs", spec, "--json"] + list(extra))
        return json.loads(res.stdout)

    def test_nopie_static_tables(self):
        fx = self.fixture("static_tables_nopie")
        r = fx.ready
        rep = self.refs(fx, "%s+8192" % r["target"])
        by = {addr(x["addr"]): x for x in rep["refs"]}
        entry = addr(r["table"]) + 320000
        self.assertIn(entry, by, rep["refs"])
        self.assertEqual(by[entry]["symbol"], "g_ro_ptr_table")
        self.assertEqual(by[entry]["symbol_offset"], 320000)
        self.assertEqual(addr(by[entry]["value"]), addr(r["target"]) + 64)
        self.assertIn(addr(r["untouched"]), by)
        self.assertEqual(by[addr(r["untouched"])]["symbol"], "g_untouched")
        # Besides the two tables, only the fixture's own stack may hold a
        # copy (printf's spills, live or dead depending on where the
        # thread was when frozen): nothing else in the image or the heap.
        others = [x for x in rep["refs"] if x["tid"] is None]
        self.assertEqual(len(others), 2, rep["refs"])

    def test_heap_in_two_mappings(self):
        """Objects in either mapping are named, the heap is not corrupt."""
        fx = self.fixture("heap_split")
        r = fx.ready
        heaps = [m for m in mtlib.parse_maps(r["pid"]) if m["path"] == b"[heap]"]
        self.assertGreaterEqual(len(heaps), 2, "the fixture's heap is one mapping")
        rep = self.refs(fx, r["target"], pid=r["pid"])
        self.assertEqual(rep["walk_errors"], [])
        objs = {addr(x["object"]["start"]): x for x in rep["refs"] if x["object"]}
        self.assertIn(addr(r["before"]), objs, rep["refs"])
        self.assertIn(addr(r["after"]), objs, rep["refs"])
        self.assertEqual(objs[addr(r["after"])]["object"]["offset"], 16)
        self.assertTrue(objs[addr(r["after"])]["object"]["in_use"])
        # The census walks the same heap across its mappings: every
        # 100,000-byte block of the child counted, none called corrupt.
        res = self.run_ok(["-p", r["pid"], "--heap", "--leaks", "--json"])
        census = res.json_lines()[0]
        self.assertEqual(census["walk_errors"], [])
        big = sum(c["count"] for c in census["classes"]
                  if c["name"] is None and 100000 <= c["size"] < 100100)
        self.assertEqual(big, 40, census["classes"])
        self.assertEqual(len(census["arenas"]), 1)
        self.assertGreaterEqual(census["arenas"][0]["system"],
                                sum(m["end"] - m["start"] for m in heaps))

    def test_anon_after_library_without_bss(self):
        fx = self.fixture("bss_neighbour", mtlib.FIXTURES)
        r = fx.ready
        rep = self.reports(["-p", fx.pid, "--regions"], 1)[0]
        regions = rep["regions"]
        by_start = {addr(x["start"]): x for x in regions}
        self.assertEqual(by_start[addr(r["anon"])]["category"], "anon")
        # libc's .bss, the nameless rw-p region after it, is still libc's.
        libc = [i for i, x in enumerate(regions) if x["path"].endswith("/libc.so.6")]
        after = regions[libc[-1] + 1]
        self.assertEqual(after["path"], "")
        self.assertEqual(after["category"], "image", after)
        # A recording keeps where each .bss ends: the replay says the same.
        f = os.path.join(self.tempdir(), "bss.db")
        live = self.run_ok(["-p", fx.pid, "-b", "--json", "--regions", "-n", "1", "-w", f])
        replay = self.run_ok(["-r", f, "-b", "--json", "--regions"])
        self.assertEqual(replay.stdout, live.stdout)
        rep = replay.json_lines()[0]
        cats = {addr(x["start"]): x["category"] for x in rep["regions"]}
        self.assertEqual(cats[addr(r["anon"])], "anon")

    def stack_refs(self, exe, *args):
        fx = self.fixture(exe, *args)
        r = fx.ready
        rep = self.refs(fx, r["target"])
        on_stack = [x for x in rep["refs"] if x["tid"] == r["tid"]]
        self.assertEqual(len(on_stack), 1, rep["refs"])
        return fx, rep, on_stack[0]

    def test_red_zone_is_frame_0(self):
        """72 bytes below a leaf's sp: its own frame's word, not dead stack."""
        _, _, ref = self.stack_refs("stack_cases")
        self.assertEqual(ref["frame_index"], 0)
        self.assertEqual(ref["frame"], "leaf_hold")
        self.assertFalse(ref["dead_stack"])

    def test_frame_without_name_has_index(self):
        _, _, ref = self.stack_refs("stack_cases_stripped")
        self.assertIsNone(ref["frame"])
        self.assertEqual(ref["frame_index"], 0)

    def test_leader_called_pthread_exit(self):
        """A zombie leader while a thread runs: no 'exited', every read works."""
        fx, rep, ref = self.stack_refs("stack_cases", "--leader-exit")
        self.assertEqual(mtlib.proc_status(fx.pid)["State"][0], "Z")
        self.assertEqual(ref["frame"], "leaf_hold")
        self.assertTrue(any(x["symbol"] == "g_holder" for x in rep["refs"]))
        self.assertEqual(rep["unstopped_threads"], [])
        self.assertEqual(rep["threads_not_stopped"], 0)

    def test_thread_traced_by_another(self):
        """Said, with who traces it; exit 4 only when no thread stops."""
        fx = self.fixture("stack_cases")
        r = fx.ready
        tracer = Tracer([r["tid"]])
        self.addCleanup(tracer.release)
        rep = self.refs(fx, r["target"])
        self.assertTrue(rep["frozen"])
        self.assertEqual(rep["threads_not_stopped"], 1)
        with open("/proc/self/comm") as f:
            comm = f.read().strip()
        self.assertEqual(rep["unstopped_threads"], [
            {"tid": r["tid"], "reason": "traced by process %d (%s)" % (os.getpid(), comm)}])
        res = self.run_ok(["-p", fx.pid, "--refs", r["target"]])
        self.assertIn("warning: 1 thread ran during the scan", res.text)
        self.assertIn("thread %d: traced by process %d" % (r["tid"], os.getpid()), res.text)
        self.assertEqual(mtlib.unreleased(fx.pid), ["thread %d is traced by %d" % (
            r["tid"], os.getpid())])
        # Every thread held by another tracer: nothing can be stopped.
        tracer2 = Tracer([int(t) for t in os.listdir("/proc/%d/task" % fx.pid)
                          if int(t) != r["tid"]])
        self.addCleanup(tracer2.release)
        res = mtlib.run_memtop(["-p", fx.pid, "--refs", r["target"]])
        self.assertEqual(res.rc, 4, res)
        self.assertIn("another debugger", res.errtext)


if __name__ == "__main__":
    mtlib.main()
