"""The `tasks/main/config.yaml` that `policy init` writes on main: the settings every run copies,
with the keys task-config requires by default (the README shows the same file)."""

from __future__ import annotations

import os
import subprocess
from typing import Optional

MAIN_CONFIG = """\
VERSION: 0.1.0          # the core's version: task and debug branch names carry it
DEBUG: false            # true only in a debug run's copy (policy debug start sets it)
RESUME: null            # a checkpoint to resume from, or null
TRAIN: true
TEST: false
MODEL_PATH: null        # a path, or null
RANDOM_SEED: 42
LEARNING_RATE: 0.001
"""


def _branch(root: str) -> Optional[str]:
    """The current branch (also before the first commit), None when detached or not a repository."""
    proc = subprocess.run(
        ["git", "symbolic-ref", "--short", "-q", "HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def offer_main_config(root: str, main: str = "main", path: str = "tasks/main/config.yaml") -> str:
    """Write the sample main config when it is missing and the work tree is on main (on any other
    branch it would be a change main never takes that way); say what was done."""
    target = os.path.join(root, path)
    if os.path.exists(target):
        return f"kept {target} (it exists)"
    branch = _branch(root)
    if branch != main:
        where = f"on {branch}" if branch else "not on a branch"
        return f"{path} is missing; it is written on {main} (policy init there), not {where}"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(MAIN_CONFIG)
    return f"wrote {target}: the settings every run copies (edit them, keep the keys)"
