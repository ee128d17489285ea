"""The client hooks through the real pre-commit framework: a repository whose
.pre-commit-config.yaml points at (a snapshot of) this checkout, `pre-commit install` for every
stage, then real `git commit`, `git merge`, `git merge --squash` and `git push` into a bare server
that runs the server hook. What the hooks let through, the server accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo, World, config, refused, run
from test_hints import ENV, case, follow, run_config_without_debug

CHECKOUT = Path(__file__).resolve().parent.parent
HOOK_IDS = (
    "policy-branch",
    "policy-commit-msg",
    "policy-merge",
    "policy-push",
    "policy-task-config",
    "policy-large-files",
)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """This checkout as it is now (uncommitted changes included), committed into a scratch repo
    that pre-commit can clone; and a PRE_COMMIT_HOME shared by the session (one venv build)."""
    snap = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=CHECKOUT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if name.startswith(("bench/", "tests/")) or not (CHECKOUT / name).is_file():
            continue
        (snap / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, snap / name)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=snap, env=env, check=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=snap, capture_output=True, text=True).stdout.strip()
    return snap, rev, tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def hooked(world: World, hook_repo: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[World, Repo]:
    """main + dev on the server, and a clone with every hook id installed by pre-commit."""
    snap, rev, home = hook_repo
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home))
    repo = world.work
    hooks = "\n".join(f"  - id: {hook_id}" for hook_id in HOOK_IDS)
    repo.commit(
        "feat: initial model and task layout",
        {
            ".pre-commit-config.yaml": (
                "default_install_hook_types: [pre-commit, commit-msg, pre-merge-commit, pre-push]\n"
                f"repos:\n- repo: {snap}\n  rev: {rev}\n  hooks:\n{hooks}\n"
            ),
            "tasks/main/config.yaml": config(),
            "src/model.py": "class Model:\n    pass\n",
        },
    )
    assert repo.push("main").ok
    repo.branch("dev")
    assert repo.push("dev").ok
    result = run(["pre-commit", "install"], repo.path)
    assert result.ok, result.out
    return world, repo


def commit(repo: Repo, message: str, files: dict | None = None, *flags: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit` that runs the hooks (no --no-verify)."""
    repo.write(files or {})
    return subprocess.run(
        ["git", "commit", "-m", message, *flags],
        cwd=repo.path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def said(output: str, rule: str) -> bool:
    return any(line.split()[:1] == [rule] for line in output.splitlines())


def test_commit_msg(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    repo.branch("feature-attn")
    before = repo.sha()
    bad = commit(repo, "added attention", {"src/attn.py": "a = 1\n"})
    assert bad.returncode != 0 and said(bad.stdout, "commit-message"), bad.stdout
    assert repo.sha() == before
    good = commit(repo, "feat(model): add attention")
    assert good.returncode == 0, good.stdout
    assert repo.push("feature-attn").ok


def test_policy_branch(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    repo.checkout("main")
    result = commit(repo, "fix: direct fix", {"src/model.py": "x = 1\n"})
    assert result.returncode != 0 and said(result.stdout, "main-direct-commit"), result.stdout
    repo.git("reset", "-q", "--hard")
    bump = commit(repo, "chore(release): 0.2.0", {"tasks/main/config.yaml": config("0.2.0")})
    assert bump.returncode == 0, bump.stdout  # a version bump is not a direct commit
    assert repo.push("main").ok
    repo.branch("wip")
    result = commit(repo, "feat: on a badly named branch", {"src/w.py": "w = 1\n"})
    assert result.returncode != 0 and said(result.stdout, "branch-name"), result.stdout
    repo.git("reset", "-q", "--hard")
    name = "task-0.2.0-20261126-lr"
    repo.branch(name, "main")
    ok = commit(repo, "task: start lr", {f"tasks/{name}/config.yaml": config("0.2.0")})
    assert ok.returncode == 0, ok.stdout
    result = commit(repo, "task: touch the model", {"src/model.py": "y = 2\n"})
    assert result.returncode != 0 and said(result.stdout, "task-scope"), result.stdout
    repo.git("reset", "-q", "--hard")
    repo.checkout("dev")
    result = commit(repo, "chore: keep debug output", {"tasks/debug-0.1.0-20261126-x/log": "x\n"})
    assert result.returncode != 0 and said(result.stdout, "debug-leak"), result.stdout


def test_task_config_judges_the_staged_blob(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    name = "task-0.1.0-20261126-cfg"
    repo.branch(name, "main")
    repo.write({f"tasks/{name}/config.yaml": config().replace("RANDOM_SEED: 42\n", "RANDOM_SEED: forty-two\n")})
    (repo.path / f"tasks/{name}/config.yaml").write_text(config())  # fixed in the work tree, not staged
    result = commit(repo, "task: start cfg")
    assert result.returncode != 0 and said(result.stdout, "task-config"), result.stdout
    assert "RANDOM_SEED" in result.stdout
    repo.git("add", "-A")
    assert commit(repo, "task: start cfg").returncode == 0


def test_large_files(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    repo.branch("feature-data")
    result = commit(repo, "feat: weights", {"models/best.ckpt": b"\x00" * 64})
    assert result.returncode != 0 and said(result.stdout, "large-file"), result.stdout
    repo.git("rm", "-q", "--cached", "models/best.ckpt")
    (repo.path / "models/best.ckpt").unlink()
    result = commit(repo, "feat: data", {"data/big.txt": "x" * (600 * 1024)})
    assert result.returncode != 0 and said(result.stdout, "large-file"), result.stdout
    repo.git("rm", "-q", "--cached", "data/big.txt")
    (repo.path / "data/big.txt").unlink()
    ok = commit(repo, "feat: data pointer", {"data/big.txt.dvc": "outs:\n- md5: 1\n  path: big.txt\n"})
    assert ok.returncode == 0, ok.stdout


def test_policy_merge(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    repo.branch("feature-attn")
    assert commit(repo, "feat: attention", {"src/attn.py": "a = 1\n"}).returncode == 0
    repo.checkout("main")
    before = repo.sha()
    merge = run(["git", "merge", "--no-ff", "feature-attn", "-m", "feat: attention straight to main"], repo.path)
    assert merge.code != 0 and said(merge.out, "merge-source"), merge.out
    assert repo.sha() == before  # refused before the merge commit exists
    repo.git("merge", "--abort")
    debug = "debug-0.1.0-20261126-smoke"
    repo.branch(debug, "dev")
    assert commit(repo, "chore: smoke run", {f"tasks/{debug}/log": "ok\n"}).returncode == 0
    repo.checkout("dev")
    merge = run(["git", "merge", "--no-ff", "--no-edit", debug], repo.path)
    assert merge.code != 0 and said(merge.out, "debug-leak"), merge.out
    repo.git("merge", "--abort")
    merge = run(["git", "merge", "--no-ff", "--no-edit", "feature-attn"], repo.path)
    assert merge.code == 0, merge.out
    pushed = repo.push("feature-attn", "dev")  # the hook sees dev only: feature-attn goes first, alone
    assert not pushed.ok and "`git push origin feature-attn && git push origin dev`" in pushed.out, pushed.out
    assert run(["sh", "-c", "git push origin feature-attn && git push origin dev"], repo.path).ok


def test_squash_with_hooks_is_accepted_and_an_amended_extra_is_refused(hooked: tuple[World, Repo]) -> None:
    world, repo = hooked
    assert commit(repo, "feat: better loss", {"src/loss.py": "loss = 1\n"}).returncode == 0
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.git("merge", "--squash", "dev")
    result = commit(repo, "feat: release better loss")
    assert result.returncode == 0, result.stdout
    message = repo.git("log", "-1", "--format=%B")
    assert f"Squash-Merge: dev {repo.sha('dev')}" in message
    good = repo.sha()
    repo.write({"src/extra.py": "sneaked = True\n"})
    repo.git("commit", "-q", "--amend", "--no-edit", "--no-verify")
    pushed = run(["git", "push", "--no-verify", "origin", "main"], repo.path)
    assert refused(pushed, "squash-merge"), pushed.out
    repo.git("reset", "-q", "--hard", good)
    assert repo.push("main").ok
    assert world.server_sha("refs/heads/main") == good


def test_squash_message_from_the_editor(hooked: tuple[World, Repo]) -> None:
    _, repo = hooked
    assert commit(repo, "feat: faster data", {"src/data.py": "fast = 1\n"}).returncode == 0
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.git("merge", "--squash", "dev")
    editor = 'sh -c \'printf "feat: release faster data\\n\\n# comment line\\n" > "$1"\' editor'
    result = subprocess.run(
        ["git", "commit"], cwd=repo.path, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "GIT_EDITOR": editor},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert repo.git("log", "-1", "--format=%B").splitlines()[0] == "feat: release faster data"
    assert "Squash-Merge: dev " in repo.git("log", "-1", "--format=%B")
    assert repo.push("main").ok


def test_pre_push_gives_the_server_verdict_locally(
    tmp_path: Path, hook_repo: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no server hook at all, the pre-push hook alone stops the bad push."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(hook_repo[2]))
    world = World(tmp_path, hook=False)
    snap, rev = hook_repo[0], hook_repo[1]
    repo = world.work
    pre_commit_config = f"repos:\n- repo: {snap}\n  rev: {rev}\n  hooks:\n  - id: policy-push\n"
    repo.commit("feat: start", {".pre-commit-config.yaml": pre_commit_config, "tasks/main/config.yaml": config()})
    assert run(["pre-commit", "install", "--hook-type", "pre-push"], repo.path).ok
    assert repo.push("main").ok
    repo.commit("fix: direct on main", {"src/a.py": "a = 1\n"})
    result = repo.push("main")
    assert not result.ok and said(result.out, "main-direct-commit"), result.out
    assert world.server_sha("refs/heads/main") != repo.sha()


def test_happy_path_is_never_stopped(hooked: tuple[World, Repo]) -> None:
    """Seed §5 with every hook installed: feature -> dev, release to main, version bump and tag,
    a task run merged into main, a hotfix into main and dev. Nothing is refused, here or there."""
    world, repo = hooked
    repo.branch("feature-aug", "dev")
    assert commit(repo, "feat(data): augmentation", {"src/aug.py": "aug = 1\n"}).returncode == 0
    assert repo.push("feature-aug").ok
    repo.checkout("dev")
    assert run(["git", "merge", "--no-ff", "--no-edit", "feature-aug"], repo.path).ok
    assert repo.push("dev").ok
    repo.checkout("main")
    merged = run(["git", "merge", "--no-ff", "dev", "-m", "feat: release augmentation"], repo.path)
    assert merged.ok, merged.out
    assert commit(repo, "chore(release): 0.2.0", {"tasks/main/config.yaml": config("0.2.0")}).returncode == 0
    repo.git("tag", "-a", "v0.2.0", "-m", "version 0.2.0")
    assert repo.push("main", "v0.2.0").ok
    repo.checkout("dev")
    assert run(["git", "merge", "--no-edit", "main"], repo.path).ok
    assert repo.push("dev").ok
    name = "task-0.2.0-20261126-120000-lr"
    repo.branch(name, "main")
    assert (
        commit(repo, "task: start lr", {f"tasks/{name}/config.yaml": config("0.2.0", LEARNING_RATE=0.01)}).returncode
        == 0
    )
    assert commit(repo, "task: results", {f"tasks/{name}/result.txt": "acc 0.9\n"}).returncode == 0
    assert repo.push(name).ok
    repo.checkout("main")
    assert run(["git", "merge", "--no-ff", name, "-m", "task: lr 0.01 reaches 0.9"], repo.path).ok
    assert repo.push("main").ok
    repo.branch("hotfix-nan", "main")
    assert commit(repo, "fix: guard against nan", {"src/model.py": "class Model:\n    eps = 1e-8\n"}).returncode == 0
    assert repo.push("hotfix-nan").ok
    repo.checkout("main")
    assert run(["git", "merge", "--no-ff", "hotfix-nan", "-m", "fix: guard against nan"], repo.path).ok
    repo.checkout("dev")
    assert run(["git", "merge", "--no-ff", "--no-edit", "hotfix-nan"], repo.path).ok
    assert repo.push("main", "dev").ok
    assert world.server_sha("refs/heads/dev") == repo.sha("dev")


def test_pre_push_refuses_a_merge_source_only_a_local_branch_proves(hooked: tuple[World, Repo]) -> None:
    """Under the framework policy-push sees one ref: a task branch merged into main but never pushed
    is refused here, before the server would, naming the pushes that carry it (the branch first, alone);
    those pushes are accepted."""
    world, repo = hooked
    name = "task-0.1.0-20261126-120000-lr"
    repo.branch(name, "main")
    assert commit(repo, "task: results", {f"tasks/{name}/result.txt": "acc 0.9\n"}).returncode == 0
    repo.checkout("main")
    assert run(["git", "merge", "--no-ff", name, "-m", "task: lr reaches 0.9"], repo.path).ok
    result = repo.push("main")
    assert not result.ok and "remote:" not in result.out, result.out
    assert f"which only your local branch {name} has" in result.out
    assert f"`git push origin {name} && git push origin main`" in result.out
    assert run(["sh", "-c", f"git push origin {name} && git push origin main"], repo.path).ok
    assert world.server_sha("refs/heads/main") == repo.sha("main")


def test_policy_install_where_pre_commit_runs_the_hooks(hooked: tuple[World, Repo]) -> None:
    """pre-commit's hooks already run branch-policy: `policy install` says so and leaves them."""
    _, repo = hooked
    hook = repo.path / ".git/hooks/pre-commit"
    before = hook.read_text()
    result = run([sys.executable, "-m", "policy", "install"], repo.path)
    assert result.ok and result.out.count("already runs branch-policy") == 4, result.out
    assert "not branch-policy's" not in result.out and hook.read_text() == before


@case("commit-message", "main-direct-commit", "task-config", "merge-source")
def test_follow_the_hint_under_pre_commit(hooked: tuple[World, Repo]) -> None:
    """The refusals of the commit-time hooks under the framework, each followed as printed (the
    follow-the-hint cases of test_hints, through pre-commit): every push after them is accepted."""
    world, repo = hooked
    repo.branch("feature-x", "dev")
    repo.write({"src/x.py": "x = 1\n"})
    bad = run(["git", "commit", "-q", "-m", "wip"], repo.path, env=ENV)
    assert not bad.ok
    follow(repo, bad.out, "commit-message")
    assert repo.git("log", "-1", "--format=%s") == "chore: wip"

    repo.checkout("main")
    (repo.path / "src/model.py").write_text("class Model:\n    eps = 2\n")
    bad = run(["git", "commit", "-q", "-am", "fix(model): eps"], repo.path, env=ENV)
    assert not bad.ok
    follow(repo, bad.out, "main-direct-commit")
    assert repo.git("branch", "--show-current") == "dev"
    assert run(["git", "commit", "-q", "-am", "fix(model): eps"], repo.path, env=ENV).ok
    assert run(["git", "push", "-q", "origin", "dev"], repo.path, env=ENV).ok

    run_config_without_debug(repo)
    bad = run(["git", "commit", "-q", "-m", "task: no debug key"], repo.path, env=ENV)
    assert not bad.ok
    follow(repo, bad.out, "task-config")
    assert run(["git", "commit", "-q", "-m", "task: no debug key"], repo.path, env=ENV).ok
    assert run(["git", "push", "-q", "origin", "HEAD"], repo.path, env=ENV).ok

    repo.checkout("main")
    merge = run(["git", "merge", "--no-ff", "feature-x", "-m", "feat: x"], repo.path, env=ENV)
    assert not merge.ok
    follow(repo, merge.out, "merge-source")
    assert world.server_sha("refs/heads/main") == repo.sha("main")
    assert world.server_sha("refs/heads/feature-x") == repo.sha("feature-x")
