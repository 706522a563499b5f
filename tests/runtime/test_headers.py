"""Header views: decoding, modifiers, pseudo-headers and the join rule (checked with SA)."""

from __future__ import annotations

import pytest

from spamkiln.runtime.addresses import parse_addresses
from spamkiln.runtime.domains import RegistryBoundaries
from spamkiln.runtime.header_decode import decode_header_value, unfold
from spamkiln.runtime.headers import HeaderContext, get_values, header_text
from spamkiln.runtime.mime import parse

MESSAGE = parse(
    b"From mbox@example.com Mon Jan  1 00:00:00 2024\n"
    b"X-Spam-Status: Yes, score=9\n"
    b"Received: from a.example.com (a.example.com [192.0.2.1]) by mx.example.net\n"
    b"Subject: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?= and =?UTF-8?Q?x?=\n =?utf-8?q?y?=\n"
    b'From: "Jos\xe9 Q. Public" <jose@mail.example.co.uk>\n'
    b'To: a@b.example, "C D" <c@d.example>\n'
    b"To: second@e.example\n"
    b"Cc: 'Quoted Name' <q@f.example>\n"
    b"Message-Id: <id1@host>\n"
    b"X-Message-Id: <id0@host>\n"
    b"X-Originating-IP: [198.51.100.7]\n"
    b"X-Spam-Flag: YES\n"
    b"\n"
    b"body\n"
)

CONTEXT = HeaderContext(
    tld_pattern=RegistryBoundaries(["com", "uk", "net", "example"], ["co.uk"]).valid_tlds_pattern,
    trim_domain=RegistryBoundaries(["com", "uk", "net"], ["co.uk"]).trim_domain,
    metadata={"x-spam-relays-untrusted": b"[ ip=192.0.2.1 ]"},
)

GET_CASES = [
    # (spec, expected list of values)
    ("Subject", [b"\xc3\xa9\xc3\xa9 and xy\n"]),
    ("Subject:raw", [b" =?utf-8?B?w6k=?= =?utf-8?B?w6k=?= and =?UTF-8?Q?x?=\n =?utf-8?q?y?=\n"]),
    ("subject", [b"\xc3\xa9\xc3\xa9 and xy\n"]),
    ("From", [b'"Jos\xc3\xa9 Q. Public" <jose@mail.example.co.uk>\n']),
    ("From:addr", [b"jose@mail.example.co.uk"]),
    ("From:name", [b"Jos\xc3\xa9 Q. Public"]),
    ("From:addr:host", [b"mail.example.co.uk"]),
    ("From:addr:domain", [b"example.co.uk"]),
    ("To:addr", [b"a@b.example", b"c@d.example", b"second@e.example"]),
    ("To:first:addr", [b"a@b.example", b"c@d.example"]),
    ("To:last:addr", [b"second@e.example"]),
    ("To:name", [b"C D"]),
    ("Cc:name", [b"Quoted Name"]),
    (
        "ToCc",
        [
            b'a@b.example, "C D" <c@d.example>\n',
            b"second@e.example\n",
            b"'Quoted Name' <q@f.example>\n",
        ],
    ),
    ("MESSAGEID", [b"<id0@host>\n", b"<id1@host>\n"]),
    ("X-Originating-IP:ip", [b"198.51.100.7"]),
    ("X-Originating-IP:revip", [b"7.100.51.198"]),
    ("Received:host", [b"a.example.com"]),
    ("X-Spam-Status", []),
    ("X-Spam-Relays-Untrusted", [b"[ ip=192.0.2.1 ]"]),
    ("X-Nonexistent", []),
]


@pytest.mark.parametrize(("spec", "expected"), GET_CASES)
def test_get_values(spec: str, expected: list[bytes]) -> None:
    assert get_values(MESSAGE, spec, CONTEXT) == expected


def test_all_hides_x_spam_headers_but_all_raw_keeps_them() -> None:
    everything = get_values(MESSAGE, "ALL")
    assert everything[0].startswith(b"Received: from a.example.com")
    assert not any(line.startswith(b"X-Spam-") for line in everything)
    raw = get_values(MESSAGE, "ALL:raw")
    assert raw[0] == b"X-Spam-Status: Yes, score=9\n"
    assert (
        raw[2] == b"Subject: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?= and =?UTF-8?Q?x?=\n =?utf-8?q?y?=\n"
    )


@pytest.mark.parametrize(
    ("spec", "if_unset", "expected"),
    [
        ("To", None, b'a@b.example, "C D" <c@d.example>\nsecond@e.example\n'),
        ("To:addr", None, b"a@b.example\nc@d.example\nsecond@e.example"),
        ("X-Missing", None, None),
        ("X-Missing", b"unset", b"unset"),
    ],
)
def test_header_text_join_rule(spec: str, if_unset: bytes | None, expected: bytes | None) -> None:
    assert header_text(MESSAGE, spec, if_unset, CONTEXT) == expected


ENVELOPE_CASES = [
    # (headers, relay envfrom, envelope_sender_header, expected)
    (b"Return-Path: <rp@x.example>\n", None, None, b"rp@x.example"),
    (b"Received: from x\nReturn-Path: <rp@x.example>\n", None, None, None),
    (b"Return-Path: <rp@x.example>\n", "relay@y.example", None, b"relay@y.example"),
    (b"X-Envelope-From: xe@x.example\nReturn-Path: <rp@x.example>\n", None, None, b"xe@x.example"),
    (
        b"X-Sender: s@x.example\nReceived: by h (fetchmail-6)\nReturn-Path: <r@x.example>\n",
        None,
        None,
        None,
    ),
    (b"X-Env: <e@x.example>\nReturn-Path: <rp@x.example>\n", None, "X-Env", b"e@x.example"),
    (b"Return-Path: <rp@x.example>\n", None, "X-Env", None),
]


@pytest.mark.parametrize(("headers", "relay", "setting", "expected"), ENVELOPE_CASES)
def test_envelope_from(
    headers: bytes, relay: str | None, setting: str | None, expected: bytes | None
) -> None:
    message = parse(headers + b"\nbody\n")
    context = HeaderContext(relay_envfrom=relay, envelope_sender_header=setting)
    assert header_text(message, "EnvelopeFrom", None, context) == expected


DECODE_CASES = [
    # (name, unfolded value, decoded)
    ("Subject", b"=?iso-8859-1?Q?Caf=E9?= =?iso-8859-1?Q?_cr=E8me?=", "Café crème".encode()),
    ("Subject", b"=?iso-2022-jp?B?GyRCJEskWyQzGyhC?=", "にほこ".encode()),
    ("Subject", b"caf\xe9 \x80uro", "café €uro".encode()),
    ("Subject", b"=?us-ascii?Q?caf=E9?=", b"caf\xef\xbf\xbd"),
    ("Subject", b"=?utf-8?B?w6k=?=plain=?utf-8?B?w6k=?=", "éplainé".encode()),
    ("Subject", b"=?US-ASCII*EN?Q?Keith_Moore?=", b"Keith Moore"),
    ("Message-ID", b"=?utf-8?Q?notdecoded?=", b"=?utf-8?Q?notdecoded?="),
    ("List-Id", b"=?utf-8?Q?x?=", b"=?utf-8?Q?x?="),
]


@pytest.mark.parametrize(("name", "value", "expected"), DECODE_CASES)
def test_decode_header_value(name: str, value: bytes, expected: bytes) -> None:
    assert decode_header_value(value, name) == expected


def test_unfold_trims_and_joins_folds() -> None:
    assert unfold(b"  a\n \tb\r\n") == b"a b"


ADDRESS_CASES = [
    # (value, [(phrase, address)]): SA's Util::parse_header_addresses answers
    (b'"Doe, John" <john@doe.com>', [(b"Doe, John ", b"john@doe.com")]),
    (b"Group: a@b.com, c@d.com;", [(None, b"a@b.com"), (None, b"c@d.com")]),
    (b"undisclosed-recipients:;", []),
    (b"foo.bar@baz.com (Foo Bar)", [(b"Foo Bar", b"foo.bar@baz.com")]),
    (b"<a@b.com> <c@d.com>", [(None, b"a@b.com")]),
    (b"a@b.com, , c@d.com", [(None, b"a@b.com"), (b" ", None), (None, b"c@d.com")]),
    (b'"unterminated <x@y.com>', [(None, b"x@y.com")]),
    (b"RE: <nettime> The War Prayer", [(b"RE: <nettime> The War Prayer", None)]),
    (b'x, g: "q"', [(b'x, g: "q"', None), (b"q", None)]),
    (b"a, b, c", [(b"a", None), (b"b", None), (b"c", None)]),
    (b"x@y.com z@w.com", [(b"x@y.com z@w.com", None)]),
]


@pytest.mark.parametrize(("value", "expected"), ADDRESS_CASES)
def test_parse_addresses_matches_spamassassin(
    value: bytes, expected: list[tuple[bytes | None, bytes | None]]
) -> None:
    found = parse_addresses(value, lambda host: b"." in host)
    assert [(a.phrase, a.address) for a in found] == expected
