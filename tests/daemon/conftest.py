"""Shared daemon-test fixtures: Debian's real spamd on a loopback port, fake spamd servers that
play back a scripted reply, free ports, and a helper that runs a spamc binary.

Every wait here is bounded, because a hung spamd or client must fail a test, not stall CI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

C_SPAMC = "/usr/bin/spamc"
DEBIAN_SPAMD = "/usr/sbin/spamd"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
# Our spamc, run the way an MTA runs it: a fresh interpreter per message (what the
# `spamkiln-spamc` console script does, without depending on it being installed).
OUR_SPAMC = [sys.executable, "-c", "from spamkiln.daemon.spamc.main import main; main()"]

# Debian's spamd loads the whole ruleset before it listens; on the 2-core CI box that has been
# seen to take ~10 s, so give it a generous but finite budget.
SPAMD_START_TIMEOUT = 90.0
# Upper bound for one client run; the slowest legitimate case (3 connect rounds with the default
# 1 s retry sleep) takes ~2 s.
CLIENT_TIMEOUT = 30.0


def needs(available: bool, reason: str) -> pytest.MarkDecorator:
    """Skip a test this machine cannot run, except in CI (root, Debian's packages installed):
    there it runs anyway, so a missing capability fails it instead of hiding it."""
    return pytest.mark.skipif(not available and not os.environ.get("CI"), reason=reason)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel picked it, we released it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback_works() -> bool:
    """Containers sometimes run without ::1; IPv6 cases are only meaningful when it exists."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class Run:
    """One client run: what it printed and how it exited."""

    rc: int
    out: bytes
    err: bytes


def run_client(
    cmd: Sequence[str],
    args: Sequence[str],
    stdin: bytes | None = b"",
    timeout: float = CLIENT_TIMEOUT,
    env: dict[str, str] | None = None,
) -> Run:
    """Run a spamc (ours or the C one) with `args`; stdin=None means /dev/null."""
    proc = subprocess.run(
        [*cmd, *args],
        input=stdin if stdin is not None else None,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def c_spamc(args: Sequence[str], stdin: bytes | None = b"", **kw: object) -> Run:
    return run_client([C_SPAMC], args, stdin, **kw)  # type: ignore[arg-type]


def our_spamc(args: Sequence[str], stdin: bytes | None = b"", **kw: object) -> Run:
    return run_client(OUR_SPAMC, args, stdin, **kw)  # type: ignore[arg-type]


def corpus_message(group: str, index: int = 0) -> bytes:
    """The index-th message (sorted by name) of a corpus group, as bytes."""
    files = sorted(p for p in (CORPUS / group).iterdir() if p.is_file())
    return files[index].read_bytes()


def ping(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when a spamd answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING SPAMC/1.5\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := s.recv(256):
                data += chunk
            return b"PONG" in data
    except OSError:
        return False


# --------------------------------------------------------------------------- Debian's spamd


DATA = Path(__file__).resolve().parent / "data"
TLS_CERT = DATA / "tls-cert.pem"  # self-signed for CN=localhost, valid until 2126
TLS_KEY = DATA / "tls-key.pem"


@dataclass
class DebianSpamd:
    """A running Debian spamd owned by the test session.

    It listens on 127.0.0.1:`port` (and [::1]:`port` when `ipv6`), with TLS on 127.0.0.1:
    `tls_port`, and on the UNIX socket `socket_path`; TELL is allowed.
    """

    host: str
    port: int
    tls_port: int
    socket_path: Path
    ipv6: bool
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # spamd's children belong to its process group (start_new_session below).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_debian_spamd(workdir: Path, extra_args: Sequence[str] = ()) -> DebianSpamd:
    """Start Debian's spamd in the foreground on free loopback ports and wait for PONG.

    Fails (not skips) when the Debian package is missing: `make test` installs it, and a
    silently skipped interop test would hide a broken client.
    """
    if not Path(DEBIAN_SPAMD).exists() or shutil.which("perl") is None:
        pytest.fail(f"{DEBIAN_SPAMD} is missing: run `make system-deps` (Debian package spamd)")
    port, tls_port = free_port(), free_port()
    ipv6 = ipv6_loopback_works()
    socket_path = workdir / "spamd.sock"
    log = workdir / f"spamd-{port}.log"
    cmd = [
        DEBIAN_SPAMD,
        "-L",
        "-x",
        "--allow-tell",
        "-i",
        f"127.0.0.1:{port}",
        "-i",
        f"ssl:127.0.0.1:{tls_port}",
        "-i",
        str(socket_path),
        "--server-cert",
        str(TLS_CERT),
        "--server-key",
        str(TLS_KEY),
        "-m",
        "2",
        "--min-children=1",
        "--min-spare=1",
        "--max-spare=2",
        "-r",
        str(workdir / f"spamd-{port}.pid"),
        "--syslog=stderr",
    ]
    if ipv6:
        cmd += ["-i", f"[::1]:{port}"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]  # spamd refuses to run as root without a target user
    cmd += list(extra_args)
    # A fixed Perl hash seed makes spamd list report lines in the same order on every run, so
    # two clients' outputs can be compared byte for byte (only boundaries and dates vary).
    env = {**os.environ, "PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            env=env,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DebianSpamd("127.0.0.1", port, tls_port, socket_path, ipv6, proc, log)
    deadline = time.monotonic() + SPAMD_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Debian spamd exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if ping("127.0.0.1", port) and socket_path.exists():
            return server
        time.sleep(0.25)
    server.stop()
    pytest.fail(f"Debian spamd did not answer PING within {SPAMD_START_TIMEOUT} s")


@pytest.fixture(scope="session")
def debian_spamd() -> Iterator[DebianSpamd]:
    """One Debian spamd for the whole session (it takes ~10 s to load its rules)."""
    with tempfile.TemporaryDirectory(prefix="spamkiln-spamd-") as tmp:
        os.chmod(tmp, 0o755)  # spamd drops to `nobody` and must still reach its socket
        server = start_debian_spamd(Path(tmp))
        try:
            yield server
        finally:
            server.stop()


# --------------------------------------------------------------------------- fake spamd


@dataclass
class FakeSpamd:
    """A loopback server that records requests and answers with scripted bytes.

    `reply` is sent after the request has been read (until the client half-closes or stops
    sending for `read_idle` seconds); `None` means accept and never answer (a hung spamd).
    `chunks` of (bytes, pause) are sent in order instead of `reply` when given, which lets a test
    stall in the middle of a reply.
    """

    reply: bytes | None = b""
    chunks: Sequence[tuple[bytes, float]] = ()
    responder: Callable[[bytes], bytes] | None = None
    read_idle: float = 2.0
    family: int = socket.AF_INET
    requests: list[bytes] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _conns: list[socket.socket] = field(default_factory=list)

    def __enter__(self) -> FakeSpamd:
        self.host = "::1" if self.family == socket.AF_INET6 else "127.0.0.1"
        self._listener = socket.socket(self.family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        accept_thread.start()
        self._threads.append(accept_thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() at once
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        conn.settimeout(self.read_idle)
        try:
            while not self._stop.is_set():
                chunk = conn.recv(65536)
                if not chunk:
                    break
                request += chunk
        except (TimeoutError, OSError):
            pass
        self.requests.append(request)
        try:
            if self.chunks:
                for data, pause in self.chunks:
                    if data:
                        conn.sendall(data)
                    if self._stop.wait(pause):
                        return
            elif self.responder is not None:
                conn.sendall(self.responder(request))
            elif self.reply is None:
                self._stop.wait(CLIENT_TIMEOUT)
                return
            else:
                conn.sendall(self.reply)
        except OSError:
            return
        finally:
            if self.reply is not None or self.chunks or self.responder is not None:
                with contextlib.suppress(OSError):
                    conn.close()


def spamd_like_reply(request: bytes) -> bytes:
    """A plausible spamd answer to any SPAMC request, for clients talking to a FakeSpamd.

    The verdict is spam when the body contains "viagra", so tests can steer it; the body echoes
    what the client sent, so a mangled request shows up in the client's output.
    """
    head, _, body = request.partition(b"\r\n\r\n")
    first, *headers = head.split(b"\r\n")
    command = first.split(b" ")[0]
    spam = b"viagra" in body.lower()
    verdict = b"Spam: %s ; %s / 5.0\r\n" % ((b"True", b"7.5") if spam else (b"False", b"1.2"))
    if command == b"PING":
        return b"SPAMD/1.5 0 PONG\r\n"
    if command == b"TELL":
        fields = dict(h.split(b": ", 1) for h in headers if b": " in h)
        did = b""
        if b"Set" in fields:
            did += b"DidSet: " + fields[b"Set"] + b"\r\n"
        if b"Remove" in fields:
            did += b"DidRemove: " + fields[b"Remove"] + b"\r\n"
        return b"SPAMD/1.1 0 EX_OK\r\n" + did + b"\r\n\r\n"
    if command == b"CHECK":
        return b"SPAMD/1.1 0 EX_OK\r\n" + verdict + b"\r\n"
    if command == b"SYMBOLS":
        out = b"FAKE_RULE_A,FAKE_RULE_B"
    elif command in (b"REPORT", b"REPORT_IFSPAM"):
        if command == b"REPORT_IFSPAM":
            verdict = verdict.replace(b"True", b"Yes").replace(b"False", b"No")
        out = b"Fake report for %d bytes\n\n" % len(body) if spam or command == b"REPORT" else b""
    elif command == b"HEADERS":
        out = b"X-Fake-Checked: yes\r\n" + body.partition(b"\n\n")[0] + b"\n\n"
    else:
        out = b"X-Fake-Checked: yes\r\n" + body
    return b"SPAMD/1.1 0 EX_OK\r\nContent-length: %d\r\n%s\r\n%s" % (len(out), verdict, out)


# Fixtures of our spamd's tests (compiled rulesets, a spamd configured like the golden server).
from .spamd_harness import golden_ruleset, our_spamd_g, small_ruleset  # noqa: E402, F401
