"""memtop --help, --version and the man page: every option and key is
described, from the same key table the screen dispatches with."""
import os
import re
import subprocess
import unittest

MEMTOP = os.environ["MEMTOP"]
MAN = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "memtop.1")
OPTIONS = ["-p", "--pid", "-d", "--delay", "-b", "--batch", "-n", "--iterations",
           "--json", "--regions", "--rss", "--refs", "--no-freeze", "--heap", "--leaks",
           "--heap-every", "--demo",
           "--no-color", "--no-mouse", "-h", "--help", "-V", "--version"]


def run(*args):
    return subprocess.run([MEMTOP, *args], capture_output=True, text=True, timeout=20)


class Cli(unittest.TestCase):
    def test_help_lists_every_option_and_key(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for opt in OPTIONS:
            self.assertRegex(r.stdout, r"(^|[\s,])%s\b" % re.escape(opt), opt)
        for line in ("Keys on the screen:", "F10 q", "In a region's detail:",
                     "scan for references", "In the references", "In the process picker:",
                     "Exit status:"):
            self.assertIn(line, r.stdout)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^memtop \d+\.\d+\.\d+\n$")

    def test_man_page_documents_every_option(self):
        with open(MAN, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-")
        for opt in OPTIONS:
            self.assertIn(opt, man, opt)
        for key in ("F10", "Esc", "Enter"):
            self.assertIn(key, man)


if __name__ == "__main__":
    unittest.main()
