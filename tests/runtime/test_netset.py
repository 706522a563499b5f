"""NetSet: entry syntax, first-match order, implicit loopback, IPv4/IPv6 in one space."""

from __future__ import annotations

import pytest

from spamkiln.runtime.netset import NetSet

# (config words, address, member?)
MEMBERSHIP = [
    ("192.0.2.0/24", "192.0.2.77", True),
    ("192.0.2.0/24", "192.0.3.1", False),
    ("192.0.2.5", "192.0.2.5", True),  # a bare address is a /32
    ("192.0.2.5", "192.0.2.6", False),
    ("10.", "10.200.1.1", True),  # classful prefixes: 1 octet = /8
    ("10", "10.200.1.1", True),
    ("192.168.", "192.168.77.1", True),  # 2 octets = /16
    ("192.168.", "192.169.0.1", False),
    ("172.16.5", "172.16.5.9", True),  # 3 octets = /24, trailing dot optional
    ("172.16.5.", "172.16.6.9", False),
    ("010.001.002.003", "10.1.2.3", True),  # leading zeros are decimal, not octal
    ("10.0.0.0/255.0.0.0", "10.9.9.9", True),  # a netmask instead of a length
    ("10.1.2.3/8", "10.9.9.9", True),  # host bits beyond the prefix are ignored
    ("0/0", "203.0.113.9", True),
    ("0/0", "2001:db8::1", False),  # an IPv4 /0 is only the mapped IPv4 space
    ("::/0", "203.0.113.9", True),  # ...but an IPv6 /0 takes IPv4 relays too
    ("2001:db8::/32", "2001:DB8:0:1::5", True),
    ("[2001:db8::]/32", "2001:db8:ffff::1", True),
    ("[2001:db8::1]", "2001:db8::1", True),
    ("2001:db8::1", "2001:db8::2", False),
    ("fe80::/10%eth0", "fe80::1", False),  # the scope sits after the length: not an address
    ("fe80::1%eth0", "fe80::1", True),  # a scope on the address itself is ignored
    ("::ffff:192.0.2.0/120", "192.0.2.9", True),  # a mapped IPv6 entry covers the IPv4 relay
    ("192.0.2.0/24", "::ffff:192.0.2.9", True),
    ("192.0.2.0/24", "", False),
    ("192.0.2.0/24", "not-an-ip", False),
    ("192.0.2.0/24", "192.0.2", False),
]


@pytest.mark.parametrize(("words", "address", "member"), MEMBERSHIP)
def test_membership(words: str, address: str, member: bool) -> None:
    assert NetSet.of(words).contains_ip(address) is member


# Exclusions only work when listed before a wider inclusion: first match wins and an entry an
# earlier one already covers is dropped.
ORDER = [
    ("!10.0.1.5 10.0.1/24", "10.0.1.5", False),
    ("!10.0.1.5 10.0.1/24", "10.0.1.6", True),
    ("10.0.1/24 !10.0.1.5", "10.0.1.5", True),
    ("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:1::1", True),
    ("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:1::2", False),
    ("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:2::2", True),
    ("! 192.0.2.1 192.0.2.0/24", "192.0.2.1", True),  # a lone "!" word is a bad entry
]


@pytest.mark.parametrize(("words", "address", "member"), ORDER)
def test_first_match_wins(words: str, address: str, member: bool) -> None:
    assert NetSet.of(words).contains_ip(address) is member


def test_exclusion_mark_may_be_spaced_inside_one_entry() -> None:
    netset = NetSet()
    netset.add("! 192.0.2.1", "192.0.2.0/24")
    assert not netset.contains_ip("192.0.2.1")
    assert netset.contains_ip("192.0.2.2")


def test_covered_entry_is_dropped_with_a_warning() -> None:
    netset = NetSet.of("10.0.0.0/8 !10.1.0.0/16 10.2.3.4")
    assert [entry.text for entry in netset.entries] == ["10.0.0.0/8"]
    assert any("cannot exclude 10.1.0.0/16" in w for w in netset.warnings)
    assert any("cannot include 10.2.3.4" in w for w in netset.warnings)


@pytest.mark.parametrize(
    "bad", ["1.2.3.4.", "300.1.1.1", "10.0.0.0/33", "1.2.3.4-1.2.3.9", "nonsense", "::1/129"]
)
def test_bad_entries_are_skipped_not_raised(bad: str) -> None:
    netset = NetSet.of(f"{bad} 192.0.2.0/24")
    assert len(netset) == 1
    assert netset.warnings
    assert netset.contains_ip("192.0.2.1")


LOOPBACK = [
    ("127.0.0.1", True),
    ("127.255.0.9", True),
    ("::1", True),
    ("::ffff:127.0.0.1", True),
    ("0:0:0:0:0:0:0:1", True),
    ("128.0.0.1", False),
]


@pytest.mark.parametrize(("address", "member"), LOOPBACK)
def test_implicit_loopback(address: str, member: bool) -> None:
    assert NetSet("trusted_networks", loopback=True).contains_ip(address) is member
    assert NetSet("msa_networks").contains_ip(address) is False


def test_loopback_comes_first_so_it_cannot_be_excluded() -> None:
    netset = NetSet.of("!127.0.0.2", loopback=True)
    assert netset.contains_ip("127.0.0.2")


def test_cache_is_invalidated_by_additions() -> None:
    netset = NetSet.of("192.0.2.0/24")
    assert not netset.contains_ip("198.51.100.1")
    netset.add("198.51.100.0/24")
    assert netset.contains_ip("198.51.100.1")
    assert "198.51.100.1" in netset


def test_lint_restriction_to_trusted() -> None:
    trusted = NetSet.of("!192.0.2.9 192.0.2.0/24", name="trusted_networks", loopback=True)
    internal = NetSet.of(
        "192.0.2.9 192.0.2.0/25 198.51.100.0/24 !203.0.113.1", name="internal_networks"
    )
    kept = internal.restricted_to(trusted)
    # 192.0.2.9 is excluded from trusted, 198.51.100/24 absent; exclusions are never dropped
    assert [(e.text, e.exclude) for e in kept.entries] == [
        ("192.0.2.0/25", False),
        ("203.0.113.1", True),
    ]
    assert sum("doesn't contain" in w for w in kept.warnings) == 2
