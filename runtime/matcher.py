"""Scan-time regex matching for one target (body lines, one header, the URI list ...).

A target carries N rules. Running N regexes over every text is what makes SpamAssassin slow, so
each rule brings two patterns made by the compiler: a ``set_pattern`` that RE2 can always run
(exact, or a superset of what the rule matches) and an ``exact_pattern`` for the engine that has
Perl's meaning (RE2, or the backtracking ``regex`` module when the rule needs look-arounds or
back-references). ``re2.Set`` answers "which set patterns match this text" in one pass; only
those rules run their exact pattern.

RE2 sets fail silently: when a set's DFA runs out of memory, ``RE2::Set::Match`` returns false
and the Python binding reports "no match" (it drops the error). Every shard therefore carries a
canary (the empty pattern, which matches every text); a result without the canary means the
shard failed, and its patterns are then tested one by one, which never fails (a single RE2
regex falls back from the DFA to the NFA).

RE2 builds DFA states lazily and keeps them in a cache bounded by ``max_mem``; a set whose
cache is too small keeps resetting it and crawls (cache thrash), so the useful figure is the
*warm* throughput of a long-lived worker. Measured with ``bench`` on the build machine (2 shared
cores): the 634 body patterns of the shipped rules (ReplaceTags expanded; 543 exact RE2, 91
relaxed) over the text parts of 300 corpus messages (638 KB, HTML tags stripped crudely):

=========  ========  ===========  ===========  ==================
shards of  max_mem   cold MB/s    warm MB/s    DFA memory (RSS)
=========  ========  ===========  ===========  ==================
all (1)    64 MB     0.04         0.03         -
128        64 MB     0.15         0.33         -
64         64 MB     0.40         7.2-7.6      ~125 MB (10 sets)
32         64 MB     0.62         5.3          ~92 MB (20 sets)
16         64 MB     0.96         4.0          -
8          64 MB     1.09         2.6          -
64         32 MB     0.40         0.9          thrashes
8          8 MB      0.94         2.6          -
=========  ========  ===========  ===========  ==================

Run per body paragraph (3016 texts) instead of per body, 64-pattern shards give 3.9 MB/s for
the pre-filter and 2.3 MB/s including the exact confirmation of every candidate.

This module knows nothing about the compiler: it gets plain bytes patterns.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import re2
import regex as regex_engine

__all__ = [
    "DEFAULT_MAX_MEM",
    "DEFAULT_SHARD_SIZE",
    "DEFAULT_TIMEOUT",
    "CompiledPattern",
    "TargetMatcher",
    "bench",
    "expand_templates",
]

log = logging.getLogger(__name__)

# Best warm throughput in the table of the module docstring (one set of everything: 0.03 MB/s).
DEFAULT_SHARD_SIZE = 64
# Per set. RE2's default is 8 MiB; 64-pattern body shards then thrash (32 MiB still does), at
# 64 MiB their warm caches settle near 12 MiB each. A cap, taken lazily, not a commitment.
DEFAULT_MAX_MEM = 64 << 20
# The backtracking engine gets this many seconds per call; SpamAssassin has no such limit, but a
# catastrophic pattern must not hang spamd. A timeout counts as "no match" and is logged.
DEFAULT_TIMEOUT = 1.0
# Single set patterns re-tested after a shard failure (and exact RE2 patterns) get this budget.
_SINGLE_MAX_MEM = 32 << 20

_CANARY = b""  # the empty pattern matches every text at offset 0


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """What the generated module passes in, one per rule (see compiler.regex.RegexPlan)."""

    name: str
    set_pattern: bytes
    exact_engine: str  # "re2" or "regex"
    exact_pattern: bytes


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


class _Shard:
    __slots__ = ("canary", "members", "rxset")

    def __init__(self, members: list[int], rxset: re2.Set, canary: int) -> None:
        self.members, self.rxset, self.canary = members, rxset, canary


class TargetMatcher:
    """All regex rules of one target: one pre-filter pass, then exact runs for candidates."""

    def __init__(
        self,
        patterns: Sequence[CompiledPattern],
        *,
        shard_size: int = DEFAULT_SHARD_SIZE,
        max_mem: int = DEFAULT_MAX_MEM,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        self.patterns = tuple(patterns)
        self.timeout = timeout
        self._set_options = _re2_options(max_mem)
        self._always: list[int] = []  # empty set pattern: a candidate for every text
        self._singles: dict[int, re2._Regexp] = {}  # set patterns compiled alone, on demand
        self._failed_shards_logged: set[int] = set()
        self.shard_failures = 0  # how many times a shard fell back (for bench and tests)
        self._templates: dict[int, tuple[str, ...]] = {}
        self._template_cache: dict[tuple[int, bytes], _Exact] = {}
        self._exact: list[_Exact | None] = []
        for i, p in enumerate(self.patterns):
            names = _template_names(p.exact_pattern)
            if names:
                self._templates[i] = names
                self._exact.append(None)
            else:
                self._exact.append(_Exact(p.name, p.exact_engine, p.exact_pattern, timeout))
        filtered = [i for i, p in enumerate(self.patterns) if p.set_pattern]
        self._always = [i for i, p in enumerate(self.patterns) if not p.set_pattern]
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

    @property
    def shard_count(self) -> int:
        """RE2 sets built (a shard RE2 refused was halved until it compiled)."""
        return len(self._shards)

    @property
    def unsharded(self) -> tuple[str, ...]:
        """Names of patterns no RE2 set would take within max_mem (tested one by one)."""
        return tuple(self.patterns[i].name for i in self._unsharded)

    # -- pre-filter ---------------------------------------------------------------------------
    def candidates(self, text: bytes) -> list[int]:
        """Indices of the patterns whose set pattern matches `text` (sorted)."""
        found = list(self._always)
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


def bench(
    patterns: Sequence[CompiledPattern],
    texts: Sequence[bytes],
    *,
    shard_sizes: Sequence[int] = (10_000, 256, 128, 64, 32, 16),
    max_mem: int = DEFAULT_MAX_MEM,
    exact: bool = True,
) -> dict:
    """Throughput of the pre-filter (and of pre-filter + exact counts) per shard size.

    Returns ``{"bytes": N, "patterns": P, "runs": {shard_size: {...}}}`` where each run has
    ``build_s``, ``cold_prefilter_mb_s`` (first pass: RE2 builds its DFA states),
    ``prefilter_mb_s`` (second pass, warm caches, what a long-lived worker sees), ``total_mb_s``
    (warm pre-filter plus one exact ``count`` per candidate), ``candidates`` (total over all
    texts) and ``shard_failures``. The figures behind the defaults are in the module docstring.
    """
    total = sum(len(t) for t in texts)
    runs: dict[int, dict] = {}
    for size in shard_sizes:
        t0 = time.perf_counter()
        matcher = TargetMatcher(patterns, shard_size=size, max_mem=max_mem)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        cand_lists = [matcher.candidates(t) for t in texts]
        cold = time.perf_counter() - t0  # RE2 builds DFA states lazily: the first pass pays
        t0 = time.perf_counter()
        cand_lists = [matcher.candidates(t) for t in texts]
        pre = time.perf_counter() - t0
        run = {
            "build_s": round(build, 3),
            "cold_prefilter_mb_s": round(total / cold / 1e6, 2) if cold else None,
            "prefilter_mb_s": round(total / pre / 1e6, 2) if pre else None,
            "candidates": sum(len(c) for c in cand_lists),
            "shard_failures": matcher.shard_failures,
        }
        if exact:
            t0 = time.perf_counter()
            for t, cands in zip(texts, cand_lists, strict=True):
                for i in cands:
                    matcher.count(i, t, 1)
            run["total_mb_s"] = round(total / (pre + time.perf_counter() - t0) / 1e6, 2)
        runs[size] = run
    return {"bytes": total, "patterns": len(patterns), "runs": runs}
