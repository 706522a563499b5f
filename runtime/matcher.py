"""Scan-time regex matching for one target (body lines, one header, the URI list ...).

A target carries N rules. Running N regexes over every text is what makes SpamAssassin slow.
Each rule brings three things made by the compiler: a ``set_pattern`` that RE2 can always run
(exact, or a superset of what the rule matches), an ``exact_pattern`` for the engine that has
Perl's meaning (RE2, or the backtracking ``regex`` module for look-arounds and back-references),
and ``literals``: case-folded byte strings of which every match contains one. ``candidates``
narrows the rules for a text with three pre-filters, and only candidates run their exact
pattern:

* the literal scan: one RE2 set of all the target's literals, run over the text folded with
  ``bytes.translate``; a rule one of whose literals occurs is confirmed by its set pattern
  alone (a *probe*: a one-pattern RE2 set, which runs only the DFA);
* shards: rules without literals, or with a literal more than DEFAULT_LITERAL_MAX_OWNERS rules
  share (a common token such as "http" or "you", cheaper tested together in one call), sit in
  RE2 sets of DEFAULT_SHARD_SIZE patterns, sorted by length so that the long ReplaceTags
  expansions, whose DFAs blow up together with anything, do not spoil the short ones' shards;
* rules with neither are candidates for every text.

RE2 sets fail silently: when a set's DFA runs out of memory, ``RE2::Set::Match`` returns false
and the Python binding reports "no match". Every set therefore carries a canary, ``\\z``, which
matches at the end of every text: a result without it means the set failed, and its members
are then tested another way that never fails (single regexes fall back from DFA to NFA; the
literals are looked up with ``bytes.find``). The empty pattern would work as a canary too, but
it makes every DFA state a matching one and RE2 then records the matches at every byte.

Memory and fork: everything RE2 compiles is compiled in the constructor, so matchers built
before spamd forks are shared by its children. RE2 builds DFA states lazily, in memory private
to each process. Two ways to move that before the fork were measured and dropped: building
every state of the literal DFA (each literal prefix followed by each byte class) took 0.7 s and
24 MB for the body alone, for 16 ms saved on a child's first messages (real text visits few of
its states: under 0.1 MB for 300 messages); and creating each set's DFA object early (one match
on ``b""``) put 6 MB in the parent and saved nothing in the child.

Memory decides the defaults. A forked spamd child pays for every DFA state it builds, and for
every page of the parent's it writes, and both grow with the variety of text it sees: measured
in a child forked after loading the shipped rules, over 200 corpus messages (mallinfo2 in-use
growth, then Private_Dirty; the same machine, ms per message in the child):

===========================================  ==========  ============  ========
configuration                                DFA growth  private, MiB  ms/msg
===========================================  ==========  ============  ========
shards of 32, sets 64 MiB, singles 32 MiB    +89         117           14.3
shards of 8, sets 4 MiB, singles 1 MiB       +33         60            13.2
the same, the compiler widening large counts +20         45            10.9
(the defaults; widening with a cap of 8: +22, 46; of 2: +23, 47)
===========================================  ==========  ============  ========

Where the 89 MiB went: four body shards 41 (32 patterns each, mostly obfuscated drug names and
money amounts with counted repeats and no literal), one URI shard 10, probes 15 (one probe alone,
6), exact searches 9. Each pattern in a set of its own grew 9 MiB in all (the states of a set
multiply), but 371 one-pattern sets ran 40% slower. Warming the DFAs in the parent before the
fork does not help: 500 other messages scanned there left the child's private memory where it
was (the child writes into the shared states: new transitions, its work queues). With no RE2
matching at all, the child's private memory is 15 MiB: the rest of it is the DFAs.

Earlier throughput figures (shards of 32 and 64 MiB sets, MB/s of body lines, warm): shard size
16 / 32 / 64: 4.6 / 6.0 / 0.6 (64 thrashes: the longest patterns end up together); sorted by
length rather than in file order: 5.4 -> 6.0; canary ``\\z`` against ``b""``: 6.3-6.7 against
5.2-5.7; literal_max_owners 1 / 2 / 4 / unlimited over body + header + rawbody + uri: 0.452 /
0.455 / 0.446 / 0.507 s (unlimited is worst on URIs: 19 rules need "http").

This module knows nothing about the compiler: it gets plain bytes patterns.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import re2
import regex as regex_engine

__all__ = [
    "DEFAULT_LITERAL_MAX_OWNERS",
    "DEFAULT_MAX_MEM",
    "DEFAULT_SHARD_SIZE",
    "DEFAULT_TIMEOUT",
    "LITERAL_FOLD",
    "CompiledPattern",
    "TargetMatcher",
    "bench",
    "expand_templates",
]

log = logging.getLogger(__name__)

# Patterns per RE2 set shard: smaller sets multiply fewer states (module docstring).
DEFAULT_SHARD_SIZE = 8
# A pattern goes to the literal scan only when each of its literals is needed by at most this
# many patterns of the target (module docstring: 4 was fastest over all targets).
DEFAULT_LITERAL_MAX_OWNERS = 4
# Per RE2 set, a cap on its program and DFA: when the states fill it, RE2 drops them and starts
# again (slower, never wrong). It bounds what a spamd child's DFAs grow to (module docstring).
DEFAULT_MAX_MEM = 4 << 20
# The backtracking engine gets this many seconds per call; SpamAssassin has no such limit, but a
# catastrophic pattern must not hang spamd. A timeout counts as "no match" and is logged.
DEFAULT_TIMEOUT = 1.0
# Probes, exact RE2 patterns and set patterns re-tested alone after a shard failure: most are
# small, and a budget a pattern outgrows only costs it speed (RE2 resets or falls back to NFA).
_SINGLE_MAX_MEM = 1 << 20

# Matches at the end of every text, so a set that ran to completion always reports it. The
# empty pattern works too, but it makes every DFA state a matching state and RE2 then records
# the set's matches at every byte: body shards ran 1.2-1.35x slower with it (docstring).
_CANARY = rb"\z"

# Folds ASCII and Latin-1 capitals (0x41-0x5A, 0xC0-0xDE but 0xD7) to small letters: the
# compiler folds the literals with the same table (compiler.regex.LITERAL_FOLD; a test checks
# that they agree), so a literal search ignores case.
LITERAL_FOLD = bytes(
    b + 0x20 if 0x41 <= b <= 0x5A or (0xC0 <= b <= 0xDE and b != 0xD7) else b for b in range(256)
)


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """What the generated module passes in, one per rule (see compiler.regex.RegexPlan)."""

    name: str
    set_pattern: bytes
    exact_engine: str  # "re2" or "regex"
    exact_pattern: bytes
    # every match contains one of these, folded with LITERAL_FOLD; () = none known
    literals: tuple[bytes, ...] = ()


def _re2_options(max_mem: int) -> re2.Options:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.log_errors = False
    options.max_mem = max_mem
    return options


# ---------------------------------------------------------------------------------------------
# Capture templates (%{NAME}), filled in per message
# ---------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(rb"%\\\{((?:[A-Za-z0-9_]|\\x[0-9A-F]{2})+)(:i)?\\\}")
_ASCII_LETTER = frozenset(range(0x41, 0x5B)) | frozenset(range(0x61, 0x7B))
_LATIN1_LETTER = frozenset(b for b in range(0xC0, 0xFF) if b not in (0xD7, 0xDF, 0xF7))


def _template_names(pattern: bytes) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            re.sub(r"\\x([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), m.group(1).decode())
            for m in _PLACEHOLDER.finditer(pattern)
        )
    )


def _literal(value: bytes, fold: bool) -> bytes:
    out = bytearray()
    for b in value:
        if fold and (b in _ASCII_LETTER or b in _LATIN1_LETTER):
            out += b"[\\x%02X\\x%02X]" % (b, b ^ 0x20)  # Perl /i folds Latin-1 letters too
        elif 0x30 <= b <= 0x39 or b in _ASCII_LETTER or b == 0x5F:
            out.append(b)
        else:
            out += b"\\x%02X" % b
    return bytes(out)


def expand_templates(pattern: bytes, tags: Mapping[str, Sequence[bytes]]) -> bytes | None:
    """Replace every ``%\\{NAME\\}`` placeholder with ``(?:v1|v2|...)`` of the tag's values.

    Mirrors SpamAssassin 4.0: empty values are dropped, values are matched literally (case
    folded when the placeholder says ``:i``), and a rule whose tag has no value is not run
    (None).
    """
    missing = False

    def fill(m: re.Match[bytes]) -> bytes:
        nonlocal missing
        name = re.sub(rb"\\x([0-9A-F]{2})", lambda h: bytes([int(h.group(1), 16)]), m.group(1))
        values = [v for v in dict.fromkeys(tags.get(name.decode("latin-1"), ())) if v]
        if not values:
            missing = True
            return b""
        return b"(?:" + b"|".join(_literal(v, m.group(2) is not None) for v in values) + b")"

    out = _PLACEHOLDER.sub(fill, pattern)
    return None if missing else out


# ---------------------------------------------------------------------------------------------
# Exact engines
# ---------------------------------------------------------------------------------------------


class _Exact:
    """One compiled exact pattern plus Perl's //g counting rules for it."""

    __slots__ = ("engine", "name", "rx", "timeout")

    def __init__(self, name: str, engine: str, pattern: bytes, timeout: float) -> None:
        self.name, self.engine, self.timeout = name, engine, timeout
        if engine == "re2":
            self.rx = re2.compile(pattern, _re2_options(_SINGLE_MAX_MEM))
        elif engine == "regex":
            self.rx = regex_engine.compile(pattern)
        else:
            raise ValueError(f"{name}: unknown exact engine {engine!r}")

    def matches(self, text: bytes, limit: int) -> Iterable:
        """Matches in Perl's //g order, at most `limit`.

        ``regex``'s finditer follows Perl: after an empty match the next match may not be empty
        at the same offset but may be a longer one there. The RE2 binding steps one byte after
        an empty match instead; the compiler never hands RE2 a pattern that can match empty, so
        the two agree on everything it produces.
        """
        if self.engine == "re2":
            it = self.rx.finditer(text)
        else:
            it = self.rx.finditer(text, timeout=self.timeout)
        for k, m in enumerate(it):
            if k >= limit:
                return
            yield m

    def count(self, text: bytes, limit: int) -> int:
        if limit <= 0:
            return 0
        try:
            if limit == 1:
                if self.engine == "re2":
                    return int(self.rx.search(text) is not None)
                return int(self.rx.search(text, timeout=self.timeout) is not None)
            return sum(1 for _ in self.matches(text, limit))
        except TimeoutError:
            log.warning(
                "rule %s: regex timed out after %.2fs; counted as no match", self.name, self.timeout
            )
            return 0

    def first(self, text: bytes):
        try:
            if self.engine == "re2":
                return self.rx.search(text)
            return self.rx.search(text, timeout=self.timeout)
        except TimeoutError:
            log.warning(
                "rule %s: regex timed out after %.2fs; counted as no match", self.name, self.timeout
            )
            return None


# ---------------------------------------------------------------------------------------------
# The matcher
# ---------------------------------------------------------------------------------------------


def _literal_pattern(literal: bytes) -> bytes:
    return b"".join(b"\\x%02X" % b for b in literal)


class _LiteralScan:
    """Which patterns may match a text, from the literals each one's matches must contain.

    One RE2 set of plain literals finds every literal that occurs in the folded text in one
    pass, and a pattern is pre-selected when one of its literals occurs. A set of literals is
    what RE2 runs fastest: its DFA has about one state per literal byte, where a set of whole
    patterns multiplies their states. Like a shard it carries a canary; a set that fails falls
    back to ``bytes.find`` for its literals (slower, never wrong).
    """

    __slots__ = ("failures", "literals", "owners", "sets")

    def __init__(self, owners: Mapping[bytes, Sequence[int]], options: re2.Options) -> None:
        self.literals = sorted(owners)
        self.owners = [tuple(owners[lit]) for lit in self.literals]
        self.sets: list[tuple[re2.Set | None, int, int, int]] = []  # (set, canary, start, stop)
        self.failures = 0
        self._build(0, len(self.literals), options)

    def _build(self, start: int, stop: int, options: re2.Options) -> None:
        """One set for literals[start:stop], halved while RE2 refuses it (max_mem)."""
        rxset = re2.Set.SearchSet(options)
        for lit in self.literals[start:stop]:
            rxset.Add(_literal_pattern(lit))
        canary = rxset.Add(_CANARY)
        try:
            rxset.Compile()
        except re2.error:
            if stop - start > 1:
                middle = (start + stop) // 2
                self._build(start, middle, options)
                self._build(middle, stop, options)
            else:
                self.sets.append((None, -1, start, stop))  # searched with bytes.find
            return
        self.sets.append((rxset, canary, start, stop))

    def candidates(self, folded: bytes) -> set[int]:
        found: set[int] = set()
        owners = self.owners
        for rxset, canary, start, stop in self.sets:
            hits = rxset.Match(folded) if rxset is not None else None
            if hits and canary in hits:
                for h in hits:
                    if h != canary:
                        found.update(owners[start + h])
                continue
            if rxset is not None:
                self.failures += 1
                if self.failures == 1:
                    log.warning("RE2 literal set failed (DFA out of memory?); using bytes.find")
            for k in range(start, stop):
                if self.literals[k] in folded:
                    found.update(owners[k])
        return found


class _Probe:
    """One set pattern alone, asked "does it match" after a literal pre-selected its rule.

    A one-pattern RE2 set runs only the DFA (a regex search also computes the match bounds
    and groups); its canary catches a DFA that ran out of memory, and then a plain regex
    search (which falls back to the NFA) answers instead.
    """

    __slots__ = ("canary", "pattern", "rxset", "single")

    def __init__(self, name: str, pattern: bytes, options: re2.Options) -> None:
        self.pattern = pattern
        self.single: re2._Regexp | None = None
        rxset = re2.Set.SearchSet(options)
        try:
            rxset.Add(pattern)
        except re2.error as exc:
            raise ValueError(f"{name}: bad set pattern: {exc}") from None
        self.canary = rxset.Add(_CANARY)
        try:
            rxset.Compile()
        except re2.error:
            self.rxset = None
        else:
            self.rxset = rxset

    def matches(self, text: bytes) -> bool:
        if self.rxset is not None:
            hits = self.rxset.Match(text)
            if hits and self.canary in hits:
                return len(hits) > 1
        if self.single is None:
            self.single = re2.compile(self.pattern, _re2_options(_SINGLE_MAX_MEM))
        return self.single.search(text) is not None


def _literal_selected(patterns: Sequence[CompiledPattern], max_owners: int) -> list[int]:
    """Patterns the literal scan pre-selects: those with literals none too widely shared.

    A literal that many rules need is a common token ("http" in URIs, "you" in bodies); its
    every hit would send the text to all those rules' probes, one call each, where a shard
    tests them all in one call.
    """
    sharing: dict[bytes, int] = {}
    for p in patterns:
        for lit in p.literals:
            sharing[lit] = sharing.get(lit, 0) + 1
    return [
        i
        for i, p in enumerate(patterns)
        if p.literals and max(sharing[lit] for lit in p.literals) <= max_owners
    ]


class _Shard:
    __slots__ = ("canary", "members", "rxset")

    def __init__(self, members: list[int], rxset: re2.Set, canary: int) -> None:
        self.members, self.rxset, self.canary = members, rxset, canary


class TargetMatcher:
    """All regex rules of one target: pre-filters first, then exact runs for candidates.

    A pattern with literals (and none shared by more than `literal_max_owners` patterns) is
    pre-selected by the literal scan and confirmed by its set pattern alone (a probe); every
    other pattern sits in a sharded RE2 set. Everything RE2 compiles is compiled here, so a
    matcher built before a fork is shared by the children; what stays lazy, and private to
    each process, is RE2's DFA states (see the module docstring for how much).
    """

    def __init__(
        self,
        patterns: Sequence[CompiledPattern],
        *,
        shard_size: int = DEFAULT_SHARD_SIZE,
        max_mem: int = DEFAULT_MAX_MEM,
        timeout: float = DEFAULT_TIMEOUT,
        use_literals: bool = True,
        literal_max_owners: int = DEFAULT_LITERAL_MAX_OWNERS,
    ) -> None:
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        self.patterns = tuple(patterns)
        self.timeout = timeout
        self._set_options = _re2_options(max_mem)
        self._singles: dict[int, re2._Regexp] = {}  # set patterns compiled alone, on demand
        self._failed_shards_logged: set[int] = set()
        self.shard_failures = 0  # how many times a shard fell back (for bench and tests)
        self._template_cache: dict[tuple[int, bytes], _Exact] = {}
        self._exact: list[_Exact | None] = [
            None  # capture templates: compiled per message, once the tag values are known
            if _template_names(p.exact_pattern)
            else _Exact(p.name, p.exact_engine, p.exact_pattern, timeout)
            for p in self.patterns
        ]
        # A candidate whose set pattern is its exact RE2 pattern has already matched: asking
        # "does it match" again would run a second (forward and reverse) DFA for nothing.
        self._set_is_exact = tuple(
            p.exact_engine == "re2" and bool(p.set_pattern) and p.set_pattern == p.exact_pattern
            for p in self.patterns
        )
        by_literal = _literal_selected(self.patterns, literal_max_owners) if use_literals else []
        owners: dict[bytes, list[int]] = {}
        for i in by_literal:
            for lit in self.patterns[i].literals:
                owners.setdefault(lit, []).append(i)
        self._literal_scan = _LiteralScan(owners, self._set_options) if owners else None
        probe_options = _re2_options(_SINGLE_MAX_MEM)
        self._probes: dict[int, _Probe] = {
            i: _Probe(self.patterns[i].name, self.patterns[i].set_pattern, probe_options)
            for i in by_literal
            if self.patterns[i].set_pattern
        }
        selected = set(by_literal)
        rest = [i for i in range(len(self.patterns)) if i not in selected]
        self._always = [i for i in rest if not self.patterns[i].set_pattern]
        # Sorted by length, the long ReplaceTags expansions share their shards instead of
        # blowing up every shard's DFA (module docstring: at 32 per shard this is fastest).
        filtered = sorted(
            (i for i in rest if self.patterns[i].set_pattern),
            key=lambda i: len(self.patterns[i].set_pattern),
        )
        self._shards: list[_Shard] = []
        self._unsharded: list[int] = []  # set patterns no RE2 set would take: tested alone
        for k in range(0, len(filtered), shard_size):
            self._add_shard(filtered[k : k + shard_size])
        if self._unsharded:
            log.warning(
                "%d set patterns (%s ...) fit in no RE2 set within max_mem=%d; testing them alone",
                len(self._unsharded),
                self.patterns[self._unsharded[0]].name,
                max_mem,
            )

    def _add_shard(self, members: list[int]) -> None:
        """Compile one shard; when RE2 refuses it (program or DFA over max_mem), halve it."""
        rxset = re2.Set.SearchSet(self._set_options)
        for i in members:
            try:
                rxset.Add(self.patterns[i].set_pattern)
            except re2.error as exc:
                raise ValueError(f"{self.patterns[i].name}: bad set pattern: {exc}") from None
        canary = rxset.Add(_CANARY)
        try:
            rxset.Compile()
        except re2.error:
            if len(members) == 1:
                self._unsharded.append(members[0])
                return
            half = len(members) // 2
            self._add_shard(members[:half])
            self._add_shard(members[half:])
            return
        self._shards.append(_Shard(members, rxset, canary))

    def confirmed(self, index: int) -> bool:
        """Whether `index`, returned by ``candidates(text)``, is known to match that text.

        True when its set pattern, which the pre-filter ran, is its exact pattern: a caller that
        only needs "does it match" (a count limit of 1) can skip ``count``.
        """
        return self._set_is_exact[index]

    @property
    def shard_count(self) -> int:
        """RE2 sets built (a shard RE2 refused was halved until it compiled)."""
        return len(self._shards)

    @property
    def literal_patterns(self) -> int:
        """Patterns pre-selected by the literal scan instead of an RE2 shard."""
        if self._literal_scan is None:
            return 0
        return len({i for owners in self._literal_scan.owners for i in owners})

    @property
    def unsharded(self) -> tuple[str, ...]:
        """Names of patterns no RE2 set would take within max_mem (tested one by one)."""
        return tuple(self.patterns[i].name for i in self._unsharded)

    # -- pre-filter ---------------------------------------------------------------------------
    def candidates(self, text: bytes) -> list[int]:
        """Indices of the patterns that may match `text` (sorted, no duplicates).

        Every pattern whose exact pattern matches is among them: its set pattern matches and,
        when the literal scan pre-selects it, one of its literals occurs in the folded text.
        """
        found = list(self._always)
        if self._literal_scan is not None:
            probes = self._probes
            for i in self._literal_scan.candidates(text.translate(LITERAL_FOLD)):
                probe = probes.get(i)
                if probe is None or probe.matches(text):
                    found.append(i)
        found.extend(i for i in self._unsharded if self._single(i).search(text) is not None)
        for k, shard in enumerate(self._shards):
            hits = shard.rxset.Match(text)
            if hits and shard.canary in hits:
                found.extend(shard.members[h] for h in hits if h != shard.canary)
            else:
                found.extend(self._shard_one_by_one(k, shard, text))
        found.sort()
        return found

    def _shard_one_by_one(self, k: int, shard: _Shard, text: bytes) -> list[int]:
        self.shard_failures += 1
        if k not in self._failed_shards_logged:
            self._failed_shards_logged.add(k)
            names = ", ".join(self.patterns[i].name for i in shard.members[:3])
            log.warning(
                "RE2 set shard %d (%d patterns: %s ...) failed (DFA out of memory?); "
                "testing its patterns one by one",
                k,
                len(shard.members),
                names,
            )
        return [i for i in shard.members if self._single(i).search(text) is not None]

    def _single(self, index: int) -> re2._Regexp:
        single = self._singles.get(index)
        if single is None:
            single = re2.compile(self.patterns[index].set_pattern, _re2_options(_SINGLE_MAX_MEM))
            self._singles[index] = single
        return single

    # -- exact runs ---------------------------------------------------------------------------
    def _exact_for(self, index: int, tags: Mapping[str, Sequence[bytes]] | None) -> _Exact | None:
        exact = self._exact[index]
        if exact is not None:
            return exact
        p = self.patterns[index]
        filled = expand_templates(p.exact_pattern, tags or {})
        if filled is None:
            return None  # a referenced tag has no value: SpamAssassin does not run the rule
        key = (index, filled)
        exact = self._template_cache.get(key)
        if exact is None:
            if len(self._template_cache) > 256:  # values differ per message; keep it bounded
                self._template_cache.clear()
            exact = _Exact(p.name, p.exact_engine, filled, self.timeout)
            self._template_cache[key] = exact
        return exact

    def count(
        self,
        index: int,
        text: bytes,
        limit: int,
        *,
        tags: Mapping[str, Sequence[bytes]] | None = None,
    ) -> int:
        """Matches of pattern `index` in `text`, counted like Perl's ``while (/re/g)`` loop.

        Counting stops at `limit` (1 means "does it match"). `tags` fills capture templates.
        """
        exact = self._exact_for(index, tags)
        return 0 if exact is None else exact.count(text, limit)

    def first_match(
        self, index: int, text: bytes, *, tags: Mapping[str, Sequence[bytes]] | None = None
    ) -> bytes | None:
        """The matched text, for debugging and ``${^MATCH}``-style reports.

        For RE2 patterns ending in Perl's ``$`` the match may include the final newline (the
        compiler writes ``$`` as ``(?:\\n?\\z)``, which consumes it).
        """
        exact = self._exact_for(index, tags)
        m = None if exact is None else exact.first(text)
        return None if m is None else m.group(0)

    def groups(
        self, index: int, text: bytes, *, tags: Mapping[str, Sequence[bytes]] | None = None
    ) -> tuple[bytes | None, ...] | None:
        """Capture groups 1..n of the first match (redirector_pattern wants ``$1``), or None."""
        exact = self._exact_for(index, tags)
        m = None if exact is None else exact.first(text)
        return None if m is None else tuple(m.groups())

    def captures(
        self,
        index: int,
        text: bytes,
        limit: int,
        *,
        tags: Mapping[str, Sequence[bytes]] | None = None,
    ) -> dict[str, list[bytes]]:
        """Non-empty values of named groups over the first `limit` matches (SA 4.0 capture tags)."""
        exact = self._exact_for(index, tags)
        out: dict[str, list[bytes]] = {}
        if exact is None:
            return out
        try:
            for m in exact.matches(text, limit):
                for name, value in m.groupdict().items():
                    if value:  # the RE2 binding names groups with bytes
                        key = name.decode() if isinstance(name, bytes) else name
                        out.setdefault(key, []).append(value)
        except TimeoutError:
            log.warning("rule %s: regex timed out while collecting captures", exact.name)
        return out


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def _rss_mb() -> float | None:
    """Resident memory of this process (Linux), for bench's DFA memory figure."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def bench(
    patterns: Sequence[CompiledPattern],
    texts: Sequence[bytes],
    *,
    shard_sizes: Sequence[int] = (10_000, 256, 128, 64, 32, 16),
    max_mem: int = DEFAULT_MAX_MEM,
    exact: bool = True,
    use_literals: bool = True,
) -> dict:
    """Throughput of the pre-filter (and of pre-filter + exact counts) per shard size.

    Returns ``{"bytes": N, "patterns": P, "runs": {shard_size: {...}}}`` where each run has
    ``build_s``, ``literal_patterns`` and ``shards`` (how the patterns were split),
    ``cold_prefilter_mb_s`` (first pass: RE2 builds its DFA states), ``prefilter_mb_s`` (second
    pass, warm caches, what a long-lived worker sees), ``total_mb_s`` (warm pre-filter plus one
    exact ``count`` per candidate), ``candidates`` (total over all texts), ``shard_failures``
    and ``rss_growth_mb`` (resident memory the first pass added, mostly DFA states; None off
    Linux; later runs reuse memory freed by earlier ones, so only the first run of a fresh
    process is a fair figure). The figures behind the defaults are in the module docstring.
    """
    total = sum(len(t) for t in texts)
    runs: dict[int, dict] = {}
    for size in shard_sizes:
        t0 = time.perf_counter()
        matcher = TargetMatcher(
            patterns, shard_size=size, max_mem=max_mem, use_literals=use_literals
        )
        build = time.perf_counter() - t0
        before = _rss_mb()
        t0 = time.perf_counter()
        cand_lists = [matcher.candidates(t) for t in texts]
        cold = time.perf_counter() - t0  # RE2 builds DFA states lazily: the first pass pays
        after = _rss_mb()
        t0 = time.perf_counter()
        cand_lists = [matcher.candidates(t) for t in texts]
        pre = time.perf_counter() - t0
        run = {
            "build_s": round(build, 3),
            "literal_patterns": matcher.literal_patterns,
            "shards": matcher.shard_count,
            "cold_prefilter_mb_s": round(total / cold / 1e6, 2) if cold else None,
            "prefilter_mb_s": round(total / pre / 1e6, 2) if pre else None,
            "candidates": sum(len(c) for c in cand_lists),
            "shard_failures": matcher.shard_failures,
            "rss_growth_mb": None if before is None or after is None else round(after - before, 1),
        }
        if exact:
            t0 = time.perf_counter()
            for t, cands in zip(texts, cand_lists, strict=True):
                for i in cands:
                    matcher.count(i, t, 1)
            run["total_mb_s"] = round(total / (pre + time.perf_counter() - t0) / 1e6, 2)
        runs[size] = run
        del matcher
    return {"bytes": total, "patterns": len(patterns), "runs": runs}
