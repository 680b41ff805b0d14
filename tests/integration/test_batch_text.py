"""memtop -b without --json: the text report, like top -b.

The text layout is for people, so only what a reader relies on is checked:
one report per refresh, the header naming the process, the map count
against its limit, a row per category agreeing with the JSON figures, the
file growth table, the regions list, and that no byte of a file name can
drive the terminal.
"""

import os
import re

import mtlib
from mtlib import addr

HEADER = re.compile(rb"^memtop\b.*\bpid (\d+)\b", re.M)


def blocks(out):
    """Split a text run into its reports (each starts with a header line)."""
    starts = [m.start() for m in HEADER.finditer(out)]
    return [out[a:b] for a, b in zip(starts, starts[1:] + [len(out)])]


def category_row(block, name):
    m = re.search(rb"^%s\s+(\d+)\s" % name.encode(), block, re.M)
    return int(m.group(1)) if m else None


class TextTest(mtlib.MemtopTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.tempdir()
        self.fx = self.fixture("fx_layout", self.dir)
        self.data = bytes.fromhex(self.fx.ready["data"]["path_hex"])

    def test_reports_agree_with_json(self):
        rep = self.reports(["-p", self.fx.pid], 1)[0]
        res = self.run_ok(["-p", self.fx.pid, "-b", "-n", "2", "-d", "0.2"])
        bl = blocks(res.stdout)
        self.assertEqual(len(bl), 2, res)
        for b in bl:
            head = b.split(b"\n", 1)[0]
            self.assertIn(b"pid %d" % self.fx.pid, head)
            self.assertIn(b"fx_layout", head)
            self.assertRegex(b, re.compile(rb"\b%d of %d\b" % (rep["map_count"],
                                                               rep["max_map_count"])))
            for c in rep["categories"]:
                self.assertEqual(category_row(b, c["name"]), c["regions"],
                                 "row of %s in:\n%s" % (c["name"], b.decode(errors="replace")))
            row = [x for x in b.split(b"\n") if x.endswith(self.data)]
            self.assertEqual(len(row), 1, b)
            self.assertIn(b"256 KiB x %d" % len(self.fx.ready["data"]["windows"]), row[0])

    def test_files_table_says_what_it_leaves_out(self):
        """Ten files, a line counting the rest, and the (anonymous) row."""
        rep = self.reports(["-p", self.fx.pid], 1)[0]
        out = self.run_ok(["-p", self.fx.pid, "-b", "-n", "1"]).stdout
        table = out.split(b"\n REGIONS", 1)[1].split(b"\n\n", 1)[0].split(b"\n")[1:]
        n = len(rep["files"])
        self.assertGreater(n, 10, "fx_layout maps more than ten files")
        self.assertRegex(table[10], rb"^\s+\.\.\. %d more files \(--json lists them all\)$"
                         % (n - 10))
        anon = [c for c in rep["categories"] if c["name"] == "anon"][0]
        self.assertTrue(table[11].endswith(b"(anonymous)"), table)
        self.assertEqual(int(table[11].split()[0]),
                         sum(b["count"] for b in rep["anon_sizes"]))
        self.assertEqual(int(table[11].split()[0]), anon["regions"])

    def test_growth_shows_between_refreshes(self):
        m = self.memtop(["-p", self.fx.pid, "-b", "-d", "0.3", "-n", "0"])
        mtlib.wait_until(lambda: len(HEADER.findall(b"".join(m.out.lines))) >= 1,
                         what="a first text report")
        self.fx.cmd("map 8")
        n = len(self.fx.ready["data"]["windows"]) + 8

        def grown():
            for b in blocks(b"".join(m.out.lines))[1:]:
                for line in b.split(b"\n"):
                    if line.endswith(self.data) and b"256 KiB x %d" % n in line:
                        return line
            return None
        line = mtlib.wait_until(grown, timeout=mtlib.REPORT_TIMEOUT,
                                what="data.dat at %d windows" % n)
        self.assertRegex(line, rb"^\s*%d\s.*\+8\b" % n)

    def test_regions_list(self):
        rep = self.reports(["-p", self.fx.pid, "--regions"], 1)[0]
        res = self.run_ok(["-p", self.fx.pid, "-b", "-n", "1", "--regions"])
        lines = res.stdout.split(b"\n")
        for r in rep["regions"]:
            start = b"%x" % addr(r["start"])
            hit = [x for x in lines if re.match(rb"^(0x)?%s\b" % start, x)]
            self.assertEqual(len(hit), 1, "region %s: %r" % (r["start"], hit))
            self.assertIn(r["perms"].encode(), hit[0])
            self.assertRegex(hit[0], rb"\b%s\b" % r["category"].encode())

    def test_no_control_bytes_reach_the_terminal(self):
        res = self.run_ok(["-p", self.fx.pid, "-b", "-n", "1", "--regions"])
        bad = sorted({c for c in res.stdout if c < 0x20 and c not in b"\n\t" or c == 0x7f})
        self.assertEqual(bad, [], "raw control bytes in the text report "
                         "(from file names like esc\\x1b[7m\\x7f.dat)")
        # The escaped names are still there, recognisably.
        self.assertIn(b"esc", b"".join(x for x in res.stdout.split(b"\n") if b"[7m" in x))

    def test_odd_command_name_is_safe(self):
        """comm and argv are the target's bytes too: never raw on a terminal,
        never anything but ASCII in JSON."""
        d = self.tempdir()
        exe = os.path.join(d.encode(), b"fx\xff\x1b[7m\nodd")
        os.symlink(mtlib.fixture_path("fx_threads").encode(), exe)
        fx = self.fixture(exe.decode("utf-8", "surrogateescape"), 1,
                          "arg\udcfe with space", "\x1b]0;title\x07")
        res = self.run_ok(["-p", fx.pid, "-b", "-n", "1"])
        bad = sorted({c for c in res.stdout if c < 0x20 and c not in b"\n\t" or c == 0x7f})
        self.assertEqual(bad, [], res)
        self.assertIn(b"odd", res.stdout.split(b"\n")[0])
        res = self.run_ok(["-p", fx.pid, "-b", "-n", "1", "--json"])
        rep = res.json_lines()[0]  # decodes as ASCII or fails
        self.assertIn("odd", rep["comm"])
        self.assertIn("title", rep["cmdline"])
        self.assertIn("with space", rep["cmdline"])


if __name__ == "__main__":
    mtlib.main()
