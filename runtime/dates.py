"""Reading the dates mail carries (Date:, Received: stamps) the way SpamAssassin 4.0.1 does.

SpamAssassin's date reader (`Util::parse_rfc822_date`) is deliberately lenient and has quirks
that rules were scored against: it takes the *first* day-month-year triple anywhere in the
text, clamps years into 1970..2037, pushes an impossible day (31 Feb) into the next month,
refuses day 0, and treats an unknown zone abbreviation as UTC. `DATE_IN_PAST_*`,
`DATE_IN_FUTURE_*` and `MSGID_OUTLOOK_INVALID` compare timestamps computed this way, so the
same text must give the same second here.
"""

from __future__ import annotations

import calendar
import re

__all__ = ["RECEIVED_DATE", "parse_rfc822_date"]

_MONTHS = b"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_MONTH_NUMBER = {
    name: number
    for number, name in enumerate(
        (
            b"jan",
            b"feb",
            b"mar",
            b"apr",
            b"may",
            b"jun",
            b"jul",
            b"aug",
            b"sep",
            b"oct",
            b"nov",
            b"dec",
        ),
        start=1,
    )
}

_COMMA = re.compile(rb", *")
_SPACES = re.compile(rb"\s+")
# The three accepted date shapes, tried in this order; each is removed from the text once found.
_DAY_MONTH_YEAR = re.compile(rb" (\d+) (" + _MONTHS + rb") (\d{4}) ", re.I)
_ASCTIME = re.compile(rb" (" + _MONTHS + rb") +(\d+) \d+:\d+:\d+ (\d{4}) ", re.I)
_SHORT_YEAR = re.compile(rb" (\d+) (" + _MONTHS + rb") (\d{2,3}) ", re.I)
_CLOCK = re.compile(rb" (\d?\d):(\d\d)(:(\d\d))? ")
_NUMERIC_ZONE = re.compile(rb" ([-+]\d{4}) ")
_NAMED_ZONE = re.compile(rb"\b([A-Z]{2,4}(?:-DST)?)\b")
_ZONE_OFFSET = re.compile(rb"([-+])(\d\d)(\d\d)$")

# SpamAssassin's zone table (Util.pm %TZ): ambiguous names resolved RFC 2822 first.
_ZONES: dict[bytes, bytes] = {
    b"UT": b"+0000",
    b"UTC": b"+0000",
    b"NDT": b"-0230",
    b"AST": b"-0400",
    b"ADT": b"-0300",
    b"NST": b"-0330",
    b"EST": b"-0500",
    b"EDT": b"-0400",
    b"CST": b"-0600",
    b"CDT": b"-0500",
    b"MST": b"-0700",
    b"MDT": b"-0600",
    b"PST": b"-0800",
    b"PDT": b"-0700",
    b"HST": b"-1000",
    b"AKST": b"-0900",
    b"AKDT": b"-0800",
    b"HADT": b"-0900",
    b"HAST": b"-1000",
    b"GMT": b"+0000",
    b"BST": b"+0100",
    b"IST": b"+0100",
    b"WET": b"+0000",
    b"WEST": b"+0100",
    b"CET": b"+0100",
    b"CEST": b"+0200",
    b"EET": b"+0200",
    b"EEST": b"+0300",
    b"MSK": b"+0300",
    b"MSD": b"+0400",
    b"MET": b"+0100",
    b"MEZ": b"+0100",
    b"MEST": b"+0200",
    b"MESZ": b"+0200",
    b"BRST": b"-0200",
    b"BRT": b"-0300",
    b"AEST": b"+1000",
    b"AEDT": b"+1100",
    b"ACST": b"+0930",
    b"ACDT": b"+1030",
    b"AWST": b"+0800",
    b"NZST": b"+1200",
    b"NZDT": b"+1300",
    b"JST": b"+0900",
    b"KST": b"+0900",
    b"HKT": b"+0800",
    b"SGT": b"+0800",
    b"PHT": b"+0800",
    b"IDT": b"+0300",
}

# Time::Local's 32-bit-safe range that SpamAssassin clamps years into.
_FIRST_YEAR, _LAST_YEAR = 1970, 2037

# Where a Received header keeps its timestamp: "; Mon, 2 Jan 2006 10:00:00 +0000".
RECEIVED_DATE = re.compile(rb"(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)")


def _days_in_month(month: int, year: int) -> int:
    if month in (4, 6, 9, 11):
        return 30
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 31


def _find_date(text: bytes) -> tuple[bytes, int, bytes, bytes] | None:
    """(text without the date, day, month name, year digits) for the first shape that fits."""
    for pattern, day_group, month_group in (
        (_DAY_MONTH_YEAR, 1, 2),
        (_ASCTIME, 2, 1),
        (_SHORT_YEAR, 1, 2),
    ):
        m = pattern.search(text)
        if m:
            rest = text[: m.start()] + b" " + text[m.end() :]
            return rest, int(m.group(day_group)), m.group(month_group), m.group(3)
    return None


def parse_rfc822_date(date: bytes | str) -> int | None:
    """Seconds since the epoch for a date in any of the shapes mail uses, or None.

    None when no day-month-year can be found or the day is 0 (Time::Local refuses it); every
    other oddity is fudged into a usable time, as SpamAssassin does.
    """
    if isinstance(date, str):
        date = date.encode("utf-8", "surrogateescape")
    text = _SPACES.sub(b" ", _COMMA.sub(b" ", b" " + date + b" "))
    found = _find_date(text)
    if found is None:
        return None
    text, day, month_name, year_digits = found
    year = int(year_digits)
    if len(year_digits) == 2 and year < 50:
        year += 2000
    elif len(year_digits) != 4:  # three-digit years, and two-digit years 50..99
        year += 1900

    hour = minute = second = 0
    clock = _CLOCK.search(text)
    if clock:
        text = text[: clock.start()] + b" " + text[clock.end() :]
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(4)) if clock.group(4) else 0

    zone = b""
    numeric = _NUMERIC_ZONE.search(text)
    if numeric:
        zone = numeric.group(1)
    else:
        named = _NAMED_ZONE.search(text)  # only the first capitalised word is considered
        if named:
            zone = _ZONES.get(named.group(1), b"")
    zone = zone or b"-0000"

    month = _MONTH_NUMBER[month_name.lower()]
    second, minute, hour = min(second, 59), min(minute, 59), min(hour, 23)
    if day > _days_in_month(month, year):
        day = 1
        month += 1
        if month > 12:
            month = 1
            year += 1
    year = min(max(year, _FIRST_YEAR), _LAST_YEAR)
    if day < 1:
        return None  # Time::Local croaks on day 0, and SpamAssassin gives up
    stamp = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))

    offset = _ZONE_OFFSET.search(zone)
    if offset:
        seconds = (int(offset.group(2)) * 60 + int(offset.group(3))) * 60
        if offset.group(1) == b"-":
            stamp += seconds
        elif stamp < seconds:  # a '+' zone on 1 Jan 1970 would go negative
            stamp = 0
        else:
            stamp -= seconds
    return stamp
