"""The bytes of every successful SPAMD reply, per command and client protocol version.

Pure functions of (command, version, verdict, body), so the per-version shapes of
protocol.md section 5.4 are tested from a table. Error replies are `ProtocolError.response()`.
"""

from __future__ import annotations

__all__ = [
    "PONG",
    "TELL_OK",
    "scan_response",
    "spam_header",
    "tell_response",
]

PONG = b"SPAMD/1.5 0 PONG\r\n"  # the same at every client version
TELL_OK = b"SPAMD/1.1 0 EX_OK\r\n"
_OK_1_1 = b"SPAMD/1.1 0 EX_OK\r\n"
_OK_1_0 = b"SPAMD/1.0 0 EX_OK\r\n"


def spam_header(verb: str, is_spam: bool, score: str, threshold: str) -> bytes:
    """`Spam: True ; 9.4 / 5.0` — REPORT_IFSPAM alone says Yes/No instead of True/False."""
    if verb == "REPORT_IFSPAM":
        flag = "Yes" if is_spam else "No"
    else:
        flag = "True" if is_spam else "False"
    return f"Spam: {flag} ; {score} / {threshold}".encode("ascii")


def scan_response(verb: str, version: float, spam: bytes, body: bytes = b"") -> bytes:
    """The reply to a scanning command; `body` is ignored for CHECK."""
    if verb in ("PROCESS", "HEADERS"):
        if version >= 1.3:
            return _OK_1_1 + b"Content-length: %d\r\n" % len(body) + spam + b"\r\n\r\n" + body
        if version >= 1.2:
            return _OK_1_1 + b"Content-length: %d\r\n\r\n" % len(body) + body
        return _OK_1_0 + body
    if verb == "CHECK":
        return _OK_1_1 + spam + b"\r\n\r\n"
    if verb == "SYMBOLS" and version < 1.3:
        body += b"\r\n"
    if version >= 1.3:
        return _OK_1_1 + b"Content-length: %d\r\n" % len(body) + spam + b"\r\n\r\n" + body
    return _OK_1_1 + spam + b"\r\n\r\n" + body


def tell_response(did_set: list[str], did_remove: list[str]) -> bytes:
    """TELL's reply ends with an extra CRLF after the empty line, as spamd's does."""
    headers = b""
    if did_set:
        headers += b"DidSet: " + ",".join(did_set).encode("ascii") + b"\r\n"
    if did_remove:
        headers += b"DidRemove: " + ",".join(did_remove).encode("ascii") + b"\r\n"
    return TELL_OK + headers + b"\r\n\r\n"
