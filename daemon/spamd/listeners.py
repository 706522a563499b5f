"""The listening sockets: `-i` entries parsed the way spamd parses them, then bound.

The master binds every socket before it loads the ruleset or drops privileges (ports below 1024
need root) and keeps them open for its whole life, through HUP reloads too, so a client never
finds the port closed while spamd runs. Children accept on them directly.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import ipaddress
import os
import pwd
import socket
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

__all__ = ["ListenSpec", "Listener", "bind_all", "close_all", "parse_listen_specs"]

DEFAULT_PORT = 783
# spamd retries a busy address 10 times, 1 s apart (spamd.md section 1 step 4).
BIND_ATTEMPTS = 10
BIND_RETRY_DELAY = 1.0


@dataclass(frozen=True)
class ListenSpec:
    """One address to listen on: a TCP (host, port) or a UNIX socket path."""

    kind: str  # "tcp" | "unix"
    host: str = ""
    port: int = 0
    ssl: bool = False
    path: str = ""

    @property
    def family(self) -> int:
        if self.kind == "unix":
            return socket.AF_UNIX
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


@dataclass
class Listener:
    """A bound, listening socket and what the log calls it."""

    spec: ListenSpec
    sock: socket.socket
    unlink_on_close: bool = False
    _closed: bool = field(default=False, repr=False)

    @property
    def is_unix(self) -> bool:
        return self.spec.kind == "unix"

    @property
    def port(self) -> int:
        return 0 if self.is_unix else int(self.sock.getsockname()[1])

    def describe(self) -> str:
        """The start-up log's name for it, in spamd's words (scripts grep for them)."""
        if self.is_unix:
            return f"UNIX domain socket {self.spec.path}"
        kind = "IO::Socket::SSL" if self.spec.ssl else "IO::Socket::IP"
        return f"{kind} [{self.spec.host}]:{self.port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.unlink_on_close:
            with contextlib.suppress(OSError):
                os.unlink(self.spec.path)


def _port_number(text: str) -> int:
    if text.isdigit():
        port = int(text)
    else:
        try:
            port = socket.getservbyname(text, "tcp")
        except OSError:
            raise UsageError(f"spamd: unknown port or service name: {text!r}") from None
    if not 0 < port < 65536:
        raise UsageError(f"spamd: port {text!r} out of range")
    return port


def _split_host_port(entry: str) -> tuple[str, str | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address, `*`, `*:port` or ''."""
    if entry.startswith("["):
        close = entry.find("]")
        if close < 0:
            raise UsageError(f"spamd: bad listen address {entry!r}")
        host, rest = entry[1:close], entry[close + 1 :]
        if rest and not rest.startswith(":"):
            raise UsageError(f"spamd: bad listen address {entry!r}")
        return host, (rest[1:] or None) if rest else None
    if entry.count(":") > 1:  # a bare IPv6 address has no port
        return entry, None
    host, _, port = entry.partition(":")
    return host, (port or None)


def _addresses(host: str, ipv4_only: bool, ipv6_only: bool) -> list[str]:
    if host in ("", "*"):
        candidates = ["::", "0.0.0.0"]
    elif host == "localhost":
        candidates = ["::1", "127.0.0.1"]
    else:
        try:
            candidates = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise UsageError(f"spamd: cannot resolve listen address {host!r}: {exc}") from None
            candidates = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if ipv4_only:
        candidates = [a for a in candidates if ":" not in a]
    if ipv6_only:
        candidates = [a for a in candidates if ":" in a]
    return candidates


def parse_listen_specs(
    entries: Sequence[str] | None,
    socketpath: str | None,
    *,
    port: str | None = None,
    ssl: bool = False,
    ssl_port: str | None = None,
    ipv4_only: bool = False,
    ipv6_only: bool = False,
) -> list[list[ListenSpec]]:
    """Every -i entry (and --socketpath) as a group of addresses; a group must bind at least
    one of its addresses. No entry at all means `localhost`; --socketpath alone means UNIX only.
    """
    items = list(entries or [])
    if socketpath:
        items.append(socketpath)
    elif not items:
        items = ["localhost"]
    default_port = _port_number(port) if port else DEFAULT_PORT
    groups: list[list[ListenSpec]] = []
    for raw in items:
        entry = raw.strip()
        is_ssl = ssl
        if entry.lower().startswith("ssl:"):
            entry, is_ssl = entry[4:], True
        if entry.startswith("/"):
            groups.append([ListenSpec("unix", path=entry)])
            continue
        host, port_text = _split_host_port(entry)
        if port_text:
            number = _port_number(port_text)
        elif is_ssl and ssl_port:
            number = _port_number(ssl_port)
        else:
            number = default_port
        addresses = _addresses(host, ipv4_only, ipv6_only)
        if not addresses:
            raise UsageError(f"spamd: no usable address for listen entry {raw!r}")
        groups.append([ListenSpec("tcp", host=a, port=number, ssl=is_ssl) for a in addresses])
    return groups


def _bind_tcp(spec: ListenSpec, attempts: int, delay: float) -> socket.socket:
    last: OSError | None = None
    for attempt in range(attempts):
        sock = socket.socket(spec.family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if spec.family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((spec.host, spec.port))
            sock.listen(socket.SOMAXCONN)
            sock.setblocking(False)  # children race for accept(); losers must not block
            return sock
        except OSError as exc:
            sock.close()
            last = exc
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                break
            time.sleep(delay)
    assert last is not None
    raise last


def _is_live_socket(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
        return True


def _bind_unix(spec: ListenSpec, owner: str | None, group: str | None, mode: int) -> socket.socket:
    path = spec.path
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise UsageError(f"spamd: {path} exists and is not a socket")
        if _is_live_socket(path):
            raise UsageError(f"spamd: already running on {path}")
        os.unlink(path)  # stale socket of a dead spamd
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(socket.SOMAXCONN)
        sock.setblocking(False)
        uid = pwd.getpwnam(owner).pw_uid if owner else -1
        gid = grp.getgrnam(group).gr_gid if group else -1
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid)
        os.chmod(path, mode)
    except KeyError as exc:
        sock.close()
        os.unlink(path)
        raise UsageError(f"spamd: unknown socket owner or group: {exc.args[0]}") from None
    except OSError:
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return sock


def bind_all(
    groups: Sequence[Sequence[ListenSpec]],
    *,
    socketowner: str | None = None,
    socketgroup: str | None = None,
    socketmode: int = 0o666,
    warn: Callable[[str], None] = lambda _msg: None,
    attempts: int = BIND_ATTEMPTS,
    delay: float = BIND_RETRY_DELAY,
) -> list[Listener]:
    """Bind every group; an address that fails is a warning unless its whole group failed."""
    listeners: list[Listener] = []
    try:
        for group in groups:
            bound = 0
            errors: list[str] = []
            for spec in group:
                try:
                    if spec.kind == "unix":
                        sock = _bind_unix(spec, socketowner, socketgroup, socketmode)
                        listeners.append(Listener(spec, sock, unlink_on_close=True))
                    else:
                        listeners.append(Listener(spec, _bind_tcp(spec, attempts, delay)))
                    bound += 1
                except OSError as exc:
                    where = spec.path or f"[{spec.host}]:{spec.port}"
                    errors.append(f"{where}: {exc.strerror or exc}")
            if not bound:
                raise UsageError(
                    f"spamd: could not create listening socket: {'; '.join(errors)}", exit_status=1
                )
            for error in errors:
                warn(f"spamd: could not listen on {error}, continuing with the others")
    except BaseException:
        close_all(listeners)
        raise
    return listeners


def close_all(listeners: Sequence[Listener]) -> None:
    for listener in listeners:
        listener.close()


def absolute_path(path: str) -> str:
    """Relative socket/pid paths are made absolute before -d moves to `/`."""
    return str(Path(path).absolute())
