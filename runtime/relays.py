"""Received headers -> relay records -> the trust path, as SpamAssassin 4.0.1 computes them.

Why this is a port and not a fresh design: 107 header rules of the shipped ruleset and several
evals match the ``X-Spam-Relays-*`` strings byte for byte, so each MTA format has to yield the same
fields SpamAssassin extracts, including its quirks (a "from X by Y;" line without an address is
ignored, Exim lines default the HELO to the rDNS, a date with a trailing "(EDT)" is not stripped
before the id is looked for, ...).

A Received value goes through four stages:

1. *Normalise and pre-screen*: collapse white space, drop lines that are not "from ..." hand-overs.
2. *Generic fields*: ``id``, ``helo``, ``by`` and the authentication marker are looked for
   anywhere in the line; MTA-specific formats may override them.
3. *Format table*: for "from ..." lines, one family keyed on a product marker (Exim, Postfix,
   SMTPSVC, ...) is tried first, then the general table, in order. Each row either fills fields
   (a relay), marks the line as a known local/unusable hand-over (skipped), or as a mail-fetcher
   hand-over (skipped, and it restarts the trust path).
4. *Clean-up*: address normalisation and the replacement of characters that would break the
   bracketed string form.

``parse_relays`` then walks the headers newest first and splits them into trusted/untrusted and
internal/external lists (inferred from private addresses when no networks are configured).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

import re2

from spamkiln.runtime.ipsyntax import IP_ADDRESS, IP_PRIVATE, LOCALHOST
from spamkiln.runtime.netset import NetSet

__all__ = [
    "FORMATS",
    "Format",
    "Relay",
    "RelayInfo",
    "Skipped",
    "explain_received_line",
    "parse_received_line",
    "parse_relays",
]

_FLAGS = re.ASCII  # Perl matches these byte strings with ASCII-only \s, \w, \d and \b


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a row pattern; ``<IP>`` and ``<LOCALHOST>`` stand for the address syntaxes."""
    return re.compile(pattern.replace("<IP>", IP_ADDRESS).replace("<LOCALHOST>", LOCALHOST), _FLAGS)


# ---------------------------------------------------------------------------------------------
# Records


def _perl_str(value: str | None) -> str:
    """How SpamAssassin prints an optional field: undef, '' and '0' all come out empty."""
    return value if value and value != "0" else ""


@dataclass(frozen=True, slots=True)
class Relay:
    """One parsed hand-over. Empty strings mean "not recorded"; ``envfrom`` is None when the
    header had no envelope sender at all (an empty one means the null sender ``<>``)."""

    ip: str
    rdns: str = ""
    helo: str = ""
    by: str = ""
    ident: str = ""
    envfrom: str | None = None
    id: str = ""
    auth: str = ""
    internal: bool = False
    msa: bool = False
    ip_private: bool = False
    no_reverse_dns: bool = False  # the MTA looks rDNS up and found none
    rdns_not_in_headers: bool = False  # the MTA never records rDNS, so its absence means nothing

    @property
    def lc_rdns(self) -> str:
        return self.rdns.lower()

    @property
    def lc_helo(self) -> str:
        return self.helo.lower()

    @property
    def lc_by(self) -> str:
        return self.by.lower()

    @property
    def as_string(self) -> str:
        """The bracketed form rules match; field order is part of the contract."""
        return (
            f"[ ip={self.ip} rdns={self.rdns} helo={self.helo} by={self.by} "
            f"ident={self.ident} envfrom={_perl_str(self.envfrom)} intl={int(self.internal)} "
            f"id={self.id} auth={self.auth} msa={int(self.msa)} ]"
        )


@dataclass(frozen=True, slots=True)
class Skipped:
    """A Received line deliberately ignored (local delivery, no usable address, ...).

    ``fetcher`` marks a POP/IMAP fetch hand-over; ``carried_envfrom`` is the envelope sender a
    qmail-scanner line donates to the next (older) hand-over.
    """

    fetcher: bool = False
    carried_envfrom: str | None = None


_SKIPPED = Skipped()


_HEADER_NAMES = {
    "x-spam-relays-trusted": "trusted_str",
    "x-spam-relays-untrusted": "untrusted_str",
    "x-spam-relays-internal": "internal_str",
    "x-spam-relays-external": "external_str",
}


@dataclass(frozen=True, slots=True)
class RelayInfo:
    """The trust split of one message; every list is newest hand-over first."""

    trusted: tuple[Relay, ...] = ()
    untrusted: tuple[Relay, ...] = ()
    internal: tuple[Relay, ...] = ()
    external: tuple[Relay, ...] = ()
    unparseable: int = 0
    num_received: int = 0  # Received values given, synthetic originating-IP lines not included
    # Header positions (counting from the top, skipped/unparseable lines included) of the last
    # header still in the trusted / internal zone; -1 when the first header already is not.
    last_trusted_index: int = -1
    last_internal_index: int = -1
    trusted_str: str = ""
    untrusted_str: str = ""
    internal_str: str = ""
    external_str: str = ""

    def header(self, which: str) -> str:
        """The ``X-Spam-Relays-*`` pseudo-header value; unknown names give ''."""
        attr = _HEADER_NAMES.get(which.strip().rstrip(":").lower())
        return getattr(self, attr) if attr else ""


# ---------------------------------------------------------------------------------------------
# Stage 1: normalisation and pre-screen

_WS = re.compile(r"\s+", _FLAGS)
_IS_HANDOVER = re.compile(r"\(?from ", _FLAGS | re.IGNORECASE)
_LOCAL_DELIVERY = re.compile(r"\bwith local for\b", _FLAGS)
_BARE_FROM_BY = re.compile(r"from (\S+) by [^\s;]+ ?;", _FLAGS | re.IGNORECASE)
_BRACKETED_V4 = re.compile(r"\[[\d.]+\]\Z", _FLAGS)
# The trailing date. Starting only at the first separator of a run is equivalent (the leftmost
# match always starts there) and keeps the search linear on long runs of ';'.
_TRAILING_DATE = re.compile(
    r"(?<![\s;])[\s;]++(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\d+ "
    r"(?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \d+ \d+:\d+(?::\d+)? \S+$",
    _FLAGS,
)

# Stage 2: fields looked for anywhere in the line
_HELO_CHARS = r"-A-Za-z0-9.\^+_&:=?!@%*$\\/"
_GENERIC_ID = re.compile(r" id <?([^\s<>;]{3,})", _FLAGS)
_GENERIC_HELO = (
    re.compile(rf"\bhelo=([{_HELO_CHARS}]+)(?:[^{_HELO_CHARS}]|$)", _FLAGS),
    re.compile(rf"\b(?:HELO|EHLO) ([{_HELO_CHARS}]+)(?:[^{_HELO_CHARS}]|$)", _FLAGS),
)
_GENERIC_BY = re.compile(r" by (\S+)(?:[^-A-Za-z0-9;.]|$)", _FLAGS)
_ENVFROM = re.compile(r"(?:return-path:? |envelope-(?:sender|from)[ =])(\S+)\b", _FLAGS | re.I)


class _Groups(Protocol):
    def group(self, index: int, /) -> str: ...


class _Searcher(Protocol):
    def search(self, text: str, /) -> _Groups | None: ...


def _linear(pattern: str) -> _Searcher:
    """Compile with RE2 a pattern whose lazy wildcards make backtracking blow up.

    SpamAssassin's own Perl takes minutes on a 2 KB header built to exploit these (several
    ``.*?`` in a row); RE2 answers in linear time, and with Perl's leftmost-first submatch rules
    gives the same groups. Only for patterns without look-around (RE2 has none); its white
    space, word and boundary classes are ASCII, like ours.
    """
    return re2.compile(pattern)


@dataclass(frozen=True, slots=True)
class _AuthMarker:
    """A way an MTA admits the client authenticated; ``label`` builds the ``auth=`` text."""

    name: str
    pattern: _Searcher
    guard: re.Pattern[str] | None = None
    label: Callable[[_Groups], str] = lambda m: m.group(1)


def _postfix_label(m: _Groups) -> str:
    return "Postfix" if m.group(1) == "Postfix" else f"Postfix ({m.group(1)})"


# First match wins.
_AUTH_MARKERS: tuple[_AuthMarker, ...] = (
    # RFC 3848 / RFC 6531 "with" keywords, authenticated SMTP and webmail submissions
    _AuthMarker(
        "rfc3848",
        _rx(r"(?i: with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$))"),
        guard=_rx(r" by "),
    ),
    # Gmail submission servers say ESMTPS but include a TLS version/cipher comment
    _AuthMarker(
        "gmail",
        _rx(r"\(version=([^ ]+) cipher=([^)]+)\)"),
        guard=_rx(
            r" by mx\.google\.com with ESMTPS id [a-z0-9]{1,4}sm[0-9]{2,9}[a-z]{3}\.[0-9]{1,3}"
            r"\.[0-9]{4}\.(?:[0-6][0-9]\.){4}[0-6][0-9]"
        ),
        label=lambda m: f"GMail - transport={m.group(1)} cipher={m.group(2)}",
    ),
    _AuthMarker(
        "courier",
        _linear(
            r"^from .*?(?:\]\)|\)\]) \(AUTH: (LOGIN|PLAIN|DIGEST-MD5|CRAM-MD5) \S+(?:, .*?)?\)"
            r" by "
        ),
    ),
    _AuthMarker(
        "sendmail",
        _linear(r"^from .*?(?:\](?: \([^)]*\))?\)|\)\]) .*?\(.*?authenticated.*?\).*? by"),
        guard=_rx("authenticated"),
        label=lambda m: "Sendmail",
    ),
    _AuthMarker(
        "gmx",
        _rx(
            r"from \S* \((?:HELO|EHLO) (\S*)\) \[(<IP>)\] by (mail\.gmx\.(?:net|com)) \([^)]+\)"
            r" with ((?:ESMTP|SMTP))"
        ),
        label=lambda m: f"GMX ({m.group(4)} / {m.group(3)})",
    ),
    _AuthMarker(
        "critical-path",
        _linear(r"\) by .+ \(\d{1,2}\.\d\.\d{3}(?:\.\d{1,3})?\) \(authenticated as .+\) id "),
        guard=_rx(r" \(authenticated as "),
        label=lambda m: "CriticalPath",
    ),
    _AuthMarker(
        "postfix-sasl-header",
        _rx(r"\) \(Authenticated sender: \S+\) by \S+ \(([^)]+)\) with "),
        label=_postfix_label,
    ),
    _AuthMarker(
        "communigate",
        _rx(r" \(account "),
        guard=_rx(r"CommuniGate Pro (HTTP|SMTP|XIMSS|IMAP)"),
        label=lambda m: "Communigate",
    ),
    _AuthMarker(
        "exchange-webdav",
        _rx(r" with Microsoft Exchange Server HTTP-DAV\b"),
        label=lambda m: "HTTP-DAV",
    ),
    _AuthMarker("via-http-comment", _rx(r"(?i: \(via (HTTP.?)\)(?: |;|$))"), guard=_rx(r" by ")),
)


def _find_auth(line: str) -> str:
    for marker in _AUTH_MARKERS:
        if marker.guard is not None and not marker.guard.search(line):
            continue
        m = marker.pattern.search(line)
        if m:
            return marker.label(m)
    return ""


# ---------------------------------------------------------------------------------------------
# Stage 3: the format table


class Outcome(Enum):
    RELAY = "relay"  # a hand-over with (usually) an address: fields are taken, parsing stops
    SKIP = "skip"  # a known hand-over that carries nothing usable: ignore the header
    FETCHER = "fetcher"  # POP/IMAP retrieval: ignore, and restart the trust path here
    CARRY_ENVFROM = "carry"  # qmail-scanner's own line: ignore, but the next hop gets its envfrom


class _Fields:
    """Mutable parse state; rows overwrite what the generic pass found."""

    __slots__ = ("auth", "by", "envfrom", "helo", "id", "ident", "ip", "looked_up_dns", "rdns")

    def __init__(self) -> None:
        self.ip = self.rdns = self.helo = self.by = self.ident = self.id = self.auth = ""
        self.envfrom: str | None = None
        self.looked_up_dns = False


# A fixup receives the state and the row's match and returns whether the line is now parsed
# ("enough") or parsing should continue with the next rows.
Fixup = Callable[[_Fields, re.Match[str]], bool]


@dataclass(frozen=True, slots=True)
class Format:
    """One row of the table: an MTA's Received syntax and what its groups mean.

    ``groups`` names the field each capture group fills ("" leaves a group unused);
    ``dns`` records whether this MTA looks reverse DNS up itself, which is what turns an empty
    rdns into "this host has no rDNS" instead of "not recorded".
    """

    name: str
    pattern: re.Pattern[str]
    groups: tuple[str, ...] = ()
    outcome: Outcome = Outcome.RELAY
    dns: bool | None = None
    guards: tuple[re.Pattern[str], ...] = ()
    unless: re.Pattern[str] | None = None
    fixup: Fixup | None = None


def _row(
    name: str,
    pattern: str,
    groups: str = "",
    *,
    outcome: Outcome = Outcome.RELAY,
    dns: bool | None = None,
    guard: str | tuple[str, ...] = (),
    unless: str | None = None,
    fixup: Fixup | None = None,
) -> Format:
    guards = (guard,) if isinstance(guard, str) else guard
    return Format(
        name,
        _rx(pattern),
        tuple(groups.split(" ")) if groups else (),
        outcome,
        dns,
        tuple(_rx(g) for g in guards),
        _rx(unless) if unless is not None else None,
        fixup,
    )


def _skip(name: str, pattern: str, guard: str | tuple[str, ...] = ()) -> Format:
    return _row(name, pattern, outcome=Outcome.SKIP, guard=guard)


_SUB_HELO = re.compile(r"helo=(\S+)", _FLAGS)
_SUB_IDENT = re.compile(r"ident=(\S*)", _FLAGS)


def _comment_fields(state: _Fields, comment: str) -> None:
    """Exim-style "(helo=X ident=Y)": take helo first, then ident from what is left."""
    m = _SUB_HELO.search(comment)
    if m:
        state.helo = m.group(1)
        comment = comment[: m.start()] + comment[m.end() :]
    m = _SUB_IDENT.search(comment)
    if m:
        state.ident = m.group(1)


def _fix_comment(group: int) -> Fixup:
    def fix(state: _Fields, m: re.Match[str]) -> bool:
        _comment_fields(state, m.group(group))
        return True

    return fix


def _fix_exim_rdns_comment(state: _Fields, m: re.Match[str]) -> bool:
    state.helo = state.rdns  # Exim omits helo= when it equals the rDNS name
    _comment_fields(state, m.group(3))
    return True


_EXIM_FIRST_WORD = re.compile(r"^(\S+) ", _FLAGS)
_EXIM_PAREN_WORD = re.compile(r" \((\S+)\) ", _FLAGS)
_EXIM_ADDRESS = _rx(r" \[(<IP>)(?:\.\d+)?\] ")
_EXIM_BY = re.compile(r"by (\S+) ", _FLAGS)


def _fix_exim_scraps(state: _Fields, row_match: re.Match[str]) -> bool:
    """Odd Exim lines: pick up whatever pieces are there; enough only with an IP and a by.

    The pieces stay in the state even when not enough, and later rows build on them.
    """
    text = row_match.string
    m = _EXIM_FIRST_WORD.search(text)
    if m:
        state.rdns = m.group(1)  # taken as the rDNS name rather than the HELO
    m = _EXIM_PAREN_WORD.search(text)
    if m:
        state.helo = m.group(1)
    m = _EXIM_ADDRESS.search(text)
    if m:
        state.ip = m.group(1)
    m = _EXIM_BY.search(text)
    if m:
        state.by = m.group(1)
        return _truthy(state.ip)
    return False


_XMAIL_ID = re.compile(r" id <(\S+)>", _FLAGS)
_XMAIL_SENDER = re.compile(r" from <(\S+)>", _FLAGS)


def _fix_xmail(state: _Fields, row_match: re.Match[str]) -> bool:
    """XMail puts the queue id in angle brackets and appends the envelope sender."""
    found = _XMAIL_ID.search(row_match.string)
    if found:
        state.id = found.group(1)
    found = _XMAIL_SENDER.search(row_match.string)
    if found:
        state.envfrom = found.group(1)
    return True


def _fix_unknown_rdns(state: _Fields, _row_match: re.Match[str]) -> bool:
    if state.rdns == "unknown":
        state.rdns = ""
    return True


_IDENT_PREFIXES = (re.compile(r"^IDENT:([^@]*)@", _FLAGS), re.compile(r"^([^@]*)@", _FLAGS))


def _fix_sendmail_ident(state: _Fields, _row_match: re.Match[str]) -> bool:
    """sendmail writes an ident lookup as "IDENT:user@host" or "user@host" in the rDNS slot."""
    for prefix in _IDENT_PREFIXES:
        m = prefix.search(state.rdns)
        if m:
            state.ident = m.group(1)
            state.rdns = state.rdns[m.end() :]
    return True


def _fix_softdnserr(state: _Fields, row_match: re.Match[str]) -> bool:
    """couriertcpd writes "softdnserr" where the rDNS name would be; that is not a name."""
    if row_match.group(2) == "softdnserr":
        state.looked_up_dns = False
    else:
        state.looked_up_dns = True
        state.rdns = row_match.group(2)
    return True


def _fix_trailing_at(state: _Fields, _row_match: re.Match[str]) -> bool:
    """qmail writes an ident as "user@" in front of the address."""
    state.ident = state.ident.removesuffix("@")
    return True


def _fix_rdns_is_helo(state: _Fields, row_match: re.Match[str]) -> bool:
    state.helo = state.rdns  # qmail drops the HELO when it equals the rDNS name
    return _fix_trailing_at(state, row_match)


def _fix_obtuse(state: _Fields, row_match: re.Match[str]) -> bool:
    """Obtuse smtpd: the HELO only appears as 'claiming to be "x"'; "UNKNOWN" is its no-rDNS."""
    state.helo = row_match.group(3) or ""
    if row_match.group(1) != "UNKNOWN":
        state.looked_up_dns = True
    return True


_QMAIL_READINGS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        _rx(
            r"^(\S+) \((?:HELO|EHLO) ([^ ()]*)\) \((\S*)@\[?(<IP>)\]?\)"
            r"(?: \(envelope-sender <\S+>\))? by (\S+)"
        ),
        ("rdns", "helo", "ident", "ip", "by"),
    ),
    (
        _rx(
            r"^(\S+) \((?:HELO|EHLO) ([^ ()]*)\) \(\[?(<IP>)\]?\)"
            r"(?: \(envelope-sender <\S+>\))? by (\S+)"
        ),
        ("rdns", "helo", "ip", "by"),
    ),
    (
        _rx(r"^(\S+) \((\S*)@\[?(<IP>)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)"),
        ("rdns", "ident", "ip", "by"),
    ),
    (
        _rx(r"^(\S+) \(\[?(<IP>)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)"),
        ("rdns", "ip", "by"),
    ),
)


def _fix_qmail(state: _Fields, m: re.Match[str]) -> bool:
    """qmail-smtpd: "from RDNS (HELO h) (ident@IP) by HOST with SMTP"; the HELO part is absent
    when it equals the rDNS name, and "unknown" means tcpserver gave no rDNS."""
    for pattern, names in _QMAIL_READINGS:
        found = pattern.search(m.string)
        if found:
            _assign(state, names, found)
            if "helo" not in names:
                state.helo = state.rdns
            break
    if state.rdns != "unknown":
        state.looked_up_dns = True
    else:
        state.rdns = ""
    return True


_LEADING_ADDRESS = _rx(r"^(<IP>) ")


def _fix_hotmail_web(state: _Fields, row_match: re.Match[str]) -> bool:
    """Old Hotmail web front-ends: the client address, if any, opens the line; never more."""
    found = _LEADING_ADDRESS.search(row_match.string)
    if found:
        state.ip = found.group(1)
    return True


# Families: the first whose marker is present gets its rows tried before the general table.
_FAMILIES: tuple[tuple[re.Pattern[str], tuple[Format, ...]], ...] = (
    (
        _rx(r" SMTPSVC"),
        (
            # from HELO ([192.0.2.1]) by host.example with Microsoft SMTPSVC(6.0.3790.0)
            _row(
                "ms-smtpsvc",
                r"^(\S*) \(\[(<IP>)\][^)]{0,40}\) by (\S+) with Microsoft SMTPSVC",
                "helo ip by",
            ),
            _skip("ms-pickup", r"^mail pickup service by (\S+) with Microsoft SMTPSVC$"),
        ),
    ),
    (
        _rx(r" with (?:Microsoft SMTP Server|mapi id) (?:\([^)]+\) )?\d+\.\d+\.\d+\.\d+(?:$| )"),
        (
            # from host.example (192.0.2.1) by mx.example (192.0.2.2) with Microsoft SMTP Server
            _row(
                "ms-exchange",
                r"^(\S+) \(\[?(<IP>)(?:%[A-Z0-9._~-]*)?\]?\) by (\S+) ",
                "helo ip by",
                fixup=lambda s, m: _set(s, id=""),
            ),
        ),
    ),
    (
        _rx(r"\[XMail "),
        (
            _row(
                "xmail",
                r"^(\S+) \((\[?<IP>\]?)(?::\d+)\) by (\S+)(?: \(\S+\))? with \[XMail",
                "helo ip by",
                fixup=_fix_xmail,
            ),
        ),
    ),
    (
        _rx(r"\(ecelerity\b"),
        (
            _row("ecelerity-helo", r"^\(\[(<IP>):\d+\] helo=(\S+)\) by (\S+) ", "ip helo by"),
            _row("ecelerity", r"^\S+ \(\[(<IP>):\d+\]\) by (\S+) ", "ip by"),
        ),
    ),
    (
        _rx(r"Exim"),
        (
            _skip("exim-local", r"\bwith local(?:-\S+)? "),
            # from [192.0.2.1] (helo=h.example ident=u) by mx.example with smtp (Exim 4.96)
            _row(
                "exim-bare-ip", r"^\[(<IP>)\] \((.*?)\) by (\S+) ", "ip  by", fixup=_fix_comment(2)
            ),
            # from h.example ([192.0.2.1] helo=x) by mx.example with esmtp (Exim 4.96)
            _row(
                "exim",
                r"^(\S+) \(\[(<IP>)\](.*?)\) by (\S+) ",
                "rdns ip  by",
                fixup=_fix_exim_rdns_comment,
            ),
            _row(
                "exim-square",
                r"^(\S+) \[(<IP>)\](:\d+)? by (\S+) ",
                "rdns ip  by",
                fixup=lambda s, m: _set(s, helo=s.rdns),
            ),
            _row("exim-scraps", r"", fixup=_fix_exim_scraps),
        ),
    ),
    (
        _rx(r" \(Postfix\) with"),
        (
            # from helo.example (rdns.example [192.0.2.1]) by mx.example (Postfix) with ESMTP
            _row(
                "postfix",
                r"^(\S+) \((\S+) \[(<IP>)\]\) by (\S+) ",
                "helo rdns ip by",
                dns=True,
                fixup=_fix_unknown_rdns,
            ),
            _row(
                "postfix-nospace",
                r"^(\S+) \((\S+)\[(<IP>)\]\) by (\S+) ",
                "helo rdns ip by",
                dns=True,
                fixup=_fix_unknown_rdns,
            ),
        ),
    ),
    (
        _rx(r"\(Scalix SMTP Relay"),
        (_row("scalix", r"^(\S+) \( ?(<IP>)\) by (\S+)", "helo ip by"),),
    ),
    (
        _rx(r" \(Lotus Domino "),
        (_row("lotus-domino", r"^(\S+) \(\[(<IP>)\]\) by (\S+) \(Lotus", "helo ip by", dns=False),),
    ),
)

# Before the families: webmail front-ends that name the client address themselves.
_WEBMAIL: tuple[Format, ...] = (
    _row(
        "squirrelmail",
        r"(<IP>)\b(?![.-]).{10,80}by (\S+) with HTTP",
        "ip by",
        guard=r" \((?:SquirrelMail|NaSMail) authenticated user ",
    ),
    _row(
        "aol-webmail",
        r"(<IP>) by (\S+) \(<IP>\) with HTTP \(WebMailUI\)",
        "ip by",
        guard=(r"aol\.com", r"with HTTP \(WebMailUI\)"),
    ),
)

# The general table, tried in order after the family rows. Rows that only skip are interleaved
# where SpamAssassin tests them, because a skip row earlier in the list shadows later rows.
_GENERAL: tuple[Format, ...] = (
    _row("http-numeric-helo", r"^(<IP>) \(\[<IP>\]\) by (\S+)", "ip by", guard=r"\bwith HTTP\b"),
    # from helo.example (rdns.example [192.0.2.1]) by mx.example (8.17.1/8.17.1) with ESMTP
    _row(
        "sendmail",
        r"^(\S+) \((\S+) \[(<IP>)\].*\) by (\S+) \(",
        "helo rdns ip by",
        dns=True,
        unless=r" by \S+ \(qmail-\S+\) with ",
        fixup=_fix_sendmail_ident,
    ),
    _row(
        "exchange-ims",
        r"^(\S+) \((\S+) \[(<IP>)\]\) by (\S+) with \S+ \(",
        "helo rdns ip by",
        dns=True,
    ),
    _row("helo-equals", r"^(\S+) \(\[(<IP>)\] helo=(\S+)\) by (\S+) with ", "rdns ip helo by"),
    _row("attbi-unknown", r"^(\S+) \(<unknown\S*>\[(<IP>)\]\) by (\S+) ", "helo ip by"),
    _row("attbi", r"^(\S+) \((\S+\.\S+)\[(<IP>)\]\) by (\S+) ", "helo rdns ip by", dns=True),
    _row(
        "sendmail-ident", r"^(\S+) \((\S*)@\[(<IP>)\].*\) by (\S+) \(", "helo ident ip by", dns=True
    ),
    _row("hotmail-web", r"by (\S+\.hotmail\.msn\.com) ", "by", fixup=_fix_hotmail_web),
    _row(
        "qpsmtpd",
        r"^(\S+) \((?:HELO|EHLO) (\S*)\) \((<IP>)\) by (\S+) \(qpsmtpd/\S+\) with "
        r"(?:ESMTP|SMTP)",
        "rdns helo ip by",
    ),
    _row("lmtp-lhlo", r"^(\S+) \(LHLO (\S*)\) \((<IP>)\) by (\S+) with LMTP", "rdns helo ip by"),
    _row(
        "gmx",
        r"^(\S+) \((?:HELO|EHLO) (\S*)\) \[(<IP>)\] by (\S+) \([^)]+\) with "
        r"(?:ESMTP|SMTP)",
        "rdns helo ip by",
    ),
    _row(
        "smtpd-for",
        r"^(\S+) \(\[(<IP>)\]\) by (\S+) via smtpd \(for \S+\) with SMTP\(",
        "helo ip by",
    ),
    # from rdns.example (HELO h.example) (user@192.0.2.1) by mx.example with SMTP
    # (a repeated "( \(.+\))*" is written "(?: \(.+\))?": the same strings, without the
    # exponential backtracking)
    _row(
        "qmail",
        r"^\S+(?: \((?:HELO|EHLO) \S*\))? \((?:\S+@)?\[?<IP>\]?\)"
        r"(?: \(envelope-sender <\S+>\))? by \S+(?: \(.+\))? with (?:.* )?(?:SMTP|QMQP)(?! id )",
        fixup=_fix_qmail,
    ),
    _row("yahoo-web", r"^\[(<IP>)\] by (\S+) via HTTP$", "ip by", guard=r" via HTTP$"),
    _row("as-user", r"^(\S+) \( \[(<IP>)\]\).*? by (\S+) ", " ip by"),
    _row("paren-helo-ip", r"^\((\S+) \[(<IP>)\]\) by (\S+) ", "helo ip by"),
    _row("bare-ip", r"^\[(<IP>)\] by (\S+) ", "ip by"),
    _row("paren-ip", r"^\(\[?(<IP>)\]?\) by (\S+) ", "ip by"),
    _row("mdaemon", r"^(\S+) \[(<IP>)\] by (\S+) \[<IP>\] with ", "helo ip by", dns=True),
    _row("mdaemon-paren", r"^(\S+) \[\((<IP>)\)\] by (\S+) \(<IP>\) ", "helo ip by"),
    _row("sendmail-no-rdns", r"^(\S+) \(\[(<IP>)\]\) by (\S+) \(", "helo ip by", dns=True),
    _row(
        "sendmail-loose",
        r"^(\S+) \((\S+) \[(<IP>)\]\).*? by (\S+)\b",
        "helo  ip by",
        fixup=_fix_softdnserr,
    ),
    _row("ip-with-port", r"^(\S+) \(\[(<IP>)(?:[.:]\d+)?\]\).*? by (\S+) ", "helo ip by", dns=True),
    _row(
        "sendmail-auth-bits",
        r"^(\S+) \((\S+) \[(<IP>)\]\)(?: \(authenticated bits=\d+\))? "
        r"by (\S+) \(",
        "helo rdns ip by",
        dns=True,
    ),
    _row("mail-fetcher", r"with (?:POP3|IMAP)", outcome=Outcome.FETCHER),
    _row(
        "qmail-helo-loose",
        r"^(\S+) \((?:HELO|EHLO) ([^)]*)\) \((\S*@)?\[?(<IP>)\]?\).* by (\S+) ",
        "rdns helo ident ip by",
        dns=True,
        fixup=_fix_trailing_at,
    ),
    _row(
        "qmail-loose",
        r"^(\S+) \((\S*@)?\[?(<IP>)\]?\).* by (\S+) ",
        "rdns ident ip by",
        dns=True,
        fixup=_fix_rdns_is_helo,
    ),
    _row("outblaze-web", r"^\[(<IP>)\] by (\S+) with http for ", "ip by", guard=r" with http for "),
    _row(
        "smap", r"^(\S+)\((<IP>)\) by (\S+) via smap ", "rdns ip by", dns=True, guard=r" via smap "
    ),
    _row(
        "smap-helo",
        r"^(\S+)\((<IP>), (?:HELO|EHLO) (\S*)\) by (\S+) via smap ",
        "rdns ip helo by",
        dns=True,
    ),
    _row("post-office", r"^\[(<IP>)\] by (\S+) \(Post", "ip by", guard=r" \(Post"),
    _row("argosoft", r"^\[(<IP>)\] by (\S+) \(ArGoSoft", "ip by", guard=r" \(ArGoSoft"),
    _row("interscan", r"^(<IP>) by (\S+) \((?:SMTPL|InterScan)\b", "ip by"),
    _skip("bsmtp", r"^\S+ by \S+ with BSMTP", guard=r" with BSMTP"),
    _row(
        "helo-rdns-ip", r"^(\S+) \((\S+) \[(<IP>)\]\) by (\S+) with ", "helo rdns ip by", dns=True
    ),
    _row(
        "yahoo-smtp",
        r"^(\S+) \((?:HELO|EHLO) (\S*)\) \((?:(\S+)@)?(<IP>).*?\) by (\S+) with ",
        "rdns helo ident ip by",
        dns=True,
    ),
    _row(
        "communigate-account",
        r"^\[(<IP>)\] \((?:account \S+ )?(?:HELO|EHLO) (\S*)\) by (\S+) \(",
        "ip helo by",
    ),
    _row(
        "communigate-verified",
        r"^(\S+) \(\[(<IP>)\] verified\) by (\S+) \(",
        "rdns ip by",
        dns=True,
        guard=r" \(CommuniGate Pro",
        fixup=lambda s, m: _set(s, helo=s.rdns),
    ),
    _row("paren-bracket-ip-with", r"^\(\[(<IP>)\]\) by (\S+) with ", "ip by"),
    _row("ironport", r"^([^\d]\S+) \((<IP>)\) by (\S+) ", "helo ip by"),
    _skip("content-technologies", r"^\S+ \(\S+\) by \S+ \(Content Technologies "),
    _row("double-bracket", r"^(\S+) \(\[(<IP>)\] \[(\S+)\]\) by (\S+) with ", "helo ip  by"),
    _row("ip-by-with", r"^(<IP>) by (\S+) with ", "ip by"),
    _row("attbi-any", r"^(\S+) \((\S+)\[(<IP>)\]\) by (\S+) ", "helo rdns ip by", dns=True),
    _row("f-secure", r"^\[(<IP>)\]\S+ \((?:HELO|EHLO) (\S*)\) by (\S+) ", "ip helo by"),
    _row("ip-helo", r"^(<IP>) \((?:HELO|EHLO) (\S*)\) by (\S+) ", "ip helo by"),
    _row("square-ip", r"^(\S+) \[(<IP>)\] by (\S+) ", "helo ip by"),
    _row("rdns-paren-ip", r"^(\S+)\((<IP>)\) by (\S+) ", "rdns ip by"),
    _row("mailgate", r"^\[(<IP>)\] by (\S+) \(MailGate ", "ip by"),
    _row("unverified", r"^(\S+) \(unverified \[(<IP>)\]\) by (\S+) ", "helo ip by"),
    _row("ip-comment", r"^(<IP>) \([A-Za-z][^)]+\) by (\S+) with ", "ip by"),
    _row("bare-ip-comment", r"^\[(<IP>)\] \(([^)]+)\) by (\S+) ", "ip  by", fixup=_fix_comment(2)),
    _row("rdns-ident-ip", r"^(\S+) \((?:\S+@)?(<IP>)\) by (\S+) with ", "rdns ip by"),
    _row(
        "obtuse",
        r"^(\S+)\((<IP>)\)(?:, claiming to be \"(\S+)\")? via \S+ by (\S+),",
        "rdns ip  by",
        fixup=_fix_obtuse,
    ),
    _row(
        "yahoo-login",
        r"^(\S+) \((\S+)@(<IP>) with login\) by (\S+\.yahoo\.com) with SMTP",
        "helo  ip by",
    ),
    _row("originating-ip", r"^X-Originating-IP: (<IP>)$", "ip", fixup=lambda s, m: _set(s, by="")),
    # -- hand-overs known to carry nothing usable --
    _skip("ident-at-localhost", r"^\S+ \([^\s@]+@<LOCALHOST>\) by \S+ \("),
    _skip("exim-local-smtp", r"^\S+ \S+ by \S+ with local-e?smtp "),
    _skip("avg-scanner", r"^127\.0\.0\.1 \(AVG SMTP \S+ \[\S+\]\)"),
    _skip("qmail-scanner-uid", r"^\S+@\S+ by \S+ by uid \S+ "),
    _skip("address-by", r"^\S+@\S+ by \S+ "),
    _skip("unknown-local", r"^Unknown/Local \("),
    _skip("localhost-localhost", r"^<LOCALHOST> \((?:\S+@)?<LOCALHOST>[)\[]"),
    _skip("paren-localhost", r"^\S+ \((?:\S+@)?<LOCALHOST>\) "),
    _skip("ident-bracket-localhost", r"^\S+ \(\S+@\S+ \[<LOCALHOST>\]\) "),
    _skip("courier-auth", r"^\(AUTH: \S+\) by \S+ with "),
    _skip("unix-socket", r"^localhost \(localhost \[\[UNIX: localhost\]\]\) by "),
    _skip(
        "amazon-internal",
        r"^\S+\.amazon\.com by \S+\.amazon\.com with ESMTP "
        r"\(peer crosscheck: ",
    ),
    _skip("groupwise", r"^[^.]+ by \S+ with Novell_GroupWise"),
    _skip("raptor-firewall", r"^no\.name\.available by \S+ via smtpd \(for "),
    _row(
        "qmail-scanner",
        r"^\S+ by \S+ \(.{0,100}\) with qmail-scanner",
        outcome=Outcome.CARRY_ENVFROM,
    ),
    _skip("local-by", r"^\S+ by \S+ with local"),
    _skip(
        "cyrus-socket",
        r"^\S+ \(\[unix socket\]\) by \S+ \(Cyrus v[0-9]*?\.[0-9]*?\.[0-9]*?\)"
        r" with LMTPA",
    ),
    _skip("name-by", r"^\S+ by \S+ (?:with|via|for|\()"),
    _skip("name-with-by", r"^\S+ (?:(?:with|via|for) \S+|\(unverified\)) by\b"),
    _skip("sendgrid", r"^\S+ \(unknown\) by \S+ \(SG\) with \b"),
    _skip("opensmtpd-local", r"^\S+ \(\S+ \[local\]\) by \S+ \(OpenSMTPD\) with \b"),
    _skip("lsmtp", r"\(LSMTP for"),
    _skip("mailenable-local", r"^\(\[<LOCALHOST>\]\) with MailEnable "),
    _skip("facebook-thrift", r"^facebook\.com \([^)]+\) by facebook\.com with Thrift id \S+$"),
    _skip("gmail-api", r"^\S+ named \S+ by gmailapi\.google\.com with HTTPREST$"),
    _skip("id-only", r"^\S+ id \S+$"),
    _skip("jetsend", r"^\[<.*? \(Jetsend"),
)

# "FROM x (rdns [ip]) BY y ID z" in capitals (simta, Rockliffe)
_UPPERCASE: tuple[Format, ...] = (
    _row(
        "simta",
        r"^(\S+) \((\S+) \[(<IP>)\]\) BY (\S+) (?:\([^)]+\) WITH SMTP )?ID <?(\S+?)>?"
        r"(?: FOR <[^>]+>)?$",
        "helo rdns ip by id",
        dns=True,
        fixup=lambda s, m: _set(s, rdns="" if s.rdns == "unverified" else s.rdns),
    ),
)

# "(from ..." lines
_PARENTHESISED: tuple[Format, ...] = (
    _row("navgw", r"^(\S*) \[(<IP>)\]\) by (\S+) \(NAVGW .*?\) with ", "helo ip by"),
    _skip("sendmail-submit", r"^\S+@localhost\) by \S+ "),
    _skip("jqueuemail", r"^[^\s@]+@[^)]+\) by \S+\(jqueuemail\) id [^\s;]+"),
)

FORMATS: tuple[Format, ...] = (
    *_WEBMAIL,
    *(row for _, rows in _FAMILIES for row in rows),
    *_GENERAL,
    *_UPPERCASE,
    *_PARENTHESISED,
)
"""Every row, for inspection and tests; parsing uses the structured tables above."""


def _assign(state: _Fields, names: Sequence[str], m: re.Match[str]) -> None:
    for index, name in enumerate(names, start=1):
        if name:
            value = m.group(index)
            setattr(state, name, value if value is not None else "")


def _set(state: _Fields, **values: str) -> bool:
    for name, value in values.items():
        setattr(state, name, value)
    return True


def _apply(row: Format, state: _Fields, text: str) -> Outcome | Skipped | None:
    """Try one row; None means "no match, keep going"."""
    for guard in row.guards:
        if not guard.search(text):
            return None
    if row.unless is not None and row.unless.search(text):
        return None
    m = row.pattern.search(text)
    if m is None:
        return None
    if row.outcome is Outcome.FETCHER:
        return Skipped(fetcher=True)
    if row.outcome is Outcome.SKIP:
        return _SKIPPED
    if row.outcome is Outcome.CARRY_ENVFROM:
        return Skipped(carried_envfrom=_clean_envfrom(state.envfrom))
    _assign(state, row.groups, m)
    if row.dns is not None:
        state.looked_up_dns = row.dns
    if row.fixup is not None and not row.fixup(state, m):
        return None
    return Outcome.RELAY


_Decision = tuple[Outcome | Skipped, str]  # what a row decided, and the row's name


def _run(rows: Sequence[Format], state: _Fields, text: str) -> _Decision | None:
    for row in rows:
        result = _apply(row, state, text)
        if result is not None:
            return result, row.name
    return None


_HELO_GUESS = re.compile(r"^(\S+)[^-A-Za-z0-9.]", _FLAGS)
_FALLBACK_ADDRESS = _rx(r"\[(<IP>)\]")


def _parse_from_line(state: _Fields, text: str) -> _Decision | None:
    """Rows for a line that started "from "; ``text`` has that word removed."""
    m = _ENVFROM.search(text)
    if m:
        state.envfrom = m.group(1)
    decision = _run(_WEBMAIL, state, text)
    if decision is not None:
        return decision
    for marker, rows in _FAMILIES:
        if marker.search(text):
            decision = _run(rows, state, text)
            if decision is not None:
                return decision
            break
    decision = _run(_GENERAL, state, text)
    if decision is not None:
        return decision
    if not _truthy(state.helo):
        m = _HELO_GUESS.search(text)
        if m:
            state.helo = m.group(1)
    return None


# ---------------------------------------------------------------------------------------------
# Stage 4: clean-up

# White space, NUL and the characters that delimit fields in the string form become "!"
_FLAG_CHARS = str.maketrans(dict.fromkeys(" \t\n\r\f\v\x00#[]()<>|", "!"))
_IPV6_TAG = re.compile(r"^ipv6:", _FLAGS | re.IGNORECASE)
_ZONE = re.compile(r"%[A-Z0-9._~-]*\Z", _FLAGS | re.IGNORECASE)
_MAPPED_V4 = re.compile(r"^0*:0*:(?:0*:)*ffff:(\d+\.\d+\.\d+\.\d+)$", _FLAGS | re.IGNORECASE)
_UNKNOWN_RDNS = re.compile(r"^unknown$", _FLAGS | re.IGNORECASE)
_ENVFROM_LEAD = re.compile(r"^\s*<*", _FLAGS)
_ENVFROM_TAIL = re.compile(r">*\s*$", _FLAGS)
_IS_PRIVATE = re.compile(IP_PRIVATE, _FLAGS)


def _clean_envfrom(envfrom: str | None) -> str | None:
    if envfrom is None:
        return None
    envfrom = _ENVFROM_TAIL.sub("", _ENVFROM_LEAD.sub("", envfrom, count=1), count=1)
    return envfrom.translate(_FLAG_CHARS)


def _truthy(value: str) -> bool:
    """Perl truthiness of a string field: '' and '0' are false."""
    return value not in ("", "0")


def _finish(state: _Fields) -> Relay:
    rdns = state.rdns.rstrip(".")
    if _UNKNOWN_RDNS.match(rdns) or rdns.startswith("["):
        rdns = ""
    ip = state.ip
    if ":" in ip:  # IPv6 forms only; a dotted quad needs none of this
        ip = _IPV6_TAG.sub("", ip, count=1)
    ip = ip.removeprefix("[").removesuffix("]")
    if "%" in ip:
        ip = _ZONE.sub("", ip, count=1)
    if ":" in ip:
        ip = _MAPPED_V4.sub(r"\1", ip, count=1)
    ip = ip.translate(_FLAG_CHARS)
    return Relay(
        ip=ip,
        rdns=rdns.translate(_FLAG_CHARS),
        helo=state.helo.translate(_FLAG_CHARS),
        by=state.by.removesuffix(";").translate(_FLAG_CHARS),
        ident=state.ident.translate(_FLAG_CHARS),
        envfrom=_clean_envfrom(state.envfrom),
        id=state.id,
        auth=state.auth,
        ip_private=_IS_PRIVATE.search(ip) is not None,
        no_reverse_dns=not rdns and state.looked_up_dns,
        rdns_not_in_headers=not rdns and not state.looked_up_dns,
    )


def parse_received_line(value: str) -> Relay | Skipped | None:
    """Parse one Received value: a Relay, Skipped (deliberately ignored) or None (unparseable).

    The returned Relay has ``internal``/``msa`` false; ``parse_relays`` sets them.
    """
    return _parse(value)[0]


def explain_received_line(value: str) -> str:
    """Name of the rule that decided how a Received value was read (for debugging and tests):
    a ``FORMATS`` row name, or one of "not-a-handover", "local-delivery", "no-address",
    "generic" (read from the generic fields only) and "unparseable"."""
    return _parse(value)[1]


def _parse(value: str) -> tuple[Relay | Skipped | None, str]:
    line = _WS.sub(" ", value).strip(" ")
    while line.endswith(";"):  # stray semicolons (each with one space before it) at the end
        line = line[:-1]
        if line.endswith(" "):
            line = line[:-1]
    if not _IS_HANDOVER.match(line):
        return _SKIPPED, "not-a-handover"
    if _LOCAL_DELIVERY.search(line):
        return _SKIPPED, "local-delivery"
    m = _BARE_FROM_BY.match(line)
    if m and not _BRACKETED_V4.match(m.group(1)):
        return _SKIPPED, "no-address"
    line = _TRAILING_DATE.sub("", line, count=1)
    line = line.replace(")by ", ") by ", 1)

    state = _Fields()
    m = _GENERIC_ID.search(line)
    if m:
        state.id = m.group(1)
    for pattern in _GENERIC_HELO:
        m = pattern.search(line)
        if m:
            state.helo = m.group(1)
            break
    m = _GENERIC_BY.search(line)
    if m:
        state.by = m.group(1)
    state.auth = _find_auth(line)

    decision: _Decision | None
    if line.startswith("from "):
        text = line[5:]
        decision = _parse_from_line(state, text)
    elif line.startswith("FROM "):
        text = line[5:]
        decision = _run(_UPPERCASE, state, text)
    elif line.startswith("(from "):
        text = line[6:]
        decision = _run(_PARENTHESISED, state, text)
    else:  # "From " in mixed case: no table, only the generic fields
        text = line
        decision = None
    if decision is not None:
        result, name = decision
        if isinstance(result, Skipped):
            return result, name
        return _finish(state), name
    if not _truthy(state.ip):
        m = _FALLBACK_ADDRESS.search(text)
        if m:
            state.ip = m.group(1)
    if not (_truthy(state.ip) and _truthy(state.by)):
        return None, "unparseable"
    return _finish(state), "generic"


# ---------------------------------------------------------------------------------------------
# The trust path

_ORIGINATING_ADDRESS = _rx(r"(<IP>)")


@dataclass(slots=True)
class _Walk:
    """Accumulates the split while walking headers newest first."""

    trusted: list[Relay] = field(default_factory=list)
    untrusted: list[Relay] = field(default_factory=list)
    internal: list[Relay] = field(default_factory=list)
    external: list[Relay] = field(default_factory=list)
    in_trusted: bool = True
    in_internal: bool = True
    found_msa: bool = False
    fetch_restart_allowed: bool = True  # a fetcher marker only counts inside the trusted zone
    unparseable: int = 0
    last_trusted_index: int = -1
    last_internal_index: int = -1


def parse_relays(
    received_values: Sequence[str],
    *,
    trusted: NetSet | None = None,
    internal: NetSet | None = None,
    msa: NetSet | None = None,
    originating_values: Sequence[str | None] = (),
    originating: bool = False,
) -> RelayInfo:
    """Split a message's hand-overs into trusted/untrusted and internal/external.

    ``received_values`` are the Received header values, topmost first, not RFC 2047-decoded.
    ``trusted``/``internal`` are None when not configured: with neither, trust is inferred
    (private addresses and authenticated hops are trusted); with one, it stands for both.
    Pass the *configured* sets, i.e. including the implicit loopback entries.
    ``originating_values`` holds, in ``originating_ip_headers`` order, the value of the last
    instance of each such header (None when absent): each one holding an address adds a
    synthetic hand-over at the bottom. ``originating`` is the caller's assertion that the
    message was submitted by an authenticated or internal user. Never raises on bad input.
    """
    configured = trusted is not None or internal is not None
    trusted_set = trusted if trusted is not None else internal
    internal_set = internal if internal is not None else trusted
    lines = list(received_values)
    for value in originating_values:
        if value and value != "0":
            m = _ORIGINATING_ADDRESS.search(value)
            if m:
                lines.append(f"from X-Originating-IP: {m.group(1)}")

    walk = _Walk()
    carried_envfrom: str | None = None
    for value in lines:
        carried, carried_envfrom = carried_envfrom, None
        try:
            parsed = parse_received_line(value)
        except Exception:  # a parser bug must not take a message down; count it as unparseable
            parsed = None
        if not isinstance(parsed, Relay):
            if parsed is None:
                walk.unparseable += 1
            else:
                if parsed.fetcher and walk.fetch_restart_allowed:
                    walk.trusted.clear()
                    walk.internal.clear()
                    walk.external.clear()
                carried_envfrom = parsed.carried_envfrom
            if walk.in_trusted:
                walk.last_trusted_index += 1
            if walk.in_internal:
                walk.last_internal_index += 1
            continue
        if carried and carried != "0":
            parsed = replace(parsed, envfrom=carried)
        _place(walk, parsed, configured, trusted_set, internal_set, msa, originating)

    return RelayInfo(
        trusted=tuple(walk.trusted),
        untrusted=tuple(walk.untrusted),
        internal=tuple(walk.internal),
        external=tuple(walk.external),
        unparseable=walk.unparseable,
        num_received=len(received_values),
        last_trusted_index=walk.last_trusted_index,
        last_internal_index=walk.last_internal_index,
        trusted_str=" ".join(r.as_string for r in walk.trusted),
        untrusted_str=" ".join(r.as_string for r in walk.untrusted),
        internal_str=" ".join(r.as_string for r in walk.internal),
        external_str=" ".join(r.as_string for r in walk.external),
    )


def _place(
    walk: _Walk,
    relay: Relay,
    configured: bool,
    trusted: NetSet | None,
    internal: NetSet | None,
    msa: NetSet | None,
    originating: bool,
) -> None:
    is_msa = False
    if walk.in_trusted and not walk.found_msa:
        authenticated = bool(relay.auth)
        if not configured:
            if not (relay.ip_private or authenticated):
                walk.in_trusted = walk.in_internal = False
        elif not authenticated and not (trusted is not None and trusted.contains_ip(relay.ip)):
            if originating:
                walk.found_msa = True  # the caller vouches for this hop: trust continues
            else:
                walk.in_trusted = False
            walk.in_internal = False
        else:
            if (
                walk.in_internal
                and not authenticated
                and not (internal is not None and internal.contains_ip(relay.ip))
            ):
                walk.in_internal = False
            if msa is not None and msa.contains_ip(relay.ip):
                walk.found_msa = is_msa = True
    if walk.in_internal or is_msa:
        relay = replace(relay, internal=walk.in_internal, msa=is_msa)
    if walk.in_trusted:
        walk.trusted.append(relay)
        walk.fetch_restart_allowed = True
        walk.last_trusted_index += 1
    else:
        walk.untrusted.append(relay)
        walk.fetch_restart_allowed = False
    if walk.in_internal:
        walk.internal.append(relay)
        walk.last_internal_index += 1
    else:
        walk.external.append(relay)
