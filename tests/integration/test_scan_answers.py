"""--refs names the holders right on the layouts real processes have.

Each fixture reproduces a case where the answer used to be wrong:
  static_tables_nopie  pointers in never-touched pages of a non-PIE
                       program's .rodata and .data (read from the file)
See each test's docstring for the others.
"""

import json

import mtlib
from mtlib import addr


class Answers(mtlib.MemtopTestCase):

    def refs(self, fx, spec, *extra):
        res = self.run_ok(["-p", fx.pid, "--refs", spec, "--json"] + list(extra))
        return json.loads(res.stdout)

    def test_nopie_static_tables(self):
        fx = self.fixture("static_tables_nopie")
        r = fx.ready
        rep = self.refs(fx, "%s+8192" % r["target"])
        by = {addr(x["addr"]): x for x in rep["refs"]}
        entry = addr(r["table"]) + 320000
        self.assertIn(entry, by, rep["refs"])
        self.assertEqual(by[entry]["symbol"], "g_ro_ptr_table")
        self.assertEqual(by[entry]["symbol_offset"], 320000)
        self.assertEqual(addr(by[entry]["value"]), addr(r["target"]) + 64)
        self.assertIn(addr(r["untouched"]), by)
        self.assertEqual(by[addr(r["untouched"])]["symbol"], "g_untouched")
        self.assertEqual(len(rep["refs"]), 2, rep["refs"])


if __name__ == "__main__":
    mtlib.main()
