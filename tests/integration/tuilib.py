"""tuilib - run the memtop TUI in a detached tmux session and read its screen.

    with Tui(["-p", pid], width=100, height=30) as tui:
        tui.wait_for("CATEGORY")
        tui.keys("2")
        tui.wait_for(lambda s: "ADDRESS" in s)

Each Tui has its own tmux server (a private socket, -L), killed when the
Tui is closed, so tests never touch the user's tmux nor each other.  memtop
runs under a small shell script that records memtop's pid (for signals)
and, when memtop ends, prints EXITCODE=N and keeps the pane open, so a test
can see what the terminal looks like after memtop left it.

Every wait polls capture-pane until the screen shows what is expected or a
generous timeout passes: a slow machine makes a test slower, never wrong.
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

import mtlib

WAIT_TIMEOUT = 30.0
_counter = [0]


class Tui:
    def __init__(self, args, width=100, height=30, env=None, utf8=True):
        if not shutil.which("tmux"):
            raise RuntimeError("tmux is needed for the TUI tests (apt-get install tmux)")
        _counter[0] += 1
        self.sock = "memtop-test-%d-%d" % (os.getpid(), _counter[0])
        self.dir = tempfile.mkdtemp(prefix="memtop-tui-")
        self.pidfile = os.path.join(self.dir, "memtop.pid")
        argv = [mtlib.MEMTOP] + [str(a) for a in args]
        envs = {"LANG": "C.UTF-8" if utf8 else "C"}
        envs.update(env or {})
        script = os.path.join(self.dir, "run.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
            # LC_CTYPE too: Python started in the C locale exports
            # LC_CTYPE=C.UTF-8 (PEP 538), which would override LANG.
            f.write("unset LC_ALL LC_CTYPE NO_COLOR\n")
            for k, v in envs.items():
                f.write("export %s=%s\n" % (k, shlex.quote(v)))
            # The inner shell writes its pid and becomes memtop.
            f.write("sh -c 'echo $$ > \"$0\"; exec \"$@\"' %s %s\n"
                    % (shlex.quote(self.pidfile), " ".join(shlex.quote(a) for a in argv)))
            f.write("echo EXITCODE=$?\n")
            f.write("exec sleep 3600\n")
        os.chmod(script, 0o755)
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), script)

    def tmux(self, *args, check=True):
        res = subprocess.run(["tmux", "-L", self.sock] + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30)
        if check and res.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (" ".join(args), res.stderr.decode()))
        return res.stdout.decode("utf-8", "replace")

    def close(self):
        self.tmux("kill-server", check=False)
        shutil.rmtree(self.dir, True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- reading ---------------------------------------------------------

    def screen(self, escapes=False):
        """The pane's text (with -e: its colours and attributes as SGR)."""
        args = ["capture-pane", "-p", "-t", "t"] + (["-e"] if escapes else [])
        return self.tmux(*args)

    def lines(self):
        return self.screen().split("\n")

    def wait_for(self, what, timeout=WAIT_TIMEOUT):
        """Poll the screen until it holds the text `what` (or what(screen)
        is true); return the screen.  AssertionError with the last screen
        otherwise."""
        pred = what if callable(what) else (lambda s: what in s)
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if pred(s):
                s = self._settled(pred, s)
                if s is not None:
                    return s
                continue
            if time.monotonic() > deadline:
                raise AssertionError("screen never showed %r within %.0f s; last screen:\n%s"
                                     % (what, timeout, s))
            time.sleep(0.05)

    def _settled(self, pred, s, settle=0.2):
        """The capture s may have caught curses halfway through a redraw:
        return the screen once two captures in a row agree and still show
        what was wanted (a redraw is over), or, for a screen that keeps
        changing (a clock, a live refresh), the last capture that shows it
        after `settle` seconds; None when it stopped showing it."""
        until = time.monotonic() + settle
        while True:
            time.sleep(0.02)
            t = self.screen()
            if not pred(t):
                return None
            if t == s or time.monotonic() > until:
                return t
            s = t

    def memtop_pid(self, timeout=WAIT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.pidfile) as f:
                    return int(f.read())
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError("memtop never started")

    def exit_code(self, timeout=WAIT_TIMEOUT):
        """memtop's exit status once it has ended (the shell prints it)."""
        s = self.wait_for(lambda s: re.search(r"EXITCODE=\d+", s), timeout)
        return int(re.search(r"EXITCODE=(\d+)", s).group(1))

    def alternate_screen(self):
        """Whether the pane is in the alternate screen (curses running)."""
        return self.tmux("display-message", "-p", "-t", "t", "#{alternate_on}").strip() == "1"

    # --- acting ----------------------------------------------------------

    def keys(self, *keys):
        """tmux key names: "Enter", "Escape", "F1", "Down", "BSpace", "q"."""
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text):
        """Literal text."""
        self.tmux("send-keys", "-t", "t", "-l", "--", text)

    def _mouse(self, button, x, y):
        # The X10 encoding a terminal sends in mouse mode 1000, typed into
        # the pane as if the terminal had sent it: ESC [ M b x y, 0-based
        # positions offset by 33.
        self.tmux("send-keys", "-t", "t", "-l", "--",
                  "\x1b[M" + chr(32 + button) + chr(33 + x) + chr(33 + y))

    def click(self, x, y):
        """A left click (press and release) at column x, line y."""
        self._mouse(0, x, y)
        self._mouse(3, x, y)

    def wheel(self, x, y, down=True):
        self._mouse(65 if down else 64, x, y)

    def mouse_mode(self):
        """Whether the application asked the terminal for mouse events."""
        return self.tmux("display-message", "-p", "-t", "t",
                         "#{mouse_any_flag}").strip() == "1"

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))


def rows_with(screen, text):
    """Lines of the screen that hold text."""
    return [l for l in screen.split("\n") if text in l]
