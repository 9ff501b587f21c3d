# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings shared with the cases callback: the modules that read or change the state store
(case_info, silence) use the store the callback is configured with, unless told otherwise."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

CALLBACK = "imagicle.proactive.cases"
# The options read so far, by name and by the environment they were read in (ansible.cfg is read once per
# process). The cases callback reads ``store`` in the run's main process before the run forks its workers,
# which inherit it: otherwise every host's evaluate task would load the callback plugin and resolve its
# options again.
_READ: dict = {}


def _environment() -> tuple:
    return tuple(sorted(item for item in os.environ.items() if item[0].startswith(("IMAGICLE_", "ANSIBLE_"))))


def callback_option(name: str):
    """The value of option ``name`` of the cases callback as configured for this run: its
    environment variable, then its ``[imagicle_cases]`` key in ansible.cfg, then its default.
    Read even when the callback is not enabled for the run."""
    key = (name, _environment())
    if key not in _READ:
        from ansible import constants as C  # pylint: disable=import-outside-toplevel
        from ansible.plugins.loader import callback_loader  # pylint: disable=import-outside-toplevel

        plugin = callback_loader.get(CALLBACK)
        if plugin is None:  # the collection is not installed where Ansible looks (e.g. its unit tests)
            _READ[key] = os.environ.get("IMAGICLE_STATE_STORE") if name == "store" else None
        else:
            _READ[key] = C.config.get_plugin_options("callback", plugin._load_name).get(name)
    return _READ[key]


def store_url(explicit=None):
    """The state store to use: ``explicit`` when given, else the cases callback's ``store``."""
    return explicit if explicit not in (None, "") else callback_option("store")


class SpecAction(ActionBase):
    """Base of the actions that run on the controller (no connection to the host, no file transfer)
    with the options of ``SPEC``, the module's argument spec (module_utils.argument_specs)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    SPEC: dict = {}

    def task_args(self) -> dict:
        """The task's options validated against ``SPEC`` by Ansible's argument spec validation (an unknown
        option, a wrong type or a value outside the choices fails the task naming the option and what is
        allowed); every option of the spec, its default or None when not given."""
        try:
            return self.validate_argument_spec(**self.SPEC)[1]
        except AnsibleActionFail as exc:
            # Ansible names the plugin by its Python module here; the user knows the module's name.
            message = str(exc.message)
            internal = "(%s) module" % self._load_name
            if internal not in message:
                raise
            name = self._task.resolved_action or self._task.action
            raise AnsibleActionFail(message.replace(internal, "(%s) module" % name)) from None


class StoreAction(SpecAction):
    """Base of the actions that read or change the state store."""

    @staticmethod
    def open_state_store(explicit):
        """The state store of option ``store``, else the cases callback's."""
        return open_store(store_url(explicit), "state store (option store)")
