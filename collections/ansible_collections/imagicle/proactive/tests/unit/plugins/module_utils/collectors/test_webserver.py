# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The webserver collector against real HTTP and HTTPS servers on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import webserver
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    Route, closed_port, make_ctx, tls_files, web, web_tls,
)

KEYS = {"url", "up", "status_code", "latency_ms", "tls", "problem"}


def options(url, **extra):
    opts = {"url": url, "ca_path": None, "validate_certs": True, "timeout": None}
    opts.update(extra)
    return opts


def test_http_200_is_up(web, tmp_path):
    web.routes["/"] = Route("<html>portal</html>", content_type="text/html")
    section = webserver.collect(options(web.url("/")), make_ctx(tmp_path))
    assert set(section) == KEYS
    assert section["up"] is True
    assert section["status_code"] == 200
    assert section["latency_ms"] > 0
    assert section["tls"] is None
    assert section["problem"] is None


def test_redirect_counts_as_up(web, tmp_path):
    web.routes["/"] = Route("", status=302, headers={"Location": "/login"})
    section = webserver.collect(options(web.url("/")), make_ctx(tmp_path))
    assert section["up"] is True
    assert section["status_code"] == 302


def test_http_500_is_down_with_reason(web, tmp_path):
    web.routes["/"] = Route("broken", status=500, content_type="text/plain")
    section = webserver.collect(options(web.url("/")), make_ctx(tmp_path))
    assert section["up"] is False
    assert section["status_code"] == 500
    assert "HTTP 500" in section["problem"]


def test_slow_server_is_down_after_the_timeout(web, tmp_path):
    web.routes["/"] = Route("late", delay=3)
    started = time.monotonic()
    section = webserver.collect(options(web.url("/"), timeout=0.3), make_ctx(tmp_path, timeout=10))
    assert time.monotonic() - started < 2
    assert section["up"] is False
    assert section["status_code"] is None
    assert "no answer within 0.3 s" in section["problem"]


def test_context_timeout_applies_when_option_is_none(web, tmp_path):
    web.routes["/"] = Route("late", delay=3)
    section = webserver.collect(options(web.url("/")), make_ctx(tmp_path, timeout=0.3))
    assert "no answer within 0.3 s" in section["problem"]


def test_refused_port_is_down(closed_port, tmp_path):
    url = "http://127.0.0.1:%d/" % closed_port
    section = webserver.collect(options(url), make_ctx(tmp_path))
    assert section["up"] is False
    assert "connection refused" in section["problem"]
    assert url in section["problem"]


def test_https_with_right_ca_reports_certificate(web_tls, tls_files, tmp_path):
    web_tls.routes["/"] = Route("ok", content_type="text/plain")
    section = webserver.collect(options(web_tls.url("/"), ca_path=tls_files.ca), make_ctx(tmp_path))
    assert section["up"] is True
    assert section["tls"]["subject"] == tls_files.cn
    assert tls_files.days - 1 < section["tls"]["days_left"] <= tls_files.days
    assert section["tls"]["not_after"].endswith("Z")


def test_https_with_wrong_ca_is_down_but_still_shows_the_certificate(web_tls, tls_files, tmp_path):
    web_tls.routes["/"] = Route("ok", content_type="text/plain")
    section = webserver.collect(options(web_tls.url("/"), ca_path=tls_files.other_ca), make_ctx(tmp_path))
    assert section["up"] is False
    assert "set ca_path" in section["problem"]
    assert section["tls"]["subject"] == tls_files.cn
    assert section["tls"]["days_left"] > 0


def test_https_without_validation(web_tls, tls_files, tmp_path):
    web_tls.routes["/"] = Route("ok", content_type="text/plain")
    section = webserver.collect(options(web_tls.url("/"), validate_certs=False), make_ctx(tmp_path))
    assert section["up"] is True
    assert tls_files.days - 1 < section["tls"]["days_left"] <= tls_files.days


@pytest.mark.parametrize("url", ["", None, "ftp://127.0.0.1/", "https://"])
def test_bad_url_raises(url, tmp_path):
    with pytest.raises(CollectorError):
        webserver.collect(options(url), make_ctx(tmp_path))


def test_missing_ca_file_raises(web_tls, tmp_path):
    with pytest.raises(CollectorError, match="ca_path"):
        webserver.collect(options(web_tls.url("/"), ca_path=str(tmp_path / "missing.pem")), make_ctx(tmp_path))
