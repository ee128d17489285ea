"""The engine on real repositories (policy.gitio.Git as its facts), where what matters is not only
the verdict but how much it walks: a push costs what it brings, not what the repository holds."""

from __future__ import annotations

from conftest import ZERO, Repo, World, config, refused, seed

from policy.config import Policy
from policy.engine import Judge
from policy.gitio import Git
from policy.model import RefUpdate
from policy.verdict import server_state


def judge_push(world: World, refspecs: dict[str, str]) -> Judge:
    """Judge, in the server, a push of {branch: local sha} from the work clone (objects fetched in
    first, refs untouched), as the pre-receive hook would."""
    repo = world.work
    git = Git(cwd=str(world.server))
    # the server fetches the objects (no hook runs on a fetch) into a namespace outside heads and tags
    git.run("fetch", "-q", str(repo.path), *(f"{sha}:refs/bench-tmp/{n}" for n, sha in refspecs.items()))
    state = server_state(git)
    updates = [RefUpdate(f"refs/heads/{name}", state.branches.get(name, ZERO), sha) for name, sha in refspecs.items()]
    judge = Judge(git, Policy.defaults(), state, updates)
    judge.run()
    return judge


def test_a_bulk_push_walks_each_new_commit_once(world: World) -> None:
    repo = seed(world)
    repo.checkout("dev")
    for i in range(60):
        repo.commit(f"feat: step {i}", {f"src/m{i % 5}.py": f"x = {i}\n"})
    branches = {"dev": repo.sha("dev")}
    for i in range(12):
        repo.branch(f"feature-f{i}", "dev")
        repo.commit(f"feat: f{i}", {f"src/f{i}.py": "f = 1\n"})
        branches[f"feature-f{i}"] = repo.sha()
    judge = judge_push(world, branches)
    assert judge.out == [], judge.out
    assert judge.commits_judged == 60 + 12  # not 12 x 60: each walk skips what an earlier one judged


def test_main_fast_forwarded_onto_dev_in_the_same_push_is_refused(world: World) -> None:
    repo = seed(world)
    repo.checkout("dev")
    repo.commit("feat: dev work", {"src/x.py": "x = 1\n"})
    repo.checkout("main")
    repo.git("merge", "-q", "--ff-only", "dev")
    assert refused(repo.push("dev", "main"), "main-direct-commit")


def test_a_new_branch_on_a_new_dev_tip_does_not_inherit_devs_merges(world: World) -> None:
    repo: Repo = seed(world)
    repo.branch("feature-a", "dev")
    repo.commit("feat: a", {"src/a.py": "a = 1\n"})
    repo.checkout("dev")
    repo.merge("feature-a", "Merge branch 'feature-a' into dev")
    repo.branch("feature-b", "dev")
    repo.commit("feat: b", {"src/b.py": "b = 1\n"})
    result = repo.push("feature-a", "dev", "feature-b")
    assert result.ok, result.out  # dev's merge of feature-a is dev's, not feature-b's


def test_a_task_branch_still_judges_its_own_commits_when_pushed_with_dev(world: World) -> None:
    repo = seed(world)
    repo.checkout("dev")
    repo.commit("feat: dev work", {"src/x.py": "x = 1\n"})
    name = "task-0.1.0-20261126-fromdev"
    repo.branch(name, "dev")
    repo.commit("task: run", {f"tasks/{name}/config.yaml": config()})
    assert refused(repo.push("dev", name), "task-scope")  # dev's commit is not the task's own


def test_a_mirror_push_of_merged_branches_costs_no_walk_per_branch(world: World) -> None:
    """`git push --mirror` onto a new server: branches already merged into dev bring nothing of
    their own, and are settled in one rev-list instead of two git processes each."""
    repo = seed(world)
    branches = {}
    for i in range(30):
        repo.branch(f"feature-m{i}", "dev")
        repo.commit(f"feat: m{i}", {f"src/m{i}.py": "m = 1\n"})
        branches[f"feature-m{i}"] = repo.sha()
        repo.checkout("dev")
        repo.merge(f"feature-m{i}", f"Merge branch 'feature-m{i}' into dev")
    branches["dev"] = repo.sha("dev")
    judge = judge_push(world, branches)
    assert judge.out == [], judge.out
    assert judge.commits_judged == 60  # 30 feature commits and 30 merges, each once
    assert isinstance(judge.facts, Git) and judge.facts.processes < 12, judge.facts.processes


def test_clock_skew_does_not_turn_a_fast_forward_into_a_rewrite(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Commits dated before their parents (a laptop's clock, an import) end rev-list's date-ordered
    walk early; the refusals that rest on ancestry are confirmed with merge-base."""
    repo = seed(world)
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00")
    repo.checkout("dev")
    for i in range(8):
        repo.commit(f"feat: skewed {i}", {f"src/s{i}.py": "s = 1\n"})
    result = repo.push("dev")
    assert result.ok, result.out  # dev's new tip descends from its old one: not protected-ref
    repo.branch("feature-old-clock", "dev")
    repo.commit("feat: from the past", {"src/p.py": "p = 1\n"})
    assert repo.push("feature-old-clock").ok
    repo.checkout("main")
    repo.merge("dev", "feat: release the skewed work")
    assert repo.push("main").ok  # dev's tip is on dev: merge-source proven
    repo.checkout("dev")
    repo.merge("feature-old-clock", "Merge branch 'feature-old-clock' into dev")
    assert repo.push("dev").ok


def test_a_one_commit_branch_costs_two_git_processes(world: World) -> None:
    """A new branch of one commit: its walk (which also says whether it brings anything at all), and
    one cat-file for every object question (its policy file, the size of each blob)."""
    repo = seed(world)
    repo.branch("feature-one", "dev")
    repo.commit("feat: one", {"src/one.py": "one = 1\n", "src/two.py": "two = 2\n"})
    git = Git(cwd=str(world.server))
    git.run("fetch", "-q", str(repo.path), f"{repo.sha()}:refs/bench-tmp/one")
    state = server_state(git)
    judge = Judge(git, Policy.defaults(), state, [RefUpdate("refs/heads/feature-one", ZERO, repo.sha())])
    before = git.processes
    assert judge.run() == []
    assert git.processes - before == 2, git.processes - before


def test_a_large_file_is_refused_where_it_came_after_thousands_of_blobs(world: World) -> None:
    """Past SIZES_SHARED blobs the sizes are asked of a cat-file of their own, which carries where
    each blob was found (a path with a backslash and a newline too): the refusal names it."""
    from policy.gitio import SIZES_SHARED

    repo = seed(world)
    repo.branch("feature-many", "dev")
    odd = "data/we\\ird\nname.csv"
    repo.commit("feat: a big csv", {odd: "1,2,3\n" * 100_000})  # older: asked after the others
    (repo.path / "src").mkdir(exist_ok=True)
    for i in range(SIZES_SHARED + 50):  # written here and added at once: `commit` adds file by file
        (repo.path / "src" / f"s{i}.py").write_text(f"s = {i}\n")
    repo.git("add", "src")
    repo.commit("feat: many small files")
    judge = judge_push(world, {"feature-many": repo.sha()})
    found = [v for v in judge.out if v.rule == "large-file"]
    assert [(v.path, v.commit) for v in found] == [(odd, repo.sha("HEAD~1"))], judge.out


def test_runs_holding_many_foreign_commits_are_refused_in_a_bounded_number_of_lines(world: World) -> None:
    """Runs started on commits the server does not have (here: new code commits, as when runs are
    pushed with main's new tip): each run is refused, with at most SCOPE_SHOWN of those commits
    listed, not every commit for every run (commits x runs lines and rule calls)."""
    from policy.engine import SCOPE_SHOWN

    repo = seed(world)
    repo.checkout("main")
    for i in range(SCOPE_SHOWN + 4):
        repo.commit(f"fix: code {i}", {f"src/c{i}.py": f"c = {i}\n"})
    runs = {}
    for i in range(6):
        name = f"task-0.1.0-20260101-000{i}-run{i}"
        repo.branch(name, "main")
        repo.commit(f"task: run {i}", {f"tasks/{name}/config.yaml": config("0.1.0")})
        runs[name] = repo.sha()
    judge = judge_push(world, runs)
    scope = [v for v in judge.out if v.rule == "task-scope"]
    per_run = {name: sum(v.ref == f"refs/heads/{name}" for v in scope) for name in runs}
    assert per_run == {name: SCOPE_SHOWN for name in runs}, per_run
    assert all(v.rule in ("task-scope", "task-base") for v in judge.out), judge.out


def test_a_runs_own_commits_outside_its_folder_are_each_listed(world: World) -> None:
    """The bound on task-scope lines is for commits several runs hold; a single run's own commits
    are each named, so that fixing what the refusal lists is fixing everything."""
    from policy.engine import SCOPE_SHOWN

    repo = seed(world)
    name = "task-0.1.0-20260101-0000-own"
    repo.branch(name, "main")
    shas = [repo.commit(f"task: c{i}", {f"src/c{i}.py": f"c = {i}\n"}) for i in range(SCOPE_SHOWN + 3)]
    judge = judge_push(world, {name: repo.sha()})
    listed = {v.commit for v in judge.out if v.rule == "task-scope"}
    assert listed == set(shas), judge.out


def test_a_protected_fast_forward_is_proven_by_its_line_else_asked(world: World) -> None:
    """dev moved on by a commit: its first-parent line ends on the old tip, which proves the
    fast-forward (no merge-base). Old dev reached only through a merge's other parent: git is
    asked, and it is a fast-forward too. A rewrite: refused."""
    repo = seed(world)
    old = repo.sha("dev")
    repo.checkout("dev")
    repo.commit("feat: on dev", {"src/dev.py": "d = 1\n"})
    moved = repo.sha()
    git = Git(cwd=str(world.server))
    git.run("fetch", "-q", str(repo.path), f"{moved}:refs/bench-tmp/moved")
    tree = git.run("rev-parse", f"{moved}^{{tree}}").decode().strip()
    elsewhere = git.run("commit-tree", tree, "-m", "feat: a history of its own").decode().strip()  # no parent
    through_merge = (
        git.run("commit-tree", tree, "-p", elsewhere, "-p", old, "-m", "Merge branch 'dev'").decode().strip()
    )
    rewrite = git.run("commit-tree", tree, "-p", elsewhere, "-m", "feat: rewritten dev").decode().strip()
    state = server_state(git)

    def judged(new: str) -> tuple[list[str], int]:
        git = Git(cwd=str(world.server))
        before = git.processes
        found = Judge(git, Policy.defaults(), state, [RefUpdate("refs/heads/dev", old, new)]).run()
        return [v.rule for v in found if v.rule == "protected-ref"], git.processes - before

    assert judged(moved) == ([], 3)  # its walk, its line, one cat-file: no merge-base
    assert judged(through_merge) == ([], 4)  # and the merge-base that finds old dev behind the merge
    assert judged(rewrite)[0] == ["protected-ref"]
