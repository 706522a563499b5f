"""Our spamd as a process tree: crashes, load, slow and hostile clients, reloads, daemon mode.

Each test starts its own spamd on the small ruleset (starts in well under a second) so the
process-level events it provokes cannot disturb other tests. Loopback only, every wait bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import TLS_CERT, TLS_KEY, c_spamc
from .spamd_harness import (
    OurSpamd,
    child_pids,
    compile_small,
    exchange,
    free_port,
    pong,
    running_spamd,
    scan_request,
    split_response,
)

SPAM = b"Subject: hello there\r\nFrom: a@example.org\r\n\r\nBuy viagra now.\r\n"
HAM = b"Subject: minutes\r\nFrom: b@example.org\r\n\r\nThe meeting notes are attached.\r\n"


def check(server: OurSpamd, message: bytes = SPAM, **kw: object) -> bytes:
    return server.request(scan_request("CHECK", message), **kw)


def spam_line(reply: bytes) -> bytes:
    return dict(split_response(reply)[1]).get(b"Spam", b"")


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def spamd(small_ruleset: Path, tmp_path: Path):
    """Factory: start a spamd with extra arguments; stopped at the end of the test."""
    started: list[OurSpamd] = []

    def start(*args: str, ruleset: Path = small_ruleset) -> OurSpamd:
        from .spamd_harness import start_our_spamd

        server = start_our_spamd(tmp_path / f"s{len(started)}", ruleset, list(args))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_verdicts_and_log_lines(spamd) -> None:
    server = spamd("-m", "2")
    assert spam_line(check(server)) == b"True ; 6.5 / 5.0"
    assert spam_line(check(server, HAM)) == b"False ; 0.0 / 5.0"
    text = server.wait_log("clean message (0.0/5.0)")
    assert "identified spam (6.5/5.0) for (unknown):" in text
    assert "result: Y  6 - SK_SUBJ_HELLO,SK_TEST_WORD scantime=" in text
    # the master logs the pool state after the children report idle again: wait for it
    server.wait_log("prefork: child states: II")


def test_child_killed_mid_request_is_replaced_and_nothing_else_is_disturbed(spamd) -> None:
    server = spamd("-m", "2", "--min-spare", "0", "--max-spare", "2")
    before = server.children()
    assert len(before) == 2
    # Keep one child busy: the headers promise more body than is ever sent.
    seen = server.log_text().count("connection from")
    victim_sock = socket.create_connection(server.address, timeout=10)
    victim_sock.sendall(b"CHECK SPAMC/1.5\r\nContent-length: 100000\r\n\r\nSubject: x\r\n")
    assert wait_for(lambda: server.log_text().count("connection from") > seen)
    text = server.log_text()
    busy_pid = int(text.rsplit("connection from", 1)[0].rsplit("[", 1)[1].split("]")[0])
    assert busy_pid in before
    os.kill(busy_pid, signal.SIGKILL)
    victim_sock.settimeout(10)
    with contextlib.suppress(ConnectionResetError):
        assert victim_sock.recv(100) == b""  # closed, no reply
    victim_sock.close()
    # The other child still answers, and the master forks a replacement.
    assert spam_line(check(server)) == b"True ; 6.5 / 5.0"
    assert wait_for(lambda: len(server.children()) == 2 and busy_pid not in server.children())
    server.wait_log(f"handled cleanup of child pid [{busy_pid}] due to SIGCHLD: KILLED, signal 9")
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: check(server), range(8)))
    assert all(spam_line(r) == b"True ; 6.5 / 5.0" for r in replies)
    assert server.proc.poll() is None


def test_hundred_concurrent_clients(spamd) -> None:
    server = spamd("-m", "4", "--min-spare", "1", "--max-spare", "2")
    messages = [SPAM if i % 2 else HAM for i in range(100)]
    barrier = threading.Barrier(100, timeout=30)

    def one(message: bytes) -> bytes:
        barrier.wait()
        return check(server, message, timeout=60)

    with ThreadPoolExecutor(100) as pool:
        replies = list(pool.map(one, messages))
    for message, reply in zip(messages, replies, strict=True):
        expected = b"True ; 6.5 / 5.0" if message is SPAM else b"False ; 0.0 / 5.0"
        assert spam_line(reply) == expected
    text = server.log_text()
    assert text.count("result: ") == 100
    assert "Increasing spamd children" in text  # the scaler reacted to the load


def test_slow_client_is_dropped_at_timeout_tcp_without_blocking_others(spamd) -> None:
    server = spamd("-m", "2", "--timeout-tcp", "2", "--min-spare", "0")
    result: dict[str, object] = {}

    def slow() -> None:
        started = time.monotonic()
        with socket.create_connection(server.address, timeout=20) as sock:
            data = b""
            try:
                for byte in b"CHECK SPAMC/1.5\r\n":
                    sock.sendall(bytes([byte]))
                    time.sleep(1.0)
            except OSError:
                pass
            try:
                while chunk := sock.recv(1000):
                    data += chunk
            except OSError:
                pass
        result["reply"], result["seconds"] = data, time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    others_started = time.monotonic()
    for _ in range(5):
        assert spam_line(check(server)) == b"True ; 6.5 / 5.0"
    assert time.monotonic() - others_started < 2.0  # served while the slow client dribbled
    thread.join(timeout=30)
    assert result["reply"] == (
        b"SPAMD/1.0 79 Timeout: (2 second socket timeout reading input from client)\r\n"
    )
    assert 1.5 < result["seconds"] < 6  # type: ignore[operator]


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_zlib_bomb_is_refused_with_bounded_memory(spamd) -> None:
    server = spamd("-m", "1", "--max-spare", "1", "--max-message-size", "2000000")
    children = server.children()
    baseline = max(_vm_hwm_kib(pid) for pid in children)
    bomb = zlib.compress(b"A" * (512 * 1024 * 1024), 9)  # 512 MiB in ~0.5 MiB
    request = b"CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: %d\r\n\r\n" % len(bomb) + bomb
    started = time.monotonic()
    reply = server.request(request, timeout=30)
    assert reply == (
        b"SPAMD/1.0 65 Data error: (message larger than 2000000 bytes after zlib inflation)\r\n"
    )
    assert time.monotonic() - started < 5
    grown = max(_vm_hwm_kib(pid) for pid in children) - baseline
    assert grown < 20 * 1024, f"child peak memory grew by {grown} KiB"
    assert spam_line(check(server)) == b"True ; 6.5 / 5.0"  # and it still works


MALFORMED = [
    (b"", b"SPAMD/1.0 76 Bad header line: (closed before headers)\r\n"),
    (b"\r\n", b"SPAMD/1.0 76 Bad header line: \r\n"),
    (b"GET / HTTP/1.0\r\n\r\n", b"SPAMD/1.0 76 Bad header line: GET / HTTP/1.0\r\n"),
    (b"CHECK SPAMC\r\n", b"SPAMD/1.0 76 Bad header line: CHECK SPAMC\r\n"),
    (
        b"\x00\xff\x16\x03 SPAMC/1.5\r\n",
        b"SPAMD/1.0 76 Bad header line: \x00\xff\x16\x03 SPAMC/1.5\r\n",
    ),
    (
        b"CHECK SPAMC/1.5\r\nContent-length: 1e3\r\n\r\n",
        b"SPAMD/1.0 76 Bad header line: (Content-Length contains non-numeric bytes)\r\n",
    ),
    (
        b"CHECK SPAMC/1.5\r\nContent-length: 99999999999999999999\r\n\r\n",
        b"SPAMD/1.0 65 Data error: (message larger than 67108864 bytes)\r\n",
    ),
    (
        b"CHECK SPAMC/1.5\r\n" + b"X" * 70_000 + b"\r\n\r\n",
        b"SPAMD/1.0 76 Bad header line: (line too long)\r\n",
    ),
    (
        b"TELL SPAMC/1.5\r\nSet: local\r\nRemove: local\r\n\r\n",
        b"SPAMD/1.0 69 Service Unavailable: TELL commands are not enabled, set the --allow-tell "
        b"switch.\r\n",
    ),
    (
        b"PING SPAMC/1.5\n\n",
        b"SPAMD/1.0 76 Bad header line: (header not in 'Name: value' format)\r\n",
    ),
]


@pytest.mark.parametrize(("request_bytes", "reply"), MALFORMED)
def test_malformed_requests(request_bytes: bytes, reply: bytes, small_spamd: OurSpamd) -> None:
    assert small_spamd.request(request_bytes) == reply


@pytest.fixture(scope="module")
def small_spamd(small_ruleset: Path, tmp_path_factory: pytest.TempPathFactory):
    with running_spamd(tmp_path_factory.mktemp("small"), small_ruleset, ["-m", "2"]) as server:
        yield server


def test_hup_under_load_replaces_children_and_the_ruleset_without_a_failed_request(
    spamd, tmp_path: Path
) -> None:
    rules = tmp_path / "reloadable"
    ruleset = compile_small(rules, word_score=6.0)
    server = spamd("-m", "2", ruleset=ruleset)
    old_children = set(server.children())
    stop = threading.Event()
    failures: list[bytes] = []
    seen: set[bytes] = set()

    def load() -> None:
        while not stop.is_set():
            try:
                reply = check(server, timeout=20)
            except OSError as exc:
                failures.append(repr(exc).encode())
                continue
            line = spam_line(reply)
            if line not in (b"True ; 6.5 / 5.0", b"True ; 9.5 / 5.0"):
                failures.append(reply)
            seen.add(line)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    compile_small(rules, word_score=9.0)
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: b"True ; 9.5 / 5.0" in seen, timeout=20)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == [], server.log_text()[-4000:]
    assert b"True ; 6.5 / 5.0" in seen
    assert wait_for(lambda: not old_children & set(server.children()))
    assert "ruleset reloaded" in server.log_text()
    assert server.proc.poll() is None


def test_hup_with_a_broken_ruleset_keeps_serving(spamd, tmp_path: Path) -> None:
    rules = tmp_path / "breakable"
    ruleset = compile_small(rules)
    server = spamd("-m", "1", "--max-spare", "1", ruleset=ruleset)
    (ruleset / "compiled_rules.py").write_text("raise RuntimeError('broken on purpose')\n")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log("reload failed, keeping the running ruleset")
    assert spam_line(check(server)) == b"True ; 6.5 / 5.0"


def test_daemonize_writes_the_pidfile_only_when_it_answers(
    small_ruleset: Path, tmp_path: Path
) -> None:
    port = free_port()
    pidfile = tmp_path / "spamd.pid"
    launcher = subprocess.run(
        [
            str(Path(sys.executable).parent / "spamkiln-spamd"),
            "-d",
            "-r",
            str(pidfile),
            "-i",
            f"127.0.0.1:{port}",
            "-m",
            "2",
            "--ruleset",
            str(small_ruleset),
            "-s",
            str(tmp_path / "d.log"),
        ],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert launcher.returncode == 0, launcher.stderr
    assert pidfile.exists()  # the launcher only exits once the pid file is there
    pid = int(pidfile.read_text())
    try:
        assert pong(("127.0.0.1", port), timeout=10)
        assert os.getsid(pid) == pid  # detached: its own session
        assert Path(f"/proc/{pid}/cwd").resolve() == Path("/")
        reply = exchange(("127.0.0.1", port), scan_request("CHECK", SPAM))
        assert spam_line(reply) == b"True ; 6.5 / 5.0"
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not pidfile.exists(), timeout=30)
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=30)


def test_term_lets_a_busy_child_finish_and_removes_socket_and_pidfile(
    spamd, tmp_path: Path
) -> None:
    sock_path = tmp_path / "t.sock"
    pidfile = tmp_path / "t.pid"
    server = spamd("-m", "1", "--max-spare", "1", "-i", str(sock_path), "-r", str(pidfile))
    assert pidfile.read_text().strip() == str(server.pid)
    seen = server.log_text().count("connection from")
    client = socket.create_connection(server.address, timeout=10)
    message = SPAM
    head = b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(message)
    client.sendall(head + message[:10])
    assert wait_for(lambda: server.log_text().count("connection from") > seen)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    client.sendall(message[10:])
    client.shutdown(socket.SHUT_WR)
    reply = b""
    while chunk := client.recv(1000):
        reply += chunk
    client.close()
    assert spam_line(reply) == b"True ; 6.5 / 5.0"  # the in-flight request completed
    assert server.proc.wait(timeout=20) == 0
    assert not sock_path.exists() and not pidfile.exists()
    assert "server killed by SIGTERM, shutting down" in server.log_text()


def test_int_stops_at_once(spamd) -> None:
    server = spamd("-m", "2")
    children = server.children()
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=10) == 0
    assert wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in children))


def test_max_conn_per_child_recycles_children(spamd) -> None:
    server = spamd("-m", "1", "--max-spare", "1", "--max-conn-per-child", "3")
    first = server.children()
    for _ in range(4):
        assert spam_line(check(server)) == b"True ; 6.5 / 5.0"
    server.wait_log(f"handled cleanup of child pid [{first[0]}] due to SIGCHLD: exit 0")
    assert wait_for(lambda: server.children() and server.children() != first)


def test_pool_scaling_follows_spamds_rules(spamd) -> None:
    # -m 5 --min-children 2 --max-spare 3: 3 children at start (spamd.md 3.3).
    server = spamd("-m", "5", "--min-children", "2", "--min-spare", "2", "--max-spare", "3")
    assert wait_for(lambda: len(server.children()) == 3)
    holders = []
    for _ in range(3):  # three busy children: fewer than 2 idle -> fork more
        sock = socket.create_connection(server.address, timeout=10)
        sock.sendall(b"CHECK SPAMC/1.5\r\n")
        holders.append(sock)
    server.wait_log("Increasing spamd children")
    for sock in holders:
        sock.close()
    server.wait_log("Decreasing spamd children", timeout=15)


def test_children_run_unprivileged(spamd) -> None:
    server = spamd("-m", "1", "--max-spare", "1")
    for pid in server.children():
        uid_line = next(
            line
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        )
        uids = {int(x) for x in uid_line.split()[1:]}
        if os.geteuid() == 0:  # started as root without -u: children run as nobody
            assert 0 not in uids


def test_tls_with_the_c_spamc(spamd) -> None:
    server = spamd(
        "-m",
        "1",
        "--max-spare",
        "1",
        "--ssl",
        "--server-cert",
        str(TLS_CERT),
        "--server-key",
        str(TLS_KEY),
    )
    run = c_spamc(["-p", str(server.port), "--ssl", "-c"], SPAM)
    assert (run.rc, run.out) == (1, b"6.5/5.0\n"), run.err
    assert "TLSv1_" in server.log_text()


def test_child_processes_are_reaped(spamd) -> None:
    server = spamd("-m", "2")
    server.stop()
    assert child_pids(server.pid) == []


def test_usr1_reopens_the_log_instead_of_killing_the_master(spamd) -> None:
    """spamd 4.0.1's master dies silently on USR1; ours reopens its log (logrotate)."""
    server = spamd("-m", "1", "--max-spare", "1")
    rotated = server.log.with_name(server.log.name + ".1")
    server.log.rename(rotated)
    server.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: server.log.exists())
    assert wait_for(lambda: "log reopened on SIGUSR1" in server.log_text())
    assert spam_line(check(server)) == b"True ; 6.5 / 5.0"
    server.wait_log("result: Y")  # written by a child into the new file
    assert server.proc.poll() is None


def test_heartbeat_age() -> None:
    from spamkiln.daemon.spamd.worker import Heartbeat

    beat = Heartbeat()
    assert 0 <= beat.age() < 1
    beat._FORMAT.pack_into(beat._map, 0, time.monotonic() - 50)
    assert 49 < beat.age() < 60
    beat._FORMAT.pack_into(beat._map, 0, 0.0)  # no stamp is no evidence of a hang
    assert beat.age() == 0.0
    beat.close()


def _beat_in_a_loop(beat_cls: type, seconds: float) -> int:
    """Fork a child that beats as fast as it can; count the parent's zero reads meanwhile."""
    beat = beat_cls()
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            beat.beat()
        os._exit(0)
    zeros = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(1000):
            if beat._FORMAT.unpack_from(beat._map, 0)[0] == 0.0:
                zeros += 1
    os.waitpid(pid, 0)
    beat.close()
    return zeros


def test_a_beat_is_never_seen_half_written() -> None:
    """The master read a stamp of 0.0 under load and killed healthy children: struct.pack_into
    zeroes its target before writing. The reader must never see that."""
    from spamkiln.daemon.spamd.worker import Heartbeat

    class PackInto(Heartbeat):
        def beat(self) -> None:
            self._FORMAT.pack_into(self._map, 0, time.monotonic())

    # the old way, to show the race is visible here (a busy machine may need a few tries)
    assert any(_beat_in_a_loop(PackInto, 1.0) for _ in range(5))
    assert _beat_in_a_loop(Heartbeat, 1.0) == 0
