"""SpamAssassin's own spamd as a benchmark peer: start it on loopback, drive it, stop it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "sa_spamd", "spamc_request"]

SPAMD = "/usr/sbin/spamd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sa_spamd(children: int = 1, extra: tuple[str, ...] = ()) -> Iterator[int]:
    """Debian's spamd on 127.0.0.1:PORT, local tests only; yields the port."""
    if not Path(SPAMD).exists() or shutil.which("perl") is None:
        raise RuntimeError("Debian's spamd is not installed (make install as root)")
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="sa-spamd-"))
    pidfile = tmp / "spamd.pid"
    cmd = [
        SPAMD,
        "-L",
        "-x",
        "-i",
        f"127.0.0.1:{port}",
        "-m",
        str(children),
        "--min-children",
        str(children),
        "--max-spare",
        str(children),
        "-r",
        str(pidfile),
        "-s",
        str(tmp / "spamd.log"),
        *extra,
    ]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if b"PONG" in spamc_request(port, b"PING SPAMC/1.5\r\n\r\n", timeout=2):
                    break
            if proc.poll() is not None:
                raise RuntimeError("spamd exited during start-up")
            time.sleep(0.25)
        else:
            raise RuntimeError("spamd did not answer within 60 s")
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def spamc_request(port: int, request: bytes, timeout: float = 60) -> bytes:
    """Send one raw SPAMC request, half-close, read the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def symbols_request(message: bytes) -> bytes:
    return b"SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(message) + message
