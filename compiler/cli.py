"""`sa-compile`: compile SpamAssassin rule files into one Python module, or lint them.

    sa-compile [-o OUTDIR] [--lint] [--stats] [FILE|DIR ...]

With no inputs it reads the default ruleset (Debian's site config, the upstream rules, then
rules-src/ unless --no-own-rules), then any --add files. Errors are printed as
`file:line: message`; `--lint` exits 1 when there is any.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from .pipeline import compile_files, write_module
from .sources import default_inputs, order_inputs, spamassassin_inputs
from .stats import collect, format_stats

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def compile_command(
    inputs: Annotated[list[Path] | None, typer.Argument(help="rule files or directories")] = None,
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="where to write")] = Path("build"),
    lint: Annotated[bool, typer.Option("--lint", help="only check; exit 1 on any error")] = False,
    stats: Annotated[bool, typer.Option("--stats", help="print rule counts")] = False,
    local_tests_only: Annotated[
        bool, typer.Option("--local-tests-only", help="answer `local_tests_only` as 1")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no summary line")] = False,
    own_rules: Annotated[
        bool, typer.Option("--own-rules/--no-own-rules", help="default ruleset: add rules-src/")
    ] = True,
    add: Annotated[
        list[Path] | None, typer.Option("--add", help="file read after the default ruleset")
    ] = None,
) -> None:
    """Compile (or with --lint, check) a SpamAssassin ruleset."""
    started = time.perf_counter()
    missing = [p for p in [*(inputs or []), *(add or [])] if not p.exists()]
    if missing:
        for path in missing:
            print(f"{path}:0: no such file or directory", file=sys.stderr)
        raise typer.Exit(2)
    if inputs:
        paths = order_inputs(inputs)
    else:
        paths = default_inputs() if own_rules else spamassassin_inputs()
    paths.extend(add or [])
    if not paths:
        print("sa-compile: no rule files found", file=sys.stderr)
        raise typer.Exit(2)
    result = compile_files(paths, local_tests_only=local_tests_only)
    # --lint shows everything; a build shows its errors (skipped lines) and counts warnings.
    shown = result.diagnostics.items if lint else result.diagnostics.errors
    for diag in shown:
        print(diag, file=sys.stderr)
    errors = len(result.diagnostics.errors)
    if stats:
        print(format_stats(collect(result.plan)))
    if lint:
        if not quiet:
            print(
                f"lint: {len(paths)} files, {errors} errors, "
                f"{len(result.diagnostics.warnings)} warnings",
                file=sys.stderr,
            )
        raise typer.Exit(1 if errors else 0)
    target = write_module(result, outdir)
    if not quiet:
        print(
            f"sa-compile: wrote {target} ({len(result.plan.rules)} rules, {errors} errors "
            f"skipped, {len(result.diagnostics.warnings)} warnings: see --lint) in "
            f"{time.perf_counter() - started:.2f}s",
            file=sys.stderr,
        )


def main() -> None:
    app()
