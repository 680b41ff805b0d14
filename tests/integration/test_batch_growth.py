"""Growth per file and map/unmap events between refreshes.

memtop runs in the background (-n 0); between two of its refreshes a
fixture maps or unmaps windows of a file, or loads or unloads a library;
the first report taken after the fixture's answer must show exactly that.
"""

import mtlib
from mtlib import addr, path_bytes, file_entry, category

WINDOW = 256 * 1024
ARGS = ["-b", "--json", "-d", "0.3", "-n", "0"]
EVENT_KEYS = {"kind", "start", "end", "size", "perms", "category", "path"}


def union(ranges):
    """Merge [start, end) ranges into a sorted disjoint list."""
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def event_ranges(reports, kind, path):
    return union((addr(e["start"]), addr(e["end"]))
                 for rep in reports for e in rep["events"]
                 if e["kind"] == kind and path_bytes(e["path"]) == path)


class FileGrowthTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()
        self.fx = self.fixture("fx_layout", self.dir)
        self.data = bytes.fromhex(self.fx.ready["data"]["path_hex"])
        self.n0 = len(self.fx.ready["data"]["windows"])

    def test_map_8_windows(self):
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        first = m.next_report()
        ans = self.fx.cmd("map 8")
        new = [(addr(w["start"]), addr(w["end"])) for w in ans["windows"][self.n0:]]
        self.assertEqual(len(new), 8)
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]

        f = file_entry(rep, self.data)
        self.assertIsNotNone(f, "data.dat missing from files[]")
        self.assertEqual(f["regions"], self.n0 + 8, f)
        self.assertEqual(f["delta_regions"], 8, f)
        self.assertEqual(f["virtual"], (self.n0 + 8) * WINDOW, f)
        self.assertEqual(f["delta_virtual"], 8 * WINDOW, f)
        self.assertEqual(f["sizes"], [{"size": WINDOW, "count": self.n0 + 8, "delta": 8}])
        self.assertGreater(f["rate_per_min"], 0)
        self.assertTrue(f["present"])
        # Largest growth first: no other file grew.
        self.assertEqual(path_bytes(rep["files"][0]["path"]), self.data)

        self.assertEqual(rep["map_count"], first["map_count"] + 8)
        self.assertEqual(rep["vsz"], first["vsz"] + 8 * WINDOW)
        c = category(rep, "file")
        self.assertEqual((c["delta_regions"], c["delta_virtual"]), (8, 8 * WINDOW), c)

        # The map events between the two reports cover exactly the new windows.
        self.assertEqual(event_ranges(between, "map", self.data), union(new))
        self.assertEqual(event_ranges(between, "unmap", self.data), [])
        for rep_ in between:
            for e in rep_["events"]:
                self.assertLessEqual(EVENT_KEYS, set(e), e)
                self.assertIn(e["kind"], ("map", "unmap"), e)
                if path_bytes(e["path"]) == self.data:
                    self.assertEqual(e["category"], "file", e)
                    self.assertEqual(e["perms"], "r--s", e)
                    self.assertEqual(e["size"], addr(e["end"]) - addr(e["start"]), e)

        # Events are per refresh: the next report has none for the file,
        # while the deltas (counted from the first refresh) stay.
        nxt = m.next_report()
        self.assertEqual([e for e in nxt["events"] if path_bytes(e["path"]) == self.data], [])
        f = file_entry(nxt, self.data)
        self.assertEqual((f["regions"], f["delta_regions"]), (self.n0 + 8, 8), f)

    def test_unmap_all_windows(self):
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        first = m.next_report()
        old = [(addr(w["start"]), addr(w["end"])) for w in self.fx.ready["data"]["windows"]]
        ans = self.fx.cmd("unmap all")
        self.assertEqual(ans["unmapped"], self.n0)
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]

        f = file_entry(rep, self.data)
        self.assertIsNotNone(f, "a file mapped earlier in the run stays in files[]")
        self.assertFalse(f["present"], f)
        self.assertEqual(f["regions"], 0, f)
        self.assertEqual(f["virtual"], 0, f)
        self.assertEqual(f["delta_regions"], -self.n0, f)
        self.assertEqual(f["delta_virtual"], -self.n0 * WINDOW, f)
        self.assertEqual(rep["map_count"], first["map_count"] - self.n0)
        self.assertEqual(event_ranges(between, "unmap", self.data), union(old))
        self.assertEqual(event_ranges(between, "map", self.data), [])

    def test_twenty_thousand_windows(self):
        """The leak at scale: 20000 windows between two refreshes."""
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        first = m.next_report()
        ans = self.fx.cmd("map 20000", timeout=60)
        self.assertEqual(ans["mapped"], 20000)
        new = [(addr(w["start"]), addr(w["end"])) for w in ans["windows"][self.n0:]]
        n_before = len(m.reports)
        rep = m.report_after(ans["time"], timeout=60)
        between = m.reports[n_before:]
        n = self.n0 + 20000
        f = file_entry(rep, self.data)
        self.assertEqual((f["regions"], f["delta_regions"]), (n, 20000))
        self.assertEqual(f["sizes"], [{"size": WINDOW, "count": n, "delta": 20000}])
        self.assertEqual(rep["map_count"], first["map_count"] + 20000)
        self.assertEqual(rep["map_count"], len(mtlib.parse_maps(self.fx.pid)) - 1)  # [vsyscall]
        self.assertEqual(event_ranges(between, "map", self.data), union(new))
        self.assertEqual(path_bytes(rep["files"][0]["path"]), self.data)
        # And back: all of them unmapped.
        ans = self.fx.cmd("unmap all", timeout=60)
        n_before = len(m.reports)
        rep = m.report_after(ans["time"], timeout=60)
        f = file_entry(rep, self.data)
        self.assertEqual((f["regions"], f["delta_regions"], f["present"]),
                         (0, -self.n0, False))
        self.assertEqual(rep["map_count"], first["map_count"] - self.n0)
        self.assertEqual(event_ranges(m.reports[n_before:], "unmap", self.data),
                         union(new + [(addr(w["start"]), addr(w["end"]))
                                      for w in self.fx.ready["data"]["windows"]]))

    def test_map_then_unmap_same_refresh_window(self):
        """Mapping 8 and unmapping 3 before the next refresh nets 5."""
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        m.next_report()
        self.fx.cmd("map 8")
        ans = self.fx.cmd("unmap 3")
        rep = m.report_after(ans["time"])
        f = file_entry(rep, self.data)
        self.assertEqual((f["regions"], f["delta_regions"]), (self.n0 + 5, 5), f)
        self.assertEqual(f["sizes"], [{"size": WINDOW, "count": self.n0 + 5, "delta": 5}])

    def test_replaced_backing_is_unmap_and_map(self):
        """MAP_FIXED of another file over a window: same addresses, new backing."""
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        first = m.next_report()
        ans = self.fx.cmd("replace")
        other = bytes.fromhex(ans["path_hex"])
        span = [(addr(ans["start"]), addr(ans["end"]))]
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]
        self.assertEqual(event_ranges(between, "unmap", self.data), span)
        self.assertEqual(event_ranges(between, "map", other), span)
        self.assertEqual(len([e for r in between for e in r["events"]]), 2)
        self.assertEqual(rep["map_count"], first["map_count"])
        f = file_entry(rep, self.data)
        self.assertEqual((f["regions"], f["delta_regions"]), (self.n0 - 1, -1), f)
        o = file_entry(rep, other)
        self.assertIsNotNone(o, "other.dat missing from files[]")
        self.assertEqual((o["regions"], o["delta_regions"], o["present"]), (1, 1, True), o)

    def test_mprotect_split_is_not_an_event(self):
        m = self.memtop(["-p", self.fx.pid, "--regions"] + ARGS)
        first = m.next_report()
        ans = self.fx.cmd("protect")
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]
        # One region became three: a split, not a mapping.
        self.assertEqual(rep["map_count"], first["map_count"] + 2)
        self.assertEqual(rep["vsz"], first["vsz"])
        self.assertEqual([e for r in between for e in r["events"]], [])
        page = mtlib.region_at(rep, addr(ans["start"]))
        self.assertEqual((page["start"], page["end"], page["perms"]),
                         (ans["start"], ans["end"], "r--p"))
        self.assertEqual(page["category"], "anon")
        c = category(rep, "anon")
        self.assertEqual((c["delta_regions"], c["delta_virtual"]), (2, 0), c)

    def test_heap_growth_and_anon_unmap_are_events(self):
        m = self.memtop(["-p", self.fx.pid] + ARGS)
        first = m.next_report()
        grow = self.fx.cmd("sbrk 1024")
        self.assertEqual(addr(grow["new_end"]) - addr(grow["old_end"]), 1024 * 1024)
        n_before = len(m.reports)
        rep = m.report_after(grow["time"])
        between = m.reports[n_before:]
        events = [e for r in between for e in r["events"]]
        self.assertEqual(len(events), 1, events)
        e = events[0]
        self.assertEqual((e["kind"], e["start"], e["end"], e["size"], e["perms"],
                          e["category"], e["path"]),
                         ("map", grow["old_end"], grow["new_end"], 1024 * 1024, "rw-p",
                          "heap", "[heap]"))
        self.assertEqual(rep["map_count"], first["map_count"])
        self.assertEqual(rep["vsz"], first["vsz"] + 1024 * 1024)
        c = category(rep, "heap")
        self.assertEqual((c["delta_regions"], c["delta_virtual"]), (0, 1024 * 1024), c)

        anon = self.fx.ready["anon"]
        ans = self.fx.cmd("unmap anon")
        n_before = len(m.reports)
        rep2 = m.report_after(ans["time"])
        events = [e for r in m.reports[n_before:] for e in r["events"]]
        self.assertEqual(len(events), 1, events)
        e = events[0]
        self.assertEqual((e["kind"], e["start"], e["end"], e["size"], e["category"], e["path"]),
                         ("unmap", anon["start"], anon["end"], anon["size"], "anon", ""))
        self.assertNotIn(anon["size"], [b["size"] for b in rep2["anon_sizes"]
                                        if b["count"] > 0])


class LibraryEventsTest(mtlib.MemtopTestCase):

    def test_load_and_unload(self):
        lib = mtlib.fixture_path("libfxplugin.so")
        fx = self.fixture("fx_dlopen", lib)
        libpath = bytes.fromhex(fx.ready["library_hex"])
        m = self.memtop(["-p", fx.pid, "--regions"] + ARGS)
        m.next_report()

        ans = fx.cmd("load")
        self.assertEqual(ans["mapped"], 1)
        lib_maps = [x for x in mtlib.parse_maps(fx.pid) if x["path"] == libpath]
        self.assertTrue(lib_maps)
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]
        self.assertEqual(event_ranges(between, "map", libpath),
                         union((x["start"], x["end"]) for x in lib_maps))
        for r in between:
            for e in r["events"]:
                if path_bytes(e["path"]) == libpath:
                    self.assertEqual(e["kind"], "map", e)
                    self.assertEqual(e["category"], "image", e)
        self.assertIn("r-xp", [e["perms"] for e in rep["events"]
                               if path_bytes(e["path"]) == libpath])
        for x in lib_maps:
            reg = mtlib.region_at(rep, x["start"])
            self.assertEqual((path_bytes(reg["path"]), reg["category"]), (libpath, "image"))

        # Nothing happens until the unload: no more events for the library.
        nxt = m.next_report()
        self.assertEqual([e for e in nxt["events"] if path_bytes(e["path"]) == libpath], [])

        ans = fx.cmd("unload")
        self.assertEqual(ans["mapped"], 0)
        n_before = len(m.reports)
        rep = m.report_after(ans["time"])
        between = m.reports[n_before:]
        self.assertEqual(event_ranges(between, "unmap", libpath),
                         union((x["start"], x["end"]) for x in lib_maps))
        self.assertEqual([e for r in between for e in r["events"]
                          if e["kind"] == "map" and path_bytes(e["path"]) == libpath], [])
        for x in lib_maps:
            reg = mtlib.region_at(rep, x["start"])
            self.assertTrue(reg is None or path_bytes(reg["path"]) != libpath, reg)


if __name__ == "__main__":
    mtlib.main()
