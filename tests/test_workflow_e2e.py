"""The seed's section 5, replayed with only the workflow commands and plain git, pushing into a
real bare repository with the server hook after every step: every push must be accepted."""

from __future__ import annotations

import json

import yaml
from conftest import World, config
from workflow_helpers import current, is_ancestor, ok, ok_and_push, on_server, pushed


def test_seed_development_flow_is_accepted_by_the_server(world: World) -> None:
    repo = world.work

    # 1. init: main with the core code and tasks/main, then dev (plain git)
    repo.write(
        {"tasks/main/config.yaml": "# core settings\n" + config("0.1.0"), "tasks/main/train.py": "print('train')\n",
         "src/model.py": "class Model:\n    pass\n", "README.md": "# research\n"}
    )  # fmt: skip
    repo.git("commit", "-q", "-m", "feat: initial model and task layout")
    pushed(repo, "main")
    repo.git("checkout", "-q", "-b", "dev")
    pushed(repo, "dev")

    # 2. a feature branch from dev, merged into dev with git's own message
    repo.git("checkout", "-q", "-b", "feature-loader", "dev")
    repo.write({"src/data.py": "def load():\n    return []\n"})
    repo.git("commit", "-q", "-m", "feat(data): data loader")
    pushed(repo, "feature-loader")
    repo.git("checkout", "-q", "dev")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature-loader")
    pushed(repo, "dev")

    # 3. a debug run from dev; the code fix travels by stash, the log stays on the debug branch
    debug = ok_and_push(repo, "debug", "start", "smoke")
    assert debug.startswith("debug-0.1.0-") and current(repo) == debug
    debug_config = yaml.safe_load((repo.path / "tasks" / debug / "config.yaml").read_text())
    assert debug_config["DEBUG"] is True and debug_config["VERSION"] == "0.1.0"
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 1e-8\n")
    repo.git("stash", "-q")
    repo.write({f"tasks/{debug}/train.log": "epoch 1 loss nan\n"})
    repo.git("commit", "-q", "-m", "chore(debug): smoke run log")
    pushed(repo, debug)
    repo.git("checkout", "-q", "dev")
    repo.git("stash", "pop", "-q")
    repo.git("commit", "-q", "-am", "fix(model): epsilon against nan")
    pushed(repo, "dev")

    # 4. merge dev into main with a squash, release 0.2.0, dev takes main back
    repo.git("checkout", "-q", "main")
    ok_and_push(repo, "merge", "dev", "--squash")
    message = repo.git("log", "-1", "--format=%B", "main")
    assert f"Squash-Merge: dev {repo.sha('dev')}" in message
    assert ok_and_push(repo, "release", "minor") == "v0.2.0"
    assert current(repo) == "dev" and is_ancestor(repo, "main", "dev")
    assert repo.git("cat-file", "-t", "v0.2.0") == "tag"

    # 4 again, the --no-ff variant, and a patch release
    repo.write({"src/model.py": "class Model:\n    eps = 1e-6\n"})
    repo.git("commit", "-q", "-m", "refactor(model): larger epsilon")
    pushed(repo, "dev")
    repo.git("checkout", "-q", "main")
    ok_and_push(repo, "merge", "dev")
    assert repo.git("log", "-1", "--format=%P", "main").split()[1] == repo.sha("dev")
    assert ok_and_push(repo, "release", "patch") == "v0.2.1"

    # 5. a task run from main: change its config, record a result, merge it into main and dev
    task = ok_and_push(repo, "task", "start", "lr-small")
    assert task.startswith("task-0.2.1-") and current(repo) == task
    folder = repo.path / "tasks" / task
    (folder / "config.yaml").write_text((folder / "config.yaml").read_text().replace("0.001", "0.0005"))
    repo.write(
        {f"tasks/{task}/config.yaml": (folder / "config.yaml").read_text(), f"tasks/{task}/result.csv": "acc\n0.91\n"}
    )
    repo.git("commit", "-q", "-m", "task: lr 5e-4 reaches 0.91")
    pushed(repo, task)
    ok_and_push(repo, "task", "finish", "--dev")
    assert current(repo) == "main"
    assert is_ancestor(repo, task, "main") and is_ancestor(repo, task, "dev")

    # a hotfix from main, merged into main and into dev
    repo.git("checkout", "-q", "-b", "hotfix-nan", "main")
    repo.write({"src/model.py": "class Model:\n    eps = 1e-5\n"})
    repo.git("commit", "-q", "-m", "fix(model): epsilon for fp16")
    pushed(repo, "hotfix-nan")
    repo.git("checkout", "-q", "main")
    ok_and_push(repo, "merge", "hotfix-nan")
    repo.git("checkout", "-q", "dev")
    ok_and_push(repo, "merge", "hotfix-nan")

    # the server has what the clone has, and nothing of the debug run reached main or dev
    for ref in ("main", "dev", task, "hotfix-nan", debug, "v0.2.0", "v0.2.1"):
        assert on_server(repo, f"refs/{'tags' if ref.startswith('v') else 'heads'}/{ref}") == repo.git("rev-parse", ref)
    for branch in ("main", "dev"):
        assert not is_ancestor(repo, debug, branch)
        assert f"tasks/{debug}/" not in repo.git("ls-tree", "-r", "--name-only", branch)
    runs = json.loads(ok(repo, "tasks", "--format", "json"))["runs"]
    assert [(r["branch"], r["status"]) for r in runs] == [(task, "main")]
