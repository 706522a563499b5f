"""HTMLEval checks: facts the HTML renderer collected, tested per HTML part.

SpamAssassin 4.0.1 keeps one results table per rendered text/html leaf (`html_all`, message
order, parts inside attached messages included) and every check asks "does *any* part
satisfy this?"; nothing is summed across parts. An empty text/html part has no table. These
functions therefore loop over `ctx.html_docs` (one `HtmlDocument` per rendered part) and stop
at the first part that satisfies the test.

A reference quirk kept on purpose: the renderer stores `<meta>` charsets outside the results
table, so `html_charset_faraway` never sees any and never hits.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.html import HtmlDocument
from spamkiln.runtime.locales import charset_ok_for_locales, my_locales

from ._perl import perl_number, perl_true, value_expression

__all__ = [
    "EVALS",
    "check_iframe_src",
    "html_charset_faraway",
    "html_eval",
    "html_image_only",
    "html_image_ratio",
    "html_range",
    "html_tag_balance",
    "html_tag_exists",
    "html_test",
    "html_text_match",
    "html_text_not_match",
    "html_title_subject_ratio",
]

_TAG_NAME = re.compile(r"[a-zA-Z0-9]+\n?\Z")
_EXPRESSION = re.compile(r"[<>=!\-+ 0-9]+\n?\Z")


@lru_cache(maxsize=128)
def _compile(pattern: str) -> regex.Pattern[str] | None:
    """A rule's Perl pattern (no delimiters) for matching decoded HTML text."""
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError):
        return None


def _result(doc: HtmlDocument, name: str) -> object:
    """A named result, None where the reference would have none.

    The renderer keeps empty lists and dicts where the reference never created the entry
    (no comment seen, no tag seen): those read as undefined here.
    """
    value = doc.result(name)
    if isinstance(value, (list, dict)) and not value:
        return None
    return value


def html_test(ctx: MessageContext, test: str = "", *_: str) -> bool:
    """A boolean fact such as 'html', 'font_low_contrast' or 'embeds' is set in some part."""
    return any(perl_true(_result(doc, test)) for doc in ctx.html_docs)


def html_range(
    ctx: MessageContext,
    test: str = "",
    minimum: str = "0",
    maximum: str | None = None,
    *_: str,
) -> bool:
    """A numeric fact of some part lies in (min, max]; 'inf' (or no max) leaves it open."""
    low = perl_number(minimum)
    open_ended = maximum is None or maximum == "inf"
    high = 0.0 if open_ended else perl_number(maximum)
    for doc in ctx.html_docs:
        value = _result(doc, test)
        if value is None:
            continue
        if value == "inf" and not open_ended:
            continue
        number = perl_number(value)
        if open_ended:
            if number > low:
                return True
        elif low < number <= high:
            return True
    return False


def html_eval(ctx: MessageContext, test: str = "", expression: str = "", *_: str) -> bool:
    """A numeric fact of some part satisfies an expression such as '< 512'."""
    if not _EXPRESSION.match(expression):
        return False
    predicate = value_expression(expression)
    if predicate is None:
        return False
    for doc in ctx.html_docs:
        value = _result(doc, test)
        if value is not None and predicate(perl_number(value)):
            return True
    return False


def html_tag_balance(ctx: MessageContext, tag: str = "", expression: str = "", *_: str) -> bool:
    """Opened-minus-closed count of a tag (never below 0) satisfies an expression."""
    if not _TAG_NAME.match(tag) or not _EXPRESSION.match(expression):
        return False
    predicate = value_expression(expression)
    if predicate is None:
        return False
    tag = tag.rstrip("\n")
    return any(tag in doc.inside and predicate(float(doc.inside[tag])) for doc in ctx.html_docs)


def html_tag_exists(ctx: MessageContext, tag: str = "", *_: str) -> bool:
    return any(tag in doc.inside for doc in ctx.html_docs)


def html_image_only(ctx: MessageContext, minimum: str = "0", maximum: str = "0", *_: str) -> bool:
    """HTML_IMAGE_ONLY_*: a part with an <img> and little markup around it."""
    low, high = perl_number(minimum), perl_number(maximum)
    return any("img" in doc.inside and low < doc.length <= high for doc in ctx.html_docs)


def html_image_ratio(ctx: MessageContext, minimum: str = "0", maximum: str = "0", *_: str) -> bool:
    """HTML_IMAGE_RATIO_*: few visible characters per pixel of declared image area."""
    low, high = perl_number(minimum), perl_number(maximum)
    for doc in ctx.html_docs:
        if doc.image_area > 0 and low < doc.non_space_len / doc.image_area <= high:
            return True
    return False


def html_charset_faraway(ctx: MessageContext, *_: str) -> bool:
    """Most <meta> charsets of a part are foreign to ok_locales.

    The reference reads a 'charsets' result its renderer never stores, so this stays false
    on every message; it is written out in full so it starts working if that ever changes.
    """
    locales = my_locales(str(ctx.config.get("ok_locales") or ""))
    if "all" in locales:
        return False
    for doc in ctx.html_docs:
        charsets = doc.result("charsets")
        if not isinstance(charsets, str):
            continue
        okay = bad = 0
        for charset in charsets.split():
            if charset_ok_for_locales(charset, locales):
                okay += 1
            else:
                bad += 1
        if bad and bad >= okay:
            return True
    return False


def _text_lists(ctx: MessageContext, name: str) -> list[list[str]]:
    lists = []
    for doc in ctx.html_docs:
        value = doc.result(name)
        if isinstance(value, list):
            lists.append(value)
    return lists


def html_text_match(ctx: MessageContext, name: str = "", pattern: str = "", *_: str) -> bool:
    """Some collected text ('title', 'comment', 'script', 'anchor') matches a regex."""
    compiled = _compile(pattern)
    if compiled is None:
        return False
    return any(
        compiled.search(text) is not None
        for texts in _text_lists(ctx, name)
        for text in texts
        if text is not None
    )


def html_text_not_match(ctx: MessageContext, name: str = "", pattern: str = "", *_: str) -> bool:
    """Some collected text ('title', ...) does not match a regex."""
    compiled = _compile(pattern)
    if compiled is None:
        return False
    return any(
        compiled.search(text) is None
        for texts in _text_lists(ctx, name)
        for text in texts
        if text is not None
    )


def html_title_subject_ratio(ctx: MessageContext, ratio: str = "0", *_: str) -> bool:
    """__HTML_TITLE_SUBJ_DIFF: a <title> several times longer than the Subject.

    The Subject is measured as header rules see it: decoded UTF-8 bytes with its newline.
    """
    subject = ctx.header("Subject")
    if not subject:
        return False
    limit = perl_number(ratio)
    for doc in ctx.html_docs:
        longest = max(
            (len(title) / len(subject) for title in doc.titles if perl_true(title)),
            default=0.0,
        )
        if longest > limit:
            return True
    return False


def check_iframe_src(ctx: MessageContext, *_: str) -> bool:
    """HTML_IFRAME_SRC: an <iframe src=...> was seen."""
    return any("iframe" in info.types for doc in ctx.html_docs for info in doc.uris.values())


EVALS = {
    "check_iframe_src": check_iframe_src,
    "html_charset_faraway": html_charset_faraway,
    "html_eval": html_eval,
    "html_image_only": html_image_only,
    "html_image_ratio": html_image_ratio,
    "html_range": html_range,
    "html_tag_balance": html_tag_balance,
    "html_tag_exists": html_tag_exists,
    "html_test": html_test,
    "html_text_match": html_text_match,
    "html_text_not_match": html_text_not_match,
    "html_title_subject_ratio": html_title_subject_ratio,
}
