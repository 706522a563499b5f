"""Address lists (welcomelist_from and friends) and the addresses a message is checked against.

Lists are written as file-glob patterns (`*@example.com`, `user?@*.example.org`) and SpamAssassin
4.0.1 (`Conf::Parser::add_to_addrlist`) turns each into an anchored, case-insensitive-by-
lowercasing regex; `welcomelist_from_rcvd` entries add the relay the mail must have come
through. Which addresses are checked is fixed too (`PerMsgStatus::all_from_addrs`,
`all_to_addrs`): the first Resent- header wins over everything else, and recipients are also
dug out of the newest Received headers. WLBLEval, FreeMail and (later) AWL/TxRep share these.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .domains import idn_to_ascii, is_fqdn_valid
from .relays import Relay, RelayInfo

if TYPE_CHECKING:
    from .context import MessageContext

__all__ = [
    "AddressList",
    "RelayAddressList",
    "from_addresses",
    "glob_pattern",
    "list_relays",
    "to_addresses",
]

_GLOB_LITERAL = frozenset(b"_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def glob_pattern(entry: str | bytes, *, anchored: bool = True) -> bytes:
    """The regex source SpamAssassin makes of one list entry (lower-cased first).

    `*` matches any run and `?` one character, except newlines; everything else is literal.
    Address lists are anchored and first turn NUL, backslash and "(" into "_" (SpamAssassin's
    paranoia); subject lists (`anchored=False`) match anywhere and skip that step.
    """
    raw = entry.encode("utf-8", "surrogateescape") if isinstance(entry, str) else entry
    raw = raw.lower()
    if anchored:
        raw = raw.translate(_PARANOIA)
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x2A:  # "*": a run of stars is one "any string"
            while i < len(raw) and raw[i] == 0x2A:
                i += 1
            out += b".*"
            continue
        if byte == 0x3F:  # "?"
            out += b"."
        elif byte in _GLOB_LITERAL:
            out.append(byte)
        else:
            out += re.escape(bytes([byte]))
        i += 1
    return b"^" + bytes(out) + b"$" if anchored else bytes(out)


_PARANOIA = bytes.maketrans(b"\x00\\(", b"___")


class AddressList:
    """A compiled address list: exact entries plus one alternation of all glob patterns.

    SpamAssassin tries the entries one by one; a single alternation answers the same question
    (does any entry match?) in one pass.
    """

    __slots__ = ("entries", "pattern")

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = frozenset(e.lower().encode("utf-8", "surrogateescape") for e in entries)
        sources = sorted({glob_pattern(e)[1:-1] for e in self.entries})
        self.pattern = re.compile(b"^(?:" + b"|".join(sources) + b")$") if sources else None

    def __bool__(self) -> bool:
        return bool(self.entries)

    def matches(self, address: bytes) -> bool:
        """Whether the address (any case) is listed."""
        address = address.lower()
        if address in self.entries:
            return True
        return self.pattern is not None and self.pattern.match(address) is not None


_BRACKETED = re.compile(r"^\[(.*)\](/\d{1,3})?\Z", re.S | re.ASCII)
_DOTTED_QUAD = re.compile(r"^\d+\.\d+\.\d+\.\d+\Z", re.ASCII)
_DOTTED_PREFIX = re.compile(r"^[\d.]+\Z", re.ASCII)


def _relay_matches(spec: str, relay: Relay) -> bool:
    """The relay test of `welcomelist_from_rcvd ADDR SPEC` against one relay."""
    bracketed = _BRACKETED.match(spec)
    if bracketed is None:  # an rDNS suffix
        rdns = relay.lc_rdns
        return rdns == spec or rdns.endswith("." + spec)
    wanted = bracketed.group(1) + (bracketed.group(2) or "")
    relay_ip = relay.ip
    if not relay_ip:
        return False
    if _DOTTED_QUAD.match(wanted):
        return wanted == relay_ip
    if _DOTTED_PREFIX.match(wanted):  # classful "[10.1]" means 10.1.*
        return relay_ip.startswith(wanted.rstrip(".") + ".")
    try:
        network = ipaddress.ip_network(wanted, strict=False)
        address = ipaddress.ip_address(relay_ip)
    except ValueError:
        return False
    return address.version == network.version and address in network


class RelayAddressList:
    """`welcomelist_from_rcvd`-style entries: an address glob and the relays allowed for it."""

    __slots__ = ("entries",)

    def __init__(self, entries: Iterable[Sequence[str]]) -> None:
        by_address: dict[str, list[str]] = {}
        for entry in entries:
            if len(entry) == 2:
                by_address.setdefault(entry[0].lower(), []).append(entry[1].lower())
        self.entries = [
            (re.compile(glob_pattern(address)), relays) for address, relays in by_address.items()
        ]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def check(
        self, address: bytes, relays: Sequence[Relay], allows_relays: AddressList | None = None
    ) -> int:
        """1: listed and came through a listed relay; -1: listed but not (a forgery?); 0: no.

        The -1 is dropped to 0 when the address is in `welcomelist_allows_relays`.
        """
        if not relays:
            return 0
        address = address.lower()
        forged = 0
        for pattern, specs in self.entries:
            if pattern.match(address) is None:
                continue
            if any(_relay_matches(spec, relay) for spec in specs for relay in relays):
                return 1
            forged = -1
        allowed = allows_relays.pattern if allows_relays is not None else None
        if forged and allowed is not None and allowed.match(address):
            forged = 0  # SpamAssassin tries only the patterns here, not exact entries
        return forged


def list_relays(info: RelayInfo) -> tuple[Relay, ...]:
    """The relays a *_rcvd entry is checked against: the newest untrusted one, else all trusted.

    Trusted relays are not consulted when an untrusted one exists, so a forged Received below
    ours cannot claim a welcomelisted path.
    """
    if info.untrusted:
        return info.untrusted[:1]
    return info.trusted


_DOT_RUNS = re.compile(rb"\.{2,}")
_FROM_HEADERS = (
    "From:addr",
    "Envelope-Sender:addr",  # qmail new-inject
    "Resent-Sender:addr",  # procmail
    "X-Envelope-From:addr",  # procmail
    "EnvelopeFrom:addr",  # the SMTP envelope
)
_TO_HEADERS = (
    "To:addr",
    "Apparently-To:addr",  # sendmail, from the envelope
    "Delivered-To:addr",  # Postfix, qmail
    "Envelope-Recipients:addr",  # qmail new-inject
    "Apparently-Resent-To:addr",
    "X-Envelope-To:addr",
    "Envelope-To:addr",  # exim
    "X-Delivered-To:addr",
    "X-Original-To:addr",
    "X-Rcpt-To:addr",
    "X-Real-To:addr",
    "Cc:addr",
)
_RECEIVED_FOR = re.compile(rb" for <?(\S+@(\S+?))>?;")


def _unique(addresses: Iterable[bytes]) -> list[bytes]:
    return list(dict.fromkeys(addresses))


def from_addresses(ctx: MessageContext) -> list[bytes]:
    """Every sender address the message claims ("From-ish"), each once, as written.

    `Resent-From` (its first address) replaces all others when present; otherwise From,
    several envelope-sender headers and the envelope sender itself, with runs of dots
    squeezed (`foo@bar..com` is a typo, not a different sender).
    """
    cache = ctx.msg.cache
    found = cache.get("addrlists:from")
    if isinstance(found, list):
        return found
    resent = ctx.header_values("Resent-From:first:addr")
    if resent:
        addresses = list(resent)
    else:
        addresses = [
            _DOT_RUNS.sub(b".", address)
            for spec in _FROM_HEADERS
            for address in ctx.header_values(spec)
            if address != b""
        ]
    found = _unique(addresses)
    cache["addrlists:from"] = found
    return found


def _received_recipients(ctx: MessageContext) -> list[bytes]:
    """`for <user@host>` of the three newest Received headers, when the host looks real."""
    out = []
    for value in ctx.header_values("Received")[:3]:
        m = _RECEIVED_FOR.search(value)
        if m and is_fqdn_valid(idn_to_ascii(m.group(2).decode("utf-8", "replace")), True):
            out.append(m.group(1))
    return out


def to_addresses(ctx: MessageContext) -> list[bytes]:
    """Every recipient address the message names, each once, in SpamAssassin's order.

    The first addresses of `Resent-To` and `Resent-Cc` replace all others when present;
    otherwise the envelope recipients Received headers show come first, then the
    recipient-ish headers various MTAs and delivery agents add.
    """
    cache = ctx.msg.cache
    found = cache.get("addrlists:to")
    if isinstance(found, list):
        return found
    resent = [
        *ctx.header_values("Resent-To:first:addr"),
        *ctx.header_values("Resent-Cc:first:addr"),
    ]
    if resent:
        addresses = resent
    else:
        addresses = _received_recipients(ctx)
        for spec in _TO_HEADERS:
            addresses.extend(ctx.header_values(spec))
    found = _unique(addresses)
    cache["addrlists:to"] = found
    return found
