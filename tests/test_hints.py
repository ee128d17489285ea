"""Follow the hint: every refusal names one fix, and that fix, typed exactly as printed, leads to an
accepted push. Each case makes a mistake in a real repository with the server hook, runs the commands
the hint shows (the text between backticks, in order), then pushes."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Callable, TypeVar

import pytest
from conftest import CONFIG, Repo, Result, World, run, seed

from policy.config import RULE_IDS

BIN = os.path.dirname(sys.executable)
F = TypeVar("F", bound=Callable[..., None])
ENV = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_config_without_debug(repo: Repo) -> str:
    """Start a run on main and stage its config without the DEBUG key (a task-config mistake):
    the run's branch."""
    repo.checkout("main")
    assert repo.policy("task", "start", "cfg", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    path = repo.path / f"tasks/{branch}/config.yaml"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith("DEBUG")))
    repo.git("add", "-A")
    return branch


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


CASES: dict[str, list[str]] = {}


def case(*rules: str) -> Callable[[F], F]:
    """Register a follow-the-hint case for `rules`: the test follows the hint of a refusal by each."""

    def mark(test: F) -> F:
        for rule in rules:
            assert rule in RULE_IDS, rule
            CASES.setdefault(rule, []).append(test.__name__)
        return test

    return mark


def said(out: str, rule: str) -> bool:
    """A violation line of `rule` (its first word), on the server (`remote:`) or on the laptop."""
    return any(re.sub(r"^remote:", "", line).split()[:1] == [rule] for line in out.splitlines())


def follow(repo: Repo, out: str, rule: str) -> list[str]:
    """The refusal is by `rule`; run its one hint's commands exactly as printed; each must succeed."""
    assert rule in CASES, f"no case is registered for {rule}"
    assert said(out, rule), f"not refused by {rule}:\n{out}"
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


@pytest.fixture(scope="module")
def seeded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded world (a server with the hook, main and dev on it, a clone) for the module; each
    test gets a copy of it, which costs a directory copy instead of an install and two pushes."""
    root = tmp_path_factory.mktemp("seeded")
    home = root / "home"
    home.mkdir()
    (home / "gitconfig").write_text(
        "[user]\n\tname = Researcher\n\temail = researcher@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        (root / "world").mkdir()
        seed(World(root / "world"))
    return root / "world"


@pytest.fixture
def seeded(seeded_once: Path, tmp_path: Path) -> tuple[World, Repo]:
    root = tmp_path / "world"
    shutil.copytree(seeded_once, root, symlinks=True)
    world = World.__new__(World)
    world.root, world.server, world.work = root, root / "server.git", Repo(root / "work")
    world.work.git("remote", "set-url", "origin", str(world.server))
    return world, world.work


def test_every_rule_has_a_case() -> None:
    """A refusal by any rule has a case here whose hint is followed to an accepted push."""
    assert [rule for rule in RULE_IDS if rule not in CASES] == []


# --------------------------------------------------------------------------- server refusals


@case("debug-leak")
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
    follow(repo, result.out, "debug-leak")
    accepted(repo.push("dev"))


@case("task-scope")
def test_task_branch_touching_src(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "lr", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("task: tweak the model", {"src/model.py": "class Model:\n    eps = 1e-6\n",
                                           f"tasks/{branch}/notes.txt": "lr\n"})  # fmt: skip
    result = repo.push(branch)
    assert not result.ok
    follow(repo, result.out, "task-scope")
    accepted(repo.push(branch))
    assert (repo.path / f"tasks/{branch}/notes.txt").exists()


@case("task-scope")
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
    follow(repo, result.out, "task-scope")
    accepted(repo.push(second))


@case("merge-source")
def test_feature_merged_into_main(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.branch("feature-loader", "dev")
    repo.commit("feat(data): loader", {"src/loader.py": "LOADER = 1\n"})
    repo.checkout("main")
    repo.merge("feature-loader", "feat: loader")
    result = repo.push("main", "feature-loader")
    assert not result.ok
    follow(repo, result.out, "merge-source")
    accepted(repo.push("main", "dev", "feature-loader"))
    assert world.server_sha("refs/heads/main") == repo.sha("main")


@case("main-direct-commit")
def test_commit_on_main_no_verify(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.commit("fix(model): epsilon", {"src/model.py": "class Model:\n    eps = 1\n"})
    result = repo.push("main")
    assert not result.ok
    follow(repo, result.out, "main-direct-commit")
    accepted(repo.push("main"))


@case("debug-leak")
def test_policy_merge_debug_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    assert repo.policy("debug", "start", "nan", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("fix(model): epsilon", {"src/model.py": "class Model:\n    eps = 1e-8\n"})
    repo.checkout("dev")
    result = repo.policy("merge", branch, env=ENV)
    assert result.code == 1 and "nothing was changed" in result.out
    assert "merge --abort" not in result.out
    follow(repo, result.out, "debug-leak")
    repo.git("commit", "-q", "--no-verify", "-m", "fix(model): epsilon from the debug run")
    accepted(repo.push("dev"))
    assert "eps = 1e-8" in repo.git("show", "origin/dev:src/model.py")


@case("large-file")
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
    follow(repo, result.out, "large-file")
    accepted(repo.push(branch))
    assert f"tasks/{branch}/model.pt.dvc" in repo.git("ls-files")
    assert (repo.path / ".dvc" / "cache").is_dir()


@pytest.mark.parametrize("name", ["task-lr-small", "debug-nan", "feature_loader", "Hotfix-NaN"])
@case("branch-name")
def test_branch_name(seeded: tuple[World, Repo], name: str) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.branch(name)
    result = repo.push(name)
    assert not result.ok
    follow(repo, result.out, "branch-name")
    assert "0.1.0" not in hints(result.out)[0] or "20261126" not in hints(result.out)[0]
    accepted(repo.push("HEAD"))


@case("task-config")
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
    cmds = follow(repo, result.out, "task-config")
    assert "policy init" not in result.out and cmds
    accepted(repo.push(branch))
    assert "LEARNING_RATE: 0.0005" in path.read_text()


# --------------------------------------------------------------------------- commit-time refusals


@case("large-file")
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
    follow(repo, result.out, "large-file")
    assert run(["git", "commit", "-q", "-m", "task: data"], repo.path, env=ENV).ok
    accepted(repo.push(branch))


@case("task-scope")
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
    cmds = follow(repo, result.out, "task-scope")
    assert cmds == [f"git restore --staged --worktree -- tasks/{first}/"]
    assert run(["git", "commit", "-q", "-m", "task: second run"], repo.path, env=ENV).ok
    accepted(repo.push(second))


@case("task-config")
def test_commit_time_task_config(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    branch = run_config_without_debug(repo)
    result = commit_refused(repo, "task: no debug key")
    assert "policy init" not in result.out
    follow(repo, result.out, "task-config")
    assert run(["git", "commit", "-q", "-m", "task: no debug key"], repo.path, env=ENV).ok
    accepted(repo.push(branch))


@case("main-direct-commit")
def test_commit_time_on_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    repo.checkout("main")
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 2\n")
    repo.git("add", "-A")
    result = commit_refused(repo, "fix(model): eps")
    follow(repo, result.out, "main-direct-commit")
    assert repo.git("branch", "--show-current") == "dev"
    assert run(["git", "commit", "-q", "-am", "fix(model): eps"], repo.path, env=ENV).ok
    accepted(repo.push("dev"))


def test_pre_commit_help_documents_only(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "policy", "hook", "pre-commit", "--help"], tmp_path)
    assert result.ok and "--only" in result.out


@case("hotfix-size")
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
    follow(repo, result.out, "hotfix-size")
    assert repo.git("branch", "--show-current") == "feature-nan"
    assert run(["git", "commit", "-q", "-m", "feat(model): a big change"], repo.path, env=ENV).ok
    accepted(repo.push("feature-nan"))


@case("main-direct-commit")
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
    follow(repo, result.out, "main-direct-commit")
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


@case("protected-ref")
def test_protected_ref_rewritten(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("feat(model): a", {"src/a.py": "a = 1\n"})
    assert repo.push("dev").ok
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("feat(model): b", {"src/b.py": "b = 1\n"})
    result = repo.push("+dev")
    assert not result.ok
    follow(repo, result.out, "protected-ref")
    accepted(repo.push("dev"))


@case("version-tag")
def test_lightweight_version_tag(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.git("tag", "v0.1.0", "main")
    result = repo.push("v0.1.0")
    assert not result.ok
    follow(repo, result.out, "version-tag")
    accepted(repo.push("v0.1.0"))


@case("task-base")
def test_task_branch_named_for_another_version(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = "task-0.0.9-20261126-1200-stale"
    repo.branch(name, "main")
    repo.commit("task: stale", {f"tasks/{name}/out.txt": "x\n"})
    result = repo.push(name)
    assert not result.ok
    follow(repo, result.out, "task-base")
    accepted(repo.push("HEAD"))
    now = repo.git("branch", "--show-current")
    assert now.startswith("task-0.1.0-") and now.endswith("-stale") and (repo.path / f"tasks/{now}/out.txt").exists()


@case("task-type")
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
    follow(repo, result.out, "task-type")
    accepted(repo.push(branch, "main"))


@case("merge-source")
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
    follow(repo, merge.out, "merge-source")
    assert repo.git("branch", "--show-current") == "main"


@case("merge-source")
def test_policy_merge_feature_into_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("feature-attn", "dev")
    repo.commit("feat(model): attention", {"src/attn.py": "a = 1\n"})
    repo.checkout("main")
    result = repo.policy("merge", "feature-attn", env=ENV)
    assert result.code == 1 and "nothing was changed" in result.out and "merge --abort" not in result.out
    follow(repo, result.out, "merge-source")
    accepted(repo.push("main"))


@case("squash-merge")
def test_squash_of_an_unpushed_dev(seeded: tuple[World, Repo]) -> None:
    """A squash made with the hooks names dev's tip, which the server does not have yet."""
    world, repo = seeded
    install_client(repo)
    repo.commit("feat(model): layer", {"src/layer.py": "x = 1\n"})
    repo.checkout("main")
    assert run(["git", "merge", "-q", "--squash", "dev"], repo.path, env=ENV).ok
    assert run(["git", "commit", "-q", "-m", "feat: layer from dev"], repo.path, env=ENV).ok
    result = repo.push("main")
    assert not result.ok
    follow(repo, result.out, "squash-merge")
    accepted(repo.push("main", "dev"))
    assert world.server_sha("refs/heads/main") == repo.sha("main")


@case("version-bump")
def test_release_commit_that_changes_more_than_version(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.checkout("main")
    path = repo.path / "tasks/main/config.yaml"
    text = path.read_text().replace("VERSION: 0.1.0", "VERSION: 0.2.0").replace("0.001", "0.01")
    repo.commit("chore: release 0.2.0", {"tasks/main/config.yaml": text})
    result = repo.push("main")
    assert not result.ok
    follow(repo, result.out, "version-bump")
    accepted(repo.push("main", "dev", "v0.2.0"))
    assert "VERSION: 0.2.0" in repo.git("show", "origin/main:tasks/main/config.yaml")
    assert world.server_sha("refs/tags/v0.2.0") and "0.01" not in repo.git("show", "main:tasks/main/config.yaml")


@case("commit-message")
def test_commit_message_on_dev(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.commit("wip", {"src/a.py": "a = 1\n"})
    repo.commit("feat(model): b", {"src/b.py": "b = 1\n"})
    result = repo.push("dev")
    assert not result.ok
    follow(repo, result.out, "commit-message")
    accepted(repo.push("dev"))
    assert (repo.path / "src/a.py").exists() and (repo.path / "src/b.py").exists()


@case("commit-message")
def test_commit_message_of_a_merge_on_main(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.commit("feat(model): c", {"src/c.py": "c = 1\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.merge("dev", "Merge branch 'dev'")
    result = repo.push("main")
    assert not result.ok
    follow(repo, result.out, "commit-message")
    accepted(repo.push("main"))
    assert world.server_sha("refs/heads/main") == repo.sha("main")


@case("unsafe-path")
def test_unsafe_path_made_with_plumbing(seeded: tuple[World, Repo]) -> None:
    """A `..` entry put into a run's folder with plumbing: policy-push refuses it before the push."""
    _, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "dots", env=ENV).ok
    branch = repo.git("branch", "--show-current")
    repo.commit("task: notes", {f"tasks/{branch}/notes.txt": "n\n"})
    blob = repo.git("hash-object", "-w", "--stdin", input="x\n")
    inner = repo.git("mktree", input=f"100644 blob {blob}\tnotes.txt\n")
    top = repo.git("ls-tree", "HEAD").splitlines()
    tree = repo.git("mktree", input="\n".join([*top, f"040000 tree {inner}\t.."]) + "\n")
    bad = repo.git("commit-tree", tree, "-p", "HEAD", "-m", "task: more notes")
    repo.git("update-ref", f"refs/heads/{branch}", bad)
    install_client(repo)  # the server's git refuses such a tree before its hook runs (receive.fsckObjects)
    result = repo.push(branch)
    assert not result.ok
    follow(repo, result.out, "unsafe-path")
    accepted(repo.push(branch))


@case("ref-namespace")
def test_notes_pushed(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.commit("feat(model): d", {"src/d.py": "d = 1\n"})
    repo.git("notes", "add", "-m", "trained on 2 GPUs")
    result = repo.push("dev", "refs/notes/commits")
    assert not result.ok
    follow(repo, result.out, "ref-namespace")
    assert world.server_sha("refs/heads/dev") == repo.sha("dev")
    assert world.server_sha("refs/notes/commits") is None


@case("hotfix-size")
def test_hotfix_too_big_at_push(seeded: tuple[World, Repo]) -> None:
    world, repo = seeded
    repo.branch("hotfix-loader", "main")
    repo.commit("fix(data): loader rewrite", {"src/loader.py": "".join(f"x{i} = {i}\n" for i in range(80))})
    result = repo.push("hotfix-loader")
    assert not result.ok
    follow(repo, result.out, "hotfix-size")
    accepted(repo.push("HEAD"))
    assert repo.git("branch", "--show-current") == "feature-loader" and world.server_sha("refs/heads/feature-loader")


@case("merge-source")
def test_branch_started_from_a_main_with_an_unpushed_merge(seeded: tuple[World, Repo]) -> None:
    """A task run merged into main locally, then a hotfix started from that main: the hotfix push
    carries main's merge as its own; pushing main with it is the fix."""
    world, repo = seeded
    repo.checkout("main")
    assert repo.policy("task", "start", "lr", env=ENV).ok
    run_branch = repo.git("branch", "--show-current")
    repo.commit("task: results", {f"tasks/{run_branch}/r.txt": "0.9\n"})
    repo.checkout("main")
    repo.merge(run_branch, "task: lr reaches 0.9")
    repo.branch("hotfix-eps")
    repo.commit("fix(model): eps", {"src/model.py": "class Model:\n    eps = 1e-6\n"})
    result = repo.push("hotfix-eps", run_branch)
    assert not result.ok
    assert "undo the merge" not in result.out
    follow(repo, result.out, "merge-source")
    assert world.server_sha("refs/heads/main") == repo.sha("main")
    assert world.server_sha("refs/heads/hotfix-eps") == repo.sha("hotfix-eps")


def test_hints_read_the_policy_and_never_assume_dev() -> None:
    """Under the main-only policy (`dev: null`) no hint sends work to dev."""
    from policy.config import parse_policy_text
    from policy.rules import hotfix_size, main_direct_commit, task_scope

    main_only = parse_policy_text("version: 1\nbranches:\n  dev: null\n", "main-only")
    texts = [
        task_scope.fix(["src/model.py"], "", "tasks/task-0.1.0-20261101-1200-x/", main_only),
        hotfix_size.bigger("hotfix-nan", "", main_only),
        hotfix_size.bigger("hotfix-nan", "1" * 40, main_only),
        main_direct_commit.fix("", "main", main_only),
        main_direct_commit.fix("2" * 40, "main", main_only),
    ]
    for text in texts:
        assert not re.search(r"\bdev\b", text), text
    assert "a feature branch or a hotfix branch" in texts[0]


@case("debug-leak")
def test_commit_time_debug_folder_on_dev(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    (repo.path / "tasks/debug-0.1.0-20261101-1200-smoke").mkdir(parents=True)
    (repo.path / "tasks/debug-0.1.0-20261101-1200-smoke/log.txt").write_text("nan\n")
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 1e-8\n")
    repo.git("add", "-A")
    result = commit_refused(repo, "fix(model): epsilon")
    follow(repo, result.out, "debug-leak")
    assert run(["git", "commit", "-q", "-m", "fix(model): epsilon"], repo.path, env=ENV).ok
    accepted(repo.push("dev"))
    assert "tasks/debug-" not in repo.git("ls-tree", "-r", "--name-only", "dev")


@case("branch-name")
def test_commit_time_branch_name(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    repo.branch("loader", "dev")
    (repo.path / "src/loader.py").write_text("x = 1\n")
    repo.git("add", "-A")
    result = commit_refused(repo, "feat(data): loader")
    follow(repo, result.out, "branch-name")
    assert run(["git", "commit", "-q", "-m", "feat(data): loader"], repo.path, env=ENV).ok
    accepted(repo.push("HEAD"))


@case("task-type")
def test_commit_time_task_type_outside_tasks(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    install_client(repo)
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 3\n")
    repo.git("add", "-A")
    result = commit_refused(repo, "task: tune the model")
    follow(repo, result.out, "task-type")
    accepted(repo.push("dev"))
