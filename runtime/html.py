"""Render an HTML body part the way SpamAssassin's body rules see it, and collect HTML facts.

SpamAssassin renders HTML with an *event* parser (HTML::Parser 3.81): every start and end tag
counts, even misnested or stray ones, because rules score tag balance (``</body>`` missing),
stray close tags and "bad tag" ratios.  A tree builder (lxml, Lexbor/selectolax, html5lib's
tree) re-nests, invents and drops tags, so those numbers drift.  The standard library's
``html.parser`` is an event tokenizer of the same lenient SGML family; this module drives it
with a small state machine that reproduces the reference renderer:

* entities are decoded here, not by ``html.parser``: the reference decodes a different set
  (``&#149;`` is U+0095, not a bullet; ``&region=`` in an attribute stays as written), so every
  ``&`` is swapped for a private-use sentinel before tokenizing and decoded afterwards;
* ``iframe``/``xmp`` content is raw text and ``title``/``textarea`` content is text with
  entities, as in the reference tokenizer;
* text style (colour, size, ``display:none``) is tracked on a stack to split visible from
  invisible text, and anchors, images, comments, titles, scripts and ``<meta>`` charsets are
  recorded for the HTMLEval-style checks and for URI extraction.

The entry point is :func:`parse_html`; malformed HTML never raises.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import regex

from .html_colors import INVALID_COLOR, _css_background_layers, color_to_rgb
from .html_entities import _DECODERS, _SENTINELS, _EntityDecoder
from .relative_uri import target_uri

__all__ = ["HtmlDocument", "HtmlUri", "parse_html"]

# Longest URI the reference keeps (Constants::MAX_URI_LENGTH); longer ones are cut and flagged.
MAX_URI_LENGTH = 8192


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------------
# Tag tables (the HTML 4.01 / XHTML 1.0 element set, as the reference classifies tags)

_ELEMENTS = _names(
    # HTML 4.01 strict
    "a abbr acronym address area b base bdo big blockquote body br button caption cite code "
    "col colgroup dd del dfn div dl dt em fieldset form h1 h2 h3 h4 h5 h6 head hr html i img "
    "input ins kbd label legend li link map meta noscript object ol optgroup option p param pre "
    "q samp script select small span strong style sub sup table tbody td textarea tfoot th "
    "thead title tr tt ul var "
    # HTML 4.01 loose
    "applet basefont center dir font frame frameset iframe isindex menu noframes s strike u "
    # widespread non-standard
    "nobr x-sigsep x-tab"
)
# Rendered like elements but counted as "bad" tags.
_TRICKS = _names("bgsound embed listing plaintext xmp")
_RENDERED = _ELEMENTS | _TRICKS
# Tags whose attributes change the text style (colour, size, visibility).
_TEXT_STYLE_TAGS = _names("body font table tr th td big small basefont marquee span p div a")
_NEWLINE_TAGS = frozenset(("br", "div"))
_SPACE_TAGS = _names("li th td dt dd embed h1 h2 h3 h4 h5 h6")
_PARAGRAPH_TAGS = _names("p hr blockquote pre listing plaintext xmp title")
_URI_TAGS = _names(
    "body table tr td a area link img frame iframe embed script form base bgsound meta"
)
_BACKGROUND_TAGS = frozenset(("body", "table", "tr", "td"))
_HREF_TAGS = frozenset(("a", "area", "link"))
_SRC_TAGS = frozenset(("img", "frame", "iframe", "embed", "script", "bgsound"))
# Attributes that may change the text style, per tag.
_STYLE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "basefont": frozenset(("color", "face", "size")),
    "body": frozenset(("text", "bgcolor", "link", "alink", "vlink", "background")),
    "font": frozenset(("color", "face", "size")),
    "marquee": frozenset(("bgcolor", "background")),
    "table": frozenset(("bgcolor", "style")),
    "td": frozenset(("bgcolor", "style")),
    "th": frozenset(("bgcolor", "style")),
    "tr": frozenset(("bgcolor", "style")),
    "span": frozenset(("style",)),
    "p": frozenset(("style",)),
    "div": frozenset(("style",)),
    "a": frozenset(("style",)),
}
_NO_ATTRIBUTES: frozenset[str] = frozenset()
# Office / Smart-tag namespaced tags (<o:p>, <st1:place>) count as elements but render nothing.
_NAMESPACE_TAG_RE = re.compile(r"(?:o|st\d):[\w-]+/?\Z")

# The reference's "whitespace" in text runs: ASCII blanks, plus the two characters a UTF-8 NBSP
# becomes when it is misread as Latin-1 (a real U+00A0 is *not* collapsed).
_TEXT_BLANKS_RE = re.compile("[ \t\n\r\f\x0b]+|\u00c2\u00a0")
_ALL_BLANK_RE = re.compile("(?:[ \t\n\r\f\x0b]|\u00c2\u00a0)*")
# Perl's Unicode \s, for trimming URIs (Python's \s would also eat \x1c-\x1f).
_PERL_SPACE = "\t\n\x0b\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_URI_TRIM_RE = re.compile(f"^[{_PERL_SPACE}]+|[{_PERL_SPACE}]+$")
_SPACE_RUN_RE = re.compile(f"[{_PERL_SPACE}]")
# Word-ish characters: not whitespace and not ASCII punctuation.  These use the `regex` module
# because its \w, \s and \b follow Perl's Unicode classes (Python's \w also takes "¾", "³").
_WORDISH = r"[^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]"
# The complement of _WORDISH as a set, for the per-event single-character test.
_NOT_WORDISH = frozenset(
    "\t\n\x0b\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "".join(map(chr, [*range(0x21, 0x30), *range(0x3A, 0x41), *range(0x5B, 0x61)]))
    + "".join(map(chr, range(0x7B, 0x7F)))
)
_TAIL_FRAGMENT_RE = regex.compile(r"\b(" + _WORDISH + r"{1,7})\Z")
_HEAD_FRAGMENT_RE = regex.compile(r"(" + _WORDISH + r"{1,7})\b")
# Blanks for splitting off the last blank run of the document's final text.
_TOKENIZER_BLANKS = " \t\n\r\f"

_SELF_CLOSING_RE = re.compile(r"<(\w+)\s*/>")
_FONT_FACE_OK_RE = re.compile(
    r"""^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z -]*[a-z]\d?["']?)*;?$""",
    re.IGNORECASE,
)
_IMAGE_DIMENSION_RE = re.compile(r"(\d+)(%)?\n?\Z")
_MAILTO_RE = re.compile("mailto:", re.IGNORECASE)
_NON_TARGET_SCHEME_RE = re.compile(r"(?:data|mailto|file|cid|tel):", re.IGNORECASE)
_BASE_SCHEME_RE = re.compile(r"(?:https?|ftp):/{0,2}", re.IGNORECASE)
_BASE_FILENAME_RE = re.compile(r"^([a-z]+:/{0,2}[^/]+/.*?)[^/.]+\.[^/.]{2,4}$", re.IGNORECASE)
_REFRESH_RE = re.compile("refresh", re.IGNORECASE)
_REFRESH_URL_RE = re.compile(r"\burl\s*=", re.IGNORECASE)
_REFRESH_PREFIX_RE = re.compile(r"^.*\burl\s*=\s*", re.IGNORECASE)
_REFRESH_SUFFIX_RE = re.compile(r"\s*;.*", re.IGNORECASE)
_CONTENT_TYPE_RE = re.compile("Content-Type", re.IGNORECASE)
_META_CHARSET_RE = re.compile(r"""\bcharset\s*=\s*["']?([^"']+)""", re.IGNORECASE)
_SIZE_RELATIVE_RE = re.compile(r"\s*([+-]\d+)")
_SIZE_ABSOLUTE_RE = re.compile(r"\s*(\d+)")
_STYLE_COLOR_RE = re.compile(r"^\s*(background-)?color:\s*(.+?)\s*$", re.IGNORECASE)
_STYLE_BACKGROUND_RE = re.compile(r"^\s*background:\s*(.+?)\s*$")
_STYLE_PROPERTY_RE = re.compile(r"^\s*([a-z_-]+)\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_IMPORTANT_RE = re.compile(r"\s*!\s*important$")
_NOT_RGB_DIGIT_RE = re.compile(r"[^0-9,]")
_HEX_COLOR_RE = re.compile(r"#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})\n?\Z")

# ---------------------------------------------------------------------------------------------
# The result


@dataclass(slots=True)
class HtmlUri:
    """What the HTML said about one URI: the tags that referenced it and its anchor texts.

    ``types`` is empty for an entry that only holds anchor text: anchors are filed under the
    ``href`` as written, links under the target resolved against ``<base href>``.
    """

    types: dict[str, None] = field(default_factory=dict)
    anchor_text: list[str] = field(default_factory=list)


@dataclass(slots=True)
class HtmlDocument:
    """One rendered HTML part and the facts the HTML checks read from it.

    ``rendered`` is the text body rules see for this part (invisible text included); Bayes
    uses ``visible`` / ``invisible``.  Ratios and counters are None where the reference leaves
    the result undefined (a range test on an undefined value never hits).
    """

    rendered: str = ""
    visible: str = ""
    invisible: str = ""
    uris: dict[str, HtmlUri] = field(default_factory=dict)
    anchors: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    inside: dict[str, int] = field(default_factory=dict)
    charsets: str | None = None
    uri_truncated: bool = False
    font_low_contrast: bool = False
    font_invalid_color: bool = False
    font_face_bad: bool = False
    form_action_mailto: bool = False
    embeds: bool = False
    length: int = 0
    image_area: int = 0
    min_size: int = 3
    max_size: int = 3
    closed_extra_ratio: float | None = None
    bad_tag_ratio: float | None = None
    non_element_ratio: float | None = None
    obfuscation_ratio: float | None = None
    backhair_count: int | None = None
    html_length: int = 0
    non_space_len: int = 0
    ratio: float | None = None
    tags: int = 0
    elements: int = 0

    def result(self, name: str) -> object:
        """The value the reference's HTML results hash holds under ``name`` (None if unset).

        This is what ``html_test``/``html_range``/``html_eval``/``html_text_match`` look up,
        so rule arguments such as ``'max_size'`` or ``'comment'`` resolve here.
        """
        if name == "html":
            return 1  # every parsed part "is HTML"
        attribute = _RESULT_ATTRIBUTES.get(name)
        if attribute is None:
            return None
        value = getattr(self, attribute)
        if value is False:
            return None
        return value


_RESULT_ATTRIBUTES = {
    "anchor": "anchors",
    "comment": "comments",
    "script": "scripts",
    "title": "titles",
    "uri_detail": "uris",
    "inside": "inside",
    # The reference keeps <meta> charsets outside its results hash, so html_charset_faraway
    # never sees them; "charsets" deliberately resolves to nothing here.
    "uri_truncated": "uri_truncated",
    "font_low_contrast": "font_low_contrast",
    "font_invalid_color": "font_invalid_color",
    "font_face_bad": "font_face_bad",
    "form_action_mailto": "form_action_mailto",
    "embeds": "embeds",
    "length": "length",
    "image_area": "image_area",
    "min_size": "min_size",
    "max_size": "max_size",
    "closed_extra_ratio": "closed_extra_ratio",
    "bad_tag_ratio": "bad_tag_ratio",
    "non_element_ratio": "non_element_ratio",
    "obfuscation_ratio": "obfuscation_ratio",
    "backhair_count": "backhair_count",
    "html_length": "html_length",
    "non_space_len": "non_space_len",
    "ratio": "ratio",
}


# ---------------------------------------------------------------------------------------------
# The renderer

# Elements whose content the reference tokenizer does not parse as markup.
_RAW_TEXT_TAGS = ("script", "style", "iframe", "xmp", "plaintext")
_ESCAPABLE_RAW_TEXT_TAGS = ("title", "textarea")


class _Renderer(HTMLParser):
    """Event handlers reproducing the reference renderer's state machine."""

    CDATA_CONTENT_ELEMENTS = _RAW_TEXT_TAGS + _ESCAPABLE_RAW_TEXT_TAGS

    def __init__(self, decoder: _EntityDecoder) -> None:
        super().__init__(convert_charrefs=True)
        self.dec = decoder
        self.doc = HtmlDocument()
        self.texts: list[str] = []
        self.blank: list[bool] = []  # element was emitted for a block tag
        self.hidden: list[bool] = []  # element is invisible text
        self.pending: list[str] | None = None  # text run not yet delivered
        self.inside: dict[str, int] = self.doc.inside
        self.styles: list[dict[str, object]] = [
            {"tag": "default", "fgcolor": "#000000", "bgcolor": "#ffffff", "size": 3}
        ]
        self.basefont = 3
        self.base_href = ""
        self.anchor_last = ""
        self.tags = self.elements = self.tags_seen = self.elements_seen = 0
        self.closed_extra = 0
        self.obfuscation = 0
        self.backhair: dict[str, int] = {}

    # -- tokenizer callbacks -------------------------------------------------------------

    def updatepos(self, i: int, j: int) -> int:
        """Skip line/column bookkeeping: nothing here reports positions, and it costs ~10%."""
        return j

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.pending is not None:
            self._flush()
        attributes: dict[str, str] = {}
        dec = self.dec
        amp = dec.amp
        for name, value in attrs:
            if amp in name:
                name = dec.raw(name)
            if name not in attributes:
                if value is None:
                    attributes[name] = name
                else:
                    attributes[name] = dec.attribute(value) if amp in value else value
        self._tag(dec.raw(tag) if amp in tag else tag, attributes, 1)

    handle_startendtag = handle_starttag  # <img .../> opens only, like the reference

    def handle_endtag(self, tag: str) -> None:
        if self.pending is not None:
            self._flush()
        self._tag(self.dec.raw(tag) if self.dec.amp in tag else tag, {}, -1)

    def handle_data(self, data: str) -> None:
        elem = self.cdata_elem
        if elem is not None:
            self._flush()
            if elem in _ESCAPABLE_RAW_TEXT_TAGS:
                self._text(self.dec.text(data))
            else:
                self._text(self.dec.raw(data))
            return
        # The reference delivers a text run in one piece but starts a new piece at a "<"
        # that opened no markup; html.parser splits around that "<" instead.
        if self.pending is None:
            self.pending = [data]
        elif data.startswith("<"):
            self._flush()
            self.pending = [data]
        else:
            self.pending.append(data)

    def parse_comment(self, i: int, report: int = 1) -> int:
        end = super().parse_comment(i, report=0)
        if end < 0:
            # No "-->" anywhere (the whole document is fed at once): the reference ends the
            # comment at the next ">" instead of rendering it as text.
            gt = self.rawdata.find(">", i + 2)
            end = gt + 1 if gt >= 0 else -1
        if end >= 0 and report:
            self._flush()
            self.doc.comments.append(self.dec.raw(self.rawdata[i:end]))
        return end

    def parse_endtag(self, i: int) -> int:
        rawdata = self.rawdata
        after = rawdata[i + 2 : i + 3]
        if after == ">" or (after.isspace() and self.cdata_elem is None):
            # "</>" and "</ p>" are comments for the reference tokenizer, not end tags.
            return self.parse_bogus_comment(i)
        return super().parse_endtag(i)

    def parse_bogus_comment(self, i: int, report: int = 1) -> int:
        end = super().parse_bogus_comment(i, report=0)
        if end >= 0 and report:
            self._flush()
            raw = self.dec.raw(self.rawdata[i:end])
            if raw.startswith("</") and raw[2:3] not in ("", ">") and not raw[2].isspace():
                # "</3>" is an end tag for the reference tokenizer, not a comment.
                self._tag(raw[2:-1].split(None, 1)[0].lower(), {}, -1)
            elif raw[:8].lower() == "<!entity":
                pass  # a declaration, which renders nothing
            else:
                self.doc.comments.append(raw)
        return end

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        try:
            return super().parse_marked_section(i, report)
        except (AssertionError, AttributeError):
            # Unknown keyword: the reference reports "<![...]>" as a comment.
            return self.parse_bogus_comment(i, report)

    def unknown_decl(self, data: str) -> None:
        self._flush()
        if data[:6].upper() == "CDATA[":
            self._text(self.dec.raw(data[6:]))
        else:
            self.doc.comments.append("<![" + self.dec.raw(data) + "]>")

    def handle_decl(self, decl: str) -> None:
        self._flush()
        if decl[:7].lower() == "doctype":
            self.elements += 1
            self.tags += 1
            self.inside["!doctype"] = 0

    def handle_pi(self, data: str) -> None:
        self._flush()

    # -- end of input --------------------------------------------------------------------

    def finish(self) -> None:
        """Flush what the tokenizer still holds and close raw-text elements left open."""
        with contextlib.suppress(Exception):  # the tokenizer must never take a message down
            self.close()
        self._flush(final=True)
        rest = self.rawdata
        elem = self.cdata_elem
        if elem is not None and rest:
            self.rawdata = ""
            if elem in ("script", "style"):
                self.handle_data(rest)
                self.clear_cdata_mode()
            else:
                self.clear_cdata_mode()
                self._tag(elem, {}, -1)
                self._text(self.dec.text(rest))
        # Unclosed <style>/<script> would swallow everything; the reference closes them.
        while self.inside.get("style", 0) > 0:
            self._tag("style", {}, -1)
        while self.inside.get("script", 0) > 0:
            self._tag("script", {}, -1)

    # -- state machine -------------------------------------------------------------------

    def _flush(self, final: bool = False) -> None:
        if self.pending is not None:
            chunk = "".join(self.pending)
            self.pending = None
            if final:
                # The reference reports the last blank run of the document apart.
                cut = max(map(chunk.rfind, _TOKENIZER_BLANKS))
                while cut > 0 and chunk[cut - 1] in _TOKENIZER_BLANKS:
                    cut -= 1
                if cut > 0:
                    self._text(self.dec.text(chunk[:cut]))
                    chunk = chunk[cut:]
            self._text(self.dec.text(chunk))

    def _tag(self, tag: str, attrs: dict[str, str], num: int) -> None:
        inside = self.inside
        namespaced = ":" in tag and _NAMESPACE_TAG_RE.match(tag) is not None
        seen = tag in inside
        if namespaced or tag in _ELEMENTS:
            self.elements += 1
            if not seen:
                self.elements_seen += 1
        self.tags += 1
        if not seen:
            self.tags_seen += 1
        count = inside.get(tag, 0) + num
        if count < 0:
            count = 0
            self.closed_extra += 1
        inside[tag] = count
        if namespaced or tag not in _RENDERED:
            return
        if tag in _TEXT_STYLE_TAGS:
            self._text_style(tag, attrs, num)
        if tag in _NEWLINE_TAGS:
            self._display("\n", blank=True)
        elif tag in _SPACE_TAGS:
            self._display(" ", blank=True)
        elif tag in _PARAGRAPH_TAGS:
            self._display("\n\n", blank=True)
        if num == 1:
            if tag in _URI_TAGS:
                self._collect_uri(tag, attrs)
            self._start_tag_facts(tag, attrs)

    def _display(self, text: str, *, blank: bool = False, hidden: bool = False) -> None:
        texts = self.texts
        if blank:
            # Drop the trailing space of the previous visible text before a block break.
            if texts and not self.blank[-1] and not self.hidden[-1] and texts[-1].endswith(" "):
                texts[-1] = texts[-1][:-1]
        else:
            text = _TEXT_BLANKS_RE.sub(" ", text)
            if texts and not hidden and self.blank[-1] and text.startswith(" "):
                text = text[1:]
        texts.append(text)
        self.blank.append(blank)
        self.hidden.append(hidden)

    def _text(self, text: str) -> None:
        inside = self.inside
        if inside.get("script", 0) > 0:
            self.doc.scripts.append(text)
            return
        if inside.get("style", 0) > 0:
            return
        if inside.get("a", 0) > 0:
            entry = self.doc.uris.get(self.anchor_last)
            if entry is not None and entry.anchor_text:
                entry.anchor_text[-1] += text
            if self.doc.anchors:
                self.doc.anchors[-1] += text
        if inside.get("title", 0) > 0 and self.doc.titles:
            self.doc.titles[-1] += text
        hidden = False
        if not _ALL_BLANK_RE.fullmatch(text):
            hidden = self._invisible()
        texts = self.texts
        # A word split across two text events ("Vi<b></b>agra") counts as obfuscation.
        if (
            texts
            and text
            and texts[-1]
            and text[0] not in _NOT_WORDISH
            and texts[-1][-1] not in _NOT_WORDISH
        ):
            self.obfuscation += 1
            tail = _TAIL_FRAGMENT_RE.search(texts[-1])
            if tail:
                head = _HEAD_FRAGMENT_RE.match(text)
                if head:
                    key = f"{len(tail.group(1))}_{len(head.group(1))}"
                    self.backhair[key] = self.backhair.get(key, 0) + 1
        self._display(text, hidden=hidden)

    def _invisible(self) -> bool:
        """Whether text in the current style would be unreadable; records why."""
        style = self.styles[-1]
        verdict = style.get("_verdict")
        if verdict is None:
            verdict = style["_verdict"] = self._style_verdict(style)
        if verdict == "low_contrast":
            self.doc.font_low_contrast = True
        elif verdict == "invalid_color":
            self.doc.font_invalid_color = True
        return verdict is not False

    def _style_verdict(self, style: dict[str, object]) -> str | bool:
        """Why a style hides text ("low_contrast", "invalid_color", True) or False."""
        fg = str(style["fgcolor"])
        bg = str(style["bgcolor"])
        if fg[-6:] == bg[-6:]:
            return "low_contrast"
        fm = _HEX_COLOR_RE.match(fg)
        if fm:
            bm = _HEX_COLOR_RE.match(bg)
            if bm:
                pairs = zip(fm.groups(), bm.groups(), strict=True)
                dr, dg, db = (int(a, 16) - int(b, 16) for a, b in pairs)
                # Luminance-weighted distance (Rec. 709 weights); under 12 is hard to read.
                if ((0.2126 * dr) ** 2 + (0.7152 * dg) ** 2 + (0.0722 * db) ** 2) ** 0.5 < 12:
                    return "low_contrast"
        if fg == INVALID_COLOR or bg == INVALID_COLOR:
            return "invalid_color"
        if _as_number(style["size"]) <= 1:
            return True
        display = style.get("style_display")
        if display and str(display).lower() == "none":
            return True
        visibility = style.get("style_visibility")
        return bool(visibility) and str(visibility).lower() == "hidden"

    def _text_style(self, tag: str, attrs: dict[str, str], num: int) -> None:
        if tag == "th":
            tag = "td"
        styles = self.styles
        if num != 1:
            if tag != "body":  # browsers keep rendering text after </body>
                self._close_style(tag)
            return
        if tag == "basefont" and "size" in attrs:
            m = _SIZE_ABSOLUTE_RE.match(attrs["size"])
            if m:
                self.basefont = int(m.group(1))
                return
        if tag in ("td", "tr"):
            self._close_table_style(tag)
        new = dict(styles[-1])
        new.pop("_verdict", None)
        new["tag"] = tag
        if tag == "big" or tag == "small":
            new["size"] = _as_number(new["size"]) + (1 if tag == "big" else -1)
            styles.append(new)
            return
        allowed = _STYLE_ATTRIBUTES.get(tag, _NO_ATTRIBUTES)
        for name, value in attrs.items():
            if name not in allowed:
                continue
            if name == "text" or name == "color":
                new["fgcolor"] = color_to_rgb(value)
            elif name == "size":
                m = _SIZE_RELATIVE_RE.match(value)
                if m:
                    new["size"] = self.basefont + int(m.group(1))
                else:
                    m = _SIZE_ABSOLUTE_RE.match(value)
                    if m:
                        new["size"] = int(m.group(1))
            elif name == "style":
                self._apply_css(new, value)
            elif name == "bgcolor":
                pass  # the reference normalises it but never applies it
            else:
                new[name] = value
            size = _as_number(new["size"])
            if size > self.doc.max_size:
                self.doc.max_size = size
            elif size < self.doc.min_size:
                self.doc.min_size = size
        styles.append(new)

    def _apply_css(self, new: dict[str, object], css: str) -> None:
        new["style"] = css
        for declaration in css.split(";"):
            m = _STYLE_COLOR_RE.match(declaration)
            if m:
                which = "bgcolor" if m.group(1) else "fgcolor"
                value = _IMPORTANT_RE.sub("", m.group(2).lower(), count=1)
                if "rgb" in value:
                    parts = _NOT_RGB_DIGIT_RE.sub("", value).split(",")
                    parts += [""] * (3 - len(parts))
                    new[which] = "#" + "".join(
                        format(min(int(p), 255) if p else 0, "02x") for p in parts[:3]
                    )
                elif value == "inherit":
                    pass
                elif value == "transparent":
                    new[which] = value
                else:
                    new[which] = color_to_rgb(value)
                continue
            m = _STYLE_BACKGROUND_RE.match(declaration)
            if m:
                layers = _css_background_layers(m.group(1).lower())
                for token in layers[-1] if layers else ():
                    color = color_to_rgb(token)
                    if color != INVALID_COLOR:
                        new["bgcolor"] = color
                        break
                continue
            m = _STYLE_PROPERTY_RE.match(declaration)
            if m:
                new["style_" + m.group(1)] = m.group(2)
        if new["bgcolor"] == "transparent":
            new["bgcolor"] = self.styles[-1]["bgcolor"]
        if new["fgcolor"] == "transparent":
            new["fgcolor"] = new["bgcolor"]

    def _close_table_style(self, tag: str) -> None:
        styles = self.styles
        if tag not in [s["tag"] for s in styles]:
            return
        while styles:
            top = styles[-1]["tag"]
            if (tag == "td" and top in ("font", "td")) or (
                tag == "tr" and top in ("font", "td", "tr")
            ):
                styles.pop()
            else:
                break

    def _close_style(self, tag: str) -> None:
        styles = self.styles
        if tag not in [s["tag"] for s in styles]:
            return
        while styles:
            if styles.pop()["tag"] == tag:
                break

    def _canon_uri(self, uri: str) -> str:
        uri = _URI_TRIM_RE.sub("", uri)
        if len(uri) > MAX_URI_LENGTH:
            self.doc.uri_truncated = True
            uri = uri[:MAX_URI_LENGTH]
        return uri

    def _push_uri(self, tag: str, uri: str) -> None:
        uri = self._canon_uri(uri)
        if not uri:
            return
        if not _NON_TARGET_SCHEME_RE.match(uri):
            uri = target_uri(self.base_href, uri)
            if not uri:
                return
        entry = self.doc.uris.get(uri)
        if entry is None:
            entry = self.doc.uris[uri] = HtmlUri()
        entry.types[tag] = None

    def _collect_uri(self, tag: str, attrs: dict[str, str]) -> None:
        if tag in _BACKGROUND_TAGS:
            if "background" in attrs:
                self._push_uri(tag, attrs["background"])
        elif tag in _HREF_TAGS:
            if "href" in attrs:
                self._push_uri(tag, attrs["href"].replace("\ufeff", ""))
            if "data-saferedirecturl" in attrs:
                self._push_uri(tag, attrs["data-saferedirecturl"])
        elif tag in _SRC_TAGS:
            if "src" in attrs:
                self._push_uri(tag, attrs["src"])
        elif tag == "form":
            if "action" in attrs:
                self._push_uri(tag, attrs["action"])
        elif tag == "base":
            href = attrs.get("href", "")
            if href and href != "0":
                href = self._canon_uri(href)
                self._push_uri(tag, href)
                # Browsers honour only an absolute base of a web scheme.
                if _BASE_SCHEME_RE.match(href):
                    href = _BASE_FILENAME_RE.sub(r"\1", href, count=1)
                    if not href.endswith("/"):
                        href += "/"
                    self.base_href = href
        elif tag == "meta":
            equiv, content = attrs.get("http-equiv"), attrs.get("content")
            if (
                equiv is not None
                and content is not None
                and _REFRESH_RE.search(equiv)
                and _REFRESH_URL_RE.search(content)
            ):
                uri = _REFRESH_PREFIX_RE.sub("", content, count=1)
                self._push_uri(tag, _REFRESH_SUFFIX_RE.sub("", uri, count=1))

    def _start_tag_facts(self, tag: str, attrs: dict[str, str]) -> None:
        doc = self.doc
        if tag == "font" and "face" in attrs and not _FONT_FACE_OK_RE.match(attrs["face"]):
            doc.font_face_bad = True
        if tag == "img":
            if self.inside.get("a", 0) > 0:
                entry = doc.uris.get(self.anchor_last)
                if entry is not None and entry.anchor_text:
                    entry.anchor_text[-1] += "<img>\n"
                if doc.anchors:
                    doc.anchors[-1] += "<img>\n"
            if "width" in attrs and "height" in attrs:
                doc.image_area += _image_area(attrs["width"], attrs["height"])
        elif tag == "form":
            if "action" in attrs and _MAILTO_RE.search(attrs["action"]):
                doc.form_action_mailto = True
        elif tag == "object" or tag == "embed":
            doc.embeds = True
        elif tag == "a":
            self.anchor_last = self._canon_uri(attrs["href"]) if "href" in attrs else ""
            entry = doc.uris.get(self.anchor_last)
            if entry is None:
                entry = doc.uris[self.anchor_last] = HtmlUri()
            entry.anchor_text.append("")
            doc.anchors.append("")
        elif tag == "title":
            doc.titles.append("")
        elif tag == "meta":
            equiv, content = attrs.get("http-equiv"), attrs.get("content")
            if equiv is not None and content is not None and _CONTENT_TYPE_RE.search(equiv):
                m = _META_CHARSET_RE.search(content)
                if m:
                    doc.charsets = (
                        m.group(1) if doc.charsets is None else (doc.charsets + " " + m.group(1))
                    )

    # -- results -------------------------------------------------------------------------

    def document(self) -> HtmlDocument:
        doc = self.doc
        texts, hidden = self.texts, self.hidden
        doc.rendered = "".join(texts)
        doc.visible = "".join(t for t, h in zip(texts, hidden, strict=True) if not h)
        doc.invisible = "".join(t for t, h in zip(texts, hidden, strict=True) if h)
        doc.tags, doc.elements = self.tags, self.elements
        if self.tags:
            doc.closed_extra_ratio = self.closed_extra / self.tags
            if self.elements:
                doc.bad_tag_ratio = (self.tags - self.elements) / self.tags
            if self.obfuscation:
                doc.obfuscation_ratio = self.obfuscation / self.tags
        if self.tags_seen and self.elements_seen:
            doc.non_element_ratio = (self.tags_seen - self.elements_seen) / self.tags_seen
        if self.backhair:
            doc.backhair_count = len(self.backhair)
        doc.html_length = len(doc.rendered)
        doc.non_space_len = doc.html_length - len(_SPACE_RUN_RE.findall(doc.rendered))
        return doc


def _as_number(value: object) -> int:
    return value if isinstance(value, int) else 0


def _image_area(width: str, height: str) -> int:
    """Pixel area of an <img>; percentages assume an 800x600 screen, missing sizes 200."""
    w = h = 0
    m = _IMAGE_DIMENSION_RE.match(width)
    if m:
        w = int(m.group(1)) * (8 if m.group(2) else 1)
    m = _IMAGE_DIMENSION_RE.match(height)
    if m:
        h = int(m.group(1)) * (6 if m.group(2) else 1)
    return (w if w > 0 else 200) * (h if h > 0 else 200)


def parse_html(html: str, raw_length: int | None = None) -> HtmlDocument:
    """Render one decoded ``text/html`` part and collect its HTML facts.

    ``raw_length`` is the part's size in bytes before charset decoding; when given, the
    markup-to-text ``ratio`` is computed from it.  Never raises: whatever the tokenizer could
    not make sense of is rendered as text or dropped, as the reference does.
    """
    length = len(html)
    text = html.replace("&nbsp;", " ")
    if "/>" in text:
        text = _SELF_CLOSING_RE.sub(r"<\1>", text)
    if "\u201c" in text or "\u201d" in text:
        text = text.replace("\u201c", '"').replace("\u201d", '"')
    amp = next((s for s in _SENTINELS if s not in text), None)
    if amp is None:  # a document holding every sentinel loses one of them
        amp = _SENTINELS[0]
        text = text.replace(amp, "\ufffd")
    if "&" in text:
        text = text.replace("&", amp)
    renderer = _Renderer(_DECODERS[amp])
    try:
        renderer.feed(text)
    except Exception:
        renderer.rawdata = ""
    renderer.finish()
    doc = renderer.document()
    doc.length = length
    if raw_length:
        doc.ratio = (raw_length - doc.html_length) / raw_length
    return doc
