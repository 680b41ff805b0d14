"""Per-region resident sizes on a large map: rss from PAGEMAP_SCAN agrees
with smaps' Rss, follows pages as they are touched, and Pss waits for
smaps (docs/performance.md, "Resident sizes at the mapping limit").

The target is python3 (not a fixture of ours) making 6,000 regions with
ctypes: pages of alternating protection, so that none merges.
"""

import sys
import time
import unittest

import mtlib

PAGES = 6000
SCRIPT = r"""
import ctypes, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
pg = mmap.PAGESIZE
n = %d
a = libc.mmap(None, n * pg, 1, 0x22, -1, 0)
for i in range(1, n, 2):
    libc.mprotect(a + i * pg, pg, 3)
for i in range(1, 200, 2):
    ctypes.memset(a + i * pg, 1, pg)
print(hex(a), flush=True)
for line in sys.stdin:
    for i in range(201, 403, 2):
        ctypes.memset(a + i * pg, 1, pg)
    print("done", flush=True)
""" % PAGES


class Resident(mtlib.MemtopTestCase):
    def start(self):
        p = mtlib._popen([sys.executable, "-c", SCRIPT], stdin=mtlib.subprocess.PIPE,
                         stdout=mtlib.subprocess.PIPE)
        self.addCleanup(mtlib._kill, p)
        base = int(p.stdout.readline(), 16)
        return p, base

    def rss_by_start(self, rep):
        return {mtlib.addr(r["start"]): r for r in rep["regions"]}

    def test_rss_agrees_with_smaps_and_follows(self):
        p, base = self.start()
        pg = 4096
        with self.memtop(["-p", str(p.pid), "-b", "--json", "--regions", "-d", "0.3"]) as m:
            first = m.next_report()
            regs = self.rss_by_start(first)
            # Resident at once, on a map where smaps would cost too much
            # to read at the first refresh: Pss is unknown, Rss is known.
            self.assertEqual(regs[base + pg]["rss"], pg)
            self.assertEqual(regs[base + 2 * pg]["rss"], 0)
            self.assertEqual(regs[base + 401 * pg]["rss"], 0)
            self.assertIsNone(regs[base + pg]["pss"])
            self.assertIsNotNone(first["rss_age"])
            smaps = read_rss(p.pid)
            wrong = [hex(s) for s, r in regs.items()
                     if s in smaps and r["rss"] is not None and r["rss"] != smaps[s]
                     and r["category"] not in ("stack", "heap")]
            self.assertLessEqual(len(wrong), 2, wrong[:10])
            # Pages touched now show within the next refreshes.
            p.stdin.write(b"go\n")
            p.stdin.flush()
            self.assertEqual(p.stdout.readline().strip(), b"done")
            t = time.monotonic()
            rep = m.wait_report(
                lambda r: self.rss_by_start(r)[base + 401 * pg]["rss"] == pg,
                what="the touched page resident")
            self.assertLess(rep["rss_age"], 10.5)


def read_rss(pid):
    out, cur = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
                cur = int(line.split("-")[0], 16)
            elif line.startswith("Rss:"):
                out[cur] = int(line.split()[1]) * 1024
    return out


if __name__ == "__main__":
    unittest.main()
