"""URI extraction from text and HTML, canonicalisation and the detail table."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamkiln.runtime.domains import RegistryBoundaries
from spamkiln.runtime.html import parse_html
from spamkiln.runtime.uris import (
    UriExtractor,
    canonicalize,
    redirector_from_regex,
    url_decode,
)

from .test_domains import AUX_TLDS, load_registry_lists

# A redirector_pattern of the kind the shipped rules define, written for these tests.
REDIRECTOR = re.compile(r"^https?://redirect\.example\.net/go\?.*?(?<=[?&])to=(.*?)(?:$|&)", re.I)


@pytest.fixture(scope="module")
def extractor() -> UriExtractor:
    assert AUX_TLDS.exists(), "SpamAssassin's 20_aux_tlds.cf is missing: run `make test` as root"
    lists = load_registry_lists()
    registry = RegistryBoundaries(lists["tld"], lists["2tld"], lists["3tld"])
    return UriExtractor(registry, [redirector_from_regex(REDIRECTOR)])


CANONICAL = [
    # hex, octal and integer hosts become dotted quads (zero octets vanish, as in the reference)
    ("http://0x7f.0.0.1/x", {"http://0x7f.0.0.1/x", "http://127...1/x"}),
    ("http://0177.0.0.01/", {"http://0177.0.0.01/", "http://127...1/"}),
    ("http://2130706433/a", {"http://2130706433/a", "http://127.0.0.1/a"}),
    ("http://0x7f000001", {"http://0x7f000001", "http://127.0.0.1"}),
    ("http://4294967296/", {"http://4294967296/", "http://16.0.0.0/"}),
    # %-escapes of printable characters are decoded; space stays encoded
    (
        "http://%77%77%77.example.com/%7Efoo%20bar",
        {"http://%77%77%77.example.com/%7Efoo%20bar", "http://www.example.com/~foo%20bar"},
    ),
    (
        "http://www.example.com/a%25b%3c%22",
        {"http://www.example.com/a%25b%3c%22", 'http://www.example.com/a%b<"'},
    ),
    # default ports, slashes, backslashes, a missing "/" before "?"
    ("http://www.example.com:80/x", {"http://www.example.com:80/x", "http://www.example.com/x"}),
    ("https://www.example.com:443", {"https://www.example.com:443", "https://www.example.com"}),
    ("http:www.example.com", {"http:www.example.com", "http://www.example.com"}),
    (r"http:\\www.example.com\x", {r"http:\\www.example.com\x", "http://www.example.com/x"}),
    ("http://www.example.com?q=1", {"http://www.example.com?q=1", "http://www.example.com/?q=1"}),
    # junk after the host, user info, spaces in the host
    ("http://www.example.com.../", {"http://www.example.com.../", "http://www.example.com/"}),
    (
        "http://a@b@www.example.com/",
        {"http://a@b@www.example.com/", "http://www.example.com/"},
    ),
    ("http://www.exa mple.com/", {"http://www.exa mple.com/", "http://www.example.com/"}),
    # character references in the URI
    (
        "http://ex&#97;mple.com/",
        {
            "http://ex&#97;mple.com/",
            "http://ex&/#97;mple.com/",
            "http://ex/#97;mple.com/",
            "http://www.ex&.com/#97;mple.com/",
        },
    ),
    # a single word is completed the way Firefox does, unless it is a valid domain
    ("http://foo/bar", {"http://foo/bar", "http://www.foo.com/bar"}),
    ("http://www.com/", {"http://www.com/"}),
    ("HTTP://FOO/x", {"HTTP://FOO/x"}),
    # IDN hosts gain their ACE form
    ("http://münchen.de/", {"http://münchen.de/", "http://xn--mnchen-3ya.de/"}),
    # scheme-less
    ("www.example.com/x", {"www.example.com/x", "http://www.example.com/x"}),
    ("ftp.example.com", {"ftp.example.com", "ftp://ftp.example.com"}),
    ("//www.example.com/x", {"//www.example.com/x", "http:////www.example.com/x"}),
    # redirectors: a configured pattern, or any embedded http URL
    (
        "http://redirect.example.net/go?id=1&to=http://target.example.org/p&x=2",
        {
            "http://redirect.example.net/go?id=1&to=http://target.example.org/p&x=2",
            "http://target.example.org/p",
        },
    ),
    (
        "http://redir.example.com/r?u=http://www.target.com/x&y=1",
        {"http://redir.example.com/r?u=http://www.target.com/x&y=1", "http://www.target.com/x"},
    ),
    # mail addresses only lose their parameters and padding
    (
        "mailto:joe@example.com?subject=hi",
        {"mailto:joe@example.com?subject=hi", "mailto:joe@example.com"},
    ),
    ("joe@example.com&x", {"joe@example.com&x", "joe@example.com"}),
    ("mailto:%20joe@example.com", {"mailto:%20joe@example.com", "mailto:joe@example.com"}),
    (
        'mailto:"Joe%20Bloggs"%20<joe@example.com>',
        {'mailto:"Joe%20Bloggs"%20<joe@example.com>', "mailto:joe@example.com"},
    ),
    # fragments and site-relative paths are kept as they are, with no variants
    ("#top", {"#top"}),
    ("/path", {"/path"}),
    ("  http://www.example.com/\n", {"http://www.example.com/"}),
]


@pytest.mark.parametrize(("uri", "expected"), CANONICAL)
def test_canonicalize(extractor: UriExtractor, uri: str, expected: set[str]) -> None:
    assert set(extractor.canonicalize(uri)) == expected


def test_canonicalize_without_configuration() -> None:
    # without a registry even "www.com" is completed, since nothing says "com" is a TLD
    assert set(canonicalize("http://www.com/")) == {"http://www.com/", "http://www.com.com/"}
    assert set(canonicalize("http://foo.com/")) == {"http://foo.com/"}


def test_redirect_targets_are_cleaned_in_turn(extractor: UriExtractor) -> None:
    variants = set(
        extractor.canonicalize("http://redirect.example.net/go?to=http://%77ww.target.example.org")
    )
    assert "http://www.target.example.org" in variants


@pytest.mark.parametrize(
    ("uri", "octets", "expected"),
    [
        ("%41%2e%20%7f%3C%80", False, "A.%20%7f<%80"),
        ('a b"<>%zz', False, "a%20b%22%3c%3e%25zz"),
        ("é€%41", False, "%e9€A"),
        ("é€%41", True, "%c3%a9%e2%82%acA"),
    ],
)
def test_url_decode(uri: str, octets: bool, expected: str) -> None:
    assert url_decode(uri, octets) == expected


TEXT = [
    ("see http://www.example.com/page.", [("http://www.example.com/page", ["parsed"])]),
    ("(http://example.org/a)", [("http://example.org/a", ["parsed"])]),
    (
        "go to www.example.com, or ftp.example.com!",
        [
            ("http://www.example.com", ["parsed", "schemeless"]),
            ("ftp://ftp.example.com", ["parsed", "schemeless"]),
        ],
    ),
    ("mail joe@example.com today", [("mailto:joe@example.com", ["parsed", "schemeless"])]),
    (
        "write to mailto:ann@example.net?subject=x",
        [("mailto:ann@example.net?subject=x", ["parsed"])],
    ),
    (
        "visit example.co.uk/path ok",
        [("http://example.co.uk/path", ["parsed", "schemeless", "unlinked"])],
    ),
    ("file.txt and readme.notatld", []),
    ("user@localhost and vi@gra", []),
    ("[cid:image001.png@01D4986E.E3459640]", []),
    ("http:// nothing", []),
    ("Email:bob@example.com", [("mailto:bob@example.com", ["parsed", "schemeless"])]),
    ("<https://secure.example.com/login>", [("https://secure.example.com/login", ["parsed"])]),
]


@pytest.mark.parametrize(("line", "expected"), TEXT)
def test_text_uris(
    extractor: UriExtractor, line: str, expected: list[tuple[str, list[str]]]
) -> None:
    found = [(uri, sorted(types)) for uri, types in extractor.find_text_uris([line])]
    assert found == expected


def test_text_uris_are_found_once_and_bytes_lines_work(extractor: UriExtractor) -> None:
    lines = [b"Subject http://a.example.com\n", "again http://a.example.com\n"]
    assert [u for u, _ in extractor.find_text_uris(lines)] == ["http://a.example.com"]


def test_detail_table_and_uri_list(extractor: UriExtractor) -> None:
    html = parse_html(
        '<a href="http://%77ww.example.com/x">Click</a><a href="http://www.example.com/x">'
        'again</a><img src=logo.gif><a href="#">top</a>'
    )
    table = extractor.build_table(
        ["Offer\n", "visit www.shop.example.net today\n"],
        [html],
        dkim_domains=["signer.example.org"],
    )
    details = table.details
    assert sorted(details["http://www.shop.example.net"].types) == ["parsed", "schemeless"]
    assert details["http://www.shop.example.net"].domains == {"example.net": None}
    encoded = details["http://%77ww.example.com/x"]
    assert encoded.types == {"a": None}
    assert encoded.anchor_text == ["Click"]
    assert encoded.hosts == {"www.example.com": "example.com"}
    assert details["#"].types == {"a": None}
    assert details["#"].anchor_text == ["top"]
    assert details["domainkeys:signer.example.org"].cleaned == []
    assert set(table.uri_list()) == {
        "http://www.shop.example.net",
        "http://%77ww.example.com/x",
        "http://www.example.com/x",
        "logo.gif",
        "http://logo.gif",
        "#",
    }
    assert not table.truncated


def test_invalid_text_hosts_are_dropped_but_html_links_kept(extractor: UriExtractor) -> None:
    html = parse_html('<a href="http://intranet/">x</a>')
    table = extractor.build_table(["http://intranet/page\n"], [html])
    assert "http://intranet/" in table.details
    assert "http://www.intranet.com/" in table.uri_list()
    # the text URI has a (completed) valid domain too, so it stays
    assert "http://intranet/page" in table.details


def test_long_uris_are_truncated(extractor: UriExtractor) -> None:
    # 8192 characters fit in the HTML, but the variant with "http://" added does not
    href = "www.example.com/" + "a" * (8192 - 16)
    doc = parse_html(f'<a href="{href}">x</a>')
    assert not doc.uri_truncated
    table = extractor.build_table([], [doc])
    assert table.truncated
    assert all(len(u) <= 8192 for u in table.uri_list())
    # in text, a URI longer than the linkifier's limit is not linkified at all
    assert extractor.find_text_uris(["http://www.example.com/" + "a" * 9000]) == []


def test_redirector_from_regex_needs_a_group() -> None:
    assert redirector_from_regex(re.compile(r"x"))("x") is None
    assert redirector_from_regex(re.compile(r"u=(.*)"))("a?u=b.c") == "b.c"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_extraction_never_raises(text: str) -> None:
    registry = RegistryBoundaries(["com", "net"], ["co.uk"])
    extractor = UriExtractor(registry, [redirector_from_regex(re.compile(r"u=(.*)"))])
    table = extractor.build_table([text], [parse_html(text)])
    for uri in table.uri_list():
        assert isinstance(uri, str)
    for uri in (text, "http://" + text, "mailto:" + text):
        assert canonicalize(uri)
