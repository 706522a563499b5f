"""Every code folder is listed as a package, so a non-editable install ships it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = {"compiler": "spamkiln.compiler", "runtime": "spamkiln.runtime", "daemon": "spamkiln.daemon"}


def test_every_package_folder_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for folder, package in TOP.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert found <= listed, sorted(found - listed)
    for folder, package in TOP.items():
        assert config["package-dir"][package] == folder
