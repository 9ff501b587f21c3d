# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of personal data (e-mail addresses, phone numbers) in text that leaves the host.

Log lines of a telephony server are full of caller numbers. Proactive support must not carry
personal data, so every line the collectors return goes through :func:`mask_personal_data`, and
every host-supplied string the controller prints goes through :func:`one_line`:

* an e-mail address becomes ``***@***``;
* a phone number keeps its first 3 characters and every further digit becomes ``*``
  (separators stay): ``+39 021 234 5678`` -> ``+39 *** *** ****``.

What counts as a phone number: a run of digits, optionally led by ``+`` or ``(``, whose groups
are separated by spaces, dots, dashes, slashes or parentheses, with at least 7 digits after a
``+`` and at least 6 otherwise (``0039...`` and national numbers are plain runs). The run may be
glued to letters or punctuation (``caller3471234567``, ``id=3471234567``, ``[3471234567]``).
Left alone, so that the line stays useful:

* real dates (day 01-31, month 01-12, year 19xx or 20xx): ISO ``2026-11-26T05:39:58Z``, day or
  month first ``26.11.2026``, ``26/11/2026``, ``11/26/2026``, compact ``20261126``; times of day;
* IPv4 addresses (octets 0-255, with a port), UUIDs, ``0x`` numbers, CVE ids, hexadecimal
  tokens such as a hash ``abc1234567def`` (unless they hold a run of 9 or more digits);
* numbers named as a process or thread id (at most 7 digits: ``pid 4194304``), a port (at most
  5), an errno (at most 5) or a size (at most 9 digits), and syslog process ids ``name[1234]``
  (at most 7 digits);
* versions such as ``2024.Winter.1`` or ``10.0.17763.1234`` (a dotted run with a 1-digit
  group), decimals such as ``1795000000.12`` (a dotted pair whose integer part has 9 or more
  digits, or whose fraction or total is too short for a phone number), lists of small numbers
  (``0 1 2 3 4 5``), and any number with fewer than 6 digits.

A protected span is never glued to further digits: ``02-12-3456`` is no date (3456 is no year)
and ``caller[3471234567]`` no process id (too long), so both are masked. When in doubt a long
number is masked: over-masking loses a detail, under-masking leaks a person's number.

Standard library only; Python 3.8+.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

EMAIL_MASK = "***@***"
# Longest host-supplied text :func:`one_line` keeps by default.
TEXT_LIMIT = 120

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

# Building blocks of the protected spans.
_YEAR = r"(?:19|20)\d{2}"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_CLOCK = r"(?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Not glued to a digit, nor to a digit and one separator ("34-2026-11-26" is a phone number).
_FREE_BEFORE = r"(?<!\d)(?<!\d[.\-/])"
_FREE_AFTER = r"(?!\d)(?![.\-/]\d)"

# Spans that look numeric but are not personal data. They are set aside before phone numbers
# are looked for, so a number can never run into them. The named group says which kind matched.
_PROTECTED = re.compile(
    "|".join(
        [
            # ISO 8601 date, optionally with time, fraction and zone: 2026-11-26T05:39:58.123+01:00
            r"(?P<iso>%s%s-%s-%s(?:[T ]%s(?:Z|[+\-](?:[01]\d|2[0-3]):?[0-5]\d)?)?%s)"
            % (_FREE_BEFORE, _YEAR, _MONTH, _DAY, _CLOCK, _FREE_AFTER),
            # Year first with slashes or dots: 2026/11/26, 2026.11.26
            r"(?P<ymd>%s%s(?P<ysep>[./])%s(?P=ysep)%s%s)" % (_FREE_BEFORE, _YEAR, _MONTH, _DAY, _FREE_AFTER),
            # Day or month first: 26.11.2026, 26-11-2026, 26/11/2026, 11/26/2026
            r"(?P<dmy>%s(?:%s(?P<dsep>[.\-/])%s|%s(?P<msep>[.\-/])%s)(?:(?P=dsep)|(?P=msep))%s%s)"
            % (_FREE_BEFORE, _DAY, _MONTH, _MONTH, _DAY, _YEAR, _FREE_AFTER),
            # Compact date, optionally with a time: 20261126, 20261126T053958Z
            r"(?P<compact>(?<!\d)(?<!\d[ .\-/])%s%s%s(?:T(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?Z?)?%s)"
            % (_YEAR, _MONTH, _DAY, _FREE_AFTER),
            # A time of day on its own: 05:39:58,123456
            r"(?P<clock>%s%s(?!\d))" % (_FREE_BEFORE, _CLOCK),
            # IPv4 address, optionally with a port
            r"(?P<ipv4>(?<![\d.])(?<!\d[ \-/])%s(?:\.%s){3}(?::\d{1,5})?(?![\d.]*\d)(?![ \-/]\d))" % (_OCTET, _OCTET),
            # UUID
            r"(?P<uuid>\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b)",
            # CVE id and hexadecimal numbers: CVE-2024-12345, 0x7ffd5fbff8c8
            r"(?P<cve>\bCVE-%s-\d{4,7}\b)" % _YEAR,
            r"(?P<hexnum>\b0[xX][0-9A-Fa-f]+\b)",
            # A hexadecimal token with letters and digits, such as a hash: abc1234567def
            r"(?P<hex>(?<!\d[ .\-/])\b(?=[0-9A-Fa-f]*[A-Fa-f])(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f]{7,}\b(?![ .\-/]\d))",
            # Numbers named as process/thread ids, ports, sizes and the like: pid=1234567
            r"(?P<named>(?i:\b(?:(?:pid|ppid|tid|process|thread)\s*[=:#]?\s*\d{1,7}"
            r"|port\s*[=:#]?\s*\d{1,5}|errno\s*[=:#]?\s*\d{1,5}|(?:size|bytes)\s*[=:#]?\s*[1-9]\d{0,8})"
            r"(?!\d)(?![ .\-/]\d)))",
            # syslog-style process id: ias-voip[1234567] (pid_max is 4194304: at most 7 digits)
            r"(?P<syslog>\[\d{1,7}\])",
        ]
    )
)
# A hexadecimal token holding this many digits in a row may be a phone number glued to letters.
_LONG_DIGIT_RUN = re.compile(r"\d{9}")

# Digits with single separators (or a separator and a parenthesis) between them, glued to
# anything but another digit.
_PHONE = re.compile(r"(?<!\d)(?:\+|\(\+?)?\d(?:[ .\-/()]{0,2}\d)*")
_DIGIT_GROUP = re.compile(r"\d+")
_PLACEHOLDER = "\ue000"
# Control, zero-width, bidirectional and line/paragraph separator characters: none may reach a
# console or a file as they are (a "\n" in a process name would print as a line of its own).
_UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+")


def _is_decimal(integer: str, fraction: str) -> bool:
    """Whether ``integer.fraction`` reads as a decimal number rather than a dotted phone number."""
    if len(integer) >= 2 and integer.startswith("0"):
        return False  # 02.12345678, 0039.347...: a decimal has no leading zero
    return len(integer) < 2 or len(integer) > 8 or len(fraction) < 2 or len(integer) + len(fraction) < 9


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
        if len(groups) == 2:
            return not _is_decimal(*groups)
        # Dotted runs are versions unless they look like 02.1234.5678.
        return digits >= 8 and all(len(group) >= 2 for group in groups)
    if 2 * sum(len(group) == 1 for group in groups) >= len(groups) and max(len(group) for group in groups) <= 4:
        # "0 1 2 3 4 5": a list of small numbers, not a phone number ("3471234567 2" is one).
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
        span = match.group(0)
        if match.lastgroup == "hex" and _LONG_DIGIT_RUN.search(span):
            return span  # letters glued to a long number: left to the phone number check
        kept.append(span)
        return _PLACEHOLDER

    text = _PROTECTED.sub(_set_aside, text)
    text = _PHONE.sub(_mask_phone_match, text)
    if kept:
        restore = iter(kept)
        text = re.sub(_PLACEHOLDER, lambda _match: next(restore), text)
    return text


def type_name(value) -> str:
    """The kind of a value as its YAML/JSON reader sees it: null, bool, int, float, str, list, dict.

    Subclasses (Ansible's tagged and lazy types, for one) are named by their plain base type;
    anything else by its class name.
    """
    if value is None:
        return "null"
    for kind in (bool, int, float, str, bytes, list, tuple, dict, set):
        if isinstance(value, kind):
            return kind.__name__
    if isinstance(value, Mapping):
        return "dict"
    return type(value).__name__


def _as_text(value) -> str:
    """A value as text for :func:`one_line`: strings as they are, numbers written out, others by type."""
    if isinstance(value, str):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        try:
            return str(value)
        except ValueError:  # an int too long to write out (Python's limit on int digits)
            return "<int>"
    return "<%s>" % type_name(value)


def one_line(value, limit: int = TEXT_LIMIT) -> str:
    """Host-supplied ``value`` as one line of at most ``limit`` characters, personal data masked.

    Control characters (CR, LF, tabs...), zero-width and bidirectional marks become one space
    each run, so that the text cannot forge extra lines or reorder what a console shows; then
    e-mail addresses and phone numbers are masked, then the text is cut to ``limit`` (ending in
    ``...``). None is ""; a list or mapping is only named by its type (``<list>``), so that a
    malformed value never copies a whole structure into a message. Never raises.
    """
    limit = max(int(limit), 4)
    text = _as_text(value)
    # Cut well past the limit first, so that masking never works on megabytes; what is shown
    # comes from before this cut (unless masked addresses shortened the text a lot, and then the
    # cut leaves at most the start of one number, masked when it has 6 digits or more).
    text = _UNSAFE_CHARACTERS.sub(" ", text[: limit * 4 + 64]).strip()
    text = mask_personal_data(text)
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text
