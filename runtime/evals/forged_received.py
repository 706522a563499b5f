"""HeaderEval's forged-provider checks: mail claiming a big webmail sender but not sent by it.

Each check knows how one provider (AOL, Hotmail, Yahoo, Gmail, Juno, Eudoramail) stamps the
Received headers and extra headers of mail it really sends, and hits when the From domain
claims the provider but those traces are missing. Patterns are SpamAssassin 4.0.1's
(`Plugin::HeaderEval`); most run on all Received headers joined, whitespace squashed.
Mail whose Received headers a list manager removed (ezmlm, MSN groups) is excused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.ipsyntax import IP_ADDRESS

from ._sa_get import get_scalar

__all__ = [
    "EVALS",
    "check_for_fake_aol_relay_in_rcvd",
    "check_for_forged_eudoramail_received_headers",
    "check_for_forged_gmail_received_headers",
    "check_for_forged_gw05_received_headers",
    "check_for_forged_hotmail_received_headers",
    "check_for_forged_juno_received_headers",
    "check_for_forged_yahoo_received_headers",
    "check_for_msn_groups_headers",
    "check_for_no_hotmail_received_headers",
    "gated_through_received_hdr_remover",
]

_IP = IP_ADDRESS.encode("ascii")
_HAS_IP = re.compile(_IP)
_WHITESPACE_RUN = re.compile(rb"\s+")


def _received_squashed(ctx: MessageContext) -> bytes:
    """All Received values joined, every whitespace run (newlines too) made one space."""
    cache = ctx.msg.cache
    found = cache.get("forged_received:squashed")
    if not isinstance(found, bytes):
        found = _WHITESPACE_RUN.sub(b" ", get_scalar(ctx, "Received"))
        cache["forged_received:squashed"] = found
    return found


def _has_ip(value: bytes | None) -> bool:
    return value is not None and _HAS_IP.search(value) is not None


# ---- AOL -----------------------------------------------------------------------------------

_AOL_RELAY_NAME = re.compile(rb" rly-[a-z][a-z]\d\d\.", re.I)
_AOL_SENDMAIL = re.compile(rb"/AOL-\d+\.\d+\.\d+\)")
_AOL_ESMTP_ID = re.compile(rb"ESMTP id (?:RELAY|MAILRELAY|MAILIN)")


def check_for_fake_aol_relay_in_rcvd(ctx: MessageContext, *_args: str) -> bool:
    """__FORGED_AOL_RCVD: an AOL-style "rly-xx01." relay name without AOL's own stamps."""
    received = _received_squashed(ctx)
    if not _AOL_RELAY_NAME.search(received):
        return False
    return not (_AOL_SENDMAIL.search(received) or _AOL_ESMTP_ID.search(received))


# ---- list managers that strip Received headers ---------------------------------------------

_EZMLM_LIST = re.compile(rb"^contact \S+@\S+; run by ezmlm$", re.M)
_EZMLM_DELIVERED_TO = re.compile(rb"^mailing list \S+@\S+", re.M)
_QMAIL_INVOKED = re.compile(rb"qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+")
_MSN_GROUPS = re.compile(rb"from groups\.msn\.com \(\S+\.msn\.com ")


def gated_through_received_hdr_remover(ctx: MessageContext, *_args: str) -> bool:
    """__GATED_THROUGH_RCVD_REMOVER: no Received header, or an ezmlm / MSN-groups gateway."""
    mailing_list = get_scalar(ctx, "Mailing-List", None)
    if (
        mailing_list is not None
        and _EZMLM_LIST.search(mailing_list)
        and _EZMLM_DELIVERED_TO.search(get_scalar(ctx, "Delivered-To"))
        and _QMAIL_INVOKED.search(get_scalar(ctx, "Received"))
    ):
        return True
    received = get_scalar(ctx, "Received", None)
    if received is None:
        return True
    return _MSN_GROUPS.search(received) is not None


# ---- Hotmail and MSN groups ------------------------------------------------------------------

_MSN_GROUPS_LIST = re.compile(rb"<(\S+)@groups\.msn\.com>", re.I)
_MSN_PICKUP_SERVER = re.compile(rb"from mail pickup service by ((?:p\d\d\.)groups\.msn\.com)\b")
_NOTIFICATIONS = re.compile(rb"^notifications$")


@functools.lru_cache(maxsize=64)
def _perl_interpolated(source: bytes) -> re.Pattern[bytes] | None:
    """SpamAssassin puts header text into these patterns unquoted; None if that breaks them."""
    try:
        return re.compile(source)
    except re.error:
        return None


def check_for_msn_groups_headers(ctx: MessageContext, *_args: str) -> bool:
    """Mail an MSN group (long gone) relayed for a member: Received headers are expected absent.

    The list and server names are used as regex text, unquoted, as SpamAssassin does; this
    only runs when To names a groups.msn.com list, so compiling them here costs nothing.
    """
    to_match = _MSN_GROUPS_LIST.search(get_scalar(ctx, "To"))
    if to_match is None:
        return False
    server_match = _MSN_PICKUP_SERVER.search(get_scalar(ctx, "Received"))
    if server_match is None:
        return False
    list_name, server = to_match.group(1), server_match.group(1)
    message_id = get_scalar(ctx, "Message-Id")
    if _NOTIFICATIONS.search(list_name):
        pattern = _perl_interpolated(rb"^<\S+@" + server + b">")
        return pattern is not None and pattern.search(message_id) is not None
    id_pattern = _perl_interpolated(b"^<" + list_name + rb"-\S+@groups\.msn\.com>")
    bounce_pattern = _perl_interpolated(list_name + rb"-bounce@groups\.msn\.com")
    if id_pattern is None or bounce_pattern is None:
        return False
    return bool(
        id_pattern.search(message_id)
        and bounce_pattern.search(get_scalar(ctx, "EnvelopeFrom:addr"))
    )


_HOTMAIL_PICKUP = re.compile(rb"from mail pickup service by hotmail\.com with Microsoft SMTPSVC;")
_HOTMAIL_ORIGINATOR = re.compile(rb"hotmail\.com|msonline\-outlook")
# Received shapes of mail Hotmail/Outlook.com really sent; each needs X-Originating-IP ("ip")
# or X-OriginatorOrg ("org") as well.
_HOTMAIL_GENUINE: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ \)]"), "ip"),
    (
        re.compile(
            rb"from \S*\.outbound\.protection\.outlook\.com "
            rb"\(\S+\.outbound\.protection\.outlook\.com[ \)]"
        ),
        "org",
    ),
    (re.compile(rb"from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \(" + _IP + rb"\)"), "org"),
    (re.compile(rb"from \S*\.hotmail.com \(\[" + _IP + rb"\][ \):]"), "ip"),
    (re.compile(rb"from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP\;"), "ip"),
    (re.compile(rb"from \[66\.218.\S+\] by \S+\.yahoo\.com"), "ip"),
)
_HOTMAIL_CLAIM = re.compile(rb"(?:from |HELO |helo=)\S*hotmail\.com\b")
_HOTMAIL_ADDRESS = re.compile(rb"\bhotmail\.com$", re.I)


def _hotmail_verdict(ctx: MessageContext) -> tuple[bool, bool]:
    """(a relay claims to be hotmail.com, From is @hotmail.com without a Hotmail relay)."""
    cache = ctx.msg.cache
    found = cache.get("forged_received:hotmail")
    if isinstance(found, tuple):
        return found
    found = _compute_hotmail_verdict(ctx)
    cache["forged_received:hotmail"] = found
    return found


def _compute_hotmail_verdict(ctx: MessageContext) -> tuple[bool, bool]:
    received = _received_squashed(ctx)
    if _HOTMAIL_PICKUP.search(received) or check_for_msn_groups_headers(ctx):
        return False, False
    have = {
        "ip": _has_ip(get_scalar(ctx, "X-Originating-Ip", None)),
        "org": (org := get_scalar(ctx, "X-OriginatorOrg", None)) is not None
        and _HOTMAIL_ORIGINATOR.search(org) is not None,
    }
    if gated_through_received_hdr_remover(ctx):
        return False, False
    if any(have[need] and pattern.search(received) for pattern, need in _HOTMAIL_GENUINE):
        return False, False
    if _HOTMAIL_CLAIM.search(received):
        return True, False
    return False, _HOTMAIL_ADDRESS.search(get_scalar(ctx, "From:addr")) is not None


def check_for_forged_hotmail_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """__FORGED_HOTMAIL_RCVD: a relay HELOs as hotmail.com but the path is not Hotmail's."""
    return _hotmail_verdict(ctx)[0]


def check_for_no_hotmail_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """FORGED_HOTMAIL_RCVD2: From @hotmail.com, yet no relay of Hotmail's in the path."""
    return _hotmail_verdict(ctx)[1]


# ---- Eudoramail ------------------------------------------------------------------------------

_EUDORAMAIL_ADDRESS = re.compile(rb"\beudoramail\.com$", re.I)
_WHOWHERE_RELAY = re.compile(rb"by \S*whowhere.com\;")


def check_for_forged_eudoramail_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """__FORGED_EUDORAMAIL_RCVD: From @eudoramail.com not sent through WhoWhere."""
    if not _EUDORAMAIL_ADDRESS.search(get_scalar(ctx, "From:addr")):
        return False
    received = _received_squashed(ctx)
    has_ip = _has_ip(get_scalar(ctx, "X-Sender-Ip", None))
    if gated_through_received_hdr_remover(ctx):
        return False
    return not (_WHOWHERE_RELAY.search(received) and has_ip)


# ---- Yahoo -----------------------------------------------------------------------------------

_YAHOO_ADDRESS = re.compile(rb"\byahoo\.com$", re.I)
_YAHOO_TRUSTED_RDNS = re.compile(r" rdns=\S+\.yahoo\.com ")
_YAHOO_FIRST_UNTRUSTED_RDNS = re.compile(r"^[^\]]+ rdns=\S+\.yahoo\.com ")
_YAHOO_GENUINE = (
    re.compile(rb"by web\S+\.mail\S*\.yahoo\.com via HTTP"),
    re.compile(rb"by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP"),
    re.compile(rb"by smtp\S+\.yahoo\.com with SMTP"),
    re.compile(rb"from \[" + _IP + rb"\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP"),
    # "mail this story to a friend"
    re.compile(rb"by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+"),
)
_YAHOO_BULK = re.compile(rb"\bmailer\d+\.bulk\.scd\.yahoo\.com\b")
_YAHOO_REPLY_ADDRESS = re.compile(rb"@reply\.yahoo\.com$", re.I)


def check_for_forged_yahoo_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """FORGED_YAHOO_RCVD: From @yahoo.com but neither Yahoo's relays nor its rDNS in the path.

    Resent mail is judged on X-Received, which keeps the original Yahoo hops.
    """
    sender = get_scalar(ctx, "From:addr")
    if not _YAHOO_ADDRESS.search(sender):
        return False
    received = get_scalar(ctx, "Received")
    if get_scalar(ctx, "Resent-From") != b"" and get_scalar(ctx, "Resent-To") != b"":
        x_received = get_scalar(ctx, "X-Received")
        if x_received != b"":
            received = x_received
    received = _WHITESPACE_RUN.sub(b" ", received)
    if gated_through_received_hdr_remover(ctx):
        return False
    relays = ctx.relays
    if _YAHOO_TRUSTED_RDNS.search(relays.trusted_str) or _YAHOO_FIRST_UNTRUSTED_RDNS.search(
        relays.untrusted_str
    ):
        return False  # a genuine Yahoo bounce or hand-over (bugs 3740, 4528)
    for pattern in _YAHOO_GENUINE[:4]:
        if pattern.search(received):
            return False
    if _YAHOO_BULK.search(received) and _YAHOO_REPLY_ADDRESS.search(sender):
        return False
    return _YAHOO_GENUINE[4].search(received) is None


# ---- Juno --------------------------------------------------------------------------------------

_JUNO_ADDRESS = re.compile(rb"\bjuno\.com$", re.I)
_JUNO_RELAY = re.compile(rb"from.*\b(?:juno|untd)\.com.*[\[\(]" + _IP + rb"[\]\)].*by")
_JUNO_COOKIE = re.compile(rb" cookie\.(?:juno|untd)\.com ")
_MAILCOM_RELAY = re.compile(rb"from.*\bmail\.com.*\[" + _IP + rb"\].*by")
_MAILCOM_MAILER = re.compile(rb"\bmail\.com")
_UNTD_WEBMAIL = re.compile(rb"from (webmail\S+\.untd\.com) \(\1 \[" + _IP + rb"\]\) by")
_UNTD_MAILER = re.compile(rb"^Webmail Version \d")


def check_for_forged_juno_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """__FORGED_JUNO_RCVD: From @juno.com without Juno's relay, mailer and origin headers."""
    if not _JUNO_ADDRESS.search(get_scalar(ctx, "From:addr")):
        return False
    if gated_through_received_hdr_remover(ctx):
        return False
    originating = get_scalar(ctx, "X-Originating-IP")
    mailer = get_scalar(ctx, "X-Mailer")
    received = get_scalar(ctx, "Received")  # not squashed: ".*" stays within one header
    if originating != b"":
        if not _JUNO_RELAY.search(received) and not _JUNO_COOKIE.search(received):
            return True
        return b"Juno " not in mailer
    if _MAILCOM_RELAY.search(received):
        if not _MAILCOM_MAILER.search(mailer):
            return True
    elif _UNTD_WEBMAIL.search(received):
        if not _UNTD_MAILER.search(mailer):
            return True
    else:
        return True
    return not _HAS_IP.search(originating)  # always true here: the header is missing


# ---- Gmail -------------------------------------------------------------------------------------

_GMAIL_ADDRESS = re.compile(rb"\bgmail\.com$", re.I)
_GOOGLE_INTERNAL_V4 = re.compile(rb"by 10\.\S+ with SMTP id \S+")
_GOOGLE_INTERNAL_V6 = re.compile(rb"by 2002\:a\d\d\:\w+\:\S+ with SMTP id \S+")
_GOOGLE_SUBMISSION = re.compile(rb"by smtp\.googlemail\.com with ESMTPSA id \S+")
# Google's X-Gm-Message-State / X-Google-Smtp-Source are long opaque tokens (HeaderEval.pm).
_GOOGLE_TOKEN_MIN_LENGTH = 60


def check_for_forged_gmail_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """FORGED_GMAIL_RCVD: From @gmail.com without Google's internal hops or tokens."""
    if not _GMAIL_ADDRESS.search(get_scalar(ctx, "From:addr")):
        return False
    x_received = get_scalar(ctx, "X-Received")
    if _GOOGLE_INTERNAL_V4.search(x_received) or _GOOGLE_INTERNAL_V6.search(x_received):
        return False
    if _GOOGLE_SUBMISSION.search(get_scalar(ctx, "Received")):
        return False
    return not (
        len(get_scalar(ctx, "X-Gm-Message-State")) >= _GOOGLE_TOKEN_MIN_LENGTH
        and len(get_scalar(ctx, "X-Google-Smtp-Source")) >= _GOOGLE_TOKEN_MIN_LENGTH
    )


# ---- gw05 ----------------------------------------------------------------------------------

_GW05 = re.compile(
    rb"\nfrom\s(\S+)\sby\s(\S+)\swith\sESMTP\;\s+\S\S\S,\s+\d+\s+\S\S\S\s+"
    rb"\d{4}\s+\d\d:\d\d:\d\d\s+[-+]*\d{4}\n$",
    re.S,
)


def check_for_forged_gw05_received_headers(ctx: MessageContext, *_args: str) -> bool:
    """A ratware Received "by gw05" (a host name without a dot) as the last header."""
    m = _GW05.search(get_scalar(ctx, "Received"))
    return m is not None and b"." not in m.group(2)


EVALS: dict[str, Callable[..., object]] = {
    "check_for_fake_aol_relay_in_rcvd": check_for_fake_aol_relay_in_rcvd,
    "check_for_forged_eudoramail_received_headers": check_for_forged_eudoramail_received_headers,
    "check_for_forged_gmail_received_headers": check_for_forged_gmail_received_headers,
    "check_for_forged_gw05_received_headers": check_for_forged_gw05_received_headers,
    "check_for_forged_hotmail_received_headers": check_for_forged_hotmail_received_headers,
    "check_for_forged_juno_received_headers": check_for_forged_juno_received_headers,
    "check_for_forged_yahoo_received_headers": check_for_forged_yahoo_received_headers,
    "check_for_msn_groups_headers": check_for_msn_groups_headers,
    "check_for_no_hotmail_received_headers": check_for_no_hotmail_received_headers,
    "gated_through_received_hdr_remover": gated_through_received_hdr_remover,
}
