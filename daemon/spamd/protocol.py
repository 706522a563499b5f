"""Reading a SPAMC request: the request line, the header block and the body.

Every rule here is SpamAssassin 4.0.1's as observed on the wire (protocol.md sections 2, 4 and
8) — the command found anywhere in the first line, numeric version comparison, case-sensitive
header names, 255 header lines at most, the last duplicate winning, zlib bodies read to EOF —
with three deliberate differences where spamd's behaviour is a bug:

* a body is read by byte count, not by lines, so a message whose last line has no line ending
  is complete as soon as Content-length bytes arrived (spamd waits for a LF or the timeout);
* bytes already waiting after Content-length are a length mismatch (spamd silently scans a
  message cut short when the wrong length happens to end on a line boundary);
* every line and body is bounded (--max-message-size, zlib output included), so one client
  cannot make a child allocate without limit.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import zlib
from dataclasses import dataclass

from .errors import ProtocolError, bad_header, data_error, unavailable

__all__ = [
    "MAX_LINE",
    "Body",
    "ClientStream",
    "Request",
    "RequestHeaders",
    "inflate",
    "parse_request_line",
    "perl_number",
    "read_body",
    "read_headers",
]

# Ours: spamd reads a line of any length. 64 KiB is 8x the longest response line the C spamc
# accepts (8187 bytes) and far above any real request or header line.
MAX_LINE = 64 * 1024
# spamd reads 255 header lines; the 256th without the empty line is an error.
MAX_HEADER_LINES = 255
_RECV_SIZE = 64 * 1024

# Tried in this order, unanchored, case-sensitive (protocol.md section 2.1).
_SCAN_VERBS = re.compile(rb"(PROCESS|CHECK|SYMBOLS|REPORT|HEADERS|REPORT_IFSPAM) SPAMC/(.*)")
_TELL_VERB = re.compile(rb"(TELL) SPAMC/(.*)")
_CHEAP_VERBS = re.compile(rb"(SKIP|PING) SPAMC/(.*)")
# Perl's string-to-number: leading blanks, a decimal number, anything after it ignored.
_PERL_NUMBER = re.compile(rb"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))")
# Perl's `$` also matches before a final newline, so a bare-LF header line still validates.
_CONTENT_LENGTH = re.compile(rb"(\d*)\n?")
_USER = re.compile(rb"([\x20-\xff]*)\n?")
_NAME_VALUE = re.compile(rb":\s*")
_ZLIB = re.compile(rb"zlib", re.IGNORECASE)
_LOCAL = re.compile(rb"local", re.IGNORECASE)
_REMOTE = re.compile(rb"remote", re.IGNORECASE)


def perl_number(text: bytes) -> float:
    """What Perl's numeric comparison sees in a version string: `abc` is 0, `1.5 x` is 1.5."""
    match = _PERL_NUMBER.match(text)
    return float(match[1]) if match else 0.0


@dataclass(frozen=True)
class Request:
    verb: str
    version_text: bytes
    version: float


def parse_request_line(line: bytes) -> Request:
    """The verb and version of a request line (line end already removed)."""
    for pattern in (_SCAN_VERBS, _TELL_VERB, _CHEAP_VERBS):
        match = pattern.search(line)
        if match:
            return Request(match[1].decode("ascii"), match[2], perl_number(match[2]))
    raise bad_header(line)


class ClientStream:
    """Buffered reads from one client connection, plain or TLS.

    Timeouts are not handled here: the worker's alarm interrupts a blocked read.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self.at_eof = False

    def _fill(self) -> bool:
        if self.at_eof:
            return False
        chunk = self.sock.recv(_RECV_SIZE)
        if not chunk:
            self.at_eof = True
            return False
        self._buf += chunk
        return True

    def readline(self, limit: int = MAX_LINE) -> bytes | None:
        """Up to and including the first LF; the rest at EOF; None when nothing was left."""
        start = 0
        while True:
            end = self._buf.find(b"\n", start)
            if end >= limit:
                raise bad_header("(line too long)")
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            if len(self._buf) > limit:
                raise bad_header("(line too long)")
            start = len(self._buf)
            if not self._fill():
                if not self._buf:
                    return None
                line = bytes(self._buf)
                self._buf.clear()
                return line

    def read_exact(self, size: int) -> bytes:
        """`size` bytes, or fewer if the client half-closed first."""
        while len(self._buf) < size and self._fill():
            pass
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def read_to_eof(self, limit: int) -> bytes:
        """Everything until the client half-closes; more than `limit` bytes is refused."""
        while self._fill():
            if len(self._buf) > limit:
                raise data_error(f"(message larger than {limit} bytes)")
        if len(self._buf) > limit:
            raise data_error(f"(message larger than {limit} bytes)")
        data = bytes(self._buf)
        self._buf.clear()
        return data

    def waiting(self) -> bytes:
        """Bytes the client already sent beyond what was read, without waiting for more."""
        data = bytes(self._buf)
        if self.at_eof:
            return data
        try:
            if isinstance(self.sock, ssl.SSLSocket):
                pending = self.sock.pending()
                if pending:
                    data += self.sock.recv(pending)
            elif select.select([self.sock], [], [], 0)[0]:
                data += self.sock.recv(_RECV_SIZE, socket.MSG_DONTWAIT | socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError, ssl.SSLError, OSError):
            pass
        return data


@dataclass
class RequestHeaders:
    """The request headers spamd knows; anything else is ignored."""

    content_length: int | None = None
    content_length_text: str = ""  # as sent: an empty value prints as "Expected  bytes"
    user: str | None = None  # UTF-8 decoded with surrogateescape: raw bytes round-trip
    compress: bool = False
    message_class: bytes | None = None
    set_local: bool = False
    set_remote: bool = False
    remove_local: bool = False
    remove_remote: bool = False
    count: int = 0

    @property
    def is_spam_class(self) -> bool:
        """TELL: exactly `spam` is spam; any other class, or none, is ham."""
        return self.message_class == b"spam"


def read_headers(stream: ClientStream, on_user: object = None) -> RequestHeaders:
    """The header block up to its empty CRLF line; `on_user(name)` runs when User arrives,
    because spamd switches to the user's configuration while it is still parsing."""
    headers = RequestHeaders()
    for _ in range(MAX_HEADER_LINES + 1):
        line = stream.readline()
        if line is None:
            raise bad_header("(EOF during headers)")
        if line.endswith(b"\r\n"):
            line = line[:-2]
        if not line:
            return headers
        parts = _NAME_VALUE.split(line, maxsplit=1)
        if len(parts) < 2:
            raise bad_header("(header not in 'Name: value' format)")
        name, value = parts
        headers.count += 1
        _apply_header(headers, name, value, on_user)
    raise bad_header("(too many headers)")


def _apply_header(headers: RequestHeaders, name: bytes, value: bytes, on_user: object) -> None:
    if name == b"Content-length":
        match = _CONTENT_LENGTH.fullmatch(value)
        if not match:
            raise bad_header("(Content-Length contains non-numeric bytes)")
        text = match[1].decode("ascii")
        headers.content_length_text = text
        headers.content_length = int(text) if text else 0
    elif name == b"User":
        match = _USER.fullmatch(value)
        if not match:
            raise bad_header("(User header contains control chars)")
        headers.user = match[1].decode("utf-8", "surrogateescape")
        if callable(on_user):
            on_user(headers.user)
    elif name == b"Message-class":
        headers.message_class = value  # never validated: spamd's check is dead code
    elif name == b"Set":
        headers.set_local = bool(_LOCAL.search(value))
        headers.set_remote = bool(_REMOTE.search(value))
    elif name == b"Remove":
        headers.remove_local = bool(_LOCAL.search(value))
        headers.remove_remote = bool(_REMOTE.search(value))
    elif name == b"Compress":
        if not _ZLIB.search(value):
            raise bad_header(b"(compression type not supported: " + value + b")")
        headers.compress = True


@dataclass(frozen=True)
class Body:
    """The message as received, and what the length check needs to say about it."""

    data: bytes
    received: int  # bytes spamd counts as received (the inflated size for zlib)
    expected: str | None  # Content-length as sent, None when there is nothing to check

    @property
    def mismatch(self) -> ProtocolError | None:
        if self.expected is None:
            return None
        expected_number = int(self.expected) if self.expected else 0
        if self.received == expected_number:
            return None
        return bad_header(
            f"(Content-Length mismatch: Expected {self.expected} bytes, got {self.received} bytes)"
        )


def inflate(data: bytes, limit: int) -> bytes:
    """A complete zlib stream, at most `limit` bytes once inflated (a zlib bomb stops there)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise unavailable("zlib: failed to find end of zlib stream\n") from None
    if len(out) > limit:
        raise data_error(f"(message larger than {limit} bytes after zlib inflation)")
    if not inflater.eof:
        raise unavailable("zlib: failed to find end of zlib stream\n")
    return out


def _perl_line_split(data: bytes) -> bytes:
    """spamd splits inflated text at LF and adds one LF back to each piece; trailing empty
    pieces vanish. So `...\\n\\n` is scanned as `...\\n`, and a missing final LF is added."""
    stripped = data.rstrip(b"\n")
    return stripped + b"\n" if stripped else b""


def read_body(
    stream: ClientStream, headers: RequestHeaders | None, limit: int, warn: object = None
) -> Body:
    """The message after the header block (or after the request line for protocol <= 1.0)."""
    if headers is not None and headers.compress:
        if headers.content_length is None:
            raise unavailable("Compress requires Content-length header")
        compressed = stream.read_to_eof(limit)
        if len(compressed) > headers.content_length:
            if callable(warn):
                warn(
                    f"spamd: zlib read {len(compressed)} > expected_length "
                    f"{headers.content_length_text}"
                )
            compressed = compressed[: headers.content_length]
        data = _perl_line_split(inflate(compressed, limit))
        return Body(data, len(data), None)
    if headers is not None and headers.content_length is not None:
        expected = headers.content_length
        if expected > limit:
            raise data_error(f"(message larger than {limit} bytes)")
        data = stream.read_exact(expected)
        received = len(data)
        if received == expected:
            extra = stream.waiting()
            if extra:
                # What spamd would have counted: the rest of the line the length ends in.
                newline = extra.find(b"\n")
                received += newline + 1 if newline >= 0 else len(extra)
        return Body(data, received, headers.content_length_text)
    data = stream.read_to_eof(limit)
    return Body(data, len(data), None)
