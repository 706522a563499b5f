"""MIMEEval checks: MIME structure, encodings and charsets (SpamAssassin 4.0.1 semantics).

Most checks read one figure of the per-message MIME statistics (runtime/mime_stats.py),
computed once however many rules ask. The rest look at the rendered body (upper-case ratio,
8-bit density) or at parser flags. Quirks of the reference are kept where rules were tuned on
them, e.g. the upper-case ratio examines the Subject line too, and a `check_for_mime` name the
statistics never set (`mimepart_limit_exceeded`) simply never hits.
"""

from __future__ import annotations

import re

from spamkiln.runtime.content_type import parse_content_type
from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.locales import charset_ok_for_locales, my_locales
from spamkiln.runtime.mime import header_value
from spamkiln.runtime.mime_stats import MimeStats, mime_stats

from ._perl import perl_number

__all__ = [
    "EVALS",
    "check_abundant_unicode_ratio",
    "check_base64_length",
    "check_for_ascii_text_illegal",
    "check_for_faraway_charset",
    "check_for_mime",
    "check_for_mime_html",
    "check_for_mime_html_only",
    "check_for_uppercase",
    "check_ma_non_text",
    "check_mime_multipart_ratio",
    "check_msg_parse_flags",
    "check_qp_ratio",
]

_RATIO_ARGUMENT = re.compile(r"\d{0,3}\.\d{1,3}\n?\Z")
_STARTS_TEXT_HTML = re.compile(rb"text/html", re.I)
# Charsets whose text legitimately looks like shouting once read as bytes (CJK, Cyrillic,
# Thai): the upper-case test stands down for them (SpamAssassin's CHARSETS_LIKELY_TO_FP_AS_CAPS).
_CAPS_PRONE_CHARSET = re.compile(
    r"[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)"
    r"[-_a-z0-9]*\n?\Z",
    re.I,
)
_CT_CHARSET = (
    re.compile(rb'charset="([^"]+)"', re.I),
    re.compile(rb"charset='([^']+)'", re.I),
    re.compile(rb"charset=(\S+)", re.I),
)
_WORD_GAP = re.compile(rb"\S\s+\S")
_FORWARDED_BASE64 = re.compile(rb"(?:[A-Za-z0-9+/=]{60,76} ){2}")
_SHIFT_JIS_ESCAPES = re.compile(rb"\x1b\$B.*\x1b\(B", re.S)
_LOWER_AND_DIGITS = b"abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Too little text to judge: one or two acronyms would swing the ratio.
_UPPERCASE_MIN_LENGTH = 200
_NON_TEXT_ALTERNATIVES_OK = ("multipart/related", "application/rtf")


def _locales(ctx: MessageContext) -> list[str]:
    return my_locales(str(ctx.config.get("ok_locales") or ""))


def _stats(ctx: MessageContext) -> MimeStats:
    return mime_stats(ctx.msg, _locales(ctx))


def _charset_of_content_type(value: bytes | None) -> str | None:
    """The charset parameter of the top-level Content-Type text, read loosely."""
    if value is None:
        return None
    for pattern in _CT_CHARSET:
        m = pattern.search(value)
        if m:
            return m.group(1).decode("latin-1")
    return None


# ---- statistics flags -------------------------------------------------------------------


def check_for_mime(ctx: MessageContext, test: str = "", *_: str) -> bool:
    value = _stats(ctx).flag(test)
    return bool(value)


def check_for_ascii_text_illegal(ctx: MessageContext, *_: str) -> bool:
    """PP_MIME_FAKE_ASCII_TEXT: a us-ascii text/plain part holding NUL, CR or 8-bit bytes."""
    return _stats(ctx).ascii_text_illegal > 0


def check_abundant_unicode_ratio(ctx: MessageContext, ratio: str = "", *_: str) -> bool:
    """Unencoded text/plain full of `&#xNNNN;` entities that no mail reader will render."""
    if not _RATIO_ARGUMENT.match(ratio):
        return False
    return _stats(ctx).text_unicode_ratio >= perl_number(ratio)


def check_mime_multipart_ratio(
    ctx: MessageContext, minimum: str = "0", maximum: str = "0", *_: str
) -> bool:
    """MIME_HTML_MOSTLY: the text/plain alternative is tiny next to the HTML one."""
    ratio = _stats(ctx).multipart_ratio
    return perl_number(minimum) <= ratio < perl_number(maximum)


def check_qp_ratio(ctx: MessageContext, minimum: str = "0", *_: str) -> bool:
    return _stats(ctx).qp_ratio >= perl_number(minimum)


def _top_content_type_is_html(ctx: MessageContext) -> bool:
    value = ctx.header("Content-Type")
    return bool(value) and _STARTS_TEXT_HTML.match(value) is not None  # type: ignore[arg-type]


def check_for_mime_html(ctx: MessageContext, *_: str) -> bool:
    if _top_content_type_is_html(ctx):
        return True
    return _stats(ctx).body_html_count > 0


def check_for_mime_html_only(ctx: MessageContext, *_: str) -> bool:
    """MIME_HTML_ONLY: HTML and no other text part to read instead."""
    if _top_content_type_is_html(ctx):
        return True
    stats = _stats(ctx)
    return stats.body_html_count > 0 and stats.body_text_count == 0


# ---- charsets ---------------------------------------------------------------------------


_ASCII_BYTES = bytes(range(0x80))


def _more_high_bits_than_low(text: bytes) -> bool:
    high = len(text.translate(None, _ASCII_BYTES))  # what is left once ASCII is deleted
    return high > 3 and len(text) - high <= high


def check_for_faraway_charset(ctx: MessageContext, *_: str) -> bool:
    """CHARSET_FARAWAY: the message charset is foreign to ok_locales and the body is 8-bit.

    Some foreign charsets (koi8-r) embed ASCII, so the body must also be mostly 8-bit.
    """
    locales = _locales(ctx)
    if "all" in locales:
        return False
    charset = _charset_of_content_type(ctx.header("Content-Type"))
    if charset is None or charset_ok_for_locales(charset, locales):
        return False
    return _more_high_bits_than_low(b"\n".join(ctx.body_lines))


# ---- upper case -------------------------------------------------------------------------


def _body_charset_is_caps_prone(ctx: MessageContext) -> bool:
    charsets = _stats(ctx).charsets
    top = _charset_of_content_type(ctx.header("Content-Type"))
    candidates = [top, *charsets] if top is not None else charsets
    return any(_CAPS_PRONE_CHARSET.match(c) for c in candidates)


def _uppercase_percentage(ctx: MessageContext) -> float:
    """Share of upper-case letters (digits count as lower case) in lines of real prose."""
    cached = ctx.msg.cache.get("evals.uppercase")
    if isinstance(cached, float):
        return cached
    value = 0.0
    if not _body_charset_is_caps_prone(ctx):
        length = lower = upper = 0
        for line in ctx.body_lines:
            if not _WORD_GAP.search(line) or _FORWARDED_BASE64.match(line):
                continue
            if b"\x1b$B" in line:
                line = _SHIFT_JIS_ESCAPES.sub(b"", line)
            length += len(line)
            lower += len(line) - len(line.translate(None, _LOWER_AND_DIGITS))
            upper += len(line) - len(line.translate(None, _UPPER))
        if length >= _UPPERCASE_MIN_LENGTH and upper + lower:
            value = upper / (upper + lower) * 100
    ctx.msg.cache["evals.uppercase"] = value
    return value


def check_for_uppercase(
    ctx: MessageContext, minimum: str = "0", maximum: str = "100", *_: str
) -> bool:
    value = _uppercase_percentage(ctx)
    return perl_number(minimum) < value <= perl_number(maximum)


# ---- structure --------------------------------------------------------------------------


def check_ma_non_text(ctx: MessageContext, *_: str) -> bool:
    """MULTIPART_ALT_NON_TEXT: an alternative offers something that is not text."""
    for part in ctx.msg.parts():
        if part.content_type != "multipart/alternative":
            continue
        if part.is_leaf:
            return True  # nesting too deep to parse: the node itself is the non-text offer
        for child in part.children or ():
            if not child.is_leaf or not child.content_type:
                continue
            kind = child.content_type.lower()
            if kind in _NON_TEXT_ALTERNATIVES_OK or kind.startswith("text/"):
                continue
            return True
    return False


def _longest_base64_line(ctx: MessageContext) -> int:
    cached = ctx.msg.cache.get("evals.base64_length")
    if isinstance(cached, int):
        return cached
    longest = 0
    for part in ctx.msg.leaves():
        body = part.body
        if not body:
            continue
        encoding = header_value(part, "content-transfer-encoding")
        if encoding is None or encoding.lower() != b"base64":
            continue
        # Calendar invites from big providers use long base64 lines legitimately.
        if parse_content_type(header_value(part, "content-type")).media_type == "application/ics":
            continue
        lines = body.split(b"\n")
        last = lines.pop()
        if lines:
            longest = max(longest, max(map(len, lines)) + 1)  # + the newline
        longest = max(longest, len(last))
    ctx.msg.cache["evals.base64_length"] = longest
    return longest


def check_base64_length(
    ctx: MessageContext, minimum: str = "0", maximum: str | None = None, *_: str
) -> bool:
    """BASE64_LENGTH_*: base64 lines longer than the 76 characters RFC 2045 allows."""
    longest = _longest_base64_line(ctx)
    if maximum is not None and longest > perl_number(maximum):
        return False
    return longest >= perl_number(minimum)


def check_msg_parse_flags(ctx: MessageContext, flag: str = "", *_: str) -> bool:
    """A parser flag on the top-level message (MISSING_HB_SEP, HEAD_LONG, ...)."""
    if flag == "truncated_header":
        # The reference also raises this flag while assembling the ALL pseudo-header, which
        # its header rules always do before this eval runs.
        ctx.header("ALL")
    return flag in ctx.msg.parse_flags


EVALS = {
    "check_abundant_unicode_ratio": check_abundant_unicode_ratio,
    "check_base64_length": check_base64_length,
    "check_for_ascii_text_illegal": check_for_ascii_text_illegal,
    "check_for_faraway_charset": check_for_faraway_charset,
    "check_for_mime": check_for_mime,
    "check_for_mime_html": check_for_mime_html,
    "check_for_mime_html_only": check_for_mime_html_only,
    "check_for_uppercase": check_for_uppercase,
    "check_ma_non_text": check_ma_non_text,
    "check_mime_multipart_ratio": check_mime_multipart_ratio,
    "check_msg_parse_flags": check_msg_parse_flags,
    "check_qp_ratio": check_qp_ratio,
}
