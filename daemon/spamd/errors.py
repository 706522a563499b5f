"""Errors of the daemon, and the sysexits numbers spamd puts on the wire.

A `ProtocolError` is what a request handler raises when the client must get an error line; it
carries the SPAMD code and turns itself into that line at the connection boundary, so no
traceback ever reaches a client. `HaltServer` is a `BaseException`, like gunicorn's: a broad
`except Exception` in the master must not be able to swallow a decision to stop.
"""

from __future__ import annotations

from spamkiln.runtime.errors import SpamkilnError

__all__ = [
    "EX_DATAERR",
    "EX_OK",
    "EX_PROTOCOL",
    "EX_SOFTWARE",
    "EX_TIMEOUT",
    "EX_UNAVAILABLE",
    "EX_USAGE",
    "HaltServer",
    "ProtocolError",
    "SpamdError",
    "UsageError",
    "bad_header",
    "data_error",
    "timeout",
    "unavailable",
]

# BSD sysexits.h values (protocol.md section 6); EX_TIMEOUT is spamd's own addition.
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_OSERR = 71
EX_PROTOCOL = 76
EX_TIMEOUT = 79


class SpamdError(SpamkilnError):
    """Base class of the daemon's diagnosed failures."""


class UsageError(SpamdError):
    """A bad command line or option combination: spamd prints it and exits 64."""

    def __init__(self, message: str, exit_status: int = EX_USAGE) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class ProtocolError(SpamdError):
    """A request spamd answers with one error line, then closes the connection.

    `label` is the fixed text spamd puts between the code and the detail ("Bad header line",
    "Service Unavailable", "Timeout"); `log_kind` is the word of its warning log line.
    """

    def __init__(self, code: int, label: str, detail: str | bytes, log_kind: str) -> None:
        self.detail = detail if isinstance(detail, bytes) else detail.encode("utf-8", "replace")
        super().__init__(self.detail.decode("latin-1"))
        self.code, self.label, self.log_kind = code, label, log_kind

    def response(self) -> bytes:
        """The whole reply: error lines are always `SPAMD/1.0`, with no headers after them."""
        return b"SPAMD/1.0 %d %s: %s\r\n" % (self.code, self.label.encode(), self.detail)


def bad_header(detail: str | bytes) -> ProtocolError:
    """EX_PROTOCOL: every malformed request (protocol.md section 6.1)."""
    return ProtocolError(EX_PROTOCOL, "Bad header line", detail, "bad protocol: header error")


def unavailable(detail: str | bytes) -> ProtocolError:
    """EX_UNAVAILABLE: zlib trouble, TELL refused, Compress without a length."""
    return ProtocolError(EX_UNAVAILABLE, "Service Unavailable", detail, "service unavailable")


def timeout(detail: str | bytes) -> ProtocolError:
    """EX_TIMEOUT: --timeout-tcp on the request line, --timeout-child after it."""
    return ProtocolError(EX_TIMEOUT, "Timeout", detail, "timeout")


def data_error(detail: str | bytes) -> ProtocolError:
    """EX_DATAERR: a message over --max-message-size (ours; SpamAssassin has no limit)."""
    return ProtocolError(EX_DATAERR, "Data error", detail, "message refused")


class HaltServer(BaseException):
    """The master must stop: a worker cannot boot, or start-up failed after forking."""

    def __init__(self, reason: str, exit_status: int = EX_SOFTWARE) -> None:
        super().__init__(reason)
        self.reason, self.exit_status = reason, exit_status
