"""Where spamc's diagnostics go: syslog (ident `spamc`, with pid, facility mail) by default,
stderr as `spamc: <text>` once `-l` has been parsed.

The switch happens mid-parse on purpose: the C client decides per message, so an option error
reported before `-l` still goes to syslog. Usage and config-file errors bypass this and are
written straight to stderr by their callers, as the C client does.
"""

from __future__ import annotations

import os

# syslog(3) priorities, spelled out so that `syslog` is imported only when something is logged.
LOG_ERR = 3
LOG_NOTICE = 5
LOG_DEBUG = 7
_LOG_MAIL = 2 << 3
_LOG_PID, _LOG_CONS = 0x01, 0x02

# The C client formats each message into a 1023-byte buffer; longer messages are cut so that
# "spamc: " + text + "\n" is at most 1021 bytes (a reply line of 2000 bytes logs 1021 bytes).
_LOG_BUFSIZ = 1023


def write_stderr(text: bytes) -> None:
    """Unbuffered write to fd 2, ignoring a closed stderr like the C client does."""
    try:  # noqa: SIM105  (contextlib would cost start-up time)
        os.write(2, text)
    except OSError:
        pass


class Log:
    """spamc's logger; `to_stderr` flips when `-l` is parsed."""

    __slots__ = ("_syslog", "to_stderr")

    def __init__(self) -> None:
        self.to_stderr = False
        self._syslog: object = None

    def __call__(self, text: bytes | str, level: int = LOG_ERR) -> None:
        data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        nul = data.find(b"\0")  # the C client formats through %s: a NUL ends the text
        if nul >= 0:
            data = data[:nul]
        if self.to_stderr:
            line = b"spamc: " + data
            write_stderr(line[: _LOG_BUFSIZ - 3] + b"\n")
            return
        import syslog  # only now: most runs never log

        if self._syslog is None:
            syslog.openlog("spamc", _LOG_CONS | _LOG_PID, _LOG_MAIL)
            self._syslog = syslog
        syslog.syslog(level, data[: _LOG_BUFSIZ - 1].decode("utf-8", "replace"))
