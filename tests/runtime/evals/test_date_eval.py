"""Date: against the Received stamps, and Outlook Message-ID time tokens."""

from __future__ import annotations

import calendar
import email.utils

import pytest

from spamkiln.runtime.evals import date_eval as ev

from ._header_mail import context, received

HOUR = 3600


def rcvd(when: str, host: str = "relay.example.net") -> str:
    return received(host, "198.51.100.7", "mx.example.org", when)


FETCHED = (
    "Received: from localhost (localhost [127.0.0.1]) by home.example.org (Postfix) id F1;"
    " Wed, 5 Jun 2002 10:00:00 +0000\n"
    "Received: from pop.example.net [192.0.2.1] by localhost with POP3 (fetchmail-5.9.0)"
    " for bob@localhost (single-drop); Wed, 5 Jun 2002 09:59:00 +0000"
)

# (case, headers, Date minus nearest Received, in seconds)
DIFFS = [
    (
        "on time",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n" + rcvd("Mon, 3 Jun 2002 10:05:00 +0000"),
        -300,
    ),
    (
        "five hours ahead",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n" + rcvd("Mon, 3 Jun 2002 05:00:00 +0000"),
        5 * HOUR,
    ),
    (
        "nearest hop wins",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 20:00:00 +0000")
        + "\n"
        + rcvd("Mon, 3 Jun 2002 10:30:00 +0000"),
        -HOUR // 2,
    ),
    (
        "the sender's own stamp is ignored",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 20:00:00 +0000")
        + "\n"
        + rcvd("Mon, 3 Jun 2002 10:00:00 +0000"),
        -10 * HOUR,
    ),
    (
        "a sole equal stamp is kept",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n" + rcvd("Mon, 3 Jun 2002 10:00:00 +0000"),
        0,
    ),
    (
        "ties keep the newer hop",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 11:00:00 +0000")
        + "\n"
        + rcvd("Mon, 3 Jun 2002 09:00:00 +0000"),
        -HOUR,
    ),
    (
        "Resent-Date wins",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n"
        "Resent-Date: Tue, 4 Jun 2002 10:00:00 +0000\n" + rcvd("Tue, 4 Jun 2002 12:00:00 +0000"),
        -2 * HOUR,
    ),
    ("unparsable Date", "Date: sometime\n" + rcvd("Mon, 3 Jun 2002 10:00:00 +0000"), 0),
    ("no Received", "Date: Mon, 3 Jun 2002 10:00:00 +0000", 0),
    ("fetchmail hops set aside", "Date: Mon, 3 Jun 2002 10:00:00 +0000\n" + FETCHED, 0),
    (
        "fetchmail hops set aside, the rest used",
        "Date: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + FETCHED
        + "\n"
        + rcvd("Mon, 3 Jun 2002 13:00:00 +0000"),
        -3 * HOUR,
    ),
]


@pytest.mark.parametrize(("case", "headers", "diff"), DIFFS, ids=[d[0] for d in DIFFS])
def test_date_difference(case: str, headers: str, diff: int) -> None:
    assert ev.date_difference(context(headers)) == diff


# (case, low, high, diff in hours, hit?)
RANGES = [
    ("inside", "3", "6", 5, True),
    ("low bound included", "3", "6", 3, True),
    ("high bound excluded", "3", "6", 6, False),
    ("past", "-12", "-6", -10, True),
    ("open low end", "undef", "-96", -100, True),
    ("open high end", "2920", "undef", 3000, True),
    ("zero is in no range", "undef", "-96", 0, False),
]


@pytest.mark.parametrize(
    ("case", "low", "high", "hours", "hit"), RANGES, ids=[r[0] for r in RANGES]
)
def test_shifted_date_ranges(case: str, low: str, high: str, hours: int, hit: bool) -> None:
    received_at = calendar.timegm((2002, 6, 3, 10, 0, 0)) - hours * HOUR
    stamp = email.utils.formatdate(received_at, usegmt=True)
    ctx = context("Date: Mon, 3 Jun 2002 10:00:00 +0000\n" + rcvd(stamp))
    assert ev.check_for_shifted_date(ctx, low, high) is hit


def outlook_id(when: int) -> str:
    """An Outlook Message-ID whose time token says `when` (HeaderEval's linear formula)."""
    token = int(when * 0.0023283064365387 + 27111902.8329849)
    return f"Message-ID: <0000{token:08x}$0a1b2c3d$4e5f6071@example.com>"


JUNE_3 = calendar.timegm((2002, 6, 3, 10, 0, 0))
JUNE_9 = calendar.timegm((2002, 6, 9, 10, 0, 0))

# (case, headers, hit?)
OUTLOOK = [
    (
        "token fits Date",
        outlook_id(JUNE_3)
        + "\nDate: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 10:01:00 +0000"),
        False,
    ),
    (
        "token fits Received only",
        outlook_id(JUNE_3)
        + "\nDate: Sun, 9 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 10:01:00 +0000"),
        False,
    ),
    (
        "token fits neither",
        outlook_id(JUNE_9)
        + "\nDate: Mon, 3 Jun 2002 10:00:00 +0000\n"
        + rcvd("Mon, 3 Jun 2002 10:01:00 +0000"),
        True,
    ),
    (
        "not an Outlook id",
        "Message-ID: <1234@example.com>\nDate: Mon, 3 Jun 2002 10:00:00 +0000",
        False,
    ),
]


@pytest.mark.parametrize(("case", "headers", "hit"), OUTLOOK, ids=[o[0] for o in OUTLOOK])
def test_outlook_message_id(case: str, headers: str, hit: bool) -> None:
    assert ev.check_outlook_message_id(context(headers)) is hit
