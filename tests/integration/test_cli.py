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

    def test_json_implies_batch(self):
        """--json (and --regions) without -b: reports, as --help says."""
        r = run("--help")
        self.assertRegex(r.stdout, r"--json .*\(implies -b\)")
        self.assertRegex(r.stdout, r"--regions .*\(implies -b\)")
        for opt in ("--json", "--regions"):
            r = subprocess.run([MEMTOP, "-p", str(os.getpid()), opt, "-n", "1"],
                               capture_output=True, text=True, timeout=20,
                               stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("pid", r.stdout)
            self.assertEqual(r.stderr, "")

    def test_man_page_paragraphs(self):
        """Text after an indented block (.RE) starts a paragraph: no
        example runs into the next one's description."""
        with open(MAN, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for i, l in enumerate(lines[:-1]):
            if l == ".RE":
                self.assertRegex(lines[i + 1], r"^\.(PP|SH|TP|RS|RE)|^$",
                                 "line %d of memtop.1" % (i + 2))

    def test_readme_says_how_to_install_and_what_a_scan_costs(self):
        with open(os.path.join(os.path.dirname(MAN), "..", "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertIn("cmake --install", readme)
        self.assertIn("## Permissions", readme)
        self.assertIn("ptrace_scope", readme)
        self.assertNotIn("few milliseconds", readme.split("## What it costs")[1].split("scan")[0])
        self.assertRegex(readme, r"2 GiB stands still\s+for about 0\.4 s|2 GiB for about 0\.4 s")

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
