"""Registry boundaries, host validity and IP detection, on hand-picked host names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamkiln.runtime.domains import (
    RegistryBoundaries,
    idn_to_ascii,
    is_fqdn_valid,
    is_ip_address,
    tld_alternation,
)

AUX_TLDS = Path("/usr/share/spamassassin/20_aux_tlds.cf")


def load_registry_lists(path: Path = AUX_TLDS) -> dict[str, list[str]]:
    """The util_rb_* lists of the installed ruleset, read at test time (never copied)."""
    lists: dict[str, list[str]] = {"tld": [], "2tld": [], "3tld": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*util_rb_(tld|2tld|3tld)\s+(.*)", line)
        if m:
            lists[m.group(1)] += m.group(2).split()
    return lists


@pytest.fixture(scope="module")
def registry() -> RegistryBoundaries:
    assert AUX_TLDS.exists(), "SpamAssassin's 20_aux_tlds.cf is missing: run `make test` as root"
    lists = load_registry_lists()
    return RegistryBoundaries(lists["tld"], lists["2tld"], lists["3tld"])


SPLITS = [
    ("www.example.com", ("www", "example.com")),
    ("example.com", ("", "example.com")),
    ("a.b.example.co.uk", ("a.b", "example.co.uk")),
    ("www.Example.COM", ("www", "example.com")),
    ("www..example.com.", ("www", "example.com")),
    ("host.city.ca.us", ("", "host.city.ca.us")),
    ("www.school.k12.ny.us", ("www", "school.k12.ny.us")),
    ("com", ("", "com")),
    ("", ("", "")),
]


@pytest.mark.parametrize(("fqdn", "expected"), SPLITS)
def test_split_domain(registry: RegistryBoundaries, fqdn: str, expected: tuple[str, str]) -> None:
    assert registry.split_domain(fqdn) == expected
    assert registry.trim_domain(fqdn) == expected[1]


def test_three_level_registry_boundary() -> None:
    rb = RegistryBoundaries(["uk"], ["co.uk"], ["demon.co.uk"])
    assert rb.split_domain("www.host.demon.co.uk") == ("www", "host.demon.co.uk")
    assert rb.split_domain("www.host.co.uk") == ("www", "host.co.uk")


VALID_DOMAINS = [
    ("example.com", True),
    ("EXAMPLE.COM", True),
    ("example.notatld", False),
    ("com", False),
    ("exa mple.com", False),
    ("münchen.de", True),
    (None, False),
]


@pytest.mark.parametrize(("domain", "expected"), VALID_DOMAINS)
def test_is_domain_valid(registry: RegistryBoundaries, domain: str | None, expected: bool) -> None:
    assert registry.is_domain_valid(domain) is expected


URI_DOMAINS = [
    ("http://www.example.co.uk/path?q=1", ("example.co.uk", "www.example.co.uk")),
    ("https://user:pw@Mail.Example.com:8443/", ("example.com", "mail.example.com")),
    ("mailto:joe@sub.example.org?subject=x", ("example.org", "sub.example.org")),
    ("mailto:a@b@example.org", None),
    ("http://192.168.10.1/x", ("192.168.10.1", "192.168.10.1")),
    ("http://www.example%2ecom/", None),  # its decoded variant carries the domain
    ("http://localhost/", None),
    ("javascript:alert(1)", None),
    ("http://bad_label.example.com/", ("example.com", "bad_label.example.com")),
    ("http://www.exa_mple.com/", None),
]


@pytest.mark.parametrize(("uri", "expected"), URI_DOMAINS)
def test_uri_to_domain(
    registry: RegistryBoundaries, uri: str, expected: tuple[str, str] | None
) -> None:
    assert registry.uri_to_domain(uri) == expected


FQDNS = [
    ("www.example.com", True),
    ("www.example.com.", True),
    ("example", False),
    ("-bad.example.com", False),
    ("a" * 64 + ".com", False),
    ("under_score.example.com", True),
    ("example.c_m", False),
    ("a..b.com", False),
]


@pytest.mark.parametrize(("host", "expected"), FQDNS)
def test_is_fqdn_valid(host: str, expected: bool) -> None:
    assert is_fqdn_valid(host) is expected


IPS = [
    ("1.2.3.4", True),
    ("255.255.255.255", True),
    ("256.1.1.1", False),
    ("01.2.3.4", False),
    ("1.2.3", False),
    ("::1", True),
    ("IPv6:2001:db8::1", True),
    ("2001:db8::g", False),
    ("example.com", False),
]


@pytest.mark.parametrize(("text", "expected"), IPS)
def test_is_ip_address(text: str, expected: bool) -> None:
    assert is_ip_address(text) is expected


IDN = [
    ("Example.COM", "example.com"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("bücher\u3002example", "xn--bcher-kva.example"),
    ("под.рф", "xn--d1atc.xn--p1ai"),
]


@pytest.mark.parametrize(("name", "expected"), IDN)
def test_idn_to_ascii(name: str, expected: str) -> None:
    assert idn_to_ascii(name) == expected


def test_valid_tld_pattern_respects_label_boundaries(registry: RegistryBoundaries) -> None:
    rx = registry.valid_tlds_re
    assert rx.search("example.com").group() == "com"  # type: ignore[union-attr]
    assert rx.search("foo.comx") is None
    assert rx.search("foo.com.x1") is None or rx.search("foo.com.x1").group() != "com"  # type: ignore[union-attr]
    assert rx.fullmatch("COM")


def test_without_tlds_nothing_is_a_tld() -> None:
    rb = RegistryBoundaries([])
    assert rb.valid_tlds_re.search("example.com") is None
    assert not rb.is_domain_valid("example.com")


@given(
    st.sets(st.text(alphabet="abcdefxyz0", min_size=1, max_size=5), max_size=30),
    st.text(alphabet="abcdefxyz0", min_size=1, max_size=6),
)
def test_tld_alternation_matches_exactly_the_set(tlds: set[str], candidate: str) -> None:
    rx = re.compile(tld_alternation(sorted(tlds)))
    assert (rx.fullmatch(candidate) is not None) == (candidate in tlds)
