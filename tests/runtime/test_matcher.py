"""TargetMatcher: RE2 set pre-filter, shards and their canary, Perl-style counts, templates."""

from __future__ import annotations

import logging
import random
import time

import pytest

from spamkiln.runtime.matcher import (
    LITERAL_FOLD,
    CompiledPattern,
    TargetMatcher,
    bench,
    expand_templates,
)


def re2p(name: str, pattern: bytes) -> CompiledPattern:
    return CompiledPattern(name, pattern, "re2", pattern)


def rxp(name: str, set_pattern: bytes, exact: bytes) -> CompiledPattern:
    return CompiledPattern(name, set_pattern, "regex", exact)


PATTERNS = [
    re2p("FOO", b"foo"),
    re2p("BAR_CI", b"(?i)bar"),
    re2p("DIGITS", b"\\d{3,}"),
    re2p("LATIN1", b"[\\xC9\\xE9]t[\\xC9\\xE9]"),
    rxp("LOOKAHEAD", b"buy", b"buy(?= now)"),  # set pattern: the look-ahead dropped
    rxp("BACKREF", b"(\\w)(?s:.*)", b"(\\w)\\1"),
    CompiledPattern("ALWAYS", b"", "regex", b"^(?=.)"),  # no useful pre-filter: always run
    re2p("ANCHORED", b"^Subject:"),
]

TEXTS = [
    (b"", [6]),
    (b"nothing here", [5, 6]),
    (b"FOO? no: foo and BaR 1234", [0, 1, 2, 5, 6]),
    (b"\xe9t\xc9 buy later", [3, 4, 5, 6]),
    (b"Subject: buy now", [4, 5, 6, 7]),
    (b"x Subject:", [5, 6]),
]


@pytest.mark.parametrize("shard_size", [1, 2, 3, 7, 64])
@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_candidates_do_not_depend_on_sharding(
    shard_size: int, text: bytes, expected: list[int]
) -> None:
    m = TargetMatcher(PATTERNS, shard_size=shard_size)
    assert m.candidates(text) == expected
    assert m.shard_count == -(-7 // shard_size)  # ALWAYS is in no shard
    assert m.shard_failures == 0


EXACT = [
    (b"buy later", "LOOKAHEAD", 0),
    (b"buy now", "LOOKAHEAD", 1),
    (b"abc", "BACKREF", 0),
    (b"hello", "BACKREF", 1),
    (b"Subject: x", "ANCHORED", 1),
]


@pytest.mark.parametrize(("text", "name", "hits"), EXACT)
def test_candidates_are_confirmed_by_the_exact_pattern(text: bytes, name: str, hits: int) -> None:
    m = TargetMatcher(PATTERNS)
    index = [p.name for p in PATTERNS].index(name)
    assert index in m.candidates(text)
    assert m.count(index, text, 1) == hits


class FailingSet:
    """Stands in for an re2.Set whose DFA ran out of memory: "no match", silently."""

    def Match(self, text: bytes) -> None:
        return None


@pytest.mark.parametrize("shard_size", [1, 3, 64])
def test_confirmed_candidates_are_matches(shard_size: int) -> None:
    """A candidate is confirmed only when the pre-filter ran its exact pattern: then, and only
    then, a "does it match" count may be skipped."""
    m = TargetMatcher(PATTERNS, shard_size=shard_size)
    assert [m.confirmed(i) for i in range(len(PATTERNS))] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        True,
    ]
    widened = TargetMatcher([CompiledPattern("W", b"a+b", "re2", b"a{1,3}b")])
    assert not widened.confirmed(0)
    for text, _ in TEXTS:
        for i in m.candidates(text):
            if m.confirmed(i):
                assert m.count(i, text, 1) == 1


def test_canary_detects_a_silently_failing_shard(caplog: pytest.LogCaptureFixture) -> None:
    m = TargetMatcher(PATTERNS, shard_size=3)
    m._shards[1].rxset = FailingSet()
    with caplog.at_level(logging.WARNING, logger="spamkiln.runtime.matcher"):
        for text, expected in TEXTS:
            assert m.candidates(text) == expected
    assert m.shard_failures == len(TEXTS)
    assert sum("one by one" in r.message for r in caplog.records) == 1  # logged once per shard


def test_tiny_max_mem_falls_back_to_single_patterns(caplog: pytest.LogCaptureFixture) -> None:
    """With google-re2 1.1, Set::Compile test-runs the DFA and refuses a budget too small to
    work, so a tiny max_mem shows up at build time: shards are halved until RE2 takes them,
    and patterns no set takes are tested alone. Results must not change."""
    with caplog.at_level(logging.WARNING, logger="spamkiln.runtime.matcher"):
        m = TargetMatcher(PATTERNS, shard_size=64, max_mem=1024)
    assert m.shard_count == 0
    assert len(m.unsharded) == 7
    assert any("fit in no RE2 set" in r.message for r in caplog.records)
    for text, expected in TEXTS:
        assert m.candidates(text) == expected


def test_halving_keeps_what_fits() -> None:
    big = [re2p(f"P{k}", b"w%d[a-z]{1,40}x[0-9]{1,40}y" % k) for k in range(40)]
    m = TargetMatcher(big, shard_size=40, max_mem=200_000)
    assert m.shard_count > 1  # the 40-pattern set was too big and got split
    text = b"w7abcx12y w31zzx9y"
    assert m.candidates(text) == [7, 31]


COUNTS = [
    (re2p("AB", b"ab"), b"abxabyab", 10, 3),
    (re2p("AB", b"ab"), b"abxabyab", 2, 2),
    (re2p("AB", b"ab"), b"abxabyab", 1, 1),
    (re2p("AB", b"ab"), b"abxabyab", 0, 0),
    (re2p("AB", b"ab"), b"xyz", 5, 0),
    # Perl's //g: after an empty match the next may not be empty at the same offset
    (rxp("STAR", b"", b"x*"), b"axb", 10, 4),
    (rxp("LAZY", b"", b"a*?"), b"aa", 10, 5),
    (rxp("EMPTY_ALT", b"", b"(?:|a)"), b"aa", 10, 5),
    (rxp("DOLLAR", b"", b"\\s$"), b"a \n", 10, 2),
]


@pytest.mark.parametrize(("pattern", "text", "limit", "expected"), COUNTS)
def test_count_like_perl(pattern: CompiledPattern, text: bytes, limit: int, expected: int) -> None:
    assert TargetMatcher([pattern]).count(0, text, limit) == expected


def test_fallback_engine_timeout_counts_as_no_match(caplog: pytest.LogCaptureFixture) -> None:
    slow = rxp("SLOW", b"a", b"(?:a|aa)+$")
    m = TargetMatcher([slow], timeout=0.05)
    text = b"a" * 60 + b"!"
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="spamkiln.runtime.matcher"):
        assert m.count(0, text, 1) == 0
        assert m.count(0, text, 5) == 0
        assert m.first_match(0, text) is None
    assert time.perf_counter() - start < 2
    assert sum("timed out" in r.message for r in caplog.records) == 3
    assert m.count(0, b"aaa", 1) == 1  # fast inputs still match


def test_first_match_groups_and_captures() -> None:
    m = TargetMatcher(
        [
            re2p("URL", b"^https?://r\\.example/go\\?u=(.*)(?:\\n?\\z)"),
            re2p("NAMED", b"(?P<USER>[a-z]+)@(?P<HOST>[a-z.]+)"),
            rxp("NAMED_RX", b"@", b"(?P<USER>[a-z]+)@(?=x)"),
        ]
    )
    assert m.first_match(0, b"http://r.example/go?u=evil.example\n") == (
        b"http://r.example/go?u=evil.example\n"  # RE2's $ swallows the final newline
    )
    assert m.groups(0, b"http://r.example/go?u=evil.example\n") == (b"evil.example",)
    assert m.groups(0, b"nope") is None
    assert m.captures(1, b"me@a.b, you@c.d", 5) == {
        "USER": [b"me", b"you"],
        "HOST": [b"a.b", b"c.d"],
    }
    assert m.captures(1, b"me@a.b, you@c.d", 1) == {"USER": [b"me"], "HOST": [b"a.b"]}
    assert m.captures(2, b"me@x you@y", 5) == {"USER": [b"me"]}


TEMPLATE_EXPANSION = [
    (b"x%\\{T\\}y", {"T": [b"a.b", b"c"]}, b"x(?:a\\x2Eb|c)y"),
    (b"%\\{T:i\\}", {"T": [b"Ab\xe9"]}, b"(?:[\\x41\\x61][\\x62\\x42][\\xE9\\xC9])"),
    (b"%\\{T\\}%\\{U\\}", {"T": [b"a"], "U": []}, None),  # a tag without value: rule not run
    (b"%\\{T\\}", {"T": [b"", b"a", b"a"]}, b"(?:a)"),  # empty values dropped, duplicates too
    (b"%\\{T\\}", {}, None),
    (b"%\\{F\\x28x\\x29\\}", {"F(x)": [b"v"]}, b"(?:v)"),
]


@pytest.mark.parametrize(("pattern", "tags", "expected"), TEMPLATE_EXPANSION)
def test_expand_templates(pattern: bytes, tags: dict, expected: bytes | None) -> None:
    assert expand_templates(pattern, tags) == expected


def test_count_with_capture_templates() -> None:
    m = TargetMatcher(
        [
            CompiledPattern("T", b"(?i)^x(?s:.+)", "re2", b"(?i)^x%\\{ADDR:i\\}"),
            CompiledPattern("U", b"y(?s:.+)", "re2", b"y(?-i:%\\{ADDR\\})"),
        ]
    )
    tags = {"ADDR": [b"me@\xe9.example"]}
    assert m.count(0, b"XME@\xc9.EXAMPLE", 1, tags=tags) == 1
    assert m.count(0, b"xme@e.example", 1, tags=tags) == 0
    assert m.count(1, b"yME@\xe9.example", 1, tags=tags) == 0
    assert m.count(1, b"yme@\xe9.example", 1, tags=tags) == 1
    assert m.count(0, b"xme@\xe9.example", 1) == 0  # no tags: not run
    assert m.first_match(1, b"yme@\xe9.example", tags=tags) == b"yme@\xe9.example"


def test_bad_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown exact engine"):
        TargetMatcher([CompiledPattern("X", b"a", "pcre", b"a")])


@pytest.mark.parametrize("literals", [(), (b"abc",)])
def test_bad_set_pattern_is_refused(literals: tuple[bytes, ...]) -> None:
    with pytest.raises(ValueError, match="X: bad set pattern"):
        TargetMatcher([CompiledPattern("X", b"(?<=a)abc", "regex", b"(?<=a)abc", literals)])


def test_bench_reports_each_shard_size() -> None:
    texts = [b"foo bar 1234 \xe9t\xe9 buy now", b"nothing"] * 5
    result = bench(PATTERNS, texts, shard_sizes=(64, 2))
    assert result["bytes"] == sum(map(len, texts)) and result["patterns"] == len(PATTERNS)
    assert set(result["runs"]) == {64, 2}
    for run in result["runs"].values():
        assert run["candidates"] == 5 * (7 + 2) and run["shard_failures"] == 0
        assert run["prefilter_mb_s"] > 0 and run["total_mb_s"] > 0
        assert run["literal_patterns"] == 0 and run["shards"] >= 1


# ---- the literal pre-filter -------------------------------------------------------------------


def litp(
    name: str, pattern: bytes, literals: tuple[bytes, ...], exact: bytes = b""
) -> CompiledPattern:
    """A rule as the compiler writes it: folded literals every match of it contains."""
    if exact:
        return CompiledPattern(name, pattern, "regex", exact, literals)
    return CompiledPattern(name, pattern, "re2", pattern, literals)


LITERAL_PATTERNS = [
    litp("VIAGRA", b"(?i)v[i1]agra", (b"v1agra", b"viagra")),
    litp("MONEY", b"(?i)\\bmoney\\b", (b"money",)),
    litp("CAFE", b"(?i)caf[\\xC9\\xE9]", (b"caf\xe9",)),
    litp("WIN", b"(?i)w[io]n(?:\\s+big)?", (b"win", b"won")),
    litp("LOOK", b"buy", (b"buy",), exact=b"buy(?= now)"),  # set pattern is a superset
    litp("ANY_BUY", b"", (b"buy",), exact=b"buy(?!ing)"),  # no set pattern: the literal decides
    re2p("DIGITS", b"\\d{3,}"),  # no literal: sharded
    re2p("FOO", b"foo"),
]

LITERAL_TEXTS = [
    (b"", []),
    (b"nothing at all", []),
    (b"Buy V1AGRA now", [0, 5]),  # LOOK's set pattern is case-sensitive
    (b"MONEY money? moneybags", [1]),
    (b"CAF\xc9 and caf\xe9", [2]),
    (b"you WON big, 1234 foo", [3, 6, 7]),
    (b"buying", [4, 5]),  # candidates, not matches: the exact patterns decide
]


@pytest.mark.parametrize("shard_size", [1, 3, 64])
@pytest.mark.parametrize(("text", "expected"), LITERAL_TEXTS)
def test_literal_candidates(shard_size: int, text: bytes, expected: list[int]) -> None:
    m = TargetMatcher(LITERAL_PATTERNS, shard_size=shard_size)
    assert m.literal_patterns == 6 and m.shard_count == -(-2 // shard_size)
    assert m.candidates(text) == expected


def test_literals_only_remove_candidates() -> None:
    """The literal scan narrows what the set patterns let through; it never adds to it."""
    with_literals = TargetMatcher(LITERAL_PATTERNS)
    without = TargetMatcher(LITERAL_PATTERNS, use_literals=False)
    assert without.literal_patterns == 0
    for text, _ in LITERAL_TEXTS:
        narrowed, broad = with_literals.candidates(text), without.candidates(text)
        assert set(narrowed) <= set(broad)
        assert [i for i in broad if i != 5] == [i for i in narrowed if i != 5]  # 5: no set pattern


def _random_text(rng: random.Random) -> bytes:
    words = [
        b"win",
        b"WON",
        b"big",
        b"viagra",
        b"V1AGRA",
        b"money",
        b"Money",
        b"caf\xc9",
        b"buy",
        b"buying",
        b"now",
        b"foo",
        b"123",
        b"4567",
        b"x",
        b"\n",
        b"v1a",
    ]
    return b" ".join(rng.choice(words) for _ in range(rng.randint(0, 8)))


def test_no_match_is_lost() -> None:
    """Property: for many texts, candidates hold every pattern that really matches."""
    rng = random.Random(7)
    m = TargetMatcher(LITERAL_PATTERNS, shard_size=2)
    reference = TargetMatcher(LITERAL_PATTERNS, use_literals=False)
    matched = 0
    for _ in range(2000):
        text = _random_text(rng)
        candidates = set(m.candidates(text))
        for i in range(len(LITERAL_PATTERNS)):
            if reference.count(i, text, 1):
                matched += 1
                assert i in candidates, (LITERAL_PATTERNS[i].name, text)
    assert matched > 2000


def test_literals_are_matched_case_folded() -> None:
    m = TargetMatcher([litp("CAFE", b"(?i)caf[\\xC9\\xE9]", (b"caf\xe9",))])
    assert b"CAF\xc9".translate(LITERAL_FOLD) == b"caf\xe9"
    assert m.candidates(b"CAF\xc9") == [0]
    assert m.candidates(b"CAFE") == []


def test_failing_literal_set_falls_back_to_find(caplog: pytest.LogCaptureFixture) -> None:
    m = TargetMatcher(LITERAL_PATTERNS)
    scan = m._literal_scan
    assert scan is not None
    scan.sets = [(FailingSet(), *rest) for _, *rest in scan.sets]  # type: ignore[misc]
    with caplog.at_level(logging.WARNING, logger="spamkiln.runtime.matcher"):
        for text, expected in LITERAL_TEXTS:
            assert m.candidates(text) == expected
    assert scan.failures == len(LITERAL_TEXTS)
    assert sum("literal set failed" in r.message for r in caplog.records) == 1


def test_failing_probe_falls_back_to_a_regex_search() -> None:
    m = TargetMatcher(LITERAL_PATTERNS)
    for probe in m._probes.values():
        probe.rxset = FailingSet()  # type: ignore[assignment]
    for text, expected in LITERAL_TEXTS:
        assert m.candidates(text) == expected


def test_widely_shared_literals_go_to_the_shards() -> None:
    """A literal many rules need is a common token: a shard tests those rules in one call."""
    common = [litp(f"HTTP{k}", b"http%d" % k, (b"http",)) for k in range(5)]
    rare = [litp("RARE", b"zebra", (b"zebra",))]
    m = TargetMatcher(common + rare, literal_max_owners=4)
    assert m.literal_patterns == 1 and m.shard_count == 1
    assert m.candidates(b"http3 zebra") == [3, 5]
    m = TargetMatcher(common + rare, literal_max_owners=5)
    assert m.literal_patterns == 6 and m.shard_count == 0
    assert m.candidates(b"http3 zebra") == [3, 5]
