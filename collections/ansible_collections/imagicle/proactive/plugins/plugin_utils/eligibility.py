# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a host may get proactive support cases: the requirements of the product brief.

Proactive support applies to a host when all of these hold:

* its customer's plan has proactive support (gold, platinum; basic does not);
* the customer gave consent to send data (``imagicle_consent: true``; absent means no);
* the server is connected to the vendor cloud, that is activated with cloud licensing
  (``imagicle_cloud_connected``, default true). A failing connection test of a connected
  server is the P1 alarm ``cloud_connection_failed``, not a reason to stop watching it;
* its release is Winter 2020 or later (``YYYY.Season.N``, Winter < Spring < Summer).

An ineligible host gets no cases, and without consent nothing about it leaves the controller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors.release import (
    parse_release,
    release_key,
)

MINIMUM_RELEASE = "2020.Winter.1"


@dataclass(frozen=True)
class Eligibility:
    """The verdict for one host, with every reason it is not eligible."""

    eligible: bool
    reasons: tuple = field(default_factory=tuple)
    consent: bool = False

    def to_dict(self) -> dict:
        return {"eligible": self.eligible, "reasons": list(self.reasons), "consent": self.consent}


def _release_reason(health) -> str | None:
    """Why the host's release does not qualify, or None when it does."""
    section = health.get("release") if isinstance(health, dict) else None
    if not isinstance(section, dict) or section.get("error") or not section.get("raw"):
        return "the installed release is unknown (release section missing or failed)"
    try:
        installed = parse_release(str(section["raw"]))
    except ValueError:
        return "the installed release %r is not of the form YYYY.Season.N" % str(section["raw"])[:40]
    if release_key(installed) < release_key(parse_release(MINIMUM_RELEASE)):
        return "release %s is older than Winter 2020, the oldest with proactive support" % section["raw"]
    return None


def check_eligibility(*, plan_name: str, plan_proactive: bool, consent, cloud_connected, health) -> Eligibility:
    """Apply the brief's requirements; ``health`` may be None when the host did not report.

    A host that did not report is judged on what is known without facts (plan, consent,
    cloud): its "not reporting" alarm is still filed when those allow it.
    """
    reasons = []
    if not plan_proactive:
        reasons.append("plan %s has no proactive support" % plan_name)
    if consent is not True:
        reasons.append("the customer has not given consent to send data (imagicle_consent is not true)")
    if cloud_connected is not True:
        reasons.append("the server is not connected to the vendor cloud (imagicle_cloud_connected is false)")
    if isinstance(health, dict):
        release_reason = _release_reason(health)
        if release_reason:
            reasons.append(release_reason)
    return Eligibility(eligible=not reasons, reasons=tuple(reasons), consent=consent is True)
