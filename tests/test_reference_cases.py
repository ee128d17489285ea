"""Where the engine and the reference judge disagreed (tests/test_reference_property.py), shrunk
to one push each and written out: real repositories, real pushes into a bare repository with the
hook, and the verdict the model of docs/trust-model.md asks for."""

from __future__ import annotations

import pytest
from conftest import ZERO, Repo, World, config, refused, run
from reference_judge import Reference

from policy.config import RULE_IDS, Policy
from policy.engine import RepoState, judge
from policy.gitio import Git
from policy.model import RefUpdate

TASK_A = "task-0.1.0-20261126-a"
TASK_B = "task-0.1.0-20261126-b"
DEBUG = "debug-0.1.0-20261126-d"
SNEAKY = "sneaky\n"
KNOWN = {"ref-namespace", "unsafe-path", "policy-file", *RULE_IDS}
BIG = "".join(f"{i:05d} {'x' * 93}\n" for i in range(6200))  # 620,000 bytes


def blob(repo: Repo, content: str) -> str:
    return repo.git("hash-object", "-w", "--stdin", input=content)


def server_has(world: World, ref: str, sha: str) -> bool:
    return world.server_sha(ref) == sha


# ---------------------------------------------------------------------------------- refs
def test_a_replace_loop_on_the_server_changes_nothing(seeded: tuple[World, Repo]) -> None:
    """refs/replace/<main> -> main (git gives up: "replace depth too high"): every git process
    ignores replace refs, so a good push is still judged, and accepted."""
    world, repo = seeded
    tip = repo.sha("main")
    run(["git", "update-ref", f"refs/replace/{tip}", tip], world.server)
    repo.branch("feature-x", "dev")
    repo.commit("feat: add a layer", {"src/layer.py": "layer\n"})
    result = repo.push("feature-x")
    assert result.ok, result.out


def test_a_replace_ref_does_not_hide_the_pushed_commit(seeded: tuple[World, Repo]) -> None:
    """The server holds refs/replace/<bad> -> <good>: dev moving to <bad> is judged as <bad>."""
    world, repo = seeded
    repo.branch("feature-ok", "dev")
    good = repo.commit("feat: fine", {"src/fine.py": "fine\n"})
    assert repo.push("feature-ok").ok
    repo.checkout("dev")
    bad = repo.commit("feat: weights", {"model.pt": "weights\n"})
    run(["git", "update-ref", f"refs/replace/{bad}", good], world.server)
    result = repo.push("dev")
    assert refused(result, "large-file"), result.out


@pytest.mark.parametrize("ref", ["refs/custom/x", "refs/notes/commits", "refs/replace/" + "1" * 40])
def test_other_namespaces_are_refused(seeded: tuple[World, Repo], ref: str) -> None:
    world, repo = seeded
    result = repo.push(f"main:{ref}")
    assert refused(result, "ref-namespace"), result.out
    assert world.server_sha(ref) is None


def test_a_plain_tag_is_judged_for_content(seeded: tuple[World, Repo]) -> None:
    """A lightweight tag on a commit no branch has: its .pt and debug output are judged."""
    _world, repo = seeded
    repo.git("checkout", "-q", "--detach", "main")
    repo.commit("feat: experiment", {"model.pt": "weights\n", f"tasks/{DEBUG}/log": "debug\n"})
    repo.git("tag", "exp-1")
    result = repo.push("refs/tags/exp-1")
    assert refused(result, "large-file") and refused(result, "debug-leak"), result.out


def test_a_platform_ref_is_judged_for_content(seeded: tuple[World, Repo]) -> None:
    """refs/pull/* is allowed (hosting platforms write it), and judged like a tag."""
    _world, repo = seeded
    repo.branch("feature-x", "dev")
    repo.commit("feat: data", {"data/big.txt": BIG})
    result = repo.push("feature-x:refs/pull/7/head")
    assert refused(result, "large-file"), result.out


# ---------------------------------------------------------------------------------- large files
@pytest.mark.parametrize(
    ("path", "content"),
    [(".dvc/cache/ab/cdef", "cached bytes\n"), ("weights.pt.dvc", BIG), ("fake.dvc", "not a pointer\n")],
)
def test_dvc_names_carry_no_data(seeded: tuple[World, Repo], path: str, content: str) -> None:
    _world, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: data", {path: content})
    result = repo.push("dev")
    assert refused(result, "large-file"), result.out


def test_a_large_symlink_blob_is_sized(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.checkout("dev")
    repo.git("update-index", "--add", "--cacheinfo", f"120000,{blob(repo, BIG)},link")
    repo.git("commit", "-q", "--no-verify", "-m", "feat: link")
    result = repo.push("dev")
    assert refused(result, "large-file"), result.out


# ---------------------------------------------------------------------------------- paths
def test_a_dotdot_tree_entry_never_reaches_a_branch(seeded: tuple[World, Repo]) -> None:
    """tasks/<run>/../../src/model.py: git will not check it out. The push is refused (by git's
    fsck or by the hook), and the engine names it unsafe-path."""
    world, repo = seeded
    dev = repo.sha("dev")
    inner = repo.git("mktree", input=f"100644 blob {blob(repo, SNEAKY)}\tmodel.py\n")
    tree = inner
    for name in ("src", "..", "..", TASK_A, "tasks"):
        tree = repo.git("mktree", input=f"040000 tree {tree}\t{name}\n")
    commit = repo.git("commit-tree", tree, "-p", dev, "-m", "feat: sneak")
    result = repo.push(f"{commit}:refs/heads/dev")
    assert not result.ok and server_has(world, "refs/heads/dev", dev), result.out
    git = Git(cwd=str(repo.path))
    found = judge(git, Policy.defaults(), RepoState({"main": repo.sha("main"), "dev": dev}, {}),
                  [RefUpdate("refs/heads/dev", dev, commit)])  # fmt: skip
    assert "unsafe-path" in {v.rule for v in found}, found


# ---------------------------------------------------------------------------------- same push
def test_two_task_branches_at_one_commit_do_not_vouch_for_each_other(seeded: tuple[World, Repo]) -> None:
    """Two task branches at one new commit: it is the run's whose folder it stays in (task-b started
    from task-a, both pushed at once, is what pushing task-a first and task-b later would give); a
    commit in no run's folder is refused for each, whoever else holds it."""
    _world, repo = seeded
    repo.branch(TASK_A, "main")
    repo.commit("task: record run", {f"tasks/{TASK_A}/metrics.txt": "loss 0.5\n"})
    repo.git("branch", TASK_B)
    result = repo.push(TASK_A, TASK_B)
    assert result.ok, result.out
    repo.checkout(TASK_A)
    repo.commit("task: and a tweak", {"src/model.py": "tweak\n"})
    repo.git("branch", "-f", TASK_B)
    result = repo.push(TASK_A, TASK_B)
    assert refused(result, "task-scope"), result.out
    assert f"task branch {TASK_A} changes" in result.out and f"task branch {TASK_B} changes" in result.out


def test_a_hotfix_is_measured_against_main_and_dev_before_the_push(world: World) -> None:
    """dev created in the same push at a 600-line change does not make a hotfix there small."""
    repo = world.work
    repo.commit("feat: initial", {"tasks/main/config.yaml": config("0.1.0"), "src/model.py": "model\n"})
    assert repo.push("main").ok
    repo.branch("dev")
    repo.commit("feat: big rewrite", {"src/big.py": "".join(f"line {i}\n" for i in range(600))})
    repo.git("branch", "hotfix-y")
    result = repo.push("dev", "hotfix-y")
    assert refused(result, "hotfix-size"), result.out


def test_an_orphan_hotfix_is_refused_with_hotfix_size(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.git("checkout", "-q", "--orphan", "hotfix-y")
    repo.git("rm", "-rq", "--cached", ".")
    repo.commit("fix: orphan", {"src/fix.py": "fix\n"})
    result = repo.push("hotfix-y")
    assert refused(result, "hotfix-size"), result.out


# ---------------------------------------------------------------------------------- merges on main
def test_a_merge_that_brings_nothing_new_is_a_direct_commit(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.checkout("dev")
    feature = repo.commit("feat: layer", {"src/layer.py": "layer\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    merged = repo.merge("dev", "feat: merge dev")
    assert repo.push("main").ok
    repo.write({"src/backdoor.py": "evil\n"})
    tree = repo.git("write-tree")
    fake = repo.git("commit-tree", tree, "-p", merged, "-p", feature, "-m", "feat: merge dev")
    result = repo.push(f"{fake}:refs/heads/main")
    assert refused(result, "main-direct-commit"), result.out


def test_an_evil_merge_is_a_direct_commit(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: layer", {"src/layer.py": "layer\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "dev")
    repo.write({"src/backdoor.py": "evil\n"})
    repo.git("commit", "-q", "--no-verify", "-m", "feat: merge dev")
    result = repo.push("main")
    assert refused(result, "main-direct-commit"), result.out


def test_a_squash_of_an_unrelated_history_is_refused_not_a_crash(world: World) -> None:
    repo = world.work
    repo.commit("feat: initial", {"tasks/main/config.yaml": config("0.1.0"), "src/model.py": "model\n"})
    assert repo.push("main").ok
    repo.git("checkout", "-q", "--orphan", "dev")
    repo.git("rm", "-rq", "--cached", ".")
    other = repo.commit("feat: other root", {"src/other.py": "other\n"})
    assert repo.push("dev").ok
    repo.git("checkout", "-q", "-f", "main")
    repo.commit(f"feat: squash dev\n\nSquash-Merge: dev {other}\n", {"src/other.py": "other\n"})
    result = repo.push("main")
    assert refused(result, "squash-merge"), result.out


# ---------------------------------------------------------------------------------- debug routes
def test_a_debug_only_commit_does_not_land_through_a_new_branch(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.branch(DEBUG, "main")
    repo.commit("fix: try something", {"src/model.py": "hack\n"})
    assert repo.push(DEBUG).ok
    repo.git("branch", "feature-x")
    result = repo.push("feature-x")
    assert refused(result, "debug-leak"), result.out


# ---------------------------------------------------------------------------------- task-type
def test_a_task_merge_into_a_dev_behind_main_has_type_task_and_passes(seeded: tuple[World, Repo]) -> None:
    """A task branch starts on main, which has a fix dev lacks: merging it into dev with type task
    is what task-type asks; the merge's diff against dev holds main's fix outside tasks/, which no
    rule judges (task-type judges non-merge task commits)."""
    _world, repo = seeded
    repo.branch("hotfix-y", "main")
    repo.commit("fix: guard", {"src/model.py": "class Model:\n    guard = True\n"})
    assert repo.push("hotfix-y").ok
    repo.checkout("main")
    repo.merge("hotfix-y", "fix: merge hotfix-y")
    assert repo.push("main").ok
    repo.branch(TASK_A, "main")
    repo.commit("task: record run", {f"tasks/{TASK_A}/metrics.txt": "loss 0.5\n"})
    assert repo.push(TASK_A).ok
    repo.checkout("dev")
    repo.merge(TASK_A, "task: merge run a")
    result = repo.push("dev")
    assert result.ok, result.out


def test_a_root_squash_on_mains_line_is_refused_not_a_crash(seeded: tuple[World, Repo]) -> None:
    """A root commit with a Squash-Merge trailer, brought onto main's first-parent line by a merge
    whose second parent is main (a fast-forward): no parent to squash onto."""
    _world, repo = seeded
    main = repo.sha("main")
    tree = repo.git("rev-parse", "main^{tree}")
    root = repo.git("commit-tree", tree, "-m", f"feat: squash dev\n\nSquash-Merge: dev {main}\n")
    merge = repo.git("commit-tree", tree, "-p", root, "-p", main, "-m", "feat: merge main")
    result = repo.push(f"{merge}:refs/heads/main")
    assert refused(result, "squash-merge"), result.out


# ---------------------------------------------------------------------------------- the reference itself
def judged_push(world: World, repo: Repo, *refspecs: str) -> tuple[bool, set[str], set[str]]:
    """Push for real, and ask the reference judge the same question in the clone (which has every
    object), with the server's refs as they were before: (accepted, hook's rules, reference's)."""
    listed = run(["git", "for-each-ref", "--format=%(objectname) %(refname)"], world.server).out.split("\n")
    before = {name: sha for sha, name in (line.split(" ", 1) for line in listed if line)}
    updates = []
    for spec in refspecs:
        src, _, dst = spec.partition(":")
        dst = dst or (src if src.startswith("refs/") else f"refs/heads/{src}")
        updates.append((dst, before.get(dst, ZERO), repo.git("rev-parse", src) if src else ZERO))
    found = Reference(str(repo.path)).judge(updates, before=before)
    result = repo.push(*refspecs)
    hook = {w[1] for line in result.out.splitlines() if line.startswith("remote:") and len(w := line.split()) > 1}
    return result.ok, hook & KNOWN, {f.rule for f in found}


def test_the_reference_accepts_the_model_flow_and_refuses_its_mistakes(seeded: tuple[World, Repo]) -> None:
    """The reference is not stricter (or looser) than the engine on the model's everyday flow."""
    world, repo = seeded
    verdicts = []

    def push(*refspecs: str) -> None:
        verdicts.append((refspecs, *judged_push(world, repo, *refspecs)))

    repo.branch("feature-x", "dev")
    repo.commit("feat(model): attention", {"src/attention.py": "def attend():\n    return 1\n"})
    push("feature-x")
    repo.checkout("dev")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature-x")
    push("dev")
    repo.checkout("main")
    repo.git("merge", "--squash", "-q", "dev")
    repo.git("commit", "-q", "--no-verify", "-m", f"feat: release attention\n\nSquash-Merge: dev {repo.sha('dev')}")
    push("main")
    repo.commit("chore: release 0.2.0", {"tasks/main/config.yaml": config("0.2.0")})
    repo.git("tag", "-a", "v0.2.0", "-m", "version 0.2.0")
    push("main", "refs/tags/v0.2.0")
    task = "task-0.2.0-20261126-a"
    repo.branch(task, "main")
    repo.commit("task: run a", {f"tasks/{task}/config.yaml": config("0.2.0"), f"tasks/{task}/metrics.txt": "0.9\n"})
    push(task)
    repo.checkout("main")
    repo.merge(task, "task: results of run a")
    push("main")
    repo.branch("hotfix-y", "main")
    repo.commit("fix(model): guard", {"src/model.py": "class Model:\n    guard = True\n"})
    push("hotfix-y")
    repo.checkout("main")
    repo.merge("hotfix-y", "fix: merge hotfix-y")
    repo.checkout("dev")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "hotfix-y")
    push("main", "dev")
    repo.branch(DEBUG.replace("0.1.0", "0.2.0"), "dev")
    repo.commit("chore(debug): smoke", {f"tasks/{DEBUG.replace('0.1.0', '0.2.0')}/log": "nan\n"})
    push(DEBUG.replace("0.1.0", "0.2.0"))
    accepted = [v for v in verdicts if v[1]]
    assert len(accepted) == len(verdicts) and all(not v[3] for v in verdicts), verdicts

    # mistakes: both refuse, with the same rules
    mistakes = []

    def mistake(*refspecs: str) -> None:
        mistakes.append((refspecs, *judged_push(world, repo, *refspecs)))

    repo.checkout("dev")
    repo.git("merge", "-q", "--no-ff", "--no-edit", DEBUG.replace("0.1.0", "0.2.0"))
    mistake("dev")
    repo.git("reset", "-q", "--hard", "origin/dev")
    repo.checkout("main")
    repo.commit("feat: direct", {"src/direct.py": "x\n"})
    mistake("main")
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.branch("feature-big", "dev")
    repo.commit("wip", {"weights.pt": "w\n"})
    mistake("feature-big")
    assert all(not ok and hook and hook == ref for _, ok, hook, ref in mistakes), mistakes
