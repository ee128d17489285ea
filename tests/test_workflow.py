"""The workflow commands one by one: what they make, what they refuse (before touching anything),
--dry-run, and putting the repository back when a step or the engine's verdict fails."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml
from conftest import Repo, World, config
from workflow_helpers import cli, current, fingerprint, is_ancestor, ok, ok_and_push, pushed, told_push

from policy.workflow import yamledit
from policy.workflow.errors import WorkflowError
from policy.workflow.listing import collect
from policy.workflow.workspace import Workspace

T1, T2 = "20260101-100000", "20260102-110000"


def refuses(repo: Repo, code: int, needle: str, *args: str) -> str:
    """Run a command that must be refused with `code`, mention `needle`, and change nothing."""
    before = fingerprint(repo)
    out = cli(repo, *args)
    assert out.code == code, out.show()
    assert needle in out.stderr, out.show()
    assert "Traceback" not in out.stderr, out.show()
    assert fingerprint(repo) == before, "the refused command changed the repository"
    return out.stderr


def hook(repo: Repo, name: str) -> None:
    path = repo.path / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def start_task(repo: Repo, slug: str, time: str, *extra: str) -> str:
    return ok_and_push(repo, "task", "start", slug, "--time", time, *extra)


def commit_run(repo: Repo, task: str, message: str, **values: object) -> None:
    """Set config values in the run's folder (one line each) and commit them."""
    path = repo.path / "tasks" / task / "config.yaml"
    text = path.read_text()
    for key, value in values.items():
        lines = text.splitlines()
        if any(line.startswith(f"{key}:") for line in lines):
            text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines) + "\n"
        else:
            text += f"{key}: {value}\n"
    repo.write({f"tasks/{task}/config.yaml": text})
    repo.git("commit", "-q", "-m", message)


# --------------------------------------------------------------------------- task start


def test_task_start_names_copies_and_commits(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    out = cli(repo, "task", "start", "lr-small", "--time", T1)
    assert out.code == 0, out.show()
    name = f"task-0.1.0-{T1}-lr-small"
    assert out.stdout == name + "\n"  # only the name: branch=$(policy task start ...) works
    assert current(repo) == name
    assert repo.git("rev-parse", "HEAD^") == repo.sha("main")
    assert repo.git("rev-parse", f"HEAD:tasks/{name}") == repo.git("rev-parse", "main:tasks/main")
    assert repo.git("log", "-1", "--format=%s") == "task: start lr-small"
    assert repo.git("diff", "--name-only", "HEAD^", "HEAD").splitlines() == [
        f"tasks/{name}/config.yaml",
        f"tasks/{name}/train.py",
    ]
    pushed(repo, name)


def test_task_start_refuses_a_dirty_work_tree(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    (repo.path / "src/model.py").write_text("class Model:\n    changed = True\n")
    refuses(repo, 2, "uncommitted changes (src/model.py)", "task", "start", "lr-small")
    repo.git("add", "src/model.py")
    refuses(repo, 2, "git stash", "task", "start", "lr-small")


@pytest.mark.parametrize("slug", ["Big-LR", "with space", "-lead", "a/b", "ünï", ""])
def test_task_start_refuses_a_slug_that_makes_a_bad_name(seeded: tuple[World, Repo], slug: str) -> None:
    _, repo = seeded
    refuses(repo, 2, "slug", "task", "start", "--", slug)


def test_task_start_refuses_a_bad_time(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    refuses(repo, 2, "time '2026-01-01' is not valid", "task", "start", "x", "--time", "2026-01-01")


def test_task_start_refuses_an_existing_branch(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    name = start_task(repo, "lr-small", T1)
    repo.checkout("main")
    refuses(repo, 2, f"branch {name} exists already", "task", "start", "lr-small", "--time", T1)
    # a branch someone else pushed counts too, even if it is not local here
    other = world.clone("other")
    taken = ok(other, "task", "start", "taken", "--time", T2)
    pushed(other, taken)
    repo.git("fetch", "-q")
    refuses(repo, 2, "exists already", "task", "start", "taken", "--time", T2)


def test_task_start_from_another_task_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    first = start_task(repo, "base-run", T1)
    second = start_task(repo, "follow-up", T2, "--from", first)
    assert repo.git("rev-parse", f"{second}^") == repo.sha(first)
    refuses(repo, 2, "starts from main or task, and dev is not one", "task", "start", "x", "--from", "dev")


# --------------------------------------------------------------------------- debug start


def test_debug_start_sets_debug_true_and_marks_the_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded  # on dev
    name = ok_and_push(repo, "debug", "start", "smoke", "--time", T1)
    assert name == f"debug-0.1.0-{T1}-smoke"
    assert repo.git("rev-parse", f"{name}^") == repo.sha("dev")
    copied = repo.git("show", f"HEAD:tasks/{name}/config.yaml").splitlines()
    original = repo.git("show", "main:tasks/main/config.yaml").splitlines()
    assert [i for i, (a, b) in enumerate(zip(original, copied)) if a != b] == [original.index("DEBUG: false")]
    assert yaml.safe_load("\n".join(copied))["DEBUG"] is True
    assert "never merged" in repo.git("config", f"branch.{name}.description")
    repo.checkout("dev")
    refuses(repo, 1, "debug-leak", "merge", name)


def test_debug_start_needs_main_or_dev(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-x")
    refuses(repo, 2, "debug runs start from main or dev", "debug", "start", "smoke")
    name = ok_and_push(repo, "debug", "start", "smoke", "--from", "main", "--time", T1)
    assert repo.git("rev-parse", f"{name}^") == repo.sha("main")


# --------------------------------------------------------------------------- task finish


def test_task_finish_merges_into_main_and_dev(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    task = start_task(repo, "lr-small", T1)
    commit_run(repo, task, "task: lr 5e-4", LEARNING_RATE=0.0005)
    pushed(repo, task)
    out = cli(repo, "task", "finish", "--dev")
    assert out.code == 0, out.show()
    assert current(repo) == "main"
    for branch in ("main", "dev"):
        parents = repo.git("log", "-1", "--format=%P", branch).split()
        assert parents[1:] == [repo.sha(task)]
        assert repo.git("log", "-1", "--format=%s", branch) == f"task: merge {task} into {branch}"
    pushed(repo, "main", "dev")
    again = cli(repo, "task", "finish", task, "--dev")
    assert again.code == 0 and "already merged" in again.stderr, again.show()


def test_task_finish_of_an_unpushed_run_is_one_push(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    task = ok(repo, "task", "start", "lr-small", "--time", T1)  # not pushed
    commit_run(repo, task, "task: lr 5e-4", LEARNING_RATE=0.0005)
    out = cli(repo, "task", "finish")
    assert out.code == 0, out.show()
    assert told_push(out) == ["main", task]
    pushed(repo, "main", task)


def test_squash_merge_of_a_task_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    task = start_task(repo, "lr-small", T1)
    commit_run(repo, task, "task: lr 5e-4", LEARNING_RATE=0.0005)
    pushed(repo, task)
    repo.checkout("main")
    refuses(repo, 2, "task-type", "merge", task, "--squash", "-m", "feat: results")
    ok_and_push(repo, "merge", task, "--squash")
    assert repo.git("log", "-1", "--format=%s") == f"task: merge {task} into main"
    assert repo.git("rev-parse", f"main:tasks/{task}") == repo.git("rev-parse", f"{task}:tasks/{task}")


def test_task_finish_refuses_a_task_branch_that_breaks_task_scope(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    task = start_task(repo, "lr-small", T1)
    repo.commit("task: tweak the model too", {"src/model.py": "class Model:\n    tweaked = True\n"})
    stderr = refuses(repo, 1, "task-scope", "task", "finish")
    assert "src/model.py" in stderr and "nothing was changed" in stderr
    assert not is_ancestor(repo, task, "main")
    repo.checkout("main")
    refuses(repo, 1, "task-scope", "merge", task)


def hotfix_on_main_then_task(repo: Repo) -> str:
    """main gets a hotfix that dev lacks, then a task run starts from main's tip."""
    repo.branch("hotfix-eps", "main")
    repo.commit("fix(model): epsilon", {"src/model.py": "class Model:\n    eps = 1e-6\n"})
    pushed(repo, "hotfix-eps")
    repo.checkout("main")
    ok_and_push(repo, "merge", "hotfix-eps")
    task = start_task(repo, "lr-small", T1)
    commit_run(repo, task, "task: lr 5e-4", LEARNING_RATE=0.0005)
    pushed(repo, task)
    return task


def test_task_finish_into_a_dev_behind_main_is_refused_up_front(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    task = hotfix_on_main_then_task(repo)
    stderr = refuses(repo, 2, "would also change src/model.py", "task", "finish", "--dev")
    assert "dev lacks commits of main" in stderr
    repo.checkout("dev")
    ok_and_push(repo, "merge", "hotfix-eps")  # what dev lacked
    ok_and_push(repo, "task", "finish", task, "--dev")
    assert is_ancestor(repo, task, "dev") and is_ancestor(repo, task, "main")


def test_dev_takes_main_while_a_task_branch_sits_on_mains_tip(seeded: tuple[World, Repo]) -> None:
    """A task branch started from main's tip contains it; merging main into dev is still main's
    merge, not a task merge (once refused with task-type)."""
    _, repo = seeded
    hotfix_on_main_then_task(repo)
    repo.checkout("dev")
    repo.git("merge", "-q", "--no-ff", "-m", "chore: merge main into dev", "main")
    pushed(repo, "dev")


def test_task_finish_checks_the_message(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    start_task(repo, "lr-small", T1)
    refuses(repo, 2, "task-type", "task", "finish", "-m", "feat: results")
    refuses(repo, 2, "commit-message", "task", "finish", "-m", "results are in")


# --------------------------------------------------------------------------- merge


def test_merge_refuses_a_disallowed_source(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-x", "dev")
    repo.commit("feat: x")
    debug = ok(repo, "debug", "start", "smoke", "--from", "dev", "--time", T1)
    repo.checkout("main")
    assert "feature-x (a feature branch)" in refuses(repo, 1, "merge-source", "merge", "feature-x")
    refuses(repo, 1, "merge-source", "merge", "feature-x", "--squash")
    refuses(repo, 1, "debug-leak", "merge", debug)
    repo.checkout("dev")
    refuses(repo, 1, "debug-leak", "merge", debug, "--squash")
    refuses(repo, 2, "there is no branch nope", "merge", "nope")


def test_merge_checks_the_message_before_merging(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("feat: more")
    repo.checkout("main")
    refuses(repo, 2, "commit-message", "merge", "dev", "-m", "merged dev")
    refuses(repo, 2, "task-type", "merge", "dev", "-m", "task: not a task")
    out = cli(repo, "merge", "dev", "-m", "feat(model): the new model")
    assert out.code == 0, out.show()
    assert repo.git("log", "-1", "--format=%s") == "feat(model): the new model"


def test_squash_with_conflicts_is_refused_and_the_hint_works(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("feat(model): dev's version", {"src/model.py": "class Model:\n    size = 2\n"})
    pushed(repo, "dev")
    repo.branch("hotfix-size", "main")
    repo.commit("fix(model): hotfix's version", {"src/model.py": "class Model:\n    size = 3\n"})
    pushed(repo, "hotfix-size")
    repo.checkout("main")
    ok_and_push(repo, "merge", "hotfix-size")
    stderr = refuses(repo, 2, "does not merge cleanly", "merge", "dev", "--squash")
    assert "git checkout dev && git merge main" in stderr
    # follow the hint, then the squash goes through and the server accepts it
    repo.checkout("dev")
    repo.git("merge", "main", check=False)
    (repo.path / "src/model.py").write_text("class Model:\n    size = 4\n")
    repo.git("commit", "-q", "-am", "chore: merge main into dev")
    pushed(repo, "dev")
    repo.checkout("main")
    ok_and_push(repo, "merge", "dev", "--squash")
    assert repo.git("rev-parse", "main^{tree}") == repo.git("rev-parse", "dev^{tree}")


@pytest.mark.parametrize("squash", [True, False], ids=["squash", "no-ff"])
def test_merge_of_an_unpushed_source_says_to_push_both(seeded: tuple[World, Repo], squash: bool) -> None:
    _, repo = seeded
    repo.commit("feat: not pushed yet", {"src/new.py": "z = 3\n"})
    repo.checkout("main")
    out = cli(repo, "merge", "dev", *(["--squash"] if squash else []))
    assert out.code == 0, out.show()
    assert told_push(out) == ["main", "dev"]
    pushed(repo, "main", "dev")  # one push: the server finds the source in the same push
    assert repo.git("rev-parse", "main^{tree}") == repo.git("rev-parse", "dev^{tree}")


def test_merge_of_a_merged_branch_does_nothing(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    before = fingerprint(repo)
    out = cli(repo, "merge", "dev")
    assert out.code == 0 and "nothing to do" in out.stderr, out.show()
    assert fingerprint(repo) == before


# --------------------------------------------------------------------------- release


def test_release_changes_only_the_version_line_and_keeps_comments(world: World) -> None:
    repo = world.work
    text = "# the core\nVERSION: '0.1.0'   # bumped by policy release\n" + config().split("\n", 1)[1] + "# end\n"
    repo.commit("feat: init", {"tasks/main/config.yaml": text, "src/model.py": "pass\n"})
    pushed(repo, "main")
    repo.branch("dev")
    repo.commit("feat: dev work", {"src/model.py": "x = 1\n"})
    pushed(repo, "dev")
    repo.checkout("main")
    assert ok_and_push(repo, "release", "minor") == "v0.2.0"
    diff = repo.git("diff", "-U0", "main^", "main").splitlines()
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-VERSION: '0.1.0'   # bumped by policy release",
        "+VERSION: '0.2.0'   # bumped by policy release",
    ]
    assert repo.git("cat-file", "-t", "v0.2.0") == "tag"
    assert repo.git("rev-parse", "v0.2.0^{commit}") == repo.sha("main")
    assert current(repo) == "dev" and is_ancestor(repo, "main", "dev")
    repo.git("tag", "-a", "v0.3.0", "-m", "made by hand", "main")
    refuses(repo, 2, "tag v0.3.0 exists already", "release", "minor")
    refuses(repo, 2, "not higher than the current 0.2.0", "release", "--version", "0.1.9")
    repo.git("tag", "-d", "v0.3.0")
    assert ok_and_push(repo, "release", "major", "--no-dev") == "v1.0.0"
    assert current(repo) == "main" and not is_ancestor(repo, "main", "dev")


def test_release_refuses_a_dirty_work_tree(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    (repo.path / "tasks/main/config.yaml").write_text(config("0.1.0", RANDOM_SEED=1))
    refuses(repo, 2, "uncommitted changes", "release")


# --------------------------------------------------------------------------- --dry-run


DRY_RUNS = [
    ("task", "start", "lr-small"),
    ("debug", "start", "smoke", "--from", "dev"),
    ("task", "finish", "--dev"),
    ("merge", "dev", "--squash"),
    ("merge", "dev"),
    ("release", "minor"),
]


@pytest.mark.parametrize("args", DRY_RUNS, ids=lambda a: " ".join(a[:2]))
def test_dry_run_changes_nothing(seeded: tuple[World, Repo], args: tuple[str, ...]) -> None:
    _, repo = seeded
    repo.commit("feat: dev work", {"src/model.py": "x = 1\n"})
    pushed(repo, "dev")
    task = start_task(repo, "done", T1)
    repo.checkout("main")
    command = [*args, task] if args[:2] == ("task", "finish") else list(args)
    before = fingerprint(repo)
    out = cli(repo, *command, "--dry-run")
    assert out.code == 0, out.show()
    steps = [line.strip() for line in out.stderr.splitlines() if line.startswith("  ")]
    assert steps and all(s.startswith(("git ", "edit ", "check: ")) for s in steps), out.show()
    assert fingerprint(repo) == before
    if args[0] in ("task", "debug") and args[1] == "start":
        assert out.stdout.strip().startswith(f"{args[0]}-0.1.0-")


# --------------------------------------------------------------------------- failures midway


def test_a_failing_step_leaves_the_repository_as_it_was(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    hook(repo, "pre-commit")
    stderr = refuses(repo, 2, "the repository is back as it was", "task", "start", "lr-small", "--time", T1)
    assert "hook says no" in stderr
    assert not (repo.path / "tasks" / f"task-0.1.0-{T1}-lr-small").exists()


def test_a_failing_merge_into_dev_undoes_the_whole_release(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("feat: dev work", {"src/model.py": "x = 1\n"})
    repo.checkout("main")
    hook(repo, "pre-merge-commit")
    stderr = refuses(repo, 2, "back as it was", "release", "minor")
    assert "git merge" in stderr and "git tag -a v0.2.0" in stderr
    assert "v0.2.0" not in repo.git("tag")


def test_a_result_the_server_would_refuse_is_undone(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.commit("feat: straight onto main", {"src/extra.py": "y = 2\n"})  # not pushed yet
    stderr = refuses(repo, 1, "main-direct-commit", "release", "minor")
    assert "the server would refuse the result" in stderr and "back as it was" in stderr


# --------------------------------------------------------------------------- policy tasks


def two_runs(repo: Repo) -> tuple[str, str]:
    """Two task runs: the first merged into main with a new learning rate, the second not."""
    first = start_task(repo, "lr-small", T1)
    commit_run(repo, first, "task: lr 5e-4", LEARNING_RATE=0.0005)
    pushed(repo, first)
    ok_and_push(repo, "task", "finish")
    second = start_task(repo, "seed-7", T2)
    commit_run(repo, second, "task: seed 7, batch 64", RANDOM_SEED=7, BATCH=64)
    pushed(repo, second)
    return first, second


def test_tasks_lists_every_run_with_what_differs_from_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    first, second = two_runs(repo)
    data = json.loads(ok(repo, "tasks", "--format", "json"))
    assert data["settings"] == ["RANDOM_SEED", "LEARNING_RATE", "BATCH"] and data["metrics"] == []
    rows = {row["branch"]: row for row in data["runs"]}
    assert list(rows) == [first, second]
    assert (rows[first]["version"], rows[first]["time"], rows[first]["name"]) == ("0.1.0", T1, "lr-small")
    assert (rows[second]["version"], rows[second]["time"], rows[second]["name"]) == ("0.1.0", T2, "seed-7")
    assert rows[first]["status"] == "main" and rows[second]["status"] == "open"
    assert rows[first]["values"] == {"RANDOM_SEED": 42, "LEARNING_RATE": 0.0005, "BATCH": None}
    assert rows[second]["values"] == {"RANDOM_SEED": 7, "LEARNING_RATE": 0.001, "BATCH": 64}
    assert rows[first]["differs"] == ["LEARNING_RATE"] and rows[second]["differs"] == ["RANDOM_SEED", "BATCH"]
    assert set(rows[second]["refs"]) == {"local", "origin"}
    assert rows[second]["commit"] == repo.sha(second)
    lines = ok(repo, "tasks", "--width", "0").splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "TIME", "STATUS", "RANDOM_SEED", "LEARNING_RATE", "BATCH"]
    assert lines[1].split() == ["lr-small", "0.1.0", T1, "main", "42", "0.0005", "-"]
    assert lines[2].split() == ["seed-7", "0.1.0", T2, "open", "7", "0.001", "64"]
    chosen = ok(repo, "tasks", "-k", "LEARNING_RATE").splitlines()
    assert chosen[0].split()[-1] == "LEARNING_RATE" and chosen[1].split()[-1] == "0.0005"


def test_tasks_finds_runs_whose_branch_is_gone(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    first, second = two_runs(repo)
    repo.checkout("main")
    repo.git("branch", "-q", "-D", first, second)
    pushed(repo, f":refs/heads/{first}")
    rows = {row["branch"]: row for row in json.loads(ok(repo, "tasks", "--format", "json"))["runs"]}
    assert (rows[first]["status"], rows[first]["refs"], rows[first]["read_at"]) == ("main", {}, "main")
    assert rows[first]["values"]["LEARNING_RATE"] == 0.0005  # read from tasks/<run>/ on main
    assert (rows[second]["status"], list(rows[second]["refs"])) == ("open", ["origin"])  # the remote branch is left


def test_tasks_reads_in_batches(seeded: tuple[World, Repo], monkeypatch: pytest.MonkeyPatch) -> None:
    """The number of git processes does not grow with the number of runs."""
    _, repo = seeded
    monkeypatch.chdir(repo.path)
    counts = []
    for n in (2, 12):
        for i in range(len(counts) * 2, n):
            repo.git("branch", f"task-0.1.0-202601{i + 1:02d}-run{i}", "main")
        ws = Workspace(str(repo.path))
        start = ws.git.processes
        assert len(collect(ws)) == n
        counts.append(ws.git.processes - start)
    assert counts[0] == counts[1]


# --------------------------------------------------------------------------- one-line YAML edits


def test_yaml_edit_keeps_quotes_comments_and_line_endings() -> None:
    text = b'# top\r\nVERSION: "1.2.3"  # core\r\nDEBUG: false\r\nlr: 0.1\r\n'
    edit = yamledit.set_value(text, "VERSION", yamledit.keep_quotes("1.3.0"), "1.3.0", "c.yaml")
    assert edit.text == text.replace(b"1.2.3", b"1.3.0")
    debug = yamledit.set_value(text, "DEBUG", lambda _: "true", True, "c.yaml")
    assert debug.text == text.replace(b"DEBUG: false", b"DEBUG: true")
    added = yamledit.set_value(b"VERSION: 1.0.0", "DEBUG", lambda _: "true", True, "c.yaml")
    assert added.text == b"VERSION: 1.0.0\nDEBUG: true\n"


def test_yaml_edit_refuses_what_one_line_cannot_say() -> None:
    with pytest.raises(WorkflowError, match="2 times"):
        yamledit.set_value(b"DEBUG: false\nDEBUG: false\n", "DEBUG", lambda _: "true", True, "c.yaml")
    with pytest.raises(WorkflowError, match="by hand"):
        yamledit.set_value(b"DEBUG: >\n  false\n", "DEBUG", lambda _: "true", True, "c.yaml")


def test_not_a_repository(tmp_path: Path) -> None:
    out = cli(Repo(tmp_path), "task", "start", "x")
    assert out.code == 2 and "not in a git repository" in out.stderr, out.show()
