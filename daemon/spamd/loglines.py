"""The text of spamd's per-connection log lines (spamd.md section 7.3), as pure functions.

Kept apart from the sockets so each shape can be tested from a table: the `result:` line is
what log summarisers parse, and its quirks (`%2d` of a score truncated toward zero, sorted
tests, `mid=` with blanks and commas replaced) are part of the interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MessageIds",
    "Peer",
    "connection_line",
    "message_ids",
    "result_line",
    "tell_line",
    "verdict_line",
]

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_COMMENT = re.compile(rb"\([^()]*\)")
_BLANKS = re.compile(rb"\s+")
_BRACKETED = re.compile(rb"^.*?<(.*?)>.*$")
_WEIRD = re.compile(rb"[^\x21-\x7e]")
_ANGLES = re.compile(rb"[<>]")
_UNSAFE_IN_RESULT = re.compile(r"[\x00-\x20\s,]")


@dataclass(frozen=True)
class Peer:
    """Who is on the other end, as the log names them."""

    host: str  # reverse name, or the address when there is none; "localhost" for UNIX
    address: str
    port: str  # the port number, or the socket path for UNIX clients
    local_port: int = 0
    fd: int = 0
    tls: str = ""  # ", TLSv1.3/TLS_AES_256_GCM_SHA384" for TLS clients
    unix_path: str = ""


@dataclass(frozen=True)
class MessageIds:
    msgid: str  # "<id>" or "(unknown)"
    resent: str  # "<id>" or ""


def _header_values(raw: bytes, name: bytes) -> bytes | None:
    """A header's value as SpamAssassin's get_pristine_header gives it: the *last* copy,
    continuation lines included, whitespace allowed before the colon."""
    end = _HEADER_END.search(raw)
    head = raw[: end.start() + 1] if end else raw
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # mbox separator: not a header
    wanted = name.lower()
    found: bytes | None = None
    for i, line in enumerate(lines):
        if line[: len(wanted)].lower() != wanted:
            continue
        rest = line[len(wanted) :].lstrip(b" \t")
        if not rest.startswith(b":"):
            continue
        value = [rest[1:]]
        for cont in lines[i + 1 :]:
            if cont[:1] in (b" ", b"\t"):
                value.append(cont)
            else:
                break
        found = b"\n".join(value)
    return found


def _clean_id(value: bytes | None) -> str:
    if not value:
        return ""
    previous = None
    while previous != value:  # nested comments come off from the inside out
        previous, value = value, _COMMENT.sub(b"", value, count=1)
    value = _BLANKS.sub(b" ", value.strip())
    value = _BRACKETED.sub(rb"\1", value)
    value = _ANGLES.sub(b"?", _WEIRD.sub(b"?", value))
    return f"<{value.decode('ascii')}>" if value else ""


def message_ids(raw: bytes) -> MessageIds:
    """Message-Id and Resent-Message-Id cleaned up the way spamd logs them."""
    msgid = _clean_id(_header_values(raw, b"Message-Id"))
    resent = _clean_id(_header_values(raw, b"Resent-Message-Id"))
    return MessageIds(msgid or "(unknown)", resent)


def connection_line(peer: Peer) -> str:
    if peer.unix_path:
        return f"spamd: got connection over {peer.unix_path}"
    return (
        f"spamd: connection from {peer.host} [{peer.address}]:{peer.port} "
        f"to port {peer.local_port}, fd {peer.fd}{peer.tls}"
    )


def unauthorized_line(peer: Peer) -> str:
    return (
        f"spamd: unauthorized connection from {peer.host} [{peer.address}]:{peer.port} "
        f"to port {peer.local_port}, fd {peer.fd}"
    )


def checking_line(verb: str, ids: MessageIds, user: str, uid: int) -> str:
    action = "processing" if verb == "PROCESS" else "checking"
    aka = f" aka {ids.resent}" if ids.resent else ""
    return f"spamd: {action} message {ids.msgid}{aka} for {user}:{uid}"


def verdict_line(
    is_spam: bool, score: str, threshold: str, user: str, uid: int, seconds: float, size: int
) -> str:
    what = "identified spam" if is_spam else "clean message"
    return (
        f"spamd: {what} ({score}/{threshold}) for {user}:{uid} in {seconds:.1f} seconds, "
        f"{size} bytes."
    )


def result_line(
    *,
    is_spam: bool,
    score: float,
    tests: list[str],
    seconds: float,
    size: int,
    user: str,
    uid: int,
    threshold: str,
    peer: Peer,
    ids: MessageIds,
    autolearn: str,
) -> str:
    """`result: Y  9 - TESTS scantime=...,...` — mass-check's format, parsed by log tools."""
    extra = [
        f"scantime={seconds:.1f}",
        f"size={size}",
        f"user={user}",
        f"uid={uid}",
        f"required_score={threshold}",
        f"rhost={peer.host}",
        f"raddr={peer.address}",
        f"rport={peer.port}",
        f"mid={_UNSAFE_IN_RESULT.sub('_', ids.msgid)}",
    ]
    if ids.resent:
        extra.append(f"rmid={_UNSAFE_IN_RESULT.sub('_', ids.resent)}")
    extra.append(f"autolearn={autolearn}")
    flag = "Y" if is_spam else "."
    return f"spamd: result: {flag} {int(score):2d} - {','.join(sorted(tests))} {','.join(extra)}"


def tell_line(
    did_set: list[str], did_remove: list[str], user: str, uid: int, seconds: float, size: int
) -> str:
    info = ""
    if did_set:
        info += f" Setting {','.join(did_set)} "
    if did_remove:
        info += f" Removing {','.join(did_remove)} "
    info = info or " Did nothing "
    return f"spamd: Tell:{info}for {user}:{uid} in {seconds:.1f} seconds, {size} bytes"
