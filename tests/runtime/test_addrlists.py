"""Address-list globs, relay-qualified lists, and the From-ish / recipient addresses."""

from __future__ import annotations

import re

import pytest

from spamkiln.runtime.addrlists import (
    AddressList,
    RelayAddressList,
    from_addresses,
    glob_pattern,
    list_relays,
    to_addresses,
)
from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.relays import Relay, RelayInfo

CONFIG = Config({"util_rb_tld": ["com", "org", "net", "example"], "util_rb_2tld": ["co.uk"]})


def context(headers: str, body: str = "hello\n") -> MessageContext:
    return MessageContext((headers.strip("\n") + "\n\n" + body).encode(), CONFIG)


# (case, entry, address, listed?)
GLOBS = [
    ("exact", "bob@example.com", b"bob@example.com", True),
    ("case folded both ways", "Bob@Example.COM", b"BOB@example.com", True),
    ("star domain", "*@example.com", b"anyone@example.com", True),
    ("star is anchored", "*@example.com", b"anyone@example.com.evil.net", False),
    ("subdomain glob skips the bare domain", "*@*.example.com", b"a@example.com", False),
    ("subdomain glob", "*@*.example.com", b"a@mail.example.com", True),
    ("question mark is one character", "jm-??@example.com", b"jm-ab@example.com", True),
    ("question mark is not two", "jm-??@example.com", b"jm-abc@example.com", False),
    ("dot is literal", "a.b@example.com", b"axb@example.com", False),
    ("plus is literal", "a+b@example.com", b"a+b@example.com", True),
    ("star never crosses a newline", "*@example.com", b"a\nb@example.com", False),
]


@pytest.mark.parametrize(("case", "entry", "address", "listed"), GLOBS, ids=[g[0] for g in GLOBS])
def test_address_globs(case: str, entry: str, address: bytes, listed: bool) -> None:
    assert AddressList([entry]).matches(address) is listed


def test_glob_pattern_shapes() -> None:
    assert glob_pattern("*@Ex?.com") == rb"^.*@ex.\.com$"
    assert glob_pattern("a**b") == b"^a.*b$"
    assert glob_pattern("a(b\\c") == b"^a_b_c$"  # SpamAssassin's paranoia
    unanchored = re.compile(glob_pattern("50% off?", anchored=False))
    assert unanchored.search(b"get 50% off! now") and not unanchored.search(b"50%  off")


def test_exact_entry_matches_even_when_its_glob_cannot() -> None:
    listed = AddressList(["odd(name@example.com"])
    assert listed.matches(b"odd(name@example.com")
    assert listed.matches(b"odd_name@example.com")  # the "(" became a literal "_"
    assert not AddressList([]).matches(b"a@example.com")
    assert not AddressList([])


def relay(ip: str, rdns: str = "") -> Relay:
    return Relay(ip=ip, rdns=rdns)


RELAYED = RelayAddressList(
    [
        ["*@example.com", "mail.example.com"],
        ["*@example.com", "[192.0.2.1]"],
        ["news@example.org", "[198.51]"],
        ["*@example.net", "[203.0.113.0/24]"],
        ["*@example.net", "[2001:db8::]/32"],
        ["*@trusted.example", "example.org"],
    ]
)
ALLOWS = AddressList(["*@trusted.example"])

# (case, address, relays, verdict)
RELAY_CASES = [
    ("rdns equal", b"a@example.com", [relay("198.51.100.1", "mail.example.com")], 1),
    ("rdns subdomain", b"a@example.com", [relay("198.51.100.1", "x.mail.example.com")], 1),
    ("rdns suffix is not a label", b"a@example.com", [relay("1.1.1.1", "xmail.example.com")], -1),
    ("exact ip", b"a@example.com", [relay("192.0.2.1")], 1),
    ("classful prefix", b"news@example.org", [relay("198.51.7.9")], 1),
    ("classful prefix is by label", b"news@example.org", [relay("198.5.7.9")], -1),
    ("cidr", b"x@example.net", [relay("203.0.113.77")], 1),
    ("ipv6 cidr", b"x@example.net", [relay("2001:db8:1::5")], 1),
    ("outside cidr", b"x@example.net", [relay("203.0.114.1")], -1),
    ("unlisted address", b"a@other.example", [relay("192.0.2.1")], 0),
    ("forgery excused by allows_relays", b"a@trusted.example", [relay("1.1.1.1", "evil.net")], 0),
    ("no relays at all", b"a@example.com", [], 0),
    ("any of the relays", b"a@example.com", [relay("1.1.1.1"), relay("192.0.2.1")], 1),
]


@pytest.mark.parametrize(
    ("case", "address", "relays", "verdict"), RELAY_CASES, ids=[c[0] for c in RELAY_CASES]
)
def test_relay_lists(case: str, address: bytes, relays: list[Relay], verdict: int) -> None:
    assert RELAYED.check(address, relays, ALLOWS) == verdict


def test_list_relays_prefers_the_newest_untrusted() -> None:
    a, b, c = relay("10.0.0.1"), relay("192.0.2.1"), relay("192.0.2.2")
    assert list_relays(RelayInfo(trusted=(a,), untrusted=(b, c))) == (b,)
    assert list_relays(RelayInfo(trusted=(a, b))) == (a, b)
    assert list_relays(RelayInfo()) == ()


# (case, headers, From-ish addresses)
FROM_CASES = [
    (
        "from and envelope",
        "From: A <a@example.com>\nReturn-Path: <bounce@example.org>",
        [b"a@example.com", b"bounce@example.org"],
    ),
    (
        "resent-from (first header) replaces all",
        "From: a@example.com\nResent-From: r@example.net, s@example.net\n"
        "Resent-From: t@example.net",
        [b"r@example.net", b"s@example.net"],
    ),
    (
        "dots squeezed, duplicates dropped",
        "From: a..b@example.com\nEnvelope-Sender: a.b@example.com",
        [b"a.b@example.com"],
    ),
    (
        "several From addresses",
        "From: a@example.com, b@example.com",
        [b"a@example.com", b"b@example.com"],
    ),
    ("nothing", "Subject: x", []),
]


@pytest.mark.parametrize(
    ("case", "headers", "expected"), FROM_CASES, ids=[c[0] for c in FROM_CASES]
)
def test_from_addresses(case: str, headers: str, expected: list[bytes]) -> None:
    assert from_addresses(context(headers)) == expected


RCVD = (
    "Received: from a (a [192.0.2.1]) by mx.example.org id 1 for <{}>;"
    " Mon, 3 Jun 2002 10:00:00 +0000"
)

# (case, headers, recipients)
TO_CASES = [
    (
        "received for, then headers",
        RCVD.format("rcpt@example.org") + "\nTo: t@example.com\nCc: c@example.com",
        [b"rcpt@example.org", b"t@example.com", b"c@example.com"],
    ),
    (
        "received for with a made-up host",
        RCVD.format("rcpt@localhost") + "\nTo: t@example.com",
        [b"t@example.com"],
    ),
    (
        "first resent-to and resent-cc replace all",
        "To: t@example.com\nResent-To: r@example.com, x@example.com\nResent-Cc: rc@example.com",
        [b"r@example.com", b"x@example.com", b"rc@example.com"],
    ),
    (
        "duplicates dropped, order kept",
        "To: t@example.com\nDelivered-To: d@example.com\nX-Original-To: t@example.com",
        [b"t@example.com", b"d@example.com"],
    ),
]


@pytest.mark.parametrize(("case", "headers", "expected"), TO_CASES, ids=[c[0] for c in TO_CASES])
def test_to_addresses(case: str, headers: str, expected: list[bytes]) -> None:
    assert to_addresses(context(headers)) == expected
