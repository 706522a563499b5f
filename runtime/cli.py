"""`spamkiln`: scan files and folders with a compiled ruleset, and compare with SpamAssassin.

    spamkiln check [--ruleset OUTDIR] [--json] [-j N] PATH...
    spamkiln parity GOLDEN.jsonl RESULTS.jsonl

`check --json` writes one line per message in the golden's form, so `parity` can compare a run
with SpamAssassin's answers. Results never depend on `-j`: workers are forked after the ruleset
is loaded and results are written in input order.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer

from .loader import load_ruleset
from .parity import compare, format_report, read_jsonl
from .scan import Scanner, format_score

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)

_SCANNER: Scanner | None = None


def _files(paths: list[Path]) -> Iterator[tuple[Path, str]]:
    """(file, name relative to the PATH it was found under), folders walked in sorted order."""
    for root in paths:
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for name in sorted(filenames):
                    path = Path(dirpath) / name
                    yield path, str(path.relative_to(root))
        else:
            yield root, root.name


def _scan_one(item: tuple[str, str]) -> dict:
    path, rel = item
    assert _SCANNER is not None
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return {"path": rel, "error": str(exc)}
    result = _SCANNER.scan(raw)
    return {
        "path": rel,
        "score": float(format_score(result.score, result.required, result.is_spam)),
        "threshold": result.required,
        "spam": result.is_spam,
        "rules": result.rules,
    }


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="message files or folders")],
    ruleset: Annotated[Path | None, typer.Option("--ruleset", help="sa-compile OUTDIR")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per message")] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="worker processes")] = 1,
) -> None:
    """Scan messages and print their scores and rules."""
    global _SCANNER
    _SCANNER = Scanner(load_ruleset(ruleset))
    items = [(str(p), rel) for p, rel in _files(paths)]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = pool.map(_scan_one, items, chunksize=16)
            _emit(results, len(items), as_json)
    else:
        _emit(map(_scan_one, items), len(items), as_json)


def _emit(results: Iterator[dict], total: int, as_json: bool) -> None:
    if not as_json:
        print(f"{'score':>6} {'spam':<5} {'message':<40} rules")
    for done, row in enumerate(results, 1):
        if as_json:
            print(json.dumps(row), flush=False)
        elif "error" in row:
            print(f"{'-':>6} {'-':<5} {row['path']:<40} error: {row['error']}")
        else:
            spam = "yes" if row["spam"] else "no"
            print(f"{row['score']:>6.1f} {spam:<5} {row['path']:<40} {','.join(row['rules'])}")
        _progress(done, total)
    sys.stdout.flush()


@app.command()
def parity(
    golden: Annotated[Path, typer.Argument(help="SpamAssassin's answers (golden JSONL)")],
    results: Annotated[Path, typer.Argument(help="spamkiln check --json output")],
    top: Annotated[int, typer.Option(help="rules to list")] = 20,
) -> None:
    """Agreement between two JSONL result files: verdicts, rule sets, scores."""
    report = compare(read_jsonl(golden), read_jsonl(results))
    print(format_report(report, top))


def main() -> None:
    app()
