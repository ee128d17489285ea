"""Failures found on real servers, each provoked for real: a hook without `cat`, an interpreter that
is gone, a damaged repository, git missing, garbage on the hook's stdin, GitLab's prefix on the
script's own refusals, `on_error: allow` meeting violations already found, and the per-ref
`update` hook that accepts half a push."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ZERO, Repo, World, config, policy_cmd, refused, run

from policy.commands.install import hook_script

SCRIPT = Path(__file__).resolve().parent.parent / "hooks" / "pre-receive"


def git_only_path(tmp_path: Path) -> str:
    """A PATH with git and nothing else: no cat, no python3, no policy."""
    bare = tmp_path / "git-only"
    bare.mkdir(exist_ok=True)
    if not (bare / "git").exists():
        (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    return str(bare)


def feature(repo: Repo, name: str = "feature-x") -> str:
    repo.checkout("dev")
    repo.branch(name)
    return repo.commit("feat: work", {"src/x.py": "x = 1\n"})


def loose(server: Path, sha: str) -> Path:
    return server / "objects" / sha[:2] / sha[2:]


# --------------------------------------------------------------------------- the installed script


def test_no_cat_on_path_still_refuses(tmp_path: Path) -> None:
    """The lines of a push are read by the shell itself: without `cat` they used to be lost and
    the push accepted. A kept legacy hook still gets every line."""
    world = World(tmp_path, hook=False)
    legacy = world.server / "hooks" / "pre-receive"
    seen = tmp_path / "legacy-saw"
    legacy.write_text(f'#!/bin/sh\nwhile read old new ref; do echo "$ref" >> {seen}; done\nexit 0\n')
    legacy.chmod(0o755)
    assert run(policy_cmd("install", "--server", str(world.server), "--force"), tmp_path).ok
    repo = world.work
    env = {"PATH": git_only_path(tmp_path)}
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    assert run(["git", "push", "origin", "main"], repo.path, env=env).ok
    repo.branch("scratch")
    result = run(["git", "push", "origin", "scratch"], repo.path, env=env)
    assert refused(result, "branch-name"), result.out
    assert world.server_sha("refs/heads/scratch") is None
    assert seen.read_text().split() == ["refs/heads/main", "refs/heads/scratch"]
    (world.server / "hooks" / "pre-receive.legacy").unlink()  # and without a legacy hook
    result = run(["git", "push", "origin", "scratch"], repo.path, env=env)
    assert refused(result, "branch-name"), result.out


def write_server_hook(world: World, python: str) -> None:
    hook = world.server / "hooks" / "pre-receive"
    hook.write_text(hook_script("pre-receive", python, fail_closed=True, git_dir=str(world.server)))
    hook.chmod(0o755)


def test_a_gone_interpreter_is_named_never_replaced(tmp_path: Path) -> None:
    """python3 on PATH can import policy, yet the hook refuses: it names the interpreter it was
    installed with instead of running another installation. Under GitLab every line is prefixed."""
    world = World(tmp_path, hook=False)
    gone = str(tmp_path / "old-venv" / "bin" / "python")
    write_server_hook(world, gone)
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    assert run([sys.executable, "-c", "import policy"], tmp_path, env=env).ok
    result = run(["git", "push", "origin", "main"], repo.path, env=env)
    assert not result.ok and f"{gone} (the Python this hook was installed with) is gone" in result.out, result.out
    assert "push refused (fail closed)" in result.out
    assert world.server_sha("refs/heads/main") is None
    gitlab = run(["git", "push", "origin", "main"], repo.path, env={**env, "GL_ID": "user-1"})
    said = [line for line in gitlab.out.splitlines() if line.startswith("remote: ")]
    assert not gitlab.ok and said and all(line.startswith("remote: GL-HOOK-ERR: branch-policy: ") for line in said)


def test_an_interpreter_under_a_directory_the_hook_user_cannot_enter(tmp_path: Path) -> None:
    """Root passes every permission check, so the hook runs as an unprivileged user: the refusal
    names the interpreter and the directory that user cannot enter."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("needs root to run the hook as another user")
    import pwd

    nobody = pwd.getpwnam("nobody")
    shared = tmp_path / "shared"
    shared.mkdir()
    private = tmp_path / "private-home"
    (private / "venv" / "bin").mkdir(parents=True)
    (private / "venv" / "bin" / "python").symlink_to(sys.executable)
    private.chmod(0o700)
    subprocess.run(["git", "init", "-q", "--bare", str(shared / "server.git")], check=True)
    server = World.__new__(World)
    server.root, server.server = shared, shared / "server.git"
    write_server_hook(server, str(private / "venv" / "bin" / "python"))
    subprocess.run(["git", "init", "-q", str(shared / "work")], check=True)
    (shared / "work" / "a.txt").write_text("a\n")
    for dirpath, _, files in os.walk(shared):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in files)]:
            os.chown(name, nobody.pw_uid, nobody.pw_gid)
    for parent in (tmp_path, *tmp_path.parents):  # pytest's temporary directories are private
        parent.chmod(parent.stat().st_mode | 0o011)
    env = {"HOME": str(shared), "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": os.environ["PATH"],
           "GIT_AUTHOR_NAME": "n", "GIT_AUTHOR_EMAIL": "n@example.com",
           "GIT_COMMITTER_NAME": "n", "GIT_COMMITTER_EMAIL": "n@example.com"}  # fmt: skip
    work = shared / "work"
    steps = [["git", "add", "a.txt"], ["git", "commit", "-q", "-m", "feat: a"],
             ["git", "push", str(shared / "server.git"), "HEAD:refs/heads/main"]]  # fmt: skip
    out = ""
    for step in steps:
        proc = subprocess.run(step, cwd=work, env=env, user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        out = proc.stdout
    assert proc.returncode != 0, out
    assert f"{private}/venv/bin/python (the Python this hook was installed with) cannot be run by user nobody" in out
    assert f"directory {private} is not searchable by that user" in out, out
    assert "push refused (fail closed)" in out and "policy command is missing" not in out


def test_copied_script_names_a_broken_branch_policy_python(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    shutil.copy2(SCRIPT, world.server / "hooks" / "pre-receive")
    repo = world.work
    repo.commit("feat: start", {"tasks/main/config.yaml": config()})
    gone = str(tmp_path / "nowhere" / "python")
    result = run(["git", "push", "origin", "main"], repo.path, env={"BRANCH_POLICY_PYTHON": gone, "GL_ID": "u-1"})
    assert not result.ok and f"remote: GL-HOOK-ERR: branch-policy: BRANCH_POLICY_PYTHON={gone}" in result.out
    assert world.server_sha("refs/heads/main") is None
    result = run(["git", "push", "origin", "main"], repo.path, env={"PATH": git_only_path(tmp_path), "GL_ID": "u-1"})
    assert not result.ok and "remote: GL-HOOK-ERR: branch-policy: branch-policy is not installed" in result.out


# --------------------------------------------------------------------------- the hook itself


def hook(server: Path, stdin: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policy", "hook", *(args or ("pre-receive",))], cwd=server, input=stdin, text=True,
        capture_output=True, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_garbage_on_stdin_and_git_missing_give_one_line(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = seeded
    garbage = hook(world.server, "this is not\x1b[31m a ref line\n")
    assert garbage.returncode == 2 and "Traceback" not in garbage.stderr
    assert garbage.stderr.splitlines() == [
        "branch-policy: line 1 of the hook's input is not '<old> <new> <ref>': this is not\\x1b[31m a ref line; "
        "push refused (fail closed)"
    ]
    line = f"{ZERO} {repo.sha('main')} refs/heads/feature-y\n"
    no_git = hook(world.server, line, env={"PATH": str(tmp_path)})
    assert no_git.returncode == 2 and len(no_git.stderr.splitlines()) == 1, no_git.stderr
    assert no_git.stderr.startswith("branch-policy: cannot run git: not found on PATH=")
    assert "fail closed" in no_git.stderr
    bad_update = hook(world.server, "", "update", "refs/heads/x", "nonsense", "also")
    assert bad_update.returncode == 2 and len(bad_update.stderr.splitlines()) == 1


def test_on_error_allow_still_refuses_what_was_found(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    """dev's deletion is judged (protected-ref) before main's update fails (an object the server
    does not have): on_error: allow lets through only what could not be judged."""
    world, repo = seeded
    allow = tmp_path / "allow.yaml"
    allow.write_text("on_error: allow\n")
    run(["git", "config", "branchpolicy.file", str(allow)], world.server)
    main, dev = repo.sha("main"), repo.sha("dev")
    result = hook(world.server, f"{dev} {ZERO} refs/heads/dev\n{main} {'1' * 40} refs/heads/main\n")
    assert result.returncode == 1, result.stderr
    assert "on_error: allow allows only what could not be judged" in result.stderr
    violation_lines = [line for line in result.stderr.splitlines() if "  " in line and not line.startswith(" ")]
    assert [line.split()[0] for line in violation_lines] == ["protected-ref"]
    alone = hook(world.server, f"{main} {'1' * 40} refs/heads/main\n")
    assert alone.returncode == 0 and "internal error, push allowed (on_error: allow)" in alone.stderr


def test_a_damaged_main_refuses_instead_of_judging_with_the_defaults(world: World) -> None:
    repo = world.work
    policy = "rules:\n  branch-name:\n    enabled: false\n"
    repo.commit("feat: start", {"tasks/main/config.yaml": config(), ".branch-policy.yaml": policy})
    assert repo.push("main").ok
    repo.branch("scratch")  # allowed only because main's policy turns branch-name off
    assert repo.push("scratch").ok
    blob = repo.git("rev-parse", "main:.branch-policy.yaml")
    assert loose(world.server, blob).exists()
    loose(world.server, blob).unlink()
    # A warm judge's worker that read main's policy before the damage keeps it (by main's commit:
    # the same policy, not the defaults); a judge started after it reads main anew, as a cold hook.
    run(policy_cmd("warm", "stop", str(world.server)), world.server)
    repo.branch("scratch-two")
    result = repo.push("scratch-two")
    assert not result.ok and "internal error, push refused (fail closed)" in result.out, result.out
    assert ".branch-policy.yaml (blob" in result.out and "damaged" in result.out
    assert world.server_sha("refs/heads/scratch-two") is None
    check = run(policy_cmd("check", "--ref", "scratch", "--old", ZERO, "--new", "main"), world.server)
    assert check.code == 2 and "damaged" in check.out, check.out
    tree = repo.git("rev-parse", "main^{tree}")
    loose(world.server, tree).unlink()
    result = repo.push("scratch-two")
    assert not result.ok and f"main's tree {tree} is missing" in result.out, result.out


def test_the_per_ref_update_hook_says_it_judges_refs_alone(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    hooks = world.server / "hooks"
    (hooks / "pre-receive").unlink()
    (hooks / "update").write_text(f'#!/bin/sh\nexec {sys.executable} -m policy hook update "$@"\n')
    (hooks / "update").chmod(0o755)
    feature(repo, "feature-a")
    repo.checkout("dev")
    repo.merge("feature-a", "Merge branch 'feature-a' into dev")
    result = repo.push("dev", "feature-a")
    assert refused(result, "merge-source"), result.out
    assert world.server_sha("refs/heads/feature-a") == repo.sha("feature-a")  # half of the push went in
    assert world.server_sha("refs/heads/dev") != repo.sha("dev")
    assert "per-ref update hook" in result.out and "in the same push" not in result.out.replace("'in the same", "")
    assert "push the source branch first, in a push of its own," in result.out
    assert repo.push("dev").ok  # following the hint: the source is on the server now
