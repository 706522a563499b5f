"""The MIME parser builds SpamAssassin's tree and never raises (expectations checked with SA)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamkiln.runtime.message import Message
from spamkiln.runtime.mime import decoded_content, parse, split_lines
from spamkiln.runtime.transfer import base64_decode, qp_decode


def part_types(message: Message) -> list[str]:
    return [p.content_type for p in message.parts()]


TREE_CASES = [
    # (name, raw message, types in tree order, SA parse flags)
    (
        "plain",
        b"Subject: s\n\nbody\n",
        ["text/plain"],
        set(),
    ),
    (
        "digest children default to message/rfc822",
        b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: m1\n\nbody one\n"
        b"--d\n\nSubject: m2\n\nbody two\n--d--\n",
        ["multipart/digest", "message/rfc822", "text/plain", "message/rfc822", "text/plain"],
        {"missing_mime_headers"},
    ),
    (
        "rfc822 part parsed as a message",
        b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nouter\n"
        b"--o\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--o--\n",
        ["multipart/mixed", "text/plain", "message/rfc822", "text/plain"],
        set(),
    ),
    (
        "wrong boundary: one text part holding everything",
        b"Content-Type: multipart/mixed; boundary=right\n\n--wrong\nContent-Type: text/plain\n\n"
        b"body\n--wrong--\n",
        ["multipart/mixed", "text/plain"],
        set(),
    ),
    (
        "multipart without boundary is text/plain",
        b"Content-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\ntext\n",
        ["text/plain"],
        set(),
    ),
    (
        "multipart with no body is an empty container",
        b"Content-Type: multipart/mixed; boundary=b\n\n",
        ["multipart/mixed"],
        set(),
    ),
    (
        "nested multipart reusing the boundary (SA bug 7358)",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b"inner\n--b--\n--b\nContent-Type: text/plain\n\nafter\n--b--\n",
        ["multipart/mixed", "multipart/alternative", "text/plain", "text/plain"],
        set(),
    ),
    (
        "part without headers or blank line",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
        b"not a header\n--b\n\nno headers\n--b--\n",
        ["multipart/mixed", "text/plain", "text/plain"],
        {"missing_mime_headers", "missing_mime_head_body_separator"},
    ),
    (
        "epilogue after the closing boundary",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\nepilogue\n",
        ["multipart/mixed", "text/plain"],
        {"mime_epilogue_exists", "missing_mime_headers"},
    ),
    (
        "garbage Content-Type leaves no typed part",
        b"Content-Type: @@@\n\ntext\n",
        [],
        set(),
    ),
    (
        "header block without a blank line ends at the 4th bad line",
        b"Subject: x\nbad one\nX-Ok: 1\nbad two\nbad three\nbad four\nX-After: 2\n\nbody\n",
        ["text/plain"],
        {"missing_head_body_separator", "invalid_header_line"},
    ),
    (
        "headers only",
        b"Subject: only\nFrom: x@y.example",
        ["text/plain"],
        {"missing_head_body_separator"},
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "types", "flags"), TREE_CASES, ids=[c[0] for c in TREE_CASES]
)
def test_tree_shape_and_flags(name: str, raw: bytes, types: list[str], flags: set[str]) -> None:
    message = parse(raw)
    assert part_types(message) == types, name
    assert set(message.parse_flags) == flags, name


SPLIT_CASES = [
    # (raw, mbox line, pristine headers, pristine body)
    (
        b"From a@b Mon Jan 1 00:00:00 2024\r\nSubject: x\r\n\r\nbody\r\n",
        b"From a@b Mon Jan 1 00:00:00 2024\r\n",
        b"Subject: x\r\n\r\n",
        b"body\r\n",
    ),
    (b"From: not-mbox@x\n\nb\n", None, b"From: not-mbox@x\n\n", b"b\n"),
    (b"Subject: x\n--b\nrest\n", None, b"Subject: x\n", b"--b\nrest\n"),
    (b"", None, b"\n", b""),  # SA reads empty input as a lone newline
]


@pytest.mark.parametrize(("raw", "mbox", "head", "body"), SPLIT_CASES)
def test_mbox_line_and_pristine_split(
    raw: bytes, mbox: bytes | None, head: bytes, body: bytes
) -> None:
    message = parse(raw)
    assert message.mbox_from == mbox
    assert message.pristine_headers == head
    assert message.pristine_body == body


def test_crlf_message_headers_are_squashed_but_pristine_is_not() -> None:
    message = parse(b"Subject: a\r\n b\r\n\r\nline\r\n")
    assert message.line_ending == b"\r\n"
    assert message.headers[0].raw == b" a\n b\n"
    assert message.pristine_body == b"line\r\n"
    assert decoded_content(message.root) == b"line\n"


def test_header_name_and_value_caps() -> None:
    message = parse(b"Subject: " + b"a" * 9000 + b"\n\nbody\n")
    assert len(message.headers[0].raw) == 8192
    assert "truncated_header" in message.parse_flags


def test_part_lines_longer_than_2048_bytes_get_newlines() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + b"x" * 5000 + b"\n--b--\n"
    leaf = parse(raw).leaves()[0]
    assert leaf.body == b"x" * 2048 + b"\n" + b"x" * 2048 + b"\n" + b"x" * 904


def test_blank_line_runs_are_shortened() -> None:
    message = parse(b"Subject: b\n\nstart\n" + b"\n" * 30 + b"end\n")
    assert decoded_content(message.root) == b"start\n" + b"\n" * 20 + b"end\n"


DECODE_CASES = [
    ("base64 tolerant", b"SGVsbG8g*d29y=bGQh\nIQ\n", "base64", b"Hello wor\xfd\xb1\x90\x84\x84"),
    ("base64 text CRLF squashed", b"TGluZSBvbmUNCkxpbmU=\n", "base64", b"Line one\nLine"),
    (
        "qp trailing blanks, soft breaks",
        b"a  \nsoft= \nbreak =3D =zz =\n",
        "quoted-printable",
        b"a\nsoftbreak = =zz ",
    ),
    ("unknown encoding left alone", b"begin 644 x\n", "x-uuencode", b"begin 644 x\n"),
]


@pytest.mark.parametrize(
    ("name", "body", "cte", "expected"), DECODE_CASES, ids=[c[0] for c in DECODE_CASES]
)
def test_transfer_decoding(name: str, body: bytes, cte: str, expected: bytes) -> None:
    raw = b"Content-Type: text/plain\nContent-Transfer-Encoding: " + cte.encode() + b"\n\n" + body
    assert decoded_content(parse(raw).root) == expected, name


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        (b"QUJD", b"ABC"),
        (b"QUI=", b"AB"),
        (b"QQ==", b"A"),
        (b"Q===", b""),
        (b"QU=D", b"A@\x03"),  # well-formed shape: inner "=" read as zero bits
        (b"QU=DR", b"AO\xc3"),  # malformed: inner "=" read as 63
        (b"", b""),
    ],
)
def test_base64_decode(encoded: bytes, decoded: bytes) -> None:
    assert base64_decode(encoded) == decoded


def test_qp_decode_keeps_bare_equals() -> None:
    assert qp_decode(b"a=\r\nb =41=4a=4G") == b"ab AJ=4G"


def test_split_lines_matches_perl_split() -> None:
    assert split_lines(b"a\nb\n") == [b"a\n", b"b\n"]
    assert split_lines(b"a\nb") == [b"a\n", b"b"]
    assert split_lines(b"") == []


def test_deep_nesting_is_capped_and_fast() -> None:
    depth = 1000
    raw = (
        b"".join(
            b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
        )
        + b"Content-Type: text/plain\n\nleaf\n"
    )
    start = time.perf_counter()
    message = parse(raw)
    assert time.perf_counter() - start < 2.0
    assert not any(d.kind == "internal_error" for d in message.defects)
    # SA parses 20 levels; the 20th multipart is kept as an opaque leaf.
    assert len(message.parts()) == 21


def test_deep_rfc822_nesting_is_capped() -> None:
    raw = b"Subject: leaf\n\nend\n"
    for _ in range(60):
        raw = b"Content-Type: message/rfc822\n\n" + raw
    message = parse(raw)
    assert not any(d.kind == "internal_error" for d in message.defects)
    assert len(message.parts()) <= 42


def test_ten_megabyte_line_parses_quickly() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + b"z" * 10_000_000 + b"\n--b--\n"
    start = time.perf_counter()
    message = parse(raw)
    assert time.perf_counter() - start < 5.0
    assert len(message.leaves()[0].body or b"") > 10_000_000


# --- parse never raises -----------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Type: text/html; charset=utf-16\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"--b\n",
        b"--b--\n",
        b"\n",
        b"\r\n",
        b" folded\n",
        b"Subject: =?utf-8?B?w6k=?=\n",
        b"From x\n",
        b"\x00\xff\xfe",
        b"=?gb18030?Q?=C4=E3?=",
        b"SGVsbG8=",
        b"=\n",
    ]
)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_parse_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    message = parse(raw)
    assert not any(d.kind == "internal_error" for d in message.defects)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60), st.integers(min_value=0, max_value=400))
def test_parse_never_raises_on_mangled_mime(pieces: list[bytes], cut: int) -> None:
    raw = b"".join(pieces)
    raw = raw[: len(raw) - cut] if cut < len(raw) else raw  # truncated anywhere
    message = parse(raw)
    assert not any(d.kind == "internal_error" for d in message.defects)
    for part in message.leaves():
        decoded_content(part)
