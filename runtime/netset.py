"""Network sets for ``trusted_networks``, ``internal_networks`` and ``msa_networks``.

SpamAssassin 4.0.1 as Debian ships it has neither Net::Patricia nor Net::CIDR::Lite, so its
NetSet is an ordered list searched front to back where the *first* entry containing an address
decides (an ``!exclusion`` only works when it comes before a wider inclusion), and an entry that
an earlier one already covers is dropped with a warning. Address ranges (``a-b``) are refused.
Reproducing that order-sensitivity exactly matters: a config that "works" differently here
would change which relays are trusted and so the score of every message.

Every address lives in one 128-bit space: an IPv4 network ``a/len`` is stored as its
IPv4-mapped form ``::ffff:a/(96+len)``. That is what lets an IPv6 entry such as ``::/0`` match an
IPv4 relay, as it does in SpamAssassin, with one integer comparison per entry.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = ["LOOPBACK_ENTRIES", "NetEntry", "NetSet"]

# SpamAssassin adds these to trusted and internal networks before any user entry
# (Conf::new_netset with add_loopback); msa_networks gets none.
LOOPBACK_ENTRIES = ("127.0.0.0/8", "::1")

_MAPPED_V4 = 0xFFFF << 32  # ::ffff:0:0, the IPv4-mapped IPv6 prefix (RFC 4291 2.5.5.2)
_V4_OFFSET = 96  # bits in front of an IPv4 address inside its mapped form
_ALL_BITS = (1 << 128) - 1
# Below this many entries a new entry already covered by an earlier one is dropped; SpamAssassin
# stops checking past 200 because its check is quadratic (NetSet::add_cidr, bug 5931).
_DECLARED_CHECK_LIMIT = 200
_CACHE_LIMIT = 4096  # per-set lookup cache; relays repeat a handful of IPs per message

_SCOPE = re.compile(r"%[A-Za-z0-9._~-]*\Z")
_LOOKS_IPV4 = re.compile(r"\d+(?:\.|\Z)", re.ASCII)
_IPV4_PARTS = re.compile(r"(\d+)(?:\.(\d+)(?:\.(\d+)(?:\.(\d+))?)?)?\.?\Z", re.ASCII)


@dataclass(frozen=True, slots=True)
class NetEntry:
    """One parsed entry; ``value``/``prefix`` are in the shared 128-bit space."""

    text: str
    exclude: bool
    value: int
    prefix: int

    def covers(self, value: int, prefix: int) -> bool:
        """True when the block ``value/prefix`` lies wholly inside this entry."""
        if prefix < self.prefix:
            return False
        shift = 128 - self.prefix
        return (value >> shift) == (self.value >> shift)


class NetSet:
    """An ordered, first-match-wins list of networks with a per-address lookup cache.

    Bad entries never raise: they are skipped and explained in ``warnings`` so that config
    linting can report them, the way SpamAssassin warns and carries on.
    """

    __slots__ = ("_cache", "_entries", "name", "warnings")

    def __init__(self, name: str = "", *, loopback: bool = False) -> None:
        self.name = name
        self._entries: list[NetEntry] = []
        self._cache: dict[str, bool] = {}
        self.warnings: list[str] = []
        if loopback:
            self.add(*LOOPBACK_ENTRIES)

    @classmethod
    def of(cls, *entries: str, name: str = "", loopback: bool = False) -> NetSet:
        """Build a set from config words (each may hold several whitespace-separated entries)."""
        netset = cls(name, loopback=loopback)
        for words in entries:
            netset.add(*words.split())
        return netset

    @property
    def entries(self) -> tuple[NetEntry, ...]:
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        shown = " ".join(("!" if e.exclude else "") + e.text for e in self._entries)
        return f"NetSet({self.name!r}: {shown})"

    # -- building ----------------------------------------------------------------------------

    def add(self, *entries: str) -> int:
        """Append entries in order; returns how many were kept (the rest are in ``warnings``)."""
        added = 0
        for text in entries:
            entry = self._parse_entry(text)
            if entry is None:
                continue
            if len(self._entries) < _DECLARED_CHECK_LIMIT and self._declared(entry):
                continue
            self._entries.append(entry)
            added += 1
        if added:
            self._cache.clear()
        return added

    def _declared(self, new: NetEntry) -> bool:
        for old in self._entries:
            if old.covers(new.value, new.prefix):
                self.warnings.append(
                    f"netset: cannot {'exclude' if new.exclude else 'include'} {new.text} as it "
                    f"has already been {'excluded' if old.exclude else 'included'}"
                )
                return True
        return False

    def _parse_entry(self, original: str) -> NetEntry | None:
        text = original.lstrip()
        exclude = text.startswith("!")
        if exclude:
            text = text[1:].lstrip()
        if "-" in text:
            self.warnings.append(f"netset: IP range notation '{original}' is not supported")
            return None
        text, slash, masklen = text.partition("/")
        if len(text) >= 2 and text[0] == "[" and text[-1] == "]" and "]" not in text[1:-1]:
            text = text[1:-1]
        text = _SCOPE.sub("", text)
        if _LOOKS_IPV4.match(text):
            parts = _IPV4_PARTS.match(text)
            if parts is None:
                self.warnings.append(f"netset: illegal IPv4 address given: '{original}'")
                return None
            octets = [int(p) if p is not None else 0 for p in parts.groups()]
            given = sum(p is not None for p in parts.groups())
            if given == 4 and text.endswith("."):
                self.warnings.append(f"netset: illegal IPv4 address given: '{original}'")
                return None
            text = ".".join(str(o) for o in octets)
            if not slash:
                masklen = str(8 * given)  # a classful prefix such as "192.168." means /16
            return self._make(original, exclude, f"{text}/{masklen}", ipv4=True)
        return self._make(original, exclude, f"{text}/{masklen}" if slash else text, ipv4=False)

    def _make(self, original: str, exclude: bool, cidr: str, *, ipv4: bool) -> NetEntry | None:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            net = None
        if net is None or (net.version == 4) != ipv4:
            self.warnings.append(f"netset: illegal IP address given: '{original}'")
            return None
        label = original.strip().lstrip("!").strip()
        if net.version == 4:
            value = _MAPPED_V4 | int(net.network_address)
            return NetEntry(label, exclude, value, _V4_OFFSET + net.prefixlen)
        return NetEntry(label, exclude, int(net.network_address), net.prefixlen)

    # -- lookups -----------------------------------------------------------------------------

    def contains_ip(self, ip: str) -> bool:
        """First matching entry decides; unparseable addresses are simply not members."""
        cached = self._cache.get(ip)
        if cached is not None:
            return cached
        value = _address_value(ip)
        result = False
        if value is not None:
            for entry in self._entries:
                if entry.covers(value, 128):
                    result = not entry.exclude
                    break
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[ip] = result
        return result

    __contains__ = contains_ip

    def contains_net(self, entry: NetEntry) -> bool:
        """Whether ``entry`` lies inside an included (not excluded) network of this set.

        Used by config lint: internal/msa entries that trusted_networks does not contain are
        dropped (Conf::Parser::lint_trusted_networks).
        """
        for own in self._entries:
            if own.covers(entry.value, entry.prefix):
                return not own.exclude
        return False

    def restricted_to(self, outer: NetSet) -> NetSet:
        """A copy keeping only exclusions and entries ``outer`` contains; drops are warned."""
        kept = NetSet(self.name)
        kept.warnings = list(self.warnings)
        for entry in self._entries:
            if entry.exclude or outer.contains_net(entry):
                kept._entries.append(entry)
            else:
                kept.warnings.append(
                    f"{outer.name or 'trusted_networks'} doesn't contain "
                    f"{self.name or 'netset'} entry '{entry.text}'"
                )
        return kept


def _address_value(ip: str) -> int | None:
    """Map an address to the shared space; IPv4 goes to its ::ffff: form."""
    try:
        if _LOOKS_IPV4.match(ip):
            return _MAPPED_V4 | int(ipaddress.IPv4Address(ip))
        return int(ipaddress.IPv6Address(ip)) & _ALL_BITS
    except ValueError:
        return None
