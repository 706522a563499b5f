"""URIEval: truncated URIs and https anchor text over links to IP addresses."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import uri_eval as ev

from ._mail import ctx, message


def html(markup: str) -> bytes:
    return message(markup.encode() + b"\n", "Content-Type: text/html")


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [
        (
            "https text over an IP link",
            html('<a href="http://192.0.2.1/x">https://bank.com</a>'),
            True,
        ),
        (
            "the text shows the IP itself",
            html('<a href="http://192.0.2.1/">https://192.0.2.1/</a>'),
            False,
        ),
        ("link to a name", html('<a href="http://bank.com/">https://bank.com</a>'), False),
        ("plain anchor text", html('<a href="http://192.0.2.1/">click</a>'), False),
    ],
)
def test_check_https_ip_mismatch(case: str, raw: bytes, expected: bool) -> None:
    assert ev.check_https_ip_mismatch(ctx(raw)) is expected, case


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [
        ("a 9000-character link", html(f'<a href="http://example.com/{"a" * 9000}">x</a>'), True),
        ("an ordinary link", html('<a href="http://example.com/a">x</a>'), False),
    ],
)
def test_check_uri_truncated(case: str, raw: bytes, expected: bool) -> None:
    assert ev.check_uri_truncated(ctx(raw)) is expected, case
