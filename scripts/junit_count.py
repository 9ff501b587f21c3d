# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adds up the test counts of JUnit XML reports.

``junit_count.py [--require-tests] FILE...`` prints one line per report and a total; with
``--require-tests`` it exits 1 when the reports hold no executed test (so that "no tests ran"
never passes as success).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def count(path: str) -> dict:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, 0) or 0)
    return totals


def main(argv: list) -> int:
    require = "--require-tests" in argv
    paths = [arg for arg in argv if not arg.startswith("--")]
    grand = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        try:
            totals = count(path)
        except (OSError, ET.ParseError) as exc:
            print("junit: cannot read %s: %s" % (path, exc))
            continue
        for key in grand:
            grand[key] += totals[key]
    ran = grand["tests"] - grand["skipped"]
    bad = grand["failures"] + grand["errors"]
    print("tests: %d passed, %d failed, %d skipped"
          % (ran - bad, bad, grand["skipped"]))
    if require and ran == 0:
        print("junit: no test was executed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
