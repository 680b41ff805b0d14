"""memtop --refs: every planted reference found, named right, none invented.

refs_plant stores pointers into its TARGET mapping in known places only
(main-arena objects, a thread-arena object, an mmapped chunk, a .bss and a
.data global, a local on a blocked thread's stack); refs_classes builds a
chain of C++ objects (normal and stripped builds).  See the fixtures.
"""

import os

import mtlib
from mtlib import addr


def extra(rep, planted):
    """For failure messages: the refs found beyond the planted ones."""
    return [r for r in rep["refs"] if addr(r["addr"]) not in planted]


def refs_by_addr(rep):
    return {addr(r["addr"]): r for r in rep["refs"]}


class RefsPlantTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("refs_plant")
        self.r = self.fx.ready
        self.lo = addr(self.r["target"]["start"])
        self.hi = addr(self.r["target"]["end"])

    def planted(self):
        r = self.r
        return {addr(h["addr"]) for h in r["heap"]} | {
            addr(r["arena"]["addr"]), addr(r["mmapped"]["addr"]),
            addr(r["global"]["addr"]), addr(r["data"]["addr"]), addr(r["stack"]["addr"]),
            addr(r["stale"]["addr"]), addr(r["sparse"]["addr"])}

    def refs(self, spec, *extra):
        res = self.run_ok(["-p", self.fx.pid, "--refs", spec, "--json"] + list(extra))
        reps = res.json_lines()
        self.assertEqual(len(reps), 1, res)
        return reps[0]

    def assert_released(self):
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])

    def test_all_planted_found_none_invented(self):
        rep = self.refs(self.r["target"]["start"])
        self.assertEqual(addr(rep["target"]["start"]), self.lo)
        self.assertEqual(addr(rep["target"]["end"]), self.hi)
        self.assertEqual(rep["target"]["category"], "shared")
        got = refs_by_addr(rep)
        self.assertEqual(set(got), self.planted(), extra(rep, self.planted()))
        self.assertEqual(rep["refs_total"], len(self.planted()))
        self.assertTrue(rep["frozen"])
        self.assertEqual(rep["threads_not_stopped"], 0)
        self.assertGreater(rep["stopped_ms"], 0)
        self.assertGreater(rep["scanned_bytes"], self.hi - self.lo)
        self.assertEqual(rep["walk_errors"], [])
        for a, ref in got.items():
            self.assertTrue(self.lo <= addr(ref["value"]) < self.hi, ref)
            reg = ref["region"]
            self.assertTrue(addr(reg["start"]) <= a < addr(reg["end"]), ref)
        self.assert_released()

    def test_heap_objects(self):
        got = refs_by_addr(self.refs(self.r["target"]["start"]))
        for h in self.r["heap"]:
            ref = got[addr(h["addr"])]
            self.assertEqual(ref["region"]["category"], "heap")
            self.assertEqual(ref["region"]["path"], "[heap]")
            self.assertEqual(ref["object"]["start"], h["object"], ref)
            self.assertGreaterEqual(ref["object"]["size"], self.r["object_size"])
            self.assertEqual(ref["object"]["offset"], addr(h["addr"]) - addr(h["object"]))
            self.assertTrue(ref["object"]["in_use"])
            self.assertIsNone(ref["object"]["class"])
            self.assertIsNone(ref["symbol"])
            self.assertIsNone(ref["tid"])

    def test_thread_arena_object(self):
        got = refs_by_addr(self.refs(self.r["target"]["start"]))
        ref = got[addr(self.r["arena"]["addr"])]
        self.assertEqual(ref["region"]["category"], "heap")
        self.assertEqual(ref["region"]["path"], "")
        self.assertEqual(addr(ref["region"]["start"]) % (64 << 20), 0)
        self.assertEqual(ref["object"]["start"], self.r["arena"]["object"], ref)

    def test_mmapped_chunk(self):
        got = refs_by_addr(self.refs(self.r["target"]["start"]))
        ref = got[addr(self.r["mmapped"]["addr"])]
        self.assertEqual(ref["object"]["start"], self.r["mmapped"]["object"], ref)
        self.assertTrue(ref["object"]["mmapped"])
        self.assertGreaterEqual(ref["object"]["size"], 512 * 1024)

    def test_globals(self):
        got = refs_by_addr(self.refs(self.r["target"]["start"]))
        g = got[addr(self.r["global"]["addr"])]
        self.assertEqual(g["symbol"], "g_target_holder", g)
        self.assertEqual(g["symbol_offset"], 0)
        self.assertIsNone(g["object"])
        d = got[addr(self.r["data"]["addr"])]
        self.assertEqual(d["symbol"], "g_table", d)
        self.assertEqual(d["symbol_offset"], self.r["data"]["offset"])
        self.assertTrue(g["module"].endswith("/refs_plant"), g)

    def test_stack_frame(self):
        rep = self.refs(self.r["target"]["start"])
        got = refs_by_addr(rep)
        ref = got[addr(self.r["stack"]["addr"])]
        self.assertEqual(ref["region"]["category"], "stack")
        self.assertEqual(ref["tid"], self.r["stack"]["tid"])
        self.assertEqual(ref["frame"], self.r["stack"]["func"], ref)
        self.assertGreaterEqual(ref["frame_index"], 1)
        self.assertFalse(ref["dead_stack"])
        # The copy below the blocked thread's sp: dead stack, no frame.
        stale = got[addr(self.r["stale"]["addr"])]
        self.assertEqual(stale["tid"], self.r["stale"]["tid"])
        self.assertTrue(stale["dead_stack"], stale)
        self.assertIsNone(stale["frame"])
        # The holding thread's backtrace: the frame index points into it.
        stacks = {s["tid"]: s for s in rep["stacks"]}
        self.assertEqual(set(stacks), {self.r["stack"]["tid"]})
        funcs = [f["func"] for f in stacks[self.r["stack"]["tid"]]["frames"]]
        self.assertEqual(funcs[ref["frame_index"]], "stack_holder")
        i = funcs.index("block_here")
        self.assertEqual(funcs[i:i + 3], ["block_here", "stack_holder", "worker"], funcs)
        sps = [addr(f["sp"]) for f in stacks[self.r["stack"]["tid"]]["frames"]]
        self.assertEqual(sps, sorted(sps))
        k = ref["frame_index"]
        self.assertTrue(sps[k] <= addr(ref["addr"]) < sps[k + 1])

    def test_sparse_reservation(self):
        rep = self.refs(self.r["target"]["start"])
        ref = refs_by_addr(rep)[addr(self.r["sparse"]["addr"])]
        sp = self.r["sparse"]
        self.assertEqual(ref["region"]["category"], "anon")
        self.assertEqual(ref["region"]["start"], sp["start"])
        self.assertEqual(ref["offset"], addr(sp["addr"]) - addr(sp["start"]))
        self.assertIsNone(ref["object"])  # not a malloc chunk
        self.assertIsNone(ref["symbol"])
        self.assertIsNone(ref["tid"])
        release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        if release >= (6, 7):
            # PAGEMAP_SCAN: the untouched 64 GiB were not read.
            self.assertGreaterEqual(rep["absent_bytes"], sp["size"] - (1 << 20))
            self.assertLess(rep["scanned_bytes"], 1 << 30)

    def test_range_forms_agree(self):
        a = self.refs(self.r["target"]["start"])
        b = self.refs("%s-%s" % (self.r["target"]["start"], self.r["target"]["end"]))
        c = self.refs("%s+%d" % (self.r["target"]["start"], self.hi - self.lo))
        d = self.refs("%d-%d" % (self.lo, self.hi))
        for rep in (b, c, d):
            self.assertEqual(set(refs_by_addr(rep)), set(refs_by_addr(a)))

    def test_sub_range_selects_values(self):
        # Only heap[0] points at target+0x100.
        rep = self.refs("0x%x+1" % (self.lo + 0x100))
        self.assertEqual(set(refs_by_addr(rep)), {addr(self.r["heap"][0]["addr"])})
        # Nothing points at the second half.
        rep = self.refs("0x%x-0x%x" % (self.lo + 0x80000, self.hi))
        self.assertEqual(rep["refs"], [])

    def test_no_freeze(self):
        rep = self.refs(self.r["target"]["start"], "--no-freeze")
        self.assertFalse(rep["frozen"])
        self.assertIsNone(rep["stopped_ms"])
        got = refs_by_addr(rep)
        self.assertEqual(set(got), self.planted(), extra(rep, self.planted()))
        ref = got[addr(self.r["stack"]["addr"])]
        self.assertEqual(ref["tid"], self.r["stack"]["tid"])
        self.assertIsNone(ref["frame"])  # unwinding needs the thread stopped
        self.assertEqual(rep["stacks"], [])
        self.assertFalse(ref["dead_stack"])
        # The sp read from /proc for the blocked thread still tells dead stack.
        self.assertTrue(got[addr(self.r["stale"]["addr"])]["dead_stack"])
        self.assertEqual(got[addr(self.r["global"]["addr"])]["symbol"], "g_target_holder")
        self.assert_released()

    def test_text_report(self):
        res = self.run_ok(["-p", self.fx.pid, "--refs", self.r["target"]["start"]])
        t = res.text
        self.assertIn("%d references" % len(self.planted()), t)
        self.assertIn("g_target_holder+0x0", t)
        self.assertIn("g_table+0x10", t)
        self.assertIn("thread %d frame #" % self.r["stack"]["tid"], t)
        self.assertIn("stack_holder+0x", t)
        self.assertIn("+ 1 stale copy below the stack pointer (dead stack", t)
        self.assertNotIn(self.r["stale"]["addr"], t)
        self.assertIn("backtrace of thread %d:" % self.r["stack"]["tid"], t)
        self.assertIn("object %s+0x8" % self.r["heap"][0]["object"], t)
        self.assertIn("mmapped chunk %s+0x1000" % self.r["mmapped"]["object"], t)
        self.assertIn("[heap]: 3", t)
        self.assert_released()

    def test_corrupt_chunk_stops_walk(self):
        ans = self.fx.cmd("corrupt")
        rep = self.refs(self.r["target"]["start"])
        self.assertEqual(len(rep["walk_errors"]), 1, rep["walk_errors"])
        self.assertIn("walk stopped at %s (corrupt chunk)" % ans["chunk"], rep["walk_errors"][0])
        got = refs_by_addr(rep)
        self.assertEqual(set(got), self.planted(), extra(rep, self.planted()))
        # Chunks before the bad one are still found; the one after is not.
        for h in self.r["heap"][:2]:
            self.assertEqual(got[addr(h["addr"])]["object"]["start"], h["object"])
        behind = got[addr(self.r["heap"][2]["addr"])]
        self.assertIsNone(behind["object"])
        self.assertEqual(behind["region"]["category"], "heap")

    def test_unmapped_addr(self):
        res = mtlib.run_memtop(["-p", self.fx.pid, "--refs", "0x10"])
        self.assertEqual(res.rc, 2, res)
        self.assertIn("0x10 is not mapped", res.errtext)
        self.assert_released()

    def test_unmapped_range_is_fine(self):
        rep = self.refs("0x6b7c8d9e0000+0x1000")
        self.assertEqual(rep["refs"], [])
        self.assertIsNone(rep["target"]["category"])

    def test_bad_specs(self):
        for spec in ["zz", "0x", "0x10-0x5", "0x10-0x10", "5+0", "12abc", "0x10-",
                     "-5", "0x1+0xffffffffffffffff", "99999999999999999999999", "010x"]:
            res = mtlib.run_memtop(["-p", self.fx.pid, "--refs", spec])
            self.assertEqual(res.rc, 2, "%s: %r" % (spec, res))
            self.assertIn("bad TARGET", res.errtext, spec)
        self.assert_released()

    def test_no_such_process(self):
        res = mtlib.run_memtop(["-p", "999999999", "--refs", "0x1000"])
        self.assertNotEqual(res.rc, 0)
        self.assertIn(res.rc, (2, 3), res)

    def test_target_exits_during_the_run(self):
        # Held inside the freeze (testing hook), the target is killed: memtop
        # lets go and reports that it exited.
        env = dict(os.environ, MEMTOP_TEST_FREEZE_HOLD_MS="3000")
        m = mtlib._popen([mtlib.MEMTOP, "-p", str(self.fx.pid), "--refs",
                          self.r["target"]["start"]], env=env,
                         stdout=mtlib.subprocess.PIPE, stderr=mtlib.subprocess.PIPE)
        mtlib.wait_until(lambda: mtlib.proc_status(self.fx.pid)["TracerPid"] != "0",
                         what="memtop to attach")
        self.fx.proc.kill()
        out, err = m.communicate(timeout=30)
        self.assertEqual(m.returncode, 6, err)
        self.assertIn(b"exited", err)


class RefsClassesTest(mtlib.MemtopTestCase):
    """Class names from _ZTV symbols, and from RTTI in the stripped build."""

    def check(self, name, stripped):
        fx = self.fixture(name, self.tempdir())
        r = fx.ready

        def refs(lo, hi):
            res = self.run_ok(["-p", fx.pid, "--refs", "0x%x-0x%x" % (lo, hi), "--json"])
            return res.json_lines()[0]

        view = refs(addr(r["view"]["start"]), addr(r["view"]["end"]))
        self.assertEqual(view["target"]["category"], "file")
        self.assertEqual(len(view["refs"]), 1, view)
        ref = view["refs"][0]
        ser = r["serializer"]
        self.assertEqual(ref["addr"], ser["addr"])
        self.assertEqual(ref["object"]["start"], ser["object"])
        self.assertEqual(ref["object"]["class"], "mmf::MMFSerializer")

        # Who holds the serializer?  The Communicator.
        lo = addr(ser["object"])
        rep = refs(lo, lo + ser["size"])
        self.assertEqual(len(rep["refs"]), 1, rep)
        com = r["communicator"]
        self.assertEqual(rep["refs"][0]["addr"], com["addr"])
        self.assertEqual(rep["refs"][0]["object"]["start"], com["object"])
        self.assertEqual(rep["refs"][0]["object"]["class"], "Communicator")

        # Who holds the Communicator?  The global and the registry.
        lo = addr(com["object"])
        rep = refs(lo, lo + com["size"])
        got = refs_by_addr(rep)
        reg, glob = r["registry"], r["global"]
        self.assertEqual(set(got), {addr(reg["addr"]), addr(glob["addr"])}, rep)
        self.assertEqual(got[addr(reg["addr"])]["object"]["class"], "Registry<Communicator>")
        g = got[addr(glob["addr"])]
        self.assertIsNone(g["object"])
        self.assertEqual(g["region"]["category"], "image")
        if stripped:
            self.assertIsNone(g["symbol"])  # no .symtab, not in .dynsym
        else:
            self.assertEqual(g["symbol"], glob["name"])
            self.assertEqual(g["symbol_offset"], 0)

    def test_classes(self):
        self.check("refs_classes", False)

    def test_classes_stripped(self):
        self.check("refs_classes_stripped", True)


class RefsPointsToTest(mtlib.MemtopTestCase):
    """What a small target points to: its fields, attributed as holders are."""

    def test_points_to(self):
        fx = self.fixture("refs_classes", self.tempdir())
        r = fx.ready

        def refs(obj, *extra):
            lo = addr(r[obj]["object"])
            return self.run_ok(["-p", fx.pid, "--refs", "0x%x+%d" % (lo, r[obj]["size"])]
                               + list(extra))

        def points_to(obj):
            rep = refs(obj, "--json").json_lines()[0]
            self.assertIsNotNone(rep["points_to"], rep)
            return {p["offset"]: p for p in rep["points_to"]}

        # Registry<Communicator>: its vtable, then item_ -> the Communicator.
        got = points_to("registry")
        self.assertEqual(set(got), {0, 8}, got)
        self.assertEqual(got[0]["region"]["category"], "image")
        self.assertEqual(got[0]["symbol"], "vtable for Registry<Communicator>")
        self.assertEqual(got[0]["symbol_offset"], 16)
        self.assertIsNone(got[0]["object"])
        com = got[8]
        self.assertEqual(com["value"], r["communicator"]["object"])
        self.assertEqual(com["object"]["start"], r["communicator"]["object"])
        self.assertEqual(com["object"]["offset"], 0)
        self.assertEqual(com["object"]["class"], "Communicator")
        self.assertTrue(com["object"]["in_use"])

        # Communicator: serializer_ -> the MMFSerializer.
        got = points_to("communicator")
        self.assertEqual(got[8]["object"]["start"], r["serializer"]["object"])
        self.assertEqual(got[8]["object"]["class"], "mmf::MMFSerializer")

        # MMFSerializer: view_ -> the start of the mapped file.
        got = points_to("serializer")
        self.assertEqual(got[8]["value"], r["view"]["start"])
        self.assertEqual(got[8]["region"]["category"], "file")
        self.assertIsNone(got[8]["object"])

        text = refs("registry").stdout.decode()
        self.assertIn("Points to (2)", text)
        self.assertIn("+0x8 -> %s" % r["communicator"]["object"], text)
        self.assertIn("Communicator", text.split("Points to")[1])

        # A target above 64 KiB: not read.
        v = r["view"]
        rep = self.run_ok(["-p", fx.pid, "--refs", "%s-%s" % (v["start"], v["end"]),
                           "--json"]).json_lines()[0]
        self.assertIsNone(rep["points_to"])


if __name__ == "__main__":
    mtlib.main()
