"""HeaderEval's date checks: a Date: far from when the mail was really handed over.

The reference time is the Received stamp closest to the Date: header (SpamAssassin 4.0.1,
`HeaderEval::_check_date_diff`), so a single slow or misconfigured relay does not make an
honest message look shifted. MSGID_OUTLOOK_INVALID also reads times: Outlook's Message-IDs
embed the sending time, so a forged one disagrees with both Date and Received.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.dates import RECEIVED_DATE, parse_rfc822_date

from ._perl import perl_number
from ._sa_get import get_scalar

__all__ = ["EVALS", "check_for_shifted_date", "check_outlook_message_id", "date_difference"]

_SECONDS_PER_HOUR = 3600
_NON_SPACE = re.compile(rb"\S")
# Received lines a local fetchmail run adds on top; their times are the fetch, not the delivery.
_LOCAL_HANDOVER = re.compile(rb"\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)")
_QMAIL_LOCAL = re.compile(rb"qmail \d+ invoked by uid \d+")
_FETCHMAIL = re.compile(rb"\bby localhost with \w+ \(fetchmail-[\d.]+")


def _date_header_time(ctx: MessageContext) -> int | None:
    """The first parsable Resent-Date (they win), else the first parsable Date."""
    for name in ("Resent-Date", "Date"):
        for value in ctx.header_values(name):
            if value:
                parsed = parse_rfc822_date(value.removesuffix(b"\n"))
                if parsed is not None:
                    return parsed
    return None


def _received_times(ctx: MessageContext) -> list[int]:
    """Times of the Received headers, newest first, local fetchmail hops set aside."""
    lines = [line for line in get_scalar(ctx, "Received").split(b"\n") if _NON_SPACE.search(line)]
    if not lines:
        return []
    local: list[bytes] = []
    if _LOCAL_HANDOVER.search(lines[0]) or _QMAIL_LOCAL.search(lines[0]):
        local.append(lines.pop(0))
    if lines and _FETCHMAIL.search(lines[0]):
        local.append(lines.pop(0))
    elif local:
        lines.insert(0, local.pop(0))
    times = []
    for line in lines:
        m = RECEIVED_DATE.search(line)
        if m:
            parsed = parse_rfc822_date(m.group(1))
            if parsed is not None:
                times.append(parsed)
    return times


def date_difference(ctx: MessageContext) -> int:
    """Date: minus the closest Received time, in seconds; 0 when either is unknown."""
    cache = ctx.msg.cache
    found = cache.get("date_eval:diff")
    if isinstance(found, int):
        return found
    found = 0
    date = _date_header_time(ctx)
    if date is not None:
        diffs = [date - received for received in _received_times(ctx)]
        if len(diffs) > 1 and diffs[-1] == 0:
            diffs.pop()  # the oldest hop stamping exactly the Date: is the sender's own MTA
        if diffs:
            found = min(diffs, key=abs)  # the first of equally close ones, as a stable sort
    cache["date_eval:diff"] = found
    return found


def check_for_shifted_date(
    ctx: MessageContext, low: str = "undef", high: str = "undef", *_args: str
) -> bool:
    """DATE_IN_PAST_* / DATE_IN_FUTURE_*: the shift, in hours, is within [low, high)."""
    diff = date_difference(ctx)
    return (low == "undef" or diff >= _SECONDS_PER_HOUR * perl_number(low)) and (
        high == "undef" or diff < _SECONDS_PER_HOUR * perl_number(high)
    )


_OUTLOOK_MESSAGE_ID = re.compile(rb"^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@")
# Outlook's time token is a linear function of the Unix time (HeaderEval.pm); within this
# many units the ID is consistent.
_TOKEN_PER_SECOND = 0.0023283064365387
_TOKEN_AT_EPOCH = 27111902.8329849
_TOKEN_FUDGE = 250


def _token_mismatch(token: int, when: int) -> bool:
    return abs(token - int(when * _TOKEN_PER_SECOND + _TOKEN_AT_EPOCH)) >= _TOKEN_FUDGE


def check_outlook_message_id(ctx: MessageContext, *_args: str) -> bool:
    """MSGID_OUTLOOK_INVALID: an Outlook-style Message-ID whose time fits neither the Date
    nor the Received headers.

    SpamAssassin reads the Received time from the whole Received text (the first date in
    it, i.e. the newest header's), and an unparsable date counts as time 0.
    """
    m = _OUTLOOK_MESSAGE_ID.search(get_scalar(ctx, "MESSAGEID"))
    if m is None:
        return False
    token = int(m.group(1), 16)
    if not _token_mismatch(token, parse_rfc822_date(get_scalar(ctx, "Date")) or 0):
        return False
    return _token_mismatch(token, parse_rfc822_date(get_scalar(ctx, "Received")) or 0)


EVALS: dict[str, Callable[..., object]] = {
    "check_for_shifted_date": check_for_shifted_date,
    "check_outlook_message_id": check_outlook_message_id,
}
