"""SpamAssassin's `$pms->get(SPEC)` in scalar context, which most plugin evals use.

Header rules see every value (list context), but plugin code written before 4.0 calls `get`
for one string: plain headers come back as all values concatenated (each with its newline),
while `:addr`, `:name`, `:host`, `:domain`, `:ip`, `:revip` and `EnvelopeFrom` give only the
*first* value, without a newline. Evals must read headers this way to hit what SpamAssassin
hits, e.g. `From:addr` of a From with two addresses is the first one only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from spamkiln.runtime.context import MessageContext

__all__ = ["get_scalar"]

_FIRST_VALUE_ONLY = re.compile(r":(?:addr|name|host|domain|ip|revip)\b")


@overload
def get_scalar(ctx: MessageContext, spec: str) -> bytes: ...
@overload
def get_scalar(ctx: MessageContext, spec: str, default: bytes | None) -> bytes | None: ...


def get_scalar(ctx: MessageContext, spec: str, default: bytes | None = b"") -> bytes | None:
    """The scalar `get`: `default` (SpamAssassin's '' unless given) when nothing is found."""
    values = ctx.header_values(spec)
    if not values:
        return default
    if spec == "EnvelopeFrom" or _FIRST_VALUE_ONLY.search(spec):
        first = values[0]
        return first[:-1] if first.endswith(b"\n") else first
    return values[0] if len(values) == 1 else b"".join(values)
