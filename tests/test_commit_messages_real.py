"""commit-message with the messages git and the platforms really write: `git revert`,
`git commit --fixup`, merges carrying a merge button's message, pushed into a bare server with the
hook; the commit-msg hook correcting slips in place (`fix: true`); `policy check` saying what it
judged."""

from __future__ import annotations

import json
import os
import re
import subprocess

from conftest import ZERO, Repo, World, config, policy_cmd, refused, run

POLICY = """rules:
  commit-message:
    types: [feat, fix, docs, style, refactor, test, chore, task, i18n]
"""


def seed_with(world: World, policy: str = POLICY) -> Repo:
    """main (with this policy file) and dev on the server."""
    repo = world.work
    repo.commit(
        "feat: initial model and task layout",
        {"tasks/main/config.yaml": config(), "src/model.py": "class Model:\n    pass\n", ".branch-policy.yaml": policy},
    )
    assert repo.push("main").ok
    repo.branch("dev")
    assert repo.push("dev").ok
    return repo


def remote_lines(result_out: str) -> list[str]:
    """The server's lines, each violation with its hint (printed on the indented line after it)
    joined on as '  (hint: ...)'."""
    lines: list[str] = []
    for line in result_out.splitlines():
        if not line.startswith("remote:"):
            continue
        text = line[len("remote:") :].strip()
        if text.startswith("hint: ") and lines:
            lines[-1] = f"{lines[-1].rstrip()}  ({text})"
        else:
            lines.append(line)
    return lines


def test_what_git_writes_is_accepted_and_platform_merges_only_where_they_belong(world: World) -> None:
    repo = seed_with(world)
    repo.branch("feature-x")
    target = repo.commit("feat: add x", {"src/x.py": "x = 1\n"})
    repo.write({"src/x.py": "x = 2\n"})
    repo.git("commit", "-q", "--no-verify", "--fixup", target)
    repo.commit("i18n: add French", {"src/fr.py": "fr = 1\n"})  # a type with a digit, listed in the policy
    repo.git("revert", "--no-edit", "HEAD")
    assert repo.git("log", "-1", "--format=%s") == 'Revert "i18n: add French"'
    repo.git("commit", "-q", "--no-verify", "--allow-empty", "--squash", target, "-m", "and a note")
    assert repo.push("feature-x").ok

    # GitHub's merge button on dev: a real merge with its message is fine
    repo.checkout("dev")
    repo.merge("feature-x", "Merge pull request #31 from owner/feature-x\n\nAdd x")
    assert repo.push("dev").ok

    # the same words on a commit that is not a merge: refused
    repo.branch("feature-y")
    repo.commit("Merge pull request #32 from owner/feature-y", {"src/y.py": "y = 1\n"})
    result = repo.push("feature-y")
    assert refused(result, "commit-message"), result.out

    # main is strict: the merge button's message is refused, and the hint's command is accepted
    repo.checkout("main")
    repo.merge("dev", "Merge pull request #33 from owner/dev\n\nRelease")
    result = repo.push("main")
    assert refused(result, "commit-message"), result.out
    hint = next(line for line in remote_lines(result.out) if "commit-message" in line)
    redo = re.search(r"`([^`]+)`", hint)
    assert redo and redo.group(1).endswith("-m 'feat: merge dev'") and "<" not in hint, hint
    assert run(["sh", "-c", redo.group(1)], repo.path).ok  # the hint, typed literally
    assert repo.push("main").ok


def test_autosquash_commits_are_folded_before_a_strict_branch_takes_them(world: World) -> None:
    repo = seed_with(world, POLICY + "    strict_branches: [main, dev]\n")
    target = repo.commit("feat: add y", {"src/y.py": "y = 1\n"})
    repo.write({"src/y.py": "y = 2\n"})
    repo.git("commit", "-q", "--no-verify", "--fixup", target)
    result = repo.push("dev")
    assert refused(result, "commit-message"), result.out
    line = next(line for line in remote_lines(result.out) if "commit-message" in line)
    assert "fixup! commits are folded into the commit they fix before they land here" in line
    assert "(hint: fold it into the commit it fixes before pushing: git rebase -i --autosquash origin/dev)" in line
    # the hint, typed literally (the editor accepts the todo list git prepared)
    done = run(
        ["git", "rebase", "-q", "-i", "--autosquash", "origin/dev"], repo.path, env={"GIT_SEQUENCE_EDITOR": "true"}
    )
    assert done.ok, done.out
    assert repo.git("log", "--format=%s", "origin/dev..dev").splitlines() == ["feat: add y"]
    assert repo.push("dev").ok


def install_hooks(repo: Repo) -> None:
    result = run(policy_cmd("install"), repo.path)
    assert result.ok, result.out


def git_commit(repo: Repo, message: str, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    repo.write(files)
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.path, text=True, capture_output=True)


def test_the_commit_msg_hook_teaches_and_with_fix_corrects(world: World) -> None:
    repo = seed_with(world)
    install_hooks(repo)
    repo.branch("feature-drop")
    before = repo.sha()
    slip = git_commit(repo, "Feat(model) add dropout", {"src/drop.py": "p = 0.1\n"})
    assert slip.returncode != 0
    assert "did you mean 'feat(model): add dropout'?" in slip.stdout + slip.stderr
    assert repo.sha() == before

    # the policy on main turns fixing on
    repo.checkout("main")
    (repo.path / ".branch-policy.yaml").write_text(POLICY + "    fix: true\n")
    repo.git("commit", "-q", "--no-verify", "-am", "chore: fix commit messages in place")
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")  # the clients' view of main

    repo.checkout("feature-drop")
    fixed = git_commit(repo, "Feat(model) add dropout\nwith p = 0.1", {"src/drop.py": "p = 0.1\n"})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    said = fixed.stdout + fixed.stderr
    assert "fixed the subject: 'Feat(model) add dropout' -> 'feat(model): add dropout'" in said
    assert "added the blank line after the subject" in said
    assert repo.git("log", "-1", "--format=%B") == "feat(model): add dropout\n\nwith p = 0.1"

    # not a mechanical slip: still refused, with the suggestion, and the file is left alone
    guess = git_commit(repo, "feet: add more dropout", {"src/drop.py": "p = 0.2\n"})
    assert guess.returncode != 0 and "did you mean 'feat: add more dropout'?" in guess.stdout + guess.stderr
    assert "fixed" not in guess.stdout + guess.stderr

    # fixups are fine off strict branches, through the hook too
    target = repo.sha()
    repo.write({"src/drop.py": "p = 0.3\n"})
    fixup = subprocess.run(["git", "commit", "-q", "--fixup", target], cwd=repo.path, text=True, capture_output=True)
    assert fixup.returncode == 0, fixup.stdout + fixup.stderr


def check(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(policy_cmd("check", *args), cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ})  # fmt: skip
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_policy_check_says_what_it_judged(tmp_path: os.PathLike[str]) -> None:
    world = World(tmp_path, hook=False)  # CI before the hook: anything can be on the server
    repo = seed_with(world)
    old = repo.sha("dev")
    for i in range(3):
        repo.commit(f"feat: step {i}", {f"src/s{i}.py": f"s = {i}\n"})
    new = repo.sha()
    result = check(repo, "--rules", "commit-message", "--ref", "dev", "--old", old, "--new", new)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"dev: 3 commits judged ({old[:7]}..{new[:7]}), 0 violations"

    nothing = check(repo, "--rules", "commit-message", "--ref", "dev", "--old", new, "--new", new)
    assert nothing.stdout.splitlines()[-1] == f"dev: 0 commits judged ({new[:7]}..{new[:7]}), 0 violations"

    repo.commit("Feat: step 3", {"src/s3.py": "s = 3\n"})
    data = json.loads(check(repo, "--ref", "dev", "--old", old, "--new", "HEAD", "--format", "json").stdout)
    assert data["judged"] == 4 and data["ok"] is False
    assert [v["message"] for v in data["violations"]] == [
        "type 'Feat' is written 'feat' here: did you mean 'feat: step 3'?"
    ]

    assert repo.push("dev").ok
    repo.branch("feature-z")
    repo.commit("feat: z", {"src/z.py": "z = 1\n"})
    created = check(repo, "--ref", "feature-z", "--old", ZERO, "--new", "feature-z")
    assert created.stdout.splitlines()[-1].startswith("feature-z: 1 commit judged (0000000..")
    merged = check(repo, "--merge", "feature-z", "--into", "dev")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert merged.stdout.splitlines()[-1].startswith("feature-z into dev: 1 commit judged (")
