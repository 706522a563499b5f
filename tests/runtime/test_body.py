"""Body, rawbody, full and mimeheader targets (expected values produced by SA 4.0.1)."""

from __future__ import annotations

import pytest

from spamkiln.runtime.body import (
    decoded_body_chunks,
    mime_part_headers,
    pristine,
    rendered_body_lines,
    strip_tags,
)
from spamkiln.runtime.mime import parse

MP = b"Content-Type: multipart/mixed; boundary=b\n\n"

RENDER_CASES = [
    # (name, raw message, body elements, rawbody chunks)
    (
        "paragraphs merge lines; CRLF and mbox line handled",
        b"From s@x Mon Jan 1 00:00:00 2024\r\nSubject: Hi there\r\n\r\n"
        b"Line one\r\nline two\r\n\r\nPara two\r\n",
        [b"Hi there\n", b"Line one line two\n", b"Para two "],
        [b"Line one\nline two\n\nPara two\n"],
    ),
    (
        "no Subject gives an empty first line",
        b"From: x@y.example\n\nbody\n",
        [b"\n", b"body "],
        [b"body\n"],
    ),
    (
        "Latin-1 body becomes UTF-8, rawbody keeps the bytes",
        b"Subject: =?iso-8859-1?Q?Caf=E9?=\nContent-Type: text/plain; charset=iso-8859-1\n\n"
        b"caf\xe9 \x93q\x94 \x81odd\n",
        ["Café\n".encode(), "café \u201cq\u201d \ufffdodd ".encode()],
        [b"caf\xe9 \x93q\x94 \x81odd\n"],
    ),
    (
        "Unicode whitespace squeezed, \\x1c is not whitespace",
        b"Subject: ws\nContent-Type: text/plain; charset=utf-8\n\nline one\n  line two\t\ttabs\n"
        b" \n\n\nnew para\xc2\xa0nbsp\xe2\x80\x83emsp\n\x1cfs\n",
        [b"ws\n", b"line one line two tabs\n", b"new para nbsp emsp \x1cfs "],
        [b"line one\n  line two\t\ttabs\n \n\n\nnew para\xc2\xa0nbsp\xe2\x80\x83emsp\n\x1cfs\n"],
    ),
    (
        "a non-text part between text parts is a paragraph break",
        MP + b"--b\nContent-Type: text/plain\n\nfirst\n--b\nContent-Type: image/gif\n"
        b"Content-Transfer-Encoding: base64\n\nR0lGODlh\n--b\nContent-Type: text/plain\n\nsecond\n"
        b"--b\nContent-Type: text/plain\n\nthird\n--b--\n",
        [b"\n", b"first\n", b"second third"],
        [b"first", b"second", b"third"],
    ),
    (
        "calendar is neither body nor rawbody; enriched text is both",
        MP + b"--b\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n--b\n"
        b"Content-Type: text/enriched\n\nenriched text\n--b--\n",
        [b"\n", b"enriched text"],
        [b"enriched text"],
    ),
    (
        "embedded message: its body joins, its headers do not",
        MP + b"--b\nContent-Type: text/plain\n\nouter text\n--b\nContent-Type: message/rfc822\n\n"
        b"Subject: inner\nContent-Type: text/plain; charset=utf-8\n\ninner \xc3\xa9t\xc3\xa9\n"
        b"--b--\n",
        [b"\n", b"outer text inner \xc3\xa9t\xc3\xa9"],
        [b"outer text", b"inner \xc3\xa9t\xc3\xa9"],
    ),
    (
        "NUL bytes become line breaks in the body text (SA quirk)",
        b"Subject: nul\x00byte\n\nbody\x00with\x00nul\n",
        [b"nul\x00byte\n", b"body\n", b"with\n", b"nul "],
        [b"body\x00with\x00nul\n"],
    ),
    (
        "UTF-16 with a BOM is not decoded as UTF-16 (SA quirk)",
        b"Subject: u\nContent-Type: text/plain; charset=utf-16\n\n\xff\xfeH\x00i\x00",
        [b"u\n", b"\xc3\xbf\xc3\xbeH\n", b"i\n"],
        [b"\xff\xfeH\x00i\x00"],
    ),
    (
        "multipart without a body has no elements at all",
        MP,
        [],
        [],
    ),
    (
        "empty input",
        b"",
        [b"\n"],
        [b""],
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "body", "rawbody"), RENDER_CASES, ids=[c[0] for c in RENDER_CASES]
)
def test_body_and_rawbody_targets(
    name: str, raw: bytes, body: list[bytes], rawbody: list[bytes]
) -> None:
    message = parse(raw)
    assert rendered_body_lines(message) == body, name
    assert decoded_body_chunks(message) == rawbody, name


def test_long_lines_are_split_near_2048_bytes() -> None:
    message = parse(b"Subject: long\n\n" + b"x" * 5000 + b" tail " + b"y" * 3000 + b"\n")
    lines = rendered_body_lines(message)
    assert [len(line) for line in lines] == [5, 2048, 2048, 910, 2048, 953]
    assert lines[3].endswith(b"x tail ")
    chunks = decoded_body_chunks(message)
    assert [len(chunk) for chunk in chunks] == [2049, 2952, 3006]


def test_long_line_split_prefers_the_last_space() -> None:
    lines = rendered_body_lines(parse(b"Subject: s\n\n" + b"ab " * 1000 + b"\n"))
    assert lines[1] == b"ab " * 683  # 2049 bytes: the space at offset 2048 is kept
    assert lines[2] == b"ab " * 317


def test_body_part_scan_size_cuts_at_a_newline() -> None:
    text = (b"w" * 99 + b"\n") * 600
    lines = rendered_body_lines(parse(b"Subject: s\n\n" + text))
    # 60,000 characters: cut just after the first newline past 50,000 (offset 50,099)
    assert sum(len(line) for line in lines[1:]) == 50100


def test_html_renderer_is_injected() -> None:
    raw = MP + b"--b\nContent-Type: text/html\n\n<p>Hello <b>world</b></p>\n--b--\n"
    seen: list[str] = []

    def renderer(source: str) -> str:
        seen.append(source)
        return "RENDERED"

    assert rendered_body_lines(parse(raw), renderer) == [b"\n", b"RENDERED"]
    assert seen == ["<p>Hello <b>world</b></p>"]
    assert strip_tags("<p>a &amp; b</p>") == " a & b "


def test_html_attachment_name_renders_as_html() -> None:
    raw = MP + b'--b\nContent-Type: application/octet-stream; name="page.html"\n\n<b>x</b>\n--b--\n'
    assert rendered_body_lines(parse(raw), lambda s: "html:" + s) == [b"\n", b"html:<b>x</b>"]


def test_views_are_cached_per_message() -> None:
    message = parse(b"Subject: s\n\nbody\n")
    assert rendered_body_lines(message) is rendered_body_lines(message)
    assert decoded_body_chunks(message) is decoded_body_chunks(message)


def test_pristine_drops_mbox_line_and_keeps_crlf() -> None:
    raw = b"From s@x Mon Jan 1 00:00:00 2024\r\nSubject: a\r\nX-Spam-Flag: YES\r\n\r\nb\r\n"
    assert pristine(parse(raw)) == b"Subject: a\r\nX-Spam-Flag: YES\r\n\r\nb\r\n"


def test_mime_part_headers() -> None:
    raw = (
        b"Subject: top\nX-Spam-Flag: YES\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain;\n charset=us-ascii\n\nx\n--b--\n"
    )
    parts = mime_part_headers(parse(raw))
    assert [p.number for p in parts] == [1, 2]
    assert parts[0].get("Subject") == b"top\n"
    assert parts[0].get("X-Spam-Flag") is None
    assert parts[0].get("X-Missing", raw=True) == b""
    assert parts[1].get("Content-Type") == b"text/plain; charset=us-ascii\n"
    assert parts[1].get("Content-Type", raw=True) == b"text/plain;\n charset=us-ascii\n"
    assert parts[1].all() == b"Content-Type: text/plain; charset=us-ascii\n"
    assert parts[1].all(raw=True) == b"Content-Type: text/plain; charset=us-ascii\n"
    assert parts[0].all().startswith(b"Subject: top\nContent-Type: multipart/mixed")


def test_a_failing_html_renderer_degrades_to_tag_stripping() -> None:
    raw = MP + b"--b\nContent-Type: text/html\n\n<i>kept</i>\n--b--\n"

    def broken(_source: str) -> str:
        raise RuntimeError("renderer bug")

    message = parse(raw)
    assert rendered_body_lines(message, broken) == [b"\n", b" kept "]
    assert "html_render_error" in message.parse_flags


@pytest.mark.parametrize(
    ("second_part", "expected"),
    [
        # Every part pure 7-bit: SA keeps octets, so Latin-1 stays one byte and NBSP is no space.
        (b"Content-Type: text/plain\n\nascii", [b"\n", b"a\x95b\xa0c ascii"]),
        # One part really decoded: the whole text is characters, encoded as UTF-8.
        (
            b"Content-Type: text/plain; charset=utf-8\n\n\xc3\xa9",
            [b"\n", b"a\xc2\x95b c \xc3\xa9"],
        ),
    ],
)
def test_octet_or_character_semantics_of_the_joined_text(
    second_part: bytes, expected: list[bytes]
) -> None:
    raw = MP + b"--b\nContent-Type: text/html\n\n<p>x</p>\n--b\n" + second_part + b"\n--b--\n"
    assert rendered_body_lines(parse(raw), lambda _s: "a\x95b\xa0c") == expected
