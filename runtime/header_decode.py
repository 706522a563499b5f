"""Turning a raw header value into the decoded, unfolded text header rules match.

SpamAssassin (`Message::Node::header` and `_decode_header`) unfolds, trims, makes 8-bit bytes
valid UTF-8, and decodes RFC 2047 encoded-words, except in header fields whose syntax has no
encoded-words (Received, Message-ID, Date, ...). Adjacent encoded-words are glued together
without the whitespace between them, and consecutive words in the same charset are decoded as
one byte string, because senders often split a multi-byte character across two words.
"""

from __future__ import annotations

import re

from .charset import decode_header_octets, normalize_to_utf8
from .transfer import base64_decode, qp_decode

__all__ = ["decode_encoded_words", "decode_header_value", "unfold"]

_FOLD = re.compile(rb"\n[ \t]+")
_ASCII_SPACE = b" \t\n\r\x0b\x0c"
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_FOLD_TAB = re.compile(rb"\n[ \t]")
_LINE_BREAK = re.compile(rb"\r?\n")
_NOT_ENCODED = re.compile(
    r"(?:Received|(?:Resent-)?(?:Message-ID|Date)|MIME-Version|References|In-Reply-To|List-.*)\Z",
    re.I | re.S,
)
_WORD = rb"=\?[A-Za-z0-9*_-]+\?[bqBQ]\?[^?]*\?="
_GAP_BETWEEN_WORDS = re.compile(rb"(" + _WORD + rb")\s+(?=" + _WORD + rb")")
_SECTION = re.compile(rb"=\?([A-Za-z0-9*_-]+)\?([bqBQ])\?([^?]*)\?=|([^=]+|.)", re.S)
_LANGUAGE_SUFFIX = re.compile(rb"\*.*\Z", re.S)


def unfold(raw: bytes) -> bytes:
    """Unfold and trim a stored value (SA's `header()`): folds become one space.

    Trimming first gives the same result (a fold at either end is whitespace that trimming
    removes anyway) and spares the regex for the common single-line value.
    """
    raw = raw.strip(_ASCII_SPACE)
    if b"\n" in raw:
        raw = _FOLD.sub(b" ", raw)
    return raw


def decode_header_value(value: bytes, name: str) -> bytes:
    """Decode an unfolded value to UTF-8 octets as the rules see it (SA's `_decode_header`).

    `name` is the header field name; it decides whether encoded-words are decoded at all.
    """
    if not value:
        return b""
    if b"\n" in value:
        value = _LINE_BREAK.sub(b"", _FOLD_TAB.sub(b"\n ", value))
    if _NON_ASCII.search(value):
        value = decode_header_octets(value)
    if b"=?" in value and not _NOT_ENCODED.match(name):
        value = decode_encoded_words(value)
    return value


def decode_encoded_words(value: bytes) -> bytes:
    """Decode RFC 2047 encoded-words in a value, leaving the rest as it is (UTF-8 or ASCII)."""
    value = _GAP_BETWEEN_WORDS.sub(rb"\1", value)
    sections: list[list[bytes]] = []  # [text, charset]; charset b"" for plain text
    last_charset: bytes | None = None
    for match in _SECTION.finditer(value):
        if match.group(1) is not None:
            charset = match.group(1).lower()
            text = _decode_word_payload(match.group(2), match.group(3))
        else:
            charset = b""
            text = match.group(4)
        if charset == last_charset and sections:
            sections[-1][0] += text
        else:
            sections.append([text, charset])
        last_charset = charset
    out = []
    for text, charset in sections:
        if charset:
            label = _LANGUAGE_SUFFIX.sub(b"", charset).decode("latin-1")
            text = normalize_to_utf8(text, label, insist=True)
        out.append(text)
    return b"".join(out)


def _decode_word_payload(encoding: bytes, payload: bytes) -> bytes:
    """Undo the B or Q encoding of one encoded-word (charset conversion comes later)."""
    if encoding in (b"B", b"b"):
        return base64_decode(payload)
    return qp_decode(payload.replace(b"_", b"=20"))
