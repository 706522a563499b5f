"""The tree a Perl rule regex is parsed into, and the lengths derived from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lit:
    byte: int
    fold: bool  # /i was on and the byte has a case partner


@dataclass(frozen=True, slots=True)
class ByteSet:
    mask: int  # already case-folded when /i applied


@dataclass(frozen=True, slots=True)
class Never:
    """A code point above 0xFF: it can never match one byte."""


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    branches: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Group:
    body: Node
    index: int | None  # capture number, None for (?:...)
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    body: Node
    min: int
    max: int | None  # None = unbounded
    mode: str  # "greedy", "lazy", "possessive"


@dataclass(frozen=True, slots=True)
class Assert:
    # bos (\A, ^), eol ($, \Z: end or before a final \n), eos (\z), mbol / meol (/m ^ $),
    # wordb (\b), nwordb (\B), G (\G)
    kind: str


@dataclass(frozen=True, slots=True)
class Look:
    body: Node
    behind: bool
    negate: bool


@dataclass(frozen=True, slots=True)
class Atomic:
    body: Node


@dataclass(frozen=True, slots=True)
class BackRef:
    index: int
    fold: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Keep:
    """\\K"""


@dataclass(frozen=True, slots=True)
class Template:
    """%{NAME}: a SpamAssassin 4.0 capture template, filled in at scan time."""

    name: str
    fold: bool


Node = (
    Lit | ByteSet | Never | Seq | Alt | Group | Repeat | Assert | Look | Atomic | BackRef | Keep
) | Template
EMPTY = Seq(())


def _minlen(n: Node, memo: dict[int, int] | None = None) -> int:
    """Shortest match in bytes.

    `memo` maps ``id(node)`` to the answer and is valid only while the tree lives; the emitter
    asks about every item of every sequence, which without it is quadratic in the depth of the
    huge ReplaceTags-expanded patterns.
    """
    if memo is not None:
        known = memo.get(id(n))
        if known is not None:
            return known
    match n:
        case Lit() | ByteSet() | Never():
            value = 1
        case Seq(items):
            value = sum(_minlen(i, memo) for i in items)
        case Alt(branches):
            value = min(_minlen(b, memo) for b in branches)
        case Group(body) | Atomic(body):
            value = _minlen(body, memo)
        case Repeat(body, lo):
            value = lo * _minlen(body, memo)
        case Template():
            value = 1  # SA drops empty values before filling the template in
        case _:
            value = 0
    if memo is not None:
        memo[id(n)] = value
    return value


def _maxlen(n: Node) -> int | None:
    """Longest match in bytes; None when unbounded."""
    match n:
        case Lit() | ByteSet() | Never():
            return 1
        case Seq(items):
            total = 0
            for i in items:
                m = _maxlen(i)
                if m is None:
                    return None
                total += m
            return total
        case Alt(branches):
            lens = [_maxlen(b) for b in branches]
            return None if None in lens else max(lens)  # type: ignore[type-var]
        case Group(body) | Atomic(body):
            return _maxlen(body)
        case Repeat(body, _, hi):
            inner = _maxlen(body)
            if inner == 0:
                return 0
            if inner is None or hi is None:
                return None
            return inner * hi
        case BackRef() | Template():
            return None
        case _:
            return 0


def _starts_anchored(n: Node) -> bool:
    match n:
        case Assert("bos"):
            return True
        case Seq(items):
            return bool(items) and _starts_anchored(items[0])
        case Alt(branches):
            return all(_starts_anchored(b) for b in branches)
        case Group(body) | Atomic(body):
            return _starts_anchored(body)
        case _:
            return False
