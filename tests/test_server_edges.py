"""Edge cases and hostile input at a real server: real `git push` into a bare repository whose
pre-receive hook `policy install --server` wrote. Nothing is mocked; internal errors are provoked
with a real misconfiguration of the server repository."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Optional

import pytest
from conftest import Repo, Result, World, config, policy_cmd, refused, run, seed

from policy.config import RULE_IDS

TASK = "task-0.1.0-20261126-a"

# File names a careless or hostile user can commit. Each maps to how the refusal must print it.
HOSTILE: dict[bytes, str] = {
    b"-x\nname": "-x\\nname",
    b"-rf": "-rf",
    "résumé 1.txt".encode(): "résumé 1.txt",
    b"tab\there": "tab\\there",
    b"evil\x1b[31m": "evil\\x1b[31m",
    b"bad\xff\xfe.txt": "bad\\xff\\xfe.txt",
    b"cr\rforged": "cr\\rforged",
    "bidi\u202etxt.exe".encode(): "bidi\\u202etxt.exe",
}


# --------------------------------------------------------------------------- helpers


def push(repo: Repo, *refspecs: str, env: Optional[dict[str, str]] = None, atomic: bool = False) -> Result:
    """`git push` whose output may hold bytes that are not UTF-8 (kept as surrogate escapes)."""
    args = ["git", "push", "--porcelain", *(["--atomic"] if atomic else []), "origin", *refspecs]
    proc = subprocess.run(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env={**os.environ, **(env or {})})  # fmt: skip
    return Result(proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"))


def violations(result: Result, prefix: str = "") -> list[list[str]]:
    """The refusal's violations, split into their fields: rule, sha, where, message, and the hint
    (printed on the indented line after, given here as '(hint: ...)')."""
    found: list[list[str]] = []
    for line in result.out.splitlines():
        head = f"remote: {prefix}"
        if line.startswith(head):
            text = line[len(head) :].rstrip()  # git pads sideband lines with blanks
            if text.startswith("    hint: ") and found and len(found[-1]) == 4:
                found[-1].append(f"(hint: {text[len('    hint: ') :]})")
                continue
            fields = text.split("  ")
            if fields[0] in RULE_IDS:
                found.append(fields)
    return found


def where(result: Result, rule: str) -> list[str]:
    """The paths of `rule`'s violations: each line's own, and the others of the same mistake that
    the line lists ('(and 2 more: a, b)')."""
    paths = []
    for v in violations(result):
        if v[0] == rule:
            paths.append(v[2])
            more = re.search(r" \(and \d+ more: (.*)\)$", v[3])
            paths += more.group(1).split(", ") if more else []
    return sorted(paths)


def stage(repo: Repo, path: bytes, content: bytes = b"data\n") -> None:
    """Put a file into the index under its exact byte name (no work-tree file needed)."""
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=content,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    cacheinfo = b"100644," + blob + b"," + path
    subprocess.run([b"git", b"update-index", b"--add", b"--cacheinfo", cacheinfo], cwd=repo.path,
                   capture_output=True, check=True)  # fmt: skip


def commit_paths(repo: Repo, message: str, paths: list[bytes]) -> str:
    for path in paths:
        stage(repo, path)
    repo.git("commit", "-q", "--no-verify", "-m", message)
    repo.git("reset", "-q", "--hard")
    return repo.sha()


def server_paths(world: World, ref: str) -> set[bytes]:
    out = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", ref], cwd=world.server,
                         capture_output=True, check=True).stdout  # fmt: skip
    return set(out.split(b"\0")) - {b""}


def start_task(repo: Repo, name: str = TASK) -> str:
    repo.checkout("main")
    repo.branch(name)
    repo.commit("task: start", {f"tasks/{name}/config.yaml": config()})
    return name


def feature(repo: Repo, name: str, message: str = "feat: work", files: Optional[dict] = None) -> str:
    repo.checkout("dev")
    repo.branch(name)
    return repo.commit(message, files or {f"src/{name}.py": "x = 1\n"})


def no_raw_controls(result: Result) -> None:
    """Nothing from a commit reached the output raw: no ESC, BEL, CR, bidi override."""
    for ch in ("\x1b", "\x07", "\r", "\u202e"):
        assert ch not in result.out, (ch, result.out)


def server_config(world: World, *args: str) -> None:
    assert run(["git", "config", *args], world.server).ok


# --------------------------------------------------------------------------- hostile file names


def test_hostile_names_inside_the_own_task_folder_are_accepted_exactly(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    start_task(repo)
    names = [f"tasks/{TASK}/".encode() + name for name in HOSTILE]
    commit_paths(repo, "task: odd file names", names)
    result = push(repo, TASK)
    assert result.ok, result.out
    assert set(names) <= server_paths(world, f"refs/heads/{TASK}")


def test_hostile_names_outside_the_task_folder_are_refused_and_escaped(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    start_task(repo)
    assert push(repo, TASK).ok
    commit_paths(repo, "task: odd file names", list(HOSTILE))
    result = push(repo, TASK)
    assert refused(result, "task-scope"), result.out
    assert where(result, "task-scope") == sorted(HOSTILE.values())
    for fields in violations(result):
        assert len(fields) == 5 and fields[4].startswith("(hint: "), fields  # no line was split or forged
    no_raw_controls(result)
    assert world.server_sha(f"refs/heads/{TASK}") == repo.sha("origin/" + TASK)


def test_hostile_names_in_a_feature_branch_hint_is_escaped_too(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo, "feature-weights")
    commit_paths(repo, "feat: weights", [b"models/evil\x1b[31m\nnet.pt"])
    result = push(repo, "feature-weights")
    assert refused(result, "large-file"), result.out
    [line] = violations(result)
    assert line[2] == "models/evil\\x1b[31m\\nnet.pt"
    assert "models/evil\\x1b[31m\\nnet.pt" in line[4]  # the hint names the file as well
    no_raw_controls(result)


def test_control_characters_in_commit_messages_are_escaped(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo, "feature-ansi", "wip \x1b[2J\x1b[31mred\x07 text\rfeat: forged")
    result = push(repo, "feature-ansi")
    assert refused(result, "commit-message"), result.out
    assert "x1b[2J" in result.out and "x07" in result.out
    no_raw_controls(result)
    assert not any(line.startswith("remote: feat: forged") for line in result.out.splitlines())


def test_subject_length_counts_the_whole_first_line(seeded: tuple[World, Repo]) -> None:
    """Only a newline ends git's subject line: a vertical tab, form feed, NEL or line separator in
    it does not make a 100-character subject short."""
    _, repo = seeded
    for sep in ("\x0b", "\x0c", "\x1c", "\u0085", "\u2028"):
        feature(repo, "feature-long", f"feat: short{sep}" + "x" * 100)
        result = push(repo, "feature-long")
        assert refused(result, "commit-message"), (repr(sep), result.out)
        assert "over the limit of 72" in result.out
        no_raw_controls(result)
        repo.checkout("dev")
        repo.git("branch", "-D", "feature-long")


def test_ref_names_that_are_not_utf8(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.git("tag", "caf\udce9")  # a lightweight, non-version tag: anything goes
    result = push(repo, "refs/tags/caf\udce9")
    assert result.ok, result.out
    repo.git("branch", "feature-caf\udce9", "main")
    result = push(repo, "refs/heads/feature-caf\udce9")
    assert refused(result, "branch-name"), result.out
    assert [v[2] for v in violations(result)] == ["feature-caf\\xe9"]
    assert world.server_sha("refs/heads/feature-caf\udce9") is None
    repo.git("branch", "feature-\u202eevil\u009b", "main")  # git allows bidi overrides and C1 controls
    result = push(repo, "feature-\u202eevil\u009b")
    assert [v[2] for v in violations(result)] == ["feature-\\u202eevil\\x9b"], result.out
    assert "\u202e" not in "".join(line for line in result.out.splitlines() if line.startswith("remote:"))


def test_ref_names_that_are_not_utf8_where_stdin_is_strict(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.git("tag", "caf\udce9")
    result = push(repo, "refs/tags/caf\udce9", env={"PYTHONIOENCODING": "utf-8:strict"})
    assert result.ok and "Traceback" not in result.out, result.out


# --------------------------------------------------------------------------- task folders


def test_prefix_sharing_task_folders(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    short, long = "task-0.1.0-20261126-a", "task-0.1.0-20261126-ab"
    start_task(repo, short)
    start_task(repo, long)
    assert push(repo, short, long).ok  # each in its own folder, one push
    repo.commit("task: next door", {f"tasks/{short}/x.txt": "x\n"})
    result = push(repo, long)
    assert refused(result, "task-scope"), result.out
    assert where(result, "task-scope") == [f"tasks/{short}/x.txt"]
    repo.git("reset", "-q", "--hard", "origin/" + long)
    repo.commit("task: a file named like the folder", {f"tasks/{long}.txt": "x\n"})
    result = push(repo, long)
    assert where(result, "task-scope") == [f"tasks/{long}.txt"], result.out
    repo.git("reset", "-q", "--hard", "origin/" + long)
    repo.commit("task: own folder", {f"tasks/{long}/y.txt": "y\n"})
    assert push(repo, long).ok


def test_renames_across_the_task_boundary_and_deletions(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    start_task(repo)
    repo.commit("task: notes", {f"tasks/{TASK}/notes.txt": "notes\n"})
    assert push(repo, TASK).ok
    other = "tasks/task-0.1.0-20261126-b"
    cases = [
        (["mv", f"tasks/{TASK}/notes.txt", "src/notes.txt"], ["src/notes.txt"]),  # out of the folder
        (["mv", "src/model.py", f"tasks/{TASK}/model.py"], ["src/model.py"]),  # into the folder
        (["mv", f"tasks/{TASK}", other], [f"{other}/config.yaml", f"{other}/notes.txt"]),  # to another task's
        (["rm", "-q", "README.md"], ["README.md"]),  # a deletion outside is a change too
        (["rm", "-q", "tasks/main/train.py"], ["tasks/main/train.py"]),
    ]
    for command, outside in cases:
        repo.git(*command)
        repo.commit("chore: move things")
        result = push(repo, TASK)
        assert refused(result, "task-scope"), (command, result.out)
        assert where(result, "task-scope") == outside, (command, result.out)
        repo.git("reset", "-q", "--hard", "origin/" + TASK)


# --------------------------------------------------------------------------- bootstrap, new refs


def test_bootstrap_then_direct_commits_are_refused(world: World) -> None:
    repo = world.work
    repo.commit("feat: one", {"tasks/main/config.yaml": config(), "a.py": "1\n"})
    repo.commit("feat: two", {"b.py": "2\n"})
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    repo.git("branch", "dev")
    result = push(repo, "main", "dev", "v0.1.0")  # creates main, dev and the first release at once
    assert result.ok, result.out
    repo.commit("feat: three", {"c.py": "3\n"})
    result = push(repo, "main")
    assert refused(result, "main-direct-commit"), result.out
    assert world.server_sha("refs/heads/main") == repo.sha("HEAD~1")


def test_new_branches_without_new_commits(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    result = push(repo, "main:refs/heads/feature-x", f"main:refs/heads/{TASK}", "main:refs/heads/hotfix-y",
                  "dev:refs/heads/debug-0.1.0-20261126-look")  # fmt: skip
    assert result.ok, result.out
    assert world.server_sha(f"refs/heads/{TASK}") == repo.sha("main")
    result = push(repo, "main:refs/heads/task-0.0.9-20261126-stale")
    assert refused(result, "task-base"), result.out
    result = push(repo, "main:refs/heads/experiment")
    assert refused(result, "branch-name"), result.out


def test_a_branch_created_at_a_debug_tip_carries_the_debug_run(seeded: tuple[World, Repo]) -> None:
    """No new commits for the repository, but the debug branch's commits count as judged only
    for debug branches: a feature branch started at its tip is refused."""
    world, repo = seeded
    name = "debug-0.1.0-20261126-probe"
    repo.branch(name, "dev")
    repo.commit("chore: debug run", {f"tasks/{name}/log": "ok\n"})
    repo.commit("fix: patch found while debugging", {"src/model.py": "patched = 1\n"})
    assert push(repo, name).ok
    result = push(repo, f"{name}:refs/heads/feature-from-debug")
    assert refused(result, "debug-leak"), result.out
    # one refusal for the whole route: both commits are the debug branch's
    assert where(result, "debug-leak") == ["feature-from-debug"]
    assert f"2 commits (the newest {repo.sha()[:7]}) are only on {name}" in result.out
    assert world.server_sha("refs/heads/feature-from-debug") is None


# --------------------------------------------------------------------------- tags


def test_tags(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.checkout("main")
    repo.git("tag", "v0.1.0")
    assert refused(push(repo, "v0.1.0"), "version-tag")  # lightweight
    repo.git("tag", "-d", "v0.1.0")
    repo.git("tag", "-a", "v0.1.0", "-m", "tree, not a commit", "main^{tree}")
    result = push(repo, "v0.1.0")
    assert refused(result, "version-tag"), result.out
    assert "does not point at a commit" in result.out
    repo.git("tag", "-d", "v0.1.0")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    assert push(repo, "v0.1.0").ok
    repo.git("tag", "v1.2")  # not semver: not a version tag
    repo.git("tag", "-a", "candidate", "-m", "any tag", "dev")
    repo.git("tag", "expérience")
    assert push(repo, "v1.2", "candidate", "expérience").ok
    assert push(repo, "--delete", "refs/tags/v1.2", "refs/tags/candidate", "refs/tags/expérience").ok
    assert world.server_sha("refs/tags/candidate") is None
    assert refused(push(repo, "--delete", "refs/tags/v0.1.0"), "protected-ref")


# --------------------------------------------------------------------------- deletions


def test_deletions(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    start_task(repo)
    feature(repo, "feature-gone")
    repo.branch("debug-0.1.0-20261126-gone", "dev")
    assert push(repo, TASK, "feature-gone", "debug-0.1.0-20261126-gone").ok
    assert push(repo, "--delete", TASK, "feature-gone", "debug-0.1.0-20261126-gone").ok
    assert world.server_sha("refs/heads/feature-gone") is None
    assert push(repo, "feature-gone").ok
    for protected in ("main", "dev"):
        result = push(repo, "--delete", protected, "feature-gone")  # the good deletion goes down with it
        assert refused(result, "protected-ref"), result.out
        assert world.server_sha(f"refs/heads/{protected}") is not None
        assert world.server_sha("refs/heads/feature-gone") is not None


# --------------------------------------------------------------------------- multi-ref pushes


@pytest.mark.parametrize("atomic", [False, True])
def test_one_bad_ref_refuses_the_whole_push_and_every_bad_ref_is_named(
    seeded: tuple[World, Repo], atomic: bool
) -> None:
    world, repo = seeded
    feature(repo, "feature-a")
    feature(repo, "feature-b", "bad message b")
    feature(repo, "feature-c", "feat: weights", {"models/c.pt": "weights\n"})
    feature(repo, "feature-d", "another bad message")
    result = push(repo, "feature-a", "feature-b", "feature-c", "feature-d", atomic=atomic)
    assert not result.ok
    assert sorted((v[0], v[2]) for v in violations(result)) == [
        ("commit-message", "feature-b"),
        ("commit-message", "feature-d"),
        ("large-file", "models/c.pt"),
    ], result.out
    assert "3 violations" in result.out
    for name in "abcd":
        assert world.server_sha(f"refs/heads/feature-{name}") is None
    assert push(repo, "feature-a", atomic=atomic).ok


# --------------------------------------------------------------------------- trust


RELAX = "rules:\n  commit-message: false\n  main-direct-commit: false\n"


def test_a_push_cannot_loosen_the_policy_that_judges_it(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.checkout("dev")
    repo.commit("chore: relax the policy", {".branch-policy.yaml": RELAX})
    repo.commit("wip", {"src/wip.py": "w = 1\n"})
    repo.checkout("main")
    repo.merge("dev", "feat: release the relaxed policy")
    result = push(repo, "dev", "main")
    assert refused(result, "commit-message"), result.out
    assert world.server_sha("refs/heads/main") == repo.sha("origin/main")

    # the policy change alone lands (it is itself a well-formed change) ...
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.checkout("dev")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.checkout("main")
    repo.merge("dev", "feat: release the relaxed policy")
    repo.commit("direct on main, but not yet allowed", {"src/direct.py": "d = 1\n"})
    result = push(repo, "dev", "main")
    assert refused(result, "main-direct-commit"), result.out  # judged by main before the push
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert push(repo, "dev", "main").ok

    # ... and from then on the server judges by it
    repo.commit("direct on main, now allowed", {"src/direct.py": "d = 1\n"})
    result = push(repo, "main")
    assert result.ok, result.out


def test_a_malformed_policy_file_cannot_reach_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("chore: policy", {".branch-policy.yaml": "rules:\n  hotfix-size:\n    max_lines: lots\n"})
    repo.checkout("main")
    repo.merge("dev", "feat: release the policy")
    result = push(repo, "dev", "main")
    assert not result.ok and ".branch-policy.yaml:3" in result.out, result.out
    assert any(line.split()[1:2] == ["policy-file"] for line in result.out.splitlines()), result.out


# --------------------------------------------------------------------------- malformed policy on main


BAD_POLICY = "version: 1\nrules:\n  hotfix-size:\n    max_lines: lots\n"


def unguarded(tmp_path: Path, policy: str) -> tuple[World, Repo]:
    """A server whose main carries `policy`, put there before the hook was installed."""
    world = World(tmp_path, hook=False)
    repo = seed(world)
    repo.checkout("main")
    repo.commit("chore: policy", {".branch-policy.yaml": policy})
    assert push(repo, "main").ok
    result = run(policy_cmd("install", "--server", str(world.server)), tmp_path)
    assert result.ok, result.out
    return world, repo


def test_malformed_policy_on_main_refuses_every_push_until_an_admin_names_one(tmp_path: Path) -> None:
    world, repo = unguarded(tmp_path, BAD_POLICY)
    feature(repo, "feature-fine")
    result = push(repo, "feature-fine")
    assert not result.ok
    assert "main:.branch-policy.yaml:4: rules.hotfix-size.max_lines: expected a whole number" in result.out
    assert "Traceback" not in result.out
    assert world.server_sha("refs/heads/feature-fine") is None

    good = tmp_path / "good.yaml"
    good.write_text("rules:\n  commit-message: false\n")
    server_config(world, "branchpolicy.file", str(good))
    feature(repo, "feature-sloppy", "sloppy message")
    result = push(repo, "feature-fine", "feature-sloppy")
    assert result.ok, result.out  # judged by the admin's file, which turns commit-message off
    feature(repo, "feature-weights", "feat: weights", {"w.pt": "w\n"})
    assert refused(push(repo, "feature-weights"), "large-file")  # ... and only that off


def test_policy_file_that_is_a_directory_fails_closed(seeded: tuple[World, Repo], tmp_path: Path) -> None:
    world, repo = seeded
    server_config(world, "branchpolicy.file", str(tmp_path))
    feature(repo, "feature-fine")
    result = push(repo, "feature-fine")
    assert not result.ok
    assert f"{tmp_path}: cannot read the policy file" in result.out
    assert "fails closed" in result.out and "Traceback" not in result.out


# --------------------------------------------------------------------------- GitLab


def test_gitlab_prefix_on_every_line(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo, "feature-gl", "bad message")
    result = push(repo, "feature-gl", env={"GL_ID": "user-1"})
    assert not result.ok
    remote = [line for line in result.out.splitlines() if line.startswith("remote:")]
    assert remote and all(line.startswith("remote: GL-HOOK-ERR: ") for line in remote), result.out
    assert [v[:1] + v[2:3] for v in violations(result, "GL-HOOK-ERR: ")] == [["commit-message", "feature-gl"]]
    plain = push(repo, "feature-gl")
    assert refused(plain, "commit-message") and "GL-HOOK-ERR" not in plain.out


# --------------------------------------------------------------------------- fail closed


def test_internal_error_fails_closed_unless_the_policy_allows(tmp_path: Path) -> None:
    """A real internal error: a server whose config git log cannot parse (receive-pack can)."""
    world, repo = unguarded(tmp_path, "on_error: refuse\n")
    server_config(world, "diff.algorithm", "no-such-algorithm")
    feature(repo, "feature-fine")
    result = push(repo, "feature-fine")
    assert not result.ok
    assert "internal error, push refused (fail closed)" in result.out, result.out
    assert "Traceback" not in result.out
    assert world.server_sha("refs/heads/feature-fine") is None

    allow = tmp_path / "allow.yaml"
    allow.write_text("on_error: allow\n")
    server_config(world, "branchpolicy.file", str(allow))
    result = push(repo, "feature-fine")
    assert result.ok, result.out
    assert "internal error, push allowed (on_error: allow)" in result.out


# --------------------------------------------------------------------------- pre-existing hook


LEGACY = """#!/bin/sh
while read old new ref; do
  case "$ref" in *forbidden*) echo "legacy hook: $ref is forbidden here" >&2; exit 1;; esac
done
exit 0
"""


def test_install_keeps_a_foreign_pre_receive_hook(tmp_path: Path) -> None:
    world = World(tmp_path, hook=False)
    hook = world.server / "hooks" / "pre-receive"
    hook.write_text(LEGACY)
    hook.chmod(0o755)
    result = run(policy_cmd("install", "--server", str(world.server)), tmp_path)
    assert not result.ok and "--force" in result.out
    assert hook.read_text() == LEGACY
    assert not (world.server / "hooks" / "pre-receive.legacy").exists()

    result = run(policy_cmd("install", "--force", "--server", str(world.server)), tmp_path)
    assert result.ok, result.out
    assert (world.server / "hooks" / "pre-receive.legacy").read_text() == LEGACY
    repo = seed(world)
    feature(repo, "feature-forbidden")
    result = push(repo, "feature-forbidden")
    assert not result.ok and "legacy hook: refs/heads/feature-forbidden is forbidden here" in result.out
    feature(repo, "feature-ok", "bad message")
    assert refused(push(repo, "feature-ok"), "commit-message")  # ours still runs after it
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "feat: fine")
    assert push(repo, "feature-ok").ok
    assert world.server_sha("refs/heads/feature-ok") == repo.sha()


# --------------------------------------------------------------------------- hostile task configs


def _bomb(levels: int = 9) -> str:
    lines = ["x0: &x0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nMODEL_PATH: *x{levels - 1}\n"


HOSTILE_CONFIGS = {
    "an impossible date": config().replace("RESUME: null", "RESUME: 2026-13-45"),
    "a 5000-digit number": config().replace("RANDOM_SEED: 42", "RANDOM_SEED: " + "9" * 5000),
    "a 5000-digit version": config(version="9" * 5000 + ".0.0"),
    "2000 levels of nesting": config().replace("TRAIN: true", "TRAIN: " + "[" * 2000 + "]" * 2000),
    "a billion laughs": config().replace("MODEL_PATH: null\n", "") + _bomb(),
}


def test_hostile_task_configs_are_violations_not_crashes(seeded: tuple[World, Repo]) -> None:
    """Anyone who may push a task branch writes its config.yaml: what PyYAML chokes on is a
    task-config violation, never an internal error (which on_error: allow would let through)."""
    _, repo = seeded
    start_task(repo)
    shas = {repo.commit(f"task: {what}", {f"tasks/{TASK}/config.yaml": text}): what
            for what, text in HOSTILE_CONFIGS.items()}  # fmt: skip
    result = push(repo, TASK)
    assert "internal error" not in result.out, result.out
    found = {v[1] for v in violations(result) if v[0] == "task-config"}
    assert found == {sha[:7] for sha in shas}, result.out
    assert all(len(line) < 2000 for line in result.out.splitlines())


def test_a_first_mirror_push_of_an_existing_project_is_accepted(tmp_path: Path) -> None:
    """Moving a project under the hook: main, dev and task runs merged into main, all pushed at once
    into an empty server (a bootstrap). The runs' history is main's: accepted, and judged."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "hooked").mkdir()
    plain = World(tmp_path / "plain", hook=False)
    repo = seed(plain)
    run = "task-0.1.0-20261126-lr"
    repo.branch(run, "main")
    repo.commit("task: lr 1e-3", {f"tasks/{run}/config.yaml": config(), f"tasks/{run}/metrics.json": "{}\n"})
    repo.checkout("main")
    repo.merge(run, f"task: merge {run}")
    hooked = World(tmp_path / "hooked")
    repo.git("remote", "set-url", "origin", str(hooked.server))
    result = push(repo, "main", "dev", run)
    assert result.ok, result.out
    assert hooked.server_sha(f"refs/heads/{run}") == repo.sha(run)
