"""--refs names the holders right on the layouts real processes have.

Each fixture reproduces a case where the answer used to be wrong:
  static_tables_nopie  pointers in never-touched pages of a non-PIE
                       program's .rodata and .data (read from the file)
  heap_split           a [heap] in two mappings (fork, then growth)
  bss_neighbour        anonymous memory right after a library whose .bss
                       fits in its file pages (not the library's .bss)
See each test's docstring for the others.
"""

import json

import mtlib
from mtlib import addr


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
        self.assertEqual(len(rep["refs"]), 2, rep["refs"])

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


if __name__ == "__main__":
    mtlib.main()
