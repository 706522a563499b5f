"""Perl's reading of eval arguments and of the tiny comparison expressions rules pass.

Rule files hand numbers to evals as strings ('0400', '.05', 'inf') and SpamAssassin compares
them with Perl's numeric conversion, which never fails: it reads the longest numeric prefix
and yields 0 for anything else. Two HTMLEval checks also take an expression such as '< 512'
or '!= 0' that the reference `eval`s after the value; this module evaluates that restricted
grammar without `eval` and answers "no" for anything it cannot read, as a Perl syntax error
would.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from functools import lru_cache

__all__ = ["perl_number", "perl_true", "value_expression"]

_NUMERIC_PREFIX = re.compile(r"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))")
_SPECIAL = re.compile(r"\s*([+-]?)(inf(?:inity)?|nan)", re.IGNORECASE)


def perl_number(value: object) -> float:
    """Perl's numeric value of a scalar: the numeric prefix of a string, else 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return 0.0
    m = _NUMERIC_PREFIX.match(value)
    if m:
        return float(m.group(1))
    m = _SPECIAL.match(value)
    if m:
        number = math.inf if m.group(2)[0] in "iI" else math.nan
        return -number if m.group(1) == "-" else number
    return 0.0


def perl_true(value: object) -> bool:
    """Perl truthiness: undef, 0, "" and "0" are false."""
    if value is None:
        return False
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, (list, dict)):
        return True  # a reference is always true
    return bool(value)


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
# "<op> <integer>", the shape every stock rule uses; the integer may be signed.
_COMPARISON_EXPRESSION = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*([+-]?)\s*(\d+)\s*\Z")


@lru_cache(maxsize=64)
def value_expression(expression: str) -> Callable[[float], bool] | None:
    """A predicate for '`$value` <expression>', or None when the expression is not usable.

    Only a comparison with an integer literal is understood; the reference validates the
    characters (digits, spaces and `<>=!+-`) but an expression outside this shape is either
    a Perl syntax error (no hit) or so unusual no rule writes it.
    """
    m = _COMPARISON_EXPRESSION.match(expression)
    if m is None:
        return None
    compare = _COMPARISONS[m.group(1)]
    digits = m.group(3)
    # A literal with a leading zero is octal in Perl source; "09" would not compile.
    if len(digits) > 1 and digits[0] == "0":
        if any(d in "89" for d in digits):
            return None
        bound = float(int(digits, 8))
    else:
        bound = float(digits)
    if m.group(2) == "-":
        bound = -bound
    return lambda value: compare(value, bound)
