"""The typed intermediate representation between the grammar and the code generator.

Two layers. *Line* nodes are what one configuration line says, exactly as written (the grammar's
output). The *ruleset* (`Ruleset`, `Rule`) is what the whole configuration means after
conditionals, redefinitions, defaults and ReplaceTags: the code generator only reads that layer,
so every decision about a rule (its target, its regex plan, its set-0 activity) is made before a
template is rendered. Every node carries a `Source` so errors and generated code can point back
at `file:line`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "And",
    "Arith",
    "Compare",
    "CondWord",
    "Describe",
    "Else",
    "Endif",
    "EvalCall",
    "Expr",
    "HeaderEval",
    "HeaderExists",
    "HeaderRegex",
    "If",
    "IfPlugin",
    "LineNode",
    "MetaDef",
    "MimeHeaderRegex",
    "Neg",
    "Not",
    "Number",
    "Or",
    "PluginTest",
    "Priority",
    "Rule",
    "RuleRef",
    "RulesMatching",
    "Ruleset",
    "Score",
    "Setting",
    "SimpleRule",
    "Source",
    "Ternary",
    "Tflags",
    "Xor",
]


@dataclass(frozen=True, slots=True)
class Source:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


# ---------------------------------------------------------------------------------------------
# Expressions: meta rules and `if` conditions share one small tree.


@dataclass(frozen=True, slots=True)
class RuleRef:
    name: str


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class RulesMatching:
    """`rules_matching(GLOB)`: expanded to a sum once every rule name is known."""

    glob: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Xor:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # one of < <= > >= == !=
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # one of + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Ternary:
    test: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class PluginTest:
    """plugin(X), can(X) or has(X) inside an `if` line."""

    kind: Literal["plugin", "can", "has"]
    package: str


@dataclass(frozen=True, slots=True)
class CondWord:
    word: Literal["version", "perl_version", "local_tests_only"]


Expr = (
    RuleRef
    | Number
    | RulesMatching
    | Not
    | Neg
    | And
    | Or
    | Xor
    | Compare
    | Arith
    | Ternary
    | PluginTest
    | CondWord
)


# ---------------------------------------------------------------------------------------------
# Line nodes: one per configuration line, as written.


@dataclass(frozen=True, slots=True)
class EvalCall:
    function: str
    args: tuple[str, ...]
    rbl: bool = False  # written as rbleval: or named check_rbl*/check_dns*

    def __str__(self) -> str:
        return f"eval:{self.function}({', '.join(repr(a) for a in self.args)})"


@dataclass(frozen=True, slots=True)
class HeaderRegex:
    name: str
    spec: str  # header name plus modifiers, e.g. "From:addr"
    negate: bool
    pattern: str  # delimited Perl regex as written, [if-unset: ...] removed
    if_unset: str | None
    src: Source


@dataclass(frozen=True, slots=True)
class HeaderExists:
    name: str
    header: str
    src: Source


@dataclass(frozen=True, slots=True)
class HeaderEval:
    name: str
    call: EvalCall
    src: Source


@dataclass(frozen=True, slots=True)
class SimpleRule:
    """body, rawbody, full and uri lines: a delimited regex or an eval call."""

    kind: Literal["body", "rawbody", "full", "uri"]
    name: str
    pattern: str | None
    call: EvalCall | None
    src: Source


@dataclass(frozen=True, slots=True)
class MimeHeaderRegex:
    name: str
    header: str
    raw: bool
    negate: bool
    pattern: str
    if_unset: str | None
    src: Source


@dataclass(frozen=True, slots=True)
class MetaDef:
    name: str
    expr: Expr | None  # None for `meta X ()`: declared, always 0
    text: str
    src: Source


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    values: tuple[float, ...]  # 1 or 4 values
    relative: bool
    src: Source


@dataclass(frozen=True, slots=True)
class Describe:
    name: str
    text: str
    src: Source


@dataclass(frozen=True, slots=True)
class Tflags:
    name: str
    flags: tuple[str, ...]
    src: Source


@dataclass(frozen=True, slots=True)
class Priority:
    name: str
    value: int
    src: Source


@dataclass(frozen=True, slots=True)
class If:
    expr: Expr
    text: str  # normalised text, the cache key SpamAssassin uses
    src: Source


@dataclass(frozen=True, slots=True)
class IfPlugin:
    package: str
    src: Source


@dataclass(frozen=True, slots=True)
class Else:
    extra: str | None
    src: Source


@dataclass(frozen=True, slots=True)
class Endif:
    extra: str | None
    src: Source


@dataclass(frozen=True, slots=True)
class Setting:
    """Any other directive: `key value`, checked against the directive table."""

    key: str
    value: str
    src: Source


LineNode = (
    HeaderRegex
    | HeaderExists
    | HeaderEval
    | SimpleRule
    | MimeHeaderRegex
    | MetaDef
    | Score
    | Describe
    | Tflags
    | Priority
    | If
    | IfPlugin
    | Else
    | Endif
    | Setting
)


# ---------------------------------------------------------------------------------------------
# The assembled ruleset.

RuleType = Literal[
    "header", "body", "rawbody", "full", "uri", "mimeheader", "meta", "eval", "empty"
]
Target = Literal["header", "body", "rawbody", "full", "uri", "mimeheader", "none"]


@dataclass(slots=True)
class Rule:
    """One rule as SpamAssassin holds it after parsing (`Conf` tests + scores + tflags)."""

    name: str
    type: RuleType
    target: Target  # what text a regex or eval runs on
    src: Source
    text: str  # the defining line as written, for the generated comment
    # regex rules
    pattern: str | None = None  # delimited Perl regex after ReplaceTags
    header: str | None = None  # header spec for header/mimeheader rules
    negate: bool = False
    if_unset: str | None = None
    # exists:
    exists: bool = False
    # eval rules
    call: EvalCall | None = None
    # meta rules
    expr: Expr | None = None
    # attributes
    scores: tuple[float, float, float, float] | None = None  # None: default assigned later
    describe: str | None = None
    tflags: tuple[str, ...] = ()
    priority: int | None = None  # None: default (0, or -100 for net)

    @property
    def is_sub_rule(self) -> bool:
        return self.name.startswith("__")

    @property
    def is_eval(self) -> bool:
        return self.call is not None


@dataclass(slots=True)
class Ruleset:
    """Everything the configuration defines, after the last line has been read.

    Attributes live in their own maps, keyed by rule name, because SpamAssassin keeps them apart
    from the definitions: a score may precede its rule, and redefining a rule keeps its score.
    """

    rules: dict[str, Rule] = field(default_factory=dict)
    scores: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    describes: dict[str, str] = field(default_factory=dict)
    tflags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    priorities: dict[str, int] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256)
    skipped_names: set[str] = field(default_factory=set)  # defined only in false branches
