"""The C-library behaviours the C spamc's observable output depends on.

The C client turns option values into numbers with `atoi`, parses spamd's reply lines with
`sscanf`, converts scores with its own hand-written float parser working in single precision,
and prints them with `printf("%.1f")`. Scores such as `0.15` therefore print as `0.2` (the
float32 nearest 0.15 is slightly above it) where Python's doubles would print `0.1`. A drop-in
must reproduce those results, so they live here, written from the C semantics, with no
`re`/`struct`-style parsing shortcuts that would disagree on odd input.

All text is `bytes`: the C client works on byte strings and so do we.
"""

from __future__ import annotations

from struct import Struct

# isspace() in the C locale.
C_WHITESPACE = frozenset(b" \t\n\v\f\r")
_DIGITS = frozenset(b"0123456789")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1  # LP64 `long`
_FLOAT32 = Struct("f")


def c_string(data: bytes) -> bytes:
    """What C code sees of `data`: everything before the first NUL byte."""
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


def wrap_int32(value: int) -> int:
    """Truncate to a C `int` the way gcc on x86-64 does (two's complement, modulo 2**32)."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value


def strtol(text: bytes, start: int = 0) -> tuple[int, int]:
    """C `strtol(text + start, &end, 10)`: returns (value, end).

    Leading white space and one sign are accepted; when no digit follows, the value is 0 and
    `end` is `start` (C sets endptr to the original pointer). Out-of-range values saturate to
    LONG_MIN/LONG_MAX, as glibc does.
    """
    size = len(text)
    pos = start
    while pos < size and text[pos] in C_WHITESPACE:
        pos += 1
    negative = False
    if pos < size and text[pos] in b"+-":
        negative = text[pos] == 0x2D
        pos += 1
    digits_start = pos
    while pos < size and text[pos] in _DIGITS:
        pos += 1
    if pos == digits_start:
        return 0, start
    value = int(text[digits_start:pos])
    if negative:
        value = -value
    return min(max(value, _LONG_MIN), _LONG_MAX), pos


def atoi(text: bytes) -> int:
    """C `atoi`: glibc computes `(int) strtol(text, NULL, 10)`; "500k" is 500, "x" is 0."""
    return wrap_int32(strtol(c_string(text))[0])


def float32(value: float) -> float:
    """Round a double to the nearest single-precision value (C's `(float)` conversion)."""
    return _FLOAT32.unpack(_FLOAT32.pack(value))[0]


def spamc_float(text: bytes, size: int) -> float:
    """The C spamc's locale-independent number parser, bug for bug, in float32 arithmetic.

    It reads the integer part with strtol, then the digits after a dot with strtol again, and
    divides those by 10 to the power of *all* remaining characters (so "1.5x" is 1.05). A minus
    sign only counts when it is the first character, so "-0.04" is -0.04 but "-0.0" is +0.
    `size` is the C buffer size: the parser first cuts the text to size - 1 bytes.
    """
    text = c_string(text)[: size - 1]
    negative = text[:1] == b"-"
    whole, end = strtol(text)
    result = float32(float(whole))
    if end >= len(text) or text[end] != 0x2E:  # no '.' right after the integer part
        return result
    fraction_start = end + 1
    fraction = float32(float(strtol(text, fraction_start)[0]))
    if -0.00001 <= fraction <= 0.00001:
        return result
    divider = 1
    for _ in range(fraction_start, len(text)):
        divider = wrap_int32(divider * 10)  # a C int: 10**10 and beyond wrap around
    part = float32(fraction / float32(float(divider))) if divider else float("inf")
    return float32(result - part) if negative else float32(result + part)


class CScanf:
    """A compiled subset of C `sscanf` formats: literals, white space, `%Ns`, `%d`, `%*s`.

    Calling it returns the converted values up to the first mismatch, so `len(result)` is what
    sscanf would return. Like C, white space in the format matches any amount (including none),
    `%s` and `%d` skip leading white space, and literal characters must match exactly.
    """

    __slots__ = ("_steps",)

    def __init__(self, fmt: bytes) -> None:
        steps: list[tuple[str, object]] = []
        pos = 0
        while pos < len(fmt):
            char = fmt[pos]
            if char in C_WHITESPACE:
                steps.append(("space", None))
                while pos < len(fmt) and fmt[pos] in C_WHITESPACE:
                    pos += 1
                continue
            if char != 0x25:  # '%'
                steps.append(("literal", char))
                pos += 1
                continue
            pos += 1
            suppress = fmt[pos] == 0x2A  # '*'
            if suppress:
                pos += 1
            width_start = pos
            while fmt[pos] in _DIGITS:
                pos += 1
            width = int(fmt[width_start:pos]) if pos > width_start else 0
            conversion = chr(fmt[pos])
            pos += 1
            if conversion not in "sd":
                raise ValueError(f"unsupported conversion %{conversion}")
            steps.append(("skip_s" if suppress else conversion, width))
        self._steps = tuple(steps)

    def __call__(self, text: bytes) -> list[bytes | int]:
        text = c_string(text)
        size = len(text)
        pos = 0
        values: list[bytes | int] = []
        for kind, arg in self._steps:
            if kind == "space":
                while pos < size and text[pos] in C_WHITESPACE:
                    pos += 1
            elif kind == "literal":
                if pos >= size or text[pos] != arg:
                    break
                pos += 1
            else:
                while pos < size and text[pos] in C_WHITESPACE:
                    pos += 1
                if kind == "d":
                    value, end = strtol(text, pos)
                    if end == pos:
                        break
                    values.append(wrap_int32(value))
                    pos = end
                    continue
                limit = size if not arg else min(size, pos + int(arg))  # type: ignore[call-overload]
                end = pos
                while end < limit and text[end] not in C_WHITESPACE:
                    end += 1
                if end == pos:
                    break
                if kind == "s":
                    values.append(text[pos:end])
                pos = end
        return values
