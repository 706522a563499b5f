"""Perl rule regexes -> patterns our engines run with Perl's meaning.

SpamAssassin compiles every rule as ``qr/(?mods)re/aa`` and matches it against byte strings, and
any Perl warning while compiling makes the rule invalid. Rather than patching Perl syntax with
string replacements (which silently changes meaning in corners), this module parses the Perl
pattern into a small tree, checks what Perl itself would reject, and derives from the tree:

* an RE2 pattern (LATIN1 bytes) when RE2 can reproduce Perl's matches exactly;
* otherwise a pattern for the PyPI ``regex`` module (backtracking, has ``timeout=``);
* always an RE2 *superset* (``set_pattern``): look-arounds dropped, back-references widened ...
  so every rule of a target can sit in one ``re2.Set`` pre-filter;
* when there is one, a set of *required literals*: case-folded byte strings of which every
  match contains one, for the runtime's cheapest pre-filter (one literal search per text).

Compile time matters (``sa-compile`` of the shipped rules plans ~1700 patterns, some of them
200 KB ReplaceTags expansions), so the hot paths avoid repeated work: byte-set text is cached
per mask, shortest-match lengths are memoised per tree, plain classes take a one-regex fast
path, and each plan (tree included) is computed once per pattern text (`patterns.py`).

Perl facts reproduced here were checked with the perl 5.36 on the build machine (see
tests/compiler/test_regex.py, which re-checks them against the real binary):

* ``$`` without /m matches at the end and before a final newline; ``^`` with /m does not match
  at the very end of a string that ends in a newline (RE2 and ``regex`` both do).
* ``\\s`` under /aa is ``[\\t\\n\\x0B\\f\\r ]`` (RE2 leaves out VT); ``\\h`` ``\\v`` ``\\R`` are
  Perl classes.
* /i folds Latin-1 letters 0xC0-0xDE <-> 0xE0-0xFE (not 0xD7/0xF7) even on byte strings, in
  literals, classes and POSIX classes; neither RE2 LATIN1 nor byte-mode ``regex`` does, so such
  bytes are written out as two-member classes.
* warnings that make SA reject a rule: unrecognized escapes, quantified zero-width atoms,
  unescaped ``{`` that is not a quantifier, "false" class ranges, ``\\x`` ended by a non-hex
  character, useless ``(?g)``/``(?o)``/``(?c)``, ``{n}?`` ...

The pattern text is the config line as the lexer decoded it (UTF-8 with ``surrogateescape``);
it is turned back into the exact bytes Perl saw with ``encode("utf-8", "surrogateescape")``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import re2
import regex as regex_engine

__all__ = [
    "LITERAL_FOLD",
    "PerlRegex",
    "RegexError",
    "RegexPlan",
    "UnsupportedRegex",
    "always_matching_reason",
    "plan",
    "required_literals",
    "split_delimiters",
]


class RegexError(ValueError):
    """A rule regex Perl (or SpamAssassin's compile_regexp) refuses; the message is lint-ready."""


class UnsupportedRegex(RegexError):
    """Perl accepts the pattern but spamkiln cannot run it (a feature no shipped rule uses)."""


# ---------------------------------------------------------------------------------------------
# Delimiters and modifiers (SpamAssassin's Util::compile_regexp, strip mode 1)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PerlRegex:
    """A rule regex split into Perl's parts, before any translation."""

    body: str  # text between the delimiters, as written (after the lexer turned \# into #)
    flags: str  # trailing modifiers, validated: Perl accepts them as an inline (?flags) group


_PAIRED = {"{": "}", "(": ")", "<": ">", "[": "]"}
_OPEN_PAIRED = re.compile(r"(?:m|qr)([{(<\[])")
_OPEN_ANY = re.compile(r"(?:m|qr)(\W)", re.ASCII)
_EVAL_GROUP = re.compile(r"\(\?\??\{")


def split_delimiters(text: str) -> PerlRegex:
    """Mirror compile_regexp's delimiter handling, because its refusals are SA's refusals.

    The end delimiter is the leftmost one followed only by ``[a-df-z]*`` to the end of the text;
    an unescaped non-closing delimiter inside the body is an error (escaped backslash pairs are
    ignored for that check), ``(?{`` / ``(??{`` are refused, and the modifiers must be valid as
    an inline group (``g``, ``o``, ``c`` draw Perl's "Useless (?g)" warning, so SA drops them).
    """
    if text.startswith("/"):
        rest, end = text[1:], "/"
    elif m := _OPEN_PAIRED.match(text):
        rest, end = text[m.end() :], _PAIRED[m.group(1)]
    elif m := _OPEN_ANY.match(text):
        rest, end = text[m.end() :], m.group(1)
        if end == "\\":
            raise RegexError("backslash delimiter not allowed")
    else:
        raise RegexError("missing regexp delimiters")
    tail = re.search(re.escape(end) + r"([a-df-z]*)\Z", rest)
    if tail is None:
        raise RegexError("invalid end delimiter/mods")
    body, flags = rest[: tail.start()], tail.group(1)
    if "?{" in body and _EVAL_GROUP.search(body):
        raise RegexError("eval (?{}) found")
    if end not in "})]":
        stripped = body.replace("\\\\", "")
        if re.search(r"(?<!\\)" + re.escape(end), stripped):
            raise RegexError(f"unquoted delimiter '{end}' found")
    if flags:
        _Parser("(?" + flags + ")", total_groups=0).parse()  # Perl's own verdict on the modifiers
    return PerlRegex(body, flags)


def always_matching_reason(body: str) -> str | None:
    """Why lint (``ignore_always_matching_regexps``) would refuse this body, or None."""
    if body == "":
        return "empty"
    if re.search(r"(?<!\\)\|\|", body):
        return "contains '||'"
    if re.search(r"^\||\|(?<!\\\|)$", body):
        return "starts or ends with '|'"
    return None


# ---------------------------------------------------------------------------------------------
# Byte sets: every class, escape and dot becomes a 256-bit mask (bit n = byte n matches)
# ---------------------------------------------------------------------------------------------

FULL = (1 << 256) - 1
NL = 1 << 0x0A


def _mask(*ranges: tuple[int, int]) -> int:
    m = 0
    for lo, hi in ranges:
        m |= ((1 << (hi - lo + 1)) - 1) << lo
    return m


def _bytes_mask(chars: bytes) -> int:
    m = 0
    for b in chars:
        m |= 1 << b
    return m


DIGIT = _mask((0x30, 0x39))
UPPER = _mask((0x41, 0x5A))
LOWER = _mask((0x61, 0x7A))
ALPHA = UPPER | LOWER
WORD = ALPHA | DIGIT | 1 << 0x5F
SPACE = _bytes_mask(b"\t\n\x0b\x0c\r ")  # Perl /aa \s includes VT (0x0B); RE2's \s does not
HSPACE = _bytes_mask(b"\t \xa0")  # \h: not affected by /aa (checked with perl 5.36)
VSPACE = _bytes_mask(b"\n\x0b\x0c\r\x85")  # \v: likewise
DOT = FULL & ~NL

POSIX = {  # under /aa every POSIX class is ASCII-only
    "alpha": ALPHA,
    "digit": DIGIT,
    "alnum": ALPHA | DIGIT,
    "upper": UPPER,
    "lower": LOWER,
    "space": SPACE,
    "blank": _bytes_mask(b"\t "),
    "punct": _mask((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "print": _mask((0x20, 0x7E)),
    "graph": _mask((0x21, 0x7E)),
    "cntrl": _mask((0x00, 0x1F), (0x7F, 0x7F)),
    "xdigit": DIGIT | _mask((0x41, 0x46), (0x61, 0x66)),
    "word": WORD,
    "ascii": _mask((0x00, 0x7F)),
}

# Case partners of single bytes. ASCII letters always; Latin-1 letters under /a, /aa and /u
# (Unicode rules), not under /d (the `(?^...)` default), where a byte string keeps native rules.
_ASCII_PARTNER = {c: c ^ 0x20 for c in range(0x41, 0x5B)} | {c: c ^ 0x20 for c in range(0x61, 0x7B)}
_LATIN1_PARTNER = {c: c ^ 0x20 for c in range(0xC0, 0xDF) if c != 0xD7} | {
    c: c ^ 0x20 for c in range(0xE0, 0xFF) if c != 0xF7
}
# Code points above 0xFF whose simple case fold lands on a Latin-1 byte (perl: (?i)\x{212B}
# matches 0xE5); folds onto ASCII (KELVIN SIGN, LONG S) are forbidden by /aa.
_WIDE_FOLD = {0x178: 0xFF, 0x39C: 0xB5, 0x3BC: 0xB5, 0x1E9E: 0xDF, 0x212B: 0xE5}


def _partner(byte: int, latin1: bool) -> int | None:
    p = _ASCII_PARTNER.get(byte)
    if p is None and latin1:
        p = _LATIN1_PARTNER.get(byte)
    return p


# Latin-1 case pairs are 0x20 apart: 0xC0-0xDE <-> 0xE0-0xFE, except 0xD7/0xF7 (x and /).
_LATIN1_PAIR_BITS = ((1 << 0x1F) - 1) & ~(1 << 0x17)  # offsets 0x00-0x1E from 0xC0 or 0xE0
_ASCII_PAIR_BITS = (1 << 26) - 1  # offsets 0-25 from "A" or "a"


def _fold_mask(mask: int, latin1: bool) -> int:
    """Close a byte set under case folding, the way Perl's /i widens a class.

    Shifts instead of a loop over the pairs: masks are folded for every class of a /i pattern,
    hundreds of thousands of times in a compile of the shipped rules.
    """
    out = (
        mask
        | ((mask >> 0x41) & _ASCII_PAIR_BITS) << 0x61
        | ((mask >> 0x61) & _ASCII_PAIR_BITS) << 0x41
    )
    if latin1:
        out |= ((mask >> 0xC0) & _LATIN1_PAIR_BITS) << 0xE0
        out |= ((mask >> 0xE0) & _LATIN1_PAIR_BITS) << 0xC0
    return out


def _popcount(mask: int) -> int:
    return mask.bit_count()


# ---------------------------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Parser: Perl 5.36 regex syntax under qr//aa, with Perl's compile-time warnings as errors
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Flags:
    i: bool = False
    m: bool = False
    s: bool = False
    x: int = 0  # 1 = /x, 2 = /xx
    n: bool = False
    latin1: bool = True  # Unicode folding rules for 0x80-0xFF (/a, /aa); False under /d

    def copy(self) -> _Flags:
        return _Flags(self.i, self.m, self.s, self.x, self.n, self.latin1)


_X_SPACE = frozenset("\t\n\x0b\x0c\r \x85")  # Pattern_White_Space within one byte
_XX_CLASS_SPACE = frozenset("\t ")
_NAME = re.compile(r"[A-Za-z_]\w*", re.ASCII)
_TEMPLATE = re.compile(r"%\{([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?:\([^)}]*\))?)\}")
_QUANT = re.compile(r"\{\s*(\d*)\s*(?:(,)\s*(\d*)\s*)?\}")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")
_REG_INFTY = 65535  # perl: "Quantifier in {,} bigger than 65534"
_LOOKBEHIND_MAX = 255  # perl 5.36: "Lookbehind longer than 255 not implemented"
_UNRECOGNIZED = frozenset("CEFIiJjLlMmOQqTUuYy")  # \C is "no longer supported"; rest unknown

_GENCAT = re.compile(r"(?:Is|gc=|General_Category=)?([A-Z][a-z&]?)")
# A class of plain characters, \xHH escapes and ranges of them: Parser.simple_class's fast path.
_CLASS_BYTE = r"[^\\\[\]\-]|\\x[0-9A-Fa-f]{2}"
_SIMPLE_CLASS = re.compile(rf"\[(\^?+)((?:(?:{_CLASS_BYTE})(?:-(?:{_CLASS_BYTE}))?)+)\]")
_SIMPLE_CLASS_ITEM = re.compile(rf"({_CLASS_BYTE})(?:-({_CLASS_BYTE}))?")


def _simple_class_byte(text: str) -> int:
    return ord(text) if len(text) == 1 else int(text[2:], 16)


class _Parser:
    """Recursive descent over Perl regex syntax, producing the tree and recording facts."""

    def __init__(self, src: str, *, total_groups: int | None) -> None:
        self.src = src
        self.pos = 0
        self.total_groups = total_groups  # known on the second pass (for \10 vs octal)
        self.ngroups = 0
        self.names: dict[str, list[int]] = {}
        self.name_order: list[str] = []
        self.numbered_refs: list[tuple[int, int]] = []  # (group, position) checked at the end
        self.named_refs: list[tuple[str, int]] = []
        self.tag_refs: list[str] = []
        self.ambiguous_escape = False
        self.in_look = 0

    # -- helpers ------------------------------------------------------------------------------
    def error(self, message: str, at: int | None = None) -> RegexError:
        at = self.pos if at is None else at
        shown = self.src[:at] + " <-- HERE " + self.src[at:]
        return RegexError(f"{message} in regex; marked by <-- HERE in m/{shown}/")

    def unsupported(self, what: str) -> UnsupportedRegex:
        return UnsupportedRegex(f"unsupported Perl regex feature: {what}")

    def peek(self, k: int = 0) -> str:
        p = self.pos + k
        return self.src[p] if p < len(self.src) else ""

    def startswith(self, s: str) -> bool:
        return self.src.startswith(s, self.pos)

    def skip_x(self, flags: _Flags) -> None:
        """Under /x, blanks and #-comments between tokens are not part of the pattern."""
        if not flags.x and not self.src.startswith("(?#", self.pos):
            return  # the common case, asked before and after every atom
        while True:
            if flags.x and self.peek() in _X_SPACE and self.peek():
                self.pos += 1
            elif flags.x and self.peek() == "#":
                nl = self.src.find("\n", self.pos)
                self.pos = len(self.src) if nl < 0 else nl + 1
            elif self.startswith("(?#"):
                end = self.src.find(")", self.pos)
                if end < 0:
                    raise self.error("Sequence (?#... not terminated")
                self.pos = end + 1
            else:
                return

    # -- entry --------------------------------------------------------------------------------
    def parse(self) -> Node:
        node, _ = self.alternation(_Flags())
        if self.pos < len(self.src):  # only a ')' stops the top level early
            raise self.error("Unmatched )", self.pos + 1)
        for group, at in self.numbered_refs:
            if group > self.ngroups:
                raise self.error("Reference to nonexistent group", at)
        for name, at in self.named_refs:
            if name not in self.names:
                raise self.error("Reference to nonexistent named group", at)
        return node

    def alternation(self, flags: _Flags) -> tuple[Node, _Flags]:
        branches = []
        while True:
            seq, flags = self.sequence(flags)
            branches.append(seq)
            if self.peek() != "|":
                break
            self.pos += 1
        node = branches[0] if len(branches) == 1 else Alt(tuple(branches))
        return node, flags

    def sequence(self, flags: _Flags) -> tuple[Node, _Flags]:
        items: list[Node] = []
        while True:
            self.skip_x(flags)
            c = self.peek()
            if c in ("", "|", ")"):
                break
            start = self.pos
            atom, flags, is_flag_group = self.atom(flags, items[-1] if items else None)
            if is_flag_group:
                # perl lets a counted quantifier skip back over a bare (?i) to the atom before
                if items and self.peek() == "{" and _QUANT.match(self.src, self.pos):
                    self.quantifier(items, flags, start)
                continue
            if atom is None:  # a literal "{" that is not a quantifier, at a start position
                atom = Lit(ord("{"), False)
            items.append(atom)
            self.quantifier(items, flags, start)
        return (items[0] if len(items) == 1 else Seq(tuple(items))), flags

    # -- quantifiers --------------------------------------------------------------------------
    def read_quant(self, flags: _Flags) -> tuple[int, int | None] | None:
        c = self.peek()
        if c == "*":
            self.pos += 1
            return 0, None
        if c == "+":
            self.pos += 1
            return 1, None
        if c == "?":
            self.pos += 1
            return 0, 1
        if c == "{":
            m = _QUANT.match(self.src, self.pos)
            if not m or (not m.group(1) and not m.group(3)):
                return None
            lo_s, comma, hi_s = m.groups()
            lo = int(lo_s) if lo_s else 0
            hi = (int(hi_s) if hi_s else None) if comma else lo
            for v in (lo, hi):
                if v is not None and v >= _REG_INFTY:
                    self.pos = m.start() + len(m.group(0)) - 1
                    raise self.error("Quantifier in {,} bigger than 65534")
            self.pos = m.end()
            if hi is not None and lo > hi:
                raise self.error("Quantifier {n,m} with n > m can't match")
            return lo, hi
        return None

    def quantifier(self, items: list[Node], flags: _Flags, atom_start: int) -> None:
        self.skip_x(flags)
        qstart = self.pos
        q = self.read_quant(flags)
        if q is None:
            if self.peek() == "{":
                prev = items[-1]
                if isinstance(prev, Assert) and prev.kind in ("bos", "mbol"):
                    return  # perl passes "^{" through silently
                raise self.error("Unescaped left brace in regex is passed through", self.pos + 1)
            return
        lo, hi = q
        exact_count = self.src[qstart] == "{" and hi == lo
        self.skip_x(flags)
        mode = "greedy"
        if self.peek() == "?":
            self.pos += 1
            if exact_count:
                raise self.error("Useless use of greediness modifier '?'")
            mode = "lazy"
        elif self.peek() == "+":
            self.pos += 1
            mode = "possessive"
        atom = items[-1]
        if isinstance(atom, Keep):
            raise self.error("\\K+ is forbidden - matches null string many times")
        if _maxlen(atom) == 0:
            what = self.src[atom_start:qstart].strip()
            if hi is None:
                raise self.error(
                    f"{what}{self.src[qstart : self.pos]} matches null string many times"
                )
            if lo >= 1 or lo == hi:
                raise RegexError(
                    f"Quantifier unexpected on zero-length expression in regex m/{self.src}/"
                )
        self.skip_x(flags)
        if self.peek() in ("*", "+", "?") or (
            self.peek() == "{" and _QUANT.match(self.src, self.pos)
        ):
            raise self.error("Nested quantifiers", self.pos + 1)
        items[-1] = Repeat(atom, lo, hi, mode)

    # -- atoms --------------------------------------------------------------------------------
    def atom(self, flags: _Flags, prev: Node | None) -> tuple[Node | None, _Flags, bool]:
        c = self.peek()
        if c == "(":
            return self.group(flags)
        if c == "[":
            self.pos += 1
            return self.char_class(flags), flags, False
        if c == ".":
            self.pos += 1
            return ByteSet(FULL if flags.s else DOT), flags, False
        if c == "^":
            self.pos += 1
            return Assert("mbol" if flags.m else "bos"), flags, False
        if c == "$":
            self.pos += 1
            return Assert("meol" if flags.m else "eol"), flags, False
        if c == "\\":
            return self.escape(flags), flags, False
        if c in "*+?":
            raise self.error("Quantifier follows nothing", self.pos + 1)
        if c == "{":
            # literal at the start of a branch, and (perl quirk) right after "^"
            if prev is None or (isinstance(prev, Assert) and prev.kind in ("bos", "mbol")):
                self.pos += 1
                return None, flags, False
            raise self.error("Unescaped left brace in regex is passed through", self.pos + 1)
        if c == "%" and (m := _TEMPLATE.match(self.src, self.pos)):
            self.pos = m.end()
            self.tag_refs.append(m.group(1))
            return Template(m.group(1), flags.i), flags, False
        self.pos += 1
        return self.literal(ord(c), flags), flags, False

    def literal(self, cp: int, flags: _Flags) -> Node:
        if cp > 0xFF:
            target = _WIDE_FOLD.get(cp) if flags.i and flags.latin1 else None
            if target is None:
                return Never()
            cp = target
        fold = flags.i and _partner(cp, flags.latin1) is not None
        return Lit(cp, fold)

    def group(self, flags: _Flags) -> tuple[Node | None, _Flags, bool]:
        open_at = self.pos
        self.pos += 1
        if self.peek() == "*":
            raise self.unsupported("(*VERB) and alpha assertions")
        if flags.x and self.peek() in _X_SPACE:
            after = self.pos
            while after < len(self.src) and self.src[after] in _X_SPACE:
                after += 1
            if self.src[after : after + 1] == "?":
                raise self.error("In '(?...)', the '(' and '?' must be adjacent", after + 1)
        if self.peek() != "?":
            if flags.n:
                return self.finish_group(flags, None, None, open_at), flags, False
            self.ngroups += 1
            return self.finish_group(flags, self.ngroups, None, open_at), flags, False
        self.pos += 1
        c = self.peek()
        if c == ":":
            self.pos += 1
            return self.finish_group(flags, None, None, open_at), flags, False
        if c in ("=", "!"):
            self.pos += 1
            return (
                self.finish_look(flags, behind=False, negate=c == "!", open_at=open_at),
                flags,
                False,
            )
        if c == "<" and self.peek(1) in ("=", "!"):
            negate = self.peek(1) == "!"
            self.pos += 2
            return (
                self.finish_look(flags, behind=True, negate=negate, open_at=open_at),
                flags,
                False,
            )
        if c == ">":
            self.pos += 1
            body = self.finish_group(flags, None, None, open_at)
            return Atomic(body.body if isinstance(body, Group) else body), flags, False
        if c in ("<", "'") or (c == "P" and self.peek(1) == "<"):
            self.pos += 2 if c == "P" else 1
            close = ">" if c in ("<", "P") else "'"
            m = _NAME.match(self.src, self.pos)
            if not m:
                if self.peek().isdigit():
                    self.pos += 1
                    raise self.error("Group name must start with a non-digit word character")
                raise self.error("Sequence (?<... not terminated")
            self.pos = m.end()
            if self.peek() != close:
                raise self.error("Sequence (?<... not terminated")
            self.pos += 1
            name = m.group(0)
            self.ngroups += 1
            self.names.setdefault(name, []).append(self.ngroups)
            if name not in self.name_order:
                self.name_order.append(name)
            return self.finish_group(flags, self.ngroups, name, open_at), flags, False
        if c == "P" and self.peek(1) == "=":
            self.pos += 2
            m = _NAME.match(self.src, self.pos)
            if not m or self.src[m.end() : m.end() + 1] != ")":
                raise self.error("Sequence (?P=... not terminated")
            self.pos = m.end() + 1
            return self.named_ref(m.group(0), flags, m.end()), flags, False
        if c == "P" and self.peek(1) == ">":
            raise self.unsupported("(?P>NAME) recursion")
        if c == "|":
            raise self.unsupported("(?|...) branch reset")
        if c == "(":
            raise self.unsupported("(?(cond)...) conditional")
        if c in ("R", "&") or c.isdigit() or (c in "+-" and self.peek(1).isdigit()):
            raise self.unsupported("(?R) / (?N) / (?&NAME) recursion")
        if c in ("{",) or (c == "?" and self.peek(1) == "{"):
            raise RegexError("eval (?{}) found")
        # flag group: (?flags) or (?flags:...)
        new = self.flag_letters(flags)
        if self.peek() == ")":
            self.pos += 1
            return None, new, True
        if self.peek() == ":":
            self.pos += 1
            return self.finish_group(new, None, None, open_at), flags, False
        raise self.error(
            f"Sequence (?{self.src[open_at + 2 : self.pos + 1]}...) not recognized", self.pos + 1
        )

    def flag_letters(self, flags: _Flags) -> _Flags:
        new = flags.copy()
        start = self.pos
        if self.peek() == "^":
            self.pos += 1
            new = _Flags(latin1=False)  # (?^...) = d-imnsx: native charset rules
            if self.peek() == "-":
                raise self.error("Sequence (?^-...) not recognized", self.pos + 1)
        negative = False
        charset_seen = ""
        while True:
            c = self.peek()
            if c == "-" and not negative:
                negative = True
                self.pos += 1
                continue
            if c in ("i", "m", "s", "n"):
                setattr(new, c, not negative)
            elif c == "x":
                if negative:
                    new.x = 0
                else:
                    new.x = 2 if self.src[start : self.pos].count("x") >= 1 else 1
            elif c == "p":
                pass
            elif c in ("a", "u", "l", "d"):
                if negative:
                    self.pos += 1
                    raise self.error(f'Regexp modifier "{c}" may not appear after the "-"')
                if charset_seen and not (charset_seen == "a" and c == "a"):
                    self.pos += 1
                    if charset_seen.startswith("a") and c == "a":
                        raise self.error('Regexp modifier "a" may appear a maximum of twice')
                    raise self.error(
                        f'Regexp modifiers "{charset_seen[0]}" and "{c}" are mutually exclusive'
                    )
                charset_seen += c
                if c in ("u", "l"):
                    raise self.unsupported(
                        f"(?{c}) charset modifier (SpamAssassin compiles with /aa)"
                    )
                new.latin1 = c == "a"
            elif c in ("g", "o", "c"):
                self.pos += 1
                useless = {"g": "/g modifier", "o": "/o modifier", "c": "/gc modifier"}[c]
                raise self.error(f"Useless (?{'-' if negative else ''}{c}) - use {useless}")
            else:
                return new
            self.pos += 1

    def finish_group(
        self, flags: _Flags, index: int | None, name: str | None, open_at: int
    ) -> Group:
        body, _ = self.alternation(flags.copy())
        if self.peek() != ")":
            raise self.error("Unmatched (", open_at + 1)
        self.pos += 1
        return Group(body, index, name)

    def finish_look(self, flags: _Flags, *, behind: bool, negate: bool, open_at: int) -> Look:
        self.in_look += 1
        group = self.finish_group(flags, None, None, open_at)
        self.in_look -= 1
        if behind:
            longest = _maxlen(group.body)
            if longest is None or longest > _LOOKBEHIND_MAX:
                raise RegexError(
                    f"Lookbehind longer than 255 not implemented in regex m/{self.src}/"
                )
        return Look(group.body, behind, negate)

    # -- escapes ------------------------------------------------------------------------------
    def escape(self, flags: _Flags) -> Node:
        at = self.pos
        self.pos += 1
        c = self.peek()
        if c == "":
            raise RegexError(f"Trailing \\ in regex m/{self.src}/")
        self.pos += 1
        simple = {"d": DIGIT, "w": WORD, "s": SPACE, "h": HSPACE, "v": VSPACE}
        if c.lower() in simple:
            m = simple[c.lower()]
            return ByteSet(m if c.islower() else FULL & ~m)
        if (c == "N" and self.peek() != "{") or (c == "N" and _QUANT.match(self.src, self.pos)):
            return ByteSet(DOT)
        anchors = {"A": "bos", "z": "eos", "Z": "eol", "G": "G", "B": "nwordb"}
        if c in anchors:
            return Assert(anchors[c])
        if c == "b":
            if self.peek() == "{":
                raise self.error("Using /u for '\\b{...}' instead of /aa", self.pos + 1)
            return Assert("wordb")
        if c == "K":
            if self.in_look:
                raise self.error("\\K not permitted in lookahead/lookbehind")
            return Keep()
        if c == "R":
            line_break = Alt((Seq((Lit(0x0D, False), Lit(0x0A, False))), ByteSet(VSPACE)))
            return Atomic(line_break)
        if c == "X":
            raise self.unsupported("\\X")
        if c in ("p", "P"):
            return ByteSet(self.property(c == "P", flags))
        if c in "123456789":
            return self.numeric_escape(c, flags, at)
        if c == "g":
            return self.g_ref(flags, at)
        if c == "k":
            return self.k_ref(flags)
        if c == "C":
            raise self.error("\\C no longer supported", at + 1)
        if c in _UNRECOGNIZED:
            raise self.error(f"Unrecognized escape \\{c} passed through")
        cp = self.char_escape(c, flags, in_class=False)
        if isinstance(cp, list):  # \N{U+41.42}: a sequence
            return Seq(tuple(self.literal(x, flags) for x in cp))
        return self.literal(cp, flags)

    def char_escape(self, c: str, flags: _Flags, *, in_class: bool) -> int | list[int]:
        """Escapes naming one character (shared by classes and the top level); pos is after c."""
        controls = {"n": 0x0A, "t": 0x09, "r": 0x0D, "f": 0x0C, "e": 0x1B, "a": 0x07}
        if c in controls:
            return controls[c]
        if c == "x":
            return self.hex_escape()
        if c == "o":
            if self.peek() != "{":
                raise self.error("Missing braces on \\o{}")
            end = self.src.find("}", self.pos)
            if end < 0:
                raise self.error("Missing right brace on \\o{}")
            digits = self.src[self.pos + 1 : end].strip()
            self.pos = end + 1
            if not digits:
                raise self.error("Empty \\o{}")
            if any(d not in _OCT for d in digits):
                raise self.error("Non-octal character")
            return int(digits, 8)
        if c == "0" or (in_class and c in _OCT):
            digits = c
            limit = 3
            while len(digits) < limit and self.peek() in _OCT and self.peek():
                digits += self.peek()
                self.pos += 1
            return int(digits, 8)
        if c == "c":
            x = self.peek()
            if x == "{":
                raise self.error('Use ";" instead of "\\c{"', self.pos + 1)
            if not x or not (0x20 <= ord(x) <= 0x7E):
                raise self.error('Character following "\\c" must be printable ASCII')
            self.pos += 1
            return ord(x.upper()) ^ 64
        if c == "N":
            return self.named_char(in_class)
        if c.isascii() and c.isalnum():
            where = " in character class" if in_class else ""
            raise self.error(f"Unrecognized escape \\{c}{where} passed through")
        return ord(c)

    def hex_escape(self) -> int:
        if self.peek() == "{":
            end = self.src.find("}", self.pos)
            if end < 0:
                raise self.error("Missing right brace on \\x{}", len(self.src))
            digits = self.src[self.pos + 1 : end].strip().replace("_", "")
            bad = next((d for d in digits if d not in _HEX), None)
            self.pos = end + 1
            if bad is not None:
                raise self.error(f"Non-hex character '{bad}' terminates \\x early")
            return int(digits, 16) if digits else 0
        digits = ""
        while len(digits) < 2 and self.peek() in _HEX and self.peek():
            digits += self.peek()
            self.pos += 1
        if len(digits) < 2 and self.peek():
            raise self.error(f"Non-hex character '{self.peek()}' terminates \\x early")
        return int(digits, 16) if digits else 0

    def named_char(self, in_class: bool) -> int | list[int]:
        m = re.compile(r"\{U\+([0-9A-Fa-f]+(?:\.[0-9A-Fa-f]+)*)\}").match(self.src, self.pos)
        if not m:
            if self.peek() == "{":
                raise self.unsupported("\\N{NAME} named characters")
            raise self.error("\\N in a character class must be a named character: \\N{...}")
        self.pos = m.end()
        cps = [int(h, 16) for h in m.group(1).split(".")]
        if len(cps) == 1:
            return cps[0]
        if in_class:
            raise self.unsupported("\\N{U+..} sequence in a character class")
        return cps

    def numeric_escape(self, first: str, flags: _Flags, at: int) -> Node:
        m = re.compile(r"\d+").match(self.src, self.pos - 1)
        assert m is not None
        number = int(m.group(0))
        if number >= 10:
            self.ambiguous_escape = True
            known = self.total_groups if self.total_groups is not None else self.ngroups
            if number > known and first in _OCT:
                digits = first
                while len(digits) < 3 and self.peek() in _OCT and self.peek():
                    digits += self.peek()
                    self.pos += 1
                return self.literal(int(digits, 8), flags)
        self.pos = m.end()
        self.numbered_refs.append((number, self.pos))
        return BackRef(number, flags.i)

    def g_ref(self, flags: _Flags, at: int) -> Node:
        m = re.compile(r"\{\s*(-?\d+|[A-Za-z_]\w*)\s*\}|(-?\d+)", re.ASCII).match(
            self.src, self.pos
        )
        if not m:
            raise self.error("Unterminated \\g... pattern")
        self.pos = m.end()
        ref = m.group(1) or m.group(2)
        if ref[0].isalpha() or ref[0] == "_":
            return self.named_ref(ref, flags, self.pos)
        number = int(ref)
        if number == 0:
            raise self.error("Reference to invalid group 0")
        if number < 0:
            number = self.ngroups + 1 + number
            if number < 1:
                raise self.error("Reference to nonexistent or unclosed group", at + 4)
        self.numbered_refs.append((number, self.pos))
        return BackRef(number, flags.i)

    def k_ref(self, flags: _Flags) -> Node:
        m = re.compile(r"<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{\s*([A-Za-z_]\w*)\s*\}").match(
            self.src, self.pos
        )
        if not m:
            raise self.error("Sequence \\k... not terminated")
        self.pos = m.end()
        name = m.group(1) or m.group(2) or m.group(3)
        return self.named_ref(name, flags, m.end() - 1)

    def named_ref(self, name: str, flags: _Flags, at: int) -> Node:
        self.named_refs.append((name, at))
        indexes = self.names.get(name)
        return BackRef(indexes[0] if indexes else -1, flags.i, name)

    def property(self, negated: bool, flags: _Flags) -> int:
        if self.peek() == "{":
            end = self.src.find("}", self.pos)
            if end < 0:
                raise self.error("Missing right brace on \\p{}")
            name = self.src[self.pos + 1 : end].strip()
            self.pos = end + 1
        else:
            name = self.peek()
            self.pos += 1
        if name.startswith("^"):
            negated, name = not negated, name[1:].strip()
        m = _GENCAT.fullmatch(name)
        if not m:
            raise self.unsupported(f"\\p{{{name}}} (only general categories are supported)")
        cat = m.group(1)
        mask = 0
        for b in range(256):
            gc = unicodedata.category(chr(b))
            if (
                gc == cat
                or (len(cat) == 1 and gc[0] == cat)
                or (cat == "L&" and gc in ("Lu", "Ll", "Lt"))
            ):
                mask |= 1 << b
        if flags.i:
            mask = _fold_mask(mask, flags.latin1)
        return FULL & ~mask if negated else mask

    # -- character classes --------------------------------------------------------------------
    def char_class(self, flags: _Flags) -> Node:
        open_at = self.pos - 1
        simple = _SIMPLE_CLASS.match(self.src, open_at) if flags.x < 2 else None
        if simple and self.src[open_at + 1] not in ":.=":  # else maybe "[:alpha:]" misplaced
            return self.simple_class(simple, flags)
        return self.general_class(flags)

    def general_class(self, flags: _Flags) -> Node:
        open_at = self.pos - 1
        negate = False
        if self.peek() == "^":
            negate = True
            self.pos += 1
        if self.posix_outside(open_at):
            raise self.error("POSIX syntax [: :] belongs inside character classes")
        mask = 0
        first = True
        while True:
            if flags.x >= 2:
                while self.peek() in _XX_CLASS_SPACE and self.peek():
                    self.pos += 1
            c = self.peek()
            if c == "":
                raise self.error("Unmatched [", open_at + 1)
            if c == "]" and not first:
                self.pos += 1
                break
            first = False
            item_at = self.pos
            item = self.class_item(flags)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                if isinstance(item, tuple):
                    self.pos += 1
                    raise self.error(f'False [] range "{self.src[item_at : self.pos]}"')
                self.pos += 1
                hi_item = self.class_item(flags)
                if isinstance(hi_item, tuple):
                    raise self.error(f'False [] range "{self.src[item_at : self.pos]}"')
                if hi_item < item:
                    raise self.error(f'Invalid [] range "{self.src[item_at : self.pos]}"')
                mask |= self.range_mask(item, hi_item, flags)
            elif isinstance(item, tuple):
                mask |= item[0]
            else:
                mask |= self.range_mask(item, item, flags)
        if negate:
            mask = FULL & ~mask
        return ByteSet(mask)

    def simple_class(self, m: re.Match[str], flags: _Flags) -> Node:
        """The fast path for classes of plain bytes, ``\\xHH`` escapes and ranges of them.

        ReplaceTags expansions are mostly such classes (one per look-alike letter), and going
        through `class_item` character by character was a large share of a compile. The result
        equals the general loop's: single bytes never reach the wide-character folds.
        """
        mask = 0
        for lo_text, hi_text in _SIMPLE_CLASS_ITEM.findall(m.group(2)):
            lo = _simple_class_byte(lo_text)
            hi = _simple_class_byte(hi_text) if hi_text else lo
            if hi < lo:  # let the general loop raise its error at the right place
                self.pos = m.start() + 1
                return self.general_class(flags)
            mask |= _mask((lo, hi))
        if flags.i:
            mask = _fold_mask(mask, flags.latin1)
        self.pos = m.end()
        return ByteSet(FULL & ~mask if m.group(1) else mask)

    def posix_outside(self, open_at: int) -> bool:
        m = re.compile(r"\[([:.=])\^?[a-z]+\1\]").match(self.src, open_at)
        return bool(m) and self.src[open_at + 1] != "^"

    def range_mask(self, lo: int, hi: int, flags: _Flags) -> int:
        mask = _mask((lo, min(hi, 0xFF))) if lo <= 0xFF else 0
        if flags.i:
            mask = _fold_mask(mask, flags.latin1)
            if flags.latin1:
                for wide, target in _WIDE_FOLD.items():
                    if lo <= wide <= hi:
                        mask |= _fold_mask(1 << target, True)
        return mask

    def class_item(self, flags: _Flags) -> int | tuple[int]:
        """One class member: a code point (int) or a ready-made byte set (1-tuple)."""
        c = self.peek()
        if c == "[" and self.peek(1) in (":", ".", "="):
            m = re.compile(r"\[([:.=])(\^?)([a-z]+)\1\]").match(self.src, self.pos)
            if m:
                self.pos = m.end()
                kind, neg, name = m.groups()
                if kind != ":":
                    raise self.error(
                        f"POSIX syntax [{kind} {kind}] is reserved for future extensions"
                    )
                if name not in POSIX:
                    raise self.error(f"POSIX class [:{neg}{name}:] unknown")
                mask = POSIX[name]
                if flags.i:
                    mask = _fold_mask(mask, flags.latin1)
                return (FULL & ~mask if neg else mask,)
            near = re.compile(r"\[:\^?([a-z]+)(\]|\s)").match(self.src, self.pos)
            if near and near.group(1) in POSIX:
                self.pos = near.end() - 1
                if near.group(2) == "]":
                    raise self.error("Assuming NOT a POSIX class since there is no terminating ':'")
                raise self.error("Assuming NOT a POSIX class since no blanks are allowed in one")
        self.pos += 1
        if c != "\\":
            return ord(c)
        e = self.peek()
        if e == "":
            raise self.error("Unmatched [")
        self.pos += 1
        simple = {"d": DIGIT, "w": WORD, "s": SPACE, "h": HSPACE, "v": VSPACE}
        if e.lower() in simple:
            m = simple[e.lower()]
            if flags.i:
                m = _fold_mask(m, flags.latin1)
            return (m if e.islower() else FULL & ~m,)
        if e in ("p", "P"):
            return (self.property(e == "P", flags),)
        if e == "b":
            return 0x08
        if e in "89":
            raise self.error(f"Unrecognized escape \\{e} in character class passed through")
        cp = self.char_escape(e, flags, in_class=True)
        assert isinstance(cp, int)
        return cp


def _parse(src: str) -> tuple[Node, _Parser]:
    parser = _Parser(src, total_groups=None)
    tree = parser.parse()
    if parser.ambiguous_escape:  # \10 and up: a back-reference only if that many groups exist
        parser = _Parser(src, total_groups=parser.ngroups)
        tree = parser.parse()
    return tree, parser


# ---------------------------------------------------------------------------------------------
# Emitters
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Required literals: a pre-filter far cheaper than an RE2 set of whole patterns
# ---------------------------------------------------------------------------------------------

# Folds capitals to small letters: ASCII A-Z and Latin-1 0xC0-0xDE except 0xD7 (the x sign).
# Texts and literals are both folded with it, so a literal found this way ignores case even for
# a case-sensitive rule: a looser filter, never a missed match. The runtime keeps its own copy
# (it may not import the compiler); tests/compiler/test_regex.py checks the two agree.
LITERAL_FOLD = bytes(
    b + 0x20 if 0x41 <= b <= 0x5A or (0xC0 <= b <= 0xDE and b != 0xD7) else b for b in range(256)
)
# Two-byte strings occur in nearly every text; leaving out the sets whose shortest member has 3
# bytes was no faster on the corpus (runtime/matcher.py's docstring has the figures).
LITERAL_MIN_LEN = 3
# At most this many alternatives per rule (the prototype's cap: 480 of the 634 body patterns got
# a set under it). It also bounds every set product below, so extraction stays linear.
LITERAL_MAX_COUNT = 64
# Longer literals are cut to their first bytes: 32 bytes are rare enough in any text, and each
# byte of a literal is one more state of the literal automaton.
LITERAL_MAX_LEN = 32
# A class of at most this many (folded) bytes is enumerated, e.g. [-_ ] or [oO0].
_LITERAL_CLASS_MAX = 4

_FOLDED_AWAY = _mask((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE))  # bytes LITERAL_FOLD changes
_SINGLE_BYTES = tuple(bytes((b,)) for b in range(256))
_FOLDED_BYTE_SETS = tuple(frozenset((_SINGLE_BYTES[LITERAL_FOLD[b]],)) for b in range(256))
_Strings = frozenset[bytes]
_EMPTY_STRING: _Strings = frozenset((b"",))


def required_literals(tree: Node) -> tuple[bytes, ...]:
    """Folded byte strings such that every match of `tree` contains at least one of them.

    Empty when no such set is worth using (a match may consist of anything, or the only sets
    found are too short or too many). Sorted, with strings that contain another member
    dropped (a text holding "abcd" also holds "abc"), so the compiled module is stable.
    """
    exact, required = _literal_info(tree)
    best = _best_literals((exact, required))
    if not best:
        return ()
    prefixes = {s[:LITERAL_MAX_LEN] for s in best}  # a text with s also holds its prefix
    kept = [s for s in prefixes if not any(o != s and o in s for o in prefixes)]
    return tuple(sorted(kept))


def _good_literals(s: _Strings | None) -> bool:
    return s is not None and 0 < len(s) <= LITERAL_MAX_COUNT and min(map(len, s)) >= LITERAL_MIN_LEN


def _best_literals(options: Iterable[_Strings | None]) -> _Strings | None:
    """The most selective usable set: longest shortest member, then fewest members."""
    best: _Strings | None = None
    for s in options:
        if _good_literals(s) and (
            best is None or (min(map(len, s)), -len(s)) > (min(map(len, best)), -len(best))
        ):
            best = s
    return best


def _product(a: _Strings, b: _Strings) -> _Strings:
    if len(a) == 1 and len(b) == 1:  # the common case: a run of single bytes
        (x,), (y,) = a, b
        return frozenset((x + y,))
    return frozenset(x + y for x in a for y in b)


def _literal_info(n: Node) -> tuple[_Strings | None, _Strings | None]:
    """(exact, required) for one node, both folded with LITERAL_FOLD.

    exact: every string the node can match (None: unknown or more than LITERAL_MAX_COUNT).
    required: a set of which every match contains a member (None: nothing usable known).
    Zero-width items (anchors, look-arounds, \\K) match the empty string: what they look at
    is not part of the match, so ignoring them only loosens the filter.
    """
    match n:
        case Lit(byte):
            return _FOLDED_BYTE_SETS[byte], None
        case ByteSet(mask):
            folded = mask & ~_FOLDED_AWAY | (mask & _FOLDED_AWAY) << 0x20
            if folded.bit_count() > _LITERAL_CLASS_MAX:
                return None, None
            members = []
            while folded:
                lowest = folded & -folded
                members.append(_SINGLE_BYTES[lowest.bit_length() - 1])
                folded ^= lowest
            return frozenset(members), None
        case Never():
            return frozenset(), None
        case Assert() | Look() | Keep():
            return _EMPTY_STRING, None
        case Group(body) | Atomic(body):
            return _literal_info(body)
        case Seq(items):
            return _seq_literals(items)
        case Alt(branches):
            return _alt_literals(branches)
        case Repeat(body, lo, hi):
            return _repeat_literals(body, lo, hi)
    return None, None  # back-references and capture templates: any text


def _seq_literals(items: tuple[Node, ...]) -> tuple[_Strings | None, _Strings | None]:
    """Concatenate exact sets while they stay small; each broken-off run is a candidate."""
    run: _Strings = _EMPTY_STRING  # exact strings of the current contiguous run of items
    candidates: list[_Strings | None] = []
    whole = True  # every item so far had an exact set and the run never broke
    for item in items:
        exact, required = _literal_info(item)
        candidates.append(required)
        if exact is not None and len(run) * max(len(exact), 1) <= LITERAL_MAX_COUNT:
            run = _product(run, exact)
            continue
        whole = False
        candidates.append(run)
        run = exact if exact is not None and len(exact) <= LITERAL_MAX_COUNT else _EMPTY_STRING
    candidates.append(run)
    return (run if whole else None), _best_literals(candidates)


def _alt_literals(branches: tuple[Node, ...]) -> tuple[_Strings | None, _Strings | None]:
    infos = [_literal_info(b) for b in branches]
    exact: _Strings | None = None
    if all(e is not None for e, _ in infos):
        exact = frozenset().union(*(e for e, _ in infos if e is not None))
        if len(exact) > LITERAL_MAX_COUNT:
            exact = None
    required: set[bytes] = set()
    for e, r in infos:
        if e is not None and not e:  # a branch that can never match needs nothing
            continue
        best = _best_literals((e, r))
        if best is None:
            return exact, None
        required |= best
    return exact, (frozenset(required) if len(required) <= LITERAL_MAX_COUNT else None)


def _repeat_literals(
    body: Node, lo: int, hi: int | None
) -> tuple[_Strings | None, _Strings | None]:
    if hi == 0:
        return _EMPTY_STRING, None
    if lo == 0:
        return None, None  # may match nothing at all
    exact, required = _literal_info(body)
    adjacent = min(lo, LITERAL_MAX_LEN)  # the first `lo` repetitions are adjacent in a match
    if exact is None or not exact or len(exact) ** adjacent > LITERAL_MAX_COUNT:
        return None, _best_literals((exact, required))
    first = _EMPTY_STRING
    for _ in range(adjacent):
        first = _product(first, exact)
    whole = first if hi == lo == adjacent else None
    return whole, _best_literals((first, exact, required))


# ---------------------------------------------------------------------------------------------
# plan()
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegexPlan:
    set_pattern: bytes  # always RE2-compilable (LATIN1): exact, or a superset pre-filter
    exact_engine: str  # "re2" or "regex"
    exact_pattern: bytes  # Perl /aa byte semantics on that engine
    fallback_reason: str | None  # why RE2 could not take it
    named_groups: tuple[str, ...]  # (?<NAME>...) capture names, in order of appearance
    tag_refs: tuple[str, ...]  # %{NAME} capture templates the pattern uses
    # every match contains one of these (folded with LITERAL_FOLD); () = no usable set
    literals: tuple[bytes, ...] = ()


def re2_options(max_mem: int | None = None) -> re2.Options:
    """LATIN1 bytes, quiet: how every spamkiln RE2 pattern is compiled."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.log_errors = False
    if max_mem is not None:
        options.max_mem = max_mem
    return options


_RE2_OPTIONS = re2_options()


def _re2_error(pattern: bytes) -> str | None:
    try:
        re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        return str(exc)
    return None


def _source_text(rx: PerlRegex) -> str:
    """The bytes Perl saw, one character per byte (the lexer used UTF-8 + surrogateescape)."""
    raw = ("(?" + rx.flags + ")" if rx.flags else "") + rx.body
    return raw.encode("utf-8", "surrogateescape").decode("latin-1")


@functools.lru_cache(maxsize=8192)
def plan(rx: PerlRegex) -> RegexPlan:
    """Translate one rule regex; raise RegexError when Perl (as SA runs it) would refuse it."""
    tree, parser = _parse(_source_text(rx))
    top = _Flags()
    for letter in rx.flags:
        if letter in "ims":
            setattr(top, letter, True)
    minlens: dict[int, int] = {}
    common = {
        "engine_i": top.i,
        "engine_m": top.m,
        "engine_s": top.s,
        "pattern_min": _minlen(tree, minlens),
        "anchored": _starts_anchored(tree),
        "minlens": minlens,
    }

    def write(mode: str) -> bytes:
        em = _Emitter(mode, **common)
        return (em.prefix() + em.emit(tree, _Ctx())).encode("latin-1")

    reason: str | None = None
    try:
        if common["pattern_min"] == 0:
            raise _NotRE2("can match the empty string (Perl's //g retry rule)")
        exact = write("re2")
        if err := _re2_error(exact):
            raise _NotRE2(f"RE2: {err}")
        engine = "re2"
        # a template placeholder is filled in at scan time, so the pre-filter must stand in for
        # any value; a large count would blow up the sets' DFAs (_SET_COUNT_CAP)
        widen = parser.tag_refs or _counts_beyond(tree, _SET_COUNT_CAP)
        set_pattern = _relaxed_set_pattern(write("set")) if widen else exact
    except _NotRE2 as exc:
        reason = str(exc.args[0])
        engine = "regex"
        exact = write("regex")
        set_pattern = _relaxed_set_pattern(write("set"))
    if engine == "regex":
        try:
            regex_engine.compile(exact)
        except regex_engine.error as exc:  # a translation bug, not the rule author's fault
            raise UnsupportedRegex(f"internal: regex module rejects {exact!r}: {exc}") from None
    return RegexPlan(
        set_pattern=set_pattern,
        exact_engine=engine,
        exact_pattern=exact,
        fallback_reason=reason,
        named_groups=tuple(parser.name_order),
        tag_refs=tuple(dict.fromkeys(parser.tag_refs)),
        literals=required_literals(tree),
    )


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


_COUNT = re.compile(rb"\{(\d+)(,\d*)?\}")


def _relaxed_set_pattern(pattern: bytes) -> bytes:
    """Make sure the pre-filter compiles: widen counted repeats, and as a last resort match all.

    Every step only widens the language (x{n,m} -> x{k,} with k <= n), so it stays a superset.
    """
    if _re2_error(pattern) is None:
        return pattern
    for cap in (100, 10, 1):

        def widen(m: re.Match[bytes], cap: int = cap) -> bytes:
            k = min(int(m.group(1)), cap)
            return b"*" if k == 0 else b"+" if k == 1 else b"{%d,}" % k

        candidate = _COUNT.sub(widen, pattern)
        if _re2_error(candidate) is None:
            return candidate
    return b""  # the empty pattern matches every text: always a candidate
