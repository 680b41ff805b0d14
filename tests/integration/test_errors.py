"""memtop's failures: exit codes of include/memtop/error.h and clear messages.

Whatever goes wrong, memtop must end by itself (no hang) with the
documented code, never by a signal.
"""

import os
import re
import shutil

import mtlib

USAGE, NOPROC, PERM, KTHREAD, EXITED = 2, 3, 4, 5, 6
PF_KTHREAD = 0x00200000


def unused_pid():
    """A pid no process has right now."""
    top = min(mtlib.read_int("/proc/sys/kernel/pid_max"), 4194304) - 1
    for pid in range(top, 1, -1):
        if not os.path.exists("/proc/%d" % pid):
            return pid
    raise RuntimeError("no free pid")


def is_kthread(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[6]) & PF_KTHREAD != 0  # field 9, flags


class ErrorsTest(mtlib.MemtopTestCase):

    def run_fail(self, args, code, **kw):
        res = mtlib.run_memtop(args, timeout=30, **kw)
        self.assertNoCrash(res)
        self.assertEqual(res.rc, code, res)
        self.assertTrue(res.errtext.strip(), "no message on stderr: %r" % res)
        return res

    def test_no_such_process(self):
        pid = unused_pid()
        for extra in ([], ["--json"]):
            res = self.run_fail(["-p", pid, "-b", "-n", "1"] + extra, NOPROC)
            self.assertIn(str(pid), res.errtext)
            self.assertRegex(res.errtext, re.compile(r"no (such )?process", re.I))
            self.assertEqual(res.stdout, b"", "nothing on stdout on failure")

    def test_kernel_thread(self):
        self.assertTrue(is_kthread(2), "pid 2 is not kthreadd here")
        res = self.run_fail(["-p", 2, "-b", "-n", "1", "--json"], KTHREAD)
        self.assertRegex(res.errtext, re.compile(r"kernel thread", re.I))

    def test_permission_denied(self):
        if os.getuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to start memtop as nobody")
        fx = self.fixture("fx_threads", 1)  # runs as root
        res = self.run_fail(["-p", fx.pid, "-b", "-n", "1", "--json"], PERM, as_nobody=True)
        self.assertIn("another user", res.errtext)
        self.assertEqual(res.stdout, b"")

    def test_permission_denied_not_dumpable(self):
        """Same user, but the target made itself non-dumpable (as ssh-agent
        does): denied, and the message must say so rather than blame
        another user or a security module."""
        if os.getuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to start processes as nobody")
        fx = self.fixture("fx_threads", 1, "nodump", as_nobody=True)
        res = self.run_fail(["-p", fx.pid, "-b", "-n", "1", "--json"], PERM, as_nobody=True)
        self.assertEqual(res.stdout, b"")
        self.assertRegex(res.errtext, re.compile(r"dumpable", re.I))

    def test_same_user_is_allowed(self):
        """The control for test_permission_denied: nobody may watch nobody."""
        if os.getuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to start processes as nobody")
        fx = self.fixture("fx_threads", 1, as_nobody=True)
        res = mtlib.run_memtop(["-p", fx.pid, "-b", "-n", "1", "--json"], timeout=30,
                               as_nobody=True)
        self.assertNoCrash(res)
        self.assertEqual(res.rc, 0, res)
        rep = res.json_lines()[0]
        self.assertEqual((rep["pid"], rep["user"]), (fx.pid, "nobody"))

    def test_target_exits_while_watched(self):
        for fixture in ("fx_threads", "fx_dlopen"):
            fx = self.fixture(fixture)
            m = self.memtop(["-p", fx.pid, "-b", "--json", "-d", "0.2", "-n", "0"])
            first = m.next_report()
            self.assertEqual(first["pid"], fx.pid)
            fx.exit_now()  # and reaped: no zombie left in /proc
            rc = m.wait(30)
            self.assertIsNotNone(rc, "memtop still running 30 s after its target exited")
            self.assertGreaterEqual(rc, 0, "memtop died of signal %d" % -rc)
            self.assertEqual(rc, EXITED, m.stderr_text())
            self.assertRegex(m.stderr_text(), re.compile(r"\bexited\b", re.I))
            self.assertIn(str(fx.pid), m.stderr_text())
            # Every line printed before is a whole JSON report.
            for raw in m.out.lines:
                mtlib.parse_json_lines(raw)

    def test_zombie_target(self):
        """A target that exited but was not reaped is gone, not a process to watch."""
        fx = self.fixture("fx_threads", 1)
        m = self.memtop(["-p", fx.pid, "-b", "--json", "-d", "0.2", "-n", "0"])
        m.next_report()
        fx.cmd("exit")  # not reaped: it stays a zombie in /proc

        def zombie():
            with open("/proc/%d/stat" % fx.pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        mtlib.wait_until(zombie, what="fixture to be a zombie")
        rc = m.wait(30)
        self.assertEqual(rc, EXITED, m.stderr_text())
        self.assertRegex(m.stderr_text(), re.compile(r"\bexited\b", re.I))
        # Started against the zombie, it never watched it: no such process
        # (the exit code of error.h), with a message saying why.
        res = self.run_fail(["-p", fx.pid, "-b", "-n", "1", "--json"], NOPROC)
        self.assertRegex(res.errtext, re.compile(r"\bexited\b|zombie", re.I))
        self.assertEqual(res.stdout, b"")

    def test_target_exits_in_text_mode(self):
        fx = self.fixture("fx_threads", 1)
        m = self.memtop(["-p", fx.pid, "-b", "-d", "0.2", "-n", "0"])
        mtlib.wait_until(lambda: m.out.lines, what="first text report")
        fx.exit_now()
        rc = m.wait(30)
        self.assertEqual(rc, EXITED, m.stderr_text())
        self.assertRegex(m.stderr_text(), re.compile(r"\bexited\b", re.I))

    def test_exit_message_names_the_process_after_exec(self):
        """bash execs python3 while watched: the exit message says python3."""
        p = mtlib._popen(["bash", "-c", "read x; exec python3 -c 'import sys; sys.stdin.read()'"],
                         stdin=mtlib.subprocess.PIPE)
        self.addCleanup(mtlib._kill, p)
        m = self.memtop(["-p", p.pid, "-b", "--json", "-d", "0.2", "-n", "0"])
        self.assertEqual(m.next_report()["comm"], "bash")
        p.stdin.write(b"go\n")
        p.stdin.flush()
        m.wait_report(lambda r: r["comm"] == "python3", what="a report after the exec")
        p.stdin.close()
        rc = m.wait(30)
        self.assertEqual(rc, EXITED, m.stderr_text())
        self.assertIn("(python3)", m.stderr_text())
        self.assertNotIn("(bash)", m.stderr_text())

    def test_dumb_terminal_refused(self):
        """A terminal that cannot move its cursor: exit 1 before curses
        starts (the man page's "no usable terminal"), not a blank screen."""
        import pty
        fx = self.fixture("fx_threads", 1)
        for term in ("dumb", "no-such-terminal"):
            with self.subTest(term=term):
                master, slave = pty.openpty()
                env = dict(os.environ, TERM=term)
                proc = mtlib._popen([mtlib.MEMTOP, "-p", str(fx.pid)], stdin=slave,
                                    stdout=slave, stderr=mtlib.subprocess.PIPE, env=env)
                self.addCleanup(mtlib._kill, proc)
                os.close(slave)
                try:
                    rc = proc.wait(timeout=20)
                finally:
                    os.close(master)
                err = proc.stderr.read().decode()
                self.assertEqual(rc, 1, err)
                self.assertIn("memtop: no usable terminal", err)
                self.assertIn("TERM=%s" % term, err)

    def test_bad_options(self):
        fx = self.fixture("fx_threads", 1)
        pid = str(fx.pid)
        cases = [
            ["-p", pid, "-b", "-d", "0"],
            ["-p", pid, "-b", "-d", "abc"],
            ["-p", pid, "-b", "-d", "-1"],
            ["-p", pid, "-b", "-n", "-1"],
            ["-p", pid, "-b", "-n", "x"],
            ["-p", pid, "-b", "--bogus"],
            ["-b", "-p"],
            ["-p", "abc", "-b"],
            ["-p", "", "-b"],
            ["-p", pid + "x", "-b"],
            ["-p", "-1", "-b"],
            ["-p", "0", "-b", "-n", "1"],
            ["-p", "99999999999999999999", "-b"],
            ["-p", pid, "-b", "-d", "nan"],
            ["-p", pid, "-b", "-d", "inf"],
            ["-p", pid, "-b", "-n", "1.5"],
            ["-p", pid, "-b", "--rss", "sometimes"],
        ]
        for args in cases:
            with self.subTest(args=args):
                res = self.run_fail(args, USAGE)
                self.assertRegex(res.errtext, re.compile(r"usage|--help", re.I))
                # Every line names memtop, not the path it was run by
                # (getopt's own messages included).
                for line in res.errtext.splitlines():
                    if line != "Try 'memtop --help'.":
                        self.assertTrue(line.startswith("memtop: "), line)
                self.assertEqual(res.stdout, b"", "nothing on stdout on a usage error")
        # The fixture is unharmed by all that.
        self.assertIsNone(fx.proc.poll())


if __name__ == "__main__":
    mtlib.main()
