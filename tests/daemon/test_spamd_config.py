"""Our spamd's command line, listen/allow lists, user-prefs confinement and log formats."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spamkiln.daemon.spamd.access import AllowedClients
from spamkiln.daemon.spamd.arbiter import PoolLimits, describe_status
from spamkiln.daemon.spamd.errors import UsageError
from spamkiln.daemon.spamd.listeners import ListenSpec, parse_listen_specs
from spamkiln.daemon.spamd.logging import LogTarget, SpamdLogHandler, escape, parse_target
from spamkiln.daemon.spamd.options import parse_options
from spamkiln.daemon.spamd.userconf import UserConfig, _open_confined, virtual_dir_parts

# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            [],
            {
                "max_children": 5,
                "min_spare": 1,
                "max_spare": 2,
                "timeout_tcp": 30,
                "timeout_child": 300,
                "max_conn_per_child": 200,
                "user_config": True,
            },
        ),
        (["-m", "0"], {"max_children": 5}),
        (["-m1"], {"max_children": 1, "min_spare": 1}),
        (["-m2", "--min-spare", "3"], {"min_spare": 1}),  # min-spare > max-children -> max - 1
        (["--max-ch", "3"], {"max_children": 3}),  # abbreviations, as Getopt::Long allows
        (["--min-spare", "4", "--max-spare", "2", "-m", "9"], {"max_spare": 5}),
        (["--max-conn-per-child", "0"], {"max_conn_per_child": 200}),
        (["--timeout-tcp=-1", "-t", "0"], {"timeout_tcp": 30, "timeout_child": 0}),
        (["-x"], {"user_config": False}),
        (["--nouser-config"], {"user_config": False}),
        (
            ["--create-prefs", "--max-children", "5", "--helper-home-dir"],  # Debian's OPTIONS
            {"create_prefs": True, "helper_home_dir": ""},
        ),
        (["-dlx"], {"daemonize": True, "allow_tell": True, "user_config": False}),  # bundled
        (["--ssl-ca-file", "/x"], {"ssl": True, "ssl_verify": True}),
        (["-i", "-i", "127.0.0.1:1"], {"listen": ["", "127.0.0.1:1"]}),
    ],
)
def test_option_values(argv: list[str], expected: dict[str, object]) -> None:
    options = parse_options(argv)
    assert {k: getattr(options, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("argv", "initial"),
    [
        (["-m", "1"], 1),
        (["-m", "2"], 2),
        ([], 2),
        (["-m", "5", "--min-children", "2", "--max-spare", "3"], 3),
    ],
)
def test_initial_children(argv: list[str], initial: int) -> None:
    options = parse_options(argv)
    limits = PoolLimits(
        options.max_children, options.min_children, options.min_spare, options.max_spare
    )
    assert options.initial_children == limits.initial == initial


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cf", "required_score 3"], "--cf is not supported"),
        (["-q"], "--sql-config requires -u"),
        (["-Q"], "--setuid-with-sql is not supported"),
        (["--virtual-config-dir", "/x/%u"], "requires -u"),
        (["-4", "-6"], "cannot be used together"),
    ],
)
def test_refused_options(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(argv)


def test_unknown_option_exits_64_like_spamd() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spamkiln.daemon.spamd", "--bogus"], capture_output=True, timeout=60
    )
    assert proc.returncode == 64
    assert proc.stderr.startswith(b"Unknown option: bogus\n")


def test_version_and_removed_options() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "spamkiln.daemon.spamd", "-V"], capture_output=True, timeout=60
    )
    assert version.returncode == 0 and b"with zlib support" in version.stdout
    removed = subprocess.run(
        [sys.executable, "-m", "spamkiln.daemon.spamd", "-F", "1"], capture_output=True, timeout=60
    )
    assert removed.returncode == 2 and b"has been removed" in removed.stderr


# --------------------------------------------------------------------------- listeners


def _specs(
    entries: list[str] | None, socketpath: str | None = None, **kw: object
) -> list[list[tuple[str, str, int, bool]]]:
    groups = parse_listen_specs(entries, socketpath, **kw)  # type: ignore[arg-type]
    return [[(s.kind, s.host or s.path, s.port, s.ssl) for s in g] for g in groups]


@pytest.mark.parametrize(
    ("entries", "kw", "expected"),
    [
        (None, {}, [[("tcp", "::1", 783, False), ("tcp", "127.0.0.1", 783, False)]]),
        (["localhost:1234"], {"ipv4_only": True}, [[("tcp", "127.0.0.1", 1234, False)]]),
        (["*"], {"port": "99"}, [[("tcp", "::", 99, False), ("tcp", "0.0.0.0", 99, False)]]),
        ([""], {"ipv6_only": True}, [[("tcp", "::", 783, False)]]),
        (["[::1]:7"], {}, [[("tcp", "::1", 7, False)]]),
        (["::1"], {}, [[("tcp", "::1", 783, False)]]),
        (["ssl:127.0.0.1"], {"ssl_port": "8443"}, [[("tcp", "127.0.0.1", 8443, True)]]),
        (["127.0.0.1:5"], {"ssl": True}, [[("tcp", "127.0.0.1", 5, True)]]),
        (
            ["/run/s.sock", "ssl:/run/t.sock"],
            {},
            [[("unix", "/run/s.sock", 0, False)], [("unix", "/run/t.sock", 0, False)]],
        ),
    ],
)
def test_listen_specs(
    entries: list[str] | None,
    kw: dict[str, object],
    expected: list[list[tuple[str, str, int, bool]]],
) -> None:
    assert _specs(entries, **kw) == expected


def test_socketpath_alone_means_unix_only() -> None:
    assert _specs(None, "/tmp/x.sock") == [[("unix", "/tmp/x.sock", 0, False)]]
    assert ListenSpec("tcp", host="::1").family != ListenSpec("tcp", host="1.2.3.4").family


# --------------------------------------------------------------------------- -A


@pytest.mark.parametrize(
    ("values", "address", "allowed"),
    [
        (None, "127.0.0.1", True),
        (None, "::1", True),
        (None, "127.0.0.2", False),
        (["10."], "10.200.3.4", True),
        (["10."], "11.0.0.1", False),
        (["192.168.", "[2001:db8::]/32"], "2001:db8::5", True),
        (["192.168.1.0/24"], "192.168.1.77", True),
        (["192.168.1.0/24"], "192.168.2.1", False),
        (["127.0.0.1"], "::ffff:127.0.0.1", True),
        (["127.0.0.1,::1"], "garbage", False),
    ],
)
def test_allowed_clients(values: list[str] | None, address: str, allowed: bool) -> None:
    assert AllowedClients.parse(values).allows(address) is allowed


def test_host_names_are_refused_in_allowed_ips() -> None:
    with pytest.raises(UsageError):
        AllowedClients.parse(["mail.example.org"])


# --------------------------------------------------------------------------- user prefs


@pytest.mark.parametrize(
    ("pattern", "user", "expected"),
    [
        ("/v/%u", "alice", ("/v/", ["alice"])),
        ("/v/%d/%l", "bob@example.org", ("/v/", ["example.org", "bob"])),
        ("/v/%u", "../al ice@ex.com", ("/v/", [".._al_ice@ex.com"])),  # sanitised as spamd does
        ("/v/%u", "..", None),  # spamd would climb out of /v here; we refuse
        ("/v/%u", "a/b", ("/v/", ["a_b"])),
        ("/v/%l", "nodomain", None),  # empty local part: nothing safe to open
        ("/v/%%/%u", "x", ("/v/", ["%", "x"])),
    ],
)
def test_virtual_dir_expansion(pattern: str, user: str, expected: object) -> None:
    assert virtual_dir_parts(pattern, user, lambda _b, _p: True) == expected


def test_prefs_never_follow_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".spamassassin").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_text("required_score -99\n")
    (home / ".spamassassin" / "user_prefs").symlink_to(secret)
    assert _open_confined(str(home), [".spamassassin", "user_prefs"]) is None
    (home / ".spamassassin" / "user_prefs").unlink()
    (home / ".spamassassin" / "user_prefs").write_text("required_score 3.5\nscore X 1\n")
    assert _open_confined(str(home), [".spamassassin", "user_prefs"]) == (
        b"required_score 3.5\nscore X 1\n"
    )
    assert _open_confined(str(home), ["..", "secret"]) is None


def test_virtual_config_prefs_are_read_for_the_runtime(tmp_path: Path) -> None:
    text = "# comment\nrequired_score 2.5 \nscore SOME_RULE 9\n"
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "user_prefs").write_text(text)
    logged: list[str] = []
    users = UserConfig(
        user_config=False,
        virtual_config_dir=f"{tmp_path}/%u",
        running_with_u=True,
        paranoid=False,
        create_prefs=False,
        info=logged.append,
        dbg=logged.append,
    )
    carol = users.lookup("carol")
    assert (carol.text, carol.source) == (text, f"{tmp_path}/carol/user_prefs")
    assert users.lookup("dave").text == ""
    assert any("per-user config for carol" in line for line in logged)
    assert any(line.startswith("spamd: using default config for dave: ") for line in logged)


def test_unknown_user_with_user_config_on_is_logged_not_refused() -> None:
    logged: list[str] = []
    users = UserConfig(
        user_config=True,
        virtual_config_dir=None,
        running_with_u=False,
        paranoid=False,
        create_prefs=False,
        info=logged.append,
        dbg=logged.append,
    )
    assert users.lookup("no-such-user-xyz").text == ""
    assert logged == ["spamd: handle_user (getpwnam) unable to find user: 'no-such-user-xyz'"]


# --------------------------------------------------------------------------- logging


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("jos\u00e9", "jos\\x{C3}\\x{A9}"),
        ("a\tb\\c", "a\\tb\\\\c"),
        ("\x01\x7f", "\\x{01}\\x{7F}"),
        ("plain: text", "plain: text"),
        ("bad\udcff", "bad\\x{FF}"),  # a raw byte that came in with surrogateescape
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "syslog"),
        ("local3", "syslog"),
        ("stderr", "stderr"),
        ("null", "null"),
        ("file", "file"),
        ("./mail", "file"),
        ("/var/log/spamd.log", "file"),
    ],
)
def test_log_targets(value: str | None, kind: str) -> None:
    assert parse_target(value, None, "/start").kind == kind
    assert parse_target("file", None, "/start").path == "/start/spamd.log"
    assert parse_target("mail", "none").kind == "stderr"


def _log_lines(tmp_path: Path, messages: list[str], **kw: object) -> list[str]:
    import logging

    path = tmp_path / "x.log"
    handler = SpamdLogHandler(LogTarget("file", path=str(path)), **kw)  # type: ignore[arg-type]
    for message in messages:
        handler.emit(logging.LogRecord("spamd", logging.INFO, "", 0, message, None, None))
    handler.flush_duplicates()
    handler.close()
    return path.read_text().splitlines()


def test_file_line_format_and_continuation_lines(tmp_path: Path) -> None:
    lines = _log_lines(tmp_path, ["spamd: one", "warn: \tMail: two\nSpam: three"])
    pattern = r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \[" + str(os.getpid()) + r"\] info: "
    assert all(re.match(pattern, line) for line in lines)
    assert [line.split("info: ", 1)[1] for line in lines] == [
        "spamd: one",
        "warn: \\tMail: two",
        "Spam: [...] three",
    ]


def test_identical_lines_are_summarised_after_ten(tmp_path: Path) -> None:
    lines = _log_lines(tmp_path, ["same"] * 15 + ["other"], timestamp_fmt="")
    texts = [line.split("info: ", 1)[1] for line in lines]
    # ten written, five held back and summarised (Mail::SpamAssassin::Logger's arithmetic)
    assert texts == ["same"] * 10 + ["same [... logline repeated 5 times]", "other"]


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (0, "exit 0"),
        (255 << 8, "exit 255"),
        (2, "interrupted, signal 2 (0002)"),
        (9, "KILLED, signal 9 (0009)"),
        (15, "TERMINATED, signal 15 (000f)"),
    ],
)
def test_child_status_words(status: int, text: str) -> None:
    assert describe_status(status) == text
