"""One conversation with spamd: a scan (PROCESS, CHECK, ... or PING) or a TELL.

The sequence and the failure statuses are the C client's (message_filter / message_tell):
request building errors and connect errors end the conversation at once; an I/O error or
timeout on the *first* reply line is retried up to --filter-retries times (each retry starting
at the next host); everything after that fails for good.
"""

from __future__ import annotations

from spamkiln.daemon.spamc import protocol, transport
from spamkiln.daemon.spamc.exitcodes import (
    EX_IOERR,
    EX_NOTSPAM,
    EX_PROTOCOL,
    EX_TOOBIG,
    SpamcError,
)
from spamkiln.daemon.spamc.log import Log
from spamkiln.daemon.spamc.message import Message
from spamkiln.daemon.spamc.options import Options

# spamc -z compresses with deflateInit(level 3).
_ZLIB_LEVEL = 3


class ScanResult:
    """A successful scan: what to print and the spam verdict (EX_TOOBIG when unknown)."""

    __slots__ = ("is_spam", "out")

    def __init__(self, out: bytes, is_spam: int) -> None:
        self.out = out
        self.is_spam = is_spam


def _open_and_send(
    hosts: list[transport.Host],
    opts: Options,
    log: Log,
    head: bytes,
    body: bytes,
    compressed: bool = False,
) -> transport.Connection:
    conn = transport.connect(hosts, opts, log)
    try:
        conn.send_request(head, body, log, zlib=compressed)
    except SpamcError:
        conn.close()
        raise
    return conn


def _read_headers(
    conn: transport.Connection, reply: protocol.Reply, opts: Options, log: Log
) -> None:
    while line := conn.read_line(log):
        reply.header(line, opts, log)


def _exchange(
    hosts: list[transport.Host], opts: Options, log: Log, head: bytes, body: bytes
) -> tuple[transport.Connection, bytes]:
    """Connect, send the request and read spamd's status line.

    Only an I/O error or timeout on that first line is retried (--filter-retries attempts in
    all, default 1), each time from the next host after --filter-retry-sleep seconds.
    """
    import time

    pause = opts.filter_retry_sleep if opts.filter_retry_sleep >= 0 else 1
    attempt = 1
    while True:
        conn = _open_and_send(hosts, opts, log, head, body, compressed=opts.zlib and not opts.ping)
        try:
            return conn, conn.read_line(log)
        except SpamcError as exc:
            conn.close()
            if exc.code != EX_IOERR or attempt >= opts.filter_retries:
                raise
        attempt += 1
        transport.rotate(hosts)
        time.sleep(pause)


def scan(
    hosts: list[transport.Host], opts: Options, username: bytes | None, message: Message, log: Log
) -> ScanResult:
    """Send the message (or a PING) and return spamd's result; raises SpamcError."""
    body = message.body
    if opts.zlib:
        import zlib

        body = zlib.compress(body, _ZLIB_LEVEL)
    head = protocol.scan_request(opts, username, len(message.body), len(body))
    conn, status_line = _exchange(hosts, opts, log, head, body)
    try:
        version, number = protocol.parse_status_line(status_line, log)
        if opts.ping:
            return ScanResult(protocol.ping_output(version, number), EX_NOTSPAM)
        reply = protocol.Reply()
        _read_headers(conn, reply, opts, log)
        if opts.check:
            if reply.is_spam == EX_TOOBIG:  # no Spam: header
                raise SpamcError(EX_PROTOCOL)
            return ScanResult(reply.prefix, reply.is_spam)
        buffer_size = opts.max_size + protocol.EXPANSION_ALLOWANCE + 1
        received = conn.read_body(buffer_size - len(reply.prefix))
        out = protocol.finish_body(reply, received, buffer_size, log)
        if opts.headers:
            spliced = protocol.splice_headers(out, message.raw, buffer_size, log)
            out = spliced if spliced is not None else message.body
        return ScanResult(out, reply.is_spam)
    finally:
        conn.close()


def tell(
    hosts: list[transport.Host], opts: Options, username: bytes | None, message: Message, log: Log
) -> bool:
    """Send a TELL for -L/-C; True when spamd reports having done it. Raises SpamcError."""
    head = protocol.tell_request(opts, username, len(message.body))
    conn = _open_and_send(hosts, opts, log, head, message.body)
    try:
        protocol.parse_status_line(conn.read_line(log), log)
        reply = protocol.Reply()
        _read_headers(conn, reply, opts, log)
    finally:
        conn.close()
    return bool(reply.did & protocol.tell_success_flag(opts))
