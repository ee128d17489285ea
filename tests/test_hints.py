"""Follow the hint: every refusal names one fix, and that fix, typed exactly as printed, leads to an
accepted push. Each case makes a mistake in a real repository with the server hook, runs the commands
the hint shows (the text between backticks, in order), then pushes."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import CONFIG, Repo, Result, World, run, seed

BIN = os.path.dirname(sys.executable)
ENV = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def hints(out: str) -> list[str]:
    """The hints of a refusal: one per violation, wherever the report puts them."""
    found = []
    for line in out.splitlines():
        line = re.sub(r"^remote:", "", line).strip()  # git pads sideband lines with blanks
        if line.startswith("hint: "):
            found.append(line[len("hint: ") :])
    return found


def commands(hint: str) -> list[str]:
    cmds = re.findall(r"`([^`]+)`", hint)
    assert cmds, f"the hint names no command: {hint}"
    for cmd in cmds:
        assert not re.search(r"<[a-z-]+>", cmd), f"a placeholder in {cmd!r}"
    return cmds


def follow(repo: Repo, out: str) -> list[str]:
    """Run the one hint's commands exactly as printed; each must succeed."""
    found = hints(out)
    assert len(found) == 1, f"one violation per mistake, got {len(found)}:\n{out}"
    cmds = commands(found[0])
    for cmd in cmds:
        result = run(["sh", "-c", cmd], repo.path, env=ENV)
        assert result.ok, f"{cmd!r} failed:\n{result.out}\nafter the refusal:\n{out}"
    return cmds


def accepted(result: Result) -> None:
    assert result.ok, result.out


def commit_refused(repo: Repo, message: str) -> Result:
    """A commit through the client hooks (`policy install`), which refuses."""
    result = run(["git", "commit", "-q", "-m", message], repo.path, env=ENV)
    assert not result.ok, result.out
    return result


def install_client(repo: Repo) -> None:
    assert run([sys.executable, "-m", "policy", "install"], repo.path, env=ENV).ok


# --------------------------------------------------------------------------- server refusals


def test_debug_merged_into_dev(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    start = repo.policy("debug", "start", "smoke", env=ENV)
    assert start.ok, start.out
    branch = repo.git("branch", "--show-current")
    repo.commit("chore(debug): smoke log", {f"tasks/{branch}/log.txt": "loss nan\n"})
    repo.checkout("dev")
    repo.merge(branch, "chore: take the debug run")
    result = repo.push("dev")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("dev"))


def test_task_branch_touching_src(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "lr", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("task: tweak the model", {"src/model.py": "class Model:\n    eps = 1e-6\n",
                                           f"tasks/{branch}/notes.txt": "lr\n"})  # fmt: skip
    result = repo.push(branch)
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push(branch))
    assert (repo.path / f"tasks/{branch}/notes.txt").exists()


def test_other_run_folder_on_task_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "first", env=ENV).ok
    first = repo.git("branch", "--show-current")
    repo.checkout("main")
    repo.merge(first, "task: first run")
    assert repo.push("main", first).ok
    assert repo.policy("task", "start", "second", env=ENV).ok
    second = repo.git("branch", "--show-current")
    repo.commit("task: second run", {f"tasks/{first}/leftover.txt": "rerun\n", f"tasks/{second}/out.txt": "ok\n"})
    result = repo.push(second)
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push(second))


def test_feature_merged_into_main(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.branch("feature-loader", "dev")
    repo.commit("feat(data): loader", {"src/loader.py": "LOADER = 1\n"})
    repo.checkout("main")
    repo.merge("feature-loader", "feat: loader")
    result = repo.push("main", "feature-loader")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("main", "dev", "feature-loader"))
    assert world.server_sha("refs/heads/main") == repo.sha("main")


def test_commit_on_main_no_verify(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.commit("fix(model): epsilon", {"src/model.py": "class Model:\n    eps = 1\n"})
    result = repo.push("main")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("main"))


def test_policy_merge_debug_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    assert repo.policy("debug", "start", "nan", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("fix(model): epsilon", {"src/model.py": "class Model:\n    eps = 1e-8\n"})
    repo.checkout("dev")
    result = repo.policy("merge", branch, env=ENV)
    assert result.code == 1 and "nothing was changed" in result.out
    assert "merge --abort" not in result.out
    follow(repo, result.out)
    repo.git("commit", "-q", "--no-verify", "-m", "fix(model): epsilon from the debug run")
    accepted(repo.push("dev"))
    assert "eps = 1e-8" in repo.git("show", "origin/dev:src/model.py")


def test_large_file_on_task_branch_with_dvc(world: World) -> None:
    repo = world.work
    assert run(["dvc", "init", "-q"], repo.path, env=ENV).ok
    seed(world)
    repo.checkout("main")
    assert repo.policy("task", "start", "ckpt", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("task: first checkpoint", {f"tasks/{branch}/model.pt": b"\0weights" * 64,
                                            f"tasks/{branch}/metrics.json": '{"acc": 0.5}\n'})  # fmt: skip
    result = repo.push(branch)
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push(branch))
    assert f"tasks/{branch}/model.pt.dvc" in repo.git("ls-files")
    assert (repo.path / ".dvc" / "cache").is_dir()


@pytest.mark.parametrize("name", ["task-lr-small", "debug-nan", "feature_loader", "Hotfix-NaN"])
def test_branch_name(seeded: tuple[World, Repo], name: str) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.branch(name)
    result = repo.push(name)
    assert not result.ok
    follow(repo, result.out)
    assert "0.1.0" not in hints(result.out)[0] or "20261126" not in hints(result.out)[0]
    accepted(repo.push("HEAD"))


def test_task_config_missing_key(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "cfg", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    path = repo.path / f"tasks/{branch}/config.yaml"
    text = "".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith(("TRAIN", "TEST")))
    repo.commit("task: a shorter config", {f"tasks/{branch}/config.yaml": text.replace("0.001", "0.0005")})
    result = repo.push(branch)
    assert not result.ok
    cmds = follow(repo, result.out)
    assert "policy init" not in result.out and cmds
    accepted(repo.push(branch))
    assert "LEARNING_RATE: 0.0005" in path.read_text()


# --------------------------------------------------------------------------- commit-time refusals


def test_commit_time_large_file(world: World) -> None:
    repo = world.work
    assert run(["dvc", "init", "-q"], repo.path, env=ENV).ok
    seed(world)
    install_client(repo)
    repo.checkout("main")
    assert repo.policy("task", "start", "big", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    (repo.path / f"tasks/{branch}/data.bin").write_bytes(b"\1" * 600 * 1024)
    repo.git("add", "-A")
    result = commit_refused(repo, "task: data")
    assert "amend" not in hints(result.out)[0]
    follow(repo, result.out)
    assert run(["git", "commit", "-q", "-m", "task: data"], repo.path, env=ENV).ok
    accepted(repo.push(branch))


def test_commit_time_other_run_folder(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "first", env=ENV).ok
    first = repo.git("branch", "--show-current")
    repo.checkout("main")
    repo.merge(first, "task: first run")
    assert repo.push("main", first).ok
    install_client(repo)
    assert repo.policy("task", "start", "second", env=ENV).ok
    second = repo.git("branch", "--show-current")
    (repo.path / f"tasks/{first}/log.txt").write_text("leftover\n")
    (repo.path / f"tasks/{second}/out.txt").write_text("ok\n")
    repo.git("add", "tasks/")
    result = commit_refused(repo, "task: second run")
    cmds = follow(repo, result.out)
    assert cmds == [f"git restore --staged --worktree -- tasks/{first}/"]
    assert run(["git", "commit", "-q", "-m", "task: second run"], repo.path, env=ENV).ok
    accepted(repo.push(second))


def test_commit_time_task_config(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    repo.checkout("main")
    assert repo.policy("task", "start", "cfg", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    path = repo.path / f"tasks/{branch}/config.yaml"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith("DEBUG")))
    repo.git("add", "-A")
    result = commit_refused(repo, "task: no debug key")
    assert "policy init" not in result.out
    follow(repo, result.out)
    assert run(["git", "commit", "-q", "-m", "task: no debug key"], repo.path, env=ENV).ok
    accepted(repo.push(branch))


def test_commit_time_on_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    repo.checkout("main")
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 2\n")
    repo.git("add", "-A")
    result = commit_refused(repo, "fix(model): eps")
    follow(repo, result.out)
    assert repo.git("branch", "--show-current") == "dev"
    assert run(["git", "commit", "-q", "-am", "fix(model): eps"], repo.path, env=ENV).ok
    accepted(repo.push("dev"))


def test_pre_commit_help_documents_only(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "policy", "hook", "pre-commit", "--help"], tmp_path)
    assert result.ok and "--only" in result.out


def test_commit_time_hotfix_size(seeded: tuple[World, Repo]) -> None:
    """hotfix-size at commit time, counted from where the hotfix started, as the server counts it."""
    _, repo = seeded
    install_client(repo)
    repo.branch("hotfix-nan", "main")
    assert run(["git", "commit", "-q", "-m", "fix(model): guard", "--allow-empty"], repo.path, env=ENV).ok
    (repo.path / "src/big.py").write_text("".join(f"x{i} = {i}\n" for i in range(60)))
    repo.git("add", "-A")
    result = commit_refused(repo, "fix(model): a big change")
    assert "hotfix-size" in result.out and "changes 60 lines, more than 50" in result.out
    follow(repo, result.out)
    assert repo.git("branch", "--show-current") == "feature-nan"
    assert run(["git", "commit", "-q", "-m", "feat(model): a big change"], repo.path, env=ENV).ok
    accepted(repo.push("feature-nan"))


def test_main_only_variant(world: World) -> None:
    """`dev: null`: features merge into main, and a direct commit's hint leads there."""
    repo = world.work
    repo.commit("feat: start", {".branch-policy.yaml": "version: 1\nbranches:\n  dev: null\n",
                                "tasks/main/config.yaml": config_text(), "src/model.py": "m = 1\n"})  # fmt: skip
    assert repo.push("main").ok
    repo.branch("feature-loader")
    repo.commit("feat(data): loader", {"src/loader.py": "x = 1\n"})
    repo.checkout("main")
    repo.merge("feature-loader", "feat: loader")
    accepted(repo.push("feature-loader", "main"))
    repo.commit("fix(model): direct", {"src/model.py": "m = 2\n"})
    result = repo.push("main")
    assert not result.ok and " dev" not in hints(result.out)[0]
    follow(repo, result.out)
    accepted(repo.push("main"))


def config_text() -> str:
    return CONFIG.format(version="0.1.0")


def test_squash_release_reminds_to_merge_main_back(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.commit("feat(model): layer", {"src/layer.py": "x = 1\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    result = repo.policy("merge", "dev", "--squash", env=ENV)
    assert result.ok, result.out
    line = next(line for line in result.out.splitlines() if line.startswith("remember:"))
    assert run(["git", "push", "-q", "origin", "main"], repo.path).ok
    for cmd in commands(line):
        assert run(["sh", "-c", cmd], repo.path, env=ENV).ok, cmd
    accepted(repo.push("dev"))
    assert world.server_sha("refs/heads/dev") == repo.sha("dev") and repo.git("branch", "--show-current") == "dev"


def test_protected_ref_rewritten(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("feat(model): a", {"src/a.py": "a = 1\n"})
    assert repo.push("dev").ok
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("feat(model): b", {"src/b.py": "b = 1\n"})
    result = repo.push("+dev")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("dev"))


def test_lightweight_version_tag(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.git("tag", "v0.1.0", "main")
    result = repo.push("v0.1.0")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("v0.1.0"))


def test_task_branch_named_for_another_version(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = "task-0.0.9-20261126-1200-stale"
    repo.branch(name, "main")
    repo.commit("task: stale", {f"tasks/{name}/out.txt": "x\n"})
    result = repo.push(name)
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push("HEAD"))
    now = repo.git("branch", "--show-current")
    assert now.startswith("task-0.1.0-") and now.endswith("-stale") and (repo.path / f"tasks/{now}/out.txt").exists()


def test_task_merge_with_another_type(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "lr", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("task: result", {f"tasks/{branch}/out.txt": "0.9\n"})
    repo.checkout("main")
    repo.merge(branch, "feat: lr results")
    result = repo.push(branch, "main")
    assert not result.ok
    follow(repo, result.out)
    accepted(repo.push(branch, "main"))


def test_feature_merged_into_main_at_merge_time(seeded: tuple[World, Repo]) -> None:
    """The pre-merge-commit hook refuses before the merge commit exists; its hint aborts the merge
    and takes the feature through dev."""
    _, repo = seeded
    install_client(repo)
    repo.branch("feature-attn", "dev")
    repo.commit("feat(model): attention", {"src/attn.py": "a = 1\n"})
    repo.checkout("main")
    merge = run(["git", "merge", "--no-ff", "feature-attn", "-m", "feat: attention"], repo.path, env=ENV)
    assert not merge.ok and "merge-source  this merge  main" in merge.out, merge.out
    follow(repo, merge.out)
    assert repo.git("branch", "--show-current") == "main"


def test_policy_merge_feature_into_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-attn", "dev")
    repo.commit("feat(model): attention", {"src/attn.py": "a = 1\n"})
    repo.checkout("main")
    result = repo.policy("merge", "feature-attn", env=ENV)
    assert result.code == 1 and "nothing was changed" in result.out and "merge --abort" not in result.out
    follow(repo, result.out)
    accepted(repo.push("main"))
