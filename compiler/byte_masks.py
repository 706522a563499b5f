"""Byte sets for Perl regexes: every class, escape and dot becomes a 256-bit mask (bit n =
byte n matches), with Perl's /aa and /i meanings on byte strings.
"""

from __future__ import annotations

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
