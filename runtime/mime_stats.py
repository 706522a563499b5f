"""Per-message MIME statistics: part counts, encodings, charsets, QP density, text/HTML sizes.

SpamAssassin's MIMEEval computes all of these in one walk over every MIME node and its raw
(still transfer-encoded) lines, and a dozen rules then read single flags from the result
(`check_for_mime('mime_qp_long_line')`, `check_mime_multipart_ratio`, ...). This module does
the same walk once per message and caches the result on the message, working on whole part
bodies with C-speed byte operations instead of a Python loop over lines.

The figures keep the reference's quirks because rule scores were tuned on them: a part's
type and charset come from its own Content-Type header (not the parser's settled type), the
multipart/alternative size ratio only counts parts seen *after* the first alternative, and
`mime_qp_count` is the number of encoded characters once any QP line was seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .content_type import parse_content_type
from .locales import charset_ok_for_locales
from .message import Message, Part
from .mime import header_value

__all__ = ["MimeStats", "mime_stats", "split_raw_lines"]

# A QP line longer than 78 characters plus its newline (RFC 5322's limit, not RFC 2045's 76:
# Apple Mail and Outlook Web Access write 78, SpamAssassin bug 5491).
_QP_LONG_LINE = re.compile(rb"[^\n]{80}|[^\n]{79}\n")
# Escapes of characters that never needed encoding (printable ASCII other than "=", or tab).
_QP_NEEDLESS_ESCAPE = re.compile(rb"=(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])")
# Encoded blanks at the end of a line are legitimate; they are taken back out of the count.
_QP_TRAILING_BLANKS = re.compile(rb"((?:=09|=20)+)[\t\x0b\x0c\r ]*(?:\n|\Z)")
_NOT_ASCII_TEXT = re.compile(rb"[\x00\r\x80-\xff]")
_LINE_WITH_NOT_ASCII_TEXT = re.compile(rb"^[^\n]*[\x00\r\x80-\xff]", re.M)
_UNICODE_ENTITY = re.compile(rb"&#x[0-9A-F]{4};")
_ASCII_CHARSET_ALIAS = re.compile(
    r"us-ascii|ansi_x3\.4-1968|iso-ir-6|ansi_x3\.4-1986|iso_646\.irv:1991|ascii|iso646-us"
    r"|us|ibm367|cp367|csascii"
)
_INLINE_OR_ATTACHMENT = re.compile(r"^(?:attachment|inline)")
_ISO_CHARSET = re.compile(r"iso-\S+-\S+\b", re.I)
_KNOWN_ISO_CHARSET = re.compile(r"iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b")
_LETTER = re.compile(r"[a-z]", re.I)
_SPAM_LINE_PREFIX = b"SPAM: "


@dataclass
class MimeStats:
    """The MIME facts rules read by name (`check_for_mime(NAME)`)."""

    base64_count: int = 0
    base64_encoded_text: int = 0
    body_html_count: int = 0
    body_text_count: int = 0
    faraway_charset: int = 0
    missing_boundary: int = 0
    multipart_alternative: int = 0
    multipart_ratio: float = 1.0
    qp_count: int = 0
    qp_long_line: int = 0
    qp_ratio: float = 0.0
    qp_bytes: int | None = None
    ascii_text_illegal: int = 0
    text_unicode_ratio: float = 0.0
    attachment: int = 0  # absent in the reference until the first attachment
    bad_iso_charset: int = 0  # likewise
    charsets: list[str] = field(default_factory=list)  # every charset with a letter in it

    def flag(self, name: str) -> float | None:
        """The statistic a `check_for_mime` argument names, None for names never computed.

        Names are the reference's (`mime_base64_count`, ...); names it never sets (such as
        `mimepart_limit_exceeded`, which lives on the message, not here) answer None.
        """
        if not name.startswith("mime_"):
            return None
        attribute = name[5:]
        if attribute not in _FLAG_NAMES:
            return None
        if attribute == "html_charsets":
            return 1.0 if self.charsets else None
        value = getattr(self, attribute)
        return float(value) if value is not None else None


_FLAG_NAMES = frozenset(
    (
        "base64_count",
        "base64_encoded_text",
        "body_html_count",
        "body_text_count",
        "faraway_charset",
        "missing_boundary",
        "multipart_alternative",
        "multipart_ratio",
        "qp_count",
        "qp_long_line",
        "qp_ratio",
        "qp_bytes",
        "ascii_text_illegal",
        "text_unicode_ratio",
        "attachment",
        "bad_iso_charset",
        "html_charsets",
    )
)


def _lower_text(value: bytes | None) -> str:
    """A header value as the reference compares it: lower-cased, missing or "0" is empty."""
    if not value or value == b"0":
        return ""
    return value.decode("latin-1").lower()


def mime_stats(message: Message, locales: Sequence[str] = ("all",)) -> MimeStats:
    """The statistics of one message, computed on first use and cached on it."""
    key = "mime_stats:" + " ".join(locales)
    cached = message.cache.get(key)
    if isinstance(cached, MimeStats):
        return cached
    stats = _compute(message, tuple(locales))
    message.cache[key] = stats
    return stats


@dataclass
class _Totals:
    qp_bytes: int = 0
    qp_count: int = 0
    normal_chars: int = 0
    unicode_chars: int = 0
    leaf_types: list[str] = field(default_factory=list)
    leaf_bytes: list[int | None] = field(default_factory=list)


def _compute(message: Message, locales: tuple[str, ...]) -> MimeStats:
    stats = MimeStats()
    totals = _Totals()
    any_locale = "all" in locales
    for part in message.parts():
        ctype = parse_content_type(header_value(part, "content-type"))
        media = ctype.media_type
        if media == "multipart/alternative":
            stats.multipart_alternative = 1
        cte = _lower_text(header_value(part, "content-transfer-encoding"))
        disposition = _lower_text(header_value(part, "content-disposition"))
        # An empty charset= is still "declared" (and so not us-ascii) for the ASCII check.
        charset = ctype.charset.decode("latin-1").lower() if ctype.charset is not None else None
        _count_header(stats, media, cte, disposition, charset or "", locales, any_locale)
        if part.is_leaf:
            _scan_leaf(stats, totals, part, media, cte, disposition, charset)

    if totals.qp_bytes:
        stats.qp_ratio = totals.qp_count / totals.qp_bytes
        stats.qp_count = totals.qp_count
        stats.qp_bytes = totals.qp_bytes
    if totals.normal_chars:
        stats.text_unicode_ratio = totals.unicode_chars / totals.normal_chars
    if stats.multipart_alternative:
        stats.multipart_ratio = _alternative_ratio(totals)
    if any(state != 0 for state in message.boundary_state.values()):
        stats.missing_boundary = 1
    return stats


def _count_header(
    stats: MimeStats,
    media: str,
    cte: str,
    disposition: str,
    charset: str,
    locales: tuple[str, ...],
    any_locale: bool,
) -> None:
    """What one node's headers contribute (every node, containers included)."""
    if media == "text/html":
        stats.body_html_count += 1
    elif media[:4].lower() == "text":
        stats.body_text_count += 1
    if "base64" in cte:
        stats.base64_count += 1
    elif "quoted-printable" in cte:
        stats.qp_count += 1
    if disposition and "attachment" in disposition:
        stats.attachment += 1
    if (
        media.startswith("text")
        and "base64" in cte
        and (not charset or _ASCII_CHARSET_ALIAS.search(charset))
        and not (disposition and _INLINE_OR_ATTACHMENT.match(disposition))
    ):
        stats.base64_encoded_text = 1
    if _ISO_CHARSET.search(charset) and not _KNOWN_ISO_CHARSET.search(charset):
        stats.bad_iso_charset = 1
    if _LETTER.search(charset):
        stats.charsets.append(charset)
        if (
            not stats.faraway_charset
            and not any_locale
            and not charset_ok_for_locales(charset, locales)
        ):
            stats.faraway_charset = 1


def _scan_leaf(
    stats: MimeStats,
    totals: _Totals,
    part: Part,
    media: str,
    cte: str,
    disposition: str,
    charset: str | None,
) -> None:
    """What one leaf's raw lines contribute."""
    body = part.body or b""
    attachment = "attachment" in disposition
    totals.leaf_types.append(media)
    counted = 0 if not attachment else None
    if counted is not None and stats.multipart_alternative and media in ("text/plain", "text/html"):
        counted = len(body)
    totals.leaf_bytes.append(counted)
    if not body:
        return
    if cte == "quoted-printable":
        _scan_qp(stats, totals, body)
    if media == "text/plain" and charset in (None, "us-ascii") and _NOT_ASCII_TEXT.search(body):
        stats.ascii_text_illegal += len(_LINE_WITH_NOT_ASCII_TEXT.findall(body))
    if media == "text/plain" and cte in ("", "7bit", "8bit"):
        entities = len(_UNICODE_ENTITY.findall(body)) if b"&#x" in body else 0
        totals.unicode_chars += entities
        totals.normal_chars += len(body) - 8 * entities  # each "&#xNNNN;" is 8 bytes


def _scan_qp(stats: MimeStats, totals: _Totals, body: bytes) -> None:
    """Line lengths and needless escapes of a quoted-printable part (reports excluded)."""
    if body.startswith(_SPAM_LINE_PREFIX) or b"\n" + _SPAM_LINE_PREFIX in body:
        # Lines a SpamAssassin report left behind do not count: drop them first.
        body = b"".join(
            line for line in split_raw_lines(body) if not line.startswith(_SPAM_LINE_PREFIX)
        )
    if not body:
        return
    if _QP_LONG_LINE.search(body):
        stats.qp_long_line = 1
    totals.qp_bytes += len(body)
    if b"=" not in body:
        return
    totals.qp_count += len(_QP_NEEDLESS_ESCAPE.findall(body))
    for m in _QP_TRAILING_BLANKS.finditer(body):
        totals.qp_count -= len(m.group(1)) // 3


def split_raw_lines(body: bytes) -> list[bytes]:
    """A leaf's raw lines: split after each newline, keeping it (Perl's split /^/m)."""
    lines = body.split(b"\n")
    last = lines.pop()
    out = [line + b"\n" for line in lines]
    if last:
        out.append(last)
    return out


def _alternative_ratio(totals: _Totals) -> float:
    """text/plain bytes per text/html byte of the *last* alternative pair (bug 4207)."""
    text: int | None = None
    html: int | None = None
    for media, size in zip(reversed(totals.leaf_types), reversed(totals.leaf_bytes), strict=True):
        if size is None:
            continue
        if html is None and media == "text/html":
            html = size
        elif text is None and media == "text/plain":
            text = size
        if html is not None and text is not None:
            break
    if text is not None and html:
        return text / html
    return 1.0
