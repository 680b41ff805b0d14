"""A scan costs the target nothing: no page faulted in, in any kind of mapping.

scan_cost maps 1 GiB of untouched shared anonymous memory, a 1 GiB shared
file with 64 KiB resident, a memfd with one page written, 1 GiB of
untouched private memory and a private file mapping whose never-read file
holds a pointer to TARGET.  After --refs (with PAGEMAP_SCAN, and with the
/proc/PID/pagemap fallback), the region detail's hexdump and the
backtraces (b), the target's smaps_rollup has not grown; the pointer in
the file is found all the same, read from the file.
"""

import json
import os
import re
import time

import mtlib
from mtlib import addr
from tuilib import Tui

# Pss_File also moves when other processes map or unmap the same libraries
# (the share of each page changes): a small tolerance for it alone.
FIELDS = {"Rss": 0, "Pss_Anon": 0, "Pss_Shmem": 0, "Pss_File": 256}


def settled(pid):
    """The rollup once the fixture has stopped changing it."""
    prev = rollup(pid)
    for _ in range(50):
        time.sleep(0.1)
        cur = rollup(pid)
        if cur == prev:
            return cur
        prev = cur
    return prev


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            m = re.match(r"(\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


class ScanCost(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("scan_cost", self.tempdir())
        self.r = self.fx.ready
        self.target = addr(self.r["target"])

    def assertNoGrowth(self, before, what):
        after = rollup(self.fx.pid)
        for k, slack in FIELDS.items():
            self.assertLessEqual(after[k], before[k] + slack,
                                 "%s grew the target's %s: %d -> %d kB" % (
                                     what, k, before[k], after[k]))

    def refs(self, env=None):
        args = ["-p", self.fx.pid, "--refs", "0x%x+4096" % self.target, "--json"]
        res = self.run_ok(args, env=env)
        return json.loads(res.stdout)

    def check_report(self, rep):
        by_addr = {addr(r["addr"]): r for r in rep["refs"]}
        holder = addr(self.r["holder"])
        self.assertIn(holder, by_addr, rep["refs"])
        in_file = addr(self.r["pfile"]) + 12288
        self.assertIn(in_file, by_addr, "the pointer in the never-read file page")
        self.assertEqual(addr(by_addr[in_file]["value"]), self.target + 16)
        # Only the data file's pages: code, the PIE and its libraries hold
        # no pointer in pages never written (docs/drilldown.md).
        self.assertEqual(rep["file_bytes"], 65536)
        # 1 GiB private + 1 GiB shared anonymous + most of the shared file
        # and of the memfd: not read, counted.
        self.assertGreater(rep["absent_bytes"], (3 << 30) - (64 << 20))
        self.assertLess(rep["scanned_bytes"], 256 << 20)
        self.assertGreaterEqual(rep["scanned_bytes"], 64 << 20)
        self.assertEqual(rep["swapped_bytes"], 0)

    def test_refs_pagemap_scan(self):
        before = settled(self.fx.pid)
        rep = self.refs()
        self.check_report(rep)
        self.assertNoGrowth(before, "--refs")
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])

    def test_refs_pagemap_fallback(self):
        """Kernels before 6.7: the pagemap entries tell the same."""
        before = settled(self.fx.pid)
        env = dict(os.environ, MEMTOP_TEST_NO_PAGEMAP_SCAN="1")
        rep = self.refs(env=env)
        self.check_report(rep)
        self.assertNoGrowth(before, "--refs without PAGEMAP_SCAN")

    def test_text_says_what_was_not_read(self):
        res = self.run_ok(["-p", self.fx.pid, "--refs", "0x%x+4096" % self.target])
        self.assertRegex(res.text, r"read from the files; not read: [\d.]+ GiB not resident")

    def tui(self, args):
        t = Tui(args, height=40, width=140)
        self.addCleanup(t.close)
        return t

    def test_screen_detail_scan_and_backtraces(self):
        """The hexdump of untouched shared memory, s on it, every backtrace."""
        before = settled(self.fx.pid)
        t = self.tui(["-p", self.fx.pid, "-d", "0.5"])
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type("%x" % addr(self.r["shm_anon"]))
        t.keys("Enter", "Enter")
        t.wait_for("scan for references")
        t.keys("End")
        t.wait_for("not resident")
        # s: who holds pointers into the untouched gigabyte.
        t.keys("s")
        s = t.wait_for(lambda s: "References" in s and "Scanning" not in s)
        self.assertRegex(s, r"not read: [\d.]+ GiB not resident")
        t.keys("Escape")
        t.wait_for("scan for references")
        t.keys("Escape")
        t.wait_for(lambda s: "ADDRESS" in s and "scan for references" not in s)
        t.keys("6")
        t.wait_for("TID")
        t.keys("b")
        s = t.wait_for(lambda s: "blocker" in s and "main" in s)
        self.assertIn("read", s)
        self.assertNoGrowth(before, "the detail and the backtraces")
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])

    def test_max_stop_refuses(self):
        """--max-stop: a scan predicted to stop the target longer is refused."""
        res = mtlib.run_memtop(["-p", self.fx.pid, "--refs", "0x%x+4096" % self.target,
                                "--max-stop", "1"])
        self.assertEqual(res.rc, 1, res)
        self.assertRegex(res.errtext, r"not scanning: reading [\d.]+ MiB of process \d+ would "
                         r"stop it for about \d+ ms .* more than --max-stop 1 ms")
        self.assertEqual(res.stdout, b"")
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])
        rep = json.loads(self.run_ok(["-p", self.fx.pid, "--refs", "0x%x+4096" % self.target,
                                      "--max-stop", "60000", "--json"]).stdout)
        self.assertFalse(rep["max_stop_hit"])

    def test_screen_asks_before_a_big_scan(self):
        t = self.tui(["-p", self.fx.pid, "-d", "0.5", "--max-stop", "1"])
        t.wait_for("CATEGORY")
        t.keys("2")
        t.wait_for("ADDRESS")
        t.keys("/")
        t.type("%x" % self.target)
        t.keys("Enter", "Enter")
        t.wait_for("scan for references")
        t.keys("s")
        t.wait_for(lambda s: re.search(r"Scan [\d.]+ MiB, ~[\d.]+ s with the process "
                                       r"stopped\? y/n", s))
        t.keys("n")
        t.wait_for("not scanned")
        self.assertEqual(mtlib.unreleased(self.fx.pid), [])
        t.keys("s")
        t.wait_for("y/n")
        t.keys("y")
        t.wait_for(lambda s: "References" in s and "Scanning" not in s)


if __name__ == "__main__":
    mtlib.main()
