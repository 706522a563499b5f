"""One regex plan per distinct pattern text, whichever pass asks first.

The assembler validates a pattern, ReplaceTags re-validates its expansion, and the planner needs
the final plan: translation is the costliest step of a compile, so its result is memoised.
"""

from __future__ import annotations

from functools import lru_cache

from .regex import RegexPlan, plan, split_delimiters

__all__ = ["plan_pattern"]


@lru_cache(maxsize=8192)
def plan_pattern(text: str) -> RegexPlan:
    """The plan for a delimited Perl regex; raises RegexError like `regex.plan`."""
    return plan(split_delimiters(text))
