"""Helpers and fixtures for the tests of our spamd: compiled rulesets, a running spamd, raw
SPAMC exchanges over TCP/IPv6/UNIX sockets.

Fixtures defined here are re-exported by conftest.py. Every wait is bounded: a spamd that hangs
must fail a test, not stall CI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.compiler.sources import spamassassin_inputs

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT.parent / "shared" / "golden" / "protocol"
SPAMD_CMD = [sys.executable, "-m", "spamkiln.daemon.spamd"]
START_TIMEOUT = 60.0
IO_TIMEOUT = 30.0

# A handful of rules, enough to tell spam from ham and to change between reloads.
SMALL_RULES = """\
body SK_TEST_WORD /\\bviagra\\b/i
describe SK_TEST_WORD Talks about a famous pill
score SK_TEST_WORD {word_score}
header SK_SUBJ_HELLO Subject =~ /hello/i
describe SK_SUBJ_HELLO Subject says hello
score SK_SUBJ_HELLO 0.5
required_score 5.0
"""


def compile_small(folder: Path, word_score: float = 6.0) -> Path:
    """Compile SMALL_RULES into folder/out (atomically replaced on a second call)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "small.cf"
    source.write_text(SMALL_RULES.format(word_score=word_score))
    result = compile_files([source])
    assert not result.diagnostics.errors, [str(d) for d in result.diagnostics.errors]
    out = folder / "out"
    write_module(result, out)
    return out


def world_readable_dir(prefix: str) -> Path:
    """A temp dir that the children (running as nobody) can read: pytest's own is 0700."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def golden_ruleset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian's stock rules + zz_golden.cf: the configuration of the golden captures."""
    out = tmp_path_factory.mktemp("golden-ruleset")
    result = compile_files([*spamassassin_inputs(), ROOT / "tests" / "fixtures" / "zz_golden.cf"])
    assert not result.diagnostics.errors
    write_module(result, out)
    return out


@pytest.fixture(scope="session")
def small_ruleset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_small(tmp_path_factory.mktemp("small-ruleset"))


# --------------------------------------------------------------------------- raw exchanges


def exchange(
    address: tuple[str, int] | str,
    request: bytes,
    *,
    half_close: bool = True,
    timeout: float = IO_TIMEOUT,
    source: str | None = None,
    read_limit: int | None = None,
    tls: object = None,
) -> bytes:
    """Send a request, optionally half-close, read until EOF (or `read_limit` bytes)."""
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
    else:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        sock.connect(address)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="localhost")  # type: ignore[attr-defined]
    chunks: list[bytes] = []
    with sock:
        if request:
            sock.sendall(request)
        if half_close:
            if tls is not None:
                pass  # TLS has no half-close; requests carry Content-length
            else:
                sock.shutdown(socket.SHUT_WR)
        got = 0
        try:
            while read_limit is None or got < read_limit:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except ConnectionResetError:
            pass
    data = b"".join(chunks)
    return data[:read_limit] if read_limit is not None else data


def scan_request(
    verb: str, message: bytes, *, version: str = "1.5", extra: Sequence[str] = ()
) -> bytes:
    head = f"{verb} SPAMC/{version}\r\n" + "".join(f"{h}\r\n" for h in extra)
    return head.encode() + b"Content-length: %d\r\n\r\n" % len(message) + message


def split_response(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """(status line, headers, body) of a SPAMD reply."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = [tuple(line.split(b": ", 1)) for line in lines[1:]]
    return lines[0], headers, body  # type: ignore[return-value]


# --------------------------------------------------------------------------- our spamd


@dataclass
class OurSpamd:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    workdir: Path
    unix_path: str | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, data: bytes, **kw: object) -> bytes:
        return exchange(self.address, data, **kw)  # type: ignore[arg-type]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        return child_pids(self.pid)

    def wait_log(self, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            if needle in text:
                return text
            time.sleep(0.05)
        tail = self.log_text()[-3000:]
        raise AssertionError(f"{needle!r} not logged within {timeout} s:\n{tail}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        return self.proc.returncode


def child_pids(parent: int) -> list[int]:
    """Children of a pid, from /proc (no ps dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_tls() -> ssl.SSLContext:
    """A client context for our test certificate (self-signed): no verification."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def pong(address: tuple[str, int] | str, timeout: float = 2.0, tls: bool = False) -> bool:
    try:
        return exchange(
            address, b"PING SPAMC/1.5\r\n\r\n", timeout=timeout, tls=client_tls() if tls else None
        ).startswith(b"SPAMD/1.5 0 PONG")
    except OSError:
        return False


def start_our_spamd(
    workdir: Path,
    ruleset: Path,
    args: Sequence[str] = (),
    *,
    port: int | None = None,
    listen: bool = True,
) -> OurSpamd:
    """Our spamd in the foreground (own session), logging to a file; waits for PONG."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = workdir / f"spamd-{port}.log"
    cmd = [*SPAMD_CMD, "--ruleset", str(ruleset), "-s", str(log)]
    if listen:
        cmd += ["-i", f"127.0.0.1:{port}"]
    cmd += list(args)
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=workdir,
    )
    server = OurSpamd(proc, port, log, workdir, extra=list(args))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"our spamd exited with {proc.returncode}: {out}\n{server.log_text()}")
        if pong(("127.0.0.1", port), tls="--ssl" in args):
            return server
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    pytest.fail(f"our spamd did not answer within {START_TIMEOUT} s:\n{server.log_text()}")


@contextlib.contextmanager
def running_spamd(
    workdir: Path, ruleset: Path, args: Sequence[str] = (), **kw: object
) -> Iterator[OurSpamd]:
    server = start_our_spamd(workdir, ruleset, args, **kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def our_spamd_g(
    golden_ruleset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OurSpamd]:
    """Configured like the golden server G: -L, --allow-tell, no user config, 2 children."""
    with running_spamd(
        tmp_path_factory.mktemp("spamd-g"), golden_ruleset, ["-L", "-l", "-x", "-m", "2"]
    ) as server:
        yield server
