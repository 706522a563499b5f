"""uri_detail rules, compiled and scanned end to end."""

from __future__ import annotations

import pytest

from ..conftest import ScannerFactory, message

RULES = (
    "loadplugin Mail::SpamAssassin::Plugin::URIDetail\n"
    "util_rb_tld com net\n"  # domains come from the registry lists
    "uri_detail TEXT_MISMATCH text =~ /paypal\\.com/i domain !~ /^paypal\\.com$/\n"
    "uri_detail HTTP_RAW raw =~ m{^http://} type =~ /^a$/\n"
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a href="http://evil.example.net/login">www.paypal.com</a>',
            {"TEXT_MISMATCH", "HTTP_RAW"},
        ),
        ('<a href="http://www.paypal.com/">www.paypal.com</a>', {"HTTP_RAW"}),
        ('<a href="https://evil.example.net/">click</a>', set()),
    ],
)
def test_uri_detail(make_scanner: ScannerFactory, html: str, expected: set[str]) -> None:
    raw = message("Subject: x\nContent-Type: text/html", f"<html><body>{html}</body></html>\n")
    hits = make_scanner(RULES).scan(raw).hits
    assert {n for n in ("TEXT_MISMATCH", "HTTP_RAW") if n in hits} == expected


def test_bad_uri_detail_lines_are_lint_errors(make_scanner: ScannerFactory) -> None:
    with pytest.raises(AssertionError, match="uri_detail"):
        make_scanner(
            "loadplugin Mail::SpamAssassin::Plugin::URIDetail\nuri_detail BAD colour =~ /red/\n"
        )
