# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``webserver`` section: is the Suite web portal up, how fast, and when does its certificate expire.

A server that is down, slow or answers an error status is the fact being reported
(``up: false`` with ``problem``), not a collector failure; only bad options raise.
"""

from __future__ import annotations

from ansible_collections.imagicle.proactive.plugins.module_utils import _http
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError


def _tls_anyway(url: str, timeout: float):
    """Certificate facts of a server whose certificate failed verification (handshake only), or None."""
    return _http.certificate_of(url, timeout)


def collect(options: dict, ctx) -> dict:
    """GET ``options["url"]``; up = answered 2xx/3xx within the timeout (redirects not followed)."""
    url = options.get("url")
    _http.parse_url(url)  # bad options raise here
    timeout = options.get("timeout")
    timeout = float(ctx.timeout if timeout is None else timeout)
    if timeout <= 0:
        raise CollectorError("webserver timeout must be greater than 0 (got %s)" % timeout)
    validate = options.get("validate_certs", True)
    section = {"url": _http.safe_url(url), "up": False, "status_code": None, "latency_ms": None,
               "tls": None, "problem": None}
    try:
        result = _http.http_get(url, timeout, ca_path=options.get("ca_path"), validate_certs=validate,
                                max_bytes=0)
    except _http.HttpOptionError:
        raise  # a configuration error, e.g. a missing CA file
    except CollectorError as exc:
        section["problem"] = str(exc)
        if isinstance(exc, _http.TlsVerifyError):
            section["tls"] = _tls_anyway(url, timeout)
        return section
    section["status_code"] = result.status
    section["latency_ms"] = result.latency_ms
    section["tls"] = result.tls
    if 200 <= result.status < 400:
        section["up"] = True
    else:
        section["problem"] = "GET %s answered HTTP %d %s" % (result.url, result.status, result.reason)
    return section
