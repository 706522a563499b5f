"""The compiled ruleset: what a generated module builds when it is imported.

The generated module (written by `sa-compile`) imports only this module. It calls the builder
once per rule, in source order, with every value already decided and written as a literal; the
builder only records them. Matchers, score-set activity and meta order are derived later by the
scanner, so importing a ruleset stays cheap and forked spamd children share it untouched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "EmptyRule",
    "EvalRule",
    "ExistsRule",
    "Hits",
    "MetaRule",
    "RegexRule",
    "Rule",
    "RuleInfo",
    "Ruleset",
    "RulesetBuilder",
    "div",
    "xor",
]


class Hits(Protocol):
    """Read access to rule values while metas are evaluated: 0 when a rule did not hit."""

    def __getitem__(self, name: str) -> float: ...


def div(a: float, b: float) -> float:
    """Perl's `/` in a meta; a zero divisor would make SpamAssassin's meta sub die: no hit."""
    return a / b if b else 0.0


def xor(a: float, b: float) -> int:
    """Perl's numeric `^`: XOR of the integer parts."""
    return math.trunc(a) ^ math.trunc(b)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What every rule has, whatever it tests."""

    name: str
    scores: tuple[float, float, float, float]
    describe: str | None
    tflags: tuple[str, ...]
    priority: int
    src: str  # "file:line" of the defining line

    def flag(self, name: str) -> bool:
        return name in self.tflags

    def flag_value(self, name: str) -> str | None:
        """The value of a `name=value` flag such as maxhits=5 or range=2-3."""
        prefix = name + "="
        for flag in self.tflags:
            if flag.startswith(prefix):
                return flag[len(prefix) :]
        return None


@dataclass(frozen=True, slots=True)
class RegexRule:
    info: RuleInfo
    target: str  # header, body, rawbody, full, uri, mimeheader
    re2_set: int  # the compiler's grouping: one RE2 set (sharded at run time) per target text
    set_pattern: bytes  # RE2-compilable; a superset prefilter when exact_engine != "re2"
    exact_engine: str  # "re2" or "regex"
    exact_pattern: bytes
    header: str | None = None  # header spec (with modifiers) for header/mimeheader rules
    negate: bool = False
    if_unset: str | None = None
    named_groups: tuple[str, ...] = ()
    tag_refs: tuple[str, ...] = ()
    # every match contains one of these (case-folded); () in modules compiled without them
    literals: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class ExistsRule:
    info: RuleInfo
    header: str


@dataclass(frozen=True, slots=True)
class EvalRule:
    info: RuleInfo
    target: str  # header, body, rawbody, full
    function: str
    args: tuple[str, ...]
    rbl: bool = False


@dataclass(frozen=True, slots=True)
class MetaRule:
    info: RuleInfo
    fn: Callable[[Hits], float]
    deps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmptyRule:
    """reuse/askdns placeholders: they exist so scores and tflags apply, and never hit locally."""

    info: RuleInfo


Rule = RegexRule | ExistsRule | EvalRule | MetaRule | EmptyRule


@dataclass(frozen=True, slots=True)
class Ruleset:
    compiler: str
    sources: tuple[tuple[str, str], ...]
    rules: Mapping[str, Rule]  # definition order; metas in dependency order
    re2_sets: Mapping[int, tuple[str, str | None]]  # id -> (target, header spec)
    settings: Mapping[str, object]
    plugins: tuple[str, ...]
    missing_evals: tuple[str, ...] = ()  # eval functions named by rules but not implemented


@dataclass
class RulesetBuilder:
    compiler: str
    sources: tuple[tuple[str, str], ...]
    _rules: dict[str, Rule] = field(default_factory=dict)
    _sets: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    _settings: dict[str, object] = field(default_factory=dict)
    _plugins: tuple[str, ...] = ()

    @staticmethod
    def _info(name: str, kw: dict) -> RuleInfo:
        return RuleInfo(
            name,
            tuple(kw.pop("score")),  # type: ignore[arg-type]
            kw.pop("describe", None),
            tuple(kw.pop("tflags", ())),
            kw.pop("priority", 0),
            kw.pop("src"),
        )

    def re2_set(self, set_id: int, target: str, header: str | None = None) -> None:
        self._sets[set_id] = (target, header)

    def regex(self, name: str, target: str, **kw: object) -> None:
        info = self._info(name, kw)
        self._rules[name] = RegexRule(info, target, **kw)  # type: ignore[arg-type]

    def exists(self, name: str, header: str, **kw: object) -> None:
        self._rules[name] = ExistsRule(self._info(name, kw), header)

    def eval(
        self, name: str, target: str, function: str, args: tuple[str, ...], **kw: object
    ) -> None:
        rbl = bool(kw.pop("rbl", False))
        self._rules[name] = EvalRule(self._info(name, kw), target, function, args, rbl)

    def meta(
        self, name: str, fn: Callable[[Hits], float], deps: tuple[str, ...], **kw: object
    ) -> None:
        self._rules[name] = MetaRule(self._info(name, kw), fn, deps)

    def empty(self, name: str, **kw: object) -> None:
        self._rules[name] = EmptyRule(self._info(name, kw))

    def settings(self, values: Mapping[str, object], plugins: tuple[str, ...] = ()) -> None:
        self._settings = dict(values)
        self._plugins = plugins

    def finish(self, missing_evals: tuple[str, ...] = ()) -> Ruleset:
        return Ruleset(
            self.compiler,
            self.sources,
            self._rules,
            self._sets,
            self._settings,
            self._plugins,
            missing_evals,
        )
