"""Every rule of SPEC §2 at a real server: one push it refuses (naming the rule id) and one it
accepts. Pushes go into a bare repository whose pre-receive hook `policy install --server` wrote."""

from __future__ import annotations

from conftest import Repo, World, config, refused


def feature(repo: Repo, name: str = "feature-attn", files: dict | None = None) -> str:
    repo.checkout("dev")
    repo.branch(name)
    return repo.commit("feat(model): add attention", files or {"src/attn.py": "def attn():\n    return 1\n"})


def release(repo: Repo, message: str = "feat: release attention") -> str:
    """dev -> main with --no-ff, the seed's step 4."""
    repo.checkout("main")
    return repo.merge("dev", message)


# --------------------------------------------------------------------------- branch-name


def test_branch_name(served: tuple[World, Repo]) -> None:
    _, repo = served
    feature(repo)
    assert repo.push("feature-attn").ok
    repo.branch("experiment")
    result = repo.push("experiment")
    assert refused(result, "branch-name"), result.out
    assert "`git branch -m experiment feature-experiment`" in result.out  # the hint renames it to a good name
    repo.branch("Feature-Upper")
    assert refused(repo.push("Feature-Upper"), "branch-name")


# --------------------------------------------------------------------------- protected-ref


def test_protected_ref_rewrite_and_delete(served: tuple[World, Repo]) -> None:
    world, repo = served
    feature(repo)
    assert repo.push("feature-attn").ok
    repo.checkout("dev")
    repo.commit("feat: on dev", {"src/a.py": "a = 1\n"})
    assert repo.push("dev").ok
    before = world.server_sha("refs/heads/dev")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    result = repo.push("--force", "dev")
    assert refused(result, "protected-ref"), result.out
    assert world.server_sha("refs/heads/dev") == before
    assert refused(repo.push("--delete", "dev"), "protected-ref")
    assert refused(repo.push("--delete", "main"), "protected-ref")
    assert repo.push("--delete", "feature-attn").ok  # temporary branches may go


def test_protected_ref_version_tags_never_move(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    repo.checkout("main")
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    assert repo.push("v0.1.0").ok
    repo.git("tag", "-f", "-a", "v0.1.0", "-m", "moved", "main~0^{commit}")
    repo.git("tag", "-f", "-a", "v0.1.0", "-m", "moved again")
    result = repo.push("--force", "refs/tags/v0.1.0")
    assert refused(result, "protected-ref"), result.out
    assert refused(repo.push("--delete", "refs/tags/v0.1.0"), "protected-ref")
    repo.git("tag", "scratch")
    assert repo.push("scratch").ok and repo.push("--delete", "refs/tags/scratch").ok  # not a version tag


# --------------------------------------------------------------------------- main-direct-commit


def test_main_direct_commit(served: tuple[World, Repo]) -> None:
    _, repo = served
    repo.checkout("main")
    repo.commit("fix: quick fix on main", {"src/model.py": "class Model:\n    fixed = True\n"})
    result = repo.push("main")
    assert refused(result, "main-direct-commit"), result.out
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.checkout("dev")
    repo.commit("fix: quick fix on dev", {"src/model.py": "class Model:\n    fixed = True\n"})
    assert repo.push("dev").ok
    release(repo, "fix: release the quick fix")
    assert repo.push("main").ok


def test_fast_forward_of_main_onto_dev_is_a_direct_commit(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: dev work", {"src/b.py": "b = 1\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.git("merge", "-q", "--ff-only", "dev")
    result = repo.push("main")
    assert refused(result, "main-direct-commit"), result.out


def test_bootstrap_push_creates_main(world: World) -> None:
    repo = world.work
    repo.commit("feat: one", {"tasks/main/config.yaml": config(), "a.py": "1\n"})
    repo.commit("feat: two", {"b.py": "2\n"})  # non-merge commits on main: fine only when creating main
    assert repo.push("main").ok


# --------------------------------------------------------------------------- squash-merge


def squash(repo: Repo, source: str, message: str = "feat: release dev") -> str:
    repo.checkout("main")
    repo.git("merge", "--squash", "-q", source)
    tip = repo.sha(source)
    repo.git("commit", "-q", "--no-verify", "-m", f"{message}\n\nSquash-Merge: {source} {tip}")
    return repo.sha()


def test_squash_merge_accepted_and_extra_change_refused(seeded: tuple[World, Repo]) -> None:
    _world, repo = seeded
    feature(repo)
    repo.checkout("dev")
    repo.merge("feature-attn", "Merge branch 'feature-attn' into dev")
    assert repo.push("feature-attn", "dev").ok
    squash(repo, "dev")
    good = repo.sha()
    repo.write({"src/evil.py": "backdoor = True\n"})
    repo.git("commit", "-q", "--amend", "--no-edit", "--no-verify")
    result = repo.push("main")
    assert refused(result, "squash-merge"), result.out
    assert "differs from the real merge" in result.out
    repo.git("reset", "-q", "--hard", good)
    assert repo.push("main").ok


def test_squash_of_a_feature_branch_is_refused(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    assert repo.push("feature-attn").ok
    squash(repo, "feature-attn")
    assert refused(repo.push("main"), "squash-merge")


def test_squash_source_must_be_on_the_server(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: unpushed dev work", {"src/c.py": "c = 1\n"})
    squash(repo, "dev")
    result = repo.push("main")
    assert refused(result, "squash-merge"), result.out
    assert repo.push("dev", "main").ok  # the same squash, with its source in the same push


# --------------------------------------------------------------------------- version-bump


def test_version_bump(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.commit("chore(release): 0.2.0", {"tasks/main/config.yaml": config("0.2.0")})
    assert repo.push("main").ok
    repo.commit("chore(release): 0.1.5", {"tasks/main/config.yaml": config("0.1.5")})
    result = repo.push("main")
    assert refused(result, "version-bump"), result.out
    assert "not up" in result.out
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.commit("chore(release): 0.3.0", {"tasks/main/config.yaml": config("0.3.0", RANDOM_SEED=7)})
    assert refused(repo.push("main"), "version-bump")


# --------------------------------------------------------------------------- merge-source


def test_merge_source_is_proven_from_refs_not_messages(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    assert repo.push("feature-attn").ok
    repo.checkout("main")
    repo.merge("feature-attn", "feat: Merge branch 'dev' into main")  # the message lies
    result = repo.push("main")
    assert refused(result, "merge-source"), result.out
    assert "feature-attn" in result.out


def test_merge_source_edges(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    assert repo.push("feature-attn").ok
    repo.checkout("dev")
    repo.merge("feature-attn", "Merge branch 'feature-attn' into dev")
    assert repo.push("dev").ok  # dev accepts feature
    repo.branch("hotfix-typo", "main")
    repo.merge("dev", "fix: take dev")
    assert refused(repo.push("hotfix-typo"), "merge-source")  # hotfix accepts only main
    release(repo)
    assert repo.push("main").ok  # main accepts dev
    repo.checkout("dev")
    repo.git("merge", "-q", "--no-verify", "main", "-m", "Merge branch 'main' into dev")
    assert repo.push("dev").ok  # dev accepts main (seed §5 step 4.5)


def test_merge_of_an_unpushed_branch_is_refused(served: tuple[World, Repo]) -> None:
    _, repo = served
    feature(repo)  # never pushed: the server cannot prove where it comes from
    repo.checkout("dev")
    repo.merge("feature-attn", "Merge branch 'feature-attn' into dev")
    assert refused(repo.push("dev"), "merge-source")
    assert repo.push("feature-attn", "dev").ok  # pushed together, it is proven


# --------------------------------------------------------------------------- task-scope


def task(repo: Repo, slug: str = "lr", version: str = "0.1.0") -> str:
    name = f"task-{version}-20261126-{slug}"
    repo.checkout("main")
    repo.branch(name)
    repo.commit(f"task: start {slug}", {f"tasks/{name}/config.yaml": config(version, LEARNING_RATE=0.01)})
    return name


def test_task_scope(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = task(repo)
    repo.commit("task: results", {f"tasks/{name}/log.txt": "loss 0.1\n"})
    assert repo.push(name).ok
    repo.commit("task: tweak the model", {"src/model.py": "class Model:\n    tweak = 1\n"})
    result = repo.push(name)
    assert refused(result, "task-scope"), result.out
    assert "src/model.py" in result.out


def test_task_scope_is_by_whole_path_component(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = task(repo, "a")
    repo.commit("task: write next door", {f"tasks/{name}b/x.txt": "x\n"})  # tasks/task-...-ab/
    assert refused(repo.push(name), "task-scope")


def test_task_scope_renames_count_both_sides(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = task(repo)
    assert repo.push(name).ok
    repo.git("mv", "src/model.py", f"tasks/{name}/model.py")
    repo.commit("task: take the model along")
    result = repo.push(name)
    assert refused(result, "task-scope"), result.out
    assert "src/model.py" in result.out


# --------------------------------------------------------------------------- task-base


def test_task_base(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    good = task(repo, "good", "0.1.0")
    assert repo.push(good).ok
    stale = task(repo, "stale", "0.0.9")
    result = repo.push(stale)
    assert refused(result, "task-base"), result.out
    assert "0.0.9" in result.out and "0.1.0" in result.out
    chained = "task-0.1.0-20261127-chained"
    repo.checkout(good)
    repo.branch(chained)
    repo.commit("task: chained run", {f"tasks/{chained}/config.yaml": config("0.1.0")})
    assert repo.push(chained).ok  # from another task branch


def test_task_branch_from_dev_is_refused(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: dev only", {"src/d.py": "d = 1\n"})
    assert repo.push("dev").ok
    name = "task-0.1.0-20261126-fromdev"
    repo.branch(name)
    repo.commit("task: run", {f"tasks/{name}/config.yaml": config()})
    result = repo.push(name)
    assert refused(result, "task-scope"), result.out  # dev's commits are not its own


# --------------------------------------------------------------------------- debug-leak


def debug(repo: Repo, start: str = "dev") -> str:
    name = "debug-0.1.0-20261126-smoke"
    repo.checkout(start)
    repo.branch(name)
    repo.commit("chore: debug run", {f"tasks/{name}/config.yaml": config(DEBUG="true"), f"tasks/{name}/log": "ok\n"})
    return name


def test_debug_branch_itself_is_fine_but_never_merged(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = debug(repo)
    assert repo.push(name).ok
    repo.checkout("dev")
    repo.merge(name, f"Merge branch '{name}' into dev")
    result = repo.push("dev")
    assert refused(result, "debug-leak"), result.out


def test_debug_paths_on_another_branch(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("chore: keep the debug log", {"tasks/debug-0.1.0-20261126-x/log": "oops\n"})
    result = repo.push("dev")
    assert refused(result, "debug-leak"), result.out
    repo.commit("chore: drop the debug log", {"tasks/debug-0.1.0-20261126-x/log": None})
    assert refused(repo.push("dev"), "debug-leak")  # the first commit still carries it


# --------------------------------------------------------------------------- commit-message


def test_commit_message(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    assert repo.push("feature-attn").ok
    for bad in ("added stuff", "feature: add", "feat: " + "x" * 70, "feat: ", "Feat: capital"):
        repo.commit(bad, {"src/x.py": bad})
        result = repo.push("feature-attn")
        assert refused(result, "commit-message"), (bad, result.out)
        repo.git("reset", "-q", "--hard", "origin/feature-attn")
    repo.commit("fix(data)!: change the loader", {"src/x.py": "ok\n"})
    assert repo.push("feature-attn").ok


def test_git_merge_messages_only_off_main(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    assert repo.push("feature-attn").ok
    repo.checkout("dev")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "--no-verify", "feature-attn")
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "--no-verify", "dev")
    result = repo.push("main")
    assert refused(result, "commit-message"), result.out


# --------------------------------------------------------------------------- task-type


def test_task_type(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = task(repo)
    assert repo.push(name).ok
    repo.checkout("main")
    repo.merge(name, f"feat: merge {name}")
    result = repo.push("main")
    assert refused(result, "task-type"), result.out
    repo.git("reset", "-q", "--hard", "origin/main")
    repo.merge(name, "task: learning rate 0.01 wins")
    assert repo.push("main").ok
    repo.checkout("dev")
    repo.commit("task: not really a task", {"src/model.py": "x = 1\n"})
    assert refused(repo.push("dev"), "task-type")


# --------------------------------------------------------------------------- hotfix-size


def test_hotfix_size(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.branch("hotfix-small", "main")
    repo.commit("fix: small", {"src/model.py": "class Model:\n    pass\n" + "# fixed\n" * 10})
    assert repo.push("hotfix-small").ok
    repo.branch("hotfix-big", "main")
    repo.commit("fix: big", {"src/big.py": "x = 1\n" * 51})
    result = repo.push("hotfix-big")
    assert refused(result, "hotfix-size"), result.out
    assert "51 lines" in result.out


# --------------------------------------------------------------------------- version-tag


def test_version_tag(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("main")
    repo.git("tag", "v0.1.0")  # lightweight
    assert refused(repo.push("v0.1.0"), "version-tag")
    repo.git("tag", "-d", "v0.1.0")
    repo.git("tag", "-a", "v0.2.0", "-m", "v0.2.0")  # config says 0.1.0
    result = repo.push("v0.2.0")
    assert refused(result, "version-tag"), result.out
    repo.git("tag", "-a", "v0.1.0", "-m", "version 0.1.0")
    assert repo.push("v0.1.0").ok
    repo.checkout("dev")
    repo.commit("feat: dev only", {"src/e.py": "e = 1\n"})
    repo.git("tag", "-a", "v0.1.1", "-m", "from dev")
    assert refused(repo.push("v0.1.1"), "version-tag")  # not on main


# --------------------------------------------------------------------------- task-config


def test_task_config(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    name = task(repo)
    assert repo.push(name).ok
    repo.commit("task: drop the seed", {f"tasks/{name}/config.yaml": config().replace("RANDOM_SEED: 42\n", "")})
    result = repo.push(name)
    assert refused(result, "task-config"), result.out
    assert "RANDOM_SEED" in result.out
    repo.commit("task: broken yaml", {f"tasks/{name}/config.yaml": "VERSION: [\n"})
    assert refused(repo.push(name), "task-config")
    repo.git("reset", "-q", "--hard", "origin/" + name)
    repo.commit("task: lr", {f"tasks/{name}/config.yaml": config(LEARNING_RATE=0.1)})
    assert repo.push(name).ok


# --------------------------------------------------------------------------- large-file


def test_large_file(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    feature(repo)
    repo.commit("feat: dvc pointer", {"data/train.csv.dvc": "outs:\n- md5: abc\n  path: train.csv\n"})
    assert repo.push("feature-attn").ok
    repo.commit("feat: weights", {"models/net.pt": b"\x00" * 10})
    result = repo.push("feature-attn")
    assert refused(result, "large-file"), result.out
    assert "dvc add" in result.out
    repo.git("reset", "-q", "--hard", "origin/feature-attn")
    repo.commit("feat: big csv", {"data/big.csv": "1,2,3\n" * 100_000})
    result = repo.push("feature-attn")
    assert refused(result, "large-file"), result.out
    assert "data/big.csv" in result.out


def test_a_task_typed_merge_that_brings_code_is_refused(seeded: tuple[World, Repo]) -> None:
    _, repo = seeded
    repo.checkout("dev")
    repo.commit("feat: new layer", {"src/layer.py": "layer = 1\n"})
    assert repo.push("dev").ok
    repo.checkout("main")
    repo.merge("dev", "task: not a task at all")
    result = repo.push("main")
    assert refused(result, "task-type"), result.out
    assert "merges dev, not a task run" in result.out  # the type marks task merges: dev's is not one
