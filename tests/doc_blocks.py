"""The ```yaml blocks of the README and docs/, parsed, for the tests that validate them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def yaml_blocks() -> list[tuple[str, str, Any]]:
    """(file:line, text, data) of every ```yaml block of README.md and docs/**/*.md."""
    blocks = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]:
        if not doc.is_file():
            continue
        text = doc.read_text()
        for m in re.finditer(r"^```ya?ml\n(.*?)^```", text, re.S | re.M):
            line = text[: m.start()].count("\n") + 2
            blocks.append((f"{doc.relative_to(ROOT)}:{line}", m.group(1), yaml.safe_load(m.group(1))))
    return blocks
