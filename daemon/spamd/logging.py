"""spamd's log: the targets `-s` selects and the exact line shapes SpamAssassin writes.

Log watchers (fail2ban filters, mail-log summarisers, Munin plugins) parse spamd's lines, so
the shapes are kept: `Wed Nov 25 11:08:19 2026 [5864] info: spamd: ...` in a file,
`Nov 25 11:43:00.031 [5554] info: ...` on stderr, the bare message for syslog, bytes outside
printable ASCII escaped as `\\x{HH}`, continuation lines marked `[...]`, and a run of identical
lines cut after ten copies and summarised later.

It is a `logging.Handler`, so warnings from the runtime (a failing eval, a regex over its
budget) land in the same place as spamd's own lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import syslog
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

__all__ = [
    "LogTarget",
    "SpamdLogHandler",
    "escape",
    "get_logger",
    "parse_target",
    "setup_logging",
]

LOGGER_NAME = "spamd"
# Mail::SpamAssassin::Logger starts suppressing after this many identical lines.
DUPLICATE_LIMIT = 10

_LEVEL_WORDS = {
    logging.DEBUG: "dbg",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}
_SYSLOG_PRIORITIES = {
    "dbg": syslog.LOG_DEBUG,
    "info": syslog.LOG_INFO,
    "warn": syslog.LOG_WARNING,
    "error": syslog.LOG_ERR,
}
_FACILITIES = {
    name: getattr(syslog, f"LOG_{name.upper()}")
    for name in (
        "auth",
        "authpriv",
        "cron",
        "daemon",
        "ftp",
        "kern",
        "lpr",
        "mail",
        "news",
        "syslog",
        "user",
        "uucp",
        *(f"local{i}" for i in range(8)),
    )
    if hasattr(syslog, f"LOG_{name.upper()}")
}
_ESCAPES = {0x0D: b"\\r", 0x0A: b"\\n", 0x09: b"\\t", 0x5C: b"\\\\"}
_NEEDS_ESCAPE = re.compile(rb"[\x00-\x1f\x7f-\xff\\]")
_FIRST_WORD = re.compile(r"^([^:]+?):")


def escape(text: str) -> str:
    """SpamAssassin 4's escaping: control bytes, DEL, 8-bit bytes and backslash made visible.

    Text is encoded as UTF-8 first (wire bytes were decoded with surrogateescape, so a user
    name's raw bytes come back exactly): `josé` logs as `jos\\x{C3}\\x{A9}`.
    """
    raw = text.encode("utf-8", "surrogateescape")
    if not _NEEDS_ESCAPE.search(raw):
        return raw.decode("ascii")
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m[0][0], b"\\x{%02X}" % m[0][0]), raw).decode(
        "ascii"
    )


@dataclass(frozen=True)
class LogTarget:
    """Where lines go: `kind` is syslog, stderr, file or null."""

    kind: str
    facility: int = syslog.LOG_MAIL
    path: str = ""


def parse_target(
    value: str | None, syslog_socket: str | None = None, start_dir: str | None = None
) -> LogTarget:
    """Map `-s` (and `--syslog-socket`) to a target the way spamd does (spamd.md section 7.1)."""
    if syslog_socket is not None and syslog_socket.lower() == "none":
        return LogTarget("stderr")
    text = (value if value is not None else "mail").strip()
    base = start_dir or os.getcwd()
    if text == "stderr":
        return LogTarget("stderr")
    if text == "null":
        return LogTarget("null")
    if text == "file":
        return LogTarget("file", path=str(Path(base, "spamd.log")))
    if re.fullmatch(r"[A-Za-z0-9]+", text):
        facility = _FACILITIES.get(text.lower())
        if facility is None:
            raise UsageError(f"spamd: unknown syslog facility {text!r}")
        return LogTarget("syslog", facility=facility)
    return LogTarget("file", path=str(Path(base, text)))


def _file_timestamp(now: float, fmt: str | None) -> str:
    if fmt is None:
        return time.ctime(now)  # Perl's scalar localtime: day of month space-padded
    return time.strftime(fmt, time.localtime(now)) if fmt else ""


def _stderr_timestamp(now: float, fmt: str | None) -> str:
    if fmt is not None:
        return time.strftime(fmt, time.localtime(now)) if fmt else ""
    stamp = time.strftime("%b %d %H:%M", time.localtime(now))
    stamp = f"{stamp}:{now - int(now / 60) * 60:06.3f}"
    return re.sub(r"^(\S+\s+)0", r"\1 ", stamp)


class SpamdLogHandler(logging.Handler):
    """One handler per process tree: the master creates it and children inherit it."""

    def __init__(
        self, target: LogTarget, timestamp_fmt: str | None = None, debug_areas: str | None = None
    ) -> None:
        super().__init__()
        self.target = target
        self.timestamp_fmt = timestamp_fmt
        self.debug_areas = _parse_areas(debug_areas)
        self._fd: int | None = None
        self._dup_line: tuple[str, str] | None = None
        self._dup_count = 0
        self._dup_time = 0.0
        self._open()

    # ---- sinks --------------------------------------------------------------------------
    def _open(self) -> None:
        if self.target.kind == "file":
            self._fd = os.open(self.target.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        elif self.target.kind == "syslog":
            syslog.openlog("spamd", syslog.LOG_PID | syslog.LOG_NDELAY, self.target.facility)

    def reopen(self) -> None:
        """HUP/USR1: a rotated log file is let go and the path opened afresh."""
        self.acquire()
        try:
            old = self._fd
            try:
                self._open()
            except OSError:
                self._fd = old  # cannot reopen (permissions): keep writing where we were
                return
            if old is not None and old != self._fd:
                with contextlib.suppress(OSError):
                    os.close(old)
        finally:
            self.release()

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        super().close()

    def _write(self, level: str, line: str, now: float) -> None:
        text = escape(line)
        kind = self.target.kind
        if kind == "null":
            return
        if kind == "syslog":
            syslog.syslog(_SYSLOG_PRIORITIES[level], text)
            return
        if kind == "file":
            stamp = _file_timestamp(now, self.timestamp_fmt)
        else:
            stamp = _stderr_timestamp(now, self.timestamp_fmt)
        data = f"{stamp + ' ' if stamp else ''}[{os.getpid()}] {level}: {text}\n".encode("ascii")
        if kind == "file" and self._fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._fd, data)  # one write per line: O_APPEND keeps lines whole
        else:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.buffer.write(data)
                sys.stderr.flush()

    def _emit_lines(self, level: str, message: str, now: float) -> None:
        for index, line in enumerate(message.split("\n")):
            self._write(level, line if index == 0 else _FIRST_WORD.sub(r"\1: [...]", line), now)

    # ---- logging.Handler ----------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = _LEVEL_WORDS.get(record.levelno, "error")
            message = record.getMessage()
            if record.name != LOGGER_NAME and not record.name.startswith(LOGGER_NAME + "."):
                message = f"{record.name.rsplit('.', 1)[-1]}: {message}"
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            message = message.rstrip("\r\n")
            if level == "dbg" and not self._debug_wanted(message):
                return
            self._emit_deduplicated(level, message, record.created)
        except Exception:  # logging must never take a request down with it
            self.handleError(record)

    def _debug_wanted(self, message: str) -> bool:
        if self.debug_areas is None:
            return True
        area = message.split(":", 1)[0].strip()
        return area in self.debug_areas

    def _emit_deduplicated(self, level: str, message: str, now: float) -> None:
        key = (level, message)
        if key == self._dup_line:
            self._dup_count += 1
            self._dup_time = now
            if self._dup_count >= DUPLICATE_LIMIT:
                return
        else:
            self.flush_duplicates()
            self._dup_count = 0
            self._dup_line = key
        self._emit_lines(level, message, now)

    def flush_duplicates(self) -> None:
        """Write the summary of a suppressed run (also called before the process exits)."""
        if self._dup_line is not None and self._dup_count >= DUPLICATE_LIMIT:
            level, line = self._dup_line
            repeated = self._dup_count - (DUPLICATE_LIMIT - 1)
            if repeated > 1:
                line = f"{line} [... logline repeated {repeated} times]"
            self._emit_lines(level, line, self._dup_time)
            self._dup_count = 0


def _parse_areas(value: str | None) -> frozenset[str] | None:
    """None = every debug area (`-D` alone or `-D all`)."""
    if value is None:
        return None
    areas = {a.strip() for a in value.split(",") if a.strip()}
    return None if not areas or "all" in areas else frozenset(areas)


def setup_logging(
    target: LogTarget, *, debug: str | None = None, timestamp_fmt: str | None = None
) -> SpamdLogHandler:
    """Install the handler on spamd's logger and the root logger (runtime warnings)."""
    handler = SpamdLogHandler(target, timestamp_fmt, debug)
    level = logging.DEBUG if debug is not None else logging.INFO
    spamd = logging.getLogger(LOGGER_NAME)
    root = logging.getLogger()
    for logger in (spamd, root):
        for old in list(logger.handlers):
            if isinstance(old, SpamdLogHandler):
                logger.removeHandler(old)
                old.close()
    spamd.addHandler(handler)
    spamd.setLevel(level)
    spamd.propagate = False
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug is not None else logging.WARNING)
    return handler


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def bind_levels(logger: logging.Logger) -> tuple[Callable[..., None], ...]:
    """(info, warn, error, dbg) of a logger, named the way spamd's code names them."""
    return logger.info, logger.warning, logger.error, logger.debug
