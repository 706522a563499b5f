"""Per-user preferences: the C spamc with `-u USER` gets the same from our spamd as from Debian's,
both reading the same user_prefs files through --virtual-config-dir."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DebianSpamd, c_spamc, corpus_message, start_debian_spamd
from .spamd_harness import OurSpamd, running_spamd, world_readable_dir

SPAM = corpus_message("spam-1")
VCD_ARGS = ["-x", "-u", "nobody", "-m", "2"]


@pytest.fixture(scope="module")
def prefs_dir() -> Iterator[Path]:
    folder = world_readable_dir("spamd-prefs-")  # both spamds read it as nobody
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(
    prefs_dir: Path, golden_ruleset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DebianSpamd, OurSpamd]]:
    vcd = f"--virtual-config-dir={prefs_dir}/%u"
    with tempfile.TemporaryDirectory(prefix="spamkiln-spamd-") as tmp:
        Path(tmp).chmod(0o755)
        theirs = start_debian_spamd(Path(tmp), [*VCD_ARGS, vcd])
        try:
            with running_spamd(
                tmp_path_factory.mktemp("spamd-prefs"), golden_ruleset, ["-L", *VCD_ARGS, vcd]
            ) as ours:
                yield theirs, ours
        finally:
            theirs.stop()


def write_prefs(prefs_dir: Path, user: str, text: str) -> None:
    folder = prefs_dir / user
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    (folder / "user_prefs").write_text(text)
    (folder / "user_prefs").chmod(0o644)


def both(servers: tuple[DebianSpamd, OurSpamd], args: list[str]) -> tuple[bytes, bytes]:
    theirs, ours = servers
    their_run = c_spamc(["-p", str(theirs.port), *args], SPAM)
    our_run = c_spamc(["-p", str(ours.port), *args], SPAM)
    assert our_run.rc == their_run.rc, (our_run.err, their_run.err)
    return their_run.out, our_run.out


def first_rule(servers: tuple[DebianSpamd, OurSpamd]) -> str:
    symbols, _ = both(servers, ["-y"])
    return symbols.decode().strip().split(",")[0]


def test_threshold_and_score_lines(prefs_dir: Path, servers) -> None:
    rule = first_rule(servers)
    write_prefs(prefs_dir, "alice", f"required_score 2.5\nscore {rule} 0\n")
    theirs, ours = both(servers, ["-u", "alice", "-y"])
    assert ours == theirs and rule.encode() not in theirs.split(b",")
    theirs, ours = both(servers, ["-u", "alice", "-c"])
    assert ours == theirs and theirs.endswith(b"/2.5\n")


def test_welcomelist_from(prefs_dir: Path, servers) -> None:
    write_prefs(prefs_dir, "bob", "welcomelist_from *\n")
    theirs, ours = both(servers, ["-u", "bob", "-y"])
    assert ours == theirs and b"USER_IN_WELCOMELIST" in theirs
    theirs, ours = both(servers, ["-u", "bob", "-c"])
    assert ours == theirs


def test_refused_lines_and_what_still_applies(prefs_dir: Path, servers) -> None:
    write_prefs(
        prefs_dir,
        "dave",
        "header DAVE_RULE Subject =~ /./\nscore DAVE_RULE 50\nallow_user_rules 1\n"
        "required_score 1.5\n",
    )
    theirs, ours = both(servers, ["-u", "dave", "-y"])
    assert ours == theirs and b"DAVE_RULE" not in theirs
    theirs, ours = both(servers, ["-u", "dave", "-c"])
    assert ours == theirs and theirs.endswith(b"/1.5\n")


def test_headers_and_subject(prefs_dir: Path, servers) -> None:
    write_prefs(
        prefs_dir,
        "carol",
        "add_header all Mine score=_SCORE_ tests=_TESTS(+)_\n"
        "rewrite_header Subject [carol]\nreport_safe 0\n",
    )

    def kept(out: bytes) -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
        """X-Spam-Mine and Subject as written; the report's (score, rule) entries, sorted:
        SpamAssassin orders report lines of equal score in Perl's hash order."""
        head = out.split(b"\n\n", 1)[0].replace(b"\n\t", b" ")
        lines = [
            line
            for line in head.split(b"\n")
            if line.startswith((b"X-Spam-Mine:", b"Subject:", b"X-Spam-Report:"))
        ]
        report = b"".join(line for line in lines if line.startswith(b"X-Spam-Report:"))
        entries = sorted(re.findall(rb"\*\s+(-?\d+\.\d) ([A-Z0-9_]+) ", report))
        return [line for line in lines if not line.startswith(b"X-Spam-Report:")], entries

    theirs, ours = both(servers, ["-u", "carol", "--headers"])
    assert kept(ours) == kept(theirs)
    lines, report = kept(theirs)
    assert any(line.startswith(b"Subject: [carol]") for line in lines)
    assert any(line.startswith(b"X-Spam-Mine: score=") for line in lines)
    assert len(report) > 3  # report_safe 0: the report is a header
