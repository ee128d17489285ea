"""`policy install` for those without the pre-commit framework: thin hooks in .git/hooks (or
core.hooksPath) that never replace a foreign hook silently, and a pre-push hook that reads git's
own lines, so every ref of a push is judged."""

from __future__ import annotations

from pathlib import Path

from conftest import Repo, World, config, hook_script, policy_cmd, run

HOOKS = ("pre-commit", "commit-msg", "pre-merge-commit", "pre-push")


def said(output: str, rule: str) -> list[str]:
    return [line for line in output.splitlines() if line.split()[:1] == [rule]]


def install(repo: Repo, *flags: str) -> None:
    result = run(policy_cmd("install", *flags), repo.path)
    assert result.ok, result.out


def test_install_writes_every_client_hook(world: World) -> None:
    repo = world.work
    install(repo)
    for name in HOOKS:
        hook = repo.path / ".git" / "hooks" / name
        assert hook.exists() and hook.stat().st_mode & 0o111, name
        assert f"policy hook {name}" in hook.read_text()
    install(repo)  # again: ours are updated in place
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    repo.branch("feature-x")
    (repo.path / "a.py").write_text("a = 1\n")
    repo.git("add", "a.py")
    bad = run(["git", "commit", "-m", "no type here"], repo.path)
    assert not bad.ok and said(bad.out, "commit-message"), bad.out


def test_core_hooks_path_is_respected(world: World) -> None:
    repo = world.work
    repo.git("config", "core.hooksPath", "ci-hooks")
    install(repo)
    assert (repo.path / "ci-hooks" / "commit-msg").exists()
    assert not (repo.path / ".git" / "hooks" / "commit-msg").exists()


def test_a_foreign_hook_is_never_replaced_silently(world: World) -> None:
    repo = world.work
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\ngrep -q JIRA- \"$1\" || { echo 'needs a JIRA id' >&2; exit 1; }\n")
    hook.chmod(0o755)
    result = run(policy_cmd("install"), repo.path)
    assert not result.ok and "not branch-policy's" in result.out and "--force" in result.out
    assert "JIRA" in hook.read_text()
    install(repo, "--force")
    legacy = Path(str(hook) + ".legacy")
    assert "JIRA" in legacy.read_text() and "policy hook commit-msg" in hook.read_text()
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    repo.branch("feature-x")
    (repo.path / "b.py").write_text("b = 1\n")
    repo.git("add", "b.py")
    kept = run(["git", "commit", "-m", "feat: conventional but no ticket"], repo.path)
    assert not kept.ok and "needs a JIRA id" in kept.out  # the kept hook still runs first
    assert run(["git", "commit", "-m", "feat: JIRA-1 conventional"], repo.path).ok


def test_native_pre_push_judges_every_ref(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)  # no server hook: only the client stands in the way
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    assert repo.push("main").ok
    install(repo)
    repo.branch("dev")
    repo.commit("feat: fine", {"a.py": "a = 1\n"})
    repo.branch("scratch")
    repo.branch("experiment")
    result = repo.push("dev", "scratch", "experiment")
    assert not result.ok, result.out
    bad = said(result.out, "branch-name")
    assert len(bad) == 2 and any("scratch" in line for line in bad) and any("experiment" in line for line in bad)
    assert world.server_sha("refs/heads/dev") is None  # nothing of the push went through


def test_native_squash_record(world: World) -> None:
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    assert repo.push("main").ok
    repo.branch("dev")
    repo.commit("feat: better", {"src/a.py": "a = 1\n"})
    assert repo.push("dev").ok
    install(repo)
    repo.checkout("main")
    repo.git("merge", "--squash", "dev")
    assert run(["git", "commit", "-m", "feat: release better"], repo.path).ok
    assert f"Squash-Merge: dev {repo.sha('dev')}" in repo.git("log", "-1", "--format=%B")
    assert repo.push("main").ok


def test_hooks_in_a_worktree(world: World) -> None:
    """In a `git worktree`, .git is a `gitdir:` file: the hooks find the worktree's own HEAD."""
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    install(repo)
    repo.git("branch", "dev")
    repo.git("worktree", "add", "-q", "-b", "feature-wt", str(world.root / "wt"), "dev")
    wt = Repo(world.root / "wt")
    assert (wt.path / ".git").is_file()
    (wt.path / "w.py").write_text("w = 1\n")
    wt.git("add", "w.py")
    bad = run(["git", "commit", "-m", "no type"], wt.path)
    assert not bad.ok and said(bad.out, "commit-message"), bad.out
    assert run(["git", "commit", "-m", "feat: from a worktree"], wt.path).ok
    wt.git("checkout", "-q", "-b", "scratch")
    (wt.path / "s.py").write_text("s = 1\n")
    wt.git("add", "s.py")
    named = run(["git", "commit", "-m", "feat: on a bad branch name"], wt.path)
    assert not named.ok and said(named.out, "branch-name") and "scratch" in named.out, named.out


def test_the_server_install_turns_on_receive_fsck_objects(tmp_path: Path) -> None:
    """git refuses malformed objects (a '..' tree entry) itself, before the hook judges anything."""
    server = tmp_path / "server.git"
    run(["git", "init", "-q", "--bare", str(server)], tmp_path)
    assert run(policy_cmd("install", "--server", str(server)), tmp_path).ok
    assert run(["git", "config", "receive.fsckObjects"], server).out.strip() == "true"


def test_the_reinstall_recipe_names_where_this_branch_policy_came_from(tmp_path: Path) -> None:
    """The package is not on PyPI: a hook that cannot find its interpreter says to install from
    this checkout (or the URL pip recorded), and that pip argument is installable."""
    import shlex
    import sys

    from policy.commands.install import hook_script, install_source

    checkout = Path(__file__).resolve().parent.parent
    assert install_source() == shlex.quote(str(checkout))
    script = hook_script("pre-receive", sys.executable, fail_closed=True, git_dir=str(tmp_path))
    assert f"/opt/branch-policy/bin/pip install {shlex.quote(str(checkout))})" in script
    assert "pip install branch-policy" not in script


def test_a_server_whose_path_is_not_utf8_gets_a_working_hook(tmp_path: Path) -> None:
    """The hook script names the repository (its reinstall recipe): bytes that are not UTF-8 are
    written as they are, and the hook judges pushes there like anywhere else."""
    import os
    import subprocess

    root = tmp_path / os.fsdecode(b"lab-\xff")
    root.mkdir()
    world = World(root, hook=False)
    installed = subprocess.run(policy_cmd("install", "--server", str(world.server)), cwd=root, capture_output=True)
    assert installed.returncode == 0, installed.stderr  # it raised UnicodeEncodeError before
    assert os.fsencode(str(world.server)) in installed.stdout  # the path, as its bytes are
    repo = world.work

    def push() -> subprocess.CompletedProcess[bytes]:  # git names the server: not UTF-8 either
        return subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo.path, capture_output=True)

    repo.commit("feat: initial", {"tasks/main/config.yaml": config()})
    assert push().returncode == 0
    repo.commit("no type here", {"src/x.py": "x = 1\n"})
    refused = push()
    assert refused.returncode != 0 and b"commit-message" in refused.stderr, refused.stderr
    assert os.fsencode(str(world.server)) in hook_script(world.server).read_bytes()
