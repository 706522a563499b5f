"""Bytes to text the way SpamAssassin 4.0.1 does it with `normalize_charset 1`.

SpamAssassin (`Message::Node::_normalize`) does not trust the declared charset: 8-bit data is
first tried as strict UTF-8 whatever the label says, then with the declared charset (with its
own aliases: ISO-8859-1 means Windows-1252, UTF-16 endianness is guessed, GB18030 falls back to
GBK), then as Windows-1252 when every byte is ASCII or one of a few Latin-1 letters and
punctuation, and finally as non-strict Windows-1252. Body rules see the result as UTF-8, so a
byte-exact port of this ladder decides which rules can match accented or Asian text.

Charset names are resolved the way Perl's `Encode::find_encoding` resolves them on Debian 12,
not the way Python's codec registry does: the two disagree on many labels (`l1`, `us`,
`ks_c_5601`, `gb18030`, ...), and a label Perl cannot resolve sends SpamAssassin down its
fallback path. The table below was built by probing Perl's Encode with those labels.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

__all__ = [
    "charset_codec",
    "decode_header_octets",
    "decode_text",
    "decode_text_marked",
    "detect_utf16",
    "normalize_to_utf8",
]

# Labels for which SpamAssassin skips decoding when the data is pure 7-bit.
_ASCII_LABEL = re.compile(r"(?:(?:US-)?ASCII|ANSI[_ ]?X3\.4-(?:1986|1968)|ISO646-US)\Z", re.I)
_ASCII_COMPATIBLE_LABEL = re.compile(
    r"(?:ISO[ -]?8859(?:-\d{1,2})?|Windows-\d{4}|UTF-?8|(?:KOI8|EUC)-[A-Z]{1,2}|Big5|GBK"
    r"|GB[ -]?18030(?:-20\d\d)?)\Z",
    re.I,
)
_STRICT_US_ASCII = re.compile(r"(?:US-)?ASCII\Z", re.I)
_UTF16_LABEL = re.compile(r"UTF[ -]?16", re.I)
_WINDOWS_1252_LABEL = re.compile(r"(?:ISO-?8859-1|Windows-1252|CP1252)\Z", re.I)
_UTF8_LABEL = re.compile(r"UTF-?8\Z", re.I)
_GB18030_LABEL = re.compile(r"GB[ -]?18030(?:-20\d\d)?\Z", re.I)

# Bytes that let SpamAssassin guess Windows-1252 for undeclared 8-bit text: ASCII, NBSP, (c),
# SHY, the cp1252 quotes/dashes/ellipsis/TM, and the Latin-1 letters (SA bug 7656).
_CP1252_GUESS_BYTES = bytes(
    [
        *range(0x80),
        *(0xA0, 0xA9, 0xAD, 0x82, 0x84, 0x85, 0x99),
        *range(0x91, 0x98),
        *range(0xC0, 0xD7),
        *range(0xD8, 0xDF),
        *range(0xE0, 0xF7),
        *range(0xF8, 0xFF),
    ]
)
_NON_ASCII = re.compile(rb"[\x80-\xff]")

# --- charset label resolution (what Perl's Encode::find_encoding answers on Debian 12) ------

# Exact labels (lower-cased) Perl resolves, mapped to the Python codec doing the same job.
# Probed with `perl -MEncode -e 'print Encode::find_encoding($_)->name'`.
_PERL_LABELS: dict[str, str] = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "utf-32": "utf-32",
    "utf-32le": "utf-32-le",
    "utf-32be": "utf-32-be",
    "ucs-2": "utf-16-be",
    "ucs2": "utf-16-be",
    "utf-7": "utf-7",
    "unicode-1-1-utf-7": "utf-7",
    "ascii": "ascii",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "iso646-us": "ascii",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "latin2": "iso8859-2",
    "latin-2": "iso8859-2",
    "latin3": "iso8859-3",
    "latin4": "iso8859-4",
    "latin5": "iso8859-9",
    "latin6": "iso8859-10",
    "latin7": "iso8859-13",
    "latin8": "iso8859-14",
    "latin9": "iso8859-15",
    "latin10": "iso8859-16",
    "cyrillic": "iso8859-5",
    "arabic": "iso8859-6",
    "greek": "iso8859-7",
    "hebrew": "iso8859-8",
    "thai": "iso8859-11",
    "tis620": "iso8859-11",
    "tis-620": "iso8859-11",
    "koi8-r": "koi8-r",
    "koi8r": "koi8-r",
    "koi8-u": "koi8-u",
    "koi8u": "koi8-u",
    "big5": "big5",
    "big5-eten": "big5",
    "x-x-big5": "big5",
    "big-5": "big5",
    "big5-hkscs": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cp950": "cp950",
    "ms950": "cp950",
    "gb2312": "gb2312",
    "euc-cn": "gb2312",
    "euccn": "gb2312",
    "gb_2312-80": "gb2312",
    "hz-gb-2312": "gb2312",
    "hz": "hz",
    "gbk": "gbk",
    "cp936": "gbk",
    "ms936": "gbk",
    "euc-kr": "euc-kr",
    "euc_kr": "euc-kr",
    "euckr": "euc-kr",
    "ks_c_5601-1987": "cp949",
    "cp949": "cp949",
    "uhc": "cp949",
    "x-windows-949": "cp949",
    "johab": "johab",
    "iso-2022-kr": "iso2022-kr",
    "shift_jis": "shift_jis",
    "shiftjis": "shift_jis",
    "sjis": "shift_jis",
    "x-sjis": "shift_jis",
    "windows-31j": "cp932",
    "cp932": "cp932",
    "euc-jp": "euc-jp",
    "x-euc-jp": "euc-jp",
    "iso-2022-jp": "iso2022-jp",
    "iso-2022-jp-1": "iso2022-jp-1",
    "macintosh": "mac-roman",
    "x-mac-roman": "mac-roman",
    "macroman": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "maccyrillic": "mac-cyrillic",
    "x-mac-ce": "mac-latin2",
    "maccentraleurroman": "mac-latin2",
    "x-mac-greek": "mac-greek",
    "macgreek": "mac-greek",
    "x-mac-turkish": "mac-turkish",
    "macturkish": "mac-turkish",
    "x-mac-icelandic": "mac-iceland",
    "macicelandic": "mac-iceland",
}
_PERL_ISO8859 = re.compile(r"iso[-_ ]?8859[-_ ]?(\d{1,2})\Z")
_PERL_CODEPAGE = re.compile(r"(?:x-)?(?:windows|win|cp|ms|ibm)[-_ ]?(\d{3,4})\Z")


@lru_cache(maxsize=256)
def charset_codec(label: str) -> str | None:
    """The Python codec for a charset label, or None where Perl's Encode knows no decoder.

    GB18030 deliberately resolves to None: Debian's Perl lacks Encode::HanExtra, so
    SpamAssassin falls back to GBK, and so do we (see `_declared_codec`).
    """
    name = label.strip().lower()
    codec = _PERL_LABELS.get(name)
    if codec is None:
        match = _PERL_ISO8859.match(name)
        if match and 1 <= int(match.group(1)) <= 16 and match.group(1) != "12":
            codec = f"iso8859-{int(match.group(1))}"
        else:
            match = _PERL_CODEPAGE.match(name)
            if match:
                codec = f"cp{match.group(1)}"
    if codec is None:
        return None
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return None


# --- UTF-16 endianness sniffing -----------------------------------------------------------


def detect_utf16(data: bytes) -> str | None:
    """Guess UTF-16LE or BE for BOM-less text, SpamAssassin's way (SA bug 7252).

    Clues: a space encoded as `20 00` (LE) or `00 20` (BE) at an even offset, and which half of
    the byte pairs carries more weight (summed as nibbles, as SA does). With a BOM SA returns
    no decoder at all, which sends the text down the fallback path: we keep that quirk.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    even = data[0::2]
    odd = data[1::2]
    if len(odd) < len(even):
        odd += b"\x00"
    le_clues = _pair_count(even, odd, 0x20, 0x00)
    be_clues = _pair_count(even, odd, 0x00, 0x20)
    even_weight = _nibble_sum(even)
    odd_weight = _nibble_sum(odd)
    if even_weight > odd_weight * 4:
        le_clues += 1
    if odd_weight * 4 > even_weight:
        be_clues += 1
    if le_clues > be_clues:
        return "utf-16-le"
    if be_clues > le_clues:
        return "utf-16-be"
    return None


def _pair_count(even: bytes, odd: bytes, first: int, second: int) -> int:
    """How many aligned byte pairs equal (first, second); bit arithmetic keeps it in C."""
    first_hits = even.translate(_ONLY[first])
    second_hits = odd.translate(_ONLY[second])
    both = int.from_bytes(first_hits, "big") & int.from_bytes(second_hits, "big")
    return both.bit_count()


def _only(value: int) -> bytes:
    return bytes(1 if b == value else 0 for b in range(256))


_ONLY = {0x00: _only(0x00), 0x20: _only(0x20)}
_NIBBLE_SUMS = bytes((b >> 4) + (b & 15) for b in range(256))


def _nibble_sum(data: bytes) -> int:
    """Sum of the high and low nibbles of every byte (SA sums hex digits, not byte values)."""
    return sum(data.translate(_NIBBLE_SUMS))


# --- the decoding ladder --------------------------------------------------------------------


def _declared_codec(label: str) -> str | None:
    """SA's choice of decoder for a declared label (its aliases, then Encode's)."""
    if _WINDOWS_1252_LABEL.match(label):
        return "cp1252"
    if _UTF8_LABEL.match(label):
        return "utf-8"
    codec = charset_codec(label)
    if codec is None and _GB18030_LABEL.match(label):
        codec = "gbk"
    return codec


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_text(data: bytes, charset: str, *, insist: bool = False, detect: bool = False) -> str:
    """Decode body or header bytes to text as SpamAssassin's `_normalize` does."""
    return decode_text_marked(data, charset, insist=insist, detect=detect)[0]


def decode_text_marked(
    data: bytes, charset: str, *, insist: bool = False, detect: bool = False
) -> tuple[str, bool]:
    """`decode_text` plus whether a decoder ran (Perl's UTF-8 flag on the result).

    SpamAssassin hands pure 7-bit text back as octets rather than characters, and that
    difference survives into the body text: when no part was decoded, the joined body keeps
    Latin-1 octets (from HTML entities such as `&#149;`) unencoded and squeezes only ASCII
    whitespace. Callers that join parts need the flag to reproduce that.

    `insist` is SA's mode for RFC 2047 encoded-words: no UTF-8 first guess, and the declared
    charset decodes non-strictly (bad bytes become U+FFFD). `detect` enables a
    charset-normalizer guess where SA would ask Encode::Detect; Debian does not ship that
    module, so SpamAssassin 4.0.1 as deployed never guesses and the default is off.
    """
    has_8bit = _NON_ASCII.search(data) is not None
    if not has_8bit and (_ASCII_LABEL.match(charset) or _ASCII_COMPATIBLE_LABEL.match(charset)):
        return data.decode("ascii"), False

    tried_utf8 = False
    if has_8bit and not insist:
        text = _strict(data, "utf-8")
        if text is not None:
            return text, True
        tried_utf8 = True

    text = None
    if _STRICT_US_ASCII.match(charset) and not insist:
        pass  # 8-bit data labelled US-ASCII: the label is certainly wrong
    elif _UTF16_LABEL.match(charset):
        codec = detect_utf16(data)
        if codec is not None:
            text = _strict(data, codec)
    else:
        codec = _declared_codec(charset)
        if codec is not None and not (tried_utf8 and codec == "utf-8"):
            # insist: non-strict, bad bytes become U+FFFD (Encode without FB_CROAK)
            text = data.decode(codec, "replace") if insist else _strict(data, codec)

    if text is not None:
        return text, True
    if not has_8bit:
        return data.decode("ascii"), False
    if not data.translate(None, _CP1252_GUESS_BYTES):
        return data.decode("cp1252"), True
    if detect:
        guessed = _detect(data, charset)
        if guessed is not None:
            return guessed, True
    # Last resort; like Perl's Encode, the five bytes cp1252 leaves undefined become U+FFFD.
    return data.decode("cp1252", "replace"), True


def _detect(data: bytes, declared: str) -> str | None:
    """Optional statistical guess (charset-normalizer), used only when asked for."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    codec = charset_codec(best.encoding.replace("_", "-")) or best.encoding
    if codec.lower() == declared.lower():
        return None
    return _strict(data, codec)


def normalize_to_utf8(data: bytes, charset: str, *, insist: bool = False) -> bytes:
    """`decode_text` re-encoded as UTF-8 octets; pure ASCII input comes back unchanged."""
    if not _NON_ASCII.search(data) and (
        _ASCII_LABEL.match(charset) or _ASCII_COMPATIBLE_LABEL.match(charset)
    ):
        return data
    return decode_text(data, charset, insist=insist).encode("utf-8", "surrogatepass")


def decode_header_octets(data: bytes) -> bytes:
    """Raw 8-bit header bytes as UTF-8: kept if valid UTF-8, else guessed as Windows-1252.

    RFC 6532 allows UTF-8 in header fields and nothing else, so SpamAssassin keeps valid UTF-8
    octets and otherwise falls back exactly as for a body part declared UTF-8.
    """
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return decode_text(data, "UTF-8").encode("utf-8", "surrogatepass")
