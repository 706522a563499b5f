"""Objects evals build once per configuration (compiled address lists, regexes), not per message.

A `Config` lives as long as the ruleset it was made from (spamd's master builds it before
forking), so storing the built object on the instance gives it exactly that lifetime: no global
registry that could leak or confuse two configurations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from spamkiln.runtime.config import Config

__all__ = ["per_config"]

T = TypeVar("T")

_SLOT = "_spamkiln_eval_cache"


def per_config(config: Config, key: str, build: Callable[[Config], T]) -> T:
    """`build(config)` the first time `key` is asked for on this configuration, then reuse it."""
    store: dict[str, object] = config.__dict__.setdefault(_SLOT, {})
    if key not in store:
        store[key] = build(config)
    return store[key]  # type: ignore[return-value]
