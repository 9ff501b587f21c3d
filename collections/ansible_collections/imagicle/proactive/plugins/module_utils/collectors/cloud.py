# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``cloud`` section: can the host reach the Imagicle cloud (licensing, proactive telemetry)?

Imagicle documents ``GET https://api.imagicle.com/test`` answering
``{"message":"successfully connected!"}``; a proxy must tunnel TLS (HTTP CONNECT), not inspect it.
An unreachable cloud is the fact being reported (``reachable: false`` with ``problem``); only bad
options raise.
"""

from __future__ import annotations

import json

from ansible_collections.imagicle.proactive.plugins.module_utils import _http
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError

DEFAULT_URL = "https://api.imagicle.com/test"
DEFAULT_MESSAGE = "successfully connected!"


def _message(body: bytes):
    """The ``message`` of a JSON object body, else None."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"]
    return None


def collect(options: dict, ctx) -> dict:
    url = options.get("url") or DEFAULT_URL
    _http.parse_url(url)  # bad options raise here
    proxy = options.get("proxy") or None
    if proxy:
        _http.parse_url(proxy)
    expected = options.get("expected_message") or DEFAULT_MESSAGE
    timeout = options.get("timeout")
    timeout = float(ctx.timeout if timeout is None else timeout)
    if timeout <= 0:
        raise CollectorError("cloud timeout must be greater than 0 (got %s)" % timeout)
    section = {"url": _http.safe_url(url), "reachable": False, "status_code": None, "message": None,
               "latency_ms": None, "problem": None}
    if proxy:
        section["proxy"] = _http.safe_url(proxy)
    try:
        result = _http.http_get(url, timeout, ca_path=options.get("ca_path"),
                                validate_certs=options.get("validate_certs", True), proxy=proxy, max_bytes=65536)
    except _http.HttpOptionError:
        raise  # a configuration error, e.g. a missing CA file
    except CollectorError as exc:
        section["problem"] = str(exc)
        return section
    section["status_code"] = result.status
    section["latency_ms"] = result.latency_ms
    message = _message(result.body)
    section["message"] = message
    where = "GET %s" % result.url
    if result.status != 200:
        section["problem"] = "%s answered HTTP %d %s" % (where, result.status, result.reason)
    elif message is None:
        hint = " (a proxy or captive portal answering instead of the Imagicle cloud?)" \
            if "HTML page" in _http.describe_body(result.body) else ""
        section["problem"] = "%s did not answer a JSON message but %s%s" % (where, _http.describe_body(result.body), hint)
    elif message.strip().lower() != expected.strip().lower():
        section["problem"] = "%s answered the message %s instead of %s" % (where, json.dumps(message), json.dumps(expected))
    else:
        section["reachable"] = True
    return section
