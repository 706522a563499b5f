"""Perl rule regexes -> patterns our engines run with Perl's meaning.

SpamAssassin compiles every rule as ``qr/(?mods)re/aa`` and matches it against byte strings, and
any Perl warning while compiling makes the rule invalid. Rather than patching Perl syntax with
string replacements (which silently changes meaning in corners), this module parses the Perl
pattern into a small tree (`regex_tree`, built by `perl_parser` over the byte sets of
`byte_masks`), checks what Perl itself would reject, and derives from the tree
(`regex_writer`, `regex_literals`):

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
from dataclasses import dataclass

import re2
import regex as regex_engine

from .perl_parser import _Flags, _parse, _Parser
from .regex_errors import RegexError, UnsupportedRegex
from .regex_literals import LITERAL_FOLD, required_literals
from .regex_tree import _minlen, _starts_anchored
from .regex_writer import _SET_COUNT_CAP, _counts_beyond, _Ctx, _Emitter, _NotRE2

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
