# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""psutil, imported once behind the missing-library guard.

``psutil`` is None when the managed host's Python lacks it; the sections that need it then
report the missing library (see ``appsuite_health.missing_psutil_message``).
"""

from __future__ import annotations

import traceback

try:
    import psutil
except ImportError:
    psutil = None
    PSUTIL_IMPORT_ERROR = traceback.format_exc()
else:
    PSUTIL_IMPORT_ERROR = None

HAS_PSUTIL = psutil is not None
