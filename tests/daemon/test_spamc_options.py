"""spamc's command line and config file: parsed as the C spamc 4.0.1 parses them.

Three layers: in-process tables for the parser and the config reader (fast, exact), and a table
of argument lists run through both /usr/bin/spamc and ours against a fake spamd, comparing the
request each client sent, what it printed and its exit status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from spamkiln.daemon.spamc.config import ConfigError, combine_args
from spamkiln.daemon.spamc.log import Log
from spamkiln.daemon.spamc.options import Options, StopRun, parse_args

from .conftest import (
    OUR_SPAMC,
    FakeSpamd,
    c_spamc,
    free_port,
    needs,
    our_spamc,
    spamd_like_reply,
)

HAM = b"From: ann@example.org\nTo: bob@example.org\nSubject: lunch\n\nSee you at noon.\n"
SPAM = b"From: x@example.net\nTo: bob@example.org\nSubject: offer\n\nCheap VIAGRA now.\n"


def parse(*words: str) -> Options:
    return parse_args([b"spamc", *(os.fsencode(w) for w in words)], Log())


# ----------------------------------------------------------------------------- parser, in-process

PARSES = [
    (
        (),
        {
            "transport": "localhost",
            "port": 783,
            "max_size": 512000,
            "timeout": 600,
            "connect_timeout": 0,
            "safe_fallback": True,
            "username": None,
        },
    ),
    (("-d", "a,b", "-p", "1234"), {"transport": "tcp", "dest": b"a,b", "port": 1234}),
    (("--dest=h", "--port", "99"), {"dest": b"h", "port": 99}),
    (("-p", "70000"), {"port": 70000 - 65536}),  # an unsigned short in C
    (("-p", "junk"), {"port": 0}),
    (("-cE",), {"check": True, "use_exit_code": False}),  # one letter per word
    (("-cp", "17830"), {"check": True, "port": 783}),  # "17830" ends option parsing
    (("-p", "1", "extra", "-c"), {"port": 1, "check": False}),
    (("--", "-c"), {"check": False}),
    (("-", "-c"), {"check": False}),
    (("--check=1",), {"check": True}),
    (("-s", "500k"), {"max_size": 500}),
    (("-s", "0"), {"max_size": 0}),
    (("-t", "5"), {"timeout": 5, "connect_timeout": 5}),
    (("-n", "3", "-t", "1"), {"timeout": 1, "connect_timeout": 3}),
    (("-t", "1", "-n", "0"), {"connect_timeout": 0}),
    (("-n", "0", "-t", "1"), {"connect_timeout": 1}),
    (("-x", "-X"), {"safe_fallback": False, "unavail_tempfail": True}),
    (("-X", "-x"), {"safe_fallback": False, "unavail_tempfail": False}),
    (("-4", "-6"), {"family": 6}),
    (("-6", "-4"), {"family": 4}),
    (("-U", "/s", "-d", "h"), {"transport": "tcp", "socket_path": b"/s", "dest": b"h"}),
    (("-d", "h", "--socket", "/s"), {"transport": "unix", "socket_path": b"/s"}),
    (("-L", "forget"), {"learn": True, "learn_type": b"forget"}),
    (("--reporttype", "revoke"), {"report_msg": True, "report_type": b"revoke"}),
    (("-e", "/bin/cat", "-n"), {"exec_argv": [b"/bin/cat", b"-n"]}),
    (("--pipe-to", "/bin/cat", "-c"), {"exec_argv": [b"/bin/cat", b"-c"], "check": False}),
    (("--pipe-to=/bin/cat", "x"), {"exec_argv": [b"--pipe-to=/bin/cat", b"x"]}),
    # -e returns before the post-parse checks, so this otherwise illegal mix is accepted.
    (("-L", "spam", "-c", "-e", "/bin/cat"), {"learn": True, "check": True}),
    (("-u", "alice"), {"username": b"alice"}),
    (("-u", ""), {"username": b""}),
    (
        (
            "--connect-retries",
            "5",
            "--retry-sleep",
            "0",
            "--filter-retries",
            "2",
            "--filter-retry-sleep",
            "3",
        ),
        {"connect_retries": 5, "retry_sleep": 0, "filter_retries": 2, "filter_retry_sleep": 3},
    ),
    (("-0", "x", "-1", "y", "-2", "-f", "-F", "conf", "-c"), {"check": True}),
    (
        ("-S", "--ssl-cert", "c", "--ssl-key", "k", "--ssl-ca-file", "f", "--ssl-ca-path", "p"),
        {
            "use_ssl": True,
            "ssl_cert": b"c",
            "ssl_key": b"k",
            "ssl_ca_file": b"f",
            "ssl_ca_path": b"p",
        },
    ),
    (
        ("-z", "-H", "-B", "-l", "-E"),
        {
            "zlib": True,
            "randomize": True,
            "bsmtp": True,
            "log_to_stderr": True,
            "use_exit_code": True,
        },
    ),
    (
        ("--bsmtp", "--randomize", "--exitcode", "--log-to-stderr", "--compress"),
        {"bsmtp": True, "randomize": True, "use_exit_code": True, "zlib": True},
    ),
]


@pytest.mark.parametrize(("words", "expected"), PARSES, ids=[" ".join(w) or "-" for w, _ in PARSES])
def test_parse(words: tuple[str, ...], expected: dict[str, object]) -> None:
    opts = parse(*words)
    assert {name: getattr(opts, name) for name in expected} == expected


COMMANDS = [
    ((), b"PROCESS"),
    (("-c",), b"CHECK"),
    (("-y",), b"SYMBOLS"),
    (("-r",), b"REPORT_IFSPAM"),
    (("-R",), b"REPORT"),
    (("--headers",), b"HEADERS"),
    (("-K",), b"PING"),
    (("-y", "-c"), b"CHECK"),
    (("-y", "-R"), b"REPORT"),
    (("-R", "-r"), b"REPORT_IFSPAM"),
    (("-K", "-y"), b"SYMBOLS"),
    (("--headers", "-K"), b"PING"),
    (("-E",), b"PROCESS"),
]


@pytest.mark.parametrize(("words", "command"), COMMANDS)
def test_command_precedence(words: tuple[str, ...], command: bytes) -> None:
    assert parse(*words).command == command


USAGE = "Usage: spamc"
ERRORS = [
    # (words, exit status, text expected on stderr, usage text on stdout?)
    (("-p17830",), 64, "Error in argument 1, char 2: argument required for option p", True),
    (("-s", "-5"), 64, "Error in argument 1, char 2: argument required for option s", True),
    (("-c", "-e"), 64, "Error in argument 2, char 2: argument required for option e", True),
    (("--por", "5"), 64, "Error in argument 1 : option not found --por", True),
    (("--portx=5",), 64, "Error in argument 1 : option not found --portx=5", True),
    (("-c", "--port"), 64, "Error in argument 2 : argument required for option --port", True),
    (("-:",), 64, "Error in argument 1, char 2: : in flags", True),
    (("--:x", "-c"), 64, "Error in argument 2 : : in flags", True),
    (("-j",), 64, "Error in argument 1, char 2: option not found j", True),
    (("-l", "-j"), 64, "spamc: invalid usage", True),
    (("-L", "bogus"), 64, "", False),  # logged to syslog: -l came too late
    (("-l", "-L", "bogus"), 64, "spamc: Please specify a legal learn type", False),
    (("-l", "-C", "x"), 64, "spamc: Please specify a legal report type", False),
    (("-l", "-L", "spam", "-c"), 64, "spamc: Learning excludes check only", False),
    (("-l", "-L", "spam", "-K"), 64, "spamc: Learning excludes ping", False),
    (("-l", "-L", "spam", "-r"), 64, "spamc: Learning excludes report if spam", False),
    (("-l", "-L", "spam", "-R"), 64, "spamc: Learning excludes report", False),
    (("-l", "-L", "spam", "-y"), 64, "spamc: Learning excludes symbols", False),
    (
        ("-l", "-L", "spam", "-C", "report"),
        64,
        "spamc: Learning excludes reporting to collaborative filtering databases",
        False,
    ),
    (("-l", "-s", "268435457"), 64, "spamc: -s parameter is beyond max of 268435456", False),
    (("-l", "--ssl-cert", "x"), 64, "spamc: --ssl-cert and --ssl-key must be used together", False),
    (
        ("-l", "--ssl=tlsv1"),
        64,
        "spamc: Explicit specification of an SSL/TLS version no longer supported.",
        False,
    ),
    (("-l", "--ssl", "tlsv1"), 64, "Explicit specification of an SSL/TLS version", False),
    (("-h",), 0, "", True),
    (("-L", "bogus", "-h"), 64, "", True),
]


@pytest.mark.parametrize(
    ("words", "status", "stderr", "usage"), ERRORS, ids=[" ".join(e[0]) for e in ERRORS]
)
def test_usage_errors(
    words: tuple[str, ...], status: int, stderr: str, usage: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(StopRun) as stop:
        parse(*words)
    out, err = capfd.readouterr()
    assert stop.value.code == status
    assert stderr in err
    assert (USAGE in out) == usage


def test_version_wins_over_earlier_errors(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StopRun) as stop:
        parse("-L", "bogus", "-V")
    assert stop.value.code == 0
    assert capfd.readouterr().out.startswith("SpamAssassin Client version 4.0.1\n")


def test_misplaced_unavailable_tempfail_is_only_logged(capfd: pytest.CaptureFixture[str]) -> None:
    opts = parse("-l", "-X", "-x")
    assert not opts.unavail_tempfail
    assert "spamc: This option is only valid if -x is set first" in capfd.readouterr().err


# ----------------------------------------------------------------------------- config, in-process

LONG = "x" * (8190 - 3)
CONFIGS = [
    # (file content, command-line words, the file's words or the error message)
    (b"-p 17931\n", ["-c"], ["-p", "17931"]),
    (b"# comment\n\n  -c\n-p 1 -y\n", [], ["-c", "-p", "1", "-y"]),
    (b" # not a comment\n", [], ["#", "not", "a", "comment"]),
    (b"-p\t17931\n", [], ["-p\t17931"]),  # a TAB is part of the word
    (b"-p 17931\r\n-c\r\n", [], ["-p", "17931\r", "-c\r"]),
    (b"-p  1  -c \n", [], ["-p", "1", "-c"]),
    (b"\n", ["-c"], []),
    (b"", ["-c"], []),
    (b"-c\n# no newline needed on a comment", [], ["-c"]),
    (b"-c\n\0\n", [], ["-c"]),
    (b"-p 17931", [], "Line not terminated with a newline in {path}"),
    (b"-c\0-y\n", [], "Line not terminated with a newline in {path}"),
    (f"-c {LONG}\n".encode(), [], ["-c", LONG]),
    (f"-c {LONG}x\n".encode(), [], "Exceeded max line size (8190) in {path}"),
    (f"-c {LONG}x".encode(), [], "Exceeded max line size (8190) in {path}"),
    # At most 24 entries: "spamc", the words, and the "-F path" pair of the command line.
    ((" ".join(["-c"] * 21) + "\n").encode(), [], ["-c"] * 21),
    (
        (" ".join(["-c"] * 22) + "\n").encode(),
        [],
        "Exceeded max number of arguments (24) in {path}",
    ),
    ((" ".join(["-c"] * 18) + "\n").encode(), ["-p", "1", "-l"], ["-c"] * 18),
    (
        (" ".join(["-c"] * 18) + "\n").encode(),
        ["-p", "1", "-l", "-c"],
        "Exceeded max number of arguments (24) in {path}",
    ),
]


@pytest.mark.parametrize(("content", "argv", "expected"), CONFIGS)
def test_config_file(
    tmp_path: Path, content: bytes, argv: list[str], expected: list[str] | str
) -> None:
    conf = tmp_path / "spamc.conf"
    conf.write_bytes(content)
    words = [b"spamc", b"-F", os.fsencode(conf), *(os.fsencode(w) for w in argv)]
    if isinstance(expected, str):
        with pytest.raises(ConfigError) as error:
            combine_args(words, b"/nonexistent")
        assert error.value.raw_message.decode() == expected.format(path=conf)
        assert error.value.code == 78
    else:
        combined = combine_args(words, b"/nonexistent")
        assert combined == [
            b"spamc",
            *(os.fsencode(w) for w in expected),
            b"-F",
            os.fsencode(conf),
            *(os.fsencode(w) for w in argv),
        ]


def test_config_file_selection(tmp_path: Path) -> None:
    default = tmp_path / "default.conf"
    default.write_bytes(b"-c\n")
    named = tmp_path / "named.conf"
    named.write_bytes(b"-y\n")
    dflt = os.fsencode(default)

    def combined(*words: str, default_path: bytes = dflt) -> list[bytes]:
        return combine_args([b"spamc", *(os.fsencode(w) for w in words)], default_path)

    assert combined("-K") == [b"spamc", b"-c", b"-K"]  # the default file is read
    assert combined("-K", default_path=b"/nonexistent") == [b"spamc", b"-K"]
    assert combined("-F", str(named)) == [b"spamc", b"-y", b"-F", os.fsencode(named)]
    assert combined("-K", "-F") == [b"spamc", b"-c", b"-K", b"-F"]  # -F last: default file
    # Only a word starting with -F counts, and the path is always the *next* word.
    assert combined(f"--config={named}") == [b"spamc", b"-c", os.fsencode(f"--config={named}")]
    with pytest.raises(ConfigError, match="Failed to open config file: -c"):
        combined(f"-F{named}", "-c")
    # The first -F wins; a directory reads as an empty file.
    assert combined("-F", str(named), "-F", str(default))[:2] == [b"spamc", b"-y"]
    assert combined("-F", str(tmp_path)) == [b"spamc", b"-F", os.fsencode(tmp_path)]
    with pytest.raises(ConfigError, match="Failed to open config file: /nonexistent"):
        combined("-F", "/nonexistent")
    default.write_bytes(b"-c")  # a broken default file is an error too
    with pytest.raises(ConfigError, match="Line not terminated"):
        combined("-K")


# ----------------------------------------------------------------------------- ours vs the C spamc

# Each case runs both clients against one fake spamd ({port} is its port). The C client's
# request, output and status are the expected values.
AGAINST_C = [
    ["-p", "{port}", "-c"],
    ["--port={port}", "-y"],
    ["--port", "{port}", "--check=1"],
    ["-p", "{port}", "-cE"],
    ["-p", "{port}", "-E"],
    ["-p", "{port}", "-r"],
    ["-p", "{port}", "-R"],
    ["-p", "{port}", "--headers"],
    ["-p", "{port}", "-K"],
    ["-p", "{port}", "-K", "-c"],
    ["-p", "{port}", "-u", "alice", "-c"],
    ["-p", "{port}", "-u", "", "-y"],
    ["-p", "{port}", "-L", "spam"],
    ["-p", "{port}", "-L", "ham"],
    ["-p", "{port}", "-L", "forget"],
    ["-p", "{port}", "-C", "report"],
    ["-p", "{port}", "-C", "revoke"],
    ["-p", "{port}", "-C", "report", "-c"],
    ["-d", "127.0.0.1", "-p", "{port}", "-c"],
    ["-d", ",127.0.0.1", "-p", "{port}", "-c"],  # the empty name fails to resolve, no DNS
    ["-p", "{port}", "-s", "40", "-c"],
    ["-p", "{port}", "-s", "500k", "-R"],
    ["-p", "{port}", "-c", "extra", "-y"],
    ["--retry-sleep", "0", "-cp", "{port}"],
    ["-p", "{port}", "-c", "--", "-y"],
    ["-p", "{port}", "-0", "x", "-1", "y", "-2", "-f", "-y"],
    ["-p", "{port}", "-L", "spam", "-c", "-e", "/bin/cat"],
    ["-p", "{port}", "-c", "-e", "/bin/sh", "-c", "cat; exit 7"],
    ["-p", "{port}", "--pipe-to", "/bin/cat", "-y"],
    ["-p", "{port}", "-c", "-e", "cat"],  # no PATH search: exec fails, 71
    ["-p", "{port}", "-L", "spam", "-e", "/bin/sh", "-c", "cat; exit 3"],
    ["-p", "{port}", "-L", "bogus"],
    ["-p", "{port}", "-L", "spam", "-R"],
    ["-p", "{port}", "-s", "268435457"],
    ["-p", "{port}", "--ssl=tlsv1", "-c"],
    ["-p", "{port}", "--ssl-key", "k", "-c"],
    ["-p", "{port}", "-L", "bogus", "-V"],
    ["-p", "{port}", "-X", "-c"],
    ["-p{port}"],
    ["--por", "{port}"],
    ["-p", "{port}", "-j"],
    ["-p", "{port}", "-F", "{conf}", "-c"],
    ["-F", "{conf}"],
    ["-p", "{port}", "-F", "/nonexistent", "-c"],
    ["-p", "{port}", "-F", "{badconf}", "-c"],
    ["-p", "{port}", "--config={conf}", "-c"],
    ["-F{conf}", "-p", "{port}"],
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSpamd]:
    with FakeSpamd(responder=spamd_like_reply) as server:
        yield server


@pytest.mark.parametrize("template", AGAINST_C, ids=[" ".join(t) for t in AGAINST_C])
@pytest.mark.parametrize("message", [HAM, SPAM], ids=["ham", "spam"])
def test_same_as_c_spamc(
    template: list[str], message: bytes, fake: FakeSpamd, tmp_path: Path
) -> None:
    conf = tmp_path / "spamc.conf"
    conf.write_bytes(f"-p {fake.port}\n-y\n".encode())
    badconf = tmp_path / "bad.conf"
    badconf.write_bytes(b"-y")
    args = [a.format(port=fake.port, conf=conf, badconf=badconf) for a in template]
    runs = []
    for client in (c_spamc, our_spamc):
        fake.requests.clear()
        result = client(args, message)
        runs.append((result.rc, first_line_of_help(result.out), list(fake.requests)))
    assert runs[1] == runs[0]


def first_line_of_help(out: bytes) -> bytes:
    """Help and version texts are worded by each client; only their first line must agree."""
    if out.startswith(b"SpamAssassin Client version"):
        return out.split(b"\n", 1)[0]
    return out


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


DEFAULT_CONFIGS = [b"-p {port}\n-c\n", b"-p {port}", b"-y\n" * 25, b""]


@needs(_unshare_works(), "needs root and mount namespaces (unshare -m)")
@pytest.mark.parametrize("content", DEFAULT_CONFIGS)
def test_default_config_file_same_as_c(content: bytes, fake: FakeSpamd, tmp_path: Path) -> None:
    """/etc/spamassassin/spamc.conf itself, swapped in a private mount namespace."""
    etc = tmp_path / "etc-spamassassin"
    etc.mkdir()
    (etc / "spamc.conf").write_bytes(content.replace(b"{port}", str(fake.port).encode()))
    port = str(free_port())
    outcomes = []
    for client in (["/usr/bin/spamc"], OUR_SPAMC):
        script = 'mount --bind "$1" /etc/spamassassin && shift && exec "$@"'
        proc = subprocess.run(
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                script,
                "sh",
                str(etc),
                *client,
                "-p",
                port,
                "--retry-sleep",
                "0",
                "-y",
            ],
            input=HAM,
            capture_output=True,
            timeout=30,
        )
        outcomes.append((proc.returncode, proc.stdout))
    assert outcomes[1] == outcomes[0]
