"""SPAMC/1.5 requests and the parsing of spamd's replies, as the C spamc 4.0.1 does both.

No sockets here: requests are built as bytes and reply lines are interpreted one at a time, so
every rule can be tested with hand-made lines. The C client's parsing is lenient in specific
ways that matter for interop, and they are kept:

* the status line only has to scan as `SPAMD/<version> <int>`; the number is never checked
  (only printed by `-K`), the version must be >= 1.0;
* `Spam: <flag> ; <score> / <threshold>` needs the `;` and `/`; only `True` (any case) is spam,
  so REPORT_IFSPAM's `Yes` never counts; the numbers go through the C float parser;
* every mode but CHECK needs `Content-length`, and the body must have exactly that size;
* `--headers` splices spamd's header block onto the client's own copy of the body.
"""

from __future__ import annotations

from spamkiln.daemon.spamc.ccompat import CScanf, spamc_float
from spamkiln.daemon.spamc.exitcodes import (
    EX_DATAERR,
    EX_ISSPAM,
    EX_NOTSPAM,
    EX_OSERR,
    EX_PROTOCOL,
    EX_TOOBIG,
    SpamcError,
)
from spamkiln.daemon.spamc.log import Log
from spamkiln.daemon.spamc.options import MAX_MESSAGE_SIZE, Options

PROTOCOL_VERSION = b"SPAMC/1.5"
# The C client builds the request head in an 8192-byte buffer and keeps 4 bytes spare.
_HEAD_BUFFER = 8192 - 4
# spamd may add this much to a message (X-Spam headers, report); the C client sizes its reply
# buffer as max-size + this + 1 and treats a larger reply like an oversized message.
EXPANSION_ALLOWANCE = 16384
# sscanf field widths of the C client (buffers of 6 and 21 bytes, 20 for the version).
_SCORE_BUFFER = 20

_STATUS = CScanf(b"SPAMD/%18s %d %*s")
_SPAM = CScanf(b"Spam: %5s ; %20s / %20s")
_CONTENT_LENGTH = CScanf(b"Content-length: %d")
_DID_SET = CScanf(b"DidSet: %14s")
_DID_REMOVE = CScanf(b"DidRemove: %14s")

# TELL flags, as in libspamc.h.
SET_LOCAL, SET_REMOTE, REMOVE_LOCAL, REMOVE_REMOTE = 1, 2, 4, 8


def _user_header(head: bytes, username: bytes | None) -> bytes:
    """Append `User:`; the C client refuses names that would overflow its header buffer."""
    if username is None:
        return head
    if len(username) + 8 >= _HEAD_BUFFER - len(head):
        raise SpamcError(EX_OSERR)
    return head + b"User: " + username + b"\r\n"


def _content_length(head: bytes, body_size: int, message_size: int) -> bytes:
    # Mirrors the C client's (odd, but observable) room check: it compares the head length with
    # the space left *after* it, so long user names give EX_DATAERR well before 8 KiB.
    if message_size > MAX_MESSAGE_SIZE or len(head) + 27 >= _HEAD_BUFFER - len(head):
        raise SpamcError(EX_DATAERR)
    return head + b"Content-length: %d\r\n" % body_size


def scan_request(opts: Options, username: bytes | None, message_size: int, body_size: int) -> bytes:
    """The request head (everything before the body) for a scan or PING.

    `body_size` is what is sent (the compressed size with -z). PING has no headers, only the
    empty line; a `-K` combined with a scan flag keeps that shape but the scan's command word.
    """
    head = opts.command + b" " + PROTOCOL_VERSION + b"\r\n"
    if not opts.ping:
        head = _user_header(head, username)
        if opts.zlib:
            head += b"Compress: zlib\r\n"
        head = _content_length(head, body_size, message_size)
    return head + b"\r\n"


def tell_plan(opts: Options) -> tuple[bytes | None, int]:
    """(Message-class, TELL flags) for -L/-C; also tells which Did* answer means success."""
    if opts.learn:
        if opts.learn_type == b"forget":
            return None, REMOVE_LOCAL
        return opts.learn_type, SET_LOCAL
    if opts.report_type == b"revoke":
        return b"ham", SET_LOCAL | REMOVE_REMOTE
    return b"spam", SET_LOCAL | SET_REMOTE


def tell_success_flag(opts: Options) -> int:
    """The Did* flag whose presence means the TELL did something."""
    if opts.learn:
        return REMOVE_LOCAL if opts.learn_type == b"forget" else SET_LOCAL
    return REMOVE_REMOTE if opts.report_type == b"revoke" else SET_REMOTE


def _where(flags: int, local: int, remote: int) -> bytes:
    parts = [name for flag, name in ((local, b"local"), (remote, b"remote")) if flags & flag]
    return b",".join(parts)


def tell_request(opts: Options, username: bytes | None, message_size: int) -> bytes:
    """The TELL request head for -L/-C (headers in the C client's order)."""
    message_class, flags = tell_plan(opts)
    head = b"TELL " + PROTOCOL_VERSION + b"\r\n"
    if message_class is not None:
        head += b"Message-class: " + message_class + b"\r\n"
    if flags & (SET_LOCAL | SET_REMOTE):
        head += b"Set: " + _where(flags, SET_LOCAL, SET_REMOTE) + b"\r\n"
    if flags & (REMOVE_LOCAL | REMOVE_REMOTE):
        head += b"Remove: " + _where(flags, REMOVE_LOCAL, REMOVE_REMOTE) + b"\r\n"
    head = _user_header(head, username)
    return _content_length(head, message_size, message_size) + b"\r\n"


def parse_status_line(line: bytes, log: Log) -> tuple[bytes, int]:
    """(version text, result number) of `SPAMD/1.1 0 EX_OK`; raises EX_PROTOCOL otherwise."""
    fields = _STATUS(line)
    if len(fields) != 2:
        log(b"spamd responded with bad string '%s'" % line)
        raise SpamcError(EX_PROTOCOL)
    version, number = fields
    assert isinstance(version, bytes) and isinstance(number, int)
    if spamc_float(version, _SCORE_BUFFER) < 1.0:
        log(b"spamd responded with bad version string '%s'" % version)
        raise SpamcError(EX_PROTOCOL)
    return version, number


def ping_output(version: bytes, number: int) -> bytes:
    """What `-K` prints: the status line's version and number."""
    return b"SPAMD/%s %d\n" % (version, number)


def _clamp(value: float) -> float:
    # The C client bounds scores to +-1e10 so its sprintf buffer cannot overflow.
    return min(max(value, -1e10), 1e10)


def score_line(score: float, threshold: float) -> bytes:
    """`-c`/`-R` output: printf("%.1f/%.1f\\n") of two float32 values."""
    return b"%.1f/%.1f\n" % (score, threshold)


class Reply:
    """What the reply headers said, accumulated line by line.

    `is_spam` keeps the C encoding: EX_TOOBIG until a `Spam:` header arrives, then EX_ISSPAM or
    EX_NOTSPAM. `prefix` is the score line that -c/-R (and -r for spam) print before the body.
    """

    __slots__ = ("content_length", "did", "is_spam", "prefix")

    def __init__(self) -> None:
        self.is_spam = EX_TOOBIG
        self.content_length = -1
        self.prefix = b""
        self.did = 0

    def header(self, line: bytes, opts: Options, log: Log) -> None:
        """Interpret one header line; unknown headers are ignored, as in C."""
        fields = _SPAM(line)
        if len(fields) == 3:
            flag, score_text, threshold_text = fields
            assert isinstance(flag, bytes)
            score = _clamp(spamc_float(score_text, _SCORE_BUFFER))  # type: ignore[arg-type]
            threshold = _clamp(spamc_float(threshold_text, _SCORE_BUFFER))  # type: ignore[arg-type]
            self.is_spam = EX_ISSPAM if flag.lower() == b"true" else EX_NOTSPAM
            if opts.check or opts.report or (opts.report_ifspam and self.is_spam == EX_ISSPAM):
                self.prefix = score_line(score, threshold)
            return
        fields = _CONTENT_LENGTH(line)
        if fields:
            self.content_length = int(fields[0])
            if self.content_length < 0:
                log(b"spamd responded with bad Content-length '%s'" % line)
            return
        for scanner, local, remote in (
            (_DID_SET, SET_LOCAL, SET_REMOTE),
            (_DID_REMOVE, REMOVE_LOCAL, REMOVE_REMOTE),
        ):
            fields = scanner(line)
            if fields:
                value = fields[0]
                assert isinstance(value, bytes)
                if b"local" in value:
                    self.did |= local
                if b"remote" in value:
                    self.did |= remote
                return


def finish_body(reply: Reply, body: bytes | None, buffer_size: int, log: Log) -> bytes:
    """The output of a non-CHECK scan: score-line prefix + body, after the C size checks.

    `body` None means the read failed. Raises EX_TOOBIG when the reply does not fit the C
    client's buffer and EX_PROTOCOL when its size differs from Content-length.
    """
    if reply.content_length < 0:
        raise SpamcError(EX_PROTOCOL)
    prefix = reply.prefix
    claimed = reply.content_length + len(prefix)
    if body is None:
        seen = len(prefix) - 1  # full_read() returned -1 and the C code added it anyway
        out = prefix
    else:
        if len(body) + len(prefix) > buffer_size - 1:
            raise SpamcError(EX_TOOBIG)
        out = prefix + body
        seen = len(out)
    if seen != claimed:
        log(b"failed sanity check, %d bytes claimed, %d bytes seen" % (claimed, seen))
        raise SpamcError(EX_PROTOCOL)
    return out


def find_body_start(raw: bytes) -> int:
    """Offset of the body in the client's copy of the message: after the first CRLFCRLF or
    LFLF, whichever comes first; -1 if there is none."""
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf + 4
    return lf + 2 if lf >= 0 else -1


def splice_headers(out: bytes, raw: bytes, buffer_size: int, log: Log) -> bytes | None:
    """`--headers`: spamd's rewritten header block + the original body (None when the original
    has no end of headers; the C client then prints the original message instead).

    The body is cut to what fits the reply buffer and copied with strncpy(), so bytes after a
    NUL become NULs; kept, because that is what the C client outputs.
    """
    start = find_body_start(raw)
    if start < 0:
        log(b"failed to find end-of-headers")
        return None
    room = (buffer_size - 1) - len(out)
    body = raw[start : start + max(room, 0)]
    nul = body.find(b"\0")
    if nul >= 0:
        body = body[:nul] + bytes(len(body) - nul)
    return out + body
