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


# Gitea's and Forgejo's generated hooks/pre-receive (their template, with bash as the script type):
# it runs every executable of hooks/pre-receive.d/ with the push's lines on stdin.
GITEA_DISPATCHER = """#!/usr/bin/env bash
data=$(cat)
exitcodes=""
hookname=$(basename $0)
GIT_DIR=${GIT_DIR:-$(dirname $0)}

for hook in ${GIT_DIR}/hooks/${hookname}.d/*; do
test -x "${hook}" && test -f "${hook}" || continue
echo "${data}" | "${hook}"
exitcodes="${exitcodes} $?"
done

for i in ${exitcodes}; do
[ ${i} -eq 0 ] || exit ${i}
done
"""


def test_under_gitea_s_pre_receive_d(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    hooks = world.server / "hooks"
    (hooks / "pre-receive").write_text(GITEA_DISPATCHER)
    (hooks / "pre-receive").chmod(0o755)
    (hooks / "pre-receive.d").mkdir()
    shutil.copy2(SCRIPT, hooks / "pre-receive.d" / "branch-policy")
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    env = {"BRANCH_POLICY_PYTHON": sys.executable}
    assert run(["git", "push", "origin", "main"], repo.path, env=env).ok
    repo.branch("scratch")
    assert refused(run(["git", "push", "origin", "scratch"], repo.path, env=env), "branch-name")
    assert world.server_sha("refs/heads/scratch") is None
