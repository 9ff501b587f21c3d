# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud reachability collector against a real stand-in of api.imagicle.com/test on 127.0.0.1."""

from __future__ import annotations

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import cloud
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError
from ansible_collections.imagicle.proactive.tests.unit.plugins.module_utils.collectors._netfixtures import (  # noqa: F401 pylint: disable=unused-import
    Route, closed_port, connect_proxy, make_ctx, tls_files, web, web_tls,
)

GOOD = '{"message":"successfully connected!"}'


def options(url, **extra):
    opts = {"url": url, "proxy": None, "ca_path": None, "validate_certs": True,
            "expected_message": "successfully connected!", "timeout": None}
    opts.update(extra)
    return opts


def test_good_answer_is_reachable(web, tmp_path):
    web.routes["/test"] = Route(GOOD)
    section = cloud.collect(options(web.url("/test")), make_ctx(tmp_path))
    assert section == {"url": web.url("/test"), "reachable": True, "status_code": 200,
                       "message": "successfully connected!", "latency_ms": section["latency_ms"], "problem": None}
    assert section["latency_ms"] > 0


def test_wrong_message(web, tmp_path):
    web.routes["/test"] = Route('{"message":"maintenance"}')
    section = cloud.collect(options(web.url("/test")), make_ctx(tmp_path))
    assert section["reachable"] is False
    assert section["message"] == "maintenance"
    assert '"maintenance" instead of "successfully connected!"' in section["problem"]


def test_captive_portal_html_page(web, tmp_path):
    web.routes["/test"] = Route("<html><body>Please log in to the guest Wi-Fi</body></html>", content_type="text/html")
    section = cloud.collect(options(web.url("/test")), make_ctx(tmp_path))
    assert section["reachable"] is False
    assert section["status_code"] == 200
    assert section["message"] is None
    assert "HTML page" in section["problem"] and "captive portal" in section["problem"]


def test_error_status(web, tmp_path):
    web.routes["/test"] = Route(GOOD, status=503)
    section = cloud.collect(options(web.url("/test")), make_ctx(tmp_path))
    assert section["reachable"] is False
    assert "HTTP 503" in section["problem"]


def test_refused_is_a_fact_not_an_exception(closed_port, tmp_path):
    section = cloud.collect(options("http://127.0.0.1:%d/test" % closed_port), make_ctx(tmp_path))
    assert section["reachable"] is False
    assert section["status_code"] is None
    assert "connection refused" in section["problem"]


def test_timeout(web, tmp_path):
    web.routes["/test"] = Route(GOOD, delay=3)
    section = cloud.collect(options(web.url("/test"), timeout=0.3), make_ctx(tmp_path))
    assert section["reachable"] is False
    assert "no answer within 0.3 s" in section["problem"]


def test_through_connect_proxy(web_tls, tls_files, connect_proxy, tmp_path):
    web_tls.routes["/test"] = Route(GOOD)
    section = cloud.collect(options(web_tls.url("/test"), proxy=connect_proxy.url, ca_path=tls_files.ca),
                            make_ctx(tmp_path))
    assert section["reachable"] is True, section["problem"]
    assert section["proxy"] == connect_proxy.url
    assert connect_proxy.tunnels == ["127.0.0.1:%d" % web_tls.port]


def test_inspecting_proxy_is_not_trusted(web_tls, tls_files, connect_proxy, tmp_path):
    """A certificate from an unexpected CA (as a TLS-inspecting proxy presents) is reported."""
    web_tls.routes["/test"] = Route(GOOD)
    section = cloud.collect(options(web_tls.url("/test"), proxy=connect_proxy.url, ca_path=tls_files.other_ca),
                            make_ctx(tmp_path))
    assert section["reachable"] is False
    assert "set ca_path" in section["problem"]


def test_proxy_down(web_tls, closed_port, tmp_path):
    section = cloud.collect(options(web_tls.url("/test"), proxy="http://127.0.0.1:%d" % closed_port),
                            make_ctx(tmp_path))
    assert section["reachable"] is False
    assert "via proxy" in section["problem"] and "connection refused" in section["problem"]


def test_default_url_and_message_are_documented_ones():
    assert cloud.DEFAULT_URL == "https://api.imagicle.com/test"
    assert cloud.DEFAULT_MESSAGE == "successfully connected!"


@pytest.mark.parametrize("bad", [{"url": "ftp://x/"}, {"proxy": "socks5://127.0.0.1:1080"}])
def test_bad_options_raise(bad, tmp_path):
    opts = options("http://127.0.0.1:1/test")
    opts.update(bad)
    with pytest.raises(CollectorError):
        cloud.collect(opts, make_ctx(tmp_path))


def test_missing_ca_file_raises(tmp_path):
    with pytest.raises(CollectorError, match="ca_path"):
        cloud.collect(options("https://127.0.0.1:1/test", ca_path=str(tmp_path / "none.pem")), make_ctx(tmp_path))
