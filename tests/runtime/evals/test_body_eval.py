"""BodyEval checks on hand-made messages."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import body_eval as ev

from ._mail import ctx, message, multipart, part


@pytest.mark.parametrize(
    ("case", "body", "limit", "expected"),
    [
        ("short body", b"hi\n", "10", True),
        ("exactly at the limit", b"123456789\n", "10", True),
        ("longer body", b"this body is longer than ten bytes\n", "10", False),
    ],
)
def test_check_body_length(case: str, body: bytes, limit: str, expected: bool) -> None:
    assert ev.check_body_length(ctx(message(body)), limit) is expected, case


def alternative(text: bytes, html: bytes) -> bytes:
    return multipart(
        "alternative", part(text, "Content-Type: text/plain"), part(html, "Content-Type: text/html")
    )


# (case, raw, difference in (99, 100], text words / html words > 3 with > 1 html word)
ALTERNATIVES = [
    (
        "different words",
        alternative(b"hello world\n", b"<p>buy cheap pills now</p>\n"),
        True,
        False,
    ),
    ("same words", alternative(b"hello big world\n", b"<p>hello big world</p>\n"), False, False),
    # An HTML alternative with no words but an image counts as one word nobody can type.
    ("image only html", alternative(b"see the picture\n", b'<img src="cid:x">\n'), True, False),
    (
        "wordy text alternative",
        alternative(b"one two three four five six seven eight nine\n", b"<p>one two</p>\n"),
        False,
        True,
    ),
    ("html repeats a word more often", alternative(b"sale\n", b"<p>sale sale</p>\n"), True, False),
    ("no alternative", message(b"hello world\n"), False, False),
]


@pytest.mark.parametrize(("case", "raw", "difference", "count"), ALTERNATIVES)
def test_multipart_alternative_difference(
    case: str, raw: bytes, difference: bool, count: bool
) -> None:
    c = ctx(raw)
    assert ev.multipart_alternative_difference(c, "99", "100") is difference, case
    assert ev.multipart_alternative_difference_count(c, "3", "1") is count, case


def test_calendar_invitation_is_exempt() -> None:
    raw = multipart(
        "alternative",
        part(b"<p>meeting at noon</p>\n", "Content-Type: text/html"),
        part(b"BEGIN:VCALENDAR\n", "Content-Type: text/calendar"),
    )
    assert ev.multipart_alternative_difference(ctx(raw), "50", "100") is False
    # the same HTML next to another attachment type is compared as usual
    raw = multipart(
        "alternative",
        part(b"<p>meeting at noon</p>\n", "Content-Type: text/html"),
        part(b"x\n", "Content-Type: application/octet-stream"),
    )
    assert ev.multipart_alternative_difference(ctx(raw), "50", "100") is True


def test_minimum_zero_means_no_lower_bound() -> None:
    raw = alternative(b"hello big world\n", b"<p>hello big world</p>\n")
    assert ev.multipart_alternative_difference(ctx(raw), "0", "10") is True


def test_largest_difference_wins_across_alternatives() -> None:
    same = part(
        b"--A1\nContent-Type: text/plain\n\nsame words\n--A1\nContent-Type: text/html"
        b"\n\n<p>same words</p>\n--A1--\n",
        'Content-Type: multipart/alternative; boundary="A1"',
    )
    other = part(
        b"--A2\nContent-Type: text/plain\n\nhello\n--A2\nContent-Type: text/html"
        b"\n\n<p>goodbye</p>\n--A2--\n",
        'Content-Type: multipart/alternative; boundary="A2"',
    )
    c = ctx(multipart("mixed", same, other))
    assert ev.multipart_alternative_difference(c, "99", "100") is True
    assert ev.multipart_alternative_difference(c, "0", "50") is False


@pytest.mark.parametrize(
    ("case", "subject", "body", "args", "expected"),
    [
        ("no spaces anywhere", "Offer", b"abcdefghijklmnopqrstuvwxyz\n", ("0", "10"), True),
        ("ordinary prose", "Offer", b"this is an ordinary line of text\n", ("0", "10"), False),
        ("vertical letters", "Offer", b"B U Y   N O W   P L E A S E\n", ("100", "100"), True),
        # the Subject line is examined too
        ("spaced-out subject", "f r e e   s t u f f", b"abcdefghijklmnop\n", ("0", "10"), False),
    ],
)
def test_tvd_vertical_words(
    case: str, subject: str, body: bytes, args: tuple[str, str], expected: bool
) -> None:
    assert ev.tvd_vertical_words(ctx(message(body, subject=subject)), *args) is expected, case


@pytest.mark.parametrize(
    ("case", "body", "expected"),
    [
        ("mostly blank", b"a\n\n\n\n\n\n\n\n\n\n", True),
        ("dense text", b"a\nb\nc\nd\ne\n", False),
    ],
)
def test_check_blank_line_ratio(case: str, body: bytes, expected: bool) -> None:
    assert ev.check_blank_line_ratio(ctx(message(body)), "80", "90", "4") is expected, case


def test_blank_line_ratio_needs_enough_lines() -> None:
    assert ev.check_blank_line_ratio(ctx(message(b"\n\n")), "0", "100", "4") is True  # -1 <= 100
    assert ev.check_blank_line_ratio(ctx(message(b"\n\n")), "50", "100", "4") is False


STOCK_TIP = b"""Company Name: Acme Widgets
Ticker: ACMW
Target Price: $4.50
Rating: strong buy
"""


@pytest.mark.parametrize(
    ("case", "body", "minimum", "expected"),
    [
        ("stock tip", STOCK_TIP, "2", True),
        ("one label only", b"Ticker: ACMW\nplain words\n", "2", False),
        ("ordinary mail", b"Dear Bob: see you soon\n", "2", False),
        ("minimum 0 always hits", b"nothing\n", "0", True),
    ],
)
def test_check_stock_info(case: str, body: bytes, minimum: str, expected: bool) -> None:
    assert ev.check_stock_info(ctx(message(body)), minimum) is expected, case


def test_registry_names() -> None:
    assert set(ev.EVALS) >= {
        "check_body_length",
        "multipart_alternative_difference",
        "multipart_alternative_difference_count",
        "tvd_vertical_words",
    }
