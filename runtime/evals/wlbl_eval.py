"""WLBLEval checks: the user's welcome/block lists of senders, recipients and URI hosts.

Semantics are SpamAssassin 4.0.1's (`Plugin::WLBLEval`): every From-ish address is tried
against sender lists and every recipient address against recipient lists (see
`runtime.addrlists`); *_rcvd lists also need the right relay; URI hosts are looked up as
themselves and then by their parent domains, the most specific entry deciding. The old
`*_whitelist`/`*_blacklist` names are registered too, as SpamAssassin 4.0 still accepts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spamkiln.runtime.addrlists import (
    AddressList,
    RelayAddressList,
    from_addresses,
    list_relays,
    to_addresses,
)
from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext

from ._per_config import per_config
from ._sa_get import get_scalar

__all__ = [
    "EVALS",
    "address_list",
    "check_from_in_blocklist",
    "check_from_in_default_welcomelist",
    "check_from_in_list",
    "check_from_in_welcomelist",
    "check_mailfrom_matches_rcvd",
    "check_replyto_in_list",
    "check_to_in_all_spam",
    "check_to_in_blocklist",
    "check_to_in_list",
    "check_to_in_more_spam",
    "check_to_in_welcomelist",
    "check_uri_host_in_blocklist",
    "check_uri_host_in_welcomelist",
    "check_uri_host_listed",
    "uri_host_lists",
]


# ---- lists, compiled once per configuration ----------------------------------------------


def _build_address_list(config: Config, name: str) -> AddressList | None:
    """A list by its setting name; `enlist_addrlist (NAME)` adds to the same list.

    None when the configuration never defined it (SpamAssassin warns and answers "no").
    """
    entries: list[str] = []
    defined = False
    direct = config.get(name)
    if isinstance(direct, (list, tuple)):
        defined = True
        entries.extend(str(e) for e in direct)
    named = config.get("enlist_addrlist")
    if isinstance(named, dict) and isinstance(named.get(name), (list, tuple)):
        defined = True
        entries.extend(str(e) for e in named[name])
    if not defined and name not in _ALWAYS_DEFINED:
        return None
    return AddressList(entries)


# Lists SpamAssassin defines (empty) even when no line sets them.
_ALWAYS_DEFINED = frozenset(
    {
        "welcomelist_from",
        "blocklist_from",
        "welcomelist_to",
        "blocklist_to",
        "more_spam_to",
        "all_spam_to",
        "welcomelist_allows_relays",
        "welcomelist_auth",
        "def_welcomelist_auth",
    }
)


def address_list(config: Config, name: str) -> AddressList | None:
    """The compiled address list called `name` (welcomelist_from, an enlist_addrlist list...)."""
    return per_config(config, f"addrlist:{name}", lambda c: _build_address_list(c, name))


def _relay_list(config: Config, name: str) -> RelayAddressList:
    def build(c: Config) -> RelayAddressList:
        entries = c.get(name)
        return RelayAddressList(entries if isinstance(entries, (list, tuple)) else ())

    return per_config(config, f"rcvdlist:{name}", build)


# ---- sender and recipient lists ------------------------------------------------------------


def _any_from_in(ctx: MessageContext, name: str) -> bool:
    listed = address_list(ctx.config, name)
    if not listed:
        return False
    return any(listed.matches(address) for address in from_addresses(ctx))


def _any_to_in(ctx: MessageContext, name: str) -> bool:
    listed = address_list(ctx.config, name)
    if not listed:
        return False
    return any(listed.matches(address) for address in to_addresses(ctx))


def check_from_in_blocklist(ctx: MessageContext, *_args: str) -> bool:
    """USER_IN_BLOCKLIST: a From-ish address is in `blocklist_from`."""
    return _any_from_in(ctx, "blocklist_from")


def check_to_in_blocklist(ctx: MessageContext, *_args: str) -> bool:
    return _any_to_in(ctx, "blocklist_to")


def check_to_in_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    return _any_to_in(ctx, "welcomelist_to")


def check_to_in_more_spam(ctx: MessageContext, *_args: str) -> bool:
    return _any_to_in(ctx, "more_spam_to")


def check_to_in_all_spam(ctx: MessageContext, *_args: str) -> bool:
    return _any_to_in(ctx, "all_spam_to")


def check_from_in_list(ctx: MessageContext, name: str = "", *_args: str) -> bool:
    """__FROM_ADDRLIST_*: a From-ish address is in the named list."""
    return _any_from_in(ctx, name)


def check_to_in_list(ctx: MessageContext, name: str = "", *_args: str) -> bool:
    return _any_to_in(ctx, name)


def check_replyto_in_list(ctx: MessageContext, name: str = "", *_args: str) -> bool:
    """__REPLYTO_ADDRLIST_*: the first Reply-To address is in the named list."""
    listed = address_list(ctx.config, name)
    if not listed:
        return False
    reply_to = get_scalar(ctx, "Reply-To:addr")
    return reply_to != b"" and listed.matches(reply_to)


def _from_in_rcvd_list(ctx: MessageContext, name: str, also_plain: str | None) -> int:
    """1 when a From-ish address is welcomed (plainly or via a relay), -1 forged, else 0."""
    cache = ctx.msg.cache
    key = f"wlbl:{name}"
    if key in cache:
        return cache[key]  # type: ignore[return-value]
    plain = address_list(ctx.config, also_plain) if also_plain else None
    rcvd = _relay_list(ctx.config, name)
    relays = list_relays(ctx.relays) if rcvd else ()
    allows = address_list(ctx.config, "welcomelist_allows_relays")
    verdict = 0
    for address in from_addresses(ctx):
        if plain and plain.matches(address):
            verdict = 1
            break
        outcome = rcvd.check(address, relays, allows) if relays else 0
        if outcome == 1:
            verdict = 1
            break
        if outcome == -1:
            verdict = -1
    cache[key] = verdict
    return verdict


def check_from_in_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    """USER_IN_WELCOMELIST: `welcomelist_from`, or `welcomelist_from_rcvd` with its relay."""
    return _from_in_rcvd_list(ctx, "welcomelist_from_rcvd", "welcomelist_from") > 0


def check_from_in_default_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    """USER_IN_DEF_WELCOMELIST: `def_welcomelist_from_rcvd` with a matching relay."""
    return _from_in_rcvd_list(ctx, "def_welcomelist_from_rcvd", None) > 0


def check_forged_in_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    """A welcomelisted sender arrived through a relay its entry does not name."""
    return (
        _from_in_rcvd_list(ctx, "welcomelist_from_rcvd", "welcomelist_from") < 0
        and _from_in_rcvd_list(ctx, "def_welcomelist_from_rcvd", None) == 0
    )


def check_forged_in_default_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    return (
        _from_in_rcvd_list(ctx, "def_welcomelist_from_rcvd", None) < 0
        and _from_in_rcvd_list(ctx, "welcomelist_from_rcvd", "welcomelist_from") == 0
    )


# ---- envelope sender against the relay path ----------------------------------------------

_ADDRESS_DOMAIN = re.compile(rb"@([^@]+\.[^@]+)\Z")


def check_mailfrom_matches_rcvd(ctx: MessageContext, *_args: str) -> bool:
    """__RP_MATCHES_RCVD: the envelope sender's domain is that of the relay that handed it in.

    Compared at the registrable domain; the relay is the newest untrusted one, or any trusted
    one when the whole path is trusted. Relays without rDNS cannot match.
    """
    sender = get_scalar(ctx, "EnvelopeFrom:addr")
    if sender == b"":
        return False
    m = _ADDRESS_DOMAIN.search(sender)
    if m is None:
        return False
    registry = ctx.config.registry
    sender_domain = registry.split_domain(m.group(1).lower().decode("utf-8", "surrogateescape"))[1]
    for relay in list_relays(ctx.relays):
        rdns = relay.lc_rdns
        if rdns and registry.split_domain(rdns)[1] == sender_domain:
            return True
    return False


# ---- URI host lists -----------------------------------------------------------------------

# SpamAssassin keeps the 11 least specific names of a very deep host ("sanity limit").
_MAX_HOST_KEYS = 11
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+\Z", re.ASCII)


def _build_uri_host_lists(config: Config) -> dict[str, dict[str, bool]]:
    """{list: {host: listed?}}; a later `!host` overrides an earlier `host` and vice versa."""
    lists: dict[str, dict[str, bool]] = {}
    raw = config.get("enlist_uri_host")
    if isinstance(raw, dict):
        for name, entries in raw.items():
            hosts = lists.setdefault(str(name), {})
            for entry in entries if isinstance(entries, (list, tuple)) else ():
                host = str(entry).lower()
                listed = not host.startswith("!")
                hosts[host[1:] if not listed else host] = listed
    return lists


def uri_host_lists(config: Config) -> dict[str, dict[str, bool]]:
    """The URI host lists (enlist_uri_host, blocklist_uri_host, ...) by list name."""
    return per_config(config, "uri_host_lists", _build_uri_host_lists)


def _lookup_keys(host: str) -> list[str]:
    """The names a URI host is looked up under: itself, then each parent domain."""
    if host.startswith("[") and host.endswith("]"):
        return [host[1:-1]]
    if _IPV4.match(host):
        return [host]
    if not host:
        return []
    keys = [host]
    while "." in host:
        host = host.split(".", 1)[1]
        keys.append(host)
    return keys[-_MAX_HOST_KEYS:]


def _enlisted_lists(ctx: MessageContext) -> frozenset[str]:
    """Names of the lists some URI host of the message is (positively) listed in."""
    cache = ctx.msg.cache
    found = cache.get("wlbl:uri_host_enlisted")
    if isinstance(found, frozenset):
        return found
    lists = uri_host_lists(ctx.config)
    enlisted: set[str] = set()
    if lists:
        seen: set[str] = set()
        for uri, detail in ctx.uri_table.details.items():
            if uri[:7].lower() == "mailto:":
                continue
            for host in detail.hosts:
                if host in seen:
                    continue
                seen.add(host)
                keys = _lookup_keys(host)
                for name, hosts in lists.items():
                    for key in keys:
                        verdict = hosts.get(key)
                        if verdict is not None:
                            if verdict:
                                enlisted.add(name)
                            break
    found = frozenset(enlisted)
    cache["wlbl:uri_host_enlisted"] = found
    return found


def check_uri_host_listed(ctx: MessageContext, name: str = "", *_args: str) -> bool:
    """PDS_OTHER_BAD_TLD and friends: some URI host is in the named enlist_uri_host list."""
    return name in _enlisted_lists(ctx)


def check_uri_host_in_blocklist(ctx: MessageContext, *_args: str) -> bool:
    return check_uri_host_listed(ctx, "BLOCK")


def check_uri_host_in_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    return check_uri_host_listed(ctx, "WELCOME")


EVALS: dict[str, Callable[..., object]] = {
    "check_from_in_blocklist": check_from_in_blocklist,
    "check_from_in_blacklist": check_from_in_blocklist,
    "check_to_in_blocklist": check_to_in_blocklist,
    "check_to_in_blacklist": check_to_in_blocklist,
    "check_to_in_welcomelist": check_to_in_welcomelist,
    "check_to_in_whitelist": check_to_in_welcomelist,
    "check_to_in_more_spam": check_to_in_more_spam,
    "check_to_in_all_spam": check_to_in_all_spam,
    "check_from_in_list": check_from_in_list,
    "check_replyto_in_list": check_replyto_in_list,
    "check_to_in_list": check_to_in_list,
    "check_from_in_welcomelist": check_from_in_welcomelist,
    "check_from_in_whitelist": check_from_in_welcomelist,
    "check_forged_in_welcomelist": check_forged_in_welcomelist,
    "check_forged_in_whitelist": check_forged_in_welcomelist,
    "check_from_in_default_welcomelist": check_from_in_default_welcomelist,
    "check_from_in_default_whitelist": check_from_in_default_welcomelist,
    "check_forged_in_default_welcomelist": check_forged_in_default_welcomelist,
    "check_forged_in_default_whitelist": check_forged_in_default_welcomelist,
    "check_mailfrom_matches_rcvd": check_mailfrom_matches_rcvd,
    "check_uri_host_listed": check_uri_host_listed,
    "check_uri_host_in_blocklist": check_uri_host_in_blocklist,
    "check_uri_host_in_blacklist": check_uri_host_in_blocklist,
    "check_uri_host_in_welcomelist": check_uri_host_in_welcomelist,
    "check_uri_host_in_whitelist": check_uri_host_in_welcomelist,
}
