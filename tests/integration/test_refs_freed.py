"""memtop --refs: pointers left in freed chunks are stale, not holders.

refs_freed stores pointers into its TARGET in 40-byte objects, keeps one
per arena live and frees ten others: seven fill the thread's tcache bin,
three go to the arena's fastbin, in the main arena and in a thread arena.
Those chunks look in use to a heap walk (the next chunk's PREV_INUSE stays
set); memtop must follow the free lists and say so.
"""

import mtlib
from mtlib import addr


class RefsFreedTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("refs_freed")
        self.r = self.fx.ready

    def refs(self, *extra):
        spec = "%s-%s" % (self.r["target"]["start"], self.r["target"]["end"])
        res = self.run_ok(["-p", self.fx.pid, "--refs", spec] + list(extra))
        return res

    def report(self):
        reps = self.refs("--json").json_lines()
        self.assertEqual(len(reps), 1)
        return reps[0]

    def assert_released(self):
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])

    def check(self, rep, planted, free_list):
        got = {addr(x["addr"]): x for x in rep["refs"]}
        for p in planted:
            ref = got.get(addr(p["addr"]))
            self.assertIsNotNone(ref, "%s not found: %r" % (p, rep["refs"]))
            obj = ref["object"]
            self.assertIsNotNone(obj, ref)
            self.assertEqual(addr(obj["start"]), addr(p["object"]), ref)
            self.assertEqual(obj["offset"], 16, ref)
            self.assertEqual(obj["size"], 40, ref)
            self.assertEqual(obj["free_list"], free_list, (p, ref))
            self.assertEqual(obj["in_use"], free_list is None, (p, ref))
            self.assertEqual(ref["stale_free"], free_list is not None, (p, ref))
            if p["arena"] == "main":
                self.assertEqual(ref["region"]["path"], "[heap]", ref)
            else:
                self.assertEqual(ref["region"]["category"], "heap", ref)
                self.assertNotEqual(ref["region"]["path"], "[heap]", ref)

    def test_live_and_freed(self):
        rep = self.report()
        self.assertTrue(rep["frozen"])
        self.assertEqual(rep["walk_errors"], [])
        self.assertEqual(len(self.r["live"]), 2)
        self.assertEqual(len(self.r["tcache"]), 14)
        self.assertEqual(len(self.r["fastbin"]), 6)
        self.check(rep, self.r["live"], None)
        self.check(rep, self.r["tcache"], "tcache")
        self.check(rep, self.r["fastbin"], "fastbin")
        # Nothing else in the heaps is taken for freed.
        planted = {addr(p["addr"]) for k in ("tcache", "fastbin") for p in self.r[k]}
        stale = {addr(x["addr"]) for x in rep["refs"] if x.get("stale_free")}
        self.assertEqual(stale, planted)
        self.assert_released()

    def test_no_freeze(self):
        # Nothing moves in the fixture: the same answer without a freeze.
        rep = self.report_no_freeze()
        self.assertFalse(rep["frozen"])
        self.check(rep, self.r["live"], None)
        self.check(rep, self.r["tcache"], "tcache")
        self.check(rep, self.r["fastbin"], "fastbin")
        self.assertEqual(mtlib.proc_status(self.fx.pid)["TracerPid"], "0")

    def report_no_freeze(self):
        reps = self.refs("--json", "--no-freeze").json_lines()
        self.assertEqual(len(reps), 1)
        return reps[0]

    def test_text_collapses_stale(self):
        text = self.refs().text
        for p in self.r["live"]:
            self.assertIn("0x%x -> " % addr(p["addr"]), text)
            self.assertIn("object 0x%x+0x10 (40 bytes)\n" % addr(p["object"]), text)
        for k in ("tcache", "fastbin"):
            for p in self.r[k]:
                self.assertNotIn("0x%x -> " % addr(p["addr"]), text)
        # One line per arena: 7 in the tcache + 3 in the fastbin each.
        self.assertEqual(text.count("  + 10 stale copies in freed chunks"), 2, text)
        self.assert_released()


if __name__ == "__main__":
    mtlib.main()
