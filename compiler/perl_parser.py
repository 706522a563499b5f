"""Parser: Perl 5.36 regex syntax under qr//aa, with Perl's compile-time warnings as errors.

What SpamAssassin would refuse is refused here with the message its lint gives (see the
docstring of compiler.regex for the Perl facts reproduced).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .byte_masks import (
    _WIDE_FOLD,
    DIGIT,
    DOT,
    FULL,
    HSPACE,
    POSIX,
    SPACE,
    VSPACE,
    WORD,
    _fold_mask,
    _mask,
    _partner,
)
from .regex_errors import RegexError, UnsupportedRegex
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
    _maxlen,
)


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
