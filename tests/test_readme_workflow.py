"""The README's "Daily workflow", typed literally: the commands of its code block, parsed from the
README, run one by one in a clone of a real server with the hook, after earlier runs were merged into
main and with their leftovers in the work tree. No command may fail and every push is accepted. Where
the README says `# ... commits ...` the test makes those edits, as the user would."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from conftest import CONFIG, World, run

ROOT = Path(__file__).resolve().parent.parent
BIN = os.path.dirname(sys.executable)


def daily_workflow() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Daily workflow\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block
    commands = []
    for line in block.group(1).splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()  # no command of the block has a # of its own
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def test_daily_workflow_as_written(world: World, tmp_path: Path) -> None:
    repo = world.work
    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nsed -i 's/^LEARNING_RATE: .*/LEARNING_RATE: 0.0005/' \"$1\"\n")
    editor.chmod(0o755)
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "EDITOR": str(editor)}

    # before step 1: main with the core code and the README's sample config, an earlier run merged
    sample = re.search(r"```yaml\n(VERSION: .*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert sample and set(re.findall(r"^(\w+):", sample.group(1), re.M)) == set(re.findall(r"^(\w+):", CONFIG, re.M))
    repo.commit(
        "feat: initial model and task layout",
        {"tasks/main/config.yaml": sample.group(1), "tasks/main/train.py": "print('train')\n",
         "src/model.py": "class Model:\n    pass\n"},
    )  # fmt: skip
    assert repo.push("main").ok
    old = "task-0.1.0-20261101-1200-baseline"
    repo.branch(old)
    files = {f"tasks/{old}/config.yaml": sample.group(1), f"tasks/{old}/result.csv": "acc\n0.8\n"}
    repo.commit("task: baseline", files)
    repo.checkout("main")
    repo.merge(old, "task: baseline reaches 0.8")
    assert repo.push("main", old).ok
    (repo.path / f"tasks/{old}/rerun.log").write_text("a rerun after the merge\n")  # a leftover, untracked

    edits = {
        "git checkout -b feature-loader dev": lambda: repo.commit(
            "feat(data): data loader", {"src/data.py": "def load():\n    return []\n"}
        ),
        "git stash": lambda: (
            (repo.path / "src/model.py").write_text("class Model:\n    eps = 1e-8\n"),
            (repo.path / "tasks" / repo.git("branch", "--show-current") / "train.log").write_text("loss nan\n"),
        ),
        "git checkout -b hotfix-nan main": lambda: repo.commit(
            "fix(model): epsilon for fp16", {"src/model.py": "class Model:\n    eps = 1e-5\n"}
        ),
    }
    before = {"git stash"}
    commands = daily_workflow()
    assert any("$(git branch --show-current)" in c for c in commands)
    for command in commands:
        key = next((k for k in edits if command == k or command.startswith(k + " ")), None)
        if key in before:
            edits[key]()
        result = run(["sh", "-c", command], repo.path, env=env)
        assert result.ok, f"{command!r} failed:\n{result.out}"
        assert "refused" not in result.out, f"{command!r}:\n{result.out}"
        if key and key not in before:
            edits[key]()

    for branch in ("main", "dev", "hotfix-nan"):
        assert world.server_sha(f"refs/heads/{branch}") == repo.sha(branch), branch
    assert world.server_sha("refs/tags/v0.2.0")
    tree = repo.git("ls-tree", "-r", "--name-only", "main")
    assert f"tasks/{old}/rerun.log" not in tree and (repo.path / f"tasks/{old}/rerun.log").exists()
    task = next(line for line in tree.splitlines() if "lr-small/config.yaml" in line)
    assert "LEARNING_RATE: 0.0005" in repo.git("show", f"main:{task}")


def test_a_new_repository_as_the_readme_starts_it(tmp_path: Path) -> None:
    """The README's first commit, typed literally in a clone of an empty server with the hook:
    `policy init` writes the policy and the sample main config (the README's own), and the push that
    creates main is accepted. On any other branch, init writes no main config."""
    (tmp_path / "new").mkdir()
    world = World(tmp_path / "new")
    repo = world.work
    (repo.path / "src").mkdir()
    (repo.path / "src/model.py").write_text("class Model:\n    pass\n")
    text = (ROOT / "README.md").read_text()
    found = re.search(r"```sh\n(policy init && [^\n]*)\n```", text)
    assert found
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = run(["sh", "-c", found.group(1)], repo.path, env=env)
    assert result.ok, result.out
    assert world.server_sha("refs/heads/main") == repo.sha("main")
    sample = re.search(r"```yaml\n(VERSION: .*?)```", text, re.DOTALL)
    assert sample and repo.git("show", "origin/main:tasks/main/config.yaml") + "\n" == sample.group(1)
    assert ".branch-policy.yaml" in repo.git("ls-tree", "--name-only", "main")

    other = tmp_path / "other"
    assert run(["git", "init", "-q", "-b", "task-0.1.0-20261101-1200-x", str(other)], tmp_path).ok
    result = run([sys.executable, "-m", "policy", "init"], other)
    assert result.ok and "written on main" in result.out, result.out
    assert (other / ".branch-policy.yaml").exists() and not (other / "tasks").exists()
