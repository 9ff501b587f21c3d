# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of personal data (e-mail addresses, phone numbers) in text that leaves the host.

Log lines of a telephony server are full of caller numbers. Proactive support must not carry
personal data, so every line the collectors return goes through :func:`mask_personal_data`:

* an e-mail address becomes ``***@***``;
* a phone number keeps its first 3 characters and every further digit becomes ``*``
  (separators stay): ``+39 021 234 5678`` -> ``+39 *** *** ****``.

What counts as a phone number: a run of digits, optionally led by ``+`` or ``(``, whose groups
are separated by spaces, dots, dashes or parentheses, with at least 7 digits after a ``+`` and
at least 6 otherwise (``0039...`` and national numbers are plain runs). Left alone, so that the
line stays useful: ISO dates and times, IPv4 addresses (with a port), UUIDs, numbers after
``pid``/``port``/``size``-like words or in ``name[1234]``, versions such as ``2024.Winter.1`` or
``10.0.17763.1234``, decimals such as ``1795000000.12`` and any number with fewer than 6
digits. When in doubt a long number is masked: over-masking loses a detail, under-masking leaks
a person's number.

Standard library only; Python 3.8+.
"""

from __future__ import annotations

import re

EMAIL_MASK = "***@***"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

# Spans that look numeric but are not personal data. They are set aside before phone numbers
# are looked for, so a number can never run into them.
_PROTECTED = re.compile(
    "|".join(
        [
            # ISO 8601 date, optionally with time, fraction and zone: 2026-11-26T05:39:58.123+01:00
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?",
            # Day-first dates: 26.11.2026, 26-11-2026
            r"(?<!\d)\d{2}[.\-]\d{2}[.\-]\d{4}(?!\d)",
            # A time of day on its own: 05:39:58,123456
            r"(?<!\d)\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?!\d)",
            # IPv4 address, optionally with a port
            r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.]*\d)",
            # UUID
            r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b",
            # Numbers named as process/thread ids, ports, sizes and the like: pid=1234567
            r"(?i:\b(?:pid|ppid|tid|process|thread|port|errno|size|bytes)\s*[=:#]?\s*\d+)",
            # syslog-style process id: ias-voip[1234567]
            r"\[\d+\]",
        ]
    )
)

# Digits with single separators (or a separator and a parenthesis) between them.
_PHONE = re.compile(r"(?<![\w.+\-])(?:\+|\(\+?)?\d(?:[ .\-()]{0,2}\d)*(?!\w)")
_DIGIT_GROUP = re.compile(r"\d+")
_PLACEHOLDER = "\ue000"


def _is_phone(candidate: str) -> bool:
    """Decide whether a digit run found by ``_PHONE`` is a phone number."""
    groups = _DIGIT_GROUP.findall(candidate)
    digits = sum(len(group) for group in groups)
    if candidate.lstrip("(").startswith("+"):
        return digits >= 7
    if digits < 6:
        return False
    separators = set(re.sub(r"\d", "", candidate))
    if separators == {"."}:
        # Dotted runs are versions or decimals unless they look like 02.1234.5678.
        return len(groups) >= 3 and digits >= 8 and all(len(group) >= 2 for group in groups)
    if len(groups) > 1 and any(len(group) < 2 for group in groups[1:]):
        # "0 1 2 3 4 5": a list of small numbers, not a phone number.
        return False
    return True


def _mask_number(candidate: str) -> str:
    """Keep the first 3 characters, turn every further digit into ``*``."""
    return candidate[:3] + re.sub(r"\d", "*", candidate[3:])


def _mask_phone_match(match) -> str:
    text = match.group(0)
    return _mask_number(text) if _is_phone(text) else text


def mask_personal_data(text: str) -> str:
    """Return ``text`` with e-mail addresses and phone numbers masked.

    ``None`` and the empty string are returned unchanged.
    """
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MASK, text)
    # The placeholder character is private-use; drop any in the input so it cannot confuse
    # the restore step.
    text = text.replace(_PLACEHOLDER, "")
    kept = []

    def _set_aside(match) -> str:
        kept.append(match.group(0))
        return _PLACEHOLDER

    text = _PROTECTED.sub(_set_aside, text)
    text = _PHONE.sub(_mask_phone_match, text)
    if kept:
        restore = iter(kept)
        text = re.sub(_PLACEHOLDER, lambda _match: next(restore), text)
    return text
