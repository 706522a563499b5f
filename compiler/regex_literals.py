"""Required literals: a pre-filter far cheaper than an RE2 set of whole patterns."""

from __future__ import annotations

from collections.abc import Iterable

from .byte_masks import (
    _mask,
)
from .regex_tree import (
    Alt,
    Assert,
    Atomic,
    ByteSet,
    Group,
    Keep,
    Lit,
    Look,
    Never,
    Node,
    Repeat,
    Seq,
)

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
