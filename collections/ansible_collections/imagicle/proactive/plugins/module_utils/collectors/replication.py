# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``replication`` section: high-availability state of the node and clock skew to its peer.

The Suite reports replication through notifications (sync not ready / sync ready, failure with a
reason, failover, no available node, failback). Which file holds the current state
(``{"state", "reason", "peer", "updated_at"}``) is not a documented product path: it is the
option ``status_file``, without a default. Unset, or the file absent, the host is not in an HA
pair (``{"configured": False}``). Replication is inhibited when two nodes' clocks
differ by more than 15 seconds, so the peer's ``Date`` header is compared with the local clock.
"""

from __future__ import annotations

import email.utils
import json

from ansible_collections.imagicle.proactive.plugins.module_utils import _http
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError, round2

MAX_CLOCK_SKEW_SECONDS = 15.0
STATES = ("sync_ready", "sync_not_ready", "failure", "failover", "no_available_node", "failback", "unknown")
ALIASES = {
    "ready": "sync_ready",
    "synchronized": "sync_ready",
    "in_sync": "sync_ready",
    "not_ready": "sync_not_ready",
    "sync_not_ready": "sync_not_ready",
    "failed": "failure",
    "fail": "failure",
    "replication_failure": "failure",
    "sync_failure": "failure",
    "no_node_available": "no_available_node",
    "no_available_nodes": "no_available_node",
}


def normalise_state(raw) -> str:
    """Map a notification text ("sync ready", "Sync-Ready", "sync_ready", ...) to one of STATES."""
    if not isinstance(raw, str) or not raw.strip():
        return "unknown"
    key = "_".join(raw.strip().lower().replace("-", " ").replace("_", " ").split())
    if key in STATES:
        return key
    return ALIASES.get(key, "unknown")


def read_status(path: str):
    """The status document, or None when the file does not exist."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read(1048576)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CollectorError("cannot read replication status file %s (%s)" % (path, exc))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CollectorError("replication status file %s is not valid JSON (%s)" % (path, exc))
    if not isinstance(data, dict):
        raise CollectorError("replication status file %s must hold a JSON object with a \"state\" key" % path)
    return data


def clock_skew(result) -> float:
    """Peer clock minus ours (seconds), from the ``Date`` header and the midpoint of the exchange."""
    header = result.headers.get("date")
    if not header:
        raise CollectorError("GET %s answered without a Date header: cannot compare clocks" % result.url)
    try:
        peer = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        peer = None
    if peer is None or peer.tzinfo is None:
        raise CollectorError("GET %s answered an unreadable Date header %s" % (result.url, json.dumps(header)))
    ours = (result.started + result.headers_at) / 2.0
    return peer.timestamp() - ours


def collect(options: dict, ctx) -> dict:
    path = options.get("status_file")
    peer_url = options.get("peer_url")
    if peer_url:
        _http.parse_url(peer_url)  # bad options raise here
    data = read_status(path) if path else None
    if data is None:
        return {"configured": False}
    raw = data.get("state")
    state = normalise_state(raw)
    reason = data.get("reason")
    if raw is not None and str(raw).strip().lower().replace(" ", "_") == "time_not_aligned":
        state, reason = "failure", reason or "time not aligned"
    section = {"configured": True, "state": state, "healthy": False, "reason": reason,
               "peer": data.get("peer"), "updated_at": data.get("updated_at"),
               "clock_skew_seconds": None, "problem": None}
    errors = []
    if state == "unknown":
        errors.append("unknown replication state %s in %s" % (json.dumps(raw), path))
    skew = None
    if peer_url:
        try:
            result = _http.http_get(peer_url, ctx.timeout, ca_path=options.get("ca_path"),
                                    validate_certs=options.get("validate_certs", True), max_bytes=0)
            skew = clock_skew(result)
            section["clock_skew_seconds"] = round2(skew)
        except _http.HttpOptionError:
            raise  # a configuration error, e.g. a missing CA file
        except CollectorError as exc:
            errors.append("clock skew unknown: %s" % exc)
    if skew is not None and abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        errors.append("the peer clock differs by %.1f s (more than %d s inhibits replication): "
                      "synchronise both nodes with NTP" % (skew, MAX_CLOCK_SKEW_SECONDS))
    section["healthy"] = state == "sync_ready" and (skew is None or abs(skew) <= MAX_CLOCK_SKEW_SECONDS)
    section["problem"] = "; ".join(errors) or None
    return section
