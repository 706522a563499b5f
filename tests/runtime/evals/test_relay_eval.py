"""RelayEval checks on hand-built relay paths."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamkiln.runtime.evals import relay_eval as ev
from spamkiln.runtime.relays import Relay, RelayInfo


def hop(ip: str, rdns: str = "", helo: str = "", by: str = "", *, no_rdns: bool = False) -> Relay:
    private = ip.startswith(("10.", "127.", "192.168."))
    return Relay(ip=ip, rdns=rdns, helo=helo, by=by, ip_private=private, no_reverse_dns=no_rdns)


TRUSTED = hop("127.0.0.1", "localhost", "localhost", "mx.example.org")
PUBLIC = hop("198.51.100.20", "relay.example.com", "relay.example.com", "mx.example.org")


def info(
    trusted: tuple[Relay, ...] = (), untrusted: tuple[Relay, ...] = (), unparseable: int = 0
) -> RelayInfo:
    return RelayInfo(trusted=trusted, untrusted=untrusted, unparseable=unparseable)


# (case, RelayInfo, all_trusted, no_relays, unparseable)
PATH_SHAPES = [
    ("nothing", info(), False, True, False),
    ("only unparseable", info(unparseable=1), False, False, True),
    ("all trusted", info(trusted=(TRUSTED,)), True, False, False),
    ("trusted plus unparseable", info(trusted=(TRUSTED,), unparseable=2), False, False, True),
    ("mixed", info(trusted=(TRUSTED,), untrusted=(PUBLIC,)), False, False, False),
    ("only untrusted", info(untrusted=(PUBLIC,)), False, False, False),
]


@pytest.mark.parametrize(
    ("case", "path", "all_trusted", "no_relays", "unparseable"),
    PATH_SHAPES,
    ids=[c[0] for c in PATH_SHAPES],
)
def test_path_shape(
    case: str, path: RelayInfo, all_trusted: bool, no_relays: bool, unparseable: bool
) -> None:
    assert ev.check_all_trusted(path) is all_trusted
    assert ev.check_no_relays(path) is no_relays
    assert ev.check_relays_unparseable(path) is unparseable


# (HELO, relay IP, hit?)
HELO_IP_CASES = [
    ("203.0.113.9", "198.51.100.20", True),  # public IPv4 HELO, another network
    ("198.51.100.99", "198.51.100.20", False),  # same /24
    ("198.51.100.20", "198.51.100.20", False),  # same address
    ("198.51.10.9", "198.51.100.20", True),  # "198.51.10." is not a prefix of "198.51.100."
    ("198.51.1.9", "198.51.100.20", True),
    ("10.1.2.3", "198.51.100.20", False),  # private HELO is not evidence
    ("203.0.113.9", "192.168.1.1", False),  # private relay address
    ("203.0.113.9", "2001:db8::1", False),  # IPv6 relays are left alone
    ("[203.0.113.9]", "198.51.100.20", False),  # bracketed literals are not bare IPs
    ("mail.example.com", "198.51.100.20", False),
]


@pytest.mark.parametrize(("helo", "ip", "hit"), HELO_IP_CASES)
def test_helo_ip_mismatch(helo: str, ip: str, hit: bool) -> None:
    path = info(untrusted=(hop(ip, helo=helo, by="mx.example.org"),))
    assert ev.helo_ip_mismatch(path) is hit
    assert ev.helo_ip_mismatch(info(trusted=(hop(ip, helo=helo),))) is False


DOTCOM_CASES = [
    (
        "only untrusted hop fakes hotmail",
        [hop("203.0.113.9", helo="mx1.hotmail.com", no_rdns=True)],
        True,
    ),
    ("has rDNS", [hop("203.0.113.9", "x.example.net", "mx1.hotmail.com")], False),
    ("rDNS simply not recorded", [hop("203.0.113.9", helo="mx1.hotmail.com")], False),
    ("case-insensitive", [hop("203.0.113.9", helo="SMTP.AOL.COM", no_rdns=True)], True),
    ("suffix must be a label", [hop("203.0.113.9", helo="nothotmail.com", no_rdns=True)], False),
    ("not at the end", [hop("203.0.113.9", helo="yahoo.com.example", no_rdns=True)], False),
    ("private hop ignored", [hop("10.0.0.1", helo="hotmail.com", no_rdns=True)], False),
    # only the oldest public untrusted hop decides (SpamAssassin resets its flag per hop)
    (
        "older hop clears it",
        [
            hop("203.0.113.9", helo="msn.com", no_rdns=True),
            hop("198.51.100.1", "ok.example", "ok.example"),
        ],
        False,
    ),
    (
        "older private hop does not",
        [hop("203.0.113.9", helo="msn.com", no_rdns=True), hop("10.0.0.1", helo="pc")],
        True,
    ),
]


@pytest.mark.parametrize(("case", "hops", "hit"), DOTCOM_CASES, ids=[c[0] for c in DOTCOM_CASES])
def test_no_rdns_dotcom_helo(case: str, hops: list[Relay], hit: bool) -> None:
    assert ev.check_for_no_rdns_dotcom_helo(info(untrusted=tuple(hops))) is hit


DOMAIN_CASES = [
    ("mail.example.com", "example.com"),
    ("a.b.example.co.uk", "example.co.uk"),  # "uk" is short: three labels
    ("a.b.example.ie", "example.ie"),  # ...but ie/fr/de count as long
    ("mx.example.com.", "example.com"),  # trailing dot dropped like Perl's split
    ("localhost", "localhost"),
    ("192.0.2.1", "192.0.2.1"),  # no letters: an address, kept whole
    ("", ""),
    ("x.y", "x.y"),
]


@pytest.mark.parametrize(("host", "domain"), DOMAIN_CASES)
def test_hostname_to_domain(host: str, domain: str) -> None:
    assert ev.hostname_to_domain(host) == domain


def chain(*pairs: tuple[str, str]) -> RelayInfo:
    """Untrusted hops newest first, each as (rdns of the sending host, by host)."""
    return info(untrusted=tuple(hop("203.0.113.9", rdns, "h", by) for rdns, by in pairs))


TRAIL_CASES = [
    (
        "consistent chain",
        chain(
            ("a.isp.example", "mx.example.org"),
            ("b.sender.example", "c.isp.example"),
            ("d.origin.example", "e.sender.example"),
        ),
        False,
    ),
    (
        "one break is tolerated",
        chain(
            ("a.isp.example", "mx.example.org"),
            ("b.sender.example", "c.other.example"),
            ("d.origin.example", "e.sender.example"),
        ),
        False,
    ),
    (
        "two breaks",
        chain(
            ("a.isp.example", "mx.example.org"),
            ("b.sender.example", "c.other.example"),
            ("d.origin.example", "e.forged.example"),
        ),
        True,
    ),
    (
        "no rDNS is no evidence",
        chain(("", "mx.example.org"), ("", "c.other.example"), ("", "e.forged.example")),
        False,
    ),
    (
        "msn/hotmail pairing allowed",
        chain(
            ("a.hotmail.com", "mx.example.org"),
            ("b.x.example", "mx.msn.com"),
            ("c.y.example", "z.example"),
        ),
        False,
    ),
    (
        "localhost name over a public address",
        chain(
            ("x.isp.example", "mx.example.org"),
            ("localhost.localdomain", "a.other.example"),
            ("q.example", "b.third.example"),
        ),
        True,
    ),
]


@pytest.mark.parametrize(("case", "path", "hit"), TRAIL_CASES, ids=[c[0] for c in TRAIL_CASES])
def test_forged_received_trail(case: str, path: RelayInfo, hit: bool) -> None:
    assert ev.check_for_forged_received_trail(path) is hit


def test_forged_trail_skips_localhost_relay_via_loopback() -> None:
    hops = (
        hop("203.0.113.9", "a.isp.example", "h", "mx.example.org"),
        Relay(ip="127.0.0.1", rdns="localhost.localdomain", helo="h", by="b.other.example"),
        hop("203.0.113.9", "q.example", "h", "c.third.example"),
    )
    # hop 1's rDNS "localhost" over 127.0.0.1 is not held against hop 2's by
    assert ev.check_for_forged_received_trail(info(untrusted=hops)) is False


def test_extra_rule_arguments_are_accepted() -> None:
    assert ev.check_no_relays(info(), "ignored") is True


_DOMAINISH = re.compile(r"^\w+(?:[\w.-]+\.)+\w+$", re.ASCII)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1_.-!", max_size=12))
def test_domain_shape_check_equals_the_backtracking_pattern(name: str) -> None:
    assert ev._looks_like_domain(name) is bool(_DOMAINISH.match(name))


def test_domain_shape_check_is_fast_on_hostile_input() -> None:
    assert ev._looks_like_domain("a." * 20000 + "!") is False
