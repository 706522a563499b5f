"""`-A`: which TCP clients may talk to spamd at all.

spamd's list syntax is kept: comma lists, repeatable, of addresses, CIDR networks, IPv4
prefixes ending in a dot (`10.` = 10.0.0.0/8) and IPv6 addresses optionally in brackets. Host
names are refused at start-up, as spamd refuses them. UNIX-socket clients are never checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["DEFAULT_ALLOWED", "AllowedClients"]

DEFAULT_ALLOWED = "127.0.0.1,::1"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_one(item: str) -> Network:
    text = item.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:].replace("]", "", 1)
    if text.endswith(".") and ":" not in text:  # "10." / "192.168." prefixes
        octets = [o for o in text.split(".") if o]
        if not 1 <= len(octets) <= 3 or not all(o.isdigit() and int(o) < 256 for o in octets):
            raise UsageError(f"spamd: invalid allowed IP prefix {item!r}")
        padded = octets + ["0"] * (4 - len(octets))
        return ipaddress.ip_network(f"{'.'.join(padded)}/{8 * len(octets)}")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UsageError(
            f"spamd: invalid allowed IP {item!r} (addresses, networks or prefixes only)"
        ) from None


@dataclass(frozen=True)
class AllowedClients:
    """A parsed -A list; `allows()` is called once per TCP connection."""

    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, values: Sequence[str] | None) -> AllowedClients:
        items = [i for v in (values or [DEFAULT_ALLOWED]) for i in v.split(",") if i.strip()]
        return cls(tuple(_parse_one(i) for i in items))

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 clients this way
        return any(ip.version == net.version and ip in net for net in self.networks)
