"""Meta rules: expand `rules_matching`, find dependencies and cycles, and write Python.

A meta expression reaches generated code only through `to_python`, which walks the parsed tree
and emits rule names as string literals (`h["NAME"]`) — never by pasting rule text — so a hostile
rule file cannot inject code. Perl's operators keep their Perl meaning: `&&`/`||` return an
operand's value, `!` gives 1 or 0, `^` is integer XOR and division by zero is 0 rather than a
crash (`rt.div`, `rt.xor`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

from . import ir

__all__ = ["contains", "dependencies", "expand_rules_matching", "find_cycles", "to_python"]

_PYTHON_OPS = {"&&": "and", "||": "or"}


def expand_rules_matching(expr: ir.Expr, names: Iterable[str], self_name: str) -> ir.Expr:
    """Replace `rules_matching(GLOB)` by the sum of the matching names (sorted), or 0."""
    pool = sorted(set(names))

    def walk(node: ir.Expr) -> ir.Expr:
        match node:
            case ir.RulesMatching(glob):
                rx = re.compile(fnmatch.translate(glob))
                hits = [n for n in pool if n != self_name and rx.fullmatch(n)]
                if not hits:
                    return ir.Number(0)
                total: ir.Expr = ir.RuleRef(hits[0])
                for name in hits[1:]:
                    total = ir.Arith("+", total, ir.RuleRef(name))
                return total
            case ir.Not(x) | ir.Neg(x):
                return type(node)(walk(x))
            case ir.And(a, b) | ir.Or(a, b) | ir.Xor(a, b):
                return type(node)(walk(a), walk(b))
            case ir.Compare(op, a, b) | ir.Arith(op, a, b):
                return type(node)(op, walk(a), walk(b))
            case ir.Ternary(t, a, b):
                return ir.Ternary(walk(t), walk(a), walk(b))
        return node

    return walk(expr)


def dependencies(expr: ir.Expr | None) -> tuple[str, ...]:
    """Rule names an expression reads, in first-use order."""
    seen: dict[str, None] = {}

    def walk(node: ir.Expr) -> None:
        match node:
            case ir.RuleRef(name):
                seen.setdefault(name, None)
            case ir.Not(x) | ir.Neg(x):
                walk(x)
            case (
                ir.And(a, b) | ir.Or(a, b) | ir.Xor(a, b) | ir.Compare(_, a, b) | ir.Arith(_, a, b)
            ):
                walk(a)
                walk(b)
            case ir.Ternary(t, a, b):
                walk(t)
                walk(a)
                walk(b)

    if expr is not None:
        walk(expr)
    return tuple(seen)


def to_python(expr: ir.Expr | None) -> str:
    """A Python expression over `h` (the hit values) with the meta's Perl meaning."""
    if expr is None:
        return "0"

    def emit(node: ir.Expr) -> str:
        match node:
            case ir.RuleRef(name):
                return f"h[{name!r}]"
            case ir.Number(value):
                return repr(int(value)) if value == int(value) else repr(value)
            case ir.Not(x):
                return f"(not {emit(x)})"
            case ir.Neg(x):
                return f"(-{emit(x)})"
            case ir.And(a, b):
                return f"({emit(a)} and {emit(b)})"
            case ir.Or(a, b):
                return f"({emit(a)} or {emit(b)})"
            case ir.Xor(a, b):
                return f"rt.xor({emit(a)}, {emit(b)})"
            case ir.Compare(op, a, b):
                return f"({emit(a)} {op} {emit(b)})"
            case ir.Arith("/", a, b):
                return f"rt.div({emit(a)}, {emit(b)})"
            case ir.Arith(op, a, b):
                return f"({emit(a)} {op} {emit(b)})"
            case ir.Ternary(t, a, b):
                return f"({emit(a)} if {emit(t)} else {emit(b)})"
        raise TypeError(f"not a meta expression: {node!r}")

    return emit(expr)


def find_cycles(graph: Mapping[str, tuple[str, ...]]) -> set[str]:
    """Names of metas that depend on themselves, directly or through other metas (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cyclic: set[str] = set()
    counter = 0

    def strongconnect(root: str) -> None:
        nonlocal counter
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        cyclic.update(component)

    for name in graph:
        if name not in index:
            strongconnect(name)
    return cyclic


def contains(expr: object, kind: type) -> bool:
    """Whether an expression tree holds a node of `kind` anywhere."""
    stack: list[object] = [] if expr is None else [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        for slot in getattr(node, "__slots__", ()):
            value = getattr(node, slot, None)
            if value is not None and not isinstance(value, (str, float, int)):
                stack.append(value)
    return False
