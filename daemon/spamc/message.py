"""The message on stdin: read it (raw or as a BSMTP transaction), write results back out, and
dump the original when spamd cannot be used.

Shapes follow the C client, because they decide what a fallback prints byte for byte:
a raw message is read up to max-size + 1 bytes; in BSMTP mode the text between the first
`DATA` line and the lone `.` is the message, with dot-stuffing removed *in place* (so a
transaction without the final dot falls back to that modified text, as in C).
"""

from __future__ import annotations

import os

from spamkiln.daemon.spamc.exitcodes import EX_DATAERR, EX_IOERR, EX_OK, EX_TOOBIG
from spamkiln.daemon.spamc.log import LOG_NOTICE, Log

# What the C client keeps in `struct message`'s type field.
NONE, ERROR, RAW, BSMTP = "none", "error", "raw", "bsmtp"
_READ_CHUNK = 65536
_DUMP_CHUNK = 8192  # message_dump()'s buffer; only the syscall pattern depends on it


class Message:
    """What was read from stdin.

    `raw` is the buffer as the C client holds it (for BSMTP: after in-place unstuffing);
    `body` is the message proper; `pre`/`post` are the BSMTP envelope before and after it.
    """

    __slots__ = ("body", "kind", "post", "pre", "raw")

    def __init__(
        self,
        kind: str = NONE,
        raw: bytes = b"",
        body: bytes = b"",
        pre: bytes = b"",
        post: bytes = b"",
    ) -> None:
        self.kind = kind
        self.raw = raw
        self.body = body
        self.pre = pre
        self.post = post


def read_all(fd: int, limit: int) -> bytes | None:
    """Up to `limit` bytes from fd, stopping early only at EOF; None on a read error (the C
    client's full_read() drops what it had read when an error comes first)."""
    chunks = []
    total = 0
    while total < limit:
        try:
            chunk = os.read(fd, min(_READ_CHUNK, limit - total))
        except InterruptedError:
            continue
        except OSError:
            return None
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_message(fd: int, max_size: int, bsmtp: bool, log: Log) -> tuple[int, Message]:
    """Read stdin the C way; returns (status, message). Status EX_TOOBIG/EX_DATAERR still
    returns the bytes read, so the fallback can pass them through."""
    # Like the C client, ask for one byte more than allowed so "too big" can be seen. A negative
    # -s (--max-size=-5) makes the C client's read length negative: it reads nothing, which it
    # then reports as an empty message.
    data = read_all(fd, max_size + 1) if max_size >= 0 else b""
    if not data:
        return EX_IOERR, Message()
    if len(data) > max_size:
        if not bsmtp:
            log(b"skipped message, greater than max message size (%d bytes)" % max_size, LOG_NOTICE)
        return EX_TOOBIG, Message(ERROR, raw=data)
    if not bsmtp:
        return EX_OK, Message(RAW, raw=data, body=data)
    return _split_bsmtp(data)


def _find_data_line(raw: bytes) -> int:
    """Offset just after the first "\\nDATA\\n" (any case, optional CR), or -1.

    Ported from the C scan: it looks for a newline first, so a DATA on the very first line is
    not found, and it leaves room for at least ".\\n" after the DATA line.
    """
    pos = 0
    while len(raw) - pos > 8:
        newline = raw.find(b"\n", pos, len(raw) - 8)
        if newline < 0:
            return -1
        start = newline + 1
        if raw[start : start + 4].lower() == b"data":
            end = start + 4
            if raw[end : end + 1] == b"\r":
                end += 1
            if raw[end : end + 1] == b"\n":
                return end + 1
            pos = end + 1  # the C code has already stepped past this byte
            continue
        pos = start
    return -1


def _split_bsmtp(raw: bytes) -> tuple[int, Message]:
    start = _find_data_line(raw)
    if start < 0:
        return EX_DATAERR, Message(ERROR, raw=raw)
    text = raw[start:]
    out = bytearray()
    previous = 0x0A
    index = 0
    end = len(text)
    post_at = -1
    while index < end:
        char = text[index]
        if previous == 0x0A and char == 0x2E:  # '.' at the start of a line
            following = text[index + 1 : index + 3]
            if (
                index + 1 == end
                or following[:1] == b"\n"
                or (index + 2 < end and following == b"\r\n")
            ):
                post_at = index  # the lone dot: end of the message
                break
            if following[:1] == b".":  # stuffed dot: drop this one
                previous = 0x2E
                index += 1
                continue
        previous = char
        out.append(char)
        index += 1
    body = bytes(out)
    # The C client compacts the message inside its read buffer; the bytes after the compacted
    # part are left as they were. A fallback on this buffer prints exactly that.
    modified = raw[:start] + body + raw[start + len(body) :]
    if post_at < 0:
        return EX_DATAERR, Message(ERROR, raw=modified)
    return EX_OK, Message(BSMTP, raw=modified, body=body, pre=raw[:start], post=text[post_at:])


def dot_stuff(out: bytes) -> bytes:
    """Re-apply dot-stuffing to spamd's result for BSMTP output: a dot that follows a newline
    gets doubled (a dot at the very start is not, as in the C client)."""
    return out.replace(b"\n.", b"\n..")


def render(message: Message, out: bytes) -> bytes:
    """What message_write() puts on the output for a non-CHECK result `out`."""
    if message.kind == ERROR:
        return message.raw
    if message.kind == BSMTP:
        return message.pre + dot_stuff(out) + message.post
    return out


def write_all(fd: int, data: bytes) -> None:
    """Write everything or raise OSError (the C client's full_write loop)."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[written:]


def dump(in_fd: int, out_fd: int, message: Message) -> None:
    """The safe fallback: the original message, then whatever is still unread on stdin."""
    try:
        if message.kind != NONE:
            write_all(out_fd, render(message, message.body))
        while True:
            try:
                chunk = os.read(in_fd, _DUMP_CHUNK)
            except InterruptedError:
                continue
            if not chunk:
                break
            write_all(out_fd, chunk)
    except OSError:
        pass
