"""The X-Spam-* header lists and how each header line is rendered.

SpamAssassin keeps one ordered list of (name, template) for spam and one for ham, built by the
`add_header`, `remove_header`, `clear_headers` and `report_safe 0` lines of the configuration
(`Conf.pm`), each acting on the lists as they stand. The compiled settings keep those edits in
file order as `header_edits` (after the last `clear_headers`; `report_safe 0` shows up as the
add of the Report header it implies), and the lists are rebuilt here once per configuration.
Rendering a header (`PerMsgStatus::_process_header`, `mime_encode_header`) is byte-exact: the
X-Spam-Status line is folded by SpamAssassin's wrapper at 79 columns after a space or comma,
which is what spamass-milter and MTAs parse.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache

from .config import Config
from .templates import TagExpander
from .wrap import HEADER_BREAK, wrap

__all__ = [
    "CHECKER_VERSION",
    "HeaderLists",
    "added_headers",
    "header_lists",
    "mime_encode_header",
    "process_header",
    "unescape_template",
]

# The header the Conf constructor puts first in both lists; it can never be removed.
CHECKER_VERSION = ("Checker-Version", "SpamAssassin _VERSION_ (_SUBVERSION_) on _HOSTNAME_")
_HEADER_WIDTH = 79  # _process_header wraps `X-Spam-NAME!!value` at 79 columns

_TRAILING_NEWLINES = re.compile(rb"(?:\r?\n)+\Z")
_NEWLINE_WITH_SPACE = re.compile(rb"[ \t\n\r\f\x0b]*\n[ \t\n\r\f\x0b]*")
_BLANK_LINE = re.compile(rb"^[ \t\n\r\f\x0b]*\n", re.M)
_OTHER_ESCAPE = re.compile(r"\\.")
# mime_encode_header's pieces: a line needing no encoding, the ASCII words kept at either end.
_PLAIN_LINE = re.compile(rb"[\t\x20-\x7e]*\r?\n\Z")
_ASCII_SUFFIX = re.compile(rb"(?:^|[ \t])[\t\x20-\x7e]*(?:\r?\n)?\Z")
_LINE_END = re.compile(rb"\r?\n\Z")
_ASCII_PREFIX = re.compile(rb"[\t\x20-\x7e]*(?:[ \t]|\Z)")
_QP_COSTLY = re.compile(rb"[=?_\x00-\x1f\x7f-\xff]")
_QP_ENCODE = re.compile(rb"[=?_\x00-\x20\x7f-\xff]")

HeaderList = tuple[tuple[str, str], ...]


class HeaderLists:
    """The spam and ham lists of (name, template), in output order."""

    __slots__ = ("ham", "spam")

    def __init__(self, spam: HeaderList, ham: HeaderList) -> None:
        self.spam = spam
        self.ham = ham

    def for_verdict(self, is_spam: bool) -> HeaderList:
        return self.spam if is_spam else self.ham


def unescape_template(text: str) -> str:
    """add_header escapes: `\\\\` is a backslash, `\\t` a tab, `\\n` a newline, others vanish."""
    pieces = (text + "\n").split("\\\\")
    out = []
    for piece in pieces:
        piece = piece.replace("\\t", "\t").replace("\\n", "\n")
        out.append(_OTHER_ESCAPE.sub("", piece))
    return "\\".join(out)[:-1]


def header_lists(config: Config) -> HeaderLists:
    """The configuration's header lists (cached per distinct set of header settings)."""
    return _build_lists(_frozen(config.get("header_edits") or ()))


def _frozen(entries: object) -> tuple[tuple[str, ...], ...]:
    """A hashable copy of a list-of-lists setting (the lru_cache key)."""
    if not isinstance(entries, (list, tuple)):
        return ()
    return tuple(tuple(str(x) for x in e) for e in entries if isinstance(e, (list, tuple)))


@lru_cache(maxsize=64)
def _build_lists(edits: tuple[tuple[str, ...], ...]) -> HeaderLists:
    spam: list[tuple[str, str]] = [CHECKER_VERSION]
    ham: list[tuple[str, str]] = [CHECKER_VERSION]
    for edit in edits:
        if len(edit) == 4 and edit[0] == "add":
            _op, when, name, template = edit
            added: tuple[str, str] | None = (name, unescape_template(template))
        elif len(edit) == 3 and edit[0] == "remove" and edit[2] != "Checker-Version":
            _op, when, name = edit
            added = None
        else:
            continue
        for wanted, target in (("ham", ham), ("spam", spam)):
            if when in (wanted, "all"):
                target[:] = [h for h in target if h[0].lower() != name.lower()]
                if added is not None:
                    target.append(added)
    return HeaderLists(tuple(spam), tuple(ham))


def process_header(name: str, template: str, tags: TagExpander, fold: bool) -> bytes:
    """One header's value: tags expanded, then folded as SpamAssassin folds it."""
    data = _TRAILING_NEWLINES.sub(b"", tags.expand(template))
    if not fold:
        return data.replace(b"\n", b" ")
    if b"\n" in data:
        return _NEWLINE_WITH_SPACE.sub(b"\n\t", data)
    # '!!' instead of ': ' so that the wrapper cannot break between the name and the value
    line = b"X-Spam-" + name.encode("ascii", "replace") + b"!!" + data
    line = wrap(line, b"\t", b"", _HEADER_WIDTH, False, HEADER_BREAK)
    line = _BLANK_LINE.sub(b"", line)
    return line.split(b"!!", 1)[1]


def mime_encode_header(text: bytes) -> bytes:
    """RFC 2047-encode (UTF-8) each line holding bytes outside printable ASCII."""
    out: list[bytes] = []
    for line in _physical_lines(text):
        if _PLAIN_LINE.match(line):
            out.append(line)
            continue
        prefix = suffix = b""
        m = _ASCII_SUFFIX.search(line)
        if m is not None:
            suffix, line = line[m.start() :], line[: m.start()]
        else:
            m = _LINE_END.search(line)
            if m is not None:
                suffix, line = line[m.start() :], line[: m.start()]
        m = _ASCII_PREFIX.match(line)
        if m is not None:
            prefix, line = line[: m.end()], line[m.end() :]
        if not line:
            out.append(prefix + suffix)
            continue
        costly = len(_QP_COSTLY.findall(line))
        if len(line) + costly * 2 <= 4 * (len(line) + 2) / 3:
            encoded = _QP_ENCODE.sub(_qp_char, line)
            out.append(prefix + b"=?UTF-8?Q?" + encoded + b"?=" + suffix)
        else:
            out.append(prefix + b"=?UTF-8?B?" + base64.b64encode(line) + b"?=" + suffix)
    return b"".join(out)


def _qp_char(m: re.Match[bytes]) -> bytes:
    char = m.group(0)
    return b"_" if char == b" " else b"=%02X" % char[0]


def _physical_lines(text: bytes) -> list[bytes]:
    """Perl's split(/^/m): lines keeping their newline; no empty last field."""
    lines = text.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def added_headers(tags: TagExpander, lists: HeaderLists | None = None) -> bytes:
    """The `X-Spam-NAME: value` lines for the verdict, LF-terminated (_get_added_headers)."""
    config = tags.config
    lists = lists or header_lists(config)
    fold = config.flag("fold_headers")
    out = []
    for name, template in lists.for_verdict(tags.is_spam):
        value = mime_encode_header(process_header(name, template, tags, fold))
        out.append(b"X-Spam-" + name.encode("ascii", "replace") + b": " + value + b"\n")
    return b"".join(out)
