# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of phone numbers and e-mail addresses in text that leaves the host."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data, one_line

MASKED = [
    # (input, expected)
    ("disk write failed for +39 021 234 5678", "disk write failed for +39 *** *** ****"),
    ("+39 02 1234 5678", "+39 ** **** ****"),
    ("call from +393331234567 ended", "call from +39********** ended"),
    ("0039 02 12345678", "003* ** ********"),
    ("00393331234567", "003***********"),
    ("mobile 333 1234567", "mobile 333 *******"),
    ("landline 02-1234-5678", "landline 02-****-****"),
    ("dotted 02.1234.5678", "dotted 02.****.****"),
    ("us (555) 123-4567", "us (55*) ***-****"),
    ("+1 (555) 123-4567", "+1 (***) ***-****"),
    ("+39 (0)2 1234 5678", "+39 (*)* **** ****"),
    ("short national 123456", "short national 123***"),
    ("tel:+393331234567", "tel:+39**********"),
    ("caller id 3331234567", "caller id 333*******"),
    ("mario.rossi@example.com wrote", "***@*** wrote"),
    ("to: a.b-c+tag@mail.example.co.uk.", "to: ***@***."),
    ("sip:3331234567@pbx.local", "sip:***@***"),
    (
        "2026-11-26T05:39:58Z ERROR ias-recorder[4242]: no channel for +39 021 234 5678 (mario@example.com)",
        "2026-11-26T05:39:58Z ERROR ias-recorder[4242]: no channel for +39 *** *** **** (***@***)",
    ),
    ("2026-11-26 05:39:58,123 call 0212345678", "2026-11-26 05:39:58,123 call 021*******"),
]

# The common Italian and international ways of writing a number, as they appear in log lines.
FORMATS = [
    ("+39 347 123 4567", "+39 *** *** ****"),
    ("0039 347 1234567", "003* *** *******"),
    ("347-1234567", "347-*******"),
    ("347.123.4567", "347.***.****"),
    ("347.1234567", "347.*******"),
    ("347/1234567", "347/*******"),
    ("347 12 34 567", "347 ** ** ***"),
    ("(02) 1234 5678", "(02) **** ****"),
    ("02/12345678", "02/********"),
    ("02.12345678", "02.********"),
    ("+39(0)2 12345678", "+39(*)* ********"),
    ("tel:+390212345678", "tel:+39**********"),
    ("caller3471234567", "caller347*******"),
    ("caller_3471234567", "caller_347*******"),
    ("caller-3471234567", "caller-347*******"),
    ("3471234567abc", "347*******abc"),
    ("id=3471234567", "id=347*******"),
    ("call,3471234567,ok", "call,347*******,ok"),
    ("x.3471234567", "x.347*******"),
    ("02-12-3456", "02-**-****"),
    ("caller[3471234567]", "caller[347*******]"),
    ("+1 (212) 555-0100", "+1 (***) ***-****"),
    ("800 123 456", "800 *** ***"),
    ("from 3471234567 2 attempts", "from 347******* * attempts"),
    ("pid 3471234567", "pid 347*******"),
    ("size 3471234567", "size 347*******"),
    ("abcdef3471234567", "abcdef347*******"),
    ("31-12-2000-12", "31-**-****-**"),
]

KEPT = [
    "2026-11-26T05:39:58Z ERROR something",
    "2026-11-26T05:39:58.123456+01:00 x",
    "2026-11-26T05:39:58.123456789Z x",
    "2026-11-26 05:39:58,123456 x",
    "26.11.2026 05:39",
    "26-11-2026",
    "26/11/2026",
    "11/26/2026",
    "2026/11/26",
    "backup_20261126.tar",
    "dump 20261126T053958Z",
    "at 05:39:58.123456",
    "peer 192.168.100.200 answered",
    "listening on 10.0.0.1:8443",
    "release 2024.Winter.1 installed",
    "windows 10.0.17763.1234",
    "version 1.2.3",
    "pid 1234567 exited",
    "pid 4194304",
    "pid=1234567",
    "ias-voip[1234567]: started",
    "ias-voip[4194304]: started",
    "port 8443",
    "took 12345 ms",
    "took 1234.567 s",
    "0 1 2 3 4 5",
    "epoch 1795000000.12",
    "epoch 1795000000.123",
    "id 123e4567-e89b-12d3-a456-426614174000",
    "size 10485760 written",
    "sha abc1234567def",
    "at 0x7ffd12345678",
    "CVE-2024-12345",
    "load 1234 2026-11-26",
    "1,234,567 rows",
    "HTTP/1.1 200 OK",
    "/srv/appsuite/logs/events.log.1",
    "",
]


@pytest.mark.parametrize("text, expected", MASKED + FORMATS)
def test_masks_personal_data(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_keeps_what_is_not_personal(text):
    assert mask_personal_data(text) == text


def test_none_is_returned_unchanged():
    assert mask_personal_data(None) is None


@pytest.mark.parametrize("text, expected", MASKED + FORMATS)
def test_masking_is_idempotent(text, expected):
    assert mask_personal_data(mask_personal_data(text)) == expected


@pytest.mark.parametrize("text, _expected", MASKED + FORMATS)
def test_no_run_of_four_digits_survives_after_the_first_three_characters(text, _expected):
    masked = mask_personal_data(text)
    # What is left of every masked number: at most its first 3 characters in clear.
    for number in re.findall(r"[+(]?\d[\d ().\-/*]*\*", masked):
        assert not re.search(r"\d", number[3:]), number


def test_private_use_placeholder_in_input_does_not_break_restore():
    text = "2026-11-26 \ue000 call 3331234567 at 10.0.0.1"
    assert mask_personal_data(text) == "2026-11-26  call 333******* at 10.0.0.1"


# --- property: an Italian mobile number never survives ---------------------------------------

# The 7 digits after the 3-digit operator prefix, cut into groups of 2 or more digits: every way
# a person writes them (347 1234567, 347 123 4567, 347 12 34 567...).
_GROUPINGS = [(7,), (2, 5), (5, 2), (3, 4), (4, 3), (2, 2, 3), (2, 3, 2), (3, 2, 2)]
_SEPARATORS = st.sampled_from(["", " ", "-", ".", "/"])
_COUNTRY_CODES = st.sampled_from(["", "+39", "+39 ", "+39-", "0039", "0039 ", "(+39) ", "tel:+39"])
# Anything but a decimal digit: letters glued to the number, punctuation, control characters.
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=25)


@st.composite
def mobile_in_text(draw):
    """(the 10 digits of a mobile number, a text that carries it written in some common way)."""
    digits = "3" + draw(st.text("0123456789", min_size=9, max_size=9))
    grouping = draw(st.sampled_from(_GROUPINGS))
    written, start = digits[:3], 3
    for size in grouping:
        written += draw(_SEPARATORS) + digits[start:start + size]
        start += size
    return digits, draw(_TEXT) + draw(_COUNTRY_CODES) + written + draw(_TEXT)


@settings(max_examples=500, deadline=None)
@given(mobile_in_text())
def test_an_italian_mobile_number_never_survives_in_any_text(case):
    digits, text = case
    masked = mask_personal_data(text)
    # The text around the number has no digit: every digit left in the output is the number's
    # (or the country code's). Separators removed, no 7 of its digits may be left in a row.
    visible = re.sub(r"\D", "", masked)
    for start in range(len(digits) - 6):
        assert digits[start:start + 7] not in visible, (text, masked)
    assert mask_personal_data(masked) == masked


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="@\ue000")))
def test_text_without_digits_or_addresses_is_left_as_it_is(text):
    assert mask_personal_data(text) == text


# --- one_line ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, expected",
    [
        ("ias-voip\nFAKE LINE: P1 ok", "ias-voip FAKE LINE: P1 ok"),
        ("a\r\n\tb\x1b[31mc\u202ed\u2028e", "a b [31mc d e"),
        ("  padded  ", "padded"),
        ("caller\n3471234567", "caller 347*******"),
        (None, ""),
        (12.5, "12.5"),
        (float("nan"), "nan"),
        (True, "True"),
        (["a", "b"], "<list>"),
        ({"a": 1}, "<dict>"),
    ],
)
def test_one_line(value, expected):
    assert one_line(value) == expected


def test_one_line_of_an_int_too_long_to_write_out():
    assert one_line(10 ** 5000) == "<int>"


def test_one_line_is_capped_after_masking():
    text = one_line("x" * 500 + " 3471234567", limit=50)
    assert len(text) == 50 and text.endswith("...")
    assert one_line("call 3471234567 " * 20, limit=40) == ("call 347******* " * 3)[:37].rstrip() + "..."


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_one_line_is_one_line_within_the_limit(text, limit):
    line = one_line(text, limit)
    assert len(line) <= max(limit, 4)
    assert len(line.splitlines()) <= 1 and "\n" not in line and "\r" not in line
