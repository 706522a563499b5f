"""SpamAssassin's line wrapper (`Util::wrap`), reproduced byte for byte.

Everything SpamAssassin folds goes through this one routine: the `X-Spam-Status` header (the
`tests=` list that spamass-milter and MTAs parse), rule descriptions in reports and the content
preview. Python's `textwrap` breaks lines differently (it measures words, trims spaces and never
lets the first word of a line overflow), so the Perl algorithm is followed here step by step:
split the text at break points keeping the separators, glue pieces onto the current line while it
stays within the width (tabs count eight columns), and start a new line with `prefix` otherwise.
Work is on bytes, as SpamAssassin works on octets: a multi-byte character counts once per byte.
"""

from __future__ import annotations

import re

__all__ = ["HEADER_BREAK", "WHITESPACE_BREAK", "perl_split", "wrap"]

# Perl's `\s` on octet strings: space, \t, \n, \r, \f and (since Perl 5.18) \v.
WHITESPACE_BREAK = re.compile(rb"([ \t\n\r\f\x0b])")
# `_process_header` breaks after whitespace or a comma (zero-width, so nothing is lost).
HEADER_BREAK = re.compile(rb"((?<=[ \t\n\r\f\x0b,]))")
_TRAILING_SPACE = re.compile(rb"[ \t\n\r\f\x0b]+\Z")
_TAB_EXTRA = 7  # a tab counts 8 columns: its own byte plus 7


def perl_split(pattern: re.Pattern[bytes], text: bytes) -> list[bytes]:
    """`split(/(PATTERN)/, TEXT)` without a limit: Perl drops every trailing empty field."""
    parts = pattern.split(text)
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _width(piece: bytes) -> int:
    return len(piece) + piece.count(b"\t") * _TAB_EXTRA


def wrap(
    text: bytes,
    prefix: bytes = b"",
    first: bytes = b"",
    length: int = 77,
    overflow: bool = False,
    breaker: re.Pattern[bytes] = WHITESPACE_BREAK,
) -> bytes:
    """Fold `text` at `length` columns; continuation lines start with `prefix`.

    `first` is put in front of the first line. With `overflow` a line is closed only once it is
    already too long (the preview uses this); without it a piece is added only if it still fits.
    The first piece of every line is always taken, so a long word is never split.
    """
    pieces = perl_split(breaker, text)
    if first:
        pieces.insert(0, first)
    pos = 0
    line_started = False
    only_prefix = False  # guard: SpamAssassin loops forever when the prefix alone is too wide
    while len(pieces) - 1 > pos:
        size = _width(pieces[pos])
        if line_started and not overflow:
            size += _width(pieces[pos + 1])
        if size <= length or only_prefix:
            pieces[pos] += pieces.pop(pos + 1)
            line_started = True
            only_prefix = False
        else:
            pieces[pos] = _TRAILING_SPACE.sub(b"", pieces[pos])
            pos += 1
            line_started = False
            only_prefix = True
            pieces.insert(pos, prefix)
    return b"\n".join(pieces)
