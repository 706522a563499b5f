"""`-d` and `-r`: detach from the terminal, and the pid file.

The launcher (the process the admin ran) waits until the daemon says it is ready — listening
sockets bound, ruleset loaded, pid file written — and only then exits 0, so an init script that
runs `spamkiln-spamd -d -r FILE` can connect as soon as FILE exists. If the daemon dies first,
the launcher exits 1 with spamd's message.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Callable

__all__ = ["daemonize", "remove_pidfile", "write_pidfile"]

# spamd's launcher waits this long for the daemon's signal.
LAUNCHER_TIMEOUT = 180.0


def daemonize(timeout: float = LAUNCHER_TIMEOUT) -> Callable[[], None]:
    """Fork into the background; returns `ready()`, which releases the waiting launcher."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid > 0:
        os.close(write_end)
        deadline = time.monotonic() + timeout
        ok = False
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([read_end], [], [], left)
            if readable:
                ok = os.read(read_end, 1) == b"1"
                break
        if not ok:
            sys.stderr.write(
                f"spamd: child process [{pid}] exited or timed out without "
                "signaling production of a PID file\n"
            )
            sys.stderr.flush()
        os._exit(0 if ok else 1)
    os.close(read_end)
    os.setsid()
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)

    def ready() -> None:
        with contextlib.suppress(OSError):
            os.write(write_end, b"1")
            os.close(write_end)

    return ready


def write_pidfile(path: str, pid: int | None = None) -> None:
    """Atomically: a reader never sees an empty or half-written pid file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(f"{pid if pid is not None else os.getpid()}\n")
    os.replace(tmp, path)


def remove_pidfile(path: str | None, pid: int | None = None) -> None:
    """Only our own pid file: a newer spamd may already have written its pid there."""
    if not path:
        return
    with contextlib.suppress(OSError, ValueError):
        with open(path, encoding="ascii") as handle:
            if int(handle.read().strip()) != (pid if pid is not None else os.getpid()):
                return
        os.unlink(path)
