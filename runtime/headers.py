"""The header views rules match: `Subject`, `From:addr`, `ALL`, `ToCc`, `EnvelopeFrom`, ...

A header rule names a *spec* (header name plus up to two modifiers, or a pseudo-header) and is
matched against one string built from it. This module builds that string exactly as
SpamAssassin 4.0.1 does (`PerMsgStatus::get`/`_get` and the join in `Check::do_head_tests`):
decoded values end in a newline and are concatenated, modifier results do not and are joined
with newlines, an absent header yields the rule's `if-unset` text or None.

Incoming `X-Spam-*` headers are invisible here (SpamAssassin deletes them before any rule
runs) but still present in `ALL:raw`, which reads the pristine header block.

Everything that depends on configuration or on relay analysis (valid TLDs, the registrable
domain trimmer, the envelope sender found in Received headers, metadata pseudo-headers, the
trusted-relay boundary) comes in through a `HeaderContext`, so this module stays a pure view.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .addresses import parse_addresses
from .domains import idn_to_ascii, is_fqdn_valid
from .header_decode import decode_header_value, unfold
from .ipsyntax import IP_ADDRESS
from .message import Defect, Header, Message, Part

__all__ = [
    "MAX_ALL_HEADERS_LENGTH",
    "HeaderContext",
    "HeaderTable",
    "all_headers",
    "decoded_value",
    "get_values",
    "header_table",
    "header_text",
    "part_header",
]

# SpamAssassin stops assembling `ALL` after this many bytes (Constants MAX_HEADER_LENGTH).
MAX_ALL_HEADERS_LENGTH = 65536

_MODIFIERS = frozenset({"raw", "addr", "name", "host", "domain", "ip", "revip", "first", "last"})
_FOLD_WITH_SPACE = re.compile(rb"\r?\n[ \t\n\r\x0b\x0c]+")
_PRISTINE_FIELD = re.compile(rb"^([^ \t].*?\n)(?![ \t])", re.M | re.S)
_SPACES = re.compile(rb"[ \t\n\r\x0b\x0c]+")
_SINGLE_QUOTED = re.compile(rb"'(.*?)'\n?\Z")
_NON_SPACE = re.compile(rb"\S")
_LAST_AT_HOST = re.compile(rb".*@(\S+)")
_IPV6_CHARS = re.compile(r"[0-9a-fA-F:.]{2,}")
_IP_IN_TEXT = re.compile(rf"(?<!\.)\b({IP_ADDRESS})\b(?!\.)", re.ASCII)
_RECEIVED_ABOVE = {
    name: re.compile(rb"^Received:.*?^" + name.encode() + rb":", re.M | re.S | re.I)
    for name in ("X-Envelope-From", "Envelope-Sender", "Return-Path")
}


def _no_trim(host: str) -> str:
    return host


@dataclass(frozen=True)
class HeaderContext:
    """Configuration and per-message facts the header views need but do not own.

    - `tld_pattern`: regex source matching one valid TLD with its label boundaries, such as
      `RegistryBoundaries.valid_tlds_pattern`; without it `:host`/`:domain` find nothing,
      as SpamAssassin without TLD lists.
    - `trim_domain`: registrable-domain trimmer for `:domain`.
    - `relay_envfrom`: the `envfrom` of the first untrusted relay (or the oldest trusted one
      when all are trusted), or a callable producing it; used by `EnvelopeFrom`.
    - `envelope_sender_header`: the `envelope_sender_header` setting.
    - `metadata`: pseudo-headers by lower-case name (`x-spam-relays-untrusted`, ...),
      used when the message has no header of that name.
    - `last_trusted_relay_index` / `last_internal_relay_index`: SA's indexes (-1 when no relay
      is trusted) for `ALL-TRUSTED`, `ALL-UNTRUSTED`, `ALL-INTERNAL`, `ALL-EXTERNAL`.
    """

    tld_pattern: str | None = None
    trim_domain: Callable[[str], str] = _no_trim
    relay_envfrom: str | Callable[[], str | None] | None = None
    envelope_sender_header: str | None = None
    metadata: Mapping[str, bytes] = field(default_factory=dict)
    last_trusted_relay_index: int = -1
    last_internal_relay_index: int = -1


DEFAULT_CONTEXT = HeaderContext()


class HeaderTable:
    """Header fields of one node with a case-insensitive index (SA's `Node` header store)."""

    __slots__ = ("fields", "index")

    def __init__(self, fields: list[Header]) -> None:
        self.fields = fields
        self.index: dict[str, list[Header]] = {}
        for header in fields:
            self.index.setdefault(header.key, []).append(header)

    def get_all(self, name: str) -> list[Header]:
        return self.index.get(name.strip().lower(), [])


def decoded_value(header: Header) -> bytes:
    """The decoded, unfolded value without a newline; computed once per header field."""
    if header.decoded is None:
        header.decoded = decode_header_value(unfold(header.raw), header.name)
    return header.decoded


def header_table(message: Message) -> HeaderTable:
    """The top-level headers rules see: all but `X-Spam-*` (removed before any rule runs)."""
    table = message.cache.get("header_table")
    if not isinstance(table, HeaderTable):
        visible = [h for h in message.headers if not h.key.startswith("x-spam-")]
        table = HeaderTable(visible)
        message.cache["header_table"] = table
    return table


def _node_table(node: Part, message: Message | None) -> HeaderTable:
    if message is not None and node is message.root:
        return header_table(message)
    table = node.cache.get("header_table")
    if not isinstance(table, HeaderTable):
        table = HeaderTable(node.headers)
        node.cache["header_table"] = table
    return table


def _node_values(table: HeaderTable, name: str, raw: bool) -> list[bytes]:
    """SA's list-context `get_header`: decoded values plus newline, or raw values unfolded."""
    found = table.get_all(name)
    if raw:
        return [_FOLD_WITH_SPACE.sub(b" ", h.raw) for h in found]
    return [decoded_value(h) + b"\n" for h in found]


def part_header(
    node: Part, name: str, *, raw: bool = False, message: Message | None = None
) -> bytes | None:
    """One MIME node's header as a `mimeheader` rule sees it: the last instance, or None.

    Decoded values end in a newline; `raw=True` gives the stored value (SA's `raw_header`,
    which answers "" rather than None for an absent header). Pass `message` so that the root
    node hides `X-Spam-*` as SpamAssassin does.
    """
    found = _node_table(node, message).get_all(name)
    if raw:
        return found[-1].raw if found else b""
    return decoded_value(found[-1]) + b"\n" if found else None


def all_headers(node: Part, *, raw: bool = False, message: Message | None = None) -> list[bytes]:
    """Every header of a node as `Name: value\\n`, in message order (SA's `get_all_headers`).

    SpamAssassin gathers the values name by name (in order of first appearance) and stops
    once 64 KiB are collected, which drops whole names; a message where that happens gets the
    `truncated_header` flag, exactly as SA sets it while answering `ALL`.
    """
    table = _node_table(node, message)
    if raw:
        values = [_FOLD_WITH_SPACE.sub(b" ", h.raw) for h in table.fields]
    else:
        values = [decoded_value(h) + b"\n" for h in table.fields]
    size = sum(len(h.key) + len(v) + 2 for h, v in zip(table.fields, values, strict=True))
    if size <= MAX_ALL_HEADERS_LENGTH:  # the usual case: nothing is dropped, order is trivial
        return [
            h.name.encode("latin-1") + b": " + v for h, v in zip(table.fields, values, strict=True)
        ]
    positions: dict[str, list[int]] = {}
    for position, header in enumerate(table.fields):
        positions.setdefault(header.key, []).append(position)
    lines: list[bytes | None] = [None] * len(table.fields)
    size = 0
    truncated = False
    for key, where in positions.items():
        for position in where:
            contents = values[position]
            size += len(key) + len(contents) + 2
            if size > MAX_ALL_HEADERS_LENGTH:
                truncated = True
                break
            lines[position] = table.fields[position].name.encode("latin-1") + b": " + contents
        if truncated:
            break
    at_root = message is not None and node is message.root
    if truncated and at_root and "truncated_header" not in message.parse_flags:
        message.defects.append(Defect("truncated_header", "ALL exceeds 64 KiB"))
    return [line for line in lines if line is not None]


def _pristine_fields(message: Message) -> list[bytes]:
    """The pristine header block cut into fields, continuation lines included (`ALL:raw`)."""
    return _PRISTINE_FIELD.findall(message.pristine_headers)


def _received_range(message: Message, start: int | None, end: int | None, raw: bool) -> list[bytes]:
    """Headers from Received number `start` down to Received number `end`, both included."""
    fields = _pristine_fields(message) if raw else all_headers(message.root, message=message)
    current = -1
    out: list[bytes] = []
    for text in fields:
        if text[:9].lower() == b"received:":
            current += 1
        if (start is None or start <= current) and (end is None or current < end):
            out.append(text)
        elif end is not None and current == end:
            out.append(text)
            break
    return out


def _cache_key(spec: str, context: HeaderContext) -> str:
    return f"get:{spec}" if context is DEFAULT_CONTEXT else f"get:{id(context)}:{spec}"


def get_values(
    message: Message, spec: str, context: HeaderContext = DEFAULT_CONTEXT
) -> list[bytes]:
    """The list of values SpamAssassin's `get(SPEC)` returns, computed once per message."""
    key = _cache_key(spec, context)
    cached = message.cache.get(key)
    if isinstance(cached, list):
        return cached
    values = [v for v in _get(message, spec, context) if v is not None]
    message.cache[key] = values
    return values


def header_text(
    message: Message,
    spec: str,
    if_unset: bytes | None = None,
    context: HeaderContext = DEFAULT_CONTEXT,
) -> bytes | None:
    """The one string a header rule is matched against, or None for an absent header.

    Values are joined with "" when the first one already ends in a newline (ordinary decoded
    or raw values), else with "\\n" (`:addr`, `:name`, pseudo-headers...).
    """
    values = get_values(message, spec, context)
    if not values:
        return if_unset
    if len(values) == 1:
        return values[0]
    return (b"" if values[0].endswith(b"\n") else b"\n").join(values)


def _get(message: Message, spec: str, context: HeaderContext) -> list[bytes | None]:
    name, *modifier_list = spec.split(":")
    modifiers = {m for m in modifier_list if m in _MODIFIERS}
    raw = "raw" in modifiers
    want_addr = "addr" in modifiers
    want_name = "name" in modifiers
    table = header_table(message)

    if name == "ALL":
        if raw:
            return list(_pristine_fields(message))
        return list(all_headers(message.root, message=message))
    if name in ("ALL-TRUSTED", "ALL-INTERNAL", "ALL-UNTRUSTED", "ALL-EXTERNAL"):
        index = (
            context.last_trusted_relay_index
            if name in ("ALL-TRUSTED", "ALL-UNTRUSTED")
            else context.last_internal_relay_index
        ) + 1
        if name in ("ALL-TRUSTED", "ALL-INTERNAL"):
            return list(_received_range(message, None, index, raw)) if index >= 0 else []
        return list(_received_range(message, index, None, raw))

    lowered = name.lower()
    results: list[bytes | None]
    if lowered == "envelopefrom":
        results = [_envelope_from(message, context)]
    elif lowered.startswith("x-spam-relays-") and lowered in (
        "x-spam-relays-untrusted",
        "x-spam-relays-trusted",
        "x-spam-relays-external",
        "x-spam-relays-internal",
    ):
        results = [context.metadata.get(lowered)]
    elif lowered == "tocc":
        results = [*_node_values(table, "To", raw), *_node_values(table, "Cc", raw)]
    elif name == "MESSAGEID":
        results = [
            value
            for header in (
                "X-Message-Id",
                "Resent-Message-Id",
                "X-Original-Message-ID",
                "Message-Id",
            )
            for value in _node_values(table, header, raw)
            if value
        ]
    else:
        found = table.get_all(name)
        if raw or want_addr or want_name:
            results = [h.raw for h in found]
        else:
            results = [decoded_value(h) + b"\n" for h in found]
        if not results:
            meta = context.metadata.get(lowered)
            if meta is not None:
                results = [meta]

    results = [r for r in results if r is not None]
    if not results:
        return []
    if "first" in modifiers:
        results = results[:1]
    elif "last" in modifiers:
        results = results[-1:]
    if want_addr or want_name:
        results = _address_parts(results, want_addr, raw)
    if results and modifiers & {"host", "domain", "ip", "revip"}:
        results = _host_parts(results, modifiers, want_addr, context)
    return results


def _host_is_valid(host: bytes) -> bool:
    return is_fqdn_valid(idn_to_ascii(host.decode("utf-8", "replace")), True)


def _address_parts(values: list[bytes | None], want_addr: bool, raw: bool) -> list[bytes | None]:
    """`:addr` (each address) or `:name` (each display name, decoded unless `:raw`)."""
    out: list[bytes | None] = []
    for value in values:
        if value is None:
            continue
        for entry in parse_addresses(value, _host_is_valid):
            if want_addr:
                if entry.address is not None:
                    out.append(entry.address)
            elif entry.phrase is not None:
                out.append(entry.phrase if raw else _display_name(entry.phrase))
    return out


def _display_name(phrase: bytes) -> bytes:
    """Decode a display name and tidy its whitespace and one pair of single quotes."""
    decoded = decode_header_value(phrase, "PMS:get:name")
    if _NON_SPACE.search(decoded):
        decoded = _SPACES.sub(b" ", decoded).strip(b" ")
        match = _SINGLE_QUOTED.match(decoded)
        if match:
            decoded = match.group(1)
    return decoded


_HOST_PATTERNS: dict[str, re.Pattern[bytes]] = {}


def _host_pattern(tld_pattern: str) -> re.Pattern[bytes]:
    compiled = _HOST_PATTERNS.get(tld_pattern)
    if compiled is None:
        tld = f"(?:{tld_pattern})".encode("ascii")
        compiled = re.compile(rb"(?<![._-])(\S{1,251}\." + tld + rb")(?![._-])", re.I)
        _HOST_PATTERNS[tld_pattern] = compiled
    return compiled


def _host_parts(
    values: list[bytes | None], modifiers: set[str], after_addr: bool, context: HeaderContext
) -> list[bytes | None]:
    """`:host`, `:domain`, `:ip` and `:revip`: one host or address per value that has one."""
    out: list[bytes | None] = []
    if "host" in modifiers or "domain" in modifiers:
        pattern = _host_pattern(context.tld_pattern) if context.tld_pattern else None
        for value in values:
            if value is None:
                continue
            host = _find_host(value, pattern, after_addr)
            if host:
                if "domain" in modifiers:
                    trimmed = context.trim_domain(host.decode("utf-8", "replace"))
                    host = trimmed.encode("utf-8")
                out.append(host)
        return out
    for value in values:
        if value is None:
            continue
        match = _IP_IN_TEXT.search(value.decode("latin-1"))
        if match:
            address = match.group(1)
            if "revip" in modifiers:
                reversed_ip = _reverse_ip(address)
                if reversed_ip is None:
                    continue
                address = reversed_ip
            out.append(address.encode("latin-1"))
    return out


def _find_host(value: bytes, pattern: re.Pattern[bytes] | None, after_addr: bool) -> bytes | None:
    if after_addr:
        match = _LAST_AT_HOST.match(value)
        return match.group(1) if match else None
    if pattern is None:
        return None
    at = value.rfind(b"@")
    while at >= 0:  # the greedy `.*@host` of SA: the last "@" followed by a host wins
        match = pattern.match(value, at + 1)
        if match and _host_is_valid(match.group(1)):
            return match.group(1)
        if match:
            break
        at = value.rfind(b"@", 0, at)
    for match in pattern.finditer(value):
        if _host_is_valid(match.group(1)):
            return match.group(1)
    return None


def _reverse_ip(address: str) -> str | None:
    """An IP in DNSBL query order: octets reversed, or IPv6 nibbles reversed."""
    parts = address.split(".")
    if len(parts) == 4 and ":" not in address:
        return ".".join(reversed(parts))
    if ":" not in address or not _IPV6_CHARS.fullmatch(address):
        return None  # e.g. "IPv6:::1": SA's triage refuses anything but hex, ":" and "."
    try:
        full = ipaddress.IPv6Address(address)
    except ValueError:
        return None
    return ".".join(reversed(full.exploded.replace(":", "")))


# --- EnvelopeFrom -------------------------------------------------------------------------------


def _first_addr(message: Message, name: str, context: HeaderContext) -> bytes | None:
    values = get_values(message, f"{name}:first:addr", context)
    return values[0] if values else None


def _received_above(message: Message, name: str, context: HeaderContext) -> bool:
    """Whether a Received header sits above the named header (then it may be a relay's)."""
    everything = b"".join(get_values(message, "ALL", context))
    return _RECEIVED_ABOVE[name].search(everything) is not None


def _envelope_from(message: Message, context: HeaderContext) -> bytes | None:
    """The SMTP MAIL FROM as SpamAssassin guesses it (`get_envelope_from`)."""
    if context.envelope_sender_header:
        found = _first_addr(message, context.envelope_sender_header, context)
        if found is not None and (found.find(b"@") > 0 or found == b""):
            return found
        return None
    relay = context.relay_envfrom() if callable(context.relay_envfrom) else context.relay_envfrom
    if relay is not None:
        relay_bytes = relay.encode("utf-8", "surrogateescape")
        if relay_bytes.find(b"@") > 0 or relay_bytes == b"":
            return relay_bytes
    sender = _first_addr(message, "X-Sender", context)
    # fetchmail reuses a list's X-Sender as its own envelope sender: trust no header then
    received = get_values(message, "Received", context)
    if sender is not None and b"@" in sender and any(b"(fetchmail" in v for v in received):
        return None
    found = _first_addr(message, "X-Envelope-From", context)
    if found is not None:
        return None if _received_above(message, "X-Envelope-From", context) else found
    for name in ("Envelope-Sender", "Return-Path"):
        found = _first_addr(message, name, context)
        if found is not None and not _received_above(message, name, context):
            return found
    return None
