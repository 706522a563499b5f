"""Exit statuses of the C spamc (BSD sysexits.h plus its two pseudo codes), and the one
exception that carries them from deep inside a run back to the fallback logic in `main`.

Kept free of `enum`: importing it costs milliseconds, and spamc starts once per message.
"""

from __future__ import annotations

EX_OK = 0
EX_NOTSPAM = 0
EX_ISSPAM = 1
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_NOHOST = 68
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_OSERR = 71
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_PROTOCOL = 76
EX_NOPERM = 77
EX_CONFIG = 78
# libspamc's private "message too big" status. It is not a sysexits value and is wider than a
# byte, so when it escapes as an exit status (only `-L` with an oversized message) the shell sees
# 866 & 0xFF == 98.
EX_TOOBIG = 866


class SpamcError(Exception):
    """A failure after option parsing; `code` picks the exit status and the fallback output."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or str(code))
        self.code = code
