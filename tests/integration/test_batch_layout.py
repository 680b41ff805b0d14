"""memtop -b --json --regions against fx_layout, which knows what it mapped.

Checks the schema of docs/json.md, the regions list against /proc/PID/maps,
the category of every kind of mapping, deleted files, odd file names, and
the figures derived from the regions (counts, sizes, free space, limits).
"""

import os
import pwd
import re
import resource
import signal
import time

import mtlib
from mtlib import addr, path_bytes, region_at, file_entry

WINDOW = 256 * 1024

TOP_KEYS = {
    "time": (int, float), "pid": int, "comm": str, "cmdline": str, "user": str,
    "state": str, "threads": int, "uptime": (int, float), "map_count": int,
    "max_map_count": int, "vsz": int, "rss": int, "rlimit_as": (int, type(None)),
    "largest_free": int, "largest_free_start": str, "free_total": int, "gaps": int,
    "largest_mmap": int, "maps_rate": (int, float), "vsz_rate": (int, float),
    "maps_eta": (int, float, type(None)), "vsz_eta": (int, float, type(None)),
    "rss_age": (int, float, type(None)), "categories": list, "types": list,
    "protections": list, "files": list, "anon_sizes": list, "events": list,
    "regions": list,
}
FIGURE_KEYS = {"name": str, "regions": int, "virtual": int, "resident": (int, type(None)),
               "delta_regions": int, "delta_virtual": int}
FILE_KEYS = {"path": str, "deleted": bool, "dev": str, "inode": int, "regions": int,
             "virtual": int, "resident": (int, type(None)), "delta_regions": int,
             "delta_virtual": int, "rate_per_min": (int, float), "present": bool,
             "sizes": list}
REGION_KEYS = {"start": str, "end": str, "size": int, "perms": str, "offset": int,
               "dev": str, "inode": int, "path": str, "deleted": bool, "category": str,
               "tid": (int, type(None)), "rss": (int, type(None)),
               "pss": (int, type(None)), "swap": (int, type(None))}


def vm_size(pid):
    """The kernel's total_vm in bytes (VmSize of /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise KeyError("VmSize")


def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def read_smaps(pid):
    """{start: {"Rss": bytes, "Pss": bytes, "Swap": bytes}} from smaps."""
    out, cur = {}, None
    with open("/proc/%d/smaps" % pid, "rb") as f:
        for line in f:
            m = re.match(rb"^([0-9a-f]+)-[0-9a-f]+ ", line)
            if m:
                cur = out.setdefault(int(m.group(1), 16), {})
                continue
            m = re.match(rb"^(Rss|Pss|Swap):\s+(\d+) kB", line)
            if m and cur is not None:
                cur[m.group(1).decode()] = int(m.group(2)) * 1024
    return out


def strip_kernel_suffix(p):
    return p[:-len(b" (deleted)")] if p.endswith(b" (deleted)") else p


class LayoutTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()
        self.fx = self.fixture("fx_layout", self.dir)
        self.r = self.fx.ready

    def snapshot(self, extra=()):
        """One report, with /proc/PID/maps read just before and after it."""
        before = mtlib.parse_maps(self.fx.pid)
        t0 = time.time()
        rep = self.reports(["-p", self.fx.pid, "--regions"] + list(extra), 1)[0]
        t1 = time.time()
        after = mtlib.parse_maps(self.fx.pid)
        self.assertEqual(before, after, "fx_layout changed its maps while idle")
        return rep, after, (t0, t1)

    def check_keys(self, obj, spec, where):
        for k, types in spec.items():
            self.assertIn(k, obj, "%s lacks key %r" % (where, k))
            t = types if isinstance(types, tuple) else (types,)
            v = obj[k]
            # JSON true/false are bool, a subclass of int: never a number here.
            ok = isinstance(v, t) and not (isinstance(v, bool) and bool not in t)
            self.assertTrue(ok, "%s[%r] = %r, expected %s" % (where, k, v, t))

    def test_schema(self):
        rep, maps, (t0, t1) = self.snapshot()
        self.check_keys(rep, TOP_KEYS, "report")
        self.assertEqual(rep["pid"], self.fx.pid)
        self.assertEqual(rep["comm"], "fx_layout")
        self.assertIn("fx_layout", rep["cmdline"])
        self.assertIn(self.dir, rep["cmdline"])
        self.assertEqual(rep["user"], pwd.getpwuid(os.getuid()).pw_name)
        self.assertEqual(rep["state"], "S")  # blocked reading stdin
        self.assertEqual(rep["threads"], 1)
        self.assertTrue(t0 - 1 <= rep["time"] <= t1 + 1, (t0, rep["time"], t1))
        self.assertGreaterEqual(rep["uptime"], 0)
        addr(rep["largest_free_start"])
        self.assertEqual(rep["events"], [], "first refresh: no events yet")

        names = [c["name"] for c in rep["categories"]]
        self.assertEqual(sorted(names), sorted(mtlib.CATEGORIES))
        for c in rep["categories"]:
            self.check_keys(c, FIGURE_KEYS, "category %s" % c["name"])
            self.assertEqual((c["delta_regions"], c["delta_virtual"]), (0, 0))
        self.assertEqual(sorted(t["name"] for t in rep["types"]),
                         ["file", "private", "shared"])
        for t in rep["types"] + rep["protections"]:
            self.check_keys(t, FIGURE_KEYS, "figure %s" % t["name"])
        for p in rep["protections"]:
            self.assertRegex(p["name"], r"^[r-][w-][x-][ps]$")
        for f in rep["files"]:
            self.check_keys(f, FILE_KEYS, "file %r" % f.get("path"))
            self.assertRegex(f["dev"], r"^[0-9a-f]+:[0-9a-f]+$")
            for b in f["sizes"]:
                self.check_keys(b, {"size": int, "count": int, "delta": int}, "sizes")
        for b in rep["anon_sizes"]:
            self.check_keys(b, {"size": int, "count": int, "delta": int}, "anon_sizes")
        for r in rep["regions"]:
            self.check_keys(r, REGION_KEYS, "region %s" % r.get("start"))
            self.assertIn(r["category"], mtlib.CATEGORIES)
            self.assertEqual(r["size"], addr(r["end"]) - addr(r["start"]))

    def test_regions_match_maps(self):
        rep, maps, _ = self.snapshot()
        got = rep["regions"]
        self.assertEqual(len(got), len(maps))
        fake = bytes.fromhex(self.r["fake_deleted"]["path_hex"])
        for m, r in zip(maps, got):
            where = "region %x-%x" % (m["start"], m["end"])
            self.assertEqual((addr(r["start"]), addr(r["end"])), (m["start"], m["end"]))
            self.assertEqual(r["perms"], m["perms"], where)
            self.assertEqual(r["offset"], m["offset"], where)
            self.assertEqual(r["dev"], m["dev"], where)
            self.assertEqual(r["inode"], m["inode"], where)
            # The real name of "x (deleted)" keeps its suffix; otherwise the
            # kernel's " (deleted)" is not part of the name.
            want = m["path"] if m["path"] == fake else strip_kernel_suffix(m["path"])
            self.assertEqual(path_bytes(r["path"]), want, where)
            if r["category"] != "stack":
                self.assertIsNone(r["tid"], where)

    def test_categories_of_known_mappings(self):
        rep, maps, _ = self.snapshot()
        r = self.r

        def cat_at(a, want, what):
            reg = region_at(rep, addr(a) if isinstance(a, str) else a)
            self.assertIsNotNone(reg, "%s at %s: no region" % (what, a))
            self.assertEqual(reg["category"], want, "%s: %r" % (what, reg))
            return reg

        for w in r["data"]["windows"]:
            cat_at(w["start"], "file", "data.dat window")
        for key in ("gone", "fake_deleted", "spaced", "bad_utf8", "escape"):
            cat_at(r[key]["start"], "file", key)
        for key in ("memfd", "sysv", "posix_shm", "anon_shared"):
            cat_at(r[key]["start"], "shared", key)
        res = cat_at(r["reserved"]["start"], "reserved", "PROT_NONE reservation")
        self.assertLessEqual(addr(res["start"]), addr(r["reserved"]["start"]))
        self.assertGreaterEqual(addr(res["end"]), addr(r["reserved"]["end"]))
        anon = cat_at(r["anon"]["start"], "anon", "private anonymous block")
        self.assertEqual((anon["start"], anon["end"]), (r["anon"]["start"], r["anon"]["end"]))
        heap = cat_at(r["heap_ptr"], "heap", "malloc'ed block")
        self.assertEqual(heap["path"], "[heap]")
        stack = cat_at(r["stack_ptr"], "stack", "main thread's stack")
        self.assertEqual(stack["path"], "[stack]")
        self.assertEqual(stack["tid"], self.fx.pid)

        exe = os.path.realpath("/proc/%d/exe" % self.fx.pid).encode()
        seen = set()
        for reg in rep["regions"]:
            p = path_bytes(reg["path"])
            if p == exe or re.search(rb"/(libc|ld-linux[-\w]*)\.so", p):
                self.assertEqual(reg["category"], "image", reg)
                seen.add(os.path.basename(p))
            if p in (b"[vdso]", b"[vvar]", b"[vsyscall]", b"[vvar_vclock]"):
                self.assertEqual(reg["category"], "kernel", reg)
                seen.add(p)
        for want in (os.path.basename(exe), b"libc.so.6", b"[vdso]"):
            self.assertIn(want, seen)

    def test_summaries_add_up(self):
        rep, maps, _ = self.snapshot()
        regs = rep["regions"]
        for c in rep["categories"]:
            mine = [x for x in regs if x["category"] == c["name"]]
            self.assertEqual(c["regions"], len(mine), c)
            self.assertEqual(c["virtual"], sum(x["size"] for x in mine), c)
        by_perm = {}
        for x in regs:
            by_perm.setdefault(x["perms"], []).append(x)
        self.assertEqual(sorted(p["name"] for p in rep["protections"]), sorted(by_perm))
        for p in rep["protections"]:
            self.assertEqual(p["regions"], len(by_perm[p["name"]]), p)
            self.assertEqual(p["virtual"], sum(x["size"] for x in by_perm[p["name"]]), p)
        # Types partition the regions (docs/categories.md, "Types").
        type_of = {"image": "file", "file": "file", "shared": "shared"}
        for t in rep["types"]:
            mine = [x for x in regs if type_of.get(x["category"], "private") == t["name"]]
            self.assertEqual(t["regions"], len(mine), t)
            self.assertEqual(t["virtual"], sum(x["size"] for x in mine), t)
        self.assertEqual(sum(c["regions"] for c in rep["categories"]), len(regs))

        # anon_sizes: the regions of category anon, by size.
        sizes = {}
        for x in regs:
            if x["category"] == "anon":
                sizes[x["size"]] = sizes.get(x["size"], 0) + 1
        self.assertEqual({b["size"]: b["count"] for b in rep["anon_sizes"]}, sizes)
        counts = [b["count"] for b in rep["anon_sizes"]]
        self.assertEqual(counts, sorted(counts, reverse=True), "largest count first")

        # files: every region with an inode, by (dev, inode, path).
        files = {}
        for x in regs:
            if x["inode"]:
                key = (x["dev"], x["inode"], x["path"])
                n, v = files.get(key, (0, 0))
                files[key] = (n + 1, v + x["size"])
        got = {(f["dev"], f["inode"], f["path"]): (f["regions"], f["virtual"])
               for f in rep["files"] if f["present"]}
        self.assertEqual(got, files)
        for f in rep["files"]:
            self.assertEqual(sum(b["count"] for b in f["sizes"]), f["regions"], f)
            self.assertEqual(sum(b["count"] * b["size"] for b in f["sizes"]), f["virtual"], f)

    def test_counts_limits_and_free_space(self):
        rep, maps, _ = self.snapshot()
        # map_count and vsz are what the kernel holds against
        # vm.max_map_count and RLIMIT_AS: the lines of maps and their sizes,
        # without the [vsyscall] gate, which is not a mapping of the process
        # (VmSize does not count it either).
        own = [m for m in maps if m["path"] != b"[vsyscall]"]
        self.assertEqual(rep["map_count"], len(own))
        self.assertEqual(rep["vsz"], sum(m["end"] - m["start"] for m in own))
        self.assertEqual(rep["vsz"], vm_size(self.fx.pid))
        self.assertEqual(len(rep["regions"]), len(maps))
        self.assertEqual(rep["max_map_count"], mtlib.read_int("/proc/sys/vm/max_map_count"))
        self.assertGreater(rep["rss"], 0)
        self.assertIsNone(rep["rlimit_as"])  # fixtures run without RLIMIT_AS

        low = max(mtlib.read_int("/proc/sys/vm/mmap_min_addr"), os.sysconf("SC_PAGESIZE"))
        gaps = mtlib.gaps_of(rep["regions"], low)
        sizes = [e - s for s, e in gaps]
        big = max(sizes)
        self.assertEqual(rep["largest_free"], big)
        self.assertEqual(addr(rep["largest_free_start"]), gaps[sizes.index(big)][0])
        self.assertEqual(rep["free_total"], sum(sizes))
        self.assertEqual(rep["gaps"], len(gaps))
        # No RLIMIT_AS and far from the map count limit: the largest free
        # block is the largest mapping that could succeed.
        self.assertEqual(rep["largest_mmap"], rep["largest_free"])
        self.assertIsNone(rep["vsz_eta"])

    def test_kernel_counters(self):
        rep = self.reports(["-p", self.fx.pid], 1)[0]
        status = {}
        with open("/proc/%d/status" % self.fx.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                status[k] = v.split()
        self.assertEqual(rep["rss"], int(status["VmRSS"][0]) * 1024)
        self.assertEqual(rep["vsz"], int(status["VmSize"][0]) * 1024)
        self.assertEqual(rep["threads"], int(status["Threads"][0]))
        self.assertNotIn("regions", rep, "regions[] only with --regions")

    def test_stopped_target(self):
        """A stopped target is watched as it is, and left stopped."""
        os.kill(self.fx.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, self.fx.pid, signal.SIGCONT)
        mtlib.wait_until(lambda: proc_state(self.fx.pid) == "T", what="SIGSTOP")
        reps = self.reports(["-p", self.fx.pid, "-d", "0.2"], 2)
        self.assertEqual([r["state"] for r in reps], ["T", "T"])
        self.assertEqual(proc_state(self.fx.pid), "T")

    def test_interrupted_run_leaves_whole_lines(self):
        """^C or SIGTERM in the middle of a run: every line printed is a
        whole report (then memtop exits 0, or by that signal, as top -b)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            m = self.memtop(["-p", self.fx.pid, "-b", "--json", "--regions",
                             "-d", "0.2", "-n", "0"])
            m.next_report()
            m.next_report()
            m.proc.send_signal(sig)
            rc = m.wait(20)
            self.assertIn(rc, (0, -sig), m.stderr_text())
            m.out.t.join(10)
            self.assertGreaterEqual(len(m.out.lines), 2)
            for raw in m.out.lines:
                self.assertTrue(raw.endswith(b"\n"), raw[-100:])
                mtlib.parse_json_lines(raw)

    def test_rlimit_as_bounds_largest_mmap(self):
        vsz = vm_size(self.fx.pid)
        limit = vsz + 100 * 1024 * 1024
        resource.prlimit(self.fx.pid, resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        rep = self.reports(["-p", self.fx.pid], 1)[0]
        self.assertEqual(rep["rlimit_as"], limit)
        self.assertEqual(rep["vsz"], vsz)
        self.assertEqual(rep["largest_mmap"], min(rep["largest_free"], limit - vsz))

    def test_rss_never(self):
        rep = self.reports(["-p", self.fx.pid, "--regions", "--rss", "never"], 1)[0]
        self.assertGreater(rep["rss"], 0)  # the kernel's counter, always known
        self.assertIsNone(rep["rss_age"])
        for x in rep["regions"]:
            self.assertEqual((x["rss"], x["pss"], x["swap"]), (None, None, None), x)
        for c in rep["categories"] + rep["types"] + rep["protections"] + rep["files"]:
            self.assertIsNone(c["resident"], c)

    def test_rss_always_matches_smaps(self):
        rep = self.reports(["-p", self.fx.pid, "--regions", "--rss", "always"], 1)[0]
        smaps = read_smaps(self.fx.pid)
        self.assertIsNotNone(rep["rss_age"])
        self.assertGreaterEqual(rep["rss_age"], 0)
        for x in rep["regions"]:
            # Pss moves whenever another process maps the same libc page,
            # so only its bound is checked.
            want = smaps[addr(x["start"])]
            self.assertEqual((x["rss"], x["swap"]), (want["Rss"], want["Swap"]), x)
            self.assertLessEqual(x["pss"], x["rss"], x)
            if x["perms"].endswith("p") and not x["path"]:
                self.assertEqual(x["pss"], want["Pss"], x)  # private anonymous
        # Touched pages the fixture knows of: 2 pages of the anonymous block,
        # one of the memfd.
        anon = region_at(rep, addr(self.r["anon"]["start"]))
        self.assertEqual(anon["rss"], 8192)
        self.assertEqual(region_at(rep, addr(self.r["memfd"]["start"]))["rss"], 4096)
        for c in rep["categories"]:
            mine = [x for x in rep["regions"] if x["category"] == c["name"]]
            self.assertEqual(c["resident"], sum(x["rss"] for x in mine), c)

    def test_deleted_files(self):
        rep, _, _ = self.snapshot()
        r = self.r
        cases = {"gone": True, "fake_deleted": False, "spaced": False, "bad_utf8": False,
                 "escape": False}
        for key, deleted in cases.items():
            reg = region_at(rep, addr(r[key]["start"]))
            self.assertEqual(reg["deleted"], deleted, "%s: %r" % (key, reg))
            f = file_entry(rep, bytes.fromhex(r[key]["path_hex"]))
            self.assertIsNotNone(f, "%s missing from files[]" % key)
            self.assertEqual(f["deleted"], deleted, "%s: %r" % (key, f))
            self.assertEqual(f["inode"], r[key]["inode"])
            self.assertEqual(f["virtual"], r[key]["size"])
        reg = region_at(rep, addr(r["data"]["windows"][0]["start"]))
        self.assertFalse(reg["deleted"])

    def test_odd_names_round_trip(self):
        res = self.run_ok(["-p", self.fx.pid, "-b", "--json", "--regions", "-n", "1"])
        res.stdout.decode("ascii")  # docs/json.md: plain ASCII whatever the names
        rep = res.json_lines()[0]
        for key in ("spaced", "bad_utf8", "fake_deleted", "escape", "backslash"):
            want = bytes.fromhex(self.r[key]["path_hex"])
            reg = region_at(rep, addr(self.r[key]["start"]))
            self.assertEqual(path_bytes(reg["path"]), want, key)
            self.assertIsNotNone(file_entry(rep, want), "%s not in files[]" % key)
        # The newline is JSON's \n escape; invalid bytes are \udcXX.
        self.assertIn(b"a b\\nc.dat", res.stdout)
        # A backslash stays one (JSON's \\), told from a newline by map_files.
        self.assertIn(b"back\\\\012slash.bin", res.stdout)
        self.assertIn(b"bad\\udcff\\udcfe-", res.stdout)
        self.assertIn(b"esc\\u001b[7m", res.stdout.lower())

    def test_files_and_sizes(self):
        rep, _, _ = self.snapshot()
        d = self.r["data"]
        n = len(d["windows"])
        f = file_entry(rep, bytes.fromhex(d["path_hex"]))
        self.assertIsNotNone(f, "data.dat missing from files[]")
        self.assertEqual(f["regions"], n)
        self.assertEqual(f["virtual"], n * WINDOW)
        self.assertEqual(f["inode"], d["inode"])
        self.assertTrue(f["present"])
        self.assertFalse(f["deleted"])
        self.assertEqual((f["delta_regions"], f["delta_virtual"]), (0, 0))
        self.assertEqual(f["sizes"], [{"size": WINDOW, "count": n, "delta": 0}])
        st = os.stat(bytes.fromhex(d["path_hex"]))
        self.assertEqual(f["dev"], "%02x:%02x" % (os.major(st.st_dev), os.minor(st.st_dev)))

        a = self.r["anon"]
        self.assertIn(a["size"], [b["size"] for b in rep["anon_sizes"]], rep["anon_sizes"])

    def test_refreshes_and_deltas(self):
        reps = self.reports(["-p", self.fx.pid, "-d", "0.2"], 3)
        for rep in reps:
            self.assertEqual(rep["pid"], self.fx.pid)
        self.assertLess(reps[0]["time"], reps[1]["time"])
        self.assertLess(reps[1]["time"], reps[2]["time"])
        # Nothing changes in an idle fixture.
        for rep in reps[1:]:
            self.assertEqual(rep["events"], [])
            self.assertEqual(rep["map_count"], reps[0]["map_count"])
            for c in rep["categories"]:
                self.assertEqual((c["delta_regions"], c["delta_virtual"]), (0, 0), c)
            self.assertEqual(rep["maps_rate"], 0)


if __name__ == "__main__":
    mtlib.main()
