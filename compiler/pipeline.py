"""The compiler from end to end: files -> lines -> ruleset -> plan -> module text.

Each stage collects its problems into one `Diagnostics`, so a single run reports everything
(`--lint`), and the module is written only when there is no error.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .assemble import assemble
from .codegen import render
from .errors import Diagnostics
from .plan import Plan, make_plan
from .preprocess import preprocess
from .replacetags import apply_replace_tags

__all__ = ["MODULE_NAME", "CompileResult", "available_evals", "compile_files", "write_module"]

MODULE_NAME = "compiled_rules.py"


@dataclass
class CompileResult:
    plan: Plan
    diagnostics: Diagnostics
    source: str  # the generated module's text


def available_evals() -> frozenset[str] | None:
    """Eval functions the runtime implements; None when the runtime has no registry yet."""
    try:
        registry = importlib.import_module("spamkiln.runtime.evals.registry")
    except ImportError:
        return None
    return frozenset(registry.EVAL_FUNCTIONS)


def compile_files(paths: Sequence[Path], *, local_tests_only: bool = False) -> CompileResult:
    diags = Diagnostics()
    pre = preprocess(paths, diags, local_tests_only=local_tests_only)
    ruleset = assemble(pre, diags)
    apply_replace_tags(ruleset, diags)
    plan = make_plan(ruleset, diags, available_evals())
    diags.sort([path for path, _ in pre.files])
    return CompileResult(plan, diags, render(plan))


def write_module(result: CompileResult, outdir: Path) -> Path:
    """Write atomically, so a running spamd never imports a half-written module."""
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / MODULE_NAME
    tmp = target.with_suffix(".tmp")
    tmp.write_text(result.source, encoding="utf-8")
    tmp.replace(target)
    return target
