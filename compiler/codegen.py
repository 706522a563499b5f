"""Render a planned ruleset into one readable Python module with Jinja2.

Every value reaches the module through the `lit` filter (Python's own `repr` of plain literals)
or the `comment` filter (non-printable characters escaped, so no rule text can end a comment
line). Nothing from a rule file is ever pasted as code: meta expressions arrive as source built by
`meta.to_python` from the parsed tree.
"""

from __future__ import annotations

import pprint
import re
from dataclasses import dataclass

import jinja2

from .plan import Plan

__all__ = ["COMPILER_VERSION", "render"]

COMPILER_VERSION = "spamkiln-compile 0.1.0"
_IDENTIFIER = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_LITERAL_TYPES = (str, bytes, int, float, bool, type(None), tuple, list, dict)


def _lit(value: object) -> str:
    """A Python literal for a plain value; anything else is a bug in the caller."""
    _check_literal(value)
    return repr(value)


def _check_literal(value: object) -> None:
    if not isinstance(value, _LITERAL_TYPES):
        raise TypeError(f"refusing to emit non-literal {type(value).__name__}")
    if isinstance(value, (tuple, list)):
        for item in value:
            _check_literal(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_literal(key)
            _check_literal(item)


def _comment(text: object) -> str:
    """Text safe inside a `#` comment: printable ASCII only, everything else escaped."""
    out = []
    for ch in str(text):
        if " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(
                ch.encode("utf-8", "surrogateescape")
                .decode("latin-1")
                .encode("unicode_escape")
                .decode("ascii")
            )
    return "".join(out)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("spamkiln.compiler", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["lit"] = _lit
    env.filters["comment"] = _comment
    return env


@dataclass(frozen=True, slots=True)
class _RuleView:
    kind: str  # builder method: regex, exists, eval, meta, empty
    name: str
    args: tuple[str, ...]  # already rendered `key=literal` arguments
    code: str  # meta expression source
    scores: tuple[float, ...]
    describe: str | None
    tflags: tuple[str, ...]
    priority: int
    src: str
    text: str


def render(plan: Plan) -> str:
    views = []
    for pr in plan.rules:
        rule = pr.rule
        if not _IDENTIFIER.fullmatch(rule.name):  # the grammar guarantees it; never trust it
            raise ValueError(f"invalid rule name {rule.name!r}")
        args = tuple(f"{key}={_lit(value)}" for key, value in pr.builder_args)
        views.append(
            _RuleView(
                kind=pr.builder,
                name=rule.name,
                args=args,
                code=pr.meta_code,
                scores=tuple(rule.scores or (0.0,) * 4),
                describe=rule.describe,
                tflags=tuple(rule.tflags),
                priority=rule.priority or 0,
                src=str(rule.src),
                text=rule.text,
            )
        )
    settings = pprint.pformat(plan.settings, width=96, sort_dicts=True, compact=True)
    _check_literal(plan.settings)
    settings = settings.replace("\n", "\n    ")
    return (
        _environment()
        .get_template("ruleset.py.j2")
        .render(
            compiler=COMPILER_VERSION,
            sources=plan.sources,
            sets=plan.sets,
            rules=views,
            settings=settings,
            plugins=tuple(plan.plugins),
            missing_evals=tuple(plan.missing_evals),
        )
    )
