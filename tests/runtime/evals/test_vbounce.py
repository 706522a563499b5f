"""VBounce: bounces that quote a Received header of one of our own outgoing relays."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import vbounce as ev

from ._mail import ctx, message

RELAYS = ["relay*.example.com", "mx.example.org"]
QUOTED = b"""Your message could not be delivered.

> Received: from relay7.example.com (relay7.example.com [192.0.2.7]) by mx.far.net
> Subject: hello
"""
FOLDED = b"""Delivery failed. Original headers follow:

Received: from [192.0.2.9]
\tby mx.example.org with ESMTP
Subject: hello
"""
FOREIGN = b"""> Received: from mail.elsewhere.net (mail.elsewhere.net [198.51.100.1]) by x.y
"""


@pytest.mark.parametrize(
    ("case", "body", "relays", "expected"),
    [
        ("quoted header names our relay", QUOTED, RELAYS, True),
        ("folded header names our relay", FOLDED, RELAYS, True),
        ("someone else's relay", FOREIGN, RELAYS, False),
        ("no relays configured", QUOTED, [], False),
        ("glob matches whole names only", QUOTED, ["relay7.example"], False),
    ],
)
def test_check_welcomelist_bounce_relays(
    case: str, body: bytes, relays: list[str], expected: bool
) -> None:
    c = ctx(message(body), welcomelist_bounce_relays=relays)
    assert ev.check_welcomelist_bounce_relays(c) is expected, case


@pytest.mark.parametrize(("relays", "expected"), [(RELAYS, True), ([], False)])
def test_have_any_bounce_relays(relays: list[str], expected: bool) -> None:
    c = ctx(message(b"x\n"), welcomelist_bounce_relays=relays)
    assert ev.have_any_bounce_relays(c) is expected
