# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adds up the test counts of JUnit XML reports.

``junit_count.py [--require-tests] [--no-skips] FILE...`` prints the total of the reports; with
``--require-tests`` it exits 1 when the reports hold no executed test (so that "no tests ran"
never passes as success); with ``--no-skips`` it lists the skipped tests with their reasons and
exits 1 when there is one (a test skipped for a missing package or service hides a missing
install step).
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


def skipped(path: str) -> list:
    """(test, reason) of each skipped test of a report."""
    found = []
    for case in ET.parse(path).getroot().iter("testcase"):
        for skip in case.findall("skipped"):
            name = "%s::%s" % (case.get("classname", ""), case.get("name", ""))
            found.append((name, (skip.get("message") or skip.text or "").strip()))
    return found


def main(argv: list) -> int:
    require = "--require-tests" in argv
    no_skips = "--no-skips" in argv
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
    if no_skips and grand["skipped"]:
        for path in paths:
            try:
                for name, reason in skipped(path):
                    print("junit: skipped %s: %s" % (name, reason))
            except (OSError, ET.ParseError):
                continue
        print("junit: %d test(s) skipped: install what they need (scripts/setup.sh test), or set "
              "IMAGICLE_TEST_ALLOW_SKIPS=1 to accept skips on this machine" % grand["skipped"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
