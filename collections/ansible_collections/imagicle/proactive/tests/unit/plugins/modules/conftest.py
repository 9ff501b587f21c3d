# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules run as on a managed host, whatever other tests of the session imported.

Importing Ansible's controller code (the filter and action tests do) marks the process as the
controller, and from then on ``module.warn()`` goes to the controller's display instead of the
module's result. A module never runs on the controller's side, so its tests put the flag back.
"""

from __future__ import annotations

import pytest

from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def _as_on_a_managed_host(monkeypatch):
    monkeypatch.setattr(_internal, "is_controller", False)
