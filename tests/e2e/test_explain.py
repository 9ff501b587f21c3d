# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/explain.yml against a real test-bed host: why each alarm fires (evidence,
priority, deadline, the case that tracks it, the silences that apply), and nothing filed."""

from __future__ import annotations

import pytest

FAULTY = "ias-a"


def flat(proc) -> str:
    """What a playbook printed, on one line: the YAML output folds long lines."""
    return " ".join((proc.stdout + proc.stderr).replace("'", "").split())


@pytest.fixture(scope="module")
def local_store(estate, tmp_path_factory):
    store = str(tmp_path_factory.mktemp("explain-store") / "state.sqlite")
    estate.clear(FAULTY)
    yield {"IMAGICLE_CASES_BACKEND": "local", "IMAGICLE_STATE_STORE": store}
    estate.clear(FAULTY)


def test_explain_says_why_and_files_nothing(estate, local_store):
    estate.fault(FAULTY, "fill-disk", "95")
    text = flat(estate.playbook("explain.yml", "-e", "explain_host=%s" % FAULTY, env=local_store))
    assert "IMAGICLE CASES" not in text  # the callback filed nothing
    assert "P3 disk_space [/srv/appsuite]: Disk space close to saturation" in text
    assert "why: /srv/appsuite is" in text and "evidence used_percent:" in text and "evidence threshold: 95" in text
    assert "minutes on the business calendar of plan gold" in text
    assert "case: none open" in text
    # The run recorded the host's space metrics; explain shows them with their trend.
    assert "history of %s over the last 7 day(s), from" % FAULTY in text
    assert "disk:/srv/appsuite:used_percent: 1 value(s)" in text and "too few values for a trend" in text
    assert "customer acme, plan gold, reporting" in text and "eligible for proactive cases" in text
    assert "no case" in flat(estate.playbook("cases.yml", env=local_store))

    # The scheduled job files it; explain then names the case, and a silence that applies.
    assert "opened 1" in estate.playbook("proactive_check.yml", env=local_store).stdout
    estate.playbook("silence.yml", "-e", "silence_host=%s" % FAULTY, "-e", "silence_for=1h",
                    "-e", "silence_reason='CHG-9 disk cleanup'", env=local_store)
    text = flat(estate.playbook("explain.yml", "-e", "explain_host=%s" % FAULTY, "-e", "explain_rule=disk_space",
                                env=local_store))
    assert "case: LOCAL-1 local, P3 since" in text
    assert "disk:/srv/appsuite:used_percent: 3 value(s)" in text
    assert "condition disk_space [/srv/appsuite]: firing;" in text and "state changes: " in text
    assert "host %s from" % FAULTY in text and "CHG-9 disk cleanup" in text
    assert "voip" not in text.lower().split("why each alarm fires", 1)[1].split("history of", 1)[0]  # the alarms of the rule only


def test_explain_wants_one_host(estate, local_store):
    for extra in ([], ["-e", "explain_host=appsuite"]):
        proc = estate.playbook("explain.yml", *extra, env=local_store, check=False)
        assert proc.returncode != 0
        assert "give one host of the inventory: -e explain_host=NAME" in flat(proc)
