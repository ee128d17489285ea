"""`policy doctor` on a real server repository and a real clone, and `policy install --server`
run by root on a repository another user owns (git's "dubious ownership")."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo, World, policy_cmd, run

from policy.commands.install import hook_script


def doctor(cwd: Path, *args: str) -> tuple[int, str]:
    result = run(policy_cmd("doctor", *args), cwd)
    return result.code, result.out


def test_doctor_on_a_server(seeded: tuple[World, Repo]) -> None:
    world, _ = seeded
    server = str(world.server)
    code, out = doctor(world.root, "--server", server)  # policy install --server turned fsck on
    assert code == 0 and out.rstrip().endswith("nothing to fix") and "warn no commit-graph" in out, out
    assert "is present and executable" in out and "runs branch-policy as the repository's owner" in out
    run(["git", "config", "receive.fsckObjects", "false"], world.server)
    code, out = doctor(world.root, "--server", server)
    assert code == 1 and f"fix: git -C {server} config receive.fsckObjects true" in out, out
    run(["git", "config", "receive.fsckObjects", "true"], world.server)
    run(["git", "commit-graph", "write", "--reachable"], world.server)
    assert "the repository has a commit-graph" in doctor(world.root, "--server", server)[1]
    hook, script = world.server / "hooks" / "pre-receive", world.server / "hooks" / "branch-policy-pre-receive"
    assert hook.read_bytes()[:4] == b"\x7fELF"  # the native client is the hook; its script is beside it
    script.chmod(0o644)
    code, out = doctor(world.root, "--server", server)
    assert code == 1 and f"{script} is missing or not executable" in out, out
    assert f"fix: policy install --server {server}" in out
    assert run(policy_cmd("install", "--server", server), world.root).ok  # the fix, as printed
    assert doctor(world.root, "--server", server)[0] == 0
    hook.chmod(0o644)
    code, out = doctor(world.root, "--server", server)
    assert code == 1 and f"fix: chmod +x {hook}" in out, out
    gone = str(world.root / "gone" / "python")
    hook.write_text(hook_script("pre-receive", gone, fail_closed=True, git_dir=server))
    hook.chmod(0o755)
    code, out = doctor(world.root, "--server", server)
    assert code == 1 and f"{gone} cannot run branch-policy as user" in out, out
    hook.unlink()
    code, out = doctor(world.root, "--server", server)
    assert code == 1 and "pre-receive is missing" in out and f"fix: policy install --server {server}" in out


def test_doctor_on_a_clone(world: World) -> None:
    repo = world.work
    code, out = doctor(repo.path)
    assert code == 1 and "hooks not installed" in out and "fix: policy install" in out, out
    assert run(policy_cmd("install"), repo.path).ok
    code, out = doctor(repo.path)
    assert code == 0 and "installed by policy install: pre-commit, commit-msg, pre-merge-commit, pre-push" in out
    (repo.path / ".branch-policy.yaml").write_text("rules:\n  no-such-rule: {}\n")
    code, out = doctor(repo.path)
    assert code == 1 and "the policy does not load" in out, out


def test_root_installs_into_a_repository_another_user_owns(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    nobody = pwd.getpwnam("nobody")
    server = tmp_path / "owned.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    for dirpath, dirs, files in os.walk(server):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in files + dirs)]:
            os.lchown(name, nobody.pw_uid, nobody.pw_gid)
    plain = run(["git", "rev-parse", "--git-dir"], server)
    assert not plain.ok and "dubious ownership" in plain.out  # what used to stop the install
    for parent in (tmp_path, *tmp_path.parents):
        parent.chmod(parent.stat().st_mode | 0o011)
    try:
        can = subprocess.run([sys.executable, "-c", "import policy.commands.hook"], user=nobody.pw_uid,
                             group=nobody.pw_gid, extra_groups=[], capture_output=True).returncode == 0  # fmt: skip
    except PermissionError:
        can = False
    result = run(policy_cmd("install", "--server", str(server)), tmp_path)
    assert "dubious ownership" not in result.out, result.out
    hook = server / "hooks" / "pre-receive"
    if can:
        assert result.ok and hook.stat().st_uid == nobody.pw_uid, result.out
    else:  # this interpreter lives where nobody cannot go (a private home): said before any push
        assert not result.ok and f"{sys.executable} cannot run branch-policy as user nobody" in result.out
        assert "/opt/branch-policy/bin/policy install --server" in result.out and not hook.exists()


def test_doctor_sees_hooks_installed_through_pre_commit(world: World) -> None:
    repo = world.work
    (repo.path / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, commit-msg, pre-merge-commit, pre-push]\n"
        "repos:\n  - repo: local\n    hooks:\n      - {id: policy-branch, name: policy-branch, "
        "entry: policy hook pre-commit, language: system, pass_filenames: false}\n"
    )
    code, out = doctor(repo.path)
    assert code == 1 and "fix: pre-commit install --install-hooks" in out, out
    done = run([sys.executable, "-m", "pre_commit", "install"], repo.path)
    assert done.ok, done.out
    code, out = doctor(repo.path)
    assert code == 0 and "installed through pre-commit: pre-commit, commit-msg, pre-merge-commit, pre-push" in out
