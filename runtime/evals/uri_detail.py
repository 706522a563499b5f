"""URIDetail: `uri_detail NAME key =~ /re/ ...`, criteria on the URI detail table.

A rule hits when one URI satisfies every criterion. For keys that hold several values (type,
cleaned, text, domain, host), `=~` needs one matching value and `!~` one value that does not
match; `raw` is the URI as found. The compiler translated each regex already; arguments arrive
as (key, op, engine, exact pattern) quadruples, the pattern as Latin-1 text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import regex

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.uris import UriDetail

__all__ = ["EVALS", "check_uri_detail"]


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern[bytes]:
    # Both engines' exact patterns are valid `regex` syntax with Perl's meaning.
    return regex.compile(pattern.encode("latin-1"))


def _values(key: str, uri: str, detail: UriDetail) -> Iterable[str]:
    if key == "raw":
        return (uri,)
    if key == "type":
        return detail.types
    if key == "cleaned":
        return detail.cleaned
    if key == "text":
        return detail.anchor_text
    if key == "domain":
        return detail.domains
    return detail.hosts  # "host"


def _holds(key: str, op: str, rx: regex.Pattern[bytes], uri: str, detail: UriDetail) -> bool:
    for value in _values(key, uri, detail):
        found = rx.search(value.encode("utf-8", "surrogateescape"), timeout=1.0) is not None
        if found == (op == "=~"):
            return True
    return False


def check_uri_detail(ctx: MessageContext, *args: str) -> bool:
    if not args or len(args) % 4:
        return False
    criteria = [(args[i], args[i + 1], _compiled(args[i + 3])) for i in range(0, len(args), 4)]
    for uri, detail in ctx.uri_table.details.items():
        try:
            if all(_holds(key, op, rx, uri, detail) for key, op, rx in criteria):
                return True
        except TimeoutError:
            continue
    return False


EVALS: dict[str, Callable[..., object]] = {"check_uri_detail": check_uri_detail}
