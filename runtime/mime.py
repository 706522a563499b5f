"""`parse(raw) -> Message`: split a raw message into headers, body and a MIME tree.

The parser follows SpamAssassin 4.0.1's `Message` / `_parse_multipart` / `_parse_normal`
behaviour rather than RFC 2045/2046, because rules are tuned on what SpamAssassin sees: an
mbox `From ` line is split off, a message whose first line has CRLF is squashed to LF, a
header section without a blank line still ends at a MIME boundary or at the fourth line that
is not a header, boundaries are matched line by line with trailing whitespace allowed, a part
line longer than 2048 bytes is cut into 2048-byte lines, and a truncated multipart simply ends
with its last line. message/rfc822 parts are parsed as messages in their own right, down to 20
levels, with an explicit work queue so that no input can exhaust Python's recursion limit.

Nothing here raises on bad mail: each irregularity becomes a `Defect` on the message.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from .content_type import ContentType, disposition_filename, parse_content_type
from .header_decode import decode_header_value, unfold
from .message import Defect, Header, Message, Part
from .transfer import base64_decode, qp_decode

__all__ = [
    "MAX_DECODED_PART_BYTES",
    "MAX_MESSAGE_BYTES",
    "decoded_content",
    "header_value",
    "parse",
]

# spamc refuses anything above 256 MiB even with `-s` raised to its maximum (spamc.md, -s), so
# spamd can never legitimately be handed more; beyond it we keep the first 256 MiB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# SpamAssassin has no decoded-size limit, but body rules never look past body_part_scan_size
# (50,000 characters) and rawbody rules past rawbody_part_scan_size (500,000 bytes + 1 KiB of
# slack); 32 MiB per part leaves any realistic HTML-to-text shrinkage intact while bounding
# the memory a decompression-style bomb (base64 inside 20 nested message/rfc822) can claim.
MAX_DECODED_PART_BYTES = 32 * 1024 * 1024
# SpamAssassin's own limits (Mail::SpamAssassin::Constants):
MAX_BODY_LINE_LENGTH = 2048  # longer multipart body lines are cut (MAX_BODY_LINE_LENGTH)
MAX_HEADER_KEY_LENGTH = 256  # header names are truncated to this (MAX_HEADER_KEY_LENGTH)
MAX_HEADER_VALUE_LENGTH = 8192  # header values are truncated to this (MAX_HEADER_VALUE_LENGTH)
SUBPARSE_LEVELS = 20  # message/rfc822 and multipart nesting SA descends (`subparse` default)
MAX_PARTS_PER_MULTIPART = 1000  # SA stops a multipart after this many parts
MAX_BLANK_LINES = 20  # longer runs of blank body lines are shortened to this many
INVALID_HEADER_LINES_TOLERATED = 3  # SA ignores this many non-header lines in a header block

_MBOX_FROM = re.compile(rb"From\s+(?!:)")
# The separator line of the mbx mailbox format (UW IMAP), which SA also splits off.
_MBX_SEPARATOR = re.compile(
    rb"[\s\d]\d-[a-zA-Z]{3}-\d{4}\s\d{2}:\d{2}:\d{2}.*,\d+;[\da-f]{12}-\w{8}\r?\n?\Z"
)
_ASCII_SPACE = b" \t\n\r\x0b\x0c"
_HEADER_START = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_PART_HEADER_START = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_LONE_LF = re.compile(rb"(?<!\r)\n")
_BLANK_LINE = re.compile(rb"[ \t\n\r\x0b\x0c]*\Z")
# Cheap pre-check: 20 newline-terminated blank lines in a row (the 21st may lack a newline).
_BLANK_RUN_HINT = re.compile(rb"(?:^[ \t\r\x0b\x0c]*\n){20}", re.M)
_PART_VALUE_SEPARATOR = re.compile(rb":[ \t\n\r\x0b\x0c]*")
_EPILOGUE_CONTENT = re.compile(rb"[^\s.]")
_NON_SPACE = re.compile(rb"\S")
_TEXT_OR_MESSAGE = re.compile(r"(?:text|message)\b/", re.I)


def split_lines(data: bytes) -> list[bytes]:
    """Split after every LF, keeping the LF, as Perl's `split /^/m` does."""
    if not data:
        return []
    lines = data.split(b"\n")
    last = lines.pop()
    out = [line + b"\n" for line in lines]
    if last:
        out.append(last)
    return out


@dataclass
class _Context:
    """State shared by the whole parse: SA keeps these on the top-level Message object."""

    defects: list[Defect] = field(default_factory=list)
    boundary_state: dict[bytes, int] = field(default_factory=dict)
    queue: deque[tuple[Part, bytes | None, list[bytes], int]] = field(default_factory=deque)

    def flag(self, kind: str, detail: str = "", nested: bool = False) -> None:
        self.defects.append(Defect(kind, detail, nested))


@dataclass
class _Split:
    """One message's header section and body lines, as SA's `Message->new` leaves them."""

    headers: list[Header]
    pristine_headers: bytes
    body_lines: list[bytes]
    pristine_body: bytes
    mbox_from: bytes | None
    line_ending: bytes


def parse(raw: bytes) -> Message:
    """Parse a raw message. Never raises on bad mail: spamd must always answer.

    A bug of ours must not stop a scan either, so an unexpected exception degrades to a
    message holding just the pristine text, with an `internal_error` defect naming it.
    """
    try:
        return _parse(raw)
    except Exception as error:  # last line of defence, recorded as a defect
        message = Message(root=Part(headers=[]), pristine_body=bytes(raw))
        message.defects.append(Defect("internal_error", repr(error)))
        return message


def _parse(raw: bytes) -> Message:
    context = _Context()
    raw = bytes(raw)
    if len(raw) > MAX_MESSAGE_BYTES:
        context.flag("message_truncated", f"kept the first {MAX_MESSAGE_BYTES} bytes")
        raw = raw[:MAX_MESSAGE_BYTES]
    split = _split_message(split_lines(raw), context, nested=False)
    root = Part(headers=split.headers)
    _classify_root(root)
    lines = split.body_lines
    _insert_blank_before_mime_headers(root, lines)
    context.queue.append((root, root.boundary, lines, SUBPARSE_LEVELS))
    _run_queue(context)
    message = Message(
        root=root,
        pristine_headers=split.pristine_headers,
        pristine_body=split.pristine_body,
        mbox_from=split.mbox_from,
        line_ending=split.line_ending,
        defects=context.defects,
        boundary_state=context.boundary_state,
    )
    return message


# --- header section --------------------------------------------------------------------------


def _split_message(lines: list[bytes], context: _Context, *, nested: bool) -> _Split:
    """Split off the mbox line, read the header block and prepare the body lines."""
    if not lines:
        lines = [b"\n"]  # SA treats empty input as a message made of one newline
    mbox_from = None
    if _MBOX_FROM.match(lines[0]) or _MBX_SEPARATOR.match(lines[0]):
        mbox_from = lines[0]
        lines = lines[1:]
    crlf = bool(lines) and (b"\r\n" in lines[0] or b"\r\n" in lines[-1])
    line_ending = b"\r\n" if crlf else b"\n"

    headers: list[Header] = []
    pristine: list[bytes] = []
    pending: bytes | None = None
    invalid_lines = 0
    position = 0
    count = len(lines)
    while True:
        at_end = position >= count
        current = line_ending if at_end else lines[position]
        position += 1
        if crlf and b"\n" in current:
            current = _LONE_LF.sub(b"\r\n", current)
        if current[:1] in (b" ", b"\t"):
            pending = current if pending is None else pending + current
            pristine.append(current)
            continue
        if pending is not None:
            _store_top_header(headers, pending, crlf, context, nested)
        if current == line_ending:
            if at_end:
                context.flag("missing_head_body_separator", nested=nested)
            else:
                pristine.append(current)
            break
        if current.startswith(b"--"):
            context.flag("missing_head_body_separator", "body starts with --", nested=nested)
            position -= 1
            break
        if not _HEADER_START.match(current):
            invalid_lines += 1
            if invalid_lines > INVALID_HEADER_LINES_TOLERATED:
                context.flag("missing_head_body_separator", "too many invalid lines", nested)
                position -= 1
                break
        pending = current
        pristine.append(current)

    body = lines[position:]
    pristine_body = b"".join(body)
    if crlf:
        body = [line[:-2] + b"\n" if line.endswith(b"\r\n") else line for line in body]
    body = _limit_blank_runs(body)
    return _Split(headers, b"".join(pristine), body, pristine_body, mbox_from, line_ending)


def _store_top_header(
    headers: list[Header], field_text: bytes, crlf: bool, context: _Context, nested: bool
) -> None:
    """Store one top-level header field the way SA's `Message->new` does."""
    colon = field_text.find(b":")
    if colon < 0:
        context.flag("invalid_header_line", field_text[:80].decode("latin-1"), nested=nested)
        return
    name = field_text[:colon].rstrip(b" \t")
    value = field_text[colon + 1 :]
    if crlf:
        value = value.replace(b"\r\n", b"\n")
    if len(name) > MAX_HEADER_KEY_LENGTH:
        name = name[:MAX_HEADER_KEY_LENGTH]
        context.flag("truncated_header", "header name too long", nested=nested)
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        value = value[:MAX_HEADER_VALUE_LENGTH]
        context.flag("truncated_header", "header value too long", nested=nested)
    headers.append(Header(name.decode("latin-1"), value))


def _limit_blank_runs(body: list[bytes]) -> list[bytes]:
    """Shorten runs of more than 20 blank lines, as SA does before MIME parsing.

    SA keeps the first line of a run and its last 19; a run at the very start of the body
    keeps its first two lines and last 19 (a quirk of SA's backwards scan).
    """
    if len(body) <= MAX_BLANK_LINES or not _BLANK_RUN_HINT.search(b"".join(body)):
        return body
    out: list[bytes] = []
    run_start = -1
    for index, line in enumerate([*body, b"x"]):  # a sentinel closes a trailing run
        if _BLANK_LINE.match(line) and index < len(body):
            if run_start < 0:
                run_start = index
            continue
        if run_start >= 0:
            run = body[run_start:index]
            head = 2 if run_start == 0 else 1
            if len(run) > MAX_BLANK_LINES + head - 1:
                run = run[:head] + run[len(run) - (MAX_BLANK_LINES - 1) :]
            out.extend(run)
            run_start = -1
        if index < len(body):
            out.append(line)
    return out


# --- MIME tree ---------------------------------------------------------------------------------


def header_value(part: Part, name: str) -> bytes | None:
    """The last decoded value of a header on a part (SA's scalar `header()`), or None."""
    found = part.get_all(name)
    if not found:
        return None
    header = found[-1]
    if header.decoded is None:
        header.decoded = decode_header_value(unfold(header.raw), header.name)
    return header.decoded


def _content_type_of(part: Part) -> ContentType:
    return parse_content_type(header_value(part, "content-type"))


def _classify_root(root: Part) -> None:
    """Type and boundary of a message node, from its own Content-Type."""
    ctype = _content_type_of(root)
    root.content_type = ctype.media_type
    root.boundary = ctype.boundary


def _run_queue(context: _Context) -> None:
    """Process parts breadth-first from a queue, exactly one level of work per item."""
    while context.queue:
        part, boundary, lines, levels = context.queue.popleft()
        if part.content_type.startswith("multipart/") and boundary is not None and levels > 0:
            _parse_multipart(part, boundary, lines, levels, context)
            continue
        _parse_leaf(part, boundary, lines)
        if (
            part.content_type.startswith("message/")
            and part.content_type != "message/partial"
            and levels > 0
        ):
            _subparse_message(part, levels, context)


def _parse_leaf(part: Part, boundary: bytes | None, lines: list[bytes]) -> None:
    """A non-multipart node: settle its type, charset and filename, keep its raw body."""
    ctype = _content_type_of(part)
    if not ctype.missing:
        # A multipart without a boundary is read as text/plain.
        if not ctype.media_type.startswith("multipart/") or boundary is not None:
            part.content_type = ctype.media_type
        else:
            part.content_type = "text/plain"
    part.charset = ctype.charset.decode("latin-1") if ctype.charset is not None else None
    name = disposition_filename(header_value(part, "content-disposition"))
    if name is None and ctype.name:
        name = ctype.name
    part.filename = name.decode("latin-1") if name is not None else None
    part.boundary = boundary
    part.body = b"".join(lines)


def _subparse_message(part: Part, levels: int, context: _Context) -> None:
    """Parse a message/rfc822 (or message/global) part as a message of its own."""
    if part.content_type not in ("message/rfc822", "message/global"):
        return
    decoded = decoded_content(part, context)
    if not decoded:
        return
    split = _split_message(split_lines(decoded), context, nested=True)
    inner = Part(headers=split.headers, is_message=True, depth=part.depth + 1)
    _classify_root(inner)
    lines = split.body_lines
    _insert_blank_before_mime_headers(inner, lines)
    part.children = [inner]
    part.body = None
    part.cache.pop("decoded", None)
    context.queue.append((inner, inner.boundary, lines, levels - 1))


def _is_opening_boundary(line: bytes, boundary: bytes) -> bool:
    """`--boundary` plus optional trailing whitespace (SA's opening-boundary test)."""
    if not line.startswith(b"--" + boundary):
        return False
    return not line[2 + len(boundary) :].strip(_ASCII_SPACE)


def _insert_blank_before_mime_headers(part: Part, lines: list[bytes]) -> None:
    """SA bug 6845: a multipart body starting with neither a blank line nor `--boundary`
    gets a blank line first, so MIME headers there are not read as part headers.
    (Only a prefix test here: `--boundary-junk` counts as the boundary.)"""
    if not part.content_type.startswith("multipart/") or len(lines) <= 1:
        return
    if not _NON_SPACE.search(lines[0]):
        return
    if part.boundary is None or not lines[0].startswith(b"--" + part.boundary):
        lines.insert(0, b"\n")


def _boundary_kind(line: bytes, boundary: bytes) -> int:
    """0: not a boundary line; 1: `--boundary`; 2: the closing `--boundary--`.

    Trailing whitespace is allowed after either form, anything else is not.
    """
    if not line.startswith(b"--") or not line.startswith(boundary, 2):
        return 0
    rest = line[2 + len(boundary) :]
    if not rest.strip(_ASCII_SPACE):
        return 1
    if rest.startswith(b"--") and not rest[2:].strip(_ASCII_SPACE):
        return 2
    return 0


def _parse_multipart(
    part: Part, boundary: bytes, lines: list[bytes], levels: int, context: _Context
) -> None:
    """Split a multipart body on its boundary into child parts (SA's `_parse_multipart`)."""
    part.children = []
    levels -= 1
    nested_boundary = False

    # Skip the preamble up to the first opening boundary; without one, keep every line.
    for index, line in enumerate(lines):
        if line.startswith(b"--") and _is_opening_boundary(line, boundary):
            context.boundary_state[boundary] = 1
            if index + 1 < len(lines) and not _PART_HEADER_START.match(lines[index + 1]):
                context.flag("missing_mime_headers", "no header after the opening boundary")
            lines = lines[index + 1 :]
            break

    child = Part(headers=[], depth=part.depth + 1)
    in_body = False
    pending: bytes | None = None
    body: list[bytes] | None = None
    remaining = len(lines)
    for index, line in enumerate(lines):
        kind = _boundary_kind(line, boundary) if line[:2] == b"--" else 0
        if kind and nested_boundary:
            if kind == 2:
                nested_boundary = False  # SA bug 7358: one level of a reused boundary
            kind = 0
        remaining -= 1
        if remaining == 0 or kind:
            if not kind:
                body = _append_cut(body, line)
            elif body:
                last = body[-1]
                last = last[:-1] if last.endswith(b"\n") else last
                if last:
                    body[-1] = last
                else:
                    body.pop()
            elif body is None:
                body = []
            _finish_child(part, child, boundary, body, levels, context)
            if kind == 2:
                context.boundary_state[boundary] = context.boundary_state.get(boundary, 0) - 1
                _check_epilogue(lines[index + 1 :], context)
                return
            if remaining and not _PART_HEADER_START.match(lines[index + 1]):
                context.flag("missing_mime_headers", "no header after a boundary")
            if len(part.children) == MAX_PARTS_PER_MULTIPART:
                context.flag("mimepart_limit_exceeded", "more than 1000 parts")
                return
            child = Part(headers=[], depth=part.depth + 1)
            in_body = False
            pending = None
            body = None
            continue

        if not in_body:
            if _HEADER_START.match(line):
                if pending is not None:
                    _store_part_header(child, pending)
                pending = line
                continue
            if line[:1] in (b" ", b"\t") and pending:
                pending += line
                continue
            if pending is not None:
                name = _store_part_header(child, pending)
                if name.lower() == "content-type":
                    inner = parse_content_type(header_value(child, "content-type")).boundary
                    if inner is not None and inner == boundary:
                        nested_boundary = True
            in_body = True
            if line in (b"\n", b"\r\n", b"", b"\r"):
                continue
            context.flag("missing_mime_head_body_separator")
        body = _append_cut(body, line)


def _append_cut(body: list[bytes] | None, line: bytes) -> list[bytes]:
    """Append a body line, cut into 2048-byte lines as SA does (it adds the newlines)."""
    if body is None:
        body = []
    while len(line) > MAX_BODY_LINE_LENGTH:
        body.append(line[:MAX_BODY_LINE_LENGTH] + b"\n")
        line = line[MAX_BODY_LINE_LENGTH:]
    body.append(line)
    return body


def _store_part_header(child: Part, field_text: bytes) -> str:
    """Store a part header: the name as written, the value from its first non-blank byte."""
    match = _PART_VALUE_SEPARATOR.search(field_text)
    if match is None:  # pragma: no cover - callers only pass lines that start a header
        return ""
    name = field_text[: match.start()].decode("latin-1")
    child.headers.append(Header(name, field_text[match.end() :]))
    child._by_key = None
    return name


def _finish_child(
    parent: Part,
    child: Part,
    boundary: bytes,
    body: list[bytes],
    levels: int,
    context: _Context,
) -> None:
    """Type a finished child part, attach it and queue its body for parsing."""
    ctype = _content_type_of(child)
    child.content_type = ctype.media_type
    if ctype.missing and parent.content_type == "multipart/digest":
        child.content_type = "message/rfc822"
    child_boundary = boundary if ctype.boundary in (None, b"", b"0") else ctype.boundary
    assert parent.children is not None
    parent.children.append(child)
    context.queue.append((child, child_boundary, body, levels))


def _check_epilogue(rest: list[bytes], context: _Context) -> None:
    """Flag text after the closing boundary other than whitespace and dots."""
    for line in rest:
        if _EPILOGUE_CONTENT.search(line):
            context.flag("mime_epilogue_exists")
            return


# --- transfer decoding -------------------------------------------------------------------------


def decoded_content(part: Part, context: _Context | None = None) -> bytes:
    """A leaf's content with its Content-Transfer-Encoding undone (SA's `Node::decode`).

    quoted-printable always has CRLF squashed afterwards, base64 only for text/* and message/*
    types; any other encoding (7bit, 8bit, binary, x-uuencode, ...) is left as it is.
    Cached on the part; capped at MAX_DECODED_PART_BYTES.
    """
    cached = part.cache.get("decoded")
    if isinstance(cached, bytes):
        return cached
    raw = part.body if part.body is not None else b""
    encoding = (header_value(part, "content-transfer-encoding") or b"").lower()
    if encoding == b"quoted-printable":
        decoded = qp_decode(raw).replace(b"\r\n", b"\n")
    elif encoding == b"base64":
        decoded = base64_decode(raw)
        if _TEXT_OR_MESSAGE.match(part.content_type):
            decoded = decoded.replace(b"\r\n", b"\n")
    else:
        decoded = raw
    if len(decoded) > MAX_DECODED_PART_BYTES:
        decoded = decoded[:MAX_DECODED_PART_BYTES]
        if context is not None:
            context.flag("decoded_truncated", f"part cut at {MAX_DECODED_PART_BYTES} bytes")
    part.cache["decoded"] = decoded
    return decoded
