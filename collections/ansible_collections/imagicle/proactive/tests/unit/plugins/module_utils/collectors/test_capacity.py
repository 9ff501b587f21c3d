# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity collector against a real Web API stand-in serving the documented shapes."""

from __future__ import annotations

import json

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import capacity
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    Route, closed_port, make_ctx, tls_files, web, web_tls,
)

USER, PASSWORD = "proactive", "Web-Api-Secret7"
LIVE = "/fw/Apps/Recorder/WebAPI/LiveRecordings"
QME = "/fw/Apps/QME/WebAPI/RealTimeStatistics"
IVR = "/fw/Apps/IVR/WebAPI/ActiveCalls"


def recording(n):
    """One active recording as documented (kbp.imagicle.com/kb/get-active-recordings_615)."""
    return {"id": "rec-%d" % n, "duration": "PT1M%dS" % n, "startedAt": "2026-11-26T05:3%d:00Z" % n,
            "localParty": {"username": "agent%d" % n},
            "remoteParty": {"firstName": "Mario", "lastName": "Rossi", "phoneNumber": "+390211122%03d" % n},
            "isPaused": False}


def serve_suite(server, recordings=2, served=1, available=9, ivr_calls=0):
    server.routes[LIVE] = Route(json.dumps([recording(i) for i in range(recordings)]), auth=(USER, PASSWORD))
    server.routes[QME] = Route(json.dumps({"isOpen": True, "callsBeingServed": served, "availableChannels": available,
                                           "agents": [{"username": "agent1"}], "waitingCalls": []}),
                               auth=(USER, PASSWORD))
    server.routes[IVR] = Route(json.dumps([{"id": i} for i in range(ivr_calls)]), auth=(USER, PASSWORD))


def options(base_url, **extra):
    opts = {"base_url": base_url, "username": USER, "password": PASSWORD, "ca_path": None, "validate_certs": True,
            "apps": ["call_recording", "advanced_queuing", "ivr"],
            "licensed": {"call_recording": 8, "advanced_queuing": None, "ivr": 4},
            "paths": dict(capacity.DEFAULT_PATHS)}
    opts.update(extra)
    return opts


def test_documented_shapes(web, tmp_path):
    serve_suite(web, recordings=2, served=1, available=9, ivr_calls=0)
    section = capacity.collect(options(web.url("")), make_ctx(tmp_path))
    assert section == {"apps": {
        "call_recording": {"in_use": 2, "licensed": 8, "available": 6, "used_percent": 25.0, "source": "LiveRecordings"},
        "advanced_queuing": {"in_use": 1, "licensed": 10, "available": 9, "used_percent": 10.0,
                             "source": "RealTimeStatistics"},
        "ivr": {"in_use": 0, "licensed": 4, "available": 4, "used_percent": 0.0, "source": "ActiveCalls"},
    }}


def test_recordings_are_never_returned(web, tmp_path):
    serve_suite(web, recordings=3)
    section = capacity.collect(options(web.url("/")), make_ctx(tmp_path))
    text = json.dumps(section)
    assert section["apps"]["call_recording"]["in_use"] == 3
    assert "+39" not in text and "Rossi" not in text and "agent" not in text


def test_configured_licence_wins_for_advanced_queuing(web, tmp_path):
    serve_suite(web, served=3, available=2)
    opts = options(web.url(""), licensed={"advanced_queuing": 10})
    entry = capacity.collect(opts, make_ctx(tmp_path))["apps"]["advanced_queuing"]
    assert entry == {"in_use": 3, "licensed": 10, "available": 2, "used_percent": 30.0, "source": "RealTimeStatistics"}


def test_missing_licensed_count(web, tmp_path):
    serve_suite(web, recordings=5, ivr_calls=2)
    section = capacity.collect(options(web.url(""), licensed={}), make_ctx(tmp_path))
    assert section["apps"]["call_recording"] == {"in_use": 5, "licensed": None, "available": None,
                                                 "used_percent": None, "source": "LiveRecordings"}
    assert section["apps"]["ivr"]["licensed"] is None and section["apps"]["ivr"]["in_use"] == 2
    # Advanced Queuing still knows its channel count from the API.
    assert section["apps"]["advanced_queuing"]["licensed"] == 10


def test_one_app_failing_others_fine(web, tmp_path):
    serve_suite(web, recordings=1)
    web.routes[IVR] = Route("upstream down", status=502, content_type="text/plain", auth=(USER, PASSWORD))
    section = capacity.collect(options(web.url("")), make_ctx(tmp_path))
    assert set(section["apps"]["ivr"]) == {"error"}
    assert "HTTP 502" in section["apps"]["ivr"]["error"] and IVR in section["apps"]["ivr"]["error"]
    assert section["apps"]["call_recording"]["in_use"] == 1
    assert section["apps"]["advanced_queuing"]["in_use"] == 1


def test_garbage_json(web, tmp_path):
    serve_suite(web)
    web.routes[LIVE] = Route('[{"id": 1,', auth=(USER, PASSWORD))
    web.routes[QME] = Route('{"isOpen": true}', auth=(USER, PASSWORD))
    web.routes[IVR] = Route('{"calls": []}', auth=(USER, PASSWORD))
    apps = capacity.collect(options(web.url("")), make_ctx(tmp_path))["apps"]
    assert "did not answer JSON" in apps["call_recording"]["error"]
    assert "no callsBeingServed" in apps["advanced_queuing"]["error"]
    assert "expected a JSON list, got dict" in apps["ivr"]["error"]


def test_wrong_types_in_statistics(web, tmp_path):
    serve_suite(web)
    web.routes[QME] = Route('{"callsBeingServed": "3", "availableChannels": 2}', auth=(USER, PASSWORD))
    apps = capacity.collect(options(web.url(""), apps=["advanced_queuing"]), make_ctx(tmp_path))["apps"]
    assert list(apps) == ["advanced_queuing"]
    assert 'callsBeingServed is "3"' in apps["advanced_queuing"]["error"]


def test_html_login_page(web, tmp_path):
    serve_suite(web)
    web.routes[LIVE] = Route("<!DOCTYPE html><html><title>Imagicle login</title></html>", content_type="text/html")
    entry = capacity.collect(options(web.url("")), make_ctx(tmp_path))["apps"]["call_recording"]
    assert "HTML page" in entry["error"]


def test_wrong_password_401(web, tmp_path):
    serve_suite(web)
    apps = capacity.collect(options(web.url(""), password="Wrong-Pass-99"), make_ctx(tmp_path))["apps"]
    for entry in apps.values():
        assert "HTTP 401" in entry["error"] and "Complete Management" in entry["error"]
        assert "Wrong-Pass-99" not in entry["error"]


def test_server_down(closed_port, tmp_path):
    apps = capacity.collect(options("http://127.0.0.1:%d" % closed_port), make_ctx(tmp_path))["apps"]
    assert all("connection refused" in entry["error"] for entry in apps.values())


def test_https_with_ca(web_tls, tls_files, tmp_path):
    serve_suite(web_tls, recordings=4)
    section = capacity.collect(options(web_tls.url(""), ca_path=tls_files.ca, apps=["call_recording"]),
                               make_ctx(tmp_path))
    assert section["apps"]["call_recording"]["in_use"] == 4
    assert section["apps"]["call_recording"]["used_percent"] == 50.0


def test_licensed_as_string_and_invalid(web, tmp_path):
    serve_suite(web, recordings=2)
    apps = capacity.collect(options(web.url(""), licensed={"call_recording": "4", "ivr": -1}), make_ctx(tmp_path))["apps"]
    assert apps["call_recording"]["used_percent"] == 50.0
    assert "whole number" in apps["ivr"]["error"]


@pytest.mark.parametrize("bad", [{"base_url": ""}, {"base_url": "ftp://x"}, {"apps": ["call_recording", "fax"]}])
def test_bad_options_raise(bad, tmp_path):
    opts = options("http://127.0.0.1:1")
    opts.update(bad)
    with pytest.raises(CollectorError):
        capacity.collect(opts, make_ctx(tmp_path))


def test_missing_ca_file_raises(tmp_path):
    with pytest.raises(CollectorError, match="ca_path"):
        capacity.collect(options("https://127.0.0.1:1", ca_path=str(tmp_path / "none.pem")), make_ctx(tmp_path))
