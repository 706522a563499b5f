"""Which rule files to read, and in which order (SpamAssassin's `init` order).

SpamAssassin concatenates: every `.pre` of the site directory, every `.pre` of the rules
directory, every `.cf` of the rules directory, then every `.cf` of the site directory. spamkiln
appends its own `rules-src/` last, so our rules can override upstream ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "SITE_DIR",
    "UPSTREAM_DIR",
    "default_inputs",
    "order_inputs",
    "own_rules_dir",
    "spamassassin_inputs",
]

SITE_DIR = Path("/etc/spamassassin")
UPSTREAM_DIR = Path("/usr/share/spamassassin")
_FIRST = "updates_spamassassin_org.cf"  # sa-update's channel file always sorts first


def _sorted_dir(directory: Path, suffix: str) -> list[Path]:
    files = [p for p in directory.iterdir() if p.is_file() and p.name.lower().endswith(suffix)]
    # Perl `sort` compares bytes; Python compares code points, the same for file names.
    return sorted(files, key=lambda p: (p.name != _FIRST, p.name))


def own_rules_dir() -> Path | None:
    """rules-src/ beside the package (a source checkout), else in the current directory."""
    for candidate in (Path(__file__).resolve().parents[1] / "rules-src", Path("rules-src")):
        if candidate.is_dir():
            return candidate
    return None


def order_inputs(inputs: Sequence[Path]) -> list[Path]:
    """Files as given; directories contribute their .pre files first, then their .cf files."""
    pres: list[Path] = []
    cfs: list[Path] = []
    for item in inputs:
        if item.is_dir():
            pres.extend(_sorted_dir(item, ".pre"))
            cfs.extend(_sorted_dir(item, ".cf"))
        else:
            cfs.append(item)
    return pres + cfs


def default_inputs() -> list[Path]:
    """SpamAssassin's own files, then rules-src/."""
    files = spamassassin_inputs()
    own = own_rules_dir()
    if own:
        files.extend(order_inputs([own]))
    return files


def spamassassin_inputs() -> list[Path]:
    """Exactly what SpamAssassin reads: site .pre, rules .pre, rules .cf, site .cf."""
    files: list[Path] = []
    site = SITE_DIR if SITE_DIR.is_dir() else None
    upstream = UPSTREAM_DIR if UPSTREAM_DIR.is_dir() else None
    for directory in (site, upstream):
        if directory:
            files.extend(_sorted_dir(directory, ".pre"))
    if upstream:
        files.extend(_sorted_dir(upstream, ".cf"))
    if site:
        files.extend(_sorted_dir(site, ".cf"))
    return files
