# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``capacity`` section: licensed channels in use per application, from the Suite Web API.

- Call Recording: ``LiveRecordings`` is the list of active recordings; its length is the number
  of recording channels in use. The recordings themselves carry phone numbers (personal data)
  and are never returned.
- Advanced Queuing: real-time statistics give ``callsBeingServed`` (in use) and
  ``availableChannels``; the licensed count is the configured one, else in use + available.
- IVR: the list of active calls; its length is the number of channels in use.

Licensed counts are not readable from any public API: they come from the options. One
application failing gives that application ``{"error": ...}``; the others are still reported.
"""

from __future__ import annotations

import json

from ansible_collections.imagicle.proactive.plugins.module_utils import _http
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError, round2

DEFAULT_PATHS = {
    "call_recording": "/fw/Apps/Recorder/WebAPI/LiveRecordings",
    "advanced_queuing": "/fw/Apps/QME/WebAPI/RealTimeStatistics",
    "ivr": "/fw/Apps/IVR/WebAPI/ActiveCalls",
}
APPS = tuple(DEFAULT_PATHS)


def _source(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _count(value, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CollectorError("%s: %s is %s, expected a whole number >= 0" % (where, key, json.dumps(value)))
    return value


def _list_length(data, where: str) -> int:
    if not isinstance(data, list):
        raise CollectorError("%s: expected a JSON list, got %s" % (where, type(data).__name__))
    return len(data)


def _usage(in_use: int, licensed, available=None) -> dict:
    """in_use / licensed / available / used_percent; percentages only when licensed is known."""
    if licensed is not None and available is None:
        available = licensed - in_use
    used = round2(in_use * 100.0 / licensed) if licensed else None
    return {"in_use": in_use, "licensed": licensed, "available": available, "used_percent": used}


def app_usage(app: str, data, licensed, where: str) -> dict:
    """Turn one Web API answer into the app's usage entry (never copying the answer itself)."""
    if app in ("call_recording", "ivr"):
        return _usage(_list_length(data, where), licensed)
    if app == "advanced_queuing":
        if not isinstance(data, dict):
            raise CollectorError("%s: expected a JSON object with callsBeingServed and availableChannels, got %s"
                                 % (where, type(data).__name__))
        for key in ("callsBeingServed", "availableChannels"):
            if key not in data:
                raise CollectorError("%s: the answer has no %s" % (where, key))
        in_use = _count(data["callsBeingServed"], "callsBeingServed", where)
        available = _count(data["availableChannels"], "availableChannels", where)
        return _usage(in_use, licensed if licensed is not None else in_use + available, available)
    raise CollectorError("unknown application %r: use one of %s" % (app, ", ".join(APPS)))


def _licensed(app: str, value):
    """The configured licensed count: None, or a whole number >= 0 (an int or a string of digits)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CollectorError("licensed count of %s must be a whole number >= 0 (got %r)" % (app, value))
    return value


def collect(options: dict, ctx) -> dict:
    base_url = (options.get("base_url") or "").rstrip("/")
    _http.parse_url(base_url)  # bad options raise here
    apps = options.get("apps")
    apps = list(APPS) if apps is None else list(apps)
    unknown = [app for app in apps if app not in DEFAULT_PATHS]
    if unknown:
        raise CollectorError("unknown application(s) %s in capacity apps: use %s"
                             % (", ".join(map(str, unknown)), ", ".join(APPS)))
    paths = dict(DEFAULT_PATHS)
    paths.update({k: v for k, v in (options.get("paths") or {}).items() if v})
    licensed_all = options.get("licensed") or {}
    result = {}
    for app in apps:
        path = paths[app] if paths[app].startswith("/") else "/" + paths[app]
        url = base_url + path
        try:
            licensed = _licensed(app, licensed_all.get(app))
            data, answer = _http.get_json(url, ctx.timeout, username=options.get("username"),
                                          password=options.get("password"), ca_path=options.get("ca_path"),
                                          validate_certs=options.get("validate_certs", True))
            entry = app_usage(app, data, licensed, "GET %s" % answer.url)
        except _http.HttpOptionError:
            raise  # a configuration error, e.g. a missing CA file
        except CollectorError as exc:
            result[app] = {"error": str(exc)}
            continue
        entry["source"] = _source(path)
        result[app] = entry
    return {"apps": result}
