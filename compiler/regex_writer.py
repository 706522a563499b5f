"""Writers: the parsed tree as an exact RE2 pattern, an RE2 superset for the pre-filter sets, or
a pattern for the PyPI `regex` module, each with Perl's meaning on byte strings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .byte_masks import (
    _ASCII_PARTNER,
    _LATIN1_PARTNER,
    DIGIT,
    DOT,
    FULL,
    WORD,
    _fold_mask,
    _popcount,
)
from .regex_tree import (
    Alt,
    Assert,
    Atomic,
    BackRef,
    ByteSet,
    Group,
    Keep,
    Lit,
    Look,
    Never,
    Node,
    Repeat,
    Seq,
    Template,
    _minlen,
)


class _NotRE2(Exception):
    """The exact RE2 translation is impossible; carries the reason for RegexPlan."""


_RE2_MAX_REPEAT = 1000  # re2/parse.cc kMaxRepeat: also caps the product of nested counts
# The pre-filter does not count past this: x{n,m} with n or m above it becomes x{k,}, k <= it.
# A counted repeat is a copy of x per count in RE2's program, and in the DFA one state per
# count for every place a match may have started, multiplied across the patterns of a set: a
# forked spamd child's DFA memory grew 0.45 MiB per message with exact counts in the sets.
# Widening keeps the pre-filter a superset; the exact pattern then confirms its candidates.
_SET_COUNT_CAP = 4
_META = set(r"\.^$|?*+()[]{}")
_CLASS_ESCAPE = set("\\]^-[&|~{}")


def _byte(b: int) -> str:
    ch = chr(b)
    if b < 0x80 and (ch.isalnum() or ch == "_"):
        return ch
    if ch in _META:
        return "\\" + ch
    if 0x20 <= b < 0x7F:
        return ch
    return f"\\x{b:02X}"


def _class_byte(b: int) -> str:
    ch = chr(b)
    if b < 0x80 and (ch.isalnum() or ch == "_"):
        return ch
    if 0x20 < b < 0x7F and ch not in _CLASS_ESCAPE:
        return ch
    return f"\\x{b:02X}"


@functools.lru_cache(maxsize=4096)
def _class_body(mask: int) -> str:
    """Ranges of a byte set; cached because the same few hundred classes recur thousands of
    times in the ReplaceTags-expanded patterns (each look-alike letter is a class)."""
    parts = []
    b = 0
    while b < 256:
        if mask >> b & 1:
            e = b
            while e + 1 < 256 and mask >> (e + 1) & 1:
                e += 1
            if e == b:
                parts.append(_class_byte(b))
            elif e == b + 1:
                parts.append(_class_byte(b) + _class_byte(e))
            else:
                parts.append(_class_byte(b) + "-" + _class_byte(e))
            b = e + 1
        else:
            b += 1
    return "".join(parts)


_NAMED_SETS = {
    DIGIT: r"\d",
    FULL & ~DIGIT: r"\D",
    WORD: r"\w",
    FULL & ~WORD: r"\W",
}


def _engine_fold_closed(mask: int) -> bool:
    """Both engines fold only ASCII letters under (?i): is the set unchanged by that?"""
    return _fold_mask(mask, latin1=False) == mask


@dataclass(slots=True)
class _Ctx:
    follow_trivial: bool = True  # nothing at all can follow this node
    follow_min: int = 0  # at least this many bytes follow
    in_capture: bool = False
    budget: int = _RE2_MAX_REPEAT  # RE2's nested-count budget left


@dataclass(slots=True)
class _Emitter:
    """Writes the tree for one engine.

    mode "re2": exact RE2 or raise _NotRE2; "set": RE2 superset, never fails;
    "regex": exact pattern for the PyPI regex module, never fails.
    """

    mode: str
    engine_i: bool
    engine_m: bool
    engine_s: bool
    pattern_min: int
    anchored: bool
    minlens: dict[int, int]  # _minlen memo for this tree, shared by the emitters of one plan
    reasons: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        if self.mode == "re2":
            raise _NotRE2(reason)

    def prefix(self) -> str:
        f = (
            ("i" if self.engine_i else "")
            + ("m" if self.engine_m else "")
            + ("s" if self.engine_s else "")
        )
        return f"(?{f})" if f else ""

    def emit(self, n: Node, ctx: _Ctx) -> str:
        match n:
            case Lit():
                return self.lit(n)
            case ByteSet(mask):
                return self.byteset(mask)
            case Never():
                return r"[^\x00-\xFF]"
            case Seq(items):
                return self.seq(items, ctx)
            case Alt(branches):
                return "|".join(self.emit(b, ctx) for b in branches)
            case Group(body, index, name):
                inner_ctx = (
                    ctx
                    if index is None
                    else _Ctx(ctx.follow_trivial, ctx.follow_min, True, ctx.budget)
                )
                inner = self.emit(body, inner_ctx)
                if index is None or self.mode == "set":
                    return f"(?:{inner})"
                return f"(?P<{name}>{inner})" if name else f"({inner})"
            case Repeat():
                return self.repeat(n, ctx)
            case Assert(kind):
                return self.assertion(kind, ctx)
            case Look(body, behind, negate):
                self.fail("look-behind" if behind else "look-ahead")
                if self.mode == "set":
                    return ""
                inner = self.emit(body, _Ctx(False, 0, ctx.in_capture, ctx.budget))
                return "(?" + ("<" if behind else "") + ("!" if negate else "=") + inner + ")"
            case Atomic(body):
                self.fail("atomic group")
                inner = self.emit(body, ctx)
                return f"(?:{inner})" if self.mode == "set" else f"(?>{inner})"
            case BackRef(index, fold, name):
                self.fail("back-reference")
                if self.mode == "set":
                    return "(?s:.*)"
                ref = f"(?P={name})" if name else f"(?:\\{index})"
                if fold != self.engine_i:
                    ref = f"(?{'' if fold else '-'}i:{ref})"
                return ref
            case Keep():
                self.fail("\\K")
                return "" if self.mode == "set" else r"\K"
            case Template(name, fold):
                if self.mode == "set":
                    return "(?s:.+)"
                return template_placeholder(name, fold, self.engine_i)
        raise AssertionError(n)

    # -- pieces -------------------------------------------------------------------------------
    def lit(self, n: Lit) -> str:
        b = n.byte
        if b in _LATIN1_PARTNER and n.fold:
            return "[" + _class_body(1 << b | 1 << _LATIN1_PARTNER[b]) + "]"
        if b in _ASCII_PARTNER:
            if n.fold == self.engine_i:
                return chr(b)
            if n.fold:
                return "[" + _class_body(1 << b | 1 << _ASCII_PARTNER[b]) + "]"
            return f"(?-i:{chr(b)})"
        return _byte(b)

    def byteset(self, mask: int) -> str:
        if mask == DOT and not self.engine_s:
            return "."
        if mask == FULL:
            return "." if self.engine_s else "(?s:.)"
        if mask == 0:
            return r"[^\x00-\xFF]"
        named = _NAMED_SETS.get(mask)
        if named:
            return named
        if _popcount(mask) == 1:
            text = _byte(mask.bit_length() - 1)
        elif _popcount(mask) > 128:
            text = "[^" + _class_body(FULL & ~mask) + "]"
        else:
            text = "[" + _class_body(mask) + "]"
        if self.engine_i and not _engine_fold_closed(mask):
            return f"(?-i:{text})"
        return text

    def seq(self, items: tuple[Node, ...], ctx: _Ctx) -> str:
        out = []
        follow = [0] * len(items)  # follow[k]: least bytes items k+1.. match (suffix sums)
        total = 0
        last_nonempty = -1  # items after this index are all EMPTY: nothing follows them
        for k in range(len(items) - 1, -1, -1):
            follow[k] = total
            total += _minlen(items[k], self.minlens)
            if last_nonempty < 0 and not (type(items[k]) is Seq and not items[k].items):
                last_nonempty = k
        for k, item in enumerate(items):
            trivial = ctx.follow_trivial and k >= last_nonempty
            sub = _Ctx(trivial, follow[k] + ctx.follow_min, ctx.in_capture, ctx.budget)
            text = self.emit(item, sub)
            if isinstance(item, (Alt, Seq)) and len(items) > 1:
                text = f"(?:{text})"
            out.append(text)
        return "".join(out)

    def repeat(self, n: Repeat, ctx: _Ctx) -> str:
        lo, hi = n.min, n.max
        budget = ctx.budget
        if n.mode == "possessive":
            self.fail("possessive quantifier")
        counted = _counted(lo, hi)
        if counted and self.mode != "regex":
            size = hi if hi is not None else lo
            if size > _RE2_MAX_REPEAT or lo > _RE2_MAX_REPEAT or (size and budget // size == 0):
                self.fail("counted repetition > 1000")
                lo, hi = min(lo, budget), None  # set: a superset RE2 accepts
                counted = lo > 1
            if counted and (size := (hi if hi is not None else lo)):
                budget //= size
        if self.mode == "set" and counted and max(lo, hi or 0) > _SET_COUNT_CAP:
            lo, hi = min(lo, _SET_COUNT_CAP), None
            counted = lo > 1
        inner_trivial = ctx.follow_trivial and (hi is not None and hi <= 1)
        inner = self.emit(n.body, _Ctx(inner_trivial, ctx.follow_min, ctx.in_capture, budget))
        if not isinstance(n.body, Lit | ByteSet | Never | Group | Atomic | BackRef):
            inner = f"(?:{inner})"
        if hi is None:
            q = "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
        elif lo == 0 and hi == 1:
            q = "?"
        elif lo == hi:
            q = f"{{{lo}}}"
        else:
            q = f"{{{lo},{hi}}}"
        if n.mode == "lazy":
            q += "?"
        elif n.mode == "possessive" and self.mode == "regex":
            q += "+"
        return inner + q

    def assertion(self, kind: str, ctx: _Ctx) -> str:
        if kind == "bos":
            return r"\A" if self.engine_m else "^"
        if kind == "eos":
            return r"\z"
        if kind == "wordb":
            return r"\b"
        if kind == "nwordb":
            return r"\B"
        if kind == "G":
            self.fail("\\G")
            return "" if self.mode == "set" else r"\G"
        if kind == "meol":
            return "$" if self.engine_m else "(?m:$)"
        if kind == "mbol":
            # Perl's /m ^ does not match at the very end after a final newline; RE2's and
            # regex's do. Harmless when at least one byte must follow.
            native = "^" if self.engine_m else "(?m:^)"
            if ctx.follow_min >= 1 or self.mode == "set":
                return native
            self.fail("multiline ^ that may match at the end")
            return r"(?:\A|(?<=\n)(?!\z))"
        if kind == "eol":
            if self.mode == "regex":
                return "(?-m:$)" if self.engine_m else "$"
            if not ctx.follow_trivial:
                self.fail("$ followed by more pattern")
                return "(?m:$)"  # set: before any newline or at the end, a superset
            if self.mode == "re2":
                if ctx.in_capture:
                    self.fail("$ inside a capture group")
                if self.pattern_min < 2 and not self.anchored:
                    self.fail("$ that may count a final newline twice")
            return r"(?:\n?\z)"
        raise AssertionError(kind)


def template_placeholder(name: str, fold: bool, engine_i: bool) -> str:
    """The text the runtime swaps for ``(?:v1|v2...)``: ``%\\{NAME\\}`` or ``%\\{NAME:i\\}``.

    ``:i`` asks for case-insensitive values (Latin-1 letters included); without it the values
    must match exactly, so when the whole pattern runs under ``(?i)`` the placeholder is wrapped
    in ``(?-i:...)``.
    """
    escaped = "".join(ch if ch.isalnum() or ch == "_" else f"\\x{ord(ch):02X}" for ch in name)
    text = "%\\{" + escaped + (":i" if fold else "") + "\\}"
    return f"(?-i:{text})" if engine_i and not fold else text


def _counted(lo: int, hi: int | None) -> bool:
    """A repeat RE2 expands into copies: anything but ``*``, ``+`` and ``?``."""
    return not (hi is None and lo <= 1) and not (lo == 0 and hi == 1)


def _counts_beyond(n: Node, cap: int) -> bool:
    """Whether some counted repeat in the tree has a bound above `cap`."""
    if type(n) is Repeat:
        big = _counted(n.min, n.max) and max(n.min, n.max or 0) > cap
        return big or _counts_beyond(n.body, cap)
    if type(n) is Seq:
        return any(_counts_beyond(item, cap) for item in n.items)
    if type(n) is Alt:
        return any(_counts_beyond(branch, cap) for branch in n.branches)
    if type(n) in (Group, Look, Atomic):
        return _counts_beyond(n.body, cap)
    return False
