# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release collector and the release parser, on real files."""

from __future__ import annotations

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils.collectors import release
from ansible_collections.imagicle.proactive.plugins.module_utils.collectors._base import (
    CollectContext,
    CollectorError,
    HostState,
    NotConfigured,
)


def _ctx(tmp_path):
    return CollectContext(HostState(str(tmp_path / "state")))


@pytest.mark.parametrize(
    "text, year, season, number",
    [
        ("2024.Winter.1", 2024, "Winter", 1),
        ("2024.Winter.1\n", 2024, "Winter", 1),
        ("  2019.summer.1 \r\n", 2019, "Summer", 1),
        ("\ufeff2020.SPRING.2\n", 2020, "Spring", 2),
        ("2025.Winter.10", 2025, "Winter", 10),
        ("\n\n2023.wInTeR.01\t\n", 2023, "Winter", 1),
    ],
)
def test_parse_release_accepts(text, year, season, number):
    parsed = release.parse_release(text)
    assert (parsed["year"], parsed["season"], parsed["number"]) == (year, season, number)
    assert parsed["raw"] == text.replace("\ufeff", "").strip()


@pytest.mark.parametrize(
    "text",
    ["", "   ", "2024.Autumn.1", "2024.Winter", "24.Winter.1", "2024-Winter-1", "v2024.Winter.1",
     "2024.Winter.1 beta", "2024.Winter.1\n2024.Spring.1", "<html>404</html>", "2024.Winter.x"],
)
def test_parse_release_rejects_garbage(text):
    with pytest.raises(ValueError) as info:
        release.parse_release(text)
    assert "YYYY.Winter|Spring|Summer.N" in str(info.value)


def test_parse_release_error_quotes_escaped_and_truncated():
    text = "\x00\x1b[31m" + "A" * 200
    with pytest.raises(ValueError) as info:
        release.parse_release(text)
    message = str(info.value)
    assert "\\x00" in message and "\\x1b" in message
    assert "\x00" not in message and "\x1b" not in message
    assert message.endswith("...")
    assert "A" * 200 not in message


def test_release_key_orders_seasons_within_a_year():
    names = ["2020.Summer.1", "2019.Summer.1", "2020.Winter.1", "2020.Spring.2", "2020.Spring.1", "2023.Winter.1"]
    ordered = sorted(names, key=release.release_key)
    assert ordered == ["2019.Summer.1", "2020.Winter.1", "2020.Spring.1", "2020.Spring.2", "2020.Summer.1", "2023.Winter.1"]
    assert release.release_key(release.parse_release("2020.winter.1")) == (2020, 0, 1)
    assert release.release_key("2020.Winter.1") >= release.release_key("2020.Winter.1")
    assert release.release_key("2019.Summer.9") < release.release_key("2020.Winter.1")


def test_collect_reads_the_file(tmp_path):
    path = tmp_path / "release.txt"
    path.write_bytes(b"\xef\xbb\xbf 2024.winter.3\r\n")
    section = release.collect({"file": str(path)}, _ctx(tmp_path))
    assert section == {"raw": "2024.winter.3", "year": 2024, "season": "Winter", "number": 3, "source": str(path)}


@pytest.mark.parametrize("options", [{}, {"file": None}, {"file": ""}])
def test_no_file_is_not_configured(tmp_path, options):
    # Where the product records its release is not public: no default path is read.
    with pytest.raises(NotConfigured) as info:
        release.collect(options, _ctx(tmp_path))
    assert "set the option release.file (inventory variable imagicle_release.file)" in str(info.value)


def test_collect_missing_file_names_it(tmp_path):
    path = tmp_path / "nope" / "release.txt"
    with pytest.raises(CollectorError) as info:
        release.collect({"file": str(path)}, _ctx(tmp_path))
    assert str(path) in str(info.value) and "release.file" in str(info.value)


def test_collect_directory_instead_of_file(tmp_path):
    with pytest.raises(CollectorError) as info:
        release.collect({"file": str(tmp_path)}, _ctx(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_collect_garbage_quotes_what_was_found(tmp_path):
    path = tmp_path / "release.txt"
    path.write_bytes(b"\xff\xfe garbage \x07 here")
    with pytest.raises(CollectorError) as info:
        release.collect({"file": str(path)}, _ctx(tmp_path))
    message = str(info.value)
    assert str(path) in message and "garbage" in message and "\\x07" in message


def test_collect_huge_file_is_not_read_whole(tmp_path):
    path = tmp_path / "release.txt"
    path.write_bytes(b"2024.Winter.1" + b" " * (10 * 1024 * 1024) + b"junk")
    # Only the first few KiB are read: the trailing junk is never seen.
    assert release.collect({"file": str(path)}, _ctx(tmp_path))["number"] == 1
