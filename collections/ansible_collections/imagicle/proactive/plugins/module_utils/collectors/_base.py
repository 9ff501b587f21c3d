# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the collectors that run on the managed host.

Every collector is a module under ``module_utils/collectors/`` with one public function::

    def collect(options: dict, ctx: CollectContext) -> dict

``options`` is the collector's own option dictionary (already validated by the module's
argument spec, defaults applied). The function returns its section of ``imagicle_health``.
Expected failures raise :class:`CollectorError` with a message that says what failed and what
to do; the orchestrator turns it (and any unexpected exception) into ``{"error": "..."}`` for
that section only, so one broken collector never hides the others.

This file must stay importable on Python 3.8 with the standard library only.
"""

from __future__ import annotations

import json
import os
import tempfile
import time


class CollectorError(Exception):
    """An expected failure of one collector: the message is shown to the user as-is."""


class NotConfigured(CollectorError):
    """The collector has nothing to look at: an option that describes the installation is unset.

    The module has no default for what differs between installations (process names, the paths of
    the database, logs and release file): the orchestrator turns this into
    ``{"not_configured": "..."}`` for the section, a message naming what to set.
    """

    def __init__(self, what: str, option: str, example: str = ""):
        variable = "imagicle_" + option
        message = "not configured: %s; set the option %s (inventory variable %s)%s" % (
            what, option, variable, ", e.g. " + example if example else "")
        super().__init__(message)
        self.option = option
        self.variable = variable


class HostState:
    """A small JSON document per collector kept on the managed host between runs.

    Used for event-log offsets and last-seen process start times. In check mode the state is
    read but never written, so a check run does not consume events.
    """

    def __init__(self, state_dir: str, check_mode: bool = False):
        self.state_dir = state_dir
        self.check_mode = check_mode

    def _path(self, name: str) -> str:
        return os.path.join(self.state_dir, "%s.json" % name)

    def load(self, name: str) -> dict:
        path = self._path(name)
        try:
            with open(path, "r", encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CollectorError(
                "cannot read state file %s (%s); remove it to start afresh" % (path, exc)
            )
        return data if isinstance(data, dict) else {}

    def save(self, name: str, data: dict) -> bool:
        """Write the state atomically. Returns False in check mode (nothing written)."""
        if self.check_mode:
            return False
        path = self._path(name)
        try:
            os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".%s." % name, dir=self.state_dir)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, sort_keys=True)
            os.replace(tmp, path)
        except OSError as exc:
            raise CollectorError(
                "cannot write state file %s (%s); check that state_dir is writable" % (path, exc)
            )
        return True


class CollectContext:
    """What every collector may use besides its own options."""

    def __init__(self, state: HostState, check_mode: bool = False, timeout: float = 10.0, cpu=None):
        self.state = state
        self.check_mode = check_mode
        # Per-collector network/IO timeout in seconds.
        self.timeout = timeout
        # A finished :class:`collectors._cpu.CpuSample` (system and processes collectors only).
        self.cpu = cpu
        self.started = time.time()


def round2(value):
    """Round a float for output; None stays None."""
    return None if value is None else round(float(value), 2)
