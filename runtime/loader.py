"""Find and import a compiled ruleset module (what `sa-compile -o OUTDIR` wrote).

The module is imported by path, once per process: spamd's master imports it before forking so
the children share it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path

from .compiled import Ruleset
from .errors import SpamkilnError

__all__ = ["MODULE_NAME", "RulesetNotFound", "default_ruleset_dir", "load_ruleset"]

MODULE_NAME = "compiled_rules.py"


class RulesetNotFound(SpamkilnError):
    """No compiled ruleset where we looked: run `sa-compile` (or `make build`) first."""


def default_ruleset_dir() -> Path:
    """$SPAMKILN_RULESET, else build/ of a source checkout, else ./build."""
    env = os.environ.get("SPAMKILN_RULESET")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[1] / "build"
    if (checkout / MODULE_NAME).is_file():
        return checkout
    return Path("build")


@cache
def _load(path: Path) -> Ruleset:
    name = f"spamkiln_compiled_{abs(hash(path)):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RulesetNotFound(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    ruleset = getattr(module, "RULESET", None)
    if not isinstance(ruleset, Ruleset):
        raise RulesetNotFound(f"{path} is not a spamkiln compiled ruleset")
    return ruleset


def load_ruleset(outdir: Path | str | None = None, *, fresh: bool = False) -> Ruleset:
    """The compiled ruleset in `outdir`; `fresh` re-imports it (spamd's HUP after sa-compile)."""
    if fresh:
        _load.cache_clear()
    directory = Path(outdir) if outdir is not None else default_ruleset_dir()
    path = (directory / MODULE_NAME) if directory.is_dir() or not directory.suffix else directory
    if not path.is_file():
        raise RulesetNotFound(
            f"no compiled ruleset at {path}; run `sa-compile -o {directory}` first"
        )
    return _load(path.resolve())
