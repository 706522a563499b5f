"""The textual IP forms SpamAssassin recognises (checked against its Constants.pm patterns)."""

from __future__ import annotations

import re

import pytest

from spamkiln.runtime.ipsyntax import IP_ADDRESS, IP_PRIVATE, IS_IPV4_ADDRESS, LOCALHOST

FIND_ADDRESS = re.compile(f"({IP_ADDRESS})", re.ASCII)
PRIVATE = re.compile(IP_PRIVATE, re.ASCII)
FIND_LOCALHOST = re.compile(f"({LOCALHOST})", re.ASCII)

# (text, the address SpamAssassin would pick out of it, or None)
ADDRESS_CASES = [
    ("from [192.0.2.1] by", "192.0.2.1"),
    ("x 256.1.1.1 y", None),
    ("1.2.3.4.5", "1.2.3.4"),
    ("v1.2.3.4", None),  # glued to a word: no \b
    ("::1.2.3.4", "::1.2.3.4"),  # the mapped reading wins over a bare IPv4 inside it
    ("[IPv6:2001:db8::1]", "IPv6:2001:db8::1"),
    ("[ipv6:2001:DB8::1]", "ipv6:2001:DB8::1"),
    ("1:2:3:4:5:6:192.0.2.7", "1:2:3:4:5:6:192.0.2.7"),
    ("fe80::1%eth0", "fe80::1"),
    ("at ::", "::"),
    ("12:34", None),
]


@pytest.mark.parametrize(("text", "address"), ADDRESS_CASES)
def test_address_in_text(text: str, address: str | None) -> None:
    m = FIND_ADDRESS.search(text)
    assert (m.group(1) if m else None) == address


PRIVATE_CASES = [
    ("10.0.0.1", True),
    ("127.1.2.3", True),
    ("169.254.1.1", True),
    ("172.16.0.1", True),
    ("172.31.255.1", True),
    ("172.32.0.1", False),
    ("192.168.0.1", True),
    ("100.64.0.1", True),
    ("100.128.0.1", False),
    ("10.junk", True),  # a prefix test: anything may follow
    ("::1", True),
    ("0:0:0:0:0:0:0:1", True),
    ("::ffff:10.1.1.1", True),
    ("::ffff:8.8.8.8", False),
    ("fe80::1", True),
    ("fc00::1", False),  # unique-local is not in SpamAssassin's list
    ("2001:db8::1", False),
    ("8.8.8.8", False),
]


@pytest.mark.parametrize(("address", "private"), PRIVATE_CASES)
def test_private(address: str, private: bool) -> None:
    assert (PRIVATE.search(address) is not None) is private


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("LOCALHOST.localdomain", "LOCALHOST.localdomain"),
        ("x 127.0.0.1 y", "127.0.0.1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("0:0::1", "0:0::1"),
        ("127.0.0.2", None),
    ],
)
def test_localhost(text: str, found: str | None) -> None:
    m = FIND_LOCALHOST.search(text)
    assert (m.group(1) if m else None) == found


@pytest.mark.parametrize(
    ("text", "ok"),
    [("192.0.2.1", True), ("192.0.2.01", False), ("192.0.2", False), (" 1.2.3.4", False)],
)
def test_is_ipv4(text: str, ok: bool) -> None:
    assert (IS_IPV4_ADDRESS.search(text) is not None) is ok
