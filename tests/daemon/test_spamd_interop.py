"""Real clients against our spamd: the C spamc next to Debian's spamd, aiospamc, and replays of
what Exim, Haraka, Postfix/Dovecot (through spamc) and spamass-milter send and parse.

Where the compared output comes from the message rewriter (PROCESS, REPORT, HEADERS) the
bytes carry host names and dates and the report's rule order, so those modes compare exit
codes and the verdict; every other mode compares stdout byte for byte.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import aiospamc
import pytest
from aiospamc.responses import UnavailableException

from .conftest import DebianSpamd, Run, c_spamc, corpus_message
from .spamd_harness import OurSpamd, exchange, scan_request, split_response

SPAM = corpus_message("spam-1")
HAM = corpus_message("easy-ham-1")
CRLF_SPAM = corpus_message("spam-2").replace(b"\n", b"\r\n")
EDGE = b"From: ann@example.org\r\nTo: bob@example.org\r\nSubject: caf\xc3\xa9 menu\r\nX-Note: 1"
MESSAGES = {"spam": SPAM, "ham": HAM, "crlf-spam": CRLF_SPAM, "edge": EDGE}
# Modes whose output is the rewriter's (compared by exit status and verdict only).
REWRITE_MODES = {"process", "process-E", "report", "report-ifspam", "process-x", "headers"}
MODES: dict[str, list[str]] = {
    "check": ["-c"],
    "symbols": ["-y"],
    "symbols-E": ["-y", "-E"],
    "report": ["-R"],
    "report-ifspam": ["-r"],
    "process": [],
    "process-E": ["-E"],
    "process-x": ["-x"],
    "headers": ["--headers"],
    "zlib": ["-z", "-c"],
    "user": ["-u", "alice", "-c"],
    "check-x": ["-c", "-x"],
}
_pool = ThreadPoolExecutor(max_workers=2)


def both(
    args: Sequence[str], stdin: bytes | None, ours: OurSpamd, theirs: DebianSpamd
) -> tuple[Run, Run]:
    their_run = _pool.submit(c_spamc, ["-p", str(theirs.port), *args], stdin)
    our_run = _pool.submit(c_spamc, ["-p", str(ours.port), *args], stdin)
    return their_run.result(), our_run.result()


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_c_spamc_gets_the_same_from_our_spamd_as_from_debians(
    mode: str, name: str, our_spamd_g: OurSpamd, debian_spamd: DebianSpamd
) -> None:
    theirs, ours = both(MODES[mode], MESSAGES[name], our_spamd_g, debian_spamd)
    assert ours.rc == theirs.rc, (ours.err, theirs.err)
    if mode in REWRITE_MODES:
        assert bool(ours.out) == bool(theirs.out)
    else:
        assert ours.out == theirs.out


def test_c_spamc_ping(our_spamd_g: OurSpamd, debian_spamd: DebianSpamd) -> None:
    theirs, ours = both(["-K"], None, our_spamd_g, debian_spamd)
    assert (ours.rc, ours.out) == (theirs.rc, theirs.out) == (0, b"SPAMD/1.5 0\n")


# --------------------------------------------------------------------------- aiospamc


def test_aiospamc(our_spamd_g: OurSpamd) -> None:
    port = our_spamd_g.port

    async def run() -> None:
        ping = await aiospamc.ping(host="127.0.0.1", port=port)
        assert ping.message == "PONG"
        for compress in (False, True):
            check = await aiospamc.check(SPAM, host="127.0.0.1", port=port, compress=compress)
            spam = check.headers.spam
            assert (spam.value, spam.score, spam.threshold) == (True, 9.4, 5.0)
        symbols = await aiospamc.symbols(HAM, host="127.0.0.1", port=port, user="alice")
        assert symbols.body == b"HEADER_FROM_DIFFERENT_DOMAINS,MAILING_LIST_MULTI"
        process = await aiospamc.process(HAM, host="127.0.0.1", port=port)
        assert process.headers.content_length == len(process.body) > len(HAM)
        headers = await aiospamc.headers(HAM, host="127.0.0.1", port=port)
        assert headers.body.endswith(b"\n\n") and b"X-Spam-" in headers.body
        report = await aiospamc.report_if_spam(HAM, host="127.0.0.1", port=port)
        assert report.body == b""
        tell = await aiospamc.tell(
            SPAM, "spam", set_action="local, remote", host="127.0.0.1", port=port
        )
        assert tell.headers.did_set is None  # Bayes is off: nothing learned, as on server G

    asyncio.run(run())


def test_aiospamc_tell_without_learning_storage(small_spamd_tell: OurSpamd) -> None:
    async def run() -> None:
        with pytest.raises(UnavailableException):
            await aiospamc.tell(
                SPAM, "spam", set_action="local", host="127.0.0.1", port=small_spamd_tell.port
            )

    asyncio.run(run())


@pytest.fixture(scope="module")
def small_spamd_tell(small_ruleset, tmp_path_factory):
    from .spamd_harness import running_spamd

    with running_spamd(
        tmp_path_factory.mktemp("tell"), small_ruleset, ["-l", "-m", "1", "--max-spare", "1"]
    ) as s:
        yield s


# --------------------------------------------------------------------------- MTA replays

_EXIM_REPLY = re.compile(
    rb"SPAMD/(\S{1,7}) 0 EX_OK\r\nSpam: \S+ ; (-?[\d.]+) / (-?[\d.]+)\r\n"
    rb"\r\n"
)


def test_exim_report_request(our_spamd_g: OurSpamd) -> None:
    """Exim's spam= condition: REPORT SPAMC/1.2 with User and Content-length, the spool file
    (mbox From line, LF ends), half-close, then at most 32,600 bytes read and sscanf'd with
    `Spam:` expected right after the status line."""
    assert SPAM.startswith(b"From ") and b"\r\n" not in SPAM
    request = b"REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: %d\r\n\r\n" % len(SPAM)
    reply = exchange(our_spamd_g.address, request + SPAM, read_limit=32_599)
    match = _EXIM_REPLY.match(reply)
    assert match, reply[:200]
    assert (float(match[2]), float(match[3])) == (9.4, 5.0)
    report = reply[match.end() :]
    assert report and b"\r" not in report


def test_exim_reading_less_than_the_reply_does_not_hurt_the_child(our_spamd_g: OurSpamd) -> None:
    request = b"REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: %d\r\n\r\n" % len(SPAM)
    assert exchange(our_spamd_g.address, request + SPAM, read_limit=20).startswith(b"SPAMD/1.1")
    assert _EXIM_REPLY.match(exchange(our_spamd_g.address, request + SPAM))


def test_haraka_headers_request_streamed_until_half_close(our_spamd_g: OurSpamd) -> None:
    """Haraka: HEADERS SPAMC/1.4, User, no Content-length, two of its own header lines and the
    message streamed in pieces; it reads lines until the connection ends."""
    message = HAM.replace(b"\n", b"\r\n")
    with socket.create_connection(our_spamd_g.address, timeout=30) as sock:
        sock.sendall(
            b"HEADERS SPAMC/1.4\r\nUser: default\r\n\r\n"
            b"X-Envelope-From: sender@example.org\r\nX-Haraka-UUID: 1234-5678\r\n"
        )
        for start in range(0, len(message), 1000):
            sock.sendall(message[start : start + 1000])
            time.sleep(0.01)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    lines = reply.split(b"\r\n")
    assert lines[0] == b"SPAMD/1.1 0 EX_OK"
    spam = [re.match(rb"Spam: (True|False) ; (-?\d+\.\d) / (-?\d+\.\d)", line) for line in lines]
    found = [m for m in spam if m]
    assert len(found) == 1 and found[0][3] == b"5.0"
    _status, headers, body = split_response(reply)
    assert int(dict(headers)[b"Content-length"]) == len(body)
    assert b"\r\nX-Envelope-From: sender@example.org\r\n" in b"\r\n" + body
    assert any(
        re.match(rb"^X-Spam-([\x21-\x39\x3B-\x7E]+):\s*(.*)", line) for line in body.split(b"\r\n")
    )


def test_postfix_pipe_through_spamc_process(our_spamd_g: OurSpamd) -> None:
    """Postfix's content filter runs `spamc -u USER` (PROCESS, protocol 1.5) per message."""
    run = c_spamc(["-p", str(our_spamd_g.port), "-u", "alice"], HAM)
    assert run.rc == 0 and b"\nSubject: Re: New Sequences Window\n" in run.out
    assert b"X-Spam-Status: No" in run.out


@pytest.mark.parametrize("set_value", [b"local,remote", b"local, remote", b"local"])
def test_dovecot_tell(set_value: bytes, our_spamd_g: OurSpamd) -> None:
    """Dovecot's antispam/sieve scripts run `spamc -L`/`-C` (TELL, Set with or without a
    space); server G has --allow-tell and Bayes off, so nothing is learned, as with spamd."""
    request = (
        b"TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: "
        + set_value
        + b"\r\nUser: vmail\r\nContent-length: %d\r\n\r\n" % len(SPAM)
        + SPAM
    )
    assert our_spamd_g.request(request) == b"SPAMD/1.1 0 EX_OK\r\n\r\n\r\n"
    if set_value == b"local":
        run = c_spamc(["-p", str(our_spamd_g.port), "-L", "spam"], SPAM)
        assert (run.rc, run.out) == (0, b"Message was already un/learned\n")
    else:
        run = c_spamc(["-p", str(our_spamd_g.port), "-C", "report"], SPAM)
        assert run.rc == 0, run.err


def test_spamass_milter_parses_score_from_x_spam_status(our_spamd_g: OurSpamd) -> None:
    """spamass-milter pipes the message through spamc and reads `score=` (older releases
    `hits=`) out of the X-Spam-Status header of the rewritten message."""
    run = c_spamc(["-p", str(our_spamd_g.port)], SPAM)
    header = re.search(rb"^X-Spam-Status: (.*(?:\r?\n[ \t].*)*)", run.out, re.MULTILINE)
    assert header, run.out[:500]
    score = re.search(rb"score=(-?\d+\.\d+)", header[1])
    assert score and float(score[1]) == 9.4
    check = our_spamd_g.request(scan_request("CHECK", SPAM))
    assert dict(split_response(check)[1])[b"Spam"] == b"True ; 9.4 / 5.0"
