"""Charset decoding follows SpamAssassin's ladder (expected values checked against SA 4.0.1)."""

from __future__ import annotations

import pytest

from spamkiln.runtime.charset import (
    charset_codec,
    decode_header_octets,
    decode_text,
    detect_utf16,
    normalize_to_utf8,
)

DECODE_CASES = [
    # (data, declared charset, expected text, why)
    (b"plain ascii", "us-ascii", "plain ascii", "7-bit with an ASCII label is left alone"),
    (b"na\xc3\xafve", "us-ascii", "naïve", "valid UTF-8 wins whatever the label says"),
    (b"caf\xe9", "iso-8859-1", "café", "ISO-8859-1 is read as Windows-1252"),
    (b"\x93q\x94", "iso-8859-1", "\u201cq\u201d", "cp1252 quotes in an ISO-8859-1 part"),
    (b"\x93q\x94 \x81", "iso-8859-1", "\u201cq\u201d \ufffd", "undefined cp1252 byte: U+FFFD"),
    (b"\xcf\xf0\xe8", "us-ascii", "Ïðè", "8-bit under an ASCII label: cp1252 guess"),
    (b"\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r", "Привет", "a declared charset Perl knows"),
    (b"\xc4\xe3\xba\xc3", "gb18030", "你好", "GB18030 falls back to GBK"),
    (b"\x1b$B$3$s$K$A$O\x1b(B", "iso-2022-jp", "こんにちは", "7-bit ISO-2022-JP is decoded"),
    (b"H\x00i\x00 \x00t\x00", "utf-16", "Hi t", "BOM-less UTF-16LE is sniffed"),
    (b"\xff\xfeH\x00", "utf-16", "ÿþH\x00", "with a BOM SA finds no decoder (quirk)"),
    (b"caf\xe9", "x-unknown-8bit", "café", "unknown label: cp1252 guess"),
    (b"\x8d\x8f\xff", "x-unknown", "\ufffd\ufffdÿ", "last resort: non-strict cp1252"),
    (b"abc", "", "abc", "empty label, pure ASCII"),
]


@pytest.mark.parametrize(("data", "charset", "expected", "why"), DECODE_CASES)
def test_decode_text(data: bytes, charset: str, expected: str, why: str) -> None:
    assert decode_text(data, charset) == expected, why


INSIST_CASES = [
    (b"caf\xe9", "us-ascii", "caf\ufffd", "encoded-words decode with the declared charset"),
    (b"\xc3\xa9", "iso-8859-1", "Ã©", "no UTF-8 first guess inside an encoded-word"),
    (b"x", "no-such-charset", "x", "unknown charset keeps 7-bit text"),
]


@pytest.mark.parametrize(("data", "charset", "expected", "why"), INSIST_CASES)
def test_decode_text_insisting_on_declared_charset(
    data: bytes, charset: str, expected: str, why: str
) -> None:
    assert decode_text(data, charset, insist=True) == expected, why


CODEC_CASES = [
    ("ISO-8859-15", "iso8859-15"),
    ("iso_8859-2", "iso8859-2"),
    ("windows-1251", "cp1251"),
    ("ks_c_5601-1987", "cp949"),
    ("big5", "big5"),
    ("gb18030", None),  # Debian's Perl has no GB18030 decoder
    ("l1", None),  # Python knows it, Perl's Encode does not
    ("us", None),
    ("unicode", None),
    ("default", None),
]


@pytest.mark.parametrize(("label", "codec"), CODEC_CASES)
def test_charset_codec_resolves_like_perl(label: str, codec: str | None) -> None:
    assert charset_codec(label) == codec


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"H\x00e\x00l\x00l\x00o\x00 \x00", "utf-16-le"),
        (b"\x00H\x00e\x00l\x00l\x00o\x00 ", "utf-16-be"),
        (b"\xff\xfeH\x00", None),
    ],
)
def test_detect_utf16(data: bytes, expected: str | None) -> None:
    assert detect_utf16(data) == expected


def test_normalize_to_utf8_keeps_ascii_bytes_identical() -> None:
    data = b"only ascii here"
    assert normalize_to_utf8(data, "iso-8859-1") is data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xc3\xa9t\xc3\xa9", b"\xc3\xa9t\xc3\xa9"),
        (b"caf\xe9 \x80", "café €".encode()),
    ],
)
def test_decode_header_octets(data: bytes, expected: bytes) -> None:
    assert decode_header_octets(data) == expected
