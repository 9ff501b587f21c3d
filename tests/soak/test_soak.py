# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The soak's reduced form (the full one is `make soak`, 200 runs): four consecutive runs of the
scheduled job with a changing mix of host faults and backend failures, then every case filed
exactly once in the real Request Tracker, in its case's state, pages and mails once. No timing
is asserted here: `make soak` compares the run times."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import soak  # noqa: E402

RUNS = 4


def test_four_runs_of_faults_and_failures_file_each_case_once(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the soak needs root (the test bed: network namespaces, loop disks)")
    result = soak.soak(RUNS, seed=11, out=str(tmp_path / "soak.json"), log=lambda line: None)
    assert result["problems"] == []
    assert result["runs"] == RUNS and result["cases_opened"] >= 1
    failures = {mode for run in result["history"] for mode in run["failures"]}
    assert failures - {"none"}, "no backend failure was drawn: the seed tests nothing"
