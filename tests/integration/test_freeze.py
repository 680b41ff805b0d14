"""The freeze is safe: memtop never leaves its target stopped.

Uses refs_plant (a ticker thread counts milliseconds, a SIGUSR1 handler
counts signals) and the testing hook MEMTOP_TEST_FREEZE_HOLD_MS, which
holds the target stopped that long inside the freeze (docs/freeze.md).
"""

import os
import signal
import subprocess
import time

import mtlib
from mtlib import wait_until


def switches(pid):
    """Context switches of each thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        n = 0
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    n += int(line.split()[1])
        out[int(tid)] = n
    return out


def all_threads_traced(pid):
    st = mtlib.thread_states(pid)
    return st and all(s == "t" for s in st.values())


class FreezeTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.fx = self.fixture("refs_plant")
        self.target = self.fx.ready["target"]["start"]

    def held_memtop(self, hold_ms, *extra):
        env = dict(os.environ, MEMTOP_TEST_FREEZE_HOLD_MS=str(hold_ms))
        argv = [mtlib.MEMTOP, "-p", str(self.fx.pid), "--refs", self.target, "--json"]
        proc = mtlib._popen(argv + list(extra), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        self.addCleanup(mtlib._kill, proc)
        # Every thread of the target is in a ptrace stop: frozen.
        wait_until(lambda: all_threads_traced(self.fx.pid), what="the freeze")
        self.assertNotEqual(mtlib.proc_status(self.fx.pid)["TracerPid"], "0")
        return proc

    def assert_running(self):
        st = mtlib.proc_status(self.fx.pid)
        self.assertEqual(st["TracerPid"], "0")
        for tid, s in mtlib.thread_states(self.fx.pid).items():
            self.assertNotIn(s, "tT", "thread %d is %s" % (tid, s))
        # It makes progress: the ticker thread counts on.
        t1 = self.fx.cmd("count")["ticks"]
        wait_until(lambda: self.fx.cmd("count")["ticks"] > t1, what="the ticker to tick")

    def test_released_after_a_scan(self):
        res = self.run_ok(["-p", self.fx.pid, "--refs", self.target, "--json"])
        rep = res.json_lines()[0]
        self.assertTrue(rep["frozen"])
        self.assertGreater(rep["stopped_ms"], 0)
        self.assert_running()

    def test_frozen_target_makes_no_progress(self):
        proc = self.held_memtop(3000)
        # While frozen no thread runs: context-switch counts stay put (the
        # ticker switches every millisecond when it runs).  Read through
        # /proc: the fixture cannot answer commands while stopped.  A
        # thread shows 't' just before it switches out: let that settle.
        time.sleep(0.2)
        first = switches(self.fx.pid)
        time.sleep(0.3)
        second = switches(self.fx.pid)
        self.assertTrue(all_threads_traced(self.fx.pid), "freeze ended too early")
        self.assertEqual(first, second)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        rep = mtlib.parse_json_lines(out)[0]
        self.assertGreaterEqual(rep["stopped_ms"], 3000)  # the hold is inside the freeze
        self.assert_running()

    def test_kill_9_during_freeze(self):
        proc = self.held_memtop(60000)
        before = self.fx.proc.pid
        proc.kill()  # SIGKILL: no cleanup code of memtop runs
        proc.wait(timeout=10)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        self.assertEqual(before, self.fx.pid)
        wait_until(lambda: mtlib.proc_status(self.fx.pid)["TracerPid"] == "0", what="the kernel's detach")
        self.assert_running()

    def test_sigterm_during_freeze_releases_then_dies(self):
        proc = self.held_memtop(3000)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        # Held back until the target was released, then delivered.
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        self.assert_running()

    def test_sigint_during_freeze(self):
        proc = self.held_memtop(3000)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGINT)
        self.assert_running()

    def test_signal_during_freeze_is_delivered_after(self):
        self.assertEqual(self.fx.cmd("count")["usr1"], 0)
        proc = self.held_memtop(1500)
        os.kill(self.fx.pid, signal.SIGUSR1)
        # Not handled while frozen...
        self.assertTrue(all_threads_traced(self.fx.pid))
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        # ...but handled once released, exactly once.
        wait_until(lambda: self.fx.cmd("count")["usr1"] == 1, what="SIGUSR1 to be handled")
        self.assert_running()
        self.assertEqual(self.fx.cmd("count")["usr1"], 1)

    def test_stopped_target_stays_stopped(self):
        os.kill(self.fx.pid, signal.SIGSTOP)
        wait_until(lambda: mtlib.proc_status(self.fx.pid)["State"].startswith("T"), what="SIGSTOP")
        res = self.run_ok(["-p", self.fx.pid, "--refs", self.target, "--json"])
        rep = res.json_lines()[0]
        self.assertEqual(len(rep["refs"]), 10)  # all planted (test_refs.py)
        st = mtlib.proc_status(self.fx.pid)
        self.assertEqual(st["TracerPid"], "0")
        self.assertTrue(st["State"].startswith("T"), st["State"])
        for tid, s in mtlib.thread_states(self.fx.pid).items():
            self.assertEqual(s, "T", "thread %d" % tid)
        # Still stopped a while later: nothing resumed it behind our back.
        time.sleep(0.3)
        self.assertTrue(mtlib.proc_status(self.fx.pid)["State"].startswith("T"))
        os.kill(self.fx.pid, signal.SIGCONT)
        wait_until(lambda: not mtlib.proc_status(self.fx.pid)["State"].startswith("T"), what="SIGCONT")
        self.assert_running()

    def test_no_freeze_never_attaches(self):
        proc = self.held_memtop_nofreeze()
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertFalse(mtlib.parse_json_lines(out)[0]["frozen"])
        self.assert_running()

    def held_memtop_nofreeze(self):
        env = dict(os.environ, MEMTOP_TEST_FREEZE_HOLD_MS="60000")
        argv = [mtlib.MEMTOP, "-p", str(self.fx.pid), "--refs", self.target, "--json",
                "--no-freeze"]
        proc = mtlib._popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(mtlib._kill, proc)
        # The hold is inside the freeze only: with --no-freeze nothing stops.
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            self.assertEqual(mtlib.proc_status(self.fx.pid)["TracerPid"], "0")
            time.sleep(0.01)
        return proc


if __name__ == "__main__":
    mtlib.main()
