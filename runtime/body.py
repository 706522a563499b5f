"""The texts body, rawbody, full and mimeheader rules are matched against.

Each view is built from the parsed model the way SpamAssassin 4.0.1 builds it and cached on
the message, so a scan computes it at most once:

- `rendered_body_lines`: the decoded Subject, then every text part decoded to Unicode, HTML
  rendered to text, joined and paragraph-normalised, as UTF-8 lines of at most ~2 KiB
  (`Message::get_rendered_body_text_array`).
- `decoded_body_chunks`: text and message parts transfer-decoded but otherwise as sent, cut
  into 2-4 KiB chunks (`get_decoded_body_text_array`).
- `pristine`: the message exactly as received minus the mbox line (`get_pristine`).
- `mime_part_headers`: every MIME node in tree order, for `mimeheader` rules.

The HTML renderer is injected (`render_html`) because it is a module of its own; the default
here only strips tags, which is enough for tests of everything around it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from .charset import decode_text_marked
from .headers import all_headers, decoded_value, header_table, part_header
from .message import Defect, Message, Part
from .mime import decoded_content

__all__ = [
    "BODY_PART_SCAN_SIZE",
    "MAX_BODY_LINE_LENGTH",
    "RAWBODY_PART_SCAN_SIZE",
    "PartHeaders",
    "decoded_body_chunks",
    "effective_type",
    "mime_part_headers",
    "pristine",
    "rendered_body_lines",
    "rendered_part_text",
    "strip_tags",
]

BODY_PART_SCAN_SIZE = 50000  # body_part_scan_size default (config.md, Appendix A)
RAWBODY_PART_SCAN_SIZE = 500000  # rawbody_part_scan_size default (config.md, Appendix A)
MAX_BODY_LINE_LENGTH = 2048  # SA's MAX_BODY_LINE_LENGTH: body lines and rawbody chunks
SCAN_SIZE_SLACK = 1024  # how far past the scan size SA looks for a clean place to cut

HtmlRenderer = Callable[[str], str]

_HTML_NAME = re.compile(r"\.s?html?\n?\Z", re.I)
_TEXT_OR_MESSAGE = re.compile(r"(?:text|message)\b")
# Perl's \s on decoded text: Unicode White_Space (not the \x1c-\x1f separators Python adds).
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PARAGRAPH_BREAK = re.compile(f"\n+[{_WS}]*\n+")
_WHITESPACE_RUN = re.compile(f"[{_WS}]+")
# ... and on octet strings (no part was decoded): ASCII whitespace only.
_ASCII_WS = "\t\n\x0b\x0c\r "
_OCTET_PARAGRAPH_BREAK = re.compile(f"\n+[{_ASCII_WS}]*\n+")
_OCTET_WHITESPACE_RUN = re.compile(f"[{_ASCII_WS}]+")
_BEYOND_LATIN1 = re.compile("[^\x00-\xff]")
_TAG = re.compile(r"<[^>]*>")


def strip_tags(text: str) -> str:
    """A stand-in HTML renderer: tags become spaces, entities are decoded."""
    return html.unescape(_TAG.sub(" ", text))


def effective_type(part: Part) -> str:
    """The type a part is rendered as: an `.htm(l)` attachment name means text/html."""
    if part.filename and _HTML_NAME.search(part.filename):
        return "text/html"
    return part.content_type


def rendered_part_text(part: Part, render_html: HtmlRenderer = strip_tags) -> str | None:
    """One leaf part as text (`Node::rendered`), or None for parts that are not text.

    Only text/plain and text/html (after `effective_type`) render. A part without charset
    is decoded as if labelled us-ascii, which still tries UTF-8 and Windows-1252 first.
    """
    key = "rendered"
    if key in part.cache:
        cached = part.cache[key]
        return cached if isinstance(cached, str) else None
    kind = effective_type(part)
    text: str | None = None
    decoded = False
    if kind in ("text/plain", "text/html"):
        data = decoded_content(part)
        charset = part.charset if part.charset is not None else "us-ascii"
        text, decoded = decode_text_marked(data, charset)
        if data and kind == "text/html":
            try:
                text = render_html(text)
            except Exception as error:  # a renderer bug must not stop the scan
                text = strip_tags(text)
                part.cache["render_error"] = repr(error)
            # HTML::Parser upgrades octet input to characters only for entities above U+00FF.
            decoded = decoded or _BEYOND_LATIN1.search(text) is not None
    part.cache[key] = text
    part.cache["decoded_to_characters"] = decoded
    return text


def _cut_at_scan_size(text: str, limit: int, separators: tuple[str, ...]) -> str:
    """Truncate after the first separator within 1 KiB past `limit`, else at `limit`."""
    if len(text) <= limit:
        return text
    for separator in separators:
        index = text.find(separator, limit)
        if 0 <= index <= limit + SCAN_SIZE_SLACK:
            return text[: index + 1]
    return text[:limit]


def _cut_bytes_at_scan_size(data: bytes, limit: int, separators: tuple[bytes, ...]) -> bytes:
    if len(data) <= limit:
        return data
    for separator in separators:
        index = data.find(separator, limit)
        if 0 <= index <= limit + SCAN_SIZE_SLACK:
            return data[: index + 1]
    return data[:limit]


def _split_short_lines(text: bytes) -> list[bytes]:
    """Lines (newline kept); a line over 2048 bytes is cut after its last space in range."""
    out: list[bytes] = []
    for line in text.split(b"\n"):
        out.append(line + b"\n")
    last = out.pop()[:-1]
    if last:
        out.append(last)
    if all(len(line) <= MAX_BODY_LINE_LENGTH for line in out):
        return out
    result: list[bytes] = []
    for line in out:
        while len(line) > MAX_BODY_LINE_LENGTH:
            cut = line.rfind(b" ", 0, MAX_BODY_LINE_LENGTH + 1) + 1 or MAX_BODY_LINE_LENGTH
            result.append(line[:cut])
            line = line[cut:]
        result.append(line)
    return result


def rendered_body_lines(message: Message, render_html: HtmlRenderer = strip_tags) -> list[bytes]:
    """The elements body rules are tried on, element 0 being the decoded Subject line."""
    cached = message.cache.get("rendered_body_lines")
    if isinstance(cached, list):
        return cached
    leaves = message.leaves()
    if not leaves:
        message.cache["rendered_body_lines"] = []
        return []
    pieces: list[str] = []
    characters = False  # Perl's UTF-8 flag on the joined text
    for part in leaves:
        if pieces:
            pieces.append("\n")
        text = rendered_part_text(part, render_html)
        if "render_error" in part.cache and "html_render_error" not in message.parse_flags:
            message.defects.append(Defect("html_render_error", str(part.cache["render_error"])))
        if text:
            pieces.append(_cut_at_scan_size(text, BODY_PART_SCAN_SIZE, ("\n", " ")))
        characters = characters or part.cache.get("decoded_to_characters") is True
    joined = "".join(pieces)
    if characters:
        joined = _PARAGRAPH_BREAK.sub("\x00", joined)
        joined = _WHITESPACE_RUN.sub(" ", joined).replace("\x00", "\n")
        encoded = joined.encode("utf-8", "surrogatepass")
    else:  # octets all along: Latin-1 bytes stay single bytes, NBSP is not whitespace
        joined = _OCTET_PARAGRAPH_BREAK.sub("\x00", joined)
        joined = _OCTET_WHITESPACE_RUN.sub(" ", joined).replace("\x00", "\n")
        encoded = joined.encode("latin-1")
    subjects = header_table(message).get_all("subject")
    subject = decoded_value(subjects[-1]) + b"\n" if subjects else b"\n"
    lines = _split_short_lines(subject + encoded)
    message.cache["rendered_body_lines"] = lines
    return lines


def _split_short_paragraphs(data: bytes) -> list[bytes]:
    """Cut a part into chunks of 2-4 KiB, preferably after a newline, ">" or space."""
    size = len(data)
    if size <= MAX_BODY_LINE_LENGTH:
        return [data]
    chunks: list[bytes] = []
    offset = 0
    while size - offset > 2 * MAX_BODY_LINE_LENGTH:
        end = -1
        for separator in (b"\n", b">", b" "):
            end = data.find(separator, offset + MAX_BODY_LINE_LENGTH)
            if end >= 0 and end - offset + 1 <= 2 * MAX_BODY_LINE_LENGTH:
                break
            end = -1
        if end < 0:
            end = offset + MAX_BODY_LINE_LENGTH
        chunks.append(data[offset : end + 1])
        offset = end + 1
    if offset < size:
        chunks.append(data[offset:])
    return chunks


def decoded_body_chunks(message: Message) -> list[bytes]:
    """The elements rawbody rules are tried on: no Subject, no charset conversion."""
    cached = message.cache.get("decoded_body_chunks")
    if isinstance(cached, list):
        return cached
    chunks: list[bytes] = []
    for part in message.leaves():
        if not _TEXT_OR_MESSAGE.match(effective_type(part)):
            continue
        if part.content_type == "text/calendar":
            continue
        data = _cut_bytes_at_scan_size(
            decoded_content(part), RAWBODY_PART_SCAN_SIZE, (b"\n", b">", b" ")
        )
        chunks.extend(_split_short_paragraphs(data))
    message.cache["decoded_body_chunks"] = chunks
    return chunks


def pristine(message: Message) -> bytes:
    """The whole message as received, without the mbox `From ` line (`full` rules)."""
    cached = message.cache.get("pristine")
    if isinstance(cached, bytes):
        return cached
    text = message.pristine_headers + message.pristine_body
    message.cache["pristine"] = text
    return text


@dataclass(frozen=True, slots=True)
class PartHeaders:
    """One MIME node as a `mimeheader` rule sees it (part 1 is the message itself)."""

    number: int
    part: Part
    message: Message

    def get(self, name: str, *, raw: bool = False) -> bytes | None:
        """The last instance of a header (decoded, with newline; raw: stored value or "")."""
        return part_header(self.part, name, raw=raw, message=self.message)

    def all(self, *, raw: bool = False) -> bytes:
        """Every header of the node as `Name: value\\n` lines (the `ALL` pseudo-header)."""
        return b"".join(all_headers(self.part, raw=raw, message=self.message))


def mime_part_headers(message: Message) -> list[PartHeaders]:
    """Every MIME node, containers included, numbered from 1 in tree order."""
    cached = message.cache.get("mime_part_headers")
    if isinstance(cached, list):
        return cached
    nodes = [PartHeaders(i, part, message) for i, part in enumerate(message.parts(), start=1)]
    message.cache["mime_part_headers"] = nodes
    return nodes
