"""Declare only what the code uses: every install requirement is imported by policy/, and
GitPython (the benchmark's peer row) is not a requirement nor imported by policy/."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = {"click": "click", "pyyaml": "yaml", "gitpython": "git", "google-re2": "re2"}


def imported_by_policy() -> set[str]:
    found = set()
    for path in (ROOT / "policy").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_install_requires_are_all_imported_and_gitpython_is_only_the_benchmarks() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    names = [re.split(r"[<>=!~ ;\[]", line.strip())[0].lower()
             for line in cfg["options"]["install_requires"].splitlines() if line.strip()]  # fmt: skip
    imported = imported_by_policy()
    assert names and all(MODULES.get(name, name) in imported for name in names), (names, imported)
    assert "gitpython" not in names and "git" not in imported
    assert "gitpython" in cfg["options.extras_require"]["bench"].lower()
