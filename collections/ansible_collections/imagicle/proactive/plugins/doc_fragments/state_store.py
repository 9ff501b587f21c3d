# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The state store option of the modules that read or change it (case_info, silence)."""

    DOCUMENTATION = r"""
options:
  store:
    description:
      - The state store, as the C(store) option of the C(imagicle.proactive.cases) callback. Defaults to the
        callback's setting (C(IMAGICLE_STATE_STORE), else C([imagicle_cases] store) in ansible.cfg, else its default file).
    type: str
"""
