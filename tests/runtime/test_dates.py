"""SpamAssassin's lenient date reader, quirks included."""

from __future__ import annotations

import calendar

import pytest

from spamkiln.runtime.dates import RECEIVED_DATE, parse_rfc822_date


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


# (case, text, expected seconds or None)
DATES = [
    ("rfc 2822", "Mon, 3 Jun 2002 10:00:00 +0000", utc(2002, 6, 3, 10)),
    ("negative offset", "Mon, 3 Jun 2002 10:00:00 -0500", utc(2002, 6, 3, 15)),
    ("positive offset", "3 Jun 2002 10:00:00 +0230", utc(2002, 6, 3, 7, 30)),
    ("no seconds", "3 Jun 2002 10:07 +0000", utc(2002, 6, 3, 10, 7)),
    ("no comma space", "Mon,3 Jun 2002 10:00:00 GMT", utc(2002, 6, 3, 10)),
    ("named zone", "3 Jun 2002 10:00:00 EST", utc(2002, 6, 3, 15)),
    ("named zone with -DST", "3 Jun 2002 10:00:00 CEST-DST", utc(2002, 6, 3, 10)),
    ("unknown zone is UTC", "3 Jun 2002 10:00:00 XYZ", utc(2002, 6, 3, 10)),
    ("only the first capitals count", "MON, 3 Jun 2002 10:00:00 EST", utc(2002, 6, 3, 10)),
    ("month any case", "3 jUN 2002 10:00:00 +0000", utc(2002, 6, 3, 10)),
    ("asctime swallows its time", "Mon Jun  3 10:00:00 2002", utc(2002, 6, 3)),
    ("two-digit year < 50", "3 Jun 02 10:00:00 +0000", utc(2002, 6, 3, 10)),
    ("two-digit year >= 50", "3 Jun 99 10:00:00 +0000", utc(1999, 6, 3, 10)),
    ("three-digit year", "3 Jun 102 10:00:00 +0000", utc(2002, 6, 3, 10)),
    ("year clamped low", "1 Jan 1969 10:00:00 +0000", utc(1970, 1, 1, 10)),
    ("year clamped high", "1 Jan 2099 10:00:00 +0000", utc(2037, 1, 1, 10)),
    ("day past month end rolls over", "31 Feb 2003 10:00:00 +0000", utc(2003, 3, 1, 10)),
    ("leap day kept", "29 Feb 2000 10:00:00 +0000", utc(2000, 2, 29, 10)),
    ("not a leap year", "29 Feb 1900 10:00:00 +0000", utc(1970, 3, 1, 10)),
    ("December rolls into next year", "32 Dec 2002 00:00:00 +0000", utc(2003, 1, 1)),
    ("clock fudged", "3 Jun 2002 25:61:99 +0000", utc(2002, 6, 3, 23, 59, 59)),
    ("plus zone at the epoch", "1 Jan 1970 00:30:00 +0100", 0),
    ("first date in the text wins", "x 2 Jan 2003 y 5 Feb 2004 01:02:03", utc(2003, 1, 2, 1, 2, 3)),
    ("day 0 is refused", "0 Jan 2002 10:00:00 +0000", None),
    ("no date at all", "yesterday at noon", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("case", "text", "expected"), DATES, ids=[d[0] for d in DATES])
def test_parse_rfc822_date(case: str, text: str, expected: int | None) -> None:
    assert parse_rfc822_date(text) == expected
    assert parse_rfc822_date(text.encode()) == expected


def test_received_stamp_is_found_after_the_semicolon() -> None:
    line = b"from a (a [192.0.2.1]) by b id 1; Tue, 4 Jun 2002 01:02:03 +0100 (BST)"
    m = RECEIVED_DATE.search(line)
    assert m is not None
    assert parse_rfc822_date(m.group(1)) == utc(2002, 6, 4, 0, 2, 3)
    assert RECEIVED_DATE.search(b"from a by b with SMTP") is None
