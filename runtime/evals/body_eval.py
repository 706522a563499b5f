"""BodyEval checks: body size, text-vs-HTML alternatives, vertical text, stock tips.

SpamAssassin 4.0.1 semantics, quirks included: the alternative-difference figures come from
the *last* multipart/alternative that has HTML words while the percentage is the maximum over
all of them, an image-only HTML alternative counts as one (invisible) word, and "vertical
words" looks at every rendered line longer than five bytes, the Subject line included.
"""

from __future__ import annotations

import regex

from spamkiln.runtime import body as body_views
from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.html import HtmlDocument
from spamkiln.runtime.message import Part
from spamkiln.runtime.mime import decoded_content

from ._perl import perl_number

__all__ = [
    "EVALS",
    "check_blank_line_ratio",
    "check_body_length",
    "check_stock_info",
    "multipart_alternative_difference",
    "multipart_alternative_difference_count",
    "tvd_vertical_words",
]

# Perl's \s and \w differ for decoded text (Unicode) and for octets (ASCII only).
_SPLIT_CHARACTERS = regex.compile(r"\s+")
_WORD_CHARACTERS = regex.compile(r"\w")
_SPLIT_OCTETS = regex.compile(r"\s+", regex.ASCII)
_WORD_OCTETS = regex.compile(r"\w", regex.ASCII)
_MULTIPART_ALTERNATIVE = regex.compile(r"^multipart/alternative\b")
_TEXT_TYPE = regex.compile(r"^text\b")
_INVISIBLE_IMAGE_WORD = "\n"  # what an image-only HTML alternative counts as
_NON_BLANK = regex.compile(rb"\S")
_STOCK_LABEL = regex.compile(r"^\s*([^:\s][^:\n]{2,29})\s*:\s*\S", regex.M)
_NOT_LOWER_LETTER = regex.compile(r"[^a-z]")
# Labels of stock-tip fields, after lower-casing and dropping everything but a-z; only the
# trade date must be the whole label, the others may end a longer one ("newsymbol").
_STOCK_LABELS = (
    r"^trad(?:e|ing)date",
    r"company(?:name)?",
    r"s\w?(?:t\w?o\w?c\w?k|y\w?m(?:\w?b\w?o\w?l)?)",  # stock, sym, symbol (spaced out too)
    r"t(?:arget|icker)",
    r"(?:opening|current)p(?:rice)?",
    r"p(?:rojected|osition)",
    r"expectations",
    r"weeks?high",
    r"marketperformance",
    r"(?:year|week|month|day|price)(?:target|estimates?)",
    r"sector",
    r"r(?:ecommendation|ating)",
)
_STOCK_FIELD = regex.compile("(" + "|".join(_STOCK_LABELS) + r")\n?\Z")
_CHUNK = 2048  # SpamAssassin's MAX_BODY_LINE_LENGTH: paragraphs are cut into 2-4 KiB chunks


def check_body_length(ctx: MessageContext, maximum: str = "0", *_: str) -> bool:
    """__KAM_BODY_LENGTH_LT_*: the body as received (after the header block) is short."""
    return len(ctx.msg.pristine_body) <= perl_number(maximum)


# ---- multipart/alternative difference ---------------------------------------------------


def _html_documents_by_part(ctx: MessageContext) -> dict[int, HtmlDocument]:
    """Each rendered HTML leaf's document, keyed by the part's identity.

    The context renders HTML leaves in tree order and collects one document per part that
    had content; walking the leaves in the same order pairs them up. The renderer hands back
    the document's own `rendered` string, which the body view caches on the part, so every
    pair is confirmed by identity; should they ever disagree, no pairing is trusted.
    """
    ctx.body_lines  # noqa: B018 - renders (and caches) every text part with the real renderer
    documents = iter(ctx.html_docs)
    paired: dict[int, HtmlDocument] = {}
    for part in ctx.msg.leaves():
        rendered = part.cache.get("rendered")
        if (
            body_views.effective_type(part) != "text/html"
            or "render_error" in part.cache
            or not decoded_content(part)
        ):
            continue
        doc = next(documents, None)
        if doc is None or doc.rendered is not rendered:
            return {}
        paired[id(part)] = doc
    return paired


def _words(text: str, characters: bool) -> dict[str, int]:
    split, word = (
        (_SPLIT_CHARACTERS, _WORD_CHARACTERS) if characters else (_SPLIT_OCTETS, _WORD_OCTETS)
    )
    counts: dict[str, int] = {}
    for token in split.split(text):
        if token and word.search(token):
            counts[token] = counts.get(token, 0) + 1
    return counts


def _alternative_parts(part: Part) -> list[Part]:
    """The text/* nodes below a multipart/alternative, in tree order."""
    return [p for p in part.walk() if p.content_type and _TEXT_TYPE.match(p.content_type)]


def _madiff(ctx: MessageContext) -> tuple[float, int, int]:
    """(max % of HTML words absent from the text alternative, HTML words, text words)."""
    cached = ctx.msg.cache.get("evals.madiff")
    if isinstance(cached, tuple):
        return cached
    result = _compute_madiff(ctx)
    ctx.msg.cache["evals.madiff"] = result
    return result


def _is_calendar_invite(ctx: MessageContext) -> bool:
    """multipart/alternative of exactly text/html and text/calendar: an invitation."""
    root = ctx.msg.root
    children = root.children or []
    return (
        root.content_type == "multipart/alternative"
        and len(children) == 2
        and children[0].content_type == "text/html"
        and children[0].children is None
        and children[1].content_type == "text/calendar"
        and children[1].children is None
    )


def _compute_madiff(ctx: MessageContext) -> tuple[float, int, int]:
    alternatives = [p for p in ctx.msg.parts() if _MULTIPART_ALTERNATIVE.match(p.content_type)]
    if not alternatives or _is_calendar_invite(ctx):
        return 0.0, 0, 0
    documents = _html_documents_by_part(ctx)
    difference, html_words, text_words = 0.0, 0, 0
    for alternative in alternatives:
        html: dict[str, int] = {}
        text: dict[str, int] = {}
        for part in _alternative_parts(alternative):
            kind = body_views.effective_type(part)
            if kind not in ("text/plain", "text/html"):
                continue
            rendered = body_views.rendered_part_text(part)
            if rendered is None:
                continue
            characters = part.cache.get("decoded_to_characters") is True
            if kind == "text/html":
                for word, n in _words(rendered, characters).items():
                    html[word] = html.get(word, 0) + n
                doc = documents.get(id(part))
                if not html and doc is not None and "img" in doc.inside:
                    html[_INVISIBLE_IMAGE_WORD] = 1
            else:
                for word, n in _words(rendered, characters).items():
                    text[word] = text.get(word, 0) + n
        original = len(html)
        if original == 0:
            continue
        html_words, text_words = original, len(text)
        left = sum(1 for word, n in html.items() if not (word in text and n - text[word] < 1))
        difference = max(difference, left / original * 100)
    return difference, html_words, text_words


def multipart_alternative_difference(
    ctx: MessageContext, minimum: str = "0", maximum: str = "undef", *_: str
) -> bool:
    """MPART_ALT_DIFF: the HTML alternative says (almost) nothing the text one says."""
    difference = _madiff(ctx)[0]
    low = perl_number(minimum)
    return (low == 0 or difference > low) and (
        maximum == "undef" or difference <= perl_number(maximum)
    )


def multipart_alternative_difference_count(
    ctx: MessageContext, ratio: str = "0", min_html: str = "0", *_: str
) -> bool:
    """MPART_ALT_DIFF_COUNT: the text alternative has many more distinct words than the HTML."""
    _, html_words, text_words = _madiff(ctx)
    if not html_words > perl_number(min_html):
        return False
    return text_words / html_words > perl_number(ratio)


# ---- line shapes ------------------------------------------------------------------------


def _vertical_words(ctx: MessageContext) -> int:
    cached = ctx.msg.cache.get("evals.vertical_words")
    if isinstance(cached, int):
        return cached
    worst = -1
    for line in ctx.body_lines:
        length = len(line)
        if length <= 5:
            continue
        spaces = line.count(b" ")
        others = length - spaces
        percent = 100 if spaces > others or others == 0 else 100 * spaces // others
        worst = max(worst, percent)
    ctx.msg.cache["evals.vertical_words"] = worst
    return worst


def tvd_vertical_words(
    ctx: MessageContext, minimum: str = "0", maximum: str = "100", *_: str
) -> bool:
    """The highest share of spaces to other bytes in a rendered line, in [min, max)."""
    top = perl_number(maximum)
    if top >= 100:
        top = 101
    value = _vertical_words(ctx)
    return perl_number(minimum) <= value < top


def check_blank_line_ratio(
    ctx: MessageContext,
    minimum: str = "0",
    maximum: str = "100",
    min_lines: str = "1",
    *_: str,
) -> bool:
    """Percentage of blank lines in the decoded text parts, if there are enough lines."""
    needed = perl_number(min_lines)
    if needed < 1:
        needed = 1
    lines = blank = 0
    for chunk in ctx.rawbody_chunks:
        pieces = chunk.split(b"\n")
        if pieces[-1] == b"":
            pieces.pop()  # split /^/m yields no empty field after a final newline
        lines += len(pieces)
        blank += sum(1 for piece in pieces if not _NON_BLANK.search(piece))
    ratio = -1.0 if lines < needed else 100 * blank / lines
    low, high = perl_number(minimum), perl_number(maximum)
    return (low == 0 and ratio <= high) or (low < ratio <= high)


# ---- stock tips -------------------------------------------------------------------------


def _short_paragraphs(text: str) -> list[str]:
    """Cut text into 2-4 KiB chunks, preferably after a newline, ">" or space."""
    if len(text) <= _CHUNK:
        return [text]
    chunks: list[str] = []
    offset = 0
    while len(text) - offset > 2 * _CHUNK:
        end = -1
        for separator in ("\n", ">", " "):
            end = text.find(separator, offset + _CHUNK)
            if end >= 0 and end - offset + 1 <= 2 * _CHUNK:
                break
            end = -1
        if end < 0:
            end = offset + _CHUNK
        chunks.append(text[offset : end + 1])
        offset = end + 1
    if offset < len(text):
        chunks.append(text[offset:])
    return chunks


def _stock_fields(ctx: MessageContext) -> int:
    cached = ctx.msg.cache.get("evals.stock_info")
    if isinstance(cached, int):
        return cached
    found: set[str] = set()
    first = next((p for p in ctx.msg.parts() if p.content_type == "text/plain"), None)
    if first is not None:
        ctx.body_lines  # noqa: B018 - render with the real HTML renderer first
        rendered = body_views.rendered_part_text(first)
        for chunk in _short_paragraphs(rendered or ""):
            for label in _STOCK_LABEL.findall(chunk):
                m = _STOCK_FIELD.search(_NOT_LOWER_LETTER.sub("", label.lower()))
                if m:
                    found.add(m.group(1))
    ctx.msg.cache["evals.stock_info"] = len(found)
    return len(found)


def check_stock_info(ctx: MessageContext, minimum: str = "0", *_: str) -> bool:
    """TVD_STOCK1: labelled stock-tip fields (ticker, target price...) in the first text."""
    low = perl_number(minimum)
    return low == 0 or _stock_fields(ctx) >= low


EVALS = {
    "check_blank_line_ratio": check_blank_line_ratio,
    "check_body_length": check_body_length,
    "check_stock_info": check_stock_info,
    "multipart_alternative_difference": multipart_alternative_difference,
    "multipart_alternative_difference_count": multipart_alternative_difference_count,
    "tvd_vertical_words": tvd_vertical_words,
}
