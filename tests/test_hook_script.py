"""hooks/pre-receive, the script an admin copies onto a server (a bare repository's hooks/ or a
GitLab/Gitea custom_hooks/pre-receive.d/): it refuses what the engine refuses, and it fails
closed when branch-policy is not installed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from conftest import World, config, refused, run

SCRIPT = Path(__file__).resolve().parent.parent / "hooks" / "pre-receive"


def copy_hook(world: World) -> Path:
    target = world.server / "hooks" / "pre-receive"
    shutil.copy2(SCRIPT, target)
    return target


def test_copied_script_enforces_the_policy(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    copy_hook(world)
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    env = {"BRANCH_POLICY_PYTHON": sys.executable}
    assert run(["git", "push", "origin", "main"], repo.path, env=env).ok
    repo.commit("fix: straight on main", {"a.py": "a = 1\n"})
    assert refused(run(["git", "push", "origin", "main"], repo.path, env=env), "main-direct-commit")


def test_script_fails_closed_without_branch_policy(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    copy_hook(world)
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    (bare_path / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    env = {"PATH": str(bare_path), "BRANCH_POLICY_PYTHON": ""}
    result = run(["git", "push", "origin", "main"], repo.path, env={**os.environ, **env})
    assert not result.ok and "fail closed" in result.out, result.out
    assert world.server_sha("refs/heads/main") is None
