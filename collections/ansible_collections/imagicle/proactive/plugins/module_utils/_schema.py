# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words shared by the host side (the facts module) and the controller side (evaluation,
cases, mail, summaries), defined once.

* ``FACTS_SCHEMA_VERSION``: the version of ``imagicle_health`` the module writes and the
  evaluator reads; facts of another version make a host "not reporting".
* ``SECTIONS``: the sections of ``imagicle_health``, in the order the module writes them.
* ``PRIORITIES``: the priorities of alarms and cases, most urgent first.
* ``LANGUAGES``: the languages of the texts sent to a customer (``imagicle_language``).
"""

from __future__ import annotations

FACTS_SCHEMA_VERSION = 1
SECTIONS = ("system", "processes", "disks", "database", "webserver", "events", "capacity", "replication", "cloud", "release")
PRIORITIES = ("P1", "P2", "P3", "P4")
LANGUAGES = ("en", "it")
