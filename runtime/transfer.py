"""Content-Transfer-Encoding decoders that tolerate what real mail does wrong.

SpamAssassin never rejects bad base64 or quoted-printable; it decodes what it can
(`Util::base64_decode`, `Util::qp_decode`). Rules see the result, so the tolerant behaviour is
part of the contract: stray characters are skipped, an `=` in the middle of base64 still yields
bits, a lone `=` in quoted-printable stays literal. uuencoded bodies are not decoded at all by
SpamAssassin (only its AntiVirus plugin sniffs for them), so there is no uudecoder here.
"""

from __future__ import annotations

import binascii
import re

__all__ = ["base64_decode", "qp_decode"]

_B64_WHITESPACE = b" \t\n\r\x0b\x0c"
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_WELL_FORMED = re.compile(rb"[A-Za-z0-9+/=]{2,}")
_B64_INNER_PADDING = re.compile(rb"=+(?!=*\Z)")
_DELETE_NON_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET + b"=")
# In the slow path an inner "=" is read as the last uuencode digit, i.e. the value of "/".
_INNER_EQUALS_AS_63 = bytes.maketrans(b"=", b"/")


def base64_decode(data: bytes) -> bytes:
    """Decode base64 the forgiving way SpamAssassin does.

    Whitespace is ignored. Well-formed input (only alphabet and `=`, a multiple of 4 long) has
    inner `=` runs read as zero bits ("A"); anything else has non-alphabet bytes dropped,
    trailing `=` removed and inner `=` read as the value 63. Leftover bits that do not make a
    whole byte are dropped in both cases.
    """
    text = data.translate(None, _B64_WHITESPACE)
    if len(text) % 4 == 0 and _B64_WELL_FORMED.fullmatch(text):
        if b"=" in text:
            text = _B64_INNER_PADDING.sub(lambda m: b"A" * len(m.group()), text)
            text = text.rstrip(b"=")
    else:
        text = text.translate(None, _DELETE_NON_B64).rstrip(b"=")
        text = text.translate(_INNER_EQUALS_AS_63)
    return _decode_unpadded(text)


def _decode_unpadded(text: bytes) -> bytes:
    """Decode pure-alphabet base64 of any length, dropping incomplete trailing bits."""
    remainder = len(text) % 4
    if remainder == 1:
        text = text[:-1]
    elif remainder:
        text += b"=" * (4 - remainder)
    try:
        return binascii.a2b_base64(text)
    except binascii.Error:  # pragma: no cover - input is pure alphabet, padded correctly
        return b""


_QP_TRAILING_BLANKS = re.compile(rb"[ \t]+(?=\r?\n)")
_QP_SOFT_BREAK = re.compile(rb"=\r?\n")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def qp_decode(data: bytes) -> bytes:
    """Decode quoted-printable as SpamAssassin does (lower-case hex accepted).

    Trailing blanks are dropped before soft line breaks are removed, so `= ` at a line end is
    still a soft break; an `=` not followed by two hex digits stays as it is.
    """
    if b"=" not in data and b" \n" not in data and b"\t\n" not in data and b"\r" not in data:
        return data
    data = _QP_TRAILING_BLANKS.sub(b"", data)
    data = _QP_SOFT_BREAK.sub(b"", data)
    if b"=" not in data:
        return data
    return _QP_ESCAPE.sub(_unhex, data)


def _unhex(match: re.Match[bytes]) -> bytes:
    return bytes([int(match.group(1), 16)])
