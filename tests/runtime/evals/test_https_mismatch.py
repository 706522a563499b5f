"""HTTPSMismatch: anchor text showing an https:// site over a link going somewhere else."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import https_mismatch as ev

from ._mail import ctx, message


def page(*anchors: tuple[str, str]) -> bytes:
    links = "".join(f'<a href="{href}">{text}</a><br>\n' for href, text in anchors)
    return message(f"<html><body>{links}</body></html>\n".encode(), "Content-Type: text/html")


PHISH = ("http://evil.example.net/login", "https://www.bank.com/login")
HONEST = ("http://www.bank.com/login", "https://www.bank.com/login")
FILLER = [(f"http://news{i}.example.org/item", f"story {i}") for i in range(12)]


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [
        ("text claims another https site", page(PHISH), True),
        ("same registrable domain", page(HONEST), False),
        (
            "link to a bare IP is not judged",
            page(("http://192.0.2.7/", "https://www.bank.com/")),
            False,
        ),
        ("anchor text shows no https URL", page(("http://evil.example.net/", "click here")), False),
        ("a newsletter with many links is exempt", page(PHISH, *FILLER), False),
        ("a few other links are fine", page(PHISH, *FILLER[:3]), True),
        ("plain text mail", message(b"https://www.bank.com/ http://evil.example.net/\n"), False),
    ],
)
def test_check_https_http_mismatch(case: str, raw: bytes, expected: bool) -> None:
    assert ev.check_https_http_mismatch(ctx(raw), "1", "10") is expected, case


def test_minimum_anchor_count() -> None:
    assert ev.check_https_http_mismatch(ctx(page(PHISH)), "2", "10") is False
    assert ev.check_https_http_mismatch(ctx(page(PHISH, HONEST)), "2", "10") is True
