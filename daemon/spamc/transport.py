"""Reaching spamd: host resolution, connection rounds with failover, TLS, and a buffered
reader with the C client's per-read idle timeout.

Behaviour copied from the C client because MTAs and their operators rely on it:

* `-d a,b` is a list of hosts; each host is *all* the addresses its name resolves to. Round
  `n` of `--connect-retries` (default 3) tries every address of host `n mod count`, then sleeps
  `--retry-sleep` (default 1 s) unless the failure was a refusal and other hosts are left.
* `-H` rotates the list by a random amount; `-x` keeps only its first host.
* No `-d`: the loopback addresses of getaddrinfo(NULL) (::1, then 127.0.0.1).
* `-U path`: one attempt, no retries.
* The connect timeout (`-n`, or `-t` when `-n` gave none) interrupts `connect()`; the C client
  then sees EINTR, logs "Interrupted system call" and ends with EX_SOFTWARE, so we do too.
* Writes have no timeout and their errors are ignored (plain TCP); every read has the `-t`
  idle timeout; the request is followed by a half-close (for TLS see send_request).

Uses the `_socket` C module directly: `socket` pulls in `enum` and costs ~10 ms of start-up,
which an MTA pays once per message. The `socket`/`ssl` modules are imported only for -S.
"""

from __future__ import annotations

import _socket
import errno
import os

from spamkiln.daemon.spamc.exitcodes import (
    EX_IOERR,
    EX_NOHOST,
    EX_NOPERM,
    EX_OSERR,
    EX_SOFTWARE,
    EX_TEMPFAIL,
    EX_TOOBIG,
    EX_UNAVAILABLE,
    SpamcError,
)
from spamkiln.daemon.spamc.log import LOG_DEBUG, LOG_ERR, LOG_NOTICE, Log
from spamkiln.daemon.spamc.options import Options

# The C client keeps at most this many hosts from -d (TRANSPORT_MAX_HOSTS).
MAX_HOSTS = 256
# A reply line, LF included, must fit in 8187 bytes (an 8192-byte buffer minus breathing room).
MAX_LINE = 8187
# sockaddr_un.sun_path is 108 bytes; the C client copies at most 107 of the path.
_MAX_SOCKET_PATH = 107
_RECV_SIZE = 65536
# Never contacted: the C client's built-in "always fails" test address.
_BROADCAST = "255.255.255.255"

_UNAVAILABLE_ERRNOS = frozenset((errno.ECONNREFUSED, errno.ETIMEDOUT, errno.ENETUNREACH))
# getaddrinfo errors that mean "this name does not resolve" (EX_NOHOST when no name works).
_PERMANENT_GAI = frozenset(
    getattr(_socket, name)
    for name in (
        "EAI_FAMILY",
        "EAI_SOCKTYPE",
        "EAI_BADFLAGS",
        "EAI_NONAME",
        "EAI_SERVICE",
        "EAI_SYSTEM",
        "EAI_MEMORY",
        "EAI_FAIL",
    )
    if hasattr(_socket, name)
)
# Every other getaddrinfo error (EAI_ADDRFAMILY from -4/-6, for one) ends the run with
# EX_OSERR at once: the Debian build of the C client does not know those codes.

Address = tuple[int, int, int, object]  # family, type, proto, sockaddr
Host = list[Address]


def connect_error_code(code: int) -> int:
    """Exit status for a failed connect() (the C client's _translate_connect_errno)."""
    if code in _UNAVAILABLE_ERRNOS:
        return EX_UNAVAILABLE
    if code == errno.EACCES:
        return EX_NOPERM
    return EX_SOFTWARE


def socket_error_code(code: int) -> int:
    """Exit status for a failed socket() call."""
    if code == errno.EACCES:
        return EX_NOPERM
    if code in (errno.ENFILE, errno.EMFILE, errno.ENOBUFS, errno.ENOMEM):
        return EX_OSERR
    return EX_SOFTWARE


def _family(opts: Options) -> int:
    if opts.family == 4:
        return _socket.AF_INET
    if opts.family == 6:
        return _socket.AF_INET6
    return _socket.AF_UNSPEC


def _lookup(name: bytes | None, opts: Options) -> Host:
    return [
        (family, kind, proto, sockaddr)
        for family, kind, proto, _canon, sockaddr in _socket.getaddrinfo(
            name, opts.port, _family(opts), _socket.SOCK_STREAM
        )
    ]


def resolve(opts: Options, log: Log) -> list[Host]:
    """The host list for this run (empty for a UNIX socket). Raises SpamcError on failure."""
    if opts.transport == "unix":
        return []
    if opts.transport == "localhost":
        try:
            return [_lookup(None, opts)]
        except OSError as exc:
            log(b"getaddrinfo for a loopback address failed: %s" % _text(exc))
            raise SpamcError(EX_OSERR) from exc
    dest = opts.dest or b""
    hosts: list[Host] = []
    temporary = False
    for name in dest.split(b","):
        try:
            host = _lookup(name, opts)
        except _socket.gaierror as exc:
            log(b"getaddrinfo(%s) failed: %s" % (name, _text(exc)), LOG_DEBUG)
            if exc.errno == _socket.EAI_AGAIN:
                temporary = True
            elif exc.errno not in _PERMANENT_GAI:
                raise SpamcError(EX_OSERR) from exc
            continue
        if len(hosts) == MAX_HOSTS:
            log(b"hit limit of %d hosts, ignoring remainder" % MAX_HOSTS, LOG_NOTICE)
            break
        hosts.append(host)
    if not hosts:
        if temporary:
            log(b"could not resolve any hosts (%s): a temporary error occurred" % dest)
            raise SpamcError(EX_TEMPFAIL)
        log(b"could not resolve any hosts (%s): no such host" % dest)
        raise SpamcError(EX_NOHOST)
    if opts.randomize and len(hosts) > 1:
        shift = int.from_bytes(os.urandom(4), "little") % len(hosts)
        hosts[:] = hosts[shift:] + hosts[:shift]
    if not opts.safe_fallback and len(hosts) > 1:
        del hosts[1:]
    return hosts


def rotate(hosts: list[Host]) -> None:
    """Move the first host to the end (each --filter-retries attempt starts elsewhere)."""
    if len(hosts) > 1:
        hosts.append(hosts.pop(0))


def _text(exc: BaseException) -> bytes:
    message = getattr(exc, "strerror", None) or str(exc)
    return str(message).encode("utf-8", "surrogateescape")


def _connect_timeout(opts: Options) -> float | None:
    return float(opts.connect_timeout) if opts.connect_timeout > 0 else None


def _attempt(sock: _socket.socket, sockaddr: object, opts: Options) -> int:
    """connect(); 0 on success, else the errno the C client would have seen."""
    sock.settimeout(_connect_timeout(opts))
    try:
        sock.connect(sockaddr)
    except TimeoutError:
        return errno.EINTR  # the C client's alarm() interrupts connect()
    except OSError as exc:
        return exc.errno or errno.EIO
    return 0


def _connect_unix(opts: Options, log: Log) -> _socket.socket:
    try:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except OSError as exc:
        log(b"socket(PF_UNIX) to spamd failed: %s" % os.strerror(exc.errno or 0).encode())
        raise SpamcError(socket_error_code(exc.errno or 0)) from exc
    path = (opts.socket_path or b"")[:_MAX_SOCKET_PATH]
    code = _attempt(sock, path, opts)
    if code == 0:
        return sock
    sock.close()
    log(
        b"connect(AF_UNIX) to spamd using --socket='%s' failed: %s"
        % (path, os.strerror(code).encode())
    )
    raise SpamcError(connect_error_code(code))


def _connect_tcp(hosts: list[Host], opts: Options, log: Log) -> _socket.socket:
    import time

    retries = opts.connect_retries or 3
    pause = opts.retry_sleep if opts.retry_sleep >= 0 else 1
    last_error = 0  # kept across attempts, like the C client's origerr
    for round_number in range(retries):
        innocent = False
        for family, kind, proto, sockaddr in hosts[round_number % len(hosts)]:
            try:
                sock = _socket.socket(family, kind, proto)
            except OSError as exc:
                log(
                    b"socket(%s) to spamd failed: %s"
                    % (_FAMILY_NAMES.get(family, b"Unknown"), os.strerror(exc.errno or 0).encode())
                )
                continue
            host = str(sockaddr[0]).encode()  # type: ignore[index]
            if host == _BROADCAST.encode():
                log(b"connect to spamd on %s failed, broadcast addr" % host)
                failed = True
            else:
                code = _attempt(sock, sockaddr, opts)
                failed = code != 0
                if failed:
                    last_error = code
            if not failed:
                return sock
            sock.close()
            innocent = last_error == errno.ECONNREFUSED and round_number + 1 < len(hosts)
            log(
                b"connect to spamd on %s failed, retrying (#%d of %d): %s"
                % (host, round_number + 1, retries, os.strerror(last_error).encode()),
                LOG_DEBUG if innocent else LOG_ERR,
            )
        if round_number + 1 < retries and not innocent:
            time.sleep(pause)
    log(b"connection attempt to spamd aborted after %d retries" % retries)
    raise SpamcError(connect_error_code(last_error))


_FAMILY_NAMES = {
    _socket.AF_INET: b"PF_INET",
    _socket.AF_INET6: b"PF_INET6",
    _socket.AF_UNIX: b"PF_UNIX",
}


def connect(hosts: list[Host], opts: Options, log: Log) -> Connection:
    """Open a connection to spamd (TLS when -S), or raise SpamcError with the exit status."""
    if opts.socket_path is not None:
        sock = _connect_unix(opts, log)
    else:
        sock = _connect_tcp(hosts, opts, log)
    if opts.use_ssl:
        return _start_tls(sock, opts, log)
    return Connection(sock, opts.timeout, tls=False)


def _start_tls(raw: _socket.socket, opts: Options, log: Log) -> Connection:
    import socket
    import ssl

    sock = socket.socket(fileno=raw.detach())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the C client checks nothing unless given a CA
    try:
        if opts.ssl_ca_file is not None or opts.ssl_ca_path is not None:
            try:
                context.load_verify_locations(opts.ssl_ca_file, opts.ssl_ca_path)
            except (OSError, ssl.SSLError) as exc:
                log(
                    b"error loading CA file %s or path %s: %s"
                    % (opts.ssl_ca_file or b"(void)", opts.ssl_ca_path or b"(void)", _text(exc))
                )
                raise SpamcError(EX_OSERR) from exc
            context.verify_mode = ssl.CERT_REQUIRED
        if opts.ssl_cert is not None and opts.ssl_key is not None:
            try:
                context.load_cert_chain(opts.ssl_cert, opts.ssl_key)
            except (OSError, ssl.SSLError) as exc:
                log(b"unable to load certificate file %s: %s" % (opts.ssl_cert, _text(exc)))
                raise SpamcError(EX_OSERR) from exc
        sock.settimeout(None)  # SSL_connect() runs without an alarm in the C client
        try:
            tls = context.wrap_socket(sock)
        except (OSError, ssl.SSLError) as exc:
            log(b"SSL_connect error: %s" % _text(exc))
            raise SpamcError(EX_UNAVAILABLE) from exc
    except SpamcError:
        sock.close()
        raise
    return Connection(tls, opts.timeout, tls=True)  # type: ignore[arg-type]


class Connection:
    """One request/response exchange with spamd, reading through a small buffer."""

    __slots__ = ("_buffer", "_clean_eof", "_sock", "_timeout", "tls")

    def __init__(self, sock: _socket.socket, timeout: int, tls: bool) -> None:
        self._sock = sock
        self._timeout = float(timeout) if timeout > 0 else None
        self._buffer = b""
        self.tls = tls
        # Once we have sent our close_notify, Python reports spamd's close_notify as
        # SSLZeroReturnError instead of b"": that is a clean end of the reply, not an error.
        self._clean_eof: tuple[type[BaseException], ...] = ()
        if tls:
            import ssl

            self._clean_eof = (ssl.SSLZeroReturnError,)

    def send_request(self, head: bytes, body: bytes, log: Log, zlib: bool = False) -> None:
        """Send the request, then signal the end of input.

        Plain writes ignore errors: spamd may already have answered and closed (an error line),
        and that answer is what the client must read; a half-close follows. TLS writes are
        checked, and a zero-length body fails there too (SSL_write refuses it), which is why the
        C client's `-S -K` fails; the end of input is sent only when spamd needs it.
        """
        self._sock.settimeout(None)
        if self.tls:
            try:
                self._sock.sendall(head)
                if not body:
                    raise OSError(errno.EIO, "empty write")
                self._sock.sendall(body)
            except OSError as exc:
                log(b"SSL write failed (%d)" % 5)  # SSL_ERROR_SYSCALL, as the C client reports
                raise SpamcError(EX_IOERR) from exc
            if body[-1:] != b"\n" or zlib:
                self._end_tls_input()
            return
        try:  # noqa: SIM105  (contextlib would cost start-up time)
            self._sock.sendall(head + body)
        except OSError:
            pass
        try:  # noqa: SIM105  (contextlib would cost start-up time)
            self._sock.shutdown(_socket.SHUT_WR)
        except OSError:
            pass

    def _end_tls_input(self) -> None:
        """Send a TLS close_notify (our end of input) while keeping the connection readable.

        spamd reads a body up to its last newline, and a compressed body to the end: without a
        final newline, or with -z, it waits for end of input. The C client always sends
        close_notify plus a FIN; but when spamd did not need them it never reads the
        close_notify, closes with it unread, and the resulting TCP reset makes the C client
        lose the reply now and then (exit 74). So we send it only when spamd will consume it.
        unwrap() would also wait for spamd's own close_notify: on a non-blocking socket it
        stops after sending ours, with SSLWantReadError, and reading goes on normally.
        """
        import ssl

        self._sock.settimeout(0.0)
        try:  # noqa: SIM105  (contextlib would cost start-up time)
            self._sock.unwrap()  # type: ignore[attr-defined]
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, OSError):
            pass

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False at EOF. Raises OSError on error/timeout."""
        self._sock.settimeout(self._timeout)
        try:
            chunk = self._sock.recv(_RECV_SIZE)
        except self._clean_eof:
            return False
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def read_line(self, log: Log) -> bytes:
        """One reply line without its LF (and one CR before it).

        EOF, a read error or the idle timeout raise EX_IOERR; a line of MAX_LINE bytes without
        LF raises EX_TOOBIG, which the caller treats like an oversized message.
        """
        while True:
            newline = self._buffer.find(b"\n", 0, MAX_LINE)
            if newline >= 0:
                line = self._buffer[:newline]
                self._buffer = self._buffer[newline + 1 :]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self._buffer) >= MAX_LINE:
                log(b"spamd responded with line of %d bytes, dying" % MAX_LINE)
                raise SpamcError(EX_TOOBIG)
            try:
                more = self._fill()
            except OSError as exc:
                raise SpamcError(EX_IOERR) from exc
            if not more:
                raise SpamcError(EX_IOERR)

    def read_body(self, limit: int) -> bytes | None:
        """Up to `limit` bytes until EOF; None when a read fails or times out first (the C
        client's full_read() then returns -1, which later shows as a failed sanity check)."""
        while len(self._buffer) < limit:
            try:
                if not self._fill():
                    break
            except OSError:
                return None
        data, self._buffer = self._buffer[:limit], b""
        return data

    def close(self) -> None:
        try:  # noqa: SIM105  (contextlib would cost start-up time)
            self._sock.close()
        except OSError:
            pass
