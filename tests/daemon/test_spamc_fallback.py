"""spamc's safe fallback: every way a run can fail, ours against /usr/bin/spamc.

For each failure (no server, timeouts, bad replies, oversized or empty input, bad BSMTP, no
user, DNS, TLS, ...) both clients run on the same input in parallel; their stdout bytes and exit
statuses must be identical, and wherever the message is passed through, it must come back byte
for byte. The C client's exit status is the expected value, so no number is hard-coded here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import (
    C_SPAMC,
    OUR_SPAMC,
    FakeSpamd,
    Run,
    c_spamc,
    corpus_message,
    free_port,
    needs,
    our_spamc,
    run_client,
)

HAM = corpus_message("easy-ham-1")
SMALL = b"From: ann@example.org\nSubject: hi\n\nHello there.\n"
# Keeps the closed-port cases fast: no pause between the three connection rounds.
NO_SLEEP = ["--retry-sleep", "0"]
FALLBACK_MODES = [
    [],
    ["-E"],
    ["-c"],
    ["-y"],
    ["-r"],
    ["-R"],
    ["--headers"],
    ["-K"],
    ["-L", "spam"],
    ["-C", "report"],
    ["-c", "-y"],
    ["-K", "-c"],
]
X_VARIANTS = [[], ["-x"], ["-x", "-X"]]
INPUT_MODES = [*FALLBACK_MODES, ["-B"]]

_pool = ThreadPoolExecutor(max_workers=2)


def both(args: Sequence[str], stdin: bytes | None, **kw: object) -> tuple[Run, Run]:
    """Run the C spamc and ours at the same time (timeouts then cost their length once)."""
    c_run = _pool.submit(c_spamc, list(args), stdin, **kw)
    our_run = _pool.submit(our_spamc, list(args), stdin, **kw)
    return c_run.result(), our_run.result()


def assert_same(args: Sequence[str], stdin: bytes | None = HAM, **kw: object) -> Run:
    """Both clients agree on stdout and exit status; returns our run for extra checks."""
    expected, ours = both(args, stdin, **kw)
    assert (ours.rc, ours.out) == (expected.rc, expected.out), ours.err.decode(errors="replace")
    return ours


def passes_through(mode: list[str]) -> bool:
    """Modes whose fallback output is the original message."""
    placeholders = {"-c", "-y", "-r", "-R", "-K", "-L"}
    return not placeholders.intersection(mode)


def label(row: Sequence[str]) -> str:
    return " ".join(row) or "(none)"


def ids(rows: Sequence[Sequence[str]]) -> list[str]:
    return [label(row) for row in rows]


# ----------------------------------------------------------------------------- no spamd at all


@pytest.mark.parametrize("x", X_VARIANTS, ids=ids(X_VARIANTS))
@pytest.mark.parametrize("mode", FALLBACK_MODES, ids=ids(FALLBACK_MODES))
def test_connection_refused(mode: list[str], x: list[str]) -> None:
    ours = assert_same(["-p", str(free_port()), *NO_SLEEP, *mode, *x])
    if passes_through(mode) and not x:
        assert ours.out == HAM and ours.rc == 0


@pytest.mark.parametrize(
    "args", [["-X", "-x"], ["-E", "-x"], ["-E", "-x", "-X"], ["-c", "-X", "-x"]], ids=label
)
def test_connection_refused_option_order(args: list[str]) -> None:
    assert_same(["-p", str(free_port()), *NO_SLEEP, *args])


def test_connection_refused_with_default_retry_sleep() -> None:
    started = time.monotonic()
    assert_same(["-d", "127.0.0.1", "-p", str(free_port()), "-x"])
    assert time.monotonic() - started >= 2.0  # two 1 s pauses between three rounds


@pytest.mark.parametrize("x", [[], ["-x"]], ids=["safe", "x"])
@pytest.mark.parametrize("mode", [[], ["-c"], ["-L", "spam"]], ids=ids([[], ["-c"], ["-L"]]))
def test_unix_socket_missing(mode: list[str], x: list[str], tmp_path: Path) -> None:
    assert_same(["-U", str(tmp_path / "no-such.sock"), *mode, *x])


def test_unix_socket_nobody_listens(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))  # bound but never listening: connect is refused
        for x in ([], ["-x"], ["-x", "-X"]):
            assert_same(["-U", str(path), *x])


@pytest.mark.parametrize("dest", ["255.255.255.255", "255.255.255.255,127.0.0.1"])
def test_never_contacted_broadcast_address(dest: str) -> None:
    with FakeSpamd(
        responder=lambda _: b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\n"
    ) as fake:
        assert_same(["-d", dest, "-p", str(fake.port), *NO_SLEEP, "-x", "-c"])


@pytest.mark.parametrize(
    "args", [["-d", ""], ["-d", ",,"], ["-4", "-d", "::1"], ["-6", "-d", "127.0.0.1"]], ids=label
)
def test_unresolvable_destination(args: list[str]) -> None:
    for x in ([], ["-x"]):
        for mode in ([], ["-c"]):
            assert_same([*args, "-p", str(free_port()), *mode, *x])


@contextlib.contextmanager
def unanswered_listener() -> Iterator[int]:
    """A port whose accept queue is full, so new connections hang in SYN-SENT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
            fillers.append(filler)
        time.sleep(0.2)
        yield listener.getsockname()[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.parametrize("args", [["-n", "1"], ["-t", "1"], ["-n", "1", "-c"]], ids=label)
def test_connect_timeout(args: list[str]) -> None:
    with unanswered_listener() as port:
        assert_same(["-d", "127.0.0.1", "-p", str(port), "--connect-retries", "1", "-x", *args])


# ----------------------------------------------------------------------------- spamd misbehaves

BAD_REPLIES = {
    "garbage": b"HTTP/1.0 200 OK\r\n\r\n",
    "spamd-error-line": b"SPAMD/1.0 76 Bad header line: (EOF during headers)\r\n",
    "bad-version": b"SPAMD/0.9 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\n",
    "no-spam-header": b"SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\n\r\nabc",
    "no-content-length": b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\nabc",
    "body-too-short": b"SPAMD/1.1 0 EX_OK\r\nContent-length: 10\r\nSpam: True ; 9 / 5\r\n\r\nabc",
    "body-too-long": b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam: True ; 9 / 5\r\n\r\nabc",
    "negative-length": b"SPAMD/1.1 0 EX_OK\r\nContent-length: -3\r\n\r\nabc",
    "spam-header-without-spaces": b"SPAMD/1.1 0 EX_OK\r\nSpam: True;9.0/5.0\r\n\r\n",
    "headers-not-ended": b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n",
    "closed-silently": b"",
    "line-of-8187-bytes": b"SPAMD/1.1 0 EX_OK\r\n" + b"X" * 8186 + b"\r\n\r\n",
    "line-of-8186-bytes": b"SPAMD/1.1 0 EX_OK\r\n" + b"X" * 8185 + b"\r\n\r\n",
    "nul-in-status": b"SPAMD/1.5\0 0 PONG\r\n",
}
# Every bad reply goes to each kind of result handling; the safe-fallback variants are the same
# for every cause, so they run for two representative replies only.
REPLY_MODES = [
    ["-x"],
    ["-c", "-x"],
    ["-y", "-x"],
    ["-R", "-x"],
    ["-K"],
    ["-L", "ham"],
    ["-C", "revoke", "-x"],
]
SAFE_MODES = [[], ["-c"], ["-y"], ["-r"], ["-E"], ["--headers"], ["-C", "report"]]


@pytest.mark.parametrize("mode", REPLY_MODES, ids=ids(REPLY_MODES))
@pytest.mark.parametrize("reply", list(BAD_REPLIES.values()), ids=list(BAD_REPLIES))
def test_bad_reply(reply: bytes, mode: list[str]) -> None:
    with FakeSpamd(reply=reply) as fake:
        assert_same(["-d", "127.0.0.1", "-p", str(fake.port), *mode], SMALL)


@pytest.mark.parametrize("mode", SAFE_MODES, ids=ids(SAFE_MODES))
@pytest.mark.parametrize("reply", ["garbage", "body-too-short"])
def test_bad_reply_safe_fallback(reply: str, mode: list[str]) -> None:
    with FakeSpamd(reply=BAD_REPLIES[reply]) as fake:
        ours = assert_same(["-d", "127.0.0.1", "-p", str(fake.port), *mode], SMALL)
    if passes_through(mode) and "-C" not in mode:  # TELL reads no body: that reply is fine
        assert ours.out == SMALL and ours.rc == 0


def test_reply_larger_than_buffer() -> None:
    """A reply body beyond max-size + 16 KiB is handled like an oversized message."""
    for size in (100 + 16384, 100 + 16385):
        reply = b"SPAMD/1.1 0 EX_OK\r\nContent-length: %d\r\n\r\n" % size + b"y" * size
        with FakeSpamd(reply=reply) as fake:
            for mode in ([], ["-y"]):
                assert_same(
                    ["-d", "127.0.0.1", "-p", str(fake.port), "-s", "100", "-x", *mode], SMALL
                )


HANG_CASES = [[], ["-x"], ["-c", "-x"], ["-y"], ["-K"], ["-L", "spam"], ["-C", "report", "-x"]]


@pytest.mark.parametrize("mode", HANG_CASES, ids=ids(HANG_CASES))
def test_spamd_never_answers(mode: list[str]) -> None:
    with FakeSpamd(reply=None, read_idle=0.5) as fake:
        ours = assert_same(["-d", "127.0.0.1", "-p", str(fake.port), "-t", "1", *mode])
    if not mode:
        assert ours.out == HAM


@pytest.mark.parametrize(
    "stall_after",
    [b"SPAMD/1.1 0 EX_OK\r\nContent-le", b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n\r\nab"],
    ids=["in-headers", "in-body"],
)
def test_spamd_stalls_mid_reply(stall_after: bytes) -> None:
    with FakeSpamd(chunks=[(stall_after, 5.0)], read_idle=0.5) as fake:
        for x in ([], ["-x"]):
            assert_same(["-d", "127.0.0.1", "-p", str(fake.port), "-t", "1", *x])


def test_filter_retries_reconnect() -> None:
    with FakeSpamd(reply=None, read_idle=0.5) as fake:
        assert_same(
            [
                "-d",
                "127.0.0.1",
                "-p",
                str(fake.port),
                "-t",
                "1",
                "--filter-retries",
                "2",
                "-x",
                "-c",
            ]
        )
        assert len(fake.requests) == 4  # two attempts by each client


# ----------------------------------------------------------------------------- the input itself


@pytest.mark.parametrize("x", [[], ["-x"]], ids=["safe", "x"])
@pytest.mark.parametrize("mode", INPUT_MODES, ids=ids(INPUT_MODES))
def test_oversized_message(mode: list[str], x: list[str]) -> None:
    with FakeSpamd(reply=b"SPAMD/1.5 0 PONG\r\n") as fake:
        ours = assert_same(["-d", "127.0.0.1", "-p", str(fake.port), "-s", "1000", *mode, *x])
    if passes_through(mode):
        assert ours.out == HAM and ours.rc == 0


def test_size_limit_is_inclusive() -> None:
    with FakeSpamd(reply=b"SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0\r\n\r\n") as fake:
        for limit in (len(SMALL), len(SMALL) - 1, 0, -1, -5):
            for mode in (["-c"], ["-c", "-x"], ["-x"], []):
                assert_same(
                    ["-d", "127.0.0.1", "-p", str(fake.port), f"--max-size={limit}", *mode], SMALL
                )


EMPTY_MODES = [
    [],
    ["-x"],
    ["-c"],
    ["-c", "-x"],
    ["-y", "-x"],
    ["-K"],
    ["-L", "spam"],
    ["-C", "report", "-x"],
    ["-B"],
    ["-B", "-x"],
    ["-E", "-x"],
]


@pytest.mark.parametrize("mode", EMPTY_MODES, ids=ids(EMPTY_MODES))
def test_empty_input(mode: list[str]) -> None:
    ours = assert_same(["-p", str(free_port()), *NO_SLEEP, *mode], b"")
    if mode in ([], ["-B"]):
        assert ours.out == b"" and ours.rc == 0


BSMTP_INPUTS = {
    "no-data-line": HAM,
    "data-on-first-line": b"DATA\nFrom: a@b\n\nx\n.\n",
    "no-final-dot": b"HELO x\nMAIL FROM:<a@b>\nDATA\nFrom: a@b\n\n..dotted\nbody\n",
    "complete": b"HELO x\r\nMAIL FROM:<a@b>\r\nDATA\r\nFrom: a@b\r\n\r\n..dotted\r\n.\r\nQUIT\r\n",
}


@pytest.mark.parametrize("x", [[], ["-x"]], ids=["safe", "x"])
@pytest.mark.parametrize("name", list(BSMTP_INPUTS))
def test_bsmtp_input_with_spamd_down(name: str, x: list[str]) -> None:
    ours = assert_same(["-B", "-p", str(free_port()), *NO_SLEEP, *x], BSMTP_INPUTS[name])
    if not x and name != "no-final-dot":
        assert ours.out == BSMTP_INPUTS[name]


# ----------------------------------------------------------------------------- the environment


def test_pipe_to_command_on_failure() -> None:
    port = str(free_port())
    command = ["/bin/sh", "-c", "echo started; cat; exit 7"]
    for extra in ([], ["-x"], ["-K"], ["-c", "-x"], ["-L", "spam"]):
        assert_same(["-p", port, *NO_SLEEP, *extra, "-e", *command])
    assert_same(["-p", port, *NO_SLEEP, "-e", "/nonexistent/cmd"])


@needs(
    os.geteuid() == 0 and shutil.which("setpriv") is not None,
    "needs root and setpriv to run as a uid without a passwd entry",
)
@pytest.mark.parametrize(
    "mode", [["-c"], ["-c", "-x"], [], ["-y"], ["-K"], ["-L", "spam"]], ids=label
)
def test_no_passwd_entry_for_user(mode: list[str]) -> None:
    """getpwuid() fails: -c goes on without a User header (and prints an extra 0/0 at exit),
    everything else stops with EX_OSERR."""
    unknown = ["setpriv", "--reuid=54321", "--regid=54321", "--clear-groups"]
    with FakeSpamd(reply=b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\n") as fake:
        args = ["-d", "127.0.0.1", "-p", str(fake.port), *mode]
        expected = run_client([*unknown, C_SPAMC], args, SMALL)
        ours = run_client([*unknown, *OUR_SPAMC], args, SMALL)
    assert (ours.rc, ours.out) == (expected.rc, expected.out), ours.err


def test_tls_to_a_plain_server() -> None:
    # The TLS client waits for a ServerHello instead of half-closing: answer it quickly.
    with FakeSpamd(reply=b"SPAMD/1.5 0 PONG\r\n", read_idle=0.3) as fake:
        for extra in ([], ["-x"], ["-c", "-x"], ["-K"]):
            assert_same(["-S", "-d", "127.0.0.1", "-p", str(fake.port), *extra])
