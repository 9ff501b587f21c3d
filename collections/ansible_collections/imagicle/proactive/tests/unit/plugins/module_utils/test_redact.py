# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of phone numbers and e-mail addresses in text that leaves the host."""

from __future__ import annotations

import re

import pytest

from ansible_collections.imagicle.proactive.plugins.module_utils._redact import mask_personal_data

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

KEPT = [
    "2026-11-26T05:39:58Z ERROR something",
    "2026-11-26T05:39:58.123456+01:00 x",
    "2026-11-26 05:39:58,123456 x",
    "26.11.2026 05:39",
    "at 05:39:58.123456",
    "peer 192.168.100.200 answered",
    "listening on 10.0.0.1:8443",
    "release 2024.Winter.1 installed",
    "windows 10.0.17763.1234",
    "version 1.2.3",
    "pid 1234567 exited",
    "pid=1234567",
    "ias-voip[1234567]: started",
    "took 12345 ms",
    "0 1 2 3 4 5",
    "epoch 1795000000.12",
    "id 123e4567-e89b-12d3-a456-426614174000",
    "size 10485760 written",
    "sha abc1234567def",
    "load 1234 2026-11-26",
    "1,234,567 rows",
    "",
]


@pytest.mark.parametrize("text, expected", MASKED)
def test_masks_personal_data(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_keeps_what_is_not_personal(text):
    assert mask_personal_data(text) == text


def test_none_is_returned_unchanged():
    assert mask_personal_data(None) is None


@pytest.mark.parametrize("text, expected", MASKED)
def test_masking_is_idempotent(text, expected):
    assert mask_personal_data(mask_personal_data(text)) == expected


@pytest.mark.parametrize("text, _expected", MASKED)
def test_no_run_of_four_digits_survives_after_the_first_three_characters(text, _expected):
    masked = mask_personal_data(text)
    # What is left of every masked number: at most its first 3 characters in clear.
    for number in re.findall(r"[+(]?\d[\d ().\-*]*\*", masked):
        assert not re.search(r"\d", number[3:]), number


def test_private_use_placeholder_in_input_does_not_break_restore():
    text = "2026-11-26 \ue000 call 3331234567 at 10.0.0.1"
    assert mask_personal_data(text) == "2026-11-26  call 333******* at 10.0.0.1"
