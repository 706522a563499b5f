"""MIME statistics: the figures MIMEEval rules read, computed once per message."""

from __future__ import annotations

import pytest

from spamkiln.runtime import mime
from spamkiln.runtime.mime_stats import mime_stats, split_raw_lines


def alternative(text: bytes, html: bytes, boundary: bytes = b"A") -> bytes:
    return (
        b"--"
        + boundary
        + b"\nContent-Type: text/plain\n\n"
        + text
        + b"\n--"
        + boundary
        + b"\nContent-Type: text/html\n\n"
        + html
        + b"\n--"
        + boundary
        + b"--\n"
    )


def msg(body: bytes, ctype: bytes = b"multipart/alternative; boundary=A") -> bytes:
    return b"Subject: t\nContent-Type: " + ctype + b"\n\n" + body


def test_multipart_ratio_is_text_bytes_per_html_byte() -> None:
    stats = mime_stats(mime.parse(msg(alternative(b"12345", b"1234567890"))))
    assert stats.multipart_alternative == 1
    assert stats.multipart_ratio == pytest.approx(0.5)


def test_multipart_ratio_uses_the_last_pair() -> None:
    first = (
        b"--B\nContent-Type: multipart/alternative; boundary=A\n\n"
        + alternative(b"x" * 10, b"y" * 10)
        + b"\n--B\nContent-Type: multipart/alternative; boundary=C\n\n"
    )
    second = alternative(b"x", b"y" * 100, b"C") + b"\n--B--\n"
    stats = mime_stats(mime.parse(msg(first + second, b"multipart/mixed; boundary=B")))
    assert stats.multipart_ratio == pytest.approx(0.01)


def test_parts_before_the_alternative_are_not_sized() -> None:
    body = (
        b"--B\nContent-Type: text/plain\n\n"
        + b"x" * 500
        + b"\n--B\nContent-Type: multipart/alternative; boundary=A\n\n"
        + alternative(b"", b"<p>hi</p>")
        + b"\n--B--\n"
    )
    stats = mime_stats(mime.parse(msg(body, b"multipart/mixed; boundary=B")))
    assert stats.multipart_ratio == 0.0


def test_attachments_are_not_sized() -> None:
    body = (
        b"--A\nContent-Type: text/plain\n\nshort\n--A\nContent-Type: text/html\n\n<p>x</p>\n"
        b"--A\nContent-Type: text/plain\nContent-Disposition: attachment\n\n"
        + b"x" * 90
        + b"\n--A--\n"
    )
    stats = mime_stats(mime.parse(msg(body)))
    assert stats.multipart_ratio == pytest.approx(5 / 8)


@pytest.mark.parametrize(
    ("body", "count", "ratio"),
    [
        (b"=41=42\n", 2, 2 / 7),
        (b"caf=E9 =20=20\n", 0, 0.0),  # needed escape; trailing blanks taken back out
        (b"no escapes at all\n", 0, 0.0),
    ],
)
def test_qp_figures(body: bytes, count: int, ratio: float) -> None:
    raw = b"Subject: t\nContent-Transfer-Encoding: quoted-printable\n\n" + body
    stats = mime_stats(mime.parse(raw))
    assert stats.qp_count == count
    assert stats.qp_ratio == pytest.approx(ratio)


def test_statistics_are_cached_per_locale_set() -> None:
    message = mime.parse(msg(alternative(b"a", b"b")))
    assert mime_stats(message) is mime_stats(message)
    assert mime_stats(message, ["en"]) is not mime_stats(message)


def test_unicode_entity_ratio() -> None:
    stats = mime_stats(mime.parse(b"Subject: t\n\n&#x4E2D;&#x4E2D;abcdefgh\n"))
    assert stats.text_unicode_ratio == pytest.approx(2 / 9)


@pytest.mark.parametrize(
    ("data", "lines"),
    [(b"", []), (b"a\nb\n", [b"a\n", b"b\n"]), (b"a\nb", [b"a\n", b"b"])],
)
def test_split_raw_lines(data: bytes, lines: list[bytes]) -> None:
    assert split_raw_lines(data) == lines
