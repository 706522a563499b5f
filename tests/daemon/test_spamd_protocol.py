"""Our spamd's request parsing, reply shapes and log-line text, from tables of hand-made inputs.

No spamd process here: each function is fed bytes over a socketpair (or called directly), so
these run in well under a second and pin the exact bytes the golden captures show.
"""

from __future__ import annotations

import socket
import zlib

import pytest

from spamkiln.daemon.spamd.errors import ProtocolError
from spamkiln.daemon.spamd.loglines import (
    MessageIds,
    Peer,
    checking_line,
    message_ids,
    result_line,
    tell_line,
    verdict_line,
)
from spamkiln.daemon.spamd.protocol import (
    ClientStream,
    inflate,
    parse_request_line,
    perl_number,
    read_body,
    read_headers,
)
from spamkiln.daemon.spamd.responses import scan_response, spam_header, tell_response


def stream_of(data: bytes, half_close: bool = True) -> tuple[ClientStream, socket.socket]:
    ours, theirs = socket.socketpair()
    theirs.sendall(data)
    if half_close:
        theirs.shutdown(socket.SHUT_WR)
    ours.settimeout(5)
    return ClientStream(ours), theirs


def error_of(call: object) -> bytes:
    with pytest.raises(ProtocolError) as info:
        call()  # type: ignore[operator]
    return info.value.response()


# --------------------------------------------------------------------------- request line


@pytest.mark.parametrize(
    ("line", "verb", "version"),
    [
        (b"CHECK SPAMC/1.5", "CHECK", 1.5),
        (b"XCHECK SPAMC/1.5", "CHECK", 1.5),  # found anywhere in the line
        (b"REPORT_IFSPAM SPAMC/1.5", "REPORT_IFSPAM", 1.5),
        (b"REPORT SPAMC/1.2", "REPORT", 1.2),
        (b"HEADERS SPAMC/1.4", "HEADERS", 1.4),
        (b"TELL SPAMC/1.3", "TELL", 1.3),
        (b"PING SPAMC/1.2", "PING", 1.2),
        (b"SKIP SPAMC/1.5", "SKIP", 1.5),
        (b"CHECK SPAMC/abc", "CHECK", 0.0),  # non-numeric counts as 0
        (b"CHECK SPAMC/2.0", "CHECK", 2.0),
        (b"CHECK SPAMC/1.5 extra", "CHECK", 1.5),
        (b"PROCESS SPAMC/1.10", "PROCESS", 1.1),
        (b"TELL SPAMC/1.5 CHECK SPAMC/1.2", "CHECK", 1.2),  # scanning verbs are tried first
    ],
)
def test_request_line(line: bytes, verb: str, version: float) -> None:
    request = parse_request_line(line)
    assert (request.verb, request.version) == (verb, version)


@pytest.mark.parametrize(
    "line",
    [
        b"FOO SPAMC/1.5",
        b"check SPAMC/1.5",
        b"CHECK",
        b"CHECK SPAMD/1.5",
        b"",
        b"CHECKSPAMC/1.5",
    ],
)
def test_bad_request_line_is_echoed(line: bytes) -> None:
    assert error_of(lambda: parse_request_line(line)) == (
        b"SPAMD/1.0 76 Bad header line: " + line + b"\r\n"
    )


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (b"1.5", 1.5),
        (b"abc", 0.0),
        (b" 1.2", 1.2),
        (b".5", 0.5),
        (b"1e1", 10.0),
        (b"-1", -1.0),
        (b"", 0.0),
        (b"1.5.1", 1.5),
    ],
)
def test_perl_number(text: bytes, number: float) -> None:
    assert perl_number(text) == number


# --------------------------------------------------------------------------- headers


def test_headers_known_and_unknown() -> None:
    users: list[str] = []
    stream, _peer = stream_of(
        b"User: jos\xc3\xa9\r\nX-Foo: bar\r\nContent-Length: 9\r\nContent-length: 5\r\n"
        b"Content-length: 12\r\nCompress: ZLIB\r\nMessage-class: spam\r\nSet: local, remote\r\n"
        b"Remove: LOCAL\r\n\r\nrest"
    )
    headers = read_headers(stream, on_user=users.append)
    assert headers.content_length == 12  # the last one wins; Content-Length (capital) ignored
    assert headers.user == "josé" and users == ["josé"]
    assert headers.compress and headers.is_spam_class
    assert (headers.set_local, headers.set_remote) == (True, True)
    assert (headers.remove_local, headers.remove_remote) == (True, False)
    assert stream.read_to_eof(100) == b"rest"


@pytest.mark.parametrize(
    ("block", "detail"),
    [
        (b"Content-length: 12abc\r\n\r\n", b"(Content-Length contains non-numeric bytes)"),
        (b"Content-length: -5\r\n\r\n", b"(Content-Length contains non-numeric bytes)"),
        (b"Content-length: 5 \r\n\r\n", b"(Content-Length contains non-numeric bytes)"),
        (b"Content-length 5216\r\n\r\n", b"(header not in 'Name: value' format)"),
        (b"Content-length: 5\n\n", b"(header not in 'Name: value' format)"),  # bare-LF end
        (b"Content-length: 5\r\n", b"(EOF during headers)"),
        (b"", b"(EOF during headers)"),
        (b"User: bob\x01\r\n\r\n", b"(User header contains control chars)"),
        (b"User: bob\tx\r\n\r\n", b"(User header contains control chars)"),
        (b"Compress: gzip\r\n\r\n", b"(compression type not supported: gzip)"),
        (b"".join(b"X-H%d: v\r\n" % i for i in range(256)) + b"\r\n", b"(too many headers)"),
    ],
)
def test_header_errors(block: bytes, detail: bytes) -> None:
    stream, _peer = stream_of(block)
    assert error_of(lambda: read_headers(stream)) == b"SPAMD/1.0 76 Bad header line: " + detail + (
        b"\r\n"
    )


def test_255_header_lines_are_fine_and_bare_lf_lines_still_validate() -> None:
    block = b"".join(b"X-H%d: v\r\n" % i for i in range(254)) + b"Content-length: 3\n\r\n"
    stream, _peer = stream_of(block)
    assert read_headers(stream).content_length == 3


# --------------------------------------------------------------------------- bodies

MESSAGE = b"Subject: hi\n\nline one\nline two\n"


def body_of(data: bytes, headers_block: bytes, *, limit: int = 10_000, half_close: bool = True):
    stream, peer = stream_of(headers_block + data, half_close=half_close)
    headers = read_headers(stream)
    return read_body(stream, headers, limit), peer


def test_exact_length_without_half_close_does_not_wait() -> None:
    """spamd waits for a LF or --timeout-child when the last line is unterminated; we don't."""
    message = b"Subject: x\r\n\r\nno final line end"
    body, _peer = body_of(message, b"Content-length: %d\r\n\r\n" % len(message), half_close=False)
    assert body.data == message and body.mismatch is None


@pytest.mark.parametrize(
    ("declared", "expected_error"),
    [
        # short, ending mid-line: spamd counts the rest of that line (protocol.md 4.1)
        (len(MESSAGE) - 3, b"(Content-Length mismatch: Expected 28 bytes, got 31 bytes)"),
        # short, ending exactly on a line end: spamd scans the truncated message; we refuse it
        (len(MESSAGE) - 9, b"(Content-Length mismatch: Expected 22 bytes, got 31 bytes)"),
        # too long, client half-closed: what arrived
        (len(MESSAGE) + 10, b"(Content-Length mismatch: Expected 41 bytes, got 31 bytes)"),
    ],
)
def test_length_mismatch(declared: int, expected_error: bytes) -> None:
    body, _peer = body_of(MESSAGE, b"Content-length: %d\r\n\r\n" % declared)
    assert body.mismatch is not None
    assert body.mismatch.response() == b"SPAMD/1.0 76 Bad header line: " + expected_error + (
        b"\r\n"
    )


def test_empty_content_length_reads_as_defined_but_empty() -> None:
    body, _peer = body_of(MESSAGE, b"Content-length: \r\n\r\n")
    assert body.mismatch is not None
    assert b"Expected  bytes, got 12 bytes" in body.mismatch.response()


def test_no_content_length_reads_to_eof() -> None:
    body, _peer = body_of(MESSAGE, b"X-Other: 1\r\n\r\n")
    assert (body.data, body.mismatch) == (MESSAGE, None)


def test_zlib_body_loses_trailing_empty_lines_like_spamd() -> None:
    message = MESSAGE + b"\n\n"
    packed = zlib.compress(message, 3)
    body, _peer = body_of(packed, b"Compress: zlib\r\nContent-length: %d\r\n\r\n" % len(packed))
    assert body.data == MESSAGE and body.received == len(MESSAGE) and body.mismatch is None


@pytest.mark.parametrize(
    ("payload", "block", "reply"),
    [
        (
            b"not zlib at all",
            b"Compress: zlib\r\nContent-length: 15\r\n\r\n",
            b"SPAMD/1.0 69 Service Unavailable: zlib: failed to find end of zlib stream\n\r\n",
        ),
        (
            zlib.compress(MESSAGE)[:-4],
            b"Compress: zlib\r\nContent-length: 99\r\n\r\n",
            b"SPAMD/1.0 69 Service Unavailable: zlib: failed to find end of zlib stream\n\r\n",
        ),
        (
            zlib.compress(MESSAGE),
            b"Compress: zlib\r\n\r\n",
            b"SPAMD/1.0 69 Service Unavailable: Compress requires Content-length header\r\n",
        ),
        (
            zlib.compress(b"x" * 50_000),
            b"Compress: zlib\r\nContent-length: 999\r\n\r\n",
            b"SPAMD/1.0 65 Data error: (message larger than 10000 bytes after zlib inflation)\r\n",
        ),
        (
            b"x" * 20_000,
            b"Content-length: 20000\r\n\r\n",
            b"SPAMD/1.0 65 Data error: (message larger than 10000 bytes)\r\n",
        ),
        (
            b"x" * 20_000,
            b"X-No-Length: 1\r\n\r\n",
            b"SPAMD/1.0 65 Data error: (message larger than 10000 bytes)\r\n",
        ),
    ],
)
def test_body_errors(payload: bytes, block: bytes, reply: bytes) -> None:
    stream, _peer = stream_of(block + payload)
    headers = read_headers(stream)
    assert error_of(lambda: read_body(stream, headers, 10_000)) == reply


def test_zlib_bomb_stops_at_the_limit_without_inflating_it_all() -> None:
    bomb = zlib.compress(b"\0" * (16 * 1024 * 1024), 9)  # 16 MiB of zeros in ~16 KiB
    with pytest.raises(ProtocolError) as info:
        inflate(bomb, 1_000_000)
    assert info.value.code == 65


# --------------------------------------------------------------------------- replies


@pytest.mark.parametrize(
    ("verb", "version", "body", "expected"),
    [
        ("CHECK", 1.5, b"", b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.4 / 5.0\r\n\r\n"),
        ("CHECK", 1.2, b"", b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.4 / 5.0\r\n\r\n"),
        (
            "SYMBOLS",
            1.5,
            b"A,B",
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\nSpam: True ; 9.4 / 5.0\r\n\r\nA,B",
        ),
        ("SYMBOLS", 1.2, b"A,B", b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.4 / 5.0\r\n\r\nA,B\r\n"),
        ("REPORT", 1.2, b"r\n", b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.4 / 5.0\r\n\r\nr\n"),
        (
            "REPORT_IFSPAM",
            1.5,
            b"r\n",
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\nSpam: Yes ; 9.4 / 5.0\r\n\r\nr\n",
        ),
        (
            "PROCESS",
            1.5,
            b"msg",
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\nSpam: True ; 9.4 / 5.0\r\n\r\nmsg",
        ),
        (
            "PROCESS",
            1.3,
            b"msg",
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\nSpam: True ; 9.4 / 5.0\r\n\r\nmsg",
        ),
        ("HEADERS", 1.2, b"msg", b"SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\n\r\nmsg"),
        ("PROCESS", 1.1, b"msg", b"SPAMD/1.0 0 EX_OK\r\nmsg"),
        ("PROCESS", 0.0, b"msg", b"SPAMD/1.0 0 EX_OK\r\nmsg"),
    ],
)
def test_scan_response_shapes(verb: str, version: float, body: bytes, expected: bytes) -> None:
    assert scan_response(verb, version, spam_header(verb, True, "9.4", "5.0"), body) == expected


@pytest.mark.parametrize(
    ("did_set", "did_remove", "expected"),
    [
        ([], [], b"SPAMD/1.1 0 EX_OK\r\n\r\n\r\n"),
        (["local"], [], b"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n\r\n"),
        (
            ["local", "remote"],
            ["remote"],
            b"SPAMD/1.1 0 EX_OK\r\nDidSet: local,remote\r\nDidRemove: remote\r\n\r\n\r\n",
        ),
    ],
)
def test_tell_response(did_set: list[str], did_remove: list[str], expected: bytes) -> None:
    assert tell_response(did_set, did_remove) == expected


def test_spam_header_flags() -> None:
    assert spam_header("REPORT_IFSPAM", False, "0.0", "5.0") == b"Spam: No ; 0.0 / 5.0"
    assert spam_header("CHECK", False, "-0.0", "5.0") == b"Spam: False ; -0.0 / 5.0"


# --------------------------------------------------------------------------- log lines


@pytest.mark.parametrize(
    ("message", "msgid", "resent"),
    [
        (b"Message-Id: <abc@x>\n\nbody", "<abc@x>", ""),
        (b"From me  Mon Jan 1\nMessage-ID:  (comment) <a (b) c@x> trailing\n\n", "<a?c@x>", ""),
        (b"Subject: none\n\n", "(unknown)", ""),
        (
            b"Message-Id: <one@x>\nMessage-Id: <two@x>\nResent-Message-Id: <r@x>\n\n",
            "<two@x>",
            "<r@x>",
        ),
        (b"Message-Id:\n <folded@x>\n\nMessage-Id: <in-body@x>\n", "<folded@x>", ""),
        (b"Message-Id: no-brackets\xe9here\n\n", "<no-brackets?here>", ""),
        (b"Message-Id: <<a>b>\n\n", "<?a>", ""),
    ],
)
def test_message_ids(message: bytes, msgid: str, resent: str) -> None:
    assert message_ids(message) == MessageIds(msgid, resent)


PEER = Peer("localhost", "127.0.0.1", "37816", 17830, 5)


@pytest.mark.parametrize(
    ("score", "flag_and_score"),
    [
        (9.4, "Y  9"),
        (15.2, "Y 15"),
        (-2.0, ". -2"),
        (-1.999, ". -1"),
        (-0.4, ".  0"),
        (0.0, ".  0"),
    ],
)
def test_result_line_truncates_the_score_toward_zero(score: float, flag_and_score: str) -> None:
    line = result_line(
        is_spam=score >= 5,
        score=score,
        tests=["B_RULE", "A_RULE"],
        seconds=0.123,
        size=4928,
        user="(unknown)",
        uid=65534,
        threshold="5.0",
        peer=PEER,
        ids=MessageIds("<a b,c@x>", ""),
        autolearn="disabled",
    )
    assert line == (
        f"spamd: result: {flag_and_score} - A_RULE,B_RULE scantime=0.1,size=4928,user=(unknown),"
        "uid=65534,required_score=5.0,rhost=localhost,raddr=127.0.0.1,rport=37816,"
        "mid=<a_b_c@x>,autolearn=disabled"
    )


def test_other_message_lines() -> None:
    ids = MessageIds("<m@x>", "<r@x>")
    assert checking_line("PROCESS", ids, "bob", 65534) == (
        "spamd: processing message <m@x> aka <r@x> for bob:65534"
    )
    assert checking_line("HEADERS", MessageIds("(unknown)", ""), "(unknown)", 0) == (
        "spamd: checking message (unknown) for (unknown):0"
    )
    assert verdict_line(True, "9.4", "5.0", "(unknown)", 65534, 0.06, 4928) == (
        "spamd: identified spam (9.4/5.0) for (unknown):65534 in 0.1 seconds, 4928 bytes."
    )
    assert tell_line([], [], "(unknown)", 65534, 0.0, 4928) == (
        "spamd: Tell: Did nothing for (unknown):65534 in 0.0 seconds, 4928 bytes"
    )
    assert tell_line(["local"], ["remote"], "u", 1, 0.0, 1) == (
        "spamd: Tell: Setting local  Removing remote for u:1 in 0.0 seconds, 1 bytes"
    )
