"""What spamd sends back: the rewritten message, its header part, the report, the rule list.

`rewrite_message` is SpamAssassin 4.0.1's `PerMsgStatus::rewrite_mail`: the mbox `From ` line if
there was one, then either the header-only form (every ham, and spam with `report_safe 0`) or the
report_safe form (spam with `report_safe 1` or `2`: a new MIME message carrying the report and the
untouched original). The bytes are SpamAssassin's, including its quirks, because MTAs,
spamass-milter and the C spamc read them: X-Spam-* headers go after a leading Return-Path,
generated text takes the message's own line ending while the original body is never touched,
and `rewrite_header` tags go right after the colon of the first physical header line.

Host name, time and the MIME boundary's randomness come from a `MarkupEnv`, so tests can pin
them; spamd passes the client's host name and address the same way (`_REMOTEHOSTNAME_`).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from .added_headers import added_headers, header_lists, process_header
from .headers import part_header
from .templates import SA_VERSION, MarkupEnv, TagExpander, rfc822_date

if TYPE_CHECKING:
    from .message import Message
    from .scan import ScanResult

__all__ = [
    "MarkupEnv",
    "report_bytes",
    "report_text",
    "rewrite_message",
    "rewritten_headers",
    "status_header",
    "symbols_text",
]

log = logging.getLogger(__name__)

_NO_REPORT_TEMPLATE = "(no report template found)"
_ENCAPSULATED_DESCRIPTION = b"original message before SpamAssassin"  # Conf.pm, not settable
_REPORT_HEADERS_ORDER = (b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-Id")
_ALREADY_COPIED = frozenset({"from", "to", "cc", "subject", "date", "message-id"})
_X_SPAM = re.compile(rb"X-Spam-(?!Prev-)", re.I)
_X_SPAM_OR_CONTINUATION = re.compile(rb"(?:X-Spam-(?!Prev-)|[ \t])", re.I)
_BLANK = re.compile(rb"[ \t\n\r\f\x0b]*\Z")
_REWRITABLE = re.compile(rb"(From|Subject|To):", re.I)
_SUBJECT_LINE = re.compile(rb"(Subject):", re.I)
_RETURN_PATH = re.compile(rb"Return-Path:", re.I)
_TRAILING_SPACE = re.compile(rb"[ \t\n\r\f\x0b]+\Z")
_LINE_END = re.compile(rb"\r?\n")
_HEADER_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_TEXT_PLAIN = re.compile(rb"text/plain", re.I)
_DEFAULT_STATUS = (  # Debian's 10_default_prefs.cf
    "_YESNO_, score=_SCORE_ required=_REQD_ tests=_TESTS_ autolearn=_AUTOLEARN_ version=_VERSION_"
)


# ---- public API -------------------------------------------------------------------------------
def rewrite_message(
    result: ScanResult, env: MarkupEnv | None = None, *, tags: TagExpander | None = None
) -> bytes:
    """The whole rewritten message, as spamd's PROCESS returns it.

    spamd must always answer: should rewriting fail on a bug of ours, the message goes back
    unchanged (what spamc itself does when spamd fails) and the error is logged.
    """
    try:
        tags = tags or TagExpander(result, env)
        msg = result.context.msg
        out = msg.mbox_from or b""
        report_safe = int(result.config.number("report_safe", 1.0))
        if result.is_spam and report_safe:
            return out + _report_safe_form(tags, msg, report_safe)
        return out + _header_only_form(tags, msg)
    except Exception:
        log.exception("rewriting the message failed; returning it unchanged")
        return bytes(result.context.raw)


def rewritten_headers(result: ScanResult, env: MarkupEnv | None = None) -> bytes:
    """HEADERS: the rewritten message cut right after its first empty line (kept)."""
    text = rewrite_message(result, env)
    m = _HEADER_BLOCK_END.search(text)
    return text[: m.end()] if m else text


def report_bytes(result: ScanResult, env: MarkupEnv | None = None) -> bytes:
    """The `report` template expanded, ending in exactly one blank line (get_report)."""
    try:
        return _report(TagExpander(result, env))
    except Exception:  # a bug of ours must not cost the client its answer
        log.exception("building the report failed")
        return b"\n\n"


def report_text(result: ScanResult, env: MarkupEnv | None = None) -> str:
    """REPORT / REPORT_IFSPAM's body as str; 8-bit bytes survive as surrogate escapes.

    Encode with `encode("utf-8", "surrogateescape")` to get spamd's exact bytes back.
    """
    return report_bytes(result, env).decode("utf-8", "surrogateescape")


def symbols_text(result: ScanResult) -> str:
    """SYMBOLS: the scoring rules hit, sorted, joined by commas, no line ending."""
    return ",".join(result.rules)


def status_header(result: ScanResult, env: MarkupEnv | None = None) -> str:
    """The X-Spam-Status value (without name and final newline), folded with LF + tab.

    Uses the configured Status template of the verdict's header list, or Debian's default
    when the configuration removed it.
    """
    tags = TagExpander(result, env)
    lists = header_lists(result.config)
    template = dict((n.lower(), t) for n, t in lists.for_verdict(result.is_spam)).get(
        "status", _DEFAULT_STATUS
    )
    value = process_header("Status", template, tags, result.config.flag("fold_headers"))
    return value.decode("utf-8", "surrogateescape")


# ---- shared pieces ----------------------------------------------------------------------------
def _report(tags: TagExpander) -> bytes:
    template = tags.config.get("report") or _NO_REPORT_TEMPLATE
    text = tags.expand(str(template))
    return text.rstrip(b"\n") + b"\n\n"


def _fix_line_endings(text: bytes, line_ending: bytes) -> bytes:
    """Generated text takes the message's own line ending (_fixup_report_line_endings)."""
    return text if line_ending == b"\n" else _LINE_END.sub(line_ending, text)


def _lines(text: bytes) -> list[bytes]:
    """Perl's split(/^/m, TEXT): physical lines with their newline, no empty last one."""
    parts = text.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def pristine_header(msg: Message, name: str) -> list[bytes]:
    """Every value of a header as received (get_pristine_header in list context).

    The value starts after the colon and its blanks and keeps its folding and line end. When
    the header is not found that way (no newline after it), SpamAssassin falls back to the
    decoded value plus a newline.
    """
    found = _pristine_pattern(name).findall(msg.pristine_headers)
    if found:
        return found
    value = part_header(msg.root, name, message=msg)
    return [value] if value is not None else []


@lru_cache(maxsize=128)
def _pristine_pattern(name: str) -> re.Pattern[bytes]:
    return re.compile(
        rb"^" + re.escape(name.encode("latin-1", "replace")) + rb"[ \t]*:[ \t]*(.*?\n(?![ \t]))",
        re.M | re.S | re.I,
    )


def _last_pristine(msg: Message, name: str) -> bytes | None:
    values = pristine_header(msg, name)
    return values[-1] if values else None


def _rewrite_tag(tags: TagExpander, which: str) -> bytes | None:
    """The expanded rewrite_header tag for Subject/From/To, or None when not configured."""
    table = tags.config.get("rewrite_header")
    if not isinstance(table, dict):
        return None
    template = table.get(which)
    if template is None or not str(template).strip():
        return None
    text = str(template)
    if which != "Subject":  # From/To tags become RFC 5322 comments: no parentheses inside
        text = text.replace("(", "[").replace(")", "]")
    return tags.expand(text)


def _expanded_prefix(tags: TagExpander) -> bytes | None:
    """The collected subjprefix, itself a template, newlines turned into spaces."""
    prefix = tags.subject_prefix
    return None if prefix is None else tags.expand(prefix).replace(b"\n", b" ")


def _subject_rewriting(tags: TagExpander) -> bool:
    table = tags.config.get("rewrite_header")
    return isinstance(table, dict) and "Subject" in table


# ---- header-only form (rewrite_no_report_safe) ------------------------------------------------
def _header_only_form(tags: TagExpander, msg: Message) -> bytes:
    lines = _lines(msg.pristine_headers)
    index = 0
    while index < len(lines):  # drop old X-Spam-* fields (not X-Spam-Prev-*), folding too
        if _X_SPAM.match(lines[index]):
            while index < len(lines) and _X_SPAM_OR_CONTINUATION.match(lines[index]):
                del lines[index]
            continue
        index += 1
    separator = lines.pop() if lines and _BLANK.fullmatch(lines[-1]) else b""

    missing_subject = _last_pristine(msg, "Subject") is None and _subject_rewriting(tags)
    if missing_subject:
        lines.append(b"Subject: \n")
    prefix = _expanded_prefix(tags)
    if prefix is not None:
        prefix = _TRAILING_SPACE.sub(b"", prefix)
    if tags.is_spam:
        _tag_spam_headers(tags, lines, missing_subject, prefix)
    elif prefix is not None and _subject_rewriting(tags):
        for i, line in enumerate(lines):
            if _SUBJECT_LINE.match(line):
                lines[i] = _insert_after_colon(line, prefix)

    head = b""
    if lines and _RETURN_PATH.match(lines[0]):
        head += lines.pop(0)
        while lines and lines[0][:1] in (b" ", b"\t"):
            head += lines.pop(0)
    head += added_headers(tags)
    text = head + b"".join(lines) + separator
    return _fix_line_endings(text, msg.line_ending) + msg.pristine_body


def _tag_spam_headers(
    tags: TagExpander, lines: list[bytes], missing_subject: bool, prefix: bytes | None
) -> None:
    """Tag the first line of each From/Subject/To that has a rewrite_header setting."""
    index = 0
    while index < len(lines):  # lines grows while we walk it, as SpamAssassin's loop does
        line = lines[index]
        m = _REWRITABLE.match(line)
        if m is not None:
            which = m.group(1).decode("ascii").capitalize()
            tag = _rewrite_tag(tags, which)
            if tag is not None:
                if missing_subject:
                    lines.append(b"X-Spam-Prev-Subject: (nonexistent)\n")
                else:
                    lines.append(b"X-Spam-Prev-" + line)
                tag = tag.replace(b"\n", b" ")
                if which != "Subject":
                    tag = b"(" + tag + b")"
                if prefix is not None:
                    line = _insert_after_colon(line, prefix)
                lines[index] = _insert_after_colon(line, tag)
        index += 1


def _insert_after_colon(line: bytes, tag: bytes) -> bytes:
    """`Name: <tag> rest`: blanks after the colon become one space; no tag twice."""
    colon = line.find(b":")
    if colon <= 0:
        return line
    name, rest = line[: colon + 1], line[colon + 1 :].lstrip(b" \t")
    if rest[: len(tag) + 1].lower() == tag.lower() + b" ":
        rest = rest[len(tag) + 1 :]
    return name + b" " + tag + b" " + rest


# ---- report_safe form (rewrite_report_safe) ---------------------------------------------------
def _report_safe_form(tags: TagExpander, msg: Message, report_safe: int) -> bytes:
    env = tags.env
    original = msg.pristine_headers + msg.pristine_body
    report = _report(tags)
    fields = {name: _last_pristine(msg, name.decode()) for name in _REPORT_HEADERS_ORDER}

    subject_tag = _rewrite_tag(tags, "Subject")
    if subject_tag is not None:
        subject = fields[b"Subject"] if fields[b"Subject"] is not None else b"\n"
        prefix = _expanded_prefix(tags)
        if prefix is not None:
            subject = prefix + subject
        subject_tag = subject_tag.replace(b"\n", b" ")
        if subject.startswith(subject_tag + b" "):
            subject = subject[len(subject_tag) + 1 :]
        fields[b"Subject"] = subject_tag + b" " + subject
    for name, strip in ((b"To", b"\n"), (b"From", None)):
        tag = _rewrite_tag(tags, name.decode())
        if tag is None:
            continue
        tag = tag.replace(b"\n", b" ") if strip else tag.replace(b"\n", b"")
        value = fields[name] if fields[name] is not None else b"\n"
        fields[name] = _append_comment(value, b"\t(" + tag + b")")

    head = b"".join(name + b": " + value for name, value in fields.items() if value is not None)
    head += added_headers(tags)
    head = _copy_headers(tags, msg, head)
    received = (
        b"Received: from localhost by " + env.host().encode("utf-8", "surrogateescape") + b"\n"
        b"\twith SpamAssassin (version " + SA_VERSION.encode() + b");\n"
        b"\t" + rfc822_date(env.time()).encode() + b"\n"
    )
    head = received + head

    boundary = b"----------=_%08X.%08X" % (int(env.time()) & 0xFFFFFFFF, env.random32())
    while re.search(rb"^" + re.escape(boundary) + rb"(?:--)?$", original, re.M):
        boundary += b"/%08X" % env.random32()

    content_type = part_header(msg.root, "Content-Type", message=msg)
    if content_type is not None and content_type and not _TEXT_PLAIN.search(content_type):
        disposition = b"attachment"
        unsafe = tags.config.get("unsafe_report")
        report += tags.expand(str(unsafe)) if unsafe else b""
    else:
        disposition = b"inline"
    kind = b"text/plain" if report_safe > 1 else b"message/rfc822"
    charset = str(tags.config.get("report_charset") or "UTF-8").encode()

    head += (
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n'
        b"\n"
        b"This is a multi-part message in MIME format.\n"
        b"\n"
        b"--" + boundary + b"\n"
        b"Content-Type: text/plain; charset=" + charset + b"\n"
        b"Content-Disposition: inline\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n" + report + b"\n"
        b"\n"
        b"--" + boundary + b"\n"
        b"Content-Type: " + kind + b"; x-spam-type=original\n"
        b"Content-Description: " + _ENCAPSULATED_DESCRIPTION + b"\n"
        b"Content-Disposition: " + disposition + b"\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n"
    )
    trailer = b"\n--" + boundary + b"--\n\n"
    ending = msg.line_ending
    return _fix_line_endings(head, ending) + original + _fix_line_endings(trailer, ending)


def _append_comment(value: bytes, comment: bytes) -> bytes:
    """`s/(?:COMMENT)?$/COMMENT/`: before a final newline, at most once."""
    cut = len(value) - 1 if value.endswith(b"\n") else len(value)
    body, tail = value[:cut], value[cut:]
    if body.endswith(comment):
        return value
    return body + comment + tail


def _copy_headers(tags: TagExpander, msg: Message, head: bytes) -> bytes:
    """report_safe_copy_headers: Received copies go on top, the others after the X-Spam-*."""
    copied = set(_ALREADY_COPIED)
    for name in tags.config.strings("report_safe_copy_headers"):
        key = name.lower()
        if key in copied:
            continue
        copied.add(key)
        label = name.encode("latin-1", "replace") + b": "
        block = b"".join(label + value for value in pristine_header(msg, name))
        head = block + head if key == "received" else head + block
    return head
