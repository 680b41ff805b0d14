"""memtop --heap [--leaks]: the census of a heap whose truth is known.

heap_census (and its stripped build, named through RTTI only) sets up
polymorphic objects reachable from a global, a heap array and a stack,
leaked ones (single, and a list whose head only is unreferenced), buffers
shared by two Events, a checkerboard-fragmented main arena, two thread
arenas (one spanning several heaps) and mmapped chunks, then prints
mallinfo2() and allocates nothing more.  See the fixture.
"""

import os
import re
import shutil
import sqlite3

import mtlib
from mtlib import addr

NAMED = ("Widget", "shapes::Gadget", "Sprocket", "Event", "Leaky", "LeakNode", "ThreadObj",
         "Holder")


def rollup(pid):
    """Rss, Anonymous and Swap of /proc/PID/smaps_rollup, in kB."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Anonymous", "Swap"):
                out[k] = int(v.split()[0])
    return out


class HeapCensusTest(mtlib.MemtopTestCase):
    fixture_name = "heap_census"

    def setUp(self):
        super().setUp()
        self.fx = self.fixture(self.fixture_name)
        self.r = self.fx.ready

    def heap(self, *extra):
        res = self.run_ok(["-p", self.fx.pid, "--heap", "--json"] + list(extra))
        reps = res.json_lines()
        self.assertEqual(len(reps), 1, res)
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])
        return reps[0]

    def classes(self, rep):
        return {c["name"]: c for c in rep["classes"] if c["name"]}

    def test_class_counts_exact(self):
        rep = self.heap()
        self.assertEqual(rep["pid"], self.fx.pid)
        self.assertEqual(rep["walk_errors"], [])
        self.assertEqual(rep["allocator"], "glibc")
        self.assertGreater(rep["stopped_ms"], 0)
        got = self.classes(rep)
        for name, n in self.r["counts"].items():
            self.assertIn(name, got, sorted(got))
            self.assertEqual(got[name]["count"], n, got[name])
            self.assertEqual(got[name]["size"], None)
            self.assertEqual(got[name]["delta_count"], 0)
        self.assertEqual(set(got), set(NAMED), sorted(got))
        board = [c for c in rep["classes"] if c["name"] is None and c["size"] == 1000]
        self.assertEqual(len(board), 1)
        self.assertEqual(board[0]["count"], self.r["board"]["count"])
        self.assertEqual(board[0]["bytes"], 1000 * self.r["board"]["count"])
        self.assertEqual(sum(c["count"] for c in rep["classes"]), rep["chunks_in_use"])

    def test_agrees_with_mallinfo2(self):
        rep = self.heap()
        mi = self.r["mallinfo2"]
        arenas = rep["arenas"]
        overhead = sum(a["overhead"] for a in arenas)
        tcache = sum(a["tcache"] for a in arenas)
        self.assertEqual(sum(a["system"] for a in arenas), mi["arena"])
        self.assertEqual(rep["in_use_bytes"] + rep["free_bytes"], mi["arena"] - overhead)
        self.assertEqual(rep["mmapped_bytes"], mi["hblkhd"])
        self.assertEqual(rep["mmapped_chunks"], mi["hblks"])
        self.assertEqual(rep["in_use_bytes"], mi["uordblks"] - tcache - overhead)
        self.assertEqual(rep["free_bytes"] - tcache, mi["fordblks"])
        self.assertGreater(tcache, 0)
        for a in arenas:
            self.assertEqual(a["in_use"] + a["free"] + a["overhead"], a["system"], a)
            self.assertEqual(a["bins"] + a["tcache"] + a["fastbins"] + a["top"], a["free"])

    def test_arenas_and_fragmentation(self):
        rep = self.heap()
        kinds = [a["kind"] for a in rep["arenas"]]
        self.assertEqual(kinds.count("main"), 1)
        self.assertEqual(kinds.count("thread"), 2)
        main = [a for a in rep["arenas"] if a["kind"] == "main"][0]
        threads = [a for a in rep["arenas"] if a["kind"] == "thread"]
        self.assertEqual(sorted(a["heaps"] for a in threads), [1, 2])
        # The checkerboard: 1,000 holes of 1,008 bytes between chunks in use.
        # (the last hole may merge into the top chunk, a few go to tcache)
        self.assertGreaterEqual(main["free_chunks"], self.r["board"]["count"] - 8)
        self.assertEqual(main["largest_free"], 1008)
        self.assertGreater(main["fragmentation"], 0.3)
        big = max(threads, key=lambda a: a["system"])
        self.assertLess(big["fragmentation"], 0.01)
        for a in rep["arenas"]:
            addr(a["start"])
            self.assertAlmostEqual(a["fragmentation"],
                                   (a["free"] - a["top"]) / a["system"], places=3)

    def test_leaks(self):
        rep = self.heap("--leaks")
        got = self.classes(rep)
        for name in NAMED:
            want = self.r["counts"][name] if name in ("Leaky", "LeakNode") else 0
            self.assertEqual(got[name]["leaked"], want, got[name])
        groups = {g["name"]: g for g in rep["leaks"]["groups"] if g["name"]}
        self.assertEqual(set(groups), {"Leaky", "LeakNode"}, rep["leaks"])
        self.assertEqual(groups["Leaky"]["count"], len(self.r["leaky"]))
        self.assertEqual(groups["Leaky"]["unreferenced"], len(self.r["leaky"]))
        for e in groups["Leaky"]["examples"]:
            self.assertIn(e, self.r["leaky"])
        # The list: ten nodes leaked, its head the one unreferenced.
        self.assertEqual(groups["LeakNode"]["count"], len(self.r["nodes"]))
        self.assertEqual(groups["LeakNode"]["unreferenced"], 1)
        self.assertEqual(groups["LeakNode"]["examples"][0], self.r["nodes"][0])
        for e in groups["LeakNode"]["examples"]:
            self.assertIn(e, self.r["nodes"])
        leaks = rep["leaks"]
        self.assertEqual(leaks["count"], sum(g["count"] for g in leaks["groups"]))
        self.assertEqual(leaks["unreferenced_count"],
                         sum(g["unreferenced"] for g in leaks["groups"]))
        self.assertEqual(leaks["threads"], 3)

    def test_json_keys(self):
        """The keys the issue names, with their types (docs/json.md)."""
        rep = self.heap("--leaks")
        for k in ("pid", "time", "stopped_ms", "seconds", "in_use_bytes", "free_bytes",
                  "mmapped_bytes", "chunks_in_use", "arenas", "classes", "leaks", "shared",
                  "walk_errors"):
            self.assertIn(k, rep)
        for a in rep["arenas"]:
            self.assertLessEqual({"kind", "start", "system", "in_use", "free", "top",
                                  "largest_free", "free_chunks", "fragmentation"}, set(a))
            self.assertIn(a["kind"], ("main", "thread"))
        for c in rep["classes"]:
            self.assertLessEqual({"name", "size", "count", "bytes", "delta_count",
                                  "delta_bytes", "leaked"}, set(c))
            self.assertTrue((c["name"] is None) != (c["size"] is None), c)
        self.assertLessEqual({"count", "bytes", "unreferenced_count", "groups"},
                             set(rep["leaks"]))
        for g in rep["leaks"]["groups"]:
            self.assertLessEqual({"name", "size", "count", "bytes", "examples"}, set(g))
            for e in g["examples"]:
                addr(e)
        for sh in rep["shared"]:
            addr(sh["chunk"])
            self.assertIn("class", sh)
            for h in sh["holders"]:
                addr(h["addr"])
                self.assertLessEqual({"addr", "class", "offset"}, set(h))
        self.assertNotIn("leaked", self.heap()["classes"][0])

    def test_patterns(self):
        """With --leaks, buffers are named by the shape of what points to
        them: the fixture's vectors and strings (docs/heap.md)."""
        got = self.classes(self.heap("--leaks"))
        self.assertGreaterEqual(got["std::vector buffer"]["count"], 3)
        self.assertGreaterEqual(got["std::string body"]["count"], 2)
        self.assertEqual(got["std::vector buffer"]["leaked"], 0)
        for name, n in self.r["counts"].items():
            self.assertEqual(got[name]["count"], n)

    def test_node_patterns(self):
        """std::list and std::map/std::set nodes are named by their links,
        checked against their neighbours' (docs/heap.md): the fixture's
        lists (sentinel in .bss, inside a heap object, on the stack), map
        and set nodes exactly, none leaked; its Pairs, whose first two words
        point at other chunks' starts without being linked back, stay
        unnamed."""
        rep = self.heap("--leaks")
        got = self.classes(rep)
        for name, n in self.r["patterns"].items():
            self.assertIn(name, got, sorted(got))
            self.assertEqual(got[name]["count"], n, got[name])
            self.assertEqual(got[name]["leaked"], 0, got[name])
        pairs = [c for c in rep["classes"]
                 if c["name"] is None and c["size"] == self.r["pairs"]["size"]]
        self.assertEqual(len(pairs), 1, rep["classes"])
        self.assertEqual(pairs[0]["count"], self.r["pairs"]["count"])
        # Without --leaks no pattern is looked for.
        self.assertNotIn("list node", self.classes(self.heap()))

    def test_shared_buffers(self):
        rep = self.heap("--leaks")
        want = {s["chunk"]: set(s["holders"]) for s in self.r["shared"]}
        got = {s["chunk"]: s for s in rep["shared"]}
        self.assertEqual(set(got), set(want), rep["shared"])
        for chunk, s in got.items():
            self.assertEqual({h["addr"] for h in s["holders"]}, want[chunk])
            for h in s["holders"]:
                self.assertEqual(h["class"], "Event")
                self.assertEqual(h["offset"], 8)

    def test_text(self):
        res = self.run_ok(["-p", self.fx.pid, "--heap", "--leaks"])
        t = res.text
        self.assertIn("Heap census of process %d" % self.fx.pid, t)
        self.assertRegex(t, r"\n\s+300\s+\S+ \S+\s+\+0\s+0\s+0 Widget\n")
        self.assertIn("Leaky (40 unreferenced)", t)
        self.assertIn("LeakNode (1 unreferenced) e.g. %s" % self.r["nodes"][0], t)
        self.assertRegex(t, r"main\s+0x[0-9a-f]+\s+1\s")
        # The hint names one leaked object with its size, so that --refs
        # scans for that object, not for the whole heap mapping.
        hint = re.search(r"--refs (0x[0-9a-f]+)\+(\d+)", t)
        self.assertIsNotNone(hint, t)
        res = self.run_ok(["-p", self.fx.pid, "--refs", hint.group(0).split()[1], "--json"])
        rep = res.json_lines()[0]
        target = rep["target"]
        self.assertEqual(int(target["end"], 16) - int(target["start"], 16), int(hint.group(2)),
                         rep)

    def test_no_rss_growth(self):
        before = rollup(self.fx.pid)
        self.heap("--leaks")
        self.heap()
        after = rollup(self.fx.pid)
        self.assertEqual(before, after)


    def test_corrupt_heap(self):
        """A bad chunk header stops that heap's walk with a message; the
        chunks before it are counted, the other arenas whole, no crash."""
        bad = addr(self.fx.cmd("corrupt")["chunk"])
        rep = self.heap("--leaks")
        self.assertEqual(len(rep["walk_errors"]), 1, rep["walk_errors"])
        self.assertIn("walk stopped at 0x%x (corrupt chunk)" % bad, rep["walk_errors"][0])
        got = self.classes(rep)
        self.assertEqual(got["ThreadObj"]["count"], self.r["counts"]["ThreadObj"])
        self.assertLess(got["Widget"]["count"], self.r["counts"]["Widget"])
        res = self.run_ok(["-p", self.fx.pid, "--heap"])
        self.assertIn("warning: heap 0x", res.text)
        self.fx.cmd("repair")
        self.assertEqual(self.heap()["walk_errors"], [])


    def test_heap_every_growth(self):
        """--heap-every: each census says what grew since the first."""
        with mtlib.Memtop(["-p", self.fx.pid, "--heap", "--heap-every", "0.3", "-n", "8",
                           "--json"]) as m:
            first = m.next_report()
            self.assertEqual(self.classes(first)["Widget"]["delta_count"], 0)
            t = self.fx.cmd("grow 500")["time"]
            rep = m.wait_report(lambda r: r["time"] > t)
            w = self.classes(rep)["Widget"]
            self.assertEqual(w["count"], self.r["counts"]["Widget"] + 500)
            self.assertEqual(w["delta_count"], 500)
            # (a few may land in a larger leftover chunk than 32 bytes)
            self.assertGreaterEqual(w["delta_bytes"], 500 * 24)
            # Largest growth first.
            self.assertEqual(rep["classes"][0]["delta_bytes"],
                             max(c["delta_bytes"] for c in rep["classes"]))
            self.assertEqual(m.wait(30), 0)
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])

    def test_recorded_replayed(self):
        """-w records each census; -r FILE --heap prints them again: the
        same JSON byte for byte, the same text, the leak groups with their
        examples and the shared chunks included."""
        d = self.tempdir()
        f = os.path.join(d, "heap.db")
        live = self.run_ok(["-p", self.fx.pid, "--heap", "--leaks", "--json", "-w", f])
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])
        again = self.run_ok(["-r", f, "--heap", "--json"])
        self.assertEqual(again.text, live.text)
        rep = again.json_lines()[0]
        self.assertEqual({g["name"] for g in rep["leaks"]["groups"] if g["name"]},
                         {"Leaky", "LeakNode"})
        self.assertTrue(rep["shared"], rep)
        # Two censuses, as text: the second's growth against the first.
        f2 = os.path.join(d, "every.db")
        live = self.run_ok(["-p", self.fx.pid, "--heap", "--leaks", "--heap-every", "0.2",
                            "-n", "2", "-w", f2])
        again = self.run_ok(["-r", f2, "--heap"])
        self.assertEqual(again.text, live.text)
        self.assertEqual(again.text.count("Heap census of process %d" % self.fx.pid), 2)
        self.assertIn("LeakNode (1 unreferenced) e.g. %s" % self.r["nodes"][0], again.text)
        # Damaged leak groups and shared chunks: said so, no crash.
        for sql in ("UPDATE heap_leak_group SET e1 = NULL",
                    "UPDATE heap_leak_group SET unreferenced = count + 1",
                    "UPDATE heap_leak_group SET e0 = 'x'",
                    "UPDATE heap_shared_holder SET idx = 7 WHERE idx = 1",
                    "UPDATE heap_shared_holder SET shared = 200 WHERE shared = 0",
                    "UPDATE heap_census_more SET seconds = -1"):
            g = os.path.join(d, "damaged.db")
            shutil.copy(f2, g)
            db = sqlite3.connect(g)
            db.execute(sql)
            db.commit()
            db.close()
            res = mtlib.run_memtop(["-r", g, "--heap", "--json"])
            self.assertNoCrash(res)
            self.assertEqual(res.rc, 7, (sql, res))
            self.assertIn("damaged", res.errtext, sql)
        # A recording made before the leak groups were kept: still replayed,
        # the leaked counts by class, no groups.
        db = sqlite3.connect(f)
        for t in ("heap_census_more", "heap_leak_group", "heap_shared", "heap_shared_holder"):
            db.execute("DROP TABLE %s" % t)
        db.commit()
        db.close()
        old = self.run_ok(["-r", f, "--heap", "--json"]).json_lines()[0]
        self.assertEqual(old["leaks"]["groups"], [])
        self.assertEqual(old["leaks"]["count"], rep["leaks"]["count"])
        self.assertEqual(old["classes"], rep["classes"])
        # A damaged row: said so, no crash.
        db = sqlite3.connect(f)
        db.execute("UPDATE heap_class SET count = 'x'")
        db.commit()
        db.close()
        res = mtlib.run_memtop(["-r", f, "--heap"])
        self.assertNoCrash(res)
        self.assertNotEqual(res.rc, 0)
        self.assertIn("damaged", res.errtext)


class HeapCensusStrippedTest(HeapCensusTest):
    """The same truths, the class names from RTTI alone."""
    fixture_name = "heap_census_stripped"


class HeapPlainTest(mtlib.MemtopTestCase):
    """A C program: no classes, chunks counted by usable size, exactly."""

    def test_sizes_leaks_mallinfo2(self):
        fx = self.fixture("heap_plain")
        r = fx.ready
        res = self.run_ok(["-p", fx.pid, "--heap", "--leaks", "--json"])
        rep = res.json_lines()[0]
        self.assertEqual(rep["walk_errors"], [])
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        by_size = {c["size"]: c for c in rep["classes"] if c["name"] is None}
        for size, n in r["sizes"].items():
            self.assertEqual(by_size[int(size)]["count"], n, size)
            want_leaked = n if int(size) == r["leaked_size"] else 0
            self.assertEqual(by_size[int(size)]["leaked"], want_leaked, size)
        self.assertEqual([c for c in rep["classes"] if c["name"]], [])
        mi = r["mallinfo2"]
        arenas = rep["arenas"]
        overhead = sum(a["overhead"] for a in arenas)
        tcache = sum(a["tcache"] for a in arenas)
        self.assertEqual(sum(a["system"] for a in arenas), mi["arena"])
        self.assertEqual(rep["in_use_bytes"], mi["uordblks"] - tcache - overhead)
        self.assertEqual(rep["free_bytes"] - tcache, mi["fordblks"])
        self.assertEqual(rep["mmapped_bytes"], mi["hblkhd"])
        self.assertEqual(rep["mmapped_chunks"], mi["hblks"])
        self.assertEqual(sorted(a["kind"] for a in arenas), ["main", "thread"])
        groups = {g["size"]: g for g in rep["leaks"]["groups"]}
        g = groups[r["leaked_size"]]
        self.assertEqual((g["count"], g["unreferenced"]), (len(r["leaked"]), len(r["leaked"])))
        for e in g["examples"]:
            self.assertIn(e, r["leaked"])
        self.assertEqual(rep["leaks"]["count"], len(r["leaked"]), rep["leaks"])


class HeapOptionsTest(mtlib.MemtopTestCase):

    def test_usage(self):
        for args in (["--heap"], ["--leaks", "-r", "x.db"], ["-p", "1", "--heap", "--no-freeze"],
                     ["-p", "1", "--heap-every", "0"], ["-p", "1", "-b", "--heap-every", "5"], ["-p", "1", "--heap", "--refs", "0x1"],
                     ["-r", "x.db", "--heap", "--leaks"],
                     ["-r", "x.db", "--heap", "--heap-every", "1"]):
            res = mtlib.run_memtop(args)
            self.assertEqual(res.rc, 2, res)

    def test_other_allocator(self):
        """A process with jemalloc mapped is told plainly that the census is
        for glibc malloc, before anything stops it; the region views work.
        (A library named like jemalloc's stands in for it.)"""
        d = self.tempdir()
        lib = os.path.join(d, "libjemalloc.so.2")
        shutil.copy(mtlib.fixture_path("libfxplugin.so"), lib)
        fx = self.fixture("fx_dlopen", lib)
        fx.cmd("load")
        res = mtlib.run_memtop(["-p", fx.pid, "--heap"])
        self.assertEqual(res.rc, 1, res)
        self.assertIn("allocates with jemalloc: the heap census supports glibc malloc only",
                      res.errtext)
        self.assertEqual(res.stdout, b"")
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        rep = self.run_ok(["-p", fx.pid, "-b", "-n", "1", "--json"]).json_lines()
        self.assertEqual(len(rep), 1)

    def test_own_malloc(self):
        """A malloc defined by the program (a statically linked jemalloc, as
        Redis has): with glibc's never used, said plainly before anything
        stops; as a wrapper that forwards to glibc's, the census runs and
        says whose malloc it is."""
        fx = self.fixture("own_malloc")
        res = mtlib.run_memtop(["-p", fx.pid, "--heap"])
        self.assertEqual(res.rc, 1, res)
        self.assertIn("has a malloc of its own, in %s" % mtlib.fixture_path("own_malloc"),
                      res.errtext)
        self.assertIn("the heap census supports glibc malloc only", res.errtext)
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        fx = self.fixture("own_malloc", "forward")
        rep = self.run_ok(["-p", fx.pid, "--heap", "--json"]).json_lines()[0]
        self.assertEqual(rep["walk_errors"], [
            "malloc is defined in %s: what it hands out is counted here only if it "
            "takes it from glibc's malloc" % mtlib.fixture_path("own_malloc")])
        sizes = {c["size"]: c["count"] for c in rep["classes"] if c["name"] is None}
        self.assertGreaterEqual(sizes.get(104, 0), 1000, sizes)

    def test_python_target(self):
        """A process the project did not write: numbers hold together."""
        # Three mmapped chunks, then pymalloc's arenas mapped right below
        # them: the kernel merges each arena with the chunk above it.
        fx = mtlib._popen(["python3", "-c", "import sys; x=[bytes(600 + i % 100) for i in range(5000)];"
                           "big=[bytearray(300000) for _ in range(3)];"
                           "small=[[i] for i in range(200000)];"
                           "sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read()"],
                          stdin=mtlib.subprocess.PIPE, stdout=mtlib.subprocess.PIPE)
        self.assertEqual(fx.stdout.readline(), b"ready\n")
        self.assertTrue(mtlib.wait_blocked_in_read(fx.pid), "python3 never blocked in read")
        before = rollup(fx.pid)
        res = self.run_ok(["-p", fx.pid, "--heap", "--leaks", "--json"])
        rep = res.json_lines()[0]
        self.assertEqual(rollup(fx.pid), before)
        self.assertEqual(mtlib.unreleased(fx.pid), [])
        # No walk error: that includes memtop's count of mmapped chunks
        # agreeing with glibc's own (mp_.n_mmaps).
        self.assertEqual(rep["walk_errors"], [])
        self.assertGreaterEqual(rep["mmapped_chunks"], 3)
        # Objects over 512 bytes bypass pymalloc: each is one malloc chunk.
        self.assertGreater(rep["chunks_in_use"], 5000)
        for a in rep["arenas"]:
            self.assertEqual(a["in_use"] + a["free"] + a["overhead"], a["system"], a)
        mtlib._kill(fx)



class HeapMergedTest(mtlib.MemtopTestCase):
    """mmapped chunks whose mappings the kernel merged with memory below
    them that is not malloc's (a pool, a thread's stack): every one is
    found, as mallinfo2() counts them (heap_merged)."""

    def test_chunks_after_other_memory(self):
        fx = self.fixture("heap_merged")
        r = fx.ready
        rep = self.run_ok(["-p", fx.pid, "--heap", "--json", "--regions"]).json_lines()[0]
        # The layout is what the test is about: each chunk's region begins
        # below the chunk, at the pool or the stack.
        regions = self.run_ok(["-p", fx.pid, "-b", "--json", "--regions", "-n", "1"]
                              ).json_lines()[0]["regions"]
        for below, chunk, cat in (("pool", "pool_chunk", "anon"),
                                  ("stack", "stack_chunk", "stack")):
            reg = [g for g in regions
                   if addr(g["start"]) <= addr(r[chunk]) < addr(g["end"])][0]
            self.assertEqual(addr(reg["start"]), addr(r[below]), reg)
            self.assertEqual(reg["category"], cat, reg)
        self.assertEqual(rep["mmapped_chunks"], r["hblks"])
        self.assertEqual(rep["mmapped_bytes"], r["hblkhd"])
        self.assertEqual(rep["walk_errors"], [])
        sizes = {c["size"]: c["count"] for c in rep["classes"] if c["name"] is None}
        # The drill-down names the holder in the merged chunk as a heap
        # object, and the one in the pool as anonymous memory.
        refs = self.run_ok(["-p", fx.pid, "--refs", r["target"], "--json"]).json_lines()[0]
        by_addr = {addr(x["addr"]): x for x in refs["refs"]}
        in_chunk = by_addr[addr(r["pool_chunk"]) + 64]
        self.assertIsNotNone(in_chunk["object"], in_chunk)
        self.assertEqual(addr(in_chunk["object"]["start"]), addr(r["pool_chunk"]), in_chunk)
        self.assertTrue(in_chunk["object"]["in_use"], in_chunk)
        in_pool = by_addr[addr(r["pool"]) + 24]
        self.assertIsNone(in_pool["object"], in_pool)
        # The second walk names objects as the first would have.
        self.assertEqual({c["name"]: c["count"] for c in rep["classes"] if c["name"]},
                         {"Gear": r["gears"]})
        # An mmapped chunk's usable size: its mapping less the header.
        usable = ((256 * 1024 + 16 + 4095) & ~4095) - 16
        self.assertEqual(sizes.get(usable), r["hblks"], sizes)


if __name__ == "__main__":
    mtlib.main()
