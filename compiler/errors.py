"""Compile errors and warnings: located at `file:line`, collected rather than raised one by one.

`--lint` must print every problem of a ruleset at once, so passes append `Diagnostic`s to a
`Diagnostics` list; only the command line decides whether errors make the run fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spamkiln.runtime.errors import SpamkilnError

from .ir import Source

__all__ = ["CompileError", "Diagnostic", "Diagnostics"]


class CompileError(SpamkilnError):
    """One located problem in a rule file; prints as `file:line: message`."""

    def __init__(self, src: Source, message: str, context: str = "") -> None:
        super().__init__(message)
        self.src, self.message, self.context = src, message, context

    def __str__(self) -> str:
        return f"{self.src}: {self.message}" + (f"\n{self.context}" if self.context else "")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    src: Source
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.src}: {tag}{self.message}"


@dataclass
class Diagnostics:
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, src: Source, message: str) -> None:
        self.items.append(Diagnostic(src, message, "error"))

    def warning(self, src: Source, message: str) -> None:
        self.items.append(Diagnostic(src, message, "warning"))

    def add(self, err: CompileError) -> None:
        self.items.append(Diagnostic(err.src, err.message, "error"))

    def sort(self, file_order: list[str]) -> None:
        """Report in reading order (file, then line), whatever pass found the problem."""
        rank = {name: i for i, name in enumerate(file_order)}
        self.items.sort(key=lambda d: (rank.get(d.src.file, len(rank)), d.src.line))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]
