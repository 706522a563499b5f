"""HTMLEval checks: each test asks whether *any* text/html part satisfies it, never a sum."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import html_eval as ev

from ._mail import ctx, message, multipart, part


def html(markup: bytes, subject: str = "test") -> bytes:
    return message(markup, "Content-Type: text/html", subject=subject)


def two_html_parts(first: bytes, second: bytes) -> bytes:
    return multipart(
        "mixed", part(first, "Content-Type: text/html"), part(second, "Content-Type: text/html")
    )


PAGE = b"<html><head><title>Hi</title></head><body><p>Hello reader</p></body></html>\n"
UNCLOSED_BODY = b"<html><body><p>Hello</p></html>\n"
PADDING = b"<p>" + b"padding text " * 45 + b"</p>\n"  # about 600 bytes of markup

# (case, raw, function, args, expected)
CASES = [
    ("html part", html(PAGE), ev.html_test, ("html",), True),
    ("plain text", message(b"hello\n"), ev.html_test, ("html",), False),
    (
        "form posts to mail",
        html(b'<form action="mailto:x@example.com"></form>\n'),
        ev.html_test,
        ("form_action_mailto",),
        True,
    ),
    (
        "form posts to web",
        html(b'<form action="http://example.com/"></form>\n'),
        ev.html_test,
        ("form_action_mailto",),
        False,
    ),
    ("list result present", html(b"<!-- c --><p>x</p>\n"), ev.html_test, ("comment",), True),
    ("list result never created", html(PAGE), ev.html_test, ("comment",), False),
    ("short html", html(PAGE), ev.html_eval, ("length", "< 512"), True),
    ("long html", html(PADDING), ev.html_eval, ("length", "< 512"), False),
    ("unusable expression", html(PAGE), ev.html_eval, ("length", "<"), False),
    ("length in range", html(PAGE), ev.html_range, ("length", "0", "1024"), True),
    ("length above range", html(PADDING), ev.html_range, ("length", "0", "512"), False),
    ("open-ended range", html(PADDING), ev.html_range, ("length", "512", "inf"), True),
    ("undefined result", html(PAGE), ev.html_range, ("no_such_result", "0", "inf"), False),
    ("body left open", html(UNCLOSED_BODY), ev.html_tag_balance, ("body", "!= 0"), True),
    ("balanced body", html(PAGE), ev.html_tag_balance, ("body", "!= 0"), False),
    ("bad tag name", html(UNCLOSED_BODY), ev.html_tag_balance, ("bo-dy", "!= 0"), False),
    ("tag seen", html(b"<center>x</center>\n"), ev.html_tag_exists, ("center",), True),
    ("tag not seen", html(PAGE), ev.html_tag_exists, ("center",), False),
    (
        "image and little markup",
        html(b'<img src="http://example.com/a.gif">\n'),
        ev.html_image_only,
        ("0", "400"),
        True,
    ),
    (
        "image in a long page",
        html(PADDING + b'<img src="x.gif">\n'),
        ev.html_image_only,
        ("0", "400"),
        False,
    ),
    ("no image", html(PAGE), ev.html_image_only, ("0", "400"), False),
    (
        "big image, one word",
        html(b'<img src="a.gif" width="500" height="500"><p>Hi</p>\n'),
        ev.html_image_ratio,
        ("0.000", "0.002"),
        True,
    ),
    (
        "small image, many words",
        html(b'<img src="a.gif" width="5" height="5">' + PADDING),
        ev.html_image_ratio,
        ("0.000", "0.002"),
        False,
    ),
    (
        "comment",
        html(b"<!-- saved from url=(0022)http://example.com -->\n<p>x</p>\n"),
        ev.html_text_match,
        ("comment", r"<!-- saved from url=\(\d{4}\)"),
        True,
    ),
    (
        "other comment",
        html(b"<!-- hello -->\n<p>x</p>\n"),
        ev.html_text_match,
        ("comment", r"<!-- saved from url=\(\d{4}\)"),
        False,
    ),
    (
        "image inside a link",
        html(b'<a href="http://example.com/"><img src="a.gif"></a>\n'),
        ev.html_text_match,
        ("anchor", "<img>"),
        True,
    ),
    ("invalid regex never hits", html(PAGE), ev.html_text_match, ("title", "("), False),
    ("title differs from pattern", html(PAGE), ev.html_text_not_match, ("title", "^X"), True),
    (
        "long title",
        html(b"<title>" + b"t" * 40 + b"</title><p>x</p>\n", subject="short"),
        ev.html_title_subject_ratio,
        ("3.5",),
        True,
    ),
    (
        "title like the subject",
        html(b"<title>short</title><p>x</p>\n", subject="short"),
        ev.html_title_subject_ratio,
        ("3.5",),
        False,
    ),
    (
        "iframe source",
        html(b'<iframe src="http://example.com/x"></iframe>\n'),
        ev.check_iframe_src,
        (),
        True,
    ),
    ("no iframe", html(PAGE), ev.check_iframe_src, (), False),
]


@pytest.mark.parametrize(("case", "raw", "function", "args", "expected"), CASES)
def test_html_checks(
    case: str, raw: bytes, function: object, args: tuple[str, ...], expected: bool
) -> None:
    assert function(ctx(raw), *args) is expected, case  # type: ignore[operator]


def test_any_part_answers() -> None:
    """A fact of one HTML part is enough; the other part does not dilute it."""
    c = ctx(two_html_parts(PAGE, b"<center>second part</center>\n"))
    assert ev.html_tag_exists(c, "center") is True
    assert ev.html_tag_balance(c, "body", "!= 0") is False


def test_results_are_not_summed_across_parts() -> None:
    c = ctx(two_html_parts(PADDING, PADDING))
    assert len(c.html_docs) == 2
    assert ev.html_eval(c, "length", "< 512") is False
    assert ev.html_range(c, "length", "1000", "1400") is False  # the sum would be ~1200
    assert ev.html_range(c, "length", "500", "700") is True


def test_html_inside_attached_message_counts() -> None:
    inner = b"Content-Type: text/html\n\n<center>forwarded</center>\n"
    raw = multipart(
        "mixed",
        part(b"see below\n", "Content-Type: text/plain"),
        part(inner, "Content-Type: message/rfc822"),
    )
    assert ev.html_tag_exists(ctx(raw), "center") is True


def test_empty_html_part_has_no_results() -> None:
    raw = multipart("mixed", part(b"", "Content-Type: text/html"))
    assert ev.html_test(ctx(raw), "html") is False


def test_meta_charsets_are_never_seen() -> None:
    """The reference stores <meta> charsets outside its results: this check cannot hit."""
    raw = html(b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>x</p>\n')
    assert (
        ev.html_charset_faraway(
            ctx(raw, ok_locales="en"),
        )
        is False
    )


def test_registry_names() -> None:
    assert set(ev.EVALS) >= {
        "html_charset_faraway",
        "html_eval",
        "html_image_only",
        "html_image_ratio",
        "html_range",
        "html_tag_balance",
        "html_tag_exists",
        "html_test",
        "html_text_match",
        "html_title_subject_ratio",
    }
