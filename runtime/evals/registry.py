"""Every eval function spamkiln implements, by the name rules call it with.

Each module of this package that implements a SpamAssassin plugin's checks exports `EVALS`, a
dict from eval name to a function `f(ctx: MessageContext, *args: str) -> object` (a true value is
a hit, and its number is the meta value). Modules are discovered, so adding a plugin module
needs no edit here; `sa-compile --lint` reads `EVAL_FUNCTIONS` to warn about rules whose
function is missing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

__all__ = ["EVAL_FUNCTIONS", "EvalFn"]

EvalFn = Callable[..., object]


def _discover() -> dict[str, EvalFn]:
    package = importlib.import_module(__package__ or "spamkiln.runtime.evals")
    found: dict[str, EvalFn] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name == "registry" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        evals = getattr(module, "EVALS", None)
        if isinstance(evals, dict):
            for name, fn in evals.items():
                if name in found:
                    raise RuntimeError(f"eval {name} defined twice ({info.name})")
                found[name] = fn
    return found


EVAL_FUNCTIONS: dict[str, EvalFn] = _discover()
