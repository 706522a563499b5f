"""Reading Content-Type and Content-Disposition values the lenient way SpamAssassin does.

Real mail has unquoted boundaries, missing semicolons, a charset followed by junk and types
made of punctuation. SpamAssassin (`Util::parse_content_type`) settles each case in a specific
way, and the MIME tree, the charset used for decoding and the body rules all follow from it,
so this module reproduces those outcomes rather than RFC 2045's grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ContentType", "disposition_filename", "parse_content_type"]

_BOUNDARY = re.compile(rb"""\bboundary\s*=\s*("[^"]+|[^\s";]+(?=[\s;]|\n?\Z))""", re.I)
_CHARSET = re.compile(rb"""\bcharset\s*=\s*["']?(.*?)["']?(?:;|\n?\Z)""", re.I)
_NAME = re.compile(rb"""\b(?:file)?name\s*=\s*["']?(.*?)["']?(?:;|\n?\Z)""", re.I)
_NAME_CONTINUED = re.compile(rb"\b(?:file)?name\*0\s*=", re.I)
_NAME_SEGMENT = re.compile(rb"""\b(?:file)?name\*(\d+)\s*=\s*["']?(.*?)["']?(?:;|\n?\Z)""", re.I)
_MEDIA_TYPE = re.compile(rb"[^/]+(?:/[^/\s]*)?", re.S)
_PLAIN_TEXT_EXCEPTIONS = re.compile(rb"text/(?:x-vcard|calendar|html)\n?\Z")
_TEXTUAL = re.compile(rb"text\b")
# Bytes SpamAssassin deletes from the simplified type: controls, space, 8-bit, tspecials.
_TYPE_JUNK = bytes(range(0x00, 0x21)) + bytes(range(0x7F, 0x100)) + b'"(),:;<=>?@[\\]'
_DISPOSITION_NAME = re.compile(rb'name=\s*"?([^";]+)"?', re.I)


@dataclass(frozen=True, slots=True)
class ContentType:
    """The parts of a Content-Type value that drive parsing and decoding.

    `missing` is True when the header was absent or yielded no type at all; the type is then
    `text/plain` (or `message/rfc822` inside a multipart/digest, decided by the caller).
    """

    media_type: str
    boundary: bytes | None
    charset: bytes | None
    name: bytes | None
    missing: bool


def _perl_false(value: bytes | None) -> bool:
    """Perl truthiness of a string: undef, empty and "0" are false."""
    return value is None or value == b"" or value == b"0"


def parse_content_type(value: bytes | None) -> ContentType:
    """Parse the (last, decoded) Content-Type value; None means the header is absent."""
    missing = False
    if _perl_false(value):
        missing = True
        value = b"text/plain; charset=us-ascii"
    assert value is not None

    boundary = None
    match = _BOUNDARY.search(value)
    if match:
        boundary = match.group(1).replace(b'"', b"")

    match = _CHARSET.search(value)
    charset = match.group(1) if match else None
    match = _NAME.search(value)
    name = match.group(1) if match else None
    if _perl_false(name) and _NAME_CONTINUED.search(value):
        segments: dict[int, bytes] = {}
        for seg in _NAME_SEGMENT.finditer(value):
            segments[int(seg.group(1))] = seg.group(2)
        name = b"".join(segments[i] for i in sorted(segments))

    media = value.lstrip(b" \t\n\r\x0b\x0c")
    semicolon = media.find(b";")
    if semicolon >= 0:
        media = media[:semicolon]
    match = _MEDIA_TYPE.match(media)
    media = match.group(0).lower() if match else media.lower()
    if _perl_false(media):
        missing = True
    if _perl_false(media) or (_TEXTUAL.match(media) and not _PLAIN_TEXT_EXCEPTIONS.match(media)):
        media = b"text/plain"
    media = media.translate(None, _TYPE_JUNK)
    return ContentType(media.decode("ascii"), boundary, charset, name, missing)


def disposition_filename(value: bytes | None) -> bytes | None:
    """The `name=`/`filename=` of a Content-Disposition value, SpamAssassin's loose way."""
    if not value:
        return None
    match = _DISPOSITION_NAME.search(value)
    return match.group(1) if match else None
