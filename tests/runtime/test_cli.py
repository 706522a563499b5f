"""`spamkiln check` and `spamkiln parity` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from spamkiln.compiler.pipeline import compile_files, write_module

RULES = "header SUBJ_MONEY Subject =~ /money/i\nscore SUBJ_MONEY 6\nbody HELLO /hello/i\n"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spamkiln.runtime", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "r.cf").write_text(RULES)
    out = tmp_path / "build"
    write_module(compile_files([tmp_path / "r.cf"]), out)
    mail = tmp_path / "mail" / "sub"
    mail.mkdir(parents=True)
    (mail / "1").write_bytes(b"Subject: Free money\n\nHello there\n")
    (mail / "2").write_bytes(b"Subject: lunch\n\nSee you\n")
    (tmp_path / "mail" / "3").write_bytes(b"Subject: hello\n\nhello\n")
    return out, tmp_path / "mail"


def test_check_json_is_independent_of_jobs(tmp_path: Path) -> None:
    out, mail = _setup(tmp_path)
    one = _run("check", "--json", "--ruleset", out, mail)
    two = _run("check", "--json", "-j", "2", "--ruleset", out, mail)
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout
    rows = [json.loads(line) for line in one.stdout.splitlines()]
    assert [r["path"] for r in rows] == ["3", "sub/1", "sub/2"]
    assert rows[1] == {
        "path": "sub/1",
        "score": 7.0,
        "threshold": 5.0,
        "spam": True,
        "rules": ["HELLO", "SUBJ_MONEY"],
    }
    assert rows[2]["rules"] == [] and rows[2]["spam"] is False


def test_check_table_and_parity(tmp_path: Path) -> None:
    out, mail = _setup(tmp_path)
    table = _run("check", "--ruleset", out, mail)
    assert "SUBJ_MONEY" in table.stdout
    results = tmp_path / "results.jsonl"
    results.write_text(_run("check", "--json", "--ruleset", out, mail).stdout)
    golden = tmp_path / "golden.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    rows[0]["rules"] = ["HELLO", "OTHER"]  # one disagreement
    golden.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = _run("parity", golden, results).stdout
    assert "verdict agreement:       3 (100.00%)" in report
    assert "exact rule sets:         2 (66.67%)" in report
    assert "OTHER" in report
