"""A child: accept connections, answer one request on each, exit after --max-conn-per-child.

Children accept on the shared listening sockets themselves (the kernel hands each connection
to one of them), report busy/idle to the master over a pipe so it can scale the pool as spamd
does, and beat a heartbeat the master watches. Timeouts are SIGALRM deadlines that raise a
`BaseException`, so no `except Exception` inside the scanner can swallow one.

Signals: TERM finishes the current request and exits; INT dies at once (spamd's children die
on INT too); USR1 is ignored (to reopen the log the master replaces its children); USR2 writes
the current stack to the log.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import mmap
import os
import select
import signal
import socket
import ssl
import struct
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from . import loglines
from .access import AllowedClients
from .commands import Commands, Exchange
from .errors import ProtocolError, bad_header, timeout, unavailable
from .listeners import Listener
from .loglines import Peer
from .protocol import ClientStream, parse_request_line
from .tls import describe as describe_tls
from .userconf import UnknownUser

__all__ = ["Expired", "Heartbeat", "Worker", "WorkerConfig"]

# The master reads these one-byte states (spamd's back channel sends I/B with the pid).
STATE_IDLE = b"I"
STATE_BUSY = b"B"
# How long an idle child sleeps in select() between heartbeats and parent checks.
IDLE_TICK = 1.0
# Closing with unread request bytes makes the kernel send RST, which can destroy the reply
# still in flight; this much is drained (without waiting) before close.
DRAIN_LIMIT = 256 * 1024


class Expired(BaseException):
    """A SIGALRM deadline ran out."""


class Heartbeat:
    """A monotonic timestamp in anonymous shared memory: written by the child, read by the
    master. No file, no syscall per beat, nothing to chown after dropping root."""

    _FORMAT = struct.Struct("d")

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, self._FORMAT.size)
        self.beat()

    def beat(self) -> None:
        # One 8-byte copy of a packed value. Not struct.pack_into: CPython zeroes the target
        # before packing into it, and the master, reading at that instant, saw a stamp of 0.0,
        # took the child for hung since boot and killed it mid-request.
        self._map[: self._FORMAT.size] = self._FORMAT.pack(time.monotonic())

    def age(self) -> float:
        stamp = self._FORMAT.unpack_from(self._map, 0)[0]
        if stamp <= 0.0:  # never written: no evidence of a hang either
            return 0.0
        return time.monotonic() - stamp

    def close(self) -> None:
        self._map.close()


@dataclass(frozen=True)
class WorkerConfig:
    timeout_tcp: int
    timeout_child: int
    max_requests: int
    allowed: AllowedClients
    tls: ssl.SSLContext | None = None


class _Deadlines:
    """One SIGALRM-based deadline at a time."""

    def __init__(self) -> None:
        self._armed = False
        signal.signal(signal.SIGALRM, self._fire)

    def _fire(self, _signum: int, _frame: FrameType | None) -> None:
        if self._armed:
            self._armed = False
            raise Expired

    @contextlib.contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        if seconds <= 0:
            yield
            return
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            self._armed = False  # first: a signal landing now must not raise any more
            signal.setitimer(signal.ITIMER_REAL, 0)


@functools.lru_cache(maxsize=512)
def _reverse_name(address: str) -> str:
    """spamd logs IPv4 clients by reverse name and IPv6 ones by address (observed)."""
    if ":" in address:
        return address
    try:
        return socket.gethostbyaddr(address)[0]
    except OSError:
        return address


class Worker:
    """The child's whole life; `run()` returns the exit status."""

    def __init__(
        self,
        listeners: Sequence[Listener],
        config: WorkerConfig,
        commands: Commands,
        state_fd: int,
        heartbeat: Heartbeat,
        parent_pid: int,
        log: Any,
        log_handler: Any = None,
    ) -> None:
        self.listeners = list(listeners)
        self.config = config
        self.commands = commands
        self.state_fd = state_fd
        self.heartbeat = heartbeat
        self.parent_pid = parent_pid
        self.log = log
        self.log_handler = log_handler
        self.alive = True
        self.served = 0
        self._current: Exchange | None = None
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._deadlines = _Deadlines()

    # ---- signals -------------------------------------------------------------------------
    def _install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # the master replaces us instead
        signal.signal(signal.SIGUSR2, self._on_usr2)

    def _on_term(self, _signum: int, _frame: FrameType | None) -> None:
        self.alive = False  # the current request, if any, still completes

    def _on_usr2(self, _signum: int, frame: FrameType | None) -> None:
        msgid = self._current.last_msgid if self._current else "(none)"
        self.log.warning(f"spamd: caught SIGUSR2 - dumping backtrace. most recent message: {msgid}")
        for line in traceback.format_stack(frame):
            self.log.warning("spamd: " + line.rstrip().replace("\n", " | "))

    # ---- the loop ------------------------------------------------------------------------
    def _report(self, state: bytes) -> None:
        try:
            os.write(self.state_fd, state)
        except OSError:
            self.alive = False  # the master is gone

    def run(self) -> int:
        self._install_signals()
        self._report(STATE_IDLE)
        socks = [listener.sock for listener in self.listeners]
        by_fd = {listener.sock.fileno(): listener for listener in self.listeners}
        while self.alive and self.served < self.config.max_requests:
            self.heartbeat.beat()
            if os.getppid() != self.parent_pid:
                break
            try:
                ready, _, _ = select.select([*socks, self._wake_r], [], [], IDLE_TICK)
            except OSError as exc:
                if exc.errno == errno.EBADF:
                    break
                raise
            if self._wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            for sock in ready:
                if sock is self._wake_r or not self.alive:
                    continue
                try:
                    conn, _ = sock.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue  # another child was faster
                except OSError as exc:
                    self.log.error(f"spamd: accept failed: {exc}")
                    time.sleep(0.1)
                    continue
                self._report(STATE_BUSY)
                self.heartbeat.beat()
                try:
                    self.serve(conn, by_fd[sock.fileno()])
                finally:
                    self.served += 1
                    self.heartbeat.beat()
                if self.served < self.config.max_requests and self.alive:
                    self._report(STATE_IDLE)
                break  # back to select: every listener gets its turn
        if self.log_handler is not None:
            self.log_handler.flush_duplicates()
        return 0

    # ---- one connection -------------------------------------------------------------------
    def serve(self, conn: socket.socket, listener: Listener) -> None:
        """Answer one request; never raises (a broken client must not kill the child)."""
        started = time.monotonic()
        conn.setblocking(True)
        try:
            try:
                with self._deadlines.limit(self.config.timeout_tcp):
                    peer, conn = self._greet(conn, listener)
            except Expired:
                return
            if peer is None:
                return
            self._answer(conn, peer, started)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            self.log.warning(f"spamd: connection error: {exc}")
        except UnknownUser as exc:
            self.log.warning(f"{exc}; closing connection (--paranoid)")
        except Exception as exc:  # spamd: "a die inside request handling is caught"
            self.log.warning(f"spamd: error: {exc!r}, continuing")
            self.log.debug("spamd: " + traceback.format_exc().replace("\n", " | "))
        finally:
            self._current = None
            _close_politely(conn)

    def _greet(self, conn: socket.socket, listener: Listener) -> tuple[Peer | None, socket.socket]:
        """Access check and TLS handshake; None when the client gets nothing at all."""
        if listener.is_unix:
            peer = Peer(
                "localhost",
                "127.0.0.1",
                listener.spec.path,
                0,
                conn.fileno(),
                unix_path=listener.spec.path,
            )
            self.log.info(loglines.connection_line(peer))
            return peer, conn
        address, port = conn.getpeername()[:2]
        local_port = conn.getsockname()[1]
        peer = Peer(_reverse_name(address), address, str(port), local_port, conn.fileno())
        if not self.config.allowed.allows(address):
            self.log.warning(loglines.unauthorized_line(peer))
            return None, conn
        if listener.spec.ssl and self.config.tls is not None:
            try:
                conn = self.config.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.log.warning(f"spamd: TLS handshake with [{address}]:{port} failed: {exc}")
                return None, conn
            peer = Peer(
                peer.host, address, str(port), local_port, conn.fileno(), tls=describe_tls(conn)
            )  # type: ignore[arg-type]
        self.log.info(loglines.connection_line(peer))
        return peer, conn

    def _answer(self, conn: socket.socket, peer: Peer, started: float) -> None:
        stream = ClientStream(conn)
        exchange = Exchange(stream, peer, started, conn.sendall)
        self._current = exchange
        verb = ""
        try:
            try:
                with self._deadlines.limit(self.config.timeout_tcp):
                    line = stream.readline()
            except Expired:
                limit = self.config.timeout_tcp
                detail = f"({limit} second socket timeout reading input from client)"
                raise timeout(detail) from None
            if line is None:
                raise bad_header("(closed before headers)")
            if line.endswith(b"\r\n"):
                line = line[:-2]
            elif line.endswith(b"\n"):
                line = line[:-1]
            request = parse_request_line(line)
            verb = request.verb
            try:
                # spamd runs PING/SKIP header reading without any limit and can wait forever;
                # here --timeout-child covers every verb.
                with self._deadlines.limit(self.config.timeout_child):
                    self.commands.run(request, exchange)
            except Expired:
                if exchange.reading_zlib:
                    raise unavailable("zlib: child processing timeout\n") from None
                seconds = self.config.timeout_child
                raise timeout(f"({seconds} second timeout while trying to {verb})") from None
        except ProtocolError as error:
            with contextlib.suppress(OSError):
                conn.sendall(error.response())
            self.log.warning(f"spamd: {error.log_kind}: {error.detail.decode('latin-1')}")


def _close_politely(conn: socket.socket) -> None:
    """Finish the reply without an RST: half-close, drain what the client already sent."""
    if isinstance(conn, ssl.SSLSocket):
        # Send close_notify without waiting for the client's (a blocking unwrap would).
        with contextlib.suppress(OSError, ValueError):
            conn.setblocking(False)
            conn.unwrap()
        with contextlib.suppress(OSError):
            conn.close()
        return
    with contextlib.suppress(OSError, ValueError):
        conn.shutdown(socket.SHUT_WR)
        conn.setblocking(False)
        drained = 0
        while drained < DRAIN_LIMIT:
            chunk = conn.recv(65536)
            if not chunk:
                break
            drained += len(chunk)
    with contextlib.suppress(OSError):
        conn.close()
