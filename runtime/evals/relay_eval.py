"""RelayEval checks: rules about the shape of the relay path, as plain functions of RelayInfo.

Each function answers one ``eval:`` of SpamAssassin 4.0.1's RelayEval plugin and keeps its
quirks, because rule scores were tuned against them: the dot-com HELO check only remembers the
*oldest* public untrusted hop, and the forged-trail check compares registrable-ish domains made
by a deliberately rough heuristic, not the Public Suffix List.

Signature convention for evals: ``check_x(info, *args) -> bool``; extra rule arguments are
accepted and ignored where SpamAssassin ignores them.
"""

from __future__ import annotations

import re

from spamkiln.runtime.ipsyntax import IS_IP_PRIVATE, IS_IPV4_ADDRESS
from spamkiln.runtime.relays import RelayInfo

__all__ = [
    "check_all_trusted",
    "check_for_forged_received_trail",
    "check_for_no_rdns_dotcom_helo",
    "check_no_relays",
    "check_relays_unparseable",
    "helo_ip_mismatch",
    "hostname_to_domain",
]


def check_all_trusted(info: RelayInfo, *_args: str) -> bool:
    """ALL_TRUSTED: at least one relay, every one trusted, and nothing we failed to read."""
    return bool(info.trusted) and not info.untrusted and not info.unparseable


def check_no_relays(info: RelayInfo, *_args: str) -> bool:
    """NO_RELAYS: no hand-over at all (locally generated, or every Received ignored)."""
    return not info.trusted and not info.untrusted and not info.unparseable


def check_relays_unparseable(info: RelayInfo, *_args: str) -> bool:
    return info.unparseable > 0


_FIRST_THREE_OCTETS = re.compile(r"^(\d+\.\d+\.\d+\.)", re.ASCII)


def helo_ip_mismatch(info: RelayInfo, *_args: str) -> bool:
    """RCVD_HELO_IP_MISMATCH: an untrusted hop HELOs as a public IPv4 outside its own /24."""
    for relay in info.untrusted:
        helo, ip = relay.helo, relay.ip
        if not IS_IPV4_ADDRESS.search(helo) or IS_IP_PRIVATE.search(helo):
            continue
        if not IS_IPV4_ADDRESS.search(ip) or IS_IP_PRIVATE.search(ip) or helo == ip:
            continue
        # "same /24" is a textual prefix test, so 1.2.3.4 vs 1.2.30.4 counts as the same
        prefix = _FIRST_THREE_OCTETS.match(helo)
        if prefix and not ip.startswith(prefix.group(1)):
            return True
    return False


# Big free-mail/ISP names a spammer likes to HELO as (RelayEval's list; ends the HELO).
_DOTCOM_HELO = re.compile(
    r"(?:\.|^)(?:lycos\.com|lycos\.co\.uk|hotmail\.com|localhost\.com|excite\.com|caramail\.com"
    r"|cs\.com|aol\.com|msn\.com|yahoo\.com|drizzle\.com)$",
    re.ASCII | re.IGNORECASE,
)


def check_for_no_rdns_dotcom_helo(info: RelayInfo, *_args: str) -> bool:
    """NO_RDNS_DOTCOM_HELO: a big-dotcom HELO from a host whose MTA found no rDNS.

    SpamAssassin re-evaluates its flag for every public untrusted hop, so only the last one
    (the oldest hop) decides; that is kept on purpose.
    """
    verdict = False
    for relay in info.untrusted:
        if relay.ip_private:
            continue
        verdict = relay.no_reverse_dns and _DOTCOM_HELO.search(relay.helo) is not None
    return verdict


_HAS_LETTER = re.compile(r"[a-zA-Z]")
_LONG_TLD = re.compile(r"(?:\S{3,}|ie|fr|de)", re.ASCII)


def hostname_to_domain(hostname: str) -> str:
    """RelayEval's rough "domain of a host": last two labels, or three under a short ccTLD.

    The TLD test is unanchored, so any label with 3+ characters or containing ie/fr/de counts
    as long; faithful, since FORGED_RCVD_TRAIL's hit rate depends on it.
    """
    if not _HAS_LETTER.search(hostname):
        return hostname  # an address literal
    parts = hostname.split(".")
    while parts and parts[-1] == "":
        parts.pop()  # Perl's split drops trailing empty fields
    if len(parts) > 1 and _LONG_TLD.search(parts[-1]):
        return ".".join(parts[-2:])
    if len(parts) > 2:
        return ".".join(parts[-3:])
    return hostname


_WORD = re.compile(r"\w+", re.ASCII)
_HOST_CHARS = re.compile(r"[\w.-]+", re.ASCII)


def _looks_like_domain(name: str) -> bool:
    """Same strings as ``^\\w+(?:[\\w.-]+\\.)+\\w+$``, in linear time (hostile headers feed it).

    That pattern accepts exactly: only word characters, dots and hyphens; a word character
    first; at least two characters before the last dot; only word characters after it.
    """
    if not _HOST_CHARS.fullmatch(name) or not _WORD.match(name):
        return False
    last_dot = name.rfind(".")
    return last_dot >= 2 and _WORD.fullmatch(name, last_dot + 1) is not None


_LOCALHOST_NAME = re.compile(r"^localhost(?:\.localdomain)?$")


def check_for_forged_received_trail(info: RelayInfo, *_args: str) -> bool:
    """__FORGED_RCVD_TRAIL: the untrusted hops do not chain up, more than once.

    Walking the untrusted relays newest first, hop *i*'s ``by`` domain should be the domain of
    the host that handed the message to hop *i-1* (hop *i-1*'s rDNS). One mismatch is common
    (ISPs' internal names), so two are needed.
    """
    untrusted = info.untrusted
    rdns_domains: list[str | None] = [hostname_to_domain(r.lc_rdns) for r in untrusted]
    mismatches = 0
    for i, relay in enumerate(untrusted):
        by = hostname_to_domain(relay.lc_by)
        if not _looks_like_domain(by):
            continue
        own = rdns_domains[i]
        if own is not None and _LOCALHOST_NAME.match(own) and relay.ip == "127.0.0.1":
            rdns_domains[i] = None  # looping through localhost on one machine is legitimate
        if i == 0:
            continue
        previous = rdns_domains[i - 1]
        if (
            previous is not None
            and _looks_like_domain(previous)
            and by != previous
            and not (by == "msn.com" and previous == "hotmail.com")
        ):
            mismatches += 1
    return mismatches > 1


def _on_relays(check: object) -> object:
    def run(ctx: object, *args: str) -> bool:
        return check(ctx.relays, *args)  # type: ignore[attr-defined, operator]

    return run


EVALS = {
    name: _on_relays(globals()[name])
    for name in (
        "check_all_trusted",
        "check_for_forged_received_trail",
        "check_for_no_rdns_dotcom_helo",
        "check_no_relays",
        "check_relays_unparseable",
        "helo_ip_mismatch",
    )
}
