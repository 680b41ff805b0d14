"""Time to exhaustion only for a significant trend (docs/json.md maps_eta):
python3 processes (not fixtures of ours) mapping with ctypes, watched by
memtop -b --json: a steady churner (3 live maps, map and unmap every
0.7 s) never gets an ETA; a steady leaker gets one; a leaker that stops
loses it.  The screen's header follows the same model (test_tui.py).
"""

import sys
import time

import mtlib

PRELUDE = r"""
import ctypes, mmap, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
pg = mmap.PAGESIZE
# A guard page between mappings so that none merges with a neighbour.
def leak_one(k):
    a = libc.mmap(None, 2 * pg, 1 + 2 * (k % 2), 0x22, -1, 0)
    libc.munmap(a + pg, pg)
    return a
"""

# Steady from the start: 3 live maps before memtop looks.
CHURNER = PRELUDE + r"""
live = [libc.mmap(None, pg, 3, 0x22, -1, 0) for _ in range(3)]
print("ready", flush=True)
while True:
    live.append(libc.mmap(None, pg, 3, 0x22, -1, 0))
    if len(live) > 3:
        libc.munmap(live.pop(0), pg)
    time.sleep(0.7)
"""

LEAKER = PRELUDE + r"""
print("ready", flush=True)
k = 0
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    leak_one(k)
    k += 1
    time.sleep(0.1)
print("stopped", flush=True)
while True:
    time.sleep(1)
"""


class Trend(mtlib.MemtopTestCase):
    def start(self, script, *args):
        p = mtlib._popen([sys.executable, "-c", script] + [str(a) for a in args],
                         stdout=mtlib.subprocess.PIPE)
        self.addCleanup(mtlib._kill, p)
        self.assertEqual(p.stdout.readline().strip(), b"ready")
        return p

    def test_churner_has_no_eta(self):
        p = self.start(CHURNER)
        with self.memtop(["-p", p.pid, "-b", "--json", "-d", "0.5"]) as m:
            reps = [m.next_report() for _ in range(24)]
        self.assertIsNone(reps[0]["maps_rate"])
        for rep in reps:
            self.assertIsNone(rep["maps_eta"], rep["maps_rate"])
            self.assertIsNone(rep["vsz_eta"])

    def test_leaker_then_stops(self):
        p = self.start(LEAKER, 6)
        with self.memtop(["-p", p.pid, "-b", "--json", "-d", "0.5"]) as m:
            rep = m.wait_report(lambda r: r["maps_eta"] is not None,
                                timeout=6, what="an ETA for a steady leaker")
            self.assertGreater(rep["maps_rate"], 0)
            self.assertEqual(p.stdout.readline().strip(), b"stopped")
            t = time.time()
            rep = m.wait_report(lambda r: r["time"] > t + 2 and r["maps_eta"] is None,
                                timeout=30, what="the ETA gone once the leak stopped")
            # The rate over the window still shows what happened.
            self.assertGreater(rep["maps_rate"], 0)


if __name__ == "__main__":
    mtlib.main()
