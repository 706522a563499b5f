"""DKIM checks that run without the network (score set 0).

SpamAssassin 4.0.1's DKIM plugin verifies signatures only when DNS is usable (`spamd -L` and
score set 0 mean it is not) and unless the caller handed it pre-verified signatures, which spamd
never does. Without verification it records "not dependable" and no signature at all, so
`__DKIM_DEPENDABLE` never hits locally: metas read its absence as "a DKIM failure here may be
an artefact". The other DKIM evals are `net` rules, skipped in set 0.
"""

from __future__ import annotations

from collections.abc import Callable

from spamkiln.runtime.context import MessageContext

__all__ = ["EVALS", "check_dkim_dependable"]


def check_dkim_dependable(_ctx: MessageContext, *_args: str) -> bool:
    """__DKIM_DEPENDABLE: never true locally, as no signature was (or could be) verified."""
    return False


EVALS: dict[str, Callable[..., object]] = {"check_dkim_dependable": check_dkim_dependable}
