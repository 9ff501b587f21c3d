# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``release`` section: the installed ApplicationSuite release, ``YYYY.Season.N``.

Options: ``{"file": "<path of a file holding the release>"}``. Where the real product records its
release on the host is not public, so there is no default: without ``file`` the section is
``{"not_configured": "..."}``.

:func:`parse_release` and :func:`release_key` are plain functions so that controller-side code
can parse and order releases the same way (Winter < Spring < Summer within a year).
"""

from __future__ import annotations

import re

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import CollectorError, NotConfigured

SEASONS = ("Winter", "Spring", "Summer")
# A release file is one short line; never read more than this.
MAX_READ = 4096
_RELEASE = re.compile(r"(\d{4})\.(winter|spring|summer)\.(\d{1,4})", re.IGNORECASE)


def _quote(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters and escaped, for an error message."""
    shown = text[:limit]
    quoted = shown.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return '"%s"%s' % (quoted, "..." if len(text) > limit else "")


def parse_release(text: str) -> dict:
    """Parse ``YYYY.Season.N`` (season in any case; whitespace and a BOM around it are fine).

    Returns ``{"raw", "year", "season", "number"}`` with the season capitalised and ``raw`` the
    text as found (trimmed). Raises ValueError quoting what was found otherwise.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise ValueError("a release must be text like 2024.Winter.1, got %s" % type(text).__name__)
    raw = text.replace("\ufeff", "").strip()
    match = _RELEASE.fullmatch(raw)
    if match is None:
        raise ValueError(
            "expected a release like 2024.Winter.1 (YYYY.Winter|Spring|Summer.N), found %s" % _quote(raw)
        )
    return {
        "raw": raw,
        "year": int(match.group(1)),
        "season": match.group(2).capitalize(),
        "number": int(match.group(3)),
    }


def release_key(parsed) -> tuple:
    """An ordering key ``(year, season index, number)``; accepts a parsed dict or a string."""
    if not isinstance(parsed, dict):
        parsed = parse_release(parsed)
    return (int(parsed["year"]), SEASONS.index(str(parsed["season"]).capitalize()), int(parsed["number"]))


def collect(options: dict, ctx) -> dict:
    """Return the ``release`` section."""
    if not options.get("file"):
        raise NotConfigured("no file to read the installed release from", "release.file")
    path = str(options["file"])
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_READ)
    except FileNotFoundError:
        raise CollectorError("release file %s not found; set release.file to where the release is recorded" % path)
    except OSError as exc:
        raise CollectorError("cannot read release file %s (%s)" % (path, exc.strerror or exc))
    try:
        parsed = parse_release(data.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise CollectorError("%s: %s" % (path, exc))
    parsed["source"] = path
    return parsed
