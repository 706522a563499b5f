"""Perl's numeric reading of eval arguments and the small comparison expressions."""

from __future__ import annotations

import math

import pytest

from spamkiln.runtime.evals._perl import perl_number, perl_true, value_expression


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0400", 400.0),
        (".05", 0.05),
        ("1e3", 1000.0),
        (" 12abc", 12.0),
        ("abc", 0.0),
        ("-3", -3.0),
        ("inf", math.inf),
        ("", 0.0),
    ],
)
def test_perl_number(text: str, number: float) -> None:
    assert perl_number(text) == number


@pytest.mark.parametrize(
    ("value", "truth"),
    [("0", False), ("", False), (None, False), ("0.0", True), (0, False), ([], True)],
)
def test_perl_true(value: object, truth: bool) -> None:
    assert perl_true(value) is truth


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("< 512", 100, True),
        ("< 512", 512, False),
        ("!= 0", 0, False),
        ("!= 0", 2, True),
        (">= -1", -1, True),
        ("== 010", 8, True),
    ],  # a leading zero is octal in Perl source
)
def test_value_expression(expression: str, value: float, expected: bool) -> None:
    predicate = value_expression(expression)
    assert predicate is not None
    assert predicate(value) is expected


@pytest.mark.parametrize("expression", ["<", "1 < 2 < 3", "== 09", "+ 1"])
def test_unusable_expressions(expression: str) -> None:
    assert value_expression(expression) is None
